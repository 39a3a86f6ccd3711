//! Opening what the settings describe: the store (SQLite or PostgreSQL) and, when configured, Redis.

use crate::settings::Settings;
use anyhow::Context;
use async_trait::async_trait;
use fluxion_gateway::ReadinessCheck;
use fluxion_memory::redis::RedisConnection;
use fluxion_memory::{PostgresOptions, Store};
use secrecy::ExposeSecret;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Opens the configured store: PostgreSQL when `database.url` is set, else SQLite in `data_dir`.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    match settings.database_url() {
        Some(url) => {
            let password = settings.database.app_password.expose_secret();
            let options = PostgresOptions {
                url: url.to_owned(),
                app_role: settings.database.app_role.clone(),
                app_password: (!password.is_empty()).then(|| password.to_owned()),
                max_connections: settings.database.max_connections,
            };
            let redacted = crate::settings::redact_url(url);
            fluxion_memory::open_postgres(&options)
                .await
                .with_context(|| format!("cannot open PostgreSQL at {redacted}"))
        }
        None => fluxion_memory::open_sqlite(&settings.data_dir)
            .await
            .with_context(|| format!("cannot open the embedded store in {}", settings.data_dir.display())),
    }
}

/// Opens the configured bus: Redis when `redis.url` is set, else in-process.
pub async fn open_bus(settings: &Settings) -> anyhow::Result<Arc<dyn fluxion_memory::Bus>> {
    match settings.redis_url() {
        Some(url) => {
            // Connected on first use: a Redis that is down now makes /readyz fail, not the start.
            let redacted = crate::settings::redact_url(url);
            let bus = fluxion_memory::RedisBus::new(url).with_context(|| format!("invalid redis.url {redacted}"))?;
            Ok(Arc::new(bus))
        }
        None => Ok(Arc::new(fluxion_memory::InProcessBus::new())),
    }
}

/// Opens the configured job queue: a Redis stream when `redis.url` is set, else `jobs.db` in the
/// data folder.
pub async fn open_queue(settings: &Settings) -> anyhow::Result<Arc<dyn fluxion_memory::JobQueue>> {
    let visibility = std::time::Duration::from_secs(settings.jobs.visibility_seconds);
    match settings.redis_url() {
        Some(url) => {
            let redacted = crate::settings::redact_url(url);
            let queue = fluxion_memory::RedisJobQueue::new(
                url,
                &settings.jobs.stream,
                visibility,
                std::time::Duration::from_secs(settings.jobs.key_ttl_hours * 3600),
            )
            .with_context(|| format!("invalid redis.url {redacted}"))?;
            Ok(Arc::new(queue))
        }
        None => {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
            let path = settings.data_dir.join("jobs.db");
            let queue = fluxion_memory::SqliteJobQueue::open(&path, visibility)
                .await
                .with_context(|| format!("cannot open the job queue {}", path.display()))?;
            Ok(Arc::new(queue))
        }
    }
}

/// Starts the multi-agent runtime on the store and the configured bus.
pub async fn start_runtime(
    settings: &Settings,
    store: Arc<dyn Store>,
) -> anyhow::Result<fluxion_orchestrator::Runtime> {
    let bus = open_bus(settings).await?;
    let memory: Arc<dyn fluxion_memory::ConversationMemory> = match settings.redis_url() {
        Some(url) => Arc::new(fluxion_memory::RedisMemory::new(url).context("invalid redis.url")?),
        None => Arc::new(fluxion_memory::InProcessMemory::new()),
    };
    Ok(fluxion_orchestrator::Runtime::start_with(store, bus, memory, settings.runtime_config()).await?)
}

/// `/readyz` check of the store.
pub struct StoreCheck(pub Arc<dyn Store>);

#[async_trait]
impl ReadinessCheck for StoreCheck {
    fn name(&self) -> &str {
        "store"
    }
    fn kind(&self) -> &str {
        match self.0.backend() {
            fluxion_memory::Backend::Sqlite => "sqlite",
            fluxion_memory::Backend::Postgres => "postgres",
        }
    }
    async fn check(&self) -> Result<(), String> {
        self.0.health().await.map_err(|e| e.to_string())
    }
}

/// `/readyz` check of Redis; connects on first use and reconnects by itself afterwards, so a Redis
/// that is down at start makes the server not ready rather than unable to start.
pub struct RedisCheck {
    url: String,
    conn: Mutex<Option<RedisConnection>>,
}

impl RedisCheck {
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned(), conn: Mutex::new(None) }
    }
}

#[async_trait]
impl ReadinessCheck for RedisCheck {
    fn name(&self) -> &str {
        "redis"
    }
    fn kind(&self) -> &str {
        "redis"
    }
    async fn check(&self) -> Result<(), String> {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            *guard = Some(RedisConnection::connect(&self.url).await.map_err(|e| e.to_string())?);
        }
        match guard.as_ref() {
            Some(conn) => conn.ping().await.map_err(|e| e.to_string()),
            None => Err("not connected".into()),
        }
    }
}
