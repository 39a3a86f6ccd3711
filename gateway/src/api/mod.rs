//! REST API v1 (`/api/v1/…`): its shared state, the middleware every request passes (request id,
//! metrics, security headers, CORS, timeout, body limit, authentication, rate limits), and the
//! routes with their OpenAPI description.

mod accounts;
mod admin;
pub(crate) mod ask;
pub(crate) mod auth_routes;
mod data;
pub(crate) mod decisions;
pub mod openapi;
pub(crate) mod traces;
pub mod views;

use crate::auth::{AuthConfig, Caller, Principal, api_key_matches, split_api_key};
use crate::error::ApiError;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use fluxion_domain::{Tenant, TenantId, TenantSlug};
use fluxion_memory::{Limit, RateKey, RateLimiter, Role, Store, TenantStore};
use fluxion_orchestrator::Runtime;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

/// Request budgets: tiers of tenants, API keys' default, logins'.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// The tier of tenants not listed in `tenant_tiers`.
    pub default_tier: String,
    /// Tier name → budget of a whole tenant (all its users and keys together).
    pub tiers: HashMap<String, Limit>,
    /// Tenant slug → tier name.
    pub tenant_tiers: HashMap<String, String>,
    /// Each API key's own budget unless the key sets one.
    pub api_key: Limit,
    /// Login attempts per email.
    pub login: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            default_tier: "standard".into(),
            tiers: HashMap::from([("standard".into(), Limit::new(1_200, 200))]),
            tenant_tiers: HashMap::new(),
            api_key: Limit::new(600, 100),
            login: Limit::new(10, 5),
        }
    }
}

impl RateLimits {
    /// A tenant's budget.
    pub fn tenant(&self, slug: &TenantSlug) -> Limit {
        let tier = self.tenant_tiers.get(slug.as_str()).unwrap_or(&self.default_tier);
        self.tiers.get(tier).or_else(|| self.tiers.get(&self.default_tier)).copied().unwrap_or(Limit::new(1_200, 200))
    }
}

/// HTTP hygiene settings.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request body, bytes.
    pub body_bytes: usize,
    /// Largest sales batch body, bytes.
    pub ingest_body_bytes: usize,
    /// Longest a request may take (asks excepted).
    pub request_timeout: Duration,
    /// Longest an ask may take.
    pub ask_timeout: Duration,
    /// Origins allowed to call from a browser (empty: none besides the same origin).
    pub cors_origins: Vec<String>,
    /// How long a tenant's stores and products are served from memory before being read again.
    pub catalog_ttl: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            body_bytes: 256 * 1024,
            ingest_body_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(15),
            ask_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            catalog_ttl: Duration::from_secs(10),
        }
    }
}

/// What the API's handlers share.
pub struct Api {
    /// The relational store.
    pub store: Arc<dyn Store>,
    /// The agents.
    pub runtime: Runtime,
    /// Credentials.
    pub auth: AuthConfig,
    /// Request budgets' keeper.
    pub limiter: Arc<dyn RateLimiter>,
    /// Request budgets.
    pub limits: RateLimits,
    /// Body sizes, timeouts, CORS.
    pub http: HttpLimits,
    /// The web dashboard's settings.
    pub dashboard: crate::dashboard::DashboardConfig,
    catalogs: CatalogCache,
}

/// A tenant's stores and products as the API serves them.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub locations: Vec<fluxion_domain::Location>,
    pub products: Vec<fluxion_domain::Product>,
    /// Each product's name, brand and code, and its category, folded for search (same order).
    pub folded: Vec<(String, String)>,
}

/// Text as search compares it: the chat matcher's normalisation (lower case, no accents, no
/// punctuation: "P.A.N." is "pan"), words joined by one space.
pub(crate) fn fold(s: &str) -> String {
    fluxion_agents::chat::text::normalize(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Catalogs by tenant id, each kept for `HttpLimits::catalog_ttl` (they change only with imports).
#[derive(Debug, Default)]
struct CatalogCache {
    entries: std::sync::Mutex<HashMap<TenantId, (Instant, Arc<Catalog>)>>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("auth", &self.auth).field("limiter", &self.limiter.kind()).finish_non_exhaustive()
    }
}

/// The API's state as handlers receive it.
pub type ApiState = Arc<Api>;

impl Api {
    /// The API over `store` and `runtime`, with default limits and budgets.
    pub fn new(store: Arc<dyn Store>, runtime: Runtime, auth: AuthConfig, limiter: Arc<dyn RateLimiter>) -> Self {
        Self {
            store,
            runtime,
            auth,
            limiter,
            limits: RateLimits::default(),
            http: HttpLimits::default(),
            dashboard: crate::dashboard::DashboardConfig::default(),
            catalogs: CatalogCache::default(),
        }
    }

    /// The tenant's stores and products, from memory while fresh.
    pub(crate) async fn catalog(&self, tenant: &Tenant) -> Result<Arc<Catalog>, ApiError> {
        let ttl = self.http.catalog_ttl;
        if let Some((at, c)) =
            self.catalogs.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&tenant.id)
            && at.elapsed() < ttl
        {
            return Ok(c.clone());
        }
        let scoped = self.scoped(tenant).await?;
        let products = scoped.products().await?;
        let folded = products
            .iter()
            .map(|p| (fold(&format!("{} {} {}", p.name(), p.brand(), p.code())), fold(p.category())))
            .collect();
        let catalog = Arc::new(Catalog { locations: scoped.locations().await?, products, folded });
        if !ttl.is_zero() {
            let mut entries = self.catalogs.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            entries.insert(tenant.id, (Instant::now(), catalog.clone()));
        }
        Ok(catalog)
    }

    /// The store of the caller's tenant.
    pub(crate) async fn scoped(&self, tenant: &Tenant) -> Result<Arc<dyn TenantStore>, ApiError> {
        let scoped = self.store.scope(&tenant.slug).await?;
        // A tenant deleted and created again under the same slug is another tenant.
        if scoped.tenant().id != tenant.id {
            return Err(ApiError::invalid_token());
        }
        Ok(scoped)
    }
}

/// The API's routes and their OpenAPI document.
pub fn routes(api: ApiState) -> (axum::Router, utoipa::openapi::OpenApi) {
    let authenticated = || middleware::from_fn_with_state(api.clone(), authenticate);
    let within = |limit: Duration| middleware::from_fn(move |req: Request, next: Next| time_limit(limit, req, next));
    let public = auth_routes::routes().layer(within(api.http.request_timeout));
    let ingest = data::ingest_routes().layer(DefaultBodyLimit::max(api.http.ingest_body_bytes));
    let protected = OpenApiRouter::new()
        .merge(auth_routes::me_routes())
        .merge(accounts::routes())
        .merge(admin::routes())
        .merge(data::routes())
        .merge(ingest)
        .merge(decisions::routes())
        .merge(traces::routes())
        .layer(authenticated())
        .layer(within(api.http.request_timeout));
    // Questions run the agents: they have their own, longer, bound.
    let asking = ask::routes().layer(authenticated()).layer(within(api.http.ask_timeout));
    let (router, doc) = OpenApiRouter::with_openapi(openapi::base())
        .merge(public)
        .merge(protected)
        .merge(asking)
        .layer(DefaultBodyLimit::max(api.http.body_bytes))
        .with_state(api.clone())
        .split_for_parts();
    (router, openapi::complete(doc))
}

/// Wraps the whole application (health, API, metrics): request ids, metrics, security headers, CORS.
pub fn hygiene(router: axum::Router, cors_origins: &[String]) -> axum::Router {
    let request_id = HeaderName::from_static("x-request-id");
    let mut router = router
        .layer(middleware::from_fn(observe))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    let origins: Vec<HeaderValue> = cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if !origins.is_empty() {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    HeaderName::from_static("idempotency-key"),
                    HeaderName::from_static("x-api-key"),
                    request_id.clone(),
                ])
                .expose_headers([header::RETRY_AFTER, request_id.clone()])
                .max_age(Duration::from_secs(600)),
        );
    }
    router
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// The request id of a request (set by the outermost layer).
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(|s| s.chars().take(128).collect())
}

/// Records every request's rate and latency by route and status, in a span carrying its request id.
async fn observe(req: Request, next: Next) -> Response {
    use tracing::Instrument;
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let id = request_id(req.headers()).unwrap_or_default();
    let span = tracing::info_span!("http", %method, %route, request_id = %id);
    let response = next.run(req).instrument(span).await;
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!("fluxion_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("fluxion_http_request_duration_seconds", "method" => method, "route" => route).record(elapsed);
    response
}

/// Bounds how long a request may take.
pub(crate) async fn time_limit(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    }
}

/// The credential presented: `Authorization: Bearer …` or `X-Api-Key`.
fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty());
    }
    headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|t| !t.is_empty())
}

/// Who the credential belongs to.
pub(crate) async fn principal_of(api: &Api, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = presented(headers).ok_or_else(ApiError::missing_credentials)?;
    if token.len() > 4096 {
        return Err(ApiError::invalid_token());
    }
    if token.starts_with("fxk_") {
        let (prefix, secret) = split_api_key(token).ok_or_else(ApiError::invalid_token)?;
        let record = api.store.accounts().api_key_by_prefix(prefix).await?.ok_or_else(ApiError::invalid_token)?;
        if record.revoked_at.is_some() || !api_key_matches(&record, secret) {
            return Err(ApiError::invalid_token());
        }
        let tenant = api.store.tenant_by_id(record.tenant).await?.ok_or_else(ApiError::invalid_token)?;
        return Ok(Principal {
            caller: Caller::ApiKey {
                id: record.id,
                prefix: record.prefix,
                scopes: record.scopes,
                rate_per_minute: record.rate_per_minute,
            },
            tenant: Some(tenant),
        });
    }
    if api.auth.is_admin_token(token) {
        return Ok(Principal { caller: Caller::Admin, tenant: None });
    }
    let claims = api.auth.verify_access(token)?;
    let id = Uuid::parse_str(&claims.sub).map_err(|_| ApiError::invalid_token())?;
    let role = Role::parse(&claims.role).ok_or_else(ApiError::invalid_token)?;
    let tenant = match (claims.tid.as_deref(), role) {
        (None, Role::Operator) => None,
        (Some(tid), r) if r != Role::Operator => {
            let tid = Uuid::parse_str(tid).map_err(|_| ApiError::invalid_token())?;
            let tenant = api.store.tenant_by_id(TenantId::from_uuid(tid)).await?.ok_or_else(ApiError::invalid_token)?;
            Some(tenant)
        }
        _ => return Err(ApiError::invalid_token()),
    };
    Ok(Principal { caller: Caller::User { id, role }, tenant })
}

/// Authenticates the request, takes it from its budgets, and hands the [`Principal`] to the handler.
async fn authenticate(State(api): State<ApiState>, mut req: Request, next: Next) -> Response {
    let principal = match principal_of(&api, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let remaining = match spend(&api, &principal).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    req.extensions_mut().insert(principal);
    let mut response = next.run(req).await;
    if let Some(r) = remaining {
        response.headers_mut().insert("x-ratelimit-remaining", HeaderValue::from(r));
    }
    response
}

/// Takes one request from each budget the caller draws from (API calls and dashboard pages alike):
/// the fewest requests left, or 429 when one is spent.
pub(crate) async fn spend(api: &Api, p: &Principal) -> Result<Option<u32>, ApiError> {
    let mut remaining = None;
    for (key, limit) in budgets(api, p) {
        let decision = api.limiter.check(&key, limit).await;
        if !decision.allowed {
            metrics::counter!("fluxion_rate_limited_total", "subject" => key.subject.split(':').next().unwrap_or("").to_owned())
                .increment(1);
            return Err(ApiError::rate_limited(decision.retry_after.as_secs_f64().ceil() as u64));
        }
        remaining = Some(remaining.map_or(decision.remaining, |r: u32| r.min(decision.remaining)));
    }
    Ok(remaining)
}

/// The budgets a request draws from: its tenant's, and its API key's own.
fn budgets(api: &Api, p: &Principal) -> Vec<(RateKey, Limit)> {
    let mut out = Vec::with_capacity(2);
    match &p.tenant {
        Some(t) => {
            out.push((RateKey { namespace: t.slug.to_string(), subject: "tenant".into() }, api.limits.tenant(&t.slug)))
        }
        None => out.push((
            RateKey { namespace: "_staff".into(), subject: p.actor() },
            api.limits.tiers.get(&api.limits.default_tier).copied().unwrap_or(Limit::new(1_200, 200)),
        )),
    }
    if let (Caller::ApiKey { prefix, rate_per_minute, .. }, Some(t)) = (&p.caller, &p.tenant) {
        // A key with its own rate may burst ten seconds of it.
        let limit = rate_per_minute.map_or(api.limits.api_key, |r| Limit::new(r, (r / 6).max(1)));
        out.push((RateKey { namespace: t.slug.to_string(), subject: format!("key:{prefix}") }, limit));
    }
    out
}

/// Page size: 1 to 500, 50 by default.
pub(crate) fn page_size(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=500) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "invalid_limit",
            "limit debe estar entre 1 y 500.",
            "limit must be between 1 and 500.",
        )),
    }
}

/// A keyset cursor: the last item's `(created_at, id)`.
pub(crate) fn encode_cursor(position: (DateTime<Utc>, Uuid)) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", position.0.timestamp_micros(), position.1))
}

/// Reads a cursor made by [`encode_cursor`].
pub(crate) fn decode_cursor(cursor: Option<&str>) -> Result<Option<(DateTime<Utc>, Uuid)>, ApiError> {
    let Some(cursor) = cursor else { return Ok(None) };
    let bad = || ApiError::invalid("invalid_cursor", "El cursor no es válido.", "The cursor is not valid.");
    let text =
        URL_SAFE_NO_PAD.decode(cursor.as_bytes()).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad)?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let at = micros.parse::<i64>().ok().and_then(DateTime::from_timestamp_micros).ok_or_else(bad)?;
    Ok(Some((at, Uuid::parse_str(id).map_err(|_| bad())?)))
}

/// A cursor over codes (lists sorted by code).
pub(crate) fn encode_code_cursor(code: &str) -> String {
    URL_SAFE_NO_PAD.encode(code)
}

/// Reads a cursor made by [`encode_code_cursor`].
pub(crate) fn decode_code_cursor(cursor: Option<&str>) -> Result<Option<String>, ApiError> {
    cursor
        .map(|c| {
            URL_SAFE_NO_PAD.decode(c.as_bytes()).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| {
                ApiError::invalid("invalid_cursor", "El cursor no es válido.", "The cursor is not valid.")
            })
        })
        .transpose()
}

/// Text a person typed, trimmed: refused when empty, longer than `max` characters, or with control
/// characters.
pub(crate) fn text_field(value: &str, field: &'static str, max: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max || trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("El campo {field} debe tener entre 1 y {max} caracteres, sin caracteres de control."),
            format!("Field {field} must have 1 to {max} characters, without control characters."),
        ));
    }
    Ok(trimmed.to_owned())
}
