//! One way to open a SQLite file, shared by the users database, the session store and the
//! throttle counters: create the folder, WAL (readers never wait for the writer), a busy
//! timeout instead of instant "database is locked" errors, and a bounded wait for a
//! connection, so an overloaded database answers 503 instead of hanging.

use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Opens (creating if needed) the database `options` names.
///
/// `synchronous`: `Full` where an acknowledged write must survive a power cut (users,
/// sessions), `Normal` where losing the last moments is harmless (throttle counters).
///
/// # Errors
/// When the folder cannot be created or the file cannot be opened.
pub async fn open_pool(
    options: SqliteConnectOptions,
    synchronous: SqliteSynchronous,
    max_connections: u32,
) -> Result<SqlitePool, sqlx::Error> {
    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
            rocket::tokio::fs::create_dir_all(dir).await?;
        }
    }
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(5));
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}
