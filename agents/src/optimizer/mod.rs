//! The Optimizer agent's logic: reorder levels, order quantities, transfers between stores and
//! purchase plans under a budget.
//!
//! # Layout
//! - `demand`: the demand over a protection period with an uncertain lead time (a mixture of
//!   negative binomials kept as a mass function): quantiles, stockout probabilities, expected shortage.
//! - `reorder`: the (R, s, S) policy of one SKU × store — service level from its economics, reorder
//!   point and order-up-to level, quantities with MOQ, packs, EOQ and shelf life.
//! - `transfer`: moves between stores as one small linear program per product (good_lp, microlp).
//! - `budget`: which orders to place when the cash does not reach (a 0-1 knapsack, MIP).

pub mod budget;
pub mod demand;
pub mod reorder;
pub mod transfer;

pub use budget::{BudgetPlan, Candidate, plan_purchases};
pub use demand::{DemandAhead, LeadTimeDays, PeriodDemand};
pub use reorder::{ItemTerms, Levels, ReorderSettings, levels, order_quantity, review_days, service_level};
pub use transfer::{Move, ProductTransfers, StorePosition, TransferPlan, plan_transfers};
