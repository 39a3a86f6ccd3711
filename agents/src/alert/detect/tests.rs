use super::*;
use fluxion_domain::OrderDays;

fn terms() -> ItemTerms {
    ItemTerms {
        unit_cost: 1.0,
        unit_price: 1.4,
        pack: 12.0,
        moq: 24.0,
        lead: LeadTimeDays::fixed(5),
        order_days: OrderDays::EVERY_DAY,
        shelf_life_days: None,
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
}

struct Fixture {
    store: LocationCode,
    product: ProductCode,
    terms: ItemTerms,
    means: Vec<f64>,
    inbound: Vec<Incoming>,
    lots: Vec<(NaiveDate, f64)>,
    recent: Vec<DayCheck>,
}

impl Fixture {
    fn new(rate: f64) -> Self {
        Self {
            store: LocationCode::parse("CCS-01").expect("code"),
            product: ProductCode::parse("HAR-001").expect("code"),
            terms: terms(),
            means: vec![rate; 60],
            inbound: vec![],
            lots: vec![],
            recent: vec![],
        }
    }

    fn view(&self, on_hand: f64) -> ItemView<'_> {
        ItemView {
            store: &self.store,
            store_name: "Chacao",
            product: &self.product,
            product_name: "Harina P.A.N. 1 kg",
            unit: Unit::Each,
            terms: &self.terms,
            on_hand,
            inbound: &self.inbound,
            lots: &self.lots,
            ahead: Some(DemandAhead { means: &self.means, size: f64::INFINITY, level_uncertainty: 0.0 }),
            recent: &self.recent,
        }
    }
}

#[test]
fn imminent_stockout_speaks_the_numbers() {
    let f = Fixture::new(40.0);
    let s = AlertSettings::default();
    let a = imminent_stockout(&f.view(120.0), today(), &s, &ReorderSettings::default()).expect("alert");
    assert_eq!(a.kind, AlertKind::ImminentStockout);
    assert!(a.probability.expect("p") > 0.99);
    // 120 units at 40 a day last three days: the fourth day's demand does not fit.
    assert_eq!(a.runs_out_on, Some(today() + Days::new(4)));
    assert!(a.reason_es.starts_with("Quedan 120 unidades de Harina P.A.N. 1 kg en Chacao; se venden ~40 al día y el proveedor tarda 5 días: se agota el vie 27/11"), "{}", a.reason_es);
    // Four days until an order tonight arrives: 160 expected against 120, 40 short at US$ 0,40 margin.
    assert!((a.impact_usd - 16.0).abs() < 0.5, "{}", a.impact_usd);
    assert!(matches!(a.action, SuggestedAction::Reorder { units } if units % 12.0 == 0.0 && units >= 24.0));
    assert_eq!(a.dedup_key, "imminent_stockout:CCS-01:HAR-001");
    // Enough stock, or enough arriving in time: no alert.
    assert!(imminent_stockout(&f.view(400.0), today(), &s, &ReorderSettings::default()).is_none());
    let mut g = Fixture::new(40.0);
    g.inbound = vec![Incoming { expected: today() + Days::new(2), units: 300.0, from_supplier: true }];
    assert!(imminent_stockout(&g.view(120.0), today(), &s, &ReorderSettings::default()).is_none());
}

#[test]
fn a_stockout_another_store_can_relieve_suggests_the_transfer() {
    let f = Fixture::new(40.0);
    let mut a = imminent_stockout(&f.view(120.0), today(), &AlertSettings::default(), &ReorderSettings::default())
        .expect("alert");
    let before = a.reason_es.clone();
    let m = Move { product: 0, from: 3, to: 0, units: 60.0, cost: 1.2, benefit: 20.0 };
    let valencia = LocationCode::parse("VAL-01").expect("code");
    relieve_by_transfer(&mut a, &m, (&valencia, "Valencia"));
    assert_eq!(a.action, SuggestedAction::Transfer { units: 60.0, from: valencia, to: f.store.clone() });
    // The reason keeps the order and adds the move.
    assert!(a.reason_es.starts_with(&before) && before.contains("Pedir"), "{}", a.reason_es);
    assert!(
        a.reason_es.ends_with("Valencia tiene de más y puede enviar 60 unidades, que llegarían mañana."),
        "{}",
        a.reason_es
    );
    assert_eq!(a.dedup_key, "imminent_stockout:CCS-01:HAR-001");
}

#[test]
fn a_supplier_delivery_may_come_late_and_a_late_one_may_keep_the_shelf_waiting() {
    let s = AlertSettings { stockout_probability: 0.3, ..AlertSettings::default() };
    let r = ReorderSettings::default();
    // 25 units at 10 a day, and 200 promised for the morning after tomorrow: enough if they come on time.
    let mut f = Fixture::new(10.0);
    f.inbound = vec![Incoming { expected: today() + Days::new(2), units: 200.0, from_supplier: true }];
    let on_time = stockout_risk(&f.view(25.0), today()).expect("risk");
    assert!(on_time < 0.05, "{on_time}");
    // A supplier whose five days are often seven: two days late leaves the third day short.
    f.terms.lead = LeadTimeDays::normal(5.0, 2.0);
    let uncertain = stockout_risk(&f.view(25.0), today()).expect("risk");
    assert!(uncertain > 0.15 && uncertain < 0.45, "{uncertain}");
    // The same units moved from another store of the chain come when expected.
    f.inbound[0].from_supplier = false;
    let transfer = stockout_risk(&f.view(25.0), today()).expect("risk");
    assert!((transfer - on_time).abs() < 1e-9, "{transfer} vs {on_time}");
    // An empty shelf waiting for a delivery promised yesterday: it comes tomorrow only if it was
    // one day late and no more (about half of the late ones), otherwise tomorrow's sales are lost.
    f.inbound = vec![Incoming { expected: today() - Days::new(1), units: 200.0, from_supplier: true }];
    let late = stockout_risk(&f.view(0.0), today()).expect("risk");
    assert!(late > 0.4 && late < 0.7, "{late}");
    let a = imminent_stockout(&f.view(0.0), today(), &s, &r).expect("alert");
    assert!(a.reason_es.contains("(el pedido que venía el dom 22/11 aún no llega)"), "{}", a.reason_es);
    // Were it expected tomorrow as the books say, it would not alert at all.
    f.terms.lead = LeadTimeDays::fixed(5);
    assert!(stockout_risk(&f.view(0.0), today()).expect("risk") < 0.01);
}

#[test]
fn stock_that_expires_before_it_sells_does_not_protect_the_shelf() {
    // 100 units, 10 sold a day, four days until an order tonight arrives: safe when they keep…
    let mut f = Fixture::new(10.0);
    f.terms.lead = LeadTimeDays::fixed(5);
    let keeps = stockout_risk(&f.view(100.0), today()).expect("risk");
    assert!(keeps < 0.01, "{keeps}");
    // …but 90 of them are a lot that is thrown away after tomorrow: 10 sell, 80 expire, and the
    // 10 that remain cannot last three more days.
    f.terms.shelf_life_days = Some(7);
    f.lots = vec![(today() + Days::new(1), 90.0), (today() + Days::new(6), 10.0)];
    let expires = stockout_risk(&f.view(100.0), today()).expect("risk");
    assert!(expires > 0.99, "{expires}");
    let a = imminent_stockout(&f.view(100.0), today(), &AlertSettings::default(), &ReorderSettings::default());
    assert!(a.is_some());
    // Lots that outlive the horizon change nothing.
    f.lots = vec![(today() + Days::new(6), 100.0)];
    assert!((stockout_risk(&f.view(100.0), today()).expect("risk") - keeps).abs() < 1e-12);
}

#[test]
fn overstock_counts_the_capital_tied_up() {
    let f = Fixture::new(2.0);
    let s = AlertSettings::default();
    let a = overstock(&f.view(1000.0), today(), &s, &ReorderSettings::default()).expect("alert");
    assert_eq!(a.impact, ImpactKind::CapitalTiedUp);
    assert!(a.impact_usd > 800.0 && a.impact_usd < 1000.0, "{}", a.impact_usd);
    assert!(a.reason_es.contains("alcanzan para 500 días"), "{}", a.reason_es);
    assert!(overstock(&f.view(40.0), today(), &s, &ReorderSettings::default()).is_none());
}

#[test]
fn a_spike_far_outside_the_band_is_an_anomaly_and_normal_days_are_not() {
    let mut f = Fixture::new(10.0);
    let d = |k: u64, sold: f64| DayCheck {
        date: today() - Days::new(k),
        sold,
        expected: 10.0,
        size: f64::INFINITY,
        censored: false,
    };
    f.recent = vec![d(2, 9.0), d(1, 12.0), d(0, 11.0)];
    assert!(sales_anomaly(&f.view(50.0), today(), &AlertSettings::default()).is_none());
    f.recent = vec![d(2, 9.0), d(1, 45.0), d(0, 11.0)];
    let a = sales_anomaly(&f.view(50.0), today(), &AlertSettings::default()).expect("spike");
    assert!(a.reason_es.contains("se vendieron 45 unidades"), "{}", a.reason_es);
    assert_eq!(a.dedup_key, format!("sales_anomaly:CCS-01:HAR-001:{}", today() - Days::new(1)));
    // A level change over two weeks.
    f.recent = (0..14).rev().map(|k| d(k, 16.0)).collect();
    let a = sales_anomaly(&f.view(50.0), today(), &AlertSettings::default()).expect("level");
    assert!(a.dedup_key.ends_with(":level"));
}

#[test]
fn zero_sales_with_stock_on_the_books_is_phantom_stock() {
    let mut f = Fixture::new(4.0);
    let d = |k: u64, sold: f64| DayCheck {
        date: today() - Days::new(k),
        sold,
        expected: 4.0,
        size: f64::INFINITY,
        censored: false,
    };
    f.recent = vec![d(5, 3.0), d(4, 0.0), d(3, 0.0), d(2, 0.0), d(1, 0.0), d(0, 0.0)];
    let a = phantom_stock(&f.view(35.0), today(), &AlertSettings::default()).expect("phantom");
    assert_eq!(a.action, SuggestedAction::CheckShelf);
    assert!(a.reason_es.contains("lleva 5 días sin una venta"), "{}", a.reason_es);
    // Nothing on the books: that is a stockout, not phantom stock. One quiet day: normal.
    assert!(phantom_stock(&f.view(0.0), today(), &AlertSettings::default()).is_none());
    f.recent = vec![d(1, 3.0), d(0, 0.0)];
    assert!(phantom_stock(&f.view(35.0), today(), &AlertSettings::default()).is_none());
}

#[test]
fn lots_that_will_not_sell_in_time_are_flagged_with_the_units_at_risk() {
    let mut f = Fixture::new(5.0);
    f.terms.shelf_life_days = Some(10);
    // First lot: 20 units expiring in 6 days (30 will sell): safe. Second: 60 expiring in 8 days:
    // 40 will sell by then, 20 of them from the first lot → 60 − 20 = 40 at risk.
    f.lots = vec![(today() + Days::new(6), 20.0), (today() + Days::new(8), 60.0)];
    let alerts = expiring_lots(&f.view(80.0), today(), &AlertSettings::default());
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert!(matches!(a.action, SuggestedAction::MarkDown { units, .. } if units == 40.0), "{:?}", a.action);
    assert_eq!(a.impact, ImpactKind::ValueExpiring);
    assert!((a.impact_usd - 40.0).abs() < 1e-9);
}

#[test]
fn a_quiet_feed_is_stale_after_three_usual_gaps() {
    let store = LocationCode::parse("MCB-01").expect("code");
    let feed = FeedView {
        store: &store,
        store_name: "Maracaibo",
        last_data: today() - Days::new(3),
        usual_gap_days: 1.0,
        daily_revenue: 900.0,
    };
    let a = stale_data(&feed, today(), &AlertSettings::default()).expect("stale");
    assert!((a.impact_usd - 2700.0).abs() < 1e-9);
    assert!(a.reason_es.contains("No llegan datos de Maracaibo"));
    let fresh = FeedView { last_data: today() - Days::new(1), ..feed };
    assert!(stale_data(&fresh, today(), &AlertSettings::default()).is_none());
}
