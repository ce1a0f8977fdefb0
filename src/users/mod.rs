//! People who can log in: the model, the repository trait the rest of the app talks to,
//! input rules and password hashing.

mod cache;
mod password;
pub mod policy;
mod postgres;
mod sqlite;
pub mod validate;

use std::sync::Arc;

use rocket::async_trait;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

pub use cache::{CachedUserRepo, CHECK_INTERVAL as CACHE_CHECK_INTERVAL};
pub use password::{HashError, PasswordHasher};
pub use postgres::PostgresUserRepo;
pub use sqlite::SqliteUserRepo;

use crate::errors::{AppError, BoxError};

/// An argon2id PHC string. `Debug` is redacted so a hash never reaches a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    /// Normalised (trimmed, lowercase), unique.
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(skip)]
    pub password_hash: PasswordHash,
    /// Copied into each session at login; bumping it ends every older session at once.
    #[serde(skip)]
    pub auth_epoch: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl User {
    /// "First Last", or the email when no name was given.
    pub fn display_name(&self) -> String {
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            self.email.clone()
        } else {
            parts.join(" ")
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: PasswordHash,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Changes to a user's names; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct NameChange {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("email already registered")]
    EmailTaken,
    #[error("user database unavailable")]
    Unavailable(#[source] BoxError),
    #[error("user database error")]
    Other(#[source] BoxError),
}

impl RepoError {
    /// Busy, locked or unreachable databases are [`RepoError::Unavailable`] (503), anything
    /// else [`RepoError::Other`], by the one classifier every SQL backend uses.
    pub fn from_sql(error: sqlx::Error) -> Self {
        match crate::sql_errors::classify(&error) {
            crate::sql_errors::SqlFailure::Unavailable => Self::Unavailable(error.into()),
            crate::sql_errors::SqlFailure::Other => Self::Other(error.into()),
        }
    }
}

impl From<RepoError> for AppError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(source) => AppError::Unavailable {
                what: "The user database",
                source,
            },
            other => AppError::internal(other),
        }
    }
}

/// The users schema's migrations, as every backend applies them. Each migration only adds
/// (tables, triggers), so an instance one release behind still starts against a database
/// a newer one has already migrated: a rolling upgrade, or a rollback, does not stop it.
fn migrator(mut migrator: sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    migrator.set_ignore_missing(true);
    migrator
}

/// Where users live. Small on purpose: each backend (SQLite, PostgreSQL)
/// implements just this.
#[async_trait]
pub trait UserRepo: Send + Sync + 'static {
    /// # Errors
    /// [`RepoError::EmailTaken`] when the (normalised) email exists already.
    async fn insert(&self, user: NewUser, now: OffsetDateTime) -> Result<User, RepoError>;
    async fn by_id(&self, id: Uuid) -> Result<Option<User>, RepoError>;
    /// [`by_id`](Self::by_id) for callers that only read the user (the session guard, on
    /// every request): a cache hands out the copy it holds instead of a new one.
    async fn by_id_shared(&self, id: Uuid) -> Result<Option<Arc<User>>, RepoError> {
        Ok(self.by_id(id).await?.map(Arc::new))
    }
    /// `email` must already be normalised.
    async fn by_email(&self, email: &str) -> Result<Option<User>, RepoError>;
    async fn list(&self) -> Result<Vec<User>, RepoError>;
    async fn count(&self) -> Result<u64, RepoError>;
    /// Returns the updated user, or `None` when there is no such user.
    async fn update_names(
        &self,
        id: Uuid,
        change: NameChange,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError>;
    /// Returns whether a user was deleted.
    async fn delete(&self, id: Uuid) -> Result<bool, RepoError>;
    /// Replaces the hash with a stronger one of the same password (argon2 parameters
    /// raised since it was made), only while the stored hash is still `old`, and WITHOUT
    /// bumping the auth epoch: the password did not change, so no session should end
    /// (OWASP Password Storage Cheat Sheet, "Upgrading the work factor"). Returns whether
    /// it replaced it; `false` when the user is gone or the password changed meanwhile.
    async fn upgrade_password_hash(
        &self,
        id: Uuid,
        old: &PasswordHash,
        new: PasswordHash,
    ) -> Result<bool, RepoError>;
    /// Replaces the password hash and bumps the auth epoch, which ends every session
    /// created before (OWASP ASVS 3.3.3). Returns the updated user, or `None`.
    async fn set_password(
        &self,
        id: Uuid,
        hash: PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError>;
    /// A number the database moves whenever any user is changed or deleted, by any
    /// process sharing it (see the `user_changes` migrations). While it stands still,
    /// no user read earlier can be stale; [`CachedUserRepo`] relies on that.
    async fn change_stamp(&self) -> Result<i64, RepoError>;
}
