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
use rocket::{get, routes, Data, Request, Route};
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::config::{AuthType, Settings};
use crate::errors::AppError;
use crate::users::User;
use crate::web::json::Json;
use crate::web::views::UtcDigits;
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
        users::create,
        users::update,
        users::delete,
        session::login,
        session::login_without_form,
        session::logout,
        token::login,
        token::login_without_form,
    ];
    routes.extend(routes![users::get].into_iter().map(tried_first));
    routes.extend(fallback::routes());
    routes
}

/// Rocket tries a method's routes one by one in rank order, and by default a route with a
/// dynamic segment comes after every static one: `GET /users/me` would be checked
/// against some twenty routes first (callgrind: ~1,700 instructions a request). Ranked
/// ahead of them all (it collides with none), it costs every other GET one check.
fn tried_first(mut route: Route) -> Route {
    // Rocket's default ranks run from -12 (static path and query) to -1.
    route.rank = -13;
    route
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
fn status(_caller: ApiCaller<'_>) -> Json<Value> {
    Json(json!({ "status": "OK" }))
}

#[get("/stats")]
async fn stats(
    _caller: ApiCaller<'_>,
    auth: &rocket::State<crate::auth::Auth>,
) -> Result<Json<Value>, AppError> {
    let users = auth.count_users().await?;
    Ok(Json(json!({ "users": users })))
}

#[get("/unauthorized")]
fn unauthorized(_caller: ApiCaller<'_>) -> AppError {
    AppError::refused(Status::Unauthorized, "Unauthorized")
}

#[get("/forbidden")]
fn forbidden(_caller: ApiCaller<'_>) -> AppError {
    AppError::refused(Status::Forbidden, "Forbidden")
}
