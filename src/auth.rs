//! The front door: every security operation, whole. Logging in (throttle, verify,
//! rotate, cookie, event), logging out, revoking sessions, changing a password, deleting
//! an account, registering, and resolving a request's session. Pages, the API, the
//! guards and the admin command line call these; none re-implements a step, and each
//! operation emits its security event (which counts its metric) itself.
//!
//! The fields are private: code outside can read through narrow accessors, but cannot
//! end a session, write a user or check a password except through an operation here.

use std::collections::HashSet;
use std::sync::Arc;

use rocket::http::CookieJar;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::Settings;
use crate::errors::AppError;
use crate::sessions::cookie::{self, CookieOpener};
use crate::sessions::{SessionId, SessionKey, SessionRecord, Sessions, StoreError};
use crate::telemetry::{Actor, SecurityEvent, Via};
use crate::throttle::Gate;
use crate::tokens::Tokens;
use crate::users::policy::{self, PasswordPolicy};
use crate::users::validate::{normalize_email, optional_name};
use crate::users::{NameChange, NewUser, PasswordHash, PasswordHasher, RepoError, User, UserRepo};

/// Everything a request needs to authenticate, managed as Rocket state.
#[derive(Clone)]
pub struct Auth {
    users: Arc<dyn UserRepo>,
    sessions: Sessions,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
    /// Rules for new passwords (NIST SP 800-63B rev 4).
    policy: PasswordPolicy,
    /// Accounts whose current password is being checked right now: one at a time per
    /// account, so parallel requests on one session cannot occupy every hashing slot.
    checking: Arc<parking_lot::Mutex<HashSet<Uuid>>>,
    /// Bearer tokens, whose ids are forgotten on logout, password change and account
    /// deletion only with `jwt_denylist` (see `tokens`). `None` for the admin command
    /// line, which issues none.
    tokens: Option<Tokens>,
    /// Reads the session cookie; Rocket's own reading until [`Self::with_cookie_opener`].
    cookies: CookieOpener,
}

/// An account's turn to have its current password checked; ends when dropped.
struct CheckTurn {
    checking: Arc<parking_lot::Mutex<HashSet<Uuid>>>,
    user_id: Uuid,
}

impl Drop for CheckTurn {
    fn drop(&mut self) {
        self.checking.lock().remove(&self.user_id);
    }
}

/// The outcome of a login attempt that was not refused outright (throttled, or an
/// infrastructure failure). The pages and the API outside `course_mode` collapse the two
/// failures into one answer; the course API tells them apart.
#[derive(Debug)]
pub enum CredentialCheck {
    Valid(User),
    UnknownEmail,
    WrongPassword,
}

/// What someone typed into the signup form (or sent to the API).
pub struct Registration<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
}

/// Where a new session goes: this request's cookie jar, the settings that shape the
/// cookie, and the client's User-Agent (shown on the sessions page).
pub struct Visitor<'a, 'r> {
    pub jar: &'a CookieJar<'r>,
    pub settings: &'a Settings,
    pub user_agent: Option<&'a str>,
    /// Whether the session cookie should outlive the browser ("remember me"); otherwise
    /// it is a browser-session cookie (see `SessionRecord::persistent`).
    pub remember: bool,
}

/// An account [`Auth::sign_up`] just created. Only it can be logged in without a
/// password ([`Auth::log_in_new_account`]).
pub struct NewAccount(User);

impl NewAccount {
    pub fn user(&self) -> &User {
        &self.0
    }

    pub fn into_user(self) -> User {
        self.0
    }
}

/// What [`Auth::revoke`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// No session of this user has that key (someone else's is answered alike).
    NoSuchSession,
    /// Another session of the user ended.
    Other,
    /// The session making the request ended; its cookie is cleared.
    ThisSession,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(&'static str),
    /// A new password the policy refuses, with the reason for the person.
    #[error("{0}")]
    WeakPassword(String),
    #[error("An account with this email already exists.")]
    EmailTaken,
    #[error(transparent)]
    App(#[from] AppError),
}

/// The password check's result before the caller learns it.
struct Verified {
    user: Option<User>,
    matches: bool,
}

fn is_throttled(error: &AppError) -> bool {
    matches!(error, AppError::Throttled { .. })
}

impl Auth {
    pub fn new(
        users: Arc<dyn UserRepo>,
        sessions: Sessions,
        hasher: PasswordHasher,
        clock: Arc<dyn Clock>,
        policy: PasswordPolicy,
    ) -> Self {
        Self {
            users,
            sessions,
            hasher,
            clock,
            policy,
            checking: Arc::default(),
            tokens: None,
            cookies: CookieOpener::default(),
        }
    }

    /// The same services, ending `tokens`' tokens (with `jwt_denylist`) wherever a user's
    /// sessions end.
    #[must_use]
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// The same services, reading session cookies with `cookies`.
    #[must_use]
    pub fn with_cookie_opener(mut self, cookies: CookieOpener) -> Self {
        self.cookies = cookies;
        self
    }

    /// The session id the request's cookie carries, if it is present, authentic and
    /// well-formed.
    pub fn session_id(&self, jar: &CookieJar<'_>, settings: &Settings) -> Option<SessionId> {
        self.cookies.read(jar, &settings.session_name)
    }

    /// Revokes the user's bearer tokens where the denylist is on; otherwise they live on
    /// until they expire, which is the lesson of the tokens page.
    fn end_tokens(&self, user_id: Uuid) {
        if let Some(tokens) = &self.tokens {
            tokens.revoke_user(user_id);
        }
    }

    /// The account's turn for a current-password check, or `None` while another one of
    /// its checks is running.
    fn check_turn(&self, user_id: Uuid) -> Option<CheckTurn> {
        self.checking.lock().insert(user_id).then(|| CheckTurn {
            checking: self.checking.clone(),
            user_id,
        })
    }

    // ---- Logging in and out -------------------------------------------------------

    /// Logs in with an email and password: throttling first (past a limit the password
    /// is never hashed), then the check, then a new session for this visitor (rotation:
    /// the session the browser had before ends, OWASP ASVS 3.2.1), its cookie, and the
    /// security event. Every login path (pages, API) goes through here.
    ///
    /// # Errors
    /// [`AppError::Throttled`] (429), or a store, database or hasher failure.
    pub async fn log_in(
        &self,
        gate: &Gate<'_>,
        visitor: &Visitor<'_, '_>,
        email: &str,
        password: &str,
        via: Via,
    ) -> Result<CredentialCheck, AppError> {
        let check = self.check_throttled(gate, email, password, via).await?;
        if let CredentialCheck::Valid(user) = &check {
            self.start_session(visitor, user).await?;
            SecurityEvent::LoginSucceeded {
                user_id: user.id,
                via,
            }
            .emit();
        }
        Ok(check)
    }

    /// Checks credentials without starting a session (`Authorization: Basic` on every
    /// request, or a token login), under the same throttling and events as a login.
    ///
    /// # Errors
    /// As [`Auth::log_in`].
    pub async fn authenticate(
        &self,
        gate: &Gate<'_>,
        email: &str,
        password: &str,
        via: Via,
    ) -> Result<CredentialCheck, AppError> {
        let check = self.check_throttled(gate, email, password, via).await?;
        if let CredentialCheck::Valid(user) = &check {
            SecurityEvent::LoginSucceeded {
                user_id: user.id,
                via,
            }
            .emit();
        }
        Ok(check)
    }

    /// The throttle, then the password, then the throttle's bookkeeping and the event of
    /// a failure.
    async fn check_throttled(
        &self,
        gate: &Gate<'_>,
        email: &str,
        password: &str,
        via: Via,
    ) -> Result<CredentialCheck, AppError> {
        let attempt = match gate.begin_login(email).await {
            Ok(attempt) => attempt,
            Err(error) => {
                if is_throttled(&error) {
                    SecurityEvent::LoginThrottled { via }.emit();
                }
                return Err(error);
            }
        };
        let verified = self.check_credentials(email, password).await?;
        gate.finish_login(attempt, verified.matches).await?;
        Ok(match verified {
            Verified {
                user: Some(user),
                matches: true,
            } => {
                self.upgrade_hash(&user, password).await;
                CredentialCheck::Valid(user)
            }
            Verified {
                user: Some(user), ..
            } => {
                SecurityEvent::LoginFailed {
                    user_id: Some(user.id),
                    via,
                }
                .emit();
                CredentialCheck::WrongPassword
            }
            Verified { user: None, .. } => {
                SecurityEvent::LoginFailed { user_id: None, via }.emit();
                CredentialCheck::UnknownEmail
            }
        })
    }

    /// Looks the account up and checks the password with the same work whether or not
    /// it exists: an unknown email is verified against a dummy hash (OWASP Authentication
    /// Cheat Sheet), as many times as a known one would be.
    async fn check_credentials(&self, email: &str, password: &str) -> Result<Verified, AppError> {
        let user = match normalize_email(email) {
            Ok(email) => self.users.by_email(&email).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let matches = self.verify_password(password, stored).await?;
        Ok(Verified { user, matches })
    }

    /// Verifies a password as typed, then (only if that fails and it differs) its NFKC
    /// form. Hashes made before NFKC normalisation was introduced are of the raw
    /// password and keep working; new ones are of the NFKC form, which any equivalent
    /// spelling of the password reaches. An ASCII password costs one hash.
    ///
    /// The second verification depends only on the password, never on whether the
    /// account exists (`None` verifies against the dummy hash, twice when a known account
    /// would be checked twice): otherwise a non-ASCII password would take twice as long
    /// for a known email, and one probe would tell who has an account.
    async fn verify_password(
        &self,
        password: &str,
        stored: Option<PasswordHash>,
    ) -> Result<bool, AppError> {
        if self
            .hasher
            .verify(password.to_owned(), stored.clone())
            .await
            .map_err(AppError::internal)?
        {
            return Ok(true);
        }
        let normalized = policy::normalize(password);
        if normalized == password {
            return Ok(false);
        }
        self.hasher
            .verify(normalized, stored)
            .await
            .map_err(AppError::internal)
    }

    /// After a successful login: when the stored hash used weaker argon2 parameters than
    /// the configured ones, store a new hash (of the NFKC form) without ending any
    /// session. Best effort: a failure is logged and the login goes on.
    async fn upgrade_hash(&self, user: &User, password: &str) {
        if !self.hasher.needs_upgrade(&user.password_hash) {
            return;
        }
        let result = match self.hasher.hash(policy::normalize(password)).await {
            Ok(hash) => self
                .users
                .upgrade_password_hash(user.id, &user.password_hash, hash)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match result {
            Ok(true) => SecurityEvent::PasswordHashUpgraded { user_id: user.id }.emit(),
            Ok(false) => {}
            Err(error) => tracing::warn!("password hash upgrade failed: {error}"),
        }
    }

    /// Starts a session for `user` in this browser: a new id, the old session (if the
    /// browser had one) deleted server-side, the anonymous CSRF token dropped, the cookie
    /// set. Rotation lives here so no path that starts a session can forget it. Private:
    /// only the operations that proved who the person is call it.
    async fn start_session(
        &self,
        visitor: &Visitor<'_, '_>,
        user: &User,
    ) -> Result<(SessionId, SessionRecord), AppError> {
        let previous = self.session_id(visitor.jar, visitor.settings);
        let (id, record) = self
            .sessions
            .start_kind(
                user.id,
                user.auth_epoch,
                visitor.user_agent,
                previous.as_ref(),
                visitor.remember,
            )
            .await?;
        cookie::issue(visitor.jar, visitor.settings, &id, &record);
        cookie::clear_anon_csrf(visitor.jar);
        Ok((id, record))
    }

    /// Ends the session server-side and tells the browser to drop the cookie. Returns
    /// whether a session ended (false: it was gone already).
    ///
    /// # Errors
    /// When the session store fails; the cookie is kept then, so the person can retry.
    pub async fn log_out(
        &self,
        jar: &CookieJar<'_>,
        settings: &Settings,
        id: &SessionId,
        via: Via,
    ) -> Result<bool, AppError> {
        let record = self.sessions.get_by_key(&id.key()).await?;
        let ended = self.sessions.end(id).await?;
        if ended {
            cookie::clear(jar, settings);
            if let Some(record) = record {
                self.end_tokens(record.user_id);
                SecurityEvent::Logout {
                    user_id: record.user_id,
                    via,
                }
                .emit();
            }
        }
        Ok(ended)
    }

    /// The live session behind `id` and its user, or `None` when the session is gone,
    /// expired, belongs to a deleted user or predates a password change (its auth epoch
    /// differs from the user's: the change ended it). A stale session is deleted.
    ///
    /// # Errors
    /// When the session store or the user database fails.
    pub async fn resolve(
        &self,
        id: &SessionId,
    ) -> Result<Option<(Arc<User>, SessionRecord)>, AppError> {
        let Some(session) = self.sessions.resolve(id).await? else {
            return Ok(None);
        };
        match self.users.by_id_shared(session.user_id).await? {
            Some(user) if user.auth_epoch == session.auth_epoch => Ok(Some((user, session))),
            _ => {
                self.sessions.end(id).await?;
                Ok(None)
            }
        }
    }

    // ---- Sessions a person (or an admin) ends --------------------------------------

    /// Ends one of the user's own sessions by store key (`current`: the session making
    /// the request). A key of someone else's session
    /// is answered exactly like an unknown one. Ending the session in use clears its
    /// cookie.
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn revoke(
        &self,
        user_id: Uuid,
        current: &SessionId,
        key: &SessionKey,
        jar: &CookieJar<'_>,
        settings: &Settings,
    ) -> Result<Revoked, AppError> {
        match self.sessions.get_by_key(key).await? {
            Some(record) if record.user_id == user_id => {}
            _ => return Ok(Revoked::NoSuchSession),
        }
        self.sessions.end_key(key).await?;
        SecurityEvent::SessionRevoked {
            user_id,
            count: 1,
            by: Actor::User,
        }
        .emit();
        if *key == current.key() {
            cookie::clear(jar, settings);
            return Ok(Revoked::ThisSession);
        }
        Ok(Revoked::Other)
    }

    /// Ends every session of the user except `current`, the one in use ("log out
    /// everywhere else"). Returns how many ended.
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn revoke_others(&self, user_id: Uuid, current: &SessionId) -> Result<u64, AppError> {
        let current_key = current.key();
        let mut ended = 0;
        for (key, _) in self.sessions.list_for_user(user_id).await? {
            if key != current_key && self.sessions.end_key(&key).await? {
                ended += 1;
            }
        }
        SecurityEvent::OtherSessionsRevoked {
            user_id,
            count: ended,
        }
        .emit();
        Ok(ended)
    }

    /// An admin ends one session by store key. Returns whether one ended.
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn revoke_by_key(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let record = self.sessions.get_by_key(key).await?;
        let ended = self.sessions.end_key(key).await?;
        if let (true, Some(record)) = (ended, record) {
            SecurityEvent::SessionRevoked {
                user_id: record.user_id,
                count: 1,
                by: Actor::Admin,
            }
            .emit();
        }
        Ok(ended)
    }

    /// Ends every session of a user. Returns how many ended.
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn revoke_all(&self, user_id: Uuid, by: Actor) -> Result<u64, StoreError> {
        let ended = self.sessions.end_all_for_user(user_id).await?;
        SecurityEvent::SessionRevoked {
            user_id,
            count: ended,
            by,
        }
        .emit();
        Ok(ended)
    }

    // ---- Accounts -----------------------------------------------------------------

    /// Signup: throttled per client address, then [`Auth::register`]'s checks. The
    /// account is not logged in; [`Auth::log_in_new_account`] does that.
    ///
    /// # Errors
    /// [`AppError::Throttled`] inside [`AccountError::App`], or as [`Auth::register`].
    pub async fn sign_up(
        &self,
        gate: &Gate<'_>,
        form: Registration<'_>,
        via: Via,
    ) -> Result<NewAccount, AccountError> {
        if let Err(error) = gate.check_signup().await {
            if is_throttled(&error) {
                SecurityEvent::SignupThrottled { via }.emit();
            }
            return Err(error.into());
        }
        self.create_account(form, via).await.map(NewAccount)
    }

    /// Starts a session for an account created by this very request (signup logs in).
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn log_in_new_account(
        &self,
        visitor: &Visitor<'_, '_>,
        account: NewAccount,
    ) -> Result<User, AppError> {
        self.start_session(visitor, &account.0).await?;
        Ok(account.0)
    }

    /// Validates and creates an account without throttling (the admin command line).
    /// Does not log in.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] with a sentence for the person, `WeakPassword`,
    /// `EmailTaken`, or an infrastructure failure.
    pub async fn register(&self, form: Registration<'_>) -> Result<User, AccountError> {
        self.create_account(form, Via::Admin).await
    }

    async fn create_account(&self, form: Registration<'_>, via: Via) -> Result<User, AccountError> {
        let email = normalize_email(form.email).map_err(AccountError::Invalid)?;
        self.policy
            .check(form.password, &email)
            .map_err(AccountError::WeakPassword)?;
        let first_name = optional_name(form.first_name).map_err(AccountError::Invalid)?;
        let last_name = optional_name(form.last_name).map_err(AccountError::Invalid)?;
        let password_hash = self
            .hasher
            .hash(policy::normalize(form.password))
            .await
            .map_err(AppError::internal)?;
        let new_user = NewUser {
            email,
            password_hash,
            first_name,
            last_name,
        };
        match self.users.insert(new_user, self.clock.now()).await {
            Ok(user) => {
                SecurityEvent::Signup {
                    user_id: user.id,
                    via,
                }
                .emit();
                Ok(user)
            }
            Err(RepoError::EmailTaken) => Err(AccountError::EmailTaken),
            Err(other) => Err(AccountError::App(other.into())),
        }
    }

    /// Changes a password after checking the current one. The check counts like a login
    /// for throttling (same counters: a wrong current password is a failed login from
    /// this address on this account), so it cannot be used to guess the password or to
    /// make the server hash without limit; and one account has one check running at a
    /// time (a second one meanwhile is refused with 429). Then every session of the user ends (the auth
    /// epoch moves on, and the store drops them), and this browser gets a fresh session:
    /// whoever else knew the old password or held a cookie is out.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] with a sentence for the person, `WeakPassword`,
    /// [`AppError::Throttled`] inside `App`, or an infrastructure failure.
    pub async fn change_password(
        &self,
        gate: &Gate<'_>,
        visitor: &Visitor<'_, '_>,
        user: &User,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), AccountError> {
        let Some(_turn) = self.check_turn(user.id) else {
            SecurityEvent::PasswordChangeThrottled { user_id: user.id }.emit();
            return Err(AppError::Throttled { retry_after: 1 }.into());
        };
        let attempt = match gate.begin_login(&user.email).await {
            Ok(attempt) => attempt,
            Err(error) => {
                if is_throttled(&error) {
                    SecurityEvent::PasswordChangeThrottled { user_id: user.id }.emit();
                }
                return Err(error.into());
            }
        };
        let verified = self
            .verify_password(current_password, Some(user.password_hash.clone()))
            .await?;
        gate.finish_login(attempt, verified).await?;
        if !verified {
            SecurityEvent::PasswordChangeFailed { user_id: user.id }.emit();
            return Err(AccountError::Invalid(
                "Your current password is not correct.",
            ));
        }
        let (updated, _) = self.replace_password(user, new_password).await?;
        self.start_session(visitor, &updated).await?;
        SecurityEvent::PasswordChanged {
            user_id: user.id,
            by: Actor::User,
        }
        .emit();
        Ok(())
    }

    /// An admin sets a new password (no current password asked): the policy applies and
    /// every session of the user ends. Returns the updated user and how many sessions
    /// ended.
    ///
    /// # Errors
    /// [`AccountError::WeakPassword`] with the policy's reason, or an infrastructure
    /// failure.
    pub async fn set_new_password(
        &self,
        user: &User,
        new_password: &str,
    ) -> Result<(User, u64), AccountError> {
        let done = self.replace_password(user, new_password).await?;
        SecurityEvent::PasswordChanged {
            user_id: user.id,
            by: Actor::Admin,
        }
        .emit();
        Ok(done)
    }

    /// Sets a new password under the policy and ends every session of the user: the new
    /// auth epoch alone refuses them on their next request, and deleting them makes them
    /// vanish from session lists at once.
    async fn replace_password(
        &self,
        user: &User,
        new_password: &str,
    ) -> Result<(User, u64), AccountError> {
        self.policy
            .check(new_password, &user.email)
            .map_err(AccountError::WeakPassword)?;
        let hash = self
            .hasher
            .hash(policy::normalize(new_password))
            .await
            .map_err(AppError::internal)?;
        let updated = self
            .users
            .set_password(user.id, hash, self.clock.now())
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::refused(rocket::http::Status::NotFound, "Not found"))?;
        let ended = self
            .sessions
            .end_all_for_user(user.id)
            .await
            .map_err(AppError::from)?;
        self.end_tokens(user.id);
        Ok((updated, ended))
    }

    /// Deletes an account: its sessions first, then the user, so a failure half-way
    /// leaves an account that still works rather than sessions of nobody. Returns how
    /// many sessions ended, or `None` when there was no such user. The same for the API
    /// and the admin command line.
    ///
    /// # Errors
    /// When the session store or the user database fails.
    pub async fn delete_account(&self, user_id: Uuid, by: Actor) -> Result<Option<u64>, AppError> {
        let ended = self.sessions.end_all_for_user(user_id).await?;
        if !self.users.delete(user_id).await? {
            return Ok(None);
        }
        self.end_tokens(user_id);
        SecurityEvent::UserDeleted { user_id, by }.emit();
        Ok(Some(ended))
    }

    /// Changes the names on an account (nothing security-relevant).
    ///
    /// # Errors
    /// When the user database fails.
    pub async fn update_names(
        &self,
        user_id: Uuid,
        change: NameChange,
    ) -> Result<Option<User>, RepoError> {
        self.users
            .update_names(user_id, change, self.clock.now())
            .await
    }

    // ---- Reading ------------------------------------------------------------------

    /// # Errors
    /// When the user database fails.
    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        self.users.by_id(id).await
    }

    /// The account with this (already normalised) email.
    ///
    /// # Errors
    /// When the user database fails.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, RepoError> {
        self.users.by_email(email).await
    }

    /// # Errors
    /// When the user database fails.
    pub async fn list_users(&self) -> Result<Vec<User>, RepoError> {
        self.users.list().await
    }

    /// # Errors
    /// When the user database fails.
    pub async fn count_users(&self) -> Result<u64, RepoError> {
        self.users.count().await
    }

    /// A user's live sessions, most recently used first.
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn sessions_of(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, StoreError> {
        self.sessions.list_for_user(user_id).await
    }

    /// A session record by store key, without the expiry bookkeeping of a request.
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn session_by_key(
        &self,
        key: &SessionKey,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.sessions.get_by_key(key).await
    }

    /// Removes expired sessions; returns how many.
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn sweep_expired(&self) -> Result<u64, StoreError> {
        self.sessions.sweep().await
    }

    /// The sessions' notion of now (whole seconds, the injected clock).
    pub fn now(&self) -> OffsetDateTime {
        self.sessions.now()
    }

    /// The session store's name (`memory`, `sqlite`, `redis`).
    pub fn session_store_name(&self) -> &'static str {
        self.sessions.store().name()
    }

    /// The fewest characters a new password may have.
    pub fn password_min_chars(&self) -> usize {
        self.policy.min_chars()
    }

    /// How many password hashes may run at once.
    pub fn hash_concurrency(&self) -> usize {
        self.hasher.concurrency()
    }

    /// How many argon2 computations (hashes and verifications) have run since start-up.
    pub fn hash_runs(&self) -> u64 {
        self.hasher.runs()
    }

    /// Whether `user`'s stored hash is weaker than the configured parameters (it is
    /// upgraded at the next successful login).
    pub fn needs_hash_upgrade(&self, user: &User) -> bool {
        self.hasher.needs_upgrade(&user.password_hash)
    }
}
