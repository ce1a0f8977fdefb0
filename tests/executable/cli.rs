//! The admin command line, run as the real binary on the stores a server (here an
//! in-process instance on the same data directory and services) uses: users, sessions,
//! secrets, exit codes and help.

use crate::support::process;
use crate::support::stores;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use latchkey::clock::ManualClock;
use rocket::http::Status;

use crate::support::instances::{self, log_in, profile_status, PASSWORD};
use crate::support::stores::PgSchema;

/// Runs `latchkey <args>` from `dir` with `settings` as `ROCKET_*` variables and `stdin`
/// piped in. Nothing from the test's own environment leaks into its settings.
fn latchkey(dir: &Path, settings: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command
        .current_dir(dir)
        .env("ROCKET_DATA_DIR", dir)
        .env_remove("ROCKET_DATABASE_URL")
        .env_remove("ROCKET_SESSION_STORE")
        .env_remove("ROCKET_REDIS_URL")
        .env_remove("ROCKET_REDIS_KEY_PREFIX")
        .env_remove("AUTH_TYPE")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in settings {
        command.env(format!("ROCKET_{}", key.to_uppercase()), value);
    }
    let mut child = command.spawn().expect("run latchkey");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("latchkey exits")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_ok(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

#[track_caller]
fn assert_fails(output: &Output, code: i32) -> String {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}",
        stdout(output)
    );
    stderr(output)
}

/// The admin command in a blocking thread, so an in-process server on the same runtime
/// is never stalled by it.
async fn admin(dir: &Path, settings: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let dir = dir.to_owned();
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let stdin = stdin.to_owned();
    rocket::tokio::task::spawn_blocking(move || {
        let settings: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        latchkey(&dir, &settings, &args, &stdin)
    })
    .await
    .unwrap()
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["users", "--help"],
        &["users", "add", "--help"],
        &["users", "list", "--help"],
        &["users", "delete", "--help"],
        &["users", "set-password", "--help"],
        &["sessions", "--help"],
        &["sessions", "list", "--help"],
        &["sessions", "revoke", "--help"],
        &["sessions", "purge-expired", "--help"],
        &["secret", "--help"],
        &["secret", "generate", "--help"],
    ] {
        let output = latchkey(dir.path(), &[], args, "");
        let text = assert_ok(&output);
        assert!(text.contains("Usage: latchkey"), "{args:?}: {text}");
    }
}

#[test]
fn usage_errors_exit_2_and_a_password_is_never_an_argument() {
    let dir = tempfile::tempdir().unwrap();

    let with_password_argument = latchkey(
        dir.path(),
        &[],
        &["users", "add", "ann@example.com", PASSWORD],
        "",
    );
    let unknown = latchkey(dir.path(), &[], &["users", "frobnicate"], "");
    let revoke_nothing = latchkey(dir.path(), &[], &["sessions", "revoke"], "");

    assert_fails(&with_password_argument, 2);
    assert_fails(&unknown, 2);
    assert_fails(&revoke_nothing, 2);
    assert!(!dir.path().join("latchkey.db").exists(), "nothing was done");
}

#[test]
fn secret_generate_prints_a_64_byte_base64_key() {
    let dir = tempfile::tempdir().unwrap();

    let first = assert_ok(&latchkey(dir.path(), &[], &["secret", "generate"], ""));
    let second = assert_ok(&latchkey(dir.path(), &[], &["secret", "generate"], ""));

    let key = base64::engine::general_purpose::STANDARD
        .decode(first.trim())
        .expect("base64");
    assert_eq!(key.len(), 64);
    assert_ne!(first, second);
}

#[test]
fn users_add_list_set_password_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdin = format!("{PASSWORD}\n");

    let added = latchkey(
        d,
        &[],
        &[
            "users",
            "add",
            "Ann@Example.com",
            "--first-name",
            "Ann",
            "--last-name",
            "Lee",
        ],
        &stdin,
    );
    let again = latchkey(d, &[], &["users", "add", "ann@example.com"], &stdin);
    let short = latchkey(d, &[], &["users", "add", "bo@example.com"], "short\n");
    let empty = latchkey(d, &[], &["users", "add", "cy@example.com"], "");
    let listed = latchkey(d, &[], &["users", "list"], "");

    assert!(assert_ok(&added).contains("created user"));
    assert!(assert_fails(&again, 1).contains("exists already"));
    assert!(assert_fails(&short, 1).contains("at least 15 characters"));
    assert!(assert_fails(&empty, 1).contains("no password on stdin"));
    let listed = assert_ok(&listed);
    assert!(listed.contains("ann@example.com"), "{listed}");
    assert!(listed.contains("Ann Lee"), "{listed}");
    assert!(listed.contains("1 user(s)"), "{listed}");
    assert!(!listed.contains(PASSWORD));

    let changed = latchkey(
        d,
        &[],
        &[
            "users",
            "set-password",
            "ann@example.com",
            "--password-stdin",
        ],
        "another good password\n",
    );
    assert!(assert_ok(&changed).contains("password changed"));
    let deleted = latchkey(d, &[], &["users", "delete", "ann@example.com"], "");
    assert!(assert_ok(&deleted).contains("deleted user"));
    let missing = latchkey(d, &[], &["users", "delete", "ann@example.com"], "");
    assert!(assert_fails(&missing, 1).contains("no user"));
    assert!(assert_ok(&latchkey(d, &[], &["users", "list"], "")).contains("0 user(s)"));
}

#[test]
fn session_commands_refuse_the_memory_store_and_say_why() {
    let dir = tempfile::tempdir().unwrap();

    for args in [
        &["sessions", "list"][..],
        &["sessions", "revoke", "--user", "ann@example.com"],
        &["sessions", "purge-expired"],
    ] {
        let output = latchkey(dir.path(), &[("session_store", "memory")], args, "");
        let message = assert_fails(&output, 1);
        assert!(message.contains("`memory`"), "{message}");
        assert!(message.contains("cannot see"), "{message}");
    }
}

#[test]
fn an_unreachable_store_is_a_clear_failure() {
    let dir = tempfile::tempdir().unwrap();
    let port = process::free_port();
    let url = format!("redis://127.0.0.1:{port}");

    let output = latchkey(
        dir.path(),
        &[("session_store", "redis"), ("redis_url", &url)],
        &["sessions", "list"],
        "",
    );

    let message = assert_fails(&output, 1);
    assert!(message.contains("`redis_url`"), "{message}");
}

/// The whole session workflow against one backend: a server (in process) and the CLI on
/// the same settings.
async fn sessions_workflow(settings: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clock = ManualClock::starting_now();
    let client = instances::client(instances::figment(d, settings), &clock).await;
    let stdin = format!("{PASSWORD}\n");
    assert_ok(&admin(d, settings, &["users", "add", "kim@example.com"], &stdin).await);
    assert_ok(&admin(d, settings, &["users", "add", "lou@example.com"], &stdin).await);
    let kim_phone = log_in(&client, "kim@example.com").await;
    let kim_laptop = log_in(&client, "kim@example.com").await;
    let lou = log_in(&client, "lou@example.com").await;

    // List: every live session, with its user, by key prefix only.
    let listed = assert_ok(&admin(d, settings, &["sessions", "list"], "").await);
    assert!(listed.contains("3 live session(s)"), "{listed}");
    let kims = assert_ok(
        &admin(
            d,
            settings,
            &["sessions", "list", "--user", "kim@example.com"],
            "",
        )
        .await,
    );
    assert!(kims.contains("2 live session(s)"), "{kims}");
    assert!(!kims.contains("lou@example.com"), "{kims}");

    // Revoke one by its prefix: exactly that browser is out.
    let lou_line = listed
        .lines()
        .find(|line| line.contains("lou@example.com"))
        .expect("Lou's session is listed");
    let prefix = &lou_line[..10];
    let revoked = admin(d, settings, &["sessions", "revoke", prefix], "").await;
    assert!(assert_ok(&revoked).contains("ended session"));
    assert_eq!(profile_status(&client, &lou).await, Status::SeeOther);
    assert_eq!(profile_status(&client, &kim_phone).await, Status::Ok);
    let gone = admin(d, settings, &["sessions", "revoke", prefix], "").await;
    assert!(assert_fails(&gone, 1).contains("no live session"));

    // A new password ends every session of the user.
    let changed = admin(
        d,
        settings,
        &["users", "set-password", "kim@example.com"],
        "a brand new password\n",
    )
    .await;
    assert!(assert_ok(&changed).contains("ended 2 session(s)"));
    assert_eq!(profile_status(&client, &kim_phone).await, Status::SeeOther);
    assert_eq!(profile_status(&client, &kim_laptop).await, Status::SeeOther);

    // Revoke by user.
    let lou = log_in(&client, "lou@example.com").await;
    let by_user = admin(
        d,
        settings,
        &["sessions", "revoke", "--user", "lou@example.com"],
        "",
    )
    .await;
    assert!(assert_ok(&by_user).contains("ended 1 session(s)"));
    assert_eq!(profile_status(&client, &lou).await, Status::SeeOther);
    let listed = assert_ok(&admin(d, settings, &["sessions", "list"], "").await);
    assert!(listed.contains("0 live session(s)"), "{listed}");
    drop(client);

    // Purge: sessions a server started two days ago (its clock says so) have expired.
    let past = ManualClock::new(clock_now_minus_days(2));
    let client = instances::client(instances::figment(d, settings), &past).await;
    log_in(&client, "lou@example.com").await;
    let purged = admin(d, settings, &["sessions", "purge-expired"], "").await;
    assert!(assert_ok(&purged).contains("removed 1 expired session(s)"));
}

fn clock_now_minus_days(days: i64) -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now) - time::Duration::days(days)
}

#[rocket::async_test]
async fn sessions_list_revoke_and_purge_on_sqlite() {
    sessions_workflow(&[("session_store", "sqlite")]).await;
}

#[rocket::async_test]
async fn sessions_list_revoke_and_purge_on_redis_and_postgres() {
    let (Some(redis_url), Some(database_url)) = (stores::redis_url(), stores::database_url())
    else {
        return;
    };
    let prefix = stores::unique_prefix();
    let schema = PgSchema::create(&database_url).await;
    sessions_workflow(&[
        ("session_store", "redis"),
        ("redis_url", &redis_url),
        ("redis_key_prefix", &prefix),
        ("database_url", &schema.url),
    ])
    .await;
    stores::redis_cleanup(&redis_url, &prefix).await;
    schema.drop_now().await;
}
