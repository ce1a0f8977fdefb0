//! A tampered cookie, shown: the inspector's form makes Latchkey send itself (over real
//! HTTP) a copy of this browser's cookie with one byte flipped and shows the answer:
//! anonymous, refused, and told to drop the cookie. And any cookie that does not
//! decrypt is removed from the browser like an expired one.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::process::{self as real, Jar, Server};
use crate::support::*;
use rocket::http::Status;

/// This test's own port (the range reserved for these tests), so the server can reach
/// itself at the address it was configured with.
const PORT: u16 = 18_541;

fn start_server(dir: &std::path::Path) -> Server {
    let child = real::command(dir, PORT, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start latchkey");
    let mut server = Server { child, port: PORT };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = real::try_request(PORT, "GET", "/health", &Jar::default(), None) {
            if response.status == 200 {
                return server;
            }
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("latchkey exited during start-up: {status}");
        }
        assert!(Instant::now() < deadline, "latchkey did not start in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_inspector_shows_what_a_tampered_copy_of_the_cookie_gets() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path());
    let mut browser = Jar::default();
    let signup = real::request(server.port, "GET", "/signup", &mut browser, None);
    let token = crate::support::csrf_token(&signup.body);
    let body = crate::support::encode_form(&[
        ("csrf_token", &token),
        ("email", "tess@example.com"),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ]);
    assert_eq!(
        real::request(server.port, "POST", "/signup", &mut browser, Some(&body)).status,
        303
    );
    let inspector = real::request(server.port, "GET", "/session", &mut browser, None);
    let token = crate::support::csrf_token(&inspector.body);
    let own_cookie = browser.0.get(SESSION_COOKIE).cloned().expect("a session");

    let body = crate::support::encode_form(&[("csrf_token", &token)]);
    let answer = real::request(
        server.port,
        "POST",
        "/session/tamper",
        &mut browser,
        Some(&body),
    );

    assert_eq!(answer.status, 200, "{}", answer.body);
    let shown = answer
        .body
        .split(r#"id="tamper-answer""#)
        .nth(1)
        .expect("the answer is shown");
    assert_contains(shown, "1.1 303 See Other");
    assert_contains(shown, "sent to log in: the request was anonymous");
    assert_contains(shown, &format!("{SESSION_COOKIE}=;"));
    assert_contains(shown, "Max-Age=0");
    // This browser's own cookie is untouched and still works.
    assert_eq!(browser.0.get(SESSION_COOKIE), Some(&own_cookie));
    let profile = real::request(server.port, "GET", "/profile", &mut browser, None);
    assert_eq!(profile.status, 200);
}

#[rocket::async_test]
async fn a_cookie_that_does_not_decrypt_is_removed_from_the_browser() {
    let app = spawn_app().await;
    let owner = app.logged_in_browser("olga@example.com").await;
    let mut tampered = owner.session_cookie().unwrap();
    let middle = tampered.len() / 2;
    let flipped = if &tampered[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(middle..=middle, flipped);
    let browser = app.browser();
    browser.set_session_cookie(&tampered);

    let reply = browser.get("/").await;

    assert_eq!(reply.status, Status::Ok);
    let removal = reply.cookie(SESSION_COOKIE).expect("a Set-Cookie for it");
    assert!(is_removal(removal), "{:?}", reply.set_cookie_headers());
    assert_eq!(browser.session_cookie(), None);
    assert!(owner.is_logged_in().await, "the real session lives on");
}

#[rocket::async_test]
async fn a_garbage_cookie_is_removed_too() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.set_session_cookie("not-even-base64");

    let reply = browser.get("/profile").await;

    assert_sent_to_login(&reply);
    assert!(reply.cookie(SESSION_COOKIE).is_some_and(is_removal));
}

#[rocket::async_test]
async fn no_cookie_means_no_removal() {
    let app = spawn_app().await;

    let reply = app.browser().get("/").await;

    assert!(reply.cookie(SESSION_COOKIE).is_none());
}

#[rocket::async_test]
async fn the_tamper_form_needs_the_sessions_csrf_token() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("olga@example.com").await;

    let reply = browser
        .post_form("/session/tamper", &[("csrf_token", "forged")])
        .await;

    assert_eq!(reply.status, Status::Forbidden);
}

#[rocket::async_test]
async fn the_tamper_form_sends_anonymous_people_to_log_in() {
    let app = spawn_app().await;

    let reply = app
        .browser()
        .post_form("/session/tamper", &[("csrf_token", "x")])
        .await;

    assert_redirect_to(&reply, "/login?next=/session");
}
