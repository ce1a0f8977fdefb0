//! The session cookie: a private (AES-256-GCM, encrypted and authenticated) Rocket cookie
//! whose plaintext is the session id. Tampering with it makes it unreadable, which is
//! treated exactly like having no cookie.

use rocket::http::private::cookie::Expiration;
use rocket::http::{Cookie, CookieJar, SameSite};

use super::{SessionId, SessionRecord};
use crate::config::Settings;

/// OWASP Session Management: HttpOnly (no script access), SameSite=Lax (not sent on
/// cross-site POSTs), Path=/, no Domain (this host only), Secure when served over HTTPS,
/// and for a "remember me" session Max-Age = the absolute timeout (the browser forgets it
/// when the server would anyway); otherwise no Max-Age or Expires at all, so the browser
/// drops it when it closes. The server enforces the same deadlines either way.
pub fn issue(jar: &CookieJar<'_>, settings: &Settings, id: &SessionId, record: &SessionRecord) {
    jar.add_private(build(settings, id.expose(), record));
}

/// The session cookie with a given value: the one definition of its attributes, also
/// used to show them on the session inspector.
pub fn build(settings: &Settings, value: String, record: &SessionRecord) -> Cookie<'static> {
    let cookie = Cookie::build((settings.session_name.clone(), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(settings.cookie_secure);
    if record.persistent {
        cookie
            .max_age(settings.absolute_timeout())
            // Rocket would otherwise add a one-week `Expires` that contradicts `Max-Age`.
            .expires(record.absolute_deadline)
            .build()
    } else {
        // Said explicitly: a private cookie without an expiry gets Rocket's one week.
        cookie.expires(Expiration::Session).build()
    }
}

/// The session id the browser sent, if the cookie is present, authentic and well-formed.
pub fn read(jar: &CookieJar<'_>, settings: &Settings) -> Option<SessionId> {
    let cookie = jar.get_private(&settings.session_name)?;
    SessionId::parse(cookie.value())
}

/// Whether the browser sent a session cookie that [`read`] cannot use: altered, encrypted
/// with another key, or not one of our ids. Such a cookie is removed like an expired one.
pub fn is_unreadable(jar: &CookieJar<'_>, settings: &Settings) -> bool {
    jar.get(&settings.session_name).is_some() && read(jar, settings).is_none()
}

/// Tells the browser to drop the cookie (an expired cookie with the same name and path).
pub fn clear(jar: &CookieJar<'_>, settings: &Settings) {
    // Same attributes as the cookie it removes, so every client matches it to that one.
    jar.remove_private(
        Cookie::build(settings.session_name.clone())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(settings.cookie_secure),
    );
}

/// Login ends all pre-login state: the anonymous visitor's CSRF token cookie goes with
/// it. Here rather than in the CSRF guard so `auth` need not reach up into the web layer.
pub fn clear_anon_csrf(jar: &CookieJar<'_>) {
    jar.remove_private(
        Cookie::build(crate::config::ANON_CSRF_COOKIE)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict),
    );
}
