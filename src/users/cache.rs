//! A read-through cache in front of the user repository, for the one lookup every
//! authenticated request makes (`by_id`, from the session guard). Without it each page
//! view waits for a database round trip, which cost `/profile` more than a third of its
//! throughput.
//!
//! Correctness, not just speed:
//! - Every write that goes through this repository (`update_names`, `set_password`,
//!   `delete`) drops the user's entry once the write has finished, and bumps a
//!   generation counter. A read that started before the write cannot put its (stale)
//!   result back afterwards: it is only cached if the generation has not moved since it
//!   began. So in this process a password change (new auth epoch) or a deletion is seen
//!   by the very next request, as without the cache.
//! - Writes made elsewhere (another instance, the admin command line) move the database's
//!   change stamp (`UserRepo::change_stamp`, kept by triggers). At most once per
//!   [`CHECK_INTERVAL`] one request asks for it, and when it has moved the whole cache is
//!   emptied: a change made elsewhere is seen within about a second, as with a one-second
//!   lifetime, but an entry that nothing changed stays good for as long as it is used.
//!   That is what makes the cache work for real traffic, where each person comes back
//!   every few seconds or minutes, not several times a second.
//! - Lookups by email (logins) are never cached: they are about to pay for an argon2
//!   hash anyway, and must see the current hash.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use hashbrown::HashMap;
use parking_lot::RwLock;
use rocket::async_trait;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{NameChange, NewUser, PasswordHash, RepoError, User, UserRepo};
use crate::clock::Clock;

/// How often the database is asked whether any user changed: the longest a change made
/// by another process can go unseen here.
pub const CHECK_INTERVAL: Duration = Duration::seconds(1);
/// Entries kept at most (a user is a few hundred bytes); the cache is emptied when it
/// fills, so more people active at once than this only costs what no cache costs.
const CAPACITY: usize = 50_000;

pub struct CachedUserRepo {
    inner: Arc<dyn UserRepo>,
    clock: Arc<dyn Clock>,
    cache: RwLock<Cache>,
    /// Set while one request asks for the change stamp, so the others do not ask too.
    checking: AtomicBool,
    /// When the stamp was last read (unix nanoseconds; `NEVER` when it must be read
    /// now). Outside the lock: every request reads it, one a second writes it.
    checked_at: AtomicI64,
}

/// `checked_at` when the stamp has never been read, or the last read failed.
const NEVER: i64 = i64::MIN;

fn nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// The map uses hashbrown's default hasher (foldhash, randomly seeded): the standard
/// library's SipHash showed up in every authenticated request's profile.
#[derive(Default)]
struct Cache {
    users: HashMap<Uuid, Arc<User>>,
    /// Moves on every write and every emptying, so a read that raced one is not cached.
    generation: u64,
    /// The database's change stamp when last asked.
    stamp: Option<i64>,
}

impl Cache {
    fn empty(&mut self) {
        self.generation += 1;
        self.users.clear();
    }
}

/// Clears the `checking` flag however the check ends (an error or a dropped request).
struct CheckInProgress<'a>(&'a AtomicBool);

impl Drop for CheckInProgress<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl CachedUserRepo {
    pub fn new(inner: Arc<dyn UserRepo>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            clock,
            cache: RwLock::new(Cache::default()),
            checking: AtomicBool::new(false),
            checked_at: AtomicI64::new(NEVER),
        }
    }

    fn invalidate(&self, id: Uuid) {
        let mut cache = self.cache.write();
        cache.generation += 1;
        cache.users.remove(&id);
    }

    /// Asks the database for its change stamp when the last answer is older than
    /// [`CHECK_INTERVAL`], and empties the cache when it moved. One request asks; the
    /// others meanwhile go on with what is cached. A failed check empties the cache too:
    /// without the database nothing in it can be vouched for.
    async fn check_for_changes(&self) -> Result<(), RepoError> {
        let now = nanos(self.clock.now());
        let checked_at = self.checked_at.load(Ordering::Acquire);
        let due = checked_at == NEVER
            || i128::from(now) - i128::from(checked_at) >= CHECK_INTERVAL.whole_nanoseconds();
        if !due
            || self
                .checking
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        let _in_progress = CheckInProgress(&self.checking);
        let answer = self.inner.change_stamp().await;
        let mut cache = self.cache.write();
        match answer {
            Ok(stamp) => {
                if cache.stamp != Some(stamp) {
                    cache.empty();
                }
                cache.stamp = Some(stamp);
                self.checked_at.store(now, Ordering::Release);
                Ok(())
            }
            Err(error) => {
                cache.empty();
                cache.stamp = None;
                self.checked_at.store(NEVER, Ordering::Release);
                Err(error)
            }
        }
    }
}

#[async_trait]
impl UserRepo for CachedUserRepo {
    async fn insert(&self, user: NewUser, now: OffsetDateTime) -> Result<User, RepoError> {
        self.inner.insert(user, now).await
    }

    async fn by_id(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        let shared = self.by_id_shared(id).await?;
        Ok(shared.map(Arc::unwrap_or_clone))
    }

    async fn by_id_shared(&self, id: Uuid) -> Result<Option<Arc<User>>, RepoError> {
        self.check_for_changes().await?;
        let generation = {
            let cache = self.cache.read();
            if let Some(user) = cache.users.get(&id) {
                return Ok(Some(Arc::clone(user)));
            }
            cache.generation
        };
        let Some(user) = self.inner.by_id(id).await?.map(Arc::new) else {
            return Ok(None);
        };
        let mut cache = self.cache.write();
        if cache.generation == generation {
            if cache.users.len() >= CAPACITY {
                cache.users.clear();
            }
            cache.users.insert(id, Arc::clone(&user));
        }
        Ok(Some(user))
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

    async fn change_stamp(&self) -> Result<i64, RepoError> {
        self.inner.change_stamp().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    /// A repository holding one user, whose reads can be held up to stage a race.
    #[derive(Default)]
    struct OneUser {
        user: Mutex<Option<User>>,
        reads: std::sync::atomic::AtomicUsize,
        /// When set, the next `by_id` waits for it after reading.
        gate: Mutex<Option<rocket::tokio::sync::oneshot::Receiver<()>>>,
        /// The database's change stamp; `None` answers as a database that is down.
        stamp: Mutex<Option<i64>>,
    }

    impl OneUser {
        fn holding(user: User) -> Arc<Self> {
            Arc::new(Self {
                user: Mutex::new(Some(user)),
                stamp: Mutex::new(Some(0)),
                ..Self::default()
            })
        }

        /// What another process sharing the database does: change the row, which moves
        /// the stamp, without this repository's cache knowing.
        fn rename_elsewhere(&self, first_name: &str) {
            if let Some(user) = self.user.lock().as_mut() {
                user.first_name = Some(first_name.to_owned());
            }
            self.moved();
        }

        fn moved(&self) {
            if let Some(stamp) = self.stamp.lock().as_mut() {
                *stamp += 1;
            }
        }

        fn reads(&self) -> usize {
            self.reads.load(std::sync::atomic::Ordering::SeqCst)
        }
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
            self.moved();
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
            self.moved();
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
            self.moved();
            Ok(user.clone())
        }
        async fn change_stamp(&self) -> Result<i64, RepoError> {
            let stamp = *self.stamp.lock();
            stamp.ok_or_else(|| RepoError::Unavailable("down".into()))
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
            let inner = OneUser::holding(original);
            let repo = CachedUserRepo::new(inner.clone(), Arc::new(crate::clock::SystemClock));
            assert_eq!(repo.by_id(id).await.unwrap().unwrap().auth_epoch, 0);
            assert_eq!(repo.by_id(id).await.unwrap().unwrap().auth_epoch, 0);
            assert_eq!(inner.reads(), 1, "the second read is served from the cache");

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
            let inner = OneUser::holding(original);
            *inner.gate.lock() = Some(gate);
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

    /// A cache over one user, on a clock the test moves.
    fn on_a_manual_clock() -> (
        CachedUserRepo,
        Arc<OneUser>,
        crate::clock::ManualClock,
        Uuid,
    ) {
        let original = user();
        let id = original.id;
        let inner = OneUser::holding(original);
        let clock = crate::clock::ManualClock::starting_now();
        let repo = CachedUserRepo::new(inner.clone(), Arc::new(clock.clone()));
        (repo, inner, clock, id)
    }

    #[test]
    fn an_entry_lives_as_long_as_nothing_changes() {
        block(async {
            let (repo, inner, clock, id) = on_a_manual_clock();
            for _ in 0..120 {
                repo.by_id(id).await.unwrap().unwrap();
                clock.advance(Duration::seconds(30));
            }
            assert_eq!(inner.reads(), 1, "an hour of page views, one read");
        });
    }

    #[test]
    fn a_change_made_elsewhere_is_seen_once_the_stamp_is_checked() {
        block(async {
            let (repo, inner, clock, id) = on_a_manual_clock();
            assert_eq!(repo.by_id(id).await.unwrap().unwrap().first_name, None);

            inner.rename_elsewhere("Ada");
            clock.advance(CHECK_INTERVAL - Duration::milliseconds(1));
            let before = repo.by_id(id).await.unwrap().unwrap();
            assert_eq!(
                before.first_name, None,
                "not asked again within the interval"
            );

            clock.advance(Duration::milliseconds(1));
            let after = repo.by_id(id).await.unwrap().unwrap();
            assert_eq!(after.first_name.as_deref(), Some("Ada"));
            assert_eq!(inner.reads(), 2);
        });
    }

    #[test]
    fn without_the_database_nothing_cached_is_served() {
        block(async {
            let (repo, inner, clock, id) = on_a_manual_clock();
            repo.by_id(id).await.unwrap().unwrap();

            *inner.stamp.lock() = None;
            clock.advance(CHECK_INTERVAL);
            assert!(matches!(
                repo.by_id(id).await,
                Err(RepoError::Unavailable(_))
            ));
            *inner.stamp.lock() = Some(0);
            repo.by_id(id).await.unwrap().unwrap();
            assert_eq!(
                inner.reads(),
                2,
                "the entry was dropped when the check failed"
            );
        });
    }
}
