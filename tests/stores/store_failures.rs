//! When Redis or PostgreSQL is missing: Latchkey refuses to start, quickly and with a
//! message naming the setting; and when one goes away while running, requests that need
//! it get a 503 page within a bounded time, and work again once it is back.

use crate::support::stores;

use std::process::Stdio;
use std::time::{Duration, Instant};

use latchkey::clock::ManualClock;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;

use crate::support::instances::{self, post_login, profile_status, sign_up, ProxiedRedisApp};
use crate::support::process::{command, free_port};
use crate::support::proxy::{through, upstream_of, Mode, Proxy};
use crate::support::stores::PgSchema;

/// Runs the binary with `settings` and returns (exit success, stderr, time taken).
fn start_and_wait(settings: &[(&str, &str)]) -> (bool, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = command(dir.path(), free_port(), settings)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start latchkey");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            return (status.success(), stderr, started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("latchkey neither started nor gave up within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_unreachable_redis_stops_the_start_with_a_clear_message() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");

    let (success, stderr, took) =
        start_and_wait(&[("session_store", "redis"), ("redis_url", &url)]);

    assert!(!success);
    assert!(stderr.contains("Latchkey cannot start"), "{stderr}");
    assert!(stderr.contains("`redis_url`"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn an_unreachable_postgres_stops_the_start_with_a_clear_message_and_no_password() {
    let port = free_port();
    let url = format!("postgres://latchkey:hunter2@127.0.0.1:{port}/latchkey");

    let (success, stderr, took) = start_and_wait(&[("database_url", &url)]);

    assert!(!success);
    assert!(stderr.contains("Latchkey cannot start"), "{stderr}");
    assert!(stderr.contains("`database_url`"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("hunter2"), "password leaked: {stderr}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn an_unknown_database_scheme_is_named() {
    let (success, stderr, _) = start_and_wait(&[("database_url", "mysql://127.0.0.1/x")]);

    assert!(!success);
    assert!(stderr.contains("`database_url`"), "{stderr}");
}

#[test]
fn postgres_sessions_without_a_postgres_database_url_are_refused_by_name() {
    let (success, stderr, _) = start_and_wait(&[("session_store", "postgres")]);

    assert!(!success);
    assert!(stderr.contains("`session_store`"), "{stderr}");
    assert!(stderr.contains("`database_url`"), "{stderr}");
}

#[test]
fn an_unreachable_redis_cluster_stops_the_start_with_a_clear_message() {
    let port = free_port();
    let nodes = format!(r#"["redis://:hunter2@127.0.0.1:{port}"]"#);

    let (success, stderr, took) = start_and_wait(&[
        ("session_store", "redis_cluster"),
        ("redis_cluster_nodes", &nodes),
    ]);

    assert!(!success);
    assert!(stderr.contains("`redis_cluster_nodes`"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("hunter2"), "password leaked: {stderr}");
    assert!(took < Duration::from_secs(15), "took {took:?}");

    let (success, stderr, _) = start_and_wait(&[("session_store", "redis_cluster")]);
    assert!(!success);
    assert!(stderr.contains("`redis_cluster_nodes`"), "{stderr}");
}

/// GET /profile with the cookie: asserts a 503 HTML page, answered within `bound`.
async fn assert_unavailable(client: &Client, cookie: &rocket::http::Cookie<'static>) {
    let bound = Duration::from_secs(6);
    let started = Instant::now();
    let response = client
        .get("/profile")
        .cookie(cookie.clone())
        .dispatch()
        .await;
    let took = started.elapsed();
    assert_eq!(response.status(), Status::ServiceUnavailable);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    let body = response.into_string().await.unwrap();
    assert!(body.contains("unavailable"), "{body}");
    assert!(took < bound, "503 took {took:?}");
}

/// GET /api/v1/users/me with the cookie: the same outage is a 503 JSON answer there.
async fn assert_api_unavailable(client: &Client, cookie: &rocket::http::Cookie<'static>) {
    let started = Instant::now();
    let response = client
        .get("/api/v1/users/me")
        .cookie(cookie.clone())
        .dispatch()
        .await;
    let took = started.elapsed();
    assert_eq!(response.status(), Status::ServiceUnavailable);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: serde_json::Value = response.into_json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    assert!(took < Duration::from_secs(6), "503 took {took:?}");
}

/// Polls /profile until it answers 200 again (the service is back), up to 20 s.
async fn assert_recovers(client: &Client, cookie: &rocket::http::Cookie<'static>) {
    let started = Instant::now();
    loop {
        let status = profile_status(client, cookie).await;
        if status == Status::Ok {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still {status} 20 s after the service came back"
        );
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[rocket::async_test]
async fn redis_going_away_is_a_prompt_503_and_coming_back_recovers() {
    let Some(app) = ProxiedRedisApp::start().await else {
        return;
    };
    let (client, proxy) = (&app.client, &app.proxy);
    let cookie = sign_up(client, "rae@example.com").await;
    assert_eq!(profile_status(client, &cookie).await, Status::Ok);

    proxy.set(Mode::Refuse);
    assert_unavailable(client, &cookie).await;
    assert_api_unavailable(client, &cookie).await;
    proxy.set(Mode::Hang);
    assert_unavailable(client, &cookie).await;
    proxy.set(Mode::Up);

    assert_recovers(client, &cookie).await;
    app.finish().await;
}

/// POST /login with the right password while Redis is away: the throttle cannot count
/// the attempt, so the answer is a prompt 503 (never a 500, never an uncounted login).
async fn assert_login_unavailable(client: &Client, email: &str) {
    let started = Instant::now();
    let reply = post_login(client, email).await;
    let took = started.elapsed();
    assert_eq!(reply.status, Status::ServiceUnavailable);
    assert!(took < Duration::from_secs(6), "503 took {took:?}");
}

#[rocket::async_test]
async fn the_login_throttle_survives_a_redis_outage_like_the_session_store() {
    let Some(app) = ProxiedRedisApp::start().await else {
        return;
    };
    let (client, proxy) = (&app.client, &app.proxy);
    sign_up(client, "tam@example.com").await;
    assert_eq!(
        post_login(client, "tam@example.com").await.status,
        Status::SeeOther
    );

    proxy.set(Mode::Refuse);
    assert_login_unavailable(client, "tam@example.com").await;
    proxy.set(Mode::Up);
    assert_recovers_login(client, "tam@example.com").await;
    // A connection that goes silent and stays silent: the throttle must notice the
    // timeout and open a new one, since nothing ever closes the old one.
    proxy.set(Mode::Stall);
    assert_login_unavailable(client, "tam@example.com").await;
    proxy.set(Mode::Up);
    assert_recovers_login(client, "tam@example.com").await;
    app.finish().await;
}

/// Polls a login until it succeeds again, up to 20 s.
async fn assert_recovers_login(client: &Client, email: &str) {
    let started = Instant::now();
    loop {
        let status = post_login(client, email).await.status;
        if status == Status::SeeOther {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "login still {status} 20 s after Redis came back"
        );
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[rocket::async_test]
async fn postgres_going_away_is_a_prompt_503_and_coming_back_recovers() {
    let Some(database_url) = stores::database_url() else {
        return;
    };
    let proxy = Proxy::start(upstream_of(&database_url, 5432)).await;
    let schema = PgSchema::create(&database_url).await;
    let dir = tempfile::tempdir().unwrap();
    let proxied = through(&schema.url, proxy.addr);
    let figment = instances::figment(dir.path(), &[("database_url", &proxied)]);
    let clock = ManualClock::starting_now();
    let client = instances::client(figment, &clock).await;
    let cookie = sign_up(&client, "pat@example.com").await;
    assert_eq!(profile_status(&client, &cookie).await, Status::Ok);

    proxy.set(Mode::Refuse);
    // Past the user cache's check interval, so the next page view must ask the database.
    clock.advance(latchkey::users::CACHE_CHECK_INTERVAL + time::Duration::seconds(1));
    assert_unavailable(&client, &cookie).await;
    proxy.set(Mode::Hang);
    assert_unavailable(&client, &cookie).await;
    proxy.set(Mode::Up);

    assert_recovers(&client, &cookie).await;
    drop(client);
    schema.drop_now().await;
}
