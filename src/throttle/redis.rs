//! Counters in Redis, used when sessions live there: every instance behind the load
//! balancer shares one budget per account and address.
//!
//! Each counter is a hash `<redis_key_prefix>throttle:<key>` with the count and the end
//! of its window (by the injected clock, so tests can move time), updated by one Lua
//! script (atomic across instances) and given a TTL of the window, so Redis drops ended
//! counters by itself.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};
use rocket::async_trait;

use super::{Count, ThrottleStore};
use crate::sessions::StoreError;

/// Longest any one counter operation may take before the request gets a 503.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);

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
    connection: ConnectionManager,
    prefix: String,
    add: Script,
}

fn classify(error: RedisError) -> StoreError {
    match error.kind() {
        redis::ErrorKind::TypeError | redis::ErrorKind::ResponseError => {
            StoreError::Other(error.into())
        }
        _ => StoreError::Unavailable(error.into()),
    }
}

impl RedisThrottleStore {
    /// Connects to Redis at `url`; every key starts with `prefix`.
    ///
    /// # Errors
    /// When the URL is malformed or Redis cannot be reached in time.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Other(e.into()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(1))
            .set_response_timeout(OPERATION_TIMEOUT)
            .set_number_of_retries(2)
            .set_max_delay(500);
        let connect = ConnectionManager::new_with_config(client, config);
        let connection = match rocket::tokio::time::timeout(Duration::from_secs(3), connect).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return Err(StoreError::Unavailable(error.into())),
            Err(_) => return Err(StoreError::Unavailable("no connection within 3s".into())),
        };
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            add: Script::new(ADD),
        })
    }

    async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        match rocket::tokio::time::timeout(OPERATION_TIMEOUT, op).await {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(StoreError::Unavailable(
                format!("Redis did not answer within {OPERATION_TIMEOUT:?}").into(),
            )),
        }
    }
}

#[async_trait]
impl ThrottleStore for RedisThrottleStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn add(&self, key: &str, delta: i64, now: i64, window: i64) -> Result<Count, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.add.key(format!("{}{key}", self.prefix));
        invocation.arg(delta).arg(now).arg(window);
        let (count, resets_at): (i64, i64) = self
            .bounded(invocation.invoke_async(&mut connection))
            .await?;
        Ok(Count { count, resets_at })
    }

    async fn get(&self, key: &str, now: i64) -> Result<Option<Count>, StoreError> {
        let mut connection = self.connection.clone();
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(format!("{}{key}", self.prefix)).arg("n").arg("r");
        let (count, resets_at): (Option<i64>, Option<i64>) =
            self.bounded(cmd.query_async(&mut connection)).await?;
        Ok(match (count, resets_at) {
            (Some(count), Some(resets_at)) if resets_at > now => Some(Count { count, resets_at }),
            _ => None,
        })
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let mut cmd = redis::cmd("DEL");
        cmd.arg(format!("{}{key}", self.prefix));
        let _: i64 = self.bounded(cmd.query_async(&mut connection)).await?;
        Ok(())
    }
}
