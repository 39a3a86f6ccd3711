//! Forecasting many series at once, in parallel across cores, with what they share: each store's
//! profile, and a calibration of the level learned from every series' backtest in the store.

use super::auto::{AutoConfig, StoreProfile, forecast_one};
use super::calendar::Calendar;
use super::distribution::nb_quantile;
use super::eval::store_profiles;
use fluxion_domain::forecast::{DemandSeries, Forecast};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

/// A forecast with the Σ forecast and Σ actual of its backtest.
type Backtested = (Forecast, (f64, f64));

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
}

/// Forecasts every series `h` periods after its last one.
pub fn forecast_batch(series: &[DemandSeries], h: usize, calendar: &Calendar, cfg: &AutoConfig) -> BatchForecast {
    let started = Instant::now();
    let profiles: BTreeMap<String, StoreProfile> = store_profiles(series.iter(), calendar, cfg);
    let shared = started.elapsed().as_secs_f64();
    let results: Vec<(Option<Backtested>, f64)> = series
        .par_iter()
        .map(|s| {
            let t = Instant::now();
            let r = forecast_one(s, h, calendar, profiles.get(&s.store), cfg);
            (r, t.elapsed().as_secs_f64())
        })
        .collect();
    let mut sums: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (s, (r, _)) in series.iter().zip(&results) {
        if let Some((_, (f, a))) = r {
            let e = sums.entry(s.store.as_str()).or_default();
            e.0 += f;
            e.1 += a;
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
    let per = shared / series.len().max(1) as f64;
    let mut forecasts = Vec::with_capacity(series.len());
    let mut seconds = Vec::with_capacity(series.len());
    for (s, (r, secs)) in series.iter().zip(results) {
        let factor = calibration.get(&s.store).copied().unwrap_or(1.0);
        forecasts.push(r.map(|(mut f, _)| {
            if (factor - 1.0).abs() > 1e-12 {
                for p in &mut f.points {
                    p.mean *= factor;
                    p.p10 = nb_quantile(p.mean, f.dispersion_size, 0.1);
                    p.p50 = nb_quantile(p.mean, f.dispersion_size, 0.5);
                    p.p90 = nb_quantile(p.mean, f.dispersion_size, 0.9);
                }
            }
            f
        }));
        seconds.push(secs + per);
    }
    BatchForecast { forecasts, seconds, calibration }
}
