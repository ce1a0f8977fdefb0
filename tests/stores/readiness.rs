//! `/health` is liveness (no I/O); `/ready` checks the user database and the session
//! store and names the one that is down.

use crate::support::stores;

use std::time::{Duration, Instant};

use latchkey::clock::ManualClock;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::support::instances::{self, ProxiedRedisApp};
use crate::support::proxy::{through, upstream_of, Mode, Proxy};
use crate::support::stores::PgSchema;

async fn get(client: &Client, path: &str) -> (Status, String, Duration) {
    let started = Instant::now();
    let response = client.get(path).dispatch().await;
    let status = response.status();
    let body = response.into_string().await.unwrap_or_default();
    (status, body, started.elapsed())
}

#[rocket::async_test]
async fn ready_with_sqlite_users_and_each_local_store() {
    for store in ["memory", "sqlite"] {
        let dir = tempfile::tempdir().unwrap();
        let figment = instances::figment(dir.path(), &[("session_store", store)]);
        let client = instances::client(figment, &ManualClock::starting_now()).await;

        let (status, body, _) = get(&client, "/ready").await;
        let (health, health_body, _) = get(&client, "/health").await;

        assert_eq!(status, Status::Ok, "{store}: {body}");
        assert_eq!(body.trim(), "ready");
        assert_eq!((health, health_body.as_str()), (Status::Ok, "ok"));
    }
}

#[rocket::async_test]
async fn an_unreachable_redis_is_named_by_ready_and_recovers() {
    let Some(app) = ProxiedRedisApp::start().await else {
        return;
    };
    let (client, proxy) = (&app.client, &app.proxy);
    assert_eq!(get(client, "/ready").await.0, Status::Ok);

    for mode in [Mode::Refuse, Mode::Hang] {
        proxy.set(mode);
        let (status, body, took) = get(client, "/ready").await;
        assert_eq!(status, Status::ServiceUnavailable, "{mode:?}: {body}");
        assert!(body.contains("session store (redis)"), "{body}");
        assert!(!body.contains("user database"), "{body}");
        assert!(took < Duration::from_secs(5), "{mode:?}: took {took:?}");
        assert_eq!(get(client, "/health").await.0, Status::Ok);
    }

    proxy.set(Mode::Up);
    let started = Instant::now();
    while get(client, "/ready").await.0 != Status::Ok {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never ready again"
        );
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.finish().await;
}

#[rocket::async_test]
async fn an_unreachable_postgres_is_named_by_ready() {
    let Some(database_url) = stores::database_url() else {
        return;
    };
    let proxy = Proxy::start(upstream_of(&database_url, 5432)).await;
    let schema = PgSchema::create(&database_url).await;
    let dir = tempfile::tempdir().unwrap();
    let proxied = through(&schema.url, proxy.addr);
    let figment = instances::figment(dir.path(), &[("database_url", &proxied)]);
    let client = instances::client(figment, &ManualClock::starting_now()).await;
    assert_eq!(get(&client, "/ready").await.0, Status::Ok);

    proxy.set(Mode::Refuse);
    let (status, body, took) = get(&client, "/ready").await;

    assert_eq!(status, Status::ServiceUnavailable, "{body}");
    assert!(body.contains("user database"), "{body}");
    assert!(!body.contains("session store"), "{body}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    proxy.set(Mode::Up);
    drop(client);
    schema.drop_now().await;
}
