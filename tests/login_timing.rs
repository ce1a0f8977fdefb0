//! An unknown email costs the same password-hashing work as a known one, whatever the
//! password, on every path that checks one (the login page, the API's session login,
//! Basic auth): counted as argon2 verifications in `/metrics`, not timed.

mod support;

use std::net::SocketAddr;

use rocket::http::Status;
use rocket::local::asynchronous::Client;

/// `/metrics` counters are process-wide: the tests here take turns.
static TURN: rocket::tokio::sync::Mutex<()> = rocket::tokio::sync::Mutex::const_new(());

/// Full-width letters: NFKC turns them into ASCII, so a check that also tries the
/// normalised form does a second verification for this password.
const NON_ASCII: &str = "ｗｒｏｎｇ ｐａｓｓｗｏｒｄ ｇｕｅｓｓ";
const ASCII: &str = "wrong password guess";

async fn verifications(client: &Client) -> f64 {
    let loopback: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    let response = client.get("/metrics").remote(loopback).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    let text = response.into_string().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("latchkey_password_verifications_total "))
        .map_or(0.0, |v| v.trim().parse().expect("a number"))
}

/// The verifications `attempt` caused.
async fn cost<F: std::future::Future<Output = Status>>(
    client: &Client,
    attempt: F,
) -> (f64, Status) {
    let before = verifications(client).await;
    let status = attempt.await;
    (verifications(client).await - before, status)
}

#[rocket::async_test]
async fn login_page_unknown_email_costs_what_a_known_one_costs() {
    let _turn = TURN.lock().await;
    let app = support::TestApp::builder().spawn().await;
    app.create_user("ann@example.com", support::PASSWORD).await;
    let browser = app.browser();

    for password in [NON_ASCII, ASCII] {
        let (known, known_status) = cost(&app.client, async {
            browser.login("ann@example.com", password).await.status
        })
        .await;
        let (unknown, unknown_status) = cost(&app.client, async {
            browser.login("nobody@example.com", password).await.status
        })
        .await;

        assert_eq!(known_status, Status::Unauthorized);
        assert_eq!(unknown_status, Status::Unauthorized);
        assert!(known >= 1.0, "the known email was checked at all");
        assert_eq!(unknown, known, "password {password:?}");
    }
}

#[rocket::async_test]
async fn api_login_unknown_email_costs_what_a_known_one_costs() {
    let _turn = TURN.lock().await;
    let app = support::api::app("session_auth")
        .user(support::api::BOB, support::api::BOB_PASSWORD)
        .spawn()
        .await;

    for password in [NON_ASCII, ASCII] {
        let (known, _) = cost(&app.client, async {
            app.login_response(support::api::BOB, password)
                .await
                .status()
        })
        .await;
        let (unknown, _) = cost(&app.client, async {
            app.login_response("nobody@hbtn.io", password)
                .await
                .status()
        })
        .await;

        assert!(known >= 1.0);
        assert_eq!(unknown, known, "password {password:?}");
    }
}

#[rocket::async_test]
async fn basic_auth_unknown_email_costs_what_a_known_one_costs() {
    let _turn = TURN.lock().await;
    let app = support::api::app("basic_auth")
        .user(support::api::BOB, support::api::BOB_PASSWORD)
        .spawn()
        .await;
    let me = |email: &str, password: &str| {
        app.client
            .get("/api/v1/users/me")
            .header(support::api::basic_header(email, password))
    };

    for password in [NON_ASCII, ASCII] {
        let (known, known_status) = cost(&app.client, async {
            me(support::api::BOB, password).dispatch().await.status()
        })
        .await;
        let (unknown, unknown_status) = cost(&app.client, async {
            me("nobody@hbtn.io", password).dispatch().await.status()
        })
        .await;

        assert_eq!(known_status, Status::Forbidden);
        assert_eq!(unknown_status, Status::Forbidden);
        assert!(known >= 1.0);
        assert_eq!(unknown, known, "password {password:?}");
    }
}
