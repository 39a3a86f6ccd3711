//! Products (SKUs): what is sold, in what unit and pack, for how long it keeps, and what it costs.

use crate::{Barcode, Money, ParseError, ProductCode, SupplierCode};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The unit a product is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Pieces (a 1 kg bag of flour is one piece).
    Each,
    /// Kilograms, for goods sold by weight.
    Kilogram,
    /// Litres, for goods sold by volume.
    Litre,
}

impl Unit {
    /// How a quantity of it reads in Spanish: "unidades", "kg", "litros".
    pub fn label_es(&self) -> &'static str {
        match self {
            Unit::Each => "unidades",
            Unit::Kilogram => "kg",
            Unit::Litre => "litros",
        }
    }

    /// The stable name used in files and databases.
    pub fn as_str(&self) -> &'static str {
        match self {
            Unit::Each => "each",
            Unit::Kilogram => "kg",
            Unit::Litre => "l",
        }
    }
}

impl FromStr for Unit {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "each" | "un" | "und" | "unidad" | "ea" | "pc" | "" => Ok(Unit::Each),
            "kg" | "kilo" | "kilogram" | "kilogramo" => Ok(Unit::Kilogram),
            "l" | "lt" | "litre" | "liter" | "litro" => Ok(Unit::Litre),
            _ => Err(ParseError::new("unit", s, "must be each, kg or l")),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product in a tenant's catalog.
///
/// Built through [`Product::new`], which checks the relations between fields (prices in USD and
/// not negative, a pack of at least one unit, a shelf life of at least one day); fields are read
/// through getters so that a built product stays valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    code: ProductCode,
    barcodes: Vec<Barcode>,
    name: String,
    brand: String,
    category: String,
    unit: Unit,
    pack_size: u32,
    shelf_life_days: Option<u32>,
    cost: Money,
    price: Money,
    supplier: Option<SupplierCode>,
}

/// Everything needed to build a [`Product`]; see [`Product::new`].
#[derive(Debug, Clone)]
pub struct ProductFields {
    /// The tenant's code (SKU).
    pub code: ProductCode,
    /// Barcodes that scan as this product.
    pub barcodes: Vec<Barcode>,
    /// Display name ("Harina de maíz precocida 1 kg").
    pub name: String,
    /// Brand ("P.A.N."); may be empty.
    pub brand: String,
    /// Category ("Harinas"); may be empty.
    pub category: String,
    /// Counting unit.
    pub unit: Unit,
    /// Units per case as the supplier ships it (orders are multiples of it).
    pub pack_size: u32,
    /// Days the product keeps, for perishables.
    pub shelf_life_days: Option<u32>,
    /// Unit cost in USD.
    pub cost: Money,
    /// Unit shelf price in USD.
    pub price: Money,
    /// Usual supplier.
    pub supplier: Option<SupplierCode>,
}

impl Product {
    /// Builds a product, refusing inconsistent fields.
    pub fn new(f: ProductFields) -> Result<Self, ParseError> {
        let code = f.code.as_str();
        let name = f.name.trim().to_owned();
        if name.is_empty() {
            return Err(ParseError::new("product name", code, "must not be empty"));
        }
        if f.pack_size == 0 {
            return Err(ParseError::new("pack size", code, "must be at least 1"));
        }
        if f.shelf_life_days == Some(0) {
            return Err(ParseError::new("shelf life", code, "must be at least one day when given"));
        }
        for (what, money) in [("cost", f.cost), ("price", f.price)] {
            if money.currency() != crate::Currency::USD {
                return Err(ParseError::new(what, money.to_string(), "catalog prices are kept in USD"));
            }
            if money.minor() < 0 {
                return Err(ParseError::new(what, money.to_string(), "must not be negative"));
            }
        }
        let mut barcodes = f.barcodes;
        barcodes.sort();
        barcodes.dedup();
        Ok(Self {
            code: f.code,
            barcodes,
            name,
            brand: f.brand.trim().to_owned(),
            category: f.category.trim().to_owned(),
            unit: f.unit,
            pack_size: f.pack_size,
            shelf_life_days: f.shelf_life_days,
            cost: f.cost,
            price: f.price,
            supplier: f.supplier,
        })
    }

    /// The tenant's code (SKU).
    pub fn code(&self) -> &ProductCode {
        &self.code
    }
    /// Barcodes, sorted and without duplicates.
    pub fn barcodes(&self) -> &[Barcode] {
        &self.barcodes
    }
    /// Display name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Brand (may be empty).
    pub fn brand(&self) -> &str {
        &self.brand
    }
    /// Category (may be empty).
    pub fn category(&self) -> &str {
        &self.category
    }
    /// Counting unit.
    pub fn unit(&self) -> Unit {
        self.unit
    }
    /// Units per case.
    pub fn pack_size(&self) -> u32 {
        self.pack_size
    }
    /// Days it keeps, for perishables.
    pub fn shelf_life_days(&self) -> Option<u32> {
        self.shelf_life_days
    }
    /// Whether it expires (has a shelf life).
    pub fn is_perishable(&self) -> bool {
        self.shelf_life_days.is_some()
    }
    /// Unit cost in USD.
    pub fn cost(&self) -> Money {
        self.cost
    }
    /// Unit price in USD.
    pub fn price(&self) -> Money {
        self.price
    }
    /// Usual supplier.
    pub fn supplier(&self) -> Option<&SupplierCode> {
        self.supplier.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn fields() -> ProductFields {
        ProductFields {
            code: ProductCode::parse("HAR-001").expect("valid"),
            barcodes: vec![Barcode::parse("7591002000011").expect("valid")],
            name: "Harina de maíz precocida 1 kg".into(),
            brand: "P.A.N.".into(),
            category: "Harinas".into(),
            unit: Unit::Each,
            pack_size: 20,
            shelf_life_days: None,
            cost: Money::usd_cents(95),
            price: Money::usd_cents(130),
            supplier: None,
        }
    }

    #[test]
    fn valid_product_builds() {
        let p = Product::new(fields()).expect("valid product");
        assert_eq!(p.pack_size(), 20);
        assert!(!p.is_perishable());
    }

    #[test]
    fn inconsistent_products_are_refused() {
        let mut f = fields();
        f.pack_size = 0;
        assert!(Product::new(f).is_err());
        let mut f = fields();
        f.shelf_life_days = Some(0);
        assert!(Product::new(f).is_err());
        let mut f = fields();
        f.price = Money::from_minor(5000, Currency::VES);
        assert!(Product::new(f).is_err());
        let mut f = fields();
        f.cost = Money::usd_cents(-1);
        assert!(Product::new(f).is_err());
        let mut f = fields();
        f.name = "  ".into();
        assert!(Product::new(f).is_err());
    }

    #[test]
    fn unit_parses_common_spellings() {
        assert_eq!("Kilo".parse::<Unit>(), Ok(Unit::Kilogram));
        assert_eq!("und".parse::<Unit>(), Ok(Unit::Each));
        assert!("caja".parse::<Unit>().is_err());
    }
}
