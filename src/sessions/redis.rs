//! Sessions in Redis: shared by every instance behind a load balancer, and expired by
//! Redis itself.
//!
//! Layout, every key starting with the configured prefix (`redis_key_prefix`):
//! - `<prefix><hex SHA-256 of the id>`: the record as JSON, with a TTL equal to the time
//!   left before its earliest deadline (at least 1 s), so Redis drops ended sessions even
//!   if no instance ever sweeps.
//! - `<prefix>user:<user id>`: a set of that user's session keys, so "log out everywhere"
//!   and the session list work across instances. Members whose session Redis expired are
//!   removed lazily (when listed or swept).
//! - `<prefix>expiry`: a sorted set of session keys scored by their deadline, so `sweep`
//!   honours the store contract against the injected clock (tests move it; Redis's own
//!   clock does not), by an index range instead of a keyspace scan.
//!
//! Every multi-key change is one Lua script, so it is atomic across instances: `create`
//! is `SET NX`, `touch` rewrites a record only if it still exists (a slow request cannot
//! resurrect a logged-out session), and `delete_for_user` cannot miss a concurrent login.
//! The scripts name the per-user set from the record they read, so they assume a single
//! Redis (or a proxy that routes by the prefix); `redis_cluster.rs` is the store for
//! Redis Cluster.
//!
//! Every call goes through the shared [`RedisConnector`]: bounded in time, a failure or
//! timeout is [`StoreError::Unavailable`] (503), and it recovers by itself once Redis is
//! back. For a Redis Cluster see `redis_cluster.rs`, which keeps the same contract with a
//! slot-aware layout.

use std::sync::Arc;

use redis::{AsyncCommands, RedisError, Script};
use rocket::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SessionKey, SessionRecord, SessionStore, StoreError};
use crate::clock::Clock;
use crate::redis_connector::{Connection, RedisConnector, RedisTarget};

/// Expired entries removed per sweep script call: keeps each call short, since a Lua
/// script blocks the Redis server while it runs.
const SWEEP_BATCH: usize = 500;

/// Inserts if absent (`SET NX`), indexes by user and by deadline.
/// KEYS: session, user set, expiry index. ARGV: record JSON, ttl, expires-at.
const CREATE: &str = r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[2], KEYS[1])
if redis.call('TTL', KEYS[2]) < ttl then redis.call('EXPIRE', KEYS[2], ttl) end
redis.call('ZADD', KEYS[3], ARGV[3], KEYS[1])
return 1
";

/// Updates last-seen and the idle deadline of a record that still exists, and resets its
/// TTL; never creates one. KEYS: session, expiry index. ARGV: last seen, idle deadline,
/// now, user-set key prefix.
const TOUCH: &str = r"
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
rec.last_seen = tonumber(ARGV[1])
rec.idle_deadline = tonumber(ARGV[2])
local expires = math.min(rec.idle_deadline, rec.absolute_deadline)
local ttl = math.max(1, expires - tonumber(ARGV[3]))
redis.call('SET', KEYS[1], cjson.encode(rec), 'EX', ttl)
redis.call('ZADD', KEYS[2], expires, KEYS[1])
local set = ARGV[4] .. rec.user_id
if redis.call('TTL', set) < ttl then redis.call('EXPIRE', set, ttl) end
return 1
";

/// KEYS: session, expiry index. ARGV: user-set key prefix.
const DELETE: &str = r"
local raw = redis.call('GET', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
if not raw then return 0 end
redis.call('DEL', KEYS[1])
local ok, rec = pcall(cjson.decode, raw)
if ok then redis.call('SREM', ARGV[1] .. rec.user_id, KEYS[1]) end
return 1
";

/// KEYS: user set, expiry index.
const DELETE_FOR_USER: &str = r"
local n = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  n = n + redis.call('DEL', key)
  redis.call('ZREM', KEYS[2], key)
end
redis.call('DEL', KEYS[1])
return n
";

/// Deletes up to ARGV[3] records whose deadline is at or before ARGV[1].
/// KEYS: expiry index. ARGV: now, user-set key prefix, batch size.
/// Returns {deleted, examined}.
const SWEEP: &str = r"
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local n = 0
for _, key in ipairs(due) do
  local raw = redis.call('GET', key)
  if not raw then
    redis.call('ZREM', KEYS[1], key)
  else
    local rec = cjson.decode(raw)
    local expires = math.min(rec.idle_deadline, rec.absolute_deadline)
    if expires <= now then
      redis.call('DEL', key)
      redis.call('ZREM', KEYS[1], key)
      redis.call('SREM', ARGV[2] .. rec.user_id, key)
      n = n + 1
    else
      redis.call('ZADD', KEYS[1], expires, key)
    end
  end
end
return {n, #due}
";

/// The record as stored: Unix seconds, so the Lua scripts can compare deadlines.
#[derive(Serialize, Deserialize)]
pub(super) struct Wire {
    user_id: Uuid,
    created_at: i64,
    last_seen: i64,
    idle_deadline: i64,
    absolute_deadline: i64,
    user_agent: Option<String>,
    auth_epoch: i64,
    /// Records written before "remember me" existed had persistent cookies.
    #[serde(default = "persistent_by_default")]
    persistent: bool,
}

fn persistent_by_default() -> bool {
    true
}

impl Wire {
    pub(super) fn from_record(record: &SessionRecord) -> Self {
        Self {
            user_id: record.user_id,
            created_at: record.created_at.unix_timestamp(),
            last_seen: record.last_seen.unix_timestamp(),
            idle_deadline: record.idle_deadline.unix_timestamp(),
            absolute_deadline: record.absolute_deadline.unix_timestamp(),
            user_agent: record.user_agent.as_deref().map(str::to_owned),
            auth_epoch: record.auth_epoch,
            persistent: record.persistent,
        }
    }

    fn into_record(self) -> Result<SessionRecord, StoreError> {
        let at = |seconds| {
            OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| StoreError::Other(e.into()))
        };
        Ok(SessionRecord {
            user_id: self.user_id,
            created_at: at(self.created_at)?,
            last_seen: at(self.last_seen)?,
            idle_deadline: at(self.idle_deadline)?,
            absolute_deadline: at(self.absolute_deadline)?,
            user_agent: self.user_agent.map(Into::into),
            auth_epoch: self.auth_epoch,
            persistent: self.persistent,
        })
    }
}

pub(super) fn decode(raw: &str) -> Result<SessionRecord, StoreError> {
    serde_json::from_str::<Wire>(raw)
        .map_err(|e| StoreError::Other(e.into()))?
        .into_record()
}

/// Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct RedisSessionStore {
    inner: Arc<Inner>,
}

struct Inner {
    redis: RedisConnector,
    prefix: String,
    clock: Arc<dyn Clock>,
    create: Script,
    touch: Script,
    delete: Script,
    delete_for_user: Script,
    sweep: Script,
}

impl RedisSessionStore {
    /// Connects to Redis at `url` and checks that it answers.
    ///
    /// `prefix` starts every key this store writes; `clock` is what TTLs are computed
    /// against (the same clock the session policy uses).
    ///
    /// # Errors
    /// [`StoreError::Other`] for a malformed URL, [`StoreError::Unavailable`] when Redis
    /// cannot be reached or does not answer in time.
    pub async fn connect(
        url: &str,
        prefix: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let redis =
            RedisConnector::connect(&RedisTarget::Single(url.to_owned()), "session store").await?;
        Ok(Self {
            inner: Arc::new(Inner {
                redis,
                prefix: prefix.to_owned(),
                clock,
                create: Script::new(CREATE),
                touch: Script::new(TOUCH),
                delete: Script::new(DELETE),
                delete_for_user: Script::new(DELETE_FOR_USER),
                sweep: Script::new(SWEEP),
            }),
        })
    }

    /// The Redis key a session is stored under.
    pub fn session_key(&self, key: &SessionKey) -> String {
        format!("{}{}", self.inner.prefix, key.to_hex())
    }

    fn user_set_prefix(&self) -> String {
        format!("{}user:", self.inner.prefix)
    }

    fn user_set(&self, user_id: Uuid) -> String {
        format!("{}{user_id}", self.user_set_prefix())
    }

    fn expiry_index(&self) -> String {
        format!("{}expiry", self.inner.prefix)
    }

    async fn bounded<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        self.inner.redis.run(op).await
    }

    /// Seconds until the record's earliest deadline by the injected clock, at least 1
    /// (Redis refuses a zero TTL).
    fn ttl(&self, record: &SessionRecord) -> i64 {
        (record.expires_at() - self.inner.clock.now())
            .whole_seconds()
            .max(1)
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn create(&self, key: SessionKey, record: SessionRecord) -> Result<bool, StoreError> {
        let value = serde_json::to_string(&Wire::from_record(&record))
            .map_err(|e| StoreError::Other(e.into()))?;
        let ttl = self.ttl(&record);
        let (session, users, index) = (
            self.session_key(&key),
            self.user_set(record.user_id),
            self.expiry_index(),
        );
        let expires = record.expires_at().unix_timestamp();
        let script = &self.inner.create;
        let created: i64 = self
            .bounded(|mut c| async move {
                script
                    .key(session)
                    .key(users)
                    .key(index)
                    .arg(value)
                    .arg(ttl)
                    .arg(expires)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(created == 1)
    }

    async fn get(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        let session = self.session_key(key);
        let raw: Option<String> = self
            .bounded(|mut c| async move { c.get(session).await })
            .await?;
        raw.as_deref().map(decode).transpose()
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: OffsetDateTime,
        idle_deadline: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (session, index, user_prefix) = (
            self.session_key(key),
            self.expiry_index(),
            self.user_set_prefix(),
        );
        let now = self.inner.clock.now().unix_timestamp();
        let script = &self.inner.touch;
        let touched: i64 = self
            .bounded(|mut c| async move {
                script
                    .key(session)
                    .key(index)
                    .arg(last_seen.unix_timestamp())
                    .arg(idle_deadline.unix_timestamp())
                    .arg(now)
                    .arg(user_prefix)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(touched == 1)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let (session, index, user_prefix) = (
            self.session_key(key),
            self.expiry_index(),
            self.user_set_prefix(),
        );
        let script = &self.inner.delete;
        let deleted: i64 = self
            .bounded(|mut c| async move {
                script
                    .key(session)
                    .key(index)
                    .arg(user_prefix)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(deleted == 1)
    }

    async fn delete_for_user(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let (users, index) = (self.user_set(user_id), self.expiry_index());
        let script = &self.inner.delete_for_user;
        let deleted: u64 = self
            .bounded(|mut c| async move { script.key(users).key(index).invoke_async(&mut c).await })
            .await?;
        Ok(deleted)
    }

    async fn list_for_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError> {
        let users = self.user_set(user_id);
        let members: Vec<String> = {
            let users = users.clone();
            self.bounded(|mut c| async move { c.smembers(users).await })
                .await?
        };
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<String>> = {
            let members = members.clone();
            self.bounded(|mut c| async move { c.mget(members).await })
                .await?
        };
        let mut live = Vec::new();
        let mut stale = Vec::new();
        for (member, value) in members.into_iter().zip(values) {
            let key = member
                .strip_prefix(&self.inner.prefix)
                .and_then(SessionKey::from_hex);
            match (key, value) {
                (Some(key), Some(raw)) => live.push((key, decode(&raw)?)),
                _ => stale.push(member),
            }
        }
        if !stale.is_empty() {
            // Sessions Redis expired by TTL: drop them from the index now.
            let _: i64 = self
                .bounded(|mut c| async move { c.srem(users, stale).await })
                .await?;
        }
        live.sort_by_key(|(key, record)| (record.created_at, *key));
        Ok(live)
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let (index, user_prefix) = (self.expiry_index(), self.user_set_prefix());
        let now = now.unix_timestamp();
        let mut deleted = 0;
        // Bounded: each round removes its batch from the due range, so it terminates; the
        // cap keeps one sweep from running unbounded under a flood of expiring sessions
        // (the next sweep continues).
        for _ in 0..100 {
            let (index, user_prefix) = (index.clone(), user_prefix.clone());
            let script = &self.inner.sweep;
            let (removed, examined): (u64, usize) = self
                .bounded(|mut c| async move {
                    script
                        .key(index)
                        .arg(now)
                        .arg(user_prefix)
                        .arg(SWEEP_BATCH)
                        .invoke_async(&mut c)
                        .await
                })
                .await?;
            deleted += removed;
            if examined < SWEEP_BATCH {
                break;
            }
        }
        Ok(deleted)
    }
}
