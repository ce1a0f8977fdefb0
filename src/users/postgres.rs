//! Users in PostgreSQL: what several instances share. Same behaviour as the SQLite
//! repository (normalised unique emails, whole-second timestamps, auth epoch).
//!
//! Every call is bounded in time: a pool acquire timeout for a server that refuses or is
//! slow to accept, and a deadline around each query for one that stopped answering. A
//! connection-level failure is [`RepoError::Unavailable`] (503). The pool replaces dead
//! connections and recovers by itself after an outage (see `postgres_pool`).

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use rocket::async_trait;
use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{NameChange, NewUser, PasswordHash, RepoError, User, UserRepo};

/// Longest a request waits for a free (or new) connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest one repository call may take, acquire included, before it answers 503.
const CALL_TIMEOUT: Duration = Duration::from_secs(4);
/// Longest start-up may wait for the first connection and the migrations.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(8);

const COLUMNS: &str =
    "id, email, password_hash, first_name, last_name, auth_epoch, created_at, updated_at";

pub struct PostgresUserRepo {
    pool: PgPool,
}

impl PostgresUserRepo {
    /// Connects to `url` (`postgres://` or `postgresql://`) and applies the migrations in
    /// `migrations/postgres`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the server cannot be reached in time,
    /// [`RepoError::Other`] for a malformed URL or a failed migration.
    pub async fn connect(url: &str) -> Result<Self, RepoError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| RepoError::Other(e.into()))?;
        let start = async {
            let pool = crate::postgres_pool::pool_options()
                .max_connections(8)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(classify)?;
            super::migrator(sqlx::migrate!("migrations/postgres"))
                .run(&pool)
                .await
                .map_err(|e| match e {
                    sqlx::migrate::MigrateError::Execute(inner) => classify(inner),
                    other => RepoError::Other(other.into()),
                })?;
            Ok(Self { pool })
        };
        match rocket::tokio::time::timeout(STARTUP_TIMEOUT, start).await {
            Ok(result) => result,
            Err(_) => Err(RepoError::Unavailable(
                format!("no answer within {STARTUP_TIMEOUT:?}").into(),
            )),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Connection-level failures (and the server saying it is shutting down, starting up or
/// out of connections) are retryable: 503. Anything else is a bug: 500.
fn classify(error: sqlx::Error) -> RepoError {
    RepoError::from_sql(error)
}

/// Runs one query with a deadline: a server that stopped answering (no reset) is a 503
/// after [`CALL_TIMEOUT`], never a hung request.
async fn bounded<T>(query: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, RepoError> {
    within(query).await?.map_err(classify)
}

/// [`bounded`], leaving the query's own error for the caller to interpret.
async fn within<T>(
    query: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<Result<T, sqlx::Error>, RepoError> {
    rocket::tokio::time::timeout(CALL_TIMEOUT, query)
        .await
        .map_err(|_| RepoError::Unavailable(format!("no answer within {CALL_TIMEOUT:?}").into()))
}

fn user_from_row(row: &PgRow) -> Result<User, RepoError> {
    let get = |e: sqlx::Error| RepoError::Other(e.into());
    Ok(User {
        id: row.try_get("id").map_err(get)?,
        email: row.try_get("email").map_err(get)?,
        password_hash: PasswordHash(row.try_get("password_hash").map_err(get)?),
        first_name: row.try_get("first_name").map_err(get)?,
        last_name: row.try_get("last_name").map_err(get)?,
        auth_epoch: row.try_get("auth_epoch").map_err(get)?,
        created_at: row.try_get("created_at").map_err(get)?,
        updated_at: row.try_get("updated_at").map_err(get)?,
    })
}

fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

#[async_trait]
impl UserRepo for PostgresUserRepo {
    async fn insert(&self, user: NewUser, now: OffsetDateTime) -> Result<User, RepoError> {
        let now = whole_seconds(now);
        let created = User {
            id: Uuid::new_v4(),
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            password_hash: user.password_hash,
            auth_epoch: 0,
            created_at: now,
            updated_at: now,
        };
        let result = within(
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, first_name, last_name, auth_epoch, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(created.id)
            .bind(&created.email)
            .bind(&created.password_hash.0)
            .bind(&created.first_name)
            .bind(&created.last_name)
            .bind(created.auth_epoch)
            .bind(now)
            .execute(&self.pool),
        )
        .await?;
        match result {
            Ok(_) => Ok(created),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(RepoError::EmailTaken)
            }
            Err(error) => Err(classify(error)),
        }
    }

    async fn by_id(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row = bounded(sqlx::query(&sql).bind(id).fetch_optional(&self.pool)).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn by_email(&self, email: &str) -> Result<Option<User>, RepoError> {
        // lower(): the unique index is on lower(email), so this is an index lookup.
        let sql = format!("SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)");
        let row = bounded(sqlx::query(&sql).bind(email).fetch_optional(&self.pool)).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list(&self) -> Result<Vec<User>, RepoError> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, email");
        let rows = bounded(sqlx::query(&sql).fetch_all(&self.pool)).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn count(&self) -> Result<u64, RepoError> {
        let count: i64 =
            bounded(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool)).await?;
        Ok(count.max(0) as u64)
    }

    /// One `UPDATE ... RETURNING`: no window between reading and writing the names.
    async fn update_names(
        &self,
        id: Uuid,
        change: NameChange,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let sql = format!(
            "UPDATE users SET \
             first_name = CASE WHEN $2 THEN $3 ELSE first_name END, \
             last_name = CASE WHEN $4 THEN $5 ELSE last_name END, \
             updated_at = $6 WHERE id = $1 RETURNING {COLUMNS}"
        );
        let row = bounded(
            sqlx::query(&sql)
                .bind(id)
                .bind(change.first_name.is_some())
                .bind(change.first_name.flatten())
                .bind(change.last_name.is_some())
                .bind(change.last_name.flatten())
                .bind(whole_seconds(now))
                .fetch_optional(&self.pool),
        )
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// One statement: the hash and the epoch move together or not at all.
    async fn set_password(
        &self,
        id: Uuid,
        hash: PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let sql = format!(
            "UPDATE users SET password_hash = $2, auth_epoch = auth_epoch + 1, updated_at = $3 \
             WHERE id = $1 RETURNING {COLUMNS}"
        );
        let row = bounded(
            sqlx::query(&sql)
                .bind(id)
                .bind(&hash.0)
                .bind(whole_seconds(now))
                .fetch_optional(&self.pool),
        )
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn upgrade_password_hash(
        &self,
        id: Uuid,
        old: &PasswordHash,
        new: PasswordHash,
    ) -> Result<bool, RepoError> {
        let result = bounded(
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3")
                .bind(id)
                .bind(&new.0)
                .bind(&old.0)
                .execute(&self.pool),
        )
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete(&self, id: Uuid) -> Result<bool, RepoError> {
        let result = bounded(
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(&self.pool),
        )
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn change_stamp(&self) -> Result<i64, RepoError> {
        bounded(
            sqlx::query_scalar("SELECT stamp FROM user_changes WHERE id = 1").fetch_one(&self.pool),
        )
        .await
    }
}
