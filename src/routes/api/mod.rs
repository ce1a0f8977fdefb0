//! The JSON API of the "0x02. Session authentication" course under `/api/v1`
//! (summarised in `docs/api.md`): same paths, statuses, bodies and error strings,
//! on Latchkey's sessions and users.

mod caller;
mod fallback;
mod forgery;
pub(crate) mod session;
pub mod token;
mod users;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Data, Request, Route};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::config::{AuthType, Settings};
use crate::errors::AppError;
use crate::users::User;
pub use caller::{is_public, parse_basic, ApiCaller};
pub use forgery::NoMethodOverride;

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

/// Says at start, where an operator reads it, when the API is open: with `AUTH_TYPE`
/// empty or `none` it asks for no authentication at all, and `course_mode` lets any
/// caller list, change and delete every account.
pub fn open_api_warning() -> AdHoc {
    AdHoc::on_liftoff("API openness warning", |rocket| {
        Box::pin(async move {
            let Some(settings) = rocket.state::<Settings>() else {
                return;
            };
            if settings.auth_type == AuthType::None {
                let reach = if settings.course_mode {
                    "create accounts and read, change and delete every account"
                } else {
                    "create accounts"
                };
                tracing::warn!(
                    "AUTH_TYPE is empty or `none`: {BASE} asks for no authentication, so \
                     anyone who can reach this server may {reach}. Use it only for the \
                     course, where nobody else can reach it"
                );
            } else if settings.course_mode {
                tracing::warn!(
                    "course_mode is on: any logged-in caller of {BASE} may list, change and \
                     delete every account, and its login tells unknown emails apart. Use it \
                     only for the course"
                );
            }
        })
    })
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
    let users = auth.count_users().await?;
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
