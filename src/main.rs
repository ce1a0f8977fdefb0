use std::process::ExitCode;

use clap::Parser;
use latchkey::cli::{Cli, Command};

/// `latchkey` (or `latchkey serve`) serves; the other commands administer the same stores
/// (`latchkey --help`). A usage error exits 2 (clap), a failed command 1.
fn main() -> ExitCode {
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Serve => rocket::execute(serve()),
        admin => latchkey::cli::run_admin(admin),
    }
}

/// Serves Latchkey. A failed start (a setting, database or store that does not work)
/// has already been explained on stderr; the exit code says so to scripts and
/// supervisors instead of Rocket's panic on an unhandled launch error.
async fn serve() -> ExitCode {
    match latchkey::rocket().launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Latchkey stopped: {error}");
            ExitCode::FAILURE
        }
    }
}
