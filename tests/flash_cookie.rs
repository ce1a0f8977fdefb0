//! A flash cookie the browser sends is untrusted input: a malformed one (a length that
//! cuts a UTF-8 character, which makes Rocket's parser panic) is ignored and removed, is
//! never a 5xx, and never reaches the log, panic messages included.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use latchkey::telemetry::{self, LogFormat};
use rocket::http::{Method, Status};
use support::*;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

const FLASH: &str = "_flash";
/// Lengths that fall inside a multi-byte character: `é` is 2 bytes, `€` is 3.
const MALFORMED: [&str; 4] = ["3:ééx", "1:€", "2:€€€€", "1:é"];

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
}

/// Everything logged (at every level, Rocket's own lines included) and every panic
/// message goes into the buffer. The logger is process-wide and can be set once, and
/// Rocket sets its own when an app starts and none is set: every test in this binary calls
/// this first, so whichever runs first installs the capture and Rocket's is the one refused.
fn capture_logs_and_panics() -> Buffer {
    static CAPTURE: OnceLock<Buffer> = OnceLock::new();
    CAPTURE.get_or_init(install_capture).clone()
}

fn install_capture() -> Buffer {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    telemetry::subscriber(LogFormat::Json, EnvFilter::new("trace"), move || {
        writer.clone()
    })
    .try_init()
    .expect("the only subscriber in this test binary");
    let panics = buffer.clone();
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = writeln!(panics.clone(), "panic: {info}");
        report(info);
    }));
    buffer
}

/// GETs `uri` with a planted flash cookie; checks the answer is not a server error and
/// that the cookie is removed.
async fn get_with_flash(browser: &Browser<'_>, uri: &str, flash: &str) -> Reply {
    browser.set_cookie(FLASH, flash);
    let reply = browser.get(uri).await;
    assert!(
        reply.status.code < 500,
        "GET {uri} with _flash={flash:?}: {}\n{}",
        reply.status,
        reply.body
    );
    let removal = reply
        .cookie(FLASH)
        .unwrap_or_else(|| panic!("GET {uri} with _flash={flash:?} kept the cookie"));
    assert!(is_removal(removal), "GET {uri}: {removal}");
    browser.forget_cookie(FLASH);
    reply
}

/// Every GET page route with a fixed path (not the API, not static files).
fn page_get_routes(app: &TestApp) -> Vec<String> {
    let mut paths: Vec<String> = app
        .client
        .rocket()
        .routes()
        .filter(|route| route.method == Method::Get)
        .map(|route| route.uri.path().to_owned())
        .filter(|path| !path.contains('<') && !path.starts_with("/api") && path != "/static")
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[rocket::async_test]
async fn malformed_flash_cookies_are_ignored_removed_and_never_logged() {
    let logs = capture_logs_and_panics();
    let app = spawn_app().await;
    let anonymous = app.browser();
    let logged_in = app.logged_in_browser("alice@example.com").await;

    let home = get_with_flash(&anonymous, "/", "3:ééx").await;
    let login = get_with_flash(&anonymous, "/login", "1:€").await;
    assert_eq!(home.status, Status::Ok);
    assert_eq!(login.status, Status::Ok);
    let profile = get_with_flash(&logged_in, "/profile", "3:ééx").await;
    assert_eq!(profile.status, Status::Ok);
    assert_contains(&profile.body, "alice@example.com");

    let routes = page_get_routes(&app);
    assert!(routes.contains(&"/sessions".to_owned()), "{routes:?}");
    for path in &routes {
        for flash in MALFORMED {
            for browser in [&anonymous, &logged_in] {
                browser.set_cookie(FLASH, flash);
                let reply = browser.get(path).await;
                assert!(
                    reply.status.code < 500,
                    "GET {path} with _flash={flash:?}: {}",
                    reply.status
                );
                browser.forget_cookie(FLASH);
            }
        }
    }

    let text = logs.text();
    assert!(!text.contains("panic"), "a request panicked:\n{text}");
    for flash in MALFORMED {
        let kind_and_message = flash.split_once(':').unwrap().1;
        assert!(
            !text.contains(kind_and_message),
            "the cookie {flash:?} reached the log:\n{text}"
        );
    }
}

#[rocket::async_test]
async fn a_well_formed_flash_message_is_still_shown_once() {
    capture_logs_and_panics();
    let app = spawn_app().await;
    let browser = app.logged_in_browser("alice@example.com").await;
    browser.logout().await;

    let first = browser.get("/login").await;
    let second = browser.get("/login").await;

    assert_contains(&first.body, "You have been logged out.");
    assert_not_contains(&second.body, "You have been logged out.");
}
