//! How every PostgreSQL pool lends its connections (the users database, the session
//! and throttle tables).
//!
//! By default sqlx pings a connection before lending it: one more round trip on every
//! query, a third of what a session lookup costs (the ping, the query, and the ping
//! sqlx always makes when a connection comes back). Here only a connection that sat idle
//! long enough to have been cut (a restarted server, a proxy's idle timeout) is pinged
//! first; under load connections are idle for microseconds and go straight to work. A
//! connection that breaks while in use fails its query (a prompt 503) and is dropped by
//! that ping on its return, so the pool still recovers by itself after an outage.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::Connection;

/// Idle for at least this long, a connection is pinged before it is lent.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

pub(crate) fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}
