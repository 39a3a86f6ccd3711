//! The relational store: one API, two backends that pass the same conformance suite
//! (`memory/tests/store_conformance.rs`).
//!
//! Writing goes through [`TenantStore::apply`], which takes a [`ChangeSet`] and applies all of it in
//! one transaction or none of it: a crash or an error in the middle leaves nothing half-written.
//! Sales lines carry a [`LineKey`](fluxion_domain::LineKey) and are stored once per key and day, so
//! applying the same change set twice changes nothing. Catalog rows (locations, suppliers, products),
//! stock snapshots, lots, orders and events are upserts: the last write wins.
//!
//! **Architecture invariant:** a [`TenantStore`] can only read and write its own tenant's data.
//! SQLite enforces it with a file per tenant; PostgreSQL with a schema per tenant selected by a
//! transaction-local `search_path`, plus row-level security keyed on a transaction-local
//! `app.tenant_id` on the shared tables of the `control` schema.

pub mod accounts;
pub mod decisions;
pub mod messaging;
pub mod postgres;
pub mod sqlite;

mod rows;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use fluxion_domain::forecast::Forecast;
use fluxion_domain::{
    Alert, CalendarEvent, DailyDemand, Location, LocationCode, Lot, Product, ProductCode, Promotion, PurchaseOrder,
    Recommendation, SalesLine, SpanStatus, StockSnapshot, Supplier, Tenant, TenantId, TenantSlug, Trace, TraceSummary,
    Transfer,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

pub use accounts::{Accounts, ApiKeyRecord, RefreshRecord, Role, Rotation, Scope, UserRecord};
pub use decisions::{
    AlertQuery, AlertStatus, Decided, Decision, Feedback, Once, Page, RecommendationQuery, RecommendationStatus,
    StoredAlert, StoredRecommendation, Verdict, recommendation_key,
};
pub use messaging::{
    Contact, InboundMessage, Messaging, Offer, OutState, OutboundMessage, SendOutcome, StatusUpdate, normalize_phone,
};
pub use postgres::open_postgres;
pub use sqlite::open_sqlite;

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Embedded SQLite files.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// What can go wrong in the store. Callers match on the first four; the rest is reported.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The tenant slug is taken.
    #[error("tenant {0} already exists")]
    TenantExists(TenantSlug),
    /// No tenant with that slug.
    #[error("tenant {0} does not exist")]
    UnknownTenant(TenantSlug),
    /// A row refers to a location, product or supplier the tenant does not have. Nothing was written.
    #[error("unknown {kind} {code:?}")]
    UnknownReference {
        /// "store", "location", "product" or "supplier".
        kind: &'static str,
        /// The code that was not found.
        code: String,
    },
    /// A unique value (an email, a key prefix) is taken. Nothing was written.
    #[error("{0} already exists")]
    Conflict(String),
    /// A stored row no longer parses into a domain value (the database was edited by hand).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The database said no.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Opening the data folder failed.
    #[error("cannot use data folder {path}: {source}")]
    Io {
        /// The folder or file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl From<fluxion_domain::ParseError> for StoreError {
    fn from(e: fluxion_domain::ParseError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// A set of changes for one tenant, applied all-or-nothing by [`TenantStore::apply`].
///
/// Within one change set, catalog rows are written before the facts that refer to them, so a file
/// of products and its sales can travel together.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// Stores and warehouses (upsert by code).
    pub locations: Vec<Location>,
    /// Suppliers (upsert by code).
    pub suppliers: Vec<Supplier>,
    /// Products (upsert by code; barcodes replaced).
    pub products: Vec<Product>,
    /// Sales lines (stored once per key and day).
    pub sales: Vec<SalesLine>,
    /// Stock snapshots (upsert by location, product and day).
    pub stock: Vec<StockSnapshot>,
    /// Lots (upsert by location, product and lot code).
    pub lots: Vec<Lot>,
    /// Open purchase orders (upsert by number; lines replaced).
    pub purchase_orders: Vec<PurchaseOrder>,
    /// Transfers in transit (upsert by number; lines replaced).
    pub transfers: Vec<Transfer>,
    /// Calendar events (upsert by day and name).
    pub events: Vec<CalendarEvent>,
    /// Promotions (upsert by store, product and first day).
    pub promotions: Vec<Promotion>,
}

impl ChangeSet {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.rows() == 0
    }

    /// The number of rows of every kind together.
    pub fn rows(&self) -> usize {
        self.locations.len()
            + self.suppliers.len()
            + self.products.len()
            + self.sales.len()
            + self.stock.len()
            + self.lots.len()
            + self.purchase_orders.len()
            + self.transfers.len()
            + self.events.len()
            + self.promotions.len()
    }
}

/// What [`TenantStore::apply`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    /// Sales lines stored for the first time.
    pub sales_new: u64,
    /// Sales lines already stored (same key and day), left as they were.
    pub sales_duplicate: u64,
    /// Catalog, stock, lot, order, event and promotion rows upserted.
    pub upserted: u64,
}

impl ChangeSummary {
    /// Adds another summary to this one.
    pub fn add(&mut self, other: ChangeSummary) {
        self.sales_new += other.sales_new;
        self.sales_duplicate += other.sales_duplicate;
        self.upserted += other.upserted;
    }
}

/// Row counts of a tenant's tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    /// Stores and warehouses.
    pub locations: u64,
    /// Suppliers.
    pub suppliers: u64,
    /// Products.
    pub products: u64,
    /// Product barcodes.
    pub barcodes: u64,
    /// Sales lines.
    pub sales: u64,
    /// Daily demand rows (store × product × day with sales or a stockout).
    pub daily_demand: u64,
    /// Daily demand rows marked out of stock.
    pub out_of_stock_days: u64,
    /// Stock snapshots.
    pub stock_snapshots: u64,
    /// Lots.
    pub lots: u64,
    /// Open purchase orders.
    pub purchase_orders: u64,
    /// Transfers in transit.
    pub transfers: u64,
    /// Calendar events.
    pub events: u64,
}

/// Which daily demand to read; `None` filters mean "all".
#[derive(Debug, Clone, Default)]
pub struct DemandQuery {
    /// Only this store.
    pub store: Option<LocationCode>,
    /// Only this product.
    pub product: Option<ProductCode>,
    /// From this day on (inclusive).
    pub from: Option<NaiveDate>,
    /// Up to this day (inclusive).
    pub to: Option<NaiveDate>,
}

/// How an ingest run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestStatus {
    /// Every row was written.
    Complete,
    /// Good rows were written, bad rows were reported and skipped.
    Partial,
    /// Nothing was written.
    Failed,
}

impl IngestStatus {
    /// The stable name used in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            IngestStatus::Complete => "complete",
            IngestStatus::Partial => "partial",
            IngestStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "complete" => Ok(IngestStatus::Complete),
            "partial" => Ok(IngestStatus::Partial),
            "failed" => Ok(IngestStatus::Failed),
            other => Err(StoreError::Corrupt(format!("ingest status {other:?}"))),
        }
    }
}

/// A record of one import or sync: what source, when, how many rows, how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestRun {
    /// Where the data came from ("csv:sales.csv", "demo", "odoo").
    pub source: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Rows read from the source.
    pub rows_read: u64,
    /// Rows written (new or updated).
    pub rows_written: u64,
    /// Rows refused.
    pub rows_rejected: u64,
    /// How it ended.
    pub status: IngestStatus,
}

/// The deployment-wide store: tenants, and a [`TenantStore`] for each.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Checks that the backend answers (for `/readyz`).
    async fn health(&self) -> Result<(), StoreError>;

    /// Creates a tenant with its own storage (file or schema), migrated and ready.
    async fn create_tenant(&self, slug: &TenantSlug, name: &str) -> Result<Tenant, StoreError>;

    /// Deletes a tenant and all of its data. Errors with [`StoreError::UnknownTenant`] if it does not exist.
    async fn delete_tenant(&self, slug: &TenantSlug) -> Result<(), StoreError>;

    /// Every tenant, by slug.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// The tenant with this slug, if any.
    async fn tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError>;

    /// The store scoped to one tenant. Errors with [`StoreError::UnknownTenant`] if it does not exist.
    async fn scope(&self, slug: &TenantSlug) -> Result<Arc<dyn TenantStore>, StoreError>;

    /// The tenant with this id, if any.
    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError>;

    /// Users, refresh tokens and API keys of the deployment.
    fn accounts(&self) -> &dyn Accounts;

    /// WhatsApp contacts, inbox and outbox of the deployment.
    fn messaging(&self) -> &dyn Messaging;
}

/// One tenant's data. Every method reads or writes that tenant only.
#[async_trait]
pub trait TenantStore: Send + Sync + fmt::Debug {
    /// The tenant this store is scoped to.
    fn tenant(&self) -> &Tenant;

    /// Applies a change set in one transaction: all of it or, on any error, none of it.
    async fn apply(&self, changes: &ChangeSet) -> Result<ChangeSummary, StoreError>;

    /// Stores and warehouses, by code.
    async fn locations(&self) -> Result<Vec<Location>, StoreError>;

    /// Suppliers, by code.
    async fn suppliers(&self) -> Result<Vec<Supplier>, StoreError>;

    /// Products, by code.
    async fn products(&self) -> Result<Vec<Product>, StoreError>;

    /// Sales lines of one store and product between two days (inclusive), by time.
    async fn sales_lines(
        &self,
        store: &LocationCode,
        product: &ProductCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SalesLine>, StoreError>;

    /// Daily demand rows matching the query, by store, product and day. Days without a row had
    /// no sales and no recorded stockout.
    async fn daily_demand(&self, query: &DemandQuery) -> Result<Vec<DailyDemand>, StoreError>;

    /// The latest snapshot of every location × product (of one location and/or one product when
    /// given), by location and product.
    async fn current_stock(
        &self,
        location: Option<&LocationCode>,
        product: Option<&ProductCode>,
    ) -> Result<Vec<StockSnapshot>, StoreError>;

    /// Lots with quantity left, by expiry.
    async fn lots(&self) -> Result<Vec<Lot>, StoreError>;

    /// Open purchase orders, by expected day.
    async fn purchase_orders(&self) -> Result<Vec<PurchaseOrder>, StoreError>;

    /// Transfers in transit, by expected day.
    async fn transfers(&self) -> Result<Vec<Transfer>, StoreError>;

    /// Calendar events between two days (inclusive).
    async fn events(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CalendarEvent>, StoreError>;

    /// Every promotion, by store, product and first day.
    async fn promotions(&self) -> Result<Vec<Promotion>, StoreError>;

    /// Row counts of every table.
    async fn counts(&self) -> Result<TableCounts, StoreError>;

    /// Stores forecasts, replacing each store × product's previous one, all in one transaction.
    /// Refers to stores and products by code: an unknown one fails the whole call and writes nothing.
    async fn save_forecasts(&self, forecasts: &[StoredForecast]) -> Result<u64, StoreError>;

    /// The latest forecasts, optionally of one store and/or one product, by store and product.
    async fn forecasts(
        &self,
        store: Option<&LocationCode>,
        product: Option<&ProductCode>,
    ) -> Result<Vec<StoredForecast>, StoreError>;

    /// Records an import or sync run.
    async fn record_ingest(&self, run: &IngestRun) -> Result<(), StoreError>;

    /// Refreshes the query planner's statistics of the tenant's tables (after a bulk load: until
    /// then the planner guesses, and a read that should walk an index may sort a whole table).
    async fn refresh_statistics(&self) -> Result<(), StoreError>;

    /// Recent ingest runs, newest first.
    async fn ingest_runs(&self, limit: u32) -> Result<Vec<IngestRun>, StoreError>;

    /// Stores a request's trace (a trace with the same id is replaced).
    async fn save_trace(&self, trace: &Trace) -> Result<(), StoreError>;

    /// Traces matching the query, newest first.
    async fn traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError>;

    /// One trace with its spans.
    async fn trace(&self, id: Uuid) -> Result<Option<Trace>, StoreError>;

    /// Applies a change set once per idempotency key, in one transaction with the key's record:
    /// the first call with a key applies and stores `fingerprint` and the summary; a later call
    /// with the same key and fingerprint replays the summary, with another fingerprint conflicts.
    /// Concurrent calls with one key: exactly one applies.
    async fn apply_once(&self, key: &str, fingerprint: &str, changes: &ChangeSet) -> Result<Once, StoreError>;

    /// Records a scan's alerts: an alert whose deduplication key is open or acknowledged updates
    /// that row (same id, status kept); a new key (or one only resolved before) gets a new open row.
    /// Then every open or acknowledged alert whose key is neither in `open_keys` nor among `alerts`
    /// becomes resolved. All in one transaction. Returns the stored versions of `alerts`, in order.
    async fn record_alerts(
        &self,
        alerts: &[Alert],
        open_keys: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<StoredAlert>, StoreError>;

    /// Alerts matching the query, newest first.
    async fn alerts(&self, query: &AlertQuery) -> Result<Page<StoredAlert>, StoreError>;

    /// One alert.
    async fn alert(&self, id: Uuid) -> Result<Option<StoredAlert>, StoreError>;

    /// Acknowledges an open alert (an acknowledged or resolved one is left as it is, and returned).
    /// None when there is no such alert.
    async fn acknowledge_alert(&self, id: Uuid, by: &str, at: DateTime<Utc>)
    -> Result<Option<StoredAlert>, StoreError>;

    /// Records feedback on an alert (replacing earlier feedback). None when there is no such alert.
    async fn alert_feedback(&self, id: Uuid, feedback: &Feedback) -> Result<Option<StoredAlert>, StoreError>;

    /// Records an optimisation's recommendations: a pending one with the same key is updated in
    /// place (same id), others are inserted pending, and pending ones whose key is not among them
    /// become superseded. One transaction. Returns the stored versions, in order.
    async fn record_recommendations(
        &self,
        recommendations: &[Recommendation],
        at: DateTime<Utc>,
    ) -> Result<Vec<StoredRecommendation>, StoreError>;

    /// Keeps one recommendation (an answer's suggestion put to a user): a pending one with the same
    /// key is updated in place (same id), else it is inserted pending. Nothing else changes.
    async fn keep_recommendation(
        &self,
        recommendation: &Recommendation,
        at: DateTime<Utc>,
    ) -> Result<StoredRecommendation, StoreError>;

    /// Recommendations matching the query, newest first.
    async fn recommendations(&self, query: &RecommendationQuery) -> Result<Page<StoredRecommendation>, StoreError>;

    /// One recommendation.
    async fn recommendation(&self, id: Uuid) -> Result<Option<StoredRecommendation>, StoreError>;

    /// Decides a pending recommendation, exactly once: in one transaction the status moves from
    /// pending and, on approval, `effect` (the purchase order or transfer) is applied. A second
    /// decision, concurrent or later, finds it decided and applies nothing.
    async fn decide_recommendation(
        &self,
        id: Uuid,
        decision: &Decision,
        effect: &ChangeSet,
    ) -> Result<Decided, StoreError>;
}

/// Which traces to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceQuery {
    /// At most this many.
    pub limit: u32,
    /// Only from this channel.
    pub channel: Option<String>,
    /// Only with this status.
    pub status: Option<SpanStatus>,
    /// Only those that took at least this long, microseconds.
    pub min_duration_us: Option<u64>,
}

impl Default for TraceQuery {
    fn default() -> Self {
        Self { limit: 50, channel: None, status: None, min_duration_us: None }
    }
}

/// A forecast as stored: which store and product, when it was computed, and the forecast itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredForecast {
    /// The store.
    pub store: LocationCode,
    /// The product.
    pub product: ProductCode,
    /// When the Forecast agent computed it.
    pub computed_at: DateTime<Utc>,
    /// The forecast.
    pub forecast: Forecast,
}

/// Builds [`TableCounts`] from the twelve counts both backends select, in field order.
#[allow(clippy::type_complexity)]
pub(crate) fn counts_from_tuple(c: (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)) -> TableCounts {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    TableCounts {
        locations: n(c.0),
        suppliers: n(c.1),
        products: n(c.2),
        barcodes: n(c.3),
        sales: n(c.4),
        daily_demand: n(c.5),
        out_of_stock_days: n(c.6),
        stock_snapshots: n(c.7),
        lots: n(c.8),
        purchase_orders: n(c.9),
        transfers: n(c.10),
        events: n(c.11),
    }
}
