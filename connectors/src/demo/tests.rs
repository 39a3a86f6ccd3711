//! Tests of the demo chain: determinism, the demand patterns it promises, stockouts, the end state
//! and that every row is a valid domain value.
//!
//! Most tests share one small chain (3 stores, 60 products, 400 days to 2026-11-27: a December, a
//! Semana Santa and thirteen months of quincenas), generated once.

use super::simulate::{OVERORDER_DAYS, PHANTOM_DAYS, QUIET_DAYS, Scratch};
use super::*;
use chrono::Datelike;
use fluxion_domain::calendar::is_last_day_of_month;
use fluxion_domain::{Barcode, LocationCode, LocationKind, Product, ProductCode, product::ProductFields};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn small_config(seed: u64) -> DemoConfig {
    DemoConfig::new(seed, 3, 60, 400, day(2026, 11, 27)).expect("valid config")
}

/// The small chain and all its batches, built once for every test.
struct Fixture {
    chain: DemoChain,
    batches: Vec<ChangeSet>,
}

impl Fixture {
    fn all(&self) -> impl Iterator<Item = &ChangeSet> {
        self.batches.iter()
    }

    fn sales(&self) -> impl Iterator<Item = &SalesLine> {
        self.all().flat_map(|b| b.sales.iter())
    }

    fn stock(&self) -> impl Iterator<Item = &StockSnapshot> {
        self.all().flat_map(|b| b.stock.iter())
    }

    /// Units sold per (store, product) and day.
    fn daily_units(&self) -> HashMap<(LocationCode, ProductCode), HashMap<NaiveDate, f64>> {
        let mut out: HashMap<_, HashMap<_, _>> = HashMap::new();
        for line in self.sales() {
            *out.entry((line.store.clone(), line.product.clone()))
                .or_default()
                .entry(line.sold_at.date())
                .or_insert(0.0) += line.quantity.get();
        }
        out
    }

    fn series_count(&self) -> usize {
        self.chain.config.stores * self.chain.config.products
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let chain = generate(&small_config(7)).expect("valid config");
        let batches = chain.batches().collect();
        Fixture { chain, batches }
    })
}

fn debug_text(batches: &[ChangeSet]) -> Vec<String> {
    batches.iter().map(|b| format!("{b:?}")).collect()
}

#[test]
fn config_validation_refuses_silly_sizes() {
    let end = day(2026, 11, 27);
    assert!(DemoConfig::default().validate().is_ok());
    assert_eq!(DemoConfig::default().end, end);
    for (stores, products, days) in
        [(0, 400, 730), (61, 400, 730), (6, 9, 730), (6, 5001, 730), (6, 400, 59), (6, 400, 3651)]
    {
        let refused = DemoConfig::new(1, stores, products, days, end);
        assert!(
            matches!(refused, Err(DemoConfigError::OutOfRange { .. })),
            "{stores}/{products}/{days} must be refused"
        );
    }
    let err = DemoConfig::new(1, 0, 400, 730, end).expect_err("no stores");
    assert_eq!(err.to_string(), "the demo's number of stores must be between 1 and 60, not 0");
    let unbuildable = DemoConfig { stores: 1000, ..DemoConfig::default() };
    assert!(generate(&unbuildable).is_err(), "generate validates configs built field by field");
    let too_early = DemoConfig { end: NaiveDate::MIN + Duration::days(10), ..DemoConfig::default() };
    assert!(matches!(too_early.validate(), Err(DemoConfigError::Dates { .. })));
    assert!(DemoConfig::new(1, 1, 10, 60, end).is_ok());
    assert!(DemoConfig::new(1, 60, 5000, 3650, end).is_ok());
}

#[test]
fn same_seed_gives_identical_batches_in_any_order() {
    let fixture = fixture();
    let again = generate(&small_config(7)).expect("valid config");
    let forward = debug_text(&fixture.batches);
    let mut backward: Vec<ChangeSet> =
        (0..again.batch_count()).rev().map(|i| again.batch(i).expect("index in range")).collect();
    backward.reverse();
    assert_eq!(forward, debug_text(&backward));
    assert_eq!(fixture.chain.figures(), again.figures());
}

#[test]
fn different_seed_gives_different_data() {
    let fixture = fixture();
    let other = generate(&small_config(8)).expect("valid config");
    let other_batches: Vec<ChangeSet> = other.batches().collect();
    assert_ne!(debug_text(&fixture.batches), debug_text(&other_batches));
    let first = |batches: &[ChangeSet]| batches[1].sales.iter().take(50).map(|l| l.quantity.get()).collect::<Vec<_>>();
    assert_ne!(first(&fixture.batches), first(&other_batches), "sales differ, not only the end state");
}

#[test]
fn batches_add_up_to_the_announced_rows() {
    let fixture = fixture();
    let chain = &fixture.chain;
    assert_eq!(fixture.batches.len(), chain.batch_count());
    assert_eq!(chain.batches().len(), chain.batch_count());
    assert!(chain.batch_count() >= 3, "catalog, facts, end state");
    for (i, batch) in fixture.batches.iter().enumerate() {
        assert_eq!(batch.rows(), chain.batch_rows()[i], "batch {i}");
        assert!(batch.rows() > 0, "batch {i} is not empty");
    }
    assert_eq!(fixture.all().map(ChangeSet::rows).sum::<usize>(), chain.total_rows());
    assert!(chain.batch(chain.batch_count()).is_none());
    let figures = chain.figures();
    assert_eq!(figures.sales_lines, fixture.sales().count());
    assert_eq!(figures.stock_snapshots, fixture.stock().count());
    assert!(fixture.batches[0].products.len() == 60 && fixture.batches[0].locations.len() == 4);
    assert!(fixture.batches[1..].iter().all(|b| b.products.is_empty()), "the catalog comes first, once");
}

#[test]
fn catalog_has_recognisable_venezuelan_staples_stores_and_suppliers() {
    let chain = generate(&DemoConfig { days: 60, ..DemoConfig::default() }).expect("valid config");
    let catalog = chain.batch(0).expect("catalog batch");
    let names: Vec<&str> = catalog.products.iter().map(Product::name).collect();
    for wanted in [
        "Harina de maíz precocida P.A.N. blanca 1 kg",
        "Arroz Mary tipo I 1 kg",
        "Pasta Primor espagueti 500 g",
        "Aceite vegetal Diana 1 L",
        "Café molido Fama de América 500 g",
        "Leche UHT Los Andes completa 1 L",
        "Queso blanco duro por kg",
        "Malta Maltín Polar lata 355 ml",
        "Refresco Pepsi 2 L",
        "Jabón de panela azul Las Llaves 250 g",
        "Papel higiénico Rosal 4 rollos",
        "Sardinas Margarita en salsa de tomate 170 g",
    ] {
        assert!(names.contains(&wanted), "{wanted:?} missing from {names:?}");
    }
    let cities: HashSet<&str> = catalog.locations.iter().map(|l| l.city.as_str()).collect();
    assert!(cities.contains("Caracas") && cities.contains("Maracaibo") && cities.contains("Puerto La Cruz"));
    assert_eq!(catalog.locations.iter().filter(|l| l.kind == LocationKind::Store).count(), 6);
    assert_eq!(catalog.locations.iter().filter(|l| l.kind == LocationKind::Warehouse).count(), 1);
    let suppliers: HashSet<&str> = catalog.suppliers.iter().map(|s| s.name.as_str()).collect();
    for wanted in ["Alimentos Polar", "Cargill de Venezuela", "Nestlé Venezuela", "Mavesa", "Plumrose Latinoamericana"]
    {
        assert!(suppliers.contains(wanted), "{wanted} missing");
    }
    let queso = catalog.products.iter().find(|p| p.name() == "Queso blanco duro por kg").expect("queso");
    assert_eq!(queso.unit(), fluxion_domain::Unit::Kilogram);
    assert!(queso.is_perishable());
    for p in &catalog.products {
        let margin = 1.0 - p.cost().as_f64() / p.price().as_f64();
        assert!((0.11..=0.42).contains(&margin), "{} margin {margin}", p.name());
        assert!(p.supplier().is_some());
    }
}

#[test]
fn catalog_reaches_five_thousand_unique_products() {
    assert!(catalog::max_products() >= 5000);
    let config = DemoConfig { products: 5000, stores: 60, ..DemoConfig::default() };
    let built = catalog::build(&config);
    assert_eq!(built.products.len(), 5000);
    assert_eq!(built.stores.len(), 60);
    let codes: HashSet<&str> = built.products.iter().map(|p| p.product.code().as_str()).collect();
    assert_eq!(codes.len(), 5000, "product codes are unique");
    let barcodes: HashSet<&Barcode> = built.products.iter().flat_map(|p| p.product.barcodes()).collect();
    assert_eq!(barcodes.len(), 5000, "barcodes are unique");
    let stores: HashSet<&str> = built.stores.iter().map(|s| s.location.code.as_str()).collect();
    assert_eq!(stores.len(), 60, "store codes are unique");
    assert!(!stores.contains(built.warehouse.code.as_str()));
    let intermittent = built.products.iter().filter(|p| p.rate < 1.0).count();
    assert!(intermittent * 5 >= built.products.len(), "at least a fifth sell under one a day: {intermittent}");
}

#[test]
fn every_row_passes_its_domain_constructor() {
    let fixture = fixture();
    let catalog = &fixture.batches[0];
    for l in &catalog.locations {
        assert_eq!(LocationCode::parse(l.code.as_str()).as_ref(), Ok(&l.code));
    }
    for p in &catalog.products {
        for b in p.barcodes() {
            assert_eq!(Barcode::parse(b.as_str()).as_ref(), Ok(b));
            if b.as_str().len() == 13 {
                assert!(b.as_str().starts_with("759"), "Venezuelan GS1 prefix: {b}");
            }
        }
        let rebuilt = Product::new(ProductFields {
            code: p.code().clone(),
            barcodes: p.barcodes().to_vec(),
            name: p.name().to_owned(),
            brand: p.brand().to_owned(),
            category: p.category().to_owned(),
            unit: p.unit(),
            pack_size: p.pack_size(),
            shelf_life_days: p.shelf_life_days(),
            cost: p.cost(),
            price: p.price(),
            supplier: p.supplier().cloned(),
        });
        assert_eq!(rebuilt.as_ref(), Ok(p));
        assert!(p.cost().minor() < p.price().minor());
    }
    for s in &catalog.suppliers {
        assert!(fluxion_domain::LeadTime::new(s.lead_time.mean_days(), s.lead_time.sd_days()).is_ok());
    }
    for line in fixture.sales() {
        assert_eq!(LineKey::parse(line.key.as_str()).as_ref(), Ok(&line.key));
        assert!(Quantity::new(line.quantity.get()).is_ok() && line.quantity.get() > 0.0);
        assert!(line.amount.minor() > 0, "{line:?}");
        assert_eq!(line.rate == ExchangeRate::ONE, line.amount.currency() == Currency::USD);
        assert_eq!(line.sold_at.time(), NaiveTime::from_hms_opt(20, 0, 0).expect("valid time"));
    }
    for s in fixture.stock() {
        assert!(StockQuantity::new(s.on_hand.get()).is_ok() && s.on_hand.get() >= 0.0);
    }
    let state = fixture.batches.last().expect("state batch");
    for o in &state.purchase_orders {
        let rebuilt = PurchaseOrder::new(
            o.number().clone(),
            o.supplier().clone(),
            o.destination().clone(),
            o.ordered_on(),
            o.expected_on(),
            o.lines().to_vec(),
        );
        assert_eq!(rebuilt.as_ref(), Ok(o));
        assert!(o.lines().iter().all(|l| l.quantity.get() > 0.0));
    }
    for t in &state.transfers {
        let rebuilt = Transfer::new(
            t.number().clone(),
            t.from().clone(),
            t.to().clone(),
            t.shipped_on(),
            t.expected_on(),
            t.lines().to_vec(),
        );
        assert_eq!(rebuilt.as_ref(), Ok(t));
    }
}

#[test]
fn every_sales_line_and_snapshot_references_a_generated_location_and_product() {
    let fixture = fixture();
    let catalog = &fixture.batches[0];
    let stores: HashSet<&LocationCode> =
        catalog.locations.iter().filter(|l| l.kind == LocationKind::Store).map(|l| &l.code).collect();
    let locations: HashSet<&LocationCode> = catalog.locations.iter().map(|l| &l.code).collect();
    let products: HashSet<&ProductCode> = catalog.products.iter().map(Product::code).collect();
    let (start, end) = (fixture.chain.config.start(), fixture.chain.config.end);
    let mut keys = HashSet::new();
    for line in fixture.sales() {
        assert!(stores.contains(&line.store) && products.contains(&line.product), "{line:?}");
        assert!((start..=end).contains(&line.sold_at.date()));
        assert!(keys.insert(line.key.as_str()), "keys are unique: {}", line.key.as_str());
    }
    for s in fixture.stock() {
        assert!(locations.contains(&s.location) && products.contains(&s.product), "{s:?}");
    }
    let state = fixture.batches.last().expect("state batch");
    for lot in &state.lots {
        assert!(stores.contains(&lot.location) && products.contains(&lot.product));
    }
    let suppliers: HashSet<_> = catalog.suppliers.iter().map(|s| &s.code).collect();
    for o in &state.purchase_orders {
        assert!(suppliers.contains(o.supplier()) && stores.contains(o.destination()));
        assert!(o.lines().iter().all(|l| products.contains(&l.product)));
    }
}

#[test]
fn final_day_has_a_snapshot_of_every_reporting_store_product_and_the_warehouse() {
    let fixture = fixture();
    let end = fixture.chain.config.end;
    let closing: Vec<&StockSnapshot> = fixture.stock().filter(|s| s.day == end).collect();
    let catalog = &fixture.batches[0];
    let perishable = catalog.products.iter().filter(|p| p.is_perishable()).count();
    // The quiet store's feed stopped: its last counts are from three days before the end.
    let products = fixture.chain.config.products;
    assert_eq!(closing.len(), fixture.series_count() - products + catalog.products.len() - perishable);
    let warehouse = &catalog.locations.iter().find(|l| l.kind == LocationKind::Warehouse).expect("warehouse").code;
    assert!(closing.iter().any(|s| &s.location == warehouse && s.on_hand.get() > 0.0));
    // Every Sunday has a count of every store × product.
    let sunday = day(2026, 11, 22);
    assert_eq!(fixture.stock().filter(|s| s.day == sunday).count(), fixture.series_count());
}

#[test]
fn quincena_days_sell_clearly_more_than_mid_fortnight_days() {
    let fixture = fixture();
    let mut ratios = Vec::new();
    let (mut payday_total, mut mid_total) = (0.0, 0.0);
    let dates: Vec<NaiveDate> = fixture.chain.config.start().iter_days().take(400).collect();
    let paydays: Vec<NaiveDate> = dates.iter().copied().filter(|d| d.day() == 15 || is_last_day_of_month(*d)).collect();
    let mid: Vec<NaiveDate> = dates.iter().copied().filter(|d| matches!(d.day(), 8..=11 | 22..=25)).collect();
    for units in fixture.daily_units().values() {
        let mean = |days: &[NaiveDate]| {
            days.iter().map(|d| units.get(d).copied().unwrap_or(0.0)).sum::<f64>() / days.len() as f64
        };
        let (p, m) = (mean(&paydays), mean(&mid));
        payday_total += p;
        mid_total += m;
        if m >= 1.0 {
            ratios.push(p / m);
        }
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    assert!(payday_total / mid_total > 1.25, "chain-wide payday lift {}", payday_total / mid_total);
    assert!(median > 1.2, "median per-SKU payday lift {median}");
}

#[test]
fn second_half_of_december_sells_more_than_november() {
    let fixture = fixture();
    let (mut december, mut november) = (0.0, 0.0);
    for units in fixture.daily_units().values() {
        for (d, u) in units {
            match (d.year(), d.month(), d.day()) {
                (2025, 12, 16..=31) => december += u / 16.0,
                (2025, 11, _) => november += u / 30.0,
                _ => {}
            }
        }
    }
    assert!(december > november * 1.15, "December {december:.0}/day vs November {november:.0}/day");
}

#[test]
fn some_series_are_intermittent_and_some_are_fast() {
    let fixture = fixture();
    let days = f64::from(fixture.chain.config.days);
    let units = fixture.daily_units();
    let mut intermittent = fixture.series_count() - units.len();
    let mut fast = 0;
    for series in units.values() {
        if days / series.len() as f64 > 1.32 {
            intermittent += 1;
        }
        if series.values().sum::<f64>() / days > 50.0 {
            fast += 1;
        }
    }
    let share = intermittent as f64 / fixture.series_count() as f64;
    assert!(share >= 0.2, "intermittent share {share:.2} (ADI > 1.32)");
    assert!(fast >= 5, "{fast} series sell more than 50 a day");
}

#[test]
fn stockout_spells_exist_and_nothing_sells_from_an_empty_shelf() {
    let fixture = fixture();
    let mut out: HashMap<(&LocationCode, &ProductCode), Vec<NaiveDate>> = HashMap::new();
    for s in fixture.stock().filter(|s| s.on_hand.is_out_of_stock()) {
        out.entry((&s.location, &s.product)).or_default().push(s.day);
    }
    let sold: HashSet<(&LocationCode, &ProductCode, NaiveDate)> =
        fixture.sales().map(|l| (&l.store, &l.product, l.sold_at.date())).collect();

    // Days inside a spell (closed empty the day before and again today) sell only what a delivery
    // brought that morning; the simulation says which days had one.
    let world = &fixture.chain.world;
    let store_index: HashMap<&LocationCode, usize> =
        world.catalog.stores.iter().enumerate().map(|(i, s)| (&s.location.code, i)).collect();
    let product_index: HashMap<&ProductCode, usize> =
        world.catalog.products.iter().enumerate().map(|(i, p)| (p.product.code(), i)).collect();
    let mut scratch = Scratch::default();
    let (mut spells, mut inside, mut sold_inside) = (0, 0, 0);
    for ((store, product), mut days) in out {
        let Some(&store_at) = store_index.get(store) else { continue }; // the distribution centre
        days.sort();
        let mut received: HashMap<NaiveDate, i64> = HashMap::new();
        world.simulate(store_at, product_index[product], &mut scratch, |d| {
            received.insert(world.calendar.dates[d.t], d.received);
        });
        let mut run = 1;
        for pair in days.windows(2) {
            if pair[1] - pair[0] != Duration::days(1) {
                run = 1;
                continue;
            }
            run += 1;
            if run == 3 {
                spells += 1;
            }
            inside += 1;
            if sold.contains(&(store, product, pair[1])) {
                sold_inside += 1;
                assert!(received[&pair[1]] > 0, "{store} {product} sold from an empty shelf on {}", pair[1]);
            }
        }
    }
    assert!(spells >= 10, "only {spells} stockout spells of three days or more");
    assert!(sold_inside * 50 < inside, "{sold_inside} of {inside} days inside spells had a delivery that sold out");
    let figures = fixture.chain.figures();
    let share = figures.stockout_days as f64 / (fixture.series_count() as f64 * 400.0);
    assert!((0.005..0.15).contains(&share), "stockout share {share:.3}");
}

#[test]
fn lots_exist_only_for_perishables_and_expire_after_receipt() {
    let fixture = fixture();
    let catalog = &fixture.batches[0];
    let shelf: HashMap<&ProductCode, Option<u32>> =
        catalog.products.iter().map(|p| (p.code(), p.shelf_life_days())).collect();
    let state = fixture.batches.last().expect("state batch");
    assert!(!state.lots.is_empty());
    let end = fixture.chain.config.end;
    let mut expiring_soon = 0;
    for lot in &state.lots {
        let life = shelf[&lot.product].expect("lots only for perishables");
        assert!(lot.expires_on > lot.received_on);
        assert_eq!(lot.expires_on - lot.received_on, Duration::days(i64::from(life)));
        assert!(lot.received_on <= end && lot.expires_on >= end, "no expired lot is left on the shelf");
        assert!(lot.quantity.get() > 0.0);
        if lot.expires_on - end <= Duration::days(3) {
            expiring_soon += 1;
        }
    }
    assert!(expiring_soon > 0, "some lots expire within three days");
    // What the lots hold is what the store holds.
    let mut in_lots: HashMap<(&LocationCode, &ProductCode), f64> = HashMap::new();
    for lot in &state.lots {
        *in_lots.entry((&lot.location, &lot.product)).or_default() += lot.quantity.get();
    }
    for s in fixture.stock().filter(|s| s.day == end && shelf.get(&s.product).is_some_and(Option::is_some)) {
        let held = in_lots.get(&(&s.location, &s.product)).copied().unwrap_or(0.0);
        assert!(
            (held - s.on_hand.get()).abs() < 1e-6,
            "{} {}: lots {held} vs stock {}",
            s.location,
            s.product,
            s.on_hand.get()
        );
    }
}

#[test]
fn end_state_has_open_orders_transfers_promotions_and_holidays() {
    let fixture = fixture();
    let state = fixture.batches.last().expect("state batch");
    let end = fixture.chain.config.end;
    assert!(state.purchase_orders.len() >= 5, "{} open orders", state.purchase_orders.len());
    assert!(state.purchase_orders.iter().all(|o| o.ordered_on() <= end));
    assert!(!state.transfers.is_empty() && state.transfers.len() <= 3);
    assert!(state.transfers.iter().all(|t| t.shipped_on() <= end && t.expected_on() > end));
    let events = &fixture.batches[0].events;
    assert!(events.iter().any(|e| e.name == "Viernes Santo" && e.day == day(2026, 4, 3)));
    assert!(events.iter().any(|e| e.name == "Navidad" && e.day == day(2026, 12, 25)), "next holidays are known");
    let promos: Vec<_> = events.iter().filter(|e| e.kind == fluxion_domain::EventKind::Promotion).collect();
    assert!(promos.len() > 50);
    let names: Vec<&str> = fixture.batches[0].products.iter().map(Product::name).collect();
    assert!(promos.iter().all(|e| names.iter().any(|n| e.name.contains(n))), "promotions are named after products");
}

#[test]
fn bolivar_stores_record_their_sales_at_a_devaluing_rate() {
    let fixture = fixture();
    let ves: Vec<&SalesLine> = fixture.sales().filter(|l| l.amount.currency() == Currency::VES).collect();
    assert!(!ves.is_empty());
    let stores: HashSet<&LocationCode> = ves.iter().map(|l| &l.store).collect();
    assert_eq!(stores.len(), 1, "one of the three small-chain stores sells in bolívares");
    let first = ves.iter().min_by_key(|l| l.sold_at).expect("some").rate.as_f64();
    let last = ves.iter().max_by_key(|l| l.sold_at).expect("some").rate.as_f64();
    assert!((30.0..45.0).contains(&first) && last > first * 1.1, "rate {first} → {last}");
    for line in ves.iter().take(1000) {
        let usd = line.amount_usd().as_f64() / line.quantity.get();
        assert!((0.05..60.0).contains(&usd), "unit price {usd} USD");
    }
}

#[test]
fn canned_fish_sells_more_in_semana_santa() {
    let fixture = fixture();
    // Easter 2026 is April 5: Holy Week runs from Palm Sunday, March 29, to Saturday, April 4.
    let holy_week: Vec<NaiveDate> = day(2026, 3, 29).iter_days().take(7).collect();
    let before: Vec<NaiveDate> = day(2026, 3, 1).iter_days().take(28).collect();
    let (mut during, mut usual) = (0.0, 0.0);
    for ((_, product), units) in fixture.daily_units() {
        if product.as_str().starts_with("SAR-") || product.as_str().starts_with("ATU-") {
            during += holy_week.iter().map(|d| units.get(d).copied().unwrap_or(0.0)).sum::<f64>() / 7.0;
            usual += before.iter().map(|d| units.get(d).copied().unwrap_or(0.0)).sum::<f64>() / 28.0;
        }
    }
    assert!(usual > 0.0, "the small chain carries sardinas and atún");
    assert!(during > usual * 1.3, "Semana Santa {during:.0}/day vs March {usual:.0}/day");
}

#[test]
fn promotions_cut_the_price_and_lift_sales() {
    let fixture = fixture();
    let world = &fixture.chain.world;
    let days = world.days;
    let mut lines: HashMap<(&str, &str, NaiveDate), &SalesLine> = HashMap::new();
    for l in fixture.sales() {
        lines.insert((l.store.as_str(), l.product.as_str(), l.sold_at.date()), l);
    }
    let (mut during, mut before, mut checked) = (0.0, 0.0, 0);
    for promo in world.promos.iter().filter(|p| p.first >= 28 && p.last < days) {
        let store = world.catalog.stores[promo.store].location.code.as_str();
        let spec = &world.catalog.products[promo.product];
        let product = spec.product.code().as_str();
        let units = |t: usize| lines.get(&(store, product, world.calendar.dates[t])).map_or(0.0, |l| l.quantity.get());
        let length = (promo.last - promo.first + 1) as f64;
        during += (promo.first..=promo.last).map(units).sum::<f64>() / length;
        before += (promo.first - 28..promo.first).map(units).sum::<f64>() / 28.0;
        let promo_price = (spec.price_cents * (1.0 - f64::from(promo.discount_pct) / 100.0)).round();
        for t in promo.first..=promo.last {
            if let Some(l) = lines.get(&(store, product, world.calendar.dates[t]))
                && l.amount.currency() == Currency::USD
            {
                assert_eq!(l.amount.minor(), (promo_price * l.quantity.get()).round() as i64, "{l:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "{checked} promotional USD lines checked");
    assert!(during > before * 1.5, "promotion days sell {during:.0}/day vs {before:.0}/day before");
}

#[test]
fn one_store_went_quiet_and_some_shelves_hold_phantom_stock() {
    let fixture = fixture();
    let end = fixture.chain.config.end;
    let quiet = &fixture.chain.world.catalog.stores[2].location.code;
    let last_data = fixture
        .sales()
        .filter(|l| &l.store == quiet)
        .map(|l| l.sold_at.date())
        .chain(fixture.stock().filter(|s| &s.location == quiet).map(|s| s.day))
        .max()
        .expect("the quiet store reported before");
    assert_eq!(last_data, end - Duration::days(QUIET_DAYS as i64));
    // Every other store reports to the end.
    let stores = &fixture.chain.world.catalog.stores;
    for s in &stores[..2] {
        assert!(fixture.sales().any(|l| l.store == s.location.code && l.sold_at.date() == end));
    }
    // Phantom stock: a fast item at each reporting store sells nothing for the last days while its
    // last count shows stock on the shelf.
    let daily = fixture.daily_units();
    for (s, phantom) in fixture.chain.world.phantoms.iter().enumerate().take(2) {
        let p = phantom.expect("each reporting store has a phantom item");
        let store = &stores[s].location.code;
        let product = fixture.chain.world.catalog.products[p].product.code();
        let sold = &daily[&(store.clone(), product.clone())];
        let before: f64 = (PHANTOM_DAYS as i64 + 1..PHANTOM_DAYS as i64 + 29)
            .map(|k| sold.get(&(end - Duration::days(k))).copied().unwrap_or(0.0))
            .sum();
        assert!(before / 28.0 >= 2.0, "a phantom item normally sells: {before} in 4 weeks");
        assert!((0..PHANTOM_DAYS as i64).all(|k| !sold.contains_key(&(end - Duration::days(k)))));
        let count = fixture
            .stock()
            .filter(|c| &c.location == store && c.product == *product && c.day == end)
            .map(|c| c.on_hand.get())
            .next()
            .expect("closing count");
        assert!(count > 0.0, "the books show stock");
    }
}

#[test]
fn a_wrong_order_left_months_of_stock_of_a_slow_dry_good() {
    let fixture = fixture();
    let end = fixture.chain.config.end;
    let world = &fixture.chain.world;
    let daily = fixture.daily_units();
    let mut found = 0;
    for (s, over) in world.overorders.iter().enumerate() {
        let Some(p) = over else { continue };
        let store = &world.catalog.stores[s].location.code;
        let spec = &world.catalog.products[*p];
        assert!(spec.shelf_life.is_none());
        let sold: f64 = daily.get(&(store.clone(), spec.product.code().clone())).map_or(0.0, |d| {
            d.iter().filter(|(day, _)| **day > end - Duration::days(OVERORDER_DAYS as i64)).map(|(_, u)| u).sum()
        });
        let last_count = fixture
            .stock()
            .filter(|c| &c.location == store && c.product == *spec.product.code())
            .max_by_key(|c| c.day)
            .expect("a count")
            .on_hand
            .get();
        // Far more on hand than three weeks of its sales.
        assert!(last_count > 3.0 * sold.max(1.0), "{store}: {last_count} on hand, {sold} sold since the delivery");
        found += 1;
    }
    assert_eq!(found, 3);
}
