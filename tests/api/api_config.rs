//! How the course's settings reach Latchkey without touching the environment:
//! `SESSION_DURATION`'s lenient parsing, which auth types can start, and the cookie name.

use crate::support::api::*;
use latchkey::config::{AuthType, Settings};
use rocket::error::ErrorKind;
use rocket::figment::providers::Serialized;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

/// Rocket panics when a launch error is dropped unread, so the kind is checked here.
fn assert_fails_on_ignite(started: Result<Client, rocket::Error>) {
    match started {
        Ok(_) => panic!("the app started"),
        Err(error) => assert!(
            matches!(error.kind(), ErrorKind::FailedFairings(_)),
            "{error}"
        ),
    }
}

fn session_duration_from(value: Value) -> Option<i64> {
    let settings: Settings = latchkey::config::figment()
        .merge(Serialized::global("session_duration", value))
        .extract()
        .expect("settings extract");
    settings.session_duration
}

#[test]
fn session_duration_that_is_not_a_number_means_none() {
    assert_eq!(session_duration_from(json!("abc")), None);
}

#[test]
fn session_duration_of_zero_means_none() {
    assert_eq!(session_duration_from(json!("0")), None);
}

#[test]
fn negative_session_duration_means_none() {
    assert_eq!(session_duration_from(json!("-5")), None);
}

#[test]
fn empty_session_duration_means_none() {
    assert_eq!(session_duration_from(json!("")), None);
}

#[test]
fn fractional_session_duration_means_none() {
    assert_eq!(session_duration_from(json!("1.5")), None);
}

#[test]
fn session_duration_as_text_is_read_as_seconds() {
    assert_eq!(session_duration_from(json!("60")), Some(60));
}

#[test]
fn session_duration_as_a_number_is_read_as_seconds() {
    assert_eq!(session_duration_from(json!(60)), Some(60));
}

#[test]
fn session_duration_as_a_negative_number_means_none() {
    assert_eq!(session_duration_from(json!(-5)), None);
}

#[test]
fn session_duration_of_another_type_means_none() {
    assert_eq!(session_duration_from(json!([60])), None);
}

#[test]
fn auth_type_names_are_the_course_names() {
    for (name, expected) in [
        ("basic_auth", AuthType::BasicAuth),
        ("session_auth", AuthType::SessionAuth),
        ("session_exp_auth", AuthType::SessionExpAuth),
        ("session_db_auth", AuthType::SessionDbAuth),
        ("none", AuthType::None),
        ("", AuthType::None),
    ] {
        let settings: Settings = latchkey::config::figment()
            .merge(Serialized::global("auth_type", name))
            .extract()
            .expect("settings extract");

        assert_eq!(settings.auth_type, expected, "auth_type = {name:?}");
    }
}

#[rocket::async_test]
async fn session_db_auth_with_the_memory_store_does_not_start() {
    let (rocket, _dir) = app("session_db_auth")
        .set("session_store", "memory")
        .rocket();

    let started = Client::untracked(rocket).await;

    assert_fails_on_ignite(started);
}

#[rocket::async_test]
async fn session_db_auth_without_a_store_setting_keeps_sessions_in_sqlite() {
    let app = app("session_db_auth").user(BOB, BOB_PASSWORD).spawn().await;

    let cookie = app.login(BOB, BOB_PASSWORD).await;

    assert!(
        app.dir.path().join("sessions.db").exists(),
        "the session database was created"
    );
    let me = app.get_with("/api/v1/users/me", &cookie).await;
    assert_eq!(me.status(), Status::Ok);
}

#[rocket::async_test]
async fn an_unknown_auth_type_does_not_start() {
    let (rocket, _dir) = app("kerberos_auth").rocket();

    let started = Client::untracked(rocket).await;

    assert_fails_on_ignite(started);
}

#[rocket::async_test]
async fn each_supported_auth_type_starts() {
    for auth_type in ["none", "basic_auth", "session_auth", "session_exp_auth"] {
        let (rocket, _dir) = app(auth_type).rocket();

        let started = Client::untracked(rocket).await;

        assert!(started.is_ok(), "auth_type = {auth_type}");
    }
}

#[rocket::async_test]
async fn login_cookie_is_named_after_a_custom_session_name() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .set("session_name", "course_sid")
        .spawn()
        .await;

    let response = app.login_response(BOB, BOB_PASSWORD).await;

    assert_eq!(response.status(), Status::Ok);
    assert!(response.cookies().get("course_sid").is_some());
    assert!(response.cookies().get(SESSION_NAME).is_none());
}
