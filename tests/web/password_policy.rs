//! The password policy (NIST SP 800-63B rev 4) at signup (HTML and API) and password
//! change: length in code points after NFKC, a common-password blocklist, context words,
//! clear reasons; existing accounts keep working; weak hashes are upgraded at login
//! without ending sessions.

use crate::support;
use crate::support::api;

use latchkey::users::policy::{PasswordPolicy, PolicySettings};
use rocket::http::Status;
use serde_json::json;

use crate::support::{assert_contains, assert_redirect_to, TestApp};

fn policy() -> PasswordPolicy {
    PasswordPolicy::new(&PolicySettings::default()).unwrap()
}

#[test]
fn the_default_minimum_is_15_code_points_after_nfkc() {
    let policy = policy();
    assert_eq!(policy.min_chars(), 15);
    assert!(policy.check("fourteen chars", "a@example.com").is_err());
    assert!(policy.check("fifteen chars!!", "a@example.com").is_ok());
    // 15 code points of 2-4 UTF-8 bytes each count as 15, not as their byte length.
    assert!(policy
        .check("ÿÿÿÿÿ€€€€€😀😀😀😀😀", "a@example.com")
        .is_ok());
    assert!(policy.check("ÿÿÿÿÿ€€€€€😀😀😀😀", "a@example.com").is_err());
    assert!(policy.check(&"x".repeat(128), "a@example.com").is_ok());
    assert!(policy.check(&"x".repeat(129), "a@example.com").is_err());
}

#[test]
fn the_blocklist_has_100000_entries_and_refuses_common_passwords_with_a_reason() {
    let policy = policy();
    assert!(policy.blocklist_len() >= 100_000);
    for common in ["123456789qwerty", "1qaz2wsx3edc4rfv", "QWERTY123456789"] {
        let reason = policy.check(common, "a@example.com").unwrap_err();
        assert!(reason.contains("common passwords"), "{common}: {reason}");
    }
}

#[test]
fn context_words_are_refused_with_a_reason() {
    let policy = policy();
    let reason = policy
        .check("my latchkey password!", "a@example.com")
        .unwrap_err();
    assert!(reason.contains("latchkey"), "{reason}");
    let reason = policy
        .check("margaret.h is my password", "Margaret.H@example.com")
        .unwrap_err();
    assert!(reason.contains("email"), "{reason}");
}

#[test]
fn composition_is_never_required() {
    assert!(policy()
        .check("plain lowercase words only", "a@example.com")
        .is_ok());
}

#[test]
fn a_minimum_below_8_is_refused() {
    let error = PasswordPolicy::new(&PolicySettings {
        password_min_length: 7,
    })
    .unwrap_err();
    assert!(error.contains("password_min_length"), "{error}");
    assert!(PasswordPolicy::new(&PolicySettings {
        password_min_length: 8
    })
    .is_ok());
}

#[rocket::async_test]
async fn an_app_configured_below_8_does_not_start() {
    let (rocket, _dir) = api::app("session_auth")
        .set("password_min_length", 6)
        .rocket();
    let error = rocket.ignite().await.unwrap_err();
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
}

#[rocket::async_test]
async fn signup_refuses_a_short_or_common_password_and_says_why() {
    let app = TestApp::builder().spawn().await;
    let short = app.browser().signup("kim@example.com", "short pass").await;
    assert_eq!(short.status, Status::UnprocessableEntity);
    assert_contains(&short.body, "at least 15 characters");

    let common = app
        .browser()
        .signup("kim@example.com", "123456789qwerty")
        .await;
    assert_eq!(common.status, Status::UnprocessableEntity);
    assert_contains(&common.body, "common passwords");

    let context = app
        .browser()
        .signup("kim@example.com", "kim loves long passwords")
        .await;
    assert_eq!(context.status, Status::UnprocessableEntity);
    assert_contains(&context.body, "email");
}

#[rocket::async_test]
async fn the_api_refuses_weak_passwords_with_the_reason() {
    let app = api::app("none").spawn().await;
    let response = app
        .client
        .post("/api/v1/users")
        .header(rocket::http::ContentType::JSON)
        .body(json!({"email": "kim@example.com", "password": "short"}).to_string())
        .dispatch()
        .await;
    let (status, body) = api::json_body(response).await;
    assert_eq!(status, Status::BadRequest);
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with("Can't create User: Use a password of at least 15"),
        "{error}"
    );
}

#[rocket::async_test]
async fn a_configured_minimum_applies() {
    let app = TestApp::builder()
        .setting("password_min_length", 20)
        .spawn()
        .await;
    let reply = app
        .browser()
        .signup("kim@example.com", "nineteen characters")
        .await;
    assert_contains(&reply.body, "at least 20 characters");
}

#[rocket::async_test]
async fn nfkc_equivalent_spellings_are_one_password() {
    let app = TestApp::builder().spawn().await;
    // Full-width letters and the "ﬁ" ligature normalise (NFKC) to ASCII.
    app.create_user("kim@example.com", "ｆｕｌｌ width ﬁsh and chips")
        .await;
    let reply = app
        .browser()
        .login("kim@example.com", "full width fish and chips")
        .await;
    assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn existing_short_passwords_still_log_in() {
    // An account made under the old 8-character rule (here: with the minimum set to 8),
    // then the app restarted with the new default.
    let dir = tempfile::tempdir().unwrap();
    let old = TestApp::builder()
        .data_dir(dir.path())
        .setting("password_min_length", 8)
        .spawn()
        .await;
    old.create_user("kim@example.com", "tr0ub4dor&3").await;
    drop(old);
    let app = TestApp::builder().data_dir(dir.path()).spawn().await;

    let reply = app.browser().login("kim@example.com", "tr0ub4dor&3").await;

    assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn password_change_applies_the_policy() {
    let app = TestApp::builder().spawn().await;
    let browser = app.logged_in_browser("kim@example.com").await;
    let token = browser.csrf_token_from("/password").await;
    let reply = browser
        .post_form(
            "/password",
            &[
                ("current_password", support::PASSWORD),
                ("new_password", "short one"),
                ("new_password_confirmation", "short one"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_contains(&reply.body, "at least 15 characters");
}

#[rocket::async_test]
async fn a_weaker_hash_is_upgraded_at_login_without_ending_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let old = TestApp::builder().data_dir(dir.path()).spawn().await;
    let browser = old.logged_in_browser("kim@example.com").await;
    drop(browser);
    drop(old);
    // The operator raises the cost: the stored hash is now weaker than configured.
    let app = TestApp::builder()
        .data_dir(dir.path())
        .setting("argon2_iterations", 3)
        .spawn()
        .await;
    let auth = app.client.rocket().state::<latchkey::auth::Auth>().unwrap();
    let before = auth
        .user_by_email("kim@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(auth.needs_hash_upgrade(&before));

    let browser = app.browser();
    assert_redirect_to(
        &browser.login("kim@example.com", support::PASSWORD).await,
        "/profile",
    );

    let after = auth
        .user_by_email("kim@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(after.password_hash, before.password_hash);
    assert!(!auth.needs_hash_upgrade(&after));
    assert_eq!(after.auth_epoch, before.auth_epoch);
    assert!(
        browser.is_logged_in().await,
        "the upgrade ended the session"
    );
    // And the new hash works.
    assert_redirect_to(
        &app.browser()
            .login("kim@example.com", support::PASSWORD)
            .await,
        "/profile",
    );
}

#[rocket::async_test]
async fn the_signup_form_states_the_configured_minimum() {
    let app = TestApp::builder()
        .setting("password_min_length", 20)
        .spawn()
        .await;

    let reply = app.browser().get("/signup").await;

    assert!(
        reply.body.contains("At least 20 characters"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(r#"minlength="20""#), "{}", reply.body);
}
