//! The data directory holds emails, password hashes, sessions, throttle counters and the
//! cookie key: a folder Latchkey creates is 0700 and every file in it 0600, SQLite's
//! `-wal` and `-shm` files included; files left looser by an earlier run are tightened.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::{TestApp, PASSWORD};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Every file in `dir`, with its mode.
fn file_modes(dir: &Path) -> Vec<(String, u32)> {
    let mut files: Vec<(String, u32)> = fs::read_dir(dir)
        .expect("read the data directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, mode(&path))
        })
        .collect();
    files.sort();
    files
}

/// An app that keeps everything it can in the data directory (users, sessions,
/// throttle counters, a generated secret key), with a signup and a failed login so every
/// database has been written to.
async fn run_app_on(data_dir: &Path, email: &str) -> TestApp {
    let app = TestApp::builder()
        .setting("session_store", "sqlite")
        .without_secret_key()
        .data_dir(data_dir)
        .spawn()
        .await;
    let browser = app.logged_in_browser(email).await;
    drop(browser);
    let reply = app.browser().login(email, "not the password").await;
    assert_ne!(reply.status.code, 303, "the wrong password was refused");
    assert_eq!(app.browser().login(email, PASSWORD).await.status.code, 303);
    app
}

#[rocket::async_test]
async fn a_fresh_data_directory_is_0700_and_every_file_in_it_0600() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("state").join("latchkey");

    let app = run_app_on(&data_dir, "ann@example.com").await;

    assert_eq!(mode(&data_dir), 0o700);
    assert_eq!(mode(&parent.path().join("state")), 0o700);
    let files = file_modes(&data_dir);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for expected in [
        "latchkey.db",
        "latchkey.db-wal",
        "latchkey.db-shm",
        "sessions.db",
        "sessions.db-wal",
        "sessions.db-shm",
        "throttle.db",
        "secret_key",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for (name, file_mode) in &files {
        assert_eq!(*file_mode, 0o600, "{name} is {file_mode:o}");
    }
    drop(app);
}

#[rocket::async_test]
async fn files_left_readable_by_an_earlier_run_are_tightened_and_the_folder_is_left_alone() {
    let data_dir = tempfile::tempdir().unwrap();
    drop(run_app_on(data_dir.path(), "ann@example.com").await);
    fs::set_permissions(data_dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    for (name, _) in file_modes(data_dir.path()) {
        let path = data_dir.path().join(name);
        // SQLite may still be removing its -wal/-shm files as the first run closes.
        match fs::set_permissions(path, fs::Permissions::from_mode(0o644)) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            result => result.unwrap(),
        }
    }

    let app = run_app_on(data_dir.path(), "ben@example.com").await;

    for (name, file_mode) in file_modes(data_dir.path()) {
        assert_eq!(file_mode, 0o600, "{name} is {file_mode:o}");
    }
    assert_eq!(
        mode(data_dir.path()),
        0o755,
        "an existing folder is the operator's choice: warned about, not changed"
    );
    drop(app);
}
