//! Reading a password for an admin command: from a no-echo prompt on the terminal, or
//! from the first line of stdin for scripts. Never from an argument (shell history, `ps`).

use std::io::{BufRead, IsTerminal};

use super::{Failure, PasswordSource};

/// The password, read before any async work starts, so a person typing never holds up a
/// runtime worker.
///
/// # Errors
/// When stdin is empty or unreadable, or the two prompted entries differ.
pub fn read_password(source: &PasswordSource) -> Result<String, Failure> {
    if source.password_stdin || !std::io::stdin().is_terminal() {
        return first_line_of_stdin();
    }
    let first = rpassword::prompt_password("New password: ")
        .map_err(|error| format!("cannot read the password from the terminal: {error}"))?;
    let second = rpassword::prompt_password("Repeat the password: ")
        .map_err(|error| format!("cannot read the password from the terminal: {error}"))?;
    if first != second {
        return Err(Failure::from(
            "the two passwords differ; nothing was changed",
        ));
    }
    Ok(first)
}

fn first_line_of_stdin() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| format!("cannot read the password from stdin: {error}"))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(Failure::from(
            "no password on stdin (give it as the first line, e.g. `printf '%s\\n' \"$PW\" | latchkey users add ...`)",
        ));
    }
    Ok(password.to_owned())
}
