//! The metric counters: logins, sessions, the password-hash queue and request latency by
//! route, rendered in the Prometheus text format. The `/metrics` route that serves them
//! (and decides who may read them) is `web::metrics`.
//!
//! The counters are process-wide (one registry per process, like every Prometheus
//! client), so any module can count without threading state through: the session
//! service calls [`session_created`], and so on. Security events count themselves
//! (`telemetry::SecurityEvent::emit`), so their counters are not public.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

/// The `metrics_token` setting lives with the other settings.
pub use crate::config::MetricsToken;

struct Metrics {
    registry: Registry,
    logins: IntCounterVec,
    security_events: IntCounterVec,
    password_verifications: IntCounter,
    sessions_created: IntCounter,
    sessions_expired: IntCounter,
    sessions_revoked: IntCounter,
    sessions_active: IntGauge,
    hashes_waiting: IntGauge,
    hashes_running: IntGauge,
    hash_seconds: Histogram,
    request_seconds: HistogramVec,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let logins = IntCounterVec::new(
            Opts::new(
                "latchkey_logins_total",
                "Login attempts by outcome: succeeded, failed (wrong email or password), throttled.",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        for outcome in ["succeeded", "failed", "throttled"] {
            logins.with_label_values(&[outcome]);
        }
        let counter = |name: &str, help: &str| IntCounter::new(name, help).expect("valid metric");
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid metric");
        let metrics = Self {
            logins,
            security_events: IntCounterVec::new(
                Opts::new(
                    "latchkey_security_events_total",
                    "Security events by name (the `event` field of their log line).",
                ),
                &["event"],
            )
            .expect("valid metric"),
            password_verifications: counter(
                "latchkey_password_verifications_total",
                "Passwords checked against a stored (or the dummy) argon2id hash.",
            ),
            sessions_created: counter(
                "latchkey_sessions_created_total",
                "Sessions started (logins and signups).",
            ),
            sessions_expired: counter(
                "latchkey_sessions_expired_total",
                "Sessions removed because their idle or absolute deadline passed.",
            ),
            sessions_revoked: counter(
                "latchkey_sessions_revoked_total",
                "Sessions ended before expiry: logout, revocation, rotation at login, password change, account deletion.",
            ),
            sessions_active: gauge(
                "latchkey_sessions_active",
                "Sessions this process started minus those it saw end (exact for the memory store; \
                 with a shared store, sum over instances and expect drift across restarts).",
            ),
            hashes_waiting: gauge(
                "latchkey_password_hashes_waiting",
                "Password hashes queued for a hashing slot (hash_concurrency).",
            ),
            hashes_running: gauge(
                "latchkey_password_hashes_running",
                "Password hashes running now.",
            ),
            hash_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "latchkey_password_hash_duration_seconds",
                    "Time to hash or verify one password (argon2id), queueing excluded.",
                )
                .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            )
            .expect("valid metric"),
            request_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "latchkey_http_request_duration_seconds",
                    "Time from request to response, by method and matched route pattern.",
                ),
                &["method", "route"],
            )
            .expect("valid metric"),
            registry,
        };
        let up = gauge("latchkey_up", "Always 1: the process answers.");
        up.set(1);
        let collectors: [Box<dyn prometheus::core::Collector>; 12] = [
            Box::new(metrics.logins.clone()),
            Box::new(metrics.security_events.clone()),
            Box::new(metrics.password_verifications.clone()),
            Box::new(metrics.sessions_created.clone()),
            Box::new(metrics.sessions_expired.clone()),
            Box::new(metrics.sessions_revoked.clone()),
            Box::new(metrics.sessions_active.clone()),
            Box::new(metrics.hashes_waiting.clone()),
            Box::new(metrics.hashes_running.clone()),
            Box::new(metrics.hash_seconds.clone()),
            Box::new(metrics.request_seconds.clone()),
            Box::new(up),
        ];
        for collector in collectors {
            metrics
                .registry
                .register(collector)
                .expect("unique metric names");
        }
        metrics
    }
}

/// A login whose email and password matched. Only through `SecurityEvent::emit`.
pub(crate) fn login_succeeded() {
    METRICS.logins.with_label_values(&["succeeded"]).inc();
}

/// A login refused for a wrong email or password. Only through `SecurityEvent::emit`.
pub(crate) fn login_failed() {
    METRICS.logins.with_label_values(&["failed"]).inc();
}

/// A login refused by throttling before the password was checked. Only through
/// `SecurityEvent::emit`.
pub(crate) fn login_throttled() {
    METRICS.logins.with_label_values(&["throttled"]).inc();
}

/// One security event, by name. Only through `SecurityEvent::emit`, which also logs it.
pub(crate) fn security_event(name: &'static str) {
    METRICS.security_events.with_label_values(&[name]).inc();
}

/// One password checked against a hash: the work a login costs, whether or not the
/// account exists.
pub fn password_verified() {
    METRICS.password_verifications.inc();
}

/// A session started (login or signup), whichever store keeps it.
pub fn session_created() {
    METRICS.sessions_created.inc();
    METRICS.sessions_active.inc();
}

/// Sessions removed because a deadline passed (on sight, or by the sweep).
pub fn sessions_expired(count: u64) {
    METRICS.sessions_expired.inc_by(count);
    METRICS.sessions_active.sub(count as i64);
}

/// Sessions ended before their deadline (logout, revocation, rotation, password change).
pub fn sessions_revoked(count: u64) {
    METRICS.sessions_revoked.inc_by(count);
    METRICS.sessions_active.sub(count as i64);
}

/// Counts a password hash as queued until dropped (also when the waiting future is
/// cancelled, so the gauge cannot drift).
pub struct HashQueued(());

impl HashQueued {
    pub fn start() -> Self {
        METRICS.hashes_waiting.inc();
        Self(())
    }
}

impl Drop for HashQueued {
    fn drop(&mut self) {
        METRICS.hashes_waiting.dec();
    }
}

/// Counts a password hash as running until dropped, then records how long it took.
pub struct HashRunning(Instant);

impl HashRunning {
    pub fn start() -> Self {
        METRICS.hashes_running.inc();
        Self(Instant::now())
    }
}

impl Drop for HashRunning {
    fn drop(&mut self) {
        METRICS.hashes_running.dec();
        METRICS.hash_seconds.observe(self.0.elapsed().as_secs_f64());
    }
}

/// One answered request, labelled by the route pattern (never the raw path, whose values
/// are unbounded).
pub fn observe_request(method: &str, route: &str, elapsed: Duration) {
    METRICS
        .request_seconds
        .with_label_values(&[method, route])
        .observe(elapsed.as_secs_f64());
}

/// Everything, in the Prometheus text exposition format.
pub fn render() -> String {
    let mut buffer = Vec::new();
    let encoder = TextEncoder::new();
    if let Err(error) = encoder.encode(&METRICS.registry.gather(), &mut buffer) {
        tracing::warn!("encoding metrics failed: {error}");
    }
    String::from_utf8(buffer).unwrap_or_default()
}
