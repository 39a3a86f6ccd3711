//! The production backend: PostgreSQL with a schema per tenant.
//!
//! - `control` schema: the tenant list and shared tables (`ingest_runs`) under row-level security
//!   keyed on the transaction-local setting `app.tenant_id`; and the accounts (`users`,
//!   `refresh_tokens`, `api_keys`), which are not: they are found by credential before any tenant is
//!   known, and deleting a tenant cascades to them. Every change to a user's refresh tokens holds
//!   that user's row lock, so a token presented twice at once rotates once.
//! - `t_<slug>` schema per tenant, created with the tenant and owned by the application role.
//! - Every tenant transaction sets `search_path` and `app.tenant_id` with `set_config(.., true)`
//!   (transaction-local), never a session-level `SET`, so nothing leaks to the next user of a
//!   pooled connection.
//! - The application works through a non-superuser role (`fluxion_app` by default), so row-level
//!   security applies to it. When the configured URL is a superuser's, that URL is used only to
//!   migrate and to create tenant schemas, and the role is created if missing.
//! - Per tenant, alerts, recommendations and ingest requests: writes that must happen once (a
//!   recommendation's decision and its effect, an idempotency key and its change set) share one
//!   transaction, and the row or key that decides it is claimed first.
//! - Sales are range-partitioned by month (partitions created on demand) and loaded with `COPY`;
//!   the daily aggregate is maintained in the same statement that inserts new lines.
//!   TimescaleDB is not used: the extension is not packaged for this platform's PostgreSQL, and native
//!   partitioning plus the maintained aggregate gives the same reads.

use super::rows::{
    AlertColumns, AlertRow, ApiKeyRow, DemandIdRow, EventRow, ForecastRow, IdMaps, IngestRunRow, LocationRow, LotRow,
    OrderLineRow, OrderRows, ProductRow, PromotionRow, RecommendationColumns, RecommendationRow, SalesRow, StockRow,
    SupplierRow, UserRow, demand_from_id_rows, forecast_body, micros, products_from_rows, purchase_orders_from_rows,
    transfers_from_rows,
};
use super::{
    Accounts, AlertQuery, ApiKeyRecord, Backend, ChangeSet, ChangeSummary, Decided, Decision, DemandQuery, Feedback,
    IngestRun, Once, Page, RecommendationQuery, RefreshRecord, Rotation, Store, StoreError, StoredAlert,
    StoredForecast, StoredRecommendation, TableCounts, TenantStore, TraceQuery, UserRecord, rows,
};
use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use fluxion_domain::{
    Alert, CalendarEvent, DailyDemand, Location, LocationCode, Lot, Product, ProductCode, Promotion, PurchaseOrder,
    Recommendation, SalesLine, StockSnapshot, Supplier, Tenant, TenantId, TenantSlug, Trace, TraceSummary, Transfer,
};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Postgres, QueryBuilder, Transaction};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

mod messaging;

static CONTROL_MIGRATOR: Migrator = sqlx::migrate!("./migrations/pg/control");
static TENANT_MIGRATOR: Migrator = sqlx::migrate!("./migrations/pg/tenant");

/// Bytes of CSV sent per `COPY` message.
const COPY_CHUNK: usize = 1 << 20;

/// How to reach PostgreSQL.
#[derive(Clone)]
pub struct PostgresOptions {
    /// Connection URL. A superuser's URL is used only for migrations and tenant creation.
    pub url: String,
    /// The non-superuser role the application works as.
    pub app_role: String,
    /// Its password, when the server asks for one.
    pub app_password: Option<String>,
    /// Pool size of the application role.
    pub max_connections: u32,
}

impl PostgresOptions {
    /// Options with the default role (`fluxion_app`) and pool size (10).
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), app_role: "fluxion_app".into(), app_password: None, max_connections: 10 }
    }
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL and password may hold secrets.
        f.debug_struct("PostgresOptions").field("app_role", &self.app_role).finish_non_exhaustive()
    }
}

/// Opens the PostgreSQL store: migrates the control schema and every tenant schema, and makes sure
/// the application role exists.
pub async fn open_postgres(options: &PostgresOptions) -> Result<Arc<dyn Store>, StoreError> {
    let admin_options = PgConnectOptions::from_str(&options.url)?;
    let admin = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(admin_options.clone())
        .await?;
    let (current_user, privileged): (String, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&admin)
    .await?;

    {
        let mut conn = admin.acquire().await?.detach();
        // Replicas starting together on one database queue here (the lock ends with the connection):
        // concurrent CREATE SCHEMA IF NOT EXISTS can still fail on the catalog's unique index.
        sqlx::query("SELECT pg_advisory_lock(hashtext('fluxion.control_schema'))").execute(&mut conn).await?;
        sqlx::query("CREATE SCHEMA IF NOT EXISTS control").execute(&mut conn).await?;
        sqlx::query("SET search_path TO control").execute(&mut conn).await?;
        CONTROL_MIGRATOR.run_direct(None, &mut conn, false).await?;
        conn.close().await?;
    }

    let app_role = if privileged { options.app_role.clone() } else { current_user.clone() };
    if privileged {
        // Roles are shared by every database of the server: processes starting together (replicas, parallel
        // tests) race on the same catalog rows, which PostgreSQL reports as "tuple concurrently updated".
        let mut attempt = 1;
        loop {
            match provision_app_role(&admin, &app_role, options.app_password.as_deref()).await {
                Err(StoreError::Database(sqlx::Error::Database(e)))
                    if attempt < 5 && matches!(e.code().as_deref(), Some("XX000" | "40001" | "40P01" | "23505")) =>
                {
                    tracing::debug!(attempt, error = %e, "provisioning the application role raced another process");
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                    attempt += 1;
                }
                other => break other?,
            }
        }
    }
    let mut app_options = admin_options;
    if privileged {
        app_options = app_options.username(&app_role);
        if let Some(pw) = &options.app_password {
            app_options = app_options.password(pw);
        }
    }
    let app = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(app_options)
        .await?;
    let store =
        PgStore { admin, app, app_role: if privileged && app_role != current_user { Some(app_role) } else { None } };
    for tenant in store.tenants().await? {
        store.migrate_tenant(&tenant.slug).await?;
    }
    Ok(Arc::new(store))
}

/// Creates the application role if missing (no superuser, no RLS bypass) and grants it the control tables.
async fn provision_app_role(admin: &PgPool, role: &str, password: Option<&str>) -> Result<(), StoreError> {
    // Utility statements cannot take parameters: `format` quotes the identifier and literal server-side.
    let create: String = sqlx::query_scalar(
        "SELECT format('DO $$ BEGIN CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$', $1::text)",
    )
    .bind(role)
    .fetch_one(admin)
    .await?;
    sqlx::query(AssertSqlSafe(create)).execute(admin).await?;
    let mut statements: Vec<String> = Vec::new();
    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1")
            .bind(role)
            .fetch_one(admin)
            .await?;
    if superuser || bypass {
        statements.push(
            sqlx::query_scalar("SELECT format('ALTER ROLE %I NOSUPERUSER NOBYPASSRLS', $1::text)")
                .bind(role)
                .fetch_one(admin)
                .await?,
        );
    }
    for template in [
        "GRANT CONNECT ON DATABASE %2$I TO %1$I",
        "GRANT USAGE ON SCHEMA control TO %I",
        "GRANT SELECT ON control.tenants TO %I",
        "GRANT SELECT, INSERT ON control.ingest_runs TO %I",
        // Accounts are found by credential before any tenant is known (no row-level security); the
        // application never deletes them: a tenant's deletion cascades, as the tables' owner.
        "GRANT SELECT, INSERT, UPDATE ON control.users TO %I",
        "GRANT SELECT, INSERT, UPDATE ON control.refresh_tokens TO %I",
        "GRANT SELECT, INSERT, UPDATE ON control.api_keys TO %I",
        // WhatsApp: contacts are removed by their owners; the rest only grows or changes state.
        "GRANT SELECT, INSERT, UPDATE, DELETE ON control.whatsapp_contacts TO %I",
        "GRANT SELECT, INSERT, UPDATE ON control.whatsapp_windows TO %I",
        "GRANT SELECT, INSERT, UPDATE ON control.whatsapp_inbox TO %I",
        "GRANT SELECT, INSERT, UPDATE ON control.whatsapp_outbox TO %I",
        "GRANT SELECT, INSERT ON control.whatsapp_pushes TO %I",
    ] {
        statements.push(
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT format('{template}', $1::text, current_database())")))
                .bind(role)
                .fetch_one(admin)
                .await?,
        );
    }
    if let Some(pw) = password {
        statements.push(
            sqlx::query_scalar("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)")
                .bind(role)
                .bind(pw)
                .fetch_one(admin)
                .await?,
        );
    }
    for s in statements {
        sqlx::query(AssertSqlSafe(s)).execute(admin).await?;
    }
    Ok(())
}

/// The PostgreSQL store.
pub struct PgStore {
    /// Migrations and tenant creation.
    admin: PgPool,
    /// Everything else, as the application role.
    app: PgPool,
    /// The role tenant objects are created as, when the admin connection is another role.
    app_role: Option<String>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("app_role", &self.app_role).finish_non_exhaustive()
    }
}

/// The schema of a tenant; slugs are `[a-z][a-z0-9_]*`, so it never needs quoting.
fn schema_of(slug: &TenantSlug) -> String {
    format!("t_{slug}")
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: uuid::Uuid,
    slug: String,
    name: String,
    created_at: chrono::DateTime<Utc>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: TenantId::from_uuid(r.id),
            slug: TenantSlug::parse(&r.slug)?,
            name: r.name,
            created_at: r.created_at,
        })
    }
}

impl PgStore {
    /// Creates (if needed) and migrates a tenant's schema, as the application role so that it owns it.
    async fn migrate_tenant(&self, slug: &TenantSlug) -> Result<(), StoreError> {
        let schema = schema_of(slug);
        let mut conn: PgConnection = self.admin.acquire().await?.detach();
        let create = match &self.app_role {
            Some(role) => {
                sqlx::query_scalar(
                    "SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', $1::text, $2::text)",
                )
                .bind(&schema)
                .bind(role)
                .fetch_one(&mut conn)
                .await?
            }
            None => format!("CREATE SCHEMA IF NOT EXISTS {schema}"),
        };
        sqlx::query(AssertSqlSafe(create)).execute(&mut conn).await?;
        if let Some(role) = &self.app_role {
            let set_role: String =
                sqlx::query_scalar("SELECT format('SET ROLE %I', $1::text)").bind(role).fetch_one(&mut conn).await?;
            sqlx::query(AssertSqlSafe(set_role)).execute(&mut conn).await?;
        }
        // Session-level settings are safe here: this connection was detached from the pool and is closed below.
        sqlx::query(AssertSqlSafe(format!("SET search_path TO {schema}"))).execute(&mut conn).await?;
        // `run_direct` is `Migrator::run` without the `Acquire` bound that trips `async_trait`'s Send check.
        TENANT_MIGRATOR.run_direct(None, &mut conn, false).await?;
        conn.close().await?;
        Ok(())
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn health(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.app).await?;
        Ok(())
    }

    async fn create_tenant(&self, slug: &TenantSlug, name: &str) -> Result<Tenant, StoreError> {
        if self.tenant(slug).await?.is_some() {
            return Err(StoreError::TenantExists(slug.clone()));
        }
        // The schema exists and is migrated before the tenant is listed.
        self.migrate_tenant(slug).await?;
        let tenant = Tenant {
            id: TenantId::new_random(),
            slug: slug.clone(),
            name: name.trim().to_owned(),
            created_at: Utc::now().trunc_subsecs(6),
        };
        let inserted = sqlx::query(
            "INSERT INTO control.tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(tenant.id.as_uuid())
        .bind(tenant.slug.as_str())
        .bind(&tenant.name)
        .bind(tenant.created_at)
        .execute(&self.admin)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::TenantExists(slug.clone()));
        }
        Ok(tenant)
    }

    async fn delete_tenant(&self, slug: &TenantSlug) -> Result<(), StoreError> {
        let tenant = self.tenant(slug).await?.ok_or_else(|| StoreError::UnknownTenant(slug.clone()))?;
        let mut tx = self.admin.begin().await?;
        // Row-level security also binds the admin connection when it is not a superuser.
        sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
            .bind(tenant.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM control.ingest_runs WHERE tenant_id = $1")
            .bind(tenant.id.as_uuid())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM control.tenants WHERE id = $1").bind(tenant.id.as_uuid()).execute(&mut *tx).await?;
        sqlx::query(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {} CASCADE", schema_of(slug))))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> =
            sqlx::query_as("SELECT id, slug, name, created_at FROM control.tenants ORDER BY slug")
                .fetch_all(&self.app)
                .await?;
        rows.into_iter().map(Tenant::try_from).collect()
    }

    async fn tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        let row: Option<TenantRow> =
            sqlx::query_as("SELECT id, slug, name, created_at FROM control.tenants WHERE slug = $1")
                .bind(slug.as_str())
                .fetch_optional(&self.app)
                .await?;
        row.map(Tenant::try_from).transpose()
    }

    async fn scope(&self, slug: &TenantSlug) -> Result<Arc<dyn TenantStore>, StoreError> {
        let tenant = self.tenant(slug).await?.ok_or_else(|| StoreError::UnknownTenant(slug.clone()))?;
        Ok(Arc::new(PgTenant { schema: schema_of(slug), tenant, pool: self.app.clone() }))
    }

    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        let row: Option<TenantRow> =
            sqlx::query_as("SELECT id, slug, name, created_at FROM control.tenants WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.app)
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

macro_rules! user_columns {
    () => {
        "id::text AS id, tenant_id::text AS tenant_id, email, name, role, password_hash, disabled, created_at"
    };
}

macro_rules! api_key_columns {
    () => {
        "id::text AS id, tenant_id::text AS tenant_id, name, prefix, secret_hash, array_to_json(scopes)::text AS scopes,
         rate_per_minute, created_by::text AS created_by, created_at, revoked_at"
    };
}

/// A presented refresh token with what decides its fate.
#[derive(sqlx::FromRow)]
struct PresentedToken {
    family: Uuid,
    expires_at: DateTime<Utc>,
    /// Rotated or revoked already.
    spent: bool,
}

impl PgStore {
    /// Locks a user's row until the end of `tx` and says whether the user is disabled (none: no
    /// such user). Every change to a user's refresh tokens — a rotation, a family's revocation, a
    /// new login, disabling the user — holds this lock, so they happen one after the other and each
    /// reads the tokens the previous one committed.
    async fn lock_user(tx: &mut Transaction<'static, Postgres>, user: Uuid) -> Result<Option<bool>, StoreError> {
        Ok(sqlx::query_scalar("SELECT disabled FROM control.users WHERE id = $1 FOR UPDATE")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await?)
    }

    /// The owner of a refresh token (a token never changes owner, so this needs no lock).
    async fn token_owner(tx: &mut Transaction<'static, Postgres>, hash: &[u8; 32]) -> Result<Option<Uuid>, StoreError> {
        Ok(sqlx::query_scalar("SELECT user_id FROM control.refresh_tokens WHERE token_hash = $1")
            .bind(hash.as_slice())
            .fetch_optional(&mut **tx)
            .await?)
    }

    /// Revokes every token of a family that is not revoked yet.
    async fn revoke_family(
        tx: &mut Transaction<'static, Postgres>,
        family: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE control.refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL")
            .bind(family)
            .bind(micros(now))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// Accounts live in the `control` schema and are reached through the application role.
#[async_trait]
impl Accounts for PgStore {
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let email = user.email.to_lowercase();
        sqlx::query(
            "INSERT INTO control.users (id, tenant_id, email, name, role, password_hash, disabled, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id)
        .bind(user.tenant.map(|t| t.as_uuid()))
        .bind(&email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.disabled)
        .bind(micros(user.created_at))
        .execute(&self.app)
        .await
        .map_err(|e| rows::user_insert_error(e, user, &email))?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> =
            sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM control.users WHERE email = $1"))
                .bind(email.to_lowercase())
                .fetch_optional(&self.app)
                .await?;
        row.map(UserRecord::try_from).transpose()
    }

    async fn user(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> =
            sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM control.users WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.app)
                .await?;
        row.map(UserRecord::try_from).transpose()
    }

    async fn users(&self, tenant: Option<TenantId>) -> Result<Vec<UserRecord>, StoreError> {
        let rows: Vec<UserRow> = match tenant {
            Some(tenant) => {
                sqlx::query_as(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM control.users WHERE tenant_id = $1 ORDER BY email"
                ))
                .bind(tenant.as_uuid())
                .fetch_all(&self.app)
                .await?
            }
            None => {
                sqlx::query_as(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM control.users WHERE tenant_id IS NULL ORDER BY email"
                ))
                .fetch_all(&self.app)
                .await?
            }
        };
        rows.into_iter().map(UserRecord::try_from).collect()
    }

    async fn set_user_disabled(&self, tenant: TenantId, id: Uuid, disabled: bool) -> Result<bool, StoreError> {
        let mut tx = self.app.begin().await?;
        // The update takes the user's row lock first, as every change to the user's tokens does.
        let changed = sqlx::query("UPDATE control.users SET disabled = $3 WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant.as_uuid())
            .bind(disabled)
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Ok(false);
        }
        if disabled {
            sqlx::query("UPDATE control.refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(micros(Utc::now()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn insert_refresh(&self, token: &RefreshRecord) -> Result<(), StoreError> {
        let mut tx = self.app.begin().await?;
        let Some(disabled) = Self::lock_user(&mut tx, token.user).await? else {
            return Err(StoreError::UnknownReference { kind: "user", code: token.user.to_string() });
        };
        // A login that raced the user's disabling gets a family that is revoked from the start.
        sqlx::query(
            "INSERT INTO control.refresh_tokens (id, family, user_id, token_hash, issued_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.id)
        .bind(token.family)
        .bind(token.user)
        .bind(token.token_hash.as_slice())
        .bind(micros(token.issued_at))
        .bind(micros(token.expires_at))
        .bind(disabled.then(|| micros(Utc::now())))
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
        let mut tx = self.app.begin().await?;
        let Some(user) = Self::token_owner(&mut tx, token_hash).await? else { return Ok(Rotation::Unknown) };
        // With the user's row locked, a concurrent presentation of the same token has either
        // committed its rotation (and this statement, a new snapshot, sees it) or waits for this one.
        let Some(disabled) = Self::lock_user(&mut tx, user).await? else { return Ok(Rotation::Unknown) };
        let token: Option<PresentedToken> = sqlx::query_as(
            "SELECT family, expires_at, (rotated_at IS NOT NULL OR revoked_at IS NOT NULL) AS spent
             FROM control.refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash.as_slice())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(token) = token else { return Ok(Rotation::Unknown) };
        if token.spent || disabled {
            Self::revoke_family(&mut tx, token.family, now).await?;
            tx.commit().await?;
            return Ok(Rotation::Reused { user });
        }
        if token.expires_at <= now {
            return Ok(Rotation::Expired);
        }
        sqlx::query("UPDATE control.refresh_tokens SET rotated_at = $2 WHERE token_hash = $1")
            .bind(token_hash.as_slice())
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO control.refresh_tokens (id, family, user_id, token_hash, issued_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(next.id)
        .bind(token.family)
        .bind(user)
        .bind(next.token_hash.as_slice())
        .bind(micros(next.issued_at))
        .bind(micros(next.expires_at))
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
            " FROM control.users WHERE NOT disabled AND id = (SELECT user_id FROM control.refresh_tokens
               WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2)"
        ))
        .bind(token_hash.as_slice())
        .bind(micros(now))
        .fetch_optional(&self.app)
        .await?;
        row.map(UserRecord::try_from).transpose()
    }

    async fn revoke_refresh_family(&self, token_hash: &[u8; 32], now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.app.begin().await?;
        let Some(user) = Self::token_owner(&mut tx, token_hash).await? else { return Ok(false) };
        Self::lock_user(&mut tx, user).await?;
        let family: Option<Uuid> =
            sqlx::query_scalar("SELECT family FROM control.refresh_tokens WHERE token_hash = $1")
                .bind(token_hash.as_slice())
                .fetch_optional(&mut *tx)
                .await?;
        let Some(family) = family else { return Ok(false) };
        Self::revoke_family(&mut tx, family, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        let inserted = sqlx::query(
            "INSERT INTO control.api_keys (id, tenant_id, name, prefix, secret_hash, scopes, rate_per_minute,
               created_by, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(key.id)
        .bind(key.tenant.as_uuid())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(key.secret_hash.as_slice())
        .bind(&scopes)
        .bind(key.rate_per_minute.map(i64::from))
        .bind(key.created_by)
        .bind(micros(key.created_at))
        .bind(key.revoked_at.map(micros))
        .execute(&self.app)
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
            sqlx::query_as(concat!("SELECT ", api_key_columns!(), " FROM control.api_keys WHERE prefix = $1"))
                .bind(prefix)
                .fetch_optional(&self.app)
                .await?;
        row.map(ApiKeyRecord::try_from).transpose()
    }

    async fn api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM control.api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(tenant.as_uuid())
        .fetch_all(&self.app)
        .await?;
        rows.into_iter().map(ApiKeyRecord::try_from).collect()
    }

    async fn revoke_api_key(&self, tenant: TenantId, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let revoked = sqlx::query(
            "UPDATE control.api_keys SET revoked_at = $3 WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(tenant.as_uuid())
        .bind(micros(now))
        .execute(&self.app)
        .await?;
        Ok(revoked.rows_affected() > 0)
    }
}

/// One tenant's schema, reached through the application role.
#[derive(Debug)]
pub struct PgTenant {
    tenant: Tenant,
    schema: String,
    pool: PgPool,
}

type Tx = Transaction<'static, Postgres>;

macro_rules! alert_columns {
    () => {
        "id::text AS id, status, body::text AS body, created_at, updated_at, acknowledged_by, acknowledged_at,
         feedback_verdict, feedback_by, feedback_at, feedback_note"
    };
}

macro_rules! recommendation_columns {
    () => {
        "id::text AS id, dedup_key, status, body::text AS body, created_at, updated_at, decided_by, decided_at, note,
         executed_as"
    };
}

impl PgTenant {
    /// A transaction scoped to this tenant: its schema first on the path and its id for row-level security,
    /// both transaction-local.
    async fn begin(&self) -> Result<Tx, StoreError> {
        // A connection whose previous transaction was cancelled mid-statement (a dropped `apply`
        // future, mid-COPY) can answer its next BEGIN with the stale state of the old one; waiting
        // for that BEGIN drains it, so a second attempt starts clean.
        let mut attempt = 1;
        let mut tx = loop {
            match self.pool.begin().await {
                Err(sqlx::Error::BeginFailed) if attempt < 3 => {
                    tracing::debug!(attempt, "BEGIN found a connection left by a cancelled transaction; retrying");
                    attempt += 1;
                }
                other => break other?,
            }
        };
        sqlx::query("SELECT set_config('search_path', $1, true), set_config('app.tenant_id', $2, true)")
            .bind(&self.schema)
            .bind(self.tenant.id.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Runs one read query inside a tenant-scoped transaction.
    async fn read<R>(
        &self,
        query: sqlx::query::QueryAs<'_, Postgres, R, sqlx::postgres::PgArguments>,
    ) -> Result<Vec<R>, StoreError>
    where
        R: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let mut tx = self.begin().await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }
}

impl PgTenant {
    /// Runs `attempt` (one transaction) again when it lost a race with a concurrent ingest of the
    /// same sales lines: the retry finds them stored and skips them.
    async fn retrying_sales_races<T, F, Fut>(&self, mut attempt: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let mut n = 1;
        loop {
            match attempt().await {
                Err(StoreError::Database(sqlx::Error::Database(e)))
                    if n < 3
                        && e.code().as_deref() == Some("23505")
                        && e.table().is_some_and(|t| t.starts_with("sales") || t == "daily_demand") =>
                {
                    tracing::debug!(attempt = n, "sales batch raced a concurrent ingest; retrying");
                    n += 1;
                }
                other => return other,
            }
        }
    }

    /// One attempt at [`TenantStore::apply`]: everything in one transaction.
    async fn apply_attempt(&self, changes: &ChangeSet) -> Result<ChangeSummary, StoreError> {
        if changes.is_empty() {
            return Ok(ChangeSummary::default());
        }
        let mut tx = self.begin().await?;
        let summary = write_changes(&mut tx, changes).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// One attempt at [`TenantStore::apply_once`].
    async fn apply_once_attempt(&self, key: &str, fingerprint: &str, changes: &ChangeSet) -> Result<Once, StoreError> {
        let mut tx = self.begin().await?;
        // Claiming the key first makes it the lock: a concurrent call with the same key waits on
        // this uncommitted row, then (once it is committed) inserts nothing and reads it below;
        // if this transaction rolls back instead, the other one claims the key and applies.
        let claimed: Option<i32> = sqlx::query_scalar(
            "INSERT INTO ingest_requests (key, fingerprint, summary, created_at) VALUES ($1, $2, '{}', $3)
             ON CONFLICT (key) DO NOTHING RETURNING 1",
        )
        .bind(key)
        .bind(fingerprint)
        .bind(micros(Utc::now()))
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            let (stored_fingerprint, summary): (String, String) =
                sqlx::query_as("SELECT fingerprint, summary::text FROM ingest_requests WHERE key = $1")
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.commit().await?;
            return rows::replay(&stored_fingerprint, &summary, fingerprint);
        }
        let summary = write_changes(&mut tx, changes).await?;
        sqlx::query("UPDATE ingest_requests SET summary = $2::jsonb WHERE key = $1")
            .bind(key)
            .bind(rows::to_json("ingest request summary", &summary)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Once::Applied(summary))
    }

    /// One attempt at [`TenantStore::decide_recommendation`].
    async fn decide_attempt(&self, id: Uuid, decision: &Decision, effect: &ChangeSet) -> Result<Decided, StoreError> {
        let mut tx = self.begin().await?;
        // A concurrent decision on the same row waits for this one's row lock, then re-checks
        // `status = 'pending'` against the committed row and changes nothing.
        let decided: Option<RecommendationRow> = sqlx::query_as(concat!(
            "UPDATE recommendations SET status = $2, decided_by = $3, decided_at = $4, note = $5, executed_as = $6,
               updated_at = $4
             WHERE id = $1 AND status = 'pending' RETURNING ",
            recommendation_columns!()
        ))
        .bind(id)
        .bind(if decision.approve { "approved" } else { "rejected" })
        .bind(&decision.by)
        .bind(micros(decision.at))
        .bind(&decision.note)
        .bind(if decision.approve { decision.executed_as.as_deref() } else { None })
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
            sqlx::query_as(concat!("SELECT ", recommendation_columns!(), " FROM recommendations WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(match current {
            Some(row) => Decided::Already(StoredRecommendation::try_from(row)?),
            None => Decided::NotFound,
        })
    }
}

/// Writes a whole change set inside `tx` (catalog first, then the facts that refer to it).
async fn write_changes(tx: &mut Tx, changes: &ChangeSet) -> Result<ChangeSummary, StoreError> {
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

/// Ends a listing query: strictly after the cursor, newest first, one row more than the page so
/// that the page knows whether there is a next one.
fn push_page(qb: &mut QueryBuilder<Postgres>, before: Option<(DateTime<Utc>, Uuid)>, limit: u32) {
    if let Some((created_at, id)) = before {
        qb.push(" AND (created_at, id) < (").push_bind(micros(created_at)).push(", ").push_bind(id).push(")");
    }
    qb.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(i64::from(limit) + 1);
}

async fn id_maps(tx: &mut Tx) -> Result<IdMaps, StoreError> {
    let locations: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT code, id, kind FROM locations").fetch_all(&mut **tx).await?;
    let products: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM products").fetch_all(&mut **tx).await?;
    let suppliers: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM suppliers").fetch_all(&mut **tx).await?;
    Ok(IdMaps::new(locations, products, suppliers))
}

async fn write_catalog(tx: &mut Tx, changes: &ChangeSet) -> Result<u64, StoreError> {
    let mut n = 0;
    for l in &changes.locations {
        sqlx::query(
            "INSERT INTO locations (code, name, city, kind) VALUES ($1, $2, $3, $4)
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
            "INSERT INTO suppliers (code, name, lead_time_mean, lead_time_sd, moq, order_days) VALUES ($1, $2, $3, $4, $5, $6)
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
                   cost_usd_cents, price_usd_cents, supplier_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
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
            let codes: Vec<&str> = p.barcodes().iter().map(|b| b.as_str()).collect();
            sqlx::query("DELETE FROM product_barcodes WHERE product_id = $1").bind(id).execute(&mut **tx).await?;
            sqlx::query("INSERT INTO product_barcodes (product_id, barcode) SELECT $1, unnest($2::text[])")
                .bind(id)
                .bind(&codes)
                .execute(&mut **tx)
                .await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Makes sure a monthly partition of `sales` exists for every month in `days`.
async fn ensure_partitions(tx: &mut Tx, months: &BTreeSet<(i32, u32)>) -> Result<(), StoreError> {
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'sales'::regclass",
    )
    .fetch_all(&mut **tx)
    .await?;
    let missing: Vec<_> = months.iter().filter(|(y, m)| !existing.contains(&format!("sales_y{y:04}m{m:02}"))).collect();
    if missing.is_empty() {
        return Ok(());
    }
    // Concurrent ingests of one tenant queue here instead of racing to create the same partition.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.sales_partitions'))")
        .execute(&mut **tx)
        .await?;
    for (y, m) in missing {
        let from = NaiveDate::from_ymd_opt(*y, *m, 1).ok_or_else(|| StoreError::Corrupt(format!("month {y}-{m}")))?;
        let to = from
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| StoreError::Corrupt(format!("month {y}-{m}")))?;
        sqlx::query(AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS sales_y{y:04}m{m:02} PARTITION OF sales FOR VALUES FROM ('{from}') TO ('{to}')"
        )))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Loads the sales lines through `COPY` into a staging table, then inserts the new ones and adds
/// them to the daily aggregate in one statement. Returns how many were new.
async fn write_sales(tx: &mut Tx, maps: &IdMaps, sales: &[SalesLine]) -> Result<u64, StoreError> {
    if sales.is_empty() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    // A key repeated within the batch is stored once, as the insert below would otherwise violate the key.
    let mut seen: HashSet<(NaiveDate, &str)> = HashSet::with_capacity(sales.len());
    let mut months = BTreeSet::new();
    let mut csv = String::with_capacity(COPY_CHUNK + 512);
    sqlx::query(
        "CREATE TEMP TABLE sales_in (day date, line_key text, store_id bigint, product_id bigint, sold_at timestamp,
           quantity float8, amount_minor bigint, currency text, rate_micros bigint, amount_usd_cents bigint) ON COMMIT DROP",
    )
    .execute(&mut **tx)
    .await?;
    {
        let mut copy = tx
            .copy_in_raw(
                "COPY sales_in (day, line_key, store_id, product_id, sold_at, quantity, amount_minor, currency,
                   rate_micros, amount_usd_cents) FROM STDIN WITH (FORMAT csv)",
            )
            .await?;
        for s in sales {
            if !seen.insert((s.sold_at.date(), s.key.as_str())) {
                continue;
            }
            let store = maps.store(&s.store)?;
            let product = maps.product(&s.product)?;
            let day = s.sold_at.date();
            months.insert((day.year(), day.month()));
            // Keys have no control characters (LineKey's invariant); quotes are doubled for CSV.
            let key = s.key.as_str().replace('"', "\"\"");
            // Writing to a String cannot fail.
            let _ = writeln!(
                csv,
                "{day},\"{key}\",{store},{product},{},{},{},{},{},{}",
                s.sold_at.format("%Y-%m-%d %H:%M:%S%.f"),
                s.quantity.get(),
                s.amount.minor(),
                s.amount.currency(),
                s.rate.micros(),
                s.amount_usd().minor()
            );
            if csv.len() >= COPY_CHUNK {
                copy.send(csv.as_bytes()).await?;
                csv.clear();
            }
        }
        if !csv.is_empty() {
            copy.send(csv.as_bytes()).await?;
        }
        copy.finish().await?;
    }
    let copied = started.elapsed();
    // Without statistics the planner would guess the staging table's size.
    sqlx::query("ANALYZE sales_in").execute(&mut **tx).await?;
    ensure_partitions(tx, &months).await?;
    // Drop the lines already stored, probing the primary key line by line: a hash join would read every
    // partition of sales, whose size grows without bound, for each batch. The planner settings are
    // transaction-local and restored right after.
    sqlx::query(
        "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
                set_config('jit', 'off', true), set_config('work_mem', '64MB', true)",
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM sales_in s USING sales x WHERE x.day = s.day AND x.line_key = s.line_key")
        .execute(&mut **tx)
        .await?;
    sqlx::query("SELECT set_config('enable_hashjoin', 'on', true), set_config('enable_mergejoin', 'on', true)")
        .execute(&mut **tx)
        .await?;
    // What is left is new. A line committed by a concurrent ingest since the probe makes this insert fail
    // with a unique violation, and `apply` retries the batch.
    let new = sqlx::query("INSERT INTO sales SELECT * FROM sales_in").execute(&mut **tx).await?.rows_affected();
    sqlx::query(
        "INSERT INTO daily_demand (store_id, product_id, day, units, revenue_usd_cents)
         SELECT store_id, product_id, day, sum(quantity), sum(amount_usd_cents) FROM sales_in GROUP BY 1, 2, 3
         ON CONFLICT (store_id, product_id, day) DO UPDATE SET units = daily_demand.units + excluded.units,
           revenue_usd_cents = daily_demand.revenue_usd_cents + excluded.revenue_usd_cents",
    )
    .execute(&mut **tx)
    .await?;
    tracing::debug!(
        lines = seen.len(),
        new,
        copy_ms = u64::try_from(copied.as_millis()).unwrap_or(u64::MAX),
        total_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "sales batch written"
    );
    Ok(new)
}

async fn write_stock(tx: &mut Tx, maps: &IdMaps, stock: &[StockSnapshot]) -> Result<u64, StoreError> {
    // The last snapshot of a key wins, as it would row by row; PostgreSQL refuses to upsert one key twice per statement.
    let mut latest: HashMap<(i64, i64, NaiveDate), f64> = HashMap::with_capacity(stock.len());
    for s in stock {
        latest.insert((maps.location(&s.location)?, maps.product(&s.product)?, s.day), s.on_hand.get());
    }
    let (mut l, mut p, mut d, mut q) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((loc, prod, day), on_hand) in &latest {
        l.push(*loc);
        p.push(*prod);
        d.push(*day);
        q.push(*on_hand);
    }
    sqlx::query(
        "INSERT INTO stock_snapshots (location_id, product_id, day, on_hand)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::date[], $4::float8[])
         ON CONFLICT (location_id, product_id, day) DO UPDATE SET on_hand = excluded.on_hand",
    )
    .bind(&l)
    .bind(&p)
    .bind(&d)
    .bind(&q)
    .execute(&mut **tx)
    .await?;
    // Stockout days at stores become censored demand days; a later positive count for the same day clears it.
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    let mut back = (Vec::new(), Vec::new(), Vec::new());
    for ((loc, prod, day), on_hand) in latest.iter().filter(|((loc, ..), _)| maps.is_store(*loc)) {
        let target = if *on_hand <= 0.0 { &mut out } else { &mut back };
        target.0.push(*loc);
        target.1.push(*prod);
        target.2.push(*day);
    }
    sqlx::query(
        "INSERT INTO daily_demand (store_id, product_id, day, out_of_stock)
         SELECT s, p, d, true FROM unnest($1::bigint[], $2::bigint[], $3::date[]) AS u(s, p, d)
         ON CONFLICT (store_id, product_id, day) DO UPDATE SET out_of_stock = true",
    )
    .bind(&out.0)
    .bind(&out.1)
    .bind(&out.2)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE daily_demand x SET out_of_stock = false FROM unnest($1::bigint[], $2::bigint[], $3::date[]) AS u(s, p, d)
         WHERE x.store_id = u.s AND x.product_id = u.p AND x.day = u.d AND x.out_of_stock",
    )
    .bind(&back.0)
    .bind(&back.1)
    .bind(&back.2)
    .execute(&mut **tx)
    .await?;
    Ok(stock.len() as u64)
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
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (number) DO UPDATE SET supplier_id = excluded.supplier_id, destination_id = excluded.destination_id,
               ordered_on = excluded.ordered_on, expected_on = excluded.expected_on
             RETURNING id",
    delete_lines: "DELETE FROM purchase_order_lines WHERE order_id = $1",
    line: "INSERT INTO purchase_order_lines (order_id, product_id, quantity) VALUES ($1, $2, $3)
           ON CONFLICT (order_id, product_id) DO UPDATE SET quantity = purchase_order_lines.quantity + excluded.quantity",
};

const TRANSFER_SQL: OrderSql = OrderSql {
    header: "INSERT INTO transfers (number, from_id, to_id, shipped_on, expected_on) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (number) DO UPDATE SET from_id = excluded.from_id, to_id = excluded.to_id,
               shipped_on = excluded.shipped_on, expected_on = excluded.expected_on
             RETURNING id",
    delete_lines: "DELETE FROM transfer_lines WHERE transfer_id = $1",
    line: "INSERT INTO transfer_lines (transfer_id, product_id, quantity) VALUES ($1, $2, $3)
           ON CONFLICT (transfer_id, product_id) DO UPDATE SET quantity = transfer_lines.quantity + excluded.quantity",
};

/// Upserts order headers and replaces their lines (a product twice on one order adds up).
async fn write_orders(tx: &mut Tx, maps: &IdMaps, sql: &OrderSql, orders: &[OrderRows<'_>]) -> Result<u64, StoreError> {
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

async fn write_facts(tx: &mut Tx, maps: &IdMaps, changes: &ChangeSet) -> Result<u64, StoreError> {
    let mut n = 0;
    if !changes.stock.is_empty() {
        n += write_stock(tx, maps, &changes.stock).await?;
    }
    for lot in &changes.lots {
        sqlx::query(
            "INSERT INTO lots (location_id, product_id, code, quantity, received_on, expires_on) VALUES ($1, $2, $3, $4, $5, $6)
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
        sqlx::query(
            "INSERT INTO events (day, name, kind) VALUES ($1, $2, $3) ON CONFLICT (day, name) DO UPDATE SET kind = excluded.kind",
        )
        .bind(e.day)
        .bind(&e.name)
        .bind(e.kind.as_str())
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    for promo in &changes.promotions {
        sqlx::query(
            "INSERT INTO promotions (store_id, product_id, first_day, last_day, discount_pct) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (store_id, product_id, first_day) DO UPDATE SET last_day = excluded.last_day,
               discount_pct = excluded.discount_pct",
        )
        .bind(maps.location(promo.store())?)
        .bind(maps.product(promo.product())?)
        .bind(promo.first())
        .bind(promo.last())
        .bind(i16::from(promo.discount_pct()))
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    Ok(n)
}

const PRODUCT_QUERY: &str = "SELECT p.id, p.code, p.name, p.brand, p.category, p.unit, p.pack_size, p.shelf_life_days,
    p.cost_usd_cents, p.price_usd_cents, s.code AS supplier
    FROM products p LEFT JOIN suppliers s ON s.id = p.supplier_id ORDER BY p.code";

#[async_trait]
impl TenantStore for PgTenant {
    fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    async fn apply(&self, changes: &ChangeSet) -> Result<ChangeSummary, StoreError> {
        self.retrying_sales_races(|| self.apply_attempt(changes)).await
    }

    async fn locations(&self) -> Result<Vec<Location>, StoreError> {
        let rows: Vec<LocationRow> =
            self.read(sqlx::query_as("SELECT code, name, city, kind FROM locations ORDER BY code")).await?;
        rows.into_iter().map(Location::try_from).collect()
    }

    async fn suppliers(&self) -> Result<Vec<Supplier>, StoreError> {
        let rows: Vec<SupplierRow> = self
            .read(sqlx::query_as(
                "SELECT code, name, lead_time_mean, lead_time_sd, moq, order_days FROM suppliers ORDER BY code",
            ))
            .await?;
        rows.into_iter().map(Supplier::try_from).collect()
    }

    async fn products(&self) -> Result<Vec<Product>, StoreError> {
        // Products and their barcodes are read in one transaction so that they agree.
        let mut tx = self.begin().await?;
        let rows: Vec<ProductRow> = sqlx::query_as(PRODUCT_QUERY).fetch_all(&mut *tx).await?;
        let barcodes: Vec<(i64, String)> =
            sqlx::query_as("SELECT product_id, barcode FROM product_barcodes").fetch_all(&mut *tx).await?;
        tx.commit().await?;
        products_from_rows(rows, barcodes)
    }

    async fn sales_lines(
        &self,
        store: &LocationCode,
        product: &ProductCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SalesLine>, StoreError> {
        let rows: Vec<SalesRow> = self.read(sqlx::query_as(
            "SELECT s.line_key, l.code AS store, p.code AS product, s.sold_at, s.quantity, s.amount_minor, s.currency,
                    s.rate_micros
             FROM sales s JOIN locations l ON l.id = s.store_id JOIN products p ON p.id = s.product_id
             WHERE l.code = $1 AND p.code = $2 AND s.day BETWEEN $3 AND $4
             ORDER BY s.sold_at, s.line_key",
        )
        .bind(store.as_str())
        .bind(product.as_str())
        .bind(from)
        .bind(to)).await?;
        rows.into_iter().map(SalesLine::try_from).collect()
    }

    async fn daily_demand(&self, q: &DemandQuery) -> Result<Vec<DailyDemand>, StoreError> {
        // One read transaction, so that codes and rows agree.
        let mut tx = self.begin().await?;
        let rows: Vec<DemandIdRow> = sqlx::query_as(
            "SELECT d.store_id, d.product_id, d.day, d.units, d.revenue_usd_cents, d.out_of_stock
             FROM daily_demand d
             WHERE ($1::text IS NULL OR d.store_id = (SELECT id FROM locations WHERE code = $1))
               AND ($2::text IS NULL OR d.product_id = (SELECT id FROM products WHERE code = $2))
               AND ($3::date IS NULL OR d.day >= $3) AND ($4::date IS NULL OR d.day <= $4)
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
        // The latest day of each location × product by walking the primary key (location, product,
        // day) backwards — no sort of the snapshots — then named and ordered by code. Conditions
        // only for the filters given, so that the walk covers only what was asked for.
        let mut filters = Vec::new();
        if location.is_some() {
            filters.push(format!("location_id = (SELECT id FROM locations WHERE code = ${})", filters.len() + 1));
        }
        if product.is_some() {
            filters.push(format!("product_id = (SELECT id FROM products WHERE code = ${})", filters.len() + 1));
        }
        let filter = if filters.is_empty() { String::new() } else { format!("WHERE {}", filters.join(" AND ")) };
        let sql = format!(
            "SELECT l.code AS location, p.code AS product, s.day, s.on_hand
             FROM (SELECT DISTINCT ON (location_id, product_id) location_id, product_id, day, on_hand
                   FROM stock_snapshots {filter}
                   ORDER BY location_id DESC, product_id DESC, day DESC) s
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
        let rows = self.read(query).await?;
        rows.into_iter().map(StockSnapshot::try_from).collect()
    }

    async fn promotions(&self) -> Result<Vec<Promotion>, StoreError> {
        let rows: Vec<PromotionRow> = self
            .read(sqlx::query_as(
                "SELECT l.code AS store, p.code AS product, t.first_day, t.last_day, CAST(t.discount_pct AS BIGINT) AS discount_pct
             FROM promotions t JOIN locations l ON l.id = t.store_id JOIN products p ON p.id = t.product_id
             ORDER BY l.code, p.code, t.first_day",
            ))
            .await?;
        rows.into_iter().map(Promotion::try_from).collect()
    }

    async fn lots(&self) -> Result<Vec<Lot>, StoreError> {
        let rows: Vec<LotRow> = self
            .read(sqlx::query_as(
                "SELECT l.code AS location, p.code AS product, t.code, t.quantity, t.received_on, t.expires_on
             FROM lots t JOIN locations l ON l.id = t.location_id JOIN products p ON p.id = t.product_id
             WHERE t.quantity > 0 ORDER BY t.expires_on, l.code, p.code, t.code",
            ))
            .await?;
        rows.into_iter().map(Lot::try_from).collect()
    }

    async fn purchase_orders(&self) -> Result<Vec<PurchaseOrder>, StoreError> {
        let rows: Vec<OrderLineRow> = self
            .read(sqlx::query_as(
                "SELECT o.number, s.code AS party, l.code AS destination, o.ordered_on AS start_on, o.expected_on,
                    p.code AS product, x.quantity
             FROM purchase_orders o JOIN suppliers s ON s.id = o.supplier_id JOIN locations l ON l.id = o.destination_id
             JOIN purchase_order_lines x ON x.order_id = o.id JOIN products p ON p.id = x.product_id
             ORDER BY o.expected_on, o.number, p.code",
            ))
            .await?;
        purchase_orders_from_rows(rows)
    }

    async fn transfers(&self) -> Result<Vec<Transfer>, StoreError> {
        let rows: Vec<OrderLineRow> = self
            .read(sqlx::query_as(
                "SELECT t.number, f.code AS party, d.code AS destination, t.shipped_on AS start_on, t.expected_on,
                    p.code AS product, x.quantity
             FROM transfers t JOIN locations f ON f.id = t.from_id JOIN locations d ON d.id = t.to_id
             JOIN transfer_lines x ON x.transfer_id = t.id JOIN products p ON p.id = x.product_id
             ORDER BY t.expected_on, t.number, p.code",
            ))
            .await?;
        transfers_from_rows(rows)
    }

    async fn events(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CalendarEvent>, StoreError> {
        let rows: Vec<EventRow> = self
            .read(
                sqlx::query_as("SELECT day, name, kind FROM events WHERE day BETWEEN $1 AND $2 ORDER BY day, name")
                    .bind(from)
                    .bind(to),
            )
            .await?;
        rows.into_iter().map(CalendarEvent::try_from).collect()
    }

    async fn counts(&self) -> Result<TableCounts, StoreError> {
        let mut tx = self.begin().await?;
        let c: (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM locations), (SELECT count(*) FROM suppliers), (SELECT count(*) FROM products),
                    (SELECT count(*) FROM product_barcodes), (SELECT count(*) FROM sales),
                    (SELECT count(*) FROM daily_demand), (SELECT count(*) FROM daily_demand WHERE out_of_stock),
                    (SELECT count(*) FROM stock_snapshots), (SELECT count(*) FROM lots),
                    (SELECT count(*) FROM purchase_orders), (SELECT count(*) FROM transfers), (SELECT count(*) FROM events)",
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(super::counts_from_tuple(c))
    }

    async fn save_forecasts(&self, forecasts: &[StoredForecast]) -> Result<u64, StoreError> {
        if forecasts.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let maps = id_maps(&mut tx).await?;
        let mut stores = Vec::with_capacity(forecasts.len());
        let mut products = Vec::with_capacity(forecasts.len());
        let mut origins = Vec::with_capacity(forecasts.len());
        let mut models = Vec::with_capacity(forecasts.len());
        let mut computed = Vec::with_capacity(forecasts.len());
        let mut bodies = Vec::with_capacity(forecasts.len());
        for f in forecasts {
            stores.push(maps.store(&f.store)?);
            products.push(maps.product(&f.product)?);
            origins.push(f.forecast.origin);
            models.push(f.forecast.model.clone());
            computed.push(f.computed_at);
            bodies.push(forecast_body(f)?);
        }
        // One statement for the batch; a store × product twice in one call keeps the last.
        sqlx::query(
            "INSERT INTO forecasts (store_id, product_id, origin, model, computed_at, body)
             SELECT DISTINCT ON (s, p) s, p, o, m, c, b::jsonb
             FROM unnest($1::bigint[], $2::bigint[], $3::date[], $4::text[], $5::timestamptz[], $6::text[])
                  WITH ORDINALITY AS t(s, p, o, m, c, b, n)
             ORDER BY s, p, n DESC
             ON CONFLICT (store_id, product_id) DO UPDATE SET origin = excluded.origin, model = excluded.model,
               computed_at = excluded.computed_at, body = excluded.body",
        )
        .bind(&stores)
        .bind(&products)
        .bind(&origins)
        .bind(&models)
        .bind(&computed)
        .bind(&bodies)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(forecasts.len() as u64)
    }

    async fn forecasts(
        &self,
        store: Option<&LocationCode>,
        product: Option<&ProductCode>,
    ) -> Result<Vec<StoredForecast>, StoreError> {
        let rows: Vec<ForecastRow> = self
            .read(
                sqlx::query_as(
                    "SELECT l.code AS store, p.code AS product, f.computed_at, f.body::text AS body
                     FROM forecasts f JOIN locations l ON l.id = f.store_id JOIN products p ON p.id = f.product_id
                     WHERE ($1::text IS NULL OR l.code = $1) AND ($2::text IS NULL OR p.code = $2)
                     ORDER BY l.code, p.code",
                )
                .bind(store.map(LocationCode::as_str))
                .bind(product.map(ProductCode::as_str)),
            )
            .await?;
        rows.into_iter().map(StoredForecast::try_from).collect()
    }

    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        // The tenant's own tables, through its search_path (ANALYZE may run in a transaction).
        let mut tx = self.begin().await?;
        sqlx::query(
            "ANALYZE locations, suppliers, products, product_barcodes, sales, daily_demand, stock_snapshots, lots,
                     purchase_orders, purchase_order_lines, transfers, transfer_lines, events, promotions, forecasts,
                     traces, alerts, recommendations, ingest_requests",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_ingest(&self, run: &IngestRun) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO control.ingest_runs (tenant_id, source, started_at, finished_at, rows_read, rows_written,
               rows_rejected, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(self.tenant.id.as_uuid())
        .bind(&run.source)
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(i64::try_from(run.rows_read).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.rows_written).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.rows_rejected).unwrap_or(i64::MAX))
        .bind(run.status.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn ingest_runs(&self, limit: u32) -> Result<Vec<IngestRun>, StoreError> {
        // No tenant filter here on purpose: row-level security limits the rows to this tenant's.
        let rows: Vec<IngestRunRow> = self
            .read(
                sqlx::query_as(
                    "SELECT source, started_at, finished_at, rows_read, rows_written, rows_rejected, status
                     FROM control.ingest_runs ORDER BY id DESC LIMIT $1",
                )
                .bind(i64::from(limit)),
            )
            .await?;
        rows.into_iter().map(IngestRun::try_from).collect()
    }

    async fn save_trace(&self, trace: &Trace) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO traces (id, started_at, channel, status, duration_us, question, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
             ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, channel = excluded.channel,
               status = excluded.status, duration_us = excluded.duration_us, question = excluded.question,
               body = excluded.body",
        )
        .bind(trace.id)
        .bind(trace.started_at)
        .bind(&trace.channel)
        .bind(trace.status.as_str())
        .bind(i64::try_from(trace.duration_us).unwrap_or(i64::MAX))
        .bind(&trace.question)
        .bind(rows::trace_body(trace)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        let rows: Vec<rows::TraceRow> = self
            .read(
                sqlx::query_as(
                    "SELECT id::text AS id, started_at, channel, status, duration_us, question FROM traces
                     WHERE ($1::text IS NULL OR channel = $1) AND ($2::text IS NULL OR status = $2)
                       AND ($3::bigint IS NULL OR duration_us >= $3)
                     ORDER BY started_at DESC, id LIMIT $4",
                )
                .bind(query.channel.as_deref())
                .bind(query.status.map(|s| s.as_str()))
                .bind(query.min_duration_us.map(|d| i64::try_from(d).unwrap_or(i64::MAX)))
                .bind(i64::from(query.limit)),
            )
            .await?;
        rows.into_iter().map(TraceSummary::try_from).collect()
    }

    async fn trace(&self, id: Uuid) -> Result<Option<Trace>, StoreError> {
        let mut tx = self.begin().await?;
        let body: Option<String> =
            sqlx::query_scalar("SELECT body::text FROM traces WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        body.as_deref().map(rows::trace_from_body).transpose()
    }

    async fn apply_once(&self, key: &str, fingerprint: &str, changes: &ChangeSet) -> Result<Once, StoreError> {
        self.retrying_sales_races(|| self.apply_once_attempt(key, fingerprint, changes)).await
    }

    async fn record_alerts(
        &self,
        alerts: &[Alert],
        open_keys: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        let at = micros(at);
        let mut tx = self.begin().await?;
        // Two scans of one tenant at once queue here: each sees the other's alerts whole.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.alerts'))").execute(&mut *tx).await?;
        let mut stored = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let c = AlertColumns::of(alert)?;
            let row: AlertRow = sqlx::query_as(concat!(
                "INSERT INTO alerts (id, dedup_key, store, product, kind, severity, status, body, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'open', $7::jsonb, $8, $8)
                 ON CONFLICT (dedup_key) WHERE status <> 'resolved' DO UPDATE SET store = excluded.store,
                   product = excluded.product, kind = excluded.kind, severity = excluded.severity,
                   body = excluded.body, updated_at = excluded.updated_at
                 RETURNING ",
                alert_columns!()
            ))
            .bind(Uuid::new_v4())
            .bind(&alert.dedup_key)
            .bind(&c.store)
            .bind(&c.product)
            .bind(&c.kind)
            .bind(&c.severity)
            .bind(&c.body)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            stored.push(StoredAlert::try_from(row)?);
        }
        sqlx::query(
            "UPDATE alerts SET status = 'resolved', updated_at = $1
             WHERE status <> 'resolved' AND dedup_key <> ALL($2::text[])",
        )
        .bind(at)
        .bind(rows::live_keys(alerts, open_keys))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn alerts(&self, q: &AlertQuery) -> Result<Page<StoredAlert>, StoreError> {
        let limit = rows::page_limit(q.limit);
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new(concat!("SELECT ", alert_columns!(), " FROM alerts WHERE true"));
        for (column, value) in [
            ("store", q.store.as_deref()),
            ("product", q.product.as_deref()),
            ("kind", q.kind.as_deref()),
            ("severity", q.severity.as_deref()),
            ("status", q.status.map(|s| s.as_str())),
        ] {
            if let Some(value) = value {
                qb.push(format_args!(" AND {column} = ")).push_bind(value.to_owned());
            }
        }
        push_page(&mut qb, q.before, limit);
        let mut tx = self.begin().await?;
        let rows: Vec<AlertRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let items = rows.into_iter().map(StoredAlert::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(rows::page_of(items, limit, |a| (a.created_at, a.id)))
    }

    async fn alert(&self, id: Uuid) -> Result<Option<StoredAlert>, StoreError> {
        let rows: Vec<AlertRow> = self
            .read(sqlx::query_as(concat!("SELECT ", alert_columns!(), " FROM alerts WHERE id = $1")).bind(id))
            .await?;
        rows.into_iter().next().map(StoredAlert::try_from).transpose()
    }

    async fn acknowledge_alert(
        &self,
        id: Uuid,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<StoredAlert>, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, updated_at = $3
             WHERE id = $1 AND status = 'open'",
        )
        .bind(id)
        .bind(by)
        .bind(micros(at))
        .execute(&mut *tx)
        .await?;
        let row: Option<AlertRow> = sqlx::query_as(concat!("SELECT ", alert_columns!(), " FROM alerts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(StoredAlert::try_from).transpose()
    }

    async fn alert_feedback(&self, id: Uuid, feedback: &Feedback) -> Result<Option<StoredAlert>, StoreError> {
        let mut tx = self.begin().await?;
        let row: Option<AlertRow> = sqlx::query_as(concat!(
            "UPDATE alerts SET feedback_verdict = $2, feedback_by = $3, feedback_at = $4, feedback_note = $5,
               updated_at = GREATEST(updated_at, $4)
             WHERE id = $1 RETURNING ",
            alert_columns!()
        ))
        .bind(id)
        .bind(feedback.verdict.as_str())
        .bind(&feedback.by)
        .bind(micros(feedback.at))
        .bind(&feedback.note)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
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
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new(concat!("SELECT ", recommendation_columns!(), " FROM recommendations WHERE true"));
        for (column, value) in
            [("kind", q.kind.as_deref()), ("store", q.store.as_deref()), ("status", q.status.map(|s| s.as_str()))]
        {
            if let Some(value) = value {
                qb.push(format_args!(" AND {column} = ")).push_bind(value.to_owned());
            }
        }
        push_page(&mut qb, q.before, limit);
        let mut tx = self.begin().await?;
        let rows: Vec<RecommendationRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let items = rows.into_iter().map(StoredRecommendation::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(rows::page_of(items, limit, |r| (r.created_at, r.id)))
    }

    async fn recommendation(&self, id: Uuid) -> Result<Option<StoredRecommendation>, StoreError> {
        let rows: Vec<RecommendationRow> = self
            .read(
                sqlx::query_as(concat!("SELECT ", recommendation_columns!(), " FROM recommendations WHERE id = $1"))
                    .bind(id),
            )
            .await?;
        rows.into_iter().next().map(StoredRecommendation::try_from).transpose()
    }

    async fn decide_recommendation(
        &self,
        id: Uuid,
        decision: &Decision,
        effect: &ChangeSet,
    ) -> Result<Decided, StoreError> {
        self.retrying_sales_races(|| self.decide_attempt(id, decision, effect)).await
    }
}

impl PgTenant {
    /// Upserts recommendations by key; with `supersede_others`, pending ones of other keys become
    /// superseded (an optimisation run replaces the previous one).
    async fn upsert_recommendations(
        &self,
        recommendations: &[Recommendation],
        at: DateTime<Utc>,
        supersede_others: bool,
    ) -> Result<Vec<StoredRecommendation>, StoreError> {
        let at = micros(at);
        let mut tx = self.begin().await?;
        // Two optimisations of one tenant at once queue here.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.recommendations'))")
            .execute(&mut *tx)
            .await?;
        let mut stored = Vec::with_capacity(recommendations.len());
        let mut keys = BTreeSet::new();
        for r in recommendations {
            let c = RecommendationColumns::of(r)?;
            let row: RecommendationRow = sqlx::query_as(concat!(
                "INSERT INTO recommendations (id, dedup_key, kind, store, product, status, body, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6::jsonb, $7, $7)
                 ON CONFLICT (dedup_key) WHERE status = 'pending' DO UPDATE SET body = excluded.body,
                   updated_at = excluded.updated_at
                 RETURNING ",
                recommendation_columns!()
            ))
            .bind(Uuid::new_v4())
            .bind(&c.key)
            .bind(c.kind)
            .bind(&c.store)
            .bind(&c.product)
            .bind(&c.body)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            stored.push(StoredRecommendation::try_from(row)?);
            keys.insert(c.key);
        }
        if supersede_others {
            sqlx::query(
                "UPDATE recommendations SET status = 'superseded', updated_at = $1
                 WHERE status = 'pending' AND dedup_key <> ALL($2::text[])",
            )
            .bind(at)
            .bind(keys.into_iter().collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(stored)
    }
}
