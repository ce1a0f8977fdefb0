//! `/api/v1/users`: list, get (including `me`), create, update and delete, with the
//! course's exact error strings, under `session_auth`.

use crate::support::api::*;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

const CAROL: &str = "carol@hbtn.io";
const UNKNOWN_ID: &str = "0b5a4b36-9d5f-4c58-9a9e-6a2d1f0c7e11";

/// An app with Bob and Alice, and Bob's session cookie.
async fn logged_in() -> (ApiApp, Cookie<'static>) {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .user(ALICE, ALICE_PASSWORD)
        .spawn()
        .await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    (app, cookie)
}

async fn post_users_raw<'a>(
    app: &'a ApiApp,
    cookie: &Cookie<'static>,
    content_type: ContentType,
    body: &str,
) -> LocalResponse<'a> {
    app.client
        .post("/api/v1/users")
        .header(content_type)
        .cookie(cookie.clone())
        .body(body)
        .dispatch()
        .await
}

async fn put_user<'a>(
    app: &'a ApiApp,
    cookie: &Cookie<'static>,
    id: &str,
    body: &str,
) -> LocalResponse<'a> {
    app.client
        .put(format!("/api/v1/users/{id}"))
        .header(ContentType::JSON)
        .cookie(cookie.clone())
        .body(body)
        .dispatch()
        .await
}

async fn delete_user<'a>(app: &'a ApiApp, cookie: &Cookie<'static>, id: &str) -> LocalResponse<'a> {
    app.client
        .delete(format!("/api/v1/users/{id}"))
        .cookie(cookie.clone())
        .dispatch()
        .await
}

// List and get

#[rocket::async_test]
async fn list_returns_every_user_as_course_json() {
    let (app, cookie) = logged_in().await;

    let response = app.get_with("/api/v1/users", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    let users = body.as_array().expect("a JSON list");
    let mut emails: Vec<&str> = users.iter().filter_map(|u| u["email"].as_str()).collect();
    emails.sort_unstable();
    assert_eq!(emails, [ALICE, BOB]);
    for user in users {
        assert_user_json(user, user["email"].as_str().unwrap_or_default());
    }
}

#[rocket::async_test]
async fn list_with_trailing_slash_returns_the_users() {
    let (app, cookie) = logged_in().await;

    let response = app.get_with("/api/v1/users/", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body.as_array().map(Vec::len), Some(2));
}

#[rocket::async_test]
async fn get_by_id_returns_that_user() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);

    let response = app
        .get_with(&format!("/api/v1/users/{alice}"), &cookie)
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_user_json(&body, ALICE);
    assert_eq!(body, app.users[1]);
}

#[rocket::async_test]
async fn get_unknown_id_is_404() {
    let (app, cookie) = logged_in().await;

    let response = app
        .get_with(&format!("/api/v1/users/{UNKNOWN_ID}"), &cookie)
        .await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn get_id_that_is_not_a_uuid_is_404() {
    let (app, cookie) = logged_in().await;

    let response = app.get_with("/api/v1/users/12345", &cookie).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn get_very_long_id_is_404() {
    let (app, cookie) = logged_in().await;
    let id = "x".repeat(8_000);

    let response = app.get_with(&format!("/api/v1/users/{id}"), &cookie).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn me_returns_the_logged_in_user() {
    let (app, cookie) = logged_in().await;

    let response = app.get_with("/api/v1/users/me", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, app.users[0]);
}

#[rocket::async_test]
async fn me_with_trailing_slash_returns_the_logged_in_user() {
    let (app, cookie) = logged_in().await;

    let response = app.get_with("/api/v1/users/me/", &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_user_json(&body, BOB);
}

// Create

#[rocket::async_test]
async fn create_answers_201_with_exactly_the_course_user_json() {
    let (app, cookie) = logged_in().await;

    let response = app
        .create_user(
            &cookie,
            &json!({ "email": CAROL, "password": "c4rolPassword-2024" }),
        )
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Created);
    assert_user_json(&body, CAROL);
    assert_eq!(body["first_name"], Value::Null);
    assert_eq!(body["last_name"], Value::Null);
}

#[rocket::async_test]
async fn create_keeps_first_and_last_name() {
    let (app, cookie) = logged_in().await;

    let response = app
        .create_user(
            &cookie,
            &json!({
                "email": CAROL,
                "password": "c4rolPassword-2024",
                "first_name": "Carol",
                "last_name": "Danvers",
            }),
        )
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Created);
    assert_eq!(body["first_name"], "Carol");
    assert_eq!(body["last_name"], "Danvers");
}

#[rocket::async_test]
async fn created_user_can_be_fetched_by_id() {
    let (app, cookie) = logged_in().await;
    let created = app
        .create_user(
            &cookie,
            &json!({ "email": CAROL, "password": "c4rolPassword-2024" }),
        )
        .await;
    let (_, created) = json_body(created).await;
    let id = created["id"].as_str().expect("id").to_owned();

    let response = app.get_with(&format!("/api/v1/users/{id}"), &cookie).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, created);
}

#[rocket::async_test]
async fn created_user_can_log_in() {
    let (app, cookie) = logged_in().await;
    let created = app
        .create_user(
            &cookie,
            &json!({ "email": CAROL, "password": "c4rolPassword-2024" }),
        )
        .await;
    assert_eq!(created.status(), Status::Created);

    let response = app.login_response(CAROL, "c4rolPassword-2024").await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn create_with_trailing_slash_answers_201() {
    let (app, cookie) = logged_in().await;

    let response = app
        .client
        .post("/api/v1/users/")
        .header(ContentType::JSON)
        .cookie(cookie)
        .body(json!({ "email": CAROL, "password": "c4rolPassword-2024" }).to_string())
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Created);
}

#[rocket::async_test]
async fn create_with_a_body_that_is_not_json_is_wrong_format() {
    let (app, cookie) = logged_in().await;

    let response = post_users_raw(&app, &cookie, ContentType::JSON, "email=a@b.io").await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn create_with_malformed_json_is_wrong_format() {
    let (app, cookie) = logged_in().await;

    let response = post_users_raw(&app, &cookie, ContentType::JSON, r#"{"email": "a@b.io""#).await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn create_with_json_that_is_not_an_object_is_wrong_format() {
    let (app, cookie) = logged_in().await;

    for body in [r#"["a@b.io"]"#, "42", r#""text""#, "null", "true"] {
        let response = post_users_raw(&app, &cookie, ContentType::JSON, body).await;

        assert_json_error(response, Status::BadRequest, "Wrong format").await;
    }
}

#[rocket::async_test]
async fn create_with_an_empty_body_is_wrong_format() {
    let (app, cookie) = logged_in().await;

    let response = post_users_raw(&app, &cookie, ContentType::JSON, "").await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn create_with_non_utf8_bytes_is_wrong_format() {
    let (app, cookie) = logged_in().await;

    let response = app
        .client
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .cookie(cookie)
        .body([b'{', 0xff, 0xfe, b'}'])
        .dispatch()
        .await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn create_without_email_is_email_missing() {
    let (app, cookie) = logged_in().await;

    let response = app
        .create_user(&cookie, &json!({ "password": "c4rolPassword-2024" }))
        .await;

    assert_json_error(response, Status::BadRequest, "email missing").await;
}

#[rocket::async_test]
async fn create_with_empty_email_is_email_missing() {
    let (app, cookie) = logged_in().await;

    let response = app
        .create_user(
            &cookie,
            &json!({ "email": "", "password": "c4rolPassword-2024" }),
        )
        .await;

    assert_json_error(response, Status::BadRequest, "email missing").await;
}

#[rocket::async_test]
async fn create_without_email_or_password_reports_the_email_first() {
    let (app, cookie) = logged_in().await;

    let response = app.create_user(&cookie, &json!({})).await;

    assert_json_error(response, Status::BadRequest, "email missing").await;
}

#[rocket::async_test]
async fn create_without_password_is_password_missing() {
    let (app, cookie) = logged_in().await;

    let response = app.create_user(&cookie, &json!({ "email": CAROL })).await;

    assert_json_error(response, Status::BadRequest, "password missing").await;
}

#[rocket::async_test]
async fn create_with_empty_password_is_password_missing() {
    let (app, cookie) = logged_in().await;

    let response = app
        .create_user(&cookie, &json!({ "email": CAROL, "password": "" }))
        .await;

    assert_json_error(response, Status::BadRequest, "password missing").await;
}

#[rocket::async_test]
async fn create_with_a_taken_email_is_cant_create_user() {
    let (app, cookie) = logged_in().await;

    let response = app
        .create_user(
            &cookie,
            &json!({ "email": ALICE, "password": "an0therPassword" }),
        )
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::BadRequest);
    let message = body["error"].as_str().unwrap_or_default();
    assert!(message.starts_with("Can't create User: "), "{body}");
    assert!(message.len() > "Can't create User: ".len(), "{body}");
}

#[rocket::async_test]
async fn create_with_a_too_short_password_is_cant_create_user() {
    let (app, cookie) = logged_in().await;

    let response = app
        .create_user(&cookie, &json!({ "email": CAROL, "password": "short" }))
        .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::BadRequest);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Can't create User: "),
        "{body}"
    );
}

#[rocket::async_test]
async fn create_with_a_body_over_the_json_limit_is_413_json() {
    let (app, cookie) = logged_in().await;
    let padding = "x".repeat(70 * 1024);
    let body = json!({ "email": CAROL, "password": "c4rolPassword-2024", "first_name": padding });

    let response = app.create_user(&cookie, &body).await;

    let (status, _) = json_body(response).await;
    assert_eq!(status, Status::PayloadTooLarge);
}

#[rocket::async_test]
async fn create_without_credentials_is_401() {
    let app = app("session_auth").spawn().await;

    let response = app
        .client
        .post("/api/v1/users")
        .header(ContentType::JSON)
        .body(json!({ "email": CAROL, "password": "c4rolPassword-2024" }).to_string())
        .dispatch()
        .await;

    assert_json_error(response, Status::Unauthorized, "Unauthorized").await;
}

// Update

#[rocket::async_test]
async fn update_changes_the_names() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);

    let response = put_user(
        &app,
        &cookie,
        &alice,
        r#"{"first_name": "Alice", "last_name": "Liddell"}"#,
    )
    .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_user_json(&body, ALICE);
    assert_eq!(body["first_name"], "Alice");
    assert_eq!(body["last_name"], "Liddell");
}

#[rocket::async_test]
async fn update_is_visible_on_a_later_get() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);
    let updated = put_user(&app, &cookie, &alice, r#"{"first_name": "Alice"}"#).await;
    assert_eq!(updated.status(), Status::Ok);

    let response = app
        .get_with(&format!("/api/v1/users/{alice}"), &cookie)
        .await;

    let (_, body) = json_body(response).await;
    assert_eq!(body["first_name"], "Alice");
    assert_eq!(body["last_name"], Value::Null);
}

#[rocket::async_test]
async fn update_with_a_null_name_leaves_it_unchanged() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);
    let named = put_user(&app, &cookie, &alice, r#"{"first_name": "Alice"}"#).await;
    assert_eq!(named.status(), Status::Ok);

    let response = put_user(
        &app,
        &cookie,
        &alice,
        r#"{"first_name": null, "last_name": "L"}"#,
    )
    .await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["first_name"], "Alice");
    assert_eq!(body["last_name"], "L");
}

#[rocket::async_test]
async fn update_with_an_empty_object_changes_nothing() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);

    let response = put_user(&app, &cookie, &alice, "{}").await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["email"], ALICE);
    assert_eq!(body["first_name"], Value::Null);
}

#[rocket::async_test]
async fn update_unknown_id_is_404() {
    let (app, cookie) = logged_in().await;

    let response = put_user(&app, &cookie, UNKNOWN_ID, r#"{"first_name": "X"}"#).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn update_id_that_is_not_a_uuid_is_404() {
    let (app, cookie) = logged_in().await;

    let response = put_user(&app, &cookie, "not-a-uuid", r#"{"first_name": "X"}"#).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn update_with_a_body_that_is_not_json_is_wrong_format() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);

    let response = put_user(&app, &cookie, &alice, "first_name=Alice").await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn update_with_json_that_is_not_an_object_is_wrong_format() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);

    let response = put_user(&app, &cookie, &alice, r#"["Alice"]"#).await;

    assert_json_error(response, Status::BadRequest, "Wrong format").await;
}

#[rocket::async_test]
async fn update_with_a_body_over_the_json_limit_is_413_json() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);
    let body = json!({ "first_name": "x".repeat(70 * 1024) }).to_string();

    let response = put_user(&app, &cookie, &alice, &body).await;

    let (status, _) = json_body(response).await;
    assert_eq!(status, Status::PayloadTooLarge);
}

#[rocket::async_test]
async fn update_unknown_id_with_a_body_that_is_not_json_is_404() {
    let (app, cookie) = logged_in().await;

    let response = put_user(&app, &cookie, UNKNOWN_ID, "not json").await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn update_with_trailing_slash_changes_the_names() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);

    let response = put_user(&app, &cookie, &format!("{alice}/"), r#"{"last_name": "L"}"#).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["last_name"], "L");
}

#[rocket::async_test]
async fn update_moves_updated_at_and_keeps_created_at() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);
    app.clock.advance(time::Duration::seconds(90));

    let response = put_user(&app, &cookie, &alice, r#"{"first_name": "Alice"}"#).await;

    let (_, body) = json_body(response).await;
    assert_eq!(body["created_at"], app.users[1]["created_at"]);
    assert_ne!(body["updated_at"], app.users[1]["updated_at"]);
}

#[rocket::async_test]
async fn timestamps_are_utc() {
    let (app, cookie) = logged_in().await;
    app.clock
        .set(time::macros::datetime!(2024-01-02 03:04:05 +02:00));

    let response = app
        .create_user(
            &cookie,
            &json!({ "email": CAROL, "password": "c4rolPassword-2024" }),
        )
        .await;

    let (_, body) = json_body(response).await;
    assert_eq!(body["created_at"], "2024-01-02T01:04:05");
    assert_eq!(body["updated_at"], "2024-01-02T01:04:05");
}

// Delete

#[rocket::async_test]
async fn delete_answers_200_with_an_empty_object() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);

    let response = delete_user(&app, &cookie, &alice).await;

    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!({}));
}

#[rocket::async_test]
async fn deleted_user_is_then_not_found() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);
    let deleted = delete_user(&app, &cookie, &alice).await;
    assert_eq!(deleted.status(), Status::Ok);

    let response = app
        .get_with(&format!("/api/v1/users/{alice}"), &cookie)
        .await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn delete_unknown_id_is_404() {
    let (app, cookie) = logged_in().await;

    let response = delete_user(&app, &cookie, UNKNOWN_ID).await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn delete_id_that_is_not_a_uuid_is_404() {
    let (app, cookie) = logged_in().await;

    let response = delete_user(&app, &cookie, "12345").await;

    assert_json_error(response, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn deleting_a_user_ends_their_sessions() {
    let (app, bob_cookie) = logged_in().await;
    let alice_cookie = app.login(ALICE, ALICE_PASSWORD).await;
    let bob = app.user_id(0);
    let deleted = delete_user(&app, &alice_cookie, &bob).await;
    assert_eq!(deleted.status(), Status::Ok);

    let response = app.get_with("/api/v1/users/me", &bob_cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn deleting_a_user_leaves_other_sessions_alone() {
    let (app, bob_cookie) = logged_in().await;
    let alice = app.user_id(1);
    let deleted = delete_user(&app, &bob_cookie, &alice).await;
    assert_eq!(deleted.status(), Status::Ok);

    let response = app.get_with("/api/v1/users/me", &bob_cookie).await;

    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn stats_drop_after_a_delete() {
    let (app, cookie) = logged_in().await;
    let alice = app.user_id(1);
    let deleted = delete_user(&app, &cookie, &alice).await;
    assert_eq!(deleted.status(), Status::Ok);

    let response = app.get_with("/api/v1/stats", &cookie).await;

    let (_, body) = json_body(response).await;
    assert_eq!(body, json!({ "users": 1 }));
}
