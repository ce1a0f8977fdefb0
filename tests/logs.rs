//! What the logs say, read from the production subscriber (JSON, the default filter at
//! debug) writing into a buffer: security events by name, a request id on request lines
//! and on events inside a request, and never a password, cookie value or session id.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use latchkey::telemetry::{self, LogFormat};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use support::{decrypt_session_cookie, spawn_app, store_key_of, CSRF_COOKIE, PASSWORD};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect()
    }
}

/// Lines of one security event.
fn events<'a>(lines: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    lines
        .iter()
        .filter(|line| line["target"] == "latchkey::security" && line["fields"]["event"] == name)
        .collect()
}

#[rocket::async_test]
async fn logs_name_security_events_and_never_show_secrets() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    telemetry::subscriber(
        LogFormat::Json,
        EnvFilter::new(telemetry::default_filter("debug")),
        move || writer.clone(),
    )
    .try_init()
    .expect("the only subscriber in this test binary");
    let app = spawn_app().await;
    let wrong_password = "not the right password at all";

    let ann = app.logged_in_browser("ann@example.com").await;
    let phone = app.browser();
    assert_eq!(
        phone.login("ann@example.com", PASSWORD).await.status.code,
        303
    );
    let intruder = app.browser();
    let failed = intruder.login("ann@example.com", wrong_password).await;
    let forged = intruder
        .post_form(
            "/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    let token = ann.csrf_token_from("/sessions").await;
    let phone_key = store_key_of(&phone);
    ann.post_form(
        "/sessions/revoke",
        &[("key", phone_key.as_str()), ("csrf_token", token.as_str())],
    )
    .await;
    let token = ann.csrf_token_from("/password").await;
    let new_password = "a completely new passphrase";
    ann.post_form(
        "/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", new_password),
            ("new_password_confirmation", new_password),
            ("csrf_token", &token),
        ],
    )
    .await;
    let session_cookie = ann.session_cookie().expect("still logged in");
    let session_id = decrypt_session_cookie(&session_cookie).expect("our cookie");
    let csrf_cookie = intruder.cookie(CSRF_COOKIE).expect("a CSRF cookie");
    let last = ann.get("/profile").await;
    intruder.get("/login?next=/query-marker-7f3a").await;
    ann.logout().await;

    let text = buffer.text();
    for secret in [
        PASSWORD,
        wrong_password,
        new_password,
        session_cookie.as_str(),
        session_id.as_str(),
        csrf_cookie.as_str(),
        "query-marker-7f3a",
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked into the log");
    }
    let lines = buffer.lines();
    for name in [
        "login_succeeded",
        "login_failed",
        "csrf_rejected",
        "session_revoked",
        "password_changed",
        "logout",
    ] {
        assert!(
            !events(&lines, name).is_empty(),
            "no {name} event in:\n{text}"
        );
    }
    assert_eq!(failed.status.code, 401);
    assert_eq!(forged.status.code, 403);

    // The login failure names its request, as does the request line.
    let failure = events(&lines, "login_failed")[0];
    let failure_id = failure["span"]["request_id"]
        .as_str()
        .expect("a request id on the event");
    let request_line = lines
        .iter()
        .find(|line| {
            line["target"] == "latchkey::request" && line["fields"]["request_id"] == failure_id
        })
        .expect("the failed login's request line");
    assert_eq!(request_line["fields"]["method"], "POST");
    assert_eq!(request_line["fields"]["path"], "/login");
    assert_eq!(request_line["fields"]["status"], 401);
    assert!(request_line["fields"]["duration_ms"].is_number());

    // The id in the response header is the one in the log.
    let header_id = last.header("X-Request-Id").expect("X-Request-Id");
    assert!(lines
        .iter()
        .any(|line| line["fields"]["request_id"] == header_id
            && line["fields"]["path"] == "/profile"));
}
