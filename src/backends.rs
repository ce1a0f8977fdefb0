//! Picks and opens the users database and the session store from the settings. Kept out
//! of `lib.rs` so adding a backend touches only this file and the backend's own.
//!
//! Every failure comes back as one sentence naming the setting at fault and the address
//! tried (password redacted), which `set_up` prints before refusing to start; every
//! connection attempt is bounded in time, so a missing service stops the launch within
//! seconds instead of hanging it.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::{SessionStoreKind, Settings};
use crate::errors::error_chain;
use crate::redis_connector::{redact_url, redis_target, RedisTarget};
use crate::sessions::{
    sqlite::FILE_NAME as SESSIONS_FILE, MemoryStore, PostgresSessionStore,
    RedisClusterSessionStore, RedisSessionStore, SessionStore, SqliteSessionStore,
};
use crate::users::{PostgresUserRepo, SqliteUserRepo, UserRepo};

/// Opens the users database named by `database_url`: `sqlite://…` (the default) or
/// `postgres://…` / `postgresql://…`.
///
/// # Errors
/// A message naming `database_url` when the scheme is unknown or the database cannot be
/// reached or migrated.
pub async fn connect_users(settings: &Settings) -> Result<Arc<dyn UserRepo>, String> {
    let url = settings.database_url();
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    let result: Result<Arc<dyn UserRepo>, _> = match scheme {
        "sqlite" => SqliteUserRepo::connect(&url)
            .await
            .map(|repo| Arc::new(repo) as _),
        "postgres" | "postgresql" => PostgresUserRepo::connect(&url)
            .await
            .map(|repo| Arc::new(repo) as _),
        _ => {
            return Err(format!(
                "invalid setting `database_url` = {}: use sqlite://path or postgres://user@host/db",
                redact_url(&url)
            ))
        }
    };
    result.map_err(|error| {
        format!(
            "cannot open the user database (setting `database_url` = {}): {}",
            redact_url(&url),
            error_chain(&error)
        )
    })
}

/// Opens the session store that `session_store` (or `auth_type`) calls for.
///
/// # Errors
/// A message naming the setting (`redis_url`, or `data_dir` for SQLite) when the store
/// cannot be reached or opened.
pub async fn open_session_store(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn SessionStore>, String> {
    match settings.store_kind() {
        SessionStoreKind::Memory => Ok(Arc::new(MemoryStore::new())),
        SessionStoreKind::Sqlite => {
            let path = settings.data_dir.join(SESSIONS_FILE);
            match SqliteSessionStore::open(&path).await {
                Ok(store) => Ok(Arc::new(store)),
                Err(error) => Err(format!(
                    "cannot open the session database {} (setting `data_dir`): {}",
                    path.display(),
                    error_chain(&error)
                )),
            }
        }
        SessionStoreKind::Redis => {
            match RedisSessionStore::connect(&settings.redis_url, &settings.redis_key_prefix, clock)
                .await
            {
                Ok(store) => Ok(Arc::new(store)),
                Err(error) => Err(format!(
                    "cannot reach the Redis session store (setting `redis_url` = {}): {}",
                    redact_url(&settings.redis_url),
                    error_chain(&error)
                )),
            }
        }
        SessionStoreKind::RedisCluster => {
            let (target, setting) = redis_target(settings);
            let RedisTarget::Cluster(nodes) = target else {
                unreachable!("redis_target gives cluster nodes for the cluster store")
            };
            if nodes.is_empty() {
                return Err("invalid setting `redis_cluster_nodes`: session_store = \
                     \"redis_cluster\" needs at least one seed node URL"
                    .into());
            }
            match RedisClusterSessionStore::connect(&nodes, &settings.redis_key_prefix, clock).await
            {
                Ok(store) => Ok(Arc::new(store)),
                Err(error) => Err(format!(
                    "cannot reach the Redis Cluster session store ({setting}): {}",
                    error_chain(&error)
                )),
            }
        }
        SessionStoreKind::Postgres => {
            let url = settings.database_url();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(format!(
                    "invalid setting `session_store` = \"postgres\": it keeps sessions in the \
                     PostgreSQL named by `database_url`, which is {}",
                    redact_url(&url)
                ));
            }
            match PostgresSessionStore::connect(&url, &settings.postgres_session_schema).await {
                Ok(store) => Ok(Arc::new(store)),
                Err(error) => Err(format!(
                    "cannot open the PostgreSQL session store (settings `database_url` = {}, \
                     `postgres_session_schema` = {}): {}",
                    redact_url(&url),
                    settings.postgres_session_schema,
                    error_chain(&error)
                )),
            }
        }
    }
}
