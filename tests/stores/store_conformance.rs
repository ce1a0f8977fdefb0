//! One conformance suite for the `SessionStore` contract, run against every store:
//! memory and SQLite always, Redis when `REDIS_URL` is set, a Redis Cluster when
//! `REDIS_CLUSTER_NODES` is set, PostgreSQL when `DATABASE_URL` is set. Expiry is driven by a
//! `ManualClock` through the real session policy (`Sessions`), never by sleeping.

use std::sync::Arc;

use latchkey::sessions::{SessionId, SessionKey, SessionRecord, SessionStore};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::support::stores::{self, Backend, Fixture};

/// A record as `Sessions::start` would make it at `now`, with the default timeouts.
fn record_at(now: OffsetDateTime, user_id: Uuid) -> SessionRecord {
    let absolute_deadline = now + Duration::hours(12);
    SessionRecord {
        user_id,
        created_at: now,
        last_seen: now,
        idle_deadline: now + Duration::minutes(30),
        absolute_deadline,
        user_agent: Some("Mozilla/5.0 (conformance) ünïcode/✓ \"quoted\"".into()),
        auth_epoch: 3,
        persistent: false,
    }
}

fn now(fixture: &Fixture) -> OffsetDateTime {
    use latchkey::clock::Clock;
    fixture.clock.now()
}

fn new_key() -> SessionKey {
    SessionId::generate().key()
}

async fn create_is_insert_if_absent(fx: &Fixture) {
    let key = new_key();
    let first = record_at(now(fx), Uuid::new_v4());
    let mut second = first.clone();
    second.auth_epoch = 99;
    second.user_agent = None;

    assert!(fx.store.create(key, first.clone()).await.unwrap());
    assert!(!fx.store.create(key, second).await.unwrap());

    assert_eq!(fx.store.get(&key).await.unwrap(), Some(first));
}

async fn get_returns_the_record_or_none(fx: &Fixture) {
    let with_agent = record_at(now(fx), Uuid::new_v4());
    let mut without_agent = record_at(now(fx), Uuid::new_v4());
    without_agent.user_agent = None;
    let (a, b) = (new_key(), new_key());
    fx.store.create(a, with_agent.clone()).await.unwrap();
    fx.store.create(b, without_agent.clone()).await.unwrap();

    assert_eq!(fx.store.get(&a).await.unwrap(), Some(with_agent));
    assert_eq!(fx.store.get(&b).await.unwrap(), Some(without_agent));
    assert_eq!(fx.store.get(&new_key()).await.unwrap(), None);
}

async fn touch_updates_an_existing_record(fx: &Fixture) {
    let key = new_key();
    let record = record_at(now(fx), Uuid::new_v4());
    fx.store.create(key, record.clone()).await.unwrap();
    let later = record.created_at + Duration::minutes(5);

    assert!(fx
        .store
        .touch(&key, later, later + Duration::minutes(30))
        .await
        .unwrap());

    let stored = fx.store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.last_seen, later);
    assert_eq!(stored.idle_deadline, later + Duration::minutes(30));
    assert_eq!(stored.absolute_deadline, record.absolute_deadline);
    assert_eq!(stored.user_agent, record.user_agent);
}

async fn touch_never_recreates_a_deleted_record(fx: &Fixture) {
    let key = new_key();
    let record = record_at(now(fx), Uuid::new_v4());
    fx.store.create(key, record.clone()).await.unwrap();
    assert!(fx.store.delete(&key).await.unwrap());

    let touched = fx
        .store
        .touch(&key, record.last_seen, record.idle_deadline)
        .await
        .unwrap();

    assert!(!touched);
    assert_eq!(fx.store.get(&key).await.unwrap(), None);
    assert!(fx
        .store
        .list_for_user(record.user_id)
        .await
        .unwrap()
        .is_empty());
}

/// CVE-2025-46336 (Rack session pool): requests still in flight when the session is
/// logged out or rotated must not bring it back. Many tasks touch the key while another
/// deletes it; once the delete has happened, the key stays absent whatever order the
/// writes land in.
async fn racing_touches_never_resurrect_a_deleted_record(fx: &Fixture) {
    for _round in 0..5 {
        let key = new_key();
        let record = record_at(now(fx), Uuid::new_v4());
        fx.store.create(key, record.clone()).await.unwrap();
        let barrier = Arc::new(rocket::tokio::sync::Barrier::new(41));
        let touches: Vec<_> = (0..40)
            .map(|i| {
                let (store, barrier) = (fx.store.clone(), barrier.clone());
                let at = record.last_seen + Duration::seconds(i);
                rocket::tokio::spawn(async move {
                    barrier.wait().await;
                    for _ in 0..5 {
                        store
                            .touch(&key, at, at + Duration::minutes(30))
                            .await
                            .unwrap();
                        rocket::tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let deleter = {
            let (store, barrier) = (fx.store.clone(), barrier.clone());
            rocket::tokio::spawn(async move {
                barrier.wait().await;
                store.delete(&key).await.unwrap()
            })
        };
        assert!(deleter.await.unwrap(), "the delete found the record");
        for task in touches {
            task.await.unwrap();
        }

        assert_eq!(fx.store.get(&key).await.unwrap(), None);
        assert!(fx
            .store
            .list_for_user(record.user_id)
            .await
            .unwrap()
            .is_empty());
    }
}

/// The same through rotation: `Sessions::start` with the old id (a new login in this
/// browser) deletes the old record while late touches of it are still arriving.
async fn racing_touches_never_resurrect_a_rotated_record(fx: &Fixture) {
    let sessions = fx.sessions();
    let user = Uuid::new_v4();
    let (old, record) = sessions.start(user, 0, None, None).await.unwrap();
    let key = old.key();
    let touches: Vec<_> = (0..40)
        .map(|i| {
            let store = fx.store.clone();
            let at = record.last_seen + Duration::seconds(i);
            rocket::tokio::spawn(async move {
                for _ in 0..5 {
                    store
                        .touch(&key, at, at + Duration::minutes(30))
                        .await
                        .unwrap();
                    rocket::tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let (new, _) = sessions.start(user, 0, None, Some(&old)).await.unwrap();
    for task in touches {
        task.await.unwrap();
    }

    assert_eq!(fx.store.get(&key).await.unwrap(), None);
    let listed = fx.store.list_for_user(user).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, new.key());
}

async fn idle_sessions_end_and_activity_extends_them(fx: &Fixture) {
    let sessions = fx.sessions();
    let (active, _) = sessions.start(Uuid::new_v4(), 0, None, None).await.unwrap();
    let (idle, _) = sessions.start(Uuid::new_v4(), 0, None, None).await.unwrap();

    // Active: seen every 1000 s, alive at 2000 s although the idle timeout is 1800 s.
    fx.clock.advance(Duration::seconds(1000));
    assert!(sessions.resolve(&active).await.unwrap().is_some());
    fx.clock.advance(Duration::seconds(1000));
    assert!(sessions.resolve(&active).await.unwrap().is_some());

    // Idle: not seen for 2000 s, gone, and deleted on sight.
    assert!(sessions.resolve(&idle).await.unwrap().is_none());
    assert_eq!(fx.store.get(&idle.key()).await.unwrap(), None);
}

async fn idle_deadline_is_exact(fx: &Fixture) {
    let sessions = fx.sessions();
    let (id, record) = sessions.start(Uuid::new_v4(), 0, None, None).await.unwrap();

    fx.clock.set(record.idle_deadline - Duration::seconds(1));
    // A read-only check just before the deadline: use the store so nothing is touched.
    assert!(!fx
        .store
        .get(&id.key())
        .await
        .unwrap()
        .unwrap()
        .is_expired(now(fx)));
    fx.clock.set(record.idle_deadline);

    assert!(sessions.resolve(&id).await.unwrap().is_none());
}

async fn absolute_deadline_ends_even_active_sessions(fx: &Fixture) {
    let sessions = fx.sessions();
    let (id, record) = sessions.start(Uuid::new_v4(), 0, None, None).await.unwrap();

    while now(fx) + Duration::seconds(1000) < record.absolute_deadline {
        fx.clock.advance(Duration::seconds(1000));
        assert!(sessions.resolve(&id).await.unwrap().is_some());
    }
    fx.clock.set(record.absolute_deadline);

    assert!(sessions.resolve(&id).await.unwrap().is_none());
    assert_eq!(fx.store.get(&id.key()).await.unwrap(), None);
}

async fn delete_removes_one_record(fx: &Fixture) {
    let user = Uuid::new_v4();
    let (gone, kept) = (new_key(), new_key());
    fx.store
        .create(gone, record_at(now(fx), user))
        .await
        .unwrap();
    fx.store
        .create(kept, record_at(now(fx), user))
        .await
        .unwrap();

    assert!(fx.store.delete(&gone).await.unwrap());
    assert!(!fx.store.delete(&gone).await.unwrap());

    assert_eq!(fx.store.get(&gone).await.unwrap(), None);
    assert!(fx.store.get(&kept).await.unwrap().is_some());
    let listed: Vec<SessionKey> = fx
        .store
        .list_for_user(user)
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(listed, vec![kept]);
}

async fn delete_for_user_ends_only_that_users_sessions(fx: &Fixture) {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let alice_keys = [new_key(), new_key(), new_key()];
    for key in alice_keys {
        fx.store
            .create(key, record_at(now(fx), alice))
            .await
            .unwrap();
    }
    let bob_key = new_key();
    fx.store
        .create(bob_key, record_at(now(fx), bob))
        .await
        .unwrap();

    assert_eq!(fx.store.delete_for_user(alice).await.unwrap(), 3);

    for key in &alice_keys {
        assert_eq!(fx.store.get(key).await.unwrap(), None);
    }
    assert!(fx.store.list_for_user(alice).await.unwrap().is_empty());
    assert!(fx.store.get(&bob_key).await.unwrap().is_some());
    assert_eq!(fx.store.delete_for_user(alice).await.unwrap(), 0);
}

async fn list_for_user_returns_that_users_records(fx: &Fixture) {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let first = record_at(now(fx), alice);
    let second = record_at(now(fx) + Duration::seconds(5), alice);
    let (k1, k2) = (new_key(), new_key());
    fx.store.create(k1, first.clone()).await.unwrap();
    fx.store.create(k2, second.clone()).await.unwrap();
    fx.store
        .create(new_key(), record_at(now(fx), bob))
        .await
        .unwrap();

    let mut listed = fx.store.list_for_user(alice).await.unwrap();
    listed.sort_by_key(|(_, record)| record.created_at);

    assert_eq!(listed, vec![(k1, first), (k2, second)]);
    assert!(fx
        .store
        .list_for_user(Uuid::new_v4())
        .await
        .unwrap()
        .is_empty());
}

async fn sweep_deletes_only_expired_records(fx: &Fixture) {
    let sessions = fx.sessions();
    let user = Uuid::new_v4();
    let (early, _) = sessions.start(user, 0, None, None).await.unwrap();
    fx.clock.advance(Duration::minutes(20));
    let (late, _) = sessions.start(user, 0, None, None).await.unwrap();
    // 40 minutes after the first start: the first is 10 minutes past its idle deadline.
    fx.clock.advance(Duration::minutes(20));

    assert_eq!(sessions.sweep().await.unwrap(), 1);

    assert_eq!(fx.store.get(&early.key()).await.unwrap(), None);
    assert!(fx.store.get(&late.key()).await.unwrap().is_some());
    let listed = fx.store.list_for_user(user).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, late.key());
    assert_eq!(sessions.sweep().await.unwrap(), 0);
}

async fn concurrent_creates_and_deletes_are_all_counted(fx: &Fixture) {
    const TASKS: usize = 50;
    let user = Uuid::new_v4();
    let start = now(fx);
    let keys: Vec<SessionKey> = (0..TASKS).map(|_| new_key()).collect();

    let creates = keys.iter().map(|key| {
        let (store, key) = (fx.store.clone(), *key);
        rocket::tokio::spawn(async move { store.create(key, record_at(start, user)).await })
    });
    for task in creates.collect::<Vec<_>>() {
        assert!(task.await.unwrap().unwrap());
    }
    assert_eq!(fx.store.list_for_user(user).await.unwrap().len(), TASKS);

    let deletes = keys.iter().map(|key| {
        let (store, key) = (fx.store.clone(), *key);
        rocket::tokio::spawn(async move { store.delete(&key).await })
    });
    for task in deletes.collect::<Vec<_>>() {
        assert!(task.await.unwrap().unwrap());
    }
    assert!(fx.store.list_for_user(user).await.unwrap().is_empty());
}

async fn concurrent_creates_of_one_key_insert_once(fx: &Fixture) {
    let key = new_key();
    let start = now(fx);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store: Arc<dyn SessionStore> = fx.store.clone();
            rocket::tokio::spawn(async move {
                store.create(key, record_at(start, Uuid::new_v4())).await
            })
        })
        .collect();
    let mut inserted = 0;
    for task in tasks {
        inserted += usize::from(task.await.unwrap().unwrap());
    }
    assert_eq!(inserted, 1);
}

async fn ids_are_stored_only_hashed(fx: &Fixture) {
    let sessions = fx.sessions();
    let user = Uuid::new_v4();
    let (id, _) = sessions.start(user, 0, Some("agent"), None).await.unwrap();
    let raw_id = id.expose();
    let uuid = Uuid::parse_str(&raw_id).unwrap();

    let listed = fx.store.list_for_user(user).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, id.key());
    assert_ne!(&listed[0].0 .0[..16], uuid.as_bytes());

    if let Some(dump) = fx.raw_dump().await {
        let contains = |needle: &[u8]| dump.windows(needle.len()).any(|w| w == needle);
        assert!(!contains(raw_id.as_bytes()), "raw id stored");
        assert!(!contains(uuid.hyphenated().to_string().as_bytes()));
        assert!(!contains(raw_id.to_uppercase().as_bytes()));
        assert!(!contains(uuid.as_bytes()), "raw id bytes stored");
        let key_form: Vec<u8> = match fx.backend {
            Backend::Redis { .. } | Backend::RedisCluster { .. } => id.key().to_hex().into_bytes(),
            _ => id.key().0.to_vec(),
        };
        assert!(contains(&key_form), "hashed key not found in the dump");
    }
}

/// Runs every check against one backend, each as its own test.
macro_rules! conformance {
    ($backend:ident) => {
        mod $backend {
            conformance!(@tests $backend:
                create_is_insert_if_absent,
                get_returns_the_record_or_none,
                touch_updates_an_existing_record,
                touch_never_recreates_a_deleted_record,
                racing_touches_never_resurrect_a_deleted_record,
                racing_touches_never_resurrect_a_rotated_record,
                idle_sessions_end_and_activity_extends_them,
                idle_deadline_is_exact,
                absolute_deadline_ends_even_active_sessions,
                delete_removes_one_record,
                delete_for_user_ends_only_that_users_sessions,
                list_for_user_returns_that_users_records,
                sweep_deletes_only_expired_records,
                concurrent_creates_and_deletes_are_all_counted,
                concurrent_creates_of_one_key_insert_once,
                ids_are_stored_only_hashed,
            );
        }
    };
    (@tests $backend:ident: $($check:ident),* $(,)?) => {
        $(
            #[rocket::async_test]
            async fn $check() {
                let Some(fixture) = crate::support::stores::$backend().await else {
                    return;
                };
                super::$check(&fixture).await;
                fixture.cleanup().await;
            }
        )*
    };
}

conformance!(memory);
conformance!(sqlite);
conformance!(redis);
conformance!(redis_cluster);
conformance!(postgres);

/// Records follow their user's slot and locators their session's, so many logins land on
/// every master of the cluster rather than one hot node.
#[rocket::async_test]
async fn cluster_sessions_spread_over_every_master() {
    let Some(fixture) = stores::redis_cluster().await else {
        return;
    };
    let Backend::RedisCluster { seed, prefix } = &fixture.backend else {
        unreachable!()
    };
    for _ in 0..60 {
        let created = fixture
            .store
            .create(new_key(), record_at(now(&fixture), Uuid::new_v4()))
            .await
            .unwrap();
        assert!(created);
    }

    let masters = stores::cluster_masters(seed).await;
    assert!(masters.len() >= 3, "a 3-master cluster: {masters:?}");
    let keys = stores::cluster_keys(seed, prefix).await;
    for master in &masters {
        let records = keys
            .iter()
            .filter(|(node, key)| node == master && key.contains("{u:") && key.contains(":s:"))
            .count();
        assert!(records > 0, "no session record on {master}");
    }
    fixture.cleanup().await;
}
