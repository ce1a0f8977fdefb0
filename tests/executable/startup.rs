//! What the real binary does for itself at start: it raises its open-file limit to the
//! hard limit (idle connections each hold a descriptor, and Rocket 0.5 never times them
//! out) and says so, and it warns when the API is open to anyone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::process as http;

/// The soft limit the binary is started with, as a service manager's default would be.
const LOW_SOFT_LIMIT: u64 = 512;

/// A running binary, killed when dropped, whose stderr is read at the end.
struct Running {
    child: Child,
}

impl Running {
    /// Starts `command` and waits until `/health` on `port` answers 200.
    fn start(mut command: Command, port: u16) -> Self {
        let child = command
            .env("ROCKET_LOG_LEVEL", "normal")
            .env("ROCKET_LOG_FORMAT", "text")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start latchkey");
        let mut running = Self { child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !health_answers(port) {
            if let Ok(Some(status)) = running.child.try_wait() {
                panic!("latchkey exited during start-up: {status}");
            }
            assert!(Instant::now() < deadline, "latchkey did not start in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        running
    }

    /// Stops the server and returns what it wrote to stderr.
    fn stop(mut self) -> String {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut text).expect("read stderr");
        }
        text
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn health_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// (soft, hard) "Max open files" of a running process, from `/proc/<pid>/limits`.
fn open_file_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("proc limits");
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .expect("a Max open files line");
    let figures: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (figures[0], figures[1])
}

/// This test process's hard open-file limit, which the child inherits.
fn hard_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    limit.rlim_max
}

fn command(dir: &Path, port: u16) -> Command {
    let mut command = http::command(dir, port, &[]);
    command
        .env_remove("AUTH_TYPE")
        .env_remove("ROCKET_AUTH_TYPE");
    command
}

#[test]
fn the_soft_open_file_limit_is_raised_to_the_hard_limit_and_logged() {
    let hard = hard_limit();
    assert!(
        hard > LOW_SOFT_LIMIT,
        "this machine's hard limit ({hard}) leaves nothing to raise"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = 18210;
    let mut command = command(dir.path(), port);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            limit.rlim_cur = LOW_SOFT_LIMIT;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }

    let running = Running::start(command, port);
    let (soft, hard_seen) = open_file_limits(running.child.id());
    let log = running.stop();

    assert_eq!(hard_seen, hard);
    assert_eq!(soft, hard, "the soft limit was left at {soft}");
    assert!(
        log.contains(&format!(
            "open-file limit: {hard} (raised from {LOW_SOFT_LIMIT}"
        )),
        "{log}"
    );
}

#[test]
fn an_empty_auth_type_warns_that_the_api_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let port = 18211;
    let mut command = command(dir.path(), port);
    command.env("AUTH_TYPE", "");

    let log = Running::start(command, port).stop();

    let warning = log
        .lines()
        .find(|line| line.contains("AUTH_TYPE is empty or `none`"))
        .unwrap_or_else(|| panic!("no warning in:\n{log}"));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(
        warning.contains("anyone who can reach this server"),
        "{warning}"
    );
}

#[test]
fn the_default_auth_type_gives_no_open_api_warning() {
    let dir = tempfile::tempdir().unwrap();
    let port = 18212;

    let log = Running::start(command(dir.path(), port), port).stop();

    assert!(!log.contains("AUTH_TYPE is empty"), "{log}");
    assert!(log.contains("open-file limit"), "{log}");
}
