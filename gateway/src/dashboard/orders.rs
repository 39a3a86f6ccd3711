//! Pedidos y transferencias: what the Optimizer recommends, approving (exactly once, as on WhatsApp
//! and in the API) or rejecting it, and what was executed, by whom.

use super::catalog::{Names, RecRow};
use super::session::CsrfForm;
use super::summary::NoticeQuery;
use super::{Chrome, Form, PageError, Path, Query, Session, back, not_found, render, usd};
use crate::api::ApiState;
use crate::api::decisions::{Approval, approve_once};
use crate::auth::Permission;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use fluxion_memory::{ChangeSet, Decided, Decision, RecommendationQuery, RecommendationStatus};
use serde::Deserialize;
use uuid::Uuid;

/// The most pending recommendations a page lists (the newest; shown by benefit).
const LIMIT: usize = 200;

#[derive(askama::Template)]
#[template(path = "pedidos.html")]
struct OrdersPage {
    c: Chrome,
    orders: Vec<RecRow>,
    transfers: Vec<RecRow>,
    decided: Vec<RecRow>,
    pending_benefit: String,
    /// Whether more are pending than a page lists.
    capped: bool,
    limit: usize,
}

/// The page.
pub(crate) async fn page(
    State(api): State<ApiState>,
    session: Session,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let tenant = session.tenant_for(Permission::Read)?;
    let scoped = api.scoped(tenant).await?;
    let names = Names::of(&api, tenant, true).await?;
    let list =
        |status| RecommendationQuery { status: Some(status), limit: LIMIT as u32, ..RecommendationQuery::default() };
    let mut pending = scoped.recommendations(&list(RecommendationStatus::Pending)).await?.items;
    pending.sort_by(|a, b| b.recommendation.benefit_usd.total_cmp(&a.recommendation.benefit_usd));
    let mut decided = scoped.recommendations(&list(RecommendationStatus::Approved)).await?.items;
    decided.extend(scoped.recommendations(&list(RecommendationStatus::Rejected)).await?.items);
    decided.sort_by_key(|r| std::cmp::Reverse(r.decided_at));
    decided.truncate(50);
    let capped = pending.len() >= LIMIT;
    let rows: Vec<RecRow> = pending.iter().map(|r| RecRow::of(r, &names)).collect();
    let (transfers, orders) = rows.into_iter().partition(|r| r.transfer);
    render(&OrdersPage {
        c: session.chrome("Pedidos y transferencias", "/pedidos", q.aviso.as_deref()),
        pending_benefit: usd(pending.iter().map(|r| r.recommendation.benefit_usd).sum()),
        orders,
        transfers,
        decided: decided.iter().map(|r| RecRow::of(r, &names)).collect(),
        capped,
        limit: LIMIT,
    })
}

/// Approves a recommendation: its purchase order or transfer is created once, however many times
/// the button is pressed.
pub(crate) async fn approve(
    State(api): State<ApiState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let scoped = session.acting(&api, &headers, &form.csrf).await?;
    let current = scoped.recommendation(id).await?.ok_or_else(|| not_found("esa recomendación", "recommendation"))?;
    let by = session.actor();
    Ok(match approve_once(scoped.as_ref(), &current, &by, Some("aprobada en el panel".into())).await? {
        Approval::Done(r) => {
            tracing::info!(recommendation = %id, by = %by, executed_as = ?r.executed_as, "approved on the dashboard");
            back("/pedidos", "aprobada")
        }
        Approval::Again(_) => back("/pedidos", "ya-aprobada"),
        Approval::Already(_) => back("/pedidos", "ya-decidida"),
        Approval::NotFound => return Err(not_found("esa recomendación", "recommendation")),
        Approval::NotExecutable(_) => back("/pedidos", "no-ejecutable"),
    })
}

/// Why it is rejected (optional).
#[derive(Debug, Deserialize)]
pub(crate) struct RejectForm {
    csrf: String,
    #[serde(default)]
    nota: String,
}

/// Rejects a recommendation.
pub(crate) async fn reject(
    State(api): State<ApiState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<RejectForm>,
) -> Result<Response, PageError> {
    let scoped = session.acting(&api, &headers, &form.csrf).await?;
    let note = if form.nota.trim().is_empty() {
        Some("rechazada en el panel".to_owned())
    } else {
        Some(crate::api::text_field(&form.nota, "nota", 500)?)
    };
    let decision = Decision { approve: false, by: session.actor(), at: Utc::now(), note, executed_as: None };
    Ok(match scoped.decide_recommendation(id, &decision, &ChangeSet::default()).await? {
        Decided::Done(_) => back("/pedidos", "rechazada"),
        Decided::Already(_) => back("/pedidos", "ya-decidida"),
        Decided::NotFound => return Err(not_found("esa recomendación", "recommendation")),
    })
}
