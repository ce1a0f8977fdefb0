//! The site as a browser sees it, through Rocket's local client: pages and forms, CSRF,
//! sessions (cookie, expiry, rotation, the inspector), password change and policy,
//! security headers, XSS, bad input, open redirects, throttling, account enumeration,
//! the exchange log, the secret key, and generated malformed requests and parser inputs.
//!
//! One module per concern; the shared harness is `support` (`TestApp`, `Browser`).

#[path = "../support/mod.rs"]
mod support;

mod account_enumeration;
mod active_sessions;
mod anon_csrf_expiry;
mod bad_input;
mod csrf;
mod csrf_route_table;
mod data_permissions;
mod exchange_log;
mod exchange_log_budget;
mod fuzz_http;
mod fuzz_parsers;
mod open_redirect;
mod pages;
mod password_change;
mod password_change_throttle;
mod password_policy;
mod remember_me;
mod secret_key;
mod security_headers;
mod session_cookie;
mod session_expiry;
mod session_inspector;
mod session_limit;
mod session_rotation;
mod tampered_cookies;
mod throttle;
mod tokens_page;
mod xss;
