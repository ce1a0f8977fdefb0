//! The default store: one process's memory. Zero setup; sessions end with the process.

use std::collections::{HashMap, HashSet};

use parking_lot::RwLock;
use rocket::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SessionKey, SessionRecord, SessionStore, StoreError};

#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<SessionKey, SessionRecord>,
    /// user id -> that user's session keys, so per-user operations skip a full scan.
    by_user: HashMap<Uuid, HashSet<SessionKey>>,
}

impl Inner {
    fn remove(&mut self, key: &SessionKey) -> Option<SessionRecord> {
        let record = self.sessions.remove(key)?;
        if let Some(keys) = self.by_user.get_mut(&record.user_id) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_user.remove(&record.user_id);
            }
        }
        Some(record)
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.inner.read().sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn create(&self, key: SessionKey, record: SessionRecord) -> Result<bool, StoreError> {
        let mut inner = self.inner.write();
        if inner.sessions.contains_key(&key) {
            return Ok(false);
        }
        inner.by_user.entry(record.user_id).or_default().insert(key);
        inner.sessions.insert(key, record);
        Ok(true)
    }

    async fn get(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.inner.read().sessions.get(key).cloned())
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: OffsetDateTime,
        idle_deadline: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut inner = self.inner.write();
        Ok(match inner.sessions.get_mut(key) {
            Some(record) => {
                record.last_seen = last_seen;
                record.idle_deadline = idle_deadline;
                true
            }
            None => false,
        })
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        Ok(self.inner.write().remove(key).is_some())
    }

    async fn delete_for_user(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let mut inner = self.inner.write();
        let keys = inner.by_user.remove(&user_id).unwrap_or_default();
        for key in &keys {
            inner.sessions.remove(key);
        }
        Ok(keys.len() as u64)
    }

    async fn list_for_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError> {
        let inner = self.inner.read();
        let Some(keys) = inner.by_user.get(&user_id) else {
            return Ok(Vec::new());
        };
        Ok(keys
            .iter()
            .filter_map(|key| inner.sessions.get(key).map(|r| (*key, r.clone())))
            .collect())
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut inner = self.inner.write();
        let expired: Vec<SessionKey> = inner
            .sessions
            .iter()
            .filter(|(_, record)| record.is_expired(now))
            .map(|(key, _)| *key)
            .collect();
        for key in &expired {
            inner.remove(key);
        }
        Ok(expired.len() as u64)
    }
}
