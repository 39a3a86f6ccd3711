//! Quantities of goods: units, kilograms or litres, always finite.

use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of goods that cannot be negative (sold, ordered, in a lot, a minimum order).
///
/// Stored as `f64` because weighed goods sell in fractions (1.25 kg of cheese); always finite and ≥ 0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Quantity(f64);

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity(0.0);

    /// A quantity from a float; refuses NaN, infinities and negatives.
    pub fn new(value: f64) -> Result<Self, ParseError> {
        if !value.is_finite() {
            return Err(ParseError::new("quantity", value.to_string(), "must be a finite number"));
        }
        if value < 0.0 {
            return Err(ParseError::new("quantity", value.to_string(), "must not be negative"));
        }
        // -0.0 becomes 0.0 so that equal quantities print and hash alike.
        Ok(Self(value + 0.0))
    }

    /// Parses a decimal such as `12`, `1.25` or `1,25`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value: f64 = input
            .trim()
            .replace(',', ".")
            .parse()
            .map_err(|_| ParseError::new("quantity", input, "must be a number such as 12 or 1.25"))?;
        Self::new(value).map_err(|e| ParseError::new("quantity", input, e.reason().to_owned()))
    }

    /// The value.
    pub fn get(&self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Quantity {
    type Error = ParseError;
    fn try_from(value: f64) -> Result<Self, ParseError> {
        Self::new(value)
    }
}

impl From<Quantity> for f64 {
    fn from(value: Quantity) -> f64 {
        value.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Stock on hand as a point-of-sale system reports it: finite, and possibly negative.
///
/// Real POS systems do report negative stock (sales recorded before the receipt was); refusing it
/// would lose the very signal that the data is off, so it is kept and flagged by the alerts.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct StockQuantity(f64);

impl StockQuantity {
    /// A stock figure from a float; refuses NaN and infinities.
    pub fn new(value: f64) -> Result<Self, ParseError> {
        if !value.is_finite() {
            return Err(ParseError::new("stock quantity", value.to_string(), "must be a finite number"));
        }
        Ok(Self(value + 0.0))
    }

    /// Parses a decimal such as `-3`, `12` or `1,5`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value: f64 = input
            .trim()
            .replace(',', ".")
            .parse()
            .map_err(|_| ParseError::new("stock quantity", input, "must be a number such as 12 or -3"))?;
        Self::new(value).map_err(|e| ParseError::new("stock quantity", input, e.reason().to_owned()))
    }

    /// The value.
    pub fn get(&self) -> f64 {
        self.0
    }

    /// Whether nothing is available to sell.
    pub fn is_out_of_stock(&self) -> bool {
        self.0 <= 0.0
    }
}

impl TryFrom<f64> for StockQuantity {
    type Error = ParseError;
    fn try_from(value: f64) -> Result<Self, ParseError> {
        Self::new(value)
    }
}

impl From<StockQuantity> for f64 {
    fn from(value: StockQuantity) -> f64 {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantity_refuses_negative_and_non_finite() {
        assert!(Quantity::new(-0.5).is_err());
        assert!(Quantity::new(f64::NAN).is_err());
        assert!(Quantity::new(f64::INFINITY).is_err());
        assert_eq!(Quantity::parse(" 1,25 ").map(|q| q.get()), Ok(1.25));
        assert!(Quantity::parse("NaN").is_err());
        assert!(Quantity::parse("doce").is_err());
        assert_eq!(Quantity::new(-0.0).map(|q| q.get().to_bits()), Ok(0.0f64.to_bits()));
    }

    #[test]
    fn stock_may_be_negative_but_not_nan() {
        assert_eq!(StockQuantity::parse("-3").map(|q| q.is_out_of_stock()), Ok(true));
        assert!(StockQuantity::parse("inf").is_err());
        let json_nan: Result<Quantity, _> = serde_json::from_str("-1.0");
        assert!(json_nan.is_err(), "deserialization goes through the same check");
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_valid(s in "\\PC{0,20}") {
            if let Ok(q) = Quantity::parse(&s) {
                prop_assert!(q.get().is_finite() && q.get() >= 0.0);
            }
        }
    }
}
