//! The security-critical operations in one place: checking credentials, registering,
//! logging in (with rotation) and out. Handlers call these; none re-implements them.

use std::sync::Arc;

use rocket::http::CookieJar;

use crate::clock::Clock;
use crate::config::Settings;
use crate::csrf::AnonCsrf;
use crate::errors::AppError;
use crate::sessions::{cookie, SessionId, SessionRecord, Sessions};
use crate::telemetry::SECURITY;
use crate::users::policy::{self, PasswordPolicy};
use crate::users::validate::{normalize_email, optional_name};
use crate::users::{NewUser, PasswordHash, PasswordHasher, RepoError, User, UserRepo};

/// Everything a request needs to authenticate, managed as Rocket state.
#[derive(Clone)]
pub struct Auth {
    pub users: Arc<dyn UserRepo>,
    pub sessions: Sessions,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    /// Rules for new passwords (NIST SP 800-63B rev 4).
    pub policy: PasswordPolicy,
}

/// The outcome of checking an email and password. The pages collapse the two failures
/// into one message; the course API tells them apart (see the spec).
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

impl Auth {
    /// Checks an email and password with the same cost whether or not the account exists:
    /// an unknown email is verified against a dummy hash (OWASP Authentication Cheat Sheet).
    ///
    /// # Errors
    /// When the user database or the hasher fails.
    pub async fn check_credentials(
        &self,
        email: &str,
        password: &str,
    ) -> Result<CredentialCheck, AppError> {
        let user = match normalize_email(email) {
            Ok(email) => self.users.by_email(&email).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let matches = self.verify_password(password, stored).await?;
        if matches {
            crate::metrics::login_succeeded();
        } else {
            crate::metrics::login_failed();
        }
        Ok(match (user, matches) {
            (Some(user), true) => {
                self.upgrade_hash(&user, password).await;
                CredentialCheck::Valid(user)
            }
            (Some(_), false) => CredentialCheck::WrongPassword,
            (None, _) => CredentialCheck::UnknownEmail,
        })
    }

    /// Verifies a password as typed, then (only if that fails and it differs) its NFKC
    /// form. Hashes made before NFKC normalisation was introduced are of the raw
    /// password and keep working; new ones are of the NFKC form, which any equivalent
    /// spelling of the password reaches. An ASCII password costs one hash, as before.
    async fn verify_password(
        &self,
        password: &str,
        stored: Option<PasswordHash>,
    ) -> Result<bool, AppError> {
        let exists = stored.is_some();
        if self
            .hasher
            .verify(password.to_owned(), stored.clone())
            .await
            .map_err(AppError::internal)?
        {
            return Ok(true);
        }
        let normalized = policy::normalize(password);
        if !exists || normalized == password {
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
            Ok(true) => {
                log::info!(target: "latchkey::security", "password hash upgraded for user {}", user.id);
            }
            Ok(false) => {}
            Err(error) => log::warn!("password hash upgrade failed: {error}"),
        }
    }

    /// Validates and creates an account. Does not log in.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] with a sentence for the person, `EmailTaken`, or an
    /// infrastructure failure.
    pub async fn register(&self, form: Registration<'_>) -> Result<User, AccountError> {
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
            Ok(user) => Ok(user),
            Err(RepoError::EmailTaken) => Err(AccountError::EmailTaken),
            Err(other) => Err(AccountError::App(other.into())),
        }
    }

    /// Starts a session for `user` in this browser: a new id, the old session (if the
    /// browser had one) deleted server-side, the anonymous CSRF token dropped, the cookie
    /// set. Rotation lives here so no login path can forget it. `remember` picks a cookie
    /// that outlives the browser (see `SessionRecord::persistent`).
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn log_in(
        &self,
        jar: &CookieJar<'_>,
        settings: &Settings,
        user: &User,
        user_agent: Option<&str>,
        remember: bool,
    ) -> Result<(SessionId, SessionRecord), AppError> {
        let previous = cookie::read(jar, settings);
        let (id, record) = self
            .sessions
            .start_kind(
                user.id,
                user.auth_epoch,
                user_agent,
                previous.as_ref(),
                remember,
            )
            .await?;
        cookie::issue(jar, settings, &id, &record);
        AnonCsrf::clear(jar);
        tracing::info!(target: SECURITY, event = "login_succeeded", user_id = %user.id, "login succeeded");
        Ok((id, record))
    }

    /// Changes a password after checking the current one. Every session of the user ends
    /// (the auth epoch moves on, and the store drops them), and this browser gets a fresh
    /// session of the same kind (`remember`) as before: whoever else knew the old password
    /// or held a cookie is out.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] with a sentence for the person, or an infrastructure
    /// failure.
    // Each argument is a separate fact about this request; a struct for one caller would
    // only move them.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_password(
        &self,
        jar: &CookieJar<'_>,
        settings: &Settings,
        user: &User,
        current_password: &str,
        new_password: &str,
        user_agent: Option<&str>,
        remember: bool,
    ) -> Result<(), AccountError> {
        let verified = self
            .verify_password(current_password, Some(user.password_hash.clone()))
            .await?;
        if !verified {
            return Err(AccountError::Invalid(
                "Your current password is not correct.",
            ));
        }
        let (updated, _) = self.set_new_password(user, new_password).await?;
        self.log_in(jar, settings, &updated, user_agent, remember)
            .await?;
        tracing::info!(target: SECURITY, event = "password_changed", user_id = %user.id, "password changed; every other session ended");
        Ok(())
    }

    /// Sets a new password under the policy and ends every session of the user: the new
    /// auth epoch alone refuses them on their next request, and deleting them makes them
    /// vanish from session lists at once. Shared by the password page and the admin CLI.
    /// Returns the updated user and how many sessions ended.
    ///
    /// # Errors
    /// [`AccountError::WeakPassword`] with the policy's reason, or an infrastructure
    /// failure.
    pub async fn set_new_password(
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
        Ok((updated, ended))
    }

    /// Ends the session server-side and tells the browser to drop the cookie.
    ///
    /// # Errors
    /// When the session store fails; the cookie is kept then, so the person can retry.
    pub async fn log_out(
        &self,
        jar: &CookieJar<'_>,
        settings: &Settings,
        id: &SessionId,
    ) -> Result<(), AppError> {
        self.sessions.end(id).await?;
        cookie::clear(jar, settings);
        Ok(())
    }
}
