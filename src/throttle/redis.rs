//! Counters in Redis, used when sessions live there: every instance behind the load
//! balancer shares one budget per account and address.
//!
//! Each counter is a hash `<redis_key_prefix>throttle:<key>` with the count and the end
//! of its window (by the injected clock, so tests can move time), updated by one Lua
//! script (atomic across instances) and given a TTL of the window, so Redis drops ended
//! counters by itself.

use redis::Script;
use rocket::async_trait;

use super::{Count, ThrottleStore};
use crate::redis_connector::{RedisConnector, RedisTarget};
use crate::sessions::StoreError;

/// KEYS: counter. ARGV: delta, now, window. Returns {count, resets_at}.
const ADD: &str = r"
local delta = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'n', 'r')
local n = tonumber(v[1])
local r = tonumber(v[2])
if (not r) or r <= now then
  if delta <= 0 then return {0, now} end
  redis.call('HSET', KEYS[1], 'n', delta, 'r', now + window)
  redis.call('EXPIRE', KEYS[1], window + 1)
  return {delta, now + window}
end
n = math.max(n + delta, 0)
redis.call('HSET', KEYS[1], 'n', n)
return {n, r}
";

pub struct RedisThrottleStore {
    redis: RedisConnector,
    prefix: String,
    add: Script,
}

impl RedisThrottleStore {
    /// Connects to Redis (one server or a cluster); every key starts with `prefix`.
    ///
    /// # Errors
    /// When the URL is malformed or Redis cannot be reached in time.
    pub async fn connect(target: &RedisTarget, prefix: &str) -> Result<Self, StoreError> {
        Ok(Self {
            redis: RedisConnector::connect(target, "throttle").await?,
            prefix: prefix.to_owned(),
            add: Script::new(ADD),
        })
    }

    /// One counter is one key, so every operation touches a single slot and works the
    /// same on a Redis Cluster.
    fn counter_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl ThrottleStore for RedisThrottleStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn add(&self, key: &str, delta: i64, now: i64, window: i64) -> Result<Count, StoreError> {
        let counter = self.counter_key(key);
        let script = &self.add;
        let (count, resets_at): (i64, i64) = self
            .redis
            .run(|mut c| async move {
                script
                    .key(counter)
                    .arg(delta)
                    .arg(now)
                    .arg(window)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(Count { count, resets_at })
    }

    async fn get(&self, key: &str, now: i64) -> Result<Option<Count>, StoreError> {
        let counter = self.counter_key(key);
        let (count, resets_at): (Option<i64>, Option<i64>) = self
            .redis
            .run(|mut c| async move {
                redis::cmd("HMGET")
                    .arg(counter)
                    .arg("n")
                    .arg("r")
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(match (count, resets_at) {
            (Some(count), Some(resets_at)) if resets_at > now => Some(Count { count, resets_at }),
            _ => None,
        })
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        let counter = self.counter_key(key);
        let _: i64 = self
            .redis
            .run(|mut c| async move { redis::cmd("DEL").arg(counter).query_async(&mut c).await })
            .await?;
        Ok(())
    }
}
