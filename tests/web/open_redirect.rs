//! `next` after login may only be a path on this site (OWASP Unvalidated Redirects and
//! Forwards Cheat Sheet). Anything else falls back to the profile.

use crate::support::*;

/// Logs in with `next` and returns where the login sent the browser.
async fn redirect_after_login_with_next(next: &str) -> Reply {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    app.browser()
        .login_with_next("alice@example.com", PASSWORD, next)
        .await
}

macro_rules! falls_back_to_profile {
    ($($name:ident: $next:expr,)*) => {$(
        #[rocket::async_test]
        async fn $name() {
            let reply = redirect_after_login_with_next($next).await;

            assert_redirect_to(&reply, "/profile");
        }
    )*};
}

falls_back_to_profile! {
    protocol_relative_next_is_ignored: "//evil.example",
    absolute_https_next_is_ignored: "https://evil.example",
    slash_backslash_next_is_ignored: "/\\evil.example",
    double_backslash_next_is_ignored: "\\\\evil.example",
    javascript_next_is_ignored: "javascript:alert(1)",
    percent_encoded_backslash_next_is_ignored: "/%5Cevil",
    next_with_a_space_is_ignored: "/ /evil.example",
    next_with_a_tab_is_ignored: "/\t/evil.example",
    next_with_a_newline_is_ignored: "/\n/evil.example",
    next_with_a_header_injection_is_ignored: "/profile\r\nSet-Cookie: x=1",
    next_with_leading_whitespace_is_ignored: " //evil.example",
    empty_next_is_ignored: "",
}

#[rocket::async_test]
async fn local_next_with_a_query_is_kept() {
    let reply = redirect_after_login_with_next("/profile?tab=1").await;

    assert_redirect_to(&reply, "/profile?tab=1");
}

#[rocket::async_test]
async fn login_page_drops_an_unsafe_next_from_its_form() {
    let app = spawn_app().await;

    let reply = app.browser().get("/login?next=%2F%2Fevil.example").await;

    assert_eq!(field_value(&reply.body, "next"), None);
    assert_not_contains(&reply.body, "evil.example");
}

#[rocket::async_test]
async fn a_logged_in_visit_to_login_ignores_an_unsafe_next() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/login?next=%2F%2Fevil.example").await;

    assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn a_logged_in_visit_to_login_follows_a_local_next() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/login?next=%2Fsomewhere").await;

    assert_redirect_to(&reply, "/somewhere");
}
