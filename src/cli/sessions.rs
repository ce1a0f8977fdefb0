//! `latchkey sessions ...`: live sessions by store key (the SHA-256 of the id, never the
//! id itself, which only the browser holds), for the stores another process can see.

use std::collections::HashMap;

use uuid::Uuid;

use super::users::find_user;
use super::{block_on, load_services, refuse_memory_store, utc, Failure, SessionsCommand};
use crate::auth::Auth;
use crate::errors::error_chain;
use crate::sessions::{SessionKey, SessionRecord};
use crate::telemetry::Actor;
use crate::users::User;

/// A prefix shorter than this could match many sessions by accident.
const MIN_PREFIX: usize = 8;
/// Characters of the key `list` shows: plenty to be unique, short enough to read.
const SHOWN_KEY: usize = 16;

/// Runs `latchkey sessions ...`, refusing the memory store (see [`refuse_memory_store`]).
pub fn run(command: SessionsCommand) -> Result<(), Failure> {
    block_on(async {
        let services = load_services().await?;
        refuse_memory_store(&services)?;
        let auth = &services.auth;
        match command {
            SessionsCommand::List { user } => list(auth, user.as_deref()).await,
            SessionsCommand::Revoke {
                user: Some(user), ..
            } => revoke_user(auth, &user).await,
            SessionsCommand::Revoke { key: Some(key), .. } => revoke_key(auth, &key).await,
            SessionsCommand::Revoke { .. } => Err(Failure::from("give a session key or --user")),
            SessionsCommand::PurgeExpired => {
                let removed = auth
                    .sweep_expired()
                    .await
                    .map_err(|error| Failure(error_chain(&error)))?;
                println!("removed {removed} expired session(s)");
                Ok(())
            }
        }
    })
}

/// Every live session with its user, most recently used first. The store contract has
/// no "list all", so this asks per user: fine for an admin tool, and it keeps the
/// `SessionStore` trait (and every backend) unchanged.
async fn all_sessions(
    auth: &Auth,
    only: Option<User>,
) -> Result<Vec<(SessionKey, SessionRecord, User)>, Failure> {
    let users = match only {
        Some(user) => vec![user],
        None => auth
            .list_users()
            .await
            .map_err(|error| Failure(error_chain(&error)))?,
    };
    let by_id: HashMap<Uuid, User> = users.into_iter().map(|user| (user.id, user)).collect();
    let mut sessions = Vec::new();
    for (id, user) in &by_id {
        let found = auth
            .sessions_of(*id)
            .await
            .map_err(|error| Failure(error_chain(&error)))?;
        sessions.extend(
            found
                .into_iter()
                .map(|(key, record)| (key, record, user.clone())),
        );
    }
    sessions.sort_by_key(|(_, record, _)| std::cmp::Reverse(record.last_seen));
    Ok(sessions)
}

async fn list(auth: &Auth, user: Option<&str>) -> Result<(), Failure> {
    let only = match user {
        Some(who) => Some(find_user(auth, who).await?),
        None => None,
    };
    let sessions = all_sessions(auth, only).await?;
    println!(
        "{:<width$}  {:<32}  {:<23}  {:<23}  EXPIRES",
        "KEY",
        "USER",
        "CREATED",
        "LAST SEEN",
        width = SHOWN_KEY
    );
    for (key, record, user) in &sessions {
        println!(
            "{}  {:<32}  {:<23}  {:<23}  {}",
            &key.to_hex()[..SHOWN_KEY],
            user.email,
            utc(record.created_at),
            utc(record.last_seen),
            utc(record.expires_at())
        );
    }
    println!("{} live session(s)", sessions.len());
    Ok(())
}

async fn revoke_key(auth: &Auth, given: &str) -> Result<(), Failure> {
    let given = given.trim().to_ascii_lowercase();
    if given.len() < MIN_PREFIX || !given.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Failure(format!(
            "{given:?} is not a session key: give the hex key, or at least {MIN_PREFIX} of its first characters, as `sessions list` shows it"
        )));
    }
    let key = match SessionKey::from_hex(&given) {
        Some(key) => key,
        None => {
            let matching: Vec<SessionKey> = all_sessions(auth, None)
                .await?
                .into_iter()
                .map(|(key, _, _)| key)
                .filter(|key| key.to_hex().starts_with(&given))
                .collect();
            match matching.as_slice() {
                [key] => *key,
                [] => {
                    return Err(Failure(format!(
                        "no live session with a key starting {given}"
                    )))
                }
                many => {
                    return Err(Failure(format!(
                        "{} sessions have keys starting {given}: give more characters",
                        many.len()
                    )))
                }
            }
        }
    };
    let ended = auth
        .revoke_by_key(&key)
        .await
        .map_err(|error| Failure(error_chain(&error)))?;
    if !ended {
        return Err(Failure(format!("no session with the key {given}")));
    }
    println!("ended session {}", &key.to_hex()[..SHOWN_KEY]);
    Ok(())
}

async fn revoke_user(auth: &Auth, who: &str) -> Result<(), Failure> {
    let user = find_user(auth, who).await?;
    let ended = auth
        .revoke_all(user.id, Actor::Admin)
        .await
        .map_err(|error| Failure(error_chain(&error)))?;
    println!("ended {ended} session(s) of {}", user.email);
    Ok(())
}
