//! The JSON API of the "0x02. Session authentication" course under `/api/v1`
//! (summarised in `docs/api.md`): same paths, statuses, bodies and error strings,
//! on Latchkey's sessions and users.

mod caller;
mod fallback;
mod session;
mod users;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Data, Request, Route};
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::view::UtcDigits;
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
        // Cheapest test first: almost no request ends with a slash.
        if !(path.ends_with('/') && path.len() > "/api/".len() && path.starts_with("/api/")) {
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

/// A user as the course's `to_json()` shows it: never a password or hash. Serialized
/// straight from the borrowed user (times formatted on the stack, keys in the same sorted
/// order a `json!` map gives), so `GET /users/me` builds no intermediate tree.
pub struct UserJson<'a>(pub &'a User);

impl Serialize for UserJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let user = self.0;
        let mut id = Uuid::encode_buffer();
        let mut fields = serializer.serialize_struct("User", 6)?;
        fields.serialize_field("created_at", UtcDigits::of(user.created_at).as_str())?;
        fields.serialize_field("email", &user.email)?;
        fields.serialize_field("first_name", &user.first_name)?;
        fields.serialize_field("id", &*user.id.hyphenated().encode_lower(&mut id))?;
        fields.serialize_field("last_name", &user.last_name)?;
        fields.serialize_field("updated_at", UtcDigits::of(user.updated_at).as_str())?;
        fields.end()
    }
}

/// [`UserJson`] as a JSON value, for answers that combine users.
pub fn user_json(user: &User) -> Value {
    serde_json::to_value(UserJson(user)).unwrap_or_default()
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
