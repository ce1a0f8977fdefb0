//! Friendly answers for every error status: an HTML page, or JSON under `/api`.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::Catcher;

use crate::errors::error_response;

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![any_status]
}

/// What to tell a person for each status.
pub fn message_for(status: Status) -> &'static str {
    match status.code {
        400 => "The request could not be understood. Check what you sent and try again.",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        413 => "What you sent is too large.",
        415 => "Unsupported media type.",
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
        error_response(self.0, message_for(self.0), request)
    }
}

#[rocket::catch(default)]
fn any_status(status: Status, _request: &Request<'_>) -> ErrorAnswer {
    ErrorAnswer(status)
}
