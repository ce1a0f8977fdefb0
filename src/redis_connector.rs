//! One way to talk to Redis, for the session store and the throttle counters alike, on a
//! single server or a Redis Cluster.
//!
//! Every call is bounded: connect and response timeouts in the client, and a deadline
//! around each operation. A failure or a timeout is [`StoreError::Unavailable`] (503);
//! only a reply our code did not expect (a script error, a wrong type) is
//! [`StoreError::Other`] (500). The clients reconnect by themselves after a dropped
//! connection; after a timeout (a connection that went silent: no reset, no answer,
//! which the client cannot detect) a fresh connection is built in the background, so
//! both callers recover once Redis answers again.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, ServerErrorKind, Value};

use crate::config::{SessionStoreKind, Settings};
use crate::store_error::StoreError;

/// Longest any one operation may take before the request gets a 503.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a (re)connection may take, including the client's retries.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest one TCP connect to one node may take.
const NODE_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Where Redis is.
#[derive(Debug, Clone)]
pub enum RedisTarget {
    /// One server (or a proxy in front of several): `redis://host:port/db`.
    Single(String),
    /// Seed nodes of a Redis Cluster; the client discovers the others.
    Cluster(Vec<String>),
}

enum Client {
    Single(redis::Client),
    // Boxed: the cluster client is several times the size of the single one.
    Cluster(Box<ClusterClient>),
}

/// A live connection, cheap to clone (both kinds multiplex one socket per node).
#[derive(Clone)]
pub enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl redis::aio::ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

struct Inner {
    client: Client,
    connection: RwLock<Connection>,
    replacing: AtomicBool,
    /// Who is talking, for the reconnection log lines ("session store", "throttle").
    user: &'static str,
}

/// A reconnecting, time-bounded Redis connection shared by clones.
#[derive(Clone)]
pub struct RedisConnector {
    inner: Arc<Inner>,
}

/// Redis errors that mean "the server is unreachable, slow, failing over or not ready"
/// are retryable (503); a reply our code did not expect is a bug (500).
pub fn classify(error: RedisError) -> StoreError {
    match error.kind() {
        ErrorKind::UnexpectedReturnType
        | ErrorKind::Parse
        | ErrorKind::InvalidClientConfig
        | ErrorKind::Server(
            ServerErrorKind::ResponseError | ServerErrorKind::CrossSlot | ServerErrorKind::NoPerm,
        ) => StoreError::Other(error.into()),
        _ => StoreError::Unavailable(error.into()),
    }
}

async fn open(client: &Client) -> Result<Connection, StoreError> {
    let connect = async {
        match client {
            Client::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(NODE_CONNECT_TIMEOUT))
                    .set_response_timeout(Some(OPERATION_TIMEOUT))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_with_config(client.clone(), config)
                    .await
                    .map(Connection::Single)
            }
            Client::Cluster(client) => client.get_async_connection().await.map(Connection::Cluster),
        }
    };
    match rocket::tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(StoreError::Unavailable(error.into())),
        Err(_) => Err(StoreError::Unavailable(
            format!("no connection within {CONNECT_TIMEOUT:?}").into(),
        )),
    }
}

impl RedisConnector {
    /// Connects to `target` and checks that it answers (every master, for a cluster).
    ///
    /// # Errors
    /// [`StoreError::Other`] for a malformed URL, [`StoreError::Unavailable`] when Redis
    /// cannot be reached or does not answer in time.
    pub async fn connect(target: &RedisTarget, user: &'static str) -> Result<Self, StoreError> {
        let malformed = |e: RedisError| StoreError::Other(e.into());
        let client = match target {
            RedisTarget::Single(url) => {
                Client::Single(redis::Client::open(url.as_str()).map_err(malformed)?)
            }
            RedisTarget::Cluster(nodes) => {
                if nodes.is_empty() {
                    return Err(StoreError::Other("no cluster nodes given".into()));
                }
                let client = ClusterClient::builder(nodes.iter().map(String::as_str))
                    .connection_timeout(NODE_CONNECT_TIMEOUT)
                    .response_timeout(OPERATION_TIMEOUT)
                    .retries(2)
                    .max_retry_wait(500)
                    .build()
                    .map_err(malformed)?;
                Client::Cluster(Box::new(client))
            }
        };
        let connection = open(&client).await?;
        let connector = Self {
            inner: Arc::new(Inner {
                client,
                connection: RwLock::new(connection),
                replacing: AtomicBool::new(false),
                user,
            }),
        };
        let _: String = connector
            .run(|mut c| async move { redis::cmd("PING").query_async(&mut c).await })
            .await?;
        Ok(connector)
    }

    /// Whether this talks to a Redis Cluster (whose keys must respect slots).
    pub fn is_cluster(&self) -> bool {
        matches!(self.inner.client, Client::Cluster(_))
    }

    /// Runs one Redis operation with a deadline, classifying failures. A timeout means the
    /// connection may have gone silent, so a fresh one is built in the background.
    ///
    /// # Errors
    /// See [`classify`]; a missed deadline is [`StoreError::Unavailable`].
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let connection = self.inner.connection.read().clone();
        match rocket::tokio::time::timeout(OPERATION_TIMEOUT, op(connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                if error.is_timeout() {
                    self.replace_connection();
                }
                Err(classify(error))
            }
            Err(_) => {
                self.replace_connection();
                Err(StoreError::Unavailable(
                    format!("Redis did not answer within {OPERATION_TIMEOUT:?}").into(),
                ))
            }
        }
    }

    fn replace_connection(&self) {
        if self.inner.replacing.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = self.inner.clone();
        rocket::tokio::spawn(async move {
            match open(&inner.client).await {
                Ok(connection) => {
                    *inner.connection.write() = connection;
                    tracing::info!("{}: reconnected to Redis", inner.user);
                }
                Err(error) => {
                    tracing::warn!("{}: reconnecting to Redis failed: {error}", inner.user)
                }
            }
            inner.replacing.store(false, Ordering::Release);
        });
    }
}

/// The Redis the sessions (and so the throttle) use, and the setting that named it, for
/// error messages (passwords redacted).
pub fn redis_target(settings: &Settings) -> (RedisTarget, String) {
    if settings.store_kind() == SessionStoreKind::RedisCluster {
        let shown: Vec<String> = settings
            .redis_cluster_nodes
            .iter()
            .map(|node| redact_url(node))
            .collect();
        (
            RedisTarget::Cluster(settings.redis_cluster_nodes.clone()),
            format!("setting `redis_cluster_nodes` = [{}]", shown.join(", ")),
        )
    } else {
        (
            RedisTarget::Single(settings.redis_url.clone()),
            format!("setting `redis_url` = {}", redact_url(&settings.redis_url)),
        )
    }
}

/// `scheme://user:secret@host/…?password=secret` -> `scheme://user:***@host/…?password=***`,
/// so a start-up message or log line never shows a database or Redis password. The last
/// `@` ends the credentials, so a password typed with a raw `/`, `?` or `#` in it is hidden
/// too (at worst a query holding an `@` shows a little less than it could).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (credentials, location) = match rest.rsplit_once('@') {
        Some((userinfo, location)) => {
            let hidden = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***@"),
                None => format!("{userinfo}@"),
            };
            (hidden, location)
        }
        None => (String::new(), rest),
    };
    format!(
        "{scheme}://{credentials}{}",
        redact_query_passwords(location)
    )
}

/// Hides the value of every `password` query parameter (sqlx and redis accept one).
fn redact_query_passwords(location: &str) -> String {
    let Some((path, query)) = location.split_once('?') else {
        return location.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
    format!("{path}?{}{fragment}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn hides_the_password_in_the_userinfo() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/latchkey"),
            "postgres://app:***@db:5432/latchkey"
        );
        assert_eq!(
            redact_url("redis://:s3cret@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
    }

    #[test]
    fn hides_a_password_holding_raw_url_delimiters() {
        for url in [
            "postgres://app:pa/ss@db/latchkey",
            "postgres://app:pa?ss@db/latchkey",
            "postgres://app:pa#ss@db/latchkey",
            "postgres://app:p@ss@db/latchkey",
        ] {
            let shown = redact_url(url);
            assert_eq!(shown, "postgres://app:***@db/latchkey", "{url}");
        }
    }

    #[test]
    fn hides_a_password_query_parameter() {
        assert_eq!(
            redact_url("postgres://app@db/latchkey?sslmode=require&password=s3cret#x"),
            "postgres://app@db/latchkey?sslmode=require&password=***#x"
        );
        assert_eq!(
            redact_url("postgres://db/latchkey?PASSWORD=s3cret"),
            "postgres://db/latchkey?PASSWORD=***"
        );
    }

    #[test]
    fn leaves_urls_without_secrets_alone() {
        for url in [
            "redis://127.0.0.1:6379",
            "postgres://app@db/latchkey?sslmode=require",
            "sqlite://data/users.db",
            "not a url",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }
}
