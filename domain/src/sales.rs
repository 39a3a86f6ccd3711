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
    /// The amount in USD at the line's own rate.
    pub fn amount_usd(&self) -> Money {
        self.amount.to_usd(self.rate)
    }
}
