//! Session lifecycle on top of any store: start (with rotation), resolve (with expiry and
//! a throttled touch), end, sweep. Policy lives here once, so every store behaves alike.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{SessionId, SessionKey, SessionRecord, SessionStore, StoreError};
use crate::clock::Clock;
use crate::config::Settings;
use crate::metrics;
use crate::telemetry::SecurityEvent;

/// User agents are attacker-controlled input: keep enough to recognise a device.
const USER_AGENT_MAX_CHARS: usize = 256;

#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    idle: Duration,
    absolute: Duration,
    touch_interval: Duration,
    /// `max_sessions_per_user`; 0 for no limit.
    max_per_user: usize,
}

impl Sessions {
    pub fn new(store: Arc<dyn SessionStore>, clock: Arc<dyn Clock>, settings: &Settings) -> Self {
        Self {
            store,
            clock,
            idle: settings.idle_timeout(),
            absolute: settings.absolute_timeout(),
            touch_interval: settings.touch_interval(),
            max_per_user: settings.max_sessions_per_user,
        }
    }

    pub fn store(&self) -> &dyn SessionStore {
        self.store.as_ref()
    }

    /// Whole seconds: every store keeps second precision, so records compare equal
    /// wherever they were read from.
    pub fn now(&self) -> OffsetDateTime {
        let now = self.clock.now();
        now.replace_nanosecond(0).unwrap_or(now)
    }

    /// Starts a fresh session for a user who just proved who they are, and ends the one
    /// the browser had before, if any: a new id at every login (OWASP ASVS 3.2.1), so an
    /// id planted before login is worthless after it (session fixation).
    ///
    /// # Errors
    /// When the store fails; the previous session is then left as it was.
    pub async fn start(
        &self,
        user_id: Uuid,
        auth_epoch: i64,
        user_agent: Option<&str>,
        replacing: Option<&SessionId>,
    ) -> Result<(SessionId, SessionRecord), StoreError> {
        self.start_kind(user_id, auth_epoch, user_agent, replacing, true)
            .await
    }

    /// As [`Sessions::start`], saying whether the cookie persists ("remember me") or
    /// ends with the browser; the server enforces the same deadlines either way.
    ///
    /// # Errors
    /// When the store fails; the previous session is then left as it was.
    pub async fn start_kind(
        &self,
        user_id: Uuid,
        auth_epoch: i64,
        user_agent: Option<&str>,
        replacing: Option<&SessionId>,
        persistent: bool,
    ) -> Result<(SessionId, SessionRecord), StoreError> {
        let now = self.now();
        let absolute_deadline = now + self.absolute;
        let record = SessionRecord {
            user_id,
            created_at: now,
            last_seen: now,
            idle_deadline: (now + self.idle).min(absolute_deadline),
            absolute_deadline,
            user_agent: user_agent.map(cap_user_agent),
            auth_epoch,
            persistent,
        };
        let id = loop {
            // A collision of 122 random bits will not happen; the loop makes
            // insert-if-absent the only way a record is ever created.
            let id = SessionId::generate();
            if self.store.create(id.key(), record.clone()).await? {
                break id;
            }
        };
        metrics::session_created();
        if let Some(old) = replacing {
            if self.store.delete(&old.key()).await? {
                metrics::sessions_revoked(1);
            }
        }
        let evicted = self.evict_beyond_limit(user_id, &id.key()).await?;
        if evicted > 0 {
            SecurityEvent::SessionEvicted {
                user_id,
                count: evicted,
            }
            .emit();
        }
        Ok((id, record))
    }

    /// Keeps a user at `max_sessions_per_user` live sessions by ending the least recently
    /// used ones (never `keep`, the one just started). Bounds what one account can make
    /// the store hold, the way a login on a new device signs out the oldest elsewhere.
    /// Uses only the store's list and delete, so every backend behaves alike.
    async fn evict_beyond_limit(
        &self,
        user_id: Uuid,
        keep: &SessionKey,
    ) -> Result<u64, StoreError> {
        if self.max_per_user == 0 {
            return Ok(0);
        }
        let mut others: Vec<_> = self
            .list_for_user(user_id)
            .await?
            .into_iter()
            .filter(|(key, _)| key != keep)
            .collect();
        let allowed_others = self.max_per_user - 1;
        if others.len() <= allowed_others {
            return Ok(0);
        }
        // Least recently used first; the creation time breaks ties in last-seen.
        others.sort_by_key(|(_, record)| (record.last_seen, record.created_at));
        let surplus = others.len() - allowed_others;
        let mut ended = 0;
        for (key, _) in others.into_iter().take(surplus) {
            if self.end_key(&key).await? {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// The live record behind an id, or `None`. An expired record is deleted on sight,
    /// not left for the sweep. Activity is written back at most once per touch interval,
    /// so most page views cost one read.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn resolve(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let key = id.key();
        let Some(mut record) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let now = self.now();
        if record.is_expired(now) {
            if self.store.delete(&key).await? {
                metrics::sessions_expired(1);
            }
            return Ok(None);
        }
        if now - record.last_seen >= self.touch_interval {
            let idle_deadline = (now + self.idle).min(record.absolute_deadline);
            if !self.store.touch(&key, now, idle_deadline).await? {
                return Ok(None);
            }
            record.last_seen = now;
            record.idle_deadline = idle_deadline;
        }
        Ok(Some(record))
    }

    /// Ends one session server-side (logout).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn end(&self, id: &SessionId) -> Result<bool, StoreError> {
        self.end_key(&id.key()).await
    }

    /// Ends a session known by its store key.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn end_key(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let ended = self.store.delete(key).await?;
        if ended {
            metrics::sessions_revoked(1);
        }
        Ok(ended)
    }

    /// Ends every session of a user.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn end_all_for_user(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let ended = self.store.delete_for_user(user_id).await?;
        metrics::sessions_revoked(ended);
        Ok(ended)
    }

    /// The user's live sessions, most recently used first.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn list_for_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError> {
        let now = self.now();
        let mut sessions = self.store.list_for_user(user_id).await?;
        sessions.retain(|(_, record)| !record.is_expired(now));
        sessions.sort_by_key(|(_, record)| std::cmp::Reverse(record.last_seen));
        Ok(sessions)
    }

    /// Looks a record up by store key, without the expiry bookkeeping of `resolve`.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn get_by_key(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        self.store.get(key).await
    }

    /// Removes expired records; returns how many.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn sweep(&self) -> Result<u64, StoreError> {
        let removed = self.store.sweep(self.now()).await?;
        metrics::sessions_expired(removed);
        Ok(removed)
    }
}

fn cap_user_agent(user_agent: &str) -> Arc<str> {
    match user_agent.char_indices().nth(USER_AGENT_MAX_CHARS) {
        Some((cut, _)) => Arc::from(&user_agent[..cut]),
        None => Arc::from(user_agent),
    }
}
