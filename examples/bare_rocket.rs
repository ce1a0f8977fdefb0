//! Benchmark-only: a bare Rocket serving `GET /health` ("ok") with exactly the Rocket
//! settings Latchkey runs with (`latchkey::config::figment()`: `Rocket.toml` plus
//! `ROCKET_*`, so the same address, workers, limits and log level) and the same log
//! subscriber and allocator, but no fairings, no state and no other routes.
//! `bench/run.sh` measures Latchkey's `/health` against it in the same run: the
//! difference is what Latchkey's fairings (request id, request log, metrics, exchange
//! log, security headers, trailing-slash handling) cost every request.

use rocket::{get, routes};

/// The same allocator as Latchkey's binary, so the comparison is of fairings alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[get("/health")]
fn health() -> &'static str {
    "ok"
}

#[rocket::main]
async fn main() -> Result<(), Box<rocket::Error>> {
    let figment = latchkey::config::figment();
    let level = figment
        .extract_inner::<String>("log_level")
        .unwrap_or_else(|_| "normal".to_owned());
    if let Err(message) = latchkey::telemetry::init(Default::default(), &level) {
        eprintln!("bare_rocket: {message}");
    }
    rocket::custom(figment)
        .mount("/", routes![health])
        .launch()
        .await
        .map_err(Box::new)?;
    Ok(())
}
