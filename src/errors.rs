//! One error type for everything a request can fail with: the application's failure
//! vocabulary, a leaf every layer may return. It knows its HTTP status (a plain
//! `rocket::http::Status` value) but not how to answer: the HTML page or
//! `{"error": "..."}` body is shaped in `web::errors`, so this module calls up into nothing.
//! Each store and repository keeps its own error type and converts it into this one
//! beside its definition (`sessions`, `users`), pointing down, never up.

use std::borrow::Cow;
use std::error::Error as StdError;

use rocket::http::Status;

pub type BoxError = Box<dyn StdError + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// OWASP CSRF Prevention: a state-changing request without a valid token changes nothing.
    #[error("This form has expired or did not come from Latchkey. Reload the page and try again.")]
    CsrfRejected,
    /// A client error whose message is shown as it is (the course API's exact strings).
    #[error("{message}")]
    Refused {
        status: Status,
        message: Cow<'static, str>,
    },
    /// Too many attempts (login throttling, OWASP Authentication Cheat Sheet): 429 with
    /// `Retry-After` (RFC 6585 §4), JSON `{"error": "Too many requests"}` under `/api`.
    #[error("Too many attempts. Please wait {} and try again.", wait_text(*retry_after))]
    Throttled { retry_after: u64 },
    /// A backing service (database, session store) is down or too slow: retryable.
    #[error("{what} is unavailable right now. Please try again in a moment.")]
    Unavailable {
        what: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("Something went wrong on our side.")]
    Internal(#[source] BoxError),
}

impl AppError {
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }

    pub fn refused(status: Status, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Refused {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::refused(Status::BadRequest, message)
    }

    pub fn status(&self) -> Status {
        match self {
            Self::CsrfRejected => Status::Forbidden,
            Self::Refused { status, .. } => *status,
            Self::Throttled { .. } => Status::TooManyRequests,
            Self::Unavailable { .. } => Status::ServiceUnavailable,
            Self::Internal(_) => Status::InternalServerError,
        }
    }
}

/// "40 seconds", "3 minutes": how long a throttled person should wait.
fn wait_text(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".to_owned(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// "outer: inner: innermost", for logs.
pub fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
