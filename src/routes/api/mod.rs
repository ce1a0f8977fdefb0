//! The JSON API of the "0x02. Session authentication" course under `/api/v1`
//! (summarised in `docs/api.md`): same paths, statuses, bodies and error strings,
//! on Latchkey's sessions and users.

mod caller;
mod fallback;
pub(crate) mod session;
pub mod token;
mod users;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Data, Request, Route};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::errors::AppError;
use crate::users::User;
pub use caller::{is_public, parse_basic, ApiCaller};

pub const BASE: &str = "/api/v1";

pub fn routes() -> Vec<Route> {
    let mut routes = routes![
        status,
        stats,
        unauthorized,
        forbidden,
        users::list,
        users::get,
        users::create,
        users::update,
        users::delete,
        session::login,
        session::login_without_form,
        session::logout,
        token::login,
        token::login_without_form,
    ];
    routes.extend(fallback::routes());
    routes
}

/// `/api/v1/status/` and `/api/v1/status` are one path for the course; Rocket tells them
/// apart, so one trailing slash is dropped before routing.
pub struct TrailingSlash;

#[rocket::async_trait]
impl Fairing for TrailingSlash {
    fn info(&self) -> Info {
        Info {
            name: "API trailing slash",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        let path = request.uri().path().as_str();
        if !(path.starts_with("/api/") && path.len() > "/api/".len() && path.ends_with('/')) {
            return;
        }
        let mut trimmed = path[..path.len() - 1].to_owned();
        if let Some(query) = request.uri().query() {
            trimmed.push('?');
            trimmed.push_str(query.as_str());
        }
        if let Ok(uri) = Origin::parse_owned(trimmed) {
            request.set_uri(uri);
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, as the course's `strftime("%Y-%m-%dT%H:%M:%S")`.
fn course_time(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

/// A user as the course's `to_json()` shows it: never a password or hash.
pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id.to_string(),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_at": course_time(user.created_at),
        "updated_at": course_time(user.updated_at),
    })
}

#[get("/status")]
fn status(_caller: ApiCaller) -> Json<Value> {
    Json(json!({ "status": "OK" }))
}

#[get("/stats")]
async fn stats(
    _caller: ApiCaller,
    auth: &rocket::State<crate::auth::Auth>,
) -> Result<Json<Value>, AppError> {
    let users = auth.users.count().await?;
    Ok(Json(json!({ "users": users })))
}

#[get("/unauthorized")]
fn unauthorized(_caller: ApiCaller) -> AppError {
    AppError::refused(Status::Unauthorized, "Unauthorized")
}

#[get("/forbidden")]
fn forbidden(_caller: ApiCaller) -> AppError {
    AppError::refused(Status::Forbidden, "Forbidden")
}
