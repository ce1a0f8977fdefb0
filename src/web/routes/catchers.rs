//! Friendly answers for every error status: an HTML page, or JSON under `/api`.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::Catcher;

use crate::web::errors::{error_response, is_api_request};

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![any_status]
}

/// What the JSON API says for each status: the course's exact strings where it has them.
pub fn api_message(status: Status) -> &'static str {
    match status.code {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        413 => "Request body too large",
        415 => "Unsupported media type",
        422 => "Unprocessable entity",
        429 => "Too many requests",
        503 => "Service unavailable",
        500..=599 => "Internal server error",
        _ => status.reason_lossy(),
    }
}

/// What a page tells a person for each status.
pub fn page_message(status: Status) -> &'static str {
    match status.code {
        400 => "The request could not be understood. Check what you sent and try again.",
        401 => "You need to log in to see this page.",
        403 => "You are not allowed to do that.",
        404 => "There is no page at this address.",
        405 => "This address does not accept that kind of request.",
        413 => "What you sent is too large.",
        415 => "What you sent is in a format this page does not accept.",
        422 => "Some of what you sent is missing or invalid. Check the form and try again.",
        429 => "Too many requests. Wait a moment and try again.",
        503 => "A service Latchkey depends on is unavailable. Please try again in a moment.",
        500..=599 => "Something went wrong on our side.",
        _ => "The request could not be completed.",
    }
}

struct ErrorAnswer(Status);

impl<'r> Responder<'r, 'static> for ErrorAnswer {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        if is_api_request(request) {
            return error_response(self.0, api_message(self.0), request);
        }
        if self.0 == Status::Forbidden && crate::web::csrf::was_rejected(request) {
            let message = crate::errors::AppError::CsrfRejected.to_string();
            return error_response(self.0, &message, request);
        }
        error_response(self.0, page_message(self.0), request)
    }
}

#[rocket::catch(default)]
async fn any_status(status: Status, request: &Request<'_>) -> ErrorAnswer {
    // Look the session up (once per request, cached) so the page header is right;
    // under /api the body is JSON and needs no viewer.
    if !is_api_request(request) {
        let _ = crate::web::guards::current_session(request).await;
    }
    crate::web::guards::forget_dead_cookie_again(request);
    ErrorAnswer(status)
}
