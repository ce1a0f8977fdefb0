//! Benchmark-only: Latchkey exactly as `target/release/latchkey` serves it, except that
//! the memory store can be filled with generated sessions without any HTTP endpoint, so
//! `bench/run.sh` can measure lookups in a large store. Not part of the production build.
//!
//! - `BENCH_PREFILL=N`: generated sessions in the store before the server starts.
//! - `BENCH_FILL_FILE=path`: while running, when this file appears holding a number N,
//!   N more sessions are added; then `path.done` is written holding the store size and
//!   the process's RSS before and after the fill (`len rss_before rss_after`).

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use latchkey::clock::SystemClock;
use latchkey::sessions::{MemoryStore, SessionStore};

/// The allocator `latchkey` itself runs with, so its memory figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fill(store: &MemoryStore, count: usize) {
    let mut left = count;
    while left > 0 {
        let batch = left.min(10_000);
        store.fill(common::sessions(batch));
        left -= batch;
    }
}

/// Polls for the fill request; bounded only by the process's life (it is a daemon thread).
fn watch(store: Arc<MemoryStore>, path: PathBuf) {
    let done = path.with_extension("done");
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(count) = text.trim().parse::<usize>() else {
            continue;
        };
        let _ = std::fs::remove_file(&path);
        let before = common::proc_status_bytes("VmRSS");
        fill(&store, count);
        let after = common::proc_status_bytes("VmRSS");
        let report = format!("{} {before} {after}\n", store.len());
        let _ = std::fs::write(&done, report);
    }
}

#[rocket::main]
async fn main() -> Result<(), Box<rocket::Error>> {
    let store = Arc::new(MemoryStore::new());
    let prefill = std::env::var("BENCH_PREFILL")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    fill(&store, prefill);
    if let Some(path) = std::env::var_os("BENCH_FILL_FILE") {
        let store = store.clone();
        std::thread::spawn(move || watch(store, PathBuf::from(path)));
    }
    let shared: Arc<dyn SessionStore> = store;
    latchkey::build_with_store(
        latchkey::config::figment(),
        Arc::new(SystemClock),
        Some(shared),
    )
    .launch()
    .await
    .map_err(Box::new)?;
    Ok(())
}
