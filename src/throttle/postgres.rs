//! Counters in PostgreSQL, used when sessions live there: every instance shares one
//! budget per account and address, and a restart does not hand an attacker a fresh one.
//! The table sits beside the sessions, in the session schema
//! (`migrations/postgres_sessions`).

use std::sync::atomic::{AtomicU64, Ordering};

use rocket::async_trait;
use sqlx::{PgPool, Row};

use super::{Count, ThrottleStore};
use crate::sessions::postgres::{bounded, open_pool};
use crate::sessions::StoreError;

/// Ended windows are deleted every this many writes.
const PURGE_EVERY: u64 = 1024;

pub struct PostgresThrottleStore {
    pool: PgPool,
    writes: AtomicU64,
}

impl PostgresThrottleStore {
    /// Connects to `url` and uses the counters' table in `schema`.
    ///
    /// # Errors
    /// When the server cannot be reached in time or the migrations fail.
    pub async fn connect(url: &str, schema: &str) -> Result<Self, StoreError> {
        Ok(Self {
            pool: open_pool(url, schema, 4).await?,
            writes: AtomicU64::new(0),
        })
    }
}

#[async_trait]
impl ThrottleStore for PostgresThrottleStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn add(&self, key: &str, delta: i64, now: i64, window: i64) -> Result<Count, StoreError> {
        if self.writes.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1 {
            bounded(
                sqlx::query("DELETE FROM throttle WHERE resets_at <= $1")
                    .bind(now)
                    .execute(&self.pool),
            )
            .await?;
        }
        let row = if delta > 0 {
            // One statement, so concurrent attempts (and instances) cannot lose a count.
            bounded(
                sqlx::query(
                    "INSERT INTO throttle AS t (key, count, resets_at) VALUES ($1, $2, $3 + $4)
                     ON CONFLICT (key) DO UPDATE SET
                       count = CASE WHEN t.resets_at <= $3 THEN excluded.count
                                    ELSE t.count + excluded.count END,
                       resets_at = CASE WHEN t.resets_at <= $3 THEN excluded.resets_at
                                        ELSE t.resets_at END
                     RETURNING count, resets_at",
                )
                .bind(key)
                .bind(delta)
                .bind(now)
                .bind(window)
                .fetch_optional(&self.pool),
            )
            .await?
        } else {
            bounded(
                sqlx::query(
                    "UPDATE throttle SET count = GREATEST(count + $2, 0)
                     WHERE key = $1 AND resets_at > $3
                     RETURNING count, resets_at",
                )
                .bind(key)
                .bind(delta)
                .bind(now)
                .fetch_optional(&self.pool),
            )
            .await?
        };
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
        let row = bounded(
            sqlx::query("SELECT count, resets_at FROM throttle WHERE key = $1 AND resets_at > $2")
                .bind(key)
                .bind(now)
                .fetch_optional(&self.pool),
        )
        .await?;
        Ok(row.map(|row| Count {
            count: row.get(0),
            resets_at: row.get(1),
        }))
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        bounded(
            sqlx::query("DELETE FROM throttle WHERE key = $1")
                .bind(key)
                .execute(&self.pool),
        )
        .await?;
        Ok(())
    }
}
