//! A user changed by another process sharing the users database (a second instance, the
//! admin command line) is seen by this one within the user cache's check interval, even
//! where nothing else is shared: here each instance keeps its sessions in its own memory,
//! so only the users database can tell the second one that a password changed.

use latchkey::clock::ManualClock;
use latchkey::users::CACHE_CHECK_INTERVAL;
use rocket::http::{Cookie, Status};
use rocket::local::asynchronous::Client;

use crate::support::instances::{self, log_in, profile_status, sign_up};
use crate::support::{Browser, PASSWORD};

const NEW_PASSWORD: &str = "a brand new passphrase for her";

struct Pair {
    a: Client,
    b: Client,
    clock: ManualClock,
    _dirs: [tempfile::TempDir; 3],
}

/// Two instances over one SQLite users file, each with its own memory session store.
async fn two_instances_sharing_users() -> Pair {
    let dirs = [(); 3].map(|()| tempfile::tempdir().unwrap());
    let users = format!("sqlite://{}", dirs[2].path().join("users.db").display());
    let key = instances::secret_key();
    let settings = [
        ("database_url", users.as_str()),
        ("secret_key", key.as_str()),
        ("session_store", "memory"),
    ];
    let clock = ManualClock::starting_now();
    let a = instances::client(instances::figment(dirs[0].path(), &settings), &clock).await;
    let b = instances::client(instances::figment(dirs[1].path(), &settings), &clock).await;
    Pair {
        a,
        b,
        clock,
        _dirs: dirs,
    }
}

#[rocket::async_test]
async fn a_password_changed_on_another_instance_ends_sessions_here_within_the_interval() {
    let pair = two_instances_sharing_users().await;
    let on_a = sign_up(&pair.a, "ada@example.com").await;
    let on_b = log_in(&pair.b, "ada@example.com").await;
    assert_eq!(profile_status(&pair.b, &on_b).await, Status::Ok);

    let browser = Browser::on(&pair.a);
    browser.set_session_cookie(on_a.value());
    let token = browser.csrf_token_from("/password").await;
    let reply = browser
        .post_form(
            "/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);

    pair.clock.advance(CACHE_CHECK_INTERVAL);
    assert_eq!(
        profile_status(&pair.b, &on_b).await,
        Status::SeeOther,
        "the session on the other instance must end once the users database is asked"
    );
}

#[rocket::async_test]
async fn a_rename_on_another_instance_shows_here_within_the_interval() {
    let pair = two_instances_sharing_users().await;
    let on_a = sign_up(&pair.a, "grace@example.com").await;
    let on_b = log_in(&pair.b, "grace@example.com").await;
    let before = first_name_on(&pair.b, &on_b).await;
    assert_eq!(before, serde_json::Value::Null);

    let renamed = pair
        .a
        .put("/api/v1/users/me")
        .cookie(on_a.clone())
        .header(rocket::http::ContentType::JSON)
        .body(r#"{"first_name": "Grace"}"#)
        .dispatch()
        .await;
    assert_eq!(renamed.status(), Status::Ok);

    pair.clock.advance(CACHE_CHECK_INTERVAL);
    assert_eq!(first_name_on(&pair.b, &on_b).await, "Grace");
}

async fn first_name_on(client: &Client, cookie: &Cookie<'static>) -> serde_json::Value {
    let response = client
        .get("/api/v1/users/me")
        .cookie(cookie.clone())
        .dispatch()
        .await;
    let body: serde_json::Value = response.into_json().await.expect("a user");
    body["first_name"].clone()
}
