//! The tamper demo on the session inspector: Latchkey sends itself a copy of this
//! browser's session cookie with one byte flipped and shows the answer, so anyone can
//! see what an altered cookie gets without browser devtools: it does not decrypt
//! (AES-GCM authenticates every byte), the request is anonymous, and the answer tells
//! the browser to drop the cookie.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use base64::Engine;

use rocket::http::{Cookie, CookieJar};
use rocket::response::Redirect;
use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::TcpStream;
use rocket::{post, routes, Route, State};
use serde_json::{json, Value};

use super::inspect::session_context;
use crate::auth::Auth;
use crate::config::Settings;
use crate::errors::AppError;
use crate::web::csrf::{CsrfForm, TokenOnly};
use crate::web::exchange_log::{redact_pair, redact_set_cookie};
use crate::web::guards::CurrentUser;
use crate::web::views::View;

/// The path the copy is sent to: a page only a logged-in person sees, so the answer
/// shows at once whether the cookie was accepted. (A page, not the API: an API refusal
/// is an error answer, which carries no cookie changes, so it could not show the
/// removal.)
const PROBE_PATH: &str = "/profile";
/// The answer is a few hundred bytes; anything longer is cut.
const MAX_ANSWER: u64 = 16 * 1024;
const TIMEOUT: Duration = Duration::from_secs(3);

pub fn routes() -> Vec<Route> {
    routes![tamper, tamper_needs_login]
}

/// A CSRF-protected form post: it makes the server send a request, so another site must
/// not be able to trigger it.
#[post("/session/tamper", data = "<_form>")]
async fn tamper(
    current: CurrentUser,
    _form: CsrfForm<TokenOnly>,
    jar: &CookieJar<'_>,
    settings: &State<Settings>,
    auth: &State<Auth>,
    config: &rocket::Config,
) -> Result<View, AppError> {
    let original = jar
        .get(&settings.session_name)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let (tampered, flipped_at) = flip_one_byte(&original);
    let pair = Cookie::new(settings.session_name.clone(), tampered)
        .encoded()
        .stripped()
        .to_string();
    let answer = match send_to_self(config, &pair).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!("tamper demo: could not reach this server: {error}");
            json!({ "unreachable": error.to_string() })
        }
    };
    let mut view = session_context(&current, jar, settings, auth);
    view.tamper = Some(json!({
        "sent": redact_pair(&pair),
        "flipped_at": flipped_at,
        "path": PROBE_PATH,
        "answer": answer,
    }));
    Ok(View::render("session", view))
}

#[post("/session/tamper", rank = 2)]
fn tamper_needs_login() -> Redirect {
    Redirect::to("/login?next=/session")
}

/// The cookie value with one bit of one byte of the encrypted data flipped (the middle
/// byte, inside the ciphertext), and that byte's index.
fn flip_one_byte(value: &str) -> (String, usize) {
    let engine = base64::engine::general_purpose::STANDARD;
    match engine.decode(value) {
        Ok(mut bytes) if !bytes.is_empty() => {
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
            (engine.encode(bytes), at)
        }
        // Not base64 (it will not decrypt either way): change one character.
        _ => {
            let mut chars: Vec<char> = value.chars().collect();
            let at = chars.len() / 2;
            if let Some(c) = chars.get_mut(at) {
                *c = if *c == 'A' { 'B' } else { 'A' };
            }
            (chars.into_iter().collect(), at)
        }
    }
}

/// Where this server listens, as a client on this machine reaches it.
fn own_address(config: &rocket::Config) -> SocketAddr {
    let ip = match config.address {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, config.port)
}

/// One plain HTTP/1.1 request over a real connection to this server, as a browser (or
/// an attacker with a modified cookie) would send it. The status, `Location` and the
/// `Set-Cookie` headers (values cut short) come back.
async fn send_to_self(config: &rocket::Config, cookie_pair: &str) -> std::io::Result<Value> {
    let address = own_address(config);
    let exchange = async {
        let mut stream = TcpStream::connect(address).await?;
        let request = format!(
            "GET {PROBE_PATH} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie_pair}\r\n\
             Accept: text/html\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.take(MAX_ANSWER).read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = rocket::tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time"))??;
    let text = String::from_utf8_lossy(&raw);
    // The head is all the demo shows: status, where it sends you, what it does to cookies.
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    let set_cookies: Vec<String> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| redact_set_cookie(value))
        .collect();
    let location = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| *value);
    Ok(json!({
        "status": status,
        "location": location,
        "set_cookies": set_cookies,
    }))
}
