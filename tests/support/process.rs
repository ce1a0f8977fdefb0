//! The real binary over real HTTP: start it on a free port, talk to it with a minimal
//! HTTP/1.1 client (one request per connection), keep cookies like a browser.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `latchkey` binary with settings as `ROCKET_*` variables, run from `dir` (so no
/// Rocket.toml applies but the built-in defaults and these).
pub fn command(dir: &Path, port: u16, settings: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command
        .current_dir(dir)
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_DATA_DIR", dir)
        .env("ROCKET_LOG_LEVEL", "critical")
        .env_remove("ROCKET_SECRET_KEY")
        .env_remove("ROCKET_DATABASE_URL")
        .env_remove("ROCKET_SESSION_STORE")
        .env_remove("ROCKET_REDIS_CLUSTER_NODES")
        .env_remove("ROCKET_POSTGRES_SESSION_SCHEMA")
        .stdin(Stdio::null());
    for (key, value) in settings {
        command.env(format!("ROCKET_{}", key.to_uppercase()), value);
    }
    command
}

/// A running server, killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Server {
    /// Starts the binary and waits until `/health` answers.
    pub fn start(dir: &Path, settings: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = command(dir, port, settings)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start latchkey");
        let mut server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = try_request(port, "GET", "/health", &Jar::default(), None) {
                if response.status == 200 {
                    return server;
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("latchkey exited during start-up: {status}");
            }
            assert!(Instant::now() < deadline, "latchkey did not start in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no shutdown hooks, no flushing; what a crash or OOM kill looks like.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Cookies by name, updated from `Set-Cookie` like a browser (a removal deletes).
#[derive(Default, Clone, Debug)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn update(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
            return;
        };
        let removed =
            value.is_empty() || parts.any(|attr| attr.trim().eq_ignore_ascii_case("max-age=0"));
        if removed {
            self.0.remove(name);
        } else {
            self.0.insert(name.to_owned(), value.to_owned());
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request; `form` is sent urlencoded. Cookies the answer sets go into `jar`.
pub fn request(port: u16, method: &str, path: &str, jar: &mut Jar, form: Option<&str>) -> Response {
    let response = try_request(port, method, path, jar, form).expect("HTTP request");
    for (name, value) in &response.headers {
        if name.eq_ignore_ascii_case("set-cookie") {
            jar.update(value);
        }
    }
    response
}

pub fn try_request(
    port: u16,
    method: &str,
    path: &str,
    jar: &Jar,
    form: Option<&str>,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nUser-Agent: latchkey-tests\r\n");
    if let Some(cookies) = jar.header() {
        head.push_str(&format!("Cookie: {cookies}\r\n"));
    }
    let body = form.unwrap_or_default();
    if form.is_some() {
        head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: body.to_owned(),
    })
}
