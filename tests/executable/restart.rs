//! Sessions in SQLite, and in PostgreSQL, survive the process being killed: the real
//! binary, real HTTP, SIGKILL (no graceful shutdown), and a second start on the same
//! data directory and database.

use crate::support::process::{request, Jar, Server};
use crate::support::{csrf_token, encode_form as form, PASSWORD};

fn sign_up(port: u16, jar: &mut Jar, email: &str) {
    let page = request(port, "GET", "/signup", jar, None);
    assert_eq!(page.status, 200);
    let token = csrf_token(&page.body);
    let body = form(&[
        ("csrf_token", &token),
        ("email", email),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ]);
    let answer = request(port, "POST", "/signup", jar, Some(&body));
    assert_eq!(answer.status, 303, "signup: {}", answer.body);
    assert!(jar.0.contains_key("latchkey_session"));
}

fn log_in(port: u16, jar: &mut Jar, email: &str) {
    let page = request(port, "GET", "/login", jar, None);
    let token = csrf_token(&page.body);
    let body = form(&[
        ("csrf_token", &token),
        ("email", email),
        ("password", PASSWORD),
    ]);
    let answer = request(port, "POST", "/login", jar, Some(&body));
    assert_eq!(answer.status, 303, "login: {}", answer.body);
}

/// Signs up, kills the server without warning, starts it again with the same settings:
/// the acknowledged session and user are still there, and logging in again works.
fn survives_sigkill(dir: &std::path::Path, settings: &[(&str, &str)]) {
    let server = Server::start(dir, settings);
    let mut browser = Jar::default();
    sign_up(server.port, &mut browser, "kim@example.com");
    assert_eq!(
        request(server.port, "GET", "/profile", &mut browser, None).status,
        200
    );

    server.kill();
    let server = Server::start(dir, settings);

    let profile = request(server.port, "GET", "/profile", &mut browser, None);
    assert_eq!(profile.status, 200, "the session outlived the process");
    assert!(profile.body.contains("kim@example.com"));
    let mut other_browser = Jar::default();
    log_in(server.port, &mut other_browser, "kim@example.com");
    assert_eq!(
        request(server.port, "GET", "/profile", &mut other_browser, None).status,
        200
    );
}

#[test]
fn an_acknowledged_session_and_user_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    survives_sigkill(dir.path(), &[("session_store", "sqlite")]);
}

#[test]
fn postgres_sessions_and_users_survive_sigkill() {
    let Some(database_url) = crate::support::stores::database_url() else {
        return;
    };
    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let users = runtime.block_on(crate::support::stores::PgSchema::create(&database_url));
    let sessions = crate::support::stores::DropSchema {
        url: database_url,
        name: crate::support::stores::unique_schema_name(),
    };
    let dir = tempfile::tempdir().unwrap();
    survives_sigkill(
        dir.path(),
        &[
            ("session_store", "postgres"),
            ("database_url", &users.url),
            ("postgres_session_schema", &sessions.name),
        ],
    );
    runtime.block_on(users.drop_now());
}
