//! The Optimizer agent: orders and transfers for the items a question is about.

use super::{OptimizerSettings, orders_for, transfers_for};
use crate::actor::Agent;
use crate::context::TenantContext;
use fluxion_domain::{AgentKind, Recommendation};
use std::sync::Arc;

/// What the Optimizer agent is asked.
#[derive(Debug, Clone)]
pub struct OptimizerRequest {
    /// The tenant's context.
    pub ctx: Arc<TenantContext>,
    /// Items (context indices).
    pub items: Vec<usize>,
    /// Whether to plan orders.
    pub orders: bool,
    /// Whether to plan transfers.
    pub transfers: bool,
}

/// The Optimizer agent.
#[derive(Debug, Default)]
pub struct OptimizerAgent {
    /// Service levels and costs.
    pub settings: OptimizerSettings,
}

impl Agent for OptimizerAgent {
    type Request = OptimizerRequest;
    type Reply = Vec<Recommendation>;
    const KIND: AgentKind = AgentKind::Optimizer;

    fn run(&self, r: OptimizerRequest) -> Result<Vec<Recommendation>, String> {
        let mut out = Vec::new();
        if r.orders {
            out.extend(orders_for(&r.ctx, &r.items, &self.settings));
        }
        if r.transfers {
            out.extend(transfers_for(&r.ctx, &r.items, &self.settings));
        }
        out.sort_by(|a, b| b.benefit_usd.total_cmp(&a.benefit_usd));
        Ok(out)
    }
}
