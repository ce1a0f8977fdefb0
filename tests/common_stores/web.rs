//! Driving Latchkey in process (Rocket's local client): building an instance from
//! settings, signing up and logging in through the real forms, reading cookies.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use latchkey::clock::ManualClock;
use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

pub const SESSION_COOKIE: &str = "latchkey_session";
pub const PASSWORD: &str = "correct horse battery staple";

/// A fresh 64-byte secret key, base64: what several instances must share.
pub fn secret_key() -> String {
    let bytes: Vec<u8> = (0..4)
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Latchkey's configuration with a private data directory, quiet logs and `settings`
/// (key, value) on top.
pub fn figment(data_dir: &Path, settings: &[(&str, &str)]) -> Figment {
    let mut figment = latchkey::config::figment()
        .merge(("data_dir", data_dir))
        .merge(("log_level", "off"))
        .merge(("secret_key", secret_key()));
    for (key, value) in settings {
        figment = figment.merge((*key, *value));
    }
    figment
}

/// A local client for an instance built from `figment` and `clock`. Untracked: every
/// request carries exactly the cookies a test gives it, as a browser moving between
/// instances behind a load balancer would.
pub async fn client(figment: Figment, clock: &ManualClock) -> Client {
    Client::untracked(latchkey::build(figment, Arc::new(clock.clone())))
        .await
        .expect("Latchkey starts")
}

/// The value of the first hidden `csrf_token` field in a page.
pub fn csrf_token(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("a csrf_token field") + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_owned()
}

/// application/x-www-form-urlencoded.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs up through the form (which also logs in) and returns the session cookie.
pub async fn sign_up(client: &Client, email: &str) -> Cookie<'static> {
    let page = client.get("/signup").dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    let anon = anon_csrf_cookie(&page);
    let token = csrf_token(&page.into_string().await.unwrap());
    let response = client
        .post("/signup")
        .cookie(anon)
        .header(ContentType::Form)
        .body(form(&[
            ("csrf_token", &token),
            ("email", email),
            ("password", PASSWORD),
            ("password_confirmation", PASSWORD),
        ]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther, "signup redirects");
    session_cookie(&response)
}

/// Logs in through the form and returns the session cookie.
pub async fn log_in(client: &Client, email: &str) -> Cookie<'static> {
    let response = post_login(client, email).await;
    assert_eq!(response.status(), Status::SeeOther, "login redirects");
    session_cookie(&response)
}

/// One login through the form with the right password, whatever its outcome.
pub async fn post_login<'c>(client: &'c Client, email: &str) -> LocalResponse<'c> {
    let page = client.get("/login").dispatch().await;
    let anon = anon_csrf_cookie(&page);
    let token = csrf_token(&page.into_string().await.unwrap());
    client
        .post("/login")
        .cookie(anon)
        .header(ContentType::Form)
        .body(form(&[
            ("csrf_token", &token),
            ("email", email),
            ("password", PASSWORD),
        ]))
        .dispatch()
        .await
}

/// The anonymous forms' CSRF cookie a page set.
fn anon_csrf_cookie(response: &LocalResponse<'_>) -> Cookie<'static> {
    let cookie = response
        .cookies()
        .get("latchkey_csrf")
        .expect("a CSRF cookie");
    Cookie::new("latchkey_csrf", cookie.value().to_owned())
}

/// The session cookie a response set, exactly as the browser would send it back.
pub fn session_cookie(response: &LocalResponse<'_>) -> Cookie<'static> {
    let cookie = response
        .cookies()
        .get(SESSION_COOKIE)
        .expect("a session cookie");
    Cookie::new(SESSION_COOKIE, cookie.value().to_owned())
}

/// GET /profile with exactly this cookie (not the client's jar). 200 means logged in.
pub async fn profile_status(client: &Client, cookie: &Cookie<'static>) -> Status {
    client
        .get("/profile")
        .cookie(cookie.clone())
        .dispatch()
        .await
        .status()
}

/// Logs out through the form, with exactly this cookie.
pub async fn log_out(client: &Client, cookie: &Cookie<'static>) {
    let page = client
        .get("/logout")
        .cookie(cookie.clone())
        .dispatch()
        .await;
    assert_eq!(page.status(), Status::Ok);
    let token = csrf_token(&page.into_string().await.unwrap());
    let response = client
        .post("/logout")
        .cookie(cookie.clone())
        .header(ContentType::Form)
        .body(form(&[("csrf_token", &token)]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(response.headers().get_one("Location"), Some("/login"));
}

/// An app whose Redis session store is reached through a [`Proxy`](super::proxy::Proxy)
/// the test can switch between up, refusing and hanging, to stage an outage.
pub struct ProxiedRedisApp {
    pub client: Client,
    pub proxy: super::proxy::Proxy,
    redis_url: String,
    prefix: String,
    _data_dir: tempfile::TempDir,
}

impl ProxiedRedisApp {
    /// `None` (after saying so) when `REDIS_URL` is unset.
    pub async fn start() -> Option<Self> {
        let redis_url = super::redis_url()?;
        let proxy = super::proxy::Proxy::start(super::proxy::upstream_of(&redis_url, 6379)).await;
        let prefix = super::unique_prefix();
        let data_dir = tempfile::tempdir().unwrap();
        let proxied = super::proxy::through(&redis_url, proxy.addr);
        let settings = [
            ("session_store", "redis"),
            ("redis_url", proxied.as_str()),
            ("redis_key_prefix", prefix.as_str()),
        ];
        let client = client(
            figment(data_dir.path(), &settings),
            &ManualClock::starting_now(),
        )
        .await;
        Some(Self {
            client,
            proxy,
            redis_url,
            prefix,
            _data_dir: data_dir,
        })
    }

    /// Stops the app and deletes what it wrote to Redis.
    pub async fn finish(self) {
        drop(self.client);
        super::redis_cleanup(&self.redis_url, &self.prefix).await;
    }
}
