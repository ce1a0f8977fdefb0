//! `auth_type = none` (the course's `AUTH_TYPE` unset): the API asks for no credentials,
//! and `/users/me` answers 404 because there is no current user.

use crate::support::api::*;
use rocket::http::{ContentType, Status};
use serde_json::json;

#[rocket::async_test]
async fn users_can_be_listed_without_credentials() {
    let app = app("none").user(BOB, BOB_PASSWORD).spawn().await;

    let response = app.client.get("/api/v1/users").dispatch().await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!([app.users[0].clone()]));
}

#[rocket::async_test]
async fn users_can_be_created_without_credentials() {
    let app = app("none").spawn().await;

    let response = app
        .client
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .body(json!({ "email": BOB, "password": BOB_PASSWORD }).to_string())
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Created);
    assert_user_json(&body, BOB);
}

#[rocket::async_test]
async fn stats_need_no_credentials() {
    let app = app("none").user(BOB, BOB_PASSWORD).spawn().await;

    let response = app.client.get("/api/v1/stats").dispatch().await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({ "users": 1 }));
}

#[rocket::async_test]
async fn me_is_404() {
    let app = app("none").user(BOB, BOB_PASSWORD).spawn().await;

    let response = app.client.get("/api/v1/users/me").dispatch().await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn me_is_404_even_with_a_session_cookie() {
    let app = app("none").user(BOB, BOB_PASSWORD).spawn().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn garbage_credentials_are_ignored() {
    let app = app("none").spawn().await;

    let response = app
        .client
        .get("/api/v1/users")
        .header(rocket::http::Header::new(
            "Authorization",
            "Bearer nonsense",
        ))
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn unknown_path_without_credentials_is_404() {
    let app = app("none").spawn().await;

    let response = app.client.get("/api/v1/nope").dispatch().await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn users_can_be_deleted_without_credentials() {
    let app = app("none").user(BOB, BOB_PASSWORD).spawn().await;
    let bob = app.user_id(0);

    let response = app
        .client
        .delete(format!("/api/v1/users/{bob}"))
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({}));
}

#[rocket::async_test]
async fn session_login_still_works() {
    let app = app("none").user(BOB, BOB_PASSWORD).spawn().await;

    let response = app.login_response(BOB, BOB_PASSWORD).await;

    assert_eq!(response.status(), Status::Ok);
    assert!(session_cookie(&response).is_some());
}
