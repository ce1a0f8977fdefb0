//! Helpers shared by the store tests: one fixture per backend, isolation for the shared
//! services (a unique Redis key prefix, a unique PostgreSQL schema per test), and the
//! switches that skip Redis/Redis Cluster/PostgreSQL tests when `REDIS_URL` /
//! `REDIS_CLUSTER_NODES` / `DATABASE_URL` are unset.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Once;

use latchkey::clock::ManualClock;
use latchkey::config::Settings;
use latchkey::sessions::{
    MemoryStore, PostgresSessionStore, RedisClusterSessionStore, RedisSessionStore, SessionStore,
    Sessions, SqliteSessionStore,
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

/// `REDIS_CLUSTER_NODES` (seed node URLs, comma-separated or a JSON list, as
/// `.ci/redis-cluster` exports it), or `None` after saying the cluster tests are skipped.
pub fn redis_cluster_nodes() -> Option<Vec<String>> {
    let raw = service_url("REDIS_CLUSTER_NODES", "Redis Cluster", &CLUSTER_NOTICE)?;
    let nodes: Vec<String> = match serde_json::from_str::<Vec<String>>(&raw) {
        Ok(list) => list,
        Err(_) => raw
            .split(',')
            .map(|node| node.trim().to_owned())
            .filter(|node| !node.is_empty())
            .collect(),
    };
    Some(nodes)
}

/// The same nodes as a JSON list, the form a `redis_cluster_nodes` setting takes.
pub fn cluster_nodes_setting(nodes: &[String]) -> String {
    serde_json::to_string(nodes).unwrap()
}

/// Every master of the cluster `seed` belongs to, as `redis://host:port` URLs.
pub async fn cluster_masters(seed: &str) -> Vec<String> {
    let mut connection = redis_connection(seed).await;
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut connection)
        .await
        .expect("CLUSTER NODES");
    nodes
        .lines()
        .filter(|line| {
            let flags = line.split(' ').nth(2).unwrap_or_default();
            flags.contains("master") && !flags.contains("fail")
        })
        .filter_map(|line| line.split(' ').nth(1))
        .map(|addr| format!("redis://{}", addr.split('@').next().unwrap_or(addr)))
        .collect()
}

/// Every key under `prefix` on every master of the cluster.
pub async fn cluster_keys(seed: &str, prefix: &str) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for master in cluster_masters(seed).await {
        for key in redis_keys(&master, prefix).await {
            keys.push((master.clone(), key));
        }
    }
    keys
}

/// Deletes every key under `prefix` on every master (what a test wrote).
pub async fn redis_cluster_cleanup(seed: &str, prefix: &str) {
    for master in cluster_masters(seed).await {
        redis_cleanup_each(&master, prefix).await;
    }
}

/// Deletes keys one by one: a cluster node refuses a multi-key DEL across slots.
async fn redis_cleanup_each(url: &str, prefix: &str) {
    let keys = redis_keys(url, prefix).await;
    let mut connection = redis_connection(url).await;
    for key in keys {
        let _: Result<i64, _> = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut connection)
            .await;
    }
}

static CLUSTER_NOTICE: Once = Once::new();
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

/// A schema name no other test uses (for stores that take a schema of their own).
pub fn unique_schema_name() -> String {
    format!("latchkey_test_{}", Uuid::new_v4().simple())
}

/// Drops a PostgreSQL schema when the test ends, passing or failing.
pub struct DropSchema {
    pub url: String,
    pub name: String,
}

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop may run inside the test's runtime, which cannot block on itself.
        let _ = std::thread::spawn(move || {
            let runtime = rocket::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut connection) =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&url).await
                {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .execute(&mut connection)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Which backend a fixture runs, and what it needs to look at the raw storage.
pub enum Backend {
    Memory,
    Sqlite {
        _dir: TempDir,
        path: PathBuf,
    },
    Redis {
        url: String,
        prefix: String,
    },
    RedisCluster {
        seed: String,
        prefix: String,
    },
    Postgres {
        store: Arc<PostgresSessionStore>,
        _schema: DropSchema,
    },
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
            Backend::Postgres { store, .. } => {
                let rows: Vec<(Vec<u8>, String, Option<String>)> =
                    sqlx::query_as("SELECT key, user_id::text, user_agent FROM sessions")
                        .fetch_all(store.pool())
                        .await
                        .expect("read sessions");
                let mut bytes = Vec::new();
                for (key, user, agent) in rows {
                    bytes.extend(key);
                    bytes.extend(user.into_bytes());
                    bytes.extend(agent.unwrap_or_default().into_bytes());
                }
                Some(bytes)
            }
            Backend::RedisCluster { seed, prefix } => {
                let mut bytes = Vec::new();
                for (node, key) in cluster_keys(seed, prefix).await {
                    bytes.extend(redis_dump_key(&node, &key).await);
                }
                Some(bytes)
            }
            Backend::Redis { url, prefix } => {
                let mut bytes = Vec::new();
                for key in redis_keys(url, prefix).await {
                    bytes.extend(redis_dump_key(url, &key).await);
                }
                Some(bytes)
            }
        }
    }

    /// Removes what the test left in shared services.
    pub async fn cleanup(self) {
        match &self.backend {
            Backend::Redis { url, prefix } => redis_cleanup(url, prefix).await,
            Backend::RedisCluster { seed, prefix } => redis_cluster_cleanup(seed, prefix).await,
            _ => {}
        }
    }
}

/// One Redis key's name and contents as bytes.
async fn redis_dump_key(url: &str, key: &str) -> Vec<u8> {
    let mut connection = redis_connection(url).await;
    let mut bytes = key.as_bytes().to_vec();
    let kind: String = redis::cmd("TYPE")
        .arg(key)
        .query_async(&mut connection)
        .await
        .expect("TYPE");
    let values: Vec<Vec<u8>> = match kind.as_str() {
        "string" => vec![redis::cmd("GET")
            .arg(key)
            .query_async(&mut connection)
            .await
            .expect("GET")],
        "set" => redis::cmd("SMEMBERS")
            .arg(key)
            .query_async(&mut connection)
            .await
            .expect("SMEMBERS"),
        "zset" => redis::cmd("ZRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query_async(&mut connection)
            .await
            .expect("ZRANGE"),
        "none" => Vec::new(),
        other => panic!("unexpected Redis type {other} for {key}"),
    };
    for value in values {
        bytes.extend(value);
    }
    bytes
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

pub async fn redis_cluster() -> Option<Fixture> {
    let nodes = redis_cluster_nodes()?;
    let prefix = unique_prefix();
    let clock = ManualClock::starting_now();
    let store = RedisClusterSessionStore::connect(&nodes, &prefix, Arc::new(clock.clone()))
        .await
        .expect("connect to REDIS_CLUSTER_NODES");
    Some(Fixture {
        store: Arc::new(store),
        clock,
        backend: Backend::RedisCluster {
            seed: nodes[0].clone(),
            prefix,
        },
    })
}

pub async fn postgres() -> Option<Fixture> {
    let url = database_url()?;
    let name = unique_schema_name();
    let store = Arc::new(
        PostgresSessionStore::connect(&url, &name)
            .await
            .expect("open PostgreSQL session store"),
    );
    Some(Fixture {
        store: store.clone(),
        clock: ManualClock::starting_now(),
        backend: Backend::Postgres {
            store,
            _schema: DropSchema { url, name },
        },
    })
}
