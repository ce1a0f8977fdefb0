//! `/api/v1/auth_token/login`: the same credentials as the session login, answered with a
//! signed bearer token instead of a cookie (see `tokens` for what that trade means).

use rocket::form::Form;
use rocket::{post, State};
use serde_json::{json, Value};

use super::session::{login_refused, LoginFields};
use super::ApiCaller;
use crate::auth::{Auth, CredentialCheck};
use crate::config::{AuthType, Settings};
use crate::errors::AppError;
use crate::telemetry::Via;
use crate::throttle::Gate;
use crate::tokens::Tokens;
use crate::web::json::Json;

/// Tokens stand in for the session cookie, so they exist only where the API takes one.
fn tokens_disabled(settings: &Settings) -> Result<(), AppError> {
    if settings.auth_type == AuthType::BasicAuth {
        return Err(AppError::bad_request(
            "Token login is not available: AUTH_TYPE is basic_auth",
        ));
    }
    Ok(())
}

#[post("/auth_token/login", data = "<form>")]
pub async fn login(
    _caller: ApiCaller<'_>,
    form: Form<LoginFields>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    tokens: &State<Tokens>,
    gate: Gate<'_>,
) -> Result<Json<Value>, AppError> {
    tokens_disabled(settings)?;
    let (email, password) = form.credentials()?;
    match auth
        .authenticate(&gate, email, password, Via::Token)
        .await?
    {
        CredentialCheck::Valid(user) => Ok(Json(token_json(tokens, &user)?)),
        failure => Err(login_refused(&failure, settings)),
    }
}

/// The answer of every token issue (API and the `/tokens` page), RFC 6749 §5.1 names.
///
/// # Errors
/// Only if signing fails.
pub fn token_json(tokens: &Tokens, user: &crate::users::User) -> Result<Value, AppError> {
    let issued = tokens.issue(user)?;
    Ok(json!({
        "token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
    }))
}

/// A login whose body is not a form: its fields are missing, as for the session login.
#[post("/auth_token/login", rank = 2)]
pub fn login_without_form(_caller: ApiCaller<'_>, settings: &State<Settings>) -> AppError {
    match tokens_disabled(settings) {
        Err(error) => error,
        Ok(()) => AppError::bad_request("email missing"),
    }
}
