//! Storage: the session store and user repository contracts run against every backend
//! (memory, SQLite, Redis, PostgreSQL), Redis specifics, the throttle's counters, several
//! instances sharing one store, a store or database going away (readiness, failures),
//! writes that land after a logout, and users changed by another process.
//!
//! Redis and PostgreSQL tests need `REDIS_URL` / `DATABASE_URL`; without them they pass
//! without checking anything and the binary prints one `skipped:` line per service.
//! Helpers: `support::stores` (fixtures, services), `support::proxy` (a breakable TCP
//! proxy), `support::instances` (several app instances, explicit cookies).

#[path = "../support/mod.rs"]
mod support;

mod late_write;
mod multi_instance;
mod readiness;
mod redis_store;
mod store_conformance;
mod store_failures;
mod throttle_stores;
mod user_changes;
mod user_repo_conformance;
