//! The session inspector (`GET /session`): the cookie as Latchkey set it, the value the
//! browser sends (cut short), the id the server decrypts it to (shortened, never whole),
//! the store key and store, and the record's times.

use crate::support::*;
use rocket::http::{ContentType, Header, Method, Status};

/// The text of the `<dd>` that follows `<dt>{label}</dt>`, tags kept, entities decoded.
fn fact(body: &str, label: &str) -> String {
    let marker = format!("<dt>{label}</dt><dd>");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {label:?} on the page:\n{body}"))
        + marker.len();
    let end = body[start..].find("</dd>").expect("closing </dd>") + start;
    html_unescape(&body[start..end])
}

/// The text inside the first `<code>` of a fact.
fn code_in(fact: &str) -> String {
    let start = fact.find("<code").expect("a <code>");
    let start = fact[start..].find('>').unwrap() + start + 1;
    let end = fact[start..].find("</code>").unwrap() + start;
    fact[start..end].to_owned()
}

async fn inspector(browser: &Browser<'_>) -> String {
    let reply = browser.get("/session").await;
    assert_eq!(reply.status, Status::Ok, "body:\n{}", reply.body);
    assert_html(&reply);
    reply.body
}

#[rocket::async_test]
async fn an_anonymous_visit_is_sent_to_login_and_back() {
    let app = spawn_app().await;

    let reply = app.browser().get("/session").await;

    assert_redirect_to(&reply, "/login?next=/session");
}

#[rocket::async_test]
async fn a_dead_session_cookie_is_sent_to_login_too() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let cookie = browser.session_cookie().unwrap();
    browser.logout().await;
    let replay = app.browser();
    replay.set_session_cookie(&cookie);

    let reply = replay.get("/session").await;

    assert_redirect_to(&reply, "/login?next=/session");
}

#[rocket::async_test]
async fn shows_the_cookie_name_and_its_attributes_as_set() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let body = inspector(&browser).await;

    assert_eq!(code_in(&fact(&body, "Name")), SESSION_COOKIE);
    let attributes = code_in(&fact(&body, "Attributes"));
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(
            attributes.split("; ").any(|a| a == attribute),
            "{attribute} missing from {attributes:?}"
        );
    }
    assert!(!attributes.contains("Secure"), "{attributes:?}");
    assert!(!attributes.contains("Domain"), "{attributes:?}");
}

#[rocket::async_test]
async fn the_attributes_shown_are_those_of_the_real_set_cookie() {
    let app = spawn_app().await;
    let browser = app.browser();
    let reply = browser.signup("alice@example.com", PASSWORD).await;
    let header = reply.set_cookie_header(SESSION_COOKIE).unwrap().to_owned();
    let set: Vec<&str> = header.split("; ").skip(1).collect();

    let body = inspector(&browser).await;

    let shown = code_in(&fact(&body, "Attributes"));
    let shown: Vec<&str> = shown.split("; ").collect();
    assert_eq!(shown, set, "shown {shown:?}, Set-Cookie was {header:?}");
}

#[rocket::async_test]
async fn the_attributes_follow_the_settings() {
    let app = TestApp::builder()
        .setting("session_name", "demo_sid")
        .setting("cookie_secure", true)
        .setting("session_absolute_timeout", 3600)
        .spawn()
        .await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/signup").await;
    // A Secure cookie is still stored by this test browser, as it would be over HTTPS.
    let reply = browser
        .signup_with_token(&Signup::new("alice@example.com", PASSWORD), &token)
        .await;
    assert_redirect_to(&reply, "/profile");

    let body = inspector(&browser).await;

    assert_eq!(code_in(&fact(&body, "Name")), "demo_sid");
    let attributes = code_in(&fact(&body, "Attributes"));
    assert!(attributes.contains("Secure"), "{attributes:?}");
    assert!(attributes.contains("Max-Age=3600"), "{attributes:?}");
}

#[rocket::async_test]
async fn shows_the_value_the_browser_sends_cut_short() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let value = browser.session_cookie().unwrap();

    let body = inspector(&browser).await;

    let shown = code_in(&fact(&body, "Value (as sent)"));
    let visible = shown
        .strip_prefix(&format!("{SESSION_COOKIE}="))
        .and_then(|rest| rest.split('…').next())
        .unwrap_or_else(|| panic!("unexpected value {shown:?}"));
    assert_eq!(visible.chars().count(), 8, "{shown:?}");
    // The browser sends the value percent-encoded, and that is what the page shows.
    let sent = rocket::http::Cookie::new(SESSION_COOKIE, value.clone())
        .encoded()
        .stripped()
        .to_string();
    let sent = sent.split_once('=').unwrap().1;
    assert!(
        sent.starts_with(visible),
        "{visible:?} is not how {sent:?} starts"
    );
    assert_not_contains(&body, &value);
    assert_not_contains(&body, &percent_encode(&value));
}

#[rocket::async_test]
async fn shows_the_session_id_shortened_and_never_whole() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let id = decrypt_session_cookie(&browser.session_cookie().unwrap()).unwrap();
    assert_eq!(id.len(), 32);

    let body = inspector(&browser).await;

    let shown = code_in(&fact(&body, "Decrypted session id"));
    assert_eq!(shown, format!("{}…", &id[..8]));
    // Not whole, and no longer a part of it than the 8 characters on purpose.
    assert_not_contains(&body, &id);
    assert_not_contains(&body, &id[..9]);
    let hyphenated = uuid::Uuid::parse_str(&id).unwrap().hyphenated().to_string();
    assert_not_contains(&body, &hyphenated);
}

#[rocket::async_test]
async fn shows_the_store_key_and_the_store() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let body = inspector(&browser).await;

    let key = code_in(&fact(&body, "Store key"));
    assert_eq!(key.len(), 64, "{key:?}");
    assert!(key
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(key, store_key_of(&browser));
    assert_eq!(fact(&body, "Store").trim(), "memory");
}

#[rocket::async_test]
async fn the_store_key_is_the_one_the_sessions_page_lists() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let key = code_in(&fact(&inspector(&browser).await, "Store key"));

    let sessions = browser.get("/sessions").await;

    assert_eq!(field_value(&sessions.body, "key"), Some(key));
}

#[rocket::async_test]
async fn shows_the_record_times() {
    let app = spawn_app().await;
    let login_at = app.now();
    let browser = app.logged_in_browser("alice@example.com").await;

    let body = inspector(&browser).await;

    assert_contains(&fact(&body, "Created"), &shown_time(login_at));
    assert_contains(&fact(&body, "Last seen"), &shown_time(login_at));
    let idle = fact(&body, "Idle deadline");
    assert_contains(&idle, &shown_time(login_at + time::Duration::minutes(30)));
    assert_contains(&idle, r#"data-countdown="1800""#);
    let absolute = fact(&body, "Absolute deadline");
    assert_contains(&absolute, &shown_time(login_at + time::Duration::hours(12)));
    assert_contains(&absolute, r#"data-countdown="43200""#);
}

#[rocket::async_test]
async fn activity_moves_last_seen_and_the_idle_deadline_but_not_the_rest() {
    let app = spawn_app().await;
    let login_at = app.now();
    let browser = app.logged_in_browser("alice@example.com").await;
    app.advance(time::Duration::minutes(5));
    let later = app.now();

    let body = inspector(&browser).await;

    assert_contains(&fact(&body, "Created"), &shown_time(login_at));
    assert_contains(&fact(&body, "Last seen"), &shown_time(later));
    let idle = fact(&body, "Idle deadline");
    assert_contains(&idle, &shown_time(later + time::Duration::minutes(30)));
    assert_contains(&idle, r#"data-countdown="1800""#);
    let absolute = fact(&body, "Absolute deadline");
    assert_contains(&absolute, &shown_time(login_at + time::Duration::hours(12)));
    assert_contains(&absolute, r#"data-countdown="42900""#);
}

#[rocket::async_test]
async fn shows_the_browser_the_session_was_started_from() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD).await;
    let browser = app.browser();
    let token = browser.csrf_token_from("/login").await;
    let request = browser
        .request(Method::Post, "/login")
        .header(ContentType::Form)
        .header(Header::new("User-Agent", "Demo/1.0 <b>bold</b>"))
        .body(encode_form(&[
            ("email", "alice@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ]));
    assert_redirect_to(&browser.send(request).await, "/profile");

    let body = inspector(&browser).await;

    assert_eq!(fact(&body, "Browser"), "Demo/1.0 <b>bold</b>");
    assert_not_contains(&body, "<b>bold</b>");
}

#[rocket::async_test]
async fn the_countdown_script_is_served_from_this_site() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    let body = inspector(&browser).await;
    assert_contains(
        &body,
        r#"<script src="/static/countdown.js" defer></script>"#,
    );

    let script = browser.get("/static/countdown.js").await;

    assert_eq!(script.status, Status::Ok);
    assert!(script
        .content_type()
        .unwrap_or_default()
        .contains("javascript"));
}

#[rocket::async_test]
async fn the_page_is_never_cached() {
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;

    let reply = browser.get("/session").await;

    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
}
