//! `max_sessions_per_user`: a login past the limit ends the account's least recently
//! used session (not simply the oldest), and 0 means no limit.

use time::Duration;

use crate::support::{TestApp, PASSWORD};

const ANN: &str = "ann@example.com";

/// Past the touch interval, so the next request writes its "last seen" back.
fn a_while() -> Duration {
    Duration::seconds(61)
}

#[rocket::async_test]
async fn a_login_past_the_limit_ends_the_least_recently_used_session() {
    let app = TestApp::builder()
        .setting("max_sessions_per_user", 3)
        .spawn()
        .await;
    let first = app.logged_in_browser(ANN).await;
    app.advance(a_while());
    let second = app.browser();
    second.login(ANN, PASSWORD).await;
    app.advance(a_while());
    // The first session is used again: the second is now the least recently used.
    assert!(first.is_logged_in().await);
    app.advance(a_while());
    let third = app.browser();
    third.login(ANN, PASSWORD).await;
    app.advance(a_while());

    let fourth = app.browser();
    crate::support::assert_redirect_to(&fourth.login(ANN, PASSWORD).await, "/profile");

    assert!(!second.is_logged_in().await, "the LRU session survived");
    assert!(first.is_logged_in().await);
    assert!(third.is_logged_in().await);
    assert!(fourth.is_logged_in().await);
}

#[rocket::async_test]
async fn the_limit_is_per_account() {
    let app = TestApp::builder()
        .setting("max_sessions_per_user", 1)
        .spawn()
        .await;
    let ann = app.logged_in_browser(ANN).await;
    let bob = app.logged_in_browser("bob@example.com").await;

    let ann_again = app.browser();
    ann_again.login(ANN, PASSWORD).await;

    assert!(!ann.is_logged_in().await);
    assert!(ann_again.is_logged_in().await);
    assert!(bob.is_logged_in().await, "another account's session ended");
}

#[rocket::async_test]
async fn zero_means_no_limit() {
    let app = TestApp::builder()
        .setting("max_sessions_per_user", 0)
        .spawn()
        .await;
    let mut browsers = vec![app.logged_in_browser(ANN).await];
    for _ in 0..4 {
        let browser = app.browser();
        browser.login(ANN, PASSWORD).await;
        browsers.push(browser);
    }

    for browser in &browsers {
        assert!(browser.is_logged_in().await);
    }
}
