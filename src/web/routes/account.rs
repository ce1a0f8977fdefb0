//! A person's own sessions and password: list, revoke one, log out everywhere else,
//! change the password.

use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route, State};
use serde_json::json;

use super::pages::{time_json, Page};
use crate::auth::{AccountError, Auth, Revoked, Visitor};
use crate::config::Settings;
use crate::errors::AppError;
use crate::sessions::SessionKey;
use crate::throttle::Gate;
use crate::web::csrf::{CsrfForm, TokenOnly};
use crate::web::flash::PageFlash;
use crate::web::guards::{CurrentUser, UserAgent};
use crate::web::views::{render, View};

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
    flash: PageFlash<'_>,
) -> Result<View, AppError> {
    let current_key = current.id.key();
    let list: Vec<_> = auth
        .sessions_of(current.user.id)
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
        flash.into_inner(),
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
}

/// Ends one of the person's sessions. Only their own: a key of someone else's session is
/// answered exactly like an unknown one.
#[post("/sessions/revoke", data = "<form>")]
async fn revoke(
    current: CurrentUser,
    form: CsrfForm<RevokeForm>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
) -> Result<Flash<Redirect>, AppError> {
    let not_found = || AppError::refused(Status::NotFound, "There is no such session.");
    let key = form
        .key
        .as_deref()
        .and_then(SessionKey::from_hex)
        .ok_or_else(not_found)?;
    match auth
        .revoke(current.user.id, &current.id, &key, jar, settings)
        .await?
    {
        Revoked::NoSuchSession => Err(not_found()),
        Revoked::ThisSession => Ok(Flash::success(
            Redirect::to("/login"),
            "You ended this session, so you have been logged out.",
        )),
        Revoked::Other => Ok(Flash::success(
            Redirect::to("/sessions"),
            "That session has ended. Its cookie no longer works anywhere.",
        )),
    }
}

#[post("/sessions/revoke-others", data = "<_form>")]
async fn revoke_others(
    current: CurrentUser,
    _form: CsrfForm<TokenOnly>,
    auth: &State<Auth>,
) -> Result<Flash<Redirect>, AppError> {
    let ended = auth.revoke_others(current.user.id, &current.id).await?;
    let message = match ended {
        0 => "There were no other sessions.".to_owned(),
        1 => "Logged out 1 other session.".to_owned(),
        n => format!("Logged out {n} other sessions."),
    };
    Ok(Flash::success(Redirect::to("/sessions"), message))
}

fn password_page(auth: &Auth, current: &CurrentUser, error: Option<&str>) -> View {
    let context = json!({ "error": error, "password_min": auth.password_min_chars() });
    render("password", Some(current), None, context)
}

#[get("/password")]
fn password_form(current: CurrentUser, auth: &State<Auth>) -> View {
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
}

#[post("/password", data = "<form>")]
async fn change_password(
    current: CurrentUser,
    form: CsrfForm<PasswordForm>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
    user_agent: UserAgent,
    gate: Gate<'_>,
) -> Result<Page, AppError> {
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
    let visitor = Visitor {
        jar,
        settings,
        user_agent: user_agent.0.as_deref(),
        remember: current.session.persistent,
    };
    let outcome = auth
        .change_password(
            &gate,
            &visitor,
            &current.user,
            form.current_password.as_deref().unwrap_or_default(),
            new_password,
        )
        .await;
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
