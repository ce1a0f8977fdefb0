//! The session cookie's attributes (OWASP Session Management Cheat Sheet) and its value.

use crate::support::*;
use rocket::http::{Cookie, SameSite};

/// The session cookie a fresh signup sets, from an app with these settings.
async fn session_cookie_from_signup(app: &TestApp) -> (Cookie<'static>, String) {
    let reply = app.browser().signup("alice@example.com", PASSWORD).await;
    assert_redirect_to(&reply, "/profile");
    let cookie = reply
        .cookie(SESSION_COOKIE)
        .expect("signup sets the session cookie")
        .clone();
    let header = reply.set_cookie_header(SESSION_COOKIE).unwrap().to_owned();
    (cookie, header)
}

#[rocket::async_test]
async fn session_cookie_is_http_only() {
    let app = spawn_app().await;

    let (cookie, header) = session_cookie_from_signup(&app).await;

    assert_eq!(cookie.http_only(), Some(true), "{header}");
}

#[rocket::async_test]
async fn session_cookie_is_same_site_lax() {
    let app = spawn_app().await;

    let (cookie, header) = session_cookie_from_signup(&app).await;

    assert_eq!(cookie.same_site(), Some(SameSite::Lax), "{header}");
}

#[rocket::async_test]
async fn session_cookie_has_path_root_and_no_domain() {
    let app = spawn_app().await;

    let (cookie, header) = session_cookie_from_signup(&app).await;

    assert_eq!(cookie.path(), Some("/"), "{header}");
    assert_eq!(cookie.domain(), None, "{header}");
}

#[rocket::async_test]
async fn session_cookie_max_age_is_the_absolute_timeout() {
    let app = spawn_app().await;

    let (cookie, header) = session_cookie_from_signup(&app).await;

    assert_eq!(
        cookie.max_age(),
        Some(time::Duration::seconds(43_200)),
        "{header}"
    );
    assert!(header.contains("Max-Age=43200"), "{header}");
}

#[rocket::async_test]
async fn session_cookie_max_age_follows_the_absolute_timeout_setting() {
    let app = TestApp::builder()
        .setting("session_idle_timeout", 600)
        .setting("session_absolute_timeout", 3600)
        .spawn()
        .await;

    let (cookie, header) = session_cookie_from_signup(&app).await;

    assert_eq!(
        cookie.max_age(),
        Some(time::Duration::seconds(3600)),
        "{header}"
    );
}

#[rocket::async_test]
async fn session_cookie_is_not_secure_by_default() {
    let app = spawn_app().await;

    let (cookie, header) = session_cookie_from_signup(&app).await;

    assert_ne!(cookie.secure(), Some(true), "{header}");
    assert!(!header.contains("Secure"), "{header}");
}

#[rocket::async_test]
async fn session_cookie_is_secure_when_cookie_secure_is_on() {
    let app = TestApp::builder()
        .setting("cookie_secure", true)
        .spawn()
        .await;

    let (cookie, header) = session_cookie_from_signup(&app).await;

    assert_eq!(cookie.secure(), Some(true), "{header}");
}

#[rocket::async_test]
async fn session_cookie_name_follows_the_session_name_setting() {
    let app = TestApp::builder()
        .setting("session_name", "sid")
        .spawn()
        .await;

    let reply = app.browser().signup("alice@example.com", PASSWORD).await;

    assert!(
        reply.cookie("sid").is_some(),
        "{:?}",
        reply.set_cookie_headers()
    );
    assert!(reply.cookie(SESSION_COOKIE).is_none());
}

#[rocket::async_test]
async fn session_cookie_value_is_not_the_raw_session_id() {
    let app = spawn_app().await;

    let (cookie, _) = session_cookie_from_signup(&app).await;

    let value = cookie.value();
    let looks_like_a_uuid = uuid::Uuid::try_parse(value).is_ok()
        || (value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!looks_like_a_uuid, "the cookie carries a bare id: {value}");
    // AES-GCM: 12-byte nonce + 32-byte plaintext + 16-byte tag, base64: 80 characters.
    assert!(value.len() >= 80, "too short to be encrypted: {value}");
}
