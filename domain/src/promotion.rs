//! Promotions: a price cut of one product at one store over a span of days, known in advance.

use crate::{LocationCode, ParseError, ProductCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A promotion of one product at one store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Promotion {
    store: LocationCode,
    product: ProductCode,
    first: NaiveDate,
    last: NaiveDate,
    discount_pct: u8,
}

impl Promotion {
    /// A promotion from `first` to `last` (inclusive) with a discount of `discount_pct` percent (0–95).
    pub fn new(
        store: LocationCode,
        product: ProductCode,
        first: NaiveDate,
        last: NaiveDate,
        discount_pct: u8,
    ) -> Result<Self, ParseError> {
        if last < first {
            return Err(ParseError::new("promotion", format!("{first}..{last}"), "ends before it starts"));
        }
        if (last - first).num_days() > 366 {
            return Err(ParseError::new("promotion", format!("{first}..{last}"), "lasts more than a year"));
        }
        if discount_pct > 95 {
            return Err(ParseError::new("promotion discount", discount_pct.to_string(), "must be at most 95%"));
        }
        Ok(Self { store, product, first, last, discount_pct })
    }

    /// The store.
    pub fn store(&self) -> &LocationCode {
        &self.store
    }
    /// The product.
    pub fn product(&self) -> &ProductCode {
        &self.product
    }
    /// The first day.
    pub fn first(&self) -> NaiveDate {
        self.first
    }
    /// The last day.
    pub fn last(&self) -> NaiveDate {
        self.last
    }
    /// The discount, percent.
    pub fn discount_pct(&self) -> u8 {
        self.discount_pct
    }
    /// Whether `day` is one of its days.
    pub fn covers(&self, day: NaiveDate) -> bool {
        (self.first..=self.last).contains(&day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_promotions_are_refused() {
        let s = LocationCode::parse("CCS-01").expect("code");
        let p = ProductCode::parse("HAR-001").expect("code");
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).expect("date");
        assert!(Promotion::new(s.clone(), p.clone(), d(3, 5), d(3, 4), 10).is_err());
        assert!(Promotion::new(s.clone(), p.clone(), d(3, 5), d(3, 9), 99).is_err());
        let ok = Promotion::new(s, p, d(3, 5), d(3, 9), 20).expect("valid");
        assert!(ok.covers(d(3, 9)) && !ok.covers(d(3, 10)));
    }
}
