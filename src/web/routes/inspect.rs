//! Pages that make the session visible: the inspector (`/session`) and the per-browser
//! exchange log (`/how-it-works`).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use serde::Serialize;
use serde_json::{json, Value};
use std::borrow::Cow;
use time::Duration;

use super::pages::UNKNOWN_BROWSER;
use crate::auth::Auth;
use crate::config::Settings;
use crate::sessions::cookie;
use crate::web::exchange_log::{redact_pair, ExchangeLog, TRACE_COOKIE};
use crate::web::guards::{CurrentUser, MaybeUser};
use crate::web::views::{escaped_or, render, signed_in_header, TimeTag, View};

pub fn routes() -> Vec<Route> {
    routes![session, session_needs_login, how_it_works]
}

/// What `session.html.tera` shows, with the layout's parts: the cookie, what the server
/// derives from it, and the record, borrowed and preformatted (rendered for every
/// request, so it must be cheap). Every name is top-level: Tera looks a dotted name up by
/// splitting it into new strings each time.
#[derive(Serialize)]
pub(super) struct InspectorView<'a> {
    cookie_name: &'a str,
    cookie_attributes: String,
    /// The encrypted value as the browser sends it, cut short.
    cookie_value: String,
    decrypted_id: String,
    store_key: String,
    store: &'a str,
    created_at: TimeTag,
    last_seen: TimeTag,
    idle_deadline: TimeTag,
    absolute_deadline: TimeTag,
    /// The user agent escaped, or the "unknown" placeholder (printed with `| safe`).
    browser: Cow<'a, str>,
    idle_seconds_left: i64,
    absolute_seconds_left: i64,
    idle_timeout: i64,
    touch_interval: u64,
    /// "Remember me": a cookie that outlives the browser, or a browser-session cookie.
    persistent: bool,
    /// The tamper demo's answer, shown under the inspector when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tamper: Option<Value>,
    /// For the page's own forms (log out, tamper), as the layout's logout form has it.
    csrf_token: String,
    nav: String,
}

#[get("/session")]
fn session(
    current: &CurrentUser,
    jar: &CookieJar<'_>,
    settings: &State<Settings>,
    auth: &State<Auth>,
) -> View {
    View::render("session", session_context(current, jar, settings, auth))
}

/// What the inspector shows (also under the tamper demo's answer).
pub(super) fn session_context<'a>(
    current: &'a CurrentUser,
    jar: &CookieJar<'_>,
    settings: &'a Settings,
    auth: &'a Auth,
) -> InspectorView<'a> {
    let record = &current.session;
    let now = auth.now();
    // What the browser sends: the encrypted value as it travels (percent-encoded), cut
    // short as everywhere else.
    let cookie_value = jar
        .get(&settings.session_name)
        .map(|c| redact_pair(&c.encoded().stripped().to_string()))
        .unwrap_or_default();
    let attributes = cookie::build(settings, "…".into(), record).to_string();
    let cookie_attributes = attributes
        .split_once(';')
        .map(|(_, rest)| rest.trim().to_owned())
        .unwrap_or_default();
    let seconds_until = |at: time::OffsetDateTime| (at - now).whole_seconds().max(0);
    let csrf_token = current.csrf_token();
    InspectorView {
        cookie_name: &settings.session_name,
        cookie_attributes,
        cookie_value,
        decrypted_id: current.id.shortened(),
        store_key: current.id.key().to_hex(),
        store: auth.session_store_name(),
        created_at: TimeTag(record.created_at),
        last_seen: TimeTag(record.last_seen),
        idle_deadline: TimeTag(record.idle_deadline),
        absolute_deadline: TimeTag(record.absolute_deadline),
        browser: escaped_or(record.user_agent.as_deref(), UNKNOWN_BROWSER),
        idle_seconds_left: seconds_until(record.idle_deadline),
        absolute_seconds_left: seconds_until(record.absolute_deadline),
        idle_timeout: settings.idle_timeout().whole_seconds(),
        touch_interval: settings.session_touch_interval,
        persistent: record.persistent,
        tamper: None,
        nav: signed_in_header(&current.user.email, &csrf_token),
        csrf_token,
    }
}

#[get("/session", rank = 2)]
fn session_needs_login() -> Redirect {
    Redirect::to("/login?next=/session")
}

/// Shows this browser's recent exchanges; the first visit starts recording them.
#[get("/how-it-works")]
fn how_it_works(
    viewer: MaybeUser,
    jar: &CookieJar<'_>,
    log: &State<ExchangeLog>,
    settings: &State<Settings>,
) -> View {
    let trace_id = jar.get_private(TRACE_COOKIE).map(|c| c.value().to_owned());
    let exchanges = match &trace_id {
        Some(id) => log.exchanges(id),
        None => {
            let mut bytes = [0u8; 16];
            OsRng.fill_bytes(&mut bytes);
            jar.add_private(
                Cookie::build((TRACE_COOKIE, hex::encode(bytes)))
                    .http_only(true)
                    .same_site(SameSite::Lax)
                    .path("/")
                    .secure(settings.cookie_secure)
                    .max_age(Duration::days(1))
                    .expires(time::OffsetDateTime::now_utc() + Duration::days(1)),
            );
            Vec::new()
        }
    };
    let context = json!({
        "recording": trace_id.is_some(),
        "exchanges": exchanges,
        "session_name": settings.session_name,
    });
    render("how_it_works", viewer.0.as_ref(), None, context)
}
