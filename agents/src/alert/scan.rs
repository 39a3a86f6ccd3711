//! A tenant's alert scan: tonight's stock, lots and inbound goods against fresh forecasts — for the
//! whole tenant (the scheduled scan) or for the items a question is about.

use super::AlertSettings;
use super::detect::{
    FeedView, StockoutVerdict, expiring_lots, overstock, phantom_stock, relieve_by_transfer, sales_anomaly, stale_data,
    stockout_verdict, transfer_opportunity,
};
use crate::context::TenantContext;
use crate::optimizer::{OptimizerSettings, moves_for, orders_for, transfers_for};
use chrono::NaiveDate;
use fluxion_domain::{Alert, AlertKind, Recommendation};
use fluxion_memory::{StoreError, TenantStore};

/// What a scan found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scan {
    /// The evening scanned (the last day with data).
    pub today: NaiveDate,
    /// Store × product items looked at.
    pub items: usize,
    /// Alerts, most severe and most costly first.
    pub alerts: Vec<Alert>,
    /// Keys of imminent stockouts still there but below the threshold that raises them: an open
    /// alert about them stays open ([`AlertBook::admit`](super::AlertBook::admit)).
    pub holding: Vec<String>,
    /// Orders to place (on each supplier's next order day), largest benefit first.
    pub orders: Vec<Recommendation>,
    /// Transfers to make tonight, largest benefit first.
    pub transfers: Vec<Recommendation>,
}

/// Scans the whole tenant tonight.
pub async fn scan_tenant(
    store: &dyn TenantStore,
    settings: &AlertSettings,
    optimizer: &OptimizerSettings,
) -> Result<Scan, StoreError> {
    let ctx = TenantContext::load(store).await?;
    Ok(scan_context(&ctx, settings, optimizer))
}

/// Scans every item of a loaded context.
pub fn scan_context(ctx: &TenantContext, settings: &AlertSettings, optimizer: &OptimizerSettings) -> Scan {
    let items = ctx.items_at(&[]);
    let (alerts, holding) = scan_items(ctx, &items, &[], settings, optimizer);
    Scan {
        today: ctx.today,
        items: items.len(),
        alerts,
        holding,
        orders: orders_for(ctx, &items, optimizer),
        transfers: transfers_for(ctx, &items, optimizer),
    }
}

/// The alerts of `items`: each detector on each item, transfer opportunities for their products,
/// and stale feeds of their stores — most severe and most costly first.
pub fn alerts_for(
    ctx: &TenantContext,
    items: &[usize],
    kinds: &[AlertKind],
    settings: &AlertSettings,
    optimizer: &OptimizerSettings,
) -> Vec<Alert> {
    scan_items(ctx, items, kinds, settings, optimizer).0
}

/// [`alerts_for`], with the keys of the imminent stockouts that hold an open alert ([`Scan::holding`]).
fn scan_items(
    ctx: &TenantContext,
    items: &[usize],
    kinds: &[AlertKind],
    settings: &AlertSettings,
    optimizer: &OptimizerSettings,
) -> (Vec<Alert>, Vec<String>) {
    let wants = |k: AlertKind| kinds.is_empty() || kinds.contains(&k);
    let reorder = &optimizer.reorder();
    let world = &ctx.world;
    let today = ctx.today;
    let mut alerts = Vec::new();
    let mut holding = Vec::new();
    let mut stores: Vec<usize> = Vec::new();
    // Tonight's transfer plan: its moves are alerts of their own, and relieve imminent stockouts.
    let moves = if wants(AlertKind::TransferOpportunity) || wants(AlertKind::ImminentStockout) {
        moves_for(ctx, items, optimizer)
    } else {
        Vec::new()
    };
    for &i in items {
        stores.push(world.items[i].store);
        let checks = wants(AlertKind::SalesAnomaly) || wants(AlertKind::PhantomStock);
        let recent = if checks { ctx.recent(i) } else { Vec::new() };
        let Some(view) = ctx.view(i, &recent) else { continue };
        if view.ahead.is_none() {
            continue;
        }
        if wants(AlertKind::ImminentStockout) {
            match stockout_verdict(&view, today, settings, reorder) {
                StockoutVerdict::Raise(mut alert) => {
                    if let Some((_, _, m)) = moves.iter().find(|(_, to, _)| *to == i) {
                        relieve_by_transfer(&mut alert, m, (&world.stores[m.from], &world.store_names[m.from]));
                    }
                    alerts.push(alert);
                }
                StockoutVerdict::Hold(key) => holding.push(key),
                StockoutVerdict::Clear => {}
            }
        }
        if wants(AlertKind::Overstock) {
            alerts.extend(overstock(&view, today, settings, reorder));
        }
        if wants(AlertKind::SalesAnomaly) {
            alerts.extend(sales_anomaly(&view, today, settings));
        }
        if wants(AlertKind::PhantomStock) {
            alerts.extend(phantom_stock(&view, today, settings));
        }
        if wants(AlertKind::ExpiringLot) {
            alerts.extend(expiring_lots(&view, today, settings));
        }
    }
    let moves = if wants(AlertKind::TransferOpportunity) { moves } else { Vec::new() };
    for (from_item, _, m) in moves {
        let product = world.items[from_item].product;
        alerts.push(transfer_opportunity(
            &m,
            &world.products[product],
            &world.product_names[product],
            world.product_units.get(product).copied().unwrap_or(fluxion_domain::Unit::Each),
            (&world.stores[m.from], &world.store_names[m.from]),
            (&world.stores[m.to], &world.store_names[m.to]),
            today,
        ));
    }
    stores.sort_unstable();
    stores.dedup();
    if !wants(AlertKind::StaleData) {
        stores.clear();
    }
    for s in stores {
        let feed = &ctx.feeds[s];
        let view = FeedView {
            store: &world.stores[s],
            store_name: &world.store_names[s],
            last_data: world.date_of(feed.last),
            usual_gap_days: feed.usual_gap,
            daily_revenue: feed.daily_revenue,
        };
        alerts.extend(stale_data(&view, today, settings));
    }
    alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.impact_usd.total_cmp(&a.impact_usd)));
    (alerts, holding)
}
