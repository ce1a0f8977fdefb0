//! Server-side sessions: the secret id the browser holds (inside a private cookie), the
//! hashed key the store files it under, the record, and the store contract every backend
//! implements.

pub mod cookie;
mod memory;
pub mod postgres;
mod redis;
mod redis_cluster;
mod service;
pub mod sqlite;

use std::fmt;
use std::sync::Arc;

use rocket::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

pub use memory::MemoryStore;
pub use postgres::PostgresSessionStore;
pub use redis::RedisSessionStore;
pub use redis_cluster::RedisClusterSessionStore;
pub use service::Sessions;
pub use sqlite::SqliteSessionStore;

use crate::errors::AppError;

/// The secret that identifies a session: a v4 UUID, i.e. 122 bits from the OS CSPRNG
/// (OWASP Session Management: at least 64 bits of entropy). It exists in the browser
/// (encrypted inside the cookie) and in request memory, never in the store or a log.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SessionId(Uuid);

impl SessionId {
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    /// Accepts only the canonical form we issue, so odd spellings of one id cannot exist.
    pub fn parse(text: &str) -> Option<Self> {
        let id = Uuid::try_parse(text).ok()?;
        let mut canonical = [0u8; uuid::fmt::Simple::LENGTH];
        let canonical = id.as_simple().encode_lower(&mut canonical);
        (id.get_version_num() == 4 && canonical == text).then_some(Self(id))
    }

    /// What goes inside the private cookie.
    pub fn expose(&self) -> String {
        self.0.as_simple().to_string()
    }

    /// SHA-256 of the id: what the store is keyed by, so a dump of the store cannot be
    /// replayed as cookies.
    pub fn key(&self) -> SessionKey {
        SessionKey(Sha256::digest(self.0.as_bytes()).into())
    }

    /// This session's CSRF token (synchronizer token pattern). Derived rather than stored:
    /// SHA-256 over a domain-separation label and the secret id, so it is unguessable
    /// without the id, differs from the store key, and reveals nothing about the id.
    pub fn csrf_token(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"latchkey csrf v1\0")
            .chain_update(self.0.as_bytes())
            .finalize();
        // Every page with a form asks for it: hex on the stack, one allocation.
        let mut token = [0u8; 64];
        hex::encode_to_slice(digest, &mut token).unwrap_or_default();
        String::from_utf8_lossy(&token).into_owned()
    }

    /// The first characters only: enough to tell sessions apart on screen, useless to
    /// an attacker.
    pub fn shortened(&self) -> String {
        format!("{}…", &self.expose()[..8])
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

/// The store's key for a session: SHA-256 of its id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey(pub [u8; 32]);

impl SessionKey {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKey({}…)", &self.to_hex()[..12])
    }
}

/// What the server keeps about a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_id: Uuid,
    pub created_at: OffsetDateTime,
    pub last_seen: OffsetDateTime,
    /// `last_seen + idle timeout`, capped at the absolute deadline.
    pub idle_deadline: OffsetDateTime,
    /// `created_at + absolute timeout`: no activity extends it.
    pub absolute_deadline: OffsetDateTime,
    /// The browser's User-Agent at login, capped in length.
    pub user_agent: Option<Arc<str>>,
    /// The user's auth epoch at login; a password change bumps the user's and so ends this.
    pub auth_epoch: i64,
    /// "Remember me": `true` gives the cookie a lifetime (the absolute timeout), so it
    /// outlives the browser; `false` makes it a browser-session cookie. Kept here so a
    /// re-issued cookie (password change) is of the same kind.
    pub persistent: bool,
}

impl SessionRecord {
    /// When this session ends if nothing else happens.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.idle_deadline.min(self.absolute_deadline)
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at()
    }
}

pub use crate::store_error::StoreError;

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(source) => AppError::Unavailable {
                what: "The session store",
                source,
            },
            other => AppError::internal(other),
        }
    }
}

/// The contract every session backend keeps (memory, SQLite, PostgreSQL, Redis, Redis
/// Cluster).
///
/// Writes never re-create a record: `touch` updates only a record that still exists, so
/// a slow request finishing after logout cannot bring the session back (Rack
/// CVE-2025-46336).
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Short name shown to people ("memory", "sqlite", "postgres", "redis",
    /// "redis_cluster").
    fn name(&self) -> &'static str;

    /// Inserts a new record. Returns `false`, changing nothing, if the key exists.
    async fn create(&self, key: SessionKey, record: SessionRecord) -> Result<bool, StoreError>;

    async fn get(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError>;

    /// Records activity on an existing session. Returns `false` if it no longer exists.
    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: OffsetDateTime,
        idle_deadline: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Returns whether a record was deleted.
    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError>;

    /// Ends every session of one user; returns how many.
    async fn delete_for_user(&self, user_id: Uuid) -> Result<u64, StoreError>;

    /// The user's sessions, expired ones included until the sweep removes them.
    async fn list_for_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError>;

    /// Deletes every record that expired at or before `now`; returns how many.
    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}
