//! Bearer tokens (JWT, HS256), shown beside sessions for contrast.
//!
//! A session id is only a name for data the server keeps, so the server can end it at
//! any moment. A token carries its data itself (signed, not encrypted: anyone holding it
//! can read the payload) and the server keeps nothing, so it stays valid until its `exp`
//! whatever happens to the session, the password or the account. `jwt_denylist = true`
//! makes the server remember revoked token ids until they expire: server-side state
//! again, i.e. the session's trade-off come back.
//!
//! Expiry is checked against the injected [`Clock`], not the system time, so tests move
//! time instead of sleeping.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parking_lot::Mutex;
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;
use crate::errors::AppError;
use crate::users::User;

/// File in the data directory holding the generated signing key.
const KEY_FILE: &str = "jwt_secret";

/// The token settings (`Rocket.toml` / `ROCKET_JWT_*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TokenSettings {
    /// HMAC key for signing tokens. Unset: generated once into `<data_dir>/jwt_secret`
    /// (mode 0600). Several instances must share it. Never the cookie key: one leaked
    /// key must not forge both.
    pub jwt_secret: Option<String>,
    /// Seconds a token lives. Short on purpose: nothing can end it earlier.
    pub jwt_ttl: u64,
    /// Remember revoked token ids until they expire, so logout, a password change or a
    /// revoked account also end that user's tokens.
    pub jwt_denylist: bool,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_ttl: 300,
            jwt_denylist: false,
        }
    }
}

/// What a token says about its holder (RFC 7519 registered claims plus the email).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub email: String,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expires at, unix seconds.
    pub exp: i64,
    /// This token's id, what the denylist remembers.
    pub jti: String,
}

/// A freshly signed token and how many seconds it lives.
pub struct Issued {
    pub token: String,
    pub expires_in: i64,
}

/// Signs and checks tokens; managed as Rocket state.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: i64,
    clock: Arc<dyn Clock>,
    /// Shared by every clone (the managed one and `Auth`'s).
    denylist: Option<Arc<Denylist>>,
}

/// Server-side memory of tokens, only with `jwt_denylist`: which ids each user holds
/// (so they can be revoked) and which are revoked, each kept until its `exp`.
#[derive(Default)]
struct Denylist {
    state: Mutex<DenyState>,
}

#[derive(Default)]
struct DenyState {
    issued: HashMap<Uuid, Vec<(String, i64)>>,
    revoked: HashMap<String, i64>,
}

impl DenyState {
    /// Forgets what has expired anyway: the list never outgrows the live tokens.
    fn prune(&mut self, now: i64) {
        self.revoked.retain(|_, exp| *exp > now);
        self.issued.retain(|_, tokens| {
            tokens.retain(|(_, exp)| *exp > now);
            !tokens.is_empty()
        });
    }
}

impl Tokens {
    /// The token service for a configuration: the configured key, or the one kept in
    /// (or now generated into) the data directory.
    ///
    /// # Errors
    /// A message naming the setting or file at fault.
    pub fn from_figment(
        figment: &Figment,
        data_dir: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        let settings: TokenSettings = figment
            .extract()
            .map_err(|error| format!("invalid configuration: {error}"))?;
        if settings.jwt_ttl == 0 {
            return Err("invalid setting `jwt_ttl`: must be at least 1 second".into());
        }
        let secret = match settings.jwt_secret.as_deref() {
            Some(secret) if secret.len() < 32 => {
                return Err("invalid setting `jwt_secret`: use at least 32 characters".into())
            }
            Some(secret) => secret.to_owned(),
            None => crate::secret_key::read_or_generate(
                &data_dir.join(KEY_FILE),
                "JWT key",
                "jwt_secret",
            )?,
        };
        Ok(Self::new(secret.as_bytes(), &settings, clock))
    }

    pub fn new(secret: &[u8], settings: &TokenSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl: settings.jwt_ttl.min(10 * 365 * 24 * 3600) as i64,
            clock,
            denylist: settings.jwt_denylist.then(Arc::default),
        }
    }

    pub fn denylist_enabled(&self) -> bool {
        self.denylist.is_some()
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// Signs a token for `user`, valid for `jwt_ttl` seconds from now.
    ///
    /// # Errors
    /// Only if signing fails, which HS256 with a byte key does not.
    pub fn issue(&self, user: &User) -> Result<Issued, AppError> {
        let now = self.now();
        let claims = Claims {
            sub: user.id.to_string(),
            email: user.email.clone(),
            iat: now,
            exp: now + self.ttl,
            jti: Uuid::new_v4().as_simple().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        if let Some(denylist) = &self.denylist {
            let mut state = denylist.state.lock();
            state.prune(now);
            state
                .issued
                .entry(user.id)
                .or_default()
                .push((claims.jti.clone(), claims.exp));
        }
        Ok(Issued {
            token,
            expires_in: self.ttl,
        })
    }

    /// The claims of a token this server signed that has not expired (and, with the
    /// denylist, was not revoked); `None` for anything else: a bad signature, another
    /// algorithm, a malformed token, an expired one.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        // The library compares `exp` with the system time; ours is the injected clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        if claims.exp <= self.now() {
            return None;
        }
        if let Some(denylist) = &self.denylist {
            if denylist.state.lock().revoked.contains_key(&claims.jti) {
                return None;
            }
        }
        Some(claims)
    }

    /// With the denylist on, revokes every token issued to `user_id` that is still
    /// live; without it, does nothing (a token cannot be taken back). Returns how many.
    pub fn revoke_user(&self, user_id: Uuid) -> usize {
        let Some(denylist) = &self.denylist else {
            return 0;
        };
        let now = self.now();
        let mut state = denylist.state.lock();
        state.prune(now);
        let tokens = state.issued.remove(&user_id).unwrap_or_default();
        let count = tokens.len();
        state.revoked.extend(tokens);
        count
    }
}

/// The token in an `Authorization: Bearer <token>` header (RFC 6750), if that is the scheme.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}
