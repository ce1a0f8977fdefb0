//! The `ThrottleStore` contract, run against every backend: memory and SQLite always,
//! Redis when `REDIS_URL` is set, a Redis Cluster when `REDIS_CLUSTER_NODES` is set,
//! PostgreSQL when `DATABASE_URL` is set. Windows are judged by the `now` passed in, so nothing
//! sleeps.

use crate::support::stores;

use std::sync::Arc;

use latchkey::redis_connector::RedisTarget;
use latchkey::throttle::{
    Count, MemoryThrottleStore, PostgresThrottleStore, RedisThrottleStore, SqliteThrottleStore,
    ThrottleStore,
};

const NOW: i64 = 1_800_000_000;

async fn counts_within_a_window(store: &dyn ThrottleStore) {
    assert_eq!(store.get("k", NOW).await.unwrap(), None);
    let first = store.add("k", 1, NOW, 900).await.unwrap();
    assert_eq!(
        first,
        Count {
            count: 1,
            resets_at: NOW + 900
        }
    );
    let second = store.add("k", 1, NOW + 100, 900).await.unwrap();
    assert_eq!(
        second,
        Count {
            count: 2,
            resets_at: NOW + 900
        }
    );
    assert_eq!(store.get("k", NOW + 899).await.unwrap(), Some(second));
    assert_eq!(store.get("other", NOW).await.unwrap(), None);
}

async fn a_new_window_starts_when_the_old_one_ends(store: &dyn ThrottleStore) {
    store.add("k", 3, NOW, 900).await.unwrap();
    assert_eq!(store.get("k", NOW + 900).await.unwrap(), None);
    let fresh = store.add("k", 1, NOW + 900, 60).await.unwrap();
    assert_eq!(
        fresh,
        Count {
            count: 1,
            resets_at: NOW + 960
        }
    );
}

async fn taking_back_never_goes_below_zero_or_starts_a_window(store: &dyn ThrottleStore) {
    assert_eq!(store.add("k", -1, NOW, 900).await.unwrap().count, 0);
    assert_eq!(store.get("k", NOW).await.unwrap(), None);
    store.add("k", 1, NOW, 900).await.unwrap();
    store.add("k", -1, NOW, 900).await.unwrap();
    assert_eq!(store.add("k", -1, NOW, 900).await.unwrap().count, 0);
}

async fn clear_forgets(store: &dyn ThrottleStore) {
    store.add("k", 4, NOW, 900).await.unwrap();
    store.clear("k").await.unwrap();
    assert_eq!(store.get("k", NOW).await.unwrap(), None);
    store.clear("never-set").await.unwrap();
}

async fn concurrent_adds_are_all_counted(store: Arc<dyn ThrottleStore>) {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            rocket::tokio::spawn(async move { store.add("k", 1, NOW, 900).await })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap().unwrap().count);
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=50).collect::<Vec<_>>(),
        "each add saw its own count"
    );
}

macro_rules! conformance {
    ($backend:ident, $make:expr) => {
        mod $backend {
            conformance!(@tests $make;
                counts_within_a_window,
                a_new_window_starts_when_the_old_one_ends,
                taking_back_never_goes_below_zero_or_starts_a_window,
                clear_forgets,
            );

            #[rocket::async_test]
            async fn concurrent_adds_are_all_counted() {
                let Some((store, _guard)) = $make else { return };
                super::concurrent_adds_are_all_counted(store).await;
            }
        }
    };
    (@tests $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[rocket::async_test]
            async fn $check() {
                let Some((store, _guard)) = $make else { return };
                super::$check(store.as_ref()).await;
            }
        )*
    };
}

/// Keeps a backend's resources (temp dir, Redis keys) for the test's duration.
enum Guard {
    None,
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema(#[allow(dead_code)] stores::DropSchema),
}

async fn memory() -> Option<(Arc<dyn ThrottleStore>, Guard)> {
    Some((Arc::new(MemoryThrottleStore::new()), Guard::None))
}

async fn sqlite() -> Option<(Arc<dyn ThrottleStore>, Guard)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteThrottleStore::open(&dir.path().join("throttle.db"))
        .await
        .unwrap();
    Some((Arc::new(store), Guard::Dir(dir)))
}

/// Each Redis test gets its own key prefix (expired by Redis with the windows).
async fn redis() -> Option<(Arc<dyn ThrottleStore>, Guard)> {
    let url = stores::redis_url()?;
    let store = RedisThrottleStore::connect(&RedisTarget::Single(url), &stores::unique_prefix())
        .await
        .unwrap();
    Some((Arc::new(store), Guard::None))
}

/// The same counters on a Redis Cluster: each counter is one key, so one slot.
async fn redis_cluster() -> Option<(Arc<dyn ThrottleStore>, Guard)> {
    let nodes = stores::redis_cluster_nodes()?;
    let store = RedisThrottleStore::connect(&RedisTarget::Cluster(nodes), &stores::unique_prefix())
        .await
        .unwrap();
    Some((Arc::new(store), Guard::None))
}

/// Counters in a PostgreSQL schema of the test's own, dropped afterwards.
async fn postgres() -> Option<(Arc<dyn ThrottleStore>, Guard)> {
    let url = stores::database_url()?;
    let schema = stores::unique_schema_name();
    let store = PostgresThrottleStore::connect(&url, &schema).await.unwrap();
    Some((
        Arc::new(store),
        Guard::Schema(stores::DropSchema { url, name: schema }),
    ))
}

conformance!(memory_store, super::memory().await);
conformance!(sqlite_store, super::sqlite().await);
conformance!(redis_store, super::redis().await);
conformance!(redis_cluster_store, super::redis_cluster().await);
conformance!(postgres_store, super::postgres().await);
