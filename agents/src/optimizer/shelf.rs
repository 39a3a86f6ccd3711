//! The chance a shelf runs dry over the coming days, with every delivery on its way counted only
//! from the morning it may arrive.
//!
//! A supplier's delivery comes as early or late as its lead time varies, and one already late is
//! less likely to come each morning it does not ([`Incoming::arrival`]). Every combination of
//! delivery days is weighed by its probability (deliveries are independent); in each, the shelf can
//! run dry before each arrival and after the last one. The alert's imminent-stockout risk and the
//! transfer program's shortages and surpluses are all read from this one outlook, so that the
//! store the Alert agent warns about is the store the Optimizer sends stock to.

use super::demand::{DemandAhead, Incoming, LeadTimeDays, PeriodDemand};
use super::reorder::{ItemTerms, days_to_order};
use chrono::NaiveDate;

/// The days a shelf must last before a replenishment ordered at the first chance (tonight, or on
/// the supplier's next order day) arrives at the usual lead time, in the morning of the day after.
pub fn replenishment_horizon(terms: &ItemTerms, today: NaiveDate) -> usize {
    (days_to_order(terms.order_days, today) + terms.lead.usual_days()).saturating_sub(1)
}

/// Beyond this many combinations of delivery days, deliveries are taken as arriving when expected.
pub const MAX_ARRIVAL_SCENARIOS: usize = 4096;

/// One item's shelf over the next `horizon` days (day 1 = tomorrow), given what is on its way.
#[derive(Debug, Clone)]
pub struct ShelfOutlook<'a, 'b> {
    ahead: &'b DemandAhead<'a>,
    horizon: usize,
    /// Each combination of arrival days within the horizon: `(day, units)` in day order, and its probability.
    combinations: Vec<(Vec<(usize, f64)>, f64)>,
    /// Demand of the first k days, built once per k that some combination needs.
    first_days: Vec<Option<Survival>>,
}

/// A period's demand, ready for many stockout questions: a mass function with its running sums.
#[derive(Debug, Clone)]
struct Survival {
    demand: PeriodDemand,
    cumulative: Vec<f64>,
}

impl Survival {
    fn new(demand: PeriodDemand) -> Self {
        let cumulative = match &demand {
            PeriodDemand::Mass(p) => p
                .iter()
                .scan(0.0, |sum, v| {
                    *sum += v;
                    Some(*sum)
                })
                .collect(),
            PeriodDemand::Normal { .. } => Vec::new(),
        };
        Self { demand, cumulative }
    }

    /// [`PeriodDemand::stockout_probability`], without summing the mass function each time.
    fn stockout_probability(&self, stock: f64) -> f64 {
        match &self.demand {
            PeriodDemand::Mass(_) => {
                let k = stock.max(0.0).floor() as usize;
                let below = self.cumulative.get(k).or(self.cumulative.last()).copied().unwrap_or(0.0);
                (1.0 - below.min(1.0)).clamp(0.0, 1.0)
            }
            normal => normal.stockout_probability(stock),
        }
    }
}

impl<'a, 'b> ShelfOutlook<'a, 'b> {
    /// The outlook of a shelf with `inbound` on its way, seen on the evening of `today`; `lead` is
    /// the supplier's lead time (how early or late its deliveries come).
    pub fn new(
        ahead: &'b DemandAhead<'a>,
        inbound: &[Incoming],
        lead: &LeadTimeDays,
        today: NaiveDate,
        horizon: usize,
    ) -> Self {
        // When each delivery may come. Any day after the horizon is the same to the shelf.
        let mut deliveries: Vec<(Vec<(usize, f64)>, f64)> = inbound
            .iter()
            .map(|g| {
                let mut days: Vec<(usize, f64)> = Vec::new();
                for (k, p) in g.arrival(today, lead) {
                    let k = k.min(horizon + 1);
                    match days.iter_mut().find(|d| d.0 == k) {
                        Some(d) => d.1 += p,
                        None => days.push((k, p)),
                    }
                }
                (days, g.units)
            })
            .collect();
        let scenarios = deliveries.iter().try_fold(1usize, |n, (days, _)| n.checked_mul(days.len()));
        if scenarios.is_none_or(|n| n > MAX_ARRIVAL_SCENARIOS) {
            for (g, d) in inbound.iter().zip(&mut deliveries) {
                d.0 = vec![(g.days_from(today).min(horizon + 1), 1.0)];
            }
        }
        let mut combinations: Vec<(Vec<(usize, f64)>, f64)> = vec![(Vec::new(), 1.0)];
        for (days, units) in &deliveries {
            combinations = combinations
                .iter()
                .flat_map(|(arrivals, w)| {
                    days.iter().map(move |&(k, p)| {
                        let mut a = arrivals.clone();
                        if k <= horizon {
                            a.push((k, *units));
                        }
                        (a, w * p)
                    })
                })
                .collect();
        }
        for (arrivals, _) in &mut combinations {
            arrivals.sort_by_key(|a| a.0);
        }
        Self { ahead, horizon, combinations, first_days: vec![None; horizon + 1] }
    }

    fn stockout_within(&mut self, k: usize, stock: f64) -> f64 {
        let ahead = self.ahead;
        self.first_days[k]
            .get_or_insert_with(|| Survival::new(PeriodDemand::days(ahead, 0, k)))
            .stockout_probability(stock)
    }

    /// The chance the shelf runs dry within the horizon with `on_hand` units tonight (goods
    /// arriving tomorrow morning count as on hand). `waste[k]` is perishable stock lost by day `k`
    /// (an empty slice: none).
    pub fn stockout_probability(&mut self, on_hand: f64, waste: &[f64]) -> f64 {
        let lost = |k: usize| waste.get(k).copied().unwrap_or(0.0);
        let mut probability = 0.0;
        for c in 0..self.combinations.len() {
            let weight = self.combinations[c].1;
            let mut stock = on_hand.max(0.0);
            let mut p: f64 = 0.0;
            for a in 0..self.combinations[c].0.len() {
                let (k, units) = self.combinations[c].0[a];
                if k > 1 {
                    p = p.max(self.stockout_within(k - 1, stock - lost(k - 1)));
                }
                stock += units;
            }
            let h = self.horizon;
            p = p.max(self.stockout_within(h, stock - lost(h)));
            probability += weight * p;
        }
        probability.clamp(0.0, 1.0)
    }

    /// The demand over the whole horizon.
    pub fn exposure(&mut self) -> PeriodDemand {
        let (ahead, h) = (self.ahead, self.horizon);
        self.first_days[h].get_or_insert_with(|| Survival::new(PeriodDemand::days(ahead, 0, h))).demand.clone()
    }

    /// The fewest whole units that, put on the shelf by tomorrow morning, bring the chance of
    /// running dry down to `risk` or less.
    pub fn units_to_cover(&mut self, on_hand: f64, risk: f64) -> f64 {
        let on_hand = on_hand.max(0.0);
        if self.stockout_probability(on_hand, &[]) <= risk {
            return 0.0;
        }
        // With the whole horizon's demand quantile on the shelf no arrival is needed.
        let mut hi = (self.exposure().quantile(1.0 - risk).ceil() - on_hand.floor()).max(1.0);
        let mut lo = 0.0;
        while self.stockout_probability(on_hand + hi, &[]) > risk {
            lo = hi;
            hi *= 2.0;
            if hi > 1e9 {
                return hi;
            }
        }
        while hi - lo > 1.0 {
            let mid = ((lo + hi) / 2.0).floor();
            if self.stockout_probability(on_hand + mid, &[]) > risk {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }

    /// The average chance that each of `units` more units on the shelf tonight would be needed
    /// (the chance of running dry with `on_hand`, `on_hand + 1`, … `on_hand + units − 1`): the
    /// expected units short they avert, per unit. Above 64 units it is averaged over 64 of them,
    /// evenly spread.
    pub fn mean_need(&mut self, on_hand: f64, units: f64) -> f64 {
        let n = units.max(0.0).floor() as usize;
        if n == 0 {
            return 0.0;
        }
        let points = n.min(64);
        let step = n as f64 / points as f64;
        let on_hand = on_hand.max(0.0);
        let total: f64 = (0..points).map(|j| self.stockout_probability(on_hand + (j as f64 * step).floor(), &[])).sum();
        total / points as f64
    }

    /// The most whole units that can leave the shelf tonight keeping the chance of running dry at
    /// `risk` or less (none when it is already above).
    pub fn units_to_spare(&mut self, on_hand: f64, risk: f64) -> f64 {
        let on_hand = on_hand.max(0.0).floor();
        if on_hand < 1.0 || self.stockout_probability(on_hand, &[]) > risk {
            return 0.0;
        }
        if self.stockout_probability(0.0, &[]) <= risk {
            return on_hand;
        }
        // Invariant: sparing `lo` is safe, sparing `hi` is not.
        let (mut lo, mut hi) = (0.0, on_hand);
        while hi - lo > 1.0 {
            let mid = ((lo + hi) / 2.0).floor();
            if self.stockout_probability(on_hand - mid, &[]) <= risk {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).expect("date")
    }

    #[test]
    fn a_late_delivery_protects_the_shelf_less_than_one_on_its_way() {
        let means = vec![10.0; 30];
        let ahead = DemandAhead { means: &means, size: f64::INFINITY, level_uncertainty: 0.0 };
        let lead = LeadTimeDays::normal(5.0, 1.5);
        let supplier = |expected: NaiveDate| Incoming { expected, units: 100.0, from_supplier: true };
        let van = |expected: NaiveDate| Incoming { expected, units: 100.0, from_supplier: false };
        let risk = |inbound: &[Incoming], on_hand: f64| {
            ShelfOutlook::new(&ahead, inbound, &lead, today(), 8).stockout_probability(on_hand, &[])
        };
        // 35 units cover three days of ~10: goods due in three mornings are barely in time, and a
        // supplier's may come later than promised.
        let in_three = today() + Days::new(3);
        let (by_van, by_supplier) = (risk(&[van(in_three)], 35.0), risk(&[supplier(in_three)], 35.0));
        assert!(by_van < by_supplier, "{by_van} vs {by_supplier}");
        // 5 units do not last the day: a delivery two days late most likely comes tomorrow, but may
        // not; goods sure to come tomorrow protect the shelf fully; nothing on its way, not at all.
        let late = risk(&[supplier(today() - Days::new(2))], 5.0);
        let tomorrow = risk(&[van(today() + Days::new(1))], 5.0);
        let nothing = risk(&[], 5.0);
        assert!(tomorrow < 0.01, "{tomorrow}");
        assert!(late > 0.05 && late < 0.5, "{late}");
        assert!(nothing > 0.99, "{nothing}");
        assert!(tomorrow < late && late < nothing);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn covering_and_sparing_are_the_tightest_whole_units(
            mean in 0.2f64..30.0,
            on_hand in 0.0f64..300.0,
            late_by in -4i64..4,
            units in 0.0f64..200.0,
            horizon in 1usize..12,
            risk in 0.01f64..0.6,
        ) {
            let means = vec![mean; 40];
            let ahead = DemandAhead { means: &means, size: 3.0, level_uncertainty: 0.05 };
            let lead = LeadTimeDays::normal(4.0, 1.0);
            let inbound = [Incoming {
                expected: today().checked_add_signed(chrono::Duration::days(-late_by)).expect("date"),
                units,
                from_supplier: true,
            }];
            let mut shelf = ShelfOutlook::new(&ahead, &inbound, &lead, today(), horizon);
            let cover = shelf.units_to_cover(on_hand, risk);
            prop_assert!(cover >= 0.0 && cover.fract() == 0.0);
            prop_assert!(shelf.stockout_probability(on_hand + cover, &[]) <= risk);
            if cover >= 1.0 {
                prop_assert!(shelf.stockout_probability(on_hand + cover - 1.0, &[]) > risk);
            }
            let spare = shelf.units_to_spare(on_hand, risk);
            prop_assert!(spare >= 0.0 && spare <= on_hand && spare.fract() == 0.0);
            if spare >= 1.0 {
                prop_assert!(shelf.stockout_probability(on_hand - spare, &[]) <= risk);
            }
            if spare + 1.0 <= on_hand.floor() && shelf.stockout_probability(on_hand.floor(), &[]) <= risk {
                prop_assert!(shelf.stockout_probability(on_hand.floor() - spare - 1.0, &[]) > risk);
            }
            // The units that bring the risk down are each needed less often than the first.
            let need = shelf.mean_need(on_hand, cover);
            prop_assert!((0.0..=1.0).contains(&need));
            if cover >= 1.0 {
                prop_assert!(need <= shelf.stockout_probability(on_hand, &[]) + 1e-12);
                prop_assert!(need >= shelf.stockout_probability(on_hand + cover - 1.0, &[]) - 1e-12);
            }
            // The running sums answer as the mass function does.
            for stock in [0.0, on_hand, on_hand + cover, 1e6] {
                let direct = PeriodDemand::days(&ahead, 0, horizon).stockout_probability(stock);
                let empty = ShelfOutlook::new(&ahead, &[], &lead, today(), horizon).stockout_probability(stock, &[]);
                prop_assert!((direct - empty).abs() < 1e-12, "{direct} vs {empty}");
            }
            // Risk never rises with more on the shelf.
            prop_assert!(shelf.stockout_probability(on_hand + 1.0, &[]) <= shelf.stockout_probability(on_hand, &[]) + 1e-12);
        }
    }
}
