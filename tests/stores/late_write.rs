//! CVE-2025-46336 at the HTTP level: page views that were in flight while the session
//! was logged out must not bring it back, in every store.

use rocket::futures::future::join_all;
use rocket::http::Method;
use time::Duration;

use crate::support::{TestApp, SESSION_COOKIE};

async fn in_flight_requests_cannot_revive_a_logged_out_session(app: TestApp) {
    let browser = app.logged_in_browser("kim@example.com").await;
    let cookie = browser.session_cookie().unwrap();
    let token = browser.csrf_token_from("/").await;
    // Past the touch interval: every page view below writes "last seen" back.
    app.advance(Duration::seconds(120));

    let views = (0..30).map(|_| {
        let request = app
            .client
            .req(Method::Get, "/profile")
            .cookie(rocket::http::Cookie::new(SESSION_COOKIE, cookie.clone()));
        async move { request.dispatch().await.status() }
    });
    let logout = async {
        browser
            .post_form("/logout", &[("csrf_token", &token)])
            .await
            .status
    };
    let (_, logout_status) = rocket::tokio::join!(join_all(views), logout);
    assert_eq!(logout_status, rocket::http::Status::SeeOther);

    let replay = app.browser();
    replay.set_session_cookie(&cookie);
    assert!(
        !replay.is_logged_in().await,
        "a late write revived the session"
    );
}

#[rocket::async_test]
async fn memory_store() {
    in_flight_requests_cannot_revive_a_logged_out_session(TestApp::builder().spawn().await).await;
}

#[rocket::async_test]
async fn sqlite_store() {
    let app = TestApp::builder()
        .setting("session_store", "sqlite")
        .spawn()
        .await;
    in_flight_requests_cannot_revive_a_logged_out_session(app).await;
}

#[rocket::async_test]
async fn redis_store() {
    let Some(url) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: Redis test in late_write (REDIS_URL not set)");
        return;
    };
    let app = TestApp::builder()
        .setting("session_store", "redis")
        .setting("redis_url", url)
        .setting(
            "redis_key_prefix",
            format!("latchkey-test:{}:", uuid::Uuid::new_v4().simple()),
        )
        .spawn()
        .await;
    in_flight_requests_cannot_revive_a_logged_out_session(app).await;
}
