//! The login and signup forms' CSRF pair (token cookie + hidden field) has a bounded
//! life, measured with the app's clock, and is accepted once: after the form it belonged
//! to was sent, neither the same browser nor another client can use it again.

mod common;

use common::*;
use rocket::http::Status;
use time::Duration;

const ALICE: &str = "alice@example.com";

fn login_fields(token: &str) -> [(&str, &str); 3] {
    [
        ("email", ALICE),
        ("password", PASSWORD),
        ("csrf_token", token),
    ]
}

#[track_caller]
fn assert_csrf_refused(reply: &Reply) {
    assert_eq!(reply.status, Status::Forbidden, "body:\n{}", reply.body);
    assert_contains(&reply.body, "did not come from Latchkey");
}

#[rocket::async_test]
async fn a_login_form_still_works_just_before_its_token_expires() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;

    app.advance(Duration::hours(2) - Duration::seconds(1));
    let reply = browser.post_form("/login", &login_fields(&token)).await;

    assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn a_login_form_older_than_two_hours_is_refused() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;

    app.advance(Duration::hours(2));
    let reply = browser.post_form("/login", &login_fields(&token)).await;

    assert_csrf_refused(&reply);
    assert!(!browser.is_logged_in().await);
    // The refusal hands out a fresh pair: reloading the form works again.
    let fresh = browser.csrf_token_from("/login").await;
    assert_ne!(fresh, token);
    let retry = browser.post_form("/login", &login_fields(&fresh)).await;
    assert_redirect_to(&retry, "/profile");
}

#[rocket::async_test]
async fn a_signup_form_older_than_its_life_is_refused_and_creates_no_account() {
    let app = spawn_app().await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/signup").await;

    app.advance(Duration::hours(3));
    let reply = browser
        .signup_with_token(&Signup::new(ALICE, PASSWORD), &token)
        .await;

    assert_csrf_refused(&reply);
    let retry = app.browser().signup(ALICE, PASSWORD).await;
    assert_redirect_to(&retry, "/profile");
}

#[rocket::async_test]
async fn the_life_of_anonymous_tokens_is_a_setting() {
    let app = TestApp::builder()
        .setting("anon_csrf_ttl", 60)
        .spawn()
        .await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;

    app.advance(Duration::seconds(61));
    let reply = browser.post_form("/login", &login_fields(&token)).await;

    assert_csrf_refused(&reply);
}

#[rocket::async_test]
async fn a_pair_used_for_a_login_is_refused_afterwards_in_another_client() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;
    let cookie = browser.cookie(CSRF_COOKIE).expect("a token cookie");
    let login = browser.post_form("/login", &login_fields(&token)).await;
    assert_redirect_to(&login, "/profile");

    let replay = app.browser();
    replay.set_cookie(CSRF_COOKIE, &cookie);
    let reply = replay.post_form("/login", &login_fields(&token)).await;

    assert_csrf_refused(&reply);
    assert!(!replay.is_logged_in().await);
}

#[rocket::async_test]
async fn a_pair_used_for_a_login_is_refused_after_logout_in_the_same_browser() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;
    let cookie = browser.cookie(CSRF_COOKIE).expect("a token cookie");
    browser.post_form("/login", &login_fields(&token)).await;
    browser.logout().await;

    browser.set_cookie(CSRF_COOKIE, &cookie);
    let reply = browser.post_form("/login", &login_fields(&token)).await;

    assert_csrf_refused(&reply);
    assert!(!browser.is_logged_in().await);
}

#[rocket::async_test]
async fn a_pair_used_for_a_signup_is_refused_afterwards() {
    let app = spawn_app().await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/signup").await;
    let cookie = browser.cookie(CSRF_COOKIE).expect("a token cookie");
    let signup = browser
        .signup_with_token(&Signup::new(ALICE, PASSWORD), &token)
        .await;
    assert_redirect_to(&signup, "/profile");

    let replay = app.browser();
    replay.set_cookie(CSRF_COOKIE, &cookie);
    let reply = replay
        .signup_with_token(&Signup::new("bob@example.com", PASSWORD), &token)
        .await;

    assert_csrf_refused(&reply);
    let bob = app.browser().login("bob@example.com", PASSWORD).await;
    assert_eq!(
        bob.status,
        Status::Unauthorized,
        "the replay created an account"
    );
}

#[rocket::async_test]
async fn a_failed_login_hands_out_a_fresh_pair_that_the_page_shows() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;

    let failed = browser
        .post_form(
            "/login",
            &[
                ("email", ALICE),
                ("password", "wrong password here"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(failed.status, Status::Unauthorized);
    let shown = csrf_token(&failed.body);
    assert_ne!(shown, token, "the used token is shown again");

    let reused = browser.post_form("/login", &login_fields(&token)).await;
    assert_csrf_refused(&reused);
    let retry = browser.post_form("/login", &login_fields(&shown)).await;
    assert_redirect_to(&retry, "/profile");
}
