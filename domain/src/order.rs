//! Goods on the way: open purchase orders and transfers in transit.

use crate::{LocationCode, OrderNumber, ParseError, ProductCode, Quantity, SupplierCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A product and a quantity on an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The product.
    pub product: ProductCode,
    /// Units ordered and not yet received.
    pub quantity: Quantity,
}

/// A purchase order placed with a supplier and not yet fully received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    number: OrderNumber,
    supplier: SupplierCode,
    destination: LocationCode,
    ordered_on: NaiveDate,
    expected_on: NaiveDate,
    lines: Vec<OrderLine>,
}

impl PurchaseOrder {
    /// An order; refuses one expected before it was placed or with no lines.
    pub fn new(
        number: OrderNumber,
        supplier: SupplierCode,
        destination: LocationCode,
        ordered_on: NaiveDate,
        expected_on: NaiveDate,
        lines: Vec<OrderLine>,
    ) -> Result<Self, ParseError> {
        if expected_on < ordered_on {
            return Err(ParseError::new("purchase order", number.as_str(), "is expected before it was ordered"));
        }
        if lines.is_empty() {
            return Err(ParseError::new("purchase order", number.as_str(), "has no lines"));
        }
        Ok(Self { number, supplier, destination, ordered_on, expected_on, lines })
    }

    /// The order number.
    pub fn number(&self) -> &OrderNumber {
        &self.number
    }
    /// The supplier.
    pub fn supplier(&self) -> &SupplierCode {
        &self.supplier
    }
    /// Where it will be delivered.
    pub fn destination(&self) -> &LocationCode {
        &self.destination
    }
    /// When it was placed.
    pub fn ordered_on(&self) -> NaiveDate {
        self.ordered_on
    }
    /// When it is expected.
    pub fn expected_on(&self) -> NaiveDate {
        self.expected_on
    }
    /// What is still to come.
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }
}

/// Goods shipped from one location to another and not yet received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    number: OrderNumber,
    from: LocationCode,
    to: LocationCode,
    shipped_on: NaiveDate,
    expected_on: NaiveDate,
    lines: Vec<OrderLine>,
}

impl Transfer {
    /// A transfer; refuses one between a location and itself, one arriving before it left, or one with no lines.
    pub fn new(
        number: OrderNumber,
        from: LocationCode,
        to: LocationCode,
        shipped_on: NaiveDate,
        expected_on: NaiveDate,
        lines: Vec<OrderLine>,
    ) -> Result<Self, ParseError> {
        if from == to {
            return Err(ParseError::new("transfer", number.as_str(), "goes from a location to itself"));
        }
        if expected_on < shipped_on {
            return Err(ParseError::new("transfer", number.as_str(), "arrives before it was shipped"));
        }
        if lines.is_empty() {
            return Err(ParseError::new("transfer", number.as_str(), "has no lines"));
        }
        Ok(Self { number, from, to, shipped_on, expected_on, lines })
    }

    /// The transfer number.
    pub fn number(&self) -> &OrderNumber {
        &self.number
    }
    /// Sending location.
    pub fn from(&self) -> &LocationCode {
        &self.from
    }
    /// Receiving location.
    pub fn to(&self) -> &LocationCode {
        &self.to
    }
    /// When it left.
    pub fn shipped_on(&self) -> NaiveDate {
        self.shipped_on
    }
    /// When it is expected.
    pub fn expected_on(&self) -> NaiveDate {
        self.expected_on
    }
    /// What is in transit.
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("valid date")
    }

    #[test]
    fn orders_and_transfers_refuse_impossible_dates_and_routes() {
        let n = OrderNumber::parse("OC-1").expect("valid");
        let s = SupplierCode::parse("POLAR").expect("valid");
        let a = LocationCode::parse("CCS-01").expect("valid");
        let b = LocationCode::parse("VAL-01").expect("valid");
        let line = OrderLine { product: ProductCode::parse("HAR-001").expect("valid"), quantity: Quantity::ZERO };
        assert!(PurchaseOrder::new(n.clone(), s.clone(), a.clone(), day(10), day(9), vec![line.clone()]).is_err());
        assert!(PurchaseOrder::new(n.clone(), s, a.clone(), day(10), day(12), vec![]).is_err());
        assert!(Transfer::new(n.clone(), a.clone(), a.clone(), day(1), day(2), vec![line.clone()]).is_err());
        assert!(Transfer::new(n, a, b, day(1), day(2), vec![line]).is_ok());
    }
}
