//! Alerts: a situation at a store that a manager should act on, with its money impact, a suggested
//! action, a reason in plain Spanish built from the numbers, a deduplication key and an expiry.

use crate::{LocationCode, ProductCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Demand before the next possible replenishment will probably exceed stock plus what is on its way.
    ImminentStockout,
    /// Days of cover far above policy: capital tied up.
    Overstock,
    /// A day far outside the forecast band, or a lasting change in the level of sales.
    SalesAnomaly,
    /// An item that normally sells shows a run of zero sales while the system says it is on the shelf.
    PhantomStock,
    /// Lots that will expire before they are expected to sell.
    ExpiringLot,
    /// One store short, another long on the same product.
    TransferOpportunity,
    /// A store whose sales or stock feed has gone quiet longer than usual.
    StaleData,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 7] = [
        AlertKind::ImminentStockout,
        AlertKind::Overstock,
        AlertKind::SalesAnomaly,
        AlertKind::PhantomStock,
        AlertKind::ExpiringLot,
        AlertKind::TransferOpportunity,
        AlertKind::StaleData,
    ];

    /// A stable name (also the JSON form).
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertKind::ImminentStockout => "imminent_stockout",
            AlertKind::Overstock => "overstock",
            AlertKind::SalesAnomaly => "sales_anomaly",
            AlertKind::PhantomStock => "phantom_stock",
            AlertKind::ExpiringLot => "expiring_lot",
            AlertKind::TransferOpportunity => "transfer_opportunity",
            AlertKind::StaleData => "stale_data",
        }
    }

    /// How a store manager calls it.
    pub fn label_es(&self) -> &'static str {
        match self {
            AlertKind::ImminentStockout => "Quiebre inminente",
            AlertKind::Overstock => "Sobrestock",
            AlertKind::SalesAnomaly => "Venta fuera de lo normal",
            AlertKind::PhantomStock => "Stock fantasma",
            AlertKind::ExpiringLot => "Lote por vencer",
            AlertKind::TransferOpportunity => "Oportunidad de transferencia",
            AlertKind::StaleData => "Datos desactualizados",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Act this week.
    Warning,
    /// Act today.
    Critical,
}

impl Severity {
    /// A stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What the money impact measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpactKind {
    /// Margin of the sales that would be lost.
    LostMargin,
    /// Stock value beyond what policy needs.
    CapitalTiedUp,
    /// Cost of the units that will expire.
    ValueExpiring,
    /// Revenue of the sales not being recorded or not happening.
    RevenueAtRisk,
}

/// What the manager is asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SuggestedAction {
    /// Order this many units from the supplier.
    Reorder {
        /// Units.
        units: f64,
    },
    /// Move this many units between two stores.
    Transfer {
        /// Units.
        units: f64,
        /// Source store.
        from: LocationCode,
        /// Destination store.
        to: LocationCode,
    },
    /// Mark down to sell before expiry (or to release capital).
    MarkDown {
        /// Units to clear.
        units: f64,
        /// Suggested discount, percent.
        discount_pct: u8,
    },
    /// Hold orders: nothing to buy until the stock comes down.
    HoldOrders,
    /// Check the shelf and count the item.
    CheckShelf,
    /// Check the store's point-of-sale connection.
    CheckFeed,
    /// Review what happened (a promotion, an event, an error in the data).
    Review,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What kind.
    pub kind: AlertKind,
    /// How urgent.
    pub severity: Severity,
    /// The store.
    pub store: LocationCode,
    /// The product (none for store-wide alerts such as stale data).
    pub product: Option<ProductCode>,
    /// Money at stake, USD.
    pub impact_usd: f64,
    /// What the money measures.
    pub impact: ImpactKind,
    /// What to do.
    pub action: SuggestedAction,
    /// Why, in plain Spanish, from the numbers.
    pub reason_es: String,
    /// The same situation keeps the same key: an alert whose key is already open is not raised again.
    pub dedup_key: String,
    /// The day it was raised.
    pub raised_on: NaiveDate,
    /// The last day it applies; after it the situation is re-assessed.
    pub expires_on: NaiveDate,
    /// For forecast-based alerts: the probability of the bad outcome.
    pub probability: Option<f64>,
    /// For stockouts: the day the stock is expected to run out.
    pub runs_out_on: Option<NaiveDate>,
    /// What the product's quantities count (none for store-wide alerts).
    #[serde(default)]
    pub unit: Option<crate::Unit>,
}
