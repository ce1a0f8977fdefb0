//! "How it works": a short, per-browser record of its own exchanges with Latchkey
//! (method, path, status, and the `Cookie` / `Set-Cookie` headers with values cut to a
//! few characters), so a session demo can show each step live.
//!
//! Recording is opt-in per browser: visiting the page sets a random `latchkey_trace`
//! cookie, and only requests carrying it are recorded. Everything stays in memory and is
//! bounded, whatever a browser sends (anyone can start recording): every recorded field
//! is cut to a fixed length, a browser keeps its last [`ENTRIES_PER_BROWSER`] exchanges,
//! at most [`MAX_BROWSERS`] browsers are kept, and the whole log stays within
//! [`MEMORY_BUDGET`] bytes (the oldest browsers' records go first).

use std::collections::{HashMap, VecDeque};
use std::mem::size_of;

use parking_lot::Mutex;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Request, Response};
use serde::Serialize;
use time::OffsetDateTime;

pub const TRACE_COOKIE: &str = crate::config::TRACE_COOKIE;
pub const ENTRIES_PER_BROWSER: usize = 12;
pub const MAX_BROWSERS: usize = 1000;
/// What the whole log may hold, in accounted bytes (its strings plus a fixed cost per
/// exchange and per browser): 4 MiB.
pub const MEMORY_BUDGET: usize = 4 * 1024 * 1024;
/// Characters of a cookie value that stay visible.
const VISIBLE_CHARS: usize = 8;
/// Longest method and path kept, in bytes (longer ones are cut and end in `…`).
const METHOD_MAX: usize = 16;
const PATH_MAX: usize = 200;
/// Longest cookie name kept, in bytes.
const COOKIE_NAME_MAX: usize = 40;
/// Cookies listed per request; the rest are counted ("… and 3 more").
const COOKIES_SHOWN: usize = 12;
/// `Set-Cookie` lines kept per response, and the attributes kept per line, in bytes.
const SET_COOKIE_LINES: usize = 8;
const ATTRIBUTES_MAX: usize = 200;
/// What a browser costs beyond its exchanges: its id (kept twice) and its queue.
const BROWSER_OVERHEAD: usize = 2 * (32 + size_of::<String>()) + size_of::<VecDeque<Exchange>>();

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

impl Exchange {
    /// The bytes this exchange holds, as the budget counts them.
    fn footprint(&self) -> usize {
        size_of::<Self>()
            + self.at.capacity()
            + self.method.capacity()
            + self.path.capacity()
            + self.cookie.as_ref().map_or(0, String::capacity)
            + self
                .set_cookie
                .iter()
                .map(|line| size_of::<String>() + line.capacity())
                .sum::<usize>()
    }
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
    /// Accounted bytes of everything held (see [`MEMORY_BUDGET`]).
    bytes: usize,
}

impl Inner {
    fn evict_oldest(&mut self) {
        let Some(oldest) = self.order.pop_front() else {
            return;
        };
        if let Some(entries) = self.browsers.remove(&oldest) {
            let held: usize = entries.iter().map(Exchange::footprint).sum();
            self.bytes = self.bytes.saturating_sub(BROWSER_OVERHEAD + held);
        }
    }
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

    /// The bytes the log holds now, as [`MEMORY_BUDGET`] counts them.
    pub fn accounted_bytes(&self) -> usize {
        self.inner.lock().bytes
    }

    /// How many browsers have records.
    pub fn browsers(&self) -> usize {
        self.inner.lock().order.len()
    }

    fn record(&self, trace_id: &str, exchange: Exchange) {
        let added = exchange.footprint();
        let mut inner = self.inner.lock();
        if !inner.browsers.contains_key(trace_id) {
            if inner.order.len() >= MAX_BROWSERS {
                inner.evict_oldest();
            }
            inner.order.push_back(trace_id.to_owned());
            inner.browsers.insert(trace_id.to_owned(), VecDeque::new());
            inner.bytes += BROWSER_OVERHEAD;
        }
        let Some(entries) = inner.browsers.get_mut(trace_id) else {
            return;
        };
        let mut removed = 0;
        if entries.len() >= ENTRIES_PER_BROWSER {
            removed = entries.pop_front().map_or(0, |old| old.footprint());
        }
        entries.push_back(exchange);
        inner.bytes = (inner.bytes + added).saturating_sub(removed);
        // One browser's exchanges are far below the budget, so this ends with it kept.
        while inner.bytes > MEMORY_BUDGET && inner.order.len() > 1 {
            inner.evict_oldest();
        }
    }
}

/// At most `max` bytes of `text` (cut at a character boundary, ending in `…` when cut).
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `name=value` with the name cut to a fixed length and the value to its first few
/// characters and its length.
pub fn redact_pair(pair: &str) -> String {
    let pair = pair.trim();
    let Some((name, value)) = pair.split_once('=') else {
        return clip(pair, COOKIE_NAME_MAX);
    };
    let name = clip(name, COOKIE_NAME_MAX);
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

/// A `Set-Cookie` header with its value redacted and its attributes kept (cut to a
/// fixed length).
pub fn redact_set_cookie(header: &str) -> String {
    let mut parts = header.splitn(2, ';');
    let pair = redact_pair(parts.next().unwrap_or_default());
    match parts.next() {
        Some(attributes) => format!("{pair};{}", clip(attributes, ATTRIBUTES_MAX)),
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
        let mut cookie = Vec::new();
        let mut not_shown = 0;
        for c in request
            .cookies()
            .iter()
            .filter(|c| c.name() != TRACE_COOKIE)
        {
            if cookie.len() < COOKIES_SHOWN {
                cookie.push(redact_pair(&c.encoded().stripped().to_string()));
            } else {
                not_shown += 1;
            }
        }
        if not_shown > 0 {
            cookie.push(format!("… and {not_shown} more"));
        }
        let set_cookie = response
            .headers()
            .get("Set-Cookie")
            .filter(|header| !header.starts_with(TRACE_COOKIE))
            .take(SET_COOKIE_LINES)
            .map(redact_set_cookie)
            .collect();
        let at = OffsetDateTime::now_utc();
        log.record(
            &id,
            Exchange {
                at: format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second()),
                method: clip(request.method().as_str(), METHOD_MAX),
                path: clip(path, PATH_MAX),
                status: response.status().code,
                cookie: (!cookie.is_empty()).then(|| cookie.join("; ")),
                set_cookie,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn large_exchange() -> Exchange {
        Exchange {
            at: "12:00:00".into(),
            method: clip(&"M".repeat(100), METHOD_MAX),
            path: clip(&"/p".repeat(5000), PATH_MAX),
            status: 404,
            cookie: Some(
                (0..COOKIES_SHOWN)
                    .map(|i| redact_pair(&format!("{}{i}={}", "n".repeat(5000), "v".repeat(50))))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            set_cookie: (0..SET_COOKIE_LINES)
                .map(|_| redact_set_cookie(&format!("a={}; {}", "v".repeat(99), "x".repeat(5000))))
                .collect(),
        }
    }

    #[test]
    fn every_field_is_cut_to_a_fixed_length() {
        let exchange = large_exchange();
        assert!(exchange.method.len() <= METHOD_MAX);
        assert!(exchange.path.len() <= PATH_MAX);
        assert!(exchange.path.ends_with('…'));
        assert!(exchange.set_cookie.iter().all(|line| line.len() < 300));
        assert!(exchange.footprint() < 4 * 1024, "{}", exchange.footprint());
        assert_eq!(clip(&"é".repeat(10), 6), "é…");
    }

    #[test]
    fn the_log_drops_its_oldest_browsers_to_stay_within_the_budget() {
        let log = ExchangeLog::default();
        let sample = large_exchange();
        for browser in 0..MAX_BROWSERS {
            let id = format!("{browser:032x}");
            for _ in 0..ENTRIES_PER_BROWSER + 3 {
                log.record(&id, sample.clone());
                assert!(log.accounted_bytes() <= MEMORY_BUDGET);
            }
        }
        let kept = log.browsers();
        assert!(kept < MAX_BROWSERS, "the budget never evicted anyone");
        assert!(log.exchanges(&format!("{:032x}", MAX_BROWSERS - 1)).len() == ENTRIES_PER_BROWSER);
        assert!(log.exchanges(&format!("{:032x}", 0)).is_empty());
        // Accounting matches what is held.
        let inner = log.inner.lock();
        let held: usize = inner
            .browsers
            .values()
            .map(|entries| {
                BROWSER_OVERHEAD + entries.iter().map(Exchange::footprint).sum::<usize>()
            })
            .sum();
        assert_eq!(held, inner.bytes);
    }
}
