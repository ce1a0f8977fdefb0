//! The HTML pages: home, signup, login, profile, logout, health.

use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Responder, Route, State};
use serde::Serialize;
use serde_json::{json, Value};
use std::borrow::Cow;
use time::OffsetDateTime;

use super::redirect::{after_login, safe_next};
use crate::auth::{AccountError, Auth, CredentialCheck, Registration, Visitor};
use crate::config::Settings;
use crate::errors::AppError;
use crate::telemetry::Via;
use crate::throttle::Gate;
use crate::web::csrf::{AnonCsrf, AnonCsrfForm, CsrfForm, TokenOnly};
use crate::web::flash::PageFlash;
use crate::web::guards::{CurrentUser, MaybeUser, UserAgent};
use crate::web::views::{
    escaped_or, render, signed_in_header, FlashView, TimeTag, Timestamp, View,
};

pub fn routes() -> Vec<Route> {
    routes![
        index,
        health,
        signup_form,
        signup,
        login_form,
        login,
        profile,
        profile_needs_login,
        logout_form,
        logout_form_needs_login,
        logout,
        logout_without_session,
    ]
}

const LOGIN_FAILED: &str = "Invalid email or password.";
const LOGGED_OUT: &str = "You have been logged out.";

/// Every answer a page handler gives.
#[derive(Responder)]
pub enum Page {
    Ok(View),
    WithStatus((Status, View)),
    Redirect(Redirect),
    Flash(Flash<Redirect>),
}

/// "2026-11-23 17:55:02 UTC", and the ISO form for `<time datetime>`.
pub fn time_json(at: OffsetDateTime) -> Value {
    let mut value = serde_json::to_value(Timestamp(at)).unwrap_or_default();
    value["unix"] = at.unix_timestamp().into();
    value
}

#[get("/")]
fn index(viewer: MaybeUser, flash: PageFlash<'_>) -> View {
    render("index", viewer.0.as_ref(), flash.into_inner(), json!({}))
}

/// Liveness for load balancers and benchmarks: no session, no database.
#[get("/health")]
fn health() -> &'static str {
    "ok"
}

#[derive(FromForm)]
pub struct SignupForm {
    email: Option<String>,
    password: Option<String>,
    password_confirmation: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

fn signup_page(
    auth: &Auth,
    csrf: &AnonCsrf,
    form: Option<&SignupForm>,
    error: Option<&str>,
) -> View {
    render(
        "signup",
        None,
        None,
        json!({
            "csrf_token": csrf.token(),
            "password_min": auth.password_min_chars(),
            "error": error,
            // Typed values come back, passwords never do.
            "email": form.and_then(|f| f.email.as_deref()).unwrap_or_default(),
            "first_name": form.and_then(|f| f.first_name.as_deref()).unwrap_or_default(),
            "last_name": form.and_then(|f| f.last_name.as_deref()).unwrap_or_default(),
        }),
    )
}

#[get("/signup")]
fn signup_form(viewer: MaybeUser, csrf: AnonCsrf, auth: &State<Auth>) -> Page {
    if viewer.0.is_some() {
        return Page::Redirect(Redirect::to("/profile"));
    }
    Page::Ok(signup_page(auth, &csrf, None, None))
}

#[post("/signup", data = "<form>")]
async fn signup(
    form: AnonCsrfForm<SignupForm>,
    csrf: AnonCsrf,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
    user_agent: UserAgent,
    gate: Gate<'_>,
) -> Result<Page, AppError> {
    let password = form.password.as_deref().unwrap_or_default();
    if form.password_confirmation.as_deref().unwrap_or_default() != password {
        let page = signup_page(
            auth,
            &csrf,
            Some(&form),
            Some("The passwords do not match."),
        );
        return Ok(Page::WithStatus((Status::UnprocessableEntity, page)));
    }
    let registration = Registration {
        email: form.email.as_deref().unwrap_or_default(),
        password,
        first_name: form.first_name.as_deref(),
        last_name: form.last_name.as_deref(),
    };
    let account = match auth.sign_up(&gate, registration, Via::Page).await {
        Ok(account) => account,
        Err(AccountError::App(error)) => return Err(error),
        Err(error) => {
            let status = match error {
                AccountError::EmailTaken => Status::Conflict,
                _ => Status::UnprocessableEntity,
            };
            let page = signup_page(auth, &csrf, Some(&form), Some(&error.to_string()));
            return Ok(Page::WithStatus((status, page)));
        }
    };
    let visitor = Visitor {
        jar,
        settings,
        user_agent: user_agent.0.as_deref(),
        // No "remember me" box on signup: the cookie persists, as it always has.
        remember: true,
    };
    auth.log_in_new_account(&visitor, account).await?;
    Ok(Page::Flash(Flash::success(
        Redirect::to("/profile"),
        "Welcome to Latchkey! Your account is ready and you are logged in.",
    )))
}

#[derive(FromForm)]
pub struct LoginForm {
    email: Option<String>,
    password: Option<String>,
    next: Option<String>,
    /// "Remember me": a checked box sends a value, an unchecked one nothing.
    remember: Option<String>,
}

fn login_page(
    csrf: &AnonCsrf,
    email: &str,
    next: Option<&str>,
    flash: Option<FlashMessage<'_>>,
    error: Option<&str>,
) -> View {
    render(
        "login",
        None,
        flash,
        json!({
            "csrf_token": csrf.token(),
            "email": email,
            "next": safe_next(next),
            "error": error,
        }),
    )
}

#[get("/login?<next>")]
fn login_form(viewer: MaybeUser, csrf: AnonCsrf, next: Option<&str>, flash: PageFlash<'_>) -> Page {
    if viewer.0.is_some() {
        return Page::Redirect(Redirect::to(after_login(next)));
    }
    Page::Ok(login_page(&csrf, "", next, flash.into_inner(), None))
}

#[post("/login", data = "<form>")]
async fn login(
    form: AnonCsrfForm<LoginForm>,
    csrf: AnonCsrf,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
    user_agent: UserAgent,
    gate: Gate<'_>,
) -> Result<Page, AppError> {
    let email = form.email.as_deref().unwrap_or_default();
    let password = form.password.as_deref().unwrap_or_default();
    let next = form.next.as_deref();
    if email.trim().is_empty() || password.is_empty() {
        let page = login_page(
            &csrf,
            email,
            next,
            None,
            Some("Enter your email and password."),
        );
        return Ok(Page::WithStatus((Status::UnprocessableEntity, page)));
    }
    let visitor = Visitor {
        jar,
        settings,
        user_agent: user_agent.0.as_deref(),
        remember: form.remember.is_some(),
    };
    match auth
        .log_in(&gate, &visitor, email, password, Via::Page)
        .await?
    {
        CredentialCheck::Valid(_) => Ok(Page::Redirect(Redirect::to(after_login(next)))),
        CredentialCheck::UnknownEmail | CredentialCheck::WrongPassword => {
            let page = login_page(&csrf, email, next, None, Some(LOGIN_FAILED));
            Ok(Page::WithStatus((Status::Unauthorized, page)))
        }
    }
}

/// What `profile.html.tera` shows, with what the layout needs, borrowed from the
/// request's user and session. Flat and preformatted: each value is one top-level
/// lookup for Tera, times are ready `<time>` elements, optional texts come escaped with
/// their placeholder (the template prints those with `| safe`).
#[derive(Serialize)]
pub struct ProfileView<'a> {
    email: &'a str,
    first_name: Cow<'a, str>,
    last_name: Cow<'a, str>,
    created_at: TimeTag,
    started: TimeTag,
    last_seen: TimeTag,
    idle_deadline: TimeTag,
    absolute_deadline: TimeTag,
    expires_at: TimeTag,
    browser: Cow<'a, str>,
    nav: String,
    flash: Option<FlashView<'a>>,
}

const NOT_GIVEN: &str = r#"<span class="muted">not given</span>"#;
pub(super) const UNKNOWN_BROWSER: &str = r#"<span class="muted">unknown</span>"#;

/// The profile page's whole context (page and layout); public for the hot-path benchmark.
pub fn profile_context<'a>(
    current: &'a CurrentUser,
    flash: Option<&'a FlashMessage<'_>>,
) -> ProfileView<'a> {
    let user = &current.user;
    let session = &current.session;
    ProfileView {
        email: &user.email,
        first_name: escaped_or(user.first_name.as_deref(), NOT_GIVEN),
        last_name: escaped_or(user.last_name.as_deref(), NOT_GIVEN),
        created_at: TimeTag(user.created_at),
        started: TimeTag(session.created_at),
        last_seen: TimeTag(session.last_seen),
        idle_deadline: TimeTag(session.idle_deadline),
        absolute_deadline: TimeTag(session.absolute_deadline),
        expires_at: TimeTag(session.expires_at()),
        browser: escaped_or(session.user_agent.as_deref(), UNKNOWN_BROWSER),
        nav: signed_in_header(&current.user.email, &current.csrf_token()),
        flash: flash.map(FlashView::of),
    }
}

/// Rendered for every request: no cache of pages (real traffic is many sessions, each
/// viewing a page now and then), a context that costs little instead.
#[get("/profile")]
fn profile(current: &CurrentUser, flash: PageFlash<'_>) -> View {
    View::render(
        "profile",
        profile_context(current, flash.into_inner().as_ref()),
    )
}

#[get("/profile", rank = 2)]
fn profile_needs_login() -> Redirect {
    Redirect::to("/login?next=/profile")
}

/// A GET never changes state: this only asks for confirmation.
#[get("/logout")]
fn logout_form(current: CurrentUser) -> View {
    render("logout", Some(&current), None, json!({}))
}

#[get("/logout", rank = 2)]
fn logout_form_needs_login() -> Redirect {
    Redirect::to("/login")
}

#[post("/logout", data = "<_form>")]
async fn logout(
    current: CurrentUser,
    _form: CsrfForm<TokenOnly>,
    auth: &State<Auth>,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
) -> Result<Flash<Redirect>, AppError> {
    auth.log_out(jar, settings, &current.id, Via::Page).await?;
    Ok(Flash::success(Redirect::to("/login"), LOGGED_OUT))
}

/// Reached when there is no session to end, or when a logged-in request was not a
/// proper form post (which then cannot prove it came from our page).
#[post("/logout", rank = 2, data = "<_form>")]
fn logout_without_session(
    viewer: MaybeUser,
    _form: CsrfForm<TokenOnly>,
) -> Result<Redirect, AppError> {
    match viewer.0 {
        Some(_) => Err(AppError::CsrfRejected),
        None => Ok(Redirect::to("/login")),
    }
}
