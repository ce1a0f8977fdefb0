//! Two Latchkey instances behind an imaginary load balancer: one secret key, users in one
//! PostgreSQL, and sessions in one shared store: a Redis, a Redis Cluster, or that same
//! PostgreSQL. A browser may land on either at any request. Each store's tests run when
//! its services are set (`DATABASE_URL`, plus `REDIS_URL` or `REDIS_CLUSTER_NODES`).

use crate::support::{csrf_token, encode_form, stores};

use latchkey::clock::ManualClock;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use time::Duration;

use crate::support::instances::{self, log_in, log_out, profile_status, sign_up};
use crate::support::stores::{DropSchema, PgSchema};

#[derive(Clone, Copy)]
enum Shared {
    Redis,
    RedisCluster,
    Postgres,
}

/// What the pair wrote outside the test, removed at the end.
enum Leftovers {
    Redis { url: String, prefix: String },
    RedisCluster { seed: String, prefix: String },
    Postgres(#[allow(dead_code)] DropSchema),
}

struct Pair {
    a: Client,
    b: Client,
    clock: ManualClock,
    schema: PgSchema,
    leftovers: Leftovers,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// Two instances sharing everything that matters, each with its own data directory.
async fn two_instances(shared: Shared) -> Option<Pair> {
    let database_url = stores::database_url()?;
    let schema = PgSchema::create(&database_url).await;
    let prefix = stores::unique_prefix();
    let mut settings: Vec<(&str, String)> = vec![
        ("secret_key", instances::secret_key()),
        ("database_url", schema.url.clone()),
        ("redis_key_prefix", prefix.clone()),
    ];
    let leftovers = match shared {
        Shared::Redis => {
            let Some(url) = stores::redis_url() else {
                schema.drop_now().await;
                return None;
            };
            settings.push(("session_store", "redis".into()));
            settings.push(("redis_url", url.clone()));
            Leftovers::Redis { url, prefix }
        }
        Shared::RedisCluster => {
            let Some(nodes) = stores::redis_cluster_nodes() else {
                schema.drop_now().await;
                return None;
            };
            settings.push(("session_store", "redis_cluster".into()));
            settings.push(("redis_cluster_nodes", stores::cluster_nodes_setting(&nodes)));
            Leftovers::RedisCluster {
                seed: nodes[0].clone(),
                prefix,
            }
        }
        Shared::Postgres => {
            let name = stores::unique_schema_name();
            settings.push(("session_store", "postgres".into()));
            settings.push(("postgres_session_schema", name.clone()));
            Leftovers::Postgres(DropSchema {
                url: database_url.clone(),
                name,
            })
        }
    };
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let clock = ManualClock::starting_now();
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = instances::client(instances::figment(dirs.0.path(), &settings), &clock).await;
    let b = instances::client(instances::figment(dirs.1.path(), &settings), &clock).await;
    Some(Pair {
        a,
        b,
        clock,
        schema,
        leftovers,
        _dirs: dirs,
    })
}

impl Pair {
    async fn cleanup(self) {
        drop((self.a, self.b));
        match &self.leftovers {
            Leftovers::Redis { url, prefix } => stores::redis_cleanup(url, prefix).await,
            Leftovers::RedisCluster { seed, prefix } => {
                stores::redis_cluster_cleanup(seed, prefix).await
            }
            Leftovers::Postgres(_) => {}
        }
        self.schema.drop_now().await;
    }
}

/// "Log out my other sessions" from the sessions page, with exactly this cookie.
async fn revoke_others(client: &Client, cookie: &rocket::http::Cookie<'static>) {
    let page = client
        .get("/sessions")
        .cookie(cookie.clone())
        .dispatch()
        .await;
    assert_eq!(page.status(), Status::Ok);
    let token = csrf_token(&page.into_string().await.unwrap());
    let response = client
        .post("/sessions/revoke-others")
        .cookie(cookie.clone())
        .header(ContentType::Form)
        .body(encode_form(&[("csrf_token", &token)]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
}

async fn a_session_started_on_one_instance_works_on_the_other(pair: Pair) {
    let cookie = sign_up(&pair.a, "ann@example.com").await;

    assert_eq!(profile_status(&pair.b, &cookie).await, Status::Ok);
    assert_eq!(profile_status(&pair.a, &cookie).await, Status::Ok);
    // A login on B finds the user A created.
    let second = log_in(&pair.b, "ann@example.com").await;
    assert_eq!(profile_status(&pair.a, &second).await, Status::Ok);
    pair.cleanup().await;
}

async fn logging_out_on_one_instance_ends_the_session_on_both(pair: Pair) {
    let cookie = sign_up(&pair.a, "ben@example.com").await;
    assert_eq!(profile_status(&pair.a, &cookie).await, Status::Ok);

    log_out(&pair.b, &cookie).await;

    assert_eq!(profile_status(&pair.a, &cookie).await, Status::SeeOther);
    assert_eq!(profile_status(&pair.b, &cookie).await, Status::SeeOther);
    pair.cleanup().await;
}

async fn a_replayed_cookie_of_an_expired_session_is_refused_by_both(pair: Pair) {
    let cookie = sign_up(&pair.a, "cat@example.com").await;
    assert_eq!(profile_status(&pair.b, &cookie).await, Status::Ok);

    // Past the idle timeout (30 minutes by default) on the clock both instances read.
    pair.clock.advance(Duration::minutes(31));

    assert_eq!(profile_status(&pair.b, &cookie).await, Status::SeeOther);
    assert_eq!(profile_status(&pair.a, &cookie).await, Status::SeeOther);
    pair.cleanup().await;
}

async fn revoking_other_sessions_on_one_instance_ends_them_on_both(pair: Pair) {
    let laptop = sign_up(&pair.a, "dee@example.com").await;
    let phone = log_in(&pair.b, "dee@example.com").await;
    assert_eq!(profile_status(&pair.a, &phone).await, Status::Ok);

    revoke_others(&pair.a, &laptop).await;

    assert_eq!(profile_status(&pair.a, &phone).await, Status::SeeOther);
    assert_eq!(profile_status(&pair.b, &phone).await, Status::SeeOther);
    assert_eq!(profile_status(&pair.b, &laptop).await, Status::Ok);
    pair.cleanup().await;
}

/// Every check against one shared store, each as its own test.
macro_rules! two_instance_tests {
    ($module:ident, $shared:expr) => {
        mod $module {
            two_instance_tests!(@tests $shared;
                a_session_started_on_one_instance_works_on_the_other,
                logging_out_on_one_instance_ends_the_session_on_both,
                a_replayed_cookie_of_an_expired_session_is_refused_by_both,
                revoking_other_sessions_on_one_instance_ends_them_on_both,
            );
        }
    };
    (@tests $shared:expr; $($check:ident),* $(,)?) => {
        $(
            #[rocket::async_test]
            async fn $check() {
                let Some(pair) = super::two_instances($shared).await else {
                    return;
                };
                super::$check(pair).await;
            }
        )*
    };
}

two_instance_tests!(redis, super::Shared::Redis);
two_instance_tests!(redis_cluster, super::Shared::RedisCluster);
two_instance_tests!(postgres_sessions, super::Shared::Postgres);
