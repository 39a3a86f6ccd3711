//! Recording a request's span tree while it runs.

use chrono::{DateTime, Utc};
use fluxion_domain::{AgentKind, Span, SpanStatus, Trace};
use std::time::Instant;
use uuid::Uuid;

/// Longest summary kept in a span.
const SUMMARY: usize = 240;

/// A trace being recorded.
#[derive(Debug)]
pub struct TraceRecorder {
    id: Uuid,
    channel: String,
    question: String,
    started_at: DateTime<Utc>,
    t0: Instant,
    spans: Vec<Span>,
    request_id: Option<String>,
}

impl TraceRecorder {
    /// Starts recording; the root span ("request") is open.
    pub fn new(id: Uuid, channel: &str, question: &str, request_id: Option<&str>) -> Self {
        let mut r = Self {
            id,
            channel: channel.to_owned(),
            question: clip(question),
            started_at: Utc::now(),
            t0: Instant::now(),
            spans: Vec::new(),
            request_id: request_id.map(|s| s.chars().take(128).collect()),
        };
        r.open("request", None, None, question);
        r
    }

    /// The trace id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Microseconds since the request started.
    pub fn now_us(&self) -> u64 {
        self.t0.elapsed().as_micros() as u64
    }

    /// Opens a span under `parent` (the root when `None`); returns its id.
    pub fn open(&mut self, name: &str, agent: Option<AgentKind>, parent: Option<u32>, input: &str) -> u32 {
        let id = self.spans.len() as u32;
        let parent = if id == 0 { None } else { Some(parent.unwrap_or(0)) };
        self.spans.push(Span {
            id,
            parent,
            name: name.to_owned(),
            agent,
            start_us: self.now_us(),
            duration_us: 0,
            status: SpanStatus::Ok,
            input: clip(input),
            output: String::new(),
            error: None,
            restarts: 0,
            tokens: None,
            cost_usd: None,
        });
        id
    }

    /// Closes span `id`.
    pub fn close(&mut self, id: u32, status: SpanStatus, output: &str, error: Option<String>) {
        let now = self.now_us();
        if let Some(s) = self.spans.get_mut(id as usize) {
            s.duration_us = now.saturating_sub(s.start_us);
            s.status = status;
            s.output = clip(output);
            s.error = error.map(|e| clip(&e));
        }
    }

    /// Adds restarts seen while span `id` ran.
    pub fn add_restarts(&mut self, id: u32, restarts: u32) {
        if let Some(s) = self.spans.get_mut(id as usize) {
            s.restarts += restarts;
        }
    }

    /// Records the language-model tokens and their cost on span `id`.
    pub fn set_usage(&mut self, id: u32, tokens: u32, cost_usd: f64) {
        if let Some(s) = self.spans.get_mut(id as usize) {
            s.tokens = Some(tokens);
            s.cost_usd = Some(cost_usd);
        }
    }

    /// Closes the root span and returns the trace.
    pub fn finish(mut self, status: SpanStatus, output: &str) -> Trace {
        self.close(0, status, output, None);
        Trace {
            id: self.id,
            channel: self.channel,
            question: self.question,
            started_at: self.started_at,
            duration_us: self.spans[0].duration_us,
            status,
            spans: self.spans,
            request_id: self.request_id,
            links: Vec::new(),
        }
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() <= SUMMARY {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(SUMMARY - 1).collect();
        out.push('…');
        out
    }
}
