//! The Forecast agent: demand figures over a horizon (expected total and its P10–P90 band) for the
//! items a question is about, from the tenant's latest forecasts, with the recent sales beside them.

use super::distribution::total_demand;
use crate::actor::Agent;
use crate::context::{Expected, TenantContext};
use crate::optimizer::Incoming;
use chrono::Days;
use fluxion_domain::forecast::Forecast;
use fluxion_domain::{
    AgentKind, Arrival, BestSeller, Deliveries, Delivery, DeliveryLine, ForecastFigure, StoreSales, StoreStock, Unit,
};
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
                cover_days: cover_days(f, ctx.on_hand(i).unwrap_or(0.0)),
                arrivals: arrivals(ctx.inbound(i)),
                model: f.model.clone(),
                typical_error_pct: f.backtest.map(|b| b.typical_error_pct).filter(|e| e.is_finite()),
            })
        })
        .collect()
}

/// Days of expected demand a store's stock value is measured against.
const STOCK_COVER_DAYS: usize = 28;

/// What each of `stores` (world indices; every store when empty) holds tonight: its stock at
/// cost and the days of sales it covers, the products that sell and have nothing on hand, and
/// what it is waiting for.
pub fn store_stock(ctx: &TenantContext, stores: &[usize]) -> Vec<StoreStock> {
    let world = &ctx.world;
    let soon = ctx.today + Days::new(7);
    let mut out: Vec<StoreStock> = world
        .stores
        .iter()
        .zip(&world.store_names)
        .map(|(store, name)| StoreStock {
            store: store.clone(),
            store_name: name.clone(),
            value_at_cost: 0.0,
            cover_days: None,
            products_on_hand: 0,
            empty: Vec::new(),
            empty_count: 0,
            arriving: 0,
            arriving_value: 0.0,
            overdue: 0,
        })
        .collect();
    // Per store: the expected demand's cost per day, and the empty products with their expected sales.
    let mut daily_cost = vec![0.0; world.stores.len()];
    let mut empty: Vec<Vec<(f64, usize)>> = vec![Vec::new(); world.stores.len()];
    for (i, item) in world.items.iter().enumerate() {
        // An item without books is not known to be at zero.
        let Some(on_hand) = ctx.on_hand(i) else { continue };
        let on_hand = on_hand.max(0.0);
        let s = item.store;
        let cost = item.terms.unit_cost;
        let expected: f64 = ctx
            .ahead
            .get(i)
            .and_then(Option::as_ref)
            .map_or(0.0, |f| f.points.iter().take(STOCK_COVER_DAYS).map(|p| p.mean.max(0.0)).sum());
        let row = &mut out[s];
        row.value_at_cost += on_hand * cost;
        daily_cost[s] += expected * cost / STOCK_COVER_DAYS as f64;
        if on_hand > 0.0 {
            row.products_on_hand += 1;
        } else if expected >= 1.0 {
            empty[s].push((expected * item.terms.unit_price, item.product));
        }
        let inbound = ctx.inbound(i);
        if inbound.iter().any(|g| g.expected <= ctx.today) {
            row.overdue += 1;
        }
        let coming: Vec<&Incoming> = inbound.iter().filter(|g| g.expected > ctx.today && g.expected <= soon).collect();
        if !coming.is_empty() {
            row.arriving += 1;
            row.arriving_value += coming.iter().map(|g| g.units * cost).sum::<f64>();
        }
    }
    for (s, row) in out.iter_mut().enumerate() {
        row.cover_days = (daily_cost[s] > 0.0).then(|| row.value_at_cost / daily_cost[s]);
        empty[s].sort_by(|a, b| b.0.total_cmp(&a.0));
        row.empty_count = empty[s].len();
        row.empty = empty[s].iter().take(5).map(|&(_, p)| world.product_names[p].clone()).collect();
    }
    out.into_iter().enumerate().filter(|(s, _)| stores.is_empty() || stores.contains(s)).map(|(_, r)| r).collect()
}

/// Deliveries a list shows at most per delivery's lines.
const DELIVERY_LINES: usize = 5;

/// What a question asks of the deliveries on their way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryQuery {
    /// Stores (world indices; every store when empty).
    pub stores: Vec<usize>,
    /// The first day of the window (`None`: the morning after the books; "el martes": that day).
    pub from: Option<chrono::NaiveDate>,
    /// The last day of the window.
    pub until: chrono::NaiveDate,
    /// Only the late ones.
    pub late_only: bool,
    /// Only purchase orders (`Some(true)`) or only transfers (`Some(false)`).
    pub from_supplier: Option<bool>,
    /// Only these senders, by name (empty: every sender).
    pub senders: Vec<String>,
}

/// What the stores asked about are waiting for among `open` (the context's, or read afresh): the
/// deliveries that were due by tonight and have not come (the longest overdue first), and, unless
/// only those are asked about, those due in the window, by day and the largest first.
pub fn deliveries(ctx: &TenantContext, open: &[Expected], q: &DeliveryQuery) -> Deliveries {
    let world = &ctx.world;
    let cost = |p: usize| world.product_costs.get(p).copied().unwrap_or(0.0);
    let in_window = |d: &Expected| !q.late_only && d.expected <= q.until && q.from.is_none_or(|f| d.expected >= f);
    let mut list: Vec<Delivery> = open
        .iter()
        .filter(|d| q.stores.is_empty() || q.stores.contains(&d.store))
        .filter(|d| d.expected <= ctx.today || in_window(d))
        .filter(|d| q.from_supplier.is_none_or(|s| d.from_supplier == s))
        .filter(|d| q.senders.is_empty() || q.senders.contains(&d.from_name))
        .map(|d| {
            let mut lines: Vec<(f64, usize, f64)> = d.lines.iter().map(|&(p, u)| (u * cost(p), p, u)).collect();
            lines.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.2.total_cmp(&a.2)));
            let mut products: Vec<usize> = lines.iter().map(|l| l.1).collect();
            products.sort_unstable();
            products.dedup();
            Delivery {
                number: d.number.clone(),
                store: world.stores[d.store].clone(),
                store_name: world.store_names[d.store].clone(),
                from_name: d.from_name.clone(),
                from_supplier: d.from_supplier,
                expected_on: d.expected,
                products: products.len(),
                units: lines.iter().map(|l| l.2).sum(),
                value_at_cost: lines.iter().map(|l| l.0).sum(),
                lines: lines
                    .iter()
                    .take(DELIVERY_LINES)
                    .map(|&(_, p, units)| DeliveryLine {
                        product: world.products[p].clone(),
                        product_name: world.product_names[p].clone(),
                        unit: world.product_units.get(p).copied().unwrap_or(Unit::Each),
                        units,
                    })
                    .collect(),
            }
        })
        .collect();
    list.sort_by(|a, b| {
        a.expected_on
            .cmp(&b.expected_on)
            .then(b.value_at_cost.total_cmp(&a.value_at_cost))
            .then(a.number.cmp(&b.number))
    });
    Deliveries {
        today: ctx.today,
        until: q.until,
        from: q.from,
        late_only: q.late_only,
        from_supplier: q.from_supplier,
        senders: q.senders.clone(),
        list,
    }
}

/// Days of the forecast's expected demand that `on_hand` covers from its first day, with the part
/// of the day it runs out in; `None` when it outlasts the forecast.
pub fn cover_days(f: &Forecast, on_hand: f64) -> Option<f64> {
    let mut left = on_hand.max(0.0);
    for (day, p) in f.points.iter().enumerate() {
        let mean = p.mean.max(0.0);
        if mean >= left && mean > 0.0 {
            return Some(day as f64 + left / mean);
        }
        left -= mean;
    }
    None
}

/// What is on its way, soonest first.
fn arrivals(inbound: &[Incoming]) -> Vec<Arrival> {
    let mut list: Vec<Arrival> =
        inbound.iter().map(|g| Arrival { on: g.expected, units: g.units, from_supplier: g.from_supplier }).collect();
    list.sort_by_key(|a| a.on);
    list
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use fluxion_domain::forecast::{DemandClass, ForecastPoint, Frequency};

    fn forecast(means: &[f64]) -> Forecast {
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
        Forecast {
            series: "S/P".into(),
            origin: day,
            frequency: Frequency::Daily,
            model: "test".into(),
            class: DemandClass::Smooth,
            backtest: None,
            effects: Vec::new(),
            points: means
                .iter()
                .enumerate()
                .map(|(k, &mean)| ForecastPoint {
                    date: day + Days::new(k as u64 + 1),
                    mean,
                    p10: mean,
                    p50: mean,
                    p90: mean,
                })
                .collect(),
            dispersion_size: f64::INFINITY,
            level_uncertainty: 0.0,
        }
    }

    #[test]
    fn cover_counts_the_days_the_stock_lasts_and_none_past_the_forecast() {
        let f = forecast(&[10.0, 20.0, 0.0, 10.0, 10.0]);
        assert_eq!(cover_days(&f, 0.0), Some(0.0));
        assert_eq!(cover_days(&f, 5.0), Some(0.5));
        assert_eq!(cover_days(&f, 20.0), Some(1.5));
        // A day without demand costs nothing: 35 units last into the fourth day.
        assert_eq!(cover_days(&f, 35.0), Some(3.5));
        assert_eq!(cover_days(&f, 50.0), Some(5.0));
        assert_eq!(cover_days(&f, 51.0), None);
        assert_eq!(cover_days(&f, -3.0), Some(0.0), "negative books count as nothing on hand");
        assert_eq!(cover_days(&forecast(&[0.0; 5]), 0.0), None, "no demand: nothing runs out");
    }

    #[test]
    fn arrivals_come_soonest_first() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("date");
        let got = arrivals(&[
            Incoming { expected: day(5), units: 10.0, from_supplier: true },
            Incoming { expected: day(2), units: 4.0, from_supplier: false },
        ]);
        assert_eq!(
            got.iter().map(|a| (a.on, a.units, a.from_supplier)).collect::<Vec<_>>(),
            vec![(day(2), 4.0, false), (day(5), 10.0, true)]
        );
    }
}
