//! Daily demand: the series the forecasts are built on.

use crate::{LocationCode, Money, ProductCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Units sold of one product at one store on one day, and whether it was out of stock that day.
///
/// A day with `out_of_stock` is censored: what sold is a lower bound of what was wanted, and a zero
/// on such a day is not zero demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyDemand {
    /// The store.
    pub store: LocationCode,
    /// The product.
    pub product: ProductCode,
    /// The day (store-local).
    pub day: NaiveDate,
    /// Units sold.
    pub units: f64,
    /// Revenue in USD.
    pub revenue: Money,
    /// Whether the product was out of stock at the store that day.
    pub out_of_stock: bool,
}
