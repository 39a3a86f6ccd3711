//! Replaying history day by day under a replenishment policy: the proof that the Optimizer's
//! recommendations beat common practice.
//!
//! The world is a tenant's stores and products with their real daily demand (days recorded out of
//! stock hide demand: they are imputed from the same weekday of the surrounding weeks), their
//! suppliers' lead times, minimum orders and order days, and their shelf lives. Every day:
//!
//! 1. **morning** — what arrives today is received (a perishable arrives as a lot) and expired lots
//!    are written off;
//! 2. **day** — the day's real demand is served from the shelf, oldest lot first; what the shelf
//!    cannot serve is lost;
//! 3. **evening** — the policy, which sees only the past (the recorded history before the replay and
//!    the sales the replay itself produced after), decides orders and transfers. An order arrives
//!    after a lead time drawn from the supplier's distribution; a transfer arrives the next morning.
//!    Like a purchase order in the books, an order only tells the policy and the alerts when it is
//!    *expected* (the supplier's usual lead time after it was placed); when it comes is learnt the
//!    morning it comes, and a late one is expected the next morning, as the product's own books do.
//!
//! Lead-time draws are common random numbers: an order of the same store from the same supplier on
//! the same day takes the same lead time under every policy, so policies are compared on the same
//! luck. The first `warmup_days` are not scored, so that both policies start from the same stock
//! and reach their own steady state before counting.

mod alerts;
mod policy;
mod world;

pub use policy::{FluxionPolicy, FluxionSettings, Forecasts, MinMaxPolicy, MinMaxSettings};
pub use world::{ReplayItem, ReplayWorld, impute_demand, load_world};

use crate::alert::AlertSettings;
use crate::optimizer::{DemandAhead, ItemTerms, Levels};
use alerts::AlertScoring;
pub use alerts::{AlertCurvePoint, CalibrationBand};
use chrono::NaiveDate;
use fluxion_domain::forecast::DemandSeries;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// Something on its way to a store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inbound {
    /// Day index it really arrives (in the morning): the simulator's truth, which no policy or
    /// alert may read — they see [`ReplayWorld::incoming`].
    pub arrives: usize,
    /// Day index it is expected, as the purchase order or transfer says: the order day plus the
    /// supplier's usual lead time (a transfer: the next morning).
    pub expected: usize,
    /// Whether a supplier delivers it (otherwise it is a transfer, which comes when expected).
    pub from_supplier: bool,
    /// Units.
    pub units: f64,
    /// For perishables moved between stores: the day the goods were first received.
    pub received: Option<usize>,
}

impl Inbound {
    /// An order placed on the evening of day `t` with `terms`' supplier, which really takes `lead` days.
    fn order(t: usize, lead: usize, terms: &ItemTerms, units: f64) -> Self {
        Self { arrives: t + lead, expected: t + terms.lead.usual_days(), from_supplier: true, units, received: None }
    }

    /// A transfer sent on the evening of day `t`: it comes the next morning, as expected.
    fn transfer(t: usize, units: f64, received: Option<usize>) -> Self {
        Self { arrives: t + 1, expected: t + 1, from_supplier: false, units, received }
    }
}

/// One item's state during a replay.
#[derive(Debug, Clone)]
pub struct ItemState {
    /// Units on the shelf (after today's sales once the day is over).
    pub on_hand: f64,
    /// Orders and transfers on their way.
    pub inbound: Vec<Inbound>,
    /// Lots on hand for perishables: `(received day, units)`, oldest first.
    pub lots: Vec<(usize, f64)>,
    /// What the policy can see: the recorded history, then the replay's own sales (a day that
    /// closed with an empty shelf is censored, as the point of sale would record it).
    pub history: DemandSeries,
}

impl ItemState {
    /// On hand plus everything on its way.
    pub fn position(&self) -> f64 {
        self.on_hand + self.inbound.iter().map(|i| i.units).sum::<f64>()
    }

    /// Units on hand tonight (day `t`) expected to expire unsold within the protection period of
    /// `levels`: they do not protect it, so the reorder position leaves them out.
    pub fn expected_waste(&self, item: &ReplayItem, t: usize, ahead: &DemandAhead<'_>, levels: &Levels) -> f64 {
        let Some(life) = item.terms.shelf_life_days else { return 0.0 };
        let lots: Vec<(i64, f64)> =
            self.lots.iter().map(|&(received, units)| ((received + life as usize) as i64 - t as i64, units)).collect();
        let days = levels.protection_days();
        crate::lots::expected_waste(&lots, days, |k| ahead.mean_at(k))[days]
    }
}

/// A policy's decisions for one evening.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decisions {
    /// `(item index, units)`.
    pub orders: Vec<(usize, f64)>,
    /// `(from item index, to item index, units)` — the same product at two stores.
    pub transfers: Vec<(usize, usize, f64)>,
}

/// What a policy sees on an evening.
#[derive(Debug)]
pub struct Evening<'a> {
    /// The world (catalog, terms, calendar).
    pub world: &'a ReplayWorld,
    /// Day index (0 = the world's first day).
    pub t: usize,
    /// Its date.
    pub date: NaiveDate,
    /// Every item's state, in the world's item order.
    pub items: &'a [ItemState],
}

/// A replenishment policy.
pub trait Policy {
    /// Its name in reports.
    fn name(&self) -> &'static str;
    /// Orders and transfers decided this evening.
    fn decide(&mut self, evening: &Evening<'_>) -> Decisions;
    /// Its demand forecasts, if it forecasts (alerts then use them; otherwise the replay keeps
    /// forecasts of its own for the alerts, as the Forecast agent would).
    fn forecasts(&self) -> Option<&Forecasts> {
        None
    }
}

/// How to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayConfig {
    /// The first scored day.
    pub from: NaiveDate,
    /// Scored days.
    pub days: usize,
    /// Days replayed before `from` and not scored.
    pub warmup_days: usize,
    /// Days of average demand each item starts the warm-up with.
    pub opening_cover_days: f64,
    /// Seed of the lead-time draws.
    pub seed: u64,
    /// Scan for imminent stockouts every evening and score the alerts.
    pub alerts: Option<AlertSettings>,
    /// Days between refreshes of the forecasts the alerts use when the policy makes none of its own.
    pub alert_refresh_days: usize,
    /// Moving one unit between stores costs this, USD …
    pub transfer_cost_fixed_usd: f64,
    /// … plus this share of the unit's cost (as in the Optimizer's settings).
    pub transfer_cost_share: f64,
}

/// What a replay measured over its scored days.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    /// The policy.
    pub policy: String,
    /// First scored day.
    pub from: Option<NaiveDate>,
    /// Scored days.
    pub days: usize,
    /// Store × product items replayed.
    pub items: usize,
    /// Item-days on which the shelf was empty or could not serve all demand.
    pub stockout_days: u64,
    /// Units sold / units demanded.
    pub fill_rate: f64,
    /// Units demanded and not served.
    pub lost_units: f64,
    /// Lost sales at the shelf price, USD.
    pub lost_sales_usd: f64,
    /// Average closing stock at cost, USD.
    pub avg_inventory_usd: f64,
    /// Units written off because they expired.
    pub expired_units: f64,
    /// Expired units at cost, USD.
    pub expired_usd: f64,
    /// Orders placed.
    pub orders: u64,
    /// Transfers made.
    pub transfers: u64,
    /// Units moved between stores.
    pub transferred_units: f64,
    /// What moving them cost, USD.
    pub transfer_cost_usd: f64,
    /// Imminent-stockout alerts raised (new ones; an unchanged situation is not raised twice).
    pub alerts_raised: u64,
    /// Alerts raised whose item really would have run out within their horizon had nothing been done.
    pub alerts_correct: u64,
    /// Item-evenings heading for a stockout within the alert horizon (had nothing been done).
    pub stockout_situations: u64,
    /// Of those, evenings on which an alert was open.
    pub situations_alerted: u64,
    /// `alerts_correct / alerts_raised` (null without alerts).
    pub alert_precision: Option<f64>,
    /// `situations_alerted / stockout_situations` (null without alerts).
    pub alert_recall: Option<f64>,
    /// Stockout episodes: runs of days on which an item could not serve all its demand.
    pub stockout_episodes: u64,
    /// Of those, episodes an imminent-stockout alert warned of: raised on an evening before the
    /// first day short, with that day inside its horizon.
    pub episodes_warned: u64,
    /// Of those, episodes that began while a supplier's delivery expected by then had not come.
    pub episodes_late_delivery: u64,
    /// `episodes_warned / stockout_episodes` (null without alerts).
    pub episode_recall: Option<f64>,
    /// The trade-off at other alert thresholds (for choosing `alerts.stockout_probability`).
    pub alert_curve: Vec<AlertCurvePoint>,
    /// Whether the stockout probabilities behind the alerts meant what they said: every scored
    /// item-evening with a forecast, by probability band, against what really happened.
    pub alert_calibration: Vec<CalibrationBand>,
    /// Mean squared difference between those probabilities and what happened (0 is perfect).
    pub stockout_brier: Option<f64>,
    /// `1 − brier / brier of always saying the base rate`: 0 is no better than knowing how often
    /// items run out, 1 is foreseeing every stockout (null without stockouts).
    pub stockout_brier_skill: Option<f64>,
}

/// Whether item `i` would run out within `horizon` days after `t` if nothing more were ordered or
/// moved: its stock tonight plus what is already on its way, against the real demand.
pub fn would_run_out(world: &ReplayWorld, i: usize, state: &ItemState, t: usize, horizon: usize) -> bool {
    let item = &world.items[i];
    let life = item.terms.shelf_life_days.map(|d| d as usize);
    let mut stock = state.on_hand.max(0.0);
    // Perishable lots (day received, units), first-expiring first; arrivals are fresh.
    let mut lots = state.lots.clone();
    for day in t + 1..=(t + horizon).min(world.days.saturating_sub(1)) {
        for b in state.inbound.iter().filter(|b| b.arrives == day || (b.arrives <= t && day == t + 1)) {
            stock += b.units;
            if life.is_some() {
                let received = b.received.unwrap_or(day);
                let at = lots.partition_point(|l| l.0 <= received);
                lots.insert(at, (received, b.units));
            }
        }
        if let Some(life) = life {
            while lots.first().is_some_and(|l| l.0 + life < day) {
                stock -= lots.remove(0).1;
            }
        }
        let demand = if item.active_on(day) { item.demand[day] } else { 0.0 };
        if demand > stock + 1e-9 {
            return true;
        }
        stock -= demand;
        crate::lots::take_first(&mut lots, demand);
    }
    false
}

/// The lead time of an order placed by `store` with `supplier` on day `t`: the same under every policy.
pub fn draw_lead_days(seed: u64, store: usize, supplier: usize, t: usize, terms: &ItemTerms) -> usize {
    let key = seed
        ^ (store as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (supplier as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ (t as u64).wrapping_mul(0x1656_67B1_9E37_79F9);
    let mut rng = ChaCha8Rng::seed_from_u64(key);
    let z: f64 = StandardNormal.sample(&mut rng);
    let lead = &terms.lead;
    let mean = lead.mean_days();
    let sd = {
        let var: f64 = lead.days.iter().map(|(d, p)| p * (*d as f64 - mean).powi(2)).sum();
        var.sqrt()
    };
    (mean + z * sd).round().max(1.0) as usize
}

/// Replays `config.days` days (after the warm-up) of `world` under `policy`.
pub fn replay(world: &ReplayWorld, policy: &mut dyn Policy, config: &ReplayConfig) -> ReplayReport {
    let Some(from) = world.index_of(config.from) else {
        return ReplayReport { policy: policy.name().into(), ..Default::default() };
    };
    let start = from.saturating_sub(config.warmup_days);
    let end = (from + config.days).min(world.days);
    let mut items: Vec<ItemState> = world
        .items
        .iter()
        .map(|item| {
            let history = item.series_until(world, start);
            let opening = (item.recent_rate(start) * config.opening_cover_days).ceil();
            ItemState {
                on_hand: opening,
                inbound: Vec::new(),
                lots: if item.terms.shelf_life_days.is_some() && opening > 0.0 {
                    vec![(start, opening)]
                } else {
                    Vec::new()
                },
                history,
            }
        })
        .collect();
    let mut report = ReplayReport {
        policy: policy.name().into(),
        from: Some(config.from),
        items: items.len(),
        ..Default::default()
    };
    let (mut demanded, mut sold_total, mut inventory_sum) = (0.0, 0.0, 0.0);
    let mut scoring = config.alerts.as_ref().map(|settings| AlertScoring::new(settings, world.items.len()));
    // Alerts need forecasts: a policy that makes none is watched by forecasts of the replay's own.
    let mut watch = (config.alerts.is_some() && policy.forecasts().is_none())
        .then(|| Forecasts::new(config.alert_refresh_days, 42, crate::forecast::AutoConfig::default()));
    for t in start..end {
        let scored = t >= from;
        for (i, item) in world.items.iter().enumerate() {
            let state = &mut items[i];
            // Morning: receipts, then expiry.
            let mut k = 0;
            while k < state.inbound.len() {
                if state.inbound[k].arrives <= t {
                    let inbound = state.inbound.swap_remove(k);
                    state.on_hand += inbound.units;
                    if item.terms.shelf_life_days.is_some() {
                        let received = inbound.received.unwrap_or(t);
                        let at = state.lots.partition_point(|l| l.0 <= received);
                        state.lots.insert(at, (received, inbound.units));
                    }
                } else {
                    k += 1;
                }
            }
            if let Some(life) = item.terms.shelf_life_days {
                while let Some(&(received, units)) = state.lots.first() {
                    if received + life as usize >= t {
                        break;
                    }
                    state.lots.remove(0);
                    state.on_hand -= units;
                    if scored {
                        report.expired_units += units;
                        report.expired_usd += units * item.terms.unit_cost;
                    }
                }
            }
            // Day: real demand against the shelf.
            let active = item.active_on(t);
            let demand = if active { item.demand[t] } else { 0.0 };
            let available = state.on_hand.max(0.0);
            let sold = demand.min(available);
            let lost = demand - sold;
            state.on_hand -= sold;
            crate::lots::take_first(&mut state.lots, sold);
            if active {
                state.history.values.push(sold);
                state.history.censored.push(state.on_hand <= 1e-9);
            }
            if scored && active {
                demanded += demand;
                sold_total += sold;
                report.lost_units += lost;
                report.lost_sales_usd += lost * item.terms.unit_price;
                if let Some(scoring) = scoring.as_mut() {
                    let late = state.inbound.iter().any(|b| b.from_supplier && b.expected <= t);
                    scoring.day(i, t, lost > 1e-9, late, &mut report);
                }
                if available <= 1e-9 || lost > 1e-9 {
                    report.stockout_days += 1;
                }
            }
            if scored {
                inventory_sum += state.on_hand.max(0.0) * item.terms.unit_cost;
            }
        }
        // Evening: the policy decides; alerts are scanned on the state before its decisions.
        let date = world.date_of(t);
        let decisions = policy.decide(&Evening { world, t, date, items: &items });
        if let Some(scoring) = scoring.as_mut() {
            let evening = Evening { world, t, date, items: &items };
            let forecasts = match (policy.forecasts(), watch.as_mut()) {
                (Some(own), _) => own,
                (None, Some(watch)) => {
                    watch.update(&evening);
                    &*watch
                }
                (None, None) => unreachable!("the watch exists whenever the policy has no forecasts"),
            };
            scoring.evening(world, forecasts, &items, t, scored, &mut report);
        }
        for (i, units) in decisions.orders {
            if units.is_nan() || units <= 0.0 || i >= items.len() {
                continue;
            }
            let item = &world.items[i];
            let lead = draw_lead_days(config.seed, item.store, item.supplier, t, &item.terms);
            items[i].inbound.push(Inbound::order(t, lead, &item.terms, units));
            if scored {
                report.orders += 1;
            }
        }
        for (a, b, units) in decisions.transfers {
            if a >= items.len() || b >= items.len() || a == b || world.items[a].product != world.items[b].product {
                continue;
            }
            let units = units.min(items[a].on_hand).floor();
            if units < 1.0 {
                continue;
            }
            items[a].on_hand -= units;
            // Perishables travel with their lots, oldest first.
            let moved = crate::lots::take_first(&mut items[a].lots, units);
            if moved.is_empty() {
                items[b].inbound.push(Inbound::transfer(t, units, None));
            }
            for (received, u) in moved {
                items[b].inbound.push(Inbound::transfer(t, u, Some(received)));
            }
            if scored {
                report.transfers += 1;
                report.transferred_units += units;
                report.transfer_cost_usd += units
                    * (config.transfer_cost_fixed_usd
                        + config.transfer_cost_share * world.items[a].terms.unit_cost.max(0.0));
            }
        }
    }
    report.days = end.saturating_sub(from);
    report.fill_rate = if demanded > 0.0 { sold_total / demanded } else { 1.0 };
    report.avg_inventory_usd = if report.days > 0 { inventory_sum / report.days as f64 } else { 0.0 };
    if let Some(scoring) = scoring {
        scoring.finish(&mut report);
    }
    report
}

#[cfg(test)]
pub(crate) mod tests;
