//! A failed login does not say whether the account exists: same status, same page, and
//! about the same time (an unknown email is checked against a dummy argon2id hash).

use std::time::{Duration, Instant};

use crate::support::*;
use rocket::http::Status;

const KNOWN: &str = "alice@example.com";
// Same length as KNOWN, so the pages can be compared with the email masked.
const UNKNOWN: &str = "nobody@example.com";

/// Posts a login with `token` (the browser's own) and returns the reply. Each token is
/// accepted once, so `token` becomes the fresh one the answered page carries, as the
/// next submission from that page would send it.
async fn attempt(browser: &Browser<'_>, token: &mut String, email: &str, password: &str) -> Reply {
    let reply = browser
        .post_form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", token.as_str()),
            ],
        )
        .await;
    if reply.body.contains(r#"name="csrf_token""#) {
        *token = csrf_token(&reply.body);
    }
    reply
}

/// A page or header with every CSRF token and token cookie value masked.
fn mask_tokens(text: &str, tokens: &[&str]) -> String {
    tokens
        .iter()
        .fold(text.to_owned(), |text, token| text.replace(token, "TOKEN"))
}

#[rocket::async_test]
async fn unknown_email_and_wrong_password_both_answer_401_with_the_same_message() {
    let app = spawn_app().await;
    app.create_user(KNOWN, PASSWORD).await;
    let browser = app.browser();
    let mut token = browser.csrf_token_from("/login").await;

    let unknown = attempt(&browser, &mut token, UNKNOWN, PASSWORD).await;
    let wrong = attempt(&browser, &mut token, KNOWN, "not the password").await;

    assert_eq!(unknown.status, Status::Unauthorized);
    assert_eq!(wrong.status, Status::Unauthorized);
    assert_contains(&unknown.body, "Invalid email or password");
    assert_contains(&wrong.body, "Invalid email or password");
}

#[rocket::async_test]
async fn unknown_email_and_wrong_password_render_identical_pages() {
    let app = spawn_app().await;
    app.create_user(KNOWN, PASSWORD).await;
    let browser = app.browser();
    let mut token = browser.csrf_token_from("/login").await;

    let unknown = attempt(&browser, &mut token, UNKNOWN, PASSWORD).await;
    let unknown_token = csrf_token(&unknown.body);
    let wrong = attempt(&browser, &mut token, KNOWN, "not the password").await;
    let wrong_token = csrf_token(&wrong.body);

    // The typed email is echoed back into the form, and each answer carries a fresh
    // CSRF pair; everything else must match exactly.
    let unknown_page = mask_tokens(&unknown.body.replace(UNKNOWN, "EMAIL"), &[&unknown_token]);
    let wrong_page = mask_tokens(&wrong.body.replace(KNOWN, "EMAIL"), &[&wrong_token]);
    assert_eq!(unknown_page, wrong_page);
    let cookie_shape = |reply: &Reply| -> Vec<String> {
        reply
            .cookies
            .iter()
            .map(|c| {
                format!(
                    "{} {:?} {:?} {:?}",
                    c.name(),
                    c.path(),
                    c.http_only(),
                    c.max_age()
                )
            })
            .collect()
    };
    assert_eq!(cookie_shape(&unknown), cookie_shape(&wrong));
}

#[rocket::async_test]
async fn a_failed_login_keeps_the_typed_email_but_not_the_password() {
    let app = spawn_app().await;
    app.create_user(KNOWN, PASSWORD).await;
    let browser = app.browser();
    let mut token = browser.csrf_token_from("/login").await;

    let reply = attempt(&browser, &mut token, KNOWN, "not the password").await;

    assert_eq!(field_value(&reply.body, "email").as_deref(), Some(KNOWN));
    assert_eq!(field_value(&reply.body, "password"), None);
    assert_not_contains(&reply.body, "not the password");
}

#[rocket::async_test]
async fn a_failed_login_starts_no_session() {
    let app = spawn_app().await;
    app.create_user(KNOWN, PASSWORD).await;
    let browser = app.browser();
    let mut token = browser.csrf_token_from("/login").await;

    let reply = attempt(&browser, &mut token, KNOWN, "not the password").await;

    assert!(reply.cookie(SESSION_COOKIE).is_none());
    assert!(!browser.is_logged_in().await);
}

/// The fastest of several timed attempts: the least disturbed by other work on the machine.
fn fastest(times: &[Duration]) -> Duration {
    *times.iter().min().expect("at least one attempt")
}

#[rocket::async_test]
async fn unknown_email_takes_about_as_long_as_wrong_password() {
    let app = spawn_app().await;
    app.create_user(KNOWN, PASSWORD).await;
    let browser = app.browser();
    let mut token = browser.csrf_token_from("/login").await;
    let (mut unknown_times, mut wrong_times) = (Vec::new(), Vec::new());

    // Interleaved, so a burst of load on the machine hits both alike.
    for _ in 0..5 {
        let started = Instant::now();
        let reply = attempt(&browser, &mut token, UNKNOWN, PASSWORD).await;
        unknown_times.push(started.elapsed());
        assert_eq!(reply.status, Status::Unauthorized);

        let started = Instant::now();
        let reply = attempt(&browser, &mut token, KNOWN, "not the password").await;
        wrong_times.push(started.elapsed());
        assert_eq!(reply.status, Status::Unauthorized);
    }

    let (unknown, wrong) = (fastest(&unknown_times), fastest(&wrong_times));
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.5..=2.0).contains(&ratio),
        "unknown email took {unknown:?}, wrong password {wrong:?} (ratio {ratio:.2})"
    );
}
