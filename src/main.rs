use std::process::ExitCode;

/// Serves Latchkey. A failed start (a setting, database or store that does not work)
/// has already been explained on stderr; the exit code says so to scripts and
/// supervisors instead of Rocket's panic on an unhandled launch error.
#[rocket::main]
async fn main() -> ExitCode {
    match latchkey::rocket().launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Latchkey stopped: {error}");
            ExitCode::FAILURE
        }
    }
}
