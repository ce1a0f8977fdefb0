//! Benchmark-only: what the memory store costs per session, as RSS growth.
//!
//! `cargo run --release --example store_memory -- 1000000` fills a fresh `MemoryStore`
//! with that many sessions (a realistic user agent each, four sessions per user) and
//! prints one line: `sessions=N rss_before=B rss_after=B bytes_per_session=X
//! lookup_ns=Y sweep_us=Z` (a random existing key looked up after the fill; one sweep
//! that finds nothing expired, so examines every session).

#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use latchkey::sessions::{MemoryStore, SessionStore};

/// The allocator `latchkey` itself runs with, so its memory figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let store = MemoryStore::new();
    // A few keys to look up afterwards, made before measuring so they do not count.
    let probes: Vec<_> = common::sessions(1000).collect();
    let before = common::proc_status_bytes("VmRSS");
    // Fill in batches so the generator's own allocations are freed as it goes.
    let mut left = count;
    while left > 0 {
        let batch = left.min(10_000);
        store.fill(common::sessions(batch));
        left -= batch;
    }
    let after = common::proc_status_bytes("VmRSS");
    store.fill(probes.iter().cloned());
    let started = Instant::now();
    let rounds = 200_000;
    runtime.block_on(async {
        for n in 0..rounds {
            let (key, _) = &probes[n % probes.len()];
            assert!(store.get(key).await.expect("memory store").is_some());
        }
    });
    let lookup_ns = started.elapsed().as_nanos() / rounds as u128;
    // A sweep that finds nothing expired still examines every session: the longest any
    // request may wait behind it.
    let started = Instant::now();
    let swept = runtime
        .block_on(store.sweep(time::OffsetDateTime::now_utc()))
        .expect("memory store");
    let sweep_us = started.elapsed().as_micros();
    assert_eq!(swept, 0, "fresh sessions are not expired");
    println!(
        "sessions={} rss_before={} rss_after={} bytes_per_session={:.1} lookup_ns={} sweep_us={}",
        store.len() - probes.len(),
        before,
        after,
        after.saturating_sub(before) as f64 / count.max(1) as f64,
        lookup_ns,
        sweep_us,
    );
}
