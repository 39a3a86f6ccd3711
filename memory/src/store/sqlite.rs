//! The embedded backend: a control file listing tenants and accounts, and one SQLite file per tenant.
//!
//! Layout of the data folder: `control.db` (tenants, users, refresh tokens, API keys) and
//! `tenants/<slug>.db`. Files run in WAL mode with foreign keys on (deleting a tenant cascades to its
//! accounts). Writes open `BEGIN IMMEDIATE` transactions so that two writers queue on the file lock
//! instead of failing on a lock upgrade; that lock, taken before anything is read, is also what makes
//! a refresh-token rotation, an idempotent ingest and a recommendation's decision happen once.

use super::rows::{
    AlertColumns, AlertRow, ApiKeyRow, DemandIdRow, EventRow, ForecastRow, IdMaps, IngestRunRow, LocationRow, LotRow,
    OrderLineRow, OrderRows, ProductRow, PromotionRow, RecommendationColumns, RecommendationRow, SalesRow, StockRow,
    SupplierRow, UserRow, demand_from_id_rows, forecast_body, products_from_rows, purchase_orders_from_rows,
    transfers_from_rows,
};
use super::{
    Accounts, AlertQuery, ApiKeyRecord, Backend, ChangeSet, ChangeSummary, Decided, Decision, DemandQuery, Feedback,
    IngestRun, Once, Page, RecommendationQuery, RefreshRecord, Rotation, Store, StoreError, StoredAlert,
    StoredForecast, StoredRecommendation, TableCounts, TenantStore, TraceQuery, UserRecord, rows,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use fluxion_domain::{
    Alert, CalendarEvent, DailyDemand, Location, LocationCode, Lot, Product, ProductCode, Promotion, PurchaseOrder,
    Recommendation, SalesLine, StockSnapshot, Supplier, Tenant, TenantId, TenantSlug, Trace, TraceSummary, Transfer,
};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, Transaction};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

mod messaging;

static CONTROL_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite/control");
static TENANT_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite/tenant");

/// Rows per multi-row `INSERT` (10 parameters each stays below SQLite's 32,766 limit).
const ROWS_PER_STATEMENT: usize = 3_000;

/// Rows per multi-row `INSERT` of four-column rows.
const NARROW_ROWS_PER_STATEMENT: usize = 8_000;

/// Opens (creating if needed) the embedded store in `data_dir`.
pub async fn open_sqlite(data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    let tenants_dir = data_dir.join("tenants");
    std::fs::create_dir_all(&tenants_dir)
        .map_err(|source| StoreError::Io { path: tenants_dir.display().to_string(), source })?;
    let control = open_file(&data_dir.join("control.db")).await?;
    CONTROL_MIGRATOR.run(&control).await?;
    Ok(Arc::new(SqliteStore { control, tenants_dir, open: Mutex::new(HashMap::new()) }))
}

async fn open_file(path: &Path) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
        // A 64 MiB page cache and memory-mapped reads: without them a large ingest spends its time in
        // read(2) calls for B-tree pages that the default 2 MiB cache keeps evicting.
        .pragma("cache_size", "-65536")
        .pragma("mmap_size", "268435456")
        .pragma("temp_store", "memory");
    Ok(SqlitePoolOptions::new().max_connections(4).connect_with(options).await?)
}

/// The embedded store.
#[derive(Debug)]
pub struct SqliteStore {
    control: SqlitePool,
    tenants_dir: PathBuf,
    /// Open tenant pools by slug, so each file is opened and migrated once per process.
    open: Mutex<HashMap<TenantSlug, Arc<SqliteTenant>>>,
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    slug: String,
    name: String,
    created_at: chrono::DateTime<Utc>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self, StoreError> {
        let id = uuid::Uuid::parse_str(&r.id).map_err(|e| StoreError::Corrupt(format!("tenant id {}: {e}", r.id)))?;
        Ok(Tenant {
            id: TenantId::from_uuid(id),
            slug: TenantSlug::parse(&r.slug)?,
            name: r.name,
            created_at: r.created_at,
        })
    }
}

impl SqliteStore {
    fn tenant_file(&self, slug: &TenantSlug) -> PathBuf {
        self.tenants_dir.join(format!("{slug}.db"))
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn health(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.control).await?;
        Ok(())
    }

    async fn create_tenant(&self, slug: &TenantSlug, name: &str) -> Result<Tenant, StoreError> {
        if self.tenant(slug).await?.is_some() {
            return Err(StoreError::TenantExists(slug.clone()));
        }
        // The file is created and migrated before the tenant is listed, so a listed tenant always has its data file.
        let pool = open_file(&self.tenant_file(slug)).await?;
        TENANT_MIGRATOR.run(&pool).await?;
        pool.close().await;
        let tenant = Tenant {
            id: TenantId::new_random(),
            slug: slug.clone(),
            name: name.trim().to_owned(),
            created_at: Utc::now().trunc_subsecs(6),
        };
        let inserted = sqlx::query(
            "INSERT INTO tenants (id, slug, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(tenant.id.to_string())
        .bind(tenant.slug.as_str())
        .bind(&tenant.name)
        .bind(tenant.created_at)
        .execute(&self.control)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::TenantExists(slug.clone()));
        }
        Ok(tenant)
    }

    async fn delete_tenant(&self, slug: &TenantSlug) -> Result<(), StoreError> {
        let deleted =
            sqlx::query("DELETE FROM tenants WHERE slug = ?").bind(slug.as_str()).execute(&self.control).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::UnknownTenant(slug.clone()));
        }
        let open = self.open.lock().map_err(|_| poisoned())?.remove(slug);
        if let Some(open) = open {
            open.pool.close().await;
        }
        let file = self.tenant_file(slug);
        for suffix in ["", "-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{suffix}", file.display()));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Io { path: path.display().to_string(), source }),
            }
        }
        Ok(())
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> = sqlx::query_as("SELECT id, slug, name, created_at FROM tenants ORDER BY slug")
            .fetch_all(&self.control)
            .await?;
        rows.into_iter().map(Tenant::try_from).collect()
    }

    async fn tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        let row: Option<TenantRow> = sqlx::query_as("SELECT id, slug, name, created_at FROM tenants WHERE slug = ?")
            .bind(slug.as_str())
            .fetch_optional(&self.control)
            .await?;
        row.map(Tenant::try_from).transpose()
    }

    async fn scope(&self, slug: &TenantSlug) -> Result<Arc<dyn TenantStore>, StoreError> {
        if let Some(open) = self.open.lock().map_err(|_| poisoned())?.get(slug) {
            return Ok(open.clone());
        }
        let tenant = self.tenant(slug).await?.ok_or_else(|| StoreError::UnknownTenant(slug.clone()))?;
        let pool = open_file(&self.tenant_file(slug)).await?;
        TENANT_MIGRATOR.run(&pool).await?;
        let scoped = Arc::new(SqliteTenant { tenant, pool });
        let mut open = self.open.lock().map_err(|_| poisoned())?;
        // Another task may have opened it meanwhile: keep the first so there is one pool per file.
        Ok(open.entry(slug.clone()).or_insert(scoped).clone())
    }

    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        let row: Option<TenantRow> = sqlx::query_as("SELECT id, slug, name, created_at FROM tenants WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.control)
            .await?;
        row.map(Tenant::try_from).transpose()
    }

    fn accounts(&self) -> &dyn Accounts {
        self
    }

    fn messaging(&self) -> &dyn super::Messaging {
        self
    }
}

fn poisoned() -> StoreError {
    StoreError::Corrupt("tenant pool registry lock poisoned".into())
}

/// A timestamp as the accounts and decisions tables store it: RFC 3339 in UTC with exactly six
/// fractional digits, so that text order is time order (listings compare and sort it as text).
fn ts(t: DateTime<Utc>) -> String {
    rows::micros(t).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

macro_rules! user_columns {
    () => {
        "id, tenant_id, email, name, role, password_hash, disabled, created_at"
    };
}

macro_rules! api_key_columns {
    () => {
        "id, tenant_id, name, prefix, secret_hash, scopes, rate_per_minute, created_by, created_at, revoked_at"
    };
}

/// A presented refresh token with what decides its fate.
#[derive(sqlx::FromRow)]
struct PresentedToken {
    family: String,
    user_id: String,
    expires_at: DateTime<Utc>,
    /// Rotated or revoked already.
    spent: bool,
    /// Its user is disabled.
    disabled: bool,
}

/// Every write to the accounts tables runs in a `BEGIN IMMEDIATE` transaction on the control file,
/// so a presentation of a refresh token and anything else touching tokens are serialised.
#[async_trait]
impl Accounts for SqliteStore {
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let email = user.email.to_lowercase();
        sqlx::query(
            "INSERT INTO users (id, tenant_id, email, name, role, password_hash, disabled, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(user.id.to_string())
        .bind(user.tenant.map(|t| t.to_string()))
        .bind(&email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.disabled)
        .bind(ts(user.created_at))
        .execute(&self.control)
        .await
        .map_err(|e| rows::user_insert_error(e, user, &email))?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE email = ?"))
            .bind(email.to_lowercase())
            .fetch_optional(&self.control)
            .await?;
        row.map(UserRecord::try_from).transpose()
    }

    async fn user(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.control)
            .await?;
        row.map(UserRecord::try_from).transpose()
    }

    async fn users(&self, tenant: Option<TenantId>) -> Result<Vec<UserRecord>, StoreError> {
        let rows: Vec<UserRow> =
            sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE tenant_id IS ? ORDER BY email"))
                .bind(tenant.map(|t| t.to_string()))
                .fetch_all(&self.control)
                .await?;
        rows.into_iter().map(UserRecord::try_from).collect()
    }

    async fn set_user_disabled(&self, tenant: TenantId, id: Uuid, disabled: bool) -> Result<bool, StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let changed = sqlx::query("UPDATE users SET disabled = ? WHERE id = ? AND tenant_id = ?")
            .bind(disabled)
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Ok(false);
        }
        if disabled {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
                .bind(ts(Utc::now()))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn insert_refresh(&self, token: &RefreshRecord) -> Result<(), StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let disabled: Option<bool> = sqlx::query_scalar("SELECT disabled FROM users WHERE id = ?")
            .bind(token.user.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(disabled) = disabled else {
            return Err(StoreError::UnknownReference { kind: "user", code: token.user.to_string() });
        };
        // A login that raced the user's disabling gets a family that is revoked from the start.
        sqlx::query(
            "INSERT INTO refresh_tokens (id, family, user_id, token_hash, issued_at, expires_at, revoked_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token.id.to_string())
        .bind(token.family.to_string())
        .bind(token.user.to_string())
        .bind(token.token_hash.as_slice())
        .bind(ts(token.issued_at))
        .bind(ts(token.expires_at))
        .bind(disabled.then(|| ts(Utc::now())))
        .execute(&mut *tx)
        .await
        .map_err(rows::refresh_insert_error)?;
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_refresh(
        &self,
        token_hash: &[u8; 32],
        next: &RefreshRecord,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        // BEGIN IMMEDIATE takes the file's write lock before reading: a concurrent presentation of
        // the same token waits here and then finds it rotated.
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let presented: Option<PresentedToken> = sqlx::query_as(
            "SELECT t.family, t.user_id, t.expires_at,
                    (t.rotated_at IS NOT NULL OR t.revoked_at IS NOT NULL) AS spent, u.disabled
             FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        )
        .bind(token_hash.as_slice())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(token) = presented else { return Ok(Rotation::Unknown) };
        let user = rows::parse_uuid("user", &token.user_id)?;
        if token.spent || token.disabled {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL")
                .bind(ts(now))
                .bind(&token.family)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Rotation::Reused { user });
        }
        if token.expires_at <= now {
            return Ok(Rotation::Expired);
        }
        sqlx::query("UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ?")
            .bind(ts(now))
            .bind(token_hash.as_slice())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (id, family, user_id, token_hash, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(next.id.to_string())
        .bind(&token.family)
        .bind(&token.user_id)
        .bind(next.token_hash.as_slice())
        .bind(ts(next.issued_at))
        .bind(ts(next.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(rows::refresh_insert_error)?;
        tx.commit().await?;
        Ok(Rotation::Rotated { user })
    }

    async fn session_user(&self, token_hash: &[u8; 32], now: DateTime<Utc>) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE NOT disabled AND id = (SELECT user_id FROM refresh_tokens WHERE token_hash = ?
               AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > ?)"
        ))
        .bind(token_hash.as_slice())
        .bind(ts(now))
        .fetch_optional(&self.control)
        .await?;
        row.map(UserRecord::try_from).transpose()
    }

    async fn revoke_refresh_family(&self, token_hash: &[u8; 32], now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let family: Option<String> = sqlx::query_scalar("SELECT family FROM refresh_tokens WHERE token_hash = ?")
            .bind(token_hash.as_slice())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(family) = family else { return Ok(false) };
        sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL")
            .bind(ts(now))
            .bind(&family)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scopes, rate_per_minute, created_by,
               created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.id.to_string())
        .bind(key.tenant.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(key.secret_hash.as_slice())
        .bind(rows::to_json("API key scopes", &key.scopes)?)
        .bind(key.rate_per_minute.map(i64::from))
        .bind(key.created_by.map(|u| u.to_string()))
        .bind(ts(key.created_at))
        .bind(key.revoked_at.map(ts))
        .execute(&self.control)
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if rows::is_foreign_key_violation(&e) => {
                Err(rows::api_key_missing_reference(key, self.tenant_by_id(key.tenant).await?.is_some()))
            }
            Err(e) => Err(rows::api_key_insert_error(e, key)),
        }
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row: Option<ApiKeyRow> =
            sqlx::query_as(concat!("SELECT ", api_key_columns!(), " FROM api_keys WHERE prefix = ?"))
                .bind(prefix)
                .fetch_optional(&self.control)
                .await?;
        row.map(ApiKeyRecord::try_from).transpose()
    }

    async fn api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC, id DESC"
        ))
        .bind(tenant.to_string())
        .fetch_all(&self.control)
        .await?;
        rows.into_iter().map(ApiKeyRecord::try_from).collect()
    }

    async fn revoke_api_key(&self, tenant: TenantId, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let revoked =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL")
                .bind(ts(now))
                .bind(id.to_string())
                .bind(tenant.to_string())
                .execute(&self.control)
                .await?;
        Ok(revoked.rows_affected() > 0)
    }
}

/// One tenant's file.
#[derive(Debug)]
pub struct SqliteTenant {
    tenant: Tenant,
    pool: SqlitePool,
}

async fn id_maps(tx: &mut Transaction<'static, Sqlite>) -> Result<IdMaps, StoreError> {
    let locations: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT code, id, kind FROM locations").fetch_all(&mut **tx).await?;
    let products: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM products").fetch_all(&mut **tx).await?;
    let suppliers: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM suppliers").fetch_all(&mut **tx).await?;
    Ok(IdMaps::new(locations, products, suppliers))
}

async fn write_catalog(tx: &mut Transaction<'static, Sqlite>, changes: &ChangeSet) -> Result<u64, StoreError> {
    let mut n = 0;
    for l in &changes.locations {
        sqlx::query(
            "INSERT INTO locations (code, name, city, kind) VALUES (?, ?, ?, ?)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, city = excluded.city, kind = excluded.kind",
        )
        .bind(l.code.as_str())
        .bind(&l.name)
        .bind(&l.city)
        .bind(l.kind.as_str())
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    for s in &changes.suppliers {
        sqlx::query(
            "INSERT INTO suppliers (code, name, lead_time_mean, lead_time_sd, moq, order_days) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, lead_time_mean = excluded.lead_time_mean,
               lead_time_sd = excluded.lead_time_sd, moq = excluded.moq, order_days = excluded.order_days",
        )
        .bind(s.code.as_str())
        .bind(&s.name)
        .bind(s.lead_time.mean_days())
        .bind(s.lead_time.sd_days())
        .bind(s.moq.get())
        .bind(i64::from(s.order_days.mask()))
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    if !changes.products.is_empty() {
        let maps = id_maps(tx).await?;
        for p in &changes.products {
            let supplier = p.supplier().map(|s| maps.supplier(s)).transpose()?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO products (code, name, brand, category, unit, pack_size, shelf_life_days,
                   cost_usd_cents, price_usd_cents, supplier_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, brand = excluded.brand,
                   category = excluded.category, unit = excluded.unit, pack_size = excluded.pack_size,
                   shelf_life_days = excluded.shelf_life_days, cost_usd_cents = excluded.cost_usd_cents,
                   price_usd_cents = excluded.price_usd_cents, supplier_id = excluded.supplier_id
                 RETURNING id",
            )
            .bind(p.code().as_str())
            .bind(p.name())
            .bind(p.brand())
            .bind(p.category())
            .bind(p.unit().as_str())
            .bind(i64::from(p.pack_size()))
            .bind(p.shelf_life_days().map(i64::from))
            .bind(p.cost().minor())
            .bind(p.price().minor())
            .bind(supplier)
            .fetch_one(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM product_barcodes WHERE product_id = ?").bind(id).execute(&mut **tx).await?;
            for b in p.barcodes() {
                sqlx::query("INSERT INTO product_barcodes (product_id, barcode) VALUES (?, ?)")
                    .bind(id)
                    .bind(b.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Inserts the sales lines that are new and returns how many were. The `sales_feed_daily_demand`
/// trigger adds each new line to the daily aggregate; lines already stored are ignored and add nothing.
async fn write_sales(
    tx: &mut Transaction<'static, Sqlite>,
    maps: &IdMaps,
    sales: &[SalesLine],
) -> Result<u64, StoreError> {
    let mut new = 0;
    for chunk in sales.chunks(ROWS_PER_STATEMENT) {
        let mut resolved = Vec::with_capacity(chunk.len());
        for s in chunk {
            resolved.push((maps.store(&s.store)?, maps.product(&s.product)?, s));
        }
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO sales (day, line_key, store_id, product_id, sold_at, quantity, amount_minor, currency,
               rate_micros, amount_usd_cents) ",
        );
        qb.push_values(&resolved, |mut b, (store, product, s)| {
            b.push_bind(s.sold_at.date())
                .push_bind(s.key.as_str())
                .push_bind(*store)
                .push_bind(*product)
                .push_bind(s.sold_at)
                .push_bind(s.quantity.get())
                .push_bind(s.amount.minor())
                .push_bind(s.amount.currency().as_str())
                .push_bind(s.rate.micros())
                .push_bind(s.amount_usd().minor());
        });
        qb.push(" ON CONFLICT (day, line_key) DO NOTHING");
        // rows_affected counts the lines inserted by the statement itself, not the trigger's writes.
        new += qb.build().execute(&mut **tx).await?.rows_affected();
    }
    Ok(new)
}

/// The statements that write one kind of order (purchase orders, transfers): header upsert returning
/// its id, deletion of its lines, insertion of one line.
struct OrderSql {
    header: &'static str,
    delete_lines: &'static str,
    line: &'static str,
}

const PURCHASE_ORDER_SQL: OrderSql = OrderSql {
    header: "INSERT INTO purchase_orders (number, supplier_id, destination_id, ordered_on, expected_on)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (number) DO UPDATE SET supplier_id = excluded.supplier_id, destination_id = excluded.destination_id,
               ordered_on = excluded.ordered_on, expected_on = excluded.expected_on
             RETURNING id",
    delete_lines: "DELETE FROM purchase_order_lines WHERE order_id = ?",
    line: "INSERT INTO purchase_order_lines (order_id, product_id, quantity) VALUES (?, ?, ?)
           ON CONFLICT (order_id, product_id) DO UPDATE SET quantity = purchase_order_lines.quantity + excluded.quantity",
};

const TRANSFER_SQL: OrderSql = OrderSql {
    header: "INSERT INTO transfers (number, from_id, to_id, shipped_on, expected_on) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (number) DO UPDATE SET from_id = excluded.from_id, to_id = excluded.to_id,
               shipped_on = excluded.shipped_on, expected_on = excluded.expected_on
             RETURNING id",
    delete_lines: "DELETE FROM transfer_lines WHERE transfer_id = ?",
    line: "INSERT INTO transfer_lines (transfer_id, product_id, quantity) VALUES (?, ?, ?)
           ON CONFLICT (transfer_id, product_id) DO UPDATE SET quantity = transfer_lines.quantity + excluded.quantity",
};

/// Upserts order headers and replaces their lines (a product twice on one order adds up).
async fn write_orders(
    tx: &mut Transaction<'static, Sqlite>,
    maps: &IdMaps,
    sql: &OrderSql,
    orders: &[OrderRows<'_>],
) -> Result<u64, StoreError> {
    for o in orders {
        let id: i64 = sqlx::query_scalar(sql.header)
            .bind(o.number)
            .bind(o.party)
            .bind(o.destination)
            .bind(o.start)
            .bind(o.expected)
            .fetch_one(&mut **tx)
            .await?;
        sqlx::query(sql.delete_lines).bind(id).execute(&mut **tx).await?;
        for line in o.lines {
            sqlx::query(sql.line)
                .bind(id)
                .bind(maps.product(&line.product)?)
                .bind(line.quantity.get())
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(orders.len() as u64)
}

async fn write_facts(
    tx: &mut Transaction<'static, Sqlite>,
    maps: &IdMaps,
    changes: &ChangeSet,
) -> Result<u64, StoreError> {
    let mut n = 0;
    for chunk in changes.stock.chunks(NARROW_ROWS_PER_STATEMENT) {
        let mut resolved = Vec::with_capacity(chunk.len());
        for s in chunk {
            resolved.push((maps.location(&s.location)?, maps.product(&s.product)?, s.day, s.on_hand.get()));
        }
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO stock_snapshots (location_id, product_id, day, on_hand) ");
        qb.push_values(&resolved, |mut b, (l, p, d, q)| {
            b.push_bind(*l).push_bind(*p).push_bind(*d).push_bind(*q);
        });
        qb.push(" ON CONFLICT (location_id, product_id, day) DO UPDATE SET on_hand = excluded.on_hand");
        // The stock_snapshot_* triggers mark and clear stockout days in daily_demand.
        qb.build().execute(&mut **tx).await?;
        n += chunk.len() as u64;
    }
    for lot in &changes.lots {
        sqlx::query(
            "INSERT INTO lots (location_id, product_id, code, quantity, received_on, expires_on) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (location_id, product_id, code) DO UPDATE SET quantity = excluded.quantity,
               received_on = excluded.received_on, expires_on = excluded.expires_on",
        )
        .bind(maps.location(&lot.location)?)
        .bind(maps.product(&lot.product)?)
        .bind(lot.code.as_str())
        .bind(lot.quantity.get())
        .bind(lot.received_on)
        .bind(lot.expires_on)
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    let orders = OrderRows::purchase_orders(&changes.purchase_orders, maps)?;
    n += write_orders(tx, maps, &PURCHASE_ORDER_SQL, &orders).await?;
    let transfers = OrderRows::transfers(&changes.transfers, maps)?;
    n += write_orders(tx, maps, &TRANSFER_SQL, &transfers).await?;
    for e in &changes.events {
        sqlx::query("INSERT INTO events (day, name, kind) VALUES (?, ?, ?) ON CONFLICT (day, name) DO UPDATE SET kind = excluded.kind")
            .bind(e.day)
            .bind(&e.name)
            .bind(e.kind.as_str())
            .execute(&mut **tx)
            .await?;
        n += 1;
    }
    for promo in &changes.promotions {
        sqlx::query(
            "INSERT INTO promotions (store_id, product_id, first_day, last_day, discount_pct) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (store_id, product_id, first_day) DO UPDATE SET last_day = excluded.last_day,
               discount_pct = excluded.discount_pct",
        )
        .bind(maps.location(promo.store())?)
        .bind(maps.product(promo.product())?)
        .bind(promo.first())
        .bind(promo.last())
        .bind(i64::from(promo.discount_pct()))
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Writes a whole change set inside `tx` (catalog first, then the facts that refer to it).
async fn write_changes(
    tx: &mut Transaction<'static, Sqlite>,
    changes: &ChangeSet,
) -> Result<ChangeSummary, StoreError> {
    let mut summary = ChangeSummary::default();
    if changes.is_empty() {
        return Ok(summary);
    }
    summary.upserted += write_catalog(tx, changes).await?;
    let maps = id_maps(tx).await?;
    let new = write_sales(tx, &maps, &changes.sales).await?;
    summary.sales_new = new;
    summary.sales_duplicate = changes.sales.len() as u64 - new;
    summary.upserted += write_facts(tx, &maps, changes).await?;
    Ok(summary)
}

macro_rules! alert_columns {
    () => {
        "id, status, body, created_at, updated_at, acknowledged_by, acknowledged_at, feedback_verdict, feedback_by,
         feedback_at, feedback_note"
    };
}

macro_rules! recommendation_columns {
    () => {
        "id, dedup_key, status, body, created_at, updated_at, decided_by, decided_at, note, executed_as"
    };
}

/// Ends a listing query: strictly after the cursor, newest first, one row more than the page so
/// that the page knows whether there is a next one.
fn push_page(qb: &mut QueryBuilder<Sqlite>, before: Option<(DateTime<Utc>, Uuid)>, limit: u32) {
    if let Some((created_at, id)) = before {
        qb.push(" AND (created_at, id) < (").push_bind(ts(created_at)).push(", ").push_bind(id.to_string()).push(")");
    }
    qb.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(i64::from(limit) + 1);
}

const PRODUCT_COLUMNS: &str = "p.id, p.code, p.name, p.brand, p.category, p.unit, p.pack_size, p.shelf_life_days,
    p.cost_usd_cents, p.price_usd_cents, s.code AS supplier";

#[async_trait]
impl TenantStore for SqliteTenant {
    fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    async fn apply(&self, changes: &ChangeSet) -> Result<ChangeSummary, StoreError> {
        if changes.is_empty() {
            return Ok(ChangeSummary::default());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let summary = write_changes(&mut tx, changes).await?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn locations(&self) -> Result<Vec<Location>, StoreError> {
        let rows: Vec<LocationRow> =
            sqlx::query_as("SELECT code, name, city, kind FROM locations ORDER BY code").fetch_all(&self.pool).await?;
        rows.into_iter().map(Location::try_from).collect()
    }

    async fn suppliers(&self) -> Result<Vec<Supplier>, StoreError> {
        let rows: Vec<SupplierRow> = sqlx::query_as(
            "SELECT code, name, lead_time_mean, lead_time_sd, moq, order_days FROM suppliers ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Supplier::try_from).collect()
    }

    async fn products(&self) -> Result<Vec<Product>, StoreError> {
        let rows: Vec<ProductRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PRODUCT_COLUMNS} FROM products p LEFT JOIN suppliers s ON s.id = p.supplier_id ORDER BY p.code"
        )))
        .fetch_all(&self.pool)
        .await?;
        let barcodes: Vec<(i64, String)> =
            sqlx::query_as("SELECT product_id, barcode FROM product_barcodes").fetch_all(&self.pool).await?;
        products_from_rows(rows, barcodes)
    }

    async fn sales_lines(
        &self,
        store: &LocationCode,
        product: &ProductCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SalesLine>, StoreError> {
        let rows: Vec<SalesRow> = sqlx::query_as(
            "SELECT s.line_key, l.code AS store, p.code AS product, s.sold_at, s.quantity, s.amount_minor, s.currency,
                    s.rate_micros
             FROM sales s JOIN locations l ON l.id = s.store_id JOIN products p ON p.id = s.product_id
             WHERE l.code = ? AND p.code = ? AND s.day BETWEEN ? AND ?
             ORDER BY s.sold_at, s.line_key",
        )
        .bind(store.as_str())
        .bind(product.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(SalesLine::try_from).collect()
    }

    async fn daily_demand(&self, q: &DemandQuery) -> Result<Vec<DailyDemand>, StoreError> {
        // One read transaction, so that codes and rows agree.
        let mut tx = self.pool.begin().await?;
        let rows: Vec<DemandIdRow> = sqlx::query_as(
            "SELECT d.store_id, d.product_id, d.day, d.units, d.revenue_usd_cents, d.out_of_stock
             FROM daily_demand d
             WHERE (?1 IS NULL OR d.store_id = (SELECT id FROM locations WHERE code = ?1))
               AND (?2 IS NULL OR d.product_id = (SELECT id FROM products WHERE code = ?2))
               AND (?3 IS NULL OR d.day >= ?3) AND (?4 IS NULL OR d.day <= ?4)
             ORDER BY d.store_id, d.product_id, d.day",
        )
        .bind(q.store.as_ref().map(|s| s.as_str()))
        .bind(q.product.as_ref().map(|p| p.as_str()))
        .bind(q.from)
        .bind(q.to)
        .fetch_all(&mut *tx)
        .await?;
        let locations: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, code FROM locations").fetch_all(&mut *tx).await?;
        let products: Vec<(i64, String)> = sqlx::query_as("SELECT id, code FROM products").fetch_all(&mut *tx).await?;
        tx.commit().await?;
        demand_from_id_rows(rows, locations, products)
    }

    async fn current_stock(
        &self,
        location: Option<&LocationCode>,
        product: Option<&ProductCode>,
    ) -> Result<Vec<StockSnapshot>, StoreError> {
        // The latest day of each location × product from one walk of the primary key (location,
        // product, day): with a single max(), SQLite takes the row's other columns from the row
        // holding the maximum. Conditions only for the filters given, so that the walk covers only
        // the location or product asked for.
        let mut filters = Vec::new();
        if location.is_some() {
            filters.push("location_id = (SELECT id FROM locations WHERE code = ?)");
        }
        if product.is_some() {
            filters.push("product_id = (SELECT id FROM products WHERE code = ?)");
        }
        let filter = if filters.is_empty() { String::new() } else { format!("WHERE {}", filters.join(" AND ")) };
        let sql = format!(
            "SELECT l.code AS location, p.code AS product, s.day, s.on_hand
             FROM (SELECT location_id, product_id, max(day) AS day, on_hand FROM stock_snapshots {filter}
                   GROUP BY location_id, product_id) s
             JOIN locations l ON l.id = s.location_id JOIN products p ON p.id = s.product_id
             ORDER BY l.code, p.code"
        );
        let mut query = sqlx::query_as::<_, StockRow>(sqlx::AssertSqlSafe(sql));
        if let Some(l) = location {
            query = query.bind(l.as_str());
        }
        if let Some(p) = product {
            query = query.bind(p.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter().map(StockSnapshot::try_from).collect()
    }

    async fn promotions(&self) -> Result<Vec<Promotion>, StoreError> {
        let rows: Vec<PromotionRow> = sqlx::query_as(
            "SELECT l.code AS store, p.code AS product, t.first_day, t.last_day, CAST(t.discount_pct AS BIGINT) AS discount_pct
             FROM promotions t JOIN locations l ON l.id = t.store_id JOIN products p ON p.id = t.product_id
             ORDER BY l.code, p.code, t.first_day",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Promotion::try_from).collect()
    }

    async fn lots(&self) -> Result<Vec<Lot>, StoreError> {
        let rows: Vec<LotRow> = sqlx::query_as(
            "SELECT l.code AS location, p.code AS product, t.code, t.quantity, t.received_on, t.expires_on
             FROM lots t JOIN locations l ON l.id = t.location_id JOIN products p ON p.id = t.product_id
             WHERE t.quantity > 0 ORDER BY t.expires_on, l.code, p.code, t.code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Lot::try_from).collect()
    }

    async fn purchase_orders(&self) -> Result<Vec<PurchaseOrder>, StoreError> {
        let rows: Vec<OrderLineRow> = sqlx::query_as(
            "SELECT o.number, s.code AS party, l.code AS destination, o.ordered_on AS start_on, o.expected_on,
                    p.code AS product, x.quantity
             FROM purchase_orders o JOIN suppliers s ON s.id = o.supplier_id JOIN locations l ON l.id = o.destination_id
             JOIN purchase_order_lines x ON x.order_id = o.id JOIN products p ON p.id = x.product_id
             ORDER BY o.expected_on, o.number, p.code",
        )
        .fetch_all(&self.pool)
        .await?;
        purchase_orders_from_rows(rows)
    }

    async fn transfers(&self) -> Result<Vec<Transfer>, StoreError> {
        let rows: Vec<OrderLineRow> = sqlx::query_as(
            "SELECT t.number, f.code AS party, d.code AS destination, t.shipped_on AS start_on, t.expected_on,
                    p.code AS product, x.quantity
             FROM transfers t JOIN locations f ON f.id = t.from_id JOIN locations d ON d.id = t.to_id
             JOIN transfer_lines x ON x.transfer_id = t.id JOIN products p ON p.id = x.product_id
             ORDER BY t.expected_on, t.number, p.code",
        )
        .fetch_all(&self.pool)
        .await?;
        transfers_from_rows(rows)
    }

    async fn events(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CalendarEvent>, StoreError> {
        let rows: Vec<EventRow> =
            sqlx::query_as("SELECT day, name, kind FROM events WHERE day BETWEEN ? AND ? ORDER BY day, name")
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(CalendarEvent::try_from).collect()
    }

    async fn counts(&self) -> Result<TableCounts, StoreError> {
        let c: (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM locations), (SELECT count(*) FROM suppliers), (SELECT count(*) FROM products),
                    (SELECT count(*) FROM product_barcodes), (SELECT count(*) FROM sales),
                    (SELECT count(*) FROM daily_demand), (SELECT count(*) FROM daily_demand WHERE out_of_stock = 1),
                    (SELECT count(*) FROM stock_snapshots), (SELECT count(*) FROM lots),
                    (SELECT count(*) FROM purchase_orders), (SELECT count(*) FROM transfers), (SELECT count(*) FROM events)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(super::counts_from_tuple(c))
    }

    async fn save_forecasts(&self, forecasts: &[StoredForecast]) -> Result<u64, StoreError> {
        if forecasts.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let maps = id_maps(&mut tx).await?;
        for f in forecasts {
            let (store, product) = (maps.store(&f.store)?, maps.product(&f.product)?);
            sqlx::query(
                "INSERT INTO forecasts (store_id, product_id, origin, model, computed_at, body) VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (store_id, product_id) DO UPDATE SET origin = excluded.origin, model = excluded.model,
                   computed_at = excluded.computed_at, body = excluded.body",
            )
            .bind(store)
            .bind(product)
            .bind(f.forecast.origin)
            .bind(&f.forecast.model)
            .bind(f.computed_at)
            .bind(forecast_body(f)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(forecasts.len() as u64)
    }

    async fn forecasts(
        &self,
        store: Option<&LocationCode>,
        product: Option<&ProductCode>,
    ) -> Result<Vec<StoredForecast>, StoreError> {
        let rows: Vec<ForecastRow> = sqlx::query_as(
            "SELECT l.code AS store, p.code AS product, f.computed_at, f.body
             FROM forecasts f JOIN locations l ON l.id = f.store_id JOIN products p ON p.id = f.product_id
             WHERE (?1 IS NULL OR l.code = ?1) AND (?2 IS NULL OR p.code = ?2)
             ORDER BY l.code, p.code",
        )
        .bind(store.map(LocationCode::as_str))
        .bind(product.map(ProductCode::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredForecast::try_from).collect()
    }

    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        // A sample per index is enough for the planner and keeps this to a moment on big files.
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *conn).await?;
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
        Ok(())
    }

    async fn record_ingest(&self, run: &IngestRun) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ingest_runs (source, started_at, finished_at, rows_read, rows_written, rows_rejected, status)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&run.source)
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(i64::try_from(run.rows_read).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.rows_written).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.rows_rejected).unwrap_or(i64::MAX))
        .bind(run.status.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ingest_runs(&self, limit: u32) -> Result<Vec<IngestRun>, StoreError> {
        let rows: Vec<IngestRunRow> = sqlx::query_as(
            "SELECT source, started_at, finished_at, rows_read, rows_written, rows_rejected, status
             FROM ingest_runs ORDER BY id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(IngestRun::try_from).collect()
    }

    async fn save_trace(&self, trace: &Trace) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO traces (id, started_at, channel, status, duration_us, question, body) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, channel = excluded.channel,
               status = excluded.status, duration_us = excluded.duration_us, question = excluded.question,
               body = excluded.body",
        )
        .bind(trace.id.to_string())
        .bind(trace.started_at)
        .bind(&trace.channel)
        .bind(trace.status.as_str())
        .bind(i64::try_from(trace.duration_us).unwrap_or(i64::MAX))
        .bind(&trace.question)
        .bind(rows::trace_body(trace)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        let rows: Vec<rows::TraceRow> = sqlx::query_as(
            "SELECT id, started_at, channel, status, duration_us, question FROM traces
             WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR duration_us >= ?3)
             ORDER BY started_at DESC, id LIMIT ?4",
        )
        .bind(query.channel.as_deref())
        .bind(query.status.map(|s| s.as_str()))
        .bind(query.min_duration_us.map(|d| i64::try_from(d).unwrap_or(i64::MAX)))
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TraceSummary::try_from).collect()
    }

    async fn trace(&self, id: Uuid) -> Result<Option<Trace>, StoreError> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM traces WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        body.as_deref().map(rows::trace_from_body).transpose()
    }

    async fn apply_once(&self, key: &str, fingerprint: &str, changes: &ChangeSet) -> Result<Once, StoreError> {
        // The write lock is taken before the key is looked up: a concurrent call with the same key
        // waits, then finds it.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let stored: Option<(String, String)> =
            sqlx::query_as("SELECT fingerprint, summary FROM ingest_requests WHERE key = ?")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((stored_fingerprint, summary)) = stored {
            tx.commit().await?;
            return rows::replay(&stored_fingerprint, &summary, fingerprint);
        }
        let summary = write_changes(&mut tx, changes).await?;
        sqlx::query("INSERT INTO ingest_requests (key, fingerprint, summary, created_at) VALUES (?, ?, ?, ?)")
            .bind(key)
            .bind(fingerprint)
            .bind(rows::to_json("ingest request summary", &summary)?)
            .bind(ts(Utc::now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Once::Applied(summary))
    }

    async fn record_alerts(
        &self,
        alerts: &[Alert],
        open_keys: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        let at = ts(at);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut stored = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let c = AlertColumns::of(alert)?;
            let row: AlertRow = sqlx::query_as(concat!(
                "INSERT INTO alerts (id, dedup_key, store, product, kind, severity, status, body, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)
                 ON CONFLICT (dedup_key) WHERE status <> 'resolved' DO UPDATE SET store = excluded.store,
                   product = excluded.product, kind = excluded.kind, severity = excluded.severity,
                   body = excluded.body, updated_at = excluded.updated_at
                 RETURNING ",
                alert_columns!()
            ))
            .bind(Uuid::new_v4().to_string())
            .bind(&alert.dedup_key)
            .bind(&c.store)
            .bind(&c.product)
            .bind(&c.kind)
            .bind(&c.severity)
            .bind(&c.body)
            .bind(&at)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            stored.push(StoredAlert::try_from(row)?);
        }
        sqlx::query(
            "UPDATE alerts SET status = 'resolved', updated_at = ?
             WHERE status <> 'resolved' AND dedup_key NOT IN (SELECT value FROM json_each(?))",
        )
        .bind(&at)
        .bind(rows::live_keys_json(alerts, open_keys)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn alerts(&self, q: &AlertQuery) -> Result<Page<StoredAlert>, StoreError> {
        let limit = rows::page_limit(q.limit);
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(concat!("SELECT ", alert_columns!(), " FROM alerts WHERE true"));
        for (column, value) in [
            ("store", q.store.as_deref()),
            ("product", q.product.as_deref()),
            ("kind", q.kind.as_deref()),
            ("severity", q.severity.as_deref()),
            ("status", q.status.map(|s| s.as_str())),
        ] {
            if let Some(value) = value {
                qb.push(format_args!(" AND {column} = ")).push_bind(value);
            }
        }
        push_page(&mut qb, q.before, limit);
        let rows: Vec<AlertRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let items = rows.into_iter().map(StoredAlert::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(rows::page_of(items, limit, |a| (a.created_at, a.id)))
    }

    async fn alert(&self, id: Uuid) -> Result<Option<StoredAlert>, StoreError> {
        let row: Option<AlertRow> = sqlx::query_as(concat!("SELECT ", alert_columns!(), " FROM alerts WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(StoredAlert::try_from).transpose()
    }

    async fn acknowledge_alert(
        &self,
        id: Uuid,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<StoredAlert>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_by = ?, acknowledged_at = ?, updated_at = ?
             WHERE id = ? AND status = 'open'",
        )
        .bind(by)
        .bind(ts(at))
        .bind(ts(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        let row: Option<AlertRow> = sqlx::query_as(concat!("SELECT ", alert_columns!(), " FROM alerts WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(StoredAlert::try_from).transpose()
    }

    async fn alert_feedback(&self, id: Uuid, feedback: &Feedback) -> Result<Option<StoredAlert>, StoreError> {
        let row: Option<AlertRow> = sqlx::query_as(concat!(
            "UPDATE alerts SET feedback_verdict = ?, feedback_by = ?, feedback_at = ?, feedback_note = ?,
               updated_at = max(updated_at, ?)
             WHERE id = ? RETURNING ",
            alert_columns!()
        ))
        .bind(feedback.verdict.as_str())
        .bind(&feedback.by)
        .bind(ts(feedback.at))
        .bind(&feedback.note)
        .bind(ts(feedback.at))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(StoredAlert::try_from).transpose()
    }

    async fn record_recommendations(
        &self,
        recommendations: &[Recommendation],
        at: DateTime<Utc>,
    ) -> Result<Vec<StoredRecommendation>, StoreError> {
        self.upsert_recommendations(recommendations, at, true).await
    }

    async fn keep_recommendation(
        &self,
        recommendation: &Recommendation,
        at: DateTime<Utc>,
    ) -> Result<StoredRecommendation, StoreError> {
        let mut stored = self.upsert_recommendations(std::slice::from_ref(recommendation), at, false).await?;
        stored.pop().ok_or_else(|| StoreError::Corrupt("a kept recommendation came back empty".into()))
    }

    async fn recommendations(&self, q: &RecommendationQuery) -> Result<Page<StoredRecommendation>, StoreError> {
        let limit = rows::page_limit(q.limit);
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(concat!("SELECT ", recommendation_columns!(), " FROM recommendations WHERE true"));
        for (column, value) in
            [("kind", q.kind.as_deref()), ("store", q.store.as_deref()), ("status", q.status.map(|s| s.as_str()))]
        {
            if let Some(value) = value {
                qb.push(format_args!(" AND {column} = ")).push_bind(value);
            }
        }
        push_page(&mut qb, q.before, limit);
        let rows: Vec<RecommendationRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let items = rows.into_iter().map(StoredRecommendation::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(rows::page_of(items, limit, |r| (r.created_at, r.id)))
    }

    async fn recommendation(&self, id: Uuid) -> Result<Option<StoredRecommendation>, StoreError> {
        let row: Option<RecommendationRow> =
            sqlx::query_as(concat!("SELECT ", recommendation_columns!(), " FROM recommendations WHERE id = ?"))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.map(StoredRecommendation::try_from).transpose()
    }

    async fn decide_recommendation(
        &self,
        id: Uuid,
        decision: &Decision,
        effect: &ChangeSet,
    ) -> Result<Decided, StoreError> {
        // The write lock comes first: of two concurrent decisions, the second waits and then finds
        // the recommendation decided.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let decided: Option<RecommendationRow> = sqlx::query_as(concat!(
            "UPDATE recommendations SET status = ?, decided_by = ?, decided_at = ?, note = ?, executed_as = ?,
               updated_at = ?
             WHERE id = ? AND status = 'pending' RETURNING ",
            recommendation_columns!()
        ))
        .bind(if decision.approve { "approved" } else { "rejected" })
        .bind(&decision.by)
        .bind(ts(decision.at))
        .bind(&decision.note)
        .bind(if decision.approve { decision.executed_as.as_deref() } else { None })
        .bind(ts(decision.at))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = decided {
            let stored = StoredRecommendation::try_from(row)?;
            if decision.approve {
                write_changes(&mut tx, effect).await?;
            }
            tx.commit().await?;
            return Ok(Decided::Done(stored));
        }
        let current: Option<RecommendationRow> =
            sqlx::query_as(concat!("SELECT ", recommendation_columns!(), " FROM recommendations WHERE id = ?"))
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(match current {
            Some(row) => Decided::Already(StoredRecommendation::try_from(row)?),
            None => Decided::NotFound,
        })
    }
}

impl SqliteTenant {
    /// Upserts recommendations by key; with `supersede_others`, pending ones of other keys become
    /// superseded (an optimisation run replaces the previous one).
    async fn upsert_recommendations(
        &self,
        recommendations: &[Recommendation],
        at: DateTime<Utc>,
        supersede_others: bool,
    ) -> Result<Vec<StoredRecommendation>, StoreError> {
        let at = ts(at);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut stored = Vec::with_capacity(recommendations.len());
        let mut keys = BTreeSet::new();
        for r in recommendations {
            let c = RecommendationColumns::of(r)?;
            let row: RecommendationRow = sqlx::query_as(concat!(
                "INSERT INTO recommendations (id, dedup_key, kind, store, product, status, body, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)
                 ON CONFLICT (dedup_key) WHERE status = 'pending' DO UPDATE SET body = excluded.body,
                   updated_at = excluded.updated_at
                 RETURNING ",
                recommendation_columns!()
            ))
            .bind(Uuid::new_v4().to_string())
            .bind(&c.key)
            .bind(c.kind)
            .bind(&c.store)
            .bind(&c.product)
            .bind(&c.body)
            .bind(&at)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            stored.push(StoredRecommendation::try_from(row)?);
            keys.insert(c.key);
        }
        if supersede_others {
            sqlx::query(
                "UPDATE recommendations SET status = 'superseded', updated_at = ?
                 WHERE status = 'pending' AND dedup_key NOT IN (SELECT value FROM json_each(?))",
            )
            .bind(&at)
            .bind(rows::to_json("recommendation keys", &keys)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(stored)
    }
}
