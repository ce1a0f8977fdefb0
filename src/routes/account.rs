//! A person's own sessions and password: list, revoke one, log out everywhere else,
//! change the password.

use rocket::form::Form;
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use super::pages::{render, time_json, Page};
use crate::auth::{AccountError, Auth};
use crate::config::Settings;
use crate::csrf;
use crate::errors::AppError;
use crate::guards::{CurrentUser, UserAgent};
use crate::sessions::{cookie, SessionKey};

pub fn routes() -> Vec<Route> {
    routes![
        sessions,
        sessions_needs_login,
        revoke,
        revoke_others,
        password_form,
        password_needs_login,
        change_password,
    ]
}

#[get("/sessions")]
async fn sessions(
    current: CurrentUser,
    auth: &State<Auth>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Template, AppError> {
    let current_key = current.id.key();
    let list: Vec<_> = auth
        .sessions
        .list_for_user(current.user.id)
        .await?
        .into_iter()
        .map(|(key, record)| {
            json!({
                "key": key.to_hex(),
                "key_short": &key.to_hex()[..12],
                "current": key == current_key,
                "user_agent": record.user_agent.as_deref(),
                "created_at": time_json(record.created_at),
                "last_seen": time_json(record.last_seen),
                "expires_at": time_json(record.expires_at()),
            })
        })
        .collect();
    Ok(render(
        "sessions",
        Some(&current),
        flash,
        json!({ "sessions": list }),
    ))
}

#[get("/sessions", rank = 2)]
fn sessions_needs_login() -> Redirect {
    Redirect::to("/login?next=/sessions")
}

#[derive(FromForm)]
pub struct RevokeForm {
    key: Option<String>,
    csrf_token: Option<String>,
}

/// Ends one of the person's sessions. Only their own: a key of someone else's session is
/// answered exactly like an unknown one.
#[post("/sessions/revoke", data = "<form>")]
async fn revoke(
    current: CurrentUser,
    form: Form<RevokeForm>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
) -> Result<Flash<Redirect>, AppError> {
    csrf::verify(&current.csrf_token(), form.csrf_token.as_deref())?;
    let not_found = || AppError::refused(Status::NotFound, "There is no such session.");
    let key = form
        .key
        .as_deref()
        .and_then(SessionKey::from_hex)
        .ok_or_else(not_found)?;
    match auth.sessions.get_by_key(&key).await? {
        Some(record) if record.user_id == current.user.id => {}
        _ => return Err(not_found()),
    }
    auth.sessions.end_key(&key).await?;
    tracing::info!(target: crate::telemetry::SECURITY, event = "session_revoked", user_id = %current.user.id, "session revoked by its user");
    if key == current.id.key() {
        cookie::clear(jar, settings);
        return Ok(Flash::success(
            Redirect::to("/login"),
            "You ended this session, so you have been logged out.",
        ));
    }
    Ok(Flash::success(
        Redirect::to("/sessions"),
        "That session has ended. Its cookie no longer works anywhere.",
    ))
}

#[derive(FromForm)]
pub struct CsrfOnly {
    csrf_token: Option<String>,
}

#[post("/sessions/revoke-others", data = "<form>")]
async fn revoke_others(
    current: CurrentUser,
    form: Form<CsrfOnly>,
    auth: &State<Auth>,
) -> Result<Flash<Redirect>, AppError> {
    csrf::verify(&current.csrf_token(), form.csrf_token.as_deref())?;
    let current_key = current.id.key();
    let mut ended = 0;
    for (key, _) in auth.sessions.list_for_user(current.user.id).await? {
        if key != current_key && auth.sessions.end_key(&key).await? {
            ended += 1;
        }
    }
    tracing::info!(target: crate::telemetry::SECURITY, event = "session_revoked", user_id = %current.user.id, count = ended, "user ended their other sessions");
    let message = match ended {
        0 => "There were no other sessions.".to_owned(),
        1 => "Logged out 1 other session.".to_owned(),
        n => format!("Logged out {n} other sessions."),
    };
    Ok(Flash::success(Redirect::to("/sessions"), message))
}

fn password_page(auth: &Auth, current: &CurrentUser, error: Option<&str>) -> Template {
    let context = json!({ "error": error, "password_min": auth.policy.min_chars() });
    render("password", Some(current), None, context)
}

#[get("/password")]
fn password_form(current: CurrentUser, auth: &State<Auth>) -> Template {
    password_page(auth, &current, None)
}

#[get("/password", rank = 2)]
fn password_needs_login() -> Redirect {
    Redirect::to("/login?next=/password")
}

#[derive(FromForm)]
pub struct PasswordForm {
    current_password: Option<String>,
    new_password: Option<String>,
    new_password_confirmation: Option<String>,
    csrf_token: Option<String>,
}

#[post("/password", data = "<form>")]
async fn change_password(
    current: CurrentUser,
    form: Form<PasswordForm>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
    user_agent: UserAgent,
    tokens: &State<crate::tokens::Tokens>,
) -> Result<Page, AppError> {
    csrf::verify(&current.csrf_token(), form.csrf_token.as_deref())?;
    let new_password = form.new_password.as_deref().unwrap_or_default();
    if form
        .new_password_confirmation
        .as_deref()
        .unwrap_or_default()
        != new_password
    {
        let page = password_page(auth, &current, Some("The new passwords do not match."));
        return Ok(Page::WithStatus((Status::UnprocessableEntity, page)));
    }
    let outcome = auth
        .change_password(
            jar,
            settings,
            &current.user,
            form.current_password.as_deref().unwrap_or_default(),
            new_password,
            user_agent.0.as_deref(),
            current.session.persistent,
        )
        .await;
    if outcome.is_ok() {
        // Only with `jwt_denylist`; otherwise tokens live on until they expire.
        tokens.revoke_user(current.user.id);
    }
    match outcome {
        Ok(()) => Ok(Page::Flash(Flash::success(
            Redirect::to("/profile"),
            "Your password was changed. Every other session has been logged out.",
        ))),
        Err(AccountError::App(error)) => Err(error),
        Err(error) => {
            let page = password_page(auth, &current, Some(&error.to_string()));
            Ok(Page::WithStatus((Status::UnprocessableEntity, page)))
        }
    }
}
