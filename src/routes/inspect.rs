//! Pages that make the session visible: the inspector (`/session`) and the per-browser
//! exchange log (`/how-it-works`).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};
use time::Duration;

use super::pages::{render, time_json};
use crate::auth::Auth;
use crate::config::Settings;
use crate::exchange_log::{redact_pair, ExchangeLog, TRACE_COOKIE};
use crate::guards::{CurrentUser, MaybeUser};
use crate::sessions::cookie;

pub fn routes() -> Vec<Route> {
    routes![session, session_needs_login, how_it_works]
}

#[get("/session")]
fn session(
    current: CurrentUser,
    jar: &CookieJar<'_>,
    settings: &State<Settings>,
    auth: &State<Auth>,
) -> Template {
    render(
        "session",
        Some(&current),
        None,
        session_context(&current, jar, settings, auth),
    )
}

/// What the inspector shows (also under the tamper demo's answer).
pub(super) fn session_context(
    current: &CurrentUser,
    jar: &CookieJar<'_>,
    settings: &Settings,
    auth: &Auth,
) -> Value {
    let record = &current.session;
    let now = auth.now();
    // What the browser sends: the encrypted value as it travels (percent-encoded), cut
    // short as everywhere else.
    let browser_value = jar
        .get(&settings.session_name)
        .map(|c| redact_pair(&c.encoded().stripped().to_string()))
        .unwrap_or_default();
    let attributes = cookie::build(settings, "…".into(), record).to_string();
    let attributes = attributes
        .split_once(';')
        .map(|(_, rest)| rest.trim().to_owned())
        .unwrap_or_default();
    let context = json!({
        "cookie": {
            "name": settings.session_name,
            "attributes": attributes,
            "browser_value": browser_value,
        },
        "decrypted_id": current.id.shortened(),
        "store_key": current.id.key().to_hex(),
        "store": auth.session_store_name(),
        "record": {
            "created_at": time_json(record.created_at),
            "last_seen": time_json(record.last_seen),
            "idle_deadline": time_json(record.idle_deadline),
            "absolute_deadline": time_json(record.absolute_deadline),
            "user_agent": record.user_agent.as_deref(),
            "seconds_left": (record.expires_at() - now).whole_seconds().max(0),
            "idle_seconds_left": (record.idle_deadline - now).whole_seconds().max(0),
            "absolute_seconds_left": (record.absolute_deadline - now).whole_seconds().max(0),
        },
        "idle_timeout": settings.idle_timeout().whole_seconds(),
        "touch_interval": settings.session_touch_interval,
        "persistent": record.persistent,
    });
    context
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
) -> Template {
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
