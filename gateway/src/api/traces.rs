//! Traces: owners read their tenant's; Fluxion operators read any tenant's (and nothing else).

use super::ApiState;
use super::views::{TraceSummaryView, TraceView};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ErrorBody, Json, Path, Query};
use axum::Extension;
use axum::extract::State;
use fluxion_domain::{SpanStatus, Tenant, TenantSlug, Trace, TraceSummary};
use fluxion_memory::TraceQuery;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(list_traces)).routes(routes!(get_trace))
}

/// Trace filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TraceFilter {
    /// Operators only: this tenant's traces (default: every tenant's). Others may only name their own.
    pub tenant: Option<String>,
    /// Only from this channel (api, whatsapp, cli, dashboard …).
    pub channel: Option<String>,
    /// ok, degraded, error or timeout.
    #[param(pattern = "^(ok|degraded|error|timeout)$")]
    pub status: Option<String>,
    /// Only those that took at least this long, ms.
    pub min_duration_ms: Option<u64>,
    /// At most this many, 1 to 500 (50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The tenants whose traces the caller may read (one, or every one for operators).
pub(crate) async fn readable(api: &ApiState, p: &Principal, named: Option<&str>) -> Result<Vec<Tenant>, ApiError> {
    if p.is_operator() {
        return match named {
            Some(slug) => {
                let slug = TenantSlug::parse(slug).map_err(|_| ApiError::not_found("esa cadena", "tenant"))?;
                let tenant =
                    api.store.tenant(&slug).await?.ok_or_else(|| ApiError::not_found("esa cadena", "tenant"))?;
                Ok(vec![tenant])
            }
            None => Ok(api.store.tenants().await?),
        };
    }
    let own = p.tenant_for(Permission::ReadTraces)?;
    if named.is_some_and(|n| n != own.slug.as_str()) {
        return Err(ApiError::forbidden());
    }
    Ok(vec![own.clone()])
}

/// Lists traces, newest first.
#[utoipa::path(get, path = "/api/v1/traces", tag = "traces", security(("bearer" = [])), params(TraceFilter),
    responses(
        (status = 200, description = "Traces", body = Vec<TraceSummaryView>),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not an owner or operator, or another tenant", body = ErrorBody),
        (status = 404, description = "No such tenant (operators)", body = ErrorBody),
    ))]
async fn list_traces(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Query(f): Query<TraceFilter>,
) -> Result<Json<Vec<TraceSummaryView>>, ApiError> {
    let limit = super::page_size(f.limit)?;
    let status = match f.status.as_deref() {
        None => None,
        Some(s) => Some(SpanStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "invalid_filter",
                "status debe ser ok, degraded, error o timeout.",
                "status must be ok, degraded, error or timeout.",
            )
        })?),
    };
    let query = TraceQuery {
        limit,
        channel: f.channel.clone(),
        status,
        min_duration_us: f.min_duration_ms.map(|ms| ms.saturating_mul(1_000)),
    };
    let tenants = readable(&api, &p, f.tenant.as_deref()).await?;
    let all = newest(&api, &tenants, &query).await?;
    Ok(Json(all.iter().map(|(t, _)| TraceSummaryView::from(t)).collect()))
}

/// The newest traces of `tenants` that match `query`, each with its tenant, newest first, at most
/// `query.limit` of them (each tenant's read from its own store).
pub(crate) async fn newest<'t>(
    api: &ApiState,
    tenants: &'t [Tenant],
    query: &TraceQuery,
) -> Result<Vec<(TraceSummary, &'t Tenant)>, ApiError> {
    let mut all = Vec::new();
    for tenant in tenants {
        let scoped = api.scoped(tenant).await?;
        all.extend(scoped.traces(query).await?.into_iter().map(|t| (t, tenant)));
    }
    all.sort_by(|(a, _), (b, _)| b.started_at.cmp(&a.started_at).then(b.id.cmp(&a.id)));
    all.truncate(query.limit as usize);
    Ok(all)
}

/// The trace with this id among `tenants`' traces, with its tenant.
pub(crate) async fn find(api: &ApiState, tenants: Vec<Tenant>, id: Uuid) -> Result<Option<(Trace, Tenant)>, ApiError> {
    for tenant in tenants {
        if let Some(trace) = api.scoped(&tenant).await?.trace(id).await? {
            return Ok(Some((trace, tenant)));
        }
    }
    Ok(None)
}

/// Which tenant to look in (operators).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TraceAt {
    /// Operators only: the trace's tenant (default: look in every tenant).
    pub tenant: Option<String>,
}

/// One trace with its spans.
#[utoipa::path(get, path = "/api/v1/traces/{id}", tag = "traces", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Trace id"), TraceAt),
    responses(
        (status = 200, description = "The trace", body = TraceView),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not an owner or operator, or another tenant", body = ErrorBody),
        (status = 404, description = "No such trace", body = ErrorBody),
    ))]
async fn get_trace(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
    Query(at): Query<TraceAt>,
) -> Result<Json<TraceView>, ApiError> {
    let tenants = readable(&api, &p, at.tenant.as_deref()).await?;
    let (trace, tenant) = find(&api, tenants, id).await?.ok_or_else(|| ApiError::not_found("esa traza", "trace"))?;
    Ok(Json(TraceView::of(&trace, tenant.slug.as_str())))
}
