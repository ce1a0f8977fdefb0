//! Latchkey: session-based authentication done right, on Rocket 0.5 and Tera.
//!
//! [`rocket`] builds the application from the usual configuration; [`build`] does the
//! same from any configuration and clock, which is how the tests drive it.

pub mod auth;
pub mod backends;
pub mod clock;
pub mod config;
pub mod csrf;
pub mod errors;
pub mod exchange_log;
pub mod guards;
mod headers;
pub mod routes;
mod secret_key;
pub mod sessions;
pub mod throttle;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::{Build, Orbit, Rocket};
use rocket_dyn_templates::Template;

use crate::auth::Auth;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::sessions::Sessions;
use crate::users::PasswordHasher;

/// The application as `cargo run` serves it: settings from `Rocket.toml` and `ROCKET_*`
/// variables, the system clock.
pub fn rocket() -> Rocket<Build> {
    build(config::figment(), Arc::new(SystemClock))
}

/// The one place that wires everything. Services that need I/O (database, hasher,
/// secret key) are set up when Rocket ignites, where a failure stops the launch with a
/// message naming the setting at fault.
pub fn build(figment: Figment, clock: Arc<dyn Clock>) -> Rocket<Build> {
    let static_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
    rocket::custom(figment)
        .attach(AdHoc::try_on_ignite("Latchkey services", move |rocket| {
            set_up(rocket, clock)
        }))
        .attach(Template::fairing())
        .attach(headers::shield())
        .attach(headers::SecurityHeaders)
        .attach(AdHoc::on_liftoff("Session sweeper", |rocket| {
            Box::pin(start_sweeper(rocket))
        }))
        .attach(routes::api::TrailingSlash)
        .attach(exchange_log::Recorder)
        .manage(exchange_log::ExchangeLog::default())
        .mount("/", routes::pages::routes())
        .mount("/", routes::inspect::routes())
        .mount("/", routes::account::routes())
        .mount(routes::api::BASE, routes::api::routes())
        .mount("/static", FileServer::from(static_dir))
        .register("/", routes::catchers::catchers())
}

/// Startup errors go to stderr: Rocket's logger starts only after ignite fairings.
// Rocket's ignite-fairing API hands the rocket back in both arms; its size is not ours to pick.
#[allow(clippy::result_large_err)]
fn startup_failure(
    rocket: Rocket<Build>,
    message: impl std::fmt::Display,
) -> Result<Rocket<Build>, Rocket<Build>> {
    eprintln!("Latchkey cannot start: {message}");
    Err(rocket)
}

#[allow(clippy::result_large_err)]
async fn set_up(
    rocket: Rocket<Build>,
    clock: Arc<dyn Clock>,
) -> Result<Rocket<Build>, Rocket<Build>> {
    let settings: Settings = match rocket.figment().extract() {
        Ok(settings) => settings,
        Err(error) => return startup_failure(rocket, format!("invalid configuration: {error}")),
    };
    if let Err(error) = settings.validate() {
        return startup_failure(rocket, error);
    }
    let rocket = match secret_key::ensure(rocket.figment(), &settings.data_dir) {
        Ok(Some(figment)) => rocket.configure(figment),
        Ok(None) => rocket,
        Err(error) => return startup_failure(rocket, error),
    };
    let users = match backends::connect_users(&settings).await {
        Ok(users) => users,
        Err(message) => return startup_failure(rocket, message),
    };
    let hasher = match PasswordHasher::new(&settings).await {
        Ok(hasher) => hasher,
        Err(error) => return startup_failure(rocket, error),
    };
    let store = match backends::open_session_store(&settings, clock.clone()).await {
        Ok(store) => store,
        Err(message) => return startup_failure(rocket, message),
    };
    let throttle = match throttle_from(&rocket, &settings, clock.clone()).await {
        Ok(throttle) => throttle,
        Err(message) => return startup_failure(rocket, message),
    };
    let policy = match password_policy(&rocket).await {
        Ok(policy) => policy,
        Err(message) => return startup_failure(rocket, message),
    };
    let auth = Auth {
        users,
        sessions: Sessions::new(store, clock.clone(), &settings),
        hasher,
        clock,
        policy,
    };
    Ok(rocket.manage(settings).manage(auth).manage(throttle))
}

/// The password policy; its blocklist set is built on the blocking pool.
async fn password_policy(rocket: &Rocket<Build>) -> Result<users::policy::PasswordPolicy, String> {
    let settings: users::policy::PolicySettings = rocket
        .figment()
        .extract()
        .map_err(|error| format!("invalid configuration: {error}"))?;
    rocket::tokio::task::spawn_blocking(move || users::policy::PasswordPolicy::new(&settings))
        .await
        .map_err(|error| format!("building the password policy failed: {error}"))?
}

/// Login and signup throttling, its counters next to the sessions (see `throttle`).
async fn throttle_from(
    rocket: &Rocket<Build>,
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<throttle::Throttle, String> {
    let limits: throttle::ThrottleSettings = rocket
        .figment()
        .extract()
        .map_err(|error| format!("invalid configuration: {error}"))?;
    limits.validate()?;
    let store = throttle::open(settings).await?;
    throttle::Throttle::new(store, clock, limits)
}

/// Expired sessions are refused on sight; this removes the ones nobody comes back for,
/// so the store does not grow without bound. Stops with the server.
async fn start_sweeper(rocket: &Rocket<Orbit>) {
    let (Some(auth), Some(settings)) = (rocket.state::<Auth>(), rocket.state::<Settings>()) else {
        return;
    };
    let sessions = auth.sessions.clone();
    let every = Duration::from_secs(settings.session_sweep_interval);
    let shutdown = rocket.shutdown();
    log::info!(
        "sessions: {} store, idle timeout {}s, absolute timeout {}s; {} concurrent password hashes",
        sessions.store().name(),
        settings.session_idle_timeout,
        settings.session_absolute_timeout,
        auth.hasher.concurrency(),
    );
    if let Some(note) = rocket.state::<secret_key::Generated>() {
        log::warn!("{note}");
    }
    rocket::tokio::spawn(async move {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            rocket::tokio::select! {
                _ = &mut shutdown => break,
                _ = rocket::tokio::time::sleep(every) => {}
            }
            match sessions.sweep().await {
                Ok(0) => {}
                Ok(n) => log::info!("sweep removed {n} expired sessions"),
                Err(error) => log::warn!("session sweep failed: {}", errors::error_chain(&error)),
            }
        }
    });
}
