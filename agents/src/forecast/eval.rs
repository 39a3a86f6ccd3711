//! Rolling-origin evaluation: every model and Fluxion's automatic choice, scored on held-out periods.
//!
//! Origin `k` (0 = the latest) trains on everything before the last `drop_last + (k + 1)·h` periods
//! and forecasts the `h` after. Each series is scored from its first sale (M5's protocol); a series
//! with no sale before the origin, or a flat history, cannot be scored and is counted apart. With
//! `complete_only`, series with any missing period are left out (the car parts protocol). Held-out
//! days recorded out of stock are not scored: their sales are not their demand.

use super::auto::AutoConfig;
use super::batch::forecast_batch;
use super::calendar::Calendar;
use super::metrics::{SeriesScore, Summary, scales, score};
use super::models::Model;
use fluxion_domain::forecast::{DemandSeries, Forecast};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Periods forecast at each origin.
    pub horizon: usize,
    /// Rolling origins, `horizon` apart.
    pub origins: usize,
    /// Periods dropped from the end before the latest origin.
    pub drop_last: usize,
    /// Single models to compare with Fluxion's automatic choice.
    pub models: Vec<Model>,
    /// Leave out series with missing periods.
    pub complete_only: bool,
    /// The calendar (paydays, holidays) for the automatic forecaster.
    pub calendar: Calendar,
    /// The automatic forecaster's knobs.
    pub auto: AutoConfig,
}

/// The score of one model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelResult {
    /// `fluxion` for the automatic choice, else the model's name.
    pub model: String,
    /// Mean absolute scaled error, mean over series and origins.
    pub mase: f64,
    /// Root mean squared scaled error, mean over series and origins.
    pub rmsse: f64,
    /// 100 · Σ(forecast − actual) / Σ actual.
    pub bias_pct: f64,
    /// Share of actuals inside [P10, P90]; `None` for models without a band.
    pub coverage_p10_p90: Option<f64>,
    /// CPU seconds per series and origin (single core).
    pub seconds_per_series: f64,
    /// Series × origins scored.
    #[serde(rename = "series_scored")]
    pub scored: usize,
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvalReport {
    /// Series in the input.
    pub series: usize,
    /// Series × origins that could not be scored (no sale before the origin, flat history, gaps,
    /// every held-out day out of stock).
    pub skipped: usize,
    /// One result per model, Fluxion last.
    pub results: Vec<ModelResult>,
}

const FLUXION: &str = "fluxion";

/// One model's score on one series: name, score, whether it had a band, CPU seconds.
type Scored = (String, SeriesScore, bool, f64);

/// Runs the evaluation.
pub fn evaluate(series: &[DemandSeries], opts: &EvalOptions) -> EvalReport {
    let h = opts.horizon.max(1);
    let mut totals: BTreeMap<String, (Summary, f64)> = BTreeMap::new();
    let mut skipped = 0;
    for origin in 0..opts.origins.max(1) {
        let back = opts.drop_last.saturating_add((origin + 1).saturating_mul(h));
        // Training cut of each series, and the store profiles built on training data only.
        let cut: Vec<Option<(DemandSeries, Vec<f64>)>> = series
            .iter()
            .map(|s| {
                if s.len() <= back || (opts.complete_only && s.values.iter().any(|v| !v.is_finite())) {
                    return None;
                }
                let n = s.len() - back;
                // A held-out day recorded out of stock sold what the shelf had, not what was
                // demanded: it is not scored (for any model).
                let actual: Vec<f64> = (n..n + h)
                    .map(|i| if s.censored.get(i).copied().unwrap_or(false) { f64::NAN } else { s.values[i] })
                    .collect();
                actual.iter().any(|v| v.is_finite()).then(|| (s.truncated(n), actual))
            })
            .collect();
        // Fluxion forecasts the whole batch at once (store profiles and calibration are shared).
        let index: Vec<usize> = (0..cut.len()).filter(|i| cut[*i].is_some()).collect();
        let trains: Vec<DemandSeries> = index.iter().filter_map(|i| cut[*i].as_ref().map(|(s, _)| s.clone())).collect();
        let batch = forecast_batch(&trains, h, &opts.calendar, &opts.auto);
        let mut fluxion: Vec<(Option<Forecast>, f64)> = vec![(None, 0.0); cut.len()];
        for ((i, f), secs) in index.iter().zip(batch.forecasts).zip(batch.seconds) {
            fluxion[*i] = (f, secs);
        }
        let per_series: Vec<Option<Vec<Scored>>> = cut
            .par_iter()
            .enumerate()
            .map(|(i, c)| {
                let (train, actual) = c.as_ref()?;
                let sale = train.values.iter().position(|v| *v > 0.0)?;
                let first = if opts.auto.trim_leading_zeros { sale } else { 0 };
                let y = &train.values[first..];
                let sc = scales(y, train.frequency.season())?;
                let mut out = Vec::with_capacity(opts.models.len() + 1);
                for model in &opts.models {
                    let t = Instant::now();
                    let f = model.forecast(y, train.frequency.season(), h);
                    let secs = t.elapsed().as_secs_f64();
                    out.push((model.name().to_owned(), score(sc, &f, None, actual), false, secs));
                }
                let (fc, secs) = fluxion.get(i)?;
                let fc = fc.as_ref()?;
                let mean: Vec<f64> = fc.points.iter().map(|p| p.mean).collect();
                let lo: Vec<f64> = fc.points.iter().map(|p| p.p10).collect();
                let hi: Vec<f64> = fc.points.iter().map(|p| p.p90).collect();
                out.push((FLUXION.to_owned(), score(sc, &mean, Some((&lo, &hi)), actual), true, *secs));
                Some(out)
            })
            .collect();
        for s in &per_series {
            match s {
                None => skipped += 1,
                Some(rows) => {
                    for (name, score, banded, secs) in rows {
                        let e = totals.entry(name.clone()).or_default();
                        e.0.add(score, *banded);
                        e.1 += secs;
                    }
                }
            }
        }
    }
    let mut results: Vec<ModelResult> = totals
        .into_iter()
        .map(|(model, (s, secs))| ModelResult {
            mase: s.mase(),
            rmsse: s.rmsse(),
            bias_pct: s.bias_pct(),
            coverage_p10_p90: s.coverage(),
            seconds_per_series: secs / s.series.max(1) as f64,
            scored: s.series,
            model,
        })
        .collect();
    results.sort_by_key(|r| (r.model == FLUXION, opts.models.iter().position(|m| m.name() == r.model)));
    EvalReport { series: series.len(), skipped, results }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use fluxion_domain::forecast::Frequency;

    fn series(id: &str, values: Vec<f64>, censored: Vec<bool>) -> DemandSeries {
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
        let mut s = DemandSeries::new(id, "S1", id, start, Frequency::Daily, values);
        s.censored = censored;
        s
    }

    #[test]
    fn held_out_days_out_of_stock_are_not_scored() {
        // Steady demand around 5 a day; the last three held-out days the shelf was empty.
        let n = 210;
        let values: Vec<f64> = (0..n).map(|t| [4.0, 5.0, 6.0][t % 3]).collect();
        let mut recorded = values.clone();
        let mut censored = vec![false; n];
        for t in n - 3..n {
            recorded[t] = 0.0;
            censored[t] = true;
        }
        // A second series whose whole hold-out was out of stock cannot be scored at all.
        let mut blind = vec![true; n];
        blind[..n - 7].fill(false);
        let input = vec![series("A", recorded.clone(), censored), series("B", recorded.clone(), blind)];
        let opts = EvalOptions {
            horizon: 7,
            origins: 1,
            drop_last: 0,
            models: vec![Model::Tsb],
            complete_only: false,
            calendar: Calendar::default(),
            auto: AutoConfig::default(),
        };
        let report = evaluate(&input, &opts);
        assert_eq!(report.skipped, 1, "{report:?}");
        for r in &report.results {
            // Scored on the four days with stock, a forecast of ~5 a day is nearly unbiased;
            // scoring the empty shelf as zero demand would call it 75% too high.
            assert!(r.bias_pct.abs() < 15.0, "{r:?}");
        }
        // Unflagged, the same empty shelf would be scored as zero demand: the forecast, trained on
        // the same history, looks far too high.
        let unflagged = evaluate(&[series("A", recorded, vec![false; n])], &opts);
        let bias = unflagged.results.iter().find(|m| m.model == FLUXION).map(|m| m.bias_pct).expect("fluxion");
        assert!(bias > 50.0, "{unflagged:?}");
    }
}
