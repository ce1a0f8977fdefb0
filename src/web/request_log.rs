//! The request id and the request line: a request id on every log line a request causes
//! (and in the `X-Request-Id` answer header), and one line per request with the method,
//! the path, the matched route, the status, the duration and the request id. Never the
//! query string (a `next=` could carry anything).

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request, Response};
use tracing::Instrument;

use crate::telemetry::REQUESTS;

/// This request's id (32 lowercase hex digits), made on first use and cached for the
/// request together with its start time.
pub fn request_id<'r>(request: &'r Request<'_>) -> &'r str {
    request_meta(request).id()
}

/// What the request log keeps per request: one request-local value (one allocation)
/// instead of one per field, and no heap string for the id.
struct RequestMeta {
    id: [u8; 32],
    started: Instant,
}

impl RequestMeta {
    fn id(&self) -> &str {
        // Only hex digits are ever written.
        std::str::from_utf8(&self.id).unwrap_or_default()
    }
}

fn request_meta<'r>(request: &'r Request<'_>) -> &'r RequestMeta {
    request.local_cache(|| RequestMeta {
        id: next_request_id(),
        started: Instant::now(),
    })
}

/// Ids unique within the process and unpredictable from outside without a system call
/// per request: a counter run through two SipHash keyed with random keys drawn once
/// (std's `RandomState`), so the ids in `X-Request-Id` reveal neither the request rate
/// nor each other. 128 bits, like the UUIDs they replace.
fn next_request_id() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::LazyLock;
    static KEYS: LazyLock<[std::collections::hash_map::RandomState; 2]> =
        LazyLock::new(Default::default);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let half = |keys: &std::collections::hash_map::RandomState| {
        let mut hasher = keys.build_hasher();
        hasher.write_u64(n);
        hasher.finish()
    };
    let value = (u128::from(half(&KEYS[0])) << 64) | u128::from(half(&KEYS[1]));
    let mut out = [0u8; 32];
    hex::encode_to_slice(value.to_be_bytes(), &mut out).unwrap_or_default();
    out
}

/// Gives every request an id (also sent back as `X-Request-Id`, so a person reporting a
/// problem can quote it) and logs one line per request when its answer is ready.
pub struct RequestLog;

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "Request log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        request_meta(request);
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let meta = request_meta(request);
        let id = meta.id();
        let elapsed = meta.started.elapsed();
        let route = route_label(request);
        let status = response.status().code;
        // Borrowed from the request: no copy of the id per response.
        response.set_header(Header::new("X-Request-Id", id));
        crate::metrics::observe_request(request.method().as_str(), route, elapsed);
        tracing::info!(
            target: REQUESTS,
            request_id = id,
            method = request.method().as_str(),
            path = request.uri().path().as_str(),
            route,
            status,
            duration_ms = elapsed.as_micros() as f64 / 1000.0,
            client_ip = request.client_ip().map(|ip| ip.to_string()),
            "request"
        );
    }
}

/// The matched route's pattern (`/api/v1/users/<id>`): a bounded set of values, unlike
/// paths, so it can label metrics.
pub fn route_label<'r>(request: &'r Request<'_>) -> &'r str {
    match request.route() {
        Some(route) => route.uri.as_str(),
        None => "unmatched",
    }
}

/// Runs a route's handler (guards included) inside a span carrying the request id, so
/// every event logged while handling the request names it.
#[derive(Clone)]
struct Traced(Box<dyn Handler>);

#[rocket::async_trait]
impl Handler for Traced {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let span = tracing::info_span!("request", request_id = request_id(request));
        self.0.handle(request, data).instrument(span).await
    }
}

/// The same routes, each handler wrapped in the request span.
pub fn traced(routes: impl Into<Vec<Route>>) -> Vec<Route> {
    routes
        .into()
        .into_iter()
        .map(|mut route| {
            route.handler = Box::new(Traced(route.handler));
            route
        })
        .collect()
}
