//! CSRF tokens for every form (OWASP CSRF Prevention Cheat Sheet).
//!
//! - Logged in: the synchronizer token derived from the session id
//!   ([`SessionId::csrf_token`](crate::sessions::SessionId::csrf_token)).
//! - Anonymous forms (login, signup): a signed double-submit token. The token sits in a
//!   short-lived private cookie and in a hidden field; a POST must carry both, equal.
//!   The cookie is encrypted and authenticated, so an attacker who can plant cookies
//!   still cannot plant a valid one.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;
use subtle::ConstantTimeEq;
use time::Duration;

use crate::config::Settings;
use crate::errors::AppError;

/// Name of the anonymous forms' token cookie.
pub const ANON_COOKIE: &str = "latchkey_csrf";
/// Long enough to fill in a form; short enough that a leaked token is soon worthless.
const ANON_TOKEN_LIFETIME: Duration = Duration::hours(2);

/// Compares a submitted token with the expected one in constant time.
///
/// # Errors
/// [`AppError::CsrfRejected`] when they differ or the submitted one is missing.
pub fn verify(expected: &str, submitted: Option<&str>) -> Result<(), AppError> {
    let submitted = submitted.unwrap_or_default();
    if !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::CsrfRejected)
    }
}

/// The anonymous-form token for this browser: the one in its cookie, or a new one (and
/// the cookie that carries it).
pub struct AnonCsrf {
    token: String,
    /// False when the browser sent no valid token cookie: a POST can never pass then.
    from_cookie: bool,
}

impl AnonCsrf {
    pub fn token(&self) -> &str {
        &self.token
    }

    /// # Errors
    /// [`AppError::CsrfRejected`] unless the browser sent the token cookie and the same
    /// token in the form.
    pub fn verify(&self, submitted: Option<&str>) -> Result<(), AppError> {
        if !self.from_cookie {
            return Err(AppError::CsrfRejected);
        }
        verify(&self.token, submitted)
    }

    /// Login ends all pre-login state, this token included.
    pub fn clear(jar: &CookieJar<'_>) {
        jar.remove_private(
            Cookie::build(ANON_COOKIE)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict),
        );
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AnonCsrf {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let jar = request.cookies();
        let existing = jar
            .get_private(ANON_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()));
        if let Some(token) = existing {
            return Outcome::Success(AnonCsrf {
                token,
                from_cookie: true,
            });
        }
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let secure = request
            .guard::<&State<Settings>>()
            .await
            .succeeded()
            .is_some_and(|s| s.cookie_secure);
        jar.add_private(
            Cookie::build((ANON_COOKIE, token.clone()))
                .http_only(true)
                .same_site(SameSite::Strict)
                .path("/")
                .secure(secure)
                .max_age(ANON_TOKEN_LIFETIME)
                .expires(time::OffsetDateTime::now_utc() + ANON_TOKEN_LIFETIME),
        );
        Outcome::Success(AnonCsrf {
            token,
            from_cookie: false,
        })
    }
}
