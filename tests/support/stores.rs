//! Helpers shared by the store tests: one fixture per backend, isolation for the shared
//! services (a unique Redis key prefix, a unique PostgreSQL schema per test), and the
//! switches that skip Redis/PostgreSQL tests when `REDIS_URL` / `DATABASE_URL` are unset.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Once;

use latchkey::clock::ManualClock;
use latchkey::config::Settings;
use latchkey::sessions::{
    MemoryStore, RedisSessionStore, SessionStore, Sessions, SqliteSessionStore,
};
use tempfile::TempDir;
use uuid::Uuid;

/// `REDIS_URL`, or `None` after saying that the Redis tests are skipped.
pub fn redis_url() -> Option<String> {
    service_url("REDIS_URL", "Redis", &REDIS_NOTICE)
}

/// `DATABASE_URL` (a PostgreSQL URL), or `None` after saying the PostgreSQL tests are
/// skipped.
pub fn database_url() -> Option<String> {
    service_url("DATABASE_URL", "PostgreSQL", &POSTGRES_NOTICE)
}

static REDIS_NOTICE: Once = Once::new();
static POSTGRES_NOTICE: Once = Once::new();

/// The service's URL from the environment. When it is unset, one line per test binary
/// says so, written straight to stderr: the test harness captures `eprintln!` of passing
/// tests, and a silent skip would look like a pass.
fn service_url(variable: &str, service: &str, notice: &Once) -> Option<String> {
    let url = std::env::var(variable).ok().filter(|u| !u.is_empty());
    if url.is_none() {
        notice.call_once(|| {
            let binary = std::env::args().next().unwrap_or_default();
            let binary = binary.rsplit('/').next().unwrap_or_default().to_owned();
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {service} tests in {binary} ({variable} not set)"
            );
        });
    }
    url
}

/// A Redis key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("latchkey-test:{}:", Uuid::new_v4().simple())
}

/// Deletes every key under `prefix` (what a test wrote).
pub async fn redis_cleanup(url: &str, prefix: &str) {
    let keys = redis_keys(url, prefix).await;
    if keys.is_empty() {
        return;
    }
    let client = redis::Client::open(url).expect("REDIS_URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis");
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut connection)
        .await
        .expect("DEL");
}

/// Every key under `prefix`, found with SCAN.
pub async fn redis_keys(url: &str, prefix: &str) -> Vec<String> {
    let client = redis::Client::open(url).expect("REDIS_URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis");
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut connection)
            .await
            .expect("SCAN");
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

/// A raw connection for tests that look behind the store's back.
pub async fn redis_connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("REDIS_URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis")
}

/// A PostgreSQL schema of one's own: the URL puts it first on the search path, so the
/// migrations and every query of this test land there, in parallel with other tests.
pub struct PgSchema {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgSchema {
    pub async fn create(base_url: &str) -> Self {
        let name = format!("latchkey_test_{}", Uuid::new_v4().simple());
        let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(base_url)
            .await
            .expect("connect to DATABASE_URL");
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut connection)
            .await
            .expect("create schema");
        let separator = if base_url.contains('?') { '&' } else { '?' };
        Self {
            url: format!("{base_url}{separator}options=-c%20search_path%3D{name}"),
            admin_url: base_url.to_owned(),
            name,
        }
    }

    pub async fn drop_now(self) {
        if let Ok(mut connection) =
            <sqlx::PgConnection as sqlx::Connection>::connect(&self.admin_url).await
        {
            let _ = sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
                .execute(&mut connection)
                .await;
        }
    }
}

/// Which backend a fixture runs, and what it needs to look at the raw storage.
pub enum Backend {
    Memory,
    Sqlite { _dir: TempDir, path: PathBuf },
    Redis { url: String, prefix: String },
}

/// A store under test, the manual clock it (and the policy) reads, and its backend.
pub struct Fixture {
    pub store: Arc<dyn SessionStore>,
    pub clock: ManualClock,
    pub backend: Backend,
}

/// Settings small enough to reason about: idle 1800 s, absolute 43200 s, touch 60 s.
pub fn session_settings() -> Settings {
    Settings::default()
}

impl Fixture {
    pub fn sessions(&self) -> Sessions {
        self.sessions_with(&session_settings())
    }

    pub fn sessions_with(&self, settings: &Settings) -> Sessions {
        Sessions::new(self.store.clone(), Arc::new(self.clock.clone()), settings)
    }

    /// Everything the backend keeps, as bytes (files for SQLite; keys, values and
    /// members for Redis); `None` for memory, which has no outside form.
    pub async fn raw_dump(&self) -> Option<Vec<u8>> {
        match &self.backend {
            Backend::Memory => None,
            Backend::Sqlite { path, .. } => {
                let mut bytes = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    if let Ok(content) = std::fs::read(&file) {
                        bytes.extend(content);
                    }
                }
                Some(bytes)
            }
            Backend::Redis { url, prefix } => {
                let mut connection = redis_connection(url).await;
                let mut bytes = Vec::new();
                for key in redis_keys(url, prefix).await {
                    bytes.extend(key.as_bytes());
                    let kind: String = redis::cmd("TYPE")
                        .arg(&key)
                        .query_async(&mut connection)
                        .await
                        .expect("TYPE");
                    let values: Vec<Vec<u8>> = match kind.as_str() {
                        "string" => vec![redis::cmd("GET")
                            .arg(&key)
                            .query_async(&mut connection)
                            .await
                            .expect("GET")],
                        "set" => redis::cmd("SMEMBERS")
                            .arg(&key)
                            .query_async(&mut connection)
                            .await
                            .expect("SMEMBERS"),
                        "zset" => redis::cmd("ZRANGE")
                            .arg(&key)
                            .arg(0)
                            .arg(-1)
                            .query_async(&mut connection)
                            .await
                            .expect("ZRANGE"),
                        other => panic!("unexpected Redis type {other} for {key}"),
                    };
                    for value in values {
                        bytes.extend(value);
                    }
                }
                Some(bytes)
            }
        }
    }

    /// Removes what the test left in shared services.
    pub async fn cleanup(self) {
        if let Backend::Redis { url, prefix } = &self.backend {
            redis_cleanup(url, prefix).await;
        }
    }
}

pub async fn memory() -> Option<Fixture> {
    Some(Fixture {
        store: Arc::new(MemoryStore::new()),
        clock: ManualClock::starting_now(),
        backend: Backend::Memory,
    })
}

pub async fn sqlite() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sessions.db");
    let store = SqliteSessionStore::open(&path)
        .await
        .expect("open SQLite session store");
    Some(Fixture {
        store: Arc::new(store),
        clock: ManualClock::starting_now(),
        backend: Backend::Sqlite { _dir: dir, path },
    })
}

pub async fn redis() -> Option<Fixture> {
    let url = redis_url()?;
    let prefix = unique_prefix();
    let clock = ManualClock::starting_now();
    let store = RedisSessionStore::connect(&url, &prefix, Arc::new(clock.clone()))
        .await
        .expect("connect to REDIS_URL");
    Some(Fixture {
        store: Arc::new(store),
        clock,
        backend: Backend::Redis { url, prefix },
    })
}
