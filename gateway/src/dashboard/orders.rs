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
    /// Whether what is on its way could be read.
    coming_known: bool,
    /// Purchase orders and transfers on their way over the next week, the late ones first.
    coming: Vec<DeliveryRow>,
    /// Of them, how many are late.
    late: usize,
    /// Their value at cost.
    coming_value: String,
}

/// Days ahead the page lists deliveries for.
const COMING_DAYS: u64 = 7;

/// One purchase order or transfer on its way.
struct DeliveryRow {
    number: String,
    kind_es: &'static str,
    from: String,
    store: String,
    expected: String,
    /// "Atrasado 2 días", or empty when on time.
    late_es: String,
    products: usize,
    value: String,
    /// Its largest lines, "Harina PAN 1.200 unidades".
    lines: String,
}

impl DeliveryRow {
    fn of(d: &fluxion_domain::Delivery, today: chrono::NaiveDate) -> Self {
        use fluxion_domain::format::{quantity, short_date};
        let late_days = (today - d.expected_on).num_days();
        Self {
            number: d.number.clone(),
            kind_es: if d.from_supplier { "Pedido" } else { "Transferencia" },
            from: d.from_name.clone(),
            store: d.store_name.clone(),
            expected: short_date(d.expected_on),
            late_es: {
                let late = if d.from_supplier { "Atrasado" } else { "Atrasada" };
                match late_days {
                    n if n < 0 => String::new(),
                    0 => late.to_owned(),
                    1 => format!("{late} 1 día"),
                    n => format!("{late} {n} días"),
                }
            },
            products: d.products,
            value: usd(d.value_at_cost),
            lines: d
                .lines
                .iter()
                .take(3)
                .map(|l| format!("{} {}", l.product_name, quantity(l.units, l.unit)))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
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
    // What is on its way, read afresh (an order approved here a moment ago is on its way); the
    // page still serves its approvals when it cannot be read.
    let deliveries = coming(&api, tenant).await;
    let coming_value = usd(deliveries.as_ref().map_or(0.0, |d| d.list.iter().map(|x| x.value_at_cost).sum()));
    render(&OrdersPage {
        c: session.chrome("Pedidos y transferencias", "/pedidos", q.aviso.as_deref()),
        pending_benefit: usd(pending.iter().map(|r| r.recommendation.benefit_usd).sum()),
        orders,
        transfers,
        decided: decided.iter().map(|r| RecRow::of(r, &names)).collect(),
        capped,
        limit: LIMIT,
        coming_known: deliveries.is_some(),
        late: deliveries.as_ref().map_or(0, |d| d.late().count()),
        coming: deliveries.iter().flat_map(|d| d.list.iter().map(|x| DeliveryRow::of(x, d.today))).collect(),
        coming_value,
    })
}

/// The deliveries on their way over the next week and the late ones (`None` when they cannot be read).
async fn coming(api: &ApiState, tenant: &fluxion_domain::Tenant) -> Option<fluxion_domain::Deliveries> {
    let live = super::live(api, tenant).await.ok()?;
    let ctx = &live.ctx;
    let open = fluxion_agents::context::read_deliveries(live.store.as_ref(), &ctx.world)
        .await
        .map_err(|e| tracing::warn!(error = %e, "open orders could not be read"))
        .ok()?;
    let query = fluxion_agents::forecast::DeliveryQuery {
        until: ctx.today + chrono::Days::new(COMING_DAYS),
        ..Default::default()
    };
    Some(fluxion_agents::forecast::deliveries(ctx, &open, &query))
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
