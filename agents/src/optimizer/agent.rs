//! The Optimizer agent: orders and transfers for the items a question is about.
//!
//! Tonight's transfer plan is one set of linear programs over the whole chain; the agent solves it
//! once per tenant context and answers each question from it (the moves into or out of the items
//! asked about).

use super::transfer::Move;
use super::{OptimizerSettings, moves_for, orders_for, transfers_of};
use crate::actor::Agent;
use crate::context::TenantContext;
use fluxion_domain::{AgentKind, Recommendation};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

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

type Moves = Arc<Vec<(usize, usize, Move)>>;

/// The Optimizer agent.
#[derive(Debug, Default)]
pub struct OptimizerAgent {
    /// Service levels and costs.
    pub settings: OptimizerSettings,
    /// Tonight's chain-wide moves, per live context (dropped with it).
    plans: Mutex<HashMap<usize, (Weak<TenantContext>, Moves)>>,
}

impl OptimizerAgent {
    /// An agent with these settings.
    pub fn new(settings: OptimizerSettings) -> Self {
        Self { settings, plans: Mutex::new(HashMap::new()) }
    }

    /// Tonight's moves for the whole chain of `ctx`, solved on first use.
    fn moves(&self, ctx: &Arc<TenantContext>) -> Moves {
        let key = Arc::as_ptr(ctx) as usize;
        {
            let mut plans = self.plans.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            plans.retain(|_, (weak, _)| weak.strong_count() > 0);
            if let Some((weak, moves)) = plans.get(&key)
                && weak.upgrade().is_some_and(|live| Arc::ptr_eq(&live, ctx))
            {
                return moves.clone();
            }
        }
        let moves: Moves = Arc::new(moves_for(ctx, &ctx.items_at(&[]), &self.settings));
        self.plans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, (Arc::downgrade(ctx), moves.clone()));
        moves
    }
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
            let all = self.moves(&r.ctx);
            let mut asked = r.items.clone();
            asked.sort_unstable();
            let touching: Vec<(usize, usize, Move)> = all
                .iter()
                .filter(|(from, to, _)| asked.binary_search(from).is_ok() || asked.binary_search(to).is_ok())
                .cloned()
                .collect();
            out.extend(transfers_of(&r.ctx, touching));
        }
        out.sort_by(|a, b| b.benefit_usd.total_cmp(&a.benefit_usd));
        Ok(out)
    }
}
