//! What the agents decided and what people did with it: alerts (open, acknowledged, resolved, with
//! feedback), recommendations (pending, approved, rejected, superseded — an approval executes its
//! effect exactly once), and idempotent ingest requests.

use chrono::{DateTime, Utc};
use fluxion_domain::{Alert, Recommendation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ChangeSummary;

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised and not yet seen to.
    Open,
    /// Someone said they are on it; it stays until the situation is gone.
    Acknowledged,
    /// The situation is gone (a scan no longer produces it, or it expired).
    Resolved,
}

impl AlertStatus {
    /// The word a person reads ("abierta").
    pub fn label_es(&self) -> &'static str {
        match self {
            AlertStatus::Open => "abierta",
            AlertStatus::Acknowledged => "vista",
            AlertStatus::Resolved => "resuelta",
        }
    }

    /// The stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(AlertStatus::Open),
            "acknowledged" => Some(AlertStatus::Acknowledged),
            "resolved" => Some(AlertStatus::Resolved),
            _ => None,
        }
    }
}

/// Whether an alert helped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It pointed at a real problem.
    Useful,
    /// It was wrong.
    Wrong,
}

impl Verdict {
    /// The stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Useful => "useful",
            Verdict::Wrong => "wrong",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "useful" => Some(Verdict::Useful),
            "wrong" => Some(Verdict::Wrong),
            _ => None,
        }
    }
}

/// Someone's feedback on an alert (the last one counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// Useful or wrong.
    pub verdict: Verdict,
    /// Who said so (a user id, an API key prefix or a phone number).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Free text, at most 500 characters.
    pub note: Option<String>,
}

/// An alert as stored, with what people did with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    /// Permanent id (stays the same while the situation — the deduplication key — is open).
    pub id: Uuid,
    /// The alert (the latest scan's version of it).
    pub alert: Alert,
    /// Where it stands.
    pub status: AlertStatus,
    /// When it was first raised.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The latest feedback.
    pub feedback: Option<Feedback>,
}

/// Which alerts to list, newest first (by `created_at`, then id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertQuery {
    /// Only this store (code).
    pub store: Option<String>,
    /// Only this product (code).
    pub product: Option<String>,
    /// Only this kind (its serde name: "imminent_stockout" …).
    pub kind: Option<String>,
    /// Only this severity (its serde name).
    pub severity: Option<String>,
    /// Only in this status.
    pub status: Option<AlertStatus>,
    /// Only alerts strictly older than this position (pagination cursor: the last item's
    /// `(created_at, id)` of the previous page).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    /// At most this many (0: the default, 50; the store caps it at 500).
    pub limit: u32,
}

/// Where a recommendation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationStatus {
    /// Waiting for someone to decide.
    Pending,
    /// Approved: its effect (the purchase order or transfer) was written with the approval.
    Approved,
    /// Rejected.
    Rejected,
    /// A later optimisation replaced it before anyone decided.
    Superseded,
}

impl RecommendationStatus {
    /// The word a person reads ("aprobada").
    pub fn label_es(&self) -> &'static str {
        match self {
            RecommendationStatus::Pending => "pendiente",
            RecommendationStatus::Approved => "aprobada",
            RecommendationStatus::Rejected => "rechazada",
            RecommendationStatus::Superseded => "reemplazada",
        }
    }

    /// The stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            RecommendationStatus::Pending => "pending",
            RecommendationStatus::Approved => "approved",
            RecommendationStatus::Rejected => "rejected",
            RecommendationStatus::Superseded => "superseded",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(RecommendationStatus::Pending),
            "approved" => Some(RecommendationStatus::Approved),
            "rejected" => Some(RecommendationStatus::Rejected),
            "superseded" => Some(RecommendationStatus::Superseded),
            _ => None,
        }
    }
}

/// A recommendation as stored, with its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecommendation {
    /// Permanent id.
    pub id: Uuid,
    /// The situation it answers: kind, store, product (and the source store of a transfer).
    /// A new optimisation with the same key updates a pending recommendation in place.
    pub key: String,
    /// The recommendation (the latest optimisation's version while pending).
    pub recommendation: Recommendation,
    /// Where it stands.
    pub status: RecommendationStatus,
    /// When it was first recommended.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who decided (a user id, an API key prefix or a phone number).
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why (on a rejection), at most 500 characters.
    pub note: Option<String>,
    /// The number of the purchase order or transfer an approval created.
    pub executed_as: Option<String>,
}

/// Which recommendations to list, newest first (by `created_at`, then id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecommendationQuery {
    /// Only orders (`"order"`) or transfers (`"transfer"`).
    pub kind: Option<String>,
    /// Only this receiving store (code).
    pub store: Option<String>,
    /// Only in this status.
    pub status: Option<RecommendationStatus>,
    /// Pagination cursor, as in [`AlertQuery::before`].
    pub before: Option<(DateTime<Utc>, Uuid)>,
    /// At most this many (0: the default, 50; capped at 500).
    pub limit: u32,
}

/// A decision on a recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Approve (true) or reject.
    pub approve: bool,
    /// Who decides.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why (shown on rejections).
    pub note: Option<String>,
    /// On approval: the number of what the effect creates, stored as `executed_as`.
    pub executed_as: Option<String>,
}

/// What deciding did.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    /// The recommendation was pending and is now decided; on approval its effect was applied in the
    /// same transaction.
    Done(StoredRecommendation),
    /// It had already been decided (or superseded): nothing changed, the effect was not applied again.
    Already(StoredRecommendation),
    /// No such recommendation in this tenant.
    NotFound,
}

/// What an idempotent ingest did.
#[derive(Debug, Clone, PartialEq)]
pub enum Once {
    /// First time this key was seen: the changes were applied and the summary stored with the key.
    Applied(ChangeSummary),
    /// The key was seen before with the same fingerprint: nothing was applied, this is the first
    /// time's summary.
    Replayed(ChangeSummary),
    /// The key was seen before with another request (another fingerprint): nothing was applied.
    Conflict,
}

/// A page of results and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page (none: this was the last).
    pub next: Option<(DateTime<Utc>, Uuid)>,
}

/// The deduplication key of a recommendation: kind, store, product, and a transfer's source.
pub fn recommendation_key(r: &Recommendation) -> String {
    match &r.action {
        fluxion_domain::RecommendedAction::Order { .. } => format!("order|{}|{}", r.store, r.product),
        fluxion_domain::RecommendedAction::Transfer { from } => {
            format!("transfer|{}|{}|{}", r.store, r.product, from)
        }
    }
}
