//! The default store: one process's memory. Zero setup; sessions end with the process.
//!
//! Layout, chosen so a million sessions fit in about 100 bytes each (the benchmark's
//! target is at most 250, measured as RSS growth):
//! - records live in one dense `Vec` of fixed-size slots (no per-session heap allocation);
//!   freed slots are reused through a free list, so indices stay stable;
//! - the key -> slot index is a `HashTable<u32>`: 4 bytes a bucket, hashed with the key's
//!   own first 8 bytes (the key is already SHA-256 output, and neither ids nor keys can be
//!   chosen by a client, so no keyed hash is needed);
//! - times are whole unix seconds (every store keeps second precision, see
//!   `Sessions::now`);
//! - user ids and user agents are interned into shared tables (a few bytes per session
//!   instead of 16 bytes and a string), reference-counted so churn does not grow them;
//! - the per-user index is a doubly linked list threaded through the slots, so "list",
//!   "revoke" and "log out everywhere" touch only that user's sessions.

use std::collections::HashMap;
use std::sync::Arc;

use hashbrown::HashTable;
use parking_lot::RwLock;
use rocket::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SessionKey, SessionRecord, SessionStore, StoreError};

/// "No slot / no user agent / end of list".
const NONE: u32 = u32::MAX;

/// Slots a sweep examines under one lock (about a millisecond's work at most).
const SWEEP_CHUNK: usize = 16 * 1024;

#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

/// One session, or a free slot (`user == NONE`, `next` = next free slot).
#[derive(Clone, Copy)]
struct Slot {
    key: [u8; 32],
    created_at: i64,
    last_seen: i64,
    idle_deadline: i64,
    absolute_deadline: i64,
    auth_epoch: i64,
    /// "Remember me" (see `SessionRecord::persistent`).
    persistent: bool,
    /// Index into `Inner::users`.
    user: u32,
    /// Index into `Inner::agents`, or `NONE`.
    agent: u32,
    /// The same user's neighbours (the per-user index).
    prev: u32,
    next: u32,
}

impl Slot {
    /// In use and past either deadline.
    fn is_expired(&self, now: i64) -> bool {
        self.user != NONE && now >= self.idle_deadline.min(self.absolute_deadline)
    }
}

struct UserEntry {
    id: Uuid,
    /// First slot of this user's list, `NONE` when the entry is free.
    head: u32,
    /// Sessions in the list; the entry is recycled at 0.
    count: u32,
}

struct AgentEntry {
    text: Arc<str>,
    /// Sessions using it; the entry is recycled at 0.
    refs: u32,
}

#[derive(Default)]
struct Inner {
    slots: Vec<Slot>,
    free_slot: Option<u32>,
    index: HashTable<u32>,
    len: usize,
    users: Vec<UserEntry>,
    user_ids: HashMap<Uuid, u32>,
    free_users: Vec<u32>,
    agents: Vec<AgentEntry>,
    agent_ids: HashMap<Arc<str>, u32>,
    free_agents: Vec<u32>,
}

fn hash_of(key: &[u8; 32]) -> u64 {
    u64::from_le_bytes(key[..8].try_into().expect("8 bytes"))
}

fn seconds(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn time_of(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Inner {
    fn find(&self, key: &SessionKey) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(hash_of(&key.0), |&i| slots[i as usize].key == key.0)
            .copied()
    }

    fn record(&self, slot: &Slot) -> SessionRecord {
        SessionRecord {
            user_id: self.users[slot.user as usize].id,
            created_at: time_of(slot.created_at),
            last_seen: time_of(slot.last_seen),
            idle_deadline: time_of(slot.idle_deadline),
            absolute_deadline: time_of(slot.absolute_deadline),
            user_agent: (slot.agent != NONE).then(|| self.agents[slot.agent as usize].text.clone()),
            auth_epoch: slot.auth_epoch,
            persistent: slot.persistent,
        }
    }

    fn intern_user(&mut self, id: Uuid) -> u32 {
        if let Some(&index) = self.user_ids.get(&id) {
            return index;
        }
        let entry = UserEntry {
            id,
            head: NONE,
            count: 0,
        };
        let index = match self.free_users.pop() {
            Some(index) => {
                self.users[index as usize] = entry;
                index
            }
            None => {
                self.users.push(entry);
                (self.users.len() - 1) as u32
            }
        };
        self.user_ids.insert(id, index);
        index
    }

    fn intern_agent(&mut self, text: Option<&Arc<str>>) -> u32 {
        let Some(text) = text else {
            return NONE;
        };
        if let Some(&index) = self.agent_ids.get(text) {
            self.agents[index as usize].refs += 1;
            return index;
        }
        let entry = AgentEntry {
            text: text.clone(),
            refs: 1,
        };
        let index = match self.free_agents.pop() {
            Some(index) => {
                self.agents[index as usize] = entry;
                index
            }
            None => {
                self.agents.push(entry);
                (self.agents.len() - 1) as u32
            }
        };
        self.agent_ids.insert(text.clone(), index);
        index
    }

    fn release_agent(&mut self, index: u32) {
        if index == NONE {
            return;
        }
        let entry = &mut self.agents[index as usize];
        entry.refs -= 1;
        if entry.refs == 0 {
            let text = std::mem::replace(&mut entry.text, Arc::from(""));
            self.agent_ids.remove(&text);
            self.free_agents.push(index);
        }
    }

    fn insert(&mut self, key: SessionKey, record: &SessionRecord) -> bool {
        if self.find(&key).is_some() {
            return false;
        }
        let user = self.intern_user(record.user_id);
        let agent = self.intern_agent(record.user_agent.as_ref());
        let head = self.users[user as usize].head;
        let slot = Slot {
            key: key.0,
            created_at: seconds(record.created_at),
            last_seen: seconds(record.last_seen),
            idle_deadline: seconds(record.idle_deadline),
            absolute_deadline: seconds(record.absolute_deadline),
            auth_epoch: record.auth_epoch,
            persistent: record.persistent,
            user,
            agent,
            prev: NONE,
            next: head,
        };
        let index = match self.free_slot {
            Some(index) => {
                self.free_slot = Some(self.slots[index as usize].next).filter(|&n| n != NONE);
                self.slots[index as usize] = slot;
                index
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        if head != NONE {
            self.slots[head as usize].prev = index;
        }
        let owner = &mut self.users[user as usize];
        owner.head = index;
        owner.count += 1;
        let slots = &self.slots;
        self.index
            .insert_unique(hash_of(&key.0), index, |&i| hash_of(&slots[i as usize].key));
        self.len += 1;
        true
    }

    /// Unlinks and frees the slot at `index`, which must hold a session.
    fn remove_at(&mut self, index: u32) {
        let slot = self.slots[index as usize];
        let slots = &self.slots;
        if let Ok(entry) = self
            .index
            .find_entry(hash_of(&slot.key), |&i| slots[i as usize].key == slot.key)
        {
            entry.remove();
        }
        if slot.prev != NONE {
            self.slots[slot.prev as usize].next = slot.next;
        } else {
            self.users[slot.user as usize].head = slot.next;
        }
        if slot.next != NONE {
            self.slots[slot.next as usize].prev = slot.prev;
        }
        let owner = &mut self.users[slot.user as usize];
        owner.count -= 1;
        if owner.count == 0 {
            let id = owner.id;
            owner.head = NONE;
            self.user_ids.remove(&id);
            self.free_users.push(slot.user);
        }
        self.release_agent(slot.agent);
        let freed = &mut self.slots[index as usize];
        freed.user = NONE;
        freed.agent = NONE;
        freed.key = [0; 32];
        freed.next = self.free_slot.unwrap_or(NONE);
        self.free_slot = Some(index);
        self.len -= 1;
    }

    /// The slots of one user's sessions.
    fn user_slots(&self, user_id: Uuid) -> Vec<u32> {
        let Some(&user) = self.user_ids.get(&user_id) else {
            return Vec::new();
        };
        let entry = &self.users[user as usize];
        let mut found = Vec::with_capacity(entry.count as usize);
        let mut at = entry.head;
        while at != NONE {
            found.push(at);
            at = self.slots[at as usize].next;
        }
        found
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.inner.read().len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inserts many records under one lock: for benchmarks and tools that prefill a
    /// store (`examples/`), never reached from a request. Returns how many were new.
    pub fn fill(&self, records: impl IntoIterator<Item = (SessionKey, SessionRecord)>) -> usize {
        let mut inner = self.inner.write();
        records
            .into_iter()
            .filter(|(key, record)| inner.insert(*key, record))
            .count()
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn create(&self, key: SessionKey, record: SessionRecord) -> Result<bool, StoreError> {
        Ok(self.inner.write().insert(key, &record))
    }

    async fn get(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        let inner = self.inner.read();
        Ok(inner
            .find(key)
            .map(|index| inner.record(&inner.slots[index as usize])))
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: OffsetDateTime,
        idle_deadline: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut inner = self.inner.write();
        Ok(match inner.find(key) {
            Some(index) => {
                let slot = &mut inner.slots[index as usize];
                slot.last_seen = seconds(last_seen);
                slot.idle_deadline = seconds(idle_deadline);
                true
            }
            None => false,
        })
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let mut inner = self.inner.write();
        Ok(match inner.find(key) {
            Some(index) => {
                inner.remove_at(index);
                true
            }
            None => false,
        })
    }

    async fn delete_for_user(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let mut inner = self.inner.write();
        let slots = inner.user_slots(user_id);
        for &index in &slots {
            inner.remove_at(index);
        }
        Ok(slots.len() as u64)
    }

    async fn list_for_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError> {
        let inner = self.inner.read();
        Ok(inner
            .user_slots(user_id)
            .into_iter()
            .map(|index| {
                let slot = &inner.slots[index as usize];
                (SessionKey(slot.key), inner.record(slot))
            })
            .collect())
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        // A million sessions take milliseconds to examine: done in chunks under the read
        // lock, each chunk's expired ones removed under a short write lock, yielding in
        // between, so lookups never queue behind a whole pass and the sweeping task does
        // not hold its async worker.
        let now = seconds(now);
        let mut removed = 0;
        let mut start = 0;
        loop {
            let (expired, end, len) = {
                let inner = self.inner.read();
                let len = inner.slots.len();
                let end = (start + SWEEP_CHUNK).min(len);
                let expired: Vec<u32> = (start..end)
                    .filter(|&index| inner.slots[index].is_expired(now))
                    .map(|index| index as u32)
                    .collect();
                (expired, end, len)
            };
            if !expired.is_empty() {
                let mut inner = self.inner.write();
                for index in expired {
                    // Touched, or freed and reused by a new session, since the read.
                    if inner.slots[index as usize].is_expired(now) {
                        inner.remove_at(index);
                        removed += 1;
                    }
                }
            }
            // Slots added meanwhile hold new sessions: none of them is expired yet.
            if end >= len {
                return Ok(removed);
            }
            start = end;
            rocket::tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn record(user_id: Uuid, at: i64, agent: Option<&str>) -> SessionRecord {
        let at = time_of(at);
        SessionRecord {
            user_id,
            created_at: at,
            last_seen: at,
            idle_deadline: at + Duration::minutes(30),
            absolute_deadline: at + Duration::hours(12),
            user_agent: agent.map(Arc::from),
            auth_epoch: 3,
            persistent: true,
        }
    }

    fn key(n: u8) -> SessionKey {
        let mut bytes = [n; 32];
        bytes[31] = n.wrapping_mul(7);
        SessionKey(bytes)
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn records_round_trip_and_slots_are_reused() {
        block(async {
            let store = MemoryStore::new();
            let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
            let a = record(alice, 1_700_000_000, Some("Firefox"));
            assert!(store.create(key(1), a.clone()).await.unwrap());
            assert!(!store.create(key(1), a.clone()).await.unwrap());
            assert!(store
                .create(key(2), record(alice, 1_700_000_100, Some("Firefox")))
                .await
                .unwrap());
            assert!(store
                .create(key(3), record(bob, 1_700_000_200, None))
                .await
                .unwrap());
            assert_eq!(store.get(&key(1)).await.unwrap(), Some(a.clone()));
            assert_eq!(store.list_for_user(alice).await.unwrap().len(), 2);
            assert!(store.delete(&key(1)).await.unwrap());
            assert!(!store.delete(&key(1)).await.unwrap());
            assert_eq!(store.get(&key(1)).await.unwrap(), None);
            assert_eq!(store.list_for_user(alice).await.unwrap()[0].0, key(2));
            assert_eq!(store.delete_for_user(alice).await.unwrap(), 1);
            assert_eq!(store.len(), 1);
            assert!(
                store.inner.read().agent_ids.is_empty(),
                "unused agents are dropped"
            );
            assert!(store.create(key(4), a.clone()).await.unwrap());
            assert_eq!(store.inner.read().slots.len(), 3, "freed slots are reused");
            assert_eq!(store.get(&key(4)).await.unwrap(), Some(a));
            assert_eq!(store.get(&key(3)).await.unwrap().unwrap().user_id, bob);
        });
    }

    #[test]
    fn touch_never_recreates_and_sweep_removes_only_expired() {
        block(async {
            let store = MemoryStore::new();
            let user = Uuid::new_v4();
            let r = record(user, 1_700_000_000, None);
            let later = r.last_seen + Duration::minutes(5);
            assert!(!store.touch(&key(9), later, later).await.unwrap());
            assert_eq!(store.get(&key(9)).await.unwrap(), None);
            store.create(key(1), r.clone()).await.unwrap();
            store
                .create(key(2), record(user, 1_699_999_000, None))
                .await
                .unwrap();
            assert!(store
                .touch(&key(1), later, later + Duration::minutes(30))
                .await
                .unwrap());
            let touched = store.get(&key(1)).await.unwrap().unwrap();
            assert_eq!(touched.last_seen, later);
            let swept = store
                .sweep(r.created_at + Duration::minutes(34))
                .await
                .unwrap();
            assert_eq!(swept, 1);
            assert_eq!(store.get(&key(1)).await.unwrap(), Some(touched));
            assert_eq!(store.get(&key(2)).await.unwrap(), None);
        });
    }

    #[test]
    fn sweep_covers_every_chunk() {
        block(async {
            let store = MemoryStore::new();
            let user = Uuid::new_v4();
            let old = record(user, 1_700_000_000, None);
            let fresh = record(user, 1_700_003_600, None);
            let count = 2 * SWEEP_CHUNK + 3;
            let key_of = |n: usize| {
                let mut bytes = [0u8; 32];
                bytes[..8].copy_from_slice(&(n as u64 + 1).to_le_bytes());
                SessionKey(bytes)
            };
            let stale = |n: usize| n.is_multiple_of(3) || n == count - 1;
            store.fill((0..count).map(|n| {
                let record = if stale(n) { &old } else { &fresh };
                (key_of(n), record.clone())
            }));
            let swept = store.sweep(old.idle_deadline).await.unwrap();
            assert_eq!(swept as usize, (0..count).filter(|&n| stale(n)).count());
            assert_eq!(store.len(), count - swept as usize);
            for n in [0, 1, SWEEP_CHUNK, SWEEP_CHUNK + 1, count - 2, count - 1] {
                let kept = store.get(&key_of(n)).await.unwrap().is_some();
                assert_eq!(kept, !stale(n), "session {n}");
            }
        });
    }
}
