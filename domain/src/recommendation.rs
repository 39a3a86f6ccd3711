//! Recommendations: an order to place or a transfer to make, explained with its numbers and with the
//! margin it protects.

use crate::{LocationCode, ProductCode, SupplierCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What is recommended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecommendedAction {
    /// Order from a supplier.
    Order {
        /// The supplier (none when the product has no supplier on file).
        supplier: Option<SupplierCode>,
    },
    /// Move stock from another store.
    Transfer {
        /// The store that gives.
        from: LocationCode,
    },
}

/// One recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Order or transfer.
    pub action: RecommendedAction,
    /// The store that receives.
    pub store: LocationCode,
    /// The product.
    pub product: ProductCode,
    /// Units.
    pub units: f64,
    /// What the goods cost, USD.
    pub value_usd: f64,
    /// Margin protected (expected lost sales avoided, net of transport for transfers), USD.
    pub benefit_usd: f64,
    /// The day to place it.
    pub on: NaiveDate,
    /// Why, in Spanish, with the numbers ("Pedir 500: demanda esperada 1.200 en 15 días, …").
    pub explanation_es: String,
}
