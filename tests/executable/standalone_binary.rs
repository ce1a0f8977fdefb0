//! The binary copied alone into an empty directory (no templates/, no static/, no
//! Rocket.toml, no environment) serves every page with its stylesheet and creates its
//! data directory there: templates and static files are built into it.
//!
//! Where the machine allows a private mount namespace (root, or unprivileged user
//! namespaces), the copy also runs with this checkout's `templates/` and `static/`
//! hidden behind empty directories, as on a host that never had the source: a binary
//! that still read them from where it was compiled would fail here.

#[allow(dead_code)]
use crate::support::process as http;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::{request, Jar};

const PASSWORD: &str = "correct horse battery staple";

/// The copied binary, running; killed when dropped.
struct Alone {
    child: Child,
    port: u16,
}

impl Drop for Alone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `unshare` can give a child its own mount namespace here.
fn can_hide_source_tree() -> bool {
    Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `binary`, with this checkout's `templates/` and `static/` covered by empty
/// directories when the machine allows it.
fn without_source_tree(binary: &Path) -> Command {
    if !can_hide_source_tree() {
        eprintln!("note: no private mount namespace here; the checkout stays visible");
        return Command::new(binary);
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new("unshare");
    command
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(r#"mount -t tmpfs none "$1" && mount -t tmpfs none "$2" && exec "$3""#)
        .arg("sh")
        .arg(source.join("templates"))
        .arg(source.join("static"))
        .arg(binary);
    command
}

/// The binary copied into `dir`, to run there with nothing but a port and `settings`
/// (`ROCKET_*` variables).
fn copied_binary(dir: &Path, port: u16, settings: &[(&str, &Path)]) -> Command {
    let binary = dir.join("latchkey");
    std::fs::copy(env!("CARGO_BIN_EXE_latchkey"), &binary).expect("copy the binary");
    let mut command = without_source_tree(&binary);
    command
        .current_dir(dir)
        .env_clear()
        // For `unshare`, `sh` and `mount` only: Latchkey reads no PATH.
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "critical")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (key, value) in settings {
        command.env(format!("ROCKET_{}", key.to_uppercase()), value);
    }
    command
}

/// Copies the binary into `dir` and starts it there.
fn start_alone(dir: &Path) -> Alone {
    start_alone_with(dir, &[])
}

fn start_alone_with(dir: &Path, settings: &[(&str, &Path)]) -> Alone {
    let port = http::free_port();
    let child = copied_binary(dir, port, settings)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the copied binary");
    let mut alone = Alone { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = alone.child.try_wait() {
            panic!("the copied binary exited during start-up: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the copied binary did not start in 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    alone
}

/// A GET with one extra header, for conditional requests: (status, head, body length).
fn get_with_header(port: u16, path: &str, header: &str) -> (u16, String, usize) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{header}\r\n\r\n"
    )
    .expect("send");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), body.len())
}

fn assert_html_page(port: u16, jar: &mut Jar, path: &str) -> String {
    let page = request(port, "GET", path, jar, None);
    assert_eq!(page.status, 200, "GET {path}");
    assert!(
        page.header("content-type")
            .is_some_and(|value| value.starts_with("text/html")),
        "GET {path}: {:?}",
        page.header("content-type")
    );
    assert!(page.body.contains("</html>"), "GET {path} is a whole page");
    assert!(
        page.body.contains("/static/style.css"),
        "GET {path} links the stylesheet"
    );
    page.body
}

fn csrf_token(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("a csrf_token field") + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_owned()
}

#[test]
fn the_binary_alone_serves_every_page_and_creates_its_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_alone(dir.path());
    let port = server.port;
    let mut jar = Jar::default();

    let health = request(port, "GET", "/health", &mut jar, None);
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    for path in ["/", "/login", "/how-it-works"] {
        assert_html_page(port, &mut jar, path);
    }
    let signup = assert_html_page(port, &mut jar, "/signup");

    // Signing up writes the users database and logs in: the signed-in pages render too.
    let form = format!(
        "email=alone%40example.com&password={pw}&password_confirmation={pw}\
         &first_name=Al&last_name=One&csrf_token={}",
        csrf_token(&signup),
        pw = PASSWORD.replace(' ', "+"),
    );
    let signed_up = request(port, "POST", "/signup", &mut jar, Some(&form));
    assert_eq!(
        signed_up.status, 303,
        "signup redirects: {}",
        signed_up.body
    );
    for path in ["/profile", "/session", "/sessions", "/password", "/logout"] {
        assert_html_page(port, &mut jar, path);
    }

    let missing = request(port, "GET", "/no-such-page", &mut jar, None);
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("</html>"), "the error page renders");

    let css = request(port, "GET", "/static/style.css", &mut jar, None);
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert_eq!(
        css.body,
        include_str!("../../static/style.css"),
        "the stylesheet as built"
    );

    assert!(
        dir.path().join("data").is_dir(),
        "data/ created beside the binary"
    );
    assert!(dir.path().join("data/latchkey.db").is_file());
}

#[test]
fn built_in_static_files_carry_a_validator_and_unknown_ones_are_404() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_alone(dir.path());
    let port = server.port;
    let mut jar = Jar::default();

    let first = request(port, "GET", "/static/style.css", &mut jar, None);
    assert_eq!(first.header("cache-control"), Some("public, max-age=3600"));
    let etag = first.header("etag").expect("an ETag").to_owned();

    let (status, head, body_len) =
        get_with_header(port, "/static/style.css", &format!("If-None-Match: {etag}"));
    assert_eq!((status, body_len), (304, 0), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("cache-control: public, max-age=3600"));
    let (status, _, body_len) = get_with_header(
        port,
        "/static/style.css",
        "If-None-Match: \"someone-elses-tag\"",
    );
    assert_eq!(status, 200);
    assert_eq!(body_len, include_str!("../../static/style.css").len());

    for path in [
        "/static/no-such-file.css",
        "/static/",
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
    ] {
        let response = request(port, "GET", path, &mut jar, None);
        assert_eq!(response.status, 404, "GET {path}");
    }
}

#[test]
fn template_dir_and_static_dir_are_read_from_disk_instead() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("my-templates");
    let static_files = dir.path().join("my-static");
    std::fs::create_dir(&templates).unwrap();
    std::fs::create_dir(&static_files).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, templates.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        templates.join("index.html.tera"),
        r#"{% extends "base" %}{% block content %}<p>Home from disk</p>{% endblock content %}"#,
    )
    .unwrap();
    std::fs::write(static_files.join("hello.txt"), "static from disk").unwrap();

    let server = start_alone_with(
        dir.path(),
        &[("template_dir", &templates), ("static_dir", &static_files)],
    );
    let port = server.port;
    let mut jar = Jar::default();

    let home = assert_html_page(port, &mut jar, "/");
    assert!(home.contains("<p>Home from disk</p>"), "{home}");
    let hello = request(port, "GET", "/static/hello.txt", &mut jar, None);
    assert_eq!(
        (hello.status, hello.body.as_str()),
        (200, "static from disk")
    );
    let css = request(port, "GET", "/static/style.css", &mut jar, None);
    assert_eq!(css.status, 404, "only static_dir is served");
}

#[test]
fn a_template_dir_or_static_dir_that_is_not_a_directory_stops_the_start() {
    for key in ["template_dir", "static_dir"] {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("not-there");

        let mut child = copied_binary(dir.path(), http::free_port(), &[(key, &missing)])
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the copied binary");
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{key} pointing nowhere: still running after 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().unwrap();

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{key}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid setting `{key}`")) && stderr.contains("not-there"),
            "{key}: {stderr}"
        );
    }
}
