//! The HTML pages: home, signup, login, profile, logout, health.

use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Responder, Route, State};
use rocket_dyn_templates::{Metadata, Template};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::redirect::{after_login, safe_next};
use crate::auth::{AccountError, Auth, CredentialCheck, Registration, Visitor};
use crate::config::Settings;
use crate::csrf::{AnonCsrf, AnonCsrfForm, CsrfForm, TokenOnly};
use crate::errors::AppError;
use crate::flash::PageFlash;
use crate::guards::{CurrentUser, MaybeUser, UserAgent};
use crate::sessions::{SessionKey, SessionRecord};
use crate::telemetry::Via;
use crate::throttle::Gate;

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
    Ok(Template),
    WithStatus((Status, Template)),
    Redirect(Redirect),
    Flash(Flash<Redirect>),
}

/// Renders a page with what the base layout needs: who is logged in (with the CSRF token
/// for the header's logout button) and the flash message, if any.
pub(crate) fn render(
    name: &'static str,
    viewer: Option<&CurrentUser>,
    flash: Option<FlashMessage<'_>>,
    context: Value,
) -> Template {
    Template::render(name, layout_context(viewer, flash, context))
}

/// The page's own context plus what the base layout needs.
fn layout_context(
    viewer: Option<&CurrentUser>,
    flash: Option<FlashMessage<'_>>,
    mut context: Value,
) -> Value {
    context["viewer"] = match viewer {
        Some(current) => json!({
            "email": current.user.email,
            "name": current.user.display_name(),
            "csrf_token": current.csrf_token(),
        }),
        None => Value::Null,
    };
    context["flash"] = match flash {
        Some(flash) => json!({ "kind": flash.kind(), "message": flash.message() }),
        None => Value::Null,
    };
    context
}

/// "2026-11-23 17:55:02 UTC", and the ISO form for `<time datetime>`.
pub fn time_json(at: OffsetDateTime) -> Value {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    let iso = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let utc = at.to_offset(time::UtcOffset::UTC);
    json!({
        "text": utc.format(format).unwrap_or_default(),
        "iso": utc.format(iso).unwrap_or_default(),
        "unix": utc.unix_timestamp(),
    })
}

#[get("/")]
fn index(viewer: MaybeUser, flash: PageFlash<'_>) -> Template {
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
) -> Template {
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
) -> Template {
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

/// Rendered profile pages, one per session, reused while everything the page shows is
/// unchanged. Rendering the page (context and Tera) is most of what `/profile` costs
/// (the benchmark: it held the page to under half of `/health`'s throughput), and a
/// page is a pure function of the user's shown fields, the session record and the session
/// id (its CSRF token), which are compared in full before a page is reused. Pages with a
/// flash message are never cached. Bounded: emptied when it holds [`ProfileCache::CAPACITY`].
#[derive(Default)]
pub struct ProfileCache {
    pages: parking_lot::Mutex<std::collections::HashMap<SessionKey, CachedProfile>>,
}

struct CachedProfile {
    shown: ProfileInputs,
    html: String,
}

/// Everything `profile.html.tera` and the layout show (or derive what they show from).
#[derive(PartialEq)]
struct ProfileInputs {
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    created_at: OffsetDateTime,
    session: SessionRecord,
}

impl ProfileCache {
    pub const CAPACITY: usize = 1000;
}

#[derive(Responder)]
pub enum ProfilePage {
    Cached(RawHtml<String>),
    Rendered(Box<Template>),
}

fn profile_context(current: &CurrentUser) -> Value {
    let user = &current.user;
    let session = &current.session;
    json!({
        "user": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "created_at": time_json(user.created_at),
        },
        "session": {
            "created_at": time_json(session.created_at),
            "last_seen": time_json(session.last_seen),
            "idle_deadline": time_json(session.idle_deadline),
            "absolute_deadline": time_json(session.absolute_deadline),
            "expires_at": time_json(session.expires_at()),
            "user_agent": session.user_agent.as_deref(),
        },
    })
}

#[get("/profile")]
fn profile(
    current: CurrentUser,
    flash: PageFlash<'_>,
    cache: &State<ProfileCache>,
    templates: Metadata<'_>,
) -> ProfilePage {
    if flash.is_some() {
        return ProfilePage::Rendered(Box::new(render(
            "profile",
            Some(&current),
            flash.into_inner(),
            profile_context(&current),
        )));
    }
    let key = current.id.key();
    let shown = ProfileInputs {
        email: current.user.email.clone(),
        first_name: current.user.first_name.clone(),
        last_name: current.user.last_name.clone(),
        created_at: current.user.created_at,
        session: current.session.clone(),
    };
    if let Some(page) = cache.pages.lock().get(&key) {
        if page.shown == shown {
            return ProfilePage::Cached(RawHtml(page.html.clone()));
        }
    }
    let context = layout_context(Some(&current), None, profile_context(&current));
    let Some((_, html)) = templates.render("profile", context) else {
        return ProfilePage::Rendered(Box::new(render(
            "profile",
            Some(&current),
            None,
            profile_context(&current),
        )));
    };
    let mut pages = cache.pages.lock();
    if pages.len() >= ProfileCache::CAPACITY {
        pages.clear();
    }
    pages.insert(
        key,
        CachedProfile {
            shown,
            html: html.clone(),
        },
    );
    ProfilePage::Cached(RawHtml(html))
}

#[get("/profile", rank = 2)]
fn profile_needs_login() -> Redirect {
    Redirect::to("/login?next=/profile")
}

/// A GET never changes state: this only asks for confirmation.
#[get("/logout")]
fn logout_form(current: CurrentUser) -> Template {
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
    tokens: &State<crate::tokens::Tokens>,
) -> Result<Flash<Redirect>, AppError> {
    auth.log_out(jar, settings, &current.id, Via::Page).await?;
    // Only with `jwt_denylist`; otherwise tokens live on until they expire.
    tokens.revoke_user(current.user.id);
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
