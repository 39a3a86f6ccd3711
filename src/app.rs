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
    let ledger: Arc<dyn fluxion_memory::TokenLedger> = match settings.redis_url() {
        Some(url) => Arc::new(fluxion_memory::RedisLedger::new(url).context("invalid redis.url")?),
        None => Arc::new(fluxion_memory::InProcessLedger::new()),
    };
    let llm = match settings.llm_config() {
        Some(config) => Some(Arc::new(fluxion_agents::chat::Llm::new(config).context("invalid [llm] settings")?)),
        None => None,
    };
    let semantic = open_semantic(settings).await?;
    let services = fluxion_orchestrator::Services { bus, memory, ledger, llm, semantic };
    Ok(fluxion_orchestrator::Runtime::start_with(store, services, settings.runtime_config()).await?)
}

/// The embedder of `[embeddings]`: an OpenAI-compatible endpoint when set, else the built-in one.
pub fn open_embedder(settings: &Settings) -> anyhow::Result<Arc<dyn fluxion_memory::Embedder>> {
    let e = &settings.embeddings;
    if e.base_url.trim().is_empty() {
        return Ok(Arc::new(fluxion_memory::HashEmbedder::new(e.dim)));
    }
    let config = fluxion_memory::OpenAiEmbedderConfig {
        base_url: e.base_url.trim().to_owned(),
        api_key: e.api_key.expose_secret().to_owned(),
        model: e.model.clone(),
        dim: e.dim,
        timeout: std::time::Duration::from_secs(e.timeout_seconds),
        batch: e.batch,
    };
    Ok(Arc::new(fluxion_memory::OpenAiEmbedder::new(config).context("invalid [embeddings] settings")?))
}

/// The vector memory of `[vectors]` (none when its backend is "off").
pub async fn open_semantic(settings: &Settings) -> anyhow::Result<Option<fluxion_memory::SemanticMemory>> {
    use crate::settings::VectorBackend;
    let embedder = open_embedder(settings)?;
    let v = &settings.vectors;
    let store: Arc<dyn fluxion_memory::VectorStore> = match v.backend {
        VectorBackend::Off => return Ok(None),
        VectorBackend::Exact => Arc::new(fluxion_memory::ExactIndex::new(embedder.dim())),
        VectorBackend::Edge => {
            let root = settings.data_dir.join("vectors");
            let (id, dim) = (embedder.id(), embedder.dim());
            let store = tokio::task::spawn_blocking(move || fluxion_memory::EdgeStore::open(&root, &id, dim))
                .await?
                .with_context(|| {
                    format!("cannot open the embedded vector store in {}", settings.data_dir.join("vectors").display())
                })?;
            Arc::new(store)
        }
        VectorBackend::Qdrant => {
            let config = fluxion_memory::ServerConfig {
                url: v.qdrant_url.trim().to_owned(),
                api_key: v.qdrant_api_key.expose_secret().to_owned(),
                prefix: v.collection_prefix.clone(),
                timeout: std::time::Duration::from_secs(v.timeout_seconds),
                attempts: v.attempts,
            };
            let store = fluxion_memory::ServerStore::connect(&config, &embedder.id(), embedder.dim())
                .await
                .with_context(|| format!("cannot reach Qdrant at {}", crate::settings::redact_url(&config.url)))?;
            Arc::new(store)
        }
    };
    Ok(Some(fluxion_memory::SemanticMemory::new(embedder, store)))
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

/// The key that signs access tokens: `auth.jwt_secret`, or one generated on first start and kept in
/// `<data_dir>/jwt-secret`, readable by its owner only.
fn jwt_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    let configured = settings.auth.jwt_secret.expose_secret();
    if !configured.is_empty() {
        return Ok(configured.as_bytes().to_vec());
    }
    let path = settings.data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read(&path)
        && existing.len() >= 32
    {
        return Ok(existing);
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create data folder {}", settings.data_dir.display()))?;
    let mut secret = [0u8; 48];
    fluxion_gateway::auth::random(&mut secret);
    let text: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write;
    options
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated the token signing secret");
    Ok(text.into_bytes())
}

/// The credentials' settings.
pub fn auth_config(settings: &Settings) -> anyhow::Result<fluxion_gateway::AuthConfig> {
    let a = &settings.auth;
    let mut config = fluxion_gateway::AuthConfig::new(&jwt_secret(settings)?)
        .map_err(anyhow::Error::msg)?
        .with_admin_token(a.admin_token.expose_secret());
    config.issuer = a.issuer.clone();
    config.audience = a.audience.clone();
    config.access_ttl = std::time::Duration::from_secs(a.access_ttl_seconds);
    config.refresh_ttl = std::time::Duration::from_secs(a.refresh_ttl_days * 86_400);
    config.argon2_memory_kib = a.argon2_memory_kib;
    config.argon2_iterations = a.argon2_iterations;
    Ok(config)
}

/// The REST API over `store` and `runtime`, as the settings describe it.
pub fn open_api(
    settings: &Settings,
    store: Arc<dyn Store>,
    runtime: fluxion_orchestrator::Runtime,
) -> anyhow::Result<fluxion_gateway::Api> {
    use fluxion_memory::Limit;
    let r = &settings.api.rate_limits;
    let limits = fluxion_gateway::RateLimits {
        default_tier: r.default_tier.clone(),
        tiers: r.tiers.iter().map(|(name, t)| (name.clone(), Limit::new(t.per_minute, t.burst))).collect(),
        tenant_tiers: r.tenants.clone().into_iter().collect(),
        api_key: Limit::new(r.api_key_per_minute, r.api_key_burst),
        login: Limit::new(r.login_per_minute, r.login_burst),
    };
    let limiter: Arc<dyn fluxion_memory::RateLimiter> = match settings.redis_url() {
        Some(url) => Arc::new(fluxion_memory::RedisLimiter::new(url).context("redis.url")?),
        None => Arc::new(fluxion_memory::InProcessLimiter::new()),
    };
    let a = &settings.api;
    let mut api = fluxion_gateway::Api::new(store, runtime, auth_config(settings)?, limiter);
    api.limits = limits;
    api.http = fluxion_gateway::HttpLimits {
        body_bytes: a.body_limit_kib * 1024,
        ingest_body_bytes: a.ingest_body_limit_kib * 1024,
        request_timeout: std::time::Duration::from_secs(a.request_timeout_seconds),
        ask_timeout: std::time::Duration::from_secs(a.ask_timeout_seconds),
        cors_origins: a.cors_origins.clone(),
        catalog_ttl: std::time::Duration::from_secs(a.catalog_cache_seconds),
    };
    let d = &settings.dashboard;
    anyhow::ensure!((1..=24 * 30).contains(&d.session_hours), "dashboard.session_hours must be between 1 and 720");
    anyhow::ensure!((-12..=14).contains(&d.utc_offset_hours), "dashboard.utc_offset_hours must be between -12 and 14");
    api.dashboard = fluxion_gateway::DashboardConfig {
        enabled: d.enabled,
        session_ttl: std::time::Duration::from_secs(d.session_hours * 3600),
        secure_cookies: d.secure_cookies,
        utc_offset_hours: d.utc_offset_hours,
    };
    Ok(api)
}

/// The gauges `/metrics` reads at each scrape: job queue depth and each tenant's data age.
pub struct Gauges {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn fluxion_memory::JobQueue>,
}

#[async_trait]
impl fluxion_gateway::MetricsSource for Gauges {
    async fn collect(&self) {
        if let Ok(n) = self.queue.pending().await {
            metrics::gauge!("fluxion_job_queue_depth").set(n as f64);
        }
        if let Ok(n) = self.store.messaging().inbox_pending().await {
            metrics::gauge!("fluxion_whatsapp_inbox_pending").set(n as f64);
        }
        if let Ok(n) = self.store.messaging().outbox_pending().await {
            metrics::gauge!("fluxion_whatsapp_outbox_pending").set(n as f64);
        }
        let Ok(tenants) = self.store.tenants().await else { return };
        let now = chrono::Utc::now();
        for t in tenants {
            let Ok(scoped) = self.store.scope(&t.slug).await else { continue };
            let Ok(runs) = scoped.ingest_runs(20).await else { continue };
            if let Some(last) =
                runs.iter().filter(|r| r.status != fluxion_memory::IngestStatus::Failed).map(|r| r.finished_at).max()
            {
                let age = (now - last).num_milliseconds() as f64 / 1000.0;
                metrics::gauge!("fluxion_sync_age_seconds", "tenant" => t.slug.to_string()).set(age.max(0.0));
            }
        }
    }
}
