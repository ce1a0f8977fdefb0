//! The admin command line, on the same binary as the server: `latchkey` alone (or
//! `latchkey serve`) serves, the other commands manage users and sessions in the stores
//! the server uses, with the same settings (`Rocket.toml`, `ROCKET_*`).
//!
//! Exit codes: 0 done, 1 the command failed (the reason is on stderr), 2 a usage error
//! (clap's convention), so scripts can tell "wrong invocation" from "it did not work".

mod input;
mod sessions;
mod users;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::SessionStoreKind;
use crate::Services;

/// Session-based authentication server and its admin tools.
///
/// Settings come from Rocket.toml and ROCKET_* variables, exactly as for the server.
#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the default when no command is given).
    Serve,
    /// Manage user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Inspect and end sessions (SQLite and Redis session stores).
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Cookie-encryption keys.
    #[command(subcommand)]
    Secret(SecretCommand),
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account. The password is prompted for (no echo), or read from stdin.
    Add {
        /// The account's email (its login name).
        email: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List every account.
    List,
    /// Delete an account and end all its sessions.
    Delete {
        /// The account's email or id.
        user: String,
    },
    /// Set a new password and end every session of the account.
    SetPassword {
        /// The account's email or id.
        user: String,
        #[command(flatten)]
        password: PasswordSource,
    },
}

/// Where a password comes from. Never an argument: arguments end up in shell history
/// and in `ps` output for every user of the machine.
#[derive(Debug, Args)]
pub struct PasswordSource {
    /// Read the password from the first line of stdin (also the default when stdin is
    /// not a terminal).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List live sessions: store key prefix, user, created, last seen, expires.
    List {
        /// Only this user's sessions (email or id).
        #[arg(long)]
        user: Option<String>,
    },
    /// End one session by its store key (hex, or a unique prefix of 8+ characters as
    /// `sessions list` shows it), or every session of one user.
    Revoke {
        /// The session's store key or a unique prefix of it.
        #[arg(required_unless_present = "user", conflicts_with = "user")]
        key: Option<String>,
        /// End every session of this user (email or id) instead.
        #[arg(long)]
        user: Option<String>,
    },
    /// Delete expired sessions now (the server's sweep does it every minute anyway).
    PurgeExpired,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Print a new random 64-byte key, base64, for `secret_key` / ROCKET_SECRET_KEY.
    Generate,
}

/// A command's failure, shown to the operator as one line on stderr.
#[derive(Debug)]
pub struct Failure(pub String);

impl<T: Into<String>> From<T> for Failure {
    fn from(message: T) -> Self {
        Self(message.into())
    }
}

/// Runs an admin command (anything but `serve`) and maps the outcome to an exit code.
pub fn run_admin(command: Command) -> ExitCode {
    let format = crate::config::figment()
        .extract_inner::<crate::telemetry::LogFormat>("log_format")
        .unwrap_or_default();
    crate::telemetry::init_admin(format);
    let outcome = match command {
        Command::Serve => Err(Failure::from("`serve` is not an admin command")),
        Command::Secret(SecretCommand::Generate) => {
            println!("{}", crate::secret_key::generate());
            Ok(())
        }
        Command::Users(command) => users::run(command),
        Command::Sessions(command) => sessions::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("latchkey: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one admin command's async work on a small runtime of its own: one task, nothing
/// else sharing it, so no worker pool sized for a server.
fn block_on<T>(work: impl std::future::Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))?;
    runtime.block_on(work)
}

/// The server's services, from the server's settings.
async fn load_services() -> Result<Services, Failure> {
    crate::services(&crate::config::figment(), Arc::new(SystemClock), None)
        .await
        .map_err(Failure)
}

/// The memory store lives inside the server process: another process sees an empty,
/// private store, so answering "no sessions" would be a lie.
fn refuse_memory_store(services: &Services) -> Result<(), Failure> {
    if services.settings.store_kind() == SessionStoreKind::Memory {
        return Err(Failure::from(
            "the session store is `memory`: sessions live inside the running server's \
             process, and this command cannot see them. Set `session_store` to \"sqlite\" \
             or \"redis\" (Rocket.toml or ROCKET_SESSION_STORE) to manage sessions from \
             the command line, or restart the server to end every session.",
        ));
    }
    Ok(())
}

/// "2026-11-23 17:55:02 UTC", as the pages show times.
fn utc(at: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}
