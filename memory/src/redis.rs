//! Redis: the shared-context backend of production deployments.
//!
//! For now Fluxion only checks that a configured Redis answers (for `/readyz`); the bus, the job
//! queue, caches and rate-limit counters come with later issues and live in this module's siblings.

use redis::aio::ConnectionManager;
use std::time::Duration;

/// Why Redis is not usable.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct RedisError(#[from] pub redis::RedisError);

/// A managed connection to one Redis server (reconnects by itself).
#[derive(Clone)]
pub struct RedisConnection {
    manager: ConnectionManager,
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("RedisConnection").finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// Connects to `url` (`redis://host:port/db`), failing fast when the server does not answer.
    pub async fn connect(url: &str) -> Result<Self, RedisError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(3)))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self { manager })
    }

    /// Sends `PING` and expects `PONG`.
    pub async fn ping(&self) -> Result<(), RedisError> {
        let mut conn = self.manager.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

/// A managed connection made on first use: a Redis that is down when Fluxion starts makes the
/// operations that need it fail (and be retried by their callers) instead of stopping the start.
/// Once made, the connection manager reconnects by itself.
#[derive(Clone)]
pub struct LazyConnection {
    client: redis::Client,
    config: redis::aio::ConnectionManagerConfig,
    manager: std::sync::Arc<tokio::sync::OnceCell<ConnectionManager>>,
    /// When connecting last failed: callers fail fast for a moment instead of queueing up.
    failed_at: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

/// How long after a failed connection attempt callers fail fast.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl std::fmt::Debug for LazyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyConnection").finish_non_exhaustive()
    }
}

impl LazyConnection {
    /// A connection to `url`, made on first use (only the URL is checked here).
    pub fn new(url: &str, response_timeout: Duration) -> Result<Self, RedisError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(response_timeout))
            .set_number_of_retries(1);
        Ok(Self {
            client,
            config,
            manager: std::sync::Arc::new(tokio::sync::OnceCell::new()),
            failed_at: std::sync::Arc::new(std::sync::Mutex::new(None)),
        })
    }

    /// The managed connection, connecting now if it was never made.
    pub async fn get(&self) -> Result<ConnectionManager, redis::RedisError> {
        if let Some(m) = self.manager.get() {
            return Ok(m.clone());
        }
        let recently_failed = || {
            let at = self.failed_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            at.is_some_and(|t| t.elapsed() < RETRY_AFTER)
        };
        if recently_failed() {
            return Err((redis::ErrorKind::Io, "Redis is unreachable; retrying shortly").into());
        }
        let made = self
            .manager
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), self.config.clone()))
            .await
            .cloned();
        if made.is_err() {
            *self.failed_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(std::time::Instant::now());
        }
        made
    }

    /// The client (for dedicated connections such as subscriptions).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }
}

/// The production bus: Redis pub/sub for live events and a hash per request (with a TTL) for
/// partial results. A subscription survives a Redis restart: it reconnects and subscribes again.
#[derive(Clone)]
pub struct RedisBus {
    conn: LazyConnection,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus").finish_non_exhaustive()
    }
}

impl RedisBus {
    /// A bus on `url` that connects on first use (a Redis that is down at start is not an error).
    pub fn new(url: &str) -> Result<Self, RedisError> {
        Ok(Self { conn: LazyConnection::new(url, Duration::from_secs(3))? })
    }

    /// A bus on `url`, connected now (fails when Redis does not answer).
    pub async fn connect(url: &str) -> Result<Self, RedisError> {
        let bus = Self::new(url)?;
        bus.conn.get().await?;
        Ok(bus)
    }

    async fn subscribed(client: &redis::Client, channel: &str) -> Result<redis::aio::PubSub, redis::RedisError> {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub)
    }
}

#[async_trait::async_trait]
impl crate::bus::Bus for RedisBus {
    async fn publish(
        &self,
        topic: &crate::bus::Topic,
        event: &crate::bus::BusEvent,
    ) -> Result<(), crate::bus::BusError> {
        let payload = serde_json::to_string(event)?;
        let mut conn = self.conn.get().await?;
        let _: i64 = redis::cmd("PUBLISH").arg(topic.channel()).arg(payload).query_async(&mut conn).await?;
        Ok(())
    }

    async fn subscribe(&self, topic: &crate::bus::Topic) -> Result<crate::bus::Subscription, crate::bus::BusError> {
        use futures_util::StreamExt;
        let channel = topic.channel();
        // Subscribed before returning: whatever is published after this call arrives.
        let mut pubsub = Self::subscribed(self.conn.client(), &channel).await?;
        let client = self.conn.client().clone();
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let task = tokio::spawn(async move {
            loop {
                {
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(payload) = msg.get_payload::<String>() else { continue };
                        match serde_json::from_str::<crate::bus::BusEvent>(&payload) {
                            Ok(event) => {
                                if tx.send(event).await.is_err() {
                                    return;
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "an undecodable event on the bus was skipped"),
                        }
                    }
                }
                // The connection dropped (Redis restarted?): subscribe again, backing off.
                let mut wait = Duration::from_millis(50);
                loop {
                    if tx.is_closed() {
                        return;
                    }
                    tokio::time::sleep(wait).await;
                    match Self::subscribed(&client, &channel).await {
                        Ok(p) => {
                            tracing::info!("bus subscription restored after a Redis disconnect");
                            pubsub = p;
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "bus subscription lost; retrying");
                            wait = (wait * 2).min(Duration::from_secs(2));
                        }
                    }
                }
            }
        });
        Ok(crate::bus::Subscription::new(rx, Some(task)))
    }

    async fn put_partial(
        &self,
        tenant: &fluxion_domain::TenantSlug,
        request: uuid::Uuid,
        field: &str,
        value: &serde_json::Value,
        ttl: Duration,
    ) -> Result<(), crate::bus::BusError> {
        let key = crate::bus::partials_key(tenant, request);
        let mut conn = self.conn.get().await?;
        let () = redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(&key)
            .arg(field)
            .arg(serde_json::to_string(value)?)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ttl.as_millis().max(1) as u64)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    async fn partials(
        &self,
        tenant: &fluxion_domain::TenantSlug,
        request: uuid::Uuid,
    ) -> Result<std::collections::BTreeMap<String, serde_json::Value>, crate::bus::BusError> {
        let mut conn = self.conn.get().await?;
        let raw: std::collections::HashMap<String, String> =
            redis::cmd("HGETALL").arg(crate::bus::partials_key(tenant, request)).query_async(&mut conn).await?;
        let mut out = std::collections::BTreeMap::new();
        for (k, v) in raw {
            out.insert(k, serde_json::from_str(&v)?);
        }
        Ok(out)
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
