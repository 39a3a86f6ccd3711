//! The Chat agent as an actor: understands a question, and composes the answer from the others' parts.

use super::compose::{Parts, compose};
use super::understand::{Catalog, Understanding};
use crate::actor::Agent;
use chrono::NaiveDate;
use fluxion_domain::{
    AgentKind, AgentStatus, Alert, Deliveries, ForecastFigure, OrderList, Recommendation, StoreSales, StoreStock, Turn,
};
use std::sync::Arc;

/// What the other agents produced, owned (it crosses into the actor).
#[derive(Debug, Clone)]
pub struct ComposeInput {
    /// What the question asks.
    pub understanding: Understanding,
    /// Forecast figures (`None` = missing).
    pub figures: Option<Vec<ForecastFigure>>,
    /// Stores' sales in money (a sales question that names no product).
    pub sales: Vec<StoreSales>,
    /// Stores' stock in money (a stock question that names no product).
    pub stock: Vec<StoreStock>,
    /// What to order (a question about orders that names no product; `None` = not asked or missing).
    pub orders: Option<OrderList>,
    /// What is on its way (a question about deliveries that names no product; `None` = not asked).
    pub deliveries: Option<Deliveries>,
    /// Alerts (`None` = missing).
    pub alerts: Option<Vec<Alert>>,
    /// Recommendations (`None` = missing).
    pub recommendations: Option<Vec<Recommendation>>,
    /// Agents whose part is missing, and why.
    pub faults: Vec<(AgentKind, AgentStatus)>,
    /// The evening the numbers are for.
    pub today: NaiveDate,
    /// The suggestion the answer puts to the user.
    pub offer: Option<Recommendation>,
    /// The pending suggestion this message approved or declined.
    pub settled: Option<Recommendation>,
    /// What the memory holds about the question (`None` = the memory could not be asked).
    pub recalled: Option<Vec<fluxion_memory::Recalled>>,
}

impl ComposeInput {
    /// The text (the same the agent composes; the orchestrator's fallback when Chat is down).
    pub fn text(&self) -> String {
        compose(&Parts {
            understanding: &self.understanding,
            figures: self.figures.as_deref(),
            sales: &self.sales,
            stock: &self.stock,
            orders: self.orders.as_ref(),
            deliveries: self.deliveries.as_ref(),
            alerts: self.alerts.as_deref(),
            recommendations: self.recommendations.as_deref(),
            faults: &self.faults,
            today: self.today,
            offer: self.offer.as_ref(),
            settled: self.settled.as_ref(),
            recalled: self.recalled.as_deref(),
        })
    }
}

/// What the Chat agent is asked.
#[derive(Debug, Clone)]
pub enum ChatRequest {
    /// Understand a question against the tenant's catalog.
    Understand {
        /// The catalog.
        catalog: Arc<Catalog>,
        /// The question.
        question: String,
        /// The user's previous turn, for follow-ups.
        previous: Option<Box<Turn>>,
    },
    /// Compose the answer.
    Compose(Box<ComposeInput>),
}

/// What the Chat agent answers.
#[derive(Debug, Clone)]
pub enum ChatReply {
    /// What the question asks.
    Understood(Understanding),
    /// The answer's text.
    Text(String),
}

/// The Chat agent.
#[derive(Debug, Default)]
pub struct ChatAgent;

impl Agent for ChatAgent {
    type Request = ChatRequest;
    type Reply = ChatReply;
    const KIND: AgentKind = AgentKind::Chat;

    fn run(&self, r: ChatRequest) -> Result<ChatReply, String> {
        Ok(match r {
            ChatRequest::Understand { catalog, question, previous } => {
                ChatReply::Understood(catalog.understand_after(&question, previous.as_deref()))
            }
            ChatRequest::Compose(input) => ChatReply::Text(input.text()),
        })
    }
}
