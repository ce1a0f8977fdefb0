//! Login and signup throttling: failed logins counted per account and per client
//! address, in the configured backend (memory, SQLite or Redis), so several instances
//! share the counters.
//!
//! Why this shape (OWASP Authentication Cheat Sheet, "Protect against automated attacks";
//! ASVS 4.0 2.2.1; NIST SP 800-63B rev 4 §3.2.2 "Rate limiting"):
//! - The lock is keyed by (account, address): an attacker guessing one person's password
//!   locks only their own address out of that account; the person still logs in from
//!   anywhere else. Only failures count, and a success clears the pair's counter.
//! - Every address has an overall failure budget, whatever accounts it tries: this is
//!   what stops credential stuffing (many accounts from few addresses).
//! - Every account has a failure budget across all addresses. Past it the account is not
//!   locked (that would let anyone lock anyone out): each (account, address) pair just
//!   gets a single try per window instead of the usual few, which bounds a distributed
//!   guess while a real person from a fresh address still gets in.
//! - Lockouts grow: each time a pair is locked, its next window doubles, up to
//!   `login_max_lockout`.
//! - Past a limit the answer is 429 with `Retry-After`, and the password hash is not run.
//!
//! Counters are fixed windows that start at the first counted attempt, judged against the
//! injected clock so tests move time instead of sleeping.

mod memory;
mod postgres;
mod redis;
mod sqlite;

use std::net::IpAddr;
use std::sync::Arc;

use rocket::async_trait;
use rocket::request::{FromRequest, Outcome, Request};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use memory::MemoryThrottleStore;
pub use postgres::PostgresThrottleStore;
pub use redis::RedisThrottleStore;
pub use sqlite::SqliteThrottleStore;

use crate::clock::Clock;
use crate::config::{SessionStoreKind, Settings};
use crate::errors::AppError;
use crate::sessions::StoreError;
use crate::users::validate::normalize_email;

/// A counter's state: how many attempts in the current window, and when it ends (unix
/// seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub count: i64,
    pub resets_at: i64,
}

/// Where counters live. Each backend keeps fixed windows judged by the `now` it is given.
#[async_trait]
pub trait ThrottleStore: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Adds `delta` to the counter. When no window is running (none yet, or it ended at
    /// or before `now`), a positive `delta` starts one lasting `window` seconds; a
    /// negative one changes nothing. Counts never go below zero. Atomic per key.
    async fn add(&self, key: &str, delta: i64, now: i64, window: i64) -> Result<Count, StoreError>;

    /// The running window's count, or `None` when no window is running at `now`.
    async fn get(&self, key: &str, now: i64) -> Result<Option<Count>, StoreError>;

    /// Forgets the counter.
    async fn clear(&self, key: &str) -> Result<(), StoreError>;
}

/// Every throttling limit, read from the same configuration as [`Settings`]
/// (`Rocket.toml`, `ROCKET_*`). A limit of 0 turns that limit off.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ThrottleSettings {
    /// Failed logins allowed per (account, address) in `login_failure_window`
    /// (OWASP Authentication Cheat Sheet / ASVS 2.2.1: a handful, then lock).
    pub login_failures_per_account_address: i64,
    /// Failed logins allowed per account from all addresses together in
    /// `login_failure_window`; past it each (account, address) pair gets one try.
    pub login_failures_per_account: i64,
    /// Seconds a login failure window lasts (the first lockout's length).
    pub login_failure_window: i64,
    /// Longest a repeated (account, address) lockout can grow to, in seconds.
    pub login_max_lockout: i64,
    /// Failed logins allowed per client address, any accounts, in `login_address_window`.
    pub login_failures_per_address: i64,
    /// Seconds the per-address login window lasts.
    pub login_address_window: i64,
    /// Signup attempts allowed per client address in `signup_window`.
    pub signups_per_address: i64,
    /// Seconds the signup window lasts.
    pub signup_window: i64,
    /// Proxies (IP addresses or CIDR ranges) whose `X-Forwarded-For` / `X-Real-IP` is
    /// believed. Empty (the default): the TCP peer address is the client, always.
    pub trusted_proxies: Vec<String>,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            login_failures_per_account_address: 5,
            login_failures_per_account: 20,
            login_failure_window: 15 * 60,
            login_max_lockout: 24 * 60 * 60,
            login_failures_per_address: 100,
            login_address_window: 60 * 60,
            signups_per_address: 20,
            signup_window: 60 * 60,
            trusted_proxies: Vec::new(),
        }
    }
}

impl ThrottleSettings {
    /// Refuses windows that cannot work and proxy entries that do not parse.
    ///
    /// # Errors
    /// A sentence naming the setting at fault.
    pub fn validate(&self) -> Result<Vec<IpNet>, String> {
        let positive = [
            ("login_failure_window", self.login_failure_window),
            ("login_max_lockout", self.login_max_lockout),
            ("login_address_window", self.login_address_window),
            ("signup_window", self.signup_window),
        ];
        for (key, value) in positive {
            if !(1..=365 * 24 * 3600).contains(&value) {
                return Err(format!(
                    "invalid setting `{key}`: must be between 1 second and a year"
                ));
            }
        }
        let limits = [
            (
                "login_failures_per_account_address",
                self.login_failures_per_account_address,
            ),
            (
                "login_failures_per_account",
                self.login_failures_per_account,
            ),
            (
                "login_failures_per_address",
                self.login_failures_per_address,
            ),
            ("signups_per_address", self.signups_per_address),
        ];
        for (key, value) in limits {
            if value < 0 {
                return Err(format!("invalid setting `{key}`: must be 0 (off) or more"));
            }
        }
        self.trusted_proxies
            .iter()
            .map(|entry| {
                IpNet::parse(entry).ok_or_else(|| {
                    format!(
                        "invalid setting `trusted_proxies`: {entry:?} is not an IP address or CIDR range"
                    )
                })
            })
            .collect()
    }
}

/// An IP address range (`10.0.0.0/8`, `::1/128`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr.parse::<IpAddr>().ok()?, Some(prefix.parse().ok()?)),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u32::from(net).into(), 32, self.prefix)
                    == mask(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(net.into(), 128, self.prefix) == mask(ip.into(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn mask(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits >> (width - prefix)
    }
}

/// `::ffff:1.2.3.4` is the IPv4 client 1.2.3.4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client address a request is counted under. IPv6 clients are counted per /64:
/// one subscriber usually holds a whole /64, and would otherwise get a fresh budget per
/// address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    pub fn from_ip(ip: Option<IpAddr>) -> Self {
        Self(match ip.map(canonical) {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            None => "unknown".to_owned(),
        })
    }

    /// The TCP peer, unless it is a trusted proxy: then the right-most address in
    /// `X-Forwarded-For` that is not a trusted proxy (entries to its left are whatever
    /// the client claimed), else Rocket's `X-Real-IP` reading. Rocket's own
    /// `client_ip()` believes `X-Real-IP` from anyone, which would let an attacker pick a
    /// fresh address per request; so it is consulted only behind a trusted proxy.
    pub fn of(request: &Request<'_>, trusted: &[IpNet]) -> Self {
        let peer = request.remote().map(|addr| addr.ip());
        let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
        let Some(peer) = peer.filter(|ip| is_trusted(*ip)) else {
            return Self::from_ip(peer);
        };
        let forwarded: Vec<IpAddr> = request
            .headers()
            .get("X-Forwarded-For")
            .flat_map(|value| value.split(','))
            .filter_map(|part| part.trim().parse().ok())
            .collect();
        if let Some(client) = forwarded.iter().rev().find(|ip| !is_trusted(**ip)) {
            return Self::from_ip(Some(*client));
        }
        Self::from_ip(request.real_ip().or(Some(peer)))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let trusted = request
            .rocket()
            .state::<Throttle>()
            .map(Throttle::trusted)
            .unwrap_or_default();
        Outcome::Success(Self::of(request, trusted))
    }
}

/// What a login or signup handler needs: the throttle and who is asking.
pub struct Gate<'r> {
    pub throttle: &'r Throttle,
    pub client: ClientAddr,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Gate<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        match request.rocket().state::<Throttle>() {
            Some(throttle) => Outcome::Success(Gate {
                throttle,
                client: ClientAddr::of(request, throttle.trusted()),
            }),
            None => Outcome::Error((rocket::http::Status::InternalServerError, ())),
        }
    }
}

impl Gate<'_> {
    /// [`Throttle::begin_login`] for this client.
    ///
    /// # Errors
    /// As [`Throttle::begin_login`].
    pub async fn begin_login(&self, email: &str) -> Result<LoginAttempt, AppError> {
        self.throttle.begin_login(&self.client, email).await
    }

    /// [`Throttle::finish_login`].
    ///
    /// # Errors
    /// As [`Throttle::finish_login`].
    pub async fn finish_login(
        &self,
        attempt: LoginAttempt,
        succeeded: bool,
    ) -> Result<(), AppError> {
        self.throttle.finish_login(attempt, succeeded).await
    }

    /// [`Throttle::check_signup`] for this client.
    ///
    /// # Errors
    /// As [`Throttle::check_signup`].
    pub async fn check_signup(&self) -> Result<(), AppError> {
        self.throttle.check_signup(&self.client).await
    }
}

/// A password check the throttle let through and counted: settle it with
/// [`Throttle::finish_login`] once the password has been checked.
#[must_use = "an attempt is settled with finish_login"]
pub struct LoginAttempt {
    now: i64,
    address_key: String,
    pair_key: String,
    strikes_key: String,
    account_key: String,
    pair: Option<Count>,
}

/// Seconds a throttled client should wait, kept in request-local state so the error
/// page (or the 429 catcher) can send `Retry-After`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryAfter(pub u64);

/// The throttling policy over one store, managed as Rocket state.
#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn ThrottleStore>,
    clock: Arc<dyn Clock>,
    limits: ThrottleSettings,
    trusted: Vec<IpNet>,
}

/// A short, stable, non-reversible name for an account in counter keys, so a dump of
/// the counters does not list who is being attacked.
fn account_id(email: &str) -> String {
    let email = normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    hex::encode(&Sha256::digest(email.as_bytes())[..16])
}

impl Throttle {
    /// # Errors
    /// When a setting is invalid.
    pub fn new(
        store: Arc<dyn ThrottleStore>,
        clock: Arc<dyn Clock>,
        limits: ThrottleSettings,
    ) -> Result<Self, String> {
        let trusted = limits.validate()?;
        Ok(Self {
            store,
            clock,
            limits,
            trusted,
        })
    }

    /// The proxies whose forwarding headers are believed.
    pub fn trusted(&self) -> &[IpNet] {
        &self.trusted
    }

    pub fn store(&self) -> &Arc<dyn ThrottleStore> {
        &self.store
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn refuse(&self, count: Count, now: i64) -> AppError {
        AppError::Throttled {
            retry_after: (count.resets_at - now).max(1) as u64,
        }
    }

    /// Counts a password check for `email` from this client, unless this client (or this
    /// client on this account) is over its failure budget: then [`AppError::Throttled`]
    /// comes back and the caller must not run the password hash. Logins and the
    /// current-password check of a password change share these counters.
    ///
    /// Attempts are counted before the hash runs and a success takes its count back
    /// ([`Throttle::finish_login`]), so a burst of parallel guesses cannot all slip
    /// through before the first is counted, and the hashing one account can cause from
    /// one address is bounded by its budget.
    ///
    /// # Errors
    /// [`AppError::Throttled`] (429), or a store failure.
    pub async fn begin_login(
        &self,
        client: &ClientAddr,
        email: &str,
    ) -> Result<LoginAttempt, AppError> {
        let limits = &self.limits;
        let now = self.now();
        let account = account_id(email);
        let address_key = format!("login:addr:{}", client.0);
        let pair_key = format!("login:pair:{account}:{}", client.0);
        let strikes_key = format!("login:strikes:{account}:{}", client.0);
        let account_key = format!("login:acct:{account}");

        if limits.login_failures_per_address > 0 {
            let count = self
                .store
                .add(&address_key, 1, now, limits.login_address_window)
                .await?;
            if count.count > limits.login_failures_per_address {
                return Err(self.refuse(count, now));
            }
        }
        let pair_limit = limits.login_failures_per_account_address;
        let mut pair = None;
        if pair_limit > 0 {
            let under_attack = limits.login_failures_per_account > 0
                && self
                    .store
                    .get(&account_key, now)
                    .await?
                    .is_some_and(|c| c.count >= limits.login_failures_per_account);
            let allowance = if under_attack { 1 } else { pair_limit };
            let strikes = self
                .store
                .get(&strikes_key, now)
                .await?
                .map_or(0, |c| c.count);
            let window = lockout_window(limits, strikes);
            let count = self.store.add(&pair_key, 1, now, window).await?;
            if count.count > allowance {
                self.forget_attempt(&address_key, now).await?;
                return Err(self.refuse(count, now));
            }
            pair = Some(count);
        }
        Ok(LoginAttempt {
            now,
            address_key,
            pair_key,
            strikes_key,
            account_key,
            pair,
        })
    }

    /// Settles a counted attempt: a success gives the attempt back and clears the
    /// pair's record; a failure counts against the account (and may lengthen the pair's
    /// next lockout).
    ///
    /// # Errors
    /// A store failure.
    pub async fn finish_login(
        &self,
        attempt: LoginAttempt,
        succeeded: bool,
    ) -> Result<(), AppError> {
        let limits = &self.limits;
        let now = attempt.now;
        if succeeded {
            self.forget_attempt(&attempt.address_key, now).await?;
            self.store.clear(&attempt.pair_key).await?;
            self.store.clear(&attempt.strikes_key).await?;
        } else {
            if limits.login_failures_per_account > 0 {
                self.store
                    .add(&attempt.account_key, 1, now, limits.login_failure_window)
                    .await?;
            }
            let pair_limit = limits.login_failures_per_account_address;
            if attempt.pair.is_some_and(|c| c.count == pair_limit) {
                // This failure used up the pair's budget: the next lockout lasts longer.
                self.store
                    .add(
                        &attempt.strikes_key,
                        1,
                        now,
                        limits.login_max_lockout.max(86_400),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn forget_attempt(&self, address_key: &str, now: i64) -> Result<(), StoreError> {
        if self.limits.login_failures_per_address > 0 {
            self.store
                .add(address_key, -1, now, self.limits.login_address_window)
                .await?;
        }
        Ok(())
    }

    /// Counts a signup attempt from `client`.
    ///
    /// # Errors
    /// [`AppError::Throttled`] past `signups_per_address` in `signup_window`, or a store
    /// failure.
    pub async fn check_signup(&self, client: &ClientAddr) -> Result<(), AppError> {
        let limit = self.limits.signups_per_address;
        if limit == 0 {
            return Ok(());
        }
        let now = self.now();
        let count = self
            .store
            .add(
                &format!("signup:addr:{}", client.0),
                1,
                now,
                self.limits.signup_window,
            )
            .await?;
        if count.count > limit {
            return Err(self.refuse(count, now));
        }
        Ok(())
    }
}

/// The pair's window: `login_failure_window`, doubled for each earlier lockout, at most
/// `login_max_lockout`.
fn lockout_window(limits: &ThrottleSettings, strikes: i64) -> i64 {
    let doubled = limits
        .login_failure_window
        .saturating_mul(1_i64 << strikes.clamp(0, 30));
    doubled.min(limits.login_max_lockout.max(limits.login_failure_window))
}

/// Opens the counters' store next to the sessions (`session_store`): memory, a SQLite
/// file `<data_dir>/throttle.db`, the sessions' PostgreSQL schema, or the sessions' Redis
/// (one server or the cluster) under `<prefix>throttle:`.
///
/// # Errors
/// A message naming the setting at fault.
pub async fn open(settings: &Settings) -> Result<Arc<dyn ThrottleStore>, String> {
    match settings.store_kind() {
        SessionStoreKind::Memory => Ok(Arc::new(MemoryThrottleStore::new())),
        SessionStoreKind::Sqlite => {
            let path = settings.data_dir.join(sqlite::FILE_NAME);
            SqliteThrottleStore::open(&path)
                .await
                .map(|s| Arc::new(s) as _)
                .map_err(|error| {
                    format!(
                        "cannot open the throttling database {} (setting `data_dir`): {}",
                        path.display(),
                        crate::errors::error_chain(&error)
                    )
                })
        }
        SessionStoreKind::Postgres => {
            let url = settings.database_url();
            PostgresThrottleStore::connect(&url, &settings.postgres_session_schema)
                .await
                .map(|s| Arc::new(s) as _)
                .map_err(|error| {
                    format!(
                        "cannot open PostgreSQL for throttling (setting `database_url` = {}): {}",
                        crate::redis_connector::redact_url(&url),
                        crate::errors::error_chain(&error)
                    )
                })
        }
        SessionStoreKind::Redis | SessionStoreKind::RedisCluster => {
            let (target, setting) = crate::redis_connector::redis_target(settings);
            RedisThrottleStore::connect(&target, &format!("{}throttle:", settings.redis_key_prefix))
                .await
                .map(|s| Arc::new(s) as _)
                .map_err(|error| {
                    format!(
                        "cannot reach Redis for throttling ({setting}): {}",
                        crate::errors::error_chain(&error)
                    )
                })
        }
    }
}
