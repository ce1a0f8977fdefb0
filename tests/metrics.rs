//! `/metrics`: values after real requests, and who may read them. The counters are
//! process-wide, so the tests in this binary take turns and compare before with after.

mod support;

use std::net::SocketAddr;

use rocket::http::{Header, Status};
use rocket::tokio::sync::Mutex;

use support::{TestApp, PASSWORD};

static TURN: Mutex<()> = Mutex::const_new(());

fn loopback() -> SocketAddr {
    "127.0.0.1:50000".parse().unwrap()
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get("/metrics")
        .remote(loopback())
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert!(response
        .content_type()
        .is_some_and(|ct| ct.to_string().starts_with("text/plain")));
    response.into_string().await.unwrap()
}

/// The value of the sample `series` (name and labels exactly as exposed), 0 if absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().expect("a number"))
}

#[rocket::async_test]
async fn counters_follow_logins_and_sessions() {
    let _turn = TURN.lock().await;
    let app = TestApp::builder().spawn().await;
    let before = scrape(&app).await;

    let ann = app.logged_in_browser("ann@example.com").await;
    let phone = app.browser();
    assert_eq!(
        phone.login("ann@example.com", PASSWORD).await.status.code,
        303
    );
    let intruder = app.browser();
    assert_eq!(
        intruder
            .login("ann@example.com", "wrong password!")
            .await
            .status
            .code,
        401
    );
    assert_eq!(
        intruder
            .login("nobody@example.com", PASSWORD)
            .await
            .status
            .code,
        401
    );
    ann.logout().await;
    app.advance(time::Duration::hours(1));
    assert!(!phone.is_logged_in().await, "idle timeout ended it");
    let after = scrape(&app).await;

    let delta = |series: &str| value(&after, series) - value(&before, series);
    assert_eq!(delta(r#"latchkey_logins_total{outcome="succeeded"}"#), 1.0);
    assert_eq!(delta(r#"latchkey_logins_total{outcome="failed"}"#), 2.0);
    assert_eq!(delta(r#"latchkey_logins_total{outcome="throttled"}"#), 0.0);
    assert_eq!(delta("latchkey_sessions_created_total"), 2.0);
    assert_eq!(delta("latchkey_sessions_revoked_total"), 1.0);
    assert_eq!(delta("latchkey_sessions_expired_total"), 1.0);
    assert_eq!(delta("latchkey_sessions_active"), 0.0);
    assert!(delta("latchkey_password_hash_duration_seconds_count") >= 4.0);
    assert_eq!(value(&after, "latchkey_password_hashes_waiting"), 0.0);
    assert!(
        delta(r#"latchkey_http_request_duration_seconds_count{method="POST",route="/login"}"#)
            >= 3.0,
        "{after}"
    );
    assert!(after.contains("# TYPE latchkey_http_request_duration_seconds histogram"));
}

#[rocket::async_test]
async fn a_security_event_counts_its_metric_in_the_same_call() {
    let _turn = TURN.lock().await;
    let app = TestApp::builder().spawn().await;
    let before = scrape(&app).await;

    latchkey::telemetry::SecurityEvent::LoginThrottled {
        via: latchkey::telemetry::Via::Page,
    }
    .emit();

    let after = scrape(&app).await;
    let delta = |series: &str| value(&after, series) - value(&before, series);
    assert_eq!(delta(r#"latchkey_logins_total{outcome="throttled"}"#), 1.0);
    assert_eq!(
        delta(r#"latchkey_security_events_total{event="login_throttled"}"#),
        1.0
    );
}

async fn status(app: &TestApp, remote: Option<&str>, headers: &[(&str, &str)]) -> Status {
    let mut request = app.client.get("/metrics");
    if let Some(remote) = remote {
        request = request.remote(remote.parse().unwrap());
    }
    for (name, value) in headers {
        request = request.header(Header::new(name.to_string(), value.to_string()));
    }
    request.dispatch().await.status()
}

#[rocket::async_test]
async fn only_direct_loopback_clients_read_metrics_by_default() {
    let _turn = TURN.lock().await;
    let app = TestApp::builder().spawn().await;

    assert_eq!(status(&app, Some("127.0.0.1:4000"), &[]).await, Status::Ok);
    assert_eq!(status(&app, Some("[::1]:4000"), &[]).await, Status::Ok);
    assert_eq!(status(&app, None, &[]).await, Status::NotFound);
    assert_eq!(
        status(&app, Some("203.0.113.9:4000"), &[]).await,
        Status::NotFound
    );
    // Through a proxy on the same machine: the peer is loopback, the client is not.
    let proxied = [("X-Real-IP", "203.0.113.9")];
    assert_eq!(
        status(&app, Some("127.0.0.1:4000"), &proxied).await,
        Status::NotFound
    );
    let forwarded = [("X-Forwarded-For", "203.0.113.9")];
    assert_eq!(
        status(&app, Some("127.0.0.1:4000"), &forwarded).await,
        Status::NotFound
    );
    // Without a token configured, no bearer opens it.
    let bearer = [("Authorization", "Bearer ")];
    assert_eq!(
        status(&app, Some("203.0.113.9:4000"), &bearer).await,
        Status::NotFound
    );
}

#[rocket::async_test]
async fn a_metrics_token_opens_metrics_to_its_holder_only() {
    let _turn = TURN.lock().await;
    let app = TestApp::builder()
        .setting("metrics_token", "s3cret-scrape-token")
        .spawn()
        .await;
    let remote = Some("203.0.113.9:4000");

    let right = [("Authorization", "Bearer s3cret-scrape-token")];
    let wrong = [("Authorization", "Bearer s3cret-scrape-tokem")];
    let basic = [("Authorization", "Basic s3cret-scrape-token")];
    assert_eq!(status(&app, remote, &right).await, Status::Ok);
    assert_eq!(status(&app, remote, &wrong).await, Status::NotFound);
    assert_eq!(status(&app, remote, &basic).await, Status::NotFound);
    assert_eq!(status(&app, remote, &[]).await, Status::NotFound);
    assert_eq!(status(&app, Some("127.0.0.1:4000"), &[]).await, Status::Ok);
}
