//! `/tokens`: a session and a bearer token side by side, so the difference can be seen:
//! the cookie is opaque and ends the moment the server deletes its record; the token is
//! readable by whoever holds it and works until it expires.

use rocket::http::CookieJar;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Value};

use super::api::token::token_json;
use crate::config::Settings;
use crate::errors::AppError;
use crate::tokens::Tokens;
use crate::web::csrf::{CsrfForm, TokenOnly};
use crate::web::exchange_log::redact_pair;
use crate::web::guards::CurrentUser;
use crate::web::json::Json;
use crate::web::views::{render, View};

pub fn routes() -> Vec<Route> {
    routes![page, page_needs_login, issue, issue_without_session]
}

#[get("/tokens")]
fn page(
    current: CurrentUser,
    jar: &CookieJar<'_>,
    settings: &State<Settings>,
    tokens: &State<Tokens>,
) -> View {
    // The cookie as it travels, cut short: printing it whole into the page would hand an
    // HttpOnly secret to any script that can read the page.
    let browser_value = jar
        .get(&settings.session_name)
        .map(|c| redact_pair(&c.encoded().stripped().to_string()))
        .unwrap_or_default();
    let context = json!({
        "cookie": { "name": settings.session_name, "browser_value": browser_value },
        "session_persistent": current.session.persistent,
        "jwt_ttl": tokens.ttl_seconds(),
        "denylist": tokens.denylist_enabled(),
    });
    render("tokens", Some(&current), None, context)
}

#[get("/tokens", rank = 2)]
fn page_needs_login() -> Redirect {
    Redirect::to("/login?next=/tokens")
}

/// A token for the person logged in with the cookie. A form post with this session's
/// CSRF token, like every other form: another site can make a browser send the cookie
/// but cannot know the token, and the JSON answer cannot be read cross-origin (no CORS),
/// so it can neither mint nor steal a token with someone else's session.
#[post("/tokens", data = "<_form>")]
fn issue(
    current: CurrentUser,
    _form: CsrfForm<TokenOnly>,
    tokens: &State<Tokens>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(token_json(tokens, &current.user)?))
}

/// No session (or not a proper form post): nothing to issue a token for.
#[post("/tokens", rank = 2)]
fn issue_without_session() -> AppError {
    AppError::CsrfRejected
}
