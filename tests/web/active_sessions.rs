//! Active sessions (`/sessions`): a person sees every session of theirs, the current one
//! marked, and can end any one of them, or all but the current, with effect at once.
//! Never someone else's, and never without the form's CSRF token.

use crate::support::*;
use rocket::http::Status;

const ALICE: &str = "alice@example.com";

/// One row of the sessions table.
#[derive(Debug)]
struct Row {
    key: String,
    current: bool,
}

async fn sessions_of(browser: &Browser<'_>) -> Vec<Row> {
    let reply = browser.get("/sessions").await;
    assert_eq!(reply.status, Status::Ok, "body:\n{}", reply.body);
    rows(&reply.body)
}

fn rows(body: &str) -> Vec<Row> {
    let tbody = body
        .split_once("<tbody>")
        .and_then(|(_, rest)| rest.split_once("</tbody>"))
        .map(|(rows, _)| rows)
        .unwrap_or_else(|| panic!("no sessions table:\n{body}"));
    tbody
        .split("<tr")
        .skip(1)
        .map(|row| Row {
            key: field_value(row, "key").expect("a key field in every row"),
            current: row.starts_with(r#" class="current""#) && row.contains("this browser"),
        })
        .collect()
}

/// A second browser logged in as an existing user.
async fn logged_in_as<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let browser = app.browser();
    assert_redirect_to(&browser.login(email, PASSWORD).await, "/profile");
    browser
}

async fn revoke(browser: &Browser<'_>, key: &str) -> Reply {
    let token = browser.csrf_token_from("/sessions").await;
    browser
        .post_form("/sessions/revoke", &[("key", key), ("csrf_token", &token)])
        .await
}

async fn revoke_others(browser: &Browser<'_>) -> Reply {
    let token = browser.csrf_token_from("/sessions").await;
    browser
        .post_form("/sessions/revoke-others", &[("csrf_token", &token)])
        .await
}

#[rocket::async_test]
async fn an_anonymous_visit_is_sent_to_login_and_back() {
    let app = spawn_app().await;

    let reply = app.browser().get("/sessions").await;

    assert_redirect_to(&reply, "/login?next=/sessions");
}

#[rocket::async_test]
async fn lists_both_sessions_of_a_user_with_the_current_one_marked() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;

    let rows = sessions_of(&laptop).await;

    assert_eq!(rows.len(), 2, "{rows:?}");
    let current: Vec<&Row> = rows.iter().filter(|r| r.current).collect();
    assert_eq!(current.len(), 1, "{rows:?}");
    assert_eq!(current[0].key, store_key_of(&laptop));
    assert!(rows
        .iter()
        .any(|r| !r.current && r.key == store_key_of(&phone)));
}

#[rocket::async_test]
async fn each_browser_sees_its_own_session_as_the_current_one() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;

    let rows = sessions_of(&phone).await;

    let current = rows.iter().find(|r| r.current).expect("a current session");
    assert_eq!(current.key, store_key_of(&phone));
    assert_ne!(current.key, store_key_of(&laptop));
}

#[rocket::async_test]
async fn lists_only_the_users_own_sessions() {
    let app = spawn_app().await;
    let alice = app.logged_in_browser(ALICE).await;
    let mallory = app.logged_in_browser("mallory@example.com").await;

    let rows = sessions_of(&mallory).await;

    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].key, store_key_of(&mallory));
    let page = mallory.get("/sessions").await.body;
    assert_not_contains(&page, &store_key_of(&alice));
}

#[rocket::async_test]
async fn shows_each_sessions_browser() {
    use rocket::http::{ContentType, Header, Method};
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = app.browser();
    let token = phone.csrf_token_from("/login").await;
    let request = phone
        .request(Method::Post, "/login")
        .header(ContentType::Form)
        .header(Header::new("User-Agent", "PhoneBrowser/2.0"))
        .body(encode_form(&[
            ("email", ALICE),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ]));
    assert_redirect_to(&phone.send(request).await, "/profile");

    let page = html_unescape(&laptop.get("/sessions").await.body);

    assert_contains(&page, "PhoneBrowser/2.0");
}

#[rocket::async_test]
async fn revoking_the_other_session_ends_it_at_once() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;
    let phone_cookie = phone.session_cookie().unwrap();

    let reply = revoke(&laptop, &store_key_of(&phone)).await;

    assert_redirect_to(&reply, "/sessions");
    assert_sent_to_login(&phone.get("/profile").await);
    let replay = app.browser();
    replay.set_session_cookie(&phone_cookie);
    assert_sent_to_login(&replay.get("/profile").await);
    assert!(laptop.is_logged_in().await);
    let rows = sessions_of(&laptop).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].current);
}

#[rocket::async_test]
async fn a_revoked_session_is_refused_by_the_api_too() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;
    assert_eq!(phone.get("/api/v1/users/me").await.status, Status::Ok);

    revoke(&laptop, &store_key_of(&phone)).await;

    assert_eq!(
        phone.get("/api/v1/users/me").await.status,
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn revoking_says_so_on_the_next_page() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;
    revoke(&laptop, &store_key_of(&phone)).await;

    let page = laptop.get("/sessions").await.body;

    assert_contains(&page, "That session has ended.");
}

#[rocket::async_test]
async fn revoking_the_current_session_logs_this_browser_out() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;

    let reply = revoke(&laptop, &store_key_of(&laptop)).await;

    assert_redirect_to(&reply, "/login");
    let removal = reply.cookie(SESSION_COOKIE).expect("the cookie is removed");
    assert!(is_removal(removal));
    assert!(!laptop.is_logged_in().await);
    assert!(phone.is_logged_in().await);
}

#[rocket::async_test]
async fn revoking_another_users_session_is_not_found_and_changes_nothing() {
    let app = spawn_app().await;
    let alice = app.logged_in_browser(ALICE).await;
    let mallory = app.logged_in_browser("mallory@example.com").await;

    let reply = revoke(&mallory, &store_key_of(&alice)).await;

    assert_error_page(&reply, Status::NotFound);
    assert!(alice.is_logged_in().await);
    assert_eq!(sessions_of(&alice).await.len(), 1);
    assert!(mallory.is_logged_in().await);
}

#[rocket::async_test]
async fn another_users_key_and_an_unknown_key_get_the_same_answer() {
    let app = spawn_app().await;
    let alice = app.logged_in_browser(ALICE).await;
    let mallory = app.logged_in_browser("mallory@example.com").await;

    let theirs = revoke(&mallory, &store_key_of(&alice)).await;
    let unknown = revoke(&mallory, &"ab".repeat(32)).await;

    assert_eq!(theirs.status, unknown.status);
    assert_eq!(theirs.body, unknown.body);
}

#[rocket::async_test]
async fn malformed_or_missing_keys_are_not_found() {
    let app = spawn_app().await;
    let alice = app.logged_in_browser(ALICE).await;
    let token = alice.csrf_token_from("/sessions").await;

    for key in ["", "zz", "abc", &"g".repeat(64), &"a".repeat(66)] {
        let reply = alice
            .post_form("/sessions/revoke", &[("key", key), ("csrf_token", &token)])
            .await;
        assert_error_page(&reply, Status::NotFound);
    }
    let reply = alice
        .post_form("/sessions/revoke", &[("csrf_token", &token)])
        .await;
    assert_error_page(&reply, Status::NotFound);
    assert!(alice.is_logged_in().await);
}

#[rocket::async_test]
async fn revoke_without_the_csrf_token_is_forbidden_and_changes_nothing() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;

    let reply = laptop
        .post_form("/sessions/revoke", &[("key", &store_key_of(&phone))])
        .await;

    assert_error_page(&reply, Status::Forbidden);
    assert!(phone.is_logged_in().await);
    assert_eq!(sessions_of(&laptop).await.len(), 2);
}

#[rocket::async_test]
async fn revoke_with_another_sessions_csrf_token_is_forbidden() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;
    let phones_token = phone.csrf_token_from("/sessions").await;

    let reply = laptop
        .post_form(
            "/sessions/revoke",
            &[
                ("key", &store_key_of(&phone)),
                ("csrf_token", &phones_token),
            ],
        )
        .await;

    assert_error_page(&reply, Status::Forbidden);
    assert!(phone.is_logged_in().await);
}

#[rocket::async_test]
async fn log_out_everywhere_else_leaves_only_the_current_session() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;
    let tablet = logged_in_as(&app, ALICE).await;
    let bob = app.logged_in_browser("bob@example.com").await;

    let reply = revoke_others(&laptop).await;

    assert_redirect_to(&reply, "/sessions");
    assert!(!phone.is_logged_in().await);
    assert!(!tablet.is_logged_in().await);
    assert!(laptop.is_logged_in().await);
    assert!(
        bob.is_logged_in().await,
        "another user's session is untouched"
    );
    let rows = sessions_of(&laptop).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].key, store_key_of(&laptop));
    assert!(rows[0].current);
}

#[rocket::async_test]
async fn log_out_everywhere_else_counts_what_it_ended() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let _phone = logged_in_as(&app, ALICE).await;
    let _tablet = logged_in_as(&app, ALICE).await;

    revoke_others(&laptop).await;
    let first = laptop.get("/sessions").await.body;
    revoke_others(&laptop).await;
    let second = laptop.get("/sessions").await.body;

    assert_contains(&first, "Logged out 2 other sessions.");
    assert_contains(&second, "There were no other sessions.");
}

#[rocket::async_test]
async fn log_out_everywhere_else_without_the_csrf_token_is_forbidden_and_changes_nothing() {
    let app = spawn_app().await;
    let laptop = app.logged_in_browser(ALICE).await;
    let phone = logged_in_as(&app, ALICE).await;

    let reply = laptop.post_form("/sessions/revoke-others", &[]).await;

    assert_error_page(&reply, Status::Forbidden);
    assert!(phone.is_logged_in().await);
    assert_eq!(sessions_of(&laptop).await.len(), 2);
}

#[rocket::async_test]
async fn anonymous_revoke_requests_change_nothing() {
    let app = spawn_app().await;
    let alice = app.logged_in_browser(ALICE).await;
    let key = store_key_of(&alice);
    let stranger = app.browser();

    let one = stranger
        .post_form("/sessions/revoke", &[("key", &key)])
        .await;
    let all = stranger.post_form("/sessions/revoke-others", &[]).await;

    for reply in [&one, &all] {
        assert!(
            reply.status.class() == rocket::http::StatusClass::ClientError,
            "{}: {}",
            reply.status,
            reply.body
        );
    }
    assert!(alice.is_logged_in().await);
}

#[rocket::async_test]
async fn expired_sessions_are_not_listed() {
    let app = spawn_app().await;
    let old = app.logged_in_browser(ALICE).await;
    app.advance(time::Duration::minutes(25));
    let fresh = logged_in_as(&app, ALICE).await;
    app.advance(time::Duration::minutes(10));

    let rows = sessions_of(&fresh).await;

    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].key, store_key_of(&fresh));
    assert!(!old.is_logged_in().await);
}
