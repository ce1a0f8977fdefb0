use std::process::ExitCode;

use clap::Parser;
use latchkey::cli::{Cli, Command};
use latchkey::telemetry::{self, LogFormat};

/// Cheaper than glibc's malloc on the request path (Cargo.toml says how much).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let figment = latchkey::config::figment();
    let format = match figment.extract_inner::<LogFormat>("log_format") {
        Ok(format) => format,
        Err(_) if figment.find_value("log_format").is_err() => LogFormat::default(),
        Err(error) => {
            eprintln!("Latchkey cannot start: invalid setting `log_format`: {error}");
            return ExitCode::FAILURE;
        }
    };
    let level = figment
        .extract_inner::<String>("log_level")
        .unwrap_or_else(|_| "normal".to_owned());
    if let Err(message) = telemetry::init(format, &level) {
        eprintln!("Latchkey cannot start: {message}");
        return ExitCode::FAILURE;
    }
    // Before any connection is accepted: idle connections each hold a file descriptor.
    latchkey::fd_limit::raise_and_log();
    match latchkey::build(figment, std::sync::Arc::new(latchkey::clock::SystemClock))
        .launch()
        .await
    {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Latchkey stopped: {error}");
            ExitCode::FAILURE
        }
    }
}
