//! A whole tenant's alert scan: tonight's stock, lots and inbound goods against fresh forecasts.

use super::AlertSettings;
use super::detect::{
    DayCheck, FeedView, ItemView, expiring_lots, imminent_stockout, overstock, phantom_stock, sales_anomaly,
    stale_data, transfer_opportunity,
};
use crate::forecast::{AutoConfig, forecast_batch};
use crate::optimizer::transfer::{Supply, plan_moves, store_position};
use crate::optimizer::{DemandAhead, OptimizerSettings, OrderContext, recommend_order};
use crate::replay::{ReplayWorld, load_world};
use chrono::{Days, NaiveDate};
use fluxion_domain::{Alert, LocationCode, ProductCode, Recommendation, RecommendedAction};
use fluxion_memory::{StoreError, TenantStore};
use std::collections::{BTreeMap, HashMap};

/// Days of recent sales checked against the forecast made before them.
const RECENT_DAYS: usize = 14;
/// Days forecast ahead.
const HORIZON_DAYS: usize = 42;

/// What a scan found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scan {
    /// The evening scanned (the last day with data).
    pub today: NaiveDate,
    /// Store × product items looked at.
    pub items: usize,
    /// Alerts, most severe and most costly first.
    pub alerts: Vec<Alert>,
    /// Orders to place (on each supplier's next order day), largest benefit first.
    pub orders: Vec<Recommendation>,
    /// Transfers to make tonight, largest benefit first.
    pub transfers: Vec<Recommendation>,
}

/// What the tenant's books say tonight, per store × product.
#[derive(Debug, Default)]
struct Books {
    on_hand: HashMap<(LocationCode, ProductCode), f64>,
    lots: HashMap<(LocationCode, ProductCode), Vec<(NaiveDate, f64)>>,
    inbound: HashMap<(LocationCode, ProductCode), Vec<(NaiveDate, f64)>>,
}

async fn read_books(store: &dyn TenantStore, world: &ReplayWorld, today: NaiveDate) -> Result<Books, StoreError> {
    let mut books = Books::default();
    // Sales since a count come off it: the count may be older than tonight.
    let item_of: HashMap<(&LocationCode, &ProductCode), usize> = world
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| ((&world.stores[it.store], &world.products[it.product]), i))
        .collect();
    for snap in store.current_stock().await? {
        let mut units = snap.on_hand.get();
        if let Some(&i) = item_of.get(&(&snap.location, &snap.product))
            && let Some(from) = world.index_of(snap.day)
        {
            units -= world.items[i].recorded[from + 1..].iter().sum::<f64>();
        }
        books.on_hand.insert((snap.location, snap.product), units.max(0.0));
    }
    for lot in store.lots().await? {
        books.lots.entry((lot.location, lot.product)).or_default().push((lot.expires_on, lot.quantity.get()));
    }
    // Goods on their way; a late one is still expected tomorrow.
    let tomorrow = today + Days::new(1);
    for po in store.purchase_orders().await? {
        if po.expected_on() + Days::new(7) < today {
            continue;
        }
        for line in po.lines() {
            books
                .inbound
                .entry((po.destination().clone(), line.product.clone()))
                .or_default()
                .push((po.expected_on().max(tomorrow), line.quantity.get()));
        }
    }
    for tr in store.transfers().await? {
        if tr.expected_on() + Days::new(7) < today {
            continue;
        }
        for line in tr.lines() {
            books
                .inbound
                .entry((tr.to().clone(), line.product.clone()))
                .or_default()
                .push((tr.expected_on().max(tomorrow), line.quantity.get()));
        }
    }
    Ok(books)
}

/// Scans the whole tenant tonight.
pub async fn scan_tenant(
    store: &dyn TenantStore,
    settings: &AlertSettings,
    optimizer: &OptimizerSettings,
) -> Result<Scan, StoreError> {
    let world = load_world(store).await?;
    if world.items.is_empty() {
        return Ok(Scan {
            today: world.end(),
            items: 0,
            alerts: Vec::new(),
            orders: Vec::new(),
            transfers: Vec::new(),
        });
    }
    let today = world.end();
    let books = read_books(store, &world, today).await?;
    Ok(scan_world(&world, &books, today, settings, optimizer))
}

/// Per store: the last day with data, the usual gap between data days and the revenue per day.
fn feeds(world: &ReplayWorld) -> Vec<(usize, f64, f64)> {
    let mut has_data = vec![vec![false; world.days]; world.stores.len()];
    let mut revenue = vec![0.0; world.stores.len()];
    let recent_from = world.days.saturating_sub(28);
    for item in &world.items {
        let days = &mut has_data[item.store];
        for (t, day) in days.iter_mut().enumerate().skip(item.first) {
            if item.recorded[t] > 0.0 || item.censored[t] {
                *day = true;
            }
        }
        revenue[item.store] += item.recorded[recent_from..].iter().sum::<f64>() * item.terms.unit_price;
    }
    has_data
        .iter()
        .enumerate()
        .map(|(s, days)| {
            let data: Vec<usize> = days.iter().enumerate().filter(|(_, d)| **d).map(|(t, _)| t).collect();
            let last = data.last().copied().unwrap_or(0);
            let recent: Vec<usize> = data.iter().copied().filter(|t| *t + 90 >= last).collect();
            let mut gaps: Vec<usize> = recent.windows(2).map(|w| w[1] - w[0]).collect();
            gaps.sort_unstable();
            let usual = gaps.get(gaps.len() / 2).copied().unwrap_or(1) as f64;
            let reported = (last + 1).saturating_sub(recent_from).max(1);
            (last, usual, revenue[s] / reported as f64)
        })
        .collect()
}

fn scan_world(
    world: &ReplayWorld,
    books: &Books,
    today: NaiveDate,
    settings: &AlertSettings,
    optimizer: &OptimizerSettings,
) -> Scan {
    let cfg = AutoConfig::default();
    let reorder = &optimizer.reorder();
    let rule = optimizer.shortage_rule();
    let feeds = feeds(world);
    // Forecasts from tonight, and from two weeks ago for the days since.
    let now: Vec<_> = world.items.iter().map(|it| it.series_until(world, world.days)).collect();
    let ahead = forecast_batch(&now, HORIZON_DAYS, &world.calendar, &cfg);
    let back_from = world.days.saturating_sub(RECENT_DAYS);
    let then: Vec<_> = world.items.iter().map(|it| it.series_until(world, back_from)).collect();
    let back = forecast_batch(&then, RECENT_DAYS, &world.calendar, &cfg);

    let mut alerts = Vec::new();
    let mut orders = Vec::new();
    let mut transfers = Vec::new();
    let mut by_product: BTreeMap<usize, Vec<(usize, crate::optimizer::StorePosition)>> = BTreeMap::new();
    let empty: Vec<(NaiveDate, f64)> = Vec::new();
    for (i, item) in world.items.iter().enumerate() {
        let store = &world.stores[item.store];
        let product = &world.products[item.product];
        let key = (store.clone(), product.clone());
        let Some(&on_hand) = books.on_hand.get(&key) else { continue };
        let (last_data, _, _) = feeds[item.store];
        // Days after the store's feed went quiet say nothing: they are not checked.
        let recent: Vec<DayCheck> = back.forecasts[i]
            .as_ref()
            .map(|f| {
                f.points
                    .iter()
                    .enumerate()
                    .filter_map(|(k, p)| {
                        let t = back_from + k;
                        (t <= last_data && t < world.days && item.active_on(t)).then(|| DayCheck {
                            date: p.date,
                            sold: item.recorded[t],
                            expected: p.mean,
                            size: f.dispersion_size,
                            censored: item.censored[t],
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let Some(forecast) = ahead.forecasts[i].as_ref() else { continue };
        let means: Vec<f64> = forecast.points.iter().map(|p| p.mean).collect();
        let view = ItemView {
            store,
            store_name: &world.store_names[item.store],
            product,
            product_name: &world.product_names[item.product],
            terms: &item.terms,
            on_hand,
            inbound: books.inbound.get(&key).unwrap_or(&empty),
            lots: books.lots.get(&key).unwrap_or(&empty),
            ahead: Some(DemandAhead::of(forecast, &means)),
            recent: &recent,
        };
        alerts.extend(imminent_stockout(&view, today, settings, reorder));
        alerts.extend(overstock(&view, today, settings, reorder));
        alerts.extend(sales_anomaly(&view, today, settings));
        alerts.extend(phantom_stock(&view, today, settings));
        alerts.extend(expiring_lots(&view, today, settings));
        let supplier = world.suppliers.get(item.supplier);
        let on_way: f64 = view.inbound.iter().map(|(_, u)| u).sum();
        if let Some(ahead) = view.ahead.as_ref() {
            let ctx = OrderContext { store, product, supplier, terms: &item.terms, on_hand, inbound: on_way, ahead };
            orders.extend(recommend_order(&ctx, today, reorder));
        }
        let inbound: Vec<(usize, f64)> =
            view.inbound.iter().map(|(d, u)| (usize::try_from((*d - today).num_days()).unwrap_or(0), *u)).collect();
        let Some(ahead) = view.ahead.as_ref() else { continue };
        let supply = Supply { on_hand, inbound: &inbound };
        let position = store_position(item.store, ahead, &item.terms, today, &supply, &rule);
        if position.shortage > 0.0 || position.surplus >= 1.0 {
            by_product.entry(item.product).or_default().push((i, position));
        }
    }
    // Transfers: products with a store short and another long.
    for (from_item, _, m) in plan_moves(&by_product, |p| optimizer.transfer_cost(world.unit_cost(p))) {
        let product = world.items[from_item].product;
        let unit_cost = world.unit_cost(product);
        transfers.push(Recommendation {
            action: RecommendedAction::Transfer { from: world.stores[m.from].clone() },
            store: world.stores[m.to].clone(),
            product: world.products[product].clone(),
            units: m.units,
            value_usd: m.units * unit_cost,
            benefit_usd: m.benefit,
            on: today,
            explanation_es: format!(
                "Transferir {} de {} a {}: {} se quedará corto antes de su próxima entrega y {} tiene de más; \
                 evita perder US$ {} de margen con un traslado de US$ {}.",
                fluxion_domain::format::units(m.units),
                world.store_names[m.from],
                world.store_names[m.to],
                world.store_names[m.to],
                world.store_names[m.from],
                fluxion_domain::format::number(m.benefit + m.cost, 2),
                fluxion_domain::format::number(m.cost, 2),
            ),
        });
        alerts.push(transfer_opportunity(
            &m,
            &world.products[product],
            &world.product_names[product],
            (&world.stores[m.from], &world.store_names[m.from]),
            (&world.stores[m.to], &world.store_names[m.to]),
            today,
        ));
    }
    for (s, (last, usual, revenue)) in feeds.iter().enumerate() {
        let feed = FeedView {
            store: &world.stores[s],
            store_name: &world.store_names[s],
            last_data: world.date_of(*last),
            usual_gap_days: *usual,
            daily_revenue: *revenue,
        };
        alerts.extend(stale_data(&feed, today, settings));
    }
    alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.impact_usd.total_cmp(&a.impact_usd)));
    orders.sort_by(|a, b| b.benefit_usd.total_cmp(&a.benefit_usd));
    transfers.sort_by(|a, b| b.benefit_usd.total_cmp(&a.benefit_usd));
    Scan { today, items: world.items.len(), alerts, orders, transfers }
}
