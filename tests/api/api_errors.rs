//! The error format split (JSON `{"error": ...}` under `/api`, HTML pages elsewhere) and
//! that bad input never produces a 5xx.

use crate::support::api::*;
use rocket::http::{ContentType, Cookie, Header, Method, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::json;

async fn logged_in() -> (ApiApp, Cookie<'static>) {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    (app, cookie)
}

async fn request<'a>(
    app: &'a ApiApp,
    method: Method,
    path: &str,
    cookie: Option<&Cookie<'static>>,
) -> LocalResponse<'a> {
    let mut request = app.client.req(method, path.to_owned());
    if let Some(cookie) = cookie {
        request = request.cookie(cookie.clone());
    }
    request.dispatch().await
}

// Wrong methods: 405 JSON under /api

#[rocket::async_test]
async fn patch_on_status_is_405_json() {
    let app = app("session_auth").spawn().await;

    let response = request(&app, Method::Patch, "/api/v1/status", None).await;

    assert_json_error(response, Status::MethodNotAllowed, "Method not allowed").await;
}

#[rocket::async_test]
async fn post_on_status_is_405_json() {
    let app = app("session_auth").spawn().await;

    let response = request(&app, Method::Post, "/api/v1/status", None).await;

    assert_json_error(response, Status::MethodNotAllowed, "Method not allowed").await;
}

#[rocket::async_test]
async fn delete_on_status_with_trailing_slash_is_405_json() {
    let app = app("session_auth").spawn().await;

    let response = request(&app, Method::Delete, "/api/v1/status/", None).await;

    assert_json_error(response, Status::MethodNotAllowed, "Method not allowed").await;
}

#[rocket::async_test]
async fn wrong_method_on_a_protected_path_without_credentials_is_401() {
    let app = app("session_auth").spawn().await;

    let response = request(&app, Method::Patch, "/api/v1/users", None).await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn wrong_method_on_a_protected_path_for_a_logged_in_caller_is_405_json() {
    let (app, cookie) = logged_in().await;

    let response = request(&app, Method::Patch, "/api/v1/users", Some(&cookie)).await;

    assert_json_error(response, Status::MethodNotAllowed, "Method not allowed").await;
}

#[rocket::async_test]
async fn wrong_method_on_a_user_for_a_logged_in_caller_is_405_json() {
    let (app, cookie) = logged_in().await;
    let path = format!("/api/v1/users/{}", app.user_id(0));

    let response = request(&app, Method::Post, &path, Some(&cookie)).await;

    assert_json_error(response, Status::MethodNotAllowed, "Method not allowed").await;
}

#[rocket::async_test]
async fn get_on_logout_for_a_logged_in_caller_is_405_json() {
    let (app, cookie) = logged_in().await;

    let response = request(
        &app,
        Method::Get,
        "/api/v1/auth_session/logout",
        Some(&cookie),
    )
    .await;

    assert_json_error(response, Status::MethodNotAllowed, "Method not allowed").await;
}

// Every /api error is JSON

#[rocket::async_test]
async fn unknown_path_under_api_outside_v1_is_404_json() {
    let app = app("session_auth").spawn().await;

    let response = request(&app, Method::Get, "/api/v2/status", None).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn api_root_is_404_json() {
    let app = app("session_auth").spawn().await;

    let response = request(&app, Method::Get, "/api", None).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn a_400_under_api_is_json() {
    let (app, cookie) = logged_in().await;

    let response = app
        .client
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .cookie(cookie)
        .body("{")
        .dispatch()
        .await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn a_malformed_percent_escape_in_the_login_form_is_a_4xx_json_error() {
    // No API path answers 422 today (login fields are optional strings, and Rocket
    // decodes bad escapes leniently); whatever it answers must be a JSON client error.
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;

    let response = app
        .client
        .post("/api/v1/auth_session/login")
        .header(ContentType::Form)
        .body("email=a%ZZ&password=x")
        .dispatch()
        .await;

    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn odd_content_type_on_create_user_is_a_4xx_json_error() {
    let (app, cookie) = logged_in().await;

    for content_type in [ContentType::Form, ContentType::XML, ContentType::Plain] {
        let response = app
            .client
            .post("/api/v1/users")
            .header(content_type)
            .cookie(cookie.clone())
            .body(form(&[
                ("email", "carol@hbtn.io"),
                ("password", "c4rolPassword-2024"),
            ]))
            .dispatch()
            .await;

        assert_json_client_error(response).await;
    }
}

#[rocket::async_test]
async fn multipart_on_create_user_is_a_4xx_json_error() {
    let (app, cookie) = logged_in().await;

    let response = app
        .client
        .post("/api/v1/users")
        .header(multipart_type())
        .cookie(cookie)
        .body(multipart(&[
            ("email", "carol@hbtn.io"),
            ("password", "c4rolPassword-2024"),
        ]))
        .dispatch()
        .await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

// Outside /api errors stay HTML

#[rocket::async_test]
async fn unknown_page_is_a_404_html_page() {
    let app = app("session_auth").spawn().await;

    let response = request(&app, Method::Get, "/nope", None).await;

    assert_eq!(response.status(), Status::NotFound);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
}

#[rocket::async_test]
async fn a_path_that_only_starts_with_api_is_an_html_404() {
    let app = app("session_auth").spawn().await;

    let response = request(&app, Method::Get, "/apiary", None).await;

    assert_eq!(response.status(), Status::NotFound);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
}

// Bad input never 5xx

#[rocket::async_test]
async fn a_very_long_api_path_is_not_a_server_error() {
    let (app, cookie) = logged_in().await;
    let path = format!("/api/v1/{}", "segment/".repeat(2_000));

    let response = request(&app, Method::Get, &path, Some(&cookie)).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn a_very_long_api_path_without_credentials_is_401() {
    let app = app("session_auth").spawn().await;
    let path = format!("/api/v1/{}", "a".repeat(20_000));

    let response = request(&app, Method::Get, &path, None).await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn percent_encoded_junk_in_a_user_id_is_404() {
    let (app, cookie) = logged_in().await;

    for id in ["%FF%FE", "..%2F..%2Fetc%2Fpasswd", "%00", "me%20", "ME"] {
        let path = format!("/api/v1/users/{id}");

        let response = request(&app, Method::Get, &path, Some(&cookie)).await;

        assert_json_error(response, Status::NotFound, "Not found").await;
    }
}

#[rocket::async_test]
async fn a_huge_body_on_login_is_not_a_server_error() {
    let app = app("session_auth").spawn().await;
    let body = vec![b'a'; 2 * 1024 * 1024];

    let response = app
        .client
        .post("/api/v1/auth_session/login")
        .header(ContentType::Form)
        .body(body)
        .dispatch()
        .await;

    let (status, _) = json_body(response).await;
    assert_eq!(status, Status::PayloadTooLarge);
}

#[rocket::async_test]
async fn a_huge_body_on_create_user_is_413_json() {
    let (app, cookie) = logged_in().await;
    let body = vec![b' '; 2 * 1024 * 1024];

    let response = app
        .client
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .cookie(cookie)
        .body(body)
        .dispatch()
        .await;

    assert_json_error(response, Status::PayloadTooLarge, "Request body too large").await;
}

#[rocket::async_test]
async fn non_utf8_bytes_on_update_are_wrong_format() {
    let (app, cookie) = logged_in().await;
    let path = format!("/api/v1/users/{}", app.user_id(0));

    let response = app
        .client
        .put(path)
        .header(ContentType::JSON)
        .cookie(cookie)
        .body([0xc3, 0x28, 0xa0, 0xa1])
        .dispatch()
        .await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn deeply_nested_json_is_not_a_server_error() {
    let (app, cookie) = logged_in().await;
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));

    let response = app
        .client
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .cookie(cookie)
        .body(body)
        .dispatch()
        .await;

    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn wrong_json_types_on_create_are_a_4xx_json_error() {
    let (app, cookie) = logged_in().await;

    let response = app
        .create_user(
            &cookie,
            &json!({ "email": 42, "password": ["c4rolPassword-2024"], "first_name": {} }),
        )
        .await;

    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn wrong_json_types_on_update_are_wrong_format() {
    let (app, cookie) = logged_in().await;
    let path = format!("/api/v1/users/{}", app.user_id(0));

    let response = app
        .client
        .put(path)
        .header(ContentType::JSON)
        .cookie(cookie)
        .body(r#"{"first_name": 42}"#)
        .dispatch()
        .await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn a_too_long_name_on_update_is_a_4xx_json_error() {
    let (app, cookie) = logged_in().await;
    let path = format!("/api/v1/users/{}", app.user_id(0));

    let response = app
        .client
        .put(path)
        .header(ContentType::JSON)
        .cookie(cookie)
        .body(json!({ "first_name": "n".repeat(500) }).to_string())
        .dispatch()
        .await;

    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn a_huge_authorization_header_is_not_a_server_error() {
    let app = app("basic_auth").spawn().await;
    let value = format!("Basic {}", "QUFB".repeat(50_000));

    let response = app
        .client
        .get("/api/v1/users/me")
        .header(Header::new("Authorization", value))
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn a_cross_site_post_to_create_user_is_403() {
    let (app, cookie) = logged_in().await;

    let response = app
        .client
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .cookie(cookie)
        .body(json!({ "email": "carol@hbtn.io", "password": "c4rolPassword-2024" }).to_string())
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn a_cross_site_get_still_reads() {
    let (app, cookie) = logged_in().await;

    let response = app
        .client
        .get("/api/v1/users/me")
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .cookie(cookie)
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
}
