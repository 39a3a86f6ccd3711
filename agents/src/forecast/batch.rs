//! Forecasting many series at once, in parallel across cores, with what they share: each store's
//! profile, a level model learned across all series ([`stack`](super::stack)), and a calibration
//! of the level learned from every series' backtest in the store.

use super::auto::{AutoConfig, Draft, StoreProfile, forecast_one};
use super::calendar::Calendar;
use super::eval::store_profiles;
use super::stack::{Normal, Shape, Stacker};
use fluxion_domain::forecast::{DemandSeries, Forecast};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

/// Forecasts of a batch, in input order (`None` for a series that cannot be forecast: empty), and
/// the CPU seconds spent per series.
#[derive(Debug, Clone)]
pub struct BatchForecast {
    /// One forecast per input series.
    pub forecasts: Vec<Option<Forecast>>,
    /// CPU seconds each series took, shared work (profiles, calibration) spread evenly.
    pub seconds: Vec<f64>,
    /// Level calibration applied per store (Σ actual / Σ forecast over the backtests).
    pub calibration: BTreeMap<String, f64>,
    /// The cross-series level model, when the batch was large enough to learn one.
    pub stacker: Option<Stacker>,
}

/// Forecasts every series `h` periods after its last one.
pub fn forecast_batch(series: &[DemandSeries], h: usize, calendar: &Calendar, cfg: &AutoConfig) -> BatchForecast {
    let started = Instant::now();
    let profiles: BTreeMap<String, StoreProfile> = store_profiles(series.iter(), calendar, cfg);
    let mut shared = started.elapsed().as_secs_f64();
    let results: Vec<(Option<Draft>, f64)> = series
        .par_iter()
        .map(|s| {
            let t = Instant::now();
            let r = forecast_one(s, h, calendar, profiles.get(&s.store), cfg);
            (r, t.elapsed().as_secs_f64())
        })
        .collect();
    let started = Instant::now();
    // The cross-series level model, on the adjusted histories.
    let (shape, step, span) =
        if series.first().is_some_and(|s| s.frequency == fluxion_domain::forecast::Frequency::Monthly) {
            (Shape::MONTHLY, 1, 24)
        } else {
            (Shape::DAILY, 7, 364)
        };
    let stacker = if cfg.stack_weight > 0.0 {
        results
            .par_iter()
            .fold(Normal::default, |mut n, (d, _)| {
                if let Some(d) = d {
                    n.add_series(&d.adjusted, shape, h, step, span);
                }
                n
            })
            .reduce(Normal::default, |mut a, b| {
                a.merge(&b);
                a
            })
            .solve(cfg.stack_ridge, cfg.stack_min_rows)
    } else {
        None
    };
    let mut sums: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (s, (r, _)) in series.iter().zip(&results) {
        if let Some(d) = r {
            let e = sums.entry(s.store.as_str()).or_default();
            e.0 += d.totals.0;
            e.1 += d.totals.1;
        }
    }
    let calibration: BTreeMap<String, f64> = sums
        .into_iter()
        .map(|(store, (f, a))| {
            let ratio =
                if f > 0.0 && a > 0.0 { (a / f).clamp(cfg.calibration_range.0, cfg.calibration_range.1) } else { 1.0 };
            (store.to_owned(), 1.0 + cfg.calibration_weight * (ratio - 1.0))
        })
        .collect();
    shared += started.elapsed().as_secs_f64();
    let per = shared / series.len().max(1) as f64;
    let mut forecasts = Vec::with_capacity(series.len());
    let mut seconds = Vec::with_capacity(series.len());
    for (s, (r, secs)) in series.iter().zip(results) {
        let factor = calibration.get(&s.store).copied().unwrap_or(1.0);
        forecasts.push(r.map(|mut d| {
            let own = d.level();
            let mut level = own;
            if let Some(stacked) = stacker.as_ref().and_then(|st| st.level(&d.adjusted, shape)) {
                level = cfg.stack_weight * stacked + (1.0 - cfg.stack_weight) * own;
            }
            level *= factor;
            if (level - own).abs() > 1e-12 {
                d.relevel(level);
            }
            d.forecast
        }));
        seconds.push(secs + per);
    }
    BatchForecast { forecasts, seconds, calibration, stacker }
}
