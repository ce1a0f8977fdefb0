//! One error type for everything a request can fail with. It answers an HTML page for
//! browsers and `{"error": "..."}` under `/api`, so handlers never pick a format by hand.
//! Internal causes are logged with their chain and never shown.

use std::borrow::Cow;
use std::error::Error as StdError;

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;

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

    fn log(&self) {
        match self {
            Self::Unavailable { source, .. } | Self::Internal(source) => {
                tracing::error!("{self}: {}", error_chain(source.as_ref()));
            }
            Self::CsrfRejected => crate::telemetry::SecurityEvent::CsrfRejected {}.emit(),
            Self::Refused { .. } | Self::Throttled { .. } => {}
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

/// Is this request served by the JSON API (and so owed JSON errors)?
pub fn is_api_request(request: &Request<'_>) -> bool {
    let path = request.uri().path();
    path == "/api" || path.starts_with("/api/")
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        self.log();
        if let Self::Throttled { retry_after } = self {
            request.local_cache(|| crate::throttle::RetryAfter(retry_after));
            if is_api_request(request) {
                return error_response(self.status(), "Too many requests", request);
            }
        }
        error_response(self.status(), &self.to_string(), request)
    }
}

/// The one place that shapes an error answer, shared with the catchers.
pub fn error_response(
    status: Status,
    message: &str,
    request: &Request<'_>,
) -> response::Result<'static> {
    let mut response = if is_api_request(request) {
        Json(serde_json::json!({ "error": message })).respond_to(request)?
    } else {
        // The header shows who is logged in when the session was already looked up.
        let viewer = crate::guards::resolved_viewer(request);
        let page = crate::routes::pages::render(
            "error",
            viewer.as_ref(),
            None,
            serde_json::json!({
                "code": status.code,
                "reason": status.reason_lossy(),
                "message": message,
            }),
        );
        (ContentType::HTML, page).respond_to(request)?
    };
    response.set_status(status);
    if status == Status::TooManyRequests {
        let wait = request.local_cache(crate::throttle::RetryAfter::default).0;
        if wait > 0 {
            response.set_raw_header("Retry-After", wait.to_string());
        }
    }
    Ok(response)
}
