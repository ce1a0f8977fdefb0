//! A session cookie that is not exactly one we issued is no session at all: the request is
//! anonymous (never an error page, never a 5xx).

use crate::support::*;
use rocket::http::{Method, Status};

/// The same cookie with one character changed to another valid base64 character.
fn flip_one_character(value: &str) -> String {
    let middle = value.len() / 2;
    let original = value.as_bytes()[middle];
    let replacement = if original == b'A' { 'B' } else { 'A' };
    let mut flipped = value.to_owned();
    flipped.replace_range(middle..=middle, &replacement.to_string());
    assert_ne!(flipped, value);
    flipped
}

/// A browser sending `value` as its session cookie.
async fn browser_with_session_cookie<'a>(app: &'a TestApp, value: &str) -> Browser<'a> {
    let browser = app.browser();
    browser.set_session_cookie(value);
    browser
}

#[rocket::async_test]
async fn a_cookie_with_one_character_flipped_is_anonymous_on_the_profile() {
    let app = spawn_app().await;
    let owner = app.logged_in_browser("alice@example.com").await;
    let tampered = flip_one_character(&owner.session_cookie().unwrap());
    let browser = browser_with_session_cookie(&app, &tampered).await;

    let reply = browser.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn a_cookie_with_one_character_flipped_is_anonymous_on_the_home_page() {
    let app = spawn_app().await;
    let owner = app.logged_in_browser("alice@example.com").await;
    let tampered = flip_one_character(&owner.session_cookie().unwrap());
    let browser = browser_with_session_cookie(&app, &tampered).await;

    let reply = browser.get("/").await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(&reply.body, r#"href="/signup""#);
    assert_not_contains(&reply.body, "alice@example.com");
}

#[rocket::async_test]
async fn tampering_does_not_end_the_real_session() {
    let app = spawn_app().await;
    let owner = app.logged_in_browser("alice@example.com").await;
    let tampered = flip_one_character(&owner.session_cookie().unwrap());
    browser_with_session_cookie(&app, &tampered)
        .await
        .get("/profile")
        .await;

    assert!(owner.is_logged_in().await);
}

#[rocket::async_test]
async fn a_garbage_cookie_is_anonymous_on_the_profile() {
    let app = spawn_app().await;
    let browser = browser_with_session_cookie(&app, "not-a-real-cookie!").await;

    let reply = browser.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn a_garbage_cookie_is_anonymous_on_the_home_page() {
    let app = spawn_app().await;
    let browser = browser_with_session_cookie(&app, "%%%%").await;

    let reply = browser.get("/").await;

    assert_eq!(reply.status, Status::Ok);
}

#[rocket::async_test]
async fn a_10_kb_cookie_is_anonymous_on_the_profile() {
    let app = spawn_app().await;
    let browser = browser_with_session_cookie(&app, &"A".repeat(10 * 1024)).await;

    let reply = browser.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn a_10_kb_cookie_is_anonymous_on_the_home_page() {
    let app = spawn_app().await;
    let browser = browser_with_session_cookie(&app, &"A".repeat(10 * 1024)).await;

    let reply = browser.get("/").await;

    assert_eq!(reply.status, Status::Ok);
}

#[rocket::async_test]
async fn the_csrf_cookie_sent_as_the_session_cookie_is_anonymous() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.get("/login").await;
    let csrf_cookie = browser.cookie(CSRF_COOKIE).expect("a CSRF cookie");
    browser.set_session_cookie(&csrf_cookie);

    let reply = browser.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn a_validly_encrypted_cookie_for_an_unknown_session_is_anonymous() {
    let app = spawn_app().await;
    let browser = app.browser();
    let unknown_id = uuid::Uuid::new_v4().as_simple().to_string();
    let request = browser
        .request(Method::Get, "/profile")
        .private_cookie((SESSION_COOKIE, unknown_id));

    let reply = browser.send(request).await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn a_validly_encrypted_cookie_that_is_not_a_session_id_is_anonymous() {
    let app = spawn_app().await;
    let browser = app.browser();
    let request = browser
        .request(Method::Get, "/")
        .private_cookie((SESSION_COOKIE, "admin"));

    let reply = browser.send(request).await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(&reply.body, r#"href="/signup""#);
}

#[rocket::async_test]
async fn a_refused_form_still_tells_the_browser_to_forget_a_dead_cookie() {
    let app = spawn_app().await;
    let browser = browser_with_session_cookie(&app, "not-a-real-cookie!").await;

    // No CSRF token: refused after the session guard has found the cookie dead.
    let reply = browser.post_form("/logout", &[]).await;

    assert_eq!(reply.status, Status::Forbidden);
    let removal = reply.cookie(SESSION_COOKIE);
    assert!(
        removal.is_some_and(is_removal),
        "{:?}",
        reply.set_cookie_headers()
    );
}
