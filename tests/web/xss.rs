//! What people type is shown as text, never as markup.

use crate::support::*;

const SCRIPT: &str = "<script>alert(1)</script>";
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;&#x2F;script&gt;";

#[rocket::async_test]
async fn a_script_first_name_is_escaped_on_the_profile() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser
        .signup_with(&Signup {
            first_name: SCRIPT,
            ..Signup::new("alice@example.com", PASSWORD)
        })
        .await;

    let reply = browser.get("/profile").await;

    assert_not_contains(&reply.body, SCRIPT);
    assert_contains(&reply.body, ESCAPED);
}

#[rocket::async_test]
async fn a_script_last_name_is_escaped_on_the_home_page_greeting() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser
        .signup_with(&Signup {
            last_name: SCRIPT,
            ..Signup::new("alice@example.com", PASSWORD)
        })
        .await;

    let reply = browser.get("/").await;

    assert_not_contains(&reply.body, SCRIPT);
    assert_contains(&reply.body, ESCAPED);
}

#[rocket::async_test]
async fn a_typed_email_that_breaks_out_of_the_attribute_is_escaped_on_the_signup_form() {
    let app = spawn_app().await;
    let attack = format!("\">{SCRIPT}");

    let reply = app.browser().signup(&attack, "short").await;

    assert_eq!(reply.status, rocket::http::Status::UnprocessableEntity);
    assert_not_contains(&reply.body, SCRIPT);
    assert_eq!(
        field_value(&reply.body, "email").as_deref(),
        Some(attack.as_str())
    );
}

#[rocket::async_test]
async fn a_typed_email_that_breaks_out_of_the_attribute_is_escaped_on_the_login_form() {
    let app = spawn_app().await;
    let attack = format!("\">{SCRIPT}");

    let reply = app.browser().login(&attack, PASSWORD).await;

    assert_eq!(reply.status, rocket::http::Status::Unauthorized);
    assert_not_contains(&reply.body, SCRIPT);
    assert_eq!(
        field_value(&reply.body, "email").as_deref(),
        Some(attack.as_str())
    );
}

#[rocket::async_test]
async fn a_script_user_agent_is_escaped_on_the_profile() {
    let app = spawn_app().await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/signup").await;
    let form = Signup::new("alice@example.com", PASSWORD);
    let request = browser
        .request(rocket::http::Method::Post, "/signup")
        .header(rocket::http::ContentType::Form)
        .header(rocket::http::Header::new("User-Agent", SCRIPT))
        .body(encode_form(&form.fields(&token)));
    browser.send(request).await;

    let reply = browser.get("/profile").await;

    assert_not_contains(&reply.body, SCRIPT);
    assert_contains(&reply.body, ESCAPED);
}
