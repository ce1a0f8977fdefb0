//! Idle and absolute expiry, driven by the injected clock (never by sleeping).
//! Settings: idle 10 minutes, absolute 1 hour, last-seen written back at most once a minute.

use crate::support::*;
use time::Duration;

const IDLE_SECS: i64 = 600;
const ABSOLUTE_SECS: i64 = 3600;

async fn spawn_expiring_app() -> TestApp {
    TestApp::builder()
        .setting("session_idle_timeout", IDLE_SECS)
        .setting("session_absolute_timeout", ABSOLUTE_SECS)
        .setting("session_touch_interval", 60)
        .spawn()
        .await
}

#[rocket::async_test]
async fn a_session_survives_idleness_shorter_than_the_idle_timeout() {
    let app = spawn_expiring_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    app.advance(Duration::seconds(IDLE_SECS - 1));

    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn a_session_idle_for_the_idle_timeout_is_refused() {
    let app = spawn_expiring_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    app.advance(Duration::seconds(IDLE_SECS + 1));
    let reply = browser.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn with_default_settings_a_session_idle_for_31_minutes_is_refused() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    app.advance(Duration::minutes(31));
    let reply = browser.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn with_default_settings_a_session_idle_for_29_minutes_is_kept() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    app.advance(Duration::minutes(29));

    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn an_expired_session_cookie_is_cleared_from_the_browser() {
    let app = spawn_expiring_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    app.advance(Duration::seconds(IDLE_SECS + 1));

    let reply = browser.get("/").await;

    let cookie = reply
        .cookie(SESSION_COOKIE)
        .expect("the dead cookie is removed");
    assert!(is_removal(cookie), "{cookie}");
}

#[rocket::async_test]
async fn an_expired_session_stays_expired_when_time_is_set_back() {
    let app = spawn_expiring_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let cookie = browser.session_cookie().unwrap();
    app.advance(Duration::seconds(IDLE_SECS + 1));
    browser.get("/profile").await;

    app.advance(Duration::seconds(-(IDLE_SECS + 1)));
    let replay = app.browser();
    replay.set_session_cookie(&cookie);

    assert_sent_to_login(&replay.get("/profile").await);
}

#[rocket::async_test]
async fn activity_extends_the_idle_deadline() {
    let app = spawn_expiring_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    // A page every 5 minutes for 30 minutes: three times the idle timeout.
    for minutes in (5..=30).step_by(5) {
        app.advance(Duration::minutes(5));
        assert!(
            browser.is_logged_in().await,
            "refused after {minutes} minutes of activity"
        );
    }
}

#[rocket::async_test]
async fn activity_does_not_extend_a_session_past_the_absolute_timeout() {
    let app = spawn_expiring_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    // Active every 5 minutes up to 55 minutes after login.
    for _ in 0..11 {
        app.advance(Duration::minutes(5));
        assert!(browser.is_logged_in().await);
    }

    app.advance(Duration::minutes(5));
    let reply = browser.get("/profile").await;

    assert_sent_to_login(&reply);
}

#[rocket::async_test]
async fn the_idle_deadline_shown_never_passes_the_absolute_deadline() {
    let app = spawn_expiring_app().await;
    let login_at = app.now();
    let browser = app.logged_in_browser("alice@example.com").await;
    for _ in 0..11 {
        app.advance(Duration::minutes(5));
        browser.get("/").await;
    }

    let reply = browser.get("/profile").await;

    let absolute = shown_time(login_at + Duration::seconds(ABSOLUTE_SECS));
    let expires = reply
        .body
        .split(r#"<dd id="session-expires">"#)
        .nth(1)
        .and_then(|rest| rest.split("</dd>").next())
        .expect("an expiry on the profile");
    assert!(
        expires.contains(&absolute),
        "expires {expires}, want {absolute}"
    );
}
