//! The page flows a person goes through: home, signup, login, profile, logout, health.

use crate::support::*;
use rocket::http::Status;

// ---- home -------------------------------------------------------------------------

#[rocket::async_test]
async fn home_offers_login_and_signup_to_anonymous_visitors() {
    let app = spawn_app().await;

    let reply = app.browser().get("/").await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(&reply.body, r#"href="/login""#);
    assert_contains(&reply.body, r#"href="/signup""#);
    assert_not_contains(&reply.body, r#"href="/profile""#);
}

#[rocket::async_test]
async fn home_links_to_the_profile_when_logged_in() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/").await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(&reply.body, r#"href="/profile""#);
    assert_not_contains(&reply.body, r#"href="/signup""#);
}

// ---- signup -------------------------------------------------------------------------

#[rocket::async_test]
async fn signup_logs_in_and_redirects_to_the_profile() {
    let app = spawn_app().await;
    let browser = app.browser();

    let reply = browser.signup("alice@example.com", PASSWORD).await;

    assert_redirect_to(&reply, "/profile");
    assert!(reply.cookie(SESSION_COOKIE).is_some(), "no session cookie");
    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn signup_welcome_message_is_shown_on_the_profile() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.signup("alice@example.com", PASSWORD).await;

    let reply = browser.get("/profile").await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(&reply.body, "Welcome to Latchkey!");
}

/// Submits the signup form and checks the common shape of a refusal: the status, the
/// message, the typed email kept, the typed password nowhere in the page.
async fn assert_signup_refused(form: Signup<'_>, status: Status, message: &str) {
    let app = spawn_app().await;
    let browser = app.browser();

    let reply = browser.signup_with(&form).await;

    assert_eq!(reply.status, status, "body:\n{}", reply.body);
    assert_html(&reply);
    assert_contains(&reply.body, message);
    assert_eq!(
        field_value(&reply.body, "email").as_deref(),
        Some(form.email)
    );
    assert_eq!(field_value(&reply.body, "password"), None);
    assert_eq!(field_value(&reply.body, "password_confirmation"), None);
    assert_not_contains(&reply.body, form.password);
    assert_not_contains(&reply.body, form.password_confirmation);
    assert!(
        reply.cookie(SESSION_COOKIE).is_none(),
        "a session was started"
    );
}

#[rocket::async_test]
async fn signup_with_an_invalid_email_is_refused_with_422_and_keeps_the_email() {
    let form = Signup::new("not-an-email", "a perfectly fine password");
    assert_signup_refused(
        form,
        Status::UnprocessableEntity,
        "Enter an email address like",
    )
    .await;
}

#[rocket::async_test]
async fn signup_with_a_password_under_15_characters_is_refused_with_422() {
    let form = Signup::new("alice@example.com", "fourteen chars");
    assert_signup_refused(form, Status::UnprocessableEntity, "at least 15 characters").await;
}

#[rocket::async_test]
async fn signup_with_a_password_over_128_characters_is_refused_with_422() {
    let long = "p".repeat(129);
    let form = Signup::new("alice@example.com", &long);
    assert_signup_refused(form, Status::UnprocessableEntity, "at most 128 characters").await;
}

#[rocket::async_test]
async fn signup_with_mismatched_confirmation_is_refused_with_422() {
    let form = Signup {
        password_confirmation: "something else entirely",
        ..Signup::new("alice@example.com", "the first password")
    };
    assert_signup_refused(
        form,
        Status::UnprocessableEntity,
        "The passwords do not match.",
    )
    .await;
}

#[rocket::async_test]
async fn signup_with_a_taken_email_in_other_case_is_refused_with_409() {
    let app = spawn_app().await;
    app.create_user("bob@x.com", PASSWORD).await;
    let browser = app.browser();

    let reply = browser.signup("BOB@x.com", "another good password").await;

    assert_eq!(reply.status, Status::Conflict, "body:\n{}", reply.body);
    assert_contains(&reply.body, "An account with this email already exists.");
    assert_eq!(
        field_value(&reply.body, "email").as_deref(),
        Some("BOB@x.com")
    );
    assert_not_contains(&reply.body, "another good password");
    assert!(reply.cookie(SESSION_COOKIE).is_none());
}

#[rocket::async_test]
async fn signup_stores_the_email_lowercased_and_trimmed() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.signup("  Alice@Example.COM ", PASSWORD).await;

    let reply = browser.get("/profile").await;

    assert_contains(&reply.body, "<dd>alice@example.com</dd>");
    assert_not_contains(&reply.body, "Alice@Example.COM");
}

// ---- login --------------------------------------------------------------------------

#[rocket::async_test]
async fn login_redirects_to_the_profile() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let browser = app.browser();

    let reply = browser.login("alice@example.com", PASSWORD).await;

    assert_redirect_to(&reply, "/profile");
    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn login_is_case_insensitive_in_the_email() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let browser = app.browser();

    let reply = browser.login("ALICE@Example.com", PASSWORD).await;

    assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn login_with_a_local_next_path_redirects_there() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let browser = app.browser();

    let reply = browser
        .login_with_next("alice@example.com", PASSWORD, "/somewhere")
        .await;

    assert_redirect_to(&reply, "/somewhere");
}

#[rocket::async_test]
async fn login_page_carries_next_into_its_form() {
    let app = spawn_app().await;

    let reply = app.browser().get("/login?next=/profile").await;

    assert_eq!(reply.status, Status::Ok);
    assert_eq!(
        field_value(&reply.body, "next").as_deref(),
        Some("/profile")
    );
}

#[rocket::async_test]
async fn login_page_redirects_a_logged_in_visitor_to_the_profile() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/login").await;

    assert_redirect_to(&reply, "/profile");
}

// ---- profile ------------------------------------------------------------------------

#[rocket::async_test]
async fn profile_without_a_session_redirects_to_login_with_next() {
    let app = spawn_app().await;

    let reply = app.browser().get("/profile").await;

    assert_redirect_to(&reply, "/login?next=/profile");
}

#[rocket::async_test]
async fn profile_shows_email_and_names() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser
        .signup_with(&Signup {
            first_name: "Ada",
            last_name: "Lovelace",
            ..Signup::new("ada@example.com", PASSWORD)
        })
        .await;

    let reply = browser.get("/profile").await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(&reply.body, "<dd>ada@example.com</dd>");
    assert_contains(&reply.body, "<dd>Ada</dd>");
    assert_contains(&reply.body, "<dd>Lovelace</dd>");
}

#[rocket::async_test]
async fn profile_shows_account_and_session_times_from_the_clock() {
    let app = spawn_app().await;
    let signed_up_at = app.now();
    let browser = app.logged_in_browser("alice@example.com").await;
    app.advance(time::Duration::minutes(2));
    let seen_at = app.now();

    let reply = browser.get("/profile").await;

    assert_eq!(reply.status, Status::Ok);
    let page = &reply.body;
    let started = format!(">{}</time>", shown_time(signed_up_at));
    let last_seen = format!(">{}</time>", shown_time(seen_at));
    // Default idle timeout: 30 minutes after the last activity.
    let expires = format!(
        ">{}</time>",
        shown_time(seen_at + time::Duration::minutes(30))
    );
    // Default absolute timeout: 12 hours after login.
    let latest = format!(
        ">{}</time>",
        shown_time(signed_up_at + time::Duration::hours(12))
    );
    let created = format!(">{}</time>", shown_time(signed_up_at));
    for (label, shown) in [
        ("Account created", &created),
        ("Started", &started),
        ("Last seen", &last_seen),
        ("Expires", &expires),
        ("Ends at the latest", &latest),
    ] {
        let section = page
            .split(&format!("<dt>{label}</dt>"))
            .nth(1)
            .unwrap_or_else(|| panic!("no {label} on the profile:\n{page}"));
        let value = section.split("</dd>").next().unwrap();
        assert!(
            value.contains(shown.as_str()),
            "{label} should show {shown}, shows {value}"
        );
    }
}

// ---- logout -------------------------------------------------------------------------

#[rocket::async_test]
async fn get_logout_asks_for_confirmation_with_a_post_form() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/logout").await;

    assert_eq!(reply.status, Status::Ok);
    let form = reply.body.split("<main").nth(1).expect("a main element");
    assert_contains(form, r#"<form method="post" action="/logout">"#);
    assert_contains(form, r#"name="csrf_token""#);
}

#[rocket::async_test]
async fn get_logout_does_not_log_out() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/logout").await;

    assert_eq!(reply.status, Status::Ok);
    assert!(
        reply.cookie(SESSION_COOKIE).is_none(),
        "GET /logout touched the session cookie"
    );
    assert!(browser.is_logged_in().await);
}

#[rocket::async_test]
async fn post_logout_redirects_to_login() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.logout().await;

    assert_redirect_to(&reply, "/login");
}

#[rocket::async_test]
async fn post_logout_tells_the_browser_to_drop_the_session_cookie() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.logout().await;

    let cookie = reply
        .cookie(SESSION_COOKIE)
        .expect("logout sends a Set-Cookie for the session");
    assert!(is_removal(cookie), "not a removal: {cookie}");
    let header = reply.set_cookie_header(SESSION_COOKIE).unwrap();
    assert!(header.contains("Max-Age=0"), "{header}");
    assert!(header.contains("Path=/"), "{header}");
    assert!(browser.session_cookie().is_none());
}

#[rocket::async_test]
async fn post_logout_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let cookie = browser.session_cookie().unwrap();

    browser.logout().await;

    let replay = app.browser();
    replay.set_session_cookie(&cookie);
    assert_sent_to_login(&replay.get("/profile").await);
}

#[rocket::async_test]
async fn login_page_after_logout_says_you_have_been_logged_out() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    browser.logout().await;

    let reply = browser.get("/login").await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(&reply.body, "You have been logged out.");
}

#[rocket::async_test]
async fn get_logout_without_a_session_redirects_to_login() {
    let app = spawn_app().await;

    let reply = app.browser().get("/logout").await;

    assert_redirect_to(&reply, "/login");
}

#[rocket::async_test]
async fn post_logout_without_a_session_and_with_a_valid_form_redirects_to_login() {
    let app = spawn_app().await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;

    let reply = browser
        .post_form("/logout", &[("csrf_token", &token)])
        .await;

    assert_redirect_to(&reply, "/login");
}

#[rocket::async_test]
async fn post_logout_without_a_session_or_a_token_is_forbidden() {
    let app = spawn_app().await;

    let reply = app.browser().post_form("/logout", &[]).await;

    assert_error_page(&reply, rocket::http::Status::Forbidden);
}

// ---- health -------------------------------------------------------------------------

#[rocket::async_test]
async fn health_answers_ok_in_plain_text() {
    let app = spawn_app().await;

    let reply = app.browser().get("/health").await;

    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.body, "ok");
    let content_type = reply.content_type().unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
}

#[rocket::async_test]
async fn health_sets_no_cookie() {
    let app = spawn_app().await;

    let reply = app.browser().get("/health").await;

    assert_eq!(reply.set_cookie_headers(), Vec::<&str>::new());
}
