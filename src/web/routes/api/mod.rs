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
use serde_json::{json, Value};
use uuid::Uuid;

use crate::config::{AuthType, Settings};
use crate::errors::AppError;
use crate::users::User;
use crate::web::json::{Json, TYPICAL_ANSWER};
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

/// A user as the course's `to_json()` shows it: never a password or hash, keys in the
/// sorted order a `json!` map gives. Written straight from the borrowed user: only the
/// email and the names come from people and go through JSON escaping; the times, the id
/// and the keys are digits, hex and fixed text, copied as they are. serde would escape
/// every key and value byte by byte, field by field: callgrind counted ~1.3k more
/// instructions for each `GET /users/me`.
pub struct UserJson<'a>(pub &'a User);

impl UserJson<'_> {
    /// The JSON text, in a buffer the size of a typical answer (a user is ~200 bytes).
    pub fn to_vec(&self) -> Vec<u8> {
        let user = self.0;
        let mut out = Vec::with_capacity(TYPICAL_ANSWER);
        let mut id = Uuid::encode_buffer();
        out.extend_from_slice(b"{\"created_at\":\"");
        out.extend_from_slice(UtcDigits::of(user.created_at).as_str().as_bytes());
        out.extend_from_slice(b"\",\"email\":");
        person_text(&mut out, Some(&user.email));
        out.extend_from_slice(b",\"first_name\":");
        person_text(&mut out, user.first_name.as_deref());
        out.extend_from_slice(b",\"id\":\"");
        out.extend_from_slice(user.id.hyphenated().encode_lower(&mut id).as_bytes());
        out.extend_from_slice(b"\",\"last_name\":");
        person_text(&mut out, user.last_name.as_deref());
        out.extend_from_slice(b",\"updated_at\":\"");
        out.extend_from_slice(UtcDigits::of(user.updated_at).as_str().as_bytes());
        out.extend_from_slice(b"\"}");
        out
    }
}

/// Text someone typed, as a JSON string (escaped by serde_json), or `null`.
fn person_text(out: &mut Vec<u8>, text: Option<&str>) {
    // Cannot fail: a string always serializes, and a `Vec` always takes the bytes.
    let _ = serde_json::to_writer(out, &text);
}

/// [`UserJson`] as a JSON value, for answers that combine users.
pub fn user_json(user: &User) -> Value {
    serde_json::from_slice(&UserJson(user).to_vec()).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::PasswordHash;
    use time::macros::datetime;

    fn user(email: &str, first_name: Option<&str>, last_name: Option<&str>) -> User {
        User {
            id: Uuid::new_v4(),
            email: email.to_owned(),
            first_name: first_name.map(str::to_owned),
            last_name: last_name.map(str::to_owned),
            password_hash: PasswordHash("not shown".into()),
            auth_epoch: 0,
            created_at: datetime!(2026-11-23 17:55:02.123 UTC),
            updated_at: datetime!(2026-11-30 08:01:09 +01:00),
        }
    }

    /// The same user through serde's own writer, as the course's `to_json()` shows it.
    fn serde_text(user: &User) -> Vec<u8> {
        let value = json!({
            "id": user.id.to_string(),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "created_at": "2026-11-23T17:55:02",
            "updated_at": "2026-11-30T07:01:09",
        });
        serde_json::to_vec(&value).expect("serializes")
    }

    #[test]
    fn user_json_is_byte_for_byte_what_serde_writes() {
        let users = [
            user("bob@hbtn.io", Some("Bob"), Some("Dylan")),
            user("no-names@example.com", None, None),
            user(
                r#"quote"back\slash@example.com"#,
                Some("tab\tnew\nline\u{1}"),
                Some("Zoë 🦀 </script>"),
            ),
            user("", Some(""), None),
        ];
        for user in &users {
            let written = UserJson(user).to_vec();
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&serde_text(user))
            );
            let parsed: Value = serde_json::from_slice(&serde_text(user)).expect("parses");
            assert_eq!(user_json(user), parsed);
        }
    }
}
