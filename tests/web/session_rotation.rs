//! A new session id at every login (OWASP ASVS 3.2.1, session fixation), ended sessions
//! stay ended, and sessions of one user in two browsers are independent.

use crate::support::*;

#[rocket::async_test]
async fn login_replaces_a_session_cookie_planted_before_it() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let attacker = app.logged_in_browser("mallory@example.com").await;
    let planted = attacker.session_cookie().unwrap();
    let victim = app.browser();
    let token = victim.csrf_token_from("/login").await;
    victim.set_session_cookie(&planted);

    let reply = victim
        .post_form(
            "/login",
            &[
                ("email", "alice@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;

    assert_redirect_to(&reply, "/profile");
    let after = victim.session_cookie().expect("a session cookie");
    assert_ne!(after, planted);
}

#[rocket::async_test]
async fn a_session_cookie_replaced_at_login_is_refused_afterwards() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let attacker = app.logged_in_browser("mallory@example.com").await;
    let planted = attacker.session_cookie().unwrap();
    let victim = app.browser();
    let token = victim.csrf_token_from("/login").await;
    victim.set_session_cookie(&planted);
    victim
        .post_form(
            "/login",
            &[
                ("email", "alice@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;

    let replay = app.browser();
    replay.set_session_cookie(&planted);
    let reply = replay.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn each_login_issues_a_new_session_cookie() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.signup("alice@example.com", PASSWORD).await;
    let at_signup = browser.session_cookie().unwrap();
    browser.logout().await;

    browser.login("alice@example.com", PASSWORD).await;

    let at_login = browser.session_cookie().expect("logged in again");
    assert_ne!(at_login, at_signup);
}

#[rocket::async_test]
async fn the_session_cookie_after_login_works_and_names_the_new_user() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let attacker = app.logged_in_browser("mallory@example.com").await;
    let victim = app.browser();
    let token = victim.csrf_token_from("/login").await;
    victim.set_session_cookie(&attacker.session_cookie().unwrap());
    victim
        .post_form(
            "/login",
            &[
                ("email", "alice@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;

    let reply = victim.get("/profile").await;

    assert_contains(&reply.body, "<dd>alice@example.com</dd>");
    assert_not_contains(&reply.body, "mallory@example.com");
}

#[rocket::async_test]
async fn a_session_cookie_replayed_after_logout_is_refused() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let copied = browser.session_cookie().unwrap();
    browser.logout().await;
    let thief = app.browser();
    thief.set_session_cookie(&copied);

    let reply = thief.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn two_logins_of_one_user_get_two_different_sessions() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let laptop = app.browser();
    let phone = app.browser();

    laptop.login("alice@example.com", PASSWORD).await;
    phone.login("alice@example.com", PASSWORD).await;

    assert!(laptop.is_logged_in().await);
    assert!(phone.is_logged_in().await);
    assert_ne!(laptop.session_cookie(), phone.session_cookie());
}

#[rocket::async_test]
async fn logging_out_in_one_browser_leaves_the_other_logged_in() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let laptop = app.browser();
    let phone = app.browser();
    laptop.login("alice@example.com", PASSWORD).await;
    phone.login("alice@example.com", PASSWORD).await;

    laptop.logout().await;

    assert!(!laptop.is_logged_in().await);
    assert!(phone.is_logged_in().await);
}
