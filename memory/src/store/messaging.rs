//! WhatsApp's durable state: which number is which user, the inbox of Meta's webhooks (one row per
//! message id, so a redelivery adds nothing), the outbox of send intents (one row per intent id,
//! chosen by what causes the message, so doing the work twice sends nothing twice), the 24-hour
//! windows, the alerts already pushed, and the suggestion a typed "sí" settles.
//!
//! Deployment-wide (the `control` database): a webhook names a phone number, not a tenant.
//! Inbox and outbox rows are taken by workers under a lease: a worker that dies holding one lets
//! another take it when the lease runs out.

use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use fluxion_domain::TenantId;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use uuid::Uuid;

/// A user's WhatsApp number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Digits only, country code first (`584141234567`): what Meta calls the `wa_id`.
    pub phone: String,
    /// Whose number it is.
    pub user: Uuid,
    /// The user's tenant.
    pub tenant: TenantId,
    /// The stores whose alerts they get (codes); empty: every store.
    pub stores: Vec<String>,
    /// Opted in to alerts pushed without asking.
    pub alerts: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl Contact {
    /// Whether alerts of `store` are theirs.
    pub fn covers(&self, store: &str) -> bool {
        self.stores.is_empty() || self.stores.iter().any(|s| s == store)
    }
}

/// Normalises a typed phone number to Meta's `wa_id`: digits only, no `+`, no spaces, dashes or
/// parentheses; 8 to 15 digits (E.164). `None` when it is not a number.
pub fn normalize_phone(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if !s.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.')) {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (8..=15).contains(&digits.len()).then_some(digits).filter(|d| !d.starts_with('0'))
}

/// An inbound message as the inbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// Meta's message id (`wamid.…`): the deduplication key.
    pub id: String,
    /// Who sent it (`wa_id`).
    pub phone: String,
    /// When they sent it (Meta's timestamp).
    pub sent_at: DateTime<Utc>,
    /// When the webhook brought it.
    pub received_at: DateTime<Utc>,
    /// The message, as JSON (the gateway's shape).
    pub event: String,
    /// Deliveries to a worker so far, this one included (above 1: a worker died holding it).
    pub attempts: u32,
}

/// Where a send intent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutState {
    /// Not sent yet (or to be retried at `not_before`).
    Pending,
    /// A send was attempted and its outcome is unknown (a timeout after the request left): it is
    /// sent again only if no status webhook names it by `not_before`.
    Uncertain,
    /// Meta accepted it (its `wamid` is known).
    Sent,
    /// It will not be sent (a permanent error).
    Failed,
}

impl OutState {
    /// The stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            OutState::Pending => "pending",
            OutState::Uncertain => "uncertain",
            OutState::Sent => "sent",
            OutState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(OutState::Pending),
            "uncertain" => Some(OutState::Uncertain),
            "sent" => Some(OutState::Sent),
            "failed" => Some(OutState::Failed),
            _ => None,
        }
    }
}

/// A send intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// The intent's id, chosen by its cause (`in:<wamid>:1`, `ok:<recommendation>` …); Meta echoes
    /// it back in status webhooks (`biz_opaque_callback_data`).
    pub id: String,
    /// To whom (`wa_id`).
    pub phone: String,
    /// The tenant it concerns (none: a reply to an unknown number).
    pub tenant: Option<TenantId>,
    /// What it is (`reply`, `unknown`, `alert`, `confirm`, `feedback` …).
    pub kind: String,
    /// The Graph API body, as JSON.
    pub message: String,
    /// The approved template to send instead when the 24-hour window is closed.
    pub fallback: Option<String>,
    /// Where it stands.
    pub state: OutState,
    /// Not to be sent before this (quiet hours, backoff, the reconciliation grace).
    pub not_before: DateTime<Utc>,
    /// Send attempts so far.
    pub attempts: u32,
    /// Meta's id, once accepted.
    pub wamid: Option<String>,
    /// The furthest status Meta reported (`sent` < `delivered` < `read`; `failed` is final).
    pub delivery: Option<String>,
    /// The last error.
    pub error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl OutboundMessage {
    /// A new intent, due now.
    pub fn new(id: impl Into<String>, phone: &str, tenant: Option<TenantId>, kind: &str, message: String) -> Self {
        let now = super::rows::micros(Utc::now());
        OutboundMessage {
            id: id.into(),
            phone: phone.to_string(),
            tenant,
            kind: kind.to_string(),
            message,
            fallback: None,
            state: OutState::Pending,
            not_before: now,
            attempts: 0,
            wamid: None,
            delivery: None,
            error: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// What a send attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Meta accepted it.
    Sent {
        /// Its id.
        wamid: String,
    },
    /// Try again at `at`; `uncertain` when the request may have reached Meta.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why.
        error: String,
        /// The outcome is unknown (timeout after sending).
        uncertain: bool,
    },
    /// Send this body instead, now (the window closed: the template).
    Replace {
        /// The new Graph API body.
        message: String,
    },
    /// Give up.
    Failed {
        /// Why.
        error: String,
    },
}

/// A status webhook about one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    /// Meta's id of our message.
    pub wamid: String,
    /// Our intent id, when Meta echoed it (`biz_opaque_callback_data`).
    pub intent: Option<String>,
    /// `sent`, `delivered`, `read`, `failed` (or something newer, kept as is).
    pub status: String,
    /// Error codes, on `failed`.
    pub errors: Vec<i64>,
}

/// The suggestion a typed "sí" or "no" settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// The stored recommendation.
    pub recommendation: Uuid,
    /// After this, "sí" settles nothing.
    pub expires_at: DateTime<Utc>,
}

/// The rank of a delivery status (failed is final and beats everything).
pub fn delivery_rank(status: &str) -> u8 {
    match status {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        "failed" => 9,
        _ => 0,
    }
}

/// WhatsApp's durable state of the whole deployment.
#[async_trait]
pub trait Messaging: Send + Sync + fmt::Debug {
    /// Registers (or changes) a user's number. [`StoreError::Conflict`] when the number is another
    /// user's; [`StoreError::UnknownReference`] when the user or tenant does not exist.
    async fn save_contact(&self, contact: &Contact) -> Result<(), StoreError>;

    /// Removes a user's number. False when they had none (in this tenant).
    async fn delete_contact(&self, tenant: TenantId, user: Uuid) -> Result<bool, StoreError>;

    /// The contact of a number.
    async fn contact(&self, phone: &str) -> Result<Option<Contact>, StoreError>;

    /// A tenant's contacts, by number.
    async fn contacts(&self, tenant: TenantId) -> Result<Vec<Contact>, StoreError>;

    /// Stores inbound messages in one transaction, skipping ids already stored, and moves each
    /// sender's window forward. Returns how many were new.
    async fn receive(&self, messages: &[InboundMessage]) -> Result<u32, StoreError>;

    /// Takes up to `max` messages nobody holds (oldest first) for `lease`.
    async fn claim_inbound(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        max: u32,
    ) -> Result<Vec<InboundMessage>, StoreError>;

    /// Marks a message handled.
    async fn finish_inbound(&self, id: &str, outcome: &str) -> Result<(), StoreError>;

    /// The inbox row of a message id, with its state (`pending`/`done`) and outcome.
    async fn inbound(&self, id: &str) -> Result<Option<(InboundMessage, String, Option<String>)>, StoreError>;

    /// Messages not yet handled.
    async fn inbox_pending(&self) -> Result<u64, StoreError>;

    /// When this number last wrote to us.
    async fn last_inbound(&self, phone: &str) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Queues send intents in one transaction, skipping ids already queued; returns how many were new.
    async fn queue(&self, messages: &[OutboundMessage]) -> Result<u32, StoreError>;

    /// Queues one intent that pushes `alerts` to its number and records them as pushed, in one
    /// transaction. False (nothing queued) when the intent id was queued before.
    async fn queue_push(&self, message: &OutboundMessage, alerts: &[Uuid]) -> Result<bool, StoreError>;

    /// Which of `alerts` were already pushed to this number.
    async fn pushed(&self, phone: &str, alerts: &[Uuid]) -> Result<HashSet<Uuid>, StoreError>;

    /// Takes up to `max` due intents (pending or uncertain, `not_before` passed, nobody holding
    /// them) for `lease`, counting the attempt.
    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        max: u32,
    ) -> Result<Vec<OutboundMessage>, StoreError>;

    /// Records what a send attempt came to (only for an intent still pending or uncertain: one a
    /// status webhook already settled stays settled).
    async fn finish_outbound(&self, id: &str, outcome: &SendOutcome) -> Result<(), StoreError>;

    /// Applies a status webhook: found by `wamid`, else by the echoed intent id (an intent whose
    /// send timed out is then known to be sent). Statuses only move forward. Returns the intent.
    async fn record_status(&self, status: &StatusUpdate) -> Result<Option<OutboundMessage>, StoreError>;

    /// An intent.
    async fn outbound(&self, id: &str) -> Result<Option<OutboundMessage>, StoreError>;

    /// The intent Meta knows by this id.
    async fn outbound_by_wamid(&self, wamid: &str) -> Result<Option<OutboundMessage>, StoreError>;

    /// A number's intents (all kinds, or one), oldest first, queued at or after `since`.
    async fn outbox(
        &self,
        phone: &str,
        kind: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<OutboundMessage>, StoreError>;

    /// Intents not yet sent or failed.
    async fn outbox_pending(&self) -> Result<u64, StoreError>;

    /// Puts a suggestion on offer for this number: the one a typed "sí" or "no" settles.
    async fn set_offer(&self, phone: &str, offer: &Offer) -> Result<(), StoreError>;

    /// Takes `recommendation` off offer once it is settled. A later suggestion on offer stays
    /// (settling an older one by its button must not swallow the "sí" meant for the newer one).
    async fn clear_offer(&self, phone: &str, recommendation: Uuid) -> Result<(), StoreError>;

    /// The number's open suggestion.
    async fn offer(&self, phone: &str) -> Result<Option<Offer>, StoreError>;
}

/// Rows of both backends (PostgreSQL selects ids `::text`).
#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    pub phone: String,
    pub user_id: String,
    pub tenant_id: String,
    pub stores: String,
    pub alerts: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> Result<Self, StoreError> {
        Ok(Contact {
            user: super::rows::parse_uuid("user", &r.user_id)?,
            tenant: TenantId::from_uuid(super::rows::parse_uuid("tenant", &r.tenant_id)?),
            stores: serde_json::from_str(&r.stores)
                .map_err(|e| StoreError::Corrupt(format!("contact {} stores: {e}", r.phone)))?,
            phone: r.phone,
            alerts: r.alerts,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InboundRow {
    pub id: String,
    pub phone: String,
    pub sent_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub event: String,
    pub attempts: i64,
    pub state: String,
    pub outcome: Option<String>,
}

impl From<InboundRow> for InboundMessage {
    fn from(r: InboundRow) -> Self {
        InboundMessage {
            id: r.id,
            phone: r.phone,
            sent_at: r.sent_at,
            received_at: r.received_at,
            event: r.event,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboundRow {
    pub id: String,
    pub phone: String,
    pub tenant_id: Option<String>,
    pub kind: String,
    pub message: String,
    pub fallback: Option<String>,
    pub state: String,
    pub not_before: DateTime<Utc>,
    pub attempts: i64,
    pub wamid: Option<String>,
    pub delivery: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<OutboundRow> for OutboundMessage {
    type Error = StoreError;
    fn try_from(r: OutboundRow) -> Result<Self, StoreError> {
        Ok(OutboundMessage {
            tenant: r
                .tenant_id
                .as_deref()
                .map(|t| super::rows::parse_uuid("tenant", t).map(TenantId::from_uuid))
                .transpose()?,
            state: OutState::parse(&r.state)
                .ok_or_else(|| StoreError::Corrupt(format!("outbox {} state {:?}", r.id, r.state)))?,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            id: r.id,
            phone: r.phone,
            kind: r.kind,
            message: r.message,
            fallback: r.fallback,
            not_before: r.not_before,
            wamid: r.wamid,
            delivery: r.delivery,
            error: r.error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The delivery status after `new` arrives on top of `current`: statuses only move forward and
/// `failed` is final.
pub(crate) fn next_delivery(current: Option<&str>, new: &str) -> String {
    match current {
        Some(c) if delivery_rank(c) >= delivery_rank(new) => c.to_string(),
        _ => new.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_to_wa_ids() {
        assert_eq!(normalize_phone("+58 414-123.45.67").as_deref(), Some("584141234567"));
        assert_eq!(normalize_phone("(58) 4141234567").as_deref(), Some("584141234567"));
        assert_eq!(normalize_phone("584141234567").as_deref(), Some("584141234567"));
        assert_eq!(normalize_phone("0414-1234567"), None, "a local number without its country code");
        assert_eq!(normalize_phone("1234"), None);
        assert_eq!(normalize_phone("58414abc4567"), None);
        assert_eq!(normalize_phone("1234567890123456"), None);
    }

    #[test]
    fn statuses_only_move_forward() {
        assert_eq!(next_delivery(None, "delivered"), "delivered");
        assert_eq!(next_delivery(Some("read"), "delivered"), "read");
        assert_eq!(next_delivery(Some("delivered"), "sent"), "delivered");
        assert_eq!(next_delivery(Some("read"), "failed"), "failed");
        assert_eq!(next_delivery(Some("failed"), "read"), "failed");
    }
}
