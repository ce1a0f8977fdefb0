//! Changing the password (`/password`): the current password is required, the new one
//! follows the signup rules, and a change ends every other session and rotates this one.

use crate::support::*;
use rocket::http::Status;

const ALICE: &str = "alice@example.com";
const NEW_PASSWORD: &str = "a brand new passphrase for her";

struct Change<'a> {
    current: &'a str,
    new: &'a str,
    confirmation: &'a str,
}

impl<'a> Change<'a> {
    fn to(new: &'a str) -> Self {
        Self {
            current: PASSWORD,
            new,
            confirmation: new,
        }
    }
}

async fn change_password(browser: &Browser<'_>, change: &Change<'_>) -> Reply {
    let token = browser.csrf_token_from("/password").await;
    browser
        .post_form(
            "/password",
            &[
                ("current_password", change.current),
                ("new_password", change.new),
                ("new_password_confirmation", change.confirmation),
                ("csrf_token", &token),
            ],
        )
        .await
}

/// A fresh browser's login attempt: 303 to /profile when the password is right.
async fn can_log_in(app: &TestApp, password: &str) -> bool {
    let reply = app.browser().login(ALICE, password).await;
    match reply.status {
        Status::SeeOther => true,
        Status::Unauthorized => false,
        other => panic!("login answered {other}: {}", reply.body),
    }
}

async fn logged_in_as<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let browser = app.browser();
    assert_redirect_to(&browser.login(email, PASSWORD).await, "/profile");
    browser
}

/// A rejected change: the form again with a message, 422, and nothing changed.
#[track_caller]
fn assert_rejected(reply: &Reply, message: &str) {
    assert_eq!(
        reply.status,
        Status::UnprocessableEntity,
        "body:\n{}",
        reply.body
    );
    assert_html(reply);
    assert_contains(&reply.body, r#"action="/password""#);
    assert_contains(&html_unescape(&reply.body), message);
    assert!(reply.cookie(SESSION_COOKIE).is_none(), "no new session");
}

#[rocket::async_test]
async fn an_anonymous_visit_is_sent_to_login_and_back() {
    let app = spawn_app().await;

    let reply = app.browser().get("/password").await;

    assert_redirect_to(&reply, "/login?next=/password");
}

#[rocket::async_test]
async fn the_form_asks_for_the_current_and_the_new_password() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;

    let reply = browser.get("/password").await;

    assert_eq!(reply.status, Status::Ok);
    for field in [
        "current_password",
        "new_password",
        "new_password_confirmation",
    ] {
        assert_contains(&reply.body, &format!(r#"name="{field}" type="password""#));
    }
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
}

#[rocket::async_test]
async fn a_wrong_current_password_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let other = logged_in_as(&app, ALICE).await;
    let cookie = browser.session_cookie();

    let reply = change_password(
        &browser,
        &Change {
            current: "not my password at all",
            ..Change::to(NEW_PASSWORD)
        },
    )
    .await;

    assert_rejected(&reply, "Your current password is not correct.");
    assert_eq!(browser.session_cookie(), cookie);
    assert!(browser.is_logged_in().await);
    assert!(other.is_logged_in().await);
    assert!(can_log_in(&app, PASSWORD).await);
    assert!(!can_log_in(&app, NEW_PASSWORD).await);
}

#[rocket::async_test]
async fn a_missing_current_password_is_refused() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;

    let reply = change_password(
        &browser,
        &Change {
            current: "",
            ..Change::to(NEW_PASSWORD)
        },
    )
    .await;

    assert_rejected(&reply, "Your current password is not correct.");
    assert!(!can_log_in(&app, NEW_PASSWORD).await);
}

#[rocket::async_test]
async fn a_too_short_new_password_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let other = logged_in_as(&app, ALICE).await;

    let reply = change_password(&browser, &Change::to("short7!")).await;

    assert_rejected(&reply, "15");
    assert!(other.is_logged_in().await);
    assert!(can_log_in(&app, PASSWORD).await);
    assert!(!can_log_in(&app, "short7!").await);
}

#[rocket::async_test]
async fn a_too_long_new_password_is_refused() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let long = "x".repeat(129);

    let reply = change_password(&browser, &Change::to(&long)).await;

    assert_rejected(&reply, "128");
    assert!(can_log_in(&app, PASSWORD).await);
}

#[rocket::async_test]
async fn fifteen_characters_are_enough() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;

    let reply = change_password(&browser, &Change::to("fifteen chars!!")).await;

    assert_redirect_to(&reply, "/profile");
    assert!(can_log_in(&app, "fifteen chars!!").await);
}

#[rocket::async_test]
async fn a_mismatched_confirmation_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let other = logged_in_as(&app, ALICE).await;

    let reply = change_password(
        &browser,
        &Change {
            confirmation: "a brand new passphrase for alicE",
            ..Change::to(NEW_PASSWORD)
        },
    )
    .await;

    assert_rejected(&reply, "The new passwords do not match.");
    assert!(other.is_logged_in().await);
    assert!(can_log_in(&app, PASSWORD).await);
    assert!(!can_log_in(&app, NEW_PASSWORD).await);
}

#[rocket::async_test]
async fn a_rejected_form_never_echoes_a_password() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;

    let reply = change_password(
        &browser,
        &Change {
            confirmation: "mismatched confirmation",
            ..Change::to(NEW_PASSWORD)
        },
    )
    .await;

    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_not_contains(&reply.body, PASSWORD);
    assert_not_contains(&reply.body, NEW_PASSWORD);
    assert_not_contains(&reply.body, "mismatched confirmation");
}

#[rocket::async_test]
async fn without_the_csrf_token_it_is_forbidden_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let other = logged_in_as(&app, ALICE).await;

    let reply = browser
        .post_form(
            "/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;

    assert_error_page(&reply, Status::Forbidden);
    assert!(other.is_logged_in().await);
    assert!(can_log_in(&app, PASSWORD).await);
    assert!(!can_log_in(&app, NEW_PASSWORD).await);
}

#[rocket::async_test]
async fn success_goes_to_the_profile_with_a_message() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;

    let reply = change_password(&browser, &Change::to(NEW_PASSWORD)).await;

    assert_redirect_to(&reply, "/profile");
    let profile = browser.get("/profile").await;
    assert_eq!(profile.status, Status::Ok);
    assert_contains(&profile.body, "Your password was changed.");
}

#[rocket::async_test]
async fn success_ends_the_other_sessions_of_the_user() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;
    let tablet = logged_in_as(&app, ALICE).await;
    let bob = app.logged_in_browser("bob@example.com").await;

    change_password(&browser, &Change::to(NEW_PASSWORD)).await;

    assert_sent_to_login(&phone.get("/profile").await);
    assert!(!tablet.is_logged_in().await);
    assert!(bob.is_logged_in().await, "another user is untouched");
    let sessions = browser.get("/sessions").await.body;
    assert_eq!(sessions.matches(r#"name="key""#).count(), 1, "{sessions}");
}

#[rocket::async_test]
async fn success_keeps_this_browser_logged_in_with_a_new_session() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let old_cookie = browser.session_cookie().unwrap();
    let old_key = store_key_of(&browser);

    let reply = change_password(&browser, &Change::to(NEW_PASSWORD)).await;

    let set = reply.cookie(SESSION_COOKIE).expect("a new session cookie");
    assert!(!is_removal(set));
    let new_cookie = browser.session_cookie().unwrap();
    assert_ne!(new_cookie, old_cookie);
    assert_ne!(store_key_of(&browser), old_key);
    assert!(browser.is_logged_in().await);
    let profile = browser.get("/profile").await;
    assert_contains(&profile.body, ALICE);
}

#[rocket::async_test]
async fn the_old_session_cookie_is_refused_after_the_change() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let old_cookie = browser.session_cookie().unwrap();

    change_password(&browser, &Change::to(NEW_PASSWORD)).await;
    let replay = app.browser();
    replay.set_session_cookie(&old_cookie);

    assert_sent_to_login(&replay.get("/profile").await);
    // The refusal told `replay` to forget the cookie; replay it once more, to the API.
    replay.set_session_cookie(&old_cookie);
    assert_eq!(
        replay.get("/api/v1/users/me").await.status,
        Status::Forbidden
    );
    assert!(browser.is_logged_in().await, "the replay did not end it");
}

#[rocket::async_test]
async fn the_new_password_logs_in_and_the_old_one_no_longer_does() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;

    change_password(&browser, &Change::to(NEW_PASSWORD)).await;

    assert!(!can_log_in(&app, PASSWORD).await);
    assert!(can_log_in(&app, NEW_PASSWORD).await);
}

#[rocket::async_test]
async fn the_api_login_follows_the_new_password_too() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;

    change_password(&browser, &Change::to(NEW_PASSWORD)).await;

    let api = app.browser();
    let old = api
        .post_form(
            "/api/v1/auth_session/login",
            &[("email", ALICE), ("password", PASSWORD)],
        )
        .await;
    let new = api
        .post_form(
            "/api/v1/auth_session/login",
            &[("email", ALICE), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(old.status, Status::Unauthorized, "{}", old.body);
    assert_eq!(new.status, Status::Ok, "{}", new.body);
}

#[rocket::async_test]
async fn the_csrf_token_of_the_old_session_no_longer_works() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser(ALICE).await;
    let old_token = browser.csrf_token_from("/password").await;

    change_password(&browser, &Change::to(NEW_PASSWORD)).await;
    let reply = browser
        .post_form("/logout", &[("csrf_token", &old_token)])
        .await;

    assert_error_page(&reply, Status::Forbidden);
    assert!(browser.is_logged_in().await);
}
