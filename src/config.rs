//! Typed settings. They come from Figment: built-in defaults, then `Rocket.toml`, then
//! `ROCKET_<KEY>` environment variables (Rocket's own convention), so every key can be
//! overridden without editing a file.

use std::path::PathBuf;

use rocket::figment::providers::{Env, Serialized};
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};
use time::Duration;

/// Which backend keeps session records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStoreKind {
    /// One process's memory: zero setup, lost on restart.
    Memory,
    /// A SQLite file in the data directory: survives restarts, one instance.
    Sqlite,
    /// Redis at `redis_url`: survives restarts, shared by several instances.
    Redis,
    /// A Redis Cluster reached through `redis_cluster_nodes`: Redis past one node.
    #[serde(rename = "redis_cluster")]
    RedisCluster,
    /// The PostgreSQL at `database_url`, in schema `postgres_session_schema`: shared and
    /// durable without running Redis.
    Postgres,
}

/// How `/api/v1` authenticates, as the course's `AUTH_TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    /// The course's "AUTH_TYPE unset": the API asks for no authentication at all.
    #[serde(alias = "")]
    None,
    /// `Authorization: Basic` on every request; no sessions.
    BasicAuth,
    /// The session cookie.
    SessionAuth,
    /// The session cookie, with sessions ending `SESSION_DURATION` seconds after login.
    SessionExpAuth,
    /// As `session_exp_auth`, with sessions persisted across restarts.
    SessionDbAuth,
}

impl AuthType {
    pub fn uses_sessions(self) -> bool {
        matches!(
            self,
            Self::SessionAuth | Self::SessionExpAuth | Self::SessionDbAuth
        )
    }
}

/// Every Latchkey setting, with the defaults that make `cargo run --release` work with
/// no setup at all. See `Rocket.toml` for what each one means.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct Settings {
    /// Where the SQLite database and the generated secret key live.
    pub data_dir: PathBuf,
    /// `sqlite://path` for users. Empty means `<data_dir>/latchkey.db`.
    pub database_url: String,
    /// Where session records live. Unset: memory, or SQLite under `session_db_auth`,
    /// whose sessions must survive a restart. See [`Settings::store_kind`].
    pub session_store: Option<SessionStoreKind>,
    /// Redis server for `session_store = "redis"`.
    pub redis_url: String,
    /// Prepended to every Redis key, so several apps (or tests) can share one server.
    pub redis_key_prefix: String,
    /// Seed nodes of the Redis Cluster for `session_store = "redis_cluster"` (any few
    /// masters; the client discovers the rest).
    #[serde(deserialize_with = "node_list")]
    pub redis_cluster_nodes: Vec<String>,
    /// Schema holding the session and throttle tables for `session_store = "postgres"`.
    pub postgres_session_schema: String,
    /// Name of the session cookie.
    pub session_name: String,
    /// Seconds of inactivity after which a session ends (OWASP: 15-30 minutes).
    pub session_idle_timeout: u64,
    /// Seconds after login after which a session ends however active it is.
    pub session_absolute_timeout: u64,
    /// Seconds between write-backs of a session's last-seen time (keeps page views cheap).
    pub session_touch_interval: u64,
    /// Seconds between sweeps that delete expired sessions from the store.
    pub session_sweep_interval: u64,
    /// Most live sessions one account may hold; a login past it ends the account's least
    /// recently used session. 0: no limit.
    pub max_sessions_per_user: usize,
    /// Mark cookies `Secure` (send only over HTTPS). Turn on whenever Latchkey is served
    /// over HTTPS, directly or behind a TLS-terminating proxy.
    pub cookie_secure: bool,
    /// How many password hashes may run at once; 0 means one fewer than the CPU cores
    /// (at least one), so page views always keep a core during a login storm.
    pub hash_concurrency: usize,
    /// argon2id memory cost in KiB (OWASP minimum: 19456).
    pub argon2_memory_kib: u32,
    /// argon2id iterations (OWASP minimum with 19 MiB: 2).
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
    /// `/api/v1` authentication (the course's `AUTH_TYPE`).
    pub auth_type: AuthType,
    /// The course API's open semantics (any caller may list, change and delete any user; login tells unknown emails apart). Off by default.
    #[serde(default)]
    pub course_mode: bool,
    /// The course's `SESSION_DURATION`: with `session_exp_auth` or `session_db_auth`, a
    /// positive number of seconds replaces `session_absolute_timeout`. Anything else
    /// (missing, not an integer, <= 0) leaves Latchkey's own timeouts in force.
    #[serde(deserialize_with = "lenient_seconds")]
    pub session_duration: Option<i64>,
    /// Log lines as `text` (for people) or `json` (for log shippers and alerting).
    pub log_format: LogFormat,
    /// A bearer token that opens `/metrics` to scrapers on other machines. Empty: only
    /// direct loopback clients may read the metrics.
    pub metrics_token: MetricsToken,
    /// Seconds an anonymous form's CSRF token (login, signup) stays valid after the page
    /// issued it: long enough to fill in the form, short enough that a copied token is
    /// soon worthless.
    pub anon_csrf_ttl: u64,
}

/// The course treats a `SESSION_DURATION` that is not a positive integer as "no expiry"
/// rather than an error, so any value is accepted here and only positive integers count.
fn lenient_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Int(i64),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Lenient::deserialize(d)? {
        Lenient::Int(n) => Some(n),
        Lenient::Text(text) => text.trim().parse().ok(),
        Lenient::Other(_) => None,
    }
    .filter(|n| *n > 0))
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            session_store: None,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_key_prefix: "latchkey:".into(),
            redis_cluster_nodes: Vec::new(),
            postgres_session_schema: "latchkey_sessions".into(),
            session_name: "latchkey_session".into(),
            session_idle_timeout: 30 * 60,
            session_absolute_timeout: 12 * 60 * 60,
            session_touch_interval: 60,
            session_sweep_interval: 60,
            max_sessions_per_user: 100,
            cookie_secure: false,
            hash_concurrency: 0,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            auth_type: AuthType::SessionAuth,
            course_mode: false,
            session_duration: None,
            log_format: LogFormat::Text,
            metrics_token: MetricsToken::default(),
            anon_csrf_ttl: 2 * 60 * 60,
        }
    }
}

/// A setting that cannot work, named so the operator knows what to change.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting `{key}`: {reason}")]
pub struct SettingsError {
    pub key: &'static str,
    pub reason: String,
}

fn invalid(key: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        key,
        reason: reason.into(),
    }
}

impl Settings {
    /// Refuses settings that would silently weaken security or break sessions.
    ///
    /// # Errors
    /// The first setting that is out of range.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.session_name.is_empty()
            || !self
                .session_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err(invalid(
                "session_name",
                "use letters, digits, '_', '-' or '.' only",
            ));
        }
        if RESERVED_COOKIE_NAMES.contains(&self.session_name.as_str()) {
            return Err(invalid("session_name", "that name is taken by Latchkey"));
        }
        if self.session_idle_timeout == 0 {
            return Err(invalid("session_idle_timeout", "must be at least 1 second"));
        }
        if self.session_absolute_timeout < self.session_idle_timeout {
            return Err(invalid(
                "session_absolute_timeout",
                "must be at least session_idle_timeout",
            ));
        }
        if self.session_sweep_interval == 0 {
            return Err(invalid(
                "session_sweep_interval",
                "must be at least 1 second",
            ));
        }
        // OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB, t >= 2, p >= 1.
        if self.argon2_memory_kib < 19_456 {
            return Err(invalid(
                "argon2_memory_kib",
                "below the OWASP minimum of 19456",
            ));
        }
        if self.argon2_iterations < 2 {
            return Err(invalid("argon2_iterations", "below the OWASP minimum of 2"));
        }
        if self.auth_type == AuthType::SessionDbAuth
            && self.session_store == Some(SessionStoreKind::Memory)
        {
            return Err(invalid(
                "session_store",
                "AUTH_TYPE=session_db_auth needs sessions that survive a restart, and the \
                 memory store loses them; use \"sqlite\", \"postgres\" or \"redis\" (or \
                 leave it unset)",
            ));
        }
        if self.anon_csrf_ttl < 60 {
            return Err(invalid("anon_csrf_ttl", "must be at least 60 seconds"));
        }
        if !(1..=16).contains(&self.argon2_parallelism) {
            return Err(invalid("argon2_parallelism", "must be between 1 and 16"));
        }
        Ok(())
    }

    /// The session store to open: the configured one, else SQLite for the course's
    /// `session_db_auth` (persisted sessions), else memory.
    pub fn store_kind(&self) -> SessionStoreKind {
        match (self.session_store, self.auth_type) {
            (Some(kind), _) => kind,
            (None, AuthType::SessionDbAuth) => SessionStoreKind::Sqlite,
            (None, _) => SessionStoreKind::Memory,
        }
    }

    /// The idle timeout, never longer than the absolute one.
    pub fn idle_timeout(&self) -> Duration {
        Duration::seconds(clamp_secs(self.session_idle_timeout)).min(self.absolute_timeout())
    }

    /// `SESSION_DURATION` when the course's expiring session types ask for it, else
    /// `session_absolute_timeout`.
    pub fn absolute_timeout(&self) -> Duration {
        let course_duration = match self.auth_type {
            AuthType::SessionExpAuth | AuthType::SessionDbAuth => self.session_duration,
            _ => None,
        };
        match course_duration {
            Some(seconds) => Duration::seconds(clamp_secs(seconds as u64)),
            None => Duration::seconds(clamp_secs(self.session_absolute_timeout)),
        }
    }

    pub fn anon_csrf_ttl(&self) -> Duration {
        Duration::seconds(clamp_secs(self.anon_csrf_ttl))
    }

    pub fn touch_interval(&self) -> Duration {
        Duration::seconds(clamp_secs(self.session_touch_interval))
    }

    /// The users database URL, defaulting to a file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("latchkey.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// Concurrent password hashes allowed: the setting, or every core but one (at least
    /// one). Measured on 2 cores (bench/run.sh): with a hash per core a 16-connection
    /// login storm cut /profile to ~0.55 of idle with p99 2.3x; keeping a core free holds
    /// it near 0.65 and 1.7x, at the price of half the peak login rate there.
    pub fn hash_permits(&self) -> usize {
        if self.hash_concurrency > 0 {
            self.hash_concurrency
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
        }
    }
}

/// Ten years of seconds is longer than any sane timeout and keeps date arithmetic in range.
fn clamp_secs(secs: u64) -> i64 {
    secs.min(10 * 365 * 24 * 3600) as i64
}

/// The course's environment variables, accepted as they are and mapped onto settings.
const COURSE_ENV: [&str; 3] = ["AUTH_TYPE", "SESSION_NAME", "SESSION_DURATION"];

/// The configuration Latchkey runs with, lowest priority first: built-in defaults,
/// `Rocket.toml`, the course's variables (`AUTH_TYPE`, `SESSION_NAME`,
/// `SESSION_DURATION`), then `ROCKET_*` variables, Latchkey's own spelling, which win.
pub fn figment() -> Figment {
    let rocket = rocket::Config::figment();
    let profile = rocket.profile().clone();
    Figment::from(Serialized::defaults(Settings::default()))
        .merge(rocket)
        .merge(Env::raw().only(&COURSE_ENV).global())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(profile)
}

/// `redis_cluster_nodes` as a list (Rocket.toml, or `ROCKET_REDIS_CLUSTER_NODES='[...]'`),
/// or as one string of URLs separated by commas, which is what people type in a shell.
fn node_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Nodes {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Nodes::deserialize(deserializer)? {
        Nodes::List(list) => list,
        Nodes::Text(text) => serde_json::from_str(&text).unwrap_or_else(|_| {
            text.split(',')
                .map(|node| node.trim().to_owned())
                .filter(|node| !node.is_empty())
                .collect()
        }),
    })
}

/// The anonymous visitor's CSRF token cookie (login and registration forms).
pub const ANON_CSRF_COOKIE: &str = "latchkey_csrf";
/// The one-shot flash message cookie (Rocket's name for it).
pub const FLASH_COOKIE: &str = "_flash";
/// The opt-in exchange-log browser id cookie.
pub const TRACE_COOKIE: &str = "latchkey_trace";
/// Cookie names Latchkey sets besides the session cookie, owned here so `session_name`
/// cannot collide with any of them.
pub const RESERVED_COOKIE_NAMES: [&str; 3] = [ANON_CSRF_COOKIE, FLASH_COOKIE, TRACE_COOKIE];

/// The `metrics_token` setting. `Debug` is redacted so the token never reaches a log.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "MetricsToken(<unset>)"
        } else {
            "MetricsToken(<redacted>)"
        })
    }
}

/// How log lines are written (`log_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log shippers and alerting.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes_from(value: rocket::figment::value::Value) -> Vec<String> {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(("redis_cluster_nodes", value))
            .extract::<Settings>()
            .unwrap()
            .redis_cluster_nodes
    }

    #[test]
    fn cluster_nodes_are_a_list_a_json_list_in_a_string_or_comma_separated() {
        let expected = vec!["redis://a:7000".to_owned(), "redis://b:7001".to_owned()];
        assert_eq!(nodes_from(expected.clone().into()), expected);
        assert_eq!(
            nodes_from(r#"["redis://a:7000","redis://b:7001"]"#.into()),
            expected
        );
        assert_eq!(
            nodes_from("redis://a:7000, redis://b:7001".into()),
            expected
        );
    }

    #[test]
    fn the_new_store_kinds_have_their_setting_names() {
        let kind = |name: &str| {
            Figment::from(Serialized::defaults(Settings::default()))
                .merge(("session_store", name))
                .extract::<Settings>()
                .ok()
                .map(|s| s.store_kind())
        };
        assert_eq!(kind("redis_cluster"), Some(SessionStoreKind::RedisCluster));
        assert_eq!(kind("postgres"), Some(SessionStoreKind::Postgres));
        assert_eq!(kind("rediscluster"), None);
    }

    #[test]
    fn the_session_cookie_may_not_take_a_name_latchkey_reserves() {
        for name in RESERVED_COOKIE_NAMES {
            let settings = Settings {
                session_name: name.to_owned(),
                ..Settings::default()
            };
            assert!(settings.validate().is_err(), "{name} was accepted");
        }
        assert!(Settings::default().validate().is_ok());
    }
}
