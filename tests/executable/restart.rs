//! Sessions in SQLite survive the process being killed: the real binary, real HTTP,
//! SIGKILL (no graceful shutdown), and a second start on the same data directory.

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

#[test]
fn an_acknowledged_session_and_user_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let settings = [("session_store", "sqlite")];
    let server = Server::start(dir.path(), &settings);
    let mut browser = Jar::default();
    sign_up(server.port, &mut browser, "kim@example.com");
    assert_eq!(
        request(server.port, "GET", "/profile", &mut browser, None).status,
        200
    );

    server.kill();
    let server = Server::start(dir.path(), &settings);

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
