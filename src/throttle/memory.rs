//! Counters in this process's memory: the default, zero setup, one instance.

use std::collections::HashMap;

use parking_lot::Mutex;
use rocket::async_trait;

use super::{Count, ThrottleStore};
use crate::sessions::StoreError;

/// Ended windows are dropped every this many writes, so an attacker cycling through
/// accounts or addresses cannot grow the map without bound.
const PURGE_EVERY: u64 = 1024;

#[derive(Default)]
pub struct MemoryThrottleStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    counters: HashMap<String, Count>,
    writes: u64,
}

impl MemoryThrottleStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ThrottleStore for MemoryThrottleStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn add(&self, key: &str, delta: i64, now: i64, window: i64) -> Result<Count, StoreError> {
        let mut inner = self.inner.lock();
        inner.writes += 1;
        if inner.writes.is_multiple_of(PURGE_EVERY) {
            inner.counters.retain(|_, count| count.resets_at > now);
        }
        let running = inner
            .counters
            .get_mut(key)
            .filter(|count| count.resets_at > now);
        Ok(match running {
            Some(count) => {
                count.count = (count.count + delta).max(0);
                *count
            }
            None if delta > 0 => {
                let count = Count {
                    count: delta,
                    resets_at: now + window,
                };
                inner.counters.insert(key.to_owned(), count);
                count
            }
            None => Count {
                count: 0,
                resets_at: now,
            },
        })
    }

    async fn get(&self, key: &str, now: i64) -> Result<Option<Count>, StoreError> {
        Ok(self
            .inner
            .lock()
            .counters
            .get(key)
            .copied()
            .filter(|count| count.resets_at > now))
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        self.inner.lock().counters.remove(key);
        Ok(())
    }
}
