//! A tenant's working context: its items on one date axis, tonight's books (stock, lots, goods on
//! their way) and the latest forecasts — loaded once, then shared by every agent that answers
//! about the tenant until the next refresh.

use crate::alert::{DayCheck, ItemView};
use crate::forecast::{AutoConfig, forecast_batch};
use crate::optimizer::{DemandAhead, Incoming};
use crate::replay::{ReplayWorld, load_world};
use chrono::{Days, NaiveDate};
use fluxion_domain::forecast::Forecast;
use fluxion_domain::{LocationCode, OrderLine, ProductCode};
use fluxion_memory::{StoreError, TenantStore};
use std::collections::HashMap;

/// Days of recent sales checked against the forecast made before them.
pub const RECENT_DAYS: usize = 14;
/// Days forecast ahead.
pub const HORIZON_DAYS: usize = 42;

/// What the tenant's books say tonight, per store × product.
#[derive(Debug, Default, Clone)]
pub struct Books {
    on_hand: HashMap<(LocationCode, ProductCode), f64>,
    lots: HashMap<(LocationCode, ProductCode), Vec<(NaiveDate, f64)>>,
    inbound: HashMap<(LocationCode, ProductCode), Vec<Incoming>>,
    deliveries: Vec<Expected>,
}

/// One purchase order or transfer the books expect at one of the tenant's stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// Its number.
    pub number: String,
    /// The receiving store (world index).
    pub store: usize,
    /// Who sends it: the supplier's name, or the sending location's.
    pub from_name: String,
    /// A supplier sends it.
    pub from_supplier: bool,
    /// The day the books expect it.
    pub expected: NaiveDate,
    /// Its lines: product (world index) and units.
    pub lines: Vec<(usize, f64)>,
}

/// A store's data feed: the last day with data, the usual gap between data days, revenue per day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feed {
    /// Day index of the last data.
    pub last: usize,
    /// Usual days between data days.
    pub usual_gap: f64,
    /// Recent revenue per day, USD.
    pub daily_revenue: f64,
}

/// A tenant's items, books and forecasts.
#[derive(Debug)]
pub struct TenantContext {
    /// The items on one date axis (catalog, terms, history).
    pub world: ReplayWorld,
    /// The evening the books and forecasts are for (the last day with data).
    pub today: NaiveDate,
    /// Per item: tonight's books (looked up by index on every question, so kept by index).
    on_hand: Vec<Option<f64>>,
    inbound: Vec<Vec<Incoming>>,
    lots: Vec<Vec<(NaiveDate, f64)>>,
    /// Purchase orders and transfers on their way to the stores, as the books have them.
    pub deliveries: Vec<Expected>,
    /// Per item: its forecast from tonight.
    pub ahead: Vec<Option<Forecast>>,
    /// Per item: its forecast from `RECENT_DAYS` ago, for checking the days since.
    pub back: Vec<Option<Forecast>>,
    /// Per store (world order): its feed.
    pub feeds: Vec<Feed>,
    /// Per item: the means of `ahead` (what the optimizer reads).
    means: Vec<Vec<f64>>,
    item_of: HashMap<(LocationCode, ProductCode), usize>,
}

/// What a context load read, before the forecasts are made (CPU work; run it off the async runtime).
#[derive(Debug)]
pub struct ContextData {
    world: ReplayWorld,
    books: Books,
}

impl TenantContext {
    /// Reads a tenant's items and books.
    pub async fn read(store: &dyn TenantStore) -> Result<ContextData, StoreError> {
        let world = load_world(store).await?;
        let books = read_books(store, &world, world.end()).await?;
        Ok(ContextData { world, books })
    }

    /// Makes tonight's forecasts and the backcast (CPU-heavy: the whole tenant in parallel).
    pub fn build(data: ContextData, cfg: &AutoConfig) -> Self {
        let ContextData { world, mut books } = data;
        let today = world.end();
        let (ahead, back) = if world.items.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            let now: Vec<_> = world.items.iter().map(|it| it.series_until(&world, world.days)).collect();
            let back_from = world.days.saturating_sub(RECENT_DAYS);
            let then: Vec<_> = world.items.iter().map(|it| it.series_until(&world, back_from)).collect();
            (
                forecast_batch(&now, HORIZON_DAYS, &world.calendar, cfg).forecasts,
                forecast_batch(&then, RECENT_DAYS, &world.calendar, cfg).forecasts,
            )
        };
        let means = ahead
            .iter()
            .map(|f| f.as_ref().map(|f| f.points.iter().map(|p| p.mean).collect()).unwrap_or_default())
            .collect();
        let item_of: HashMap<(LocationCode, ProductCode), usize> = world
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| ((world.stores[it.store].clone(), world.products[it.product].clone()), i))
            .collect();
        let keys: Vec<(LocationCode, ProductCode)> =
            world.items.iter().map(|it| (world.stores[it.store].clone(), world.products[it.product].clone())).collect();
        let on_hand = keys.iter().map(|k| books.on_hand.get(k).copied()).collect();
        let inbound = keys.iter().map(|k| books.inbound.remove(k).unwrap_or_default()).collect();
        let lots = keys.iter().map(|k| books.lots.remove(k).unwrap_or_default()).collect();
        let feeds = feeds(&world);
        let deliveries = books.deliveries;
        Self { world, today, on_hand, inbound, lots, deliveries, ahead, back, feeds, means, item_of }
    }

    /// Reads and builds in one go (the CPU part on the caller's thread).
    pub async fn load(store: &dyn TenantStore) -> Result<Self, StoreError> {
        Ok(Self::build(Self::read(store).await?, &AutoConfig::default()))
    }

    /// The item of `product` at `store`.
    pub fn item(&self, store: &LocationCode, product: &ProductCode) -> Option<usize> {
        self.item_of.get(&(store.clone(), product.clone())).copied()
    }

    /// The items of these products at these stores (every store when `stores` is empty), in world order.
    pub fn items_for(&self, products: &[ProductCode], stores: &[LocationCode]) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .world
            .items
            .iter()
            .enumerate()
            .filter(|(_, it)| {
                products.contains(&self.world.products[it.product])
                    && (stores.is_empty() || stores.contains(&self.world.stores[it.store]))
            })
            .map(|(i, _)| i)
            .collect();
        out.sort_unstable();
        out
    }

    /// Every item at these stores (every store when `stores` is empty).
    pub fn items_at(&self, stores: &[LocationCode]) -> Vec<usize> {
        (0..self.world.items.len())
            .filter(|&i| stores.is_empty() || stores.contains(&self.world.stores[self.world.items[i].store]))
            .collect()
    }

    /// Units on hand tonight (the last count minus the sales since), when the books have the item.
    pub fn on_hand(&self, i: usize) -> Option<f64> {
        self.on_hand.get(i).copied().flatten()
    }

    /// Goods on their way.
    pub fn inbound(&self, i: usize) -> &[Incoming] {
        self.inbound.get(i).map_or(&[], Vec::as_slice)
    }

    /// Lots on hand: `(expiry day, units)`.
    pub fn lots(&self, i: usize) -> &[(NaiveDate, f64)] {
        self.lots.get(i).map_or(&[], Vec::as_slice)
    }

    /// Demand from tomorrow on, from tonight's forecast.
    pub fn demand_ahead(&self, i: usize) -> Option<DemandAhead<'_>> {
        self.ahead.get(i)?.as_ref().map(|f| DemandAhead::of(f, &self.means[i]))
    }

    /// The last `RECENT_DAYS` days of item `i`, each against the forecast made before it (days after
    /// the store's feed went quiet say nothing and are left out).
    pub fn recent(&self, i: usize) -> Vec<DayCheck> {
        let item = &self.world.items[i];
        let last_data = self.feeds[item.store].last;
        let back_from = self.world.days.saturating_sub(RECENT_DAYS);
        let Some(f) = self.back.get(i).and_then(Option::as_ref) else { return Vec::new() };
        f.points
            .iter()
            .enumerate()
            .filter_map(|(k, p)| {
                let t = back_from + k;
                (t <= last_data && t < self.world.days && item.active_on(t)).then(|| DayCheck {
                    date: p.date,
                    sold: item.recorded[t],
                    expected: p.mean,
                    size: f.dispersion_size,
                    censored: item.censored[t],
                })
            })
            .collect()
    }

    /// What item `i` looks like tonight, for the detectors (none when the books do not have it).
    pub fn view<'a>(&'a self, i: usize, recent: &'a [DayCheck]) -> Option<ItemView<'a>> {
        let item = &self.world.items[i];
        Some(ItemView {
            store: &self.world.stores[item.store],
            store_name: &self.world.store_names[item.store],
            product: &self.world.products[item.product],
            product_name: &self.world.product_names[item.product],
            unit: self.world.product_units.get(item.product).copied().unwrap_or(fluxion_domain::Unit::Each),
            terms: &item.terms,
            on_hand: self.on_hand(i)?,
            inbound: self.inbound(i),
            lots: self.lots(i),
            ahead: self.demand_ahead(i),
            recent,
        })
    }
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
    for snap in store.current_stock(None, None).await? {
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
    // Goods on their way per item, at the day the books expect them (a late one is still
    // expected; one a week late is taken as not coming).
    let deliveries = read_deliveries(store, world).await?;
    for d in &deliveries {
        if d.expected + Days::new(7) < today {
            continue;
        }
        for &(p, units) in &d.lines {
            books
                .inbound
                .entry((world.stores[d.store].clone(), world.products[p].clone()))
                .or_default()
                .push(Incoming { expected: d.expected, units, from_supplier: d.from_supplier });
        }
    }
    books.deliveries = deliveries;
    Ok(books)
}

/// Every open purchase order and transfer to one of the tenant's stores, as the books have it,
/// however late: what a manager chases. Cheap enough to read afresh for each question, so that an
/// order approved a minute ago is on its way.
pub async fn read_deliveries(store: &dyn TenantStore, world: &ReplayWorld) -> Result<Vec<Expected>, StoreError> {
    let suppliers: HashMap<_, _> = store.suppliers().await?.into_iter().map(|s| (s.code, s.name)).collect();
    let locations: HashMap<_, _> = store.locations().await?.into_iter().map(|l| (l.code, l.name)).collect();
    let store_of: HashMap<&LocationCode, usize> = world.stores.iter().enumerate().map(|(i, c)| (c, i)).collect();
    let product_of: HashMap<&ProductCode, usize> = world.products.iter().enumerate().map(|(i, c)| (c, i)).collect();
    let expected =
        |number: &str, to: &LocationCode, from_name: String, from_supplier: bool, on, lines: &[OrderLine]| {
            let store = *store_of.get(to)?;
            let lines: Vec<(usize, f64)> =
                lines.iter().filter_map(|l| Some((*product_of.get(&l.product)?, l.quantity.get()))).collect();
            (!lines.is_empty()).then(|| Expected {
                number: number.to_owned(),
                store,
                from_name,
                from_supplier,
                expected: on,
                lines,
            })
        };
    let mut out = Vec::new();
    for po in store.purchase_orders().await? {
        let from = suppliers.get(po.supplier()).cloned().unwrap_or_else(|| po.supplier().as_str().to_owned());
        out.extend(expected(po.number().as_str(), po.destination(), from, true, po.expected_on(), po.lines()));
    }
    for tr in store.transfers().await? {
        let from = locations.get(tr.from()).cloned().unwrap_or_else(|| tr.from().as_str().to_owned());
        out.extend(expected(tr.number().as_str(), tr.to(), from, false, tr.expected_on(), tr.lines()));
    }
    Ok(out)
}

/// Who may send the tenant's deliveries, by name: its suppliers (`true`) and its locations.
pub async fn sender_names(store: &dyn TenantStore) -> Result<Vec<(String, bool)>, StoreError> {
    let suppliers = store.suppliers().await?.into_iter().map(|s| (s.name, true));
    let locations = store.locations().await?.into_iter().map(|l| (l.name, false));
    Ok(suppliers.chain(locations).collect())
}

/// Per store: the last day with data, the usual gap between data days and the revenue per day
/// (the revenue the store recorded over its last 28 days; units at list price where the feed
/// recorded none).
fn feeds(world: &ReplayWorld) -> Vec<Feed> {
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
            let recorded: f64 =
                world.store_revenue.get(s).and_then(|r| r.get(recent_from..)).map_or(0.0, |r| r.iter().sum());
            let revenue = if recorded > 0.0 { recorded } else { revenue[s] };
            Feed { last, usual_gap: usual, daily_revenue: revenue / reported as f64 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_is_worth_the_revenue_its_store_recorded_and_list_price_only_without_it() {
        // Two stores selling 2 units a day at a list price of 1.5 for 60 days.
        let mut world = crate::replay::tests::world(vec![vec![2.0; 60], vec![2.0; 60]], None);
        let at_list_price = feeds(&world);
        assert_eq!(at_list_price.len(), 2);
        assert!((at_list_price[0].daily_revenue - 3.0).abs() < 1e-9, "{:?}", at_list_price[0]);
        assert_eq!(at_list_price[0].last, 59);
        // The first store's feed recorded its revenue (after discounts, say): that is what a quiet day costs.
        world.store_revenue = vec![vec![2.4; 60], vec![0.0; 60]];
        let recorded = feeds(&world);
        assert!((recorded[0].daily_revenue - 2.4).abs() < 1e-9, "{:?}", recorded[0]);
        assert!((recorded[1].daily_revenue - 3.0).abs() < 1e-9, "{:?}", recorded[1]);
    }

    #[test]
    fn deliveries_list_the_late_first_then_the_window_by_day_and_only_the_stores_asked_about() {
        // Three stores; the world's last day (tonight) is 2026-03-01.
        let mut world = crate::replay::tests::world(vec![vec![2.0; 60]; 3], None);
        // A new product, never sold anywhere: its first delivery still has a value.
        world.products.push(ProductCode::parse("NEW").expect("code"));
        world.product_names.push("Nuevo".into());
        world.product_units.push(fluxion_domain::Unit::Each);
        world.product_costs.push(2.5);
        let today = world.end();
        let day = |d: i64| today + chrono::Duration::days(d);
        let delivery = |number: &str, store: usize, supplier: bool, on: NaiveDate, units: f64| Expected {
            number: number.into(),
            store,
            from_name: if supplier { "Alimentos Polar".into() } else { "Centro de distribución".into() },
            from_supplier: supplier,
            expected: on,
            lines: vec![(0, units)],
        };
        let books = Books {
            deliveries: vec![
                delivery("OC-3", 0, true, day(3), 50.0),
                delivery("OC-1", 0, true, day(1), 10.0),
                delivery("TR-1", 0, false, day(1), 40.0),
                delivery("OC-0", 0, true, day(-2), 5.0),
                delivery("OC-9", 1, true, day(-1), 7.0),
                delivery("OC-8", 2, true, day(1), 9.0),
                delivery("OC-7", 0, true, day(0), 3.0),
                Expected { lines: vec![(1, 4.0)], ..delivery("OC-N", 2, true, day(2), 0.0) },
            ],
            ..Books::default()
        };
        let ctx = TenantContext::build(ContextData { world, books }, &AutoConfig::default());
        let numbers = |d: &fluxion_domain::Deliveries| d.list.iter().map(|x| x.number.clone()).collect::<Vec<_>>();
        let ask = |stores: &[usize], until, late_only, from_supplier| {
            let query = crate::forecast::DeliveryQuery {
                stores: stores.to_vec(),
                until,
                late_only,
                from_supplier,
                ..Default::default()
            };
            crate::forecast::deliveries(&ctx, &ctx.deliveries, &query)
        };

        // Tomorrow at the first store: the late ones, the longest overdue first, then tomorrow's, the
        // largest first; the one of day 3 is past the window.
        let d = ask(&[0], day(1), false, None);
        assert_eq!(numbers(&d), ["OC-0", "OC-7", "TR-1", "OC-1"]);
        assert_eq!(d.late().count(), 2);
        assert_eq!(d.coming().map(|x| x.number.as_str()).collect::<Vec<_>>(), ["TR-1", "OC-1"]);
        let tr = &d.list[2];
        assert!(!tr.from_supplier);
        assert_eq!((tr.products, tr.units, tr.value_at_cost), (1, 40.0, 40.0), "units at the product's cost of 1");
        assert_eq!(tr.store_name, "Tienda 0");
        assert_eq!(tr.lines[0].product_name, "Producto");
        // Only the late ones.
        assert_eq!(numbers(&ask(&[0], day(7), true, None)), ["OC-0", "OC-7"]);
        // The whole chain over a week.
        assert_eq!(
            numbers(&ask(&[], day(7), false, None)),
            ["OC-0", "OC-9", "OC-7", "TR-1", "OC-1", "OC-8", "OC-N", "OC-3"]
        );
        let new = ask(&[2], day(7), false, None);
        let new = new.list.iter().find(|x| x.number == "OC-N").expect("the new product's delivery");
        assert_eq!((new.value_at_cost, new.lines[0].product_name.as_str()), (10.0, "Nuevo"), "4 units at 2,50");
        // Only transfers, or only purchase orders.
        assert_eq!(numbers(&ask(&[0], day(7), false, Some(false))), ["TR-1"]);
        assert_eq!(numbers(&ask(&[0], day(1), false, Some(true))), ["OC-0", "OC-7", "OC-1"]);
        // Another store's deliveries never show.
        assert_eq!(numbers(&ask(&[1], day(7), false, None)), ["OC-9"]);
    }
}
