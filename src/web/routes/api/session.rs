//! `/api/v1/auth_session/login` and `/logout`: the course's session views, on the same
//! sessions and cookie as the HTML pages.

use rocket::form::Form;
use rocket::http::{CookieJar, Status};
use rocket::{delete, post, FromForm, State};
use serde_json::{json, Value};

use super::{user_json, ApiCaller};
use crate::auth::{Auth, CredentialCheck, Visitor};
use crate::config::{AuthType, Settings};
use crate::errors::AppError;
use crate::telemetry::Via;
use crate::throttle::Gate;
use crate::web::guards::UserAgent;
use crate::web::json::Json;

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
    _caller: ApiCaller<'_>,
    form: Form<LoginFields>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
    user_agent: UserAgent,
    gate: Gate<'_>,
) -> Result<Json<Value>, AppError> {
    sessions_disabled(settings)?;
    let (email, password) = form.credentials()?;
    let visitor = Visitor {
        jar,
        settings,
        user_agent: user_agent.0.as_deref(),
        // The API's cookie persists, as it always has (no form to ask with).
        remember: true,
    };
    match auth
        .log_in(&gate, &visitor, email, password, Via::Api)
        .await?
    {
        CredentialCheck::Valid(user) => Ok(Json(user_json(&user))),
        failure => Err(login_refused(&failure, settings)),
    }
}

impl LoginFields {
    /// The email and password, or the course's 400 for the first one missing.
    ///
    /// # Errors
    /// 400 `email missing` / `password missing`.
    pub(super) fn credentials(&self) -> Result<(&str, &str), AppError> {
        fn present(field: &Option<String>) -> Option<&str> {
            field.as_deref().filter(|v| !v.is_empty())
        }
        let email = present(&self.email).ok_or_else(|| AppError::bad_request("email missing"))?;
        let password =
            present(&self.password).ok_or_else(|| AppError::bad_request("password missing"))?;
        Ok((email, password))
    }
}

/// The answer to credentials that prove no one, shared by both API logins (session and
/// token). Outside the course's open semantics, one answer for both failures: nobody
/// learns which emails have accounts (as on the pages).
pub(super) fn login_refused(failure: &CredentialCheck, settings: &Settings) -> AppError {
    match failure {
        _ if !settings.course_mode => {
            AppError::refused(Status::Unauthorized, "invalid email or password")
        }
        CredentialCheck::UnknownEmail => {
            AppError::refused(Status::NotFound, "no user found for this email")
        }
        _ => AppError::refused(Status::Unauthorized, "wrong password"),
    }
}

/// A login whose body is not a form (JSON, text, none): its fields are missing.
#[post("/auth_session/login", rank = 2)]
pub fn login_without_form(_caller: ApiCaller<'_>, settings: &State<Settings>) -> AppError {
    match sessions_disabled(settings) {
        Err(error) => error,
        Ok(()) => AppError::bad_request("email missing"),
    }
}

/// Ends the session named by the cookie. With session authentication the caller guard
/// has already refused missing (401) and dead (403) sessions.
#[delete("/auth_session/logout")]
pub async fn logout(
    _caller: ApiCaller<'_>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
) -> Result<Json<Value>, AppError> {
    sessions_disabled(settings)?;
    let not_found = || AppError::refused(Status::NotFound, "Not found");
    let id = auth.session_id(jar, settings).ok_or_else(not_found)?;
    if !auth.log_out(jar, settings, &id, Via::Api).await? {
        return Err(not_found());
    }
    Ok(Json(json!({})))
}
