//! The policies a replay compares: common practice (min/max from average sales) and Fluxion's
//! (forecast-driven reorder levels plus transfers between stores).

use super::{Decisions, Evening, ItemState, Policy};
use crate::forecast::{AutoConfig, forecast_batch};
use crate::optimizer::transfer::{StoreItem, Supply, plan_moves, positions};
use crate::optimizer::{DemandAhead, Incoming, OptimizerSettings, levels, order_quantity, review_days};

/// Settings of the min/max baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct MinMaxSettings {
    /// Days of sales averaged.
    pub window_days: usize,
    /// Days of average sales kept on top of the lead time and review period (the "min").
    pub safety_days: f64,
    /// Days of average sales between min and max.
    pub cycle_days: f64,
}

impl Default for MinMaxSettings {
    fn default() -> Self {
        Self { window_days: 28, safety_days: 3.0, cycle_days: 7.0 }
    }
}

/// Common practice: on an order day, when the position falls to the min, order up to the max;
/// min = average daily sales × (lead time + review period + safety days), max = min + average
/// daily sales × cycle days, both capped at the sales of one shelf life for perishables. Averages
/// are of recorded sales over the last four weeks.
#[derive(Debug, Clone, Default)]
pub struct MinMaxPolicy {
    /// Its settings.
    pub settings: MinMaxSettings,
}

impl Policy for MinMaxPolicy {
    fn name(&self) -> &'static str {
        "minmax"
    }

    fn decide(&mut self, evening: &Evening<'_>) -> Decisions {
        let mut d = Decisions::default();
        for (i, (item, state)) in evening.world.items.iter().zip(evening.items).enumerate() {
            if !item.active_on(evening.t) || !item.terms.order_days.accepts(evening.date) {
                continue;
            }
            let h = &state.history.values;
            let window = &h[h.len().saturating_sub(self.settings.window_days)..];
            if window.is_empty() {
                continue;
            }
            let ads = window.iter().sum::<f64>() / window.len() as f64;
            let review = review_days(item.terms.order_days, evening.date) as f64;
            let mut min = ads * (item.terms.lead.mean_days() + review + self.settings.safety_days);
            let mut max = min + ads * self.settings.cycle_days;
            // A careful buyer never keeps more of a perishable than sells within its shelf life.
            if let Some(life) = item.terms.shelf_life_days {
                max = max.min(ads * f64::from(life));
                min = min.min(max);
            }
            let position = state.position();
            if ads > 0.0 && position <= min {
                d.orders.push((i, item.terms.packed(max - position)));
            }
        }
        d
    }
}

/// Settings of Fluxion's policy.
#[derive(Debug, Clone, PartialEq)]
pub struct FluxionSettings {
    /// Service levels, ordering and transfer costs.
    pub optimizer: OptimizerSettings,
    /// Days between forecast refreshes.
    pub refresh_days: usize,
    /// Days forecast at each refresh.
    pub horizon_days: usize,
    /// The forecaster's settings.
    pub forecast: AutoConfig,
    /// Whether to move stock between stores.
    pub transfers: bool,
}

impl Default for FluxionSettings {
    fn default() -> Self {
        Self {
            optimizer: OptimizerSettings::default(),
            refresh_days: 7,
            horizon_days: 42,
            forecast: AutoConfig::default(),
            transfers: true,
        }
    }
}

/// A forecast kept between refreshes.
#[derive(Debug, Clone)]
struct Ahead {
    origin: usize,
    means: Vec<f64>,
    size: f64,
    level_uncertainty: f64,
}

/// The whole tenant's demand forecasts, refreshed every `refresh_days` from the history the
/// replay has produced so far — what the Forecast agent's scheduled refresh gives the other agents.
#[derive(Debug, Clone)]
pub struct Forecasts {
    refresh_days: usize,
    horizon_days: usize,
    config: AutoConfig,
    ahead: Vec<Option<Ahead>>,
    refreshed: Option<usize>,
}

impl Forecasts {
    /// Forecasts `horizon_days` ahead, refreshed every `refresh_days`, with the forecaster's `config`.
    pub fn new(refresh_days: usize, horizon_days: usize, config: AutoConfig) -> Self {
        Self { refresh_days: refresh_days.max(1), horizon_days, config, ahead: Vec::new(), refreshed: None }
    }

    /// Refreshes the forecasts when a refresh is due on this evening.
    pub fn update(&mut self, evening: &Evening<'_>) {
        if self.refreshed.is_some_and(|r| evening.t < r + self.refresh_days) {
            return;
        }
        let histories: Vec<_> = evening.items.iter().map(|s| s.history.clone()).collect();
        let batch = forecast_batch(&histories, self.horizon_days, &evening.world.calendar, &self.config);
        self.ahead = batch
            .forecasts
            .into_iter()
            .map(|f| {
                f.map(|f| Ahead {
                    origin: evening.t,
                    means: f.points.iter().map(|p| p.mean).collect(),
                    size: f.dispersion_size,
                    level_uncertainty: f.level_uncertainty,
                })
            })
            .collect();
        self.refreshed = Some(evening.t);
    }

    /// Expected demand from the day after `t` on for item `i` (none when it has no forecast).
    pub fn ahead_of(&self, i: usize, t: usize) -> Option<DemandAhead<'_>> {
        let a = self.ahead.get(i)?.as_ref()?;
        let offset = t.checked_sub(a.origin)?;
        let means = a.means.get(offset..).unwrap_or(&[]);
        Some(DemandAhead { means, size: a.size, level_uncertainty: a.level_uncertainty })
    }
}

/// Fluxion's policy: every `refresh_days` the whole tenant is forecast (from the history the
/// replay has produced so far); every evening each item whose supplier takes orders gets its
/// (R, s, S) levels from the forecast's protection-period demand and orders when below; stores
/// about to run out receive from stores with a surplus, by the transfer LP.
#[derive(Debug, Clone)]
pub struct FluxionPolicy {
    /// Its settings.
    pub settings: FluxionSettings,
    forecasts: Forecasts,
}

impl Default for FluxionPolicy {
    fn default() -> Self {
        Self::new(FluxionSettings::default())
    }
}

impl FluxionPolicy {
    /// A policy with these settings.
    pub fn new(settings: FluxionSettings) -> Self {
        let forecasts = Forecasts::new(settings.refresh_days, settings.horizon_days, settings.forecast.clone());
        Self { settings, forecasts }
    }

    fn ahead_of(&self, i: usize, t: usize) -> Option<DemandAhead<'_>> {
        self.forecasts.ahead_of(i, t)
    }

    fn transfers(&self, evening: &Evening<'_>, decisions: &mut Decisions) {
        let world = evening.world;
        let rule = self.settings.optimizer.shortage_rule();
        let active = |i: &usize| world.items[*i].active_on(evening.t);
        let inbound: Vec<Vec<Incoming>> = evening
            .items
            .iter()
            .enumerate()
            .map(
                |(i, state)| {
                    if active(&i) { state.inbound.iter().map(|b| world.incoming(b)).collect() } else { Vec::new() }
                },
            )
            .collect();
        let items: Vec<StoreItem<'_, '_>> = (0..world.items.len())
            .filter(active)
            .filter_map(|i| {
                let item = &world.items[i];
                Some(StoreItem {
                    id: i,
                    product: item.product,
                    store: item.store,
                    ahead: self.ahead_of(i, evening.t)?,
                    terms: &item.terms,
                    supply: Supply { on_hand: evening.items[i].on_hand, inbound: &inbound[i] },
                })
            })
            .collect();
        let by_product = positions(&items, evening.date, &rule);
        for (a, b, m) in plan_moves(&by_product, |p| self.settings.optimizer.transfer_cost(world.unit_cost(p))) {
            decisions.transfers.push((a, b, m.units));
        }
    }
}

impl Policy for FluxionPolicy {
    fn name(&self) -> &'static str {
        "fluxion"
    }

    fn decide(&mut self, evening: &Evening<'_>) -> Decisions {
        self.forecasts.update(evening);
        let reorder = self.settings.optimizer.reorder();
        let mut d = Decisions::default();
        for (i, (item, state)) in evening.world.items.iter().zip(evening.items).enumerate() {
            if !item.active_on(evening.t) || !item.terms.order_days.accepts(evening.date) {
                continue;
            }
            let q = match self.ahead_of(i, evening.t) {
                Some(ahead) => {
                    let l = levels(&ahead, &item.terms, evening.date, &reorder);
                    let daily = ahead.total(0, 7).0 / 7.0;
                    let position = state.position() - state.expected_waste(item, evening.t, &ahead, &l);
                    order_quantity(position, &l, &item.terms, daily, &reorder)
                }
                None => fallback_order(item, state),
            };
            if q > 0.0 {
                d.orders.push((i, q));
            }
        }
        if self.settings.transfers {
            self.transfers(evening, &mut d);
        }
        d
    }

    fn forecasts(&self) -> Option<&Forecasts> {
        Some(&self.forecasts)
    }
}

/// Without a forecast (no history yet): two weeks of the recent sales rate when below one.
fn fallback_order(item: &super::ReplayItem, state: &ItemState) -> f64 {
    let h = &state.history.values;
    let window = &h[h.len().saturating_sub(28)..];
    if window.is_empty() {
        return 0.0;
    }
    let rate = window.iter().sum::<f64>() / window.len() as f64;
    if rate <= 0.0 || state.position() >= rate * 7.0 {
        return 0.0;
    }
    item.terms.packed(rate * 14.0 - state.position())
}
