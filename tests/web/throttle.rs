//! Login and signup throttling through the HTTP surface: 429 + `Retry-After` past the
//! limits (HTML, JSON API, basic auth), the hash never run while throttled, the real
//! user still getting in, windows ending with the clock, and a scripted credential
//! stuffing run.

use crate::support;
use crate::support::api;

use std::net::{IpAddr, SocketAddr};

use latchkey::auth::Auth;
use rocket::http::{ContentType, Header, Method, Status};
use time::Duration;

use crate::support::{assert_contains, assert_redirect_to, encode_form, Browser, Reply, TestApp};

const VICTIM: &str = "victim@example.com";
const VICTIM_PASSWORD: &str = "a long and unguessable passphrase";

fn addr(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::from([198, 51, 100, n]), 40000)
}

/// argon2 computations run so far by the app behind `client`.
fn hash_runs(client: &rocket::local::asynchronous::Client) -> u64 {
    client
        .rocket()
        .state::<Auth>()
        .expect("Auth is managed")
        .hash_runs()
}

async fn login_from(browser: &Browser<'_>, from: SocketAddr, email: &str, password: &str) -> Reply {
    let token = browser.csrf_token_from("/login").await;
    let request = browser
        .request(Method::Post, "/login")
        .remote(from)
        .header(ContentType::Form)
        .body(encode_form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ]));
    browser.send(request).await
}

fn retry_after(reply: &Reply) -> u64 {
    reply
        .header("Retry-After")
        .unwrap_or_else(|| panic!("no Retry-After on {}", reply.status))
        .parse()
        .expect("Retry-After in seconds")
}

async fn app_with_victim() -> TestApp {
    let app = TestApp::builder().spawn().await;
    app.create_user(VICTIM, VICTIM_PASSWORD).await;
    app
}

async fn fail_times(app: &TestApp, from: SocketAddr, email: &str, times: usize) {
    let attacker = app.browser();
    for attempt in 0..times {
        let reply = login_from(&attacker, from, email, "wrong password guess").await;
        assert_eq!(reply.status, Status::Unauthorized, "attempt {attempt}");
    }
}

#[rocket::async_test]
async fn html_login_past_the_limit_is_429_with_retry_after_and_no_hash() {
    let app = app_with_victim().await;
    fail_times(&app, addr(1), VICTIM, 5).await;

    let before = hash_runs(&app.client);
    let reply = login_from(&app.browser(), addr(1), VICTIM, VICTIM_PASSWORD).await;

    assert_eq!(reply.status, Status::TooManyRequests);
    support::assert_client_error_html(&reply);
    assert_contains(&reply.body, "Too many attempts");
    let wait = retry_after(&reply);
    assert!((1..=900).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        hash_runs(&app.client),
        before,
        "a throttled login ran the hash"
    );
}

#[rocket::async_test]
async fn the_real_user_from_another_address_logs_in_during_an_attack() {
    let app = app_with_victim().await;
    fail_times(&app, addr(1), VICTIM, 5).await;
    let attacker = app.browser();
    assert_eq!(
        login_from(&attacker, addr(1), VICTIM, "still guessing")
            .await
            .status,
        Status::TooManyRequests
    );

    let reply = login_from(&app.browser(), addr(2), VICTIM, VICTIM_PASSWORD).await;

    assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn the_lock_ends_when_the_window_does() {
    let app = app_with_victim().await;
    fail_times(&app, addr(1), VICTIM, 5).await;
    let blocked = login_from(&app.browser(), addr(1), VICTIM, VICTIM_PASSWORD).await;
    assert_eq!(blocked.status, Status::TooManyRequests);

    app.advance(Duration::seconds(retry_after(&blocked) as i64));

    let reply = login_from(&app.browser(), addr(1), VICTIM, VICTIM_PASSWORD).await;
    assert_redirect_to(&reply, "/profile");
}

#[rocket::async_test]
async fn a_success_clears_the_failures_of_that_address() {
    let app = app_with_victim().await;
    fail_times(&app, addr(1), VICTIM, 4).await;
    assert_redirect_to(
        &login_from(&app.browser(), addr(1), VICTIM, VICTIM_PASSWORD).await,
        "/profile",
    );

    // Four more typos are allowed again.
    fail_times(&app, addr(1), VICTIM, 4).await;
}

#[rocket::async_test]
async fn repeated_lockouts_grow() {
    let app = app_with_victim().await;
    fail_times(&app, addr(1), VICTIM, 5).await;
    let first = retry_after(&login_from(&app.browser(), addr(1), VICTIM, "x").await);
    app.advance(Duration::seconds(first as i64));

    fail_times(&app, addr(1), VICTIM, 5).await;
    let second = retry_after(&login_from(&app.browser(), addr(1), VICTIM, "x").await);

    assert!(second > first, "second lockout {second}s, first {first}s");
    assert!(second <= 2 * 900);
}

#[rocket::async_test]
async fn unknown_accounts_are_throttled_like_known_ones() {
    let app = app_with_victim().await;
    fail_times(&app, addr(1), "nobody@example.com", 5).await;

    let reply = login_from(&app.browser(), addr(1), "nobody@example.com", "x").await;

    assert_eq!(reply.status, Status::TooManyRequests);
}

#[rocket::async_test]
async fn forwarded_headers_are_ignored_unless_the_proxy_is_trusted() {
    // An attacker cannot pick a fresh address per request with a header.
    let app = app_with_victim().await;
    let attacker = app.browser();
    for n in 0..6u8 {
        let token = attacker.csrf_token_from("/login").await;
        let request = attacker
            .request(Method::Post, "/login")
            .remote(addr(1))
            .header(ContentType::Form)
            .header(Header::new("X-Forwarded-For", format!("203.0.113.{n}")))
            .header(Header::new("X-Real-IP", format!("203.0.113.{n}")))
            .body(encode_form(&[
                ("email", VICTIM),
                ("password", "guess"),
                ("csrf_token", &token),
            ]));
        let reply = attacker.send(request).await;
        let expected = if n < 5 {
            Status::Unauthorized
        } else {
            Status::TooManyRequests
        };
        assert_eq!(reply.status, expected, "attempt {n}");
    }

    // Behind a trusted proxy, the forwarded address is the client.
    let app = TestApp::builder()
        .setting("trusted_proxies", ["198.51.100.0/24"])
        .spawn()
        .await;
    app.create_user(VICTIM, VICTIM_PASSWORD).await;
    let browser = app.browser();
    for n in 0..6u8 {
        let token = browser.csrf_token_from("/login").await;
        let request = browser
            .request(Method::Post, "/login")
            .remote(addr(1))
            .header(ContentType::Form)
            .header(Header::new(
                "X-Forwarded-For",
                format!("10.9.9.9, 203.0.113.{n}"),
            ))
            .body(encode_form(&[
                ("email", VICTIM),
                ("password", "guess"),
                ("csrf_token", &token),
            ]));
        assert_eq!(browser.send(request).await.status, Status::Unauthorized);
    }
}

#[rocket::async_test]
async fn signup_is_limited_per_address() {
    let app = TestApp::builder()
        .setting("signups_per_address", 2)
        .spawn()
        .await;
    let app = &app;
    let signup_from = |n: u32| async move {
        let browser = app.browser();
        let token = browser.csrf_token_from("/signup").await;
        let email = format!("new{n}@example.com");
        let form = support::Signup::new(&email, VICTIM_PASSWORD);
        let request = browser
            .request(Method::Post, "/signup")
            .remote(addr(7))
            .header(ContentType::Form)
            .body(encode_form(&form.fields(&token)));
        browser.send(request).await
    };
    assert_redirect_to(&signup_from(1).await, "/profile");
    assert_redirect_to(&signup_from(2).await, "/profile");

    let reply = signup_from(3).await;

    assert_eq!(reply.status, Status::TooManyRequests);
    assert!(retry_after(&reply) <= 3600);
}

#[rocket::async_test]
async fn api_login_past_the_limit_is_429_json_with_retry_after() {
    let app = api::app("session_auth")
        .user(VICTIM, VICTIM_PASSWORD)
        .spawn()
        .await;
    let login = |password: &'static str, from: SocketAddr| {
        app.client
            .post("/api/v1/auth_session/login")
            .remote(from)
            .header(ContentType::Form)
            .body(api::form(&[("email", VICTIM), ("password", password)]))
            .dispatch()
    };
    for _ in 0..5 {
        assert_eq!(login("wrong", addr(1)).await.status(), Status::Unauthorized);
    }

    let before = hash_runs(&app.client);
    let response = login(VICTIM_PASSWORD, addr(1)).await;
    let wait: u64 = response
        .headers()
        .get_one("Retry-After")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait));
    api::assert_json_error(response, Status::TooManyRequests, "Too many requests").await;
    assert_eq!(hash_runs(&app.client), before);

    assert_eq!(login(VICTIM_PASSWORD, addr(2)).await.status(), Status::Ok);
}

#[rocket::async_test]
async fn basic_auth_past_the_limit_is_429_json_with_retry_after() {
    let app = api::app("basic_auth")
        .user(VICTIM, VICTIM_PASSWORD)
        .spawn()
        .await;
    let call = |password: &'static str, from: SocketAddr| {
        app.client
            .get("/api/v1/users/me")
            .remote(from)
            .header(api::basic_header(VICTIM, password))
            .dispatch()
    };
    for _ in 0..5 {
        assert_eq!(call("wrong", addr(1)).await.status(), Status::Forbidden);
    }

    let before = hash_runs(&app.client);
    let response = call(VICTIM_PASSWORD, addr(1)).await;
    assert!(response.headers().get_one("Retry-After").is_some());
    api::assert_json_error(response, Status::TooManyRequests, "Too many requests").await;
    assert_eq!(hash_runs(&app.client), before);

    // Correct credentials keep working from elsewhere, repeatedly (successes never count).
    for _ in 0..10 {
        assert_eq!(call(VICTIM_PASSWORD, addr(2)).await.status(), Status::Ok);
    }
}

/// Many accounts x many passwords from a few addresses, with small limits so it runs
/// quickly: each address gets at most `login_failures_per_address` hashes, the rest are
/// 429 without hashing, and the real user still logs in from their own address.
#[rocket::async_test]
async fn credential_stuffing_is_throttled_and_the_real_user_gets_in() {
    const PER_ADDRESS: u64 = 8;
    const ADDRESSES: u8 = 3;
    let app = api::app("session_auth")
        .set("login_failures_per_address", PER_ADDRESS)
        .user(VICTIM, VICTIM_PASSWORD)
        .spawn()
        .await;
    let before = hash_runs(&app.client);
    let (mut refused, mut tried) = (0, 0);
    for account in 0..15 {
        let email = if account == 7 {
            VICTIM.to_owned()
        } else {
            format!("user{account}@example.com")
        };
        for password in ["123456", "password", "qwerty123", "letmein!"] {
            for a in 0..ADDRESSES {
                let response = app
                    .client
                    .post("/api/v1/auth_session/login")
                    .remote(addr(10 + a))
                    .header(ContentType::Form)
                    .body(api::form(&[("email", &email), ("password", password)]))
                    .dispatch()
                    .await;
                tried += 1;
                match response.status() {
                    Status::TooManyRequests => refused += 1,
                    Status::Unauthorized | Status::NotFound => {}
                    other => panic!("stuffing attempt answered {other}"),
                }
            }
        }
    }

    let hashed = hash_runs(&app.client) - before;
    assert!(
        hashed <= PER_ADDRESS * u64::from(ADDRESSES),
        "{hashed} hashes ran"
    );
    assert_eq!(refused, tried - hashed as usize);

    let response = app
        .client
        .post("/api/v1/auth_session/login")
        .remote(addr(99))
        .header(ContentType::Form)
        .body(api::form(&[
            ("email", VICTIM),
            ("password", VICTIM_PASSWORD),
        ]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
}

/// A guess spread over many addresses (one try each) trips the account-wide budget:
/// from then on every address gets a single try per window, and the real user, trying
/// once from a fresh address, still gets in.
#[rocket::async_test]
async fn a_distributed_guess_gets_one_try_per_address() {
    let app = TestApp::builder()
        .setting("login_failures_per_account", 4)
        .spawn()
        .await;
    app.create_user(VICTIM, VICTIM_PASSWORD).await;
    for n in 0..4 {
        fail_times(&app, addr(20 + n), VICTIM, 1).await;
    }
    let attacker = app.browser();
    assert_eq!(
        login_from(&attacker, addr(30), VICTIM, "guess")
            .await
            .status,
        Status::Unauthorized
    );
    assert_eq!(
        login_from(&attacker, addr(30), VICTIM, "guess 2")
            .await
            .status,
        Status::TooManyRequests
    );

    let reply = login_from(&app.browser(), addr(31), VICTIM, VICTIM_PASSWORD).await;
    assert_redirect_to(&reply, "/profile");
}

/// Two instances sharing Redis share one budget: failures on one lock the pair on the
/// other. (SQLite keeps the counters in `<data_dir>/throttle.db` the same way.)
#[rocket::async_test]
async fn instances_sharing_a_store_share_the_counters() {
    let mut stores = vec![("sqlite", String::new())];
    if let Some(url) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) {
        stores.push(("redis", url));
    }
    for (store, url) in stores {
        let dir = tempfile::tempdir().unwrap();
        let prefix = format!("latchkey-test:{}:", uuid::Uuid::new_v4().simple());
        let spawn = || {
            let mut builder = TestApp::builder()
                .data_dir(dir.path())
                .setting("session_store", store)
                .setting("redis_key_prefix", &prefix);
            if !url.is_empty() {
                builder = builder.setting("redis_url", &url);
            }
            builder.spawn()
        };
        let first = spawn().await;
        first.create_user(VICTIM, VICTIM_PASSWORD).await;
        fail_times(&first, addr(1), VICTIM, 5).await;
        let second = spawn().await;

        let reply = login_from(&second.browser(), addr(1), VICTIM, VICTIM_PASSWORD).await;

        assert_eq!(reply.status, Status::TooManyRequests, "{store}");
    }
}
