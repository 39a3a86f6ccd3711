//! Locations: the stores that sell and the warehouses that hold stock.
//!
//! Stores and warehouses share one code namespace per tenant, so stock, lots and transfers refer to a
//! [`LocationCode`] whatever kind of place it is, and sales refer to locations of kind
//! [`LocationKind::Store`].

use crate::{LocationCode, ParseError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    /// A store that sells to customers.
    Store,
    /// A warehouse or distribution centre that only holds and ships stock.
    Warehouse,
}

impl LocationKind {
    /// The stable name used in files and databases.
    pub fn as_str(&self) -> &'static str {
        match self {
            LocationKind::Store => "store",
            LocationKind::Warehouse => "warehouse",
        }
    }
}

impl FromStr for LocationKind {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "store" | "tienda" => Ok(LocationKind::Store),
            "warehouse" | "almacen" | "almacén" | "deposito" | "depósito" => Ok(LocationKind::Warehouse),
            _ => Err(ParseError::new("location kind", s, "must be store or warehouse")),
        }
    }
}

impl fmt::Display for LocationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A store or a warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// The tenant's code for it.
    pub code: LocationCode,
    /// Display name ("La Cosecha Chacao").
    pub name: String,
    /// City ("Caracas", "Maracaibo").
    pub city: String,
    /// Store or warehouse.
    pub kind: LocationKind,
}
