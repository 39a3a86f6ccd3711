//! The tenant's data: stores, products, stock, sales (idempotent ingest) and forecasts.

use super::views::{ForecastView, IngestResult, Page, ProductView, SaleIn, SalesBatch, StockView, StoreView};
use super::{ApiState, decode_code_cursor, encode_code_cursor, fold, page_size};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ErrorBody, Json, Path, Query};
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use fluxion_domain::{Currency, ExchangeRate, LineKey, LocationCode, Money, ProductCode, Quantity, SalesLine};
use fluxion_memory::{ChangeSet, Once};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_stores))
        .routes(routes!(get_store))
        .routes(routes!(list_products))
        .routes(routes!(get_product))
        .routes(routes!(list_stock))
        .routes(routes!(list_forecasts))
}

pub(super) fn ingest_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(ingest_sales))
}

/// Most lines one sales request may carry.
pub const MAX_SALES_LINES: usize = 10_000;

fn unknown_code(what_es: &'static str, what_en: &'static str) -> ApiError {
    ApiError::not_found(what_es, what_en)
}

/// Lists the tenant's stores and warehouses.
#[utoipa::path(get, path = "/api/v1/stores", tag = "data", security(("bearer" = [])),
    responses(
        (status = 200, description = "Stores", body = Vec<StoreView>),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
    ))]
async fn list_stores(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Vec<StoreView>>, ApiError> {
    let catalog = api.catalog(p.tenant_for(Permission::Read)?).await?;
    Ok(Json(catalog.locations.iter().map(StoreView::from).collect()))
}

/// One store.
#[utoipa::path(get, path = "/api/v1/stores/{code}", tag = "data", security(("bearer" = [])),
    params(("code" = String, Path, description = "Store code")),
    responses(
        (status = 200, description = "The store", body = StoreView),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such store in the tenant", body = ErrorBody),
    ))]
async fn get_store(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Result<Json<StoreView>, ApiError> {
    let catalog = api.catalog(p.tenant_for(Permission::Read)?).await?;
    catalog
        .locations
        .iter()
        .find(|l| l.code.as_str() == code)
        .map(|l| Json(StoreView::from(l)))
        .ok_or_else(|| unknown_code("esa tienda", "store"))
}

/// Filters and page of products.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Words in the name, brand or code (case and accents ignored).
    pub q: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Page size, 1 to 500 (50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists the tenant's products, by code.
#[utoipa::path(get, path = "/api/v1/products", tag = "data", security(("bearer" = [])), params(ProductQuery),
    responses(
        (status = 200, description = "Products", body = Page<ProductView>),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
    ))]
async fn list_products(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<ProductQuery>,
) -> Result<Json<Page<ProductView>>, ApiError> {
    let limit = page_size(q.limit)? as usize;
    let after = decode_code_cursor(q.cursor.as_deref())?;
    let catalog = api.catalog(p.tenant_for(Permission::Read)?).await?;
    let words: Vec<String> =
        q.q.as_deref().map(|t| fold(t).split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
    let category = q.category.as_deref().map(fold);
    let mut matching = catalog.products.iter().zip(&catalog.folded).filter(|(p, (hay, cat))| {
        after.as_deref().is_none_or(|a| p.code().as_str() > a)
            && category.as_deref().is_none_or(|c| cat == c)
            && words.iter().all(|w| hay.contains(w.as_str()))
    });
    let items: Vec<ProductView> = matching.by_ref().take(limit).map(|(p, _)| ProductView::from(p)).collect();
    let next_cursor = if matching.next().is_some() { items.last().map(|p| encode_code_cursor(&p.code)) } else { None };
    Ok(Json(Page { items, next_cursor }))
}

/// One product.
#[utoipa::path(get, path = "/api/v1/products/{code}", tag = "data", security(("bearer" = [])),
    params(("code" = String, Path, description = "Product code")),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such product in the tenant", body = ErrorBody),
    ))]
async fn get_product(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    let catalog = api.catalog(p.tenant_for(Permission::Read)?).await?;
    catalog
        .products
        .iter()
        .find(|p| p.code().as_str() == code)
        .map(|p| Json(ProductView::from(p)))
        .ok_or_else(|| unknown_code("ese producto", "product"))
}

/// Filters and page of stock levels.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    /// Only this store.
    pub store: Option<String>,
    /// Only this product.
    pub product: Option<String>,
    /// Page size, 1 to 500 (50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The latest stock count of every store × product, by store and product.
#[utoipa::path(get, path = "/api/v1/stock", tag = "data", security(("bearer" = [])), params(StockQuery),
    responses(
        (status = 200, description = "Stock levels", body = Page<StockView>),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
    ))]
async fn list_stock(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<StockQuery>,
) -> Result<Json<Page<StockView>>, ApiError> {
    let limit = page_size(q.limit)? as usize;
    let after = decode_code_cursor(q.cursor.as_deref())?;
    let scoped = api.scoped(p.tenant_for(Permission::Read)?).await?;
    // A code that does not parse matches nothing.
    let (Ok(store), Ok(product)) = (
        q.store.as_deref().map(LocationCode::parse).transpose(),
        q.product.as_deref().map(ProductCode::parse).transpose(),
    ) else {
        return Ok(Json(Page { items: vec![], next_cursor: None }));
    };
    let stock = scoped.current_stock(store.as_ref(), product.as_ref()).await?;
    let position = |s: &fluxion_domain::StockSnapshot| format!("{}\u{1f}{}", s.location, s.product);
    let mut matching = stock.iter().filter(|s| {
        q.store.as_deref().is_none_or(|c| s.location.as_str() == c)
            && q.product.as_deref().is_none_or(|c| s.product.as_str() == c)
            && after.as_deref().is_none_or(|a| position(s).as_str() > a)
    });
    let page: Vec<&fluxion_domain::StockSnapshot> = matching.by_ref().take(limit).collect();
    let next_cursor =
        if matching.next().is_some() { page.last().map(|s| encode_code_cursor(&position(s))) } else { None };
    Ok(Json(Page { items: page.into_iter().map(StockView::from).collect(), next_cursor }))
}

fn decimal_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn line(i: usize, s: &SaleIn) -> Result<SalesLine, ApiError> {
    let bad = |field: &str, why: String| {
        ApiError::unprocessable(
            "invalid_sale",
            format!("Línea {}: {field} inválido: {why}", i + 1),
            format!("Line {}: invalid {field}: {why}", i + 1),
        )
    };
    let currency = Currency::parse(&s.currency).map_err(|e| bad("currency", e.to_string()))?;
    let amount = decimal_text(&s.amount)
        .ok_or_else(|| bad("amount", "must be a number or a decimal string".into()))
        .and_then(|t| Money::parse(&t, currency).map_err(|e| bad("amount", e.to_string())))?;
    let rate = match &s.rate {
        None if currency.as_str() == "USD" => ExchangeRate::ONE,
        None => return Err(bad("rate", "is required for sales not in USD".into())),
        Some(r) => ExchangeRate::parse(&r.to_string()).map_err(|e| bad("rate", e.to_string()))?,
    };
    let line = SalesLine {
        key: LineKey::parse(&s.line_key).map_err(|e| bad("line_key", e.to_string()))?,
        store: LocationCode::parse(&s.store).map_err(|e| bad("store", e.to_string()))?,
        product: ProductCode::parse(&s.product).map_err(|e| bad("product", e.to_string()))?,
        sold_at: s.sold_at,
        quantity: Quantity::new(s.quantity).map_err(|e| bad("quantity", e.to_string()))?,
        amount,
        rate,
    };
    match line.implausible(chrono::Utc::now().date_naive()) {
        Some(why) => Err(bad("line", why)),
        None => Ok(line),
    }
}

/// Records a batch of sales, once per `Idempotency-Key`: sending the same batch again with the same
/// key returns the first result and writes nothing; another batch with a used key is refused.
/// Lines are also stored once per `line_key` and day, whatever the key.
#[utoipa::path(post, path = "/api/v1/sales", tag = "data", security(("bearer" = [])), request_body = SalesBatch,
    params(("Idempotency-Key" = String, Header, description = "A unique key per batch (1 to 200 visible characters)")),
    responses(
        (status = 200, description = "Recorded (or replayed)", body = IngestResult),
        (status = 400, description = "Missing or bad Idempotency-Key, malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 409, description = "The key was used for another batch", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid lines or unknown stores/products; nothing was written", body = ErrorBody),
    ))]
async fn ingest_sales(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    Json(batch): Json<SalesBatch>,
) -> Result<Json<IngestResult>, ApiError> {
    let tenant = p.tenant_for(Permission::Ingest)?.clone();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            ApiError::invalid(
                "idempotency_key_required",
                "Falta el encabezado Idempotency-Key (1 a 200 caracteres).",
                "The Idempotency-Key header is missing (1 to 200 characters).",
            )
        })?
        .to_owned();
    if batch.lines.is_empty() || batch.lines.len() > MAX_SALES_LINES {
        return Err(ApiError::unprocessable(
            "invalid_batch",
            format!("Un lote lleva entre 1 y {MAX_SALES_LINES} líneas."),
            format!("A batch carries 1 to {MAX_SALES_LINES} lines."),
        ));
    }
    let sales = batch.lines.iter().enumerate().map(|(i, s)| line(i, s)).collect::<Result<Vec<_>, _>>()?;
    // The fingerprint is of the parsed lines: the same batch re-serialised differently is the same.
    let canonical = serde_json::to_vec(&sales).map_err(|_| ApiError::internal())?;
    let fingerprint = format!("{:x}", Sha256::digest(&canonical));
    let scoped = api.scoped(&tenant).await?;
    match scoped.apply_once(&format!("sales:{key}"), &fingerprint, &ChangeSet { sales, ..ChangeSet::default() }).await?
    {
        Once::Applied(s) => {
            Ok(Json(IngestResult { sales_new: s.sales_new, sales_duplicate: s.sales_duplicate, replayed: false }))
        }
        Once::Replayed(s) => {
            Ok(Json(IngestResult { sales_new: s.sales_new, sales_duplicate: s.sales_duplicate, replayed: true }))
        }
        Once::Conflict => Err(ApiError::conflict(
            "idempotency_key_reused",
            "Esa Idempotency-Key ya se usó con otro lote.",
            "That Idempotency-Key was already used for another batch.",
        )),
    }
}

/// Which forecasts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForecastQuery {
    /// Only this store.
    pub store: Option<String>,
    /// Only this product.
    pub product: Option<String>,
    /// Days ahead, 1 to 42 (14).
    #[param(minimum = 1, maximum = 42)]
    pub horizon: Option<u32>,
    /// Page size, 1 to 500 (50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The latest forecasts, with P10–P90 bands, their model and backtest error.
#[utoipa::path(get, path = "/api/v1/forecasts", tag = "data", security(("bearer" = [])), params(ForecastQuery),
    responses(
        (status = 200, description = "Forecasts", body = Page<ForecastView>),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
    ))]
async fn list_forecasts(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<ForecastQuery>,
) -> Result<Json<Page<ForecastView>>, ApiError> {
    let limit = page_size(q.limit)? as usize;
    let horizon = match q.horizon {
        None => 14,
        Some(h @ 1..=42) => h as usize,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_horizon",
                "horizon debe estar entre 1 y 42 días.",
                "horizon must be between 1 and 42 days.",
            ));
        }
    };
    let after = decode_code_cursor(q.cursor.as_deref())?;
    let scoped = api.scoped(p.tenant_for(Permission::Read)?).await?;
    // A code that does not parse matches nothing.
    let store = match q.store.as_deref().map(LocationCode::parse) {
        Some(Err(_)) => return Ok(Json(Page { items: vec![], next_cursor: None })),
        other => other.and_then(Result::ok),
    };
    let product = match q.product.as_deref().map(ProductCode::parse) {
        Some(Err(_)) => return Ok(Json(Page { items: vec![], next_cursor: None })),
        other => other.and_then(Result::ok),
    };
    let forecasts = scoped.forecasts(store.as_ref(), product.as_ref()).await?;
    let position = |f: &fluxion_memory::StoredForecast| format!("{}\u{1f}{}", f.store, f.product);
    let mut matching = forecasts.iter().filter(|f| after.as_deref().is_none_or(|a| position(f).as_str() > a));
    let page: Vec<&fluxion_memory::StoredForecast> = matching.by_ref().take(limit).collect();
    let next_cursor =
        if matching.next().is_some() { page.last().map(|f| encode_code_cursor(&position(f))) } else { None };
    Ok(Json(Page { items: page.into_iter().map(|f| ForecastView::of(f, horizon)).collect(), next_cursor }))
}
