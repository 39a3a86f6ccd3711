//! A user's short-term conversation: the last turns (what each asked, as understood), so that a
//! follow-up ("¿y en Valencia?", "¿y para la semana?") is read in the light of the one before.

use crate::{Intent, Recommendation, Resolved};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Turns kept.
pub const TURNS_KEPT: usize = 6;

/// One question as it was understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The question.
    pub question: String,
    /// What it asked.
    pub intent: Intent,
    /// Products it was about.
    pub products: Vec<Resolved>,
    /// Stores it was about (none = the chain).
    pub stores: Vec<Resolved>,
    /// Days ahead.
    pub horizon_days: u32,
    /// How the horizon was named, if it was.
    pub horizon_es: Option<String>,
    /// The money it said there was to spend, USD.
    #[serde(default)]
    pub budget_usd: Option<f64>,
    /// What it asked about the deliveries on their way, if it did.
    #[serde(default)]
    pub coming: Option<crate::Coming>,
    /// Whether it asked only about purchase orders (`Some(true)`) or only about transfers.
    #[serde(default)]
    pub coming_from_supplier: Option<bool>,
    /// The senders whose deliveries it asked about by name.
    #[serde(default)]
    pub senders: Vec<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A suggestion offered to the user, awaiting their "sí" or "no".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// What was suggested.
    pub recommendation: Recommendation,
    /// The answer that offered it (its trace).
    pub offered_in: uuid::Uuid,
    /// After this, a "sí" no longer approves it.
    pub expires_at: DateTime<Utc>,
}

/// A user's recent turns, oldest first, and the suggestion awaiting their answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// The turns.
    pub turns: Vec<Turn>,
    /// The suggestion awaiting "sí"/"no", if any.
    #[serde(default)]
    pub pending: Option<Pending>,
}

impl Conversation {
    /// The last turn, if any.
    pub fn last(&self) -> Option<&Turn> {
        self.turns.last()
    }

    /// Adds a turn, keeping the last [`TURNS_KEPT`].
    pub fn push(&mut self, turn: Turn) {
        self.turns.push(turn);
        let extra = self.turns.len().saturating_sub(TURNS_KEPT);
        self.turns.drain(..extra);
    }
}
