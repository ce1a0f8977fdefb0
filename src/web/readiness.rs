//! `GET /ready`: can this instance serve logins right now? `/health` only says the
//! process answers (liveness: restart it if not); `/ready` checks the user database and
//! the session store (readiness: send it traffic only if so), so a load balancer stops
//! routing to an instance whose Redis or PostgreSQL link is down instead of serving 503s.

use std::time::Duration;

use rocket::http::Status;
use rocket::tokio::time::timeout;
use rocket::{get, routes, Route, State};

use crate::auth::Auth;
use crate::sessions::SessionKey;

/// Each check gets this long; a probe must answer well within a load balancer's timeout
/// even when a dependency hangs rather than refuses.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// `GET /ready`, mounted at the root next to `/health`.
pub fn routes() -> Vec<Route> {
    routes![ready]
}

/// 200 `ready`, or 503 naming each dependency that failed, in plain text.
#[get("/ready")]
async fn ready(auth: &State<Auth>) -> (Status, String) {
    let (users, store) = rocket::tokio::join!(users_ok(auth), store_ok(auth));
    let store_name = auth.session_store_name();
    let failing: Vec<String> = [
        (!users).then(|| "user database".to_owned()),
        (!store).then(|| format!("session store ({store_name})")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if failing.is_empty() {
        (Status::Ok, "ready\n".to_owned())
    } else {
        let names = failing.join(", ");
        tracing::warn!(failing = %names, "readiness check failed");
        (
            Status::ServiceUnavailable,
            format!("not ready: {names} unavailable\n"),
        )
    }
}

/// The cheapest query every users backend has.
async fn users_ok(auth: &Auth) -> bool {
    matches!(timeout(CHECK_TIMEOUT, auth.count_users()).await, Ok(Ok(_)))
}

/// A read of a key no session has: a round trip to the store that changes nothing.
async fn store_ok(auth: &Auth) -> bool {
    let probe = SessionKey([0u8; 32]);
    matches!(
        timeout(CHECK_TIMEOUT, auth.session_by_key(&probe)).await,
        Ok(Ok(_))
    )
}
