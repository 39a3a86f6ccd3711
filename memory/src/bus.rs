//! The shared context: live events and partial results that agents publish while a request runs,
//! and anyone subscribed (the dashboard, a WebSocket or SSE stream) sees as they happen.
//!
//! One trait, two implementations: [`InProcessBus`] (embedded mode: tokio channels and an
//! in-memory map with expiry) and [`crate::redis::RedisBus`] (production: Redis pub/sub and hashes
//! with a TTL). Channel and key names always carry the tenant.

use async_trait::async_trait;
use fluxion_domain::TenantSlug;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

/// Where an event goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// One request's progress.
    Request {
        /// Its tenant.
        tenant: TenantSlug,
        /// The request (its trace id).
        id: Uuid,
    },
    /// A tenant's live news (new alerts, finished jobs, requests started and answered).
    Tenant(TenantSlug),
}

impl Topic {
    /// The channel name: `fluxion:{tenant}:request:{id}` or `fluxion:{tenant}:events`.
    pub fn channel(&self) -> String {
        match self {
            Topic::Request { tenant, id } => format!("fluxion:{tenant}:request:{id}"),
            Topic::Tenant(tenant) => format!("fluxion:{tenant}:events"),
        }
    }
}

/// The key of a request's partial results: `fluxion:{tenant}:request:{id}:partials`.
pub fn partials_key(tenant: &TenantSlug, request: Uuid) -> String {
    format!("fluxion:{tenant}:request:{request}:partials")
}

/// One live event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusEvent {
    /// What happened (`request.started`, `agent.finished`, `request.answered`, `alert.new`, …).
    pub kind: String,
    /// The request it belongs to, if any.
    pub request: Option<Uuid>,
    /// The agent, if an agent's (`forecast`, `alert`, …).
    pub agent: Option<String>,
    /// Details.
    pub data: serde_json::Value,
}

/// Why the bus could not deliver.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Redis refused or is unreachable.
    #[error("bus: {0}")]
    Redis(#[from] redis::RedisError),
    /// An event could not be encoded.
    #[error("bus: {0}")]
    Encode(#[from] serde_json::Error),
}

/// A subscription: events in the order they were published.
#[derive(Debug)]
pub struct Subscription {
    rx: mpsc::Receiver<BusEvent>,
    _task: Option<AbortOnDrop>,
}

impl Subscription {
    pub(crate) fn new(rx: mpsc::Receiver<BusEvent>, task: Option<tokio::task::JoinHandle<()>>) -> Self {
        Self { rx, _task: task.map(AbortOnDrop) }
    }

    /// The next event; `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<BusEvent> {
        self.rx.recv().await
    }
}

/// Stops the forwarding task when the subscription is dropped.
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The shared context's bus.
#[async_trait]
pub trait Bus: Send + Sync + std::fmt::Debug {
    /// Publishes `event` to everyone subscribed to `topic` now (nobody listening is fine).
    async fn publish(&self, topic: &Topic, event: &BusEvent) -> Result<(), BusError>;

    /// Subscribes to `topic`; events published from now on arrive in order.
    async fn subscribe(&self, topic: &Topic) -> Result<Subscription, BusError>;

    /// Stores one partial result of a request (`field` = the agent), kept for `ttl`.
    async fn put_partial(
        &self,
        tenant: &TenantSlug,
        request: Uuid,
        field: &str,
        value: &serde_json::Value,
        ttl: Duration,
    ) -> Result<(), BusError>;

    /// A request's partial results so far, by field.
    async fn partials(
        &self,
        tenant: &TenantSlug,
        request: Uuid,
    ) -> Result<BTreeMap<String, serde_json::Value>, BusError>;

    /// Which implementation ("in-process" or "redis").
    fn kind(&self) -> &'static str;
}

/// Events a slow subscriber may fall behind before it misses some.
const BACKLOG: usize = 1024;

/// A request's partial results and when they expire.
type Partials = (Instant, BTreeMap<String, serde_json::Value>);

/// The embedded bus: broadcast channels per topic and partial results in memory.
#[derive(Debug, Default)]
pub struct InProcessBus {
    channels: Mutex<HashMap<String, broadcast::Sender<BusEvent>>>,
    partials: Mutex<HashMap<String, Partials>>,
}

impl InProcessBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, topic: &Topic, event: &BusEvent) -> Result<(), BusError> {
        let mut channels = self.channels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let name = topic.channel();
        if let Some(tx) = channels.get(&name)
            && tx.send(event.clone()).is_err()
        {
            // Nobody listens any more: forget the channel.
            channels.remove(&name);
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &Topic) -> Result<Subscription, BusError> {
        let mut rx = {
            let mut channels = self.channels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            channels.entry(topic.channel()).or_insert_with(|| broadcast::channel(BACKLOG).0).subscribe()
        };
        let (tx, out) = mpsc::channel(BACKLOG);
        let task = tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        if tx.send(event).await.is_err() {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a bus subscriber fell behind and missed events");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(Subscription::new(out, Some(task)))
    }

    async fn put_partial(
        &self,
        tenant: &TenantSlug,
        request: Uuid,
        field: &str,
        value: &serde_json::Value,
        ttl: Duration,
    ) -> Result<(), BusError> {
        let now = Instant::now();
        let mut partials = self.partials.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        partials.retain(|_, (expires, _)| *expires > now);
        let entry = partials.entry(partials_key(tenant, request)).or_insert_with(|| (now + ttl, BTreeMap::new()));
        entry.0 = now + ttl;
        entry.1.insert(field.to_owned(), value.clone());
        Ok(())
    }

    async fn partials(
        &self,
        tenant: &TenantSlug,
        request: Uuid,
    ) -> Result<BTreeMap<String, serde_json::Value>, BusError> {
        let partials = self.partials.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(match partials.get(&partials_key(tenant, request)) {
            Some((expires, map)) if *expires > Instant::now() => map.clone(),
            _ => BTreeMap::new(),
        })
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}
