//! Thousands of generated malformed requests (methods, paths, headers, cookies, bodies,
//! encodings, sizes) at the app through the local client: none may get a 5xx, and a real
//! login still works afterwards. Deterministic (a seeded generator), bounded and quick.

use std::net::{IpAddr, SocketAddr};

use rocket::http::{ContentType, Header, Method};

use crate::support::{assert_redirect_to, encode_form, TestApp, PASSWORD};

const REQUESTS: usize = 3000;

/// xorshift64*: reproducible without a dependency; the seed is in the failure message.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
    /// Printable junk with the characters parsers trip on.
    fn junk(&mut self, max: usize) -> String {
        const ALPHABET: &[char] = &[
            'a', 'Z', '0', '/', '\\', '%', '?', '#', '&', '=', ';', ':', '@', '.', ' ', '"', '\'',
            '<', '>', '+', '*', '~', 'é', '😀', '\u{202e}', '\u{feff}', '\t', '{', '}',
        ];
        let len = self.below(max + 1);
        (0..len).map(|_| *self.pick(ALPHABET)).collect()
    }
}

const PATHS: &[&str] = &[
    "/",
    "/login",
    "/signup",
    "/logout",
    "/profile",
    "/password",
    "/sessions",
    "/sessions/revoke",
    "/sessions/revoke-others",
    "/inspect",
    "/health",
    "/static/style.css",
    "/api/v1/status",
    "/api/v1/stats",
    "/api/v1/users",
    "/api/v1/users/me",
    "/api/v1/users/00000000-0000-0000-0000-000000000000",
    "/api/v1/auth_session/login",
    "/api/v1/auth_session/logout",
    "/api/v1/unknown",
    "/api",
    "/api/",
    "/nope",
];

const METHODS: &[Method] = &[
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Patch,
    Method::Head,
    Method::Options,
];

fn path(rng: &mut Rng) -> String {
    let base = *rng.pick(PATHS);
    match rng.below(6) {
        0 => base.to_owned(),
        1 => format!("{base}/{}", rng.junk(12)),
        2 => format!(
            "{base}?next={}&{}={}",
            rng.junk(30),
            rng.junk(5),
            rng.junk(5)
        ),
        3 => format!("{base}%{:02x}%{}", rng.next() as u8, rng.junk(3)),
        4 => format!("{base}{}", "/..".repeat(rng.below(5))),
        _ => format!("/{}", rng.junk(40)),
    }
}

fn body(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => Vec::new(),
        1 => {
            let len = rng.below(512);
            rng.bytes(len)
        }
        2 => encode_form(&[
            ("email", &rng.junk(30)),
            ("password", &rng.junk(30)),
            ("csrf_token", &rng.junk(40)),
            ("next", &rng.junk(20)),
        ])
        .into_bytes(),
        3 => format!("{{\"email\": {}, \"password\": [1, {{}}]}}", rng.junk(10)).into_bytes(),
        4 => format!("email={}&email=&password=%ZZ&%%%", rng.junk(10)).into_bytes(),
        5 => vec![b'a'; 16 * 1024 + rng.below(64 * 1024)],
        6 => format!(
            "--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n{}\r\n--b--",
            rng.junk(20)
        )
        .into_bytes(),
        _ => "\u{0}\u{ffff}".repeat(rng.below(100)).into_bytes(),
    }
}

fn content_type(rng: &mut Rng) -> Option<ContentType> {
    match rng.below(7) {
        0 => None,
        1 => Some(ContentType::Form),
        2 => Some(ContentType::JSON),
        3 => Some(ContentType::Plain),
        4 => Some(ContentType::new("multipart", "form-data").with_params(("boundary", "b"))),
        5 => Some(ContentType::new("multipart", "form-data")),
        _ => Some(ContentType::Binary),
    }
}

fn junk_header(rng: &mut Rng) -> Header<'static> {
    let names = [
        "Cookie",
        "Authorization",
        "X-Forwarded-For",
        "X-Real-IP",
        "Sec-Fetch-Site",
        "Accept",
        "Content-Length",
        "Transfer-Encoding",
        "Host",
        "User-Agent",
    ];
    let name = *rng.pick(&names);
    let value = match (name, rng.below(4)) {
        ("Cookie", 0) => format!("latchkey_session={}", rng.junk(60)),
        ("Cookie", 1) => format!("latchkey_csrf={}; _flash={}", rng.junk(40), rng.junk(20)),
        ("Authorization", 0) => format!("Basic {}", rng.junk(40)),
        ("Authorization", 1) => "Basic Om5vdGhpbmc6".to_owned(),
        ("User-Agent", 0) => "x".repeat(rng.below(10_000)),
        _ => rng.junk(50),
    };
    Header::new(name, value)
}

#[rocket::async_test]
async fn thousands_of_malformed_requests_get_no_5xx_and_login_still_works() {
    let app = TestApp::builder().spawn().await;
    app.create_user("real@example.com", PASSWORD).await;
    let seed = 0x5EED_1A7C_u64;
    let mut rng = Rng(seed);
    let browser = app.browser();
    let mut seen = std::collections::BTreeMap::new();
    for n in 0..REQUESTS {
        let method = *rng.pick(METHODS);
        let uri = path(&mut rng);
        let mut request = app.client.req(method, uri.clone());
        if let Some(content_type) = content_type(&mut rng) {
            request = request.header(content_type);
        }
        for _ in 0..rng.below(4) {
            request = request.header(junk_header(&mut rng));
        }
        if rng.below(2) == 0 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(rng.next() as u32));
            request = request.remote(SocketAddr::new(ip, 1234));
        }
        let reply = browser.send(request.body(body(&mut rng))).await;
        *seen.entry(reply.status.code).or_insert(0) += 1;
        assert!(
            reply.status.code < 500,
            "request {n} (seed {seed:#x}): {method} {uri:?} answered {}: {}",
            reply.status,
            reply.body.chars().take(300).collect::<String>()
        );
    }

    // The generator reached many different answers, not one error path over and over.
    assert!(seen.len() >= 6, "statuses seen: {seen:?}");
    eprintln!("statuses seen: {seen:?}");

    let reply = app.browser().login("real@example.com", PASSWORD).await;
    assert_redirect_to(&reply, "/profile");
}
