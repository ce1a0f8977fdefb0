//! "Remember me": unchecked (the default) the session cookie has no Max-Age or Expires,
//! so it ends with the browser, while the server still enforces idle and absolute
//! expiry; checked, it persists for the absolute timeout. The session record keeps the
//! choice, so a re-issued cookie is of the same kind and the inspector can say which.

use crate::support::*;
use rocket::http::Status;

async fn log_in(browser: &Browser<'_>, remember: bool) -> Reply {
    let token = browser.csrf_token_from("/login").await;
    let mut fields = vec![
        ("email", "alice@example.com"),
        ("password", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    if remember {
        fields.push(("remember", "on"));
    }
    browser.post_form("/login", &fields).await
}

async fn app_with_alice() -> TestApp {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    app
}

#[rocket::async_test]
async fn unchecked_the_cookie_ends_with_the_browser() {
    let app = app_with_alice().await;
    let browser = app.browser();

    let reply = log_in(&browser, false).await;

    assert_redirect_to(&reply, "/profile");
    let header = reply
        .set_cookie_header(SESSION_COOKIE)
        .expect("a session cookie");
    assert!(!header.contains("Max-Age"), "{header}");
    assert!(!header.contains("Expires"), "{header}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert_contains(header, attribute);
    }
}

#[rocket::async_test]
async fn checked_the_cookie_persists_for_the_absolute_timeout() {
    let app = app_with_alice().await;
    let browser = app.browser();

    let reply = log_in(&browser, true).await;

    let cookie = reply.cookie(SESSION_COOKIE).expect("a session cookie");
    assert_eq!(cookie.max_age(), Some(time::Duration::hours(12)));
    assert!(cookie.expires_datetime().is_some());
}

#[rocket::async_test]
async fn a_browser_session_cookie_still_expires_on_the_server() {
    let app = app_with_alice().await;
    let browser = app.browser();
    log_in(&browser, false).await;
    assert!(browser.is_logged_in().await);

    // The browser never closed, but the idle timeout (30 minutes) passed.
    app.advance(time::Duration::minutes(31));

    assert!(!browser.is_logged_in().await);
}

#[rocket::async_test]
async fn a_browser_session_cookie_ends_at_the_absolute_deadline_however_active() {
    let app = app_with_alice().await;
    let browser = app.browser();
    log_in(&browser, false).await;
    for _ in 0..25 {
        app.advance(time::Duration::minutes(29));
        browser.get("/profile").await;
    }

    // 25 x 29 minutes > 12 hours, with a request every 29 minutes.
    assert!(!browser.is_logged_in().await);
}

#[rocket::async_test]
async fn the_inspector_says_which_cookie_this_browser_holds() {
    let app = app_with_alice().await;
    let forgetful = app.browser();
    log_in(&forgetful, false).await;
    let remembered = app.browser();
    log_in(&remembered, true).await;

    let short = forgetful.get("/session").await;
    let long = remembered.get("/session").await;

    assert_eq!(short.status, Status::Ok);
    assert_contains(&short.body, "<strong>Browser session</strong>");
    assert_contains(&long.body, "<strong>Remembered</strong>");
}

#[rocket::async_test]
async fn the_login_form_offers_the_box_unchecked() {
    let app = spawn_app().await;

    let reply = app.browser().get("/login").await;

    assert_contains(
        &reply.body,
        r#"<input id="remember" name="remember" type="checkbox" value="on">"#,
    );
}

#[rocket::async_test]
async fn a_password_change_reissues_the_same_kind_of_cookie() {
    let app = app_with_alice().await;
    let browser = app.browser();
    log_in(&browser, false).await;
    let token = browser.csrf_token_from("/password").await;
    let new_password = "a brand new passphrase, never used";

    let reply = browser
        .post_form(
            "/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
                ("new_password_confirmation", new_password),
                ("csrf_token", &token),
            ],
        )
        .await;

    assert_redirect_to(&reply, "/profile");
    let header = reply
        .set_cookie_header(SESSION_COOKIE)
        .expect("a new cookie");
    assert!(!header.contains("Max-Age"), "{header}");
    assert!(!header.contains("Expires"), "{header}");
}

#[rocket::async_test]
async fn signup_keeps_its_persistent_cookie() {
    let app = spawn_app().await;
    let browser = app.browser();

    let reply = browser.signup("bea@example.com", PASSWORD).await;

    let cookie = reply.cookie(SESSION_COOKIE).expect("a session cookie");
    assert_eq!(cookie.max_age(), Some(time::Duration::hours(12)));
}
