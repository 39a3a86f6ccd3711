//! The Alert agent's logic: situations a manager should act on, each with its money impact, a
//! suggested action, a reason in Spanish built from the numbers, a deduplication key and an expiry.
//!
//! Every detector is a plain function of what one SKU × store looks like tonight ([`ItemView`]) or of
//! a store's data feed ([`FeedView`]); [`AlertBook`] keeps the open alerts so that an unchanged
//! situation is not announced twice.
//!
//! - **Imminent stockout**: the probability that the demand until the next possible replenishment
//!   exceeds stock on hand plus what arrives in time, from the forecast's protection-period
//!   distribution (not a days-of-cover rule). A supplier's delivery may come as early or late as
//!   its lead time varies, and one already late becomes less likely to come each morning it does not.
//!   Where tonight's transfer plan sends the store stock, the alert suggests that move (it arrives
//!   tomorrow, sooner than any order).
//! - **Overstock**: days of cover far above what the reorder policy holds, with the capital tied up.
//! - **Sales anomaly**: a day far outside the forecast band (both tails), or a lasting change of level
//!   over the last two weeks.
//! - **Phantom stock**: a run of zero-sale days that the forecast makes near impossible while the
//!   system says the item is on the shelf.
//! - **Expiring lots**: lots whose expected first-in-first-out sell-through comes after their expiry.
//! - **Transfer opportunity**: a move from the Optimizer's transfer plan.
//! - **Stale data**: a store whose feed has been quiet longer than usual.

mod agent;
mod book;
mod detect;
mod scan;

pub use agent::{AlertAgent, AlertRequest};
pub use book::AlertBook;
pub use detect::{
    DayCheck, FeedView, ItemView, StockoutVerdict, expiring_lots, imminent_stockout, overstock, phantom_stock,
    relieve_by_transfer, sales_anomaly, stale_data, stockout_horizon, stockout_risk, stockout_verdict,
    transfer_opportunity,
};
pub use scan::{Scan, alerts_for, scan_context, scan_tenant};

use serde::{Deserialize, Serialize};

/// Thresholds of the detectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSettings {
    /// An imminent stockout is raised when its probability is at least this.
    pub stockout_probability: f64,
    /// … and is critical from this probability on.
    pub critical_probability: f64,
    /// Once raised, it stays open while its probability is at least this, so that a situation
    /// hovering around the threshold is announced once, not every other evening.
    pub stockout_hold_probability: f64,
    /// Overstock: cover above this many times what the policy holds …
    pub overstock_factor: f64,
    /// … and above this many days.
    pub overstock_min_cover_days: f64,
    /// Alerts about money below this (USD) are not raised (except stockouts and stale data).
    pub min_impact_usd: f64,
    /// A day is anomalous when its sales are this improbable under the forecast (each tail).
    pub anomaly_probability: f64,
    /// A zero-sale run is phantom stock when the forecast gives it at most this probability …
    pub phantom_probability: f64,
    /// … and at least this many units were expected over it.
    pub phantom_min_expected: f64,
    /// Lots expiring within this many days are checked.
    pub expiry_horizon_days: u32,
    /// A store's feed is stale after this many times its usual gap between data days …
    pub stale_factor: f64,
    /// … and never before this many quiet days.
    pub stale_min_days: u32,
}

impl AlertSettings {
    /// Refuses settings that make no sense, naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        let prob = |v: f64| v > 0.0 && v < 1.0;
        if !(prob(self.stockout_probability) && prob(self.critical_probability)) {
            return Err("alerts.stockout_probability and critical_probability must be between 0 and 1".into());
        }
        if !(self.stockout_hold_probability > 0.0 && self.stockout_hold_probability <= self.stockout_probability) {
            return Err("alerts.stockout_hold_probability must be above 0 and at most stockout_probability".into());
        }
        if !(prob(self.anomaly_probability) && prob(self.phantom_probability)) {
            return Err("alerts.anomaly_probability and phantom_probability must be between 0 and 1".into());
        }
        if !(self.overstock_factor >= 1.0 && self.overstock_min_cover_days >= 0.0 && self.stale_factor >= 1.0) {
            return Err("alerts.overstock_factor and stale_factor must be at least 1".into());
        }
        if !(self.min_impact_usd >= 0.0 && self.phantom_min_expected >= 0.0) {
            return Err("alerts.min_impact_usd and phantom_min_expected must be zero or more".into());
        }
        Ok(())
    }
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            stockout_probability: 0.5,
            critical_probability: 0.8,
            stockout_hold_probability: 0.3,
            overstock_factor: 3.0,
            overstock_min_cover_days: 45.0,
            min_impact_usd: 20.0,
            anomaly_probability: 0.001,
            phantom_probability: 0.005,
            phantom_min_expected: 5.0,
            expiry_horizon_days: 21,
            stale_factor: 3.0,
            stale_min_days: 2,
        }
    }
}
