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
