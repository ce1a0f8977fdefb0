//! The `/tokens` page: logged-in only, a token for yourself through a CSRF-protected
//! form post, and the page's script from a static file (the CSP allows no inline script).

use crate::support::*;
use rocket::http::{Header, Method, Status};

#[rocket::async_test]
async fn anonymous_visitors_are_sent_to_log_in() {
    let app = spawn_app().await;

    let reply = app.browser().get("/tokens").await;

    assert_redirect_to(&reply, "/login?next=/tokens");
}

#[rocket::async_test]
async fn the_page_loads_its_script_from_a_static_file() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("tom@example.com").await;

    let reply = browser.get("/tokens").await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(
        &reply.body,
        r#"<script src="/static/tokens.js" defer></script>"#,
    );
    assert_contains(&reply.body, "localStorage");
    assert!(reply
        .header("Content-Security-Policy")
        .is_some_and(|csp| csp.contains("default-src 'self'") && !csp.contains("unsafe-inline")));
}

#[rocket::async_test]
async fn a_logged_in_person_gets_a_token_that_the_api_accepts() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("tom@example.com").await;
    let token = csrf_token(&browser.get("/tokens").await.body);

    let reply = browser
        .post_form("/tokens", &[("csrf_token", &token)])
        .await;

    assert_eq!(reply.status, Status::Ok, "{}", reply.body);
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let jwt = body["token"].as_str().unwrap();
    let me = app
        .client
        .req(Method::Get, "/api/v1/users/me")
        .header(Header::new("Authorization", format!("Bearer {jwt}")))
        .dispatch()
        .await;
    assert_eq!(me.status(), Status::Ok);
}

#[rocket::async_test]
async fn a_token_needs_the_sessions_csrf_token() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("tom@example.com").await;

    let reply = browser
        .post_form("/tokens", &[("csrf_token", "forged")])
        .await;

    assert_eq!(reply.status, Status::Forbidden);
    assert_not_contains(&reply.body, "\"token\"");
}

#[rocket::async_test]
async fn logging_out_from_the_page_leaves_the_token_working() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("tom@example.com").await;
    let token = csrf_token(&browser.get("/tokens").await.body);
    let reply = browser
        .post_form("/tokens", &[("csrf_token", &token)])
        .await;
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let jwt = body["token"].as_str().unwrap().to_owned();

    browser.logout().await;

    assert!(!browser.is_logged_in().await);
    let me = app
        .client
        .req(Method::Get, "/api/v1/users/me")
        .header(Header::new("Authorization", format!("Bearer {jwt}")))
        .dispatch()
        .await;
    assert_eq!(me.status(), Status::Ok);
}
