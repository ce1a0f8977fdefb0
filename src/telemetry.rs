//! Structured logs: one `tracing` subscriber for Latchkey, Rocket and the database
//! drivers (their `log` records are bridged), text or JSON (`log_format`), and security
//! events at one stable target. The request id on every line a request causes and the
//! request line come from the HTTP layer (`web::request_log`).
//!
//! What never reaches a log: passwords, cookie values, session ids (their `Debug` is
//! redacted), query strings (a `next=` could carry anything). The request line has the
//! method, the path, the matched route, the status, the duration and the request id.

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
