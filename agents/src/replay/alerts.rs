//! Scoring imminent-stockout alerts during a replay: every evening's scan against what would
//! really have happened, and every stockout episode against the warnings that came before it.

use super::{Forecasts, ItemState, ReplayReport, ReplayWorld, would_run_out};
use crate::alert::{
    AlertBook, AlertSettings, ItemView, StockoutVerdict, stockout_horizon, stockout_risk, stockout_verdict,
};
use crate::optimizer::{Incoming, ReorderSettings};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

/// The alert thresholds the curve reports besides the configured one.
const CURVE: [f64; 6] = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9];

/// Edges of the probability bands of the calibration table: fine at the low end, where most
/// item-evenings are.
const BANDS: [f64; 13] = [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Item-evenings whose stockout probability fell in one band, against what happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CalibrationBand {
    /// Lower edge of the band (inclusive).
    pub from: f64,
    /// Upper edge (exclusive, but 1 is in the last band).
    pub to: f64,
    /// Item-evenings in the band.
    pub evenings: u64,
    /// Their mean stockout probability.
    pub mean_probability: Option<f64>,
    /// Share of them that really would have run out within the horizon had nothing been done:
    /// calibrated probabilities keep this close to `mean_probability`.
    pub observed: Option<f64>,
}

/// The alert's trade-off at one stockout-probability threshold.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertCurvePoint {
    /// The threshold.
    pub threshold: f64,
    /// Item-evenings whose stockout probability reached it.
    pub evenings: u64,
    /// Share of those that really would have run out within the horizon had nothing been done.
    pub precision: Option<f64>,
    /// Share of the stockout episodes warned of at this threshold.
    pub episode_recall: Option<f64>,
}

/// The alert side of a replay.
pub(super) struct AlertScoring {
    settings: AlertSettings,
    reorder: ReorderSettings,
    book: AlertBook,
    /// Per item, the last day a warning covers: at the configured threshold, then at each of `CURVE`.
    warned_until: Vec<[Option<usize>; CURVE.len() + 1]>,
    /// Per item, whether its last scored day was short (an episode starts on a short day after one that was not).
    short_yesterday: Vec<bool>,
    curve_evenings: [u64; CURVE.len()],
    curve_correct: [u64; CURVE.len()],
    curve_warned: [u64; CURVE.len()],
    /// Per band of [`BANDS`]: item-evenings, Σ probability, Σ outcome.
    bands: [(u64, f64, u64); BANDS.len() - 1],
    /// Σ (probability − outcome)² over every scored item-evening.
    brier: f64,
}

impl AlertScoring {
    pub(super) fn new(settings: &AlertSettings, items: usize) -> Self {
        Self {
            settings: settings.clone(),
            reorder: ReorderSettings::default(),
            book: AlertBook::new(),
            warned_until: vec![[None; CURVE.len() + 1]; items],
            short_yesterday: vec![false; items],
            curve_evenings: [0; CURVE.len()],
            curve_correct: [0; CURVE.len()],
            curve_warned: [0; CURVE.len()],
            bands: [(0, 0.0, 0); BANDS.len() - 1],
            brier: 0.0,
        }
    }

    /// A scored day of item `i`: `short` when it could not serve all its demand, `late` when a
    /// supplier's delivery expected by then had not come.
    pub(super) fn day(&mut self, i: usize, t: usize, short: bool, late: bool, report: &mut ReplayReport) {
        if short && !self.short_yesterday[i] {
            report.stockout_episodes += 1;
            report.episodes_late_delivery += u64::from(late);
            let covered = |until: Option<usize>| until.is_some_and(|u| u >= t);
            if covered(self.warned_until[i][0]) {
                report.episodes_warned += 1;
            }
            for (j, warned) in self.curve_warned.iter_mut().enumerate() {
                if covered(self.warned_until[i][j + 1]) {
                    *warned += 1;
                }
            }
        }
        self.short_yesterday[i] = short;
    }

    /// Tonight's imminent-stockout scan with `forecasts`, scored when `scored`.
    pub(super) fn evening(
        &mut self,
        world: &ReplayWorld,
        forecasts: &Forecasts,
        items: &[ItemState],
        t: usize,
        scored: bool,
        report: &mut ReplayReport,
    ) {
        let date = world.date_of(t);
        let mut scan = Vec::new();
        let mut truths: Vec<(String, bool)> = Vec::new();
        let mut holding: Vec<String> = Vec::new();
        for (i, (item, state)) in world.items.iter().zip(items).enumerate() {
            if !item.active_on(t) {
                continue;
            }
            let horizon = stockout_horizon(&item.terms, date);
            let store = &world.stores[item.store];
            let product = &world.products[item.product];
            let inbound: Vec<Incoming> = state.inbound.iter().map(|b| world.incoming(b)).collect();
            let lots: Vec<(NaiveDate, f64)> = match item.terms.shelf_life_days {
                Some(life) => {
                    state.lots.iter().map(|&(received, u)| (world.date_of(received + life as usize), u)).collect()
                }
                None => Vec::new(),
            };
            let view = ItemView {
                store,
                store_name: &world.store_names[item.store],
                product,
                product_name: &world.product_names[item.product],
                unit: world.product_units.get(item.product).copied().unwrap_or(fluxion_domain::Unit::Each),
                terms: &item.terms,
                on_hand: state.on_hand,
                inbound: &inbound,
                lots: &lots,
                ahead: forecasts.ahead_of(i, t),
                recent: &[],
            };
            let risk = stockout_risk(&view, date);
            let p = risk.unwrap_or(0.0);
            let until = Some(t + horizon);
            // Most items are far below both thresholds: their verdict is known without a second look.
            if p >= self.settings.stockout_hold_probability {
                match stockout_verdict(&view, date, &self.settings, &self.reorder) {
                    StockoutVerdict::Raise(alert) => {
                        scan.push(alert);
                        self.warned_until[i][0] = self.warned_until[i][0].max(until);
                    }
                    StockoutVerdict::Hold(key) => holding.push(key),
                    StockoutVerdict::Clear => {}
                }
            }
            for (j, threshold) in CURVE.iter().enumerate() {
                if p >= *threshold {
                    self.warned_until[i][j + 1] = self.warned_until[i][j + 1].max(until);
                }
            }
            if scored {
                let truth = would_run_out(world, i, state, t, horizon);
                for (j, threshold) in CURVE.iter().enumerate() {
                    if p >= *threshold {
                        self.curve_evenings[j] += 1;
                        self.curve_correct[j] += u64::from(truth);
                    }
                }
                // Items without a forecast have no probability to calibrate.
                if let Some(p) = risk.filter(|p| p.is_finite()) {
                    let band = BANDS[1..].iter().position(|edge| p < *edge).unwrap_or(BANDS.len() - 2);
                    let b = &mut self.bands[band];
                    b.0 += 1;
                    b.1 += p;
                    b.2 += u64::from(truth);
                    self.brier += (p - f64::from(u8::from(truth))).powi(2);
                }
                truths.push((format!("imminent_stockout:{store}:{product}"), truth));
            }
        }
        let news = self.book.admit(date, scan, &holding);
        if !scored {
            return;
        }
        let truth_of: HashMap<&str, bool> = truths.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        for alert in &news {
            report.alerts_raised += 1;
            if truth_of.get(alert.dedup_key.as_str()).copied().unwrap_or(false) {
                report.alerts_correct += 1;
            }
        }
        for (key, truth) in &truths {
            if *truth {
                report.stockout_situations += 1;
                if self.book.is_open(key) {
                    report.situations_alerted += 1;
                }
            }
        }
    }

    /// The ratios, once the replay is over.
    pub(super) fn finish(self, report: &mut ReplayReport) {
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        report.alert_precision = ratio(report.alerts_correct, report.alerts_raised);
        report.alert_recall = ratio(report.situations_alerted, report.stockout_situations);
        report.episode_recall = ratio(report.episodes_warned, report.stockout_episodes);
        report.alert_curve = CURVE
            .iter()
            .enumerate()
            .map(|(j, threshold)| AlertCurvePoint {
                threshold: *threshold,
                evenings: self.curve_evenings[j],
                precision: ratio(self.curve_correct[j], self.curve_evenings[j]),
                episode_recall: ratio(self.curve_warned[j], report.stockout_episodes),
            })
            .collect();
        report.alert_calibration = self
            .bands
            .iter()
            .enumerate()
            .map(|(k, &(evenings, sum_p, outcomes))| CalibrationBand {
                from: BANDS[k],
                to: BANDS[k + 1],
                evenings,
                mean_probability: (evenings > 0).then(|| sum_p / evenings as f64),
                observed: ratio(outcomes, evenings),
            })
            .collect();
        // Against always saying the base rate: the share of the Brier score the probabilities save.
        let scored: u64 = self.bands.iter().map(|b| b.0).sum();
        let outcomes: u64 = self.bands.iter().map(|b| b.2).sum();
        if scored > 0 {
            let brier = self.brier / scored as f64;
            let base = outcomes as f64 / scored as f64;
            report.stockout_brier = Some(brier);
            let reference = base * (1.0 - base);
            report.stockout_brier_skill = (reference > 0.0).then(|| 1.0 - brier / reference);
        }
    }
}
