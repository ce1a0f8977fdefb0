//! A TCP proxy a test can break: in front of the shared Redis or PostgreSQL, it makes the
//! service "go away" for one test without disturbing the others.

use std::net::SocketAddr;

use rocket::tokio::io::copy_bidirectional;
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::sync::watch;
use rocket::tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward to the real service.
    Up,
    /// Accept and close at once: the service is down (connection reset / EOF).
    Refuse,
    /// Accept and never answer: the service hangs or the network drops packets.
    Hang,
    /// Like `Hang` for new connections, and every connection open at the switch goes
    /// silent for good (a dropped NAT entry, a frozen peer): never closed, never answered,
    /// even after the mode changes again. Only a client that gives up on a silent
    /// connection and opens a new one recovers.
    Stall,
}

pub struct Proxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Up);
        let modes = mode.clone();
        let accept = rocket::tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut changed = modes.subscribe();
                let current = *changed.borrow_and_update();
                match current {
                    Mode::Refuse => drop(client),
                    Mode::Hang | Mode::Stall => {
                        rocket::tokio::spawn(async move {
                            let _held = client;
                            let _ = changed.changed().await;
                        });
                    }
                    Mode::Up => {
                        rocket::tokio::spawn(async move {
                            let Ok(mut server) = TcpStream::connect(upstream).await else {
                                return;
                            };
                            let mut client = client;
                            rocket::tokio::select! {
                                _ = copy_bidirectional(&mut client, &mut server) => {}
                                _ = changed.changed() => {}
                            }
                            if *changed.borrow() == Mode::Stall {
                                // Keep both ends open and unanswered until the test ends.
                                let _held = (client, server);
                                std::future::pending::<()>().await;
                            }
                        });
                    }
                }
            }
        });
        Self { addr, mode, accept }
    }

    /// Switches mode and cuts every open connection, as a restart or outage would.
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.mode.send_replace(Mode::Refuse);
    }
}

/// `host:port` of a `scheme://[user[:pass]@]host:port/...` URL (default `port`).
pub fn upstream_of(url: &str, default_port: u16) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    };
    let with_port = with_port.replace("localhost", "127.0.0.1");
    with_port
        .parse()
        .expect("a numeric host:port in the service URL")
}

/// The same URL with its `host:port` replaced by `addr`.
pub fn through(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("scheme://");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let userinfo = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{addr}{tail}")
}
