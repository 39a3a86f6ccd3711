//! Header mapping: which column of a file feeds which field of an import.
//!
//! Each [`ImportKind`] has canonical [`Field`]s. A column feeds a field when the user mapped it
//! explicitly, or when its header equals the field's canonical name or one of its aliases, all
//! compared after [`normalize_name`] (lower case, accents folded, only letters and digits kept),
//! so `Código de barras`, `codigo_barras` and `CODIGO-BARRAS` are the same header.

use super::ImportKind;
use std::fmt;

/// A canonical field of an import (what a column means).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The code of the product or location being imported.
    Code,
    /// Display name (or event name).
    Name,
    /// Product brand.
    Brand,
    /// Product category.
    Category,
    /// Product counting unit (`each`, `kg`, `l`).
    Unit,
    /// Units per case.
    PackSize,
    /// Days a perishable keeps.
    ShelfLifeDays,
    /// Unit cost in USD.
    Cost,
    /// Unit price in USD.
    Price,
    /// Usual supplier's code.
    Supplier,
    /// Barcodes separated by `|`.
    Barcodes,
    /// A location's city.
    City,
    /// A location's kind (store, warehouse) or an event's kind.
    Kind,
    /// The store of a sale.
    Store,
    /// The product of a sale or stock count.
    Product,
    /// A day.
    Date,
    /// A day and time of a sale.
    DateTime,
    /// Units sold.
    Quantity,
    /// Amount charged.
    Amount,
    /// Currency of the amount.
    Currency,
    /// Local units per USD.
    Rate,
    /// The source's key of a sales line.
    Key,
    /// The location of a stock count.
    Location,
    /// Units on hand.
    OnHand,
    /// A second event on the same day (wide calendars such as M5's).
    Name2,
    /// The kind of the second event.
    Kind2,
    /// A yes/no column marking paydays (M5's `snap_TX`).
    Payday,
}

/// The number of [`Field`] variants.
const FIELD_COUNT: usize = 27;

impl Field {
    /// The canonical name, as used in explicit mappings (`quantity=sales`).
    pub fn name(&self) -> &'static str {
        match self {
            Field::Code => "code",
            Field::Name => "name",
            Field::Brand => "brand",
            Field::Category => "category",
            Field::Unit => "unit",
            Field::PackSize => "pack_size",
            Field::ShelfLifeDays => "shelf_life_days",
            Field::Cost => "cost",
            Field::Price => "price",
            Field::Supplier => "supplier",
            Field::Barcodes => "barcodes",
            Field::City => "city",
            Field::Kind => "kind",
            Field::Store => "store",
            Field::Product => "product",
            Field::Date => "date",
            Field::DateTime => "datetime",
            Field::Quantity => "quantity",
            Field::Amount => "amount",
            Field::Currency => "currency",
            Field::Rate => "rate",
            Field::Key => "key",
            Field::Location => "location",
            Field::OnHand => "on_hand",
            Field::Name2 => "name_2",
            Field::Kind2 => "kind_2",
            Field::Payday => "payday",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field of one import kind: whether a column for it is required, and the other header names
/// that mean it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field.
    pub field: Field,
    /// Whether the file must have a column for it. Sales need `date` or `datetime`; a store or
    /// location column may be replaced by [`ImportOptions::default_location`](super::ImportOptions).
    pub required: bool,
    /// Header names, besides the canonical one, that feed this field.
    pub aliases: &'static [&'static str],
}

const fn spec(field: Field, required: bool, aliases: &'static [&'static str]) -> FieldSpec {
    FieldSpec { field, required, aliases }
}

const PRODUCT_REF: &[&str] = &[
    "producto",
    "sku",
    "item",
    "item_id",
    "codigo",
    "codigo_producto",
    "product_code",
    "product_id",
    "articulo",
    "codigo_articulo",
];
const STORE_REF: &[&str] =
    &["tienda", "sucursal", "store_id", "store_code", "codigo_tienda", "id_tienda", "location", "ubicacion", "local"];

const PRODUCTS: &[FieldSpec] = &[
    spec(
        Field::Code,
        true,
        &[
            "codigo",
            "sku",
            "product",
            "producto",
            "product_code",
            "codigo_producto",
            "item",
            "item_id",
            "articulo",
            "referencia",
        ],
    ),
    spec(Field::Name, true, &["nombre", "descripcion", "description", "product_name", "nombre_producto"]),
    spec(Field::Brand, false, &["marca"]),
    spec(Field::Category, false, &["categoria", "department", "departamento", "familia", "rubro", "grupo"]),
    spec(Field::Unit, false, &["unidad", "uom", "unidad_medida"]),
    spec(Field::PackSize, false, &["pack", "case_size", "empaque", "bulto", "unidades_por_caja", "por_caja"]),
    spec(Field::ShelfLifeDays, false, &["shelf_life", "vida_util", "dias_vida_util", "dias_vencimiento"]),
    spec(Field::Cost, false, &["costo", "unit_cost", "costo_unitario"]),
    spec(Field::Price, false, &["precio", "pvp", "precio_venta", "unit_price", "precio_unitario"]),
    spec(Field::Supplier, false, &["proveedor", "vendor", "supplier_code", "codigo_proveedor"]),
    spec(
        Field::Barcodes,
        false,
        &["barcode", "ean", "gtin", "upc", "codigo_barras", "codigos_barras", "codigo_de_barras"],
    ),
];

const LOCATIONS: &[FieldSpec] = &[
    spec(
        Field::Code,
        true,
        &["codigo", "store", "tienda", "sucursal", "location", "ubicacion", "store_id", "store_code", "local"],
    ),
    spec(Field::Name, false, &["nombre", "store_name", "nombre_tienda", "descripcion"]),
    spec(Field::City, false, &["ciudad", "localidad", "municipio"]),
    spec(Field::Kind, false, &["type", "tipo"]),
];

const SALES: &[FieldSpec] = &[
    spec(Field::Store, true, STORE_REF),
    spec(Field::Product, true, PRODUCT_REF),
    spec(Field::Date, false, &["fecha", "day", "dia", "fecha_venta", "sale_date"]),
    spec(Field::DateTime, false, &["fecha_hora", "timestamp", "sold_at", "date_time"]),
    spec(Field::Quantity, true, &["qty", "cantidad", "unidades", "units", "unit_sales", "cant", "cantidad_vendida"]),
    spec(Field::Amount, false, &["monto", "importe", "total", "revenue", "monto_total", "subtotal"]),
    spec(Field::Currency, false, &["moneda", "divisa"]),
    spec(Field::Rate, false, &["tasa", "exchange_rate", "tasa_cambio", "tasa_bcv"]),
    spec(Field::Key, false, &["line_key", "line_id", "clave", "id_linea"]),
];

const STOCK: &[FieldSpec] = &[
    spec(
        Field::Location,
        true,
        &[
            "store",
            "tienda",
            "sucursal",
            "almacen",
            "deposito",
            "warehouse",
            "ubicacion",
            "local",
            "store_id",
            "codigo_tienda",
        ],
    ),
    spec(Field::Product, true, PRODUCT_REF),
    spec(Field::Date, true, &["fecha", "day", "dia", "fecha_corte", "as_of"]),
    spec(
        Field::OnHand,
        true,
        &["stock", "existencia", "existencias", "inventario", "onhand", "disponible", "cantidad", "qty", "quantity"],
    ),
];

const EVENTS: &[FieldSpec] = &[
    spec(Field::Date, true, &["fecha", "day", "dia"]),
    spec(Field::Name, true, &["nombre", "event", "evento", "event_name", "event_name_1", "nombre_evento"]),
    spec(Field::Kind, true, &["type", "tipo", "event_type", "event_type_1", "tipo_evento"]),
    spec(Field::Name2, false, &["event_name_2"]),
    spec(Field::Kind2, false, &["event_type_2"]),
    spec(Field::Payday, false, &["quincena", "pago", "snap"]),
];

/// The fields of an import kind, in the order they are documented.
pub(crate) fn fields_of(kind: ImportKind) -> &'static [FieldSpec] {
    match kind {
        ImportKind::Products => PRODUCTS,
        ImportKind::Locations => LOCATIONS,
        ImportKind::Sales => SALES,
        ImportKind::Stock => STOCK,
        ImportKind::Events => EVENTS,
    }
}

/// A header name reduced for comparison: lower case, accents folded, only `a-z0-9` kept.
pub(crate) fn normalize_name(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            'á' | 'à' | 'ä' | 'â' | 'ã' => Some('a'),
            'é' | 'è' | 'ë' | 'ê' => Some('e'),
            'í' | 'ì' | 'ï' | 'î' => Some('i'),
            'ó' | 'ò' | 'ö' | 'ô' | 'õ' => Some('o'),
            'ú' | 'ù' | 'ü' | 'û' => Some('u'),
            'ñ' => Some('n'),
            'ç' => Some('c'),
            c if c.is_ascii_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Which column (0-based) feeds each field, with the header for messages.
#[derive(Debug, Clone)]
pub(crate) struct ColumnMap {
    header: Vec<String>,
    columns: [Option<usize>; FIELD_COUNT],
}

impl ColumnMap {
    /// The column that feeds `field`, if any.
    pub(crate) fn column(&self, field: Field) -> Option<usize> {
        self.columns[field.index()]
    }

    /// Whether a column feeds `field`.
    pub(crate) fn has(&self, field: Field) -> bool {
        self.column(field).is_some()
    }

    /// The header of the column that feeds `field`.
    pub(crate) fn header_of(&self, field: Field) -> Option<&str> {
        self.column(field).and_then(|c| self.header.get(c)).map(String::as_str)
    }

    /// The number of columns in the header.
    pub(crate) fn width(&self) -> usize {
        self.header.len()
    }
}

/// Why a header could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MappingProblem {
    /// An explicit mapping names a field this kind does not have.
    UnknownField(String),
    /// An explicit mapping names a column the header does not have.
    UnknownColumn { field: &'static str, column: String },
    /// Required fields without a column.
    Missing(Vec<&'static str>),
}

/// Finds the column of every field of `kind` in `header`.
///
/// Explicit mappings come first (a later one for the same field wins), then columns named
/// exactly like a canonical field, then aliases in the order they are listed. A column feeds at
/// most one field.
pub(crate) fn resolve(
    kind: ImportKind,
    header: Vec<String>,
    explicit: &[(String, String)],
    has_default_location: bool,
) -> Result<ColumnMap, MappingProblem> {
    let specs = fields_of(kind);
    let normalized: Vec<String> = header.iter().map(|h| normalize_name(h)).collect();
    let mut columns = [None; FIELD_COUNT];
    let mut used = vec![false; header.len()];

    for (field_name, column_name) in explicit {
        let wanted = normalize_name(field_name);
        let spec = specs
            .iter()
            .find(|s| normalize_name(s.field.name()) == wanted)
            .ok_or_else(|| MappingProblem::UnknownField(field_name.trim().to_owned()))?;
        let column = header
            .iter()
            .position(|h| h == column_name.trim())
            .or_else(|| {
                let wanted = normalize_name(column_name);
                normalized.iter().position(|h| !wanted.is_empty() && *h == wanted)
            })
            .ok_or_else(|| MappingProblem::UnknownColumn {
                field: spec.field.name(),
                column: column_name.trim().to_owned(),
            })?;
        if let Some(previous) = columns[spec.field.index()].replace(column) {
            used[previous] = false;
        }
        used[column] = true;
    }

    let mut claim = |field: Field, name: &str, columns: &mut [Option<usize>; FIELD_COUNT]| {
        if columns[field.index()].is_some() {
            return;
        }
        let wanted = normalize_name(name);
        if let Some(c) = (0..normalized.len()).find(|&c| !used[c] && normalized[c] == wanted) {
            columns[field.index()] = Some(c);
            used[c] = true;
        }
    };
    for spec in specs {
        claim(spec.field, spec.field.name(), &mut columns);
    }
    for spec in specs {
        for alias in spec.aliases {
            claim(spec.field, alias, &mut columns);
        }
    }

    let mut missing = Vec::new();
    for spec in specs.iter().filter(|s| s.required && columns[s.field.index()].is_none()) {
        let replaced_by_default = matches!(spec.field, Field::Store | Field::Location) && has_default_location;
        if !replaced_by_default {
            missing.push(spec.field.name());
        }
    }
    if kind == ImportKind::Sales && columns[Field::Date.index()].is_none() && columns[Field::DateTime.index()].is_none()
    {
        missing.push("date (or datetime)");
    }
    if !missing.is_empty() {
        return Err(MappingProblem::Missing(missing));
    }
    Ok(ColumnMap { header, columns })
}
