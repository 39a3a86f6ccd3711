//! Resumen: the tenant's key figures, its most important open alerts, the approvals waiting.

use super::catalog::{AlertRow, Names, RecRow};
use super::{Chrome, PageError, Query, Session, render, usd};
use crate::api::ApiState;
use crate::auth::Permission;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use fluxion_agents::context::TenantContext;
use fluxion_domain::format::{date, number};
use fluxion_memory::{AlertQuery, AlertStatus, RecommendationQuery, RecommendationStatus};
use serde::Deserialize;

/// Days the fill rate looks back over.
const FILL_DAYS: usize = 28;

/// A store's data freshness.
#[derive(Debug, Clone)]
pub(crate) struct Freshness {
    pub store: String,
    pub last: String,
    pub days: i64,
    pub late: bool,
}

/// The key figures of a tenant.
#[derive(Debug, Clone, Default)]
pub(crate) struct Kpis {
    /// Units sold over units demanded (stockout days' demand imputed), last 28 days.
    pub fill_rate: Option<f64>,
    /// Items (product × store) with nothing on hand today, among those that sell.
    pub stockouts: usize,
    /// Items that sell.
    pub selling: usize,
    /// Cost of lots that expire within 7 days.
    pub expiring_usd: f64,
    /// Purchase orders and transfers that were due by the books' evening and have not come.
    pub late_deliveries: usize,
    /// Their value at cost.
    pub late_usd: f64,
    /// Per store, its feed's last day.
    pub freshness: Vec<Freshness>,
    /// The day the books are for.
    pub as_of: String,
}

/// Computes the key figures from the tenant's live context (in memory: no query).
pub(crate) fn kpis(ctx: &TenantContext, today: chrono::NaiveDate) -> Kpis {
    let w = &ctx.world;
    let from = w.days.saturating_sub(FILL_DAYS);
    let (mut sold, mut demanded) = (0.0f64, 0.0f64);
    let (mut stockouts, mut selling, mut expiring_usd) = (0, 0, 0.0);
    let week = ctx.today + chrono::Duration::days(7);
    for (i, item) in w.items.iter().enumerate() {
        let start = from.max(item.first);
        if start >= w.days {
            continue;
        }
        let s: f64 = item.recorded[start..].iter().sum();
        let d: f64 = item.demand[start..].iter().sum();
        sold += s;
        demanded += d.max(s);
        if d > 0.0 {
            selling += 1;
            if ctx.on_hand(i).is_some_and(|q| q <= 0.0) {
                stockouts += 1;
            }
        }
        let cost = item.terms.unit_cost;
        expiring_usd += ctx.lots(i).iter().filter(|(exp, _)| *exp <= week).map(|(_, q)| q * cost).sum::<f64>();
    }
    let freshness = freshness(ctx, today);
    let only_late = fluxion_agents::forecast::DeliveryQuery { until: ctx.today, late_only: true, ..Default::default() };
    let late = fluxion_agents::forecast::deliveries(ctx, &ctx.deliveries, &only_late);
    Kpis {
        late_deliveries: late.list.len(),
        late_usd: late.list.iter().map(|d| d.value_at_cost).sum(),
        fill_rate: (demanded > 0.0).then(|| (sold / demanded).min(1.0)),
        stockouts,
        selling,
        expiring_usd,
        freshness,
        as_of: date(ctx.today),
    }
}

/// Each store's data feed: its last day with data, and whether that is later than usual.
pub(crate) fn freshness(ctx: &TenantContext, today: chrono::NaiveDate) -> Vec<Freshness> {
    let w = &ctx.world;
    w.stores
        .iter()
        .enumerate()
        .map(|(s, _)| {
            let feed = ctx.feeds.get(s);
            let last = feed.map_or(w.start, |f| w.date_of(f.last));
            let days = today.signed_duration_since(last).num_days().max(0);
            let usual = feed.map_or(1.0, |f| f.usual_gap.max(1.0));
            Freshness { store: w.store_names[s].clone(), last: date(last), days, late: days as f64 > 2.0 * usual + 1.0 }
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "resumen.html")]
struct SummaryPage {
    c: Chrome,
    fill_rate: String,
    stockouts: String,
    overstock: String,
    expiring: String,
    late_usd: String,
    kpis: Kpis,
    alerts: Vec<AlertRow>,
    open_alerts: usize,
    pending: Vec<RecRow>,
    pending_count: usize,
    pending_benefit: String,
}

/// A notice after an action.
#[derive(Debug, Deserialize)]
pub(crate) struct NoticeQuery {
    pub aviso: Option<String>,
}

/// The summary page.
pub(crate) async fn page(
    State(api): State<ApiState>,
    session: Session,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let tenant = session.tenant_for(Permission::Read)?;
    let scoped = api.scoped(tenant).await?;
    let live = super::live(&api, tenant).await?;
    let today = super::local(Utc::now(), api.dashboard.utc_offset_hours).date_naive();
    let kpis = kpis(&live.ctx, today);
    let names = Names::of(&api, tenant, false).await?;
    let open =
        scoped.alerts(&AlertQuery { status: Some(AlertStatus::Open), limit: 500, ..AlertQuery::default() }).await?;
    let overstock: f64 = open
        .items
        .iter()
        .filter(|a| a.alert.kind == fluxion_domain::AlertKind::Overstock)
        .map(|a| a.alert.impact_usd)
        .sum();
    let mut top: Vec<_> = open.items.iter().collect();
    top.sort_by(|a, b| {
        (b.alert.severity as u8).cmp(&(a.alert.severity as u8)).then(b.alert.impact_usd.total_cmp(&a.alert.impact_usd))
    });
    let pending = scoped
        .recommendations(&RecommendationQuery {
            status: Some(RecommendationStatus::Pending),
            limit: 500,
            ..RecommendationQuery::default()
        })
        .await?;
    let mut best: Vec<_> = pending.items.iter().collect();
    best.sort_by(|a, b| b.recommendation.benefit_usd.total_cmp(&a.recommendation.benefit_usd));
    let page = SummaryPage {
        c: session.chrome("Resumen", "/resumen", q.aviso.as_deref()),
        fill_rate: kpis.fill_rate.map_or_else(|| "—".to_owned(), |f| format!("{} %", number(f * 100.0, 1))),
        stockouts: number(kpis.stockouts as f64, 0),
        overstock: usd(overstock),
        expiring: usd(kpis.expiring_usd),
        late_usd: usd(kpis.late_usd),
        alerts: top.iter().take(5).map(|a| AlertRow::of(a, &names)).collect(),
        open_alerts: open.items.len(),
        pending_benefit: usd(pending.items.iter().map(|r| r.recommendation.benefit_usd).sum()),
        pending_count: pending.items.len(),
        pending: best.iter().take(5).map(|r| RecRow::of(r, &names)).collect(),
        kpis,
    };
    render(&page)
}
