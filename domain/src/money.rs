//! Money: exact amounts in minor units, a currency, and exchange rates to the US dollar.
//!
//! USD is the reference currency. An amount in local currency (bolívares) keeps the rate at which
//! it was taken, so its USD value can always be recomputed exactly as it was at the time.

use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency with two minor digits (all the currencies the product deals with have two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// The US dollar, the reference currency.
    pub const USD: Currency = Currency(*b"USD");
    /// The Venezuelan bolívar (digital, since 2021).
    pub const VES: Currency = Currency(*b"VES");

    /// Parses a three-letter upper-case ISO 4217 code.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let bytes = input.trim().as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Self([*a, *b, *c])),
            _ => Err(ParseError::new("currency", input, "must be a three-letter ISO 4217 code such as USD or VES")),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters get in (see `parse`), so this is always valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl TryFrom<String> for Currency {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, ParseError> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a decimal with at most `scale` fractional digits into an integer scaled by 10^scale.
/// Accepts `.` or `,` as the decimal separator, no thousands separators.
fn parse_fixed(what: &'static str, input: &str, scale: u32) -> Result<i64, ParseError> {
    let s = input.trim();
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int_part, frac_part) = match digits.split_once(['.', ',']) {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !all_digits(int_part) || !all_digits(frac_part) {
        return Err(ParseError::new(what, input, "must be a decimal number such as 12.50"));
    }
    if frac_part.len() > scale as usize {
        return Err(ParseError::new(what, input, format!("has more than {scale} decimals")));
    }
    let too_big = || ParseError::new(what, input, "is too large");
    let int_value: i64 = if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| too_big())? };
    let mut frac_value: i64 = if frac_part.is_empty() { 0 } else { frac_part.parse().map_err(|_| too_big())? };
    for _ in frac_part.len()..scale as usize {
        frac_value *= 10;
    }
    let magnitude =
        int_value.checked_mul(10_i64.pow(scale)).and_then(|v| v.checked_add(frac_value)).ok_or_else(too_big)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// An exact amount of money: minor units (cents) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount given in minor units (cents).
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a decimal amount ("12.50", "12,5", "-3") in `currency`; at most two decimals.
    pub fn parse(input: &str, currency: Currency) -> Result<Self, ParseError> {
        parse_fixed("amount", input, 2).map(|minor| Self { minor, currency })
    }

    /// An amount in US dollars given in cents.
    pub fn usd_cents(cents: i64) -> Self {
        Self::from_minor(cents, Currency::USD)
    }

    /// The amount in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as a float in major units, for models and charts (never for bookkeeping).
    pub fn as_f64(&self) -> f64 {
        self.minor as f64 / 100.0
    }

    /// This amount in USD at `rate` (rounded half away from zero to the cent).
    /// A USD amount is returned as it is whatever the rate says.
    pub fn to_usd(&self, rate: ExchangeRate) -> Money {
        if self.currency == Currency::USD {
            return *self;
        }
        // minor / (micros / 1e6) = minor * 1e6 / micros, in i128 so it cannot overflow.
        let num = i128::from(self.minor) * 1_000_000;
        let den = i128::from(rate.micros());
        let q = (2 * num + num.signum() * den) / (2 * den);
        Money::usd_cents(i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN }))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

/// Units of a local currency per US dollar, exact to six decimals, always positive.
///
/// `ExchangeRate::ONE` is the rate of USD amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct ExchangeRate(i64);

impl ExchangeRate {
    /// One unit per dollar.
    pub const ONE: ExchangeRate = ExchangeRate(1_000_000);

    /// Parses a positive decimal with at most six decimals ("36.45", "1").
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let micros = parse_fixed("exchange rate", input, 6)?;
        Self::from_micros(micros).map_err(|_| ParseError::new("exchange rate", input, "must be greater than zero"))
    }

    /// A rate given in millionths of a unit per dollar.
    pub fn from_micros(micros: i64) -> Result<Self, ParseError> {
        if micros <= 0 {
            return Err(ParseError::new("exchange rate", micros.to_string(), "must be greater than zero"));
        }
        Ok(Self(micros))
    }

    /// The rate in millionths.
    pub fn micros(&self) -> i64 {
        self.0
    }

    /// The rate as a float.
    pub fn as_f64(&self) -> f64 {
        self.0 as f64 / 1e6
    }
}

impl TryFrom<i64> for ExchangeRate {
    type Error = ParseError;
    fn try_from(value: i64) -> Result<Self, ParseError> {
        Self::from_micros(value)
    }
}

impl From<ExchangeRate> for i64 {
    fn from(value: ExchangeRate) -> i64 {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_exactly_with_either_separator() {
        assert_eq!(Money::parse("12.50", Currency::USD).map(|m| m.minor()), Ok(1250));
        assert_eq!(Money::parse("12,5", Currency::USD).map(|m| m.minor()), Ok(1250));
        assert_eq!(Money::parse("-3", Currency::VES).map(|m| m.minor()), Ok(-300));
        assert_eq!(Money::parse(".07", Currency::USD).map(|m| m.minor()), Ok(7));
        for bad in ["", "abc", "1.234", "1.2.3", "1e5", "--1", "99999999999999999999"] {
            assert!(Money::parse(bad, Currency::USD).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn currency_is_three_upper_case_letters() {
        assert_eq!(Currency::parse("VES"), Ok(Currency::VES));
        assert!(Currency::parse("ves").is_err());
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("USDT").is_err());
    }

    #[test]
    fn exchange_rate_must_be_positive() {
        assert!(ExchangeRate::parse("0").is_err());
        assert!(ExchangeRate::parse("-36.5").is_err());
        assert_eq!(ExchangeRate::parse("36.451234").map(|r| r.micros()), Ok(36_451_234));
        assert!(ExchangeRate::parse("36.4512345").is_err());
    }

    #[test]
    fn local_amounts_convert_to_usd_with_their_rate() {
        let rate = ExchangeRate::parse("40").expect("valid rate");
        let bs = Money::parse("100.00", Currency::VES).expect("valid amount");
        assert_eq!(bs.to_usd(rate), Money::usd_cents(250));
        let usd = Money::usd_cents(999);
        assert_eq!(usd.to_usd(rate), usd, "USD amounts ignore the rate");
        assert_eq!(Money::usd_cents(-1234).to_string(), "-12.34 USD");
    }

    proptest! {
        #[test]
        fn parse_fixed_never_panics(s in "\\PC{0,30}") {
            let _ = Money::parse(&s, Currency::USD);
            let _ = ExchangeRate::parse(&s);
        }

        #[test]
        fn conversion_roundtrips_within_a_cent(cents in -1_000_000_000i64..1_000_000_000, micros in 1_000i64..1_000_000_000) {
            let rate = ExchangeRate::from_micros(micros).expect("positive");
            let local = Money::from_minor(cents, Currency::VES);
            let usd = local.to_usd(rate).minor() as f64;
            let exact = cents as f64 * 1e6 / micros as f64;
            prop_assert!((usd - exact).abs() <= 0.5 + 1e-6);
        }
    }
}
