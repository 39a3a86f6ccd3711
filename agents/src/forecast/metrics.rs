//! Forecast accuracy measures, as the M5 competition and the forecasting literature define them.
//!
//! Scales come from the training part only: MASE divides by the mean absolute seasonal difference
//! (lag `m`), RMSSE by the mean squared lag-1 difference, both from the first non-zero value on
//! (M5's rule: leading zeros are "not yet on sale"). A series whose scale is zero (flat history)
//! cannot be scored and is left out of the averages, and counted.

/// The two scales of one training series; `None` when it cannot be scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    /// Mean absolute lag-`m` difference.
    pub mase: f64,
    /// Mean squared lag-1 difference.
    pub rmsse: f64,
}

/// The scales of `train` for seasonal period `m`, from its first non-zero value, skipping `NaN`s.
pub fn scales(train: &[f64], m: usize) -> Option<Scales> {
    let first = train.iter().position(|v| *v != 0.0 && v.is_finite())?;
    let y = &train[first..];
    let diffs = |lag: usize| y.iter().skip(lag).zip(y).map(|(a, b)| a - b).filter(|d| d.is_finite());
    let (mut sq, mut n1) = (0.0, 0usize);
    for d in diffs(1) {
        sq += d * d;
        n1 += 1;
    }
    let m = m.max(1);
    let (mut abs, mut nm) = (0.0, 0usize);
    for d in diffs(m) {
        abs += d.abs();
        nm += 1;
    }
    // Too short for the seasonal lag: fall back to lag 1, as the usual implementations do.
    if nm == 0 {
        for d in diffs(1) {
            abs += d.abs();
            nm += 1;
        }
    }
    let s = Scales { mase: abs / nm.max(1) as f64, rmsse: sq / n1.max(1) as f64 };
    (n1 > 0 && s.rmsse > 0.0 && s.mase > 0.0).then_some(s)
}

/// The errors of one forecast against its actuals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesScore {
    /// Mean absolute scaled error.
    pub mase: f64,
    /// Root mean squared scaled error.
    pub rmsse: f64,
    /// Σ forecast over the scored periods.
    pub forecast_sum: f64,
    /// Σ actual over the scored periods.
    pub actual_sum: f64,
    /// Periods whose actual fell inside [P10, P90].
    pub covered: usize,
    /// Periods scored.
    pub periods: usize,
}

/// Scores `forecast` (means) and optional `band` (P10, P90) against `actual`; periods with a
/// non-finite actual are skipped.
pub fn score(scales: Scales, forecast: &[f64], band: Option<(&[f64], &[f64])>, actual: &[f64]) -> SeriesScore {
    let (mut abs, mut sq, mut fs, mut asum, mut covered, mut n) = (0.0, 0.0, 0.0, 0.0, 0, 0);
    for (i, (&f, &a)) in forecast.iter().zip(actual).enumerate() {
        if !a.is_finite() {
            continue;
        }
        let e = f - a;
        abs += e.abs();
        sq += e * e;
        fs += f;
        asum += a;
        n += 1;
        if let Some((lo, hi)) = band
            && let (Some(&l), Some(&h)) = (lo.get(i), hi.get(i))
            && a >= l - 1e-9
            && a <= h + 1e-9
        {
            covered += 1;
        }
    }
    let nf = n.max(1) as f64;
    SeriesScore {
        mase: abs / nf / scales.mase,
        rmsse: (sq / nf / scales.rmsse).sqrt(),
        forecast_sum: fs,
        actual_sum: asum,
        covered,
        periods: n,
    }
}

/// Averages of many series' scores.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    /// Series scored.
    pub series: usize,
    mase_sum: f64,
    rmsse_sum: f64,
    forecast_sum: f64,
    actual_sum: f64,
    covered: usize,
    banded_periods: usize,
}

impl Summary {
    /// Adds one series; `banded` when it had a P10–P90 band.
    pub fn add(&mut self, s: &SeriesScore, banded: bool) {
        self.series += 1;
        self.mase_sum += s.mase;
        self.rmsse_sum += s.rmsse;
        self.forecast_sum += s.forecast_sum;
        self.actual_sum += s.actual_sum;
        if banded {
            self.covered += s.covered;
            self.banded_periods += s.periods;
        }
    }

    /// Mean MASE over series.
    pub fn mase(&self) -> f64 {
        self.mase_sum / self.series.max(1) as f64
    }

    /// Mean RMSSE over series.
    pub fn rmsse(&self) -> f64 {
        self.rmsse_sum / self.series.max(1) as f64
    }

    /// 100 · Σ(forecast − actual) / Σ actual.
    pub fn bias_pct(&self) -> f64 {
        if self.actual_sum > 0.0 { 100.0 * (self.forecast_sum - self.actual_sum) / self.actual_sum } else { 0.0 }
    }

    /// Share of actuals inside the P10–P90 band; `None` without bands.
    pub fn coverage(&self) -> Option<f64> {
        (self.banded_periods > 0).then(|| self.covered as f64 / self.banded_periods as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_start_at_the_first_non_zero_value() {
        let s = scales(&[0.0, 0.0, 1.0, 3.0, 1.0], 1).expect("scorable");
        assert!((s.rmsse - 4.0).abs() < 1e-12);
        assert!((s.mase - 2.0).abs() < 1e-12);
        assert!(scales(&[0.0, 0.0], 7).is_none());
        assert!(scales(&[2.0, 2.0, 2.0], 1).is_none());
    }

    #[test]
    fn a_perfect_forecast_scores_zero() {
        let s = scales(&[1.0, 2.0, 3.0], 1).expect("scorable");
        let sc = score(s, &[4.0, 5.0], Some((&[3.0, 4.0], &[5.0, 6.0])), &[4.0, 5.0]);
        assert_eq!(sc.rmsse, 0.0);
        assert_eq!(sc.covered, 2);
        let mut sum = Summary::default();
        sum.add(&sc, true);
        assert_eq!(sum.bias_pct(), 0.0);
        assert_eq!(sum.coverage(), Some(1.0));
    }
}
