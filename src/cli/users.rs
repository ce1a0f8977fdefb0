//! `latchkey users ...`: accounts, through the same rules as the signup form.

use uuid::Uuid;

use super::input::read_password;
use super::{block_on, load_services, utc, Failure, UsersCommand};
use crate::auth::{AccountError, Auth, Registration};
use crate::telemetry::Actor;
use crate::users::validate::normalize_email;
use crate::users::User;

/// Runs `latchkey users ...`; the password is read before any async work starts.
pub fn run(command: UsersCommand) -> Result<(), Failure> {
    match command {
        UsersCommand::Add {
            email,
            first_name,
            last_name,
            password,
        } => {
            let password = read_password(&password)?;
            block_on(async {
                let services = load_services().await?;
                add(&services.auth, &email, &password, first_name, last_name).await
            })
        }
        UsersCommand::List => block_on(async {
            let services = load_services().await?;
            list(&services.auth).await
        }),
        UsersCommand::Delete { user } => block_on(async {
            let services = load_services().await?;
            delete(&services.auth, &user).await
        }),
        UsersCommand::SetPassword { user, password } => {
            let password = read_password(&password)?;
            block_on(async {
                let services = load_services().await?;
                set_password(&services.auth, &user, &password).await
            })
        }
    }
}

/// A user named by id (a UUID) or email, or a failure saying nobody is.
pub(super) async fn find_user(auth: &Auth, who: &str) -> Result<User, Failure> {
    let found = match Uuid::try_parse(who.trim()) {
        Ok(id) => auth.user_by_id(id).await,
        Err(_) => {
            let email = normalize_email(who).map_err(|reason| format!("{who:?}: {reason}"))?;
            auth.user_by_email(&email).await
        }
    };
    found
        .map_err(|error| Failure(crate::errors::error_chain(&error)))?
        .ok_or_else(|| Failure(format!("no user {who:?}")))
}

async fn add(
    auth: &Auth,
    email: &str,
    password: &str,
    first_name: Option<String>,
    last_name: Option<String>,
) -> Result<(), Failure> {
    let registration = Registration {
        email,
        password,
        first_name: first_name.as_deref(),
        last_name: last_name.as_deref(),
    };
    match auth.register(registration).await {
        Ok(user) => {
            println!("created user {} {}", user.id, user.email);
            Ok(())
        }
        Err(AccountError::EmailTaken) => Err(Failure(format!(
            "an account with the email {:?} exists already",
            email.trim().to_lowercase()
        ))),
        Err(AccountError::Invalid(reason)) => Err(Failure(reason.to_owned())),
        Err(AccountError::WeakPassword(reason)) => Err(Failure(reason)),
        Err(AccountError::App(error)) => Err(Failure(crate::errors::error_chain(&error))),
    }
}

async fn list(auth: &Auth) -> Result<(), Failure> {
    let users = auth
        .list_users()
        .await
        .map_err(|error| Failure(crate::errors::error_chain(&error)))?;
    println!("{:<36}  {:<32}  {:<24}  CREATED", "ID", "EMAIL", "NAME");
    for user in &users {
        let name = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "{:<36}  {:<32}  {:<24}  {}",
            user.id,
            user.email,
            name,
            utc(user.created_at)
        );
    }
    println!("{} user(s)", users.len());
    Ok(())
}

async fn delete(auth: &Auth, who: &str) -> Result<(), Failure> {
    let user = find_user(auth, who).await?;
    let ended = auth
        .delete_account(user.id, Actor::Admin)
        .await
        .map_err(|error| Failure(crate::errors::error_chain(&error)))?
        .ok_or_else(|| Failure(format!("no user {who:?}")))?;
    println!(
        "deleted user {} {} and ended {ended} session(s)",
        user.id, user.email
    );
    Ok(())
}

async fn set_password(auth: &Auth, who: &str, password: &str) -> Result<(), Failure> {
    let user = find_user(auth, who).await?;
    let (updated, ended) = match auth.set_new_password(&user, password).await {
        Ok(done) => done,
        Err(AccountError::App(error)) => return Err(Failure(crate::errors::error_chain(&error))),
        Err(refused) => return Err(Failure(refused.to_string())),
    };
    println!(
        "password changed for {}; ended {ended} session(s)",
        updated.email
    );
    Ok(())
}
