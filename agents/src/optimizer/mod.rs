//! The Optimizer agent's logic: reorder levels, order quantities, transfers between stores and
//! purchase plans under a budget.
//!
//! # Layout
//! - `demand`: the demand over a protection period with an uncertain lead time (a mixture of
//!   negative binomials kept as a mass function): quantiles, stockout probabilities, expected shortage.
//! - `reorder`: the (R, s, S) policy of one SKU × store — service level from its economics, reorder
//!   point and order-up-to level, quantities with MOQ, packs, EOQ and shelf life.
//! - `shelf`: the chance a shelf runs dry before a day, each delivery on its way counted from the
//!   morning it may arrive (late ones may not come); shared by the stockout alert and the transfers.
//! - `recommend`: the order to place on the supplier's next order day, explained, with its benefit.
//! - `transfer`: moves between stores as one small linear program per product (good_lp, microlp).
//! - `budget`: which orders to place when the cash does not reach (a 0-1 knapsack, MIP).

pub mod agent;
pub mod budget;
pub mod demand;
pub mod execute;
pub mod plan;
pub mod recommend;
pub mod reorder;
pub mod shelf;
pub mod transfer;

use serde::{Deserialize, Serialize};

pub use agent::{OptimizerAgent, OptimizerRequest};
pub use budget::{BudgetError, BudgetPlan, Candidate, plan_purchases};
pub use demand::{DemandAhead, Incoming, LeadTimeDays, PeriodDemand};
pub use execute::{ExecuteError, execution, execution_number};
pub use plan::{moves_for, order_list, orders_for, transfers_for, transfers_of};
pub use recommend::{OrderContext, recommend_order};
pub use reorder::{
    ItemTerms, Levels, ReorderSettings, days_to_order, levels, order_quantity, review_days, service_level,
};
pub use shelf::ShelfOutlook;
pub use transfer::{Move, ProductTransfers, ShortageRule, StorePosition, Supply, TransferPlan, plan_transfers};

/// Every setting of the Optimizer (section `optimizer` of the settings file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSettings {
    /// Yearly cost of holding one dollar of stock, as a fraction.
    pub holding_rate_per_year: f64,
    /// Lowest service level any item is given.
    pub min_service_level: f64,
    /// Highest service level any item is given.
    pub max_service_level: f64,
    /// Fixed cost of one order line, USD (above zero, orders are batched to at least the EOQ).
    pub order_cost_usd: f64,
    /// Moving one unit between stores costs this, USD …
    pub transfer_cost_fixed_usd: f64,
    /// … plus this share of the unit's cost.
    pub transfer_cost_share: f64,
    /// A store is short (and may receive a transfer) above this chance of running out before its next delivery.
    pub shortage_probability: f64,
}

impl Default for OptimizerSettings {
    fn default() -> Self {
        let r = ReorderSettings::default();
        Self {
            holding_rate_per_year: r.holding_rate_per_year,
            min_service_level: r.min_service_level,
            max_service_level: r.max_service_level,
            order_cost_usd: r.order_cost_usd,
            transfer_cost_fixed_usd: 0.02,
            transfer_cost_share: 0.03,
            shortage_probability: 0.1,
        }
    }
}

impl OptimizerSettings {
    /// The reorder policy's part.
    pub fn reorder(&self) -> ReorderSettings {
        ReorderSettings {
            holding_rate_per_year: self.holding_rate_per_year,
            min_service_level: self.min_service_level,
            max_service_level: self.max_service_level,
            order_cost_usd: self.order_cost_usd,
        }
    }

    /// When a store counts as short for transfers.
    pub fn shortage_rule(&self) -> ShortageRule {
        ShortageRule { reorder: self.reorder(), shortage_probability: self.shortage_probability }
    }

    /// Cost of moving one unit of a product that costs `unit_cost` between two stores, USD.
    pub fn transfer_cost(&self, unit_cost: f64) -> f64 {
        self.transfer_cost_fixed_usd + self.transfer_cost_share * unit_cost.max(0.0)
    }

    /// Refuses settings that make no sense, naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        if !(self.min_service_level > 0.0
            && self.min_service_level <= self.max_service_level
            && self.max_service_level < 1.0)
        {
            return Err("optimizer.min_service_level and max_service_level must satisfy 0 < min ≤ max < 1".into());
        }
        if !(self.holding_rate_per_year >= 0.0 && self.holding_rate_per_year.is_finite()) {
            return Err("optimizer.holding_rate_per_year must be zero or more".into());
        }
        if !(self.order_cost_usd >= 0.0 && self.transfer_cost_fixed_usd >= 0.0 && self.transfer_cost_share >= 0.0) {
            return Err("optimizer costs must be zero or more".into());
        }
        if !unit(self.shortage_probability) {
            return Err("optimizer.shortage_probability must be between 0 and 1".into());
        }
        Ok(())
    }
}
