//! Counters in a SQLite file, `<data_dir>/throttle.db`, used when sessions live in
//! SQLite: they survive a restart, so restarting the server does not hand an attacker a
//! fresh budget. Its own file, so the counters' writes never queue behind session or
//! user writes, and deleting it only resets the counters.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rocket::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::{Count, ThrottleStore};
use crate::sessions::StoreError;

/// Name of the counters' database inside the data directory.
pub const FILE_NAME: &str = "throttle.db";

/// Ended windows are deleted every this many writes.
const PURGE_EVERY: u64 = 1024;

pub struct SqliteThrottleStore {
    pool: SqlitePool,
    writes: AtomicU64,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::from_sql(error)
}

impl SqliteThrottleStore {
    /// Opens (creating if needed) the counters' database at `path`.
    ///
    /// # Errors
    /// When the file cannot be created or opened.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        // Counters need not survive a power cut (losing a few failures is harmless), so
        // NORMAL rather than FULL: WAL stays consistent, writes stay cheap.
        let options = SqliteConnectOptions::new().filename(path);
        let pool = crate::sqlite::open_pool(options, SqliteSynchronous::Normal, 4)
            .await
            .map_err(unavailable)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS throttle (
                key TEXT PRIMARY KEY NOT NULL,
                count INTEGER NOT NULL,
                resets_at INTEGER NOT NULL
            ) WITHOUT ROWID",
        )
        .execute(&pool)
        .await
        .map_err(unavailable)?;
        Ok(Self {
            pool,
            writes: AtomicU64::new(0),
        })
    }
}

#[async_trait]
impl ThrottleStore for SqliteThrottleStore {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn add(&self, key: &str, delta: i64, now: i64, window: i64) -> Result<Count, StoreError> {
        if self.writes.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1 {
            sqlx::query("DELETE FROM throttle WHERE resets_at <= ?")
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        }
        let row = if delta > 0 {
            // One statement, so concurrent attempts (and instances) cannot lose a count.
            sqlx::query(
                "INSERT INTO throttle (key, count, resets_at) VALUES (?1, ?2, ?3 + ?4)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN resets_at <= ?3 THEN excluded.count
                                ELSE count + excluded.count END,
                   resets_at = CASE WHEN resets_at <= ?3 THEN excluded.resets_at
                                    ELSE resets_at END
                 RETURNING count, resets_at",
            )
            .bind(key)
            .bind(delta)
            .bind(now)
            .bind(window)
            .fetch_optional(&self.pool)
            .await
        } else {
            sqlx::query(
                "UPDATE throttle SET count = max(count + ?2, 0)
                 WHERE key = ?1 AND resets_at > ?3
                 RETURNING count, resets_at",
            )
            .bind(key)
            .bind(delta)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
        }
        .map_err(unavailable)?;
        Ok(match row {
            Some(row) => Count {
                count: row.get(0),
                resets_at: row.get(1),
            },
            None => Count {
                count: 0,
                resets_at: now,
            },
        })
    }

    async fn get(&self, key: &str, now: i64) -> Result<Option<Count>, StoreError> {
        let row =
            sqlx::query("SELECT count, resets_at FROM throttle WHERE key = ? AND resets_at > ?")
                .bind(key)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(row.map(|row| Count {
            count: row.get(0),
            resets_at: row.get(1),
        }))
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM throttle WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
