//! argon2id hashing off the async workers, with bounded concurrency and reused memory.
//!
//! Why this shape: an argon2id hash at OWASP parameters costs ~20 ms of CPU and 19 MiB of
//! memory. Run inline, it stalls every request on that worker; run in unbounded
//! `spawn_blocking`, a login storm occupies every core and each blocking thread keeps its
//! own 19 MiB allocation alive. So hashes wait for one of `permits` slots (one per core by
//! default), run on the blocking pool, and borrow their memory from a pool of exactly
//! `permits` buffers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use parking_lot::Mutex;
use rocket::tokio::sync::Semaphore;
use subtle::ConstantTimeEq;

use super::PasswordHash;
use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("invalid argon2 parameters: {0}")]
    Params(argon2::Error),
    #[error("argon2 failed: {0}")]
    Argon2(argon2::Error),
    #[error("malformed password hash: {0}")]
    Malformed(argon2::password_hash::Error),
    #[error("hashing task failed")]
    Task(#[from] rocket::tokio::task::JoinError),
}

/// Cheap to clone; all clones share one queue and one memory pool.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    permits: Semaphore,
    permit_count: usize,
    memory: Mutex<Vec<Vec<Block>>>,
    /// argon2 computations run so far (hashes and verifications), so operators and tests
    /// can see that a throttled login never reached the hasher.
    runs: AtomicU64,
    /// A hash of a random password with the configured parameters. Verifying against it
    /// when an email is unknown makes "no such user" cost as much as "wrong password"
    /// (OWASP Authentication Cheat Sheet: no account enumeration through timing).
    dummy: PasswordHash,
}

impl PasswordHasher {
    /// # Errors
    /// When the configured argon2 parameters are invalid.
    pub async fn new(settings: &Settings) -> Result<Self, HashError> {
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_parallelism,
            Some(Params::DEFAULT_OUTPUT_LEN),
        )
        .map_err(HashError::Params)?;
        let permit_count = settings.hash_permits();
        let mut inner = Inner {
            params,
            permits: Semaphore::new(permit_count),
            permit_count,
            memory: Mutex::new(Vec::new()),
            runs: AtomicU64::new(0),
            dummy: PasswordHash(String::new()),
        };
        // Startup work, but still ~20 ms of CPU: keep it off the async worker too.
        let inner = rocket::tokio::task::spawn_blocking(move || {
            let random = uuid::Uuid::new_v4().to_string();
            inner.dummy = inner.hash_blocking(random.as_bytes())?;
            Ok::<_, HashError>(inner)
        })
        .await??;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Hashes a new password with a fresh random salt.
    ///
    /// # Errors
    /// Only on an internal argon2 failure.
    pub async fn hash(&self, password: String) -> Result<PasswordHash, HashError> {
        let inner = self.inner.clone();
        let queued = crate::metrics::HashQueued::start();
        let _permit = self.inner.permits.acquire().await.expect("never closed");
        drop(queued);
        let _running = crate::metrics::HashRunning::start();
        rocket::tokio::task::spawn_blocking(move || {
            yield_to_page_views();
            inner.hash_blocking(password.as_bytes())
        })
        .await?
    }

    /// Checks a password against a stored hash, or against the dummy hash when there is
    /// no user (`None`), which always answers `false` but takes just as long.
    ///
    /// # Errors
    /// When the stored hash cannot be parsed or argon2 fails.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<PasswordHash>,
    ) -> Result<bool, HashError> {
        let inner = self.inner.clone();
        let queued = crate::metrics::HashQueued::start();
        let _permit = self.inner.permits.acquire().await.expect("never closed");
        drop(queued);
        let _running = crate::metrics::HashRunning::start();
        crate::metrics::password_verified();
        rocket::tokio::task::spawn_blocking(move || {
            yield_to_page_views();
            let user_exists = stored.is_some();
            let against = stored.unwrap_or_else(|| inner.dummy.clone());
            let matches = inner.verify_blocking(password.as_bytes(), &against)?;
            Ok(matches && user_exists)
        })
        .await?
    }

    /// Whether `stored` was made with weaker argon2id parameters than the configured
    /// ones (or is not argon2id at all), so it should be re-hashed at the next
    /// successful login (OWASP Password Storage Cheat Sheet, "Upgrading the work factor").
    pub fn needs_upgrade(&self, stored: &PasswordHash) -> bool {
        let Ok(phc) = argon2::PasswordHash::new(&stored.0) else {
            return false;
        };
        let Ok(params) = Params::try_from(&phc) else {
            return false;
        };
        let want = &self.inner.params;
        phc.algorithm != argon2::ARGON2ID_IDENT
            || params.m_cost() < want.m_cost()
            || params.t_cost() < want.t_cost()
            || params.p_cost() < want.p_cost()
    }

    /// How many argon2 computations (hashes and verifications) have run since start-up.
    pub fn runs(&self) -> u64 {
        self.inner.runs.load(Ordering::Relaxed)
    }

    /// How many hashes may run at once.
    pub fn concurrency(&self) -> usize {
        self.inner.permit_count
    }
}

impl Inner {
    fn hash_blocking(&self, password: &[u8]) -> Result<PasswordHash, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt
            .decode_b64(&mut salt_bytes)
            .map_err(HashError::Malformed)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.run(&self.params, password, salt_raw, &mut out)?;
        let phc = argon2::PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(HashError::Malformed)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(HashError::Malformed)?),
        };
        Ok(PasswordHash(phc.to_string()))
    }

    fn verify_blocking(&self, password: &[u8], stored: &PasswordHash) -> Result<bool, HashError> {
        let phc = argon2::PasswordHash::new(&stored.0).map_err(HashError::Malformed)?;
        if phc.algorithm != argon2::ARGON2ID_IDENT {
            return Err(HashError::Malformed(
                argon2::password_hash::Error::Algorithm,
            ));
        }
        let params = Params::try_from(&phc).map_err(HashError::Malformed)?;
        let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
            return Err(HashError::Malformed(
                argon2::password_hash::Error::PhcStringField,
            ));
        };
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt
            .decode_b64(&mut salt_bytes)
            .map_err(HashError::Malformed)?;
        let mut out = vec![0u8; expected.len()];
        self.run(&params, password, salt_raw, &mut out)?;
        Ok(bool::from(expected.as_bytes().ct_eq(&out)))
    }

    /// One argon2id computation with a buffer from the pool (or a fresh one when the
    /// stored hash used other parameters than the configured ones).
    fn run(
        &self,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), HashError> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let blocks_needed = params.block_count();
        let pooled = self.memory.lock().pop();
        let mut blocks = match pooled {
            Some(blocks) if blocks.len() == blocks_needed => blocks,
            _ => vec![Block::default(); blocks_needed],
        };
        let result = argon2
            .hash_password_into_with_memory(password, salt, out, &mut blocks)
            .map_err(HashError::Argon2);
        if blocks_needed == self.params.block_count() {
            let mut pool = self.memory.lock();
            if pool.len() < self.permit_count {
                pool.push(blocks);
            }
        }
        result
    }
}

/// Lowers the CPU priority (nice 19, the lowest) of the blocking-pool thread about to
/// hash, so that when hashes and page views compete for a core the scheduler favours the
/// page views: a login taking longer matters less than every page view waiting behind a
/// 13 ms hash slice (bench/run.sh scenario 3). Nice 10 still let page views' p99 reach
/// 2.5-3x their idle p99 during a login storm; at 19 it stayed within 1.6x, with logins
/// still completing (about half as many per second while pages kept both cores busy).
/// Raising nice needs no privilege; lowering it again would, so the thread keeps it
/// (once per thread). Linux only.
fn yield_to_page_views() {
    #[cfg(target_os = "linux")]
    {
        thread_local!(static NICED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
        NICED.with(|niced| {
            if !niced.get() {
                // SAFETY: setpriority has no memory-safety preconditions; on Linux,
                // PRIO_PROCESS with id 0 applies to the calling thread only.
                unsafe {
                    libc::setpriority(libc::PRIO_PROCESS, 0, 19);
                }
                niced.set(true);
            }
        });
    }
}
