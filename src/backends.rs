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
use crate::sessions::{
    sqlite::FILE_NAME as SESSIONS_FILE, MemoryStore, RedisSessionStore, SessionStore,
    SqliteSessionStore,
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
    }
}

/// `scheme://user:secret@host/…` -> `scheme://user:***@host/…`, so a start-up message or
/// log line never shows a database or Redis password.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}
