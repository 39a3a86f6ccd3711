//! Codes: the names by which a tenant's own systems identify things.
//!
//! Codes come from point-of-sale systems and files, so they are trimmed, non-empty, at most
//! [`MAX_CODE_LEN`] characters and free of control characters. A tenant slug is stricter because it
//! also names a PostgreSQL schema and a SQLite file.

use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest code accepted, in characters.
pub const MAX_CODE_LEN: usize = 64;

fn parse_code(what: &'static str, input: &str) -> Result<String, ParseError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new(what, input, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_CODE_LEN {
        return Err(ParseError::new(what, input, format!("must be at most {MAX_CODE_LEN} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ParseError::new(what, input, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a code, trimming surrounding whitespace.
            pub fn parse(input: &str) -> Result<Self, ParseError> {
                parse_code($what, input).map(Self)
            }

            /// The code as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(value: String) -> Result<Self, ParseError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

code_type!(
    /// A store's or warehouse's code (stores and warehouses share one namespace per tenant).
    LocationCode,
    "location code"
);
code_type!(
    /// A product's (SKU's) code in the tenant's own catalog.
    ProductCode,
    "product code"
);
code_type!(
    /// A supplier's code.
    SupplierCode,
    "supplier code"
);
code_type!(
    /// A lot (batch) code, unique per product and location.
    LotCode,
    "lot code"
);
code_type!(
    /// A purchase-order or transfer number.
    OrderNumber,
    "order number"
);

/// A tenant's short name: `[a-z][a-z0-9_]{0,39}`.
///
/// It names the tenant's PostgreSQL schema (`t_<slug>`) and SQLite file (`<slug>.db`), so it is
/// restricted to characters that are safe in both without quoting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantSlug(String);

impl TenantSlug {
    /// The longest slug accepted.
    pub const MAX_LEN: usize = 40;

    /// Parses a slug; it is not lower-cased for you, so `Demo` is refused rather than silently renamed.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let what = "tenant slug";
        let mut chars = input.chars();
        match chars.next() {
            None => return Err(ParseError::new(what, input, "must not be empty")),
            Some(c) if !c.is_ascii_lowercase() => {
                return Err(ParseError::new(what, input, "must start with a lowercase letter a-z"));
            }
            Some(_) => {}
        }
        if input.len() > Self::MAX_LEN {
            return Err(ParseError::new(what, input, format!("must be at most {} characters", Self::MAX_LEN)));
        }
        if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(ParseError::new(what, input, "may contain only a-z, 0-9 and _"));
        }
        Ok(Self(input.to_owned()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantSlug {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, ParseError> {
        Self::parse(&value)
    }
}

impl From<TenantSlug> for String {
    fn from(value: TenantSlug) -> String {
        value.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A barcode as scanned at the till: 4 to 14 ASCII digits (a PLU up to a GTIN-14).
///
/// GTIN lengths (8, 12, 13, 14) must carry a correct check digit, which catches most typing
/// errors in catalog files. Other lengths are in-store codes and are taken as they are.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

impl Barcode {
    /// Parses a barcode.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let what = "barcode";
        let s = input.trim();
        if !(4..=14).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(what, input, "must be 4 to 14 digits"));
        }
        if matches!(s.len(), 8 | 12 | 13 | 14)
            && gtin_check_digit(&s[..s.len() - 1]) != s.as_bytes()[s.len() - 1] - b'0'
        {
            return Err(ParseError::new(what, input, "wrong GTIN check digit"));
        }
        Ok(Self(s.to_owned()))
    }

    /// Builds a valid GTIN by appending the check digit to `body` (7, 11, 12 or 13 digits).
    pub fn gtin_from_body(body: &str) -> Result<Self, ParseError> {
        if !matches!(body.len(), 7 | 11 | 12 | 13) || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new("barcode", body, "a GTIN body has 7, 11, 12 or 13 digits"));
        }
        Self::parse(&format!("{body}{}", gtin_check_digit(body)))
    }

    /// The barcode as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// GS1 check digit: weights 3,1,3,… from the rightmost body digit.
fn gtin_check_digit(body: &str) -> u8 {
    let sum: u32 =
        body.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    // The result is below 10, so the cast cannot truncate.
    ((10 - sum % 10) % 10) as u8
}

impl TryFrom<String> for Barcode {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, ParseError> {
        Self::parse(&value)
    }
}

impl From<Barcode> for String {
    fn from(value: Barcode) -> String {
        value.0
    }
}

impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_are_trimmed_and_refuse_empty_or_control_characters() {
        assert_eq!(ProductCode::parse("  HAR-001 ").map(|c| c.to_string()), Ok("HAR-001".to_owned()));
        assert!(ProductCode::parse("   ").is_err());
        assert!(LocationCode::parse("CCS\n01").is_err());
        assert!(SupplierCode::parse(&"x".repeat(MAX_CODE_LEN + 1)).is_err());
        assert!(SupplierCode::parse(&"x".repeat(MAX_CODE_LEN)).is_ok());
    }

    #[test]
    fn tenant_slug_accepts_only_schema_safe_names() {
        assert!(TenantSlug::parse("demo").is_ok());
        assert!(TenantSlug::parse("cadena_2").is_ok());
        for bad in ["", "Demo", "2cadena", "a-b", "a b", "t;drop", "ñandu"] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(TenantSlug::parse(&"a".repeat(41)).is_err());
    }

    #[test]
    fn barcode_checks_gtin_check_digits() {
        // Harina P.A.N. 1 kg, a real EAN-13.
        assert!(Barcode::parse("7591002000011").is_ok());
        assert!(Barcode::parse("7591002000012").is_err());
        assert!(Barcode::parse("12345").is_ok(), "a 5-digit PLU is an in-store code");
        assert!(Barcode::parse("759100200001A").is_err());
        assert!(Barcode::parse("123").is_err());
        let built = Barcode::gtin_from_body("759100200001").map(|b| b.to_string());
        assert_eq!(built, Ok("7591002000011".to_owned()));
    }

    #[test]
    fn codes_deserialize_through_parse() {
        let bad: Result<ProductCode, _> = serde_json::from_str("\"  \"");
        assert!(bad.is_err());
    }

    proptest! {
        #[test]
        fn slug_parse_never_panics_and_roundtrips(s in "\\PC{0,50}") {
            if let Ok(slug) = TenantSlug::parse(&s) {
                prop_assert_eq!(slug.as_str(), s.as_str());
            }
        }

        #[test]
        fn every_built_gtin_parses(body in "[0-9]{12}") {
            prop_assert!(Barcode::gtin_from_body(&body).is_ok());
        }
    }
}
