//! One answer, for every SQL backend, to "is this failure worth retrying?": the users
//! repositories, the session stores and the throttle counters all ask here, so a busy
//! SQLite file or a PostgreSQL restart is a 503 ("try again") everywhere, never a 500 in
//! one place and a 503 in another.

use sqlx::error::DatabaseError;

/// What a caller should do with a failed query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlFailure {
    /// The database is down, overloaded, restarting, locked or busy: the request may
    /// succeed later (503).
    Unavailable,
    /// Anything else (a constraint, a type mismatch, a bug): 500.
    Other,
}

/// Classifies `error`: connection-level failures, pool exhaustion, SQLite's
/// `SQLITE_BUSY`/`SQLITE_LOCKED` (after the busy timeout) and PostgreSQL's connection,
/// shutdown, start-up and too-many-connections states are [`SqlFailure::Unavailable`].
pub fn classify(error: &sqlx::Error) -> SqlFailure {
    let unavailable = match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => database_unavailable(db.as_ref()),
        _ => false,
    };
    if unavailable {
        SqlFailure::Unavailable
    } else {
        SqlFailure::Other
    }
}

fn database_unavailable(db: &dyn DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // Primary result code in the low byte: SQLITE_BUSY (5), SQLITE_LOCKED (6) and
        // their extended forms (e.g. SQLITE_BUSY_SNAPSHOT = 517).
        return code
            .parse::<i32>()
            .is_ok_and(|code| matches!(code & 0xff, 5 | 6));
    }
    // PostgreSQL SQLSTATE: class 08 (connection exception), admin/crash shutdown,
    // cannot connect now (starting up), too many connections.
    code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_io_failures_are_unavailable() {
        assert_eq!(
            classify(&sqlx::Error::PoolTimedOut),
            SqlFailure::Unavailable
        );
        assert_eq!(classify(&sqlx::Error::PoolClosed), SqlFailure::Unavailable);
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(classify(&sqlx::Error::Io(io)), SqlFailure::Unavailable);
    }

    #[test]
    fn row_and_decode_failures_are_other() {
        assert_eq!(classify(&sqlx::Error::RowNotFound), SqlFailure::Other);
        assert_eq!(
            classify(&sqlx::Error::ColumnNotFound("x".into())),
            SqlFailure::Other
        );
    }

    #[rocket::async_test]
    async fn sqlite_busy_is_unavailable_and_a_constraint_is_not() {
        use sqlx::Connection;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("db").display());
        let mut first = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let mut second = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&mut first)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut first)
            .await
            .unwrap();
        let duplicate = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut first)
            .await
            .unwrap_err();
        assert_eq!(classify(&duplicate), SqlFailure::Other);

        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut first)
            .await
            .unwrap();
        sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut second)
            .await
            .unwrap();
        let busy = sqlx::query("SELECT * FROM t")
            .fetch_all(&mut second)
            .await
            .err()
            .expect("the exclusive lock makes the read fail");
        assert_eq!(classify(&busy), SqlFailure::Unavailable, "{busy}");
    }
}
