//! The HTTP side of [`AppError`]: an HTML page for browsers and `{"error": "..."}` under
//! `/api`, so handlers never pick a format by hand. Internal causes are logged with their
//! chain and never shown.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};

use crate::errors::{error_chain, AppError};
use crate::web::json::Json;

/// Internal causes are logged with their chain and never shown.
fn log(error: &AppError) {
    match error {
        AppError::Unavailable { source, .. } | AppError::Internal(source) => {
            tracing::error!("{error}: {}", error_chain(source.as_ref()));
        }
        AppError::CsrfRejected => crate::telemetry::SecurityEvent::CsrfRejected {}.emit(),
        AppError::Refused { .. } | AppError::Throttled { .. } => {}
    }
}

/// Is this request served by the JSON API (and so owed JSON errors)?
pub fn is_api_request(request: &Request<'_>) -> bool {
    let path = request.uri().path();
    path == "/api" || path.starts_with("/api/")
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        log(&self);
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
        let viewer = crate::web::guards::resolved_viewer(request);
        let page = crate::web::views::render(
            "error",
            viewer.as_ref(),
            None,
            serde_json::json!({
                "code": status.code,
                "reason": status.reason_lossy(),
                "message": message,
            }),
        );
        page.respond_to(request)?
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
