//! Sessions in PostgreSQL: shared by every instance, durable, and no new service for
//! operators who already run PostgreSQL for users.
//!
//! The tables live in a schema of their own (`postgres_session_schema`, default
//! `latchkey_sessions`) with their own migration history
//! (`migrations/postgres_sessions`), so they never mix with the users tables or their
//! migrations, and dropping the schema logs everyone out without touching accounts.
//!
//! Every contract step is one statement, so PostgreSQL's row locks make it atomic across
//! instances: `create` is `INSERT .. ON CONFLICT DO NOTHING`, `touch` an `UPDATE` of a row
//! that still exists (a slow request cannot resurrect a logged-out session), and
//! `delete_for_user` a `DELETE .. WHERE user_id`. Commits are synchronous (the server's
//! default), so an acknowledged login survives a crash of either side.
//!
//! Every call is bounded in time (pool acquire timeout plus a deadline around the query);
//! a connection-level failure is [`StoreError::Unavailable`] (503). The pool replaces dead
//! connections and recovers by itself after an outage (see `postgres_pool`).

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use rocket::async_trait;
use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SessionKey, SessionRecord, SessionStore, StoreError};

/// The schema the session and throttle tables live in unless configured otherwise.
pub const DEFAULT_SCHEMA: &str = "latchkey_sessions";

/// Longest a request waits for a free (or new) connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest one store call may take, acquire included, before it answers 503.
const CALL_TIMEOUT: Duration = Duration::from_secs(4);
/// Longest start-up may wait for the first connection and the migrations.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(8);

const COLUMNS: &str =
    "key, user_id, created_at, last_seen, idle_deadline, absolute_deadline, user_agent, auth_epoch, persistent";

/// Opens a pool on `url` whose connections see only `schema` (created if missing), with
/// the session migrations applied. Shared by the session store and the throttle counters.
///
/// # Errors
/// [`StoreError::Other`] for a malformed URL or schema name or a failed migration,
/// [`StoreError::Unavailable`] when the server cannot be reached in time.
pub async fn open_pool(
    url: &str,
    schema: &str,
    max_connections: u32,
) -> Result<PgPool, StoreError> {
    if !is_identifier(schema) {
        return Err(StoreError::Other(
            format!("{schema:?} is not a plain schema name (a-z, 0-9, _)").into(),
        ));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Other(e.into()))?
        .options([("search_path", schema)]);
    let start = async {
        let pool = crate::postgres_pool::pool_options()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(StoreError::from_sql)?;
        create_schema(&pool, schema).await?;
        sqlx::migrate!("migrations/postgres_sessions")
            .run(&pool)
            .await
            .map_err(|e| match e {
                sqlx::migrate::MigrateError::Execute(inner) => StoreError::from_sql(inner),
                other => StoreError::Other(other.into()),
            })?;
        Ok(pool)
    };
    match rocket::tokio::time::timeout(STARTUP_TIMEOUT, start).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable(
            format!("no answer within {STARTUP_TIMEOUT:?}").into(),
        )),
    }
}

/// `CREATE SCHEMA IF NOT EXISTS` can still fail when two instances start at once (both see
/// it missing); losing that race is fine, the schema exists.
async fn create_schema(pool: &PgPool, schema: &str) -> Result<(), StoreError> {
    let result = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .execute(pool)
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(()),
        Err(error) => Err(StoreError::from_sql(error)),
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// Runs one query with a deadline: a server that stopped answering (no reset) is a 503
/// after [`CALL_TIMEOUT`], never a hung request.
pub(crate) async fn bounded<T>(
    query: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    match rocket::tokio::time::timeout(CALL_TIMEOUT, query).await {
        Ok(result) => result.map_err(StoreError::from_sql),
        Err(_) => Err(StoreError::Unavailable(
            format!("PostgreSQL did not answer within {CALL_TIMEOUT:?}").into(),
        )),
    }
}

pub struct PostgresSessionStore {
    pool: PgPool,
}

impl PostgresSessionStore {
    /// Connects to `url`, creates `schema` if needed and applies the session migrations
    /// there.
    ///
    /// # Errors
    /// See [`open_pool`].
    pub async fn connect(url: &str, schema: &str) -> Result<Self, StoreError> {
        Ok(Self {
            pool: open_pool(url, schema, 8).await?,
        })
    }

    /// The connection pool, for tests that inspect what is stored.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn other(error: sqlx::Error) -> StoreError {
    StoreError::Other(error.into())
}

fn from_unix(seconds: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| StoreError::Other(e.into()))
}

fn key_from_row(row: &PgRow) -> Result<SessionKey, StoreError> {
    let bytes: Vec<u8> = row.try_get("key").map_err(other)?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Other("session key is not 32 bytes".into()))?;
    Ok(SessionKey(bytes))
}

fn record_from_row(row: &PgRow) -> Result<SessionRecord, StoreError> {
    let user_agent: Option<String> = row.try_get("user_agent").map_err(other)?;
    Ok(SessionRecord {
        user_id: row.try_get("user_id").map_err(other)?,
        created_at: from_unix(row.try_get("created_at").map_err(other)?)?,
        last_seen: from_unix(row.try_get("last_seen").map_err(other)?)?,
        idle_deadline: from_unix(row.try_get("idle_deadline").map_err(other)?)?,
        absolute_deadline: from_unix(row.try_get("absolute_deadline").map_err(other)?)?,
        user_agent: user_agent.map(Into::into),
        auth_epoch: row.try_get("auth_epoch").map_err(other)?,
        persistent: row.try_get("persistent").map_err(other)?,
    })
}

#[async_trait]
impl SessionStore for PostgresSessionStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn create(&self, key: SessionKey, record: SessionRecord) -> Result<bool, StoreError> {
        let result = bounded(
            sqlx::query(
                "INSERT INTO sessions (key, user_id, created_at, last_seen, idle_deadline, \
                 absolute_deadline, expires_at, user_agent, auth_epoch, persistent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (key) DO NOTHING",
            )
            .bind(&key.0[..])
            .bind(record.user_id)
            .bind(record.created_at.unix_timestamp())
            .bind(record.last_seen.unix_timestamp())
            .bind(record.idle_deadline.unix_timestamp())
            .bind(record.absolute_deadline.unix_timestamp())
            .bind(record.expires_at().unix_timestamp())
            .bind(record.user_agent.as_deref())
            .bind(record.auth_epoch)
            .bind(record.persistent)
            .execute(&self.pool),
        )
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn get(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        let row = bounded(
            sqlx::query(&format!("SELECT {COLUMNS} FROM sessions WHERE key = $1"))
                .bind(&key.0[..])
                .fetch_optional(&self.pool),
        )
        .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// One `UPDATE ... WHERE key = $3`: a deleted row stays deleted.
    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: OffsetDateTime,
        idle_deadline: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let result = bounded(
            sqlx::query(
                "UPDATE sessions SET last_seen = $1, idle_deadline = $2, \
                 expires_at = LEAST($2, absolute_deadline) WHERE key = $3",
            )
            .bind(last_seen.unix_timestamp())
            .bind(idle_deadline.unix_timestamp())
            .bind(&key.0[..])
            .execute(&self.pool),
        )
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let result = bounded(
            sqlx::query("DELETE FROM sessions WHERE key = $1")
                .bind(&key.0[..])
                .execute(&self.pool),
        )
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_for_user(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let result = bounded(
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&self.pool),
        )
        .await?;
        Ok(result.rows_affected())
    }

    async fn list_for_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError> {
        let rows = bounded(
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY created_at, key"
            ))
            .bind(user_id)
            .fetch_all(&self.pool),
        )
        .await?;
        rows.iter()
            .map(|row| Ok((key_from_row(row)?, record_from_row(row)?)))
            .collect()
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let result = bounded(
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now.unix_timestamp())
                .execute(&self.pool),
        )
        .await?;
        Ok(result.rows_affected())
    }
}
