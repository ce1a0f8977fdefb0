//! The course's JSON API under `/api/v1`, per `auth_type`: no auth, Basic auth, session
//! auth (login, logout, expiry, database-backed sessions), users, public routes, errors
//! and the settings that choose between them.
//!
//! One module per concern; the shared harness is `support::api` (`app(auth_type)`, `ApiApp`).

#[path = "../support/mod.rs"]
mod support;

mod api_basic_auth;
mod api_config;
mod api_errors;
mod api_forgery;
mod api_no_auth;
mod api_ownership;
mod api_public;
mod api_session;
mod api_session_db;
mod api_tokens;
mod api_users;
