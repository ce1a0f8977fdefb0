//! Malformed, oversized or unexpected requests get a clear 4xx HTML page, never a 5xx.

use crate::support::*;
use rocket::http::{ContentType, Method, Status};

/// A browser that has loaded the login page, and the token the page gave it.
async fn browser_on_login_page(app: &TestApp) -> (Browser<'_>, String) {
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;
    (browser, token)
}

async fn browser_on_signup_page(app: &TestApp) -> (Browser<'_>, String) {
    let browser = app.browser();
    let token = browser.csrf_token_from("/signup").await;
    (browser, token)
}

// ---- missing fields -----------------------------------------------------------------

#[rocket::async_test]
async fn login_with_missing_email_and_password_asks_for_them_with_422() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_login_page(&app).await;

    let reply = browser.post_form("/login", &[("csrf_token", &token)]).await;

    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_client_error_html(&reply);
    assert_contains(&reply.body, "Enter your email and password.");
}

#[rocket::async_test]
async fn signup_with_missing_fields_asks_for_an_email_with_422() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_signup_page(&app).await;

    let reply = browser
        .post_form("/signup", &[("csrf_token", &token)])
        .await;

    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_client_error_html(&reply);
    assert_contains(&reply.body, "Enter your email address.");
}

// ---- size -----------------------------------------------------------------------------

#[rocket::async_test]
async fn login_with_a_1_mb_field_is_refused_with_413() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_login_page(&app).await;
    let huge = "a".repeat(1024 * 1024);

    let reply = browser
        .post_form(
            "/login",
            &[
                ("email", &huge),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;

    assert_error_page(&reply, Status::PayloadTooLarge);
    assert_contains(&reply.body, "too large");
}

#[rocket::async_test]
async fn signup_with_a_1_mb_field_is_refused_with_413() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_signup_page(&app).await;
    let huge = "a".repeat(1024 * 1024);
    let form = Signup {
        first_name: &huge,
        ..Signup::new("alice@example.com", PASSWORD)
    };

    let reply = browser.post_form("/signup", &form.fields(&token)).await;

    assert_error_page(&reply, Status::PayloadTooLarge);
}

#[rocket::async_test]
async fn signup_with_a_password_just_under_the_form_limit_is_refused_with_422() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_signup_page(&app).await;
    let long = "p".repeat(7 * 1024);

    let reply = browser
        .signup_with_token(&Signup::new("alice@example.com", &long), &token)
        .await;

    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_contains(&reply.body, "at most 128 characters");
}

// ---- encodings ----------------------------------------------------------------------

#[rocket::async_test]
async fn login_with_raw_non_utf8_bytes_is_a_client_error() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_login_page(&app).await;
    let mut body = b"email=alice%40example.com&password=\xff\xfe\xfd&csrf_token=".to_vec();
    body.extend_from_slice(token.as_bytes());

    let reply = browser
        .post_raw("/login", Some(ContentType::Form), body)
        .await;

    assert_client_error_html(&reply);
}

#[rocket::async_test]
async fn signup_with_raw_non_utf8_bytes_is_a_client_error() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_signup_page(&app).await;
    let mut body = b"email=\xff%40example.com&password=aaaaaaaaaa&password_confirmation=aaaaaaaaaa&csrf_token="
        .to_vec();
    body.extend_from_slice(token.as_bytes());

    let reply = browser
        .post_raw("/signup", Some(ContentType::Form), body)
        .await;

    assert_client_error_html(&reply);
}

#[rocket::async_test]
async fn login_with_percent_encoded_invalid_utf8_is_a_client_error() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_login_page(&app).await;
    let body =
        format!("email=%FF%FE%40example.com&password=%FF%FF%FF%FF%FF%FF%FF%FF&csrf_token={token}");

    let reply = browser
        .post_raw("/login", Some(ContentType::Form), body)
        .await;

    assert_client_error_html(&reply);
}

#[rocket::async_test]
async fn signup_with_a_nul_byte_in_the_email_is_refused_with_422() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_signup_page(&app).await;

    let reply = browser
        .signup_with_token(&Signup::new("ali\0ce@example.com", PASSWORD), &token)
        .await;

    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_client_error_html(&reply);
}

#[rocket::async_test]
async fn signup_with_a_nul_byte_in_a_name_is_refused_with_422() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_signup_page(&app).await;
    let form = Signup {
        first_name: "Al\0ice",
        ..Signup::new("alice@example.com", PASSWORD)
    };

    let reply = browser.signup_with_token(&form, &token).await;

    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_contains(&reply.body, "control characters");
}

#[rocket::async_test]
async fn login_with_raw_nul_bytes_is_a_client_error() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_login_page(&app).await;
    let mut body = b"email=a\0b%40example.com&password=\0\0\0\0\0\0\0\0&csrf_token=".to_vec();
    body.extend_from_slice(token.as_bytes());

    let reply = browser
        .post_raw("/login", Some(ContentType::Form), body)
        .await;

    assert_client_error_html(&reply);
}

// ---- wrong body type, unknown paths, wrong methods ------------------------------------

#[rocket::async_test]
async fn json_sent_to_login_is_a_client_error_page() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_login_page(&app).await;
    let json = format!(
        r#"{{"email":"alice@example.com","password":"{PASSWORD}","csrf_token":"{token}"}}"#
    );

    let reply = browser
        .post_raw("/login", Some(ContentType::JSON), json)
        .await;

    assert_client_error_html(&reply);
    assert!(reply.cookie(SESSION_COOKIE).is_none());
}

#[rocket::async_test]
async fn json_without_a_content_type_sent_to_login_is_a_client_error_page() {
    let app = spawn_app().await;
    let (browser, token) = browser_on_login_page(&app).await;
    let json = format!(
        r#"{{"email":"alice@example.com","password":"{PASSWORD}","csrf_token":"{token}"}}"#
    );

    let reply = browser.post_raw("/login", None, json).await;

    assert_client_error_html(&reply);
    assert!(reply.cookie(SESSION_COOKIE).is_none());
}

#[rocket::async_test]
async fn unknown_path_is_a_404_page_in_the_layout() {
    let app = spawn_app().await;

    let reply = app.browser().get("/no/such/page").await;

    assert_error_page(&reply, Status::NotFound);
    assert_contains(&reply.body, r#"href="/""#);
}

#[rocket::async_test]
async fn not_found_page_explains_in_a_sentence() {
    let app = spawn_app().await;

    let reply = app.browser().get("/no/such/page").await;

    let message = reply
        .body
        .split("</h1>")
        .nth(1)
        .and_then(|rest| rest.split("<p>").nth(1))
        .and_then(|rest| rest.split("</p>").next())
        .expect("a message under the heading")
        .trim();
    assert!(
        message.ends_with('.') && !message.eq_ignore_ascii_case("Not found"),
        "the 404 page only says {message:?}"
    );
}

#[rocket::async_test]
async fn put_to_login_is_a_client_error_page() {
    let app = spawn_app().await;
    let browser = app.browser();

    let reply = browser.send(browser.request(Method::Put, "/login")).await;

    assert_client_error_html(&reply);
}

#[rocket::async_test]
async fn delete_on_profile_is_a_client_error_page() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser
        .send(browser.request(Method::Delete, "/profile"))
        .await;

    assert_client_error_html(&reply);
    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn a_path_with_invalid_percent_encoding_is_a_client_error_page() {
    let app = spawn_app().await;

    let reply = app.browser().get("/profile%FF%FE").await;

    assert_client_error_html(&reply);
}
