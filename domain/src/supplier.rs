//! Suppliers: who delivers, how long they take and how reliably, and when they accept orders.

use crate::{ParseError, Quantity, SupplierCode};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Lead time from order to delivery, in days: its mean and its spread (standard deviation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LeadTimeWire", into = "LeadTimeWire")]
pub struct LeadTime {
    mean_days: f64,
    sd_days: f64,
}

#[derive(Serialize, Deserialize)]
struct LeadTimeWire {
    mean_days: f64,
    sd_days: f64,
}

impl LeadTime {
    /// The longest lead time accepted (a year): anything longer is a data error.
    pub const MAX_DAYS: f64 = 365.0;

    /// A lead time with mean in (0, 365] days and spread in [0, 365].
    pub fn new(mean_days: f64, sd_days: f64) -> Result<Self, ParseError> {
        let shown = || format!("{mean_days} ± {sd_days}");
        if !(mean_days.is_finite() && mean_days > 0.0 && mean_days <= Self::MAX_DAYS) {
            return Err(ParseError::new("lead time", shown(), "mean must be more than 0 and at most 365 days"));
        }
        if !(sd_days.is_finite() && (0.0..=Self::MAX_DAYS).contains(&sd_days)) {
            return Err(ParseError::new("lead time", shown(), "spread must be between 0 and 365 days"));
        }
        Ok(Self { mean_days, sd_days: sd_days + 0.0 })
    }

    /// Mean days from order to delivery.
    pub fn mean_days(&self) -> f64 {
        self.mean_days
    }

    /// Standard deviation of the lead time in days.
    pub fn sd_days(&self) -> f64 {
        self.sd_days
    }
}

impl TryFrom<LeadTimeWire> for LeadTime {
    type Error = ParseError;
    fn try_from(w: LeadTimeWire) -> Result<Self, ParseError> {
        Self::new(w.mean_days, w.sd_days)
    }
}

impl From<LeadTime> for LeadTimeWire {
    fn from(l: LeadTime) -> Self {
        Self { mean_days: l.mean_days, sd_days: l.sd_days }
    }
}

/// The weekdays on which a supplier takes orders; never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct OrderDays(u8);

impl OrderDays {
    /// Every day of the week.
    pub const EVERY_DAY: OrderDays = OrderDays(0b111_1111);

    /// From a bit mask, bit 0 = Monday … bit 6 = Sunday.
    pub fn from_mask(mask: u8) -> Result<Self, ParseError> {
        if mask == 0 || mask > 0b111_1111 {
            return Err(ParseError::new("order days", mask.to_string(), "must name at least one weekday"));
        }
        Ok(Self(mask))
    }

    /// From weekdays; refuses an empty list.
    pub fn from_weekdays(days: &[Weekday]) -> Result<Self, ParseError> {
        Self::from_mask(days.iter().fold(0, |m, d| m | (1 << d.num_days_from_monday())))
    }

    /// Parses a list such as `mon,thu`, `lun,jue` or `1,4` (1 = Monday).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let mut mask = 0u8;
        for part in input.split([',', ';', ' ', '|']).map(str::trim).filter(|p| !p.is_empty()) {
            let day = match part.to_lowercase().as_str() {
                "mon" | "monday" | "lun" | "lunes" | "1" => 0,
                "tue" | "tuesday" | "mar" | "martes" | "2" => 1,
                "wed" | "wednesday" | "mie" | "mié" | "miercoles" | "miércoles" | "3" => 2,
                "thu" | "thursday" | "jue" | "jueves" | "4" => 3,
                "fri" | "friday" | "vie" | "viernes" | "5" => 4,
                "sat" | "saturday" | "sab" | "sáb" | "sabado" | "sábado" | "6" => 5,
                "sun" | "sunday" | "dom" | "domingo" | "7" => 6,
                _ => return Err(ParseError::new("order days", input, format!("unknown weekday {part:?}"))),
            };
            mask |= 1 << day;
        }
        Self::from_mask(mask).map_err(|_| ParseError::new("order days", input, "must name at least one weekday"))
    }

    /// Whether orders are taken on `day`.
    pub fn accepts(&self, day: NaiveDate) -> bool {
        self.0 & (1 << day.weekday().num_days_from_monday()) != 0
    }

    /// The bit mask (bit 0 = Monday).
    pub fn mask(&self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for OrderDays {
    type Error = ParseError;
    fn try_from(value: u8) -> Result<Self, ParseError> {
        Self::from_mask(value)
    }
}

impl From<OrderDays> for u8 {
    fn from(value: OrderDays) -> u8 {
        value.0
    }
}

/// A supplier of goods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supplier {
    /// The tenant's code for it.
    pub code: SupplierCode,
    /// Display name ("Alimentos Polar").
    pub name: String,
    /// Days from order to delivery.
    pub lead_time: LeadTime,
    /// Minimum order quantity in units, per product line.
    pub moq: Quantity,
    /// Weekdays on which it takes orders.
    pub order_days: OrderDays,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_time_refuses_impossible_values() {
        assert!(LeadTime::new(0.0, 1.0).is_err());
        assert!(LeadTime::new(5.0, -1.0).is_err());
        assert!(LeadTime::new(f64::NAN, 1.0).is_err());
        assert!(LeadTime::new(400.0, 1.0).is_err());
        assert!(LeadTime::new(5.0, 1.5).is_ok());
    }

    #[test]
    fn order_days_parse_in_spanish_and_english() {
        let days = OrderDays::parse("lun, jue").expect("valid");
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date");
        let thursday = NaiveDate::from_ymd_opt(2026, 11, 26).expect("valid date");
        let friday = NaiveDate::from_ymd_opt(2026, 11, 27).expect("valid date");
        assert!(days.accepts(monday) && days.accepts(thursday) && !days.accepts(friday));
        assert_eq!(OrderDays::parse("mon,thu"), Ok(days));
        assert!(OrderDays::parse("").is_err());
        assert!(OrderDays::parse("funday").is_err());
        assert!(OrderDays::from_mask(0).is_err());
        assert!(OrderDays::from_mask(0b1000_0000).is_err());
    }
}
