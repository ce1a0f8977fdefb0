//! The failure of a storage backend (SQL database, Redis), shared by the session stores,
//! the throttle stores and the Redis connector: retryable unavailability (503) or
//! anything else (500). It lives below the stores so the connector and the classifier
//! need not import the session layer.

use crate::errors::BoxError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session store unavailable")]
    Unavailable(#[source] BoxError),
    #[error("session store error")]
    Other(#[source] BoxError),
}

impl StoreError {
    /// Busy, locked or unreachable databases are [`StoreError::Unavailable`] (503),
    /// anything else [`StoreError::Other`], by the one classifier every SQL backend uses.
    pub fn from_sql(error: sqlx::Error) -> Self {
        match crate::sql_errors::classify(&error) {
            crate::sql_errors::SqlFailure::Unavailable => Self::Unavailable(error.into()),
            crate::sql_errors::SqlFailure::Other => Self::Other(error.into()),
        }
    }
}
