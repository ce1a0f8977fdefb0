//! The HTTP layer: routes, request guards, the CSRF guard, flash messages, security
//! headers, the exchange log, readiness, static assets and the HTTP side of errors.
//! It calls down into `auth` and the policies below it; nothing below calls up into it.

pub(crate) mod assets;
pub mod csrf;
pub mod errors;
pub mod exchange_log;
pub mod flash;
pub mod guards;
pub(crate) mod headers;
pub mod json;
pub mod metrics;
pub mod readiness;
pub mod request_log;
pub mod routes;
pub mod views;
