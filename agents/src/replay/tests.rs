use super::*;
use crate::forecast::Calendar;
use crate::optimizer::LeadTimeDays;
use fluxion_domain::{LocationCode, OrderDays, ProductCode};

/// A world of one product, one store per demand row, recorded sales equal to demand.
pub(crate) fn world(demand: Vec<Vec<f64>>, shelf_life: Option<u32>) -> ReplayWorld {
    let days = demand[0].len();
    let items = demand
        .into_iter()
        .enumerate()
        .map(|(i, d)| ReplayItem {
            store: i,
            product: 0,
            supplier: 0,
            terms: ItemTerms {
                unit_cost: 1.0,
                unit_price: 1.5,
                pack: 1.0,
                moq: 0.0,
                lead: LeadTimeDays::fixed(2),
                order_days: OrderDays::EVERY_DAY,
                shelf_life_days: shelf_life,
            },
            category: None,
            promotions: Vec::new(),
            first: 0,
            recorded: d.clone(),
            censored: vec![false; days],
            demand: d,
        })
        .collect::<Vec<_>>();
    ReplayWorld {
        start: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        days,
        stores: (0..items.len()).map(|i| LocationCode::parse(&format!("S{i}")).expect("code")).collect(),
        store_names: (0..items.len()).map(|i| format!("Tienda {i}")).collect(),
        products: vec![ProductCode::parse("P").expect("code")],
        product_names: vec!["Producto".into()],
        product_units: vec![fluxion_domain::Unit::Each],
        product_costs: vec![1.0],
        suppliers: vec![fluxion_domain::SupplierCode::parse("SUP").expect("code")],
        items,
        calendar: Calendar::default(),
        store_revenue: Vec::new(),
    }
}

/// Orders a fixed quantity every day, or moves stock from item 0 to item 1.
struct Fixed {
    order: f64,
    transfer: f64,
}

impl Policy for Fixed {
    fn name(&self) -> &'static str {
        "fixed"
    }
    fn decide(&mut self, e: &Evening<'_>) -> Decisions {
        Decisions {
            orders: (0..e.items.len()).map(|i| (i, self.order)).collect(),
            transfers: if self.transfer > 0.0 { vec![(0, 1, self.transfer)] } else { vec![] },
        }
    }
}

fn config(world: &ReplayWorld, from: usize, days: usize) -> ReplayConfig {
    ReplayConfig {
        from: world.date_of(from),
        days,
        warmup_days: from.min(28),
        opening_cover_days: 3.0,
        seed: 7,
        alerts: Some(AlertSettings::default()),
        alert_refresh_days: 7,
        transfer_cost_fixed_usd: 0.02,
        transfer_cost_share: 0.03,
    }
}

#[test]
fn every_unit_demanded_is_sold_or_lost() {
    let w = world(vec![vec![4.0; 60], vec![2.0; 60]], None);
    let r = replay(&w, &mut Fixed { order: 3.0, transfer: 0.0 }, &config(&w, 10, 40));
    assert_eq!(r.days, 40);
    // Item 0 sells 4 a day but receives 3: it runs dry and loses about 1 a day.
    assert!(r.lost_units > 30.0 && r.lost_units <= 40.0, "{}", r.lost_units);
    assert!((r.fill_rate - (240.0 - r.lost_units) / 240.0).abs() < 1e-9);
    assert!(r.stockout_days >= 30);
    assert!((r.lost_sales_usd - 1.5 * r.lost_units).abs() < 1e-9);
}

#[test]
fn perishables_expire_and_transfers_move_stock() {
    // Item 0 sells nothing and keeps receiving: its lots expire; item 1 gets its stock by transfer.
    let w = world(vec![vec![0.0; 40], vec![5.0; 40]], Some(3));
    let mut p = Fixed { order: 4.0, transfer: 2.0 };
    let r = replay(&w, &mut p, &config(&w, 5, 30));
    assert!(r.expired_units > 0.0);
    assert!(r.transfers > 0 && r.transferred_units > 0.0);
}

#[test]
fn lead_time_draws_are_common_to_every_policy_and_follow_the_supplier() {
    let mut terms = world(vec![vec![1.0; 10]], None).items[0].terms.clone();
    terms.lead = LeadTimeDays::normal(6.0, 2.0);
    let draws: Vec<usize> = (0..2000).map(|t| draw_lead_days(3, 1, 2, t, &terms)).collect();
    assert_eq!(draws[17], draw_lead_days(3, 1, 2, 17, &terms));
    let mean = draws.iter().sum::<usize>() as f64 / draws.len() as f64;
    assert!((mean - 6.0).abs() < 0.2, "{mean}");
    assert!(draws.iter().all(|d| *d >= 1));
}

#[test]
fn both_policies_run_and_fluxion_keeps_a_steady_item_in_stock() {
    let demand: Vec<f64> = (0..200).map(|t| if t % 7 == 5 { 12.0 } else { 6.0 }).collect();
    let w = world(vec![demand.clone(), demand], None);
    let cfg = config(&w, 120, 70);
    let minmax = replay(&w, &mut MinMaxPolicy::default(), &cfg);
    let fluxion = replay(&w, &mut FluxionPolicy::default(), &cfg);
    assert_eq!(minmax.days, 70);
    assert!(fluxion.fill_rate > 0.98, "{fluxion:?}");
    assert!(fluxion.orders > 0 && minmax.orders > 0);
}

#[test]
fn the_calibration_table_covers_every_scored_evening_and_a_sure_stockout_scores_high() {
    // Item 0 sells 4 a day and receives 3: after its opening stock it is always heading for a
    // stockout. Item 1 sells 2 and receives 3: it never runs out.
    let w = world(vec![vec![4.0; 120], vec![2.0; 120]], None);
    let r = replay(&w, &mut Fixed { order: 3.0, transfer: 0.0 }, &config(&w, 60, 40));
    let bands = &r.alert_calibration;
    assert_eq!(bands.len(), 12);
    assert_eq!((bands[0].from, bands[11].to), (0.0, 1.0));
    for pair in bands.windows(2) {
        assert_eq!(pair[0].to, pair[1].from);
    }
    // Every item-evening with a forecast lands in exactly one band, at a probability inside it.
    let evenings: u64 = bands.iter().map(|b| b.evenings).sum();
    assert_eq!(evenings, 2 * 40, "{bands:?}");
    for b in bands.iter().filter(|b| b.evenings > 0) {
        let p = b.mean_probability.expect("mean");
        assert!(p >= b.from && p <= b.to, "{b:?}");
    }
    // The steady item is never at risk and never runs out. The starved one runs out every evening
    // and is always at even odds or worse: a steady 4 a day against 3 arriving is still, for all
    // the forecast knows, a Poisson count that may stay at 3.
    assert!(bands[0].evenings == 40 && bands[0].observed == Some(0.0), "{bands:?}");
    let risky: Vec<_> = bands.iter().filter(|b| b.from >= 0.5 && b.evenings > 0).collect();
    assert_eq!(risky.iter().map(|b| b.evenings).sum::<u64>(), 40, "{bands:?}");
    assert!(risky.iter().all(|b| b.observed == Some(1.0)), "{bands:?}");
    assert!(r.stockout_brier.expect("brier") < 0.1, "{r:?}");
    assert!(r.stockout_brier_skill.expect("skill") > 0.5, "{r:?}");
}

/// Orders once, on the first evening, and writes down every evening when it expects that order.
struct OrderOnce {
    ordered: bool,
    seen: Vec<(usize, usize)>,
}

impl Policy for OrderOnce {
    fn name(&self) -> &'static str {
        "once"
    }
    fn decide(&mut self, e: &Evening<'_>) -> Decisions {
        if let Some(b) = e.items[0].inbound.first() {
            let expected = e.world.incoming(b).expected_from(e.date);
            self.seen.push((e.t, e.world.index_of(expected).expect("on the axis")));
        }
        let orders = if self.ordered { vec![] } else { vec![(0, 5.0)] };
        self.ordered = true;
        Decisions { orders, transfers: vec![] }
    }
}

#[test]
fn an_order_is_seen_at_its_expected_day_not_at_its_drawn_lead_time() {
    let mut w = world(vec![vec![0.0; 40]], None);
    w.items[0].terms.lead = LeadTimeDays::normal(6.0, 3.0);
    let (mut early, mut late) = (false, false);
    for seed in 0..40 {
        let mut cfg = config(&w, 0, 30);
        cfg.seed = seed;
        cfg.alerts = None;
        let mut policy = OrderOnce { ordered: false, seen: Vec::new() };
        replay(&w, &mut policy, &cfg);
        let drawn = draw_lead_days(seed, 0, 0, 0, &w.items[0].terms);
        (early, late) = (early || drawn < 6, late || drawn > 6);
        // It is on its way from the first evening after it was placed until the evening before it comes.
        let evenings: Vec<usize> = policy.seen.iter().map(|s| s.0).collect();
        assert_eq!(evenings, (1..drawn).collect::<Vec<_>>(), "seed {seed}, lead {drawn}");
        // Expected on day 6 whatever the draw; once late, expected the next morning.
        for (t, expected) in policy.seen {
            assert_eq!(expected, 6.max(t + 1), "seed {seed}, lead {drawn}, evening {t}");
        }
    }
    assert!(early && late, "the draws should arrive both early and late");
}

#[test]
fn stockout_episodes_that_began_with_a_delivery_overdue_are_counted() {
    // 5 sold a day, 4.5 ordered a day: the shelf soon lives from one delivery to the next.
    let mut w = world(vec![vec![5.0; 200]], None);
    let cfg = config(&w, 30, 160);
    let on_time = replay(&w, &mut Fixed { order: 4.5, transfer: 0.0 }, &cfg);
    assert!(on_time.stockout_episodes > 0, "{on_time:?}");
    assert_eq!(on_time.episodes_late_delivery, 0, "{on_time:?}");
    // With a supplier whose lead time varies, some run dry while an order is overdue.
    w.items[0].terms.lead = LeadTimeDays::normal(6.0, 3.0);
    let varying = replay(&w, &mut Fixed { order: 4.5, transfer: 0.0 }, &cfg);
    assert!(varying.episodes_late_delivery > 0, "{varying:?}");
    assert!(varying.episodes_late_delivery <= varying.stockout_episodes, "{varying:?}");
}
