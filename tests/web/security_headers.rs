//! Security headers on every page, error pages included, and no caching of anything that
//! may show user data or session state.

use crate::support::*;
use rocket::http::Status;

#[track_caller]
fn assert_security_headers(reply: &Reply) {
    let csp = reply
        .header("Content-Security-Policy")
        .unwrap_or_else(|| panic!("no CSP on a {} answer", reply.status));
    assert!(csp.contains("default-src 'self'"), "CSP: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "CSP: {csp}");
    assert_eq!(reply.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(reply.header("Referrer-Policy"), Some("same-origin"));
    assert_eq!(reply.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(
        reply.header("Cross-Origin-Opener-Policy"),
        Some("same-origin")
    );
    assert_eq!(
        reply.header("Permissions-Policy"),
        Some("interest-cohort=()")
    );
    // Each is set once, whichever fairings touch it: a header sent twice is ambiguous.
    for name in [
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "X-Frame-Options",
        "Cross-Origin-Opener-Policy",
        "Permissions-Policy",
        "Cache-Control",
    ] {
        let times = reply
            .headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name))
            .count();
        assert_eq!(times, 1, "{name} sent {times} times");
    }
}

#[track_caller]
fn assert_not_cached(reply: &Reply) {
    let cache_control = reply.header("Cache-Control").unwrap_or_default();
    assert!(
        cache_control.contains("no-store"),
        "Cache-Control: {cache_control:?}"
    );
}

#[rocket::async_test]
async fn home_page_has_security_headers() {
    let app = spawn_app().await;

    let reply = app.browser().get("/").await;

    assert_eq!(reply.status, Status::Ok);
    assert_security_headers(&reply);
}

#[rocket::async_test]
async fn login_page_has_security_headers() {
    let app = spawn_app().await;

    let reply = app.browser().get("/login").await;

    assert_security_headers(&reply);
}

#[rocket::async_test]
async fn profile_page_has_security_headers() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/profile").await;

    assert_eq!(reply.status, Status::Ok);
    assert_security_headers(&reply);
}

#[rocket::async_test]
async fn not_found_page_has_security_headers() {
    let app = spawn_app().await;

    let reply = app.browser().get("/no/such/page").await;

    assert_eq!(reply.status, Status::NotFound);
    assert_security_headers(&reply);
}

#[rocket::async_test]
async fn forbidden_page_has_security_headers() {
    let app = spawn_app().await;

    let reply = app.browser().post_form("/login", &[]).await;

    assert_eq!(reply.status, Status::Forbidden);
    assert_security_headers(&reply);
}

#[rocket::async_test]
async fn redirects_have_security_headers() {
    let app = spawn_app().await;

    let reply = app.browser().get("/profile").await;

    assert_eq!(reply.status, Status::SeeOther);
    assert_security_headers(&reply);
}

#[rocket::async_test]
async fn profile_page_is_not_cached() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/profile").await;

    assert_not_cached(&reply);
}

#[rocket::async_test]
async fn login_page_is_not_cached() {
    let app = spawn_app().await;

    let reply = app.browser().get("/login").await;

    assert_not_cached(&reply);
}

#[rocket::async_test]
async fn signup_page_is_not_cached() {
    let app = spawn_app().await;

    let reply = app.browser().get("/signup").await;

    assert_not_cached(&reply);
}

#[rocket::async_test]
async fn a_failed_login_page_is_not_cached() {
    let app = spawn_app().await;

    let reply = app.browser().login("nobody@example.com", PASSWORD).await;

    assert_eq!(reply.status, Status::Unauthorized);
    assert_not_cached(&reply);
}

#[rocket::async_test]
async fn a_missing_static_file_logged_in_is_not_cacheable() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let token = browser.csrf_token_from("/profile").await;

    let reply = browser.get("/static/missing.css").await;

    assert_eq!(reply.status, Status::NotFound);
    // The error page is personalised: a shared cache must never keep it.
    assert_contains(&reply.body, "alice@example.com");
    assert_contains(&reply.body, &token);
    assert_not_cached(&reply);
    let cache_control = reply.header("Cache-Control").unwrap_or_default();
    assert!(!cache_control.contains("public"), "{cache_control}");
}

#[rocket::async_test]
async fn other_errors_under_static_are_not_cacheable() {
    let app = spawn_app().await;
    let browser = app.browser();

    let traversal = browser.get("/static/../Cargo.toml").await;
    let post = browser.post_form("/static/style.css", &[]).await;

    for reply in [traversal, post] {
        assert!(reply.status.code >= 400, "{}", reply.status);
        assert_not_cached(&reply);
    }
}

#[rocket::async_test]
async fn a_served_static_file_may_be_cached_publicly() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/static/style.css").await;

    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.header("Cache-Control"), Some("public, max-age=3600"));
}
