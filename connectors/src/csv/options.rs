//! What to import and how: [`ImportKind`] and [`ImportOptions`].

use super::mapping::{FieldSpec, fields_of};
use super::values::DateFormat;
use fluxion_domain::{Currency, LocationCode, ParseError};
use std::fmt;
use std::str::FromStr;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    /// The product catalog (upserts by code).
    Products,
    /// Stores and warehouses (upserts by code).
    Locations,
    /// Sales lines (stored once per key).
    Sales,
    /// Stock counts (upserts by location, product and day).
    Stock,
    /// Calendar events (upserts by day and name).
    Events,
}

impl ImportKind {
    /// Every kind, for help texts.
    pub const ALL: [ImportKind; 5] =
        [ImportKind::Products, ImportKind::Locations, ImportKind::Sales, ImportKind::Stock, ImportKind::Events];

    /// The stable name (`products`, `locations`, `sales`, `stock`, `events`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ImportKind::Products => "products",
            ImportKind::Locations => "locations",
            ImportKind::Sales => "sales",
            ImportKind::Stock => "stock",
            ImportKind::Events => "events",
        }
    }

    /// The fields of this kind with their aliases, for help texts and explicit mappings.
    pub fn fields(&self) -> &'static [FieldSpec] {
        fields_of(*self)
    }
}

impl FromStr for ImportKind {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_lowercase().as_str() {
            "products" | "product" | "productos" | "catalog" | "catalogo" | "catálogo" => Ok(ImportKind::Products),
            "locations" | "location" | "stores" | "tiendas" | "sucursales" | "ubicaciones" => Ok(ImportKind::Locations),
            "sales" | "ventas" => Ok(ImportKind::Sales),
            "stock" | "inventory" | "inventario" | "existencias" => Ok(ImportKind::Stock),
            "events" | "eventos" | "calendar" | "calendario" => Ok(ImportKind::Events),
            _ => Err(ParseError::new("import kind", s, "must be products, locations, sales, stock or events")),
        }
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to import one file. Build it with [`ImportOptions::new`] or
/// [`Preset::options`](super::Preset::options), then adjust the public fields.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// What the file holds.
    pub kind: ImportKind,
    /// Explicit `(field, column)` pairs that win over header matching (`("quantity", "sales")`).
    pub mapping: Vec<(String, String)>,
    /// How dates are written.
    pub date_format: DateFormat,
    /// Create stores and products that sales or stock rows refer to but the tenant lacks (with
    /// the code as name, city `—`, unit each, pack 1, zero cost and price). Without it such a
    /// row is an error.
    pub create_missing: bool,
    /// Commit nothing unless every row is good (the file is one change set, held in memory).
    pub atomic: bool,
    /// Rows per transaction when not atomic.
    pub batch_size: usize,
    /// Currency of amounts when the file has no currency column.
    pub currency: Currency,
    /// Cell values that mean "no value" besides the empty cell (`NA`, `N/A`), case-insensitive.
    pub na_values: Vec<String>,
    /// A sales row without quantity (or a stock row without on-hand figure) is a missing
    /// observation: skipped and counted, not an error.
    pub skip_missing_quantity: bool,
    /// The store (for sales) or location (for stock) of every row when the file has no such column.
    pub default_location: Option<LocationCode>,
    /// The name of the events made from a `payday` yes/no column.
    pub payday_event_name: String,
    /// How many row errors are kept with details (all are counted).
    pub max_row_errors: usize,
}

impl ImportOptions {
    /// The default batch size.
    pub const DEFAULT_BATCH_SIZE: usize = 50_000;

    /// Defaults for `kind`: ISO dates, USD amounts, not atomic, nothing created, batches of 50,000.
    pub fn new(kind: ImportKind) -> Self {
        Self {
            kind,
            mapping: Vec::new(),
            date_format: DateFormat::Iso,
            create_missing: false,
            atomic: false,
            batch_size: Self::DEFAULT_BATCH_SIZE,
            currency: Currency::USD,
            na_values: Vec::new(),
            skip_missing_quantity: false,
            default_location: None,
            payday_event_name: "Payday".to_owned(),
            max_row_errors: 100,
        }
    }

    /// Adds an explicit mapping of `field` to the column named `column`.
    pub fn map(mut self, field: &str, column: &str) -> Self {
        self.mapping.push((field.to_owned(), column.to_owned()));
        self
    }
}

/// Parses a command-line mapping `field=column` (`quantity=sales`).
pub fn parse_map_arg(arg: &str) -> Result<(String, String), ParseError> {
    match arg.split_once('=') {
        Some((field, column)) if !field.trim().is_empty() && !column.trim().is_empty() => {
            Ok((field.trim().to_owned(), column.trim().to_owned()))
        }
        _ => Err(ParseError::new("column mapping", arg, "must be field=column, such as quantity=sales")),
    }
}
