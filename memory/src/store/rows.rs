//! Database rows of both backends and their conversion into domain values.
//!
//! Both schemas use column types that decode into the same Rust types (text, `f64`, `i64`, dates),
//! so one set of row structs serves SQLite and PostgreSQL.

use super::{IngestRun, IngestStatus, StoreError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use fluxion_domain::{
    Alert, Barcode, CalendarEvent, Currency, DailyDemand, ExchangeRate, LeadTime, LineKey, Location, LocationCode, Lot,
    LotCode, Money, OrderDays, OrderLine, OrderNumber, Product, ProductCode, Promotion, PurchaseOrder, Quantity,
    Recommendation, RecommendedAction, SalesLine, StockQuantity, StockSnapshot, Supplier, SupplierCode, TenantId,
    Transfer, product::ProductFields,
};
use std::collections::{HashMap, HashSet};

/// Parses an enum stored as text through its `FromStr`.
fn parse_text<T: std::str::FromStr<Err = fluxion_domain::ParseError>>(s: &str) -> Result<T, StoreError> {
    s.parse().map_err(StoreError::from)
}

#[derive(sqlx::FromRow)]
pub(crate) struct LocationRow {
    pub code: String,
    pub name: String,
    pub city: String,
    pub kind: String,
}

impl TryFrom<LocationRow> for Location {
    type Error = StoreError;
    fn try_from(r: LocationRow) -> Result<Self, StoreError> {
        Ok(Location { code: LocationCode::parse(&r.code)?, name: r.name, city: r.city, kind: parse_text(&r.kind)? })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SupplierRow {
    pub code: String,
    pub name: String,
    pub lead_time_mean: f64,
    pub lead_time_sd: f64,
    pub moq: f64,
    pub order_days: i64,
}

impl TryFrom<SupplierRow> for Supplier {
    type Error = StoreError;
    fn try_from(r: SupplierRow) -> Result<Self, StoreError> {
        let mask =
            u8::try_from(r.order_days).map_err(|_| StoreError::Corrupt(format!("order days {}", r.order_days)))?;
        Ok(Supplier {
            code: SupplierCode::parse(&r.code)?,
            name: r.name,
            lead_time: LeadTime::new(r.lead_time_mean, r.lead_time_sd)?,
            moq: Quantity::new(r.moq)?,
            order_days: OrderDays::from_mask(mask)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProductRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub brand: String,
    pub category: String,
    pub unit: String,
    pub pack_size: i64,
    pub shelf_life_days: Option<i64>,
    pub cost_usd_cents: i64,
    pub price_usd_cents: i64,
    pub supplier: Option<String>,
}

/// Builds products from their rows and `(product id, barcode)` pairs.
pub(crate) fn products_from_rows(
    rows: Vec<ProductRow>,
    barcodes: Vec<(i64, String)>,
) -> Result<Vec<Product>, StoreError> {
    let mut by_product: HashMap<i64, Vec<Barcode>> = HashMap::new();
    for (id, code) in barcodes {
        by_product.entry(id).or_default().push(Barcode::parse(&code)?);
    }
    let corrupt = |what: &str, v: i64| StoreError::Corrupt(format!("{what} {v}"));
    rows.into_iter()
        .map(|r| {
            Ok(Product::new(ProductFields {
                code: ProductCode::parse(&r.code)?,
                barcodes: by_product.remove(&r.id).unwrap_or_default(),
                name: r.name,
                brand: r.brand,
                category: r.category,
                unit: parse_text(&r.unit)?,
                pack_size: u32::try_from(r.pack_size).map_err(|_| corrupt("pack size", r.pack_size))?,
                shelf_life_days: r
                    .shelf_life_days
                    .map(|d| u32::try_from(d).map_err(|_| corrupt("shelf life", d)))
                    .transpose()?,
                cost: Money::usd_cents(r.cost_usd_cents),
                price: Money::usd_cents(r.price_usd_cents),
                supplier: r.supplier.as_deref().map(SupplierCode::parse).transpose()?,
            })?)
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct SalesRow {
    pub line_key: String,
    pub store: String,
    pub product: String,
    pub sold_at: NaiveDateTime,
    pub quantity: f64,
    pub amount_minor: i64,
    pub currency: String,
    pub rate_micros: i64,
}

impl TryFrom<SalesRow> for SalesLine {
    type Error = StoreError;
    fn try_from(r: SalesRow) -> Result<Self, StoreError> {
        Ok(SalesLine {
            key: LineKey::parse(&r.line_key)?,
            store: LocationCode::parse(&r.store)?,
            product: ProductCode::parse(&r.product)?,
            sold_at: r.sold_at,
            quantity: Quantity::new(r.quantity)?,
            amount: Money::from_minor(r.amount_minor, Currency::parse(&r.currency)?),
            rate: ExchangeRate::from_micros(r.rate_micros)?,
        })
    }
}

/// A daily demand row by ids: reading by ids follows the primary key, with no sort in the database.
#[derive(sqlx::FromRow)]
pub(crate) struct DemandIdRow {
    pub store_id: i64,
    pub product_id: i64,
    pub day: NaiveDate,
    pub units: f64,
    pub revenue_usd_cents: i64,
    pub out_of_stock: bool,
}

/// Demand rows by ids into domain values, each code parsed once, ordered by store code, product
/// code and day.
pub(crate) fn demand_from_id_rows(
    rows: Vec<DemandIdRow>,
    locations: Vec<(i64, String)>,
    products: Vec<(i64, String)>,
) -> Result<Vec<DailyDemand>, StoreError> {
    let locations: HashMap<i64, LocationCode> =
        locations.into_iter().map(|(id, c)| Ok((id, LocationCode::parse(&c)?))).collect::<Result<_, StoreError>>()?;
    let products: HashMap<i64, ProductCode> =
        products.into_iter().map(|(id, c)| Ok((id, ProductCode::parse(&c)?))).collect::<Result<_, StoreError>>()?;
    let missing = |what: &str, id: i64| StoreError::Corrupt(format!("daily demand refers to missing {what} {id}"));
    let mut out = rows
        .into_iter()
        .map(|r| {
            Ok(DailyDemand {
                store: locations.get(&r.store_id).ok_or_else(|| missing("location", r.store_id))?.clone(),
                product: products.get(&r.product_id).ok_or_else(|| missing("product", r.product_id))?.clone(),
                day: r.day,
                units: r.units,
                revenue: Money::usd_cents(r.revenue_usd_cents),
                out_of_stock: r.out_of_stock,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // Rows arrive grouped by (store id, product id) with days in order: a stable sort on the codes keeps them so.
    out.sort_by(|a, b| (a.store.as_str(), a.product.as_str()).cmp(&(b.store.as_str(), b.product.as_str())));
    Ok(out)
}

#[derive(sqlx::FromRow)]
pub(crate) struct StockRow {
    pub location: String,
    pub product: String,
    pub day: NaiveDate,
    pub on_hand: f64,
}

impl TryFrom<StockRow> for StockSnapshot {
    type Error = StoreError;
    fn try_from(r: StockRow) -> Result<Self, StoreError> {
        Ok(StockSnapshot {
            location: LocationCode::parse(&r.location)?,
            product: ProductCode::parse(&r.product)?,
            day: r.day,
            on_hand: StockQuantity::new(r.on_hand)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LotRow {
    pub location: String,
    pub product: String,
    pub code: String,
    pub quantity: f64,
    pub received_on: NaiveDate,
    pub expires_on: NaiveDate,
}

impl TryFrom<LotRow> for Lot {
    type Error = StoreError;
    fn try_from(r: LotRow) -> Result<Self, StoreError> {
        Ok(Lot {
            location: LocationCode::parse(&r.location)?,
            product: ProductCode::parse(&r.product)?,
            code: LotCode::parse(&r.code)?,
            quantity: Quantity::new(r.quantity)?,
            received_on: r.received_on,
            expires_on: r.expires_on,
        })
    }
}

/// One line of an order or transfer joined with its header: `(number, party, destination, start, expected, product, quantity)`.
#[derive(sqlx::FromRow)]
pub(crate) struct OrderLineRow {
    pub number: String,
    pub party: String,
    pub destination: String,
    pub start_on: NaiveDate,
    pub expected_on: NaiveDate,
    pub product: String,
    pub quantity: f64,
}

/// Groups joined order lines (sorted by number) into headers with their lines.
fn group_lines(rows: Vec<OrderLineRow>) -> Result<Vec<(OrderLineRow, Vec<OrderLine>)>, StoreError> {
    let mut out: Vec<(OrderLineRow, Vec<OrderLine>)> = Vec::new();
    for r in rows {
        let line = OrderLine { product: ProductCode::parse(&r.product)?, quantity: Quantity::new(r.quantity)? };
        match out.last_mut() {
            Some((head, lines)) if head.number == r.number => lines.push(line),
            _ => out.push((r, vec![line])),
        }
    }
    Ok(out)
}

/// An order or transfer to write, its codes resolved to ids: `party` is the supplier of a purchase
/// order or the sending location of a transfer.
pub(crate) struct OrderRows<'a> {
    pub number: &'a str,
    pub party: i64,
    pub destination: i64,
    pub start: NaiveDate,
    pub expected: NaiveDate,
    pub lines: &'a [OrderLine],
}

impl<'a> OrderRows<'a> {
    /// Purchase orders, their supplier and store resolved.
    pub fn purchase_orders(orders: &'a [PurchaseOrder], maps: &IdMaps) -> Result<Vec<Self>, StoreError> {
        orders
            .iter()
            .map(|po| {
                Ok(OrderRows {
                    number: po.number().as_str(),
                    party: maps.supplier(po.supplier())?,
                    destination: maps.location(po.destination())?,
                    start: po.ordered_on(),
                    expected: po.expected_on(),
                    lines: po.lines(),
                })
            })
            .collect()
    }

    /// Transfers, their sending and receiving locations resolved.
    pub fn transfers(transfers: &'a [Transfer], maps: &IdMaps) -> Result<Vec<Self>, StoreError> {
        transfers
            .iter()
            .map(|t| {
                Ok(OrderRows {
                    number: t.number().as_str(),
                    party: maps.location(t.from())?,
                    destination: maps.location(t.to())?,
                    start: t.shipped_on(),
                    expected: t.expected_on(),
                    lines: t.lines(),
                })
            })
            .collect()
    }
}

pub(crate) fn purchase_orders_from_rows(rows: Vec<OrderLineRow>) -> Result<Vec<PurchaseOrder>, StoreError> {
    group_lines(rows)?
        .into_iter()
        .map(|(h, lines)| {
            Ok(PurchaseOrder::new(
                OrderNumber::parse(&h.number)?,
                SupplierCode::parse(&h.party)?,
                LocationCode::parse(&h.destination)?,
                h.start_on,
                h.expected_on,
                lines,
            )?)
        })
        .collect()
}

pub(crate) fn transfers_from_rows(rows: Vec<OrderLineRow>) -> Result<Vec<Transfer>, StoreError> {
    group_lines(rows)?
        .into_iter()
        .map(|(h, lines)| {
            Ok(Transfer::new(
                OrderNumber::parse(&h.number)?,
                LocationCode::parse(&h.party)?,
                LocationCode::parse(&h.destination)?,
                h.start_on,
                h.expected_on,
                lines,
            )?)
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub day: NaiveDate,
    pub name: String,
    pub kind: String,
}

impl TryFrom<EventRow> for CalendarEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(CalendarEvent { day: r.day, name: r.name, kind: parse_text(&r.kind)? })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IngestRunRow {
    pub source: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub rows_read: i64,
    pub rows_written: i64,
    pub rows_rejected: i64,
    pub status: String,
}

impl TryFrom<IngestRunRow> for IngestRun {
    type Error = StoreError;
    fn try_from(r: IngestRunRow) -> Result<Self, StoreError> {
        let count = |v: i64| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("row count {v}")));
        Ok(IngestRun {
            source: r.source,
            started_at: r.started_at,
            finished_at: r.finished_at,
            rows_read: count(r.rows_read)?,
            rows_written: count(r.rows_written)?,
            rows_rejected: count(r.rows_rejected)?,
            status: IngestStatus::parse(&r.status)?,
        })
    }
}

/// Code → id of a tenant's locations, products and suppliers, and which locations are stores, used to
/// resolve the codes of incoming facts inside the writing transaction.
#[derive(Debug, Default)]
pub(crate) struct IdMaps {
    locations: HashMap<String, i64>,
    store_ids: HashSet<i64>,
    products: HashMap<String, i64>,
    suppliers: HashMap<String, i64>,
}

impl IdMaps {
    /// Builds the maps from `(code, id, kind)` location rows and `(code, id)` product and supplier rows.
    pub fn new(
        locations: Vec<(String, i64, String)>,
        products: Vec<(String, i64)>,
        suppliers: Vec<(String, i64)>,
    ) -> Self {
        let store_ids = locations.iter().filter(|(_, _, k)| k == "store").map(|(_, id, _)| *id).collect();
        Self {
            locations: locations.into_iter().map(|(code, id, _)| (code, id)).collect(),
            store_ids,
            products: products.into_iter().collect(),
            suppliers: suppliers.into_iter().collect(),
        }
    }

    pub fn location(&self, code: &LocationCode) -> Result<i64, StoreError> {
        self.locations
            .get(code.as_str())
            .copied()
            .ok_or_else(|| StoreError::UnknownReference { kind: "location", code: code.to_string() })
    }

    /// A location that must be a store (sales happen at stores).
    pub fn store(&self, code: &LocationCode) -> Result<i64, StoreError> {
        match self.locations.get(code.as_str()) {
            Some(id) if self.store_ids.contains(id) => Ok(*id),
            _ => Err(StoreError::UnknownReference { kind: "store", code: code.to_string() }),
        }
    }

    pub fn is_store(&self, id: i64) -> bool {
        self.store_ids.contains(&id)
    }

    pub fn product(&self, code: &ProductCode) -> Result<i64, StoreError> {
        self.products
            .get(code.as_str())
            .copied()
            .ok_or_else(|| StoreError::UnknownReference { kind: "product", code: code.to_string() })
    }

    pub fn supplier(&self, code: &SupplierCode) -> Result<i64, StoreError> {
        self.suppliers
            .get(code.as_str())
            .copied()
            .ok_or_else(|| StoreError::UnknownReference { kind: "supplier", code: code.to_string() })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ForecastRow {
    pub store: String,
    pub product: String,
    pub computed_at: DateTime<Utc>,
    pub body: String,
}

impl TryFrom<ForecastRow> for super::StoredForecast {
    type Error = StoreError;
    fn try_from(r: ForecastRow) -> Result<Self, StoreError> {
        Ok(super::StoredForecast {
            store: LocationCode::parse(&r.store)?,
            product: ProductCode::parse(&r.product)?,
            computed_at: r.computed_at,
            forecast: serde_json::from_str(&r.body).map_err(|e| StoreError::Corrupt(format!("forecast body: {e}")))?,
        })
    }
}

/// A trace as listed.
#[derive(sqlx::FromRow)]
pub(crate) struct TraceRow {
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub channel: String,
    pub status: String,
    pub duration_us: i64,
    pub question: String,
}

impl TryFrom<TraceRow> for fluxion_domain::TraceSummary {
    type Error = StoreError;
    fn try_from(r: TraceRow) -> Result<Self, StoreError> {
        Ok(fluxion_domain::TraceSummary {
            id: uuid::Uuid::parse_str(&r.id).map_err(|e| StoreError::Corrupt(format!("trace id: {e}")))?,
            channel: r.channel,
            question: r.question,
            started_at: r.started_at,
            duration_us: u64::try_from(r.duration_us).unwrap_or(0),
            status: fluxion_domain::SpanStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("trace status {:?}", r.status)))?,
        })
    }
}

/// A trace's JSON body.
pub(crate) fn trace_body(t: &fluxion_domain::Trace) -> Result<String, StoreError> {
    serde_json::to_string(t).map_err(|e| StoreError::Corrupt(format!("trace body: {e}")))
}

/// A trace from its JSON body.
pub(crate) fn trace_from_body(body: &str) -> Result<fluxion_domain::Trace, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("trace body: {e}")))
}

/// The JSON body of a stored forecast.
pub(crate) fn forecast_body(f: &super::StoredForecast) -> Result<String, StoreError> {
    serde_json::to_string(&f.forecast).map_err(|e| StoreError::Corrupt(format!("forecast body: {e}")))
}

/// A promotion with its store and product codes.
#[derive(sqlx::FromRow)]
pub(crate) struct PromotionRow {
    pub store: String,
    pub product: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub discount_pct: i64,
}

impl TryFrom<PromotionRow> for Promotion {
    type Error = StoreError;
    fn try_from(r: PromotionRow) -> Result<Self, StoreError> {
        let pct = u8::try_from(r.discount_pct).map_err(|_| {
            fluxion_domain::ParseError::new("promotion discount", r.discount_pct.to_string(), "out of range")
        })?;
        Ok(Promotion::new(
            LocationCode::parse(&r.store)?,
            ProductCode::parse(&r.product)?,
            r.first_day,
            r.last_day,
            pct,
        )?)
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts, alerts, recommendations and idempotent ingest: rows shared by both backends. Ids are
// read as text (PostgreSQL selects `id::text`), JSON bodies as text (`body::text`).

/// A timestamp as both backends store it: PostgreSQL keeps microseconds (and would round the
/// nanoseconds), so both truncate to microseconds before writing and a round trip compares equal.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// A stored UUID.
pub(crate) fn parse_uuid(what: &str, s: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("{what} id {s:?}: {e}")))
}

/// A stored SHA-256 digest.
pub(crate) fn digest(what: &str, bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| StoreError::Corrupt(format!("{what} is {} bytes, not 32", bytes.len())))
}

/// The serde name of a unit enum variant ("imminent_stockout", "critical").
pub(crate) fn serde_name<T: serde::Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Err(StoreError::Corrupt(format!("{what} serialises as {other}, not as a name"))),
        Err(e) => Err(StoreError::Corrupt(format!("{what}: {e}"))),
    }
}

/// A value as JSON text.
pub(crate) fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A value from JSON text.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Whether the database refused a write because a unique value is taken.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Whether the database refused a write because a referenced row does not exist.
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// Whether the database's message about a refused write names this column (PostgreSQL names the
/// constraint, `users_email_key`; SQLite the column, `users.email`).
pub(crate) fn violation_mentions(e: &sqlx::Error, column: &str) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.constraint().is_some_and(|c| c.contains(column)) || d.message().contains(&format!(".{column}"))
        }
        _ => false,
    }
}

/// The page size of a listing: 0 asks for the default (50), and no page is larger than 500.
pub(crate) fn page_limit(limit: u32) -> u32 {
    match limit {
        0 => 50,
        n => n.min(500),
    }
}

/// A page from up to `limit + 1` rows, newest first: the extra row only says that there is more.
pub(crate) fn page_of<T>(
    mut items: Vec<T>,
    limit: u32,
    position: impl Fn(&T) -> (DateTime<Utc>, uuid::Uuid),
) -> super::Page<T> {
    let limit = limit as usize;
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more { items.last().map(position) } else { None };
    super::Page { items, next }
}

/// A user.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: String,
    pub tenant_id: Option<String>,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for super::UserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(super::UserRecord {
            id: parse_uuid("user", &r.id)?,
            tenant: r.tenant_id.as_deref().map(|t| parse_uuid("tenant", t).map(TenantId::from_uuid)).transpose()?,
            role: super::Role::parse(&r.role).ok_or_else(|| StoreError::Corrupt(format!("role {:?}", r.role)))?,
            email: r.email,
            name: r.name,
            password_hash: r.password_hash,
            disabled: r.disabled,
            created_at: r.created_at,
        })
    }
}

/// An API key; `scopes` is a JSON array of scope names.
#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub prefix: String,
    pub secret_hash: Vec<u8>,
    pub scopes: String,
    pub rate_per_minute: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for super::ApiKeyRecord {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        let names: Vec<String> = from_json("API key scopes", &r.scopes)?;
        let scopes = names
            .iter()
            .map(|s| super::Scope::parse(s).ok_or_else(|| StoreError::Corrupt(format!("API key scope {s:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(super::ApiKeyRecord {
            id: parse_uuid("API key", &r.id)?,
            tenant: TenantId::from_uuid(parse_uuid("tenant", &r.tenant_id)?),
            name: r.name,
            prefix: r.prefix,
            secret_hash: digest("API key secret hash", r.secret_hash)?,
            scopes,
            rate_per_minute: r
                .rate_per_minute
                .map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("API key rate {n}"))))
                .transpose()?,
            created_by: r.created_by.as_deref().map(|u| parse_uuid("user", u)).transpose()?,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// The columns an alert is filtered by, taken from the alert itself.
pub(crate) struct AlertColumns {
    pub store: String,
    pub product: Option<String>,
    pub kind: String,
    pub severity: String,
    pub body: String,
}

impl AlertColumns {
    pub fn of(a: &Alert) -> Result<Self, StoreError> {
        Ok(AlertColumns {
            store: a.store.to_string(),
            product: a.product.as_ref().map(ToString::to_string),
            kind: serde_name("alert kind", &a.kind)?,
            severity: serde_name("alert severity", &a.severity)?,
            body: to_json("alert", a)?,
        })
    }
}

/// An alert with what people did with it.
#[derive(sqlx::FromRow)]
pub(crate) struct AlertRow {
    pub id: String,
    pub status: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub feedback_verdict: Option<String>,
    pub feedback_by: Option<String>,
    pub feedback_at: Option<DateTime<Utc>>,
    pub feedback_note: Option<String>,
}

impl TryFrom<AlertRow> for super::StoredAlert {
    type Error = StoreError;
    fn try_from(r: AlertRow) -> Result<Self, StoreError> {
        let feedback = match (r.feedback_verdict, r.feedback_by, r.feedback_at) {
            (Some(verdict), Some(by), Some(at)) => Some(super::Feedback {
                verdict: super::Verdict::parse(&verdict)
                    .ok_or_else(|| StoreError::Corrupt(format!("alert feedback verdict {verdict:?}")))?,
                by,
                at,
                note: r.feedback_note,
            }),
            _ => None,
        };
        Ok(super::StoredAlert {
            id: parse_uuid("alert", &r.id)?,
            alert: from_json("alert", &r.body)?,
            status: super::AlertStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("alert status {:?}", r.status)))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            acknowledged_by: r.acknowledged_by,
            acknowledged_at: r.acknowledged_at,
            feedback,
        })
    }
}

/// The columns a recommendation is filtered by, taken from the recommendation itself.
pub(crate) struct RecommendationColumns {
    pub key: String,
    pub kind: &'static str,
    pub store: String,
    pub product: String,
    pub body: String,
}

impl RecommendationColumns {
    pub fn of(r: &Recommendation) -> Result<Self, StoreError> {
        Ok(RecommendationColumns {
            key: super::recommendation_key(r),
            kind: match r.action {
                RecommendedAction::Order { .. } => "order",
                RecommendedAction::Transfer { .. } => "transfer",
            },
            store: r.store.to_string(),
            product: r.product.to_string(),
            body: to_json("recommendation", r)?,
        })
    }
}

/// A recommendation with its decision.
#[derive(sqlx::FromRow)]
pub(crate) struct RecommendationRow {
    pub id: String,
    pub dedup_key: String,
    pub status: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub executed_as: Option<String>,
}

impl TryFrom<RecommendationRow> for super::StoredRecommendation {
    type Error = StoreError;
    fn try_from(r: RecommendationRow) -> Result<Self, StoreError> {
        Ok(super::StoredRecommendation {
            id: parse_uuid("recommendation", &r.id)?,
            key: r.dedup_key,
            recommendation: from_json("recommendation", &r.body)?,
            status: super::RecommendationStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("recommendation status {:?}", r.status)))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            note: r.note,
            executed_as: r.executed_as,
        })
    }
}

/// What an idempotent ingest finds under its key: a replay of the first summary, or a conflict.
pub(crate) fn replay(stored_fingerprint: &str, summary: &str, fingerprint: &str) -> Result<super::Once, StoreError> {
    if stored_fingerprint == fingerprint {
        Ok(super::Once::Replayed(from_json("ingest request summary", summary)?))
    } else {
        Ok(super::Once::Conflict)
    }
}

/// Why a new user was refused: its email (or id) is taken, or its tenant does not exist.
pub(crate) fn user_insert_error(e: sqlx::Error, user: &super::UserRecord, email: &str) -> StoreError {
    if is_unique_violation(&e) {
        if violation_mentions(&e, "email") {
            StoreError::Conflict(format!("a user with email {email}"))
        } else {
            StoreError::Conflict(format!("user {}", user.id))
        }
    } else if is_foreign_key_violation(&e) {
        StoreError::UnknownReference { kind: "tenant", code: user.tenant.map(|t| t.to_string()).unwrap_or_default() }
    } else {
        e.into()
    }
}

/// Why a refresh token was refused: its id or digest is taken.
pub(crate) fn refresh_insert_error(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) { StoreError::Conflict("the refresh token".into()) } else { e.into() }
}

/// Why a new API key was refused, other than a missing reference: its prefix (or id) is taken.
pub(crate) fn api_key_insert_error(e: sqlx::Error, key: &super::ApiKeyRecord) -> StoreError {
    if is_unique_violation(&e) {
        if violation_mentions(&e, "prefix") {
            StoreError::Conflict(format!("an API key with prefix {}", key.prefix))
        } else {
            StoreError::Conflict(format!("API key {}", key.id))
        }
    } else {
        e.into()
    }
}

/// The reference a refused API key lacks: its tenant, else its creator.
pub(crate) fn api_key_missing_reference(key: &super::ApiKeyRecord, tenant_exists: bool) -> StoreError {
    if tenant_exists {
        StoreError::UnknownReference { kind: "user", code: key.created_by.map(|u| u.to_string()).unwrap_or_default() }
    } else {
        StoreError::UnknownReference { kind: "tenant", code: key.tenant.to_string() }
    }
}

/// The deduplication keys whose alerts stay live after a scan, as a JSON array: the scan's open
/// keys and the keys of the alerts it records (an alert just recorded is never resolved by the same call).
pub(crate) fn live_keys_json(alerts: &[Alert], open_keys: &[String]) -> Result<String, StoreError> {
    to_json("open alert keys", &live_keys(alerts, open_keys))
}

/// The deduplication keys whose alerts stay live after a scan (see [`live_keys_json`]).
pub(crate) fn live_keys(alerts: &[Alert], open_keys: &[String]) -> Vec<String> {
    let keys: std::collections::BTreeSet<&str> =
        open_keys.iter().map(String::as_str).chain(alerts.iter().map(|a| a.dedup_key.as_str())).collect();
    keys.into_iter().map(str::to_owned).collect()
}
