//! Security events: the table operators alert from (docs/operations.md) lists exactly the
//! events the code can emit, and throttling is visible as documented: a 429 logs
//! `login_throttled` (or `password_change_throttled`) and counts it in `/metrics`.

mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use latchkey::telemetry::{self, LogFormat, SecurityEvent};
use rocket::http::Status;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use support::{TestApp, PASSWORD};

/// The metrics and the log subscriber are process-wide: tests here take turns.
static TURN: rocket::tokio::sync::Mutex<()> = rocket::tokio::sync::Mutex::const_new(());

// ---- The documented table and the enum ------------------------------------------------

/// The `event` names in the table of the "Logs and security events" section.
fn documented_events() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md"))
        .expect("docs/operations.md");
    let section = doc
        .split("## Logs and security events")
        .nth(1)
        .expect("a \"Logs and security events\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut in_table = false;
    let mut names = BTreeSet::new();
    for line in section.lines() {
        let line = line.trim();
        if line.starts_with("| `event` |") {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        let Some(cell) = line.strip_prefix("| `") else {
            if !names.is_empty() {
                break;
            }
            continue;
        };
        let name = cell.split('`').next().expect("a closing backtick");
        names.insert(name.to_owned());
    }
    names
}

#[test]
fn the_operations_table_lists_every_event_and_only_those() {
    let documented = documented_events();
    let emitted: BTreeSet<String> = SecurityEvent::ALL_NAMES
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert!(!documented.is_empty(), "no event table found");

    let undocumented: Vec<_> = emitted.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&emitted).collect();
    assert!(
        undocumented.is_empty(),
        "events missing from docs/operations.md: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/operations.md lists events the code never emits: {unknown:?}"
    );
}

#[test]
fn every_variant_names_itself_from_the_list() {
    let event = SecurityEvent::CsrfRejected {};
    assert!(SecurityEvent::ALL_NAMES.contains(&event.name()));
    let unique: BTreeSet<_> = SecurityEvent::ALL_NAMES.iter().collect();
    assert_eq!(unique.len(), SecurityEvent::ALL_NAMES.len(), "a name twice");
}

// ---- Throttling as it shows in the logs and the metrics --------------------------------

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

/// The log every test here writes to (installed once: one subscriber per process).
fn log() -> &'static Buffer {
    static LOG: OnceLock<Buffer> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        telemetry::subscriber(
            LogFormat::Json,
            EnvFilter::new(telemetry::default_filter("info")),
            move || writer.clone(),
        )
        .try_init()
        .expect("the only subscriber in this test binary");
        buffer
    })
}

/// The security events logged since `from` bytes into the log, as (name, fields).
fn events_since(from: usize) -> Vec<serde_json::Value> {
    let bytes = log().0.lock().unwrap()[from..].to_vec();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON lines"))
        .filter(|line| line["target"] == "latchkey::security")
        .map(|line| line["fields"].clone())
        .collect()
}

fn log_len() -> usize {
    log().0.lock().unwrap().len()
}

async fn scrape(app: &TestApp) -> String {
    let loopback: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    let response = app.client.get("/metrics").remote(loopback).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    response.into_string().await.unwrap()
}

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().expect("a number"))
}

#[rocket::async_test]
async fn a_throttled_login_logs_login_throttled_and_counts_it() {
    let _turn = TURN.lock().await;
    let start = log_len();
    let app = TestApp::builder().spawn().await;
    app.create_user("ann@example.com", PASSWORD).await;
    let before = scrape(&app).await;

    let attacker = app.browser();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            attacker
                .login("ann@example.com", "not her password")
                .await
                .status,
        );
    }

    assert_eq!(statuses[..5], [Status::Unauthorized; 5]);
    assert_eq!(statuses[5], Status::TooManyRequests);
    let after = scrape(&app).await;
    let delta = |series: &str| value(&after, series) - value(&before, series);
    assert_eq!(delta(r#"latchkey_logins_total{outcome="throttled"}"#), 1.0);
    assert_eq!(delta(r#"latchkey_logins_total{outcome="failed"}"#), 5.0);
    assert_eq!(
        delta(r#"latchkey_security_events_total{event="login_throttled"}"#),
        1.0
    );
    let events = events_since(start);
    let throttled: Vec<_> = events
        .iter()
        .filter(|fields| fields["event"] == "login_throttled")
        .collect();
    assert_eq!(throttled.len(), 1, "{events:?}");
    assert_eq!(throttled[0]["via"], "page");
}

#[rocket::async_test]
async fn a_throttled_password_change_logs_and_counts_its_events() {
    let _turn = TURN.lock().await;
    let start = log_len();
    let app = TestApp::builder().spawn().await;
    let ann = app.logged_in_browser("ann@example.com").await;
    let before = scrape(&app).await;

    let mut last = Status::Ok;
    for _ in 0..6 {
        let token = ann.csrf_token_from("/password").await;
        last = ann
            .post_form(
                "/password",
                &[
                    ("current_password", "not the current one"),
                    ("new_password", "a brand new passphrase"),
                    ("new_password_confirmation", "a brand new passphrase"),
                    ("csrf_token", &token),
                ],
            )
            .await
            .status;
    }

    assert_eq!(last, Status::TooManyRequests);
    let after = scrape(&app).await;
    let delta = |series: &str| value(&after, series) - value(&before, series);
    assert_eq!(
        delta(r#"latchkey_security_events_total{event="password_change_failed"}"#),
        5.0
    );
    assert_eq!(
        delta(r#"latchkey_security_events_total{event="password_change_throttled"}"#),
        1.0
    );
    let names: Vec<String> = events_since(start)
        .iter()
        .filter_map(|fields| fields["event"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|name| *name == "password_change_failed")
            .count(),
        5
    );
    assert!(names.iter().any(|name| name == "password_change_throttled"));
}
