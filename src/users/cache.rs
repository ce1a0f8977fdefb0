//! A small read-through cache in front of the user repository, for the one lookup every
//! authenticated request makes (`by_id`, from the session guard). Without it each page
//! view waits for a SQLite round trip, which cost /profile more than half its throughput.
//!
//! Correctness, not just speed:
//! - Every write that goes through this repository (`update_names`, `set_password`,
//!   `delete`) drops the user's entry once the write has finished, and bumps a
//!   generation counter. A read that started before the write cannot put its (stale)
//!   result back afterwards: it is only cached if the generation has not moved since it
//!   began. So in this process a password change (new auth epoch) or a deletion is seen
//!   by the very next request, as without the cache.
//! - Writes made elsewhere (another process sharing the database) are not seen at once:
//!   entries live at most [`TTL`], which bounds that staleness to one second. Freshness
//!   is judged by the app's [`Clock`], like every other time decision.
//! - Lookups by email (logins) are never cached: they are about to pay for an argon2
//!   hash anyway, and must see the current hash.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use rocket::async_trait;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{NameChange, NewUser, PasswordHash, RepoError, User, UserRepo};
use crate::clock::Clock;

/// How long an entry may be served without asking the database again.
pub const TTL: Duration = Duration::seconds(1);
/// Entries kept at most; the cache is emptied when it fills (a burst of many distinct
/// users only costs what no cache costs).
const CAPACITY: usize = 10_000;

pub struct CachedUserRepo {
    inner: Arc<dyn UserRepo>,
    clock: Arc<dyn Clock>,
    cache: RwLock<Cache>,
}

#[derive(Default)]
struct Cache {
    users: HashMap<Uuid, (User, OffsetDateTime)>,
    /// Moves on every write, so a read that raced one is not cached.
    generation: u64,
}

impl CachedUserRepo {
    pub fn new(inner: Arc<dyn UserRepo>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            clock,
            cache: RwLock::new(Cache::default()),
        }
    }

    fn invalidate(&self, id: Uuid) {
        let mut cache = self.cache.write();
        cache.generation += 1;
        cache.users.remove(&id);
    }
}

#[async_trait]
impl UserRepo for CachedUserRepo {
    async fn insert(&self, user: NewUser, now: OffsetDateTime) -> Result<User, RepoError> {
        self.inner.insert(user, now).await
    }

    async fn by_id(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        let now = self.clock.now();
        let generation = {
            let cache = self.cache.read();
            if let Some((user, at)) = cache.users.get(&id) {
                if now - *at < TTL {
                    return Ok(Some(user.clone()));
                }
            }
            cache.generation
        };
        let fetched_at = now;
        let user = self.inner.by_id(id).await?;
        if let Some(user) = &user {
            let mut cache = self.cache.write();
            if cache.generation == generation {
                if cache.users.len() >= CAPACITY {
                    cache.users.clear();
                }
                cache.users.insert(id, (user.clone(), fetched_at));
            }
        }
        Ok(user)
    }

    async fn by_email(&self, email: &str) -> Result<Option<User>, RepoError> {
        self.inner.by_email(email).await
    }

    async fn list(&self) -> Result<Vec<User>, RepoError> {
        self.inner.list().await
    }

    async fn count(&self) -> Result<u64, RepoError> {
        self.inner.count().await
    }

    async fn update_names(
        &self,
        id: Uuid,
        change: NameChange,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let result = self.inner.update_names(id, change, now).await;
        self.invalidate(id);
        result
    }

    async fn delete(&self, id: Uuid) -> Result<bool, RepoError> {
        let result = self.inner.delete(id).await;
        self.invalidate(id);
        result
    }

    async fn set_password(
        &self,
        id: Uuid,
        hash: PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let result = self.inner.set_password(id, hash, now).await;
        self.invalidate(id);
        result
    }

    async fn upgrade_password_hash(
        &self,
        id: Uuid,
        old: &PasswordHash,
        new: PasswordHash,
    ) -> Result<bool, RepoError> {
        let result = self.inner.upgrade_password_hash(id, old, new).await;
        self.invalidate(id);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    /// A repository holding one user, whose reads can be held up to stage a race.
    struct OneUser {
        user: Mutex<Option<User>>,
        reads: std::sync::atomic::AtomicUsize,
        /// When set, the next `by_id` waits for it after reading.
        gate: Mutex<Option<rocket::tokio::sync::oneshot::Receiver<()>>>,
    }

    fn user() -> User {
        let now = OffsetDateTime::UNIX_EPOCH;
        User {
            id: Uuid::new_v4(),
            email: "a@example.com".into(),
            first_name: None,
            last_name: None,
            password_hash: PasswordHash("h".into()),
            auth_epoch: 0,
            created_at: now,
            updated_at: now,
        }
    }

    #[async_trait]
    impl UserRepo for OneUser {
        async fn insert(&self, _: NewUser, _: OffsetDateTime) -> Result<User, RepoError> {
            unimplemented!()
        }
        async fn by_id(&self, id: Uuid) -> Result<Option<User>, RepoError> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let found = self.user.lock().clone().filter(|u| u.id == id);
            let gate = self.gate.lock().take();
            if let Some(gate) = gate {
                gate.await.expect("released");
            }
            Ok(found)
        }
        async fn by_email(&self, _: &str) -> Result<Option<User>, RepoError> {
            unimplemented!()
        }
        async fn list(&self) -> Result<Vec<User>, RepoError> {
            unimplemented!()
        }
        async fn count(&self) -> Result<u64, RepoError> {
            unimplemented!()
        }
        async fn update_names(
            &self,
            _: Uuid,
            change: NameChange,
            _: OffsetDateTime,
        ) -> Result<Option<User>, RepoError> {
            let mut user = self.user.lock();
            if let (Some(user), Some(first)) = (user.as_mut(), change.first_name) {
                user.first_name = first;
            }
            Ok(user.clone())
        }
        async fn upgrade_password_hash(
            &self,
            _: Uuid,
            _: &PasswordHash,
            _: PasswordHash,
        ) -> Result<bool, RepoError> {
            unimplemented!()
        }
        async fn delete(&self, _: Uuid) -> Result<bool, RepoError> {
            Ok(self.user.lock().take().is_some())
        }
        async fn set_password(
            &self,
            _: Uuid,
            hash: PasswordHash,
            _: OffsetDateTime,
        ) -> Result<Option<User>, RepoError> {
            let mut user = self.user.lock();
            if let Some(user) = user.as_mut() {
                user.password_hash = hash;
                user.auth_epoch += 1;
            }
            Ok(user.clone())
        }
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn reads_are_cached_and_every_write_is_seen_at_once() {
        block(async {
            let original = user();
            let id = original.id;
            let inner = Arc::new(OneUser {
                user: Mutex::new(Some(original)),
                reads: Default::default(),
                gate: Mutex::new(None),
            });
            let repo = CachedUserRepo::new(inner.clone(), Arc::new(crate::clock::SystemClock));
            let reads = || inner.reads.load(std::sync::atomic::Ordering::SeqCst);
            assert_eq!(repo.by_id(id).await.unwrap().unwrap().auth_epoch, 0);
            assert_eq!(repo.by_id(id).await.unwrap().unwrap().auth_epoch, 0);
            assert_eq!(reads(), 1, "the second read is served from the cache");

            let now = OffsetDateTime::UNIX_EPOCH;
            repo.set_password(id, PasswordHash("new".into()), now)
                .await
                .unwrap();
            assert_eq!(repo.by_id(id).await.unwrap().unwrap().auth_epoch, 1);

            let change = NameChange {
                first_name: Some(Some("Ada".into())),
                last_name: None,
            };
            repo.update_names(id, change, now).await.unwrap();
            let seen = repo.by_id(id).await.unwrap().unwrap();
            assert_eq!(seen.first_name.as_deref(), Some("Ada"));

            repo.delete(id).await.unwrap();
            assert!(repo.by_id(id).await.unwrap().is_none());
        });
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_cached() {
        block(async {
            let original = user();
            let id = original.id;
            let (release, gate) = rocket::tokio::sync::oneshot::channel();
            let inner = Arc::new(OneUser {
                user: Mutex::new(Some(original)),
                reads: Default::default(),
                gate: Mutex::new(Some(gate)),
            });
            let repo = CachedUserRepo::new(inner.clone(), Arc::new(crate::clock::SystemClock));
            // A read fetches the user, then stalls; meanwhile a password change completes;
            // then the read finishes with what it fetched before the change.
            let read = repo.by_id(id);
            let write = async {
                repo.set_password(id, PasswordHash("new".into()), OffsetDateTime::UNIX_EPOCH)
                    .await
                    .unwrap();
                release.send(()).unwrap();
            };
            let (stale, ()) = rocket::tokio::join!(read, write);
            assert_eq!(stale.unwrap().unwrap().auth_epoch, 0);
            assert_eq!(
                repo.by_id(id).await.unwrap().unwrap().auth_epoch,
                1,
                "the stale read must not have been cached"
            );
        });
    }
}
