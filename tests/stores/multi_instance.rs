//! Two Latchkey instances behind an imaginary load balancer: one secret key, sessions in
//! one Redis, users in one PostgreSQL. A browser may land on either at any request.
//! Runs when both `REDIS_URL` and `DATABASE_URL` are set.

use crate::support::stores;

use latchkey::clock::ManualClock;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use time::Duration;

use crate::support::instances::{self, log_in, log_out, profile_status, sign_up};
use crate::support::stores::PgSchema;

struct Pair {
    a: Client,
    b: Client,
    clock: ManualClock,
    schema: PgSchema,
    redis_url: String,
    prefix: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// Two instances sharing everything that matters, each with its own data directory.
async fn two_instances() -> Option<Pair> {
    let (redis_url, database_url) = match (stores::redis_url(), stores::database_url()) {
        (Some(r), Some(d)) => (r, d),
        _ => {
            eprintln!("skipped: the two-instance test needs REDIS_URL and DATABASE_URL");
            return None;
        }
    };
    let schema = PgSchema::create(&database_url).await;
    let prefix = stores::unique_prefix();
    let secret_key = instances::secret_key();
    let clock = ManualClock::starting_now();
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let settings = [
        ("secret_key", secret_key.as_str()),
        ("session_store", "redis"),
        ("redis_url", redis_url.as_str()),
        ("redis_key_prefix", prefix.as_str()),
        ("database_url", schema.url.as_str()),
    ];
    let a = instances::client(instances::figment(dirs.0.path(), &settings), &clock).await;
    let b = instances::client(instances::figment(dirs.1.path(), &settings), &clock).await;
    Some(Pair {
        a,
        b,
        clock,
        schema,
        redis_url,
        prefix,
        _dirs: dirs,
    })
}

impl Pair {
    async fn cleanup(self) {
        drop((self.a, self.b));
        stores::redis_cleanup(&self.redis_url, &self.prefix).await;
        self.schema.drop_now().await;
    }
}

#[rocket::async_test]
async fn a_session_started_on_one_instance_works_on_the_other() {
    let Some(pair) = two_instances().await else {
        return;
    };

    let cookie = sign_up(&pair.a, "ann@example.com").await;

    assert_eq!(profile_status(&pair.b, &cookie).await, Status::Ok);
    assert_eq!(profile_status(&pair.a, &cookie).await, Status::Ok);
    // A login on B finds the user A created.
    let second = log_in(&pair.b, "ann@example.com").await;
    assert_eq!(profile_status(&pair.a, &second).await, Status::Ok);
    pair.cleanup().await;
}

#[rocket::async_test]
async fn logging_out_on_one_instance_ends_the_session_on_both() {
    let Some(pair) = two_instances().await else {
        return;
    };
    let cookie = sign_up(&pair.a, "ben@example.com").await;
    assert_eq!(profile_status(&pair.a, &cookie).await, Status::Ok);

    log_out(&pair.b, &cookie).await;

    assert_eq!(profile_status(&pair.a, &cookie).await, Status::SeeOther);
    assert_eq!(profile_status(&pair.b, &cookie).await, Status::SeeOther);
    pair.cleanup().await;
}

#[rocket::async_test]
async fn a_replayed_cookie_of_an_expired_session_is_refused_by_both() {
    let Some(pair) = two_instances().await else {
        return;
    };
    let cookie = sign_up(&pair.a, "cat@example.com").await;
    assert_eq!(profile_status(&pair.b, &cookie).await, Status::Ok);

    // Past the idle timeout (30 minutes by default) on the clock both instances read.
    pair.clock.advance(Duration::minutes(31));

    assert_eq!(profile_status(&pair.b, &cookie).await, Status::SeeOther);
    assert_eq!(profile_status(&pair.a, &cookie).await, Status::SeeOther);
    pair.cleanup().await;
}
