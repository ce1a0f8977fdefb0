//! What answers an `/api/v1` request no route took: the authentication rule first (the
//! course checks it before routing, so unknown paths are 401/403 without credentials),
//! then 405 for a known path with another method, else 404.

use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};

use super::ApiCaller;

/// The API's paths, segment by segment; `*` is one free segment.
const KNOWN_PATHS: [&[&str]; 9] = [
    &["status"],
    &["stats"],
    &["unauthorized"],
    &["forbidden"],
    &["users"],
    &["users", "*"],
    &["auth_session", "login"],
    &["auth_session", "logout"],
    &["auth_token", "login"],
];

fn is_known_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix(super::BASE) else {
        return false;
    };
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    KNOWN_PATHS.iter().any(|pattern| {
        pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(want, got)| *want == "*" && !got.is_empty() || want == got)
    })
}

#[derive(Clone)]
struct Fallback;

#[rocket::async_trait]
impl Handler for Fallback {
    async fn handle<'r>(&self, request: &'r Request<'_>, _: Data<'r>) -> Outcome<'r> {
        if let rocket::outcome::Outcome::Error((status, ())) = request.guard::<ApiCaller>().await {
            return Outcome::Error(status);
        }
        if is_known_path(request.uri().path().as_str()) {
            Outcome::Error(Status::MethodNotAllowed)
        } else {
            Outcome::Error(Status::NotFound)
        }
    }
}

/// Lowest-ranked routes for every method, below all real API routes.
pub fn routes() -> Vec<Route> {
    [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Patch,
        Method::Options,
    ]
    .into_iter()
    .map(|method| Route::ranked(100, method, "/<path..>", Fallback))
    .collect()
}
