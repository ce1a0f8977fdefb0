//! Sessions in a Redis Cluster: the Redis store's contract (update-only writes, no
//! resurrection, atomic "log out everywhere") past one node.
//!
//! A cluster runs a multi-key script only when every key hashes to one slot, and the two
//! ways in need different keys: requests arrive with a session key, "log out everywhere"
//! and the session list with a user id. So a user's records and their index share the
//! user's slot (hash tag `{u:<user id>}`), and a small locator under the session's own
//! slot says which user a session key belongs to:
//! - `<prefix>{s:<hex key>}` -> user id (the locator). Written once at login, with a TTL
//!   to the absolute deadline; never the authority on whether a session lives.
//! - `<prefix>{u:<user id>}:s:<hex key>` -> the record as JSON, TTL to its earliest
//!   deadline. The authority: no record, no session.
//! - `<prefix>{u:<user id>}:sessions` -> set of that user's hex keys.
//! - `<prefix>{expiry}` -> sorted set of `<user id>:<hex key>` by deadline, so `sweep`
//!   honours the injected clock; a hint, re-checked against the record before deleting.
//!
//! Every change to a record and its index is one Lua script in the user's slot, so it is
//! atomic across instances exactly as on one node: `create` is `SET NX`, `touch` rewrites
//! only a record that exists, and `delete_for_user` cannot miss a concurrent login (the
//! login's script runs wholly before or after it). Steps in other slots (locator, expiry
//! index) are ordered so a failure between them leaves a harmless leftover, never a live
//! session without its index entry: a locator whose record is gone reads as "no session"
//! and expires by TTL. A lookup costs two round trips (locator, then record) the first
//! time an instance sees a session, one after that: which user a session key belongs to
//! never changes, so each instance remembers it (up to [`OWNERS_REMEMBERED`] sessions;
//! past that it starts over, which only costs the locator read again).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use redis::{AsyncCommands, Script};
use rocket::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::redis::{decode, Wire};
use super::{SessionKey, SessionRecord, SessionStore, StoreError};
use crate::clock::Clock;
use crate::redis_connector::{RedisConnector, RedisTarget};

/// How many session owners an instance remembers (about 64 bytes each).
pub const OWNERS_REMEMBERED: usize = 100_000;

/// Expired entries examined per sweep round.
const SWEEP_BATCH: isize = 500;

/// Inserts the record if absent and indexes it. KEYS: record, user index.
/// ARGV: record JSON, ttl, hex key.
const CREATE: &str = r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if redis.call('TTL', KEYS[2]) < ttl then redis.call('EXPIRE', KEYS[2], ttl) end
return 1
";

/// Updates a record that still exists; never creates one. KEYS: record, user index.
/// ARGV: last seen, idle deadline, now. Returns the new expiry, or 0 if there is none.
const TOUCH: &str = r"
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
rec.last_seen = tonumber(ARGV[1])
rec.idle_deadline = tonumber(ARGV[2])
local expires = math.min(rec.idle_deadline, rec.absolute_deadline)
local ttl = math.max(1, expires - tonumber(ARGV[3]))
redis.call('SET', KEYS[1], cjson.encode(rec), 'EX', ttl)
if redis.call('TTL', KEYS[2]) < ttl then redis.call('EXPIRE', KEYS[2], ttl) end
return expires
";

/// KEYS: record, user index. ARGV: hex key.
const DELETE: &str = r"
redis.call('SREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
";

/// Deletes every record of one user. KEYS: user index. ARGV: record key prefix (in the
/// same slot). Returns the hex keys that had a record.
const DELETE_FOR_USER: &str = r"
local gone = {}
for _, hex in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('DEL', ARGV[1] .. hex) == 1 then table.insert(gone, hex) end
end
redis.call('DEL', KEYS[1])
return gone
";

/// Deletes the record if it expired by ARGV[2] (now). KEYS: record, user index.
/// ARGV: hex key, now. Returns -1 if it deleted it, -2 if it was already gone, else its
/// current expiry.
const SWEEP_ONE: &str = r"
local raw = redis.call('GET', KEYS[1])
if not raw then
  redis.call('SREM', KEYS[2], ARGV[1])
  return -2
end
local rec = cjson.decode(raw)
local expires = math.min(rec.idle_deadline, rec.absolute_deadline)
if expires <= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
  return -1
end
return expires
";

/// Cheap to clone; clones share one cluster connection.
#[derive(Clone)]
pub struct RedisClusterSessionStore {
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
    sweep_one: Script,
    /// Session key -> user id, as the locators say: a fact that never changes for a key,
    /// so remembering it can never make a dead session look alive (the record decides).
    owners: Mutex<HashMap<SessionKey, Uuid>>,
}

impl RedisClusterSessionStore {
    /// Connects to the cluster through `nodes` (seed URLs) and checks that it answers.
    ///
    /// `prefix` starts every key (it must not contain `{`, which would move the hash
    /// tag); `clock` is what TTLs are computed against.
    ///
    /// # Errors
    /// [`StoreError::Other`] for a malformed URL or prefix, [`StoreError::Unavailable`]
    /// when the cluster cannot be reached or does not answer in time.
    pub async fn connect(
        nodes: &[String],
        prefix: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        if prefix.contains(['{', '}']) {
            return Err(StoreError::Other(
                "`redis_key_prefix` must not contain braces with a Redis Cluster".into(),
            ));
        }
        let redis =
            RedisConnector::connect(&RedisTarget::Cluster(nodes.to_vec()), "session store").await?;
        Ok(Self {
            inner: Arc::new(Inner {
                redis,
                prefix: prefix.to_owned(),
                clock,
                create: Script::new(CREATE),
                touch: Script::new(TOUCH),
                delete: Script::new(DELETE),
                delete_for_user: Script::new(DELETE_FOR_USER),
                sweep_one: Script::new(SWEEP_ONE),
                owners: Mutex::default(),
            }),
        })
    }

    /// The locator's key: which user a session key belongs to.
    pub fn locator_key(&self, key: &SessionKey) -> String {
        format!("{}{{s:{}}}", self.inner.prefix, key.to_hex())
    }

    fn record_prefix(&self, user_id: Uuid) -> String {
        format!("{}{{u:{user_id}}}:s:", self.inner.prefix)
    }

    fn record_key(&self, user_id: Uuid, hex: &str) -> String {
        format!("{}{hex}", self.record_prefix(user_id))
    }

    fn user_index(&self, user_id: Uuid) -> String {
        format!("{}{{u:{user_id}}}:sessions", self.inner.prefix)
    }

    fn expiry_index(&self) -> String {
        format!("{}{{expiry}}", self.inner.prefix)
    }

    fn seconds_until(&self, at: OffsetDateTime) -> i64 {
        (at - self.inner.clock.now()).whole_seconds().max(1)
    }

    /// The user a session key belongs to: remembered, or read from its locator if that
    /// still exists.
    async fn owner(&self, key: &SessionKey) -> Result<Option<Uuid>, StoreError> {
        if let Some(user_id) = self.inner.owners.lock().get(key) {
            return Ok(Some(*user_id));
        }
        let locator = self.locator_key(key);
        let owner: Option<String> = self
            .inner
            .redis
            .run(|mut c| async move { c.get(locator).await })
            .await?;
        let Some(owner) = owner else {
            return Ok(None);
        };
        let user_id = Uuid::parse_str(&owner).map_err(|e| StoreError::Other(e.into()))?;
        let mut owners = self.inner.owners.lock();
        if owners.len() >= OWNERS_REMEMBERED {
            owners.clear();
        }
        owners.insert(*key, user_id);
        Ok(Some(user_id))
    }

    /// Best-effort removal of entries in other slots; what stays behind is harmless (see
    /// the module docs) and expires by itself.
    async fn forget(&self, user_id: Uuid, hex: &str) {
        if let Some(key) = SessionKey::from_hex(hex) {
            self.inner.owners.lock().remove(&key);
        }
        let locator = format!("{}{{s:{hex}}}", self.inner.prefix);
        let member = format!("{user_id}:{hex}");
        let index = self.expiry_index();
        let _ = self
            .inner
            .redis
            .run(|mut c| async move {
                let _: i64 = c.del(locator).await?;
                c.zrem::<_, _, i64>(index, member).await
            })
            .await;
    }
}

#[async_trait]
impl SessionStore for RedisClusterSessionStore {
    fn name(&self) -> &'static str {
        "redis_cluster"
    }

    async fn create(&self, key: SessionKey, record: SessionRecord) -> Result<bool, StoreError> {
        let value = serde_json::to_string(&Wire::from_record(&record))
            .map_err(|e| StoreError::Other(e.into()))?;
        let hex = key.to_hex();
        let user_id = record.user_id;
        // 1. Claim the key: the locator is insert-if-absent, so a duplicate key stops here.
        let (locator, owner, locator_ttl) = (
            self.locator_key(&key),
            user_id.to_string(),
            self.seconds_until(record.absolute_deadline),
        );
        let claimed: bool = self
            .inner
            .redis
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(locator)
                    .arg(owner)
                    .arg("NX")
                    .arg("EX")
                    .arg(locator_ttl)
                    .query_async::<Option<String>>(&mut c)
                    .await
                    .map(|reply| reply.is_some())
            })
            .await?;
        if !claimed {
            return Ok(false);
        }
        // 2. The sweep's hint before the record, so no record exists that a sweep cannot
        //    find.
        let (index, member, expires) = (
            self.expiry_index(),
            format!("{user_id}:{hex}"),
            record.expires_at().unix_timestamp(),
        );
        self.inner
            .redis
            .run(|mut c| async move { c.zadd::<_, _, _, i64>(index, member, expires).await })
            .await?;
        // 3. The record and its user index, atomically in the user's slot.
        let (record_key, user_index, ttl) = (
            self.record_key(user_id, &hex),
            self.user_index(user_id),
            self.seconds_until(record.expires_at()),
        );
        let script = &self.inner.create;
        let created: i64 = self
            .inner
            .redis
            .run(|mut c| async move {
                script
                    .key(record_key)
                    .key(user_index)
                    .arg(value)
                    .arg(ttl)
                    .arg(hex)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(created == 1)
    }

    async fn get(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        let Some(user_id) = self.owner(key).await? else {
            return Ok(None);
        };
        let record_key = self.record_key(user_id, &key.to_hex());
        let raw: Option<String> = self
            .inner
            .redis
            .run(|mut c| async move { c.get(record_key).await })
            .await?;
        raw.as_deref().map(decode).transpose()
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: OffsetDateTime,
        idle_deadline: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let Some(user_id) = self.owner(key).await? else {
            return Ok(false);
        };
        let hex = key.to_hex();
        let (record_key, user_index) = (self.record_key(user_id, &hex), self.user_index(user_id));
        let now = self.inner.clock.now().unix_timestamp();
        let script = &self.inner.touch;
        let expires: i64 = self
            .inner
            .redis
            .run(|mut c| async move {
                script
                    .key(record_key)
                    .key(user_index)
                    .arg(last_seen.unix_timestamp())
                    .arg(idle_deadline.unix_timestamp())
                    .arg(now)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        if expires == 0 {
            return Ok(false);
        }
        // XX: only re-score an entry that exists, so a concurrent delete is not undone.
        let (index, member) = (self.expiry_index(), format!("{user_id}:{hex}"));
        self.inner
            .redis
            .run(|mut c| async move {
                redis::cmd("ZADD")
                    .arg(index)
                    .arg("XX")
                    .arg(expires)
                    .arg(member)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await?;
        Ok(true)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let Some(user_id) = self.owner(key).await? else {
            return Ok(false);
        };
        let hex = key.to_hex();
        let (record_key, user_index) = (self.record_key(user_id, &hex), self.user_index(user_id));
        let script = &self.inner.delete;
        let deleted: i64 = {
            let hex = hex.clone();
            self.inner
                .redis
                .run(|mut c| async move {
                    script
                        .key(record_key)
                        .key(user_index)
                        .arg(hex)
                        .invoke_async(&mut c)
                        .await
                })
                .await?
        };
        self.forget(user_id, &hex).await;
        Ok(deleted == 1)
    }

    async fn delete_for_user(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let (user_index, record_prefix) = (self.user_index(user_id), self.record_prefix(user_id));
        let script = &self.inner.delete_for_user;
        let gone: Vec<String> = self
            .inner
            .redis
            .run(|mut c| async move {
                script
                    .key(user_index)
                    .arg(record_prefix)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        for hex in &gone {
            self.forget(user_id, hex).await;
        }
        Ok(gone.len() as u64)
    }

    async fn list_for_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError> {
        let user_index = self.user_index(user_id);
        let members: Vec<String> = {
            let user_index = user_index.clone();
            self.inner
                .redis
                .run(|mut c| async move { c.smembers(user_index).await })
                .await?
        };
        if members.is_empty() {
            return Ok(Vec::new());
        }
        // One slot, so one MGET.
        let record_keys: Vec<String> = members
            .iter()
            .map(|hex| self.record_key(user_id, hex))
            .collect();
        let values: Vec<Option<String>> = self
            .inner
            .redis
            .run(|mut c| async move { c.mget(record_keys).await })
            .await?;
        let mut live = Vec::new();
        let mut stale = Vec::new();
        for (hex, value) in members.into_iter().zip(values) {
            match (SessionKey::from_hex(&hex), value) {
                (Some(key), Some(raw)) => live.push((key, decode(&raw)?)),
                _ => stale.push(hex),
            }
        }
        if !stale.is_empty() {
            // Sessions Redis expired by TTL: drop them from the index now.
            let _: i64 = self
                .inner
                .redis
                .run(|mut c| async move { c.srem(user_index, stale).await })
                .await?;
        }
        live.sort_by_key(|(key, record)| (record.created_at, *key));
        Ok(live)
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now = now.unix_timestamp();
        let mut deleted = 0;
        // Bounded like the single-node sweep: each round removes or re-scores what it
        // examined, and the cap keeps one sweep short (the next one continues).
        for _ in 0..100 {
            let index = self.expiry_index();
            let due: Vec<String> = self
                .inner
                .redis
                .run(|mut c| async move {
                    c.zrangebyscore_limit(index, "-inf", now, 0, SWEEP_BATCH)
                        .await
                })
                .await?;
            for member in &due {
                let Some((user, hex)) = member.split_once(':') else {
                    continue;
                };
                let Ok(user_id) = Uuid::parse_str(user) else {
                    continue;
                };
                let (record_key, user_index) =
                    (self.record_key(user_id, hex), self.user_index(user_id));
                let script = &self.inner.sweep_one;
                let hex_arg = hex.to_owned();
                let expires: i64 = self
                    .inner
                    .redis
                    .run(|mut c| async move {
                        script
                            .key(record_key)
                            .key(user_index)
                            .arg(hex_arg)
                            .arg(now)
                            .invoke_async(&mut c)
                            .await
                    })
                    .await?;
                if expires < 0 {
                    if expires == -1 {
                        deleted += 1;
                    }
                    self.forget(user_id, hex).await;
                } else {
                    let (index, member) = (self.expiry_index(), member.clone());
                    self.inner
                        .redis
                        .run(|mut c| async move {
                            redis::cmd("ZADD")
                                .arg(index)
                                .arg("XX")
                                .arg(expires)
                                .arg(member)
                                .query_async::<i64>(&mut c)
                                .await
                        })
                        .await?;
                }
            }
            if (due.len() as isize) < SWEEP_BATCH {
                break;
            }
        }
        Ok(deleted)
    }
}
