//! Users in SQLite: the zero-setup default. WAL lets page views read while a signup writes;
//! `synchronous = FULL` makes every acknowledged signup survive a crash or power cut.

use std::str::FromStr;

use rocket::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{NameChange, NewUser, PasswordHash, RepoError, User, UserRepo};

pub struct SqliteUserRepo {
    pool: SqlitePool,
}

const COLUMNS: &str =
    "id, email, password_hash, first_name, last_name, auth_epoch, created_at, updated_at";

impl SqliteUserRepo {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    ///
    /// # Errors
    /// When the URL is malformed, the file cannot be opened or a migration fails.
    pub async fn connect(url: &str) -> Result<Self, RepoError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(other)?
            .foreign_keys(true);
        let pool = crate::sqlite::open_pool(options, SqliteSynchronous::Full, 8)
            .await
            .map_err(unavailable)?;
        super::migrator(sqlx::migrate!("migrations/sqlite"))
            .run(&pool)
            .await
            .map_err(|e| RepoError::Other(e.into()))?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn other(error: sqlx::Error) -> RepoError {
    RepoError::Other(error.into())
}

/// Connection-level failures and a busy or locked database are retryable (503); anything
/// else is a bug (500).
fn unavailable(error: sqlx::Error) -> RepoError {
    RepoError::from_sql(error)
}

fn from_unix(seconds: i64) -> Result<OffsetDateTime, RepoError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| RepoError::Other(e.into()))
}

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<User, RepoError> {
    let id: String = row.try_get("id").map_err(other)?;
    Ok(User {
        id: Uuid::parse_str(&id).map_err(|e| RepoError::Other(e.into()))?,
        email: row.try_get("email").map_err(other)?,
        password_hash: PasswordHash(row.try_get("password_hash").map_err(other)?),
        first_name: row.try_get("first_name").map_err(other)?,
        last_name: row.try_get("last_name").map_err(other)?,
        auth_epoch: row.try_get("auth_epoch").map_err(other)?,
        created_at: from_unix(row.try_get("created_at").map_err(other)?)?,
        updated_at: from_unix(row.try_get("updated_at").map_err(other)?)?,
    })
}

#[async_trait]
impl UserRepo for SqliteUserRepo {
    async fn insert(&self, user: NewUser, now: OffsetDateTime) -> Result<User, RepoError> {
        let now = now.replace_nanosecond(0).unwrap_or(now);
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
        let result = sqlx::query(
            "INSERT INTO users (id, email, password_hash, first_name, last_name, auth_epoch, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(created.id.to_string())
        .bind(&created.email)
        .bind(&created.password_hash.0)
        .bind(&created.first_name)
        .bind(&created.last_name)
        .bind(created.auth_epoch)
        .bind(now.unix_timestamp())
        .bind(now.unix_timestamp())
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(created),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(RepoError::EmailTaken)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn by_id(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn by_email(&self, email: &str) -> Result<Option<User>, RepoError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE email = ?"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list(&self) -> Result<Vec<User>, RepoError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM users ORDER BY created_at, email"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn count(&self) -> Result<u64, RepoError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(count.max(0) as u64)
    }

    async fn update_names(
        &self,
        id: Uuid,
        change: NameChange,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let Some(mut user) = self.by_id(id).await? else {
            return Ok(None);
        };
        if let Some(first) = change.first_name {
            user.first_name = first;
        }
        if let Some(last) = change.last_name {
            user.last_name = last;
        }
        user.updated_at = now.replace_nanosecond(0).unwrap_or(now);
        let result = sqlx::query(
            "UPDATE users SET first_name = ?, last_name = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(user.updated_at.unix_timestamp())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok((result.rows_affected() == 1).then_some(user))
    }

    async fn set_password(
        &self,
        id: Uuid,
        hash: PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let result = sqlx::query(
            "UPDATE users SET password_hash = ?, auth_epoch = auth_epoch + 1, updated_at = ? \
             WHERE id = ?",
        )
        .bind(&hash.0)
        .bind(now.unix_timestamp())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        self.by_id(id).await
    }

    async fn upgrade_password_hash(
        &self,
        id: Uuid,
        old: &PasswordHash,
        new: PasswordHash,
    ) -> Result<bool, RepoError> {
        let result =
            sqlx::query("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?")
                .bind(&new.0)
                .bind(id.to_string())
                .bind(&old.0)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete(&self, id: Uuid) -> Result<bool, RepoError> {
        let result = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(result.rows_affected() == 1)
    }

    async fn change_stamp(&self) -> Result<i64, RepoError> {
        sqlx::query_scalar("SELECT stamp FROM user_changes WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)
    }
}
