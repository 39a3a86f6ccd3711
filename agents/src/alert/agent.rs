//! The Alert agent: the alerts of the items a question is about, of the kinds it asks for.

use super::{AlertSettings, alerts_for};
use crate::actor::Agent;
use crate::context::TenantContext;
use crate::optimizer::OptimizerSettings;
use fluxion_domain::{AgentKind, Alert, AlertKind};
use std::sync::Arc;

/// What the Alert agent is asked.
#[derive(Debug, Clone)]
pub struct AlertRequest {
    /// The tenant's context.
    pub ctx: Arc<TenantContext>,
    /// Items (context indices).
    pub items: Vec<usize>,
    /// Kinds wanted (empty = all).
    pub kinds: Vec<AlertKind>,
}

/// The Alert agent.
#[derive(Debug, Default)]
pub struct AlertAgent {
    /// Thresholds.
    pub settings: AlertSettings,
    /// Service levels and costs (stockout alerts suggest an order).
    pub optimizer: OptimizerSettings,
}

impl Agent for AlertAgent {
    type Request = AlertRequest;
    type Reply = Vec<Alert>;
    const KIND: AgentKind = AgentKind::Alert;

    fn run(&self, r: AlertRequest) -> Result<Vec<Alert>, String> {
        Ok(alerts_for(&r.ctx, &r.items, &r.kinds, &self.settings, &self.optimizer))
    }
}
