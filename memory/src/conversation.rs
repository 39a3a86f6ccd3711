//! Short-term conversation memory per user: the last turns, kept for a while (a TTL) — in Redis in
//! production, in process when embedded. Keys carry the tenant and the user:
//! `fluxion:{tenant}:conversation:{user}`; nothing is ever read across them.

use async_trait::async_trait;
use fluxion_domain::{Conversation, TenantSlug};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why the memory failed.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// Redis failed.
    #[error("conversation memory: {0}")]
    Redis(#[from] redis::RedisError),
    /// A stored conversation could not be read or written.
    #[error("conversation memory: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The key of a user's conversation.
pub fn conversation_key(tenant: &TenantSlug, user: &str) -> String {
    format!("fluxion:{tenant}:conversation:{user}")
}

/// Where conversations are kept.
#[async_trait]
pub trait ConversationMemory: Send + Sync + std::fmt::Debug {
    /// The user's conversation, if one is kept.
    async fn load(&self, tenant: &TenantSlug, user: &str) -> Result<Option<Conversation>, MemoryError>;

    /// Keeps the user's conversation for `ttl`.
    async fn save(
        &self,
        tenant: &TenantSlug,
        user: &str,
        conversation: &Conversation,
        ttl: Duration,
    ) -> Result<(), MemoryError>;
}

/// The embedded memory: a map with expiry.
#[derive(Debug, Default)]
pub struct InProcessMemory {
    entries: Mutex<HashMap<String, (Instant, Conversation)>>,
}

impl InProcessMemory {
    /// An empty memory.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ConversationMemory for InProcessMemory {
    async fn load(&self, tenant: &TenantSlug, user: &str) -> Result<Option<Conversation>, MemoryError> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(entries
            .get(&conversation_key(tenant, user))
            .filter(|(expires, _)| *expires > Instant::now())
            .map(|(_, c)| c.clone()))
    }

    async fn save(
        &self,
        tenant: &TenantSlug,
        user: &str,
        conversation: &Conversation,
        ttl: Duration,
    ) -> Result<(), MemoryError> {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, (expires, _)| *expires > now);
        entries.insert(conversation_key(tenant, user), (now + ttl, conversation.clone()));
        Ok(())
    }
}

/// The production memory: one Redis string per user, with a TTL.
#[derive(Debug, Clone)]
pub struct RedisMemory {
    conn: crate::redis::LazyConnection,
}

impl RedisMemory {
    /// A memory on `url`, connected on first use.
    pub fn new(url: &str) -> Result<Self, MemoryError> {
        Ok(Self { conn: crate::redis::LazyConnection::new(url, Duration::from_secs(3)).map_err(|e| e.0)? })
    }
}

#[async_trait]
impl ConversationMemory for RedisMemory {
    async fn load(&self, tenant: &TenantSlug, user: &str) -> Result<Option<Conversation>, MemoryError> {
        let mut conn = self.conn.get().await?;
        let raw: Option<String> = redis::cmd("GET").arg(conversation_key(tenant, user)).query_async(&mut conn).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    async fn save(
        &self,
        tenant: &TenantSlug,
        user: &str,
        conversation: &Conversation,
        ttl: Duration,
    ) -> Result<(), MemoryError> {
        let mut conn = self.conn.get().await?;
        let () = redis::cmd("SET")
            .arg(conversation_key(tenant, user))
            .arg(serde_json::to_string(conversation)?)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
