//! A Redis Cluster node restarts under a running instance: requests get a prompt 503
//! while its slots are down, and once it is back the same session works again (the node
//! kept it in its append-only file). Its own test binary, because the outage takes the
//! whole test cluster down for a moment. Runs when `REDIS_CLUSTER_NODES` is set (see
//! `.ci/redis-cluster`, whose nodes write a `redis.conf` this test restarts them from).

mod support;

use std::time::{Duration, Instant};

use latchkey::clock::ManualClock;
use rocket::http::Status;

use support::instances::{self, profile_status, sign_up};

/// The master holding the (only) session record under `prefix`.
async fn node_with_the_record(seed: &str, prefix: &str) -> String {
    let keys = support::stores::cluster_keys(seed, prefix).await;
    keys.into_iter()
        .find(|(_, key)| key.contains("{u:") && key.contains(":s:"))
        .map(|(node, _)| node)
        .expect("the session record")
}

#[rocket::async_test]
async fn a_node_restart_is_a_503_while_its_slots_are_down_then_recovers() {
    let Some(nodes) = support::stores::redis_cluster_nodes() else {
        return;
    };
    let prefix = support::stores::unique_prefix();
    let dir = tempfile::tempdir().unwrap();
    let settings = [
        ("session_store", "redis_cluster"),
        (
            "redis_cluster_nodes",
            &support::stores::cluster_nodes_setting(&nodes),
        ),
        ("redis_key_prefix", &prefix),
    ];
    let client = instances::client(
        instances::figment(dir.path(), &settings),
        &ManualClock::starting_now(),
    )
    .await;
    let cookie = sign_up(&client, "nod@example.com").await;
    assert_eq!(profile_status(&client, &cookie).await, Status::Ok);

    let node = node_with_the_record(&nodes[0], &prefix).await;
    let mut admin = support::stores::redis_connection(&node).await;
    let (_, node_dir): (String, String) = redis::cmd("CONFIG")
        .arg("GET")
        .arg("dir")
        .query_async(&mut admin)
        .await
        .unwrap();
    let config = std::path::Path::new(&node_dir).join("redis.conf");
    if !config.exists() {
        eprintln!("skipped: {node} was not started by .ci/redis-cluster (no {config:?})");
        return;
    }
    // SHUTDOWN (not NOSAVE) flushes the append-only file, as a clean restart would.
    let _ = redis::cmd("SHUTDOWN").query_async::<()>(&mut admin).await;
    drop(admin);

    let started = Instant::now();
    let status = profile_status(&client, &cookie).await;
    assert_eq!(status, Status::ServiceUnavailable);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "503 took {:?}",
        started.elapsed()
    );

    let restarted = std::process::Command::new("redis-server")
        .arg(&config)
        .status()
        .expect("run redis-server");
    assert!(restarted.success());

    let started = Instant::now();
    loop {
        let status = profile_status(&client, &cookie).await;
        if status == Status::Ok {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still {status} 30 s after the node came back"
        );
        rocket::tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(client);
    support::stores::redis_cluster_cleanup(&nodes[0], &prefix).await;
}
