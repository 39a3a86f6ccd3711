//! Alerts (list, acknowledge, feedback) and recommendations (list, approve exactly once, reject).

use super::views::{AlertView, Page, RecommendationView};
use super::{ApiState, decode_cursor, encode_cursor, page_size};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ErrorBody, Json, Path, Query};
use axum::Extension;
use axum::extract::State;
use chrono::Utc;
use fluxion_memory::{
    AlertQuery, AlertStatus, ChangeSet, Decided, Decision, Feedback, RecommendationQuery, RecommendationStatus,
    StoreError, StoredRecommendation, TenantStore, Verdict,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(acknowledge))
        .routes(routes!(feedback))
        .routes(routes!(list_recommendations))
        .routes(routes!(get_recommendation))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

const KINDS: [&str; 7] = [
    "imminent_stockout",
    "overstock",
    "sales_anomaly",
    "phantom_stock",
    "expiring_lot",
    "transfer_opportunity",
    "stale_data",
];
const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

fn one_of(value: Option<&str>, allowed: &[&str], field: &'static str) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_owned())),
        Some(_) => Err(ApiError::invalid(
            "invalid_filter",
            format!("{field} debe ser uno de: {}.", allowed.join(", ")),
            format!("{field} must be one of: {}.", allowed.join(", ")),
        )),
    }
}

/// Alert filters and page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    /// Only this store.
    pub store: Option<String>,
    /// Only this product.
    pub product: Option<String>,
    /// Only this kind.
    #[param(
        pattern = "^(imminent_stockout|overstock|sales_anomaly|phantom_stock|expiring_lot|transfer_opportunity|stale_data)$"
    )]
    pub kind: Option<String>,
    /// Only this severity.
    #[param(pattern = "^(info|warning|critical)$")]
    pub severity: Option<String>,
    /// open, acknowledged or resolved.
    #[param(pattern = "^(open|acknowledged|resolved)$")]
    pub status: Option<String>,
    /// Page size, 1 to 500 (50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "decisions", security(("bearer" = [])), params(AlertFilter),
    responses(
        (status = 200, description = "Alerts", body = Page<AlertView>),
        (status = 400, description = "Bad filter or cursor", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
    ))]
async fn list_alerts(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Query(f): Query<AlertFilter>,
) -> Result<Json<Page<AlertView>>, ApiError> {
    let query = AlertQuery {
        store: f.store,
        product: f.product,
        kind: one_of(f.kind.as_deref(), &KINDS, "kind")?,
        severity: one_of(f.severity.as_deref(), &SEVERITIES, "severity")?,
        status: one_of(f.status.as_deref(), &["open", "acknowledged", "resolved"], "status")?
            .as_deref()
            .and_then(AlertStatus::parse),
        before: decode_cursor(f.cursor.as_deref())?,
        limit: page_size(f.limit)?,
    };
    let scoped = api.scoped(p.tenant_for(Permission::Read)?).await?;
    let page = scoped.alerts(&query).await?;
    Ok(Json(Page {
        items: page.items.iter().map(AlertView::from).collect(),
        next_cursor: page.next.map(encode_cursor),
    }))
}

fn no_alert() -> ApiError {
    ApiError::not_found("esa alerta", "alert")
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "decisions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Alert id")),
    responses(
        (status = 200, description = "The alert", body = AlertView),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such alert in the tenant", body = ErrorBody),
    ))]
async fn get_alert(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<AlertView>, ApiError> {
    let scoped = api.scoped(p.tenant_for(Permission::Read)?).await?;
    scoped.alert(id).await?.map(|a| Json(AlertView::from(&a))).ok_or_else(no_alert)
}

/// Acknowledges an alert ("I am on it"). Acknowledging twice changes nothing.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", tag = "decisions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Alert id")),
    responses(
        (status = 200, description = "The alert, acknowledged", body = AlertView),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed (viewers cannot)", body = ErrorBody),
        (status = 404, description = "No such alert in the tenant", body = ErrorBody),
    ))]
async fn acknowledge(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<AlertView>, ApiError> {
    let scoped = api.scoped(p.tenant_for(Permission::Act)?).await?;
    scoped.acknowledge_alert(id, &p.actor(), Utc::now()).await?.map(|a| Json(AlertView::from(&a))).ok_or_else(no_alert)
}

/// Whether an alert helped.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackIn {
    /// "useful" or "wrong".
    #[schema(pattern = "^(useful|wrong)$")]
    pub verdict: String,
    /// Why (at most 500 characters).
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Says whether an alert was useful or wrong (the latest feedback counts).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/feedback", tag = "decisions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Alert id")), request_body = FeedbackIn,
    responses(
        (status = 200, description = "The alert with its feedback", body = AlertView),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed (viewers cannot)", body = ErrorBody),
        (status = 404, description = "No such alert in the tenant", body = ErrorBody),
        (status = 422, description = "Invalid verdict or note", body = ErrorBody),
    ))]
async fn feedback(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
    Json(body): Json<FeedbackIn>,
) -> Result<Json<AlertView>, ApiError> {
    let tenant = p.tenant_for(Permission::Act)?;
    let verdict = Verdict::parse(body.verdict.trim()).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_verdict",
            "verdict debe ser useful o wrong.",
            "verdict must be useful or wrong.",
        )
    })?;
    let note = body.note.as_deref().map(|n| super::text_field(n, "note", 500)).transpose()?;
    let scoped = api.scoped(tenant).await?;
    let feedback = Feedback { verdict, by: p.actor(), at: Utc::now(), note };
    let alert = scoped.alert_feedback(id, &feedback).await?.ok_or_else(no_alert)?;
    let kind = alert.alert.kind.as_str();
    metrics::counter!("fluxion_alert_feedback_total", "kind" => kind, "verdict" => verdict.as_str()).increment(1);
    Ok(Json(AlertView::from(&alert)))
}

/// Recommendation filters and page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationFilter {
    /// "order" or "transfer".
    #[param(pattern = "^(order|transfer)$")]
    pub kind: Option<String>,
    /// Only this receiving store.
    pub store: Option<String>,
    /// pending, approved, rejected or superseded.
    #[param(pattern = "^(pending|approved|rejected|superseded)$")]
    pub status: Option<String>,
    /// Page size, 1 to 500 (50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists recommended orders and transfers, newest first.
#[utoipa::path(get, path = "/api/v1/recommendations", tag = "decisions", security(("bearer" = [])),
    params(RecommendationFilter),
    responses(
        (status = 200, description = "Recommendations", body = Page<RecommendationView>),
        (status = 400, description = "Bad filter or cursor", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
    ))]
async fn list_recommendations(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Query(f): Query<RecommendationFilter>,
) -> Result<Json<Page<RecommendationView>>, ApiError> {
    let query = RecommendationQuery {
        kind: one_of(f.kind.as_deref(), &["order", "transfer"], "kind")?,
        store: f.store,
        status: one_of(f.status.as_deref(), &["pending", "approved", "rejected", "superseded"], "status")?
            .as_deref()
            .and_then(RecommendationStatus::parse),
        before: decode_cursor(f.cursor.as_deref())?,
        limit: page_size(f.limit)?,
    };
    let scoped = api.scoped(p.tenant_for(Permission::Read)?).await?;
    let page = scoped.recommendations(&query).await?;
    Ok(Json(Page {
        items: page.items.iter().map(RecommendationView::from).collect(),
        next_cursor: page.next.map(encode_cursor),
    }))
}

fn no_recommendation() -> ApiError {
    ApiError::not_found("esa recomendación", "recommendation")
}

/// One recommendation.
#[utoipa::path(get, path = "/api/v1/recommendations/{id}", tag = "decisions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Recommendation id")),
    responses(
        (status = 200, description = "The recommendation", body = RecommendationView),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such recommendation in the tenant", body = ErrorBody),
    ))]
async fn get_recommendation(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<RecommendationView>, ApiError> {
    let scoped = api.scoped(p.tenant_for(Permission::Read)?).await?;
    scoped.recommendation(id).await?.map(|r| Json(RecommendationView::from(&r))).ok_or_else(no_recommendation)
}

fn already(r: &StoredRecommendation) -> ApiError {
    ApiError::conflict(
        "already_decided",
        format!(
            "Esta recomendación ya está {}.",
            match r.status {
                RecommendationStatus::Superseded => "reemplazada por una más reciente",
                other => other.label_es(),
            }
        ),
        format!("This recommendation is already {}.", r.status.as_str()),
    )
}

/// Approves a recommendation: the purchase order or transfer is created, exactly once however many
/// times this is called. A second approval answers 409 with the decision already taken.
#[utoipa::path(post, path = "/api/v1/recommendations/{id}/approve", tag = "decisions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Recommendation id")),
    responses(
        (status = 200, description = "Approved and executed", body = RecommendationView),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed (viewers cannot)", body = ErrorBody),
        (status = 404, description = "No such recommendation in the tenant", body = ErrorBody),
        (status = 409, description = "Already decided", body = ErrorBody),
        (status = 422, description = "It cannot be executed (no supplier on file)", body = ErrorBody),
    ))]
async fn approve(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<RecommendationView>, ApiError> {
    let scoped = api.scoped(p.tenant_for(Permission::Act)?).await?;
    let current = scoped.recommendation(id).await?.ok_or_else(no_recommendation)?;
    match approve_once(scoped.as_ref(), &current, &p.actor(), None).await? {
        Approval::Done(r) => {
            tracing::info!(recommendation = %id, by = %p.actor(), executed_as = ?r.executed_as, "recommendation approved");
            Ok(Json(RecommendationView::from(&r)))
        }
        Approval::Again(r) | Approval::Already(r) => Err(already(&r)),
        Approval::NotFound => Err(no_recommendation()),
        Approval::NotExecutable(e) => Err(ApiError::unprocessable(
            "not_executable",
            format!("No se puede ejecutar: {e}."),
            format!("It cannot be executed: {e}."),
        )),
    }
}

/// What approving a recommendation did.
#[derive(Debug)]
pub(crate) enum Approval {
    /// Approved now: its purchase order or transfer was written with the approval.
    Done(StoredRecommendation),
    /// Approved before by the same person (a double click, a redelivery): nothing new was written.
    Again(StoredRecommendation),
    /// Decided before by someone else, rejected, or superseded.
    Already(StoredRecommendation),
    /// Not in this tenant.
    NotFound,
    /// It cannot be executed (why, in Spanish: no supplier on file …).
    NotExecutable(String),
}

/// Approves `current` as `by`, exactly once whatever the channel (API, WhatsApp, dashboard): the
/// status moves from pending and the order or transfer is written in one transaction, so however
/// many times and from however many places it is approved, one order or transfer exists.
pub(crate) async fn approve_once(
    store: &dyn TenantStore,
    current: &StoredRecommendation,
    by: &str,
    note: Option<String>,
) -> Result<Approval, StoreError> {
    let again =
        |r: &StoredRecommendation| r.status == RecommendationStatus::Approved && r.decided_by.as_deref() == Some(by);
    match current.status {
        _ if again(current) => return Ok(Approval::Again(current.clone())),
        RecommendationStatus::Pending => {}
        _ => return Ok(Approval::Already(current.clone())),
    }
    let suppliers = store.suppliers().await?;
    let today = Utc::now().date_naive();
    let (number, effect) =
        match fluxion_agents::optimizer::execution(current.id, &current.recommendation, &suppliers, today) {
            Ok(x) => x,
            Err(e) => return Ok(Approval::NotExecutable(e.to_string())),
        };
    let decision = Decision { approve: true, by: by.to_owned(), at: Utc::now(), note, executed_as: Some(number) };
    Ok(match store.decide_recommendation(current.id, &decision, &effect).await? {
        Decided::Done(r) => Approval::Done(r),
        Decided::Already(r) if again(&r) => Approval::Again(r),
        Decided::Already(r) => Approval::Already(r),
        Decided::NotFound => Approval::NotFound,
    })
}

/// Why a recommendation is rejected.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectIn {
    /// Why (at most 500 characters).
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Rejects a recommendation.
#[utoipa::path(post, path = "/api/v1/recommendations/{id}/reject", tag = "decisions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Recommendation id")), request_body = RejectIn,
    responses(
        (status = 200, description = "Rejected", body = RecommendationView),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed (viewers cannot)", body = ErrorBody),
        (status = 404, description = "No such recommendation in the tenant", body = ErrorBody),
        (status = 409, description = "Already decided", body = ErrorBody),
        (status = 422, description = "Invalid note", body = ErrorBody),
    ))]
async fn reject(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
    Json(body): Json<RejectIn>,
) -> Result<Json<RecommendationView>, ApiError> {
    let tenant = p.tenant_for(Permission::Act)?;
    let note = body.note.as_deref().map(|n| super::text_field(n, "note", 500)).transpose()?;
    let scoped = api.scoped(tenant).await?;
    let decision = Decision { approve: false, by: p.actor(), at: Utc::now(), note, executed_as: None };
    match scoped.decide_recommendation(id, &decision, &ChangeSet::default()).await? {
        Decided::Done(r) => Ok(Json(RecommendationView::from(&r))),
        Decided::Already(r) => Err(already(&r)),
        Decided::NotFound => Err(no_recommendation()),
    }
}
