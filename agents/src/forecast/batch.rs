//! Forecasting many series at once, in parallel across cores, with what they share: each store's
//! profile, a level model learned across all series ([`stack`](super::stack)), and a calibration
//! of the level learned from every series' backtest in the store.

use super::auto::{AutoConfig, Draft, StoreProfile, forecast_one, store_profiles};
use super::calendar::Calendar;
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

/// Median level of the established series (at least `min_history` observations) per store and
/// category, and per store (category `None`).
fn level_priors(
    series: &[DemandSeries],
    results: &[(Option<Draft>, f64)],
    min_history: usize,
) -> BTreeMap<(String, Option<String>), f64> {
    let mut levels: BTreeMap<(String, Option<String>), Vec<f64>> = BTreeMap::new();
    for (s, (d, _)) in series.iter().zip(results) {
        let Some(d) = d else { continue };
        if d.adjusted.len() < min_history {
            continue;
        }
        let level = d.level();
        levels.entry((s.store.clone(), None)).or_default().push(level);
        if let Some(c) = &s.category {
            levels.entry((s.store.clone(), Some(c.clone()))).or_default().push(level);
        }
    }
    levels
        .into_iter()
        .filter(|(_, v)| v.len() >= 3)
        .map(|(k, mut v)| {
            v.sort_by(f64::total_cmp);
            (k, v[v.len() / 2])
        })
        .collect()
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
    let monthly = series.first().is_some_and(|s| s.frequency == fluxion_domain::forecast::Frequency::Monthly);
    let (shape, step, span, new_history) = if monthly {
        (Shape::MONTHLY, 1, 24, cfg.new_history_months)
    } else {
        (Shape::DAILY, 7, 364, cfg.new_history_days)
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
    // New products and short histories: the typical level of established items of the same category
    // at the same store (or of the store) is the prior their own few days are shrunk towards.
    let priors = level_priors(series, &results, new_history);
    shared += started.elapsed().as_secs_f64();
    let per = shared / series.len().max(1) as f64;
    let mut forecasts = Vec::with_capacity(series.len());
    let mut seconds = Vec::with_capacity(series.len());
    for (s, (r, secs)) in series.iter().zip(results) {
        let factor = calibration.get(&s.store).copied().unwrap_or(1.0);
        forecasts.push(r.map(|mut d| {
            let own = d.level();
            let mut level = own;
            if let Some(stacked) = stacker.as_ref().and_then(|st| st.level(&d.adjusted, shape, h)) {
                level = cfg.stack_weight * stacked + (1.0 - cfg.stack_weight) * own;
            }
            let observed = d.adjusted.len();
            if observed > 0
                && observed < new_history
                && let Some(prior) = s
                    .category
                    .as_ref()
                    .and_then(|c| priors.get(&(s.store.clone(), Some(c.clone()))))
                    .or_else(|| priors.get(&(s.store.clone(), None)))
            {
                let w = observed as f64 / (observed as f64 + cfg.new_strength * new_history as f64);
                level = w * level + (1.0 - w) * prior;
                d.forecast.model = "fluxion[new: category]".to_owned();
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use fluxion_domain::forecast::Frequency;

    fn series(id: usize, category: &str, start: NaiveDate, values: Vec<f64>) -> DemandSeries {
        let mut s = DemandSeries::new(format!("S:{id}"), "S", format!("P{id}"), start, Frequency::Daily, values);
        s.category = Some(category.to_owned());
        s
    }

    #[test]
    fn a_new_product_borrows_its_categorys_level() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        let mut batch: Vec<DemandSeries> = (0..6)
            .map(|i| series(i, "harinas", start, (0..300).map(|d| 10.0 + f64::from((d % 3) as u8)).collect()))
            .collect();
        batch.extend((6..12).map(|i| series(i, "limpieza", start, vec![1.0; 300])));
        // Launched four days ago: 40 units on its first day, then little.
        let launch = start + chrono::Days::new(296);
        batch.push(series(12, "harinas", launch, vec![40.0, 2.0, 3.0, 2.0]));
        batch.push(series(13, "limpieza", launch, vec![40.0, 2.0, 3.0, 2.0]));
        let out = forecast_batch(&batch, 7, &Calendar::default(), &AutoConfig::default());
        let mean =
            |i: usize| out.forecasts[i].as_ref().map_or(0.0, |f| f.points.iter().map(|p| p.mean).sum::<f64>() / 7.0);
        let (harina, limpieza) = (mean(12), mean(13));
        assert!(harina > limpieza + 3.0, "the same first days, different categories: {harina:.2} vs {limpieza:.2}");
        assert!(limpieza < 8.0 && harina > 5.0 && harina < 14.0, "{harina:.2} {limpieza:.2}");
        assert_eq!(out.forecasts[12].as_ref().map(|f| f.model.as_str()), Some("fluxion[new: category]"));
    }

    /// Items whose past promotions doubled their sales: a planned promotion doubles the forecast
    /// of its days, ordinary days stay at the level, and the past spikes do not inflate it.
    #[test]
    fn planned_promotions_lift_their_days_and_past_ones_do_not_inflate_the_level() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        let day = |d: u64| start + chrono::Days::new(d);
        let batch: Vec<DemandSeries> = (0..8)
            .map(|i| {
                // A promotion of five days every 60 days, at a different phase per item.
                let promos: Vec<(NaiveDate, NaiveDate)> =
                    (0..5).map(|k| (day(20 + 60 * k + 7 * i as u64), day(24 + 60 * k + 7 * i as u64))).collect();
                let values = (0..364u64)
                    .map(|d| {
                        let on = promos.iter().any(|(a, b)| (*a..=*b).contains(&day(d)));
                        let base = 10.0 + ((d * 7 + i as u64) % 3) as f64;
                        if on { 2.0 * base } else { base }
                    })
                    .collect();
                let mut s = series(i, "harinas", start, values);
                s.promotions = promos;
                // The next promotion is planned for days 3 to 5 of the forecast.
                s.promotions.push((day(366), day(368)));
                s
            })
            .collect();
        let out = forecast_batch(&batch, 10, &Calendar::default(), &AutoConfig::default());
        for f in out.forecasts.iter().flatten() {
            let ordinary: f64 = [0, 1, 6, 7, 8, 9].iter().map(|k| f.points[*k].mean).sum::<f64>() / 6.0;
            let promo: f64 = f.points[2..5].iter().map(|p| p.mean).sum::<f64>() / 3.0;
            assert!((ordinary - 11.0).abs() < 1.5, "{}: ordinary days at {ordinary:.2}", f.series);
            assert!(
                promo / ordinary > 1.7 && promo / ordinary < 2.3,
                "{}: promotion lift {:.2}",
                f.series,
                promo / ordinary
            );
            assert!(f.effects.iter().any(|e| e.key == "promotion" && e.label_es == "la promoción"));
        }
    }

    /// A flat store whose only movement is the quincena: wherever the history ends — on a payday,
    /// the day after, or mid-fortnight — ordinary days are forecast at the true level, never
    /// mistaken for a step in the store's sales.
    #[test]
    fn a_history_ending_on_payday_is_not_a_step() {
        use crate::forecast::tenant::tenant_calendar;
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
        let calendar = tenant_calendar(&[], start, start + chrono::Days::new(900));
        for end in ["2025-06-01", "2025-06-16", "2025-06-15", "2025-06-10"] {
            let end = NaiveDate::parse_from_str(end, "%Y-%m-%d").unwrap_or_default();
            let days = usize::try_from((end - start).num_days()).unwrap_or(0) + 1;
            let batch: Vec<DemandSeries> = (0..20)
                .map(|i| {
                    let values = (0..days)
                        .map(|d| {
                            let day = start + chrono::Days::new(d as u64);
                            let lift = match calendar.features(day).first().map(|f| calendar.key(*f)) {
                                Some("payday:Quincena") => 1.4,
                                Some("payday:Día después de quincena") => 1.3,
                                _ => 1.0,
                            };
                            // Deterministic noise of ±10%.
                            let noise = 1.0 + 0.1 * ((d * 7 + i * 13) as f64).sin();
                            (20.0 * lift * noise).round()
                        })
                        .collect();
                    series(i, "harinas", start, values)
                })
                .collect();
            let out = forecast_batch(&batch, 14, &calendar, &AutoConfig::default());
            let ordinary: Vec<f64> = out
                .forecasts
                .iter()
                .flatten()
                .flat_map(|f| f.points.iter().filter(|p| calendar.features(p.date).is_empty()).map(|p| p.mean))
                .collect();
            let mean = ordinary.iter().sum::<f64>() / ordinary.len().max(1) as f64;
            assert!((mean / 20.0 - 1.0).abs() < 0.08, "history ending {end}: ordinary days at {mean:.2}, not 20");
        }
    }

    #[test]
    fn a_product_gone_for_months_forecasts_zero() {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
        let mut batch: Vec<DemandSeries> = (0..5)
            .map(|i| series(i, "harinas", start, (0..500).map(|d| 5.0 + f64::from((d % 2) as u8)).collect()))
            .collect();
        // Sold about 5 a day, then nothing for the last 300 days: delisted, not out of stock.
        batch.push(series(9, "harinas", start, (0..500).map(|d| if d < 200 { 5.0 } else { 0.0 }).collect()));
        // Nothing for 10 days after selling every day: a stockout, forecast to come back.
        batch.push(series(10, "harinas", start, (0..500).map(|d| if d < 490 { 5.0 } else { 0.0 }).collect()));
        let out = forecast_batch(&batch, 7, &Calendar::default(), &AutoConfig::default());
        let gone = out.forecasts[5].as_ref().map_or(f64::NAN, |f| f.points.iter().map(|p| p.mean).sum::<f64>());
        assert_eq!(gone, 0.0);
        assert_eq!(out.forecasts[5].as_ref().map(|f| f.model.as_str()), Some("fluxion[inactive]"));
        let stockout = out.forecasts[6].as_ref().map_or(0.0, |f| f.points.iter().map(|p| p.mean).sum::<f64>());
        assert!(stockout > 1.0, "{stockout}");
    }
}
