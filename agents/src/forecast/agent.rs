//! The Forecast agent: demand figures over a horizon (expected total and its P10–P90 band) for the
//! items a question is about, from the tenant's latest forecasts, with the recent sales beside them.

use super::distribution::total_demand;
use crate::actor::Agent;
use crate::context::TenantContext;
use chrono::Days;
use fluxion_domain::{AgentKind, BestSeller, ForecastFigure, StoreSales, Unit};
use std::sync::Arc;

/// What the Forecast agent is asked.
#[derive(Debug, Clone)]
pub struct ForecastRequest {
    /// The tenant's context.
    pub ctx: Arc<TenantContext>,
    /// Items (context indices).
    pub items: Vec<usize>,
    /// Days from tomorrow.
    pub horizon_days: u32,
}

/// The Forecast agent.
#[derive(Debug, Default)]
pub struct ForecastAgent;

impl Agent for ForecastAgent {
    type Request = ForecastRequest;
    type Reply = Vec<ForecastFigure>;
    const KIND: AgentKind = AgentKind::Forecast;

    fn run(&self, r: ForecastRequest) -> Result<Vec<ForecastFigure>, String> {
        Ok(figures(&r.ctx, &r.items, r.horizon_days))
    }
}

/// The figures of `items` over `horizon_days` from tomorrow (items without a forecast are left out).
pub fn figures(ctx: &TenantContext, items: &[usize], horizon_days: u32) -> Vec<ForecastFigure> {
    let world = &ctx.world;
    items
        .iter()
        .filter_map(|&i| {
            let f = ctx.ahead.get(i)?.as_ref()?;
            let item = &world.items[i];
            let total = total_demand(f, 0, horizon_days as usize);
            let last = ctx.feeds[item.store].last.min(world.days.saturating_sub(1));
            let sold = |from_back: usize, days: usize| -> f64 {
                let end = (last + 1).saturating_sub(from_back);
                let start = end.saturating_sub(days).max(item.first);
                item.recorded.get(start..end).map_or(0.0, |d| d.iter().sum())
            };
            Some(ForecastFigure {
                store: world.stores[item.store].clone(),
                store_name: world.store_names[item.store].clone(),
                product: world.products[item.product].clone(),
                product_name: world.product_names[item.product].clone(),
                unit: world.product_units.get(item.product).copied().unwrap_or(Unit::Each),
                from: ctx.today + Days::new(1),
                days: horizon_days,
                expected: total.mean,
                p10: total.p10,
                p90: total.p90,
                on_hand: ctx.on_hand(i).unwrap_or(0.0),
                inbound: ctx.inbound(i).iter().map(|g| g.units).sum(),
                sold_last_7: sold(0, 7),
                sold_prev_7: sold(7, 7),
                sold_last_28: sold(0, 28),
                last_day: (last >= item.first && last < world.days).then(|| world.date_of(last)),
                sold_last_day: sold(0, 1),
                sold_week_before_day: sold(7, 1),
                model: f.model.clone(),
                typical_error_pct: f.backtest.map(|b| b.typical_error_pct).filter(|e| e.is_finite()),
            })
        })
        .collect()
}

/// What each of `stores` (world indices; every store when empty) sold in money on its last day with
/// data and over the week to it, with its best sellers over that day (`one_day`) or that week.
pub fn store_sales(ctx: &TenantContext, stores: &[usize], one_day: bool) -> Vec<StoreSales> {
    let world = &ctx.world;
    let period = if one_day { 1 } else { 7 };
    let last_of = |s: usize| Some(ctx.feeds.get(s)?.last.min(world.days.checked_sub(1)?));
    // One pass over the items: each one's units over the period, and their worth at list price.
    let mut sold: Vec<Vec<(f64, f64, usize)>> = vec![Vec::new(); world.stores.len()];
    for (i, it) in world.items.iter().enumerate() {
        let Some(last) = last_of(it.store) else { continue };
        let end = last + 1;
        let units: f64 = it.recorded.get(end.saturating_sub(period).max(it.first)..end).map_or(0.0, |d| d.iter().sum());
        if units > 0.0 {
            sold[it.store].push((units * it.terms.unit_price, units, i));
        }
    }
    sold.into_iter()
        .enumerate()
        .filter(|(s, _)| stores.is_empty() || stores.contains(s))
        .filter_map(|(s, mut sellers)| {
            let revenue = world.store_revenue.get(s)?;
            let last = last_of(s)?;
            let sum = |from_back: usize, days: usize| -> f64 {
                let end = (last + 1).saturating_sub(from_back);
                revenue.get(end.saturating_sub(days)..end).map_or(0.0, |d| d.iter().sum())
            };
            sellers.sort_by(|a, b| b.0.total_cmp(&a.0));
            let best_sellers = sellers
                .iter()
                .take(5)
                .map(|&(_, units, i)| {
                    let product = world.items[i].product;
                    BestSeller {
                        product_name: world.product_names[product].clone(),
                        unit: world.product_units.get(product).copied().unwrap_or(Unit::Each),
                        units,
                    }
                })
                .collect();
            Some(StoreSales {
                store: world.stores[s].clone(),
                store_name: world.store_names[s].clone(),
                last_day: world.date_of(last),
                revenue_last_day: sum(0, 1),
                revenue_week_before_day: sum(7, 1),
                revenue_last_7: sum(0, 7),
                revenue_prev_7: sum(7, 7),
                best_sellers,
            })
        })
        .collect()
}
