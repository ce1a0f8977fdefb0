//! `AUTH_TYPE=basic_auth`: every request carries `Authorization: Basic base64(email:password)`;
//! there are no sessions, so login and logout answer a clear JSON error.

use crate::support::api::*;
use rocket::http::{ContentType, Header, Status};
use serde_json::json;

/// A password with colons: the header is split at the first one only.
const COLON_USER: &str = "colon@hbtn.io";
const COLON_PASSWORD: &str = "pass:word:with:three:parts";

async fn basic_app() -> ApiApp {
    app("basic_auth")
        .user(BOB, BOB_PASSWORD)
        .user(COLON_USER, COLON_PASSWORD)
        .spawn()
        .await
}

async fn me_with_authorization(app: &ApiApp, value: &str) -> Status {
    app.client
        .get("/api/v1/users/me")
        .header(Header::new("Authorization", value.to_owned()))
        .dispatch()
        .await
        .status()
}

#[rocket::async_test]
async fn valid_basic_credentials_get_me() {
    let app = basic_app().await;

    let response = app
        .basic(app.client.get("/api/v1/users/me"), BOB, BOB_PASSWORD)
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, app.users[0]);
}

#[rocket::async_test]
async fn a_password_containing_colons_works() {
    let app = basic_app().await;

    let response = app
        .basic(
            app.client.get("/api/v1/users/me"),
            COLON_USER,
            COLON_PASSWORD,
        )
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["email"], COLON_USER);
}

#[rocket::async_test]
async fn valid_basic_credentials_reach_other_protected_paths() {
    let app = basic_app().await;

    let response = app
        .basic(app.client.get("/api/v1/stats"), BOB, BOB_PASSWORD)
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({ "users": 2 }));
}

#[rocket::async_test]
async fn no_header_and_no_cookie_is_401() {
    let app = basic_app().await;

    let response = app.client.get("/api/v1/users/me").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn a_wrong_password_is_403() {
    let app = basic_app().await;

    let response = app
        .basic(app.client.get("/api/v1/users/me"), BOB, "not-bobs-password")
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn an_unknown_email_is_403() {
    let app = basic_app().await;

    let response = app
        .basic(
            app.client.get("/api/v1/users/me"),
            "nobody@hbtn.io",
            BOB_PASSWORD,
        )
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn invalid_base64_is_403() {
    let app = basic_app().await;

    let status = me_with_authorization(&app, "Basic !!!not*base64!!!").await;

    assert_eq!(status, Status::Forbidden);
}

#[rocket::async_test]
async fn base64_without_a_colon_is_403() {
    let app = basic_app().await;

    // base64("bob@hbtn.io")
    let status = me_with_authorization(&app, "Basic Ym9iQGhidG4uaW8=").await;

    assert_eq!(status, Status::Forbidden);
}

#[rocket::async_test]
async fn base64_of_non_utf8_bytes_is_403() {
    let app = basic_app().await;

    // base64([0xff, 0xfe, b':', 0xfd])
    let status = me_with_authorization(&app, "Basic //46/Q==").await;

    assert_eq!(status, Status::Forbidden);
}

#[rocket::async_test]
async fn another_scheme_is_403() {
    let app = basic_app().await;

    for value in [
        "Bearer abc.def.ghi",
        "Digest username=\"bob\"",
        "Token abc",
        "Basic",
    ] {
        let status = me_with_authorization(&app, value).await;

        assert_eq!(status, Status::Forbidden, "Authorization: {value}");
    }
}

#[rocket::async_test]
async fn a_session_cookie_alone_is_403() {
    let app = basic_app().await;

    let response = app.get_with("/api/v1/users/me", &forged_cookie()).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn unknown_path_without_credentials_is_401() {
    let app = basic_app().await;

    let response = app.client.get("/api/v1/nope").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn unknown_path_with_bad_credentials_is_403() {
    let app = basic_app().await;

    let response = app
        .basic(app.client.get("/api/v1/nope"), BOB, "not-bobs-password")
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn unknown_path_with_valid_credentials_is_404() {
    let app = basic_app().await;

    let response = app
        .basic(app.client.get("/api/v1/nope"), BOB, BOB_PASSWORD)
        .dispatch()
        .await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn status_needs_no_credentials() {
    let app = basic_app().await;

    let response = app.client.get("/api/v1/status").dispatch().await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn session_login_is_a_clear_json_client_error() {
    let app = basic_app().await;

    let response = app
        .client
        .post("/api/v1/auth_session/login")
        .header(ContentType::Form)
        .body(form(&[("email", BOB), ("password", BOB_PASSWORD)]))
        .dispatch()
        .await;

    assert!(session_cookie(&response).is_none());
    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn session_login_without_a_form_is_a_clear_json_client_error() {
    let app = basic_app().await;

    let response = app
        .client
        .post("/api/v1/auth_session/login")
        .header(ContentType::JSON)
        .body("{}")
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert!(status.code >= 400 && status.code < 500, "{status}");
    assert_ne!(
        body["error"], "email missing",
        "should say sessions are off"
    );
}

#[rocket::async_test]
async fn session_logout_with_valid_credentials_is_a_clear_json_client_error() {
    let app = basic_app().await;

    let response = app
        .basic(
            app.client.delete("/api/v1/auth_session/logout"),
            BOB,
            BOB_PASSWORD,
        )
        .dispatch()
        .await;

    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn session_logout_without_credentials_is_401() {
    let app = basic_app().await;

    let response = app
        .client
        .delete("/api/v1/auth_session/logout")
        .dispatch()
        .await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn create_user_with_valid_credentials_answers_201() {
    let app = basic_app().await;

    let response = app
        .basic(app.client.post("/api/v1/users"), BOB, BOB_PASSWORD)
        .header(ContentType::JSON)
        .body(json!({ "email": "carol@hbtn.io", "password": "c4rolPassword-2024" }).to_string())
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Created);
    assert_user_json(&body, "carol@hbtn.io");
}

#[rocket::async_test]
async fn valid_credentials_with_a_dead_session_cookie_still_run() {
    let app = basic_app().await;

    let response = app
        .basic(app.client.get("/api/v1/users/me"), BOB, BOB_PASSWORD)
        .cookie(forged_cookie())
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
}
