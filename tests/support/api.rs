//! Helpers for the `/api/v1` tests ([`ApiApp`], built with [`app`]): an app per test with its own data directory and
//! manual clock, users seeded through the API itself, and short ways to send requests
//! with the session cookie handled by hand (the client is untracked, so every test says
//! which cookie it sends).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use base64::Engine;
use latchkey::clock::ManualClock;
use rocket::figment::providers::Serialized;
use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};
use serde::Serialize;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The course's cookie name, so the tests also check that `session_name` is honoured.
pub const SESSION_NAME: &str = "_my_session_id";
pub const BOB: &str = "bob@hbtn.io";
pub const BOB_PASSWORD: &str = "H0lbertonSchool98!";
pub const ALICE: &str = "alice@hbtn.io";
pub const ALICE_PASSWORD: &str = "Al1ceInWonderland";

/// How the app under test is configured. Every value is merged as a global override,
/// so `ROCKET_*` or course variables in the test runner's environment cannot change it.
pub struct AppBuilder {
    auth_type: &'static str,
    overrides: Vec<(&'static str, Value)>,
    users: Vec<(String, String)>,
}

/// Starts a builder for an app whose API uses `auth_type` (`"none"`, `"basic_auth"`,
/// `"session_auth"`, `"session_exp_auth"`, `"session_db_auth"`).
pub fn app(auth_type: &'static str) -> AppBuilder {
    AppBuilder {
        auth_type,
        overrides: Vec::new(),
        users: Vec::new(),
    }
}

pub struct ApiApp {
    pub client: Client,
    /// Shared with the app: `advance` moves the app's time.
    pub clock: ManualClock,
    /// The users created before the app started, as the API returned them.
    pub users: Vec<Value>,
    /// Holds the database and secret key; deleted when the test ends.
    pub dir: TempDir,
}

fn figment_for(dir: &TempDir, auth_type: &str, overrides: &[(&'static str, Value)]) -> Figment {
    let mut figment = latchkey::config::figment();
    let base = [
        ("data_dir", json!(dir.path())),
        (
            "database_url",
            json!(format!("sqlite://{}/users.db", dir.path().display())),
        ),
        ("secret_key", json!(super::SECRET_KEY)),
        ("log_level", json!("off")),
        ("session_name", json!(SESSION_NAME)),
        ("auth_type", json!(auth_type)),
        // The course's conformance: its open API (Latchkey's default allows only one's
        // own account; tests/api_ownership.rs covers that).
        ("course_mode", json!(true)),
    ];
    for (key, value) in base.iter().chain(overrides) {
        figment = figment.merge(Serialized::global(key, value));
    }
    figment
}

impl AppBuilder {
    /// Overrides one setting (`"session_duration"`, `"course_mode"`, ...).
    pub fn set(mut self, key: &'static str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).expect("setting serialises");
        self.overrides.push((key, value));
        self
    }

    /// A user that exists when the app starts.
    pub fn user(mut self, email: &str, password: &str) -> Self {
        self.users.push((email.to_owned(), password.to_owned()));
        self
    }

    /// The Rocket instance the test would run, for tests that only check it starts.
    pub fn rocket(self) -> (rocket::Rocket<rocket::Build>, TempDir) {
        let dir = TempDir::new().expect("temp dir");
        let figment = figment_for(&dir, self.auth_type, &self.overrides);
        let clock = ManualClock::starting_now();
        (latchkey::build(figment, Arc::new(clock)), dir)
    }

    /// Seeds the users through a first instance with `auth_type = none` on the same
    /// database, then starts the instance under test.
    pub async fn spawn(self) -> ApiApp {
        let dir = TempDir::new().expect("temp dir");
        let clock = ManualClock::starting_now();
        let mut users = Vec::new();
        if !self.users.is_empty() {
            let seeder = latchkey::build(
                figment_for(&dir, "none", &self.overrides),
                Arc::new(clock.clone()),
            );
            let seeder = Client::untracked(seeder).await.expect("seed app starts");
            for (email, password) in &self.users {
                let response = seeder
                    .post("/api/v1/users")
                    .header(ContentType::JSON)
                    .body(json!({ "email": email, "password": password }).to_string())
                    .dispatch()
                    .await;
                assert_eq!(response.status(), Status::Created, "seeding {email}");
                users.push(response.into_json::<Value>().await.expect("user JSON"));
            }
        }
        let rocket = latchkey::build(
            figment_for(&dir, self.auth_type, &self.overrides),
            Arc::new(clock.clone()),
        );
        let client = Client::untracked(rocket).await.expect("app starts");
        ApiApp {
            client,
            clock,
            users,
            dir,
        }
    }
}

impl ApiApp {
    /// The id of the `n`th seeded user.
    pub fn user_id(&self, n: usize) -> String {
        self.users[n]["id"].as_str().expect("id").to_owned()
    }

    /// POST /api/v1/auth_session/login with a urlencoded form.
    pub async fn login_response(&self, email: &str, password: &str) -> LocalResponse<'_> {
        self.client
            .post("/api/v1/auth_session/login")
            .header(ContentType::Form)
            .body(form(&[("email", email), ("password", password)]))
            .dispatch()
            .await
    }

    /// Logs in through the API and returns the session cookie.
    pub async fn login(&self, email: &str, password: &str) -> Cookie<'static> {
        let response = self.login_response(email, password).await;
        assert_eq!(response.status(), Status::Ok, "login as {email}");
        session_cookie(&response).expect("login sets the session cookie")
    }

    /// GET `path` with the session cookie.
    pub async fn get_with(&self, path: &str, cookie: &Cookie<'static>) -> LocalResponse<'_> {
        self.client
            .get(path.to_owned())
            .cookie(cookie.clone())
            .dispatch()
            .await
    }

    /// DELETE /api/v1/auth_session/logout with the session cookie.
    pub async fn logout(&self, cookie: &Cookie<'static>) -> LocalResponse<'_> {
        self.client
            .delete("/api/v1/auth_session/logout")
            .cookie(cookie.clone())
            .dispatch()
            .await
    }

    /// A request carrying `Authorization: Basic base64(email:password)`.
    pub fn basic<'c>(
        &'c self,
        request: LocalRequest<'c>,
        email: &str,
        password: &str,
    ) -> LocalRequest<'c> {
        request.header(basic_header(email, password))
    }

    /// POST /api/v1/users with a JSON body and the session cookie.
    pub async fn create_user(&self, cookie: &Cookie<'static>, body: &Value) -> LocalResponse<'_> {
        self.client
            .post("/api/v1/users")
            .header(ContentType::JSON)
            .cookie(cookie.clone())
            .body(body.to_string())
            .dispatch()
            .await
    }
}

pub fn basic_header(email: &str, password: &str) -> Header<'static> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{email}:{password}"));
    Header::new("Authorization", format!("Basic {encoded}"))
}

/// An `application/x-www-form-urlencoded` body (the harness's one encoder).
pub use super::encode_form as form;

pub const BOUNDARY: &str = "latchkeytestboundary";

/// A `multipart/form-data` body with [`BOUNDARY`]; send it with [`multipart_type`].
pub fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

pub fn multipart_type() -> ContentType {
    ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY))
}

/// The session cookie a response sets, if any (with a non-empty value).
pub fn session_cookie(response: &LocalResponse<'_>) -> Option<Cookie<'static>> {
    response
        .cookies()
        .get(SESSION_NAME)
        .filter(|cookie| !cookie.value().is_empty())
        .map(|cookie| Cookie::new(SESSION_NAME, cookie.value().to_owned()))
}

/// A session cookie no server ever issued.
pub fn forged_cookie() -> Cookie<'static> {
    Cookie::new(SESSION_NAME, "bm90LWEtcmVhbC1zZXNzaW9uLWlkLWF0LWFsbA==")
}

/// Is the response's content type JSON?
pub fn is_json(response: &LocalResponse<'_>) -> bool {
    response.content_type() == Some(ContentType::JSON)
}

/// Status and parsed JSON body, after checking the content type is JSON.
pub async fn json_body(response: LocalResponse<'_>) -> (Status, Value) {
    let status = response.status();
    assert!(
        is_json(&response),
        "{status}: expected application/json, got {:?}",
        response.content_type()
    );
    let text = response.into_string().await.unwrap_or_default();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    (status, value)
}

/// Asserts the answer is `status` with exactly `{"error": message}` as JSON.
pub async fn assert_json_error(response: LocalResponse<'_>, status: Status, message: &str) {
    let (got, body) = json_body(response).await;
    assert_eq!(got, status, "body: {body}");
    assert_eq!(body, json!({ "error": message }));
}

/// Asserts a 4xx answer with a JSON `{"error": "<non-empty>"}` body.
pub async fn assert_json_client_error(response: LocalResponse<'_>) -> Status {
    let (status, body) = json_body(response).await;
    assert!(status.code >= 400 && status.code < 500, "{status}: {body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{status}: {body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    status
}

/// Asserts a user JSON object: exactly the course's keys, course timestamps, no secrets.
pub fn assert_user_json(user: &Value, email: &str) {
    let object = user.as_object().expect("user is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "email",
            "first_name",
            "id",
            "last_name",
            "updated_at"
        ]
    );
    assert_eq!(user["email"], email);
    assert!(uuid::Uuid::try_parse(user["id"].as_str().unwrap_or_default()).is_ok());
    for key in ["created_at", "updated_at"] {
        let stamp = user[key].as_str().unwrap_or_default();
        assert!(is_course_timestamp(stamp), "{key} = {stamp:?}");
    }
    let text = user.to_string().to_lowercase();
    assert!(!text.contains("password") && !text.contains("hash") && !text.contains("argon2"));
}

/// `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`
pub fn is_course_timestamp(stamp: &str) -> bool {
    let pattern = b"dddd-dd-ddTdd:dd:dd";
    stamp.len() == pattern.len()
        && stamp.bytes().zip(pattern).all(|(got, want)| match want {
            b'd' => got.is_ascii_digit(),
            other => got == *other,
        })
}
