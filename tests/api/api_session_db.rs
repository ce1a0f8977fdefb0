//! `AUTH_TYPE=session_db_auth` held at the API level, as the course's `SessionDBAuth`
//! behaves: a session survives a restart (a second app on the same data directory),
//! ends `SESSION_DURATION` seconds after login, and logging out deletes its record.

use std::path::Path;
use std::sync::Arc;

use latchkey::clock::ManualClock;
use latchkey::sessions::SqliteSessionStore;
use rocket::figment::providers::Serialized;
use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::Client;

const EMAIL: &str = "bob@hbtn.io";
const PASSWORD: &str = "H0lbertonSchool98!";
const SESSION_NAME: &str = "_my_session_id";
const SECRET_KEY: &str =
    "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg==";

fn figment(dir: &Path, auth_type: &str) -> Figment {
    let mut figment = latchkey::config::figment();
    for (key, value) in [
        ("data_dir", serde_json::json!(dir)),
        ("database_url", serde_json::json!("")),
        ("secret_key", serde_json::json!(SECRET_KEY)),
        ("log_level", serde_json::json!("off")),
        ("session_name", serde_json::json!(SESSION_NAME)),
        ("auth_type", serde_json::json!(auth_type)),
        ("session_duration", serde_json::json!(60)),
    ] {
        figment = figment.merge(Serialized::global(key, value));
    }
    figment
}

async fn start(dir: &Path, auth_type: &str, clock: &ManualClock) -> Client {
    let rocket = latchkey::build(figment(dir, auth_type), Arc::new(clock.clone()));
    Client::untracked(rocket).await.expect("the app starts")
}

/// A data directory with Bob's account, made by an instance without API authentication.
async fn directory_with_bob(clock: &ManualClock) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let seeder = start(dir.path(), "none", clock).await;
    let created = seeder
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .body(format!(
            r#"{{"email": "{EMAIL}", "password": "{PASSWORD}"}}"#
        ))
        .dispatch()
        .await;
    assert_eq!(created.status(), Status::Created);
    dir
}

async fn login(client: &Client) -> Cookie<'static> {
    let response = client
        .post("/api/v1/auth_session/login")
        .header(ContentType::Form)
        .body(format!("email=bob%40hbtn.io&password={PASSWORD}"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    response
        .cookies()
        .get(SESSION_NAME)
        .expect("a session cookie")
        .clone()
        .into_owned()
}

async fn me(client: &Client, cookie: &Cookie<'static>) -> Status {
    client
        .get("/api/v1/users/me")
        .cookie(cookie.clone())
        .dispatch()
        .await
        .status()
}

async fn stored_sessions(dir: &Path) -> i64 {
    let store = SqliteSessionStore::open(&dir.join("sessions.db"))
        .await
        .unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[rocket::async_test]
async fn a_session_survives_a_restart() {
    let clock = ManualClock::starting_now();
    let dir = directory_with_bob(&clock).await;
    let first = start(dir.path(), "session_db_auth", &clock).await;
    let cookie = login(&first).await;
    drop(first);

    let second = start(dir.path(), "session_db_auth", &clock).await;

    assert_eq!(me(&second, &cookie).await, Status::Ok);
}

#[rocket::async_test]
async fn a_session_ends_session_duration_seconds_after_login_even_across_a_restart() {
    let clock = ManualClock::starting_now();
    let dir = directory_with_bob(&clock).await;
    let first = start(dir.path(), "session_db_auth", &clock).await;
    let cookie = login(&first).await;
    clock.advance(time::Duration::seconds(59));
    assert_eq!(me(&first, &cookie).await, Status::Ok);
    drop(first);
    let second = start(dir.path(), "session_db_auth", &clock).await;

    clock.advance(time::Duration::seconds(1));

    assert_eq!(me(&second, &cookie).await, Status::Forbidden);
}

#[rocket::async_test]
async fn logout_deletes_the_stored_record() {
    let clock = ManualClock::starting_now();
    let dir = directory_with_bob(&clock).await;
    let client = start(dir.path(), "session_db_auth", &clock).await;
    let cookie = login(&client).await;
    assert_eq!(stored_sessions(dir.path()).await, 1);

    let status = client
        .delete("/api/v1/auth_session/logout")
        .cookie(cookie.clone())
        .dispatch()
        .await
        .status();

    assert_eq!(status, Status::Ok);
    assert_eq!(stored_sessions(dir.path()).await, 0);
    drop(client);
    let restarted = start(dir.path(), "session_db_auth", &clock).await;
    assert_eq!(me(&restarted, &cookie).await, Status::Forbidden);
}
