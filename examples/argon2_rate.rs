//! Benchmark-only: the raw argon2id verify rate with Latchkey's configured parameters,
//! outside the web server, so `bench/run.sh` can tell what login capacity is possible.
//!
//! `cargo run --release --example argon2_rate -- SECONDS THREADS` verifies one password
//! in a loop (one reused memory buffer per thread, as Latchkey does) and prints
//! `params=m,t,p threads=T single_per_s=X parallel_per_s=Y`: the rate of one thread
//! alone, then of `THREADS` threads at once.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use latchkey::config::Settings;

fn verifies_per_second(params: &Params, seconds: f64) -> f64 {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut blocks = vec![Block::default(); params.block_count()];
    let mut out = [0u8; 32];
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut done = 0u32;
    while done == 0 || Instant::now() < deadline {
        argon2
            .hash_password_into_with_memory(
                b"correct horse battery",
                b"sixteen byte salt",
                &mut out,
                &mut blocks,
            )
            .expect("argon2");
        done += 1;
    }
    f64::from(done) / started.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let settings: Settings = latchkey::config::figment().extract().unwrap_or_default();
    let threads: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| settings.hash_permits());
    let params = Params::new(
        settings.argon2_memory_kib,
        settings.argon2_iterations,
        settings.argon2_parallelism,
        None,
    )
    .expect("valid argon2 parameters");
    let single = verifies_per_second(&params, seconds);
    let parallel: f64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| verifies_per_second(&params, seconds)))
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    println!(
        "params={},{},{} threads={threads} single_per_s={single:.1} parallel_per_s={parallel:.1}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
    );
}
