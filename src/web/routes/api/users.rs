//! `/api/v1/users`: list, get (including `me`), create, update, delete.
//!
//! Who may touch which account: by default a caller reads, changes and deletes only their
//! own, named `me` or by its id. Any other id answers 403 whether or not it exists (so
//! ids cannot be probed), and the list answers 403: with open signup, the course's rule
//! (any logged-in caller may list, change and delete every user) would let anyone who
//! signs up take over every account. `course_mode` brings the course's rule back.

use std::borrow::Cow;

use rocket::data::Limits;
use rocket::data::ToByteUnit;
use rocket::http::{ContentType, Status};
use rocket::{delete, get, post, put, Data, State};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{user_json, ApiCaller, UserJson};
use crate::auth::{AccountError, Auth, Registration};
use crate::config::Settings;
use crate::errors::AppError;
use crate::telemetry::{Actor, Via};
use crate::throttle::Gate;
use crate::users::validate::optional_name;
use crate::users::{NameChange, User};
use crate::web::json::{Json, JsonBody};

const WRONG_FORMAT: &str = "Wrong format";

fn not_found() -> AppError {
    AppError::refused(Status::NotFound, "Not found")
}

/// Ids that are not UUIDs name no user: 404, as the course's `User.get` answers.
async fn find(auth: &Auth, id: &str) -> Result<User, AppError> {
    let id = Uuid::try_parse(id).map_err(|_| not_found())?;
    auth.user_by_id(id).await?.ok_or_else(not_found)
}

fn forbidden() -> AppError {
    AppError::refused(Status::Forbidden, "Forbidden")
}

/// Whether a request may change the account it names, or only read it: the course
/// resolves `me` for reading only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Change,
}

/// The account `id` names, if the caller may touch it (see the module documentation).
/// `me` is the caller, or 404 when there is none (the open API, or a public path).
/// Borrowed when it is the caller (the common case: no copy), owned when looked up.
async fn account<'r>(
    caller: ApiCaller<'r>,
    id: &str,
    access: Access,
    auth: &Auth,
    settings: &Settings,
) -> Result<Cow<'r, User>, AppError> {
    if settings.course_mode {
        return match (id, caller.0) {
            ("me", Some(user)) if access == Access::Read => Ok(Cow::Borrowed(user)),
            ("me", None) if access == Access::Read => Err(not_found()),
            _ => find(auth, id).await.map(Cow::Owned),
        };
    }
    let Some(user) = caller.0 else {
        return Err(if id == "me" { not_found() } else { forbidden() });
    };
    let own = id == "me" || Uuid::try_parse(id).is_ok_and(|id| id == user.id);
    if own {
        Ok(Cow::Borrowed(user))
    } else {
        Err(forbidden())
    }
}

/// Reads a JSON object body within the `json` limit. A body that is not declared
/// `application/json`, or is not a JSON object, is the course's "Wrong format": a form on
/// another site can post `text/plain`, never `application/json` (see `forgery`).
async fn json_object(
    content_type: Option<&ContentType>,
    limits: &Limits,
    data: Data<'_>,
) -> Result<Map<String, Value>, AppError> {
    if !content_type.is_some_and(|ct| ct.is_json()) {
        return Err(AppError::bad_request(WRONG_FORMAT));
    }
    let limit = limits.get("json").unwrap_or(64.kibibytes());
    let body = data
        .open(limit)
        .into_bytes()
        .await
        .map_err(|_| AppError::bad_request(WRONG_FORMAT))?;
    if !body.is_complete() {
        return Err(AppError::refused(
            Status::PayloadTooLarge,
            "Request body too large",
        ));
    }
    match serde_json::from_slice(&body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(AppError::bad_request(WRONG_FORMAT)),
    }
}

/// A name field of an update: absent or null -> unchanged (the course's
/// `if rj.get(...) is not None`), a string -> set (an empty one clears it).
fn name_change(body: &Map<String, Value>, key: &str) -> Result<Option<Option<String>>, AppError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => optional_name(Some(name))
            .map(Some)
            .map_err(AppError::bad_request),
        Some(_) => Err(AppError::bad_request(WRONG_FORMAT)),
    }
}

/// Every user in `course_mode`; otherwise 403. Not a list holding only the caller: a
/// client (or script) would read that as "no one else has an account", and `/users/me`
/// already answers for the caller.
#[get("/users")]
pub async fn list(
    _caller: ApiCaller<'_>,
    auth: &State<Auth>,
    settings: &State<Settings>,
) -> Result<Json<Value>, AppError> {
    if !settings.course_mode {
        return Err(forbidden());
    }
    let users = auth.list_users().await?;
    Ok(Json(users.iter().map(user_json).collect()))
}

#[get("/users/<id>")]
pub async fn get<'r>(
    caller: ApiCaller<'r>,
    id: &str,
    auth: &State<Auth>,
    settings: &State<Settings>,
) -> Result<JsonBody, AppError> {
    let user = account(caller, id, Access::Read, auth, settings).await?;
    Ok(JsonBody(UserJson(&user).to_vec()))
}

#[post("/users", data = "<data>")]
pub async fn create(
    _caller: ApiCaller<'_>,
    content_type: Option<&ContentType>,
    limits: &Limits,
    data: Data<'_>,
    auth: &State<Auth>,
    gate: Gate<'_>,
) -> Result<(Status, Json<Value>), AppError> {
    let body = json_object(content_type, limits, data).await?;
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let email = text("email").ok_or_else(|| AppError::bad_request("email missing"))?;
    let password = text("password").ok_or_else(|| AppError::bad_request("password missing"))?;
    let registration = Registration {
        email,
        password,
        first_name: body.get("first_name").and_then(Value::as_str),
        last_name: body.get("last_name").and_then(Value::as_str),
    };
    match auth.sign_up(&gate, registration, Via::Api).await {
        Ok(account) => Ok((Status::Created, Json(user_json(account.user())))),
        Err(AccountError::App(error)) => Err(error),
        Err(reason) => Err(AppError::bad_request(format!(
            "Can't create User: {reason}"
        ))),
    }
}

#[put("/users/<id>", data = "<data>")]
pub async fn update(
    caller: ApiCaller<'_>,
    id: &str,
    content_type: Option<&ContentType>,
    limits: &Limits,
    data: Data<'_>,
    auth: &State<Auth>,
    settings: &State<Settings>,
) -> Result<Json<Value>, AppError> {
    let user = account(caller, id, Access::Change, auth, settings).await?;
    let body = json_object(content_type, limits, data).await?;
    let change = NameChange {
        first_name: name_change(&body, "first_name")?,
        last_name: name_change(&body, "last_name")?,
    };
    let updated = auth
        .update_names(user.id, change)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(user_json(&updated)))
}

/// Deleting a user also ends all of their sessions (first, as everywhere).
#[delete("/users/<id>")]
pub async fn delete(
    caller: ApiCaller<'_>,
    id: &str,
    auth: &State<Auth>,
    settings: &State<Settings>,
) -> Result<Json<Value>, AppError> {
    let caller_id = caller.0.map(|me| me.id);
    let user = account(caller, id, Access::Change, auth, settings).await?;
    let by = if caller_id == Some(user.id) {
        Actor::User
    } else {
        Actor::ApiCaller
    };
    if auth.delete_account(user.id, by).await?.is_none() {
        return Err(not_found());
    }
    Ok(Json(json!({})))
}
