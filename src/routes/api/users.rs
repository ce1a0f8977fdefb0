//! `/api/v1/users`: list, get (including `me`), create, update, delete.

use rocket::data::Limits;
use rocket::data::ToByteUnit;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, post, put, Data, State};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{user_json, ApiCaller};
use crate::auth::{AccountError, Auth, Registration};
use crate::errors::AppError;
use crate::telemetry::{Actor, Via};
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
    auth.user_by_id(id).await?.ok_or_else(not_found)
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
    let users = auth.list_users().await?;
    Ok(Json(users.iter().map(user_json).collect()))
}

#[get("/users/<id>")]
pub async fn get(caller: ApiCaller, id: &str, auth: &State<Auth>) -> Result<Json<Value>, AppError> {
    let user = if id == "me" {
        caller.0.ok_or_else(not_found)?
    } else {
        find(auth, id).await?
    };
    Ok(Json(user_json(&user)))
}

#[post("/users", data = "<data>")]
pub async fn create(
    _caller: ApiCaller,
    limits: &Limits,
    data: Data<'_>,
    auth: &State<Auth>,
    gate: Gate<'_>,
) -> Result<(Status, Json<Value>), AppError> {
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
        .update_names(user.id, change)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(user_json(&updated)))
}

/// Deleting a user also ends all of their sessions (first, as everywhere).
#[delete("/users/<id>")]
pub async fn delete(
    caller: ApiCaller,
    id: &str,
    auth: &State<Auth>,
) -> Result<Json<Value>, AppError> {
    let user = find(auth, id).await?;
    let by = match &caller.0 {
        Some(me) if me.id == user.id => Actor::User,
        _ => Actor::ApiCaller,
    };
    if auth.delete_account(user.id, by).await?.is_none() {
        return Err(not_found());
    }
    Ok(Json(json!({})))
}
