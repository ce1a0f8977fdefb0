//! Sessions in a SQLite file: survive a restart with zero setup, for one instance.
//!
//! The file is `<data_dir>/sessions.db`, separate from the users database: it works
//! whichever users backend `database_url` picks (SQLite or PostgreSQL), session writes
//! (a touch a minute per active session) never wait on SQLite's single writer lock behind
//! signups, and deleting the file logs everyone out without touching accounts.
//!
//! WAL with `synchronous = FULL`: a session is on disk before `create` returns, so an
//! acknowledged login survives SIGKILL or a power cut.

use std::path::Path;

use rocket::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SessionKey, SessionRecord, SessionStore, StoreError};

/// Name of the sessions database inside the data directory.
pub const FILE_NAME: &str = "sessions.db";

const COLUMNS: &str =
    "key, user_id, created_at, last_seen, idle_deadline, absolute_deadline, user_agent, auth_epoch, persistent";

pub struct SqliteSessionStore {
    pool: SqlitePool,
}

impl SqliteSessionStore {
    /// Opens (creating if needed) the sessions database at `path` and applies its
    /// migrations (`migrations/sqlite_sessions`).
    ///
    /// # Errors
    /// When the file cannot be created or opened, or a migration fails.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new().filename(path);
        let pool = crate::sqlite::open_pool(options, SqliteSynchronous::Full, 8)
            .await
            .map_err(classify)?;
        sqlx::migrate!("migrations/sqlite_sessions")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(e.into()))?;
        Ok(Self { pool })
    }

    /// The connection pool, for tests that inspect what is stored.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Connection-level and lock-contention failures are retryable (503); anything else is a
/// bug (500).
fn classify(error: sqlx::Error) -> StoreError {
    StoreError::from_sql(error)
}

fn from_unix(seconds: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| StoreError::Other(e.into()))
}

fn key_from_row(row: &SqliteRow) -> Result<SessionKey, StoreError> {
    let bytes: Vec<u8> = row.try_get("key").map_err(classify)?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Other("session key is not 32 bytes".into()))?;
    Ok(SessionKey(bytes))
}

fn record_from_row(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    let user_id: String = row.try_get("user_id").map_err(classify)?;
    let user_agent: Option<String> = row.try_get("user_agent").map_err(classify)?;
    Ok(SessionRecord {
        user_id: Uuid::parse_str(&user_id).map_err(|e| StoreError::Other(e.into()))?,
        created_at: from_unix(row.try_get("created_at").map_err(classify)?)?,
        last_seen: from_unix(row.try_get("last_seen").map_err(classify)?)?,
        idle_deadline: from_unix(row.try_get("idle_deadline").map_err(classify)?)?,
        absolute_deadline: from_unix(row.try_get("absolute_deadline").map_err(classify)?)?,
        user_agent: user_agent.map(Into::into),
        auth_epoch: row.try_get("auth_epoch").map_err(classify)?,
        persistent: row.try_get("persistent").map_err(classify)?,
    })
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn create(&self, key: SessionKey, record: SessionRecord) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO sessions (key, user_id, created_at, last_seen, idle_deadline, \
             absolute_deadline, expires_at, user_agent, auth_epoch, persistent) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&key.0[..])
        .bind(record.user_id.to_string())
        .bind(record.created_at.unix_timestamp())
        .bind(record.last_seen.unix_timestamp())
        .bind(record.idle_deadline.unix_timestamp())
        .bind(record.absolute_deadline.unix_timestamp())
        .bind(record.expires_at().unix_timestamp())
        .bind(record.user_agent.as_deref())
        .bind(record.auth_epoch)
        .bind(record.persistent)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(result.rows_affected() == 1)
    }

    async fn get(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM sessions WHERE key = ?"))
            .bind(&key.0[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// One `UPDATE ... WHERE key = ?`: a deleted row stays deleted.
    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: OffsetDateTime,
        idle_deadline: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE sessions SET last_seen = ?1, idle_deadline = ?2, \
             expires_at = MIN(?2, absolute_deadline) WHERE key = ?3",
        )
        .bind(last_seen.unix_timestamp())
        .bind(idle_deadline.unix_timestamp())
        .bind(&key.0[..])
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE key = ?")
            .bind(&key.0[..])
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_for_user(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(result.rows_affected())
    }

    async fn list_for_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE user_id = ? ORDER BY created_at, key"
        ))
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| Ok((key_from_row(row)?, record_from_row(row)?)))
            .collect()
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now.unix_timestamp())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(result.rows_affected())
    }
}
