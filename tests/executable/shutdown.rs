//! Graceful shutdown of the real binary: SIGTERM while a login is in flight lets that
//! login finish with its normal answer, the process exits 0 within the grace period, and
//! (SQLite sessions) what was acknowledged is still there after a restart.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::process::{request, Jar, Server};
use crate::support::{csrf_token, encode_form as form, PASSWORD};

fn sign_up(port: u16, jar: &mut Jar, email: &str) {
    let page = request(port, "GET", "/signup", jar, None);
    let token = csrf_token(&page.body);
    let body = form(&[
        ("csrf_token", &token),
        ("email", email),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ]);
    let answer = request(port, "POST", "/signup", jar, Some(&body));
    assert_eq!(answer.status, 303, "signup: {}", answer.body);
}

fn terminate(server: &Server) {
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// The session cookie's `name=value` from a raw HTTP answer.
fn session_cookie(raw: &str) -> Option<String> {
    raw.lines()
        .filter(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
        .map(|line| line["set-cookie:".len()..].trim())
        .find(|cookie| {
            cookie.starts_with("latchkey_session=") && !cookie.starts_with("latchkey_session=;")
        })
        .and_then(|cookie| cookie.split(';').next())
        .map(|pair| pair["latchkey_session=".len()..].to_owned())
}

#[test]
fn sigterm_lets_an_in_flight_login_finish_and_keeps_its_session() {
    let dir = tempfile::tempdir().unwrap();
    let settings = [("session_store", "sqlite")];
    let mut server = Server::start(dir.path(), &settings);
    let port = server.port;
    let mut first = Jar::default();
    sign_up(port, &mut first, "sam@example.com");

    // A login whose body is still arriving when SIGTERM comes.
    let mut second = Jar::default();
    let page = request(port, "GET", "/login", &mut second, None);
    let token = csrf_token(&page.body);
    let body = form(&[
        ("csrf_token", &token),
        ("email", "sam@example.com"),
        ("password", PASSWORD),
    ]);
    let cookies: Vec<String> = second.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Cookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        cookies.join("; "),
        body.len()
    );
    let (start, rest) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(start.as_bytes()).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200)); // the server has read the head

    terminate(&server);
    let signalled = Instant::now();
    std::thread::sleep(Duration::from_millis(300)); // shutdown is under way
    stream.write_all(rest.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();

    assert!(raw.starts_with("HTTP/1.1 303"), "the login finished: {raw}");
    let new_session = session_cookie(&raw).expect("the login set a session cookie");
    let exit = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit}");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens any more"
    );

    // Restart on the same data directory: both acknowledged sessions are there.
    let server = Server::start(dir.path(), &settings);
    let profile = request(server.port, "GET", "/profile", &mut first, None);
    assert_eq!(profile.status, 200, "the signup session survived");
    let mut logged_in = Jar::default();
    logged_in.0.insert("latchkey_session".into(), new_session);
    let profile = request(server.port, "GET", "/profile", &mut logged_in, None);
    assert_eq!(
        profile.status, 200,
        "the in-flight login's session survived"
    );
    assert!(profile.body.contains("sam@example.com"));
}
