//! `/api/v1/users`: list, get (including `me`), create, update, delete.

use rocket::data::Limits;
use rocket::data::ToByteUnit;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, post, put, Data, State};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{user_json, ApiCaller, UserJson};
use crate::auth::{AccountError, Auth, Registration};
use crate::errors::AppError;
use crate::throttle::Gate;
use crate::users::validate::optional_name;
use crate::users::{NameChange, User};

const WRONG_FORMAT: &str = "Wrong format";

fn not_found() -> AppError {
    AppError::refused(Status::NotFound, "Not found")
}

/// Ids that are not UUIDs name no user: 404, as the course's `User.get` answers.
async fn find(auth: &Auth, id: &str) -> Result<User, AppError> {
    let id = Uuid::try_parse(id).map_err(|_| not_found())?;
    auth.users.by_id(id).await?.ok_or_else(not_found)
}

/// Reads a JSON object body within the `json` limit. Anything that is not a JSON object
/// is the course's "Wrong format".
async fn json_object(limits: &Limits, data: Data<'_>) -> Result<Map<String, Value>, AppError> {
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

#[get("/users")]
pub async fn list(_caller: ApiCaller, auth: &State<Auth>) -> Result<Json<Value>, AppError> {
    let users = auth.users.list().await?;
    Ok(Json(users.iter().map(user_json).collect()))
}

#[get("/users/<id>")]
pub async fn get(
    caller: ApiCaller,
    id: &str,
    auth: &State<Auth>,
) -> Result<Json<OneUser>, AppError> {
    let user = if id == "me" {
        caller.0.ok_or_else(not_found)?
    } else {
        find(auth, id).await?
    };
    Ok(Json(OneUser(user)))
}

/// One user as the answer body, serialized without an intermediate JSON tree.
pub struct OneUser(User);

impl serde::Serialize for OneUser {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        UserJson(&self.0).serialize(serializer)
    }
}

#[post("/users", data = "<data>")]
pub async fn create(
    _caller: ApiCaller,
    limits: &Limits,
    data: Data<'_>,
    auth: &State<Auth>,
    gate: Gate<'_>,
) -> Result<(Status, Json<Value>), AppError> {
    gate.check_signup().await?;
    let body = json_object(limits, data).await?;
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
    match auth.register(registration).await {
        Ok(user) => Ok((Status::Created, Json(user_json(&user)))),
        Err(AccountError::App(error)) => Err(error),
        Err(reason) => Err(AppError::bad_request(format!(
            "Can't create User: {reason}"
        ))),
    }
}

#[put("/users/<id>", data = "<data>")]
pub async fn update(
    _caller: ApiCaller,
    id: &str,
    limits: &Limits,
    data: Data<'_>,
    auth: &State<Auth>,
) -> Result<Json<Value>, AppError> {
    let user = find(auth, id).await?;
    let body = json_object(limits, data).await?;
    let change = NameChange {
        first_name: name_change(&body, "first_name")?,
        last_name: name_change(&body, "last_name")?,
    };
    let updated = auth
        .users
        .update_names(user.id, change, auth.clock.now())
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(user_json(&updated)))
}

/// Deleting a user also ends all of their sessions.
#[delete("/users/<id>")]
pub async fn delete(
    _caller: ApiCaller,
    id: &str,
    auth: &State<Auth>,
) -> Result<Json<Value>, AppError> {
    let user = find(auth, id).await?;
    if !auth.users.delete(user.id).await? {
        return Err(not_found());
    }
    auth.sessions.end_all_for_user(user.id).await?;
    Ok(Json(json!({})))
}
