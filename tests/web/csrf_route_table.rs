//! No state-changing page can be posted to without its CSRF token. The routes are read
//! from the mounted route table, not listed here, so a route added tomorrow is covered
//! the day it is added: every POST, PUT, PATCH or DELETE outside `/api`, logged in and
//! logged out, without a token and with a wrong one, answers 403 and changes nothing
//! (logged out, a route that needs a login may answer 401 before reading the form).

use crate::support::*;
use rocket::http::{ContentType, Method, Status};

const VICTIM: &str = "victim@example.com";
const NEWCOMER: &str = "newcomer@example.com";
const NEW_PASSWORD: &str = "an entirely different passphrase";

/// A concrete path for a route's URI: each dynamic segment gets a plausible value.
fn concrete_path(route_path: &str) -> String {
    route_path
        .split('/')
        .map(|segment| {
            if segment.starts_with('<') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every state-changing route mounted outside the JSON API, once per method and path.
fn state_changing_page_routes(app: &TestApp) -> Vec<(Method, String)> {
    let mut found: Vec<(Method, String)> = app
        .client
        .rocket()
        .routes()
        .filter(|route| {
            matches!(
                route.method,
                Method::Post | Method::Put | Method::Patch | Method::Delete
            )
        })
        .filter(|route| {
            let path = route.uri.path();
            path != "/api" && !path.starts_with("/api/")
        })
        .map(|route| (route.method, concrete_path(route.uri.path())))
        .collect();
    found.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    found.dedup();
    found
}

/// Every field any page form takes, filled so that the request would change something
/// (log in, sign up, end a session, change the password) if the token were not checked.
fn forged_fields<'a>(
    email: &'a str,
    key: &'a str,
    token: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("email", email),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
        ("current_password", PASSWORD),
        ("new_password", NEW_PASSWORD),
        ("new_password_confirmation", NEW_PASSWORD),
        ("key", key),
        ("next", "/profile"),
    ];
    if let Some(token) = token {
        fields.push(("csrf_token", token));
    }
    fields
}

async fn forge(
    browser: &Browser<'_>,
    method: Method,
    path: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let request = browser
        .request(method, path)
        .header(ContentType::Form)
        .body(encode_form(fields));
    browser.send(request).await
}

/// 403 with the CSRF page. Logged out, a route that needs a login may instead refuse
/// with 401 before it reads any form: that changes nothing either.
#[track_caller]
fn assert_refused(reply: &Reply, logged_in: bool, case: &str) {
    // Logged out, a route that needs a session may refuse before the token is read: 401,
    // or the way to the login page.
    let sent_to_log_in = reply.status == Status::SeeOther
        && reply.location().is_some_and(|l| l.starts_with("/login"));
    if !logged_in && (reply.status == Status::Unauthorized || sent_to_log_in) {
        return;
    }
    assert_eq!(reply.status, Status::Forbidden, "{case}: {}", reply.body);
    assert_contains(&reply.body, "did not come from Latchkey");
}

#[rocket::async_test]
async fn every_state_changing_page_route_refuses_a_missing_or_wrong_token_and_changes_nothing() {
    let app = spawn_app().await;
    let routes = state_changing_page_routes(&app);
    for expected in [
        "/login",
        "/signup",
        "/logout",
        "/password",
        "/sessions/revoke",
        "/tokens",
        "/session/tamper",
    ] {
        assert!(
            routes.iter().any(|(_, path)| path == expected),
            "the route table has no {expected}: {routes:?}"
        );
    }
    let victim = app.logged_in_browser(VICTIM).await;
    let phone = app.browser();
    assert_redirect_to(&phone.login(VICTIM, PASSWORD).await, "/profile");
    let victim_key = store_key_of(&victim);
    let phone_key = store_key_of(&phone);
    // Logged out, but holding a real anonymous token cookie, so a wrong token is tested
    // against a real pair.
    let stranger = app.browser();
    stranger.get("/login").await;
    assert!(stranger.cookie(CSRF_COOKIE).is_some());
    let wrong = "0".repeat(64);

    for (method, path) in &routes {
        for (who, browser) in [("logged in", &victim), ("logged out", &stranger)] {
            for token in [None, Some(wrong.as_str())] {
                for (email, key) in [(VICTIM, &phone_key), (NEWCOMER, &victim_key)] {
                    let fields = forged_fields(email, key, token);
                    let reply = forge(browser, *method, path, &fields).await;

                    let case = format!("{method} {path}, {who}, token {token:?}, {email}");
                    assert_refused(&reply, browser.session_cookie().is_some(), &case);
                    assert!(victim.is_logged_in().await, "{case} logged the victim out");
                    assert!(phone.is_logged_in().await, "{case} ended another session");
                    assert!(
                        !stranger.is_logged_in().await,
                        "{case} logged a stranger in"
                    );
                }
            }
        }
    }

    assert_eq!(
        store_key_of(&victim),
        victim_key,
        "the victim's session changed"
    );
    let newcomer = app.browser().login(NEWCOMER, PASSWORD).await;
    assert_eq!(
        newcomer.status,
        Status::Unauthorized,
        "an account was created"
    );
    let old_password = app.browser().login(VICTIM, PASSWORD).await;
    assert_redirect_to(&old_password, "/profile");
}
