//! Forged requests against the API from a page on the same *site* (a sibling subdomain
//! or another port), which `SameSite=Lax` lets carry the session cookie: no method
//! override under `/api`, JSON bodies only as `application/json`, and state-changing
//! browser requests only from the same origin (`Sec-Fetch-Site`).

use crate::support::api::*;
use rocket::http::{ContentType, Cookie, Header, Status};
use serde_json::json;

/// Bob and Alice, the default rules (or the course's), Bob's session cookie.
async fn bob_logged_in(course_mode: bool) -> (ApiApp, Cookie<'static>) {
    let app = app("session_auth")
        .set("course_mode", course_mode)
        .user(BOB, BOB_PASSWORD)
        .user(ALICE, ALICE_PASSWORD)
        .spawn()
        .await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    (app, cookie)
}

fn site(value: &'static str) -> Header<'static> {
    Header::new("Sec-Fetch-Site", value)
}

async fn assert_still_logged_in(app: &ApiApp, cookie: &Cookie<'static>) {
    let response = app.get_with("/api/v1/users/me", cookie).await;
    assert_eq!(
        response.status(),
        Status::Ok,
        "Bob's session and account remain"
    );
}

// No method override

#[rocket::async_test]
async fn a_form_post_with_method_delete_does_not_delete_an_account() {
    for course_mode in [false, true] {
        let (app, cookie) = bob_logged_in(course_mode).await;

        let response = app
            .client
            .post(format!("/api/v1/users/{}", app.user_id(0)))
            .header(ContentType::Form)
            .cookie(cookie.clone())
            .body("_method=DELETE")
            .dispatch()
            .await;

        assert_json_error(response, Status::MethodNotAllowed, "Method not allowed").await;
        assert_still_logged_in(&app, &cookie).await;
    }
}

#[rocket::async_test]
async fn a_form_post_with_method_delete_does_not_log_out() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app
        .client
        .post("/api/v1/auth_session/logout")
        .header(ContentType::Form)
        .cookie(cookie.clone())
        .body("_method=delete&x=1")
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::MethodNotAllowed);
    assert_still_logged_in(&app, &cookie).await;
}

#[rocket::async_test]
async fn a_form_post_with_method_put_does_not_reach_the_update() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app
        .client
        .post(format!("/api/v1/users/{}", app.user_id(0)))
        .header(ContentType::Form)
        .cookie(cookie.clone())
        .body("_method=PUT")
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::MethodNotAllowed);
}

#[rocket::async_test]
async fn a_real_delete_still_works() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app
        .client
        .delete("/api/v1/auth_session/logout")
        .cookie(cookie.clone())
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
}

// JSON bodies only as application/json

#[rocket::async_test]
async fn creating_a_user_from_a_text_plain_body_is_wrong_format() {
    let (app, cookie) = bob_logged_in(true).await;
    let body = json!({ "email": "carol@hbtn.io", "password": "c4rolPassword-2024" }).to_string();

    for content_type in [Some(ContentType::Plain), Some(ContentType::Form), None] {
        let mut request = app
            .client
            .post("/api/v1/users")
            .cookie(cookie.clone())
            .body(&body);
        if let Some(content_type) = content_type.clone() {
            request = request.header(content_type);
        }

        let response = request.dispatch().await;

        assert_json_error(response, Status::BadRequest, "Wrong format").await;
    }
    let (_, stats) = json_body(app.get_with("/api/v1/stats", &cookie).await).await;
    assert_eq!(stats["users"], 2, "no user was created");
}

#[rocket::async_test]
async fn creating_a_user_from_json_with_a_charset_works() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app
        .client
        .post("/api/v1/users")
        .header(Header::new(
            "Content-Type",
            "application/json; charset=utf-8",
        ))
        .cookie(cookie)
        .body(json!({ "email": "carol@hbtn.io", "password": "c4rolPassword-2024" }).to_string())
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Created);
}

#[rocket::async_test]
async fn updating_from_a_text_plain_body_is_wrong_format() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app
        .client
        .put(format!("/api/v1/users/{}", app.user_id(0)))
        .header(ContentType::Plain)
        .cookie(cookie.clone())
        .body(json!({ "first_name": "Mallory" }).to_string())
        .dispatch()
        .await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
    let (_, me) = json_body(app.get_with("/api/v1/users/me", &cookie).await).await;
    assert_eq!(me["first_name"], serde_json::Value::Null);
}

// Same-origin only for state-changing browser requests

#[rocket::async_test]
async fn a_same_site_delete_is_403_and_deletes_nothing() {
    for course_mode in [false, true] {
        let (app, cookie) = bob_logged_in(course_mode).await;

        let response = app
            .client
            .delete(format!("/api/v1/users/{}", app.user_id(0)))
            .header(site("same-site"))
            .cookie(cookie.clone())
            .dispatch()
            .await;

        assert_json_error(response, Status::Forbidden, "Forbidden").await;
        assert_still_logged_in(&app, &cookie).await;
    }
}

#[rocket::async_test]
async fn a_same_site_logout_is_403_and_the_session_stays() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app
        .client
        .delete("/api/v1/auth_session/logout")
        .header(site("same-site"))
        .cookie(cookie.clone())
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
    assert_still_logged_in(&app, &cookie).await;
}

#[rocket::async_test]
async fn a_same_site_login_is_403_and_sets_no_cookie() {
    let (app, _) = bob_logged_in(false).await;

    let response = app
        .client
        .post("/api/v1/auth_session/login")
        .header(ContentType::Form)
        .header(site("same-site"))
        .body(form(&[("email", BOB), ("password", BOB_PASSWORD)]))
        .dispatch()
        .await;

    assert!(session_cookie(&response).is_none());
    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn a_same_site_post_of_a_new_user_is_403() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app
        .client
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .header(site("same-site"))
        .cookie(cookie)
        .body(json!({ "email": "carol@hbtn.io", "password": "c4rolPassword-2024" }).to_string())
        .dispatch()
        .await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn same_origin_and_user_typed_requests_change_state() {
    for value in ["same-origin", "none"] {
        let (app, cookie) = bob_logged_in(false).await;

        let response = app
            .client
            .put(format!("/api/v1/users/{}", app.user_id(0)))
            .header(ContentType::JSON)
            .header(site(value))
            .cookie(cookie)
            .body(json!({ "first_name": "Robert" }).to_string())
            .dispatch()
            .await;

        assert_eq!(response.status(), Status::Ok, "Sec-Fetch-Site: {value}");
    }
}

#[rocket::async_test]
async fn a_same_site_get_still_reads() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app
        .client
        .get("/api/v1/users/me")
        .header(site("same-site"))
        .cookie(cookie)
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
}
