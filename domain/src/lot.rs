//! Lots: batches of a perishable product with an expiry date.

use crate::{LocationCode, LotCode, ProductCode, Quantity};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A batch of a product at a location, with what remains of it and when it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lot {
    /// Where it is.
    pub location: LocationCode,
    /// The product.
    pub product: ProductCode,
    /// The lot code (unique per product and location).
    pub code: LotCode,
    /// Units remaining.
    pub quantity: Quantity,
    /// Received on.
    pub received_on: NaiveDate,
    /// Expires on (last day it may be sold).
    pub expires_on: NaiveDate,
}
