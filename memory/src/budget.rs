//! Token budgets: how many language-model tokens each tenant spent today, against a daily cap.
//! In Redis when configured (every server process shares the count), in process otherwise. Keys:
//! `fluxion:{tenant}:llm:tokens:{day}`, expiring two days after they start.

use crate::conversation::MemoryError;
use async_trait::async_trait;
use chrono::NaiveDate;
use fluxion_domain::TenantSlug;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The key of a tenant's tokens on a day.
pub fn tokens_key(tenant: &TenantSlug, day: NaiveDate) -> String {
    format!("fluxion:{tenant}:llm:tokens:{day}")
}

/// Where spent tokens are counted.
#[async_trait]
pub trait TokenLedger: Send + Sync + std::fmt::Debug {
    /// Tokens `tenant` spent on `day`.
    async fn spent(&self, tenant: &TenantSlug, day: NaiveDate) -> Result<u64, MemoryError>;
    /// Adds `tokens` to `tenant`'s count of `day`; the new total.
    async fn spend(&self, tenant: &TenantSlug, day: NaiveDate, tokens: u64) -> Result<u64, MemoryError>;
}

/// The embedded ledger.
#[derive(Debug, Default)]
pub struct InProcessLedger {
    counts: Mutex<HashMap<(TenantSlug, NaiveDate), u64>>,
}

impl InProcessLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TokenLedger for InProcessLedger {
    async fn spent(&self, tenant: &TenantSlug, day: NaiveDate) -> Result<u64, MemoryError> {
        let counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(counts.get(&(tenant.clone(), day)).copied().unwrap_or(0))
    }

    async fn spend(&self, tenant: &TenantSlug, day: NaiveDate, tokens: u64) -> Result<u64, MemoryError> {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Days before yesterday are no longer asked about.
        counts.retain(|(_, d), _| (day - *d).num_days() < 2);
        let total = counts.entry((tenant.clone(), day)).or_insert(0);
        *total += tokens;
        Ok(*total)
    }
}

/// The production ledger: one Redis counter per tenant and day.
#[derive(Debug, Clone)]
pub struct RedisLedger {
    conn: crate::redis::LazyConnection,
}

impl RedisLedger {
    /// A ledger on `url`, connected on first use.
    pub fn new(url: &str) -> Result<Self, MemoryError> {
        Ok(Self { conn: crate::redis::LazyConnection::new(url, Duration::from_secs(3)).map_err(|e| e.0)? })
    }
}

#[async_trait]
impl TokenLedger for RedisLedger {
    async fn spent(&self, tenant: &TenantSlug, day: NaiveDate) -> Result<u64, MemoryError> {
        let mut conn = self.conn.get().await?;
        let n: Option<u64> = redis::cmd("GET").arg(tokens_key(tenant, day)).query_async(&mut conn).await?;
        Ok(n.unwrap_or(0))
    }

    async fn spend(&self, tenant: &TenantSlug, day: NaiveDate, tokens: u64) -> Result<u64, MemoryError> {
        let mut conn = self.conn.get().await?;
        let key = tokens_key(tenant, day);
        let (total, _): (u64, i64) = redis::pipe()
            .atomic()
            .cmd("INCRBY")
            .arg(&key)
            .arg(tokens)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(2 * 24 * 3600)
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        Ok(total)
    }
}
