//! The current-password check on `POST /password` counts like a login: wrong current
//! passwords use up the same budget, past it the answer is 429 with `Retry-After` (the
//! right password included, until the window ends), and no password is hashed while
//! refused, so one session cannot make the server hash without limit.

use latchkey::auth::Auth;
use rocket::http::Status;
use time::Duration;

use crate::support::{Browser, Reply, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "a completely new passphrase";

async fn change_password(browser: &Browser<'_>, current: &str) -> Reply {
    let token = browser.csrf_token_from("/password").await;
    browser
        .post_form(
            "/password",
            &[
                ("current_password", current),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await
}

fn hash_runs(app: &TestApp) -> u64 {
    app.client
        .rocket()
        .state::<Auth>()
        .expect("Auth is managed")
        .hash_runs()
}

#[rocket::async_test]
async fn wrong_current_passwords_are_throttled_like_failed_logins() {
    let app = TestApp::builder().spawn().await;
    let ann = app.logged_in_browser("ann@example.com").await;

    let mut first_refusal = None;
    for attempt in 1..=40 {
        let reply = change_password(&ann, "not my current password").await;
        match reply.status {
            Status::UnprocessableEntity => {}
            Status::TooManyRequests => {
                let wait: u64 = reply
                    .header("Retry-After")
                    .expect("Retry-After on the 429")
                    .parse()
                    .expect("seconds");
                assert!(wait > 0);
                first_refusal = Some(attempt);
                break;
            }
            other => panic!("attempt {attempt}: {other}"),
        }
    }

    let refused_at = first_refusal.expect("no 429 in 40 wrong current passwords");
    assert!(refused_at < 40, "refused only at {refused_at}");
    // While locked, the right password is refused too, without being hashed.
    let runs = hash_runs(&app);
    let right = change_password(&ann, PASSWORD).await;
    assert_eq!(right.status, Status::TooManyRequests);
    assert!(right.header("Retry-After").is_some());
    assert_eq!(hash_runs(&app), runs, "a refused check ran the hash");
    assert!(ann.is_logged_in().await, "the refusal ended the session");
}

#[rocket::async_test]
async fn the_lock_is_the_login_lock_and_it_ends_with_its_window() {
    let app = TestApp::builder().spawn().await;
    let ann = app.logged_in_browser("ann@example.com").await;
    for _ in 0..5 {
        let reply = change_password(&ann, "not my current password").await;
        assert_eq!(reply.status, Status::UnprocessableEntity);
    }

    // Same counters: the login form from this address is locked for ann as well.
    let other = app.browser();
    assert_eq!(
        other.login("ann@example.com", PASSWORD).await.status,
        Status::TooManyRequests
    );

    app.advance(Duration::seconds(15 * 60 + 1));
    let reply = change_password(&ann, PASSWORD).await;
    crate::support::assert_redirect_to(&reply, "/profile");
    assert_eq!(
        app.browser()
            .login("ann@example.com", NEW_PASSWORD)
            .await
            .status,
        Status::SeeOther
    );
}

#[rocket::async_test]
async fn a_right_current_password_still_works_before_the_limit() {
    let app = TestApp::builder().spawn().await;
    let ann = app.logged_in_browser("ann@example.com").await;
    for _ in 0..3 {
        change_password(&ann, "not my current password").await;
    }

    let reply = change_password(&ann, PASSWORD).await;

    crate::support::assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn one_account_has_one_current_password_check_running_at_a_time() {
    // Counters off: only the one-at-a-time rule bounds the hashing here.
    let app = TestApp::builder()
        .setting("login_failures_per_account_address", 0)
        .setting("login_failures_per_account", 0)
        .setting("login_failures_per_address", 0)
        .spawn()
        .await;
    let ann = app.logged_in_browser("ann@example.com").await;
    let token = ann.csrf_token_from("/password").await;
    let runs = hash_runs(&app);

    let attempts = (0..8).map(|_| {
        let request = ann
            .request(rocket::http::Method::Post, "/password")
            .header(rocket::http::ContentType::Form)
            .body(crate::support::encode_form(&[
                ("current_password", "not my current password"),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
                ("csrf_token", &token),
            ]));
        ann.send(request)
    });
    let replies = rocket::futures::future::join_all(attempts).await;

    let refused = replies
        .iter()
        .filter(|reply| reply.status == Status::TooManyRequests)
        .count();
    let checked = replies
        .iter()
        .filter(|reply| reply.status == Status::UnprocessableEntity)
        .count();
    assert_eq!(refused + checked, 8);
    assert!(refused > 0, "eight parallel checks all ran");
    // A wrong password is checked as typed (ASCII: once) per request that ran.
    assert_eq!(hash_runs(&app) - runs, checked as u64);
}
