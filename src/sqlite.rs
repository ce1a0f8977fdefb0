//! One way to open a SQLite file, shared by the users database, the session store and the
//! throttle counters: create the folder and the file private (0700, 0600: see
//! `private_files`), WAL (readers never wait for the writer), a busy
//! timeout instead of instant "database is locked" errors, and a bounded wait for a
//! connection, so an overloaded database answers 503 instead of hanging.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// In-memory databases (`sqlite::memory:`, which sqlx names `file:sqlx-in-memory-N`) have
/// no file to protect.
fn is_on_disk(path: &Path) -> bool {
    let name = path.to_string_lossy();
    !(name.is_empty() || name == ":memory:" || name.starts_with("file:"))
}

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
    let path = options.get_filename().to_owned();
    if is_on_disk(&path) {
        rocket::tokio::task::spawn_blocking(move || {
            crate::private_files::prepare_sqlite_file(&path)
        })
        .await
        .map_err(|error| sqlx::Error::Io(std::io::Error::other(error)))??;
    }
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(5));
    SqlitePoolOptions::new()
        // A local file cannot drop a connection: pinging one before lending it would only
        // add a hop to its worker thread on every query.
        .test_before_acquire(false)
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}
