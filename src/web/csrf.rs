//! CSRF tokens for every form (OWASP CSRF Prevention Cheat Sheet).
//!
//! - Logged in: the synchronizer token derived from the session id
//!   ([`SessionId::csrf_token`](crate::sessions::SessionId::csrf_token)).
//! - Anonymous forms (login, signup): a double-submit token. The token sits in a
//!   short-lived private cookie, with the time it was issued, and in a hidden field; a
//!   POST must carry both, equal, within `anon_csrf_ttl` of the issue time. The cookie is
//!   encrypted and authenticated, so an attacker who can plant cookies still cannot
//!   forge one; and each pair is accepted once, so one copied from a page cannot be
//!   replayed after the form it belonged to was sent.
//!
//! Handlers never check tokens: the data guards in [`form`] ([`CsrfForm`],
//! [`AnonCsrfForm`]) refuse a form before its handler runs.

mod form;

use std::collections::HashMap;
use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use parking_lot::Mutex;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome, Request};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

pub use form::{AnonCsrfForm, CsrfForm, FormRefused, TokenOnly};

use crate::clock::Clock;
use crate::config::Settings;

/// Name of the anonymous forms' token cookie.
pub const ANON_COOKIE: &str = crate::config::ANON_CSRF_COOKIE;
/// Pairs remembered as used, at most: about 40 bytes each, so a few MiB. Used pairs
/// leave the set when their life ends; a set that fills with live ones is emptied, which
/// only lets a pair already used be tried once more before it expires.
const SPENT_CAPACITY: usize = 100_000;
/// A cookie issued further in the future than this (a clock stepped back) is refused.
const CLOCK_SKEW: Duration = Duration::minutes(1);

/// Does the submitted token equal the expected one? Constant time, and never for an
/// empty or missing token.
pub(crate) fn matches(expected: &str, submitted: Option<&str>) -> bool {
    let submitted = submitted.unwrap_or_default();
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

/// What the anonymous-form tokens need from the app: the clock their life is measured
/// with, and the pairs already used.
pub struct AnonTokens {
    clock: Arc<dyn Clock>,
    /// First 16 bytes of a used token -> the Unix time its pair expires.
    spent: Mutex<HashMap<u128, i64>>,
}

impl AnonTokens {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            spent: Mutex::new(HashMap::new()),
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Marks a pair as used; false when it already was (a replay).
    fn spend(&self, token: &str, expires_at: i64) -> bool {
        let Some(key) = token_key(token) else {
            return false;
        };
        let now = self.now().unix_timestamp();
        let mut spent = self.spent.lock();
        if spent.len() >= SPENT_CAPACITY {
            spent.retain(|_, expires| *expires > now);
            if spent.len() >= SPENT_CAPACITY {
                tracing::warn!("anonymous CSRF tokens: the used-token set is full; emptied");
                spent.clear();
            }
        }
        spent.insert(key, expires_at).is_none()
    }
}

fn token_key(token: &str) -> Option<u128> {
    let bytes = hex::decode(token.get(..32)?).ok()?;
    Some(u128::from_be_bytes(bytes.try_into().ok()?))
}

/// The anonymous-form token for this browser: the one in its cookie while it lives, or a
/// new one (and the cookie that carries it). One per request, shared by every guard that
/// asks, so a page rendered after its form was accepted shows the pair that replaced it.
#[derive(Clone)]
pub struct AnonCsrf {
    pair: Arc<Mutex<AnonPair>>,
}

struct AnonPair {
    token: String,
    issued_at: i64,
    /// False when the browser sent no live token cookie: a POST can never pass then.
    from_cookie: bool,
}

impl AnonCsrf {
    pub fn token(&self) -> String {
        self.pair.lock().token.clone()
    }

    /// Login ends all pre-login state, this token included.
    pub fn clear(jar: &CookieJar<'_>) {
        crate::sessions::cookie::clear_anon_csrf(jar);
    }

    /// This request's token (read or issued once per request).
    fn of(request: &Request<'_>) -> AnonCsrf {
        request
            .local_cache(|| AnonCsrf::load_or_issue(request))
            .clone()
    }

    fn load_or_issue(request: &Request<'_>) -> AnonCsrf {
        let (now, ttl) = now_and_ttl(request);
        let pair = request
            .cookies()
            .get_private(ANON_COOKIE)
            .and_then(|cookie| parse_cookie(cookie.value(), now, ttl))
            .map(|(token, issued_at)| AnonPair {
                token,
                issued_at,
                from_cookie: true,
            })
            .unwrap_or_else(|| issue(request, now, ttl));
        AnonCsrf {
            pair: Arc::new(Mutex::new(pair)),
        }
    }

    /// Accepts the submitted token once: true when it matches the live pair the browser
    /// sent and that pair was never used; the browser then gets a fresh pair.
    fn redeem(&self, request: &Request<'_>, submitted: Option<&str>) -> bool {
        let Some(tokens) = request.rocket().state::<AnonTokens>() else {
            return false;
        };
        let (now, ttl) = now_and_ttl(request);
        let mut pair = self.pair.lock();
        if !pair.from_cookie || !matches(&pair.token, submitted) {
            return false;
        }
        if !tokens.spend(&pair.token, pair.issued_at + ttl.whole_seconds()) {
            return false;
        }
        *pair = issue(request, now, ttl);
        true
    }
}

/// "Now" by the app's clock, and the anonymous tokens' life.
fn now_and_ttl(request: &Request<'_>) -> (OffsetDateTime, Duration) {
    let rocket = request.rocket();
    let now = rocket
        .state::<AnonTokens>()
        .map_or_else(OffsetDateTime::now_utc, AnonTokens::now);
    let ttl = rocket.state::<Settings>().map_or_else(
        || Settings::default().anon_csrf_ttl(),
        Settings::anon_csrf_ttl,
    );
    (now, ttl)
}

/// `<64 hex token>.<issue time, Unix seconds>`, live at `now`.
fn parse_cookie(value: &str, now: OffsetDateTime, ttl: Duration) -> Option<(String, i64)> {
    let (token, issued_at) = value.split_once('.')?;
    let issued_at: i64 = issued_at.parse().ok()?;
    let age = now.unix_timestamp() - issued_at;
    let live = age < ttl.whole_seconds() && age >= -CLOCK_SKEW.whole_seconds();
    let well_formed = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    (live && well_formed).then(|| (token.to_owned(), issued_at))
}

/// A new random token, and the cookie that carries it (and its issue time).
fn issue(request: &Request<'_>, now: OffsetDateTime, ttl: Duration) -> AnonPair {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let issued_at = now.unix_timestamp();
    let secure = request
        .rocket()
        .state::<Settings>()
        .is_some_and(|s| s.cookie_secure);
    request.cookies().add_private(
        Cookie::build((ANON_COOKIE, format!("{token}.{issued_at}")))
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .secure(secure)
            .max_age(ttl)
            // The browser goes by the wall clock; the token's own life is checked against
            // the issue time inside the encrypted value, by the app's clock. (Without an
            // expiry Rocket would give a private cookie a week.)
            .expires(OffsetDateTime::now_utc() + ttl),
    );
    AnonPair {
        token,
        issued_at,
        from_cookie: false,
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AnonCsrf {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(AnonCsrf::of(request))
    }
}

/// Set when a form guard refused this request's token, so the error page can say why.
struct Rejected(bool);

fn mark_rejected(request: &Request<'_>) {
    request.local_cache(|| Rejected(true));
    tracing::warn!(
        target: crate::telemetry::SECURITY,
        event = "csrf_rejected",
        "CSRF token rejected"
    );
}

/// Was this request refused for its CSRF token? (For the error page's message.)
pub fn was_rejected(request: &Request<'_>) -> bool {
    request.local_cache(|| Rejected(false)).0
}
