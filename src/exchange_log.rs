//! "How it works": a short, per-browser record of its own exchanges with Latchkey
//! (method, path, status, and the `Cookie` / `Set-Cookie` headers with values cut to a
//! few characters), so a session demo can show each step live.
//!
//! Recording is opt-in per browser: visiting the page sets a random `latchkey_trace`
//! cookie, and only requests carrying it are recorded. Everything stays in memory,
//! bounded: the last [`ENTRIES_PER_BROWSER`] exchanges of at most [`MAX_BROWSERS`]
//! browsers.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Request, Response};
use serde::Serialize;
use time::OffsetDateTime;

pub const TRACE_COOKIE: &str = "latchkey_trace";
const ENTRIES_PER_BROWSER: usize = 12;
const MAX_BROWSERS: usize = 1000;
/// Characters of a cookie value that stay visible.
const VISIBLE_CHARS: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub at: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The request's cookies, values cut short.
    pub cookie: Option<String>,
    /// The response's `Set-Cookie` headers, values cut short.
    pub set_cookie: Vec<String>,
}

#[derive(Default)]
pub struct ExchangeLog {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    browsers: HashMap<String, VecDeque<Exchange>>,
    /// Oldest browser first, to evict when full.
    order: VecDeque<String>,
}

impl ExchangeLog {
    pub fn exchanges(&self, trace_id: &str) -> Vec<Exchange> {
        let inner = self.inner.lock();
        inner
            .browsers
            .get(trace_id)
            .map(|entries| entries.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn record(&self, trace_id: &str, exchange: Exchange) {
        let mut inner = self.inner.lock();
        if !inner.browsers.contains_key(trace_id) {
            if inner.order.len() >= MAX_BROWSERS {
                if let Some(oldest) = inner.order.pop_front() {
                    inner.browsers.remove(&oldest);
                }
            }
            inner.order.push_back(trace_id.to_owned());
        }
        let entries = inner.browsers.entry(trace_id.to_owned()).or_default();
        if entries.len() >= ENTRIES_PER_BROWSER {
            entries.pop_front();
        }
        entries.push_back(exchange);
    }
}

/// `name=value` with the value cut to its first few characters and its length.
pub fn redact_pair(pair: &str) -> String {
    let pair = pair.trim();
    let Some((name, value)) = pair.split_once('=') else {
        return pair.to_owned();
    };
    if value.is_empty() {
        return format!("{name}=");
    }
    let chars = value.chars().count();
    if chars <= VISIBLE_CHARS {
        return format!("{name}=…");
    }
    let visible: String = value.chars().take(VISIBLE_CHARS).collect();
    format!("{name}={visible}…({chars} chars)")
}

/// A `Set-Cookie` header with its value redacted and its attributes kept.
pub fn redact_set_cookie(header: &str) -> String {
    let mut parts = header.splitn(2, ';');
    let pair = redact_pair(parts.next().unwrap_or_default());
    match parts.next() {
        Some(attributes) => format!("{pair};{attributes}"),
        None => pair,
    }
}

fn trace_id(request: &Request<'_>) -> Option<String> {
    let id = request.cookies().get_private(TRACE_COOKIE)?;
    let id = id.value();
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_owned())
}

/// Records the exchanges of browsers that opted in.
pub struct Recorder;

#[rocket::async_trait]
impl Fairing for Recorder {
    fn info(&self) -> Info {
        Info {
            name: "Exchange recorder",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        // Fast path for browsers that are not recording (nearly all requests): one
        // lookup of the cookie by name, nothing decrypted, no state looked up.
        if request.cookies().get(TRACE_COOKIE).is_none() {
            return;
        }
        let path = request.uri().path().as_str();
        if path.starts_with("/static/") || path == "/how-it-works" {
            return;
        }
        let Some(id) = trace_id(request) else {
            return;
        };
        let Some(log) = request.rocket().state::<ExchangeLog>() else {
            return;
        };
        // The cookies the request brought, percent-encoded as they travel on the wire.
        let cookie = request
            .cookies()
            .iter()
            .filter(|c| c.name() != TRACE_COOKIE)
            .map(|c| redact_pair(&c.encoded().stripped().to_string()))
            .collect::<Vec<_>>();
        let set_cookie = response
            .headers()
            .get("Set-Cookie")
            .filter(|header| !header.starts_with(TRACE_COOKIE))
            .map(redact_set_cookie)
            .collect();
        let at = OffsetDateTime::now_utc();
        log.record(
            &id,
            Exchange {
                at: format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second()),
                method: request.method().as_str().to_owned(),
                path: path.to_owned(),
                status: response.status().code,
                cookie: (!cookie.is_empty()).then(|| cookie.join("; ")),
                set_cookie,
            },
        );
    }
}
