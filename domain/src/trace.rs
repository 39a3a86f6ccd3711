//! Traces: the record of one request — a tree of spans (the orchestrator's stages and each agent
//! call) with timings, status, short summaries of input and output, errors and restarts.

use crate::AgentKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a span or a whole request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanStatus {
    /// Finished well.
    Ok,
    /// Finished, but a part is missing (a request whose answer is degraded).
    Degraded,
    /// Failed.
    Error,
    /// Cut at its deadline.
    Timeout,
}

impl SpanStatus {
    /// Stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            SpanStatus::Ok => "ok",
            SpanStatus::Degraded => "degraded",
            SpanStatus::Error => "error",
            SpanStatus::Timeout => "timeout",
        }
    }

    /// Parses [`SpanStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ok" => SpanStatus::Ok,
            "degraded" => SpanStatus::Degraded,
            "error" => SpanStatus::Error,
            "timeout" => SpanStatus::Timeout,
            _ => return None,
        })
    }
}

/// One timed step of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Index in the trace's span list.
    pub id: u32,
    /// The enclosing span (none for the root).
    pub parent: Option<u32>,
    /// What ran ("request", "understand", "forecast", …).
    pub name: String,
    /// The agent that ran it, if an agent did.
    pub agent: Option<AgentKind>,
    /// Start, microseconds after the request started.
    pub start_us: u64,
    /// Duration, microseconds.
    pub duration_us: u64,
    /// How it ended.
    pub status: SpanStatus,
    /// A short summary of what went in.
    pub input: String,
    /// A short summary of what came out.
    pub output: String,
    /// The error, when it failed.
    pub error: Option<String>,
    /// Restarts of the agent while this span ran.
    pub restarts: u32,
    /// Language-model tokens used (prompt + completion), when a model was called.
    pub tokens: Option<u32>,
    /// Language-model cost, USD, when known.
    pub cost_usd: Option<f64>,
}

/// The record of one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Its id (also the answer's `trace_id`).
    pub id: Uuid,
    /// Where the request came from ("cli", "api", "whatsapp", "dashboard", "job").
    pub channel: String,
    /// The question or job.
    pub question: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Wall time, microseconds.
    pub duration_us: u64,
    /// How it ended.
    pub status: SpanStatus,
    /// The spans, root first.
    pub spans: Vec<Span>,
    /// The id of the HTTP request (or webhook delivery) that carried it, for finding it in logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The business objects the answer was about (items, alerts, recommendations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<TraceLink>,
}

/// What kind of business object a trace touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceLinkKind {
    /// A product at a store (a forecast figure).
    Item,
    /// An alert.
    Alert,
    /// A recommended order or transfer.
    Recommendation,
}

/// A business object a trace touched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceLink {
    /// What it is.
    pub kind: TraceLinkKind,
    /// The store (code).
    pub store: String,
    /// The product (code), when it is about one.
    pub product: Option<String>,
    /// The alert's deduplication key or the recommendation's key.
    pub key: Option<String>,
    /// What a person reads ("Quiebre inminente", "Transferencia de 40 unidades").
    pub label_es: String,
}

/// A trace as listed (without its spans).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    /// Its id.
    pub id: Uuid,
    /// Where the request came from.
    pub channel: String,
    /// The question or job.
    pub question: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Wall time, microseconds.
    pub duration_us: u64,
    /// How it ended.
    pub status: SpanStatus,
}

impl Trace {
    /// Its summary.
    pub fn summary(&self) -> TraceSummary {
        TraceSummary {
            id: self.id,
            channel: self.channel.clone(),
            question: self.question.clone(),
            started_at: self.started_at,
            duration_us: self.duration_us,
            status: self.status,
        }
    }
}
