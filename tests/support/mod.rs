//! The one test harness every test binary declares (`mod support;`), in the spirit of
//! zero2prod's `tests/api/helpers.rs` and tower-sessions' `tests/common/mod.rs`: each test
//! spawns its own app (own temporary data directory, own manual clock) and drives it
//! through [`Browser`]s, so tests read like the behaviour they check.
//!
//! Here: [`TestApp`] (an app with test settings), [`Browser`] (a cookie jar; signs up,
//! logs in and out through the real forms), [`encode_form`], [`csrf_token`] and the
//! assertions. Beside it:
//! - [`api`]: the `/api/v1` app builder ([`api::app`], [`api::ApiApp`]) and JSON assertions;
//! - [`stores`]: store fixtures per backend, and `REDIS_URL` / `DATABASE_URL` (or a skip);
//! - [`instances`]: several app instances over shared stores, with explicit cookies;
//! - [`proxy`]: a TCP proxy a test can break, to stage a Redis or PostgreSQL outage;
//! - [`process`]: the real `latchkey` executable on a free port, and a minimal HTTP client.
//!
//! One Rocket instance can have only one local `Client`, and the session store lives in
//! that instance, so "two browsers" cannot be two clients. The client is therefore
//! untracked and each [`Browser`] keeps its own cookie jar the way a real browser does:
//! it stores what `Set-Cookie` says (raw, i.e. still encrypted), forgets removed or
//! expired cookies, and sends the rest back.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

pub mod api;
pub mod instances;
pub mod process;
pub mod proxy;
pub mod stores;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use latchkey::clock::ManualClock;
use rocket::figment::providers::Serialized;
use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Method, Status};
use rocket::local::asynchronous::{Client, LocalRequest};
use serde::Serialize;
use tempfile::TempDir;
use time::OffsetDateTime;

/// Default name of the session cookie.
pub const SESSION_COOKIE: &str = "latchkey_session";
/// The anonymous forms' CSRF cookie.
pub const CSRF_COOKIE: &str = "latchkey_csrf";
/// A password that passes every rule.
pub const PASSWORD: &str = "correct horse battery staple";
/// A fixed 64-byte key (base64) so tests do not depend on a generated key file.
pub const SECRET_KEY: &str =
    "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg==";

/// A running app: the local client, the clock it reads, and its data directory (kept
/// alive, and deleted, with the app).
pub struct TestApp {
    pub client: Client,
    pub clock: ManualClock,
    pub data_dir: PathBuf,
    _temp_dir: Option<TempDir>,
}

/// An app with the default settings (those of `Rocket.toml`), a fixed secret key and
/// logging off.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

/// Settings for one test's app. Overrides go into Figment's global profile, so they win
/// over `Rocket.toml` and any `ROCKET_*` variable in the environment.
pub struct AppBuilder {
    figment: Figment,
    data_dir: Option<PathBuf>,
    secret_key: bool,
}

impl TestApp {
    pub fn builder() -> AppBuilder {
        AppBuilder {
            figment: latchkey::config::figment(),
            data_dir: None,
            secret_key: true,
        }
    }

    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser<'_> {
        Browser::on(&self.client)
    }

    /// A browser already signed up (and so logged in) as `email`.
    pub async fn logged_in_browser(&self, email: &str) -> Browser<'_> {
        let browser = self.browser();
        let reply = browser.signup(email, PASSWORD).await;
        assert_redirect_to(&reply, "/profile");
        browser
    }

    /// Registers `email` from a throwaway browser, leaving no session behind for the caller.
    pub async fn create_user(&self, email: &str, password: &str) {
        let reply = self.browser().signup(email, password).await;
        assert_redirect_to(&reply, "/profile");
    }

    /// Moves the app's clock forward.
    pub fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }

    pub fn now(&self) -> OffsetDateTime {
        use latchkey::clock::Clock;
        self.clock.now()
    }
}

impl AppBuilder {
    pub fn setting<V: Serialize>(mut self, key: &str, value: V) -> Self {
        self.figment = self.figment.merge(Serialized::global(key, value));
        self
    }

    /// Leaves `secret_key` unset, so the app generates or reuses `<data_dir>/secret_key`.
    pub fn without_secret_key(mut self) -> Self {
        self.secret_key = false;
        self
    }

    /// Uses an existing data directory (owned by the caller) instead of a fresh one.
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_owned());
        self
    }

    pub async fn spawn(self) -> TestApp {
        let (temp_dir, data_dir) = match self.data_dir {
            Some(dir) => (None, dir),
            None => {
                let temp = tempfile::tempdir().expect("temporary data directory");
                let dir = temp.path().to_owned();
                (Some(temp), dir)
            }
        };
        let mut figment = self
            .figment
            .merge(Serialized::global("data_dir", &data_dir))
            .merge(Serialized::global("database_url", ""))
            .merge(Serialized::global("log_level", "off"));
        if self.secret_key {
            figment = figment.merge(Serialized::global("secret_key", SECRET_KEY));
        }
        let clock = ManualClock::starting_now();
        let rocket = latchkey::build(figment, Arc::new(clock.clone()));
        let client = Client::untracked(rocket)
            .await
            .expect("the app starts with these settings");
        TestApp {
            client,
            clock,
            data_dir,
            _temp_dir: temp_dir,
        }
    }
}

/// Everything a test looks at in a response, read once (so no lifetimes leak into tests).
#[derive(Debug)]
pub struct Reply {
    pub status: Status,
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<Cookie<'static>>,
    pub body: String,
}

impl Reply {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every raw `Set-Cookie` header.
    pub fn set_cookie_headers(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Set-Cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The raw `Set-Cookie` header for `name`, if this response sets or removes it.
    pub fn set_cookie_header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookie_headers()
            .into_iter()
            .find(|h| h.starts_with(&prefix))
    }

    /// The parsed cookie this response sets (or removes) under `name`.
    pub fn cookie(&self, name: &str) -> Option<&Cookie<'static>> {
        self.cookies.iter().find(|c| c.name() == name)
    }

    pub fn location(&self) -> Option<&str> {
        self.header("Location")
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("Content-Type")
    }
}

/// Is this `Set-Cookie` telling the browser to drop the cookie?
pub fn is_removal(cookie: &Cookie<'_>) -> bool {
    let max_age_zero = cookie
        .max_age()
        .is_some_and(|age| age <= time::Duration::ZERO);
    let expired = cookie
        .expires_datetime()
        .is_some_and(|at| at <= OffsetDateTime::now_utc());
    max_age_zero || expired
}

/// One browser: a cookie jar in front of the app's client.
pub struct Browser<'a> {
    client: &'a Client,
    jar: Mutex<BTreeMap<String, String>>,
}

impl<'a> Browser<'a> {
    /// A browser with an empty cookie jar in front of any instance's client.
    pub fn on(client: &'a Client) -> Self {
        Self {
            client,
            jar: Mutex::new(BTreeMap::new()),
        }
    }

    /// A request carrying this browser's cookies; send it with [`Browser::send`].
    pub fn request(&self, method: Method, uri: &str) -> LocalRequest<'a> {
        let cookies: Vec<Cookie<'static>> = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .map(|(name, value)| Cookie::new(name.clone(), value.clone()))
            .collect();
        self.client.req(method, uri.to_owned()).cookies(cookies)
    }

    /// Dispatches, reads the whole response and keeps the cookies it sets.
    pub async fn send(&self, request: LocalRequest<'_>) -> Reply {
        let response = request.dispatch().await;
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .map(|h| (h.name().to_string(), h.value().to_string()))
            .collect();
        let cookies: Vec<Cookie<'static>> = response
            .cookies()
            .iter()
            .map(|c| c.clone().into_owned())
            .collect();
        let body = response.into_bytes().await.unwrap_or_default();
        {
            let mut jar = self.jar.lock().unwrap();
            for cookie in &cookies {
                if is_removal(cookie) {
                    jar.remove(cookie.name());
                } else {
                    jar.insert(cookie.name().to_owned(), cookie.value().to_owned());
                }
            }
        }
        Reply {
            status,
            headers,
            cookies,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(self.request(Method::Get, uri)).await
    }

    /// POSTs `application/x-www-form-urlencoded` fields.
    pub async fn post_form(&self, uri: &str, fields: &[(&str, &str)]) -> Reply {
        let request = self
            .request(Method::Post, uri)
            .header(ContentType::Form)
            .body(encode_form(fields));
        self.send(request).await
    }

    /// POSTs any bytes with any (or no) content type.
    pub async fn post_raw(
        &self,
        uri: &str,
        content_type: Option<ContentType>,
        body: impl AsRef<[u8]>,
    ) -> Reply {
        let mut request = self.request(Method::Post, uri).body(body);
        if let Some(content_type) = content_type {
            request = request.header(content_type);
        }
        self.send(request).await
    }

    /// The raw (encrypted) value of a cookie this browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie(SESSION_COOKIE)
    }

    /// Plants a cookie, as an attacker (or a test) could.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn set_session_cookie(&self, value: &str) {
        self.set_cookie(SESSION_COOKIE, value);
    }

    pub fn forget_cookie(&self, name: &str) {
        self.jar.lock().unwrap().remove(name);
    }

    /// GETs a form page (`/login`, `/signup`, or any logged-in page) and returns the
    /// CSRF token its form carries.
    pub async fn csrf_token_from(&self, uri: &str) -> String {
        let reply = self.get(uri).await;
        assert_eq!(reply.status, Status::Ok, "GET {uri}: {}", reply.body);
        csrf_token(&reply.body)
    }

    /// Signs up through the form, with no names.
    pub async fn signup(&self, email: &str, password: &str) -> Reply {
        self.signup_with(&Signup::new(email, password)).await
    }

    pub async fn signup_with(&self, form: &Signup<'_>) -> Reply {
        let token = self.csrf_token_from("/signup").await;
        self.signup_with_token(form, &token).await
    }

    /// Posts the signup form with a token this browser already has.
    pub async fn signup_with_token(&self, form: &Signup<'_>, token: &str) -> Reply {
        self.post_form("/signup", &form.fields(token)).await
    }

    /// Logs in through the form.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        let token = self.csrf_token_from("/login").await;
        self.post_form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    /// Logs in through the form with a `next` field, as `/login?next=...` would post it.
    pub async fn login_with_next(&self, email: &str, password: &str, next: &str) -> Reply {
        let token = self.csrf_token_from("/login").await;
        self.post_form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("next", next),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    /// Presses the header's "Log out" button.
    pub async fn logout(&self) -> Reply {
        let token = self.csrf_token_from("/").await;
        self.post_form("/logout", &[("csrf_token", &token)]).await
    }

    /// Is this browser logged in? Asks `/profile`, the page that requires it.
    pub async fn is_logged_in(&self) -> bool {
        let reply = self.get("/profile").await;
        match reply.status {
            Status::Ok => true,
            Status::SeeOther => {
                assert_eq!(reply.location(), Some("/login?next=/profile"));
                false
            }
            other => panic!("GET /profile answered {other}: {}", reply.body),
        }
    }
}

/// The signup form's fields.
pub struct Signup<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub password_confirmation: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

impl<'a> Signup<'a> {
    pub fn new(email: &'a str, password: &'a str) -> Self {
        Self {
            email,
            password,
            password_confirmation: password,
            first_name: "",
            last_name: "",
        }
    }

    pub fn fields<'t>(&'t self, csrf_token: &'t str) -> Vec<(&'t str, &'t str)> {
        vec![
            ("email", self.email),
            ("password", self.password),
            ("password_confirmation", self.password_confirmation),
            ("first_name", self.first_name),
            ("last_name", self.last_name),
            ("csrf_token", csrf_token),
        ]
    }
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_token(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf_token field in:\n{html}"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_owned()
}

/// The value of the `name` input in a page (HTML entities decoded), if there is one.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}""#);
    let tag_start = html.find(&marker)?;
    let tag = &html[tag_start..];
    let tag = &tag[..tag.find('>')?];
    let value_start = tag.find(r#"value=""#)? + r#"value=""#.len();
    let value = &tag[value_start..];
    Some(html_unescape(&value[..value.find('"')?]))
}

/// Undoes Tera's HTML escaping (`&amp; &lt; &gt; &quot; &#x27; &#x2F;`).
pub fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// `application/x-www-form-urlencoded`, percent-encoding everything but unreserved bytes.
pub fn encode_form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A 303 to exactly `path`.
#[track_caller]
pub fn assert_redirect_to(reply: &Reply, path: &str) {
    assert_eq!(
        (reply.status, reply.location()),
        (Status::SeeOther, Some(path)),
        "expected a 303 to {path}; body:\n{}",
        reply.body
    );
}

/// Sent to the login page, as every anonymous visit to `/profile` is.
#[track_caller]
pub fn assert_sent_to_login(reply: &Reply) {
    assert_redirect_to(reply, "/login?next=/profile");
}

#[track_caller]
pub fn assert_contains(body: &str, needle: &str) {
    assert!(
        body.contains(needle),
        "expected the page to contain {needle:?}; it was:\n{body}"
    );
}

#[track_caller]
pub fn assert_not_contains(body: &str, needle: &str) {
    assert!(
        !body.contains(needle),
        "expected the page not to contain {needle:?}; it was:\n{body}"
    );
}

/// An HTML page (not JSON, not plain text).
#[track_caller]
pub fn assert_html(reply: &Reply) {
    let content_type = reply.content_type().unwrap_or_default();
    assert!(
        content_type.starts_with("text/html"),
        "expected text/html, got {content_type:?}"
    );
    assert_contains(&reply.body, "<!doctype html>");
}

/// A 4xx (never a 5xx) answered with an HTML page in the site's layout.
#[track_caller]
pub fn assert_client_error_html(reply: &Reply) {
    assert!(
        reply.status.class() == rocket::http::StatusClass::ClientError,
        "expected a 4xx, got {}; body:\n{}",
        reply.status,
        reply.body
    );
    assert_html(reply);
    assert_contains(&reply.body, r#"class="site-header""#);
}

/// An error page (the catcher's or the app's) for `status`, with a message for people.
#[track_caller]
pub fn assert_error_page(reply: &Reply, status: rocket::http::Status) {
    assert_eq!(reply.status, status, "body:\n{}", reply.body);
    assert_client_error_html(reply);
    assert_contains(&reply.body, &format!("<h1>{} ", status.code));
}

/// "2026-11-23 17:55:02 UTC", the way pages show times.
pub fn shown_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The session id inside a session cookie's value (as a [`Browser`] holds it), decrypted
/// with the tests' [`SECRET_KEY`] exactly as the server does. Tests use it to check what
/// pages must never show whole, and to compute store keys.
pub fn decrypt_session_cookie(value: &str) -> Option<String> {
    use base64::Engine;
    use rocket::http::private::cookie::{CookieJar as RawJar, Key};
    let master = base64::engine::general_purpose::STANDARD
        .decode(SECRET_KEY)
        .ok()?;
    let key = Key::try_from(master.as_slice()).ok()?;
    let mut jar = RawJar::new();
    jar.add_original(Cookie::new(SESSION_COOKIE, value.to_owned()));
    let cookie = jar.private(&key).get(SESSION_COOKIE)?;
    Some(cookie.value().to_owned())
}

/// The store key (SHA-256 of the id, lowercase hex) of the session this browser holds.
pub fn store_key_of(browser: &Browser<'_>) -> String {
    let value = browser.session_cookie().expect("a session cookie");
    let id = decrypt_session_cookie(&value).expect("a cookie the server encrypted");
    latchkey::sessions::SessionId::parse(&id)
        .expect("a session id in canonical form")
        .key()
        .to_hex()
}
