//! `/api/v1/auth_session/login` and `/logout`: the course's session views, on the same
//! sessions and cookie as the HTML pages.

use rocket::form::Form;
use rocket::http::{CookieJar, Status};
use rocket::serde::json::Json;
use rocket::{delete, post, FromForm, State};
use serde_json::{json, Value};

use super::{user_json, ApiCaller};
use crate::auth::{Auth, CredentialCheck};
use crate::config::{AuthType, Settings};
use crate::errors::AppError;
use crate::guards::UserAgent;
use crate::sessions::cookie;
use crate::throttle::Gate;
use crate::tokens::Tokens;
use crate::users::User;

/// Only form fields count (urlencoded or multipart); a JSON body or the query string
/// leaves them missing, as in the course.
#[derive(FromForm)]
pub struct LoginFields {
    email: Option<String>,
    password: Option<String>,
}

fn sessions_disabled(settings: &Settings) -> Result<(), AppError> {
    if settings.auth_type == AuthType::BasicAuth {
        return Err(AppError::bad_request(
            "Session login is not available: AUTH_TYPE is basic_auth",
        ));
    }
    Ok(())
}

#[post("/auth_session/login", data = "<form>")]
pub async fn login(
    _caller: ApiCaller,
    form: Form<LoginFields>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
    user_agent: UserAgent,
    gate: Gate<'_>,
) -> Result<Json<Value>, AppError> {
    sessions_disabled(settings)?;
    let user = authenticate(&form, auth, settings, &gate).await?;
    // The API's cookie persists, as it always has (no form to ask with).
    auth.log_in(jar, settings, &user, user_agent.0.as_deref(), true)
        .await?;
    Ok(Json(user_json(&user)))
}

/// The user the login fields prove, with the course's errors and the login throttle:
/// the one check behind both API logins (session and token).
///
/// # Errors
/// 400 for a missing field, 404/401 (or one uniform 401) for bad credentials, 429 when
/// throttled, or an infrastructure failure.
pub(super) async fn authenticate(
    form: &LoginFields,
    auth: &Auth,
    settings: &Settings,
    gate: &Gate<'_>,
) -> Result<User, AppError> {
    let present = |field: &Option<String>| field.clone().filter(|v| !v.is_empty());
    let email = present(&form.email).ok_or_else(|| AppError::bad_request("email missing"))?;
    let password =
        present(&form.password).ok_or_else(|| AppError::bad_request("password missing"))?;
    match gate.check_login(auth, &email, &password).await? {
        CredentialCheck::Valid(user) => Ok(user),
        failure => {
            tracing::warn!(target: crate::telemetry::SECURITY, event = "login_failed", via = "api", "login failed");
            Err(match failure {
                _ if settings.api_uniform_login_errors => {
                    AppError::refused(Status::Unauthorized, "invalid email or password")
                }
                CredentialCheck::UnknownEmail => {
                    AppError::refused(Status::NotFound, "no user found for this email")
                }
                _ => AppError::refused(Status::Unauthorized, "wrong password"),
            })
        }
    }
}

/// A login whose body is not a form (JSON, text, none): its fields are missing.
#[post("/auth_session/login", rank = 2)]
pub fn login_without_form(_caller: ApiCaller, settings: &State<Settings>) -> AppError {
    match sessions_disabled(settings) {
        Err(error) => error,
        Ok(()) => AppError::bad_request("email missing"),
    }
}

/// Ends the session named by the cookie. With session authentication the caller guard
/// has already refused missing (401) and dead (403) sessions.
#[delete("/auth_session/logout")]
pub async fn logout(
    caller: ApiCaller,
    auth: &State<Auth>,
    settings: &State<Settings>,
    tokens: &State<Tokens>,
    jar: &CookieJar<'_>,
) -> Result<Json<Value>, AppError> {
    sessions_disabled(settings)?;
    let not_found = || AppError::refused(Status::NotFound, "Not found");
    let id = cookie::read(jar, settings).ok_or_else(not_found)?;
    if !auth.sessions.end(&id).await? {
        return Err(not_found());
    }
    cookie::clear(jar, settings);
    if let Some(user) = &caller.0 {
        tokens.revoke_user(user.id);
    }
    Ok(Json(json!({})))
}
