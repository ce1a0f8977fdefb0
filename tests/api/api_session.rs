//! `/api/v1/auth_session/login` and `/logout`, the session variants (`session_auth`,
//! `session_exp_auth` with the manual clock), and the session the HTML pages share with
//! the API.

use crate::support::api::*;
use rocket::http::{ContentType, Cookie, Header, Status};
use serde_json::{json, Value};
use time::Duration;

const LOGIN: &str = "/api/v1/auth_session/login";

async fn bob_app(auth_type: &'static str) -> ApiApp {
    app(auth_type).user(BOB, BOB_PASSWORD).spawn().await
}

async fn post_login(app: &ApiApp, content_type: ContentType, body: &str) -> (Status, Value) {
    let response = app
        .client
        .post(LOGIN)
        .header(content_type)
        .body(body)
        .dispatch()
        .await;
    json_body(response).await
}

/// Logs in through the HTML form (/login with its CSRF cookie and token) and returns
/// the session cookie.
async fn html_login(app: &ApiApp, email: &str, password: &str) -> Cookie<'static> {
    let page = app.client.get("/login").dispatch().await;
    let csrf_cookie = page
        .cookies()
        .get(latchkey::web::csrf::ANON_COOKIE)
        .map(|c| Cookie::new(latchkey::web::csrf::ANON_COOKIE, c.value().to_owned()))
        .expect("the login page sets the CSRF cookie");
    let html = page.into_string().await.unwrap_or_default();
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("CSRF field") + marker.len();
    let token = &html[start..start + html[start..].find('"').expect("closing quote")];

    let response = app
        .client
        .post("/login")
        .header(ContentType::Form)
        .cookie(csrf_cookie)
        .body(form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", token),
        ]))
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::SeeOther, "HTML login");
    session_cookie(&response).expect("HTML login sets the session cookie")
}

// Login: success

#[rocket::async_test]
async fn login_with_a_urlencoded_form_answers_200_with_the_user_json() {
    let app = bob_app("session_auth").await;

    let response = app.login_response(BOB, BOB_PASSWORD).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_user_json(&body, BOB);
    assert_eq!(body, app.users[0]);
}

#[rocket::async_test]
async fn login_sets_a_cookie_named_after_session_name() {
    let app = bob_app("session_auth").await;

    let response = app.login_response(BOB, BOB_PASSWORD).await;

    assert!(session_cookie(&response).is_some());
}

#[rocket::async_test]
async fn login_cookie_gives_access_to_protected_paths() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["email"], BOB);
}

#[rocket::async_test]
async fn login_with_a_multipart_form_answers_200() {
    let app = bob_app("session_auth").await;

    let (status, body) = post_login(
        &app,
        multipart_type(),
        &multipart(&[("email", BOB), ("password", BOB_PASSWORD)]),
    )
    .await;

    assert_eq!(status, Status::Ok);
    assert_user_json(&body, BOB);
}

#[rocket::async_test]
async fn login_with_a_trailing_slash_answers_200() {
    let app = bob_app("session_auth").await;

    let response = app
        .client
        .post("/api/v1/auth_session/login/")
        .header(ContentType::Form)
        .body(form(&[("email", BOB), ("password", BOB_PASSWORD)]))
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
    assert!(session_cookie(&response).is_some());
}

#[rocket::async_test]
async fn login_from_a_same_origin_browser_request_answers_200() {
    let app = bob_app("session_auth").await;

    let response = app
        .client
        .post(LOGIN)
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .body(form(&[("email", BOB), ("password", BOB_PASSWORD)]))
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
}

// Login: failures, in the table's order

#[rocket::async_test]
async fn login_without_email_is_email_missing() {
    let app = bob_app("session_auth").await;

    let (status, body) = post_login(
        &app,
        ContentType::Form,
        &form(&[("password", BOB_PASSWORD)]),
    )
    .await;

    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({ "error": "email missing" }));
}

#[rocket::async_test]
async fn login_with_an_empty_email_is_email_missing() {
    let app = bob_app("session_auth").await;

    let (status, body) = post_login(
        &app,
        ContentType::Form,
        &form(&[("email", ""), ("password", BOB_PASSWORD)]),
    )
    .await;

    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({ "error": "email missing" }));
}

#[rocket::async_test]
async fn login_with_an_empty_form_is_email_missing() {
    let app = bob_app("session_auth").await;

    let (status, body) = post_login(&app, ContentType::Form, "").await;

    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({ "error": "email missing" }));
}

#[rocket::async_test]
async fn login_without_password_is_password_missing() {
    let app = bob_app("session_auth").await;

    let (status, body) = post_login(&app, ContentType::Form, &form(&[("email", BOB)])).await;

    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({ "error": "password missing" }));
}

#[rocket::async_test]
async fn login_with_an_empty_password_is_password_missing() {
    let app = bob_app("session_auth").await;

    let (status, body) = post_login(
        &app,
        ContentType::Form,
        &form(&[("email", BOB), ("password", "")]),
    )
    .await;

    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({ "error": "password missing" }));
}

#[rocket::async_test]
async fn login_with_a_multipart_form_without_password_is_password_missing() {
    let app = bob_app("session_auth").await;

    let (status, body) = post_login(&app, multipart_type(), &multipart(&[("email", BOB)])).await;

    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({ "error": "password missing" }));
}

#[rocket::async_test]
async fn login_with_an_unknown_email_is_404_no_user_found() {
    let app = bob_app("session_auth").await;

    let response = app.login_response("nobody@hbtn.io", BOB_PASSWORD).await;

    assert_json_error(response, Status::NotFound, "no user found for this email").await;
}

#[rocket::async_test]
async fn login_with_a_wrong_password_is_401_wrong_password() {
    let app = bob_app("session_auth").await;

    let response = app.login_response(BOB, "not-bobs-password").await;

    assert_json_error(response, Status::Unauthorized, "wrong password").await;
}

#[rocket::async_test]
async fn failed_login_sets_no_session_cookie() {
    let app = bob_app("session_auth").await;

    let response = app.login_response(BOB, "not-bobs-password").await;

    assert!(session_cookie(&response).is_none());
}

#[rocket::async_test]
async fn login_with_a_json_body_counts_as_missing_fields() {
    let app = bob_app("session_auth").await;

    let (status, body) = post_login(
        &app,
        ContentType::JSON,
        &json!({ "email": BOB, "password": BOB_PASSWORD }).to_string(),
    )
    .await;

    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({ "error": "email missing" }));
}

#[rocket::async_test]
async fn login_with_query_parameters_counts_as_missing_fields() {
    let app = bob_app("session_auth").await;
    let query = form(&[("email", BOB), ("password", BOB_PASSWORD)]);

    let response = app.client.post(format!("{LOGIN}?{query}")).dispatch().await;

    assert_json_error(response, Status::BadRequest, "email missing").await;
}

#[rocket::async_test]
async fn login_with_query_parameters_and_an_empty_form_counts_as_missing_fields() {
    let app = bob_app("session_auth").await;
    let query = form(&[("email", BOB), ("password", BOB_PASSWORD)]);

    let response = app
        .client
        .post(format!("{LOGIN}?{query}"))
        .header(ContentType::Form)
        .dispatch()
        .await;

    assert_json_error(response, Status::BadRequest, "email missing").await;
}

#[rocket::async_test]
async fn login_with_an_odd_content_type_is_a_4xx_json_error() {
    let app = bob_app("session_auth").await;

    for content_type in [ContentType::Plain, ContentType::XML, ContentType::Binary] {
        let response = app
            .client
            .post(LOGIN)
            .header(content_type.clone())
            .body(form(&[("email", BOB), ("password", BOB_PASSWORD)]))
            .dispatch()
            .await;

        let status = assert_json_client_error(response).await;
        assert!(
            status == Status::BadRequest || status == Status::UnsupportedMediaType,
            "{content_type}: {status}"
        );
    }
}

#[rocket::async_test]
async fn login_with_a_form_over_the_form_limit_is_413_json() {
    let app = bob_app("session_auth").await;
    let padding = "x".repeat(17 * 1024);
    let body = form(&[
        ("email", BOB),
        ("password", BOB_PASSWORD),
        ("pad", &padding),
    ]);

    let response = app
        .client
        .post(LOGIN)
        .header(ContentType::Form)
        .body(body)
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::PayloadTooLarge, "{body}");
    assert!(body["error"].is_string());
}

#[rocket::async_test]
async fn login_with_non_utf8_form_bytes_is_a_4xx_json_error() {
    let app = bob_app("session_auth").await;
    let mut body = b"email=".to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    body.extend_from_slice(b"&password=x");

    let response = app
        .client
        .post(LOGIN)
        .header(ContentType::Form)
        .body(body)
        .dispatch()
        .await;

    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn login_with_percent_encoded_invalid_utf8_is_a_4xx_json_error() {
    let app = bob_app("session_auth").await;

    let response = app
        .client
        .post(LOGIN)
        .header(ContentType::Form)
        .body("email=%FF%FE&password=%C3%28")
        .dispatch()
        .await;

    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn login_with_malformed_multipart_is_a_4xx_json_error() {
    let app = bob_app("session_auth").await;

    let response = app
        .client
        .post(LOGIN)
        .header(multipart_type())
        .body("this is not multipart at all")
        .dispatch()
        .await;

    assert_json_client_error(response).await;
}

#[rocket::async_test]
async fn login_from_a_cross_site_request_is_403() {
    let app = bob_app("session_auth").await;

    let response = app
        .client
        .post(LOGIN)
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .body(form(&[("email", BOB), ("password", BOB_PASSWORD)]))
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn cross_site_login_sets_no_session_cookie() {
    let app = bob_app("session_auth").await;

    let response = app
        .client
        .post(LOGIN)
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .body(form(&[("email", BOB), ("password", BOB_PASSWORD)]))
        .dispatch()
        .await;

    assert!(session_cookie(&response).is_none());
}

#[rocket::async_test]
async fn cross_site_logout_is_403_and_keeps_the_session() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app
        .client
        .delete("/api/v1/auth_session/logout")
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .cookie(cookie.clone())
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
    let me = app.get_with("/api/v1/users/me", &cookie).await;
    assert_eq!(me.status(), Status::Ok);
}

#[rocket::async_test]
async fn login_with_wrong_method_is_405_json() {
    let app = bob_app("session_auth").await;

    let response = app.client.get(LOGIN).dispatch().await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::MethodNotAllowed);
    assert!(body["error"].is_string());
}

// Uniform login errors: the default outside the course's open semantics

#[rocket::async_test]
async fn uniform_errors_answer_unknown_email_and_wrong_password_alike() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .set("course_mode", false)
        .spawn()
        .await;

    let unknown = json_body(app.login_response("nobody@hbtn.io", BOB_PASSWORD).await).await;
    let wrong = json_body(app.login_response(BOB, "not-bobs-password").await).await;

    assert_eq!(unknown.0, Status::Unauthorized);
    assert_eq!(unknown, wrong);
}

#[rocket::async_test]
async fn uniform_errors_still_let_the_right_password_in() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .set("course_mode", false)
        .spawn()
        .await;

    let response = app.login_response(BOB, BOB_PASSWORD).await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn uniform_errors_keep_email_missing() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .set("course_mode", false)
        .spawn()
        .await;

    let (status, body) = post_login(&app, ContentType::Form, "").await;

    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({ "error": "email missing" }));
}

// Logout

#[rocket::async_test]
async fn logout_answers_200_with_an_empty_object() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.logout(&cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({}));
}

#[rocket::async_test]
async fn logout_with_a_trailing_slash_answers_200() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app
        .client
        .delete("/api/v1/auth_session/logout/")
        .cookie(cookie)
        .dispatch()
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({}));
}

#[rocket::async_test]
async fn logout_without_a_cookie_is_401() {
    let app = bob_app("session_auth").await;

    let response = app
        .client
        .delete("/api/v1/auth_session/logout")
        .dispatch()
        .await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

#[rocket::async_test]
async fn logout_with_a_forged_cookie_is_403() {
    let app = bob_app("session_auth").await;

    let response = app.logout(&forged_cookie()).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn after_logout_the_same_cookie_is_403_on_me() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    assert_eq!(app.logout(&cookie).await.status(), Status::Ok);

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn a_second_logout_with_the_same_cookie_is_403() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    assert_eq!(app.logout(&cookie).await.status(), Status::Ok);

    let response = app.logout(&cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn logout_tells_the_client_to_drop_the_cookie() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.logout(&cookie).await;

    let removal = response
        .cookies()
        .get(SESSION_NAME)
        .expect("a removal cookie");
    assert_eq!(removal.value(), "");
}

/// Does the response tell the client to drop its session cookie?
fn drops_the_session_cookie(response: &rocket::local::asynchronous::LocalResponse<'_>) -> bool {
    response
        .cookies()
        .get(SESSION_NAME)
        .is_some_and(|cookie| cookie.value().is_empty() && cookie.max_age() == Some(Duration::ZERO))
}

#[rocket::async_test]
async fn a_dead_cookies_403_tells_the_client_to_drop_it() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    assert_eq!(app.logout(&cookie).await.status(), Status::Ok);

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_eq!(response.status(), Status::Forbidden);
    assert!(drops_the_session_cookie(&response));
}

#[rocket::async_test]
async fn a_forged_cookies_403_tells_the_client_to_drop_it() {
    let app = bob_app("session_auth").await;

    let response = app.get_with("/api/v1/users/me", &forged_cookie()).await;

    assert_eq!(response.status(), Status::Forbidden);
    assert!(drops_the_session_cookie(&response));
}

#[rocket::async_test]
async fn a_live_cookies_error_keeps_the_cookie() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    // An id no user has: not found, but the session that asked is alive.
    let nobody = "/api/v1/users/00000000-0000-4000-8000-000000000000";
    let response = app.get_with(nobody, &cookie).await;

    assert_eq!(response.status(), Status::NotFound);
    assert!(response.cookies().get(SESSION_NAME).is_none());
}

#[rocket::async_test]
async fn logout_ends_only_that_session() {
    let app = bob_app("session_auth").await;
    let first = app.login(BOB, BOB_PASSWORD).await;
    let second = app.login(BOB, BOB_PASSWORD).await;
    assert_eq!(app.logout(&first).await.status(), Status::Ok);

    let response = app.get_with("/api/v1/users/me", &second).await;

    assert_eq!(response.status(), Status::Ok);
}

// session_auth

#[rocket::async_test]
async fn session_auth_two_logins_give_two_valid_sessions() {
    let app = bob_app("session_auth").await;

    let first = app.login(BOB, BOB_PASSWORD).await;
    let second = app.login(BOB, BOB_PASSWORD).await;

    assert_ne!(first.value(), second.value());
    assert_eq!(
        app.get_with("/api/v1/users/me", &first).await.status(),
        Status::Ok
    );
    assert_eq!(
        app.get_with("/api/v1/users/me", &second).await.status(),
        Status::Ok
    );
}

#[rocket::async_test]
async fn session_auth_ignores_session_duration() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .set("session_duration", 60)
        .spawn()
        .await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(61));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_eq!(response.status(), Status::Ok);
}

// session_exp_auth

async fn exp_app(session_duration: Option<Value>) -> ApiApp {
    let mut builder = app("session_exp_auth")
        .user(BOB, BOB_PASSWORD)
        .set("session_absolute_timeout", 120)
        .set("session_idle_timeout", 120);
    if let Some(duration) = session_duration {
        builder = builder.set("session_duration", duration);
    }
    builder.spawn().await
}

#[rocket::async_test]
async fn session_exp_auth_session_is_valid_59_seconds_after_login() {
    let app = exp_app(Some(json!(60))).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(59));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn session_exp_auth_session_is_refused_61_seconds_after_login() {
    let app = exp_app(Some(json!(60))).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(61));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn session_exp_auth_counts_from_login_not_from_last_use() {
    let app = exp_app(Some(json!(60))).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(59));
    assert_eq!(
        app.get_with("/api/v1/users/me", &cookie).await.status(),
        Status::Ok
    );
    app.clock.advance(Duration::seconds(2));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn session_exp_auth_expired_session_cannot_log_out() {
    let app = exp_app(Some(json!(60))).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(61));

    let response = app.logout(&cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn session_exp_auth_a_new_login_after_expiry_works() {
    let app = exp_app(Some(json!(60))).await;
    let _expired = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(61));

    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/users/me", &cookie).await;
    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn session_exp_auth_without_duration_outlives_a_minute() {
    let app = exp_app(None).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(100));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn session_exp_auth_without_duration_still_ends_at_the_absolute_timeout() {
    let app = exp_app(None).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(121));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn session_exp_auth_with_zero_duration_outlives_a_minute() {
    let app = exp_app(Some(json!(0))).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(100));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn session_exp_auth_with_zero_duration_still_ends_at_the_absolute_timeout() {
    let app = exp_app(Some(json!(0))).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(121));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn session_exp_auth_with_a_non_numeric_duration_uses_the_absolute_timeout() {
    let app = exp_app(Some(json!("abc"))).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(100));
    assert_eq!(
        app.get_with("/api/v1/users/me", &cookie).await.status(),
        Status::Ok
    );
    app.clock.advance(Duration::seconds(21));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn session_exp_auth_with_a_numeric_string_duration_expires_it() {
    let app = exp_app(Some(json!("60"))).await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    app.clock.advance(Duration::seconds(61));

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

// One session for pages and API

#[rocket::async_test]
async fn html_login_cookie_works_on_the_api() {
    let app = bob_app("session_auth").await;
    let cookie = html_login(&app, BOB, BOB_PASSWORD).await;

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["email"], BOB);
}

#[rocket::async_test]
async fn api_login_cookie_works_on_the_profile_page() {
    let app = bob_app("session_auth").await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let response = app.get_with("/profile", &cookie).await;

    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
}

#[rocket::async_test]
async fn api_logout_logs_the_pages_out() {
    let app = bob_app("session_auth").await;
    let cookie = html_login(&app, BOB, BOB_PASSWORD).await;
    assert_eq!(app.logout(&cookie).await.status(), Status::Ok);

    let response = app.get_with("/profile", &cookie).await;

    assert_eq!(response.status(), Status::SeeOther);
    let location = response.headers().get_one("Location").unwrap_or_default();
    assert!(location.starts_with("/login"), "Location: {location}");
}
