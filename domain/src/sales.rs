//! Sales lines: what a till (or a daily summary from the POS) recorded.

use crate::{ExchangeRate, LocationCode, Money, ParseError, ProductCode, Quantity};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// The source's identifier of a sales line (ticket and line number, or a daily-summary key).
///
/// It makes ingest idempotent: a line whose key is already stored is not stored again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LineKey(String);

impl LineKey {
    /// The longest key accepted.
    pub const MAX_LEN: usize = 200;

    /// Parses a key: non-empty, at most 200 characters, no control characters.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        if input.is_empty() || input.len() > Self::MAX_LEN || input.chars().any(char::is_control) {
            return Err(ParseError::new("line key", input, "must be 1 to 200 characters without control characters"));
        }
        Ok(Self(input.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LineKey {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, ParseError> {
        Self::parse(&value)
    }
}

impl From<LineKey> for String {
    fn from(value: LineKey) -> String {
        value.0
    }
}

/// One line of sales: a quantity of one product sold at one store, for an amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalesLine {
    /// The source's key for the line (idempotency).
    pub key: LineKey,
    /// The store that sold.
    pub store: LocationCode,
    /// The product sold.
    pub product: ProductCode,
    /// When, in the store's local time.
    pub sold_at: NaiveDateTime,
    /// How much.
    pub quantity: Quantity,
    /// The amount charged, in the currency of the sale.
    pub amount: Money,
    /// Local units per USD at the time of the sale (`ExchangeRate::ONE` for USD sales).
    pub rate: ExchangeRate,
}

impl SalesLine {
    /// Most units one line may carry.
    pub const MAX_QUANTITY: f64 = 1_000_000.0;
    /// Largest amount of one line, US cents (US$ 10 million): the store's daily sums stay far from
    /// overflowing.
    pub const MAX_AMOUNT_USD_CENTS: i64 = 1_000_000_000;

    /// The amount in USD at the line's own rate.
    pub fn amount_usd(&self) -> Money {
        self.amount.to_usd(self.rate)
    }

    /// Why the line cannot be a real sale made by `today`, if it cannot: sold before 1990 or after
    /// tomorrow, more than [`Self::MAX_QUANTITY`] units, or more than [`Self::MAX_AMOUNT_USD_CENTS`]
    /// either way. Such a line would poison the daily aggregates and every forecast read from them.
    pub fn implausible(&self, today: chrono::NaiveDate) -> Option<String> {
        let day = self.sold_at.date();
        let earliest = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(chrono::NaiveDate::MIN);
        if day < earliest || day > today + chrono::Duration::days(1) {
            return Some(format!("sold_at {day} is not between 1990-01-01 and tomorrow"));
        }
        if self.quantity.get() > Self::MAX_QUANTITY {
            return Some(format!("quantity is above {} units", Self::MAX_QUANTITY));
        }
        if self.amount_usd().minor().unsigned_abs() > Self::MAX_AMOUNT_USD_CENTS.unsigned_abs() {
            return Some("amount is above US$ 10,000,000".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use chrono::NaiveDate;

    fn line(day: &str, quantity: f64, amount: &str) -> SalesLine {
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap_or_default();
        SalesLine {
            key: LineKey::parse("t-1").unwrap_or_else(|_| unreachable!()),
            store: LocationCode::parse("CCS-01").unwrap_or_else(|_| unreachable!()),
            product: ProductCode::parse("HAR-001").unwrap_or_else(|_| unreachable!()),
            sold_at: day.and_hms_opt(10, 0, 0).unwrap_or_default(),
            quantity: Quantity::new(quantity).unwrap_or_else(|_| unreachable!()),
            amount: Money::parse(amount, Currency::USD).unwrap_or_else(|_| unreachable!()),
            rate: ExchangeRate::ONE,
        }
    }

    #[test]
    fn lines_no_point_of_sale_could_have_made_are_named() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default();
        assert_eq!(line("2026-11-27", 2.0, "3.50").implausible(today), None);
        assert_eq!(line("1998-01-31", 2.0, "3.50").implausible(today), None, "old histories load");
        assert_eq!(line("2026-11-29", 2.0, "3.50").implausible(today), None, "a clock a day ahead");
        assert!(line("2026-12-01", 2.0, "3.50").implausible(today).is_some());
        assert!(line("1970-01-01", 2.0, "3.50").implausible(today).is_some());
        assert!(line("2026-11-27", 1e300, "3.50").implausible(today).is_some());
        assert!(line("2026-11-27", 1.0, "92233720368547758.07").implausible(today).is_some());
    }
}
