//! `/api/v1/auth_session/login` and `/logout`: the course's session views, on the same
//! sessions and cookie as the HTML pages.

use rocket::form::Form;
use rocket::http::{CookieJar, Status};
use rocket::serde::json::Json;
use rocket::{delete, post, FromForm, State};
use serde_json::{json, Value};

use super::{user_json, ApiCaller};
use crate::auth::{Auth, CredentialCheck, Visitor};
use crate::config::{AuthType, Settings};
use crate::errors::AppError;
use crate::guards::UserAgent;
use crate::sessions::cookie;
use crate::telemetry::Via;
use crate::throttle::Gate;

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
    let present = |field: &Option<String>| field.clone().filter(|v| !v.is_empty());
    let email = present(&form.email).ok_or_else(|| AppError::bad_request("email missing"))?;
    let password =
        present(&form.password).ok_or_else(|| AppError::bad_request("password missing"))?;
    let visitor = Visitor {
        jar,
        settings,
        user_agent: user_agent.0.as_deref(),
    };
    match auth
        .log_in(&gate, &visitor, &email, &password, Via::Api)
        .await?
    {
        CredentialCheck::Valid(user) => Ok(Json(user_json(&user))),
        // Outside the course's open semantics, one answer for both failures: nobody
        // learns which emails have accounts (as on the pages).
        _ if !settings.course_mode => Err(AppError::refused(
            Status::Unauthorized,
            "invalid email or password",
        )),
        CredentialCheck::UnknownEmail => Err(AppError::refused(
            Status::NotFound,
            "no user found for this email",
        )),
        CredentialCheck::WrongPassword => {
            Err(AppError::refused(Status::Unauthorized, "wrong password"))
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
    _caller: ApiCaller,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
) -> Result<Json<Value>, AppError> {
    sessions_disabled(settings)?;
    let not_found = || AppError::refused(Status::NotFound, "Not found");
    let id = cookie::read(jar, settings).ok_or_else(not_found)?;
    if !auth.log_out(jar, settings, &id, Via::Api).await? {
        return Err(not_found());
    }
    Ok(Json(json!({})))
}
