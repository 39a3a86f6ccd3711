//! The demo chain: a generated, seeded, reproducible Venezuelan retail chain (`fluxion demo`).
//!
//! "Automercados La Cosecha" has a handful of stores in different cities, a central distribution
//! centre in Valencia, some thirty suppliers (Alimentos Polar, Cargill, Nestlé, P&G, Mavesa, Plumrose,
//! Lácteos Los Andes …) and a few hundred recognisable staples. Two years of daily sales carry the
//! patterns the product must find: weekly seasonality, quincena peaks, the December aguinaldo season,
//! Carnaval and Semana Santa, promotions, slow trends, intermittent slow movers, perishables with
//! lots, supplier lead times and real stockout spells (sales are censored by stock on hand). The
//! end holds what the Alert agent must catch: one store's point-of-sale feed went quiet three days
//! before the end, and at each other store a fast item's shelf stock went missing (phantom stock:
//! no sales for six days while the books show it on the shelf), and a slow dry good received four
//! months of sales in one delivery three weeks before the end (an order keyed in wrong).
//!
//! [`generate`] returns a [`DemoChain`]: a sequence of [`ChangeSet`] batches sized for a progress bar.
//! Batch 0 is the catalog (locations, suppliers, products, holidays and promotions); then come the
//! sales and stock snapshots of a group of store × product series at a time (about
//! [`TARGET_BATCH_ROWS`] rows each); the last batch is the state at the end date (the warehouse's
//! stock, lots of perishables, open purchase orders and transfers in transit).
//!
//! **Invariant:** the same [`DemoConfig`] gives the same rows, byte for byte, whatever order the
//! batches are built in. Every series (store × product) has its own random stream derived from the
//! seed, so the output does not depend on iteration order or batch size.
//!
//! # Layout
//! - `catalog`: stores, suppliers and the product families the catalog is combined from.
//! - `seasons`: calendar effects on demand, the bolívar's exchange rate, promotions.
//! - `simulate`: demand, censored sales and replenishment of one series, day by day.

mod catalog;
mod seasons;
mod simulate;

#[cfg(test)]
mod tests;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use fluxion_domain::{
    Currency, ExchangeRate, LineKey, Location, Lot, LotCode, Money, OrderLine, OrderNumber, Promotion, PurchaseOrder,
    Quantity, SalesLine, StockQuantity, StockSnapshot, Transfer,
};
use fluxion_memory::ChangeSet;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simulate::{DayOutcome, Scratch, SeriesEnd, World};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::{Range, RangeInclusive};

/// The name under which the demo tenant is presented.
pub const DEMO_CHAIN_NAME: &str = "Automercados La Cosecha";

/// Sales and stock batches close once they hold at least this many rows.
pub const TARGET_BATCH_ROWS: usize = 150_000;

/// Days past the end date that the calendar (holidays, planned promotions, the buyers' plans) covers.
const HORIZON_DAYS: usize = 120;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Seed of every random draw; the same config gives the same chain.
    pub seed: u64,
    /// Number of stores (1 to 60).
    pub stores: usize,
    /// Number of products (10 to 5000).
    pub products: usize,
    /// Days of history (60 to 3650), ending on `end`.
    pub days: u32,
    /// The last day of history (the CLI passes yesterday).
    pub end: NaiveDate,
}

impl DemoConfig {
    /// Allowed number of stores.
    pub const STORES: RangeInclusive<usize> = 1..=60;
    /// Allowed number of products.
    pub const PRODUCTS: RangeInclusive<usize> = 10..=5000;
    /// Allowed number of days of history.
    pub const DAYS: RangeInclusive<u32> = 60..=3650;

    /// A validated config.
    pub fn new(seed: u64, stores: usize, products: usize, days: u32, end: NaiveDate) -> Result<Self, DemoConfigError> {
        let config = Self { seed, stores, products, days, end };
        config.validate()?;
        Ok(config)
    }

    /// Refuses sizes outside the allowed ranges and dates the calendar cannot hold.
    pub fn validate(&self) -> Result<(), DemoConfigError> {
        let out_of_range = |what, given: u64, range: (u64, u64)| DemoConfigError::OutOfRange {
            what,
            given,
            min: range.0,
            max: range.1,
        };
        let (s, p, d) = (Self::STORES, Self::PRODUCTS, Self::DAYS);
        if !s.contains(&self.stores) {
            return Err(out_of_range("stores", self.stores as u64, (*s.start() as u64, *s.end() as u64)));
        }
        if !p.contains(&self.products) {
            return Err(out_of_range("products", self.products as u64, (*p.start() as u64, *p.end() as u64)));
        }
        if !d.contains(&self.days) {
            return Err(out_of_range("days", u64::from(self.days), (u64::from(*d.start()), u64::from(*d.end()))));
        }
        let start = self.end.checked_sub_signed(Duration::days(i64::from(self.days) - 1));
        let horizon = self.end.checked_add_signed(Duration::days(HORIZON_DAYS as i64 + 366));
        if start.is_none() || horizon.is_none() {
            return Err(DemoConfigError::Dates { end: self.end, days: self.days });
        }
        Ok(())
    }

    /// The first day of history.
    pub fn start(&self) -> NaiveDate {
        self.end - Duration::days(i64::from(self.days.max(1)) - 1)
    }
}

impl Default for DemoConfig {
    /// Six stores, 400 products, two years of history to 2026-11-27, seed 42.
    fn default() -> Self {
        Self {
            seed: 42,
            stores: 6,
            products: 400,
            days: 730,
            end: NaiveDate::from_ymd_opt(2026, 11, 27).expect("2026-11-27 is a valid date"),
        }
    }
}

/// A config that cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemoConfigError {
    /// A size outside its allowed range.
    #[error("the demo's number of {what} must be between {min} and {max}, not {given}")]
    OutOfRange {
        /// "stores", "products" or "days".
        what: &'static str,
        /// What was asked for.
        given: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// The history would start or the calendar end outside the dates the calendar can represent.
    #[error("the demo cannot end on {end} with {days} days of history")]
    Dates {
        /// Requested end date.
        end: NaiveDate,
        /// Requested days of history.
        days: u32,
    },
}

/// How much a generated chain holds, for progress bars and summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoFigures {
    /// Stores.
    pub stores: usize,
    /// Warehouses (the distribution centre).
    pub warehouses: usize,
    /// Suppliers.
    pub suppliers: usize,
    /// Products.
    pub products: usize,
    /// Products with a shelf life.
    pub perishable_products: usize,
    /// Calendar events (holidays and promotion days).
    pub events: usize,
    /// Promotions (product × store windows).
    pub promotions: usize,
    /// Sales lines (one per store × product × day with a sale).
    pub sales_lines: usize,
    /// Stock snapshots (stockout days, Sundays, the end date).
    pub stock_snapshots: usize,
    /// Store × product days that closed with nothing on hand.
    pub stockout_days: usize,
    /// Lots on hand at the end date.
    pub lots: usize,
    /// Open purchase orders at the end date.
    pub purchase_orders: usize,
    /// Transfers in transit at the end date.
    pub transfers: usize,
    /// Batches ([`DemoChain::batch_count`]).
    pub batches: usize,
    /// Rows in all batches ([`DemoChain::total_rows`]).
    pub rows: usize,
}

/// A generated demo chain, ready to be read batch by batch.
///
/// Building it simulates every series once (to count rows and to learn the end state); each
/// [`DemoChain::batch`] simulates its series again and materialises their rows, so memory stays
/// small whatever the size.
#[derive(Debug)]
pub struct DemoChain {
    config: DemoConfig,
    world: World,
    ends: Vec<SeriesEnd>,
    /// Series (store × products + product) of each sales-and-stock batch.
    plan: Vec<Range<usize>>,
    batch_rows: Vec<usize>,
    catalog_batch: ChangeSet,
    state_batch: ChangeSet,
    days: DayLabels,
    figures: DemoFigures,
}

/// Per-day values every row of that day shares.
#[derive(Debug)]
struct DayLabels {
    /// `2026-11-27`, for line keys.
    text: Vec<String>,
    /// 20:00 that day: daily POS summaries are stamped at closing time.
    sold_at: Vec<NaiveDateTime>,
    /// Bolívares per dollar.
    rates: Vec<ExchangeRate>,
}

/// Generates the demo chain described by `config`.
pub fn generate(config: &DemoConfig) -> Result<DemoChain, DemoConfigError> {
    config.validate()?;
    let days = config.days as usize;
    let calendar = seasons::Calendar::new(config.start(), days + HORIZON_DAYS);
    let catalog = catalog::build(config);
    let promos = seasons::promotions(config.seed, &catalog, days, &calendar);
    let rates = seasons::exchange_rates(config.seed, &calendar);
    let world = World::new(config.seed, days, catalog, calendar, promos);

    let closing = NaiveTime::from_hms_opt(20, 0, 0).unwrap_or(NaiveTime::MIN);
    let labels = DayLabels {
        text: world.calendar.dates[..days].iter().map(|d| d.format("%Y-%m-%d").to_string()).collect(),
        sold_at: world.calendar.dates[..days].iter().map(|d| d.and_time(closing)).collect(),
        rates,
    };

    // First pass: simulate every series to count its rows and keep its end state.
    let products = world.catalog.products.len();
    let series = world.catalog.stores.len() * products;
    let mut scratch = Scratch::default();
    let ends: Vec<SeriesEnd> =
        (0..series).map(|i| world.simulate(i / products, i % products, &mut scratch, |_| {})).collect();

    let mut plan = Vec::new();
    let mut fact_rows = Vec::new();
    let (mut from, mut rows) = (0, 0);
    for (i, end) in ends.iter().enumerate() {
        rows += end.sales_lines + end.snapshots;
        if rows >= TARGET_BATCH_ROWS || i + 1 == ends.len() {
            plan.push(from..i + 1);
            fact_rows.push(rows);
            (from, rows) = (i + 1, 0);
        }
    }

    let catalog_batch = catalog_batch(&world);
    let state_batch = state_batch(config, &world, &ends);
    let mut batch_rows = vec![catalog_batch.rows()];
    batch_rows.extend(fact_rows);
    batch_rows.push(state_batch.rows());

    let figures = DemoFigures {
        stores: world.catalog.stores.len(),
        warehouses: 1,
        suppliers: world.catalog.suppliers.len(),
        products,
        perishable_products: world.catalog.products.iter().filter(|p| p.shelf_life.is_some()).count(),
        events: catalog_batch.events.len(),
        promotions: world.promos.len(),
        sales_lines: ends.iter().map(|e| e.sales_lines).sum(),
        stock_snapshots: ends.iter().map(|e| e.snapshots).sum::<usize>() + state_batch.stock.len(),
        stockout_days: ends.iter().map(|e| e.stockout_days).sum(),
        lots: state_batch.lots.len(),
        purchase_orders: state_batch.purchase_orders.len(),
        transfers: state_batch.transfers.len(),
        batches: batch_rows.len(),
        rows: batch_rows.iter().sum(),
    };
    Ok(DemoChain {
        config: config.clone(),
        world,
        ends,
        plan,
        batch_rows,
        catalog_batch,
        state_batch,
        days: labels,
        figures,
    })
}

impl DemoChain {
    /// The config it was generated from.
    pub fn config(&self) -> &DemoConfig {
        &self.config
    }

    /// Counts of everything it holds.
    pub fn figures(&self) -> &DemoFigures {
        &self.figures
    }

    /// Number of batches: the catalog, the sales-and-stock batches, the end state.
    pub fn batch_count(&self) -> usize {
        self.batch_rows.len()
    }

    /// Rows in every batch together (what a progress bar counts to).
    pub fn total_rows(&self) -> usize {
        self.figures.rows
    }

    /// Rows of each batch, in order.
    pub fn batch_rows(&self) -> &[usize] {
        &self.batch_rows
    }

    /// Batch `index` (0 = catalog, last = end state), or `None` past the end.
    /// Batches can be built in any order and more than once; they come out the same.
    pub fn batch(&self, index: usize) -> Option<ChangeSet> {
        match index {
            0 => Some(self.catalog_batch.clone()),
            i if i <= self.plan.len() => Some(self.facts(self.plan[i - 1].clone())),
            i if i == self.plan.len() + 1 => Some(self.state_batch.clone()),
            _ => None,
        }
    }

    /// Every batch in order.
    pub fn batches(&self) -> Batches<'_> {
        Batches { chain: self, next: 0 }
    }

    /// Sales lines and stock snapshots of a range of series.
    fn facts(&self, series: Range<usize>) -> ChangeSet {
        let world = &self.world;
        let products = world.catalog.products.len();
        let rows: usize = self.ends[series.clone()].iter().map(|e| e.sales_lines + e.snapshots).sum();
        let sales: usize = self.ends[series.clone()].iter().map(|e| e.sales_lines).sum();
        let mut changes = ChangeSet::default();
        changes.sales.reserve_exact(sales);
        changes.stock.reserve_exact(rows - sales);
        let mut scratch = Scratch::default();
        let mut key = String::with_capacity(64);
        for i in series {
            let (s, p) = (i / products, i % products);
            let store = &world.catalog.stores[s];
            let spec = &world.catalog.products[p];
            let store_code = &store.location.code;
            let product_code = spec.product.code();
            let scale = spec.scale as f64;
            world.simulate(s, p, &mut scratch, |day| {
                let DayOutcome { t, sold, closing, price_cents, .. } = *day;
                if sold > 0 && world.reports(s, t) {
                    let quantity = sold as f64 / scale;
                    let (amount, rate) = if store.sells_in_ves {
                        let rate = self.days.rates[t];
                        let unit_ves = (price_cents * rate.as_f64()).round();
                        (Money::from_minor((unit_ves * quantity).round() as i64, Currency::VES), rate)
                    } else {
                        (Money::usd_cents((price_cents * quantity).round() as i64), ExchangeRate::ONE)
                    };
                    key.clear();
                    // Writing to a String cannot fail.
                    let _ = write!(key, "d:{store_code}:{product_code}:{}", self.days.text[t]);
                    changes.sales.push(SalesLine {
                        key: LineKey::parse(&key).expect("line keys are short and printable"),
                        store: store_code.clone(),
                        product: product_code.clone(),
                        sold_at: self.days.sold_at[t],
                        quantity: Quantity::new(quantity).expect("sold quantities are positive integers or grams"),
                        amount,
                        rate,
                    });
                }
                if world.needs_snapshot(s, t, closing) {
                    changes.stock.push(StockSnapshot {
                        location: store_code.clone(),
                        product: product_code.clone(),
                        day: world.calendar.dates[t],
                        on_hand: StockQuantity::new(closing as f64 / scale).expect("stock is a finite integer count"),
                    });
                }
            });
        }
        changes
    }
}

/// The batches of a [`DemoChain`], in order, built as they are taken.
#[derive(Debug)]
pub struct Batches<'a> {
    chain: &'a DemoChain,
    next: usize,
}

impl Iterator for Batches<'_> {
    type Item = ChangeSet;

    fn next(&mut self) -> Option<ChangeSet> {
        let batch = self.chain.batch(self.next)?;
        self.next += 1;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.chain.batch_count().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

impl<'a> IntoIterator for &'a DemoChain {
    type Item = ChangeSet;
    type IntoIter = Batches<'a>;

    fn into_iter(self) -> Batches<'a> {
        self.batches()
    }
}

/// Locations, suppliers, products, holidays and promotion days.
fn catalog_batch(world: &World) -> ChangeSet {
    let catalog = &world.catalog;
    let mut locations: Vec<Location> = catalog.stores.iter().map(|s| s.location.clone()).collect();
    locations.push(catalog.warehouse.clone());
    let mut events = world.calendar.holidays.clone();
    for promo in &world.promos {
        events.extend(promo.events(catalog, &world.calendar));
    }
    events.sort_by(|a, b| (a.day, &a.name).cmp(&(b.day, &b.name)));
    let dates = &world.calendar.dates;
    let promotions = world
        .promos
        .iter()
        .filter_map(|p| {
            Promotion::new(
                catalog.stores[p.store].location.code.clone(),
                catalog.products[p.product].product.code().clone(),
                dates[p.first],
                dates[p.last.min(dates.len() - 1)],
                u8::try_from(p.discount_pct).unwrap_or(95).min(95),
            )
            .ok()
        })
        .collect();
    ChangeSet {
        locations,
        suppliers: catalog.suppliers.iter().map(|s| s.supplier.clone()).collect(),
        products: catalog.products.iter().map(|p| p.product.clone()).collect(),
        events,
        promotions,
        ..ChangeSet::default()
    }
}

/// The state at the end date: the warehouse's stock, lots, open purchase orders, transfers in transit.
fn state_batch(config: &DemoConfig, world: &World, ends: &[SeriesEnd]) -> ChangeSet {
    let catalog = &world.catalog;
    let dates = &world.calendar.dates;
    let products = catalog.products.len();
    let last = world.days - 1;
    let end = dates[last];
    let mut changes = ChangeSet::default();

    // The distribution centre carries the dry goods (fresh goods go straight to the stores), from a
    // few days to a month of the chain's sales; a few items are out.
    for (p, spec) in catalog.products.iter().enumerate() {
        if spec.shelf_life.is_some() {
            continue;
        }
        let mut rng = sub_rng(config.seed, Tag::Warehouse, &[p as u64]);
        let chain_rate: f64 = (0..catalog.stores.len()).map(|s| ends[s * products + p].recent_rate).sum();
        let days_of_cover: f64 = rng.random_range(4.0..30.0);
        let pack = f64::from(spec.product.pack_size());
        let on_hand =
            if rng.random_bool(0.05) { 0.0 } else { ((chain_rate * days_of_cover / pack).ceil() * pack).max(pack) };
        changes.stock.push(StockSnapshot {
            location: catalog.warehouse.code.clone(),
            product: spec.product.code().clone(),
            day: end,
            on_hand: StockQuantity::new(on_hand).expect("warehouse stock is a finite multiple of the pack"),
        });
    }

    // Lots of perishables still on the shelves.
    for (i, series) in ends.iter().enumerate() {
        let (s, p) = (i / products, i % products);
        let spec = &catalog.products[p];
        let Some(life) = spec.shelf_life else { continue };
        for &(received, quantity) in &series.lots {
            let received_on = dates[received];
            changes.lots.push(Lot {
                location: catalog.stores[s].location.code.clone(),
                product: spec.product.code().clone(),
                code: LotCode::parse(&format!("L{}", received_on.format("%Y%m%d"))).expect("lot codes are short"),
                quantity: Quantity::new(quantity as f64 / spec.scale as f64).expect("lot quantities are positive"),
                received_on,
                expires_on: received_on + Duration::days(i64::from(life)),
            });
        }
    }

    // Open purchase orders: what each store ordered from a supplier on a day and has not received.
    let mut orders: BTreeMap<(usize, usize, usize), Vec<OrderLine>> = BTreeMap::new();
    for (i, series) in ends.iter().enumerate() {
        let (s, p) = (i / products, i % products);
        let spec = &catalog.products[p];
        for pending in &series.pipeline {
            orders.entry((s, spec.supplier, pending.ordered)).or_default().push(OrderLine {
                product: spec.product.code().clone(),
                quantity: Quantity::new(pending.quantity as f64 / spec.scale as f64)
                    .expect("order quantities are positive"),
            });
        }
    }
    for ((s, supplier, ordered), lines) in orders {
        let store = &catalog.stores[s].location.code;
        let supplier = &catalog.suppliers[supplier].supplier;
        let ordered_on = dates[ordered];
        let lead = supplier.lead_time.mean_days().round().max(1.0) as i64;
        let number = format!("OC-{store}-{}-{}", supplier.code, ordered_on.format("%Y%m%d"));
        if let Ok(order) = PurchaseOrder::new(
            OrderNumber::parse(&number).expect("order numbers are short"),
            supplier.code.clone(),
            store.clone(),
            ordered_on,
            ordered_on + Duration::days(lead),
            lines,
        ) {
            changes.purchase_orders.push(order);
        }
    }

    // A few transfers from the distribution centre to stores that are running low on dry goods.
    let senders = catalog.stores.len().min(3);
    for k in 0..senders {
        let s = k * catalog.stores.len() / senders;
        let mut rng = sub_rng(config.seed, Tag::Transfer, &[s as u64]);
        let mut low: Vec<(f64, usize)> = (0..products)
            .filter(|&p| catalog.products[p].shelf_life.is_none())
            .map(|p| {
                let series = &ends[s * products + p];
                let per_day = (series.recent_rate * catalog.products[p].scale as f64).max(1e-9);
                (series.on_hand as f64 / per_day, p)
            })
            .collect();
        low.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let lines: Vec<OrderLine> = low
            .iter()
            .take(rng.random_range(3..=8))
            .map(|&(_, p)| {
                let spec = &catalog.products[p];
                let series = &ends[s * products + p];
                // About a week of the store's sales, less what it still has.
                let wanted = 7.0 * series.recent_rate - series.on_hand as f64 / spec.scale as f64;
                let pack = f64::from(spec.product.pack_size());
                OrderLine {
                    product: spec.product.code().clone(),
                    quantity: Quantity::new(((wanted / pack).ceil() * pack).max(pack))
                        .expect("transfer quantities are whole packs"),
                }
            })
            .collect();
        let shipped_on = end - Duration::days(rng.random_range(0..=1));
        let expected_on = end + Duration::days(rng.random_range(1..=2));
        let store = &catalog.stores[s].location.code;
        let number = format!("TR-{store}-{}", shipped_on.format("%Y%m%d"));
        if let Ok(transfer) = Transfer::new(
            OrderNumber::parse(&number).expect("transfer numbers are short"),
            catalog.warehouse.code.clone(),
            store.clone(),
            shipped_on,
            expected_on,
            lines,
        ) {
            changes.transfers.push(transfer);
        }
    }
    changes
}

/// Independent random streams of the generator; each is further keyed by the indices it concerns.
#[derive(Debug, Clone, Copy)]
enum Tag {
    Store = 1,
    Product,
    Price,
    Rate,
    Promo,
    Lead,
    Series,
    Outage,
    Warehouse,
    Transfer,
}

/// SplitMix64: a bijective mixer, so distinct keys give unrelated seeds.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random stream for `tag` and `keys` under `seed`.
fn sub_rng(seed: u64, tag: Tag, keys: &[u64]) -> ChaCha8Rng {
    let mut h = splitmix(seed ^ splitmix(tag as u64));
    for &k in keys {
        h = splitmix(h ^ splitmix(k.wrapping_add(0x5151)));
    }
    ChaCha8Rng::seed_from_u64(h)
}
