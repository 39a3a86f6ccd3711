//! Typed settings: the embedded defaults of `config/fluxion.toml`, an optional file, `FLUXION_*`
//! environment variables, then command-line flags.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The documented defaults, embedded so that the file and the behaviour cannot drift apart.
const DEFAULTS: &str = include_str!("../config/fluxion.toml");

/// Every setting of the binary.
#[derive(Debug, Deserialize)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub api: ApiSettings,
    pub dashboard: DashboardSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub telemetry: TelemetrySettings,
    pub import: ImportSettings,
    pub demo: DemoSettings,
    pub optimizer: fluxion_agents::optimizer::OptimizerSettings,
    pub alerts: fluxion_agents::alert::AlertSettings,
    pub orchestrator: OrchestratorSettings,
    pub jobs: JobSettings,
    pub llm: LlmSettings,
    pub embeddings: EmbeddingSettings,
    pub vectors: VectorSettings,
    pub whatsapp: WhatsAppSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DashboardSettings {
    pub enabled: bool,
    pub session_hours: u64,
    pub secure_cookies: bool,
    pub utc_offset_hours: i32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct JobSettings {
    pub workers: usize,
    pub visibility_seconds: u64,
    pub refresh_hour: u32,
    pub optimize_weekday: u32,
    pub tick_seconds: u64,
    pub stream: String,
    pub key_ttl_hours: u64,
}

#[derive(Debug, Deserialize)]
pub struct LlmSettings {
    pub base_url: String,
    pub api_key: SecretString,
    pub model: String,
    pub timeout_seconds: u64,
    pub deadline_ms: u64,
    pub stream: bool,
    pub max_tokens: u32,
    pub temperature: f32,
    pub max_tool_rounds: u32,
    pub daily_tokens_per_tenant: u64,
    pub usd_per_million_prompt: f64,
    pub usd_per_million_completion: f64,
}

#[derive(Debug, Deserialize)]
pub struct EmbeddingSettings {
    pub base_url: String,
    pub api_key: SecretString,
    pub model: String,
    pub dim: usize,
    pub timeout_seconds: u64,
    pub batch: usize,
}

#[derive(Debug, Deserialize, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VectorBackend {
    Edge,
    Exact,
    Qdrant,
    Off,
}

#[derive(Debug, Deserialize)]
pub struct WhatsAppSettings {
    pub verify_token: SecretString,
    pub app_secret: SecretString,
    pub access_token: SecretString,
    pub phone_number_id: String,
    pub api_base_url: String,
    pub api_version: String,
    pub request_timeout_seconds: u64,
    pub workers: usize,
    pub lease_seconds: u64,
    pub offer_hours: u64,
    pub manager_approval_limit_usd: f64,
    pub reconcile_seconds: u64,
    pub max_attempts: u32,
    pub template_language: String,
    pub alert_template: String,
    pub notice_template: String,
    pub alerts: WhatsAppAlertSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WhatsAppAlertSettings {
    pub enabled: bool,
    pub every_seconds: u64,
    pub min_severity: fluxion_domain::Severity,
    pub quiet_from_hour: u32,
    pub quiet_until_hour: u32,
    pub utc_offset_hours: i32,
    pub daily_cap: u32,
    pub per_message: usize,
}

impl WhatsAppSettings {
    /// Whether the channel is configured (all four credentials set).
    pub fn enabled(&self) -> bool {
        ![self.verify_token.expose_secret(), self.app_secret.expose_secret(), self.access_token.expose_secret()]
            .iter()
            .any(|s| s.is_empty())
            && !self.phone_number_id.is_empty()
    }

    /// The gateway's configuration.
    pub fn config(&self) -> fluxion_gateway::WhatsAppConfig {
        let graph = fluxion_gateway::GraphConfig {
            base_url: self.api_base_url.clone(),
            version: self.api_version.clone(),
            phone_number_id: self.phone_number_id.clone(),
            access_token: self.access_token.expose_secret().to_owned(),
            timeout: std::time::Duration::from_secs(self.request_timeout_seconds),
        };
        let mut c = fluxion_gateway::WhatsAppConfig::new(
            self.verify_token.expose_secret(),
            self.app_secret.expose_secret(),
            graph,
        );
        c.workers = self.workers;
        c.lease = std::time::Duration::from_secs(self.lease_seconds);
        c.offer_ttl = std::time::Duration::from_secs(self.offer_hours * 3600);
        c.manager_limit_usd = self.manager_approval_limit_usd;
        c.reconcile_after = std::time::Duration::from_secs(self.reconcile_seconds);
        c.max_attempts = self.max_attempts;
        c.templates = fluxion_gateway::whatsapp::Templates {
            language: self.template_language.clone(),
            alert: self.alert_template.clone(),
            notice: self.notice_template.clone(),
        };
        let a = &self.alerts;
        c.push = fluxion_gateway::whatsapp::PushConfig {
            enabled: a.enabled,
            every: std::time::Duration::from_secs(a.every_seconds),
            min_severity: a.min_severity,
            quiet_from: a.quiet_from_hour,
            quiet_until: a.quiet_until_hour,
            utc_offset_hours: a.utc_offset_hours,
            daily_cap: a.daily_cap,
            per_message: a.per_message,
        };
        c
    }
}

#[derive(Debug, Deserialize)]
pub struct VectorSettings {
    pub backend: VectorBackend,
    pub qdrant_url: String,
    pub qdrant_api_key: SecretString,
    pub collection_prefix: String,
    pub timeout_seconds: u64,
    pub attempts: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OrchestratorSettings {
    pub understand_ms: u64,
    pub forecast_ms: u64,
    pub alert_ms: u64,
    pub optimizer_ms: u64,
    pub compose_ms: u64,
    pub workers: usize,
    pub max_restarts: u32,
    pub restart_window_seconds: u64,
    pub partial_ttl_seconds: u64,
    pub conversation_ttl_minutes: u64,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub shutdown_grace_seconds: u64,
    pub readiness_timeout_seconds: u64,
}

#[derive(Debug, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub issuer: String,
    pub audience: String,
    pub access_ttl_seconds: u64,
    pub refresh_ttl_days: u64,
    pub admin_token: SecretString,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub demo_password: SecretString,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ApiSettings {
    pub body_limit_kib: usize,
    pub ingest_body_limit_kib: usize,
    pub request_timeout_seconds: u64,
    pub ask_timeout_seconds: u64,
    pub cors_origins: Vec<String>,
    pub catalog_cache_seconds: u64,
    pub rate_limits: RateLimitSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RateLimitSettings {
    pub default_tier: String,
    pub api_key_per_minute: u32,
    pub api_key_burst: u32,
    pub login_per_minute: u32,
    pub login_burst: u32,
    pub tiers: std::collections::BTreeMap<String, TierSettings>,
    #[serde(default)]
    pub tenants: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct TierSettings {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Debug, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub app_role: String,
    pub app_password: SecretString,
    pub max_connections: u32,
}

#[derive(Debug, Deserialize)]
pub struct RedisSettings {
    pub url: SecretString,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct TelemetrySettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ImportSettings {
    pub batch_size: usize,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct DemoSettings {
    pub seed: u64,
    pub stores: usize,
    pub products: usize,
    pub days: u32,
}

impl Settings {
    /// Loads the settings: defaults, then `file`, then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("settings file {} does not exist", file.display());
            }
            builder = builder.add_source(config::File::from(file).format(config::FileFormat::Toml));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("FLUXION").prefix_separator("_").separator("__").try_parsing(true),
        );
        let settings: Settings = builder.build().and_then(|c| c.try_deserialize()).with_context(|| match file {
            Some(f) => format!("invalid settings (file {} or FLUXION_* variables)", f.display()),
            None => "invalid settings (FLUXION_* variables)".to_owned(),
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.import.batch_size == 0 {
            anyhow::bail!("import.batch_size must be at least 1");
        }
        let a = &self.auth;
        let secret = a.jwt_secret.expose_secret();
        if !secret.is_empty() && secret.len() < 32 {
            anyhow::bail!("auth.jwt_secret must be at least 32 bytes (or empty to generate one)");
        }
        if !(60..=86_400).contains(&a.access_ttl_seconds) || !(1..=365).contains(&a.refresh_ttl_days) {
            anyhow::bail!("auth.access_ttl_seconds must be 60–86400 and auth.refresh_ttl_days 1–365");
        }
        let admin = a.admin_token.expose_secret();
        if !admin.is_empty() && admin.len() < 24 {
            anyhow::bail!("auth.admin_token must be at least 24 characters (or empty)");
        }
        if !(8..=1_048_576).contains(&a.argon2_memory_kib) || !(1..=16).contains(&a.argon2_iterations) {
            anyhow::bail!("auth.argon2_memory_kib must be 8–1048576 and auth.argon2_iterations 1–16");
        }
        let api = &self.api;
        if api.body_limit_kib == 0
            || api.ingest_body_limit_kib == 0
            || api.request_timeout_seconds == 0
            || api.ask_timeout_seconds == 0
        {
            anyhow::bail!(
                "api.body_limit_kib, ingest_body_limit_kib, request_timeout_seconds and ask_timeout_seconds must be positive"
            );
        }
        let r = &api.rate_limits;
        if !r.tiers.contains_key(&r.default_tier) {
            anyhow::bail!("api.rate_limits.default_tier {:?} is not one of api.rate_limits.tiers", r.default_tier);
        }
        if let Some((slug, tier)) = r.tenants.iter().find(|(_, t)| !r.tiers.contains_key(*t)) {
            anyhow::bail!("api.rate_limits.tenants.{slug} names tier {tier:?}, which is not in api.rate_limits.tiers");
        }
        if r.tiers.values().any(|t| t.per_minute == 0 || t.burst == 0)
            || [r.api_key_per_minute, r.api_key_burst, r.login_per_minute, r.login_burst].contains(&0)
        {
            anyhow::bail!("every rate limit and burst in api.rate_limits must be positive");
        }
        self.optimizer.validate().map_err(anyhow::Error::msg)?;
        self.alerts.validate().map_err(anyhow::Error::msg)?;
        let o = &self.orchestrator;
        for (name, ms) in [
            ("understand_ms", o.understand_ms),
            ("forecast_ms", o.forecast_ms),
            ("alert_ms", o.alert_ms),
            ("optimizer_ms", o.optimizer_ms),
            ("compose_ms", o.compose_ms),
        ] {
            if !(1..=600_000).contains(&ms) {
                anyhow::bail!("orchestrator.{name} must be between 1 and 600000 milliseconds");
            }
        }
        if !(1..=64).contains(&o.workers) {
            anyhow::bail!("orchestrator.workers must be between 1 and 64");
        }
        let j = &self.jobs;
        if j.workers > 64 || j.visibility_seconds == 0 || j.tick_seconds == 0 || j.key_ttl_hours == 0 {
            anyhow::bail!(
                "jobs.workers must be 0–64 and jobs.visibility_seconds, tick_seconds, key_ttl_hours positive"
            );
        }
        if j.refresh_hour > 23 || !(1..=7).contains(&j.optimize_weekday) {
            anyhow::bail!("jobs.refresh_hour must be 0–23 and jobs.optimize_weekday 1 (Monday) to 7 (Sunday)");
        }
        if j.stream.trim().is_empty() {
            anyhow::bail!("jobs.stream must name a Redis stream");
        }
        if o.max_restarts == 0
            || o.restart_window_seconds == 0
            || o.partial_ttl_seconds == 0
            || o.conversation_ttl_minutes == 0
        {
            anyhow::bail!(
                "orchestrator.max_restarts, restart_window_seconds, partial_ttl_seconds and conversation_ttl_minutes \
                 must be positive"
            );
        }
        let w = &self.whatsapp;
        if w.workers == 0
            || w.workers > 64
            || w.lease_seconds == 0
            || w.offer_hours == 0
            || w.request_timeout_seconds == 0
            || w.max_attempts == 0
            || !w.manager_approval_limit_usd.is_finite()
            || w.manager_approval_limit_usd < 0.0
        {
            anyhow::bail!(
                "whatsapp.workers must be 1–64; lease_seconds, offer_hours, request_timeout_seconds and max_attempts \
                 positive; manager_approval_limit_usd zero or more"
            );
        }
        let wa = &w.alerts;
        if wa.quiet_from_hour > 23
            || wa.quiet_until_hour > 23
            || !(-12..=14).contains(&wa.utc_offset_hours)
            || wa.every_seconds == 0
            || wa.per_message == 0
        {
            anyhow::bail!(
                "whatsapp.alerts: quiet hours 0–23, utc_offset_hours −12 to 14, every_seconds and per_message positive"
            );
        }
        let l = &self.llm;
        if !l.base_url.trim().is_empty() && l.model.trim().is_empty() {
            anyhow::bail!("llm.model must name the model when llm.base_url is set");
        }
        if l.timeout_seconds == 0 || l.deadline_ms == 0 || l.max_tokens == 0 || !(0.0..=2.0).contains(&l.temperature) {
            anyhow::bail!("llm.timeout_seconds, deadline_ms and max_tokens must be positive, llm.temperature 0–2");
        }
        let e = &self.embeddings;
        if !e.base_url.trim().is_empty() && e.model.trim().is_empty() {
            anyhow::bail!("embeddings.model must name the model when embeddings.base_url is set");
        }
        if !(16..=8192).contains(&e.dim) || e.batch == 0 || e.timeout_seconds == 0 {
            anyhow::bail!("embeddings.dim must be 16–8192, embeddings.batch and timeout_seconds positive");
        }
        let v = &self.vectors;
        if v.backend == VectorBackend::Qdrant && v.qdrant_url.trim().is_empty() {
            anyhow::bail!("vectors.qdrant_url must be set when vectors.backend is \"qdrant\"");
        }
        if v.timeout_seconds == 0 || v.attempts == 0 || v.collection_prefix.trim().is_empty() {
            anyhow::bail!("vectors.timeout_seconds and attempts must be positive, vectors.collection_prefix set");
        }
        if self.database.max_connections == 0 {
            anyhow::bail!("database.max_connections must be at least 1");
        }
        if fluxion_domain::TenantSlug::parse(&self.database.app_role).is_err() && !self.database.app_role.is_empty() {
            // Role names end up in SQL identifiers (quoted), but a plain name keeps operations simple.
            anyhow::bail!("database.app_role must be a plain lower-case name such as fluxion_app");
        }
        Ok(())
    }

    /// The PostgreSQL URL, when one is configured.
    pub fn database_url(&self) -> Option<&str> {
        Some(self.database.url.expose_secret()).filter(|u| !u.trim().is_empty())
    }

    /// The Redis URL, when one is configured.
    pub fn redis_url(&self) -> Option<&str> {
        Some(self.redis.url.expose_secret()).filter(|u| !u.trim().is_empty())
    }

    /// The runtime's configuration.
    pub fn runtime_config(&self) -> fluxion_orchestrator::RuntimeConfig {
        use std::time::Duration;
        let o = &self.orchestrator;
        fluxion_orchestrator::RuntimeConfig {
            deadlines: fluxion_orchestrator::Deadlines {
                understand: Duration::from_millis(o.understand_ms),
                forecast: Duration::from_millis(o.forecast_ms),
                alert: Duration::from_millis(o.alert_ms),
                optimizer: Duration::from_millis(o.optimizer_ms),
                compose: Duration::from_millis(o.compose_ms),
            },
            workers: o.workers,
            restart: fluxion_orchestrator::RestartPolicy {
                max_restarts: o.max_restarts,
                window: Duration::from_secs(o.restart_window_seconds),
            },
            alerts: self.alerts.clone(),
            optimizer: self.optimizer.clone(),
            partial_ttl: Duration::from_secs(o.partial_ttl_seconds),
            conversation_ttl: Duration::from_secs(o.conversation_ttl_minutes * 60),
            llm: fluxion_orchestrator::LlmPolicy {
                deadline: Duration::from_millis(self.llm.deadline_ms),
                daily_tokens_per_tenant: self.llm.daily_tokens_per_tenant,
                usd_per_million_prompt: self.llm.usd_per_million_prompt,
                usd_per_million_completion: self.llm.usd_per_million_completion,
            },
        }
    }

    /// The language model's client settings, when one is configured.
    pub fn llm_config(&self) -> Option<fluxion_agents::chat::LlmConfig> {
        let l = &self.llm;
        (!l.base_url.trim().is_empty()).then(|| fluxion_agents::chat::LlmConfig {
            base_url: l.base_url.trim().to_owned(),
            api_key: l.api_key.expose_secret().to_owned(),
            model: l.model.clone(),
            timeout: std::time::Duration::from_secs(l.timeout_seconds),
            stream: l.stream,
            max_tokens: l.max_tokens,
            temperature: l.temperature,
            max_tool_rounds: l.max_tool_rounds,
        })
    }

    /// The effective settings as a TOML-like tree with every secret redacted.
    pub fn redacted(&self) -> serde_json::Value {
        let secret_url = |s: &SecretString| redact_url(s.expose_secret());
        serde_json::json!({
            "data_dir": self.data_dir,
            "server": self.server,
            "auth": {
                "jwt_secret": if self.auth.jwt_secret.expose_secret().is_empty() { "" } else { "[redacted]" },
                "issuer": self.auth.issuer,
                "audience": self.auth.audience,
                "access_ttl_seconds": self.auth.access_ttl_seconds,
                "refresh_ttl_days": self.auth.refresh_ttl_days,
                "admin_token": if self.auth.admin_token.expose_secret().is_empty() { "" } else { "[redacted]" },
                "argon2_memory_kib": self.auth.argon2_memory_kib,
                "argon2_iterations": self.auth.argon2_iterations,
                "demo_password": if self.auth.demo_password.expose_secret().is_empty() { "" } else { "[redacted]" },
            },
            "api": self.api,
            "dashboard": self.dashboard,
            "database": {
                "url": secret_url(&self.database.url),
                "app_role": self.database.app_role,
                "app_password": if self.database.app_password.expose_secret().is_empty() { "" } else { "[redacted]" },
                "max_connections": self.database.max_connections,
            },
            "redis": { "url": secret_url(&self.redis.url) },
            "telemetry": self.telemetry,
            "import": self.import,
            "demo": self.demo,
            "optimizer": self.optimizer,
            "alerts": self.alerts,
            "orchestrator": self.orchestrator,
            "jobs": self.jobs,
            "llm": {
                "base_url": redact_url(&self.llm.base_url),
                "api_key": if self.llm.api_key.expose_secret().is_empty() { "" } else { "[redacted]" },
                "model": self.llm.model,
                "timeout_seconds": self.llm.timeout_seconds,
                "deadline_ms": self.llm.deadline_ms,
                "stream": self.llm.stream,
                "max_tokens": self.llm.max_tokens,
                "temperature": self.llm.temperature,
                "max_tool_rounds": self.llm.max_tool_rounds,
                "daily_tokens_per_tenant": self.llm.daily_tokens_per_tenant,
                "usd_per_million_prompt": self.llm.usd_per_million_prompt,
                "usd_per_million_completion": self.llm.usd_per_million_completion,
            },
            "embeddings": {
                "base_url": redact_url(&self.embeddings.base_url),
                "api_key": if self.embeddings.api_key.expose_secret().is_empty() { "" } else { "[redacted]" },
                "model": self.embeddings.model,
                "dim": self.embeddings.dim,
                "timeout_seconds": self.embeddings.timeout_seconds,
                "batch": self.embeddings.batch,
            },
            "vectors": {
                "backend": self.vectors.backend,
                "qdrant_url": redact_url(&self.vectors.qdrant_url),
                "qdrant_api_key": if self.vectors.qdrant_api_key.expose_secret().is_empty() { "" } else { "[redacted]" },
                "collection_prefix": self.vectors.collection_prefix,
                "timeout_seconds": self.vectors.timeout_seconds,
                "attempts": self.vectors.attempts,
            },
            "whatsapp": {
                "verify_token": if self.whatsapp.verify_token.expose_secret().is_empty() { "" } else { "[redacted]" },
                "app_secret": if self.whatsapp.app_secret.expose_secret().is_empty() { "" } else { "[redacted]" },
                "access_token": if self.whatsapp.access_token.expose_secret().is_empty() { "" } else { "[redacted]" },
                "phone_number_id": self.whatsapp.phone_number_id,
                "api_base_url": self.whatsapp.api_base_url,
                "api_version": self.whatsapp.api_version,
                "request_timeout_seconds": self.whatsapp.request_timeout_seconds,
                "workers": self.whatsapp.workers,
                "lease_seconds": self.whatsapp.lease_seconds,
                "offer_hours": self.whatsapp.offer_hours,
                "manager_approval_limit_usd": self.whatsapp.manager_approval_limit_usd,
                "reconcile_seconds": self.whatsapp.reconcile_seconds,
                "max_attempts": self.whatsapp.max_attempts,
                "template_language": self.whatsapp.template_language,
                "alert_template": self.whatsapp.alert_template,
                "notice_template": self.whatsapp.notice_template,
                "alerts": self.whatsapp.alerts,
            },
        })
    }
}

/// A URL with its password replaced by `[redacted]` (`scheme://user:[redacted]@host/…`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map(|(u, _)| u).unwrap_or(userinfo);
            if userinfo.contains(':') {
                format!("{scheme}://{user}:[redacted]@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/fluxion"), "postgres://app:[redacted]@db:5432/fluxion");
        assert_eq!(redact_url("redis://:pw@127.0.0.1:6379/0"), "redis://:[redacted]@127.0.0.1:6379/0");
        assert_eq!(redact_url("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(redact_url(""), "");
    }

    #[test]
    fn the_documented_defaults_parse_and_run_embedded() {
        let s: Settings = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("config/fluxion.toml is valid");
        assert_eq!(s.data_dir, PathBuf::from("./fluxion-data"));
        assert!(s.database_url().is_none() && s.redis_url().is_none(), "no settings means embedded");
        assert_eq!(s.telemetry.format, LogFormat::Human);
    }
}
