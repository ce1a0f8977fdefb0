//! "How it works" (`/how-it-works`): each browser's own recent exchanges with Latchkey,
//! with the session cookie's value cut short, so the session workflow can be watched
//! live: the `Set-Cookie` at login, the `Cookie` sent back, the deletion at logout.

use crate::support::*;
use rocket::http::{ContentType, Cookie, Header, Method, Status};

const ALICE: &str = "alice@example.com";
const TRACE_COOKIE: &str = "latchkey_trace";

/// One row of the exchanges table, entities decoded.
#[derive(Debug)]
struct Exchange {
    request: String,
    status: u16,
    cookie: Option<String>,
    set_cookie: Vec<String>,
}

/// The texts inside every `<code ...>...</code>` of a piece of HTML.
fn codes(html: &str) -> Vec<String> {
    html.split("<code")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').unwrap() + 1;
            let end = rest.find("</code>").unwrap();
            html_unescape(&rest[start..end])
        })
        .collect()
}

fn exchanges_in(body: &str) -> Vec<Exchange> {
    let Some((_, rest)) = body.split_once(r#"<ol class="exchanges">"#) else {
        return Vec::new();
    };
    let items = rest.split_once("</ol>").expect("</ol>").0;
    items
        .split("<li>")
        .skip(1)
        .map(|item| {
            let status = item
                .split_once(r#"class="status"#)
                .and_then(|(_, rest)| rest.split_once('>'))
                .and_then(|(_, rest)| rest.split_once("</span>"))
                .map(|(code, _)| code.trim().parse().expect("a status code"))
                .expect("a status");
            let (head, headers) = item
                .split_once("<dt>Cookie sent</dt>")
                .expect("Cookie sent");
            let (sent, set) = headers
                .split_once("<dt>Set-Cookie</dt>")
                .expect("Set-Cookie");
            Exchange {
                request: codes(head).remove(0),
                status,
                cookie: codes(sent).into_iter().next(),
                set_cookie: codes(set),
            }
        })
        .collect()
}

async fn log_of(browser: &Browser<'_>) -> Vec<Exchange> {
    let reply = browser.get("/how-it-works").await;
    assert_eq!(reply.status, Status::Ok, "body:\n{}", reply.body);
    exchanges_in(&reply.body)
}

/// A browser that has opened "How it works" once, so its requests are recorded.
async fn recording_browser(app: &TestApp) -> Browser<'_> {
    let browser = app.browser();
    browser.get("/how-it-works").await;
    assert!(browser.cookie(TRACE_COOKIE).is_some());
    browser
}

/// The `Cookie` header a real browser would send with this browser's cookies.
fn cookie_header(browser: &Browser<'_>) -> String {
    [SESSION_COOKIE, CSRF_COOKIE, TRACE_COOKIE, "_flash"]
        .into_iter()
        .filter_map(|name| {
            let value = browser.cookie(name)?;
            Some(Cookie::new(name, value).encoded().to_string())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Rocket's local client hands cookies to the app in its jar only, with no `Cookie`
/// header, while the log shows the header as it arrived over HTTP. These requests carry
/// both, like a real browser's.
async fn get_over_http(browser: &Browser<'_>, uri: &str) -> Reply {
    let request = browser
        .request(Method::Get, uri)
        .header(Header::new("Cookie", cookie_header(browser)));
    browser.send(request).await
}

async fn logout_over_http(browser: &Browser<'_>) -> Reply {
    let token = browser.csrf_token_from("/").await;
    let request = browser
        .request(Method::Post, "/logout")
        .header(ContentType::Form)
        .header(Header::new("Cookie", cookie_header(browser)))
        .body(encode_form(&[("csrf_token", &token)]));
    browser.send(request).await
}

fn find<'e>(log: &'e [Exchange], request: &str) -> &'e Exchange {
    log.iter()
        .rev()
        .find(|x| x.request == request)
        .unwrap_or_else(|| panic!("no {request:?} in {log:#?}"))
}

/// The part of `name=value…` that is shown of the value, checked to be a real cut.
fn shown_value<'s>(pair: &'s str, name: &str) -> &'s str {
    let value = pair
        .strip_prefix(&format!("{name}="))
        .unwrap_or_else(|| panic!("{pair:?} is not {name}=..."));
    let (visible, rest) = value
        .split_once('…')
        .unwrap_or_else(|| panic!("{pair:?} is not cut short"));
    assert!(visible.chars().count() <= 8, "{pair:?} shows too much");
    assert!(rest.starts_with('(') || rest.is_empty(), "{pair:?}");
    visible
}

#[rocket::async_test]
async fn the_first_visit_starts_recording() {
    let app = spawn_app().await;
    let browser = app.browser();

    let reply = browser.get("/how-it-works").await;

    assert_eq!(reply.status, Status::Ok);
    assert_contains(&reply.body, "Recording started");
    assert!(exchanges_in(&reply.body).is_empty());
    let trace = reply
        .set_cookie_header(TRACE_COOKIE)
        .expect("a trace cookie");
    assert!(trace.contains("HttpOnly"), "{trace}");
    assert!(trace.contains("SameSite=Lax"), "{trace}");
}

#[rocket::async_test]
async fn later_visits_show_what_was_recorded_since() {
    let app = spawn_app().await;
    let browser = recording_browser(&app).await;
    browser.get("/").await;
    browser.get("/login").await;

    let reply = browser.get("/how-it-works").await;

    assert_not_contains(&reply.body, "Recording started");
    let log = exchanges_in(&reply.body);
    let requests: Vec<&str> = log.iter().map(|x| x.request.as_str()).collect();
    assert_eq!(requests, ["GET /", "GET /login"], "{log:#?}");
    assert!(log.iter().all(|x| x.status == 200));
}

#[rocket::async_test]
async fn nothing_is_recorded_before_the_first_visit() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.get("/").await;
    browser.get("/login").await;

    browser.get("/how-it-works").await;
    let log = log_of(&browser).await;

    assert!(log.is_empty(), "{log:#?}");
}

#[rocket::async_test]
async fn login_shows_the_set_cookie_with_the_value_cut_short() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = recording_browser(&app).await;

    let reply = browser.login(ALICE, PASSWORD).await;
    let log = log_of(&browser).await;

    let header = reply.set_cookie_header(SESSION_COOKIE).unwrap();
    let (pair, attributes) = header.split_once(';').unwrap();
    let full_value = pair.split_once('=').unwrap().1;
    let login = find(&log, "POST /login");
    assert_eq!(login.status, 303);
    let shown = login
        .set_cookie
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .unwrap_or_else(|| panic!("no session Set-Cookie in {login:#?}"));
    let visible = shown_value(shown.split(';').next().unwrap(), SESSION_COOKIE);
    assert!(!visible.is_empty());
    assert!(
        full_value.starts_with(visible),
        "{visible:?} vs {full_value:?}"
    );
    assert!(
        shown.ends_with(attributes),
        "attributes kept: {shown:?} vs {header:?}"
    );
    // A form login without "remember me": a browser-session cookie, no Max-Age.
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert_contains(shown, attribute);
    }
    assert!(!shown.contains("Max-Age"), "{shown}");
}

#[rocket::async_test]
async fn the_full_session_cookie_never_appears_on_the_page() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = recording_browser(&app).await;
    let reply = browser.login(ALICE, PASSWORD).await;
    let raw = reply.set_cookie_header(SESSION_COOKIE).unwrap();
    let raw_value = raw.split(';').next().unwrap().split_once('=').unwrap().1;
    let value = browser.session_cookie().unwrap();
    browser.get("/profile").await;

    let page = html_unescape(&browser.get("/how-it-works").await.body);

    assert_not_contains(&page, raw_value);
    assert_not_contains(&page, &value);
    // No more of it than the first few characters, anywhere.
    assert_not_contains(&page, &value[..12]);
    assert_not_contains(&page, &raw_value[..12]);
}

#[rocket::async_test]
async fn the_login_form_shows_its_csrf_cookie_cut_short_too() {
    let app = spawn_app().await;
    let browser = recording_browser(&app).await;
    let reply = browser.get("/login").await;
    let raw = reply.set_cookie_header(CSRF_COOKIE).unwrap().to_owned();
    let raw_value = raw.split(';').next().unwrap().split_once('=').unwrap().1;

    let log = log_of(&browser).await;

    let shown = &find(&log, "GET /login").set_cookie;
    assert_eq!(shown.len(), 1, "{shown:?}");
    shown_value(shown[0].split(';').next().unwrap(), CSRF_COOKIE);
    let page = browser.get("/how-it-works").await.body;
    assert_not_contains(&html_unescape(&page), raw_value);
}

#[rocket::async_test]
async fn the_cookies_come_from_the_request_not_only_a_raw_header() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = recording_browser(&app).await;
    browser.login(ALICE, PASSWORD).await;

    // Rocket's local client sends cookies without a `Cookie` header.
    browser.get("/profile").await;
    let log = log_of(&browser).await;

    let profile = find(&log, "GET /profile");
    let sent = profile.cookie.as_deref().expect("the cookies sent");
    assert!(sent.contains(&format!("{SESSION_COOKIE}=")), "{sent:?}");
}

#[rocket::async_test]
async fn later_requests_show_the_cookie_sent_back() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = recording_browser(&app).await;
    browser.login(ALICE, PASSWORD).await;
    let value = browser.session_cookie().unwrap();
    let encoded = Cookie::new(SESSION_COOKIE, value.clone())
        .encoded()
        .to_string();
    let encoded = encoded.split_once('=').unwrap().1.to_owned();

    get_over_http(&browser, "/profile").await;
    let log = log_of(&browser).await;

    let profile = find(&log, "GET /profile");
    assert_eq!(profile.status, 200);
    assert!(profile.set_cookie.is_empty(), "{profile:#?}");
    let sent = profile.cookie.as_deref().expect("a Cookie header");
    let pair = sent
        .split("; ")
        .find(|p| p.starts_with(&format!("{SESSION_COOKIE}=")))
        .unwrap_or_else(|| panic!("no session cookie in {sent:?}"));
    let visible = shown_value(pair, SESSION_COOKIE);
    assert!(encoded.starts_with(visible), "{visible:?} vs {encoded:?}");
    assert_not_contains(sent, &value);
    assert_not_contains(sent, &encoded);
}

#[rocket::async_test]
async fn the_trace_cookie_itself_is_not_listed() {
    let app = spawn_app().await;
    let browser = recording_browser(&app).await;
    let trace = browser.cookie(TRACE_COOKIE).unwrap();
    browser.get("/").await;

    let page = browser.get("/how-it-works").await.body;

    assert_not_contains(&page, TRACE_COOKIE);
    assert_not_contains(&page, &trace[..12]);
}

#[rocket::async_test]
async fn logout_shows_the_cookie_being_deleted() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = recording_browser(&app).await;
    browser.login(ALICE, PASSWORD).await;
    browser.get("/profile").await;

    let reply = logout_over_http(&browser).await;
    let log = log_of(&browser).await;

    assert_redirect_to(&reply, "/login");
    let logout = find(&log, "POST /logout");
    assert_eq!(logout.status, 303);
    let deletion = logout
        .set_cookie
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")))
        .unwrap_or_else(|| panic!("no deletion in {logout:#?}"));
    assert_contains(deletion, "Max-Age=0");
    assert!(logout.cookie.as_deref().unwrap().contains(SESSION_COOKIE));
}

#[rocket::async_test]
async fn the_whole_seed_workflow_in_order() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = recording_browser(&app).await;
    browser.login(ALICE, PASSWORD).await;
    browser.get("/profile").await;
    browser.logout().await;

    let log = log_of(&browser).await;

    let requests: Vec<&str> = log.iter().map(|x| x.request.as_str()).collect();
    assert_eq!(
        requests,
        [
            "GET /login",
            "POST /login",
            "GET /profile",
            "GET /",
            "POST /logout"
        ],
        "{log:#?}"
    );
    let statuses: Vec<u16> = log.iter().map(|x| x.status).collect();
    assert_eq!(statuses, [200, 303, 200, 200, 303]);
}

#[rocket::async_test]
async fn a_replayed_dead_cookie_shows_its_refusal() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let browser = recording_browser(&app).await;
    browser.login(ALICE, PASSWORD).await;
    let value = browser.session_cookie().unwrap();
    browser.logout().await;
    browser.set_session_cookie(&value);

    let reply = get_over_http(&browser, "/profile").await;
    let log = log_of(&browser).await;

    assert_sent_to_login(&reply);
    let refused = find(&log, "GET /profile");
    assert_eq!(refused.status, 303);
    assert!(refused.cookie.as_deref().unwrap().contains(SESSION_COOKIE));
    assert!(
        refused
            .set_cookie
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0")),
        "{refused:#?}"
    );
}

#[rocket::async_test]
async fn another_browser_never_sees_this_browsers_log() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let mine = recording_browser(&app).await;
    mine.get("/only-in-my-browser").await;
    mine.login(ALICE, PASSWORD).await;

    let other = app.browser();
    let first = other.get("/how-it-works").await;
    other.get("/").await;
    let theirs = log_of(&other).await;

    assert!(exchanges_in(&first.body).is_empty());
    assert_contains(&first.body, "Recording started");
    let requests: Vec<&str> = theirs.iter().map(|x| x.request.as_str()).collect();
    assert_eq!(requests, ["GET /"], "{theirs:#?}");
    let page = other.get("/how-it-works").await.body;
    assert_not_contains(&page, "only-in-my-browser");
    assert_not_contains(&page, "POST");
    let log = log_of(&mine).await;
    assert!(log.iter().all(|x| x.request != "GET /"), "{log:#?}");
}

#[rocket::async_test]
async fn the_same_user_in_two_browsers_has_two_logs() {
    let app = spawn_app().await;
    app.create_user(ALICE, PASSWORD).await;
    let laptop = recording_browser(&app).await;
    let phone = recording_browser(&app).await;
    laptop.login(ALICE, PASSWORD).await;
    phone.login(ALICE, PASSWORD).await;
    laptop.get("/session").await;

    let phones = log_of(&phone).await;

    assert!(
        phones.iter().all(|x| x.request != "GET /session"),
        "{phones:#?}"
    );
}

#[rocket::async_test]
async fn a_forged_trace_cookie_records_nothing() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.set_cookie(TRACE_COOKIE, &"0".repeat(32));
    browser.get("/").await;

    let reply = browser.get("/how-it-works").await;

    assert_contains(&reply.body, "Recording started");
    assert!(exchanges_in(&reply.body).is_empty());
}

#[rocket::async_test]
async fn a_copied_trace_cookie_shows_the_same_log() {
    // The trace cookie is the only key to a log, like the session cookie is to a session:
    // this is why it is HttpOnly and its value never shown.
    let app = spawn_app().await;
    let browser = recording_browser(&app).await;
    browser.get("/login").await;
    let copy = app.browser();
    copy.set_cookie(TRACE_COOKIE, &browser.cookie(TRACE_COOKIE).unwrap());

    let log = log_of(&copy).await;

    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0].request, "GET /login");
}

#[rocket::async_test]
async fn only_the_last_few_exchanges_are_kept() {
    let app = spawn_app().await;
    let browser = recording_browser(&app).await;
    for n in 0..20 {
        browser.get(&format!("/?n={n}")).await;
    }

    let log = log_of(&browser).await;

    assert!(log.len() <= 12, "{}", log.len());
    assert!(!log.is_empty());
    assert!(log.iter().all(|x| x.request == "GET /"), "{log:#?}");
}

#[rocket::async_test]
async fn static_files_are_not_recorded() {
    let app = spawn_app().await;
    let browser = recording_browser(&app).await;
    browser.get("/static/style.css").await;

    let log = log_of(&browser).await;

    assert!(log.is_empty(), "{log:#?}");
}
