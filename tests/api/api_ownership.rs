//! Who may touch which account through `/api/v1/users`. By default a caller reads,
//! changes and deletes only their own account (`me` or their id); every other id is 403
//! whether or not it exists, and the list is 403. `course_mode` brings back the course's
//! open rule, where any caller may list, change and delete every user.

use crate::support::api::*;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

const UNKNOWN_ID: &str = "0b5a4b36-9d5f-4c58-9a9e-6a2d1f0c7e11";

/// Bob (user 0) and Alice (user 1), Latchkey's default rules, Bob's session cookie.
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

async fn put_names<'a>(
    app: &'a ApiApp,
    cookie: &Cookie<'static>,
    id: &str,
    first_name: &str,
) -> LocalResponse<'a> {
    app.client
        .put(format!("/api/v1/users/{id}"))
        .header(ContentType::JSON)
        .cookie(cookie.clone())
        .body(json!({ "first_name": first_name }).to_string())
        .dispatch()
        .await
}

async fn delete<'a>(app: &'a ApiApp, cookie: &Cookie<'static>, id: &str) -> LocalResponse<'a> {
    app.client
        .delete(format!("/api/v1/users/{id}"))
        .cookie(cookie.clone())
        .dispatch()
        .await
}

/// Alice's own view of her account, through her own login.
async fn alice_as_she_sees_it(app: &ApiApp) -> Value {
    let cookie = app.login(ALICE, ALICE_PASSWORD).await;
    let (status, body) = json_body(app.get_with("/api/v1/users/me", &cookie).await).await;
    assert_eq!(status, Status::Ok, "{body}");
    body
}

// The default: one's own account only

#[rocket::async_test]
async fn me_returns_the_caller() {
    let (app, cookie) = bob_logged_in(false).await;

    let (status, body) = json_body(app.get_with("/api/v1/users/me", &cookie).await).await;

    assert_eq!(status, Status::Ok);
    assert_user_json(&body, BOB);
}

#[rocket::async_test]
async fn own_id_returns_the_caller_in_any_uuid_spelling() {
    let (app, cookie) = bob_logged_in(false).await;
    let id = app.user_id(0);

    for spelling in [id.clone(), id.to_uppercase()] {
        let response = app
            .get_with(&format!("/api/v1/users/{spelling}"), &cookie)
            .await;
        let (status, body) = json_body(response).await;

        assert_eq!(status, Status::Ok, "{spelling}");
        assert_eq!(body["id"], id);
    }
}

#[rocket::async_test]
async fn another_users_id_is_403_for_get_put_and_delete() {
    let (app, cookie) = bob_logged_in(false).await;
    let alice = app.user_id(1);

    let path = format!("/api/v1/users/{alice}");
    assert_json_error(
        app.get_with(&path, &cookie).await,
        Status::Forbidden,
        "Forbidden",
    )
    .await;
    let put = put_names(&app, &cookie, &alice, "Mallory").await;
    assert_json_error(put, Status::Forbidden, "Forbidden").await;
    let deleted = delete(&app, &cookie, &alice).await;
    assert_json_error(deleted, Status::Forbidden, "Forbidden").await;

    let alice_now = alice_as_she_sees_it(&app).await;
    assert_eq!(alice_now["first_name"], Value::Null);
}

#[rocket::async_test]
async fn ids_of_no_one_are_403_too_so_ids_cannot_be_probed() {
    let (app, cookie) = bob_logged_in(false).await;

    for id in [UNKNOWN_ID, "not-a-uuid"] {
        let path = format!("/api/v1/users/{id}");
        let response = app.get_with(&path, &cookie).await;
        assert_json_error(response, Status::Forbidden, "Forbidden").await;
        let response = delete(&app, &cookie, id).await;
        assert_json_error(response, Status::Forbidden, "Forbidden").await;
    }
}

#[rocket::async_test]
async fn the_list_of_users_is_403() {
    let (app, cookie) = bob_logged_in(false).await;

    let response = app.get_with("/api/v1/users", &cookie).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn a_caller_changes_their_own_names_by_id_or_as_me() {
    let (app, cookie) = bob_logged_in(false).await;
    let bob = app.user_id(0);

    let (status, body) = json_body(put_names(&app, &cookie, &bob, "Robert").await).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["first_name"], "Robert");

    let (status, body) = json_body(put_names(&app, &cookie, "me", "Bobby").await).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["first_name"], "Bobby");
}

#[rocket::async_test]
async fn a_caller_deletes_their_own_account_and_their_session_ends() {
    let (app, cookie) = bob_logged_in(false).await;
    let bob = app.user_id(0);

    let (status, body) = json_body(delete(&app, &cookie, &bob).await).await;

    assert_eq!((status, body), (Status::Ok, json!({})));
    let after = app.get_with("/api/v1/users/me", &cookie).await;
    assert_json_error(after, Status::Forbidden, "Forbidden").await;
    let login = app.login_response(BOB, BOB_PASSWORD).await;
    assert!(session_cookie(&login).is_none(), "{}", login.status());
}

#[rocket::async_test]
async fn delete_me_deletes_the_callers_own_account() {
    let (app, cookie) = bob_logged_in(false).await;

    let (status, _) = json_body(delete(&app, &cookie, "me").await).await;

    assert_eq!(status, Status::Ok);
    let alice_left = alice_as_she_sees_it(&app).await;
    assert_user_json(&alice_left, ALICE);
}

#[rocket::async_test]
async fn basic_auth_callers_are_held_to_their_own_account() {
    let app = app("basic_auth")
        .set("course_mode", false)
        .user(BOB, BOB_PASSWORD)
        .user(ALICE, ALICE_PASSWORD)
        .spawn()
        .await;
    let get = |id: String| {
        app.basic(
            app.client.get(format!("/api/v1/users/{id}")),
            BOB,
            BOB_PASSWORD,
        )
        .dispatch()
    };

    assert_eq!(get(app.user_id(0)).await.status(), Status::Ok);
    assert_json_error(get(app.user_id(1)).await, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn an_open_api_without_course_mode_lets_no_one_touch_accounts() {
    let app = app("none")
        .set("course_mode", false)
        .user(BOB, BOB_PASSWORD)
        .spawn()
        .await;
    let bob = app.user_id(0);

    let list = app.client.get("/api/v1/users").dispatch().await;
    assert_json_error(list, Status::Forbidden, "Forbidden").await;
    let get = app
        .client
        .get(format!("/api/v1/users/{bob}"))
        .dispatch()
        .await;
    assert_json_error(get, Status::Forbidden, "Forbidden").await;
    let deleted = app
        .client
        .delete(format!("/api/v1/users/{bob}"))
        .dispatch()
        .await;
    assert_json_error(deleted, Status::Forbidden, "Forbidden").await;
    let me = app.client.get("/api/v1/users/me").dispatch().await;
    assert_json_error(me, Status::NotFound, "Not found").await;
    assert_eq!(
        app.login_response(BOB, BOB_PASSWORD).await.status(),
        Status::Ok
    );
}

// course_mode: the course's open rule

#[rocket::async_test]
async fn with_course_mode_the_list_holds_every_user() {
    let (app, cookie) = bob_logged_in(true).await;

    let (status, body) = json_body(app.get_with("/api/v1/users", &cookie).await).await;

    assert_eq!(status, Status::Ok);
    let mut emails: Vec<&str> = body
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|user| user["email"].as_str())
        .collect();
    emails.sort_unstable();
    assert_eq!(emails, [ALICE, BOB]);
}

#[rocket::async_test]
async fn with_course_mode_any_caller_reads_changes_and_deletes_another_user() {
    let (app, cookie) = bob_logged_in(true).await;
    let alice = app.user_id(1);

    let (status, body) = json_body(
        app.get_with(&format!("/api/v1/users/{alice}"), &cookie)
            .await,
    )
    .await;
    assert_eq!(status, Status::Ok);
    assert_user_json(&body, ALICE);
    let (status, body) = json_body(put_names(&app, &cookie, &alice, "Changed").await).await;
    assert_eq!(
        (status, &body["first_name"]),
        (Status::Ok, &json!("Changed"))
    );
    let (status, _) = json_body(delete(&app, &cookie, &alice).await).await;
    assert_eq!(status, Status::Ok);

    let gone = app
        .get_with(&format!("/api/v1/users/{alice}"), &cookie)
        .await;
    assert_json_error(gone, Status::NotFound, "Not found").await;
}

#[rocket::async_test]
async fn with_course_mode_put_and_delete_of_me_are_404_as_in_the_course() {
    let (app, cookie) = bob_logged_in(true).await;

    let put = put_names(&app, &cookie, "me", "Robert").await;
    assert_json_error(put, Status::NotFound, "Not found").await;
    let deleted = delete(&app, &cookie, "me").await;
    assert_json_error(deleted, Status::NotFound, "Not found").await;
}
