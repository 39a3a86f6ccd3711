//! Redis: the shared-context backend of production deployments.
//!
//! For now Fluxion only checks that a configured Redis answers (for `/readyz`); the bus, the job
//! queue, caches and rate-limit counters come with later issues and live in this module's siblings.

use redis::aio::ConnectionManager;
use std::time::Duration;

/// Why Redis is not usable.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct RedisError(#[from] redis::RedisError);

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

/// The production bus: Redis pub/sub for live events and a hash per request (with a TTL) for
/// partial results. A subscription survives a Redis restart: it reconnects and subscribes again.
#[derive(Clone)]
pub struct RedisBus {
    client: redis::Client,
    conn: RedisConnection,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus").finish_non_exhaustive()
    }
}

impl RedisBus {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> Result<Self, RedisError> {
        let client = redis::Client::open(url)?;
        let conn = RedisConnection::connect(url).await?;
        Ok(Self { client, conn })
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
        let mut conn = self.conn.manager.clone();
        let _: i64 = redis::cmd("PUBLISH").arg(topic.channel()).arg(payload).query_async(&mut conn).await?;
        Ok(())
    }

    async fn subscribe(&self, topic: &crate::bus::Topic) -> Result<crate::bus::Subscription, crate::bus::BusError> {
        use futures_util::StreamExt;
        let channel = topic.channel();
        // Subscribed before returning: whatever is published after this call arrives.
        let mut pubsub = Self::subscribed(&self.client, &channel).await?;
        let client = self.client.clone();
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
        let mut conn = self.conn.manager.clone();
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
        let mut conn = self.conn.manager.clone();
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
