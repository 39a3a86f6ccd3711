//! Stock snapshots: what a location held of a product at the end of a day.

use crate::{LocationCode, ProductCode, StockQuantity};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// On-hand stock of a product at a location at the close of a day.
///
/// A snapshot at or below zero at a store marks that day as out of stock in the daily demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockSnapshot {
    /// Store or warehouse.
    pub location: LocationCode,
    /// The product.
    pub product: ProductCode,
    /// The day the count refers to.
    pub day: NaiveDate,
    /// Units on hand (may be negative as POS systems report it).
    pub on_hand: StockQuantity,
}
