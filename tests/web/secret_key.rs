//! With no `secret_key` configured, the app generates one into the data directory on first
//! start (owner-only permissions) and reuses it on later starts, so cookies outlive restarts.

use std::fs;

use crate::support::*;
use rocket::http::Status;

fn key_file(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("secret_key")
}

#[rocket::async_test]
async fn first_start_writes_a_secret_key_file() {
    let dir = tempfile::tempdir().unwrap();

    let _app = TestApp::builder()
        .without_secret_key()
        .data_dir(dir.path())
        .spawn()
        .await;

    let key = fs::read_to_string(key_file(dir.path())).expect("a secret_key file");
    // 64 random bytes, base64: 88 characters.
    assert!(
        key.trim().len() >= 86,
        "key too short: {} characters",
        key.len()
    );
}

#[cfg(unix)]
#[rocket::async_test]
async fn the_secret_key_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();

    let _app = TestApp::builder()
        .without_secret_key()
        .data_dir(dir.path())
        .spawn()
        .await;

    let mode = fs::metadata(key_file(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {:o}", mode & 0o777);
}

#[rocket::async_test]
async fn a_second_start_reuses_the_secret_key_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let first = TestApp::builder()
        .without_secret_key()
        .data_dir(dir.path())
        .spawn()
        .await;
    let key_at_first_start = fs::read_to_string(key_file(dir.path())).unwrap();
    drop(first);

    let _second = TestApp::builder()
        .without_secret_key()
        .data_dir(dir.path())
        .spawn()
        .await;

    let key_at_second_start = fs::read_to_string(key_file(dir.path())).unwrap();
    assert_eq!(key_at_second_start, key_at_first_start);
}

#[rocket::async_test]
async fn a_second_start_reads_cookies_encrypted_by_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let first = TestApp::builder()
        .without_secret_key()
        .data_dir(dir.path())
        .spawn()
        .await;
    let browser = first.browser();
    let token = browser.csrf_token_from("/signup").await;
    let csrf_cookie = browser.cookie(CSRF_COOKIE).unwrap();
    drop(browser);
    drop(first);
    let second = TestApp::builder()
        .without_secret_key()
        .data_dir(dir.path())
        .spawn()
        .await;
    let same_browser = second.browser();
    same_browser.set_cookie(CSRF_COOKIE, &csrf_cookie);

    // The form loaded from the first instance is accepted by the second: its encrypted
    // CSRF cookie decrypts to the token in the form.
    let reply = same_browser
        .signup_with_token(&Signup::new("alice@example.com", PASSWORD), &token)
        .await;

    assert_ne!(reply.status, Status::Forbidden, "{}", reply.body);
    assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn a_configured_secret_key_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();

    let _app = TestApp::builder().data_dir(dir.path()).spawn().await;

    assert!(!key_file(dir.path()).exists());
}
