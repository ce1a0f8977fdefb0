//! Every state-changing form needs its CSRF token (OWASP CSRF Prevention Cheat Sheet):
//! without it, or with someone else's, the answer is 403 and nothing changes.

use crate::support::*;
use rocket::http::Status;

#[track_caller]
fn assert_forbidden(reply: &Reply) {
    assert_eq!(reply.status, Status::Forbidden, "body:\n{}", reply.body);
    assert_html(reply);
    assert_contains(&reply.body, "did not come from Latchkey");
    assert!(
        reply.cookie(SESSION_COOKIE).is_none(),
        "a refused request touched the session cookie"
    );
}

// ---- login --------------------------------------------------------------------------

#[rocket::async_test]
async fn login_without_a_token_is_forbidden_and_starts_no_session() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let browser = app.browser();
    browser.get("/login").await;

    let reply = browser
        .post_form(
            "/login",
            &[("email", "alice@example.com"), ("password", PASSWORD)],
        )
        .await;

    assert_forbidden(&reply);
    assert!(!browser.is_logged_in().await);
}

#[rocket::async_test]
async fn login_with_a_wrong_token_is_forbidden_and_starts_no_session() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let browser = app.browser();
    browser.get("/login").await;

    let reply = browser
        .post_form(
            "/login",
            &[
                ("email", "alice@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &"0".repeat(64)),
            ],
        )
        .await;

    assert_forbidden(&reply);
    assert!(!browser.is_logged_in().await);
}

#[rocket::async_test]
async fn login_with_a_token_but_no_token_cookie_is_forbidden() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;
    browser.forget_cookie(CSRF_COOKIE);

    let reply = browser
        .post_form(
            "/login",
            &[
                ("email", "alice@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;

    assert_forbidden(&reply);
}

#[rocket::async_test]
async fn login_with_another_browsers_token_is_forbidden() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let attacker = app.browser();
    let attackers_token = attacker.csrf_token_from("/login").await;
    let victim = app.browser();
    victim.get("/login").await;

    let reply = victim
        .post_form(
            "/login",
            &[
                ("email", "alice@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &attackers_token),
            ],
        )
        .await;

    assert_forbidden(&reply);
    assert!(!victim.is_logged_in().await);
}

// ---- signup -------------------------------------------------------------------------

#[rocket::async_test]
async fn signup_without_a_token_is_forbidden_and_creates_no_account() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.get("/signup").await;
    let form = Signup::new("alice@example.com", PASSWORD);
    let fields: Vec<_> = form
        .fields("")
        .into_iter()
        .filter(|(name, _)| *name != "csrf_token")
        .collect();

    let reply = browser.post_form("/signup", &fields).await;

    assert_forbidden(&reply);
    // The email is still free.
    let retry = app.browser().signup("alice@example.com", PASSWORD).await;
    assert_redirect_to(&retry, "/profile");
}

#[rocket::async_test]
async fn signup_with_a_wrong_token_is_forbidden_and_creates_no_account() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.get("/signup").await;
    let form = Signup::new("alice@example.com", PASSWORD);

    let reply = browser
        .post_form("/signup", &form.fields(&"f".repeat(64)))
        .await;

    assert_forbidden(&reply);
    let retry = app.browser().signup("alice@example.com", PASSWORD).await;
    assert_redirect_to(&retry, "/profile");
}

#[rocket::async_test]
async fn signup_with_another_browsers_token_is_forbidden() {
    let app = spawn_app().await;
    let attackers_token = app.browser().csrf_token_from("/signup").await;
    let victim = app.browser();
    victim.get("/signup").await;
    let form = Signup::new("alice@example.com", PASSWORD);

    let reply = victim
        .post_form("/signup", &form.fields(&attackers_token))
        .await;

    assert_forbidden(&reply);
}

// ---- logout -------------------------------------------------------------------------

#[rocket::async_test]
async fn logout_without_a_token_is_forbidden_and_keeps_the_session() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.post_form("/logout", &[]).await;

    assert_forbidden(&reply);
    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn logout_with_a_wrong_token_is_forbidden_and_keeps_the_session() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser
        .post_form("/logout", &[("csrf_token", &"0".repeat(64))])
        .await;

    assert_forbidden(&reply);
    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn logout_with_another_sessions_token_is_forbidden() {
    let app = spawn_app().await;
    let attacker = app.logged_in_browser("mallory@example.com").await;
    let attackers_token = attacker.csrf_token_from("/").await;
    let victim = app.logged_in_browser("alice@example.com").await;

    let reply = victim
        .post_form("/logout", &[("csrf_token", &attackers_token)])
        .await;

    assert_forbidden(&reply);
    assert!(victim.is_logged_in().await);
}

#[rocket::async_test]
async fn logout_with_the_anonymous_form_token_is_forbidden() {
    let app = spawn_app().await;
    let browser = app.browser();
    let anonymous_token = browser.csrf_token_from("/signup").await;
    browser
        .post_form(
            "/signup",
            &Signup::new("alice@example.com", PASSWORD).fields(&anonymous_token),
        )
        .await;

    let reply = browser
        .post_form("/logout", &[("csrf_token", &anonymous_token)])
        .await;

    assert_forbidden(&reply);
    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn a_logged_in_page_carries_the_sessions_own_token() {
    let app = spawn_app().await;
    let browser = app.browser();
    let anonymous_token = browser.csrf_token_from("/signup").await;
    browser
        .post_form(
            "/signup",
            &Signup::new("alice@example.com", PASSWORD).fields(&anonymous_token),
        )
        .await;

    let session_token = browser.csrf_token_from("/profile").await;

    assert_ne!(session_token, anonymous_token);
    assert!(session_token.len() >= 32, "{session_token}");
}
