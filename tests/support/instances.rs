//! Several Latchkey instances in process (Rocket's local clients) over shared stores:
//! building an instance from settings, and signing up, logging in and out with exactly
//! the cookie a test gives, as a browser moving between instances behind a load balancer.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use latchkey::clock::ManualClock;
use rocket::figment::Figment;
use rocket::http::{Cookie, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

use super::{Browser, Reply};

pub use super::{PASSWORD, SESSION_COOKIE};

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

/// Signs up through the form (which also logs in) and returns the session cookie.
pub async fn sign_up(client: &Client, email: &str) -> Cookie<'static> {
    let browser = Browser::on(client);
    let reply = browser.signup(email, PASSWORD).await;
    assert_eq!(reply.status, Status::SeeOther, "signup redirects");
    set_session_cookie(&reply)
}

/// Logs in through the form and returns the session cookie.
pub async fn log_in(client: &Client, email: &str) -> Cookie<'static> {
    let browser = Browser::on(client);
    let reply = browser.login(email, PASSWORD).await;
    assert_eq!(reply.status, Status::SeeOther, "login redirects");
    set_session_cookie(&reply)
}

/// One login through the form with the right password, whatever its outcome.
pub async fn post_login(client: &Client, email: &str) -> Reply {
    Browser::on(client).login(email, PASSWORD).await
}

/// The session cookie a form's answer set, as the browser would send it back to any
/// instance. Read from the answer, not the jar: an instance whose clock is in the past
/// sets a cookie that has already expired by the real clock the jar goes by.
fn set_session_cookie(reply: &Reply) -> Cookie<'static> {
    let cookie = reply.cookie(SESSION_COOKIE).expect("a session cookie");
    Cookie::new(SESSION_COOKIE, cookie.value().to_owned())
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
    let browser = Browser::on(client);
    browser.set_session_cookie(cookie.value());
    let token = browser.csrf_token_from("/logout").await;
    let reply = browser
        .post_form("/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(reply.status, Status::SeeOther);
    assert_eq!(reply.location(), Some("/login"));
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
        let redis_url = super::stores::redis_url()?;
        let proxy = super::proxy::Proxy::start(super::proxy::upstream_of(&redis_url, 6379)).await;
        let prefix = super::stores::unique_prefix();
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
        super::stores::redis_cleanup(&self.redis_url, &self.prefix).await;
    }
}
