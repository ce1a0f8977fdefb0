//! Bearer tokens through HTTP: `POST /api/v1/auth_token/login` issues a signed, readable
//! token that every session-authenticated route accepts; a tampered, wrongly signed or
//! expired one is no credential (a live session cookie beside it still counts; alone it
//! gets the same 403 as a dead session); logging out does not end it unless
//! `jwt_denylist` is on. Expiry moves the injected clock: no test sleeps.

use crate::support::api::*;
use base64::Engine;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{LocalRequest, LocalResponse};
use serde_json::Value;

async fn token_login<'a>(app: &'a ApiApp, email: &str, password: &str) -> LocalResponse<'a> {
    app.client
        .post("/api/v1/auth_token/login")
        .header(ContentType::Form)
        .body(form(&[("email", email), ("password", password)]))
        .dispatch()
        .await
}

async fn token_for(app: &ApiApp, email: &str, password: &str) -> String {
    let (status, body) = json_body(token_login(app, email, password).await).await;
    assert_eq!(status, Status::Ok, "{body}");
    body["token"].as_str().expect("a token").to_owned()
}

/// `GET /api/v1/users/me` carrying the token.
fn me_request<'a>(app: &'a ApiApp, token: &str) -> LocalRequest<'a> {
    app.client
        .get("/api/v1/users/me")
        .header(Header::new("Authorization", format!("Bearer {token}")))
}

async fn me_with_token<'a>(app: &'a ApiApp, token: &str) -> LocalResponse<'a> {
    me_request(app, token).dispatch().await
}

fn decode_part(part: &str) -> Value {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[rocket::async_test]
async fn token_login_answers_a_bearer_token_and_its_lifetime() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;

    let response = token_login(&app, BOB, BOB_PASSWORD).await;

    assert!(session_cookie(&response).is_none(), "no cookie for a token");
    let (status, body) = json_body(response).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["token"].as_str().unwrap().split('.').count(), 3);
}

#[rocket::async_test]
async fn token_payload_is_readable_without_any_key() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;
    let issued_at = {
        use latchkey::clock::Clock;
        app.clock.now().unix_timestamp()
    };

    let token = token_for(&app, BOB, BOB_PASSWORD).await;

    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(decode_part(parts[0])["alg"], "HS256");
    let payload = decode_part(parts[1]);
    assert_eq!(payload["sub"], app.user_id(0));
    assert_eq!(payload["email"], BOB);
    assert_eq!(payload["iat"], issued_at);
    assert_eq!(payload["exp"], issued_at + 300);
    assert!(payload["jti"].as_str().is_some_and(|j| !j.is_empty()));
}

#[rocket::async_test]
async fn token_is_accepted_in_place_of_the_session_cookie() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;
    let token = token_for(&app, BOB, BOB_PASSWORD).await;

    let (status, body) = json_body(me_with_token(&app, &token).await).await;

    assert_eq!(status, Status::Ok);
    assert_user_json(&body, BOB);
    let users = app
        .client
        .get("/api/v1/users")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(users.status(), Status::Ok);
}

#[rocket::async_test]
async fn token_login_has_the_session_logins_errors() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;

    assert_json_error(
        token_login(&app, "", BOB_PASSWORD).await,
        Status::BadRequest,
        "email missing",
    )
    .await;
    assert_json_error(
        token_login(&app, BOB, "").await,
        Status::BadRequest,
        "password missing",
    )
    .await;
    assert_json_error(
        token_login(&app, "nobody@hbtn.io", BOB_PASSWORD).await,
        Status::NotFound,
        "no user found for this email",
    )
    .await;
    assert_json_error(
        token_login(&app, BOB, "wrong password").await,
        Status::Unauthorized,
        "wrong password",
    )
    .await;
}

#[rocket::async_test]
async fn token_login_is_throttled_with_the_session_login() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .set("login_failures_per_account_address", 2)
        .spawn()
        .await;
    // Failures through either login count together: one code path.
    app.login_response(BOB, "wrong password").await;
    token_login(&app, BOB, "wrong password").await;

    let response = token_login(&app, BOB, BOB_PASSWORD).await;

    assert_eq!(response.status(), Status::TooManyRequests);
}

#[rocket::async_test]
async fn tampered_token_gets_the_403_of_a_bad_session() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;
    let token = token_for(&app, BOB, BOB_PASSWORD).await;
    let parts: Vec<&str> = token.split('.').collect();
    // Same signature, payload claiming another user.
    let mut payload = decode_part(parts[1]);
    payload["email"] = "mallory@hbtn.io".into();
    let forged_payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);

    assert_json_error(
        me_with_token(&app, &tampered).await,
        Status::Forbidden,
        "Forbidden",
    )
    .await;
    assert_json_error(
        me_with_token(&app, "not.a.token").await,
        Status::Forbidden,
        "Forbidden",
    )
    .await;
}

async fn me_with_token_and_cookie<'a>(
    app: &'a ApiApp,
    token: &str,
    cookie: &rocket::http::Cookie<'static>,
) -> LocalResponse<'a> {
    me_request(app, token)
        .cookie(cookie.clone())
        .dispatch()
        .await
}

#[rocket::async_test]
async fn a_valid_token_decides_over_the_cookie() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .user(ALICE, ALICE_PASSWORD)
        .spawn()
        .await;
    let alices_token = token_for(&app, ALICE, ALICE_PASSWORD).await;
    let bobs_cookie = app.login(BOB, BOB_PASSWORD).await;

    let (status, body) =
        json_body(me_with_token_and_cookie(&app, &alices_token, &bobs_cookie).await).await;

    assert_eq!(status, Status::Ok);
    assert_user_json(&body, ALICE);
}

#[rocket::async_test]
async fn a_bad_token_leaves_a_live_cookie_to_decide() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;

    let (status, body) =
        json_body(me_with_token_and_cookie(&app, "not.a.token", &cookie).await).await;

    assert_eq!(status, Status::Ok);
    assert_user_json(&body, BOB);
}

#[rocket::async_test]
async fn token_signed_with_another_key_is_refused() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;
    let token = token_for(&app, BOB, BOB_PASSWORD).await;
    // The very same claims, signed by someone who does not have this server's key.
    let claims = decode_part(token.split('.').nth(1).unwrap());
    let foreign = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"another server's key, at least 32 chars"),
    )
    .unwrap();
    assert_eq!(me_with_token(&app, &token).await.status(), Status::Ok);

    let response = me_with_token(&app, &foreign).await;

    assert_json_error(response, Status::Forbidden, "Forbidden").await;
}

#[rocket::async_test]
async fn expired_token_is_refused() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .set("jwt_ttl", 60)
        .spawn()
        .await;
    let token = token_for(&app, BOB, BOB_PASSWORD).await;
    app.clock.advance(time::Duration::seconds(59));
    assert_eq!(me_with_token(&app, &token).await.status(), Status::Ok);

    app.clock.advance(time::Duration::seconds(1));

    assert_json_error(
        me_with_token(&app, &token).await,
        Status::Forbidden,
        "Forbidden",
    )
    .await;
}

#[rocket::async_test]
async fn token_still_works_after_the_session_logs_out() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    let token = token_for(&app, BOB, BOB_PASSWORD).await;

    assert_eq!(app.logout(&cookie).await.status(), Status::Ok);

    assert_eq!(
        app.get_with("/api/v1/users/me", &cookie).await.status(),
        Status::Forbidden
    );
    assert_eq!(me_with_token(&app, &token).await.status(), Status::Ok);
}

#[rocket::async_test]
async fn with_the_denylist_logout_ends_the_token_too() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .user(ALICE, ALICE_PASSWORD)
        .set("jwt_denylist", true)
        .spawn()
        .await;
    let cookie = app.login(BOB, BOB_PASSWORD).await;
    let token = token_for(&app, BOB, BOB_PASSWORD).await;
    let alices = token_for(&app, ALICE, ALICE_PASSWORD).await;
    assert_eq!(me_with_token(&app, &token).await.status(), Status::Ok);

    assert_eq!(app.logout(&cookie).await.status(), Status::Ok);

    assert_json_error(
        me_with_token(&app, &token).await,
        Status::Forbidden,
        "Forbidden",
    )
    .await;
    assert_eq!(me_with_token(&app, &alices).await.status(), Status::Ok);
}

#[rocket::async_test]
async fn token_of_a_deleted_user_is_refused() {
    let app = app("session_auth")
        .user(BOB, BOB_PASSWORD)
        .user(ALICE, ALICE_PASSWORD)
        .spawn()
        .await;
    let token = token_for(&app, BOB, BOB_PASSWORD).await;
    let alice = app.login(ALICE, ALICE_PASSWORD).await;
    let deleted = app
        .client
        .delete(format!("/api/v1/users/{}", app.user_id(0)))
        .cookie(alice)
        .dispatch()
        .await;
    assert_eq!(deleted.status(), Status::Ok);

    assert_eq!(
        me_with_token(&app, &token).await.status(),
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn token_login_needs_no_credentials_and_refuses_json() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;

    let response = app
        .client
        .post("/api/v1/auth_token/login")
        .header(ContentType::JSON)
        .body(r#"{"email": "bob@hbtn.io", "password": "H0lbertonSchool98!"}"#)
        .dispatch()
        .await;

    assert_json_error(response, Status::BadRequest, "email missing").await;
}

#[rocket::async_test]
async fn generated_jwt_key_is_private_and_not_the_cookie_key() {
    let app = app("session_auth").user(BOB, BOB_PASSWORD).spawn().await;
    token_for(&app, BOB, BOB_PASSWORD).await;

    let path = app.dir.path().join("jwt_secret");
    let key = std::fs::read_to_string(&path).expect("a generated key file");
    assert!(key.trim().len() >= 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
