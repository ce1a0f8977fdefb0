//! Structured logs: one `tracing` subscriber for Latchkey, Rocket and the database
//! drivers (their `log` records are bridged), text or JSON (`log_format`), a request id
//! on every line a request causes, and security events at one stable target.
//!
//! What never reaches a log: passwords, cookie values, session ids (their `Debug` is
//! redacted), query strings (a `next=` could carry anything). The request line has the
//! method, the path, the matched route, the status, the duration and the request id.

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request, Response};
use tracing::Instrument;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// The `log_format` setting lives with the other settings.
pub use crate::config::LogFormat;

mod security_event;

pub use security_event::{Actor, SecurityEvent, Via};

/// The target of every security event. Alert on it: each event carries an `event` field
/// naming it (see [`SecurityEvent`], and the table in `docs/operations.md`).
pub const SECURITY: &str = "latchkey::security";
/// The target of the one line logged per request.
pub const REQUESTS: &str = "latchkey::request";

/// What is logged unless `RUST_LOG` says otherwise: Latchkey at `level`, Rocket's own
/// chatter only from warnings up (it would log every request with its query string; the
/// request line here replaces it), the drivers' only from warnings up.
pub fn default_filter(level: &str) -> String {
    format!("{level},rocket=warn,rocket::launch=warn,sqlx=warn,hyper=warn,redis=warn")
}

/// The subscriber Latchkey logs through, writing to `writer`. Tests build it on a buffer
/// to check what a log contains.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

/// Installs the process-wide subscriber on stderr (and the bridge for `log` records, which
/// keeps Rocket from installing its own logger). `RUST_LOG` overrides the filter; without
/// it, Rocket's `log_level` picks Latchkey's level (`off`, `critical` = warnings,
/// `normal` = info, `debug`).
///
/// # Errors
/// When `RUST_LOG` cannot be parsed or a subscriber is installed already.
pub fn init(format: LogFormat, rocket_log_level: &str) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(&directives)
            .map_err(|error| format!("invalid RUST_LOG {directives:?}: {error}"))?,
        _ => {
            let level = match rocket_log_level {
                "off" => "off",
                "critical" => "warn",
                "debug" => "debug",
                _ => "info",
            };
            EnvFilter::new(default_filter(level))
        }
    };
    subscriber(format, filter, std::io::stderr)
        .try_init()
        .map_err(|error| format!("cannot set up logging: {error}"))
}

/// Logging for an admin command: its security events (an audit trail of what the admin
/// did) and warnings, on stderr in the configured `log_format`; `RUST_LOG` overrides.
pub fn init_admin(format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("warn,{SECURITY}=info")));
    // Fails only when a subscriber exists already, which then does the job.
    let _ = subscriber(format, filter, std::io::stderr).try_init();
}

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
