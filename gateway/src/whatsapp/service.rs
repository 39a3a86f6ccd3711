//! Fluxion on WhatsApp: the webhook routes, the inbox workers that answer through the orchestrator,
//! and the sender that delivers the outbox through the Cloud API.
//!
//! The path of a message: `POST /webhooks/whatsapp` checks the signature over the raw body, stores
//! every message of the batch in the inbox (a redelivered id adds nothing) and answers 200; an inbox
//! worker takes it under a lease, works out who wrote and what they want (a question, a tapped
//! button, a typed "sí"), and queues its replies as send intents whose ids come from the message
//! (`in:<wamid>:<n>`), so handling it twice queues nothing twice; the sender delivers intents,
//! outside the 24-hour window as templates, retrying what Meta asks to retry and never resending
//! one whose outcome it does not know until the status webhooks have had time to name it.

use super::client::{GraphClient, GraphConfig, SendError};
use super::conversation;
use super::messages::{self, is_template, tagged};
use super::webhook::{self, Event};
use crate::error::{ApiError, Query};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use fluxion_domain::Severity;
use fluxion_memory::{InboundMessage, OutboundMessage, SendOutcome, StatusUpdate, Store};
use fluxion_orchestrator::Runtime;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Names of the approved templates (submit them to Meta with the texts in `docs/whatsapp.md`).
#[derive(Debug, Clone)]
pub struct Templates {
    /// Their language code (`es`).
    pub language: String,
    /// Alerts outside the window: {{1}} store, {{2}} what, {{3}} what to do. Quick replies: Sí / No / Ver detalle.
    pub alert: String,
    /// Any other message outside the window: {{1}} the message, cut to 900 characters.
    pub notice: String,
}

/// When and how much to push.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// Push alerts at all.
    pub enabled: bool,
    /// How often new alerts are looked for.
    pub every: Duration,
    /// The least severe alert pushed.
    pub min_severity: Severity,
    /// Local hour (0–23) quiet hours start; nothing is pushed until they end.
    pub quiet_from: u32,
    /// Local hour (0–23) quiet hours end.
    pub quiet_until: u32,
    /// The local time's offset from UTC, hours (Venezuela: −4).
    pub utc_offset_hours: i32,
    /// Pushed messages per user per local day.
    pub daily_cap: u32,
    /// Alerts named in one grouped message.
    pub per_message: usize,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            every: Duration::from_secs(60),
            min_severity: Severity::Warning,
            quiet_from: 21,
            quiet_until: 7,
            utc_offset_hours: -4,
            daily_cap: 3,
            per_message: 5,
        }
    }
}

/// The WhatsApp channel's settings.
#[derive(Clone)]
pub struct WhatsAppConfig {
    /// What Meta sends in the verification handshake.
    pub verify_token: String,
    /// The app secret that signs webhooks.
    pub app_secret: String,
    /// The Graph API.
    pub graph: GraphConfig,
    /// Inbox workers (messages handled at once).
    pub workers: usize,
    /// How long a worker holds a message or an intent before another may take it.
    pub lease: Duration,
    /// How often idle workers look for work left by other replicas or due retries.
    pub poll: Duration,
    /// How long a suggestion sent with "SI / NO" buttons can be approved.
    pub offer_ttl: Duration,
    /// The largest order or transfer (US$) a manager may approve; above it, an owner must.
    pub manager_limit_usd: f64,
    /// How long a send whose outcome is unknown waits for a status webhook before it is sent again.
    pub reconcile_after: Duration,
    /// Send attempts before an intent is given up.
    pub max_attempts: u32,
    /// Approved templates.
    pub templates: Templates,
    /// Pushed alerts.
    pub push: PushConfig,
}

impl std::fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppConfig")
            .field("graph", &self.graph)
            .field("workers", &self.workers)
            .field("templates", &self.templates)
            .finish_non_exhaustive()
    }
}

impl WhatsAppConfig {
    /// Settings with defaults around the given credentials.
    pub fn new(verify_token: &str, app_secret: &str, graph: GraphConfig) -> Self {
        Self {
            verify_token: verify_token.into(),
            app_secret: app_secret.into(),
            graph,
            workers: 4,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            offer_ttl: Duration::from_secs(24 * 3600),
            manager_limit_usd: 5_000.0,
            reconcile_after: Duration::from_secs(60),
            max_attempts: 8,
            templates: Templates {
                language: "es".into(),
                alert: "fluxion_alerta".into(),
                notice: "fluxion_aviso".into(),
            },
            push: PushConfig::default(),
        }
    }
}

/// Failures tests inject.
#[derive(Debug, Default)]
pub struct Faults {
    /// The next this-many approvals "crash" right after executing, before confirming (the message
    /// stays in the inbox until its lease runs out).
    pub crash_after_execute: AtomicU32,
}

impl Faults {
    pub(crate) fn take(counter: &AtomicU32) -> bool {
        counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }
}

/// Counters for benchmarks and metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// Inbound messages handled.
    pub handled: std::sync::atomic::AtomicU64,
    /// Messages Meta accepted.
    pub sent: std::sync::atomic::AtomicU64,
}

/// The WhatsApp channel.
pub struct WhatsApp {
    pub(crate) config: WhatsAppConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) runtime: Runtime,
    client: GraphClient,
    inbox: Notify,
    outbox: Notify,
    /// Injected failures.
    pub faults: Faults,
    /// What it did.
    pub counters: Counters,
}

impl std::fmt::Debug for WhatsApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsApp").field("config", &self.config).finish_non_exhaustive()
    }
}

impl WhatsApp {
    /// The channel over `store` and `runtime`.
    pub fn new(config: WhatsAppConfig, store: Arc<dyn Store>, runtime: Runtime) -> Result<Arc<Self>, String> {
        let client = GraphClient::new(config.graph.clone())?;
        Ok(Arc::new(Self {
            config,
            store,
            runtime,
            client,
            inbox: Notify::new(),
            outbox: Notify::new(),
            faults: Faults::default(),
            counters: Counters::default(),
        }))
    }

    /// The settings.
    pub fn config(&self) -> &WhatsAppConfig {
        &self.config
    }

    /// `GET` and `POST /webhooks/whatsapp`. Webhook bodies may be up to 3 MB.
    pub fn routes(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/webhooks/whatsapp", get(verify).post(receive))
            .layer(DefaultBodyLimit::max(3 * 1024 * 1024))
            .with_state(self.clone())
    }

    /// Starts the inbox workers, the sender and the alert pusher; they stop when `shutdown` is cancelled.
    pub fn start(self: &Arc<Self>, shutdown: &CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        for n in 0..self.config.workers.max(1) {
            let (me, stop) = (self.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move { me.inbox_worker(n, stop).await }));
        }
        let (me, stop) = (self.clone(), shutdown.clone());
        tasks.push(tokio::spawn(async move { me.sender(stop).await }));
        if self.config.push.enabled {
            let (me, stop) = (self.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move { super::push::pusher(me, stop).await }));
        }
        tasks
    }

    /// Wakes the sender (new intents were queued).
    pub(crate) fn wake_sender(&self) {
        self.outbox.notify_one();
    }

    /// Queues intents and wakes the sender.
    pub(crate) async fn queue(&self, intents: &[OutboundMessage]) -> Result<u32, fluxion_memory::StoreError> {
        let n = self.store.messaging().queue(intents).await?;
        if n > 0 {
            self.wake_sender();
        }
        Ok(n)
    }

    async fn idle(&self, wake: &Notify, shutdown: &CancellationToken) -> bool {
        tokio::select! {
            () = wake.notified() => true,
            () = tokio::time::sleep(self.config.poll) => true,
            () = shutdown.cancelled() => false,
        }
    }

    async fn inbox_worker(self: Arc<Self>, n: usize, shutdown: CancellationToken) {
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::seconds(60));
        while !shutdown.is_cancelled() {
            let batch = match self.store.messaging().claim_inbound(Utc::now(), lease, 4).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(worker = n, error = %e, "the WhatsApp inbox could not be read");
                    Vec::new()
                }
            };
            if batch.is_empty() {
                if !self.idle(&self.inbox, &shutdown).await {
                    break;
                }
                continue;
            }
            if batch.len() == 4 {
                // There may be more: let another worker help.
                self.inbox.notify_one();
            }
            for m in batch {
                self.handle(m).await;
            }
        }
    }

    async fn handle(&self, m: InboundMessage) {
        let started = Instant::now();
        match conversation::handle(self, &m).await {
            Ok(outcome) => {
                if let Err(e) = self.store.messaging().finish_inbound(&m.id, outcome).await {
                    tracing::warn!(message = %m.id, error = %e, "a handled WhatsApp message could not be marked done");
                }
                self.counters.handled.fetch_add(1, Ordering::Relaxed);
                metrics::histogram!("fluxion_whatsapp_handle_seconds", "outcome" => outcome)
                    .record(started.elapsed().as_secs_f64());
                tracing::info!(message = %m.id, outcome, millis = started.elapsed().as_millis() as u64, "WhatsApp message handled");
            }
            Err(conversation::Failure::Crashed) => {
                tracing::warn!(message = %m.id, "worker crashed on purpose; the message waits for its lease to run out");
            }
            Err(conversation::Failure::Store(e)) => {
                // Left leased: another attempt after the lease. After a few, give up politely.
                tracing::warn!(message = %m.id, attempt = m.attempts, error = %e, "a WhatsApp message could not be handled");
                if m.attempts >= 5 {
                    let sorry = OutboundMessage::new(
                        format!("in:{}:error", m.id),
                        &m.phone,
                        None,
                        "error",
                        messages::text(
                            &m.phone,
                            "Disculpa, tuvimos un problema técnico y no pude atender tu mensaje. Inténtalo de nuevo en unos minutos.",
                        )
                        .to_string(),
                    );
                    let _ = self.queue(&[sorry]).await;
                    let _ = self.store.messaging().finish_inbound(&m.id, "failed").await;
                }
            }
        }
    }

    async fn sender(self: Arc<Self>, shutdown: CancellationToken) {
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::seconds(60));
        while !shutdown.is_cancelled() {
            let batch = match self.store.messaging().claim_outbound(Utc::now(), lease, 32).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "the WhatsApp outbox could not be read");
                    Vec::new()
                }
            };
            if batch.is_empty() {
                if !self.idle(&self.outbox, &shutdown).await {
                    break;
                }
                continue;
            }
            // One recipient's messages in order; recipients in parallel.
            let mut by_phone: BTreeMap<String, Vec<OutboundMessage>> = BTreeMap::new();
            for m in batch {
                by_phone.entry(m.phone.clone()).or_default().push(m);
            }
            let me = &self;
            let sends = by_phone.into_values().map(|list| async move {
                let me = me.as_ref();
                for m in list {
                    let outcome = me.send_one(&m).await;
                    if matches!(outcome, SendOutcome::Sent { .. }) {
                        me.counters.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    metrics::counter!("fluxion_whatsapp_sends_total", "outcome" => outcome_name(&outcome)).increment(1);
                    if let Err(e) = me.store.messaging().finish_outbound(&m.id, &outcome).await {
                        tracing::warn!(intent = %m.id, error = %e, "a send's outcome could not be recorded");
                    }
                }
            });
            futures_util::future::join_all(sends).await;
        }
    }

    /// Sends one intent and says what came of it.
    async fn send_one(&self, m: &OutboundMessage) -> SendOutcome {
        let now = Utc::now();
        let Ok(mut body) = serde_json::from_str::<Value>(&m.message) else {
            return SendOutcome::Failed { error: "unreadable message body".into() };
        };
        if !is_template(&body) && !self.window_open(&m.phone, now).await {
            match m.fallback.as_deref().and_then(|f| serde_json::from_str::<Value>(f).ok()) {
                Some(template) => body = template,
                None => {
                    return SendOutcome::Failed {
                        error: "the 24-hour window is closed and there is no template".into(),
                    };
                }
            }
        }
        if let Some(images) = body.pointer("/image/png_base64").and_then(Value::as_str) {
            match self.upload_png(images).await {
                Ok(id) => body["image"] = serde_json::json!({"id": id, "caption": body["image"]["caption"].clone()}),
                Err(e) => return self.retry_or_fail(m, now, e),
            }
        }
        match self.client.send(&tagged(body, &m.id)).await {
            Ok(wamid) => SendOutcome::Sent { wamid },
            Err(SendError::Meta { code: 131047, .. }) => match &m.fallback {
                Some(template) => SendOutcome::Replace { message: template.clone() },
                None => SendOutcome::Failed { error: "131047: the 24-hour window is closed".into() },
            },
            Err(e) => self.retry_or_fail(m, now, e),
        }
    }

    fn retry_or_fail(&self, m: &OutboundMessage, now: DateTime<Utc>, e: SendError) -> SendOutcome {
        let retryable = match &e {
            SendError::Meta { code, status, .. } => {
                matches!(code, 131056 | 130429 | 131057 | 80007 | 4 | 1 | 2 | 131000 | 131016)
                    || *status == 429
                    || *status >= 500
            }
            SendError::Unknown(_) | SendError::Unreachable(_) => true,
        };
        if !retryable || m.attempts >= self.config.max_attempts {
            return SendOutcome::Failed { error: e.to_string() };
        }
        let uncertain = matches!(e, SendError::Unknown(_));
        let wait = if uncertain {
            self.config.reconcile_after
        } else if e.code() == Some(131056) {
            // Meta's advice for the pair rate limit: 4^n seconds.
            Duration::from_secs(4u64.saturating_pow(m.attempts.min(5)))
        } else {
            Duration::from_millis(500 * 2u64.saturating_pow(m.attempts.min(10)))
        };
        let at = now + chrono::Duration::from_std(wait.min(Duration::from_secs(3600))).unwrap_or_default();
        SendOutcome::Retry { at, error: e.to_string(), uncertain }
    }

    async fn window_open(&self, phone: &str, now: DateTime<Utc>) -> bool {
        match self.store.messaging().last_inbound(phone).await {
            Ok(Some(last)) => now - last < chrono::Duration::hours(24),
            Ok(None) => false,
            // Unknown: try free-form; Meta's 131047 brings the template.
            Err(_) => true,
        }
    }

    async fn upload_png(&self, base64_png: &str) -> Result<String, SendError> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(base64_png).map_err(|e| SendError::Meta {
            code: 0,
            status: 400,
            message: format!("bad chart: {e}"),
        })?;
        self.client.upload(bytes, "image/png", "grafico.png").await
    }

    /// Stores a webhook's messages and applies its statuses.
    async fn ingest(&self, events: Vec<Event>) -> Result<(), fluxion_memory::StoreError> {
        let now = Utc::now();
        let mut inbound = Vec::new();
        for event in events {
            match event {
                Event::Message { ref id, ref from, timestamp, .. } => {
                    // Meta's time (a redelivery can be days late); none or nonsense: now.
                    let sent_at =
                        DateTime::from_timestamp(timestamp, 0).filter(|t| timestamp > 0 && *t <= now).unwrap_or(now);
                    inbound.push(InboundMessage {
                        id: id.clone(),
                        phone: from.clone(),
                        sent_at,
                        received_at: now,
                        event: serde_json::to_string(&event).unwrap_or_default(),
                        attempts: 0,
                    });
                }
                Event::Status { id, status, errors, biz_opaque_callback_data, .. } => {
                    let update = StatusUpdate { wamid: id, intent: biz_opaque_callback_data, status, errors };
                    if let Some(intent) = self.store.messaging().record_status(&update).await?
                        && update.status == "failed"
                        && update.errors.contains(&131047)
                        && let Some(template) = intent.fallback.clone()
                    {
                        // Meta refused the free-form message: the window had closed. The template goes instead.
                        self.store
                            .messaging()
                            .finish_outbound(&intent.id, &SendOutcome::Replace { message: template })
                            .await?;
                        self.wake_sender();
                    }
                }
            }
        }
        if !inbound.is_empty() {
            let new = self.store.messaging().receive(&inbound).await?;
            metrics::counter!("fluxion_whatsapp_inbound_total").increment(u64::from(new));
            metrics::counter!("fluxion_whatsapp_duplicates_total").increment(inbound.len() as u64 - u64::from(new));
            if new > 0 {
                self.inbox.notify_one();
            }
        }
        Ok(())
    }
}

fn outcome_name(o: &SendOutcome) -> &'static str {
    match o {
        SendOutcome::Sent { .. } => "sent",
        SendOutcome::Retry { uncertain: true, .. } => "uncertain",
        SendOutcome::Retry { .. } => "retry",
        SendOutcome::Replace { .. } => "template",
        SendOutcome::Failed { .. } => "failed",
    }
}

/// Meta's verification handshake: the challenge, byte for byte, or 403.
async fn verify(State(wa): State<Arc<WhatsApp>>, Query(q): Query<HashMap<String, String>>) -> Response {
    match webhook::handshake(
        q.get("hub.mode").map(String::as_str),
        q.get("hub.verify_token").map(String::as_str),
        q.get("hub.challenge").map(String::as_str),
        &wa.config.verify_token,
    ) {
        Some(challenge) => ([(header::CONTENT_TYPE, "text/plain")], challenge.to_string()).into_response(),
        None => ApiError::new(
            StatusCode::FORBIDDEN,
            "verification_failed",
            "El token de verificación no coincide.",
            "The verify token does not match.",
        )
        .into_response(),
    }
}

/// A webhook: signature first, then every event of the batch; 200 as soon as they are stored.
async fn receive(State(wa): State<Arc<WhatsApp>>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !webhook::signature_ok(wa.config.app_secret.as_bytes(), signature, &body) {
        metrics::counter!("fluxion_whatsapp_rejected_total", "reason" => "signature").increment(1);
        return ApiError::unauthorized(
            "invalid_signature",
            "La firma X-Hub-Signature-256 no es válida.",
            "The X-Hub-Signature-256 signature is not valid.",
        )
        .into_response();
    }
    let events = match webhook::events(&body) {
        Ok(events) => events,
        Err(e) => {
            // Signed by Meta but not an envelope we know: acknowledged, so that Meta does not retry it forever.
            tracing::warn!(error = %e, "a signed WhatsApp webhook was not understood; ignored");
            return StatusCode::OK.into_response();
        }
    };
    match wa.ingest(events).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            // Not stored: Meta retries it later.
            tracing::error!(error = %e, "a WhatsApp webhook could not be stored");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "No pudimos guardar el mensaje; reinténtalo.",
                "The message could not be stored; retry.",
            )
            .into_response()
        }
    }
}
