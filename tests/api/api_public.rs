//! The always-public paths, `/stats`, and the authentication rule that runs before
//! routing (401 without credentials, 403 with dead ones, then 404 for unknown paths),
//! under `session_auth`.

use crate::support::api::*;
use rocket::http::{Cookie, Header, Status};
use serde_json::json;

async fn session_app() -> ApiApp {
    app("session_auth").user(BOB, BOB_PASSWORD).spawn().await
}

#[rocket::async_test]
async fn status_answers_ok_without_credentials() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/status").dispatch().await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({ "status": "OK" }));
}

#[rocket::async_test]
async fn status_with_trailing_slash_answers_ok_without_credentials() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/status/").dispatch().await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({ "status": "OK" }));
}

#[rocket::async_test]
async fn status_stays_public_with_a_dead_session_cookie() {
    let app = app("session_auth").spawn().await;

    let response = app.get_with("/api/v1/status", &forged_cookie()).await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn unauthorized_answers_401_json() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/unauthorized").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn unauthorized_with_trailing_slash_answers_401_json() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/unauthorized/").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn forbidden_answers_403_json() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/forbidden").dispatch().await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn forbidden_with_trailing_slash_answers_403_json() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/forbidden/").dispatch().await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn stats_without_credentials_is_401() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/stats").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn stats_counts_users_for_a_logged_in_caller() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .user(ALICE, ALICE_PASSWORD)
        .spawn()
        .await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/stats", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({ "users": 2 }));
}

#[rocket::async_test]
async fn stats_with_trailing_slash_counts_users() {
    let app = session_app().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/stats/", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({ "users": 1 }));
}

#[rocket::async_test]
async fn a_path_that_only_starts_like_status_is_not_public() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/statusXYZ").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn status_with_two_trailing_slashes_is_not_public() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/status//").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

// The rule runs before routing: credentials first, 404 only for a known caller.

#[rocket::async_test]
async fn unknown_path_without_credentials_is_401() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/nope").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn unknown_path_with_a_forged_cookie_is_403() {
    let app = app("session_auth").spawn().await;

    let response = app.get_with("/api/v1/nope", &forged_cookie()).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn unknown_path_with_a_garbage_authorization_header_is_403() {
    let app = app("session_auth").spawn().await;

    let response = app
        .client
        .get("/api/v1/nope")
        .header(Header::new("Authorization", "Bearer not-a-token"))
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn unknown_path_for_a_logged_in_caller_is_404() {
    let app = session_app().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/nope", &cookie).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn unknown_nested_path_for_a_logged_in_caller_is_404() {
    let app = session_app().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/users/me/friends", &cookie).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn unknown_path_with_another_method_for_a_logged_in_caller_is_404() {
    let app = session_app().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app
        .client
        .post("/api/v1/nope")
        .cookie(cookie)
        .dispatch()
        .await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn protected_path_without_credentials_is_401() {
    let app = app("session_auth").spawn().await;

    let response = app.client.get("/api/v1/users").dispatch().await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn protected_path_with_a_forged_cookie_is_403() {
    let app = app("session_auth").spawn().await;

    let response = app.get_with("/api/v1/users", &forged_cookie()).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn protected_path_with_an_empty_session_cookie_is_403() {
    let app = app("session_auth").spawn().await;

    let response = app
        .client
        .get("/api/v1/users")
        .cookie(Cookie::new(SESSION_NAME, ""))
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn protected_path_with_a_basic_header_under_session_auth_is_403() {
    let app = session_app().await;

    let response = app
        .client
        .get("/api/v1/users")
        .header(basic_header(BOB, BOB_PASSWORD))
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn protected_path_with_an_authorization_header_of_any_scheme_is_403() {
    let app = app("session_auth").spawn().await;

    for value in [
        "Bearer abc",
        "Digest x=1",
        "Token",
        "",
        "Basic",
        "garbage garbage",
    ] {
        let response = app
            .client
            .get("/api/v1/users/me")
            .header(Header::new("Authorization", value))
            .dispatch()
            .await;

        assert_eq!(
            response.status(),
            Status::Forbidden,
            "Authorization: {value:?}"
        );
    }
}

#[rocket::async_test]
async fn protected_path_with_only_another_cookie_is_401() {
    let app = app("session_auth").spawn().await;

    let response = app
        .client
        .get("/api/v1/users")
        .cookie(Cookie::new("some_other_cookie", "value"))
        .dispatch()
        .await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn protected_path_with_a_valid_session_runs() {
    let app = session_app().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_user_json(&body, BOB);
}

#[rocket::async_test]
async fn a_valid_cookie_with_a_garbage_authorization_header_still_runs() {
    let app = session_app().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app
        .client
        .get("/api/v1/users/me")
        .header(Header::new("Authorization", "Bearer not-a-token"))
        .cookie(cookie)
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn after_logout_an_unknown_path_is_403_not_404() {
    let app = session_app().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    assert_eq!(app.logout(&cookie).await.status(), Status::Ok);

    let response = app.get_with("/api/v1/nope", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}
