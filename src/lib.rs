//! Latchkey: session-based authentication done right, on Rocket 0.5 and Tera.
//!
//! [`rocket`] builds the application from the usual configuration; [`build`] does the
//! same from any configuration and clock, which is how the tests drive it.

pub mod auth;
pub mod backends;
pub mod cli;
pub mod clock;
pub mod config;
pub mod errors;
pub mod fd_limit;
pub mod metrics;
mod postgres_pool;
mod private_files;
pub mod redis_connector;
mod secret_key;
pub mod sessions;
mod sql_errors;
mod sqlite;
mod store_error;
pub mod telemetry;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Orbit, Rocket};

use crate::auth::Auth;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::sessions::cookie::CookieOpener;
use crate::sessions::{SessionStore, Sessions};
use crate::users::{CachedUserRepo, PasswordHasher};
use crate::web::request_log::traced;
use crate::web::{assets, csrf, exchange_log, headers, readiness, routes};

/// The application as `cargo run` serves it: settings from `Rocket.toml` and `ROCKET_*`
/// variables, the system clock.
pub fn rocket() -> Rocket<Build> {
    build(config::figment(), Arc::new(SystemClock))
}

/// The one place that wires everything. Services that need I/O (database, hasher,
/// secret key) are set up when Rocket ignites, where a failure stops the launch with a
/// message naming the setting at fault.
pub fn build(figment: Figment, clock: Arc<dyn Clock>) -> Rocket<Build> {
    build_with_store(figment, clock, None)
}

/// As [`build`], with a session store made beforehand instead of the configured one:
/// benchmarks use it to serve from a prefilled store (`examples/bench_server.rs`).
pub fn build_with_store(
    figment: Figment,
    clock: Arc<dyn Clock>,
    store: Option<Arc<dyn SessionStore>>,
) -> Rocket<Build> {
    let static_files = assets::static_routes(&figment);
    let anon_tokens = csrf::AnonTokens::new(clock.clone());
    rocket::custom(figment)
        .attach(AdHoc::try_on_ignite("Latchkey services", move |rocket| {
            set_up(rocket, clock, store)
        }))
        .attach(assets::templates())
        .attach(headers::shield())
        .attach(headers::SecurityHeaders)
        .attach(AdHoc::on_liftoff("Session sweeper", |rocket| {
            Box::pin(start_sweeper(rocket))
        }))
        .attach(routes::api::TrailingSlash)
        .attach(routes::api::NoMethodOverride)
        .attach(routes::api::open_api_warning())
        .attach(exchange_log::Recorder)
        .attach(web::request_log::RequestLog)
        .manage(exchange_log::ExchangeLog::default())
        .manage(anon_tokens)
        .mount("/", traced(routes::pages::routes()))
        .mount("/", traced(routes::inspect::routes()))
        .mount("/", traced(routes::account::routes()))
        .mount("/", traced(routes::tokens::routes()))
        .mount("/", traced(routes::tamper::routes()))
        .mount("/", traced(readiness::routes()))
        .mount("/", traced(web::metrics::routes()))
        .mount(routes::api::BASE, traced(routes::api::routes()))
        .mount("/static", traced(static_files))
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

/// What the server and the admin command line both run on: the checked settings and the
/// authentication services over the configured users database and session store.
pub struct Services {
    pub settings: Settings,
    pub auth: Auth,
}

/// Builds the services from a configuration without launching Rocket, so the admin
/// command line works on exactly the stores the server uses.
///
/// # Errors
/// One sentence naming the setting at fault (invalid value, unreachable database or store).
pub async fn services(
    figment: &Figment,
    clock: Arc<dyn Clock>,
    given_store: Option<Arc<dyn SessionStore>>,
) -> Result<Services, String> {
    let settings: Settings = figment
        .extract()
        .map_err(|error| format!("invalid configuration: {error}"))?;
    settings.validate().map_err(|error| error.to_string())?;
    let users = backends::connect_users(&settings).await?;
    let hasher = PasswordHasher::new(&settings)
        .await
        .map_err(|error| error.to_string())?;
    let store = match given_store {
        Some(store) => store,
        None => backends::open_session_store(&settings, clock.clone()).await?,
    };
    let policy_settings = password_policy(figment).await?;
    let policy = rocket::tokio::task::spawn_blocking(move || {
        users::policy::PasswordPolicy::new(&policy_settings)
    })
    .await
    .map_err(|error| format!("building the password policy failed: {error}"))??;
    let auth = Auth::new(
        Arc::new(CachedUserRepo::new(users, clock.clone())),
        Sessions::new(store, clock.clone(), &settings),
        hasher,
        clock,
        policy,
    );
    Ok(Services { settings, auth })
}

#[allow(clippy::result_large_err)]
async fn set_up(
    rocket: Rocket<Build>,
    clock: Arc<dyn Clock>,
    given_store: Option<Arc<dyn SessionStore>>,
) -> Result<Rocket<Build>, Rocket<Build>> {
    let Services { settings, auth } =
        match services(rocket.figment(), clock.clone(), given_store).await {
            Ok(services) => services,
            Err(message) => return startup_failure(rocket, message),
        };
    let rocket = match secret_key::ensure(rocket.figment(), &settings.data_dir) {
        Ok(Some(figment)) => rocket.configure(figment),
        Ok(None) => rocket,
        Err(error) => return startup_failure(rocket, error),
    };
    let throttle = match throttle_from(&rocket, &settings, clock.clone()).await {
        Ok(throttle) => throttle,
        Err(message) => return startup_failure(rocket, message),
    };
    let tokens = match tokens::Tokens::from_figment(rocket.figment(), &settings.data_dir, clock) {
        Ok(tokens) => tokens,
        Err(message) => return startup_failure(rocket, message),
    };
    let auth = auth
        .with_tokens(tokens.clone())
        .with_cookie_opener(CookieOpener::from_figment(rocket.figment()));
    Ok(rocket
        .manage(settings)
        .manage(auth)
        .manage(throttle)
        .manage(tokens))
}

/// The password policy; its blocklist set is built on the blocking pool.
async fn password_policy(figment: &Figment) -> Result<users::policy::PolicySettings, String> {
    figment
        .extract()
        .map_err(|error| format!("invalid configuration: {error}"))
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
    let sessions = auth.clone();
    let every = Duration::from_secs(settings.session_sweep_interval);
    let shutdown = rocket.shutdown();
    tracing::info!(
        "sessions: {} store, idle timeout {}s, absolute timeout {}s; {} concurrent password hashes",
        sessions.session_store_name(),
        // The timeouts in force: `SESSION_DURATION` can shorten both.
        settings.idle_timeout().whole_seconds(),
        settings.absolute_timeout().whole_seconds(),
        auth.hash_concurrency(),
    );
    if let Some(note) = rocket.state::<secret_key::Generated>() {
        tracing::warn!("{note}");
    }
    rocket::tokio::spawn(async move {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            rocket::tokio::select! {
                _ = &mut shutdown => break,
                _ = rocket::tokio::time::sleep(every) => {}
            }
            match sessions.sweep_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!("sweep removed {n} expired sessions"),
                Err(error) => {
                    tracing::warn!("session sweep failed: {}", errors::error_chain(&error))
                }
            }
        }
        tracing::info!("session sweep stopped: the server is shutting down");
    });
}
