//! What only the Redis store promises beyond the shared contract: its key layout, TTLs
//! that follow the session's earliest deadline, and lazy cleanup of the per-user index.
//! Runs when `REDIS_URL` is set.

use crate::support::stores;

use latchkey::config::Settings;
use latchkey::sessions::{RedisSessionStore, SessionStore};
use redis::AsyncCommands;
use time::Duration;
use uuid::Uuid;

use crate::support::stores::{Backend, Fixture};

fn parts(fx: &Fixture) -> (&str, &str) {
    match &fx.backend {
        Backend::Redis { url, prefix } => (url, prefix),
        _ => unreachable!(),
    }
}

#[rocket::async_test]
async fn a_session_lives_under_prefix_and_hashed_id_with_its_idle_ttl() {
    let Some(fx) = stores::redis().await else {
        return;
    };
    let (url, prefix) = parts(&fx);
    let (id, _) = fx
        .sessions()
        .start(Uuid::new_v4(), 0, None, None)
        .await
        .unwrap();
    let mut redis = stores::redis_connection(url).await;

    let key = format!("{prefix}{}", id.key().to_hex());
    let ttl: i64 = redis.ttl(&key).await.unwrap();

    // Idle timeout 1800 s is the earliest deadline.
    assert!((1795..=1800).contains(&ttl), "ttl {ttl}");
    let stored: String = redis.get(&key).await.unwrap();
    assert!(stored.contains("\"user_id\""));
    fx.cleanup().await;
}

#[rocket::async_test]
async fn touch_resets_the_ttl_to_the_new_earliest_deadline() {
    let Some(fx) = stores::redis().await else {
        return;
    };
    let (url, prefix) = (parts(&fx).0.to_owned(), parts(&fx).1.to_owned());
    let settings = Settings {
        session_idle_timeout: 600,
        session_absolute_timeout: 1000,
        ..Settings::default()
    };
    let sessions = fx.sessions_with(&settings);
    let (id, _) = sessions.start(Uuid::new_v4(), 0, None, None).await.unwrap();
    let key = format!("{prefix}{}", id.key().to_hex());
    let mut redis = stores::redis_connection(&url).await;

    // 500 s later a request touches it: the idle deadline would be 1100 s, but the
    // absolute deadline (1000 s) comes first, 500 s from now.
    fx.clock.advance(Duration::seconds(500));
    assert!(sessions.resolve(&id).await.unwrap().is_some());

    let ttl: i64 = redis.ttl(&key).await.unwrap();
    assert!((495..=500).contains(&ttl), "ttl {ttl}");
    fx.cleanup().await;
}

#[rocket::async_test]
async fn sessions_redis_expired_are_dropped_from_the_user_index_when_listed() {
    let Some(fx) = stores::redis().await else {
        return;
    };
    let (url, prefix) = (parts(&fx).0.to_owned(), parts(&fx).1.to_owned());
    let user = Uuid::new_v4();
    let sessions = fx.sessions();
    let (gone, _) = sessions.start(user, 0, None, None).await.unwrap();
    let (kept, _) = sessions.start(user, 0, None, None).await.unwrap();
    let mut redis = stores::redis_connection(&url).await;
    // What Redis does when a TTL runs out.
    let _: i64 = redis
        .del(format!("{prefix}{}", gone.key().to_hex()))
        .await
        .unwrap();

    let listed = fx.store.list_for_user(user).await.unwrap();

    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, kept.key());
    let members: Vec<String> = redis
        .smembers(format!("{prefix}user:{user}"))
        .await
        .unwrap();
    assert_eq!(members, vec![format!("{prefix}{}", kept.key().to_hex())]);
    fx.cleanup().await;
}

#[rocket::async_test]
async fn two_prefixes_on_one_redis_do_not_see_each_other() {
    let Some(fx) = stores::redis().await else {
        return;
    };
    let url = parts(&fx).0.to_owned();
    let other_prefix = stores::unique_prefix();
    let other =
        RedisSessionStore::connect(&url, &other_prefix, std::sync::Arc::new(fx.clock.clone()))
            .await
            .unwrap();
    let user = Uuid::new_v4();
    let (id, _) = fx.sessions().start(user, 0, None, None).await.unwrap();

    assert_eq!(other.get(&id.key()).await.unwrap(), None);
    assert!(other.list_for_user(user).await.unwrap().is_empty());
    assert_eq!(other.delete_for_user(user).await.unwrap(), 0);
    assert!(fx.store.get(&id.key()).await.unwrap().is_some());
    fx.cleanup().await;
    stores::redis_cleanup(&url, &other_prefix).await;
}
