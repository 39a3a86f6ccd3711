//! Exponential smoothing and the intermittent-demand family: Croston, SBA, TSB, ADIDA and IMAPA.
//!
//! Every function takes the observed periods in order, with missing or censored periods already
//! removed (they carry no information about demand), and returns the flat per-period forecast.
//! Smoothing constants are optimised, where the literature does, by minimising the one-step squared
//! error over a small grid in [0.1, 0.3] — the range statsforecast and Syntetos & Boylan use.

/// The grid of smoothing constants searched by the optimised variants.
const ALPHAS: [f64; 9] = [0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.275, 0.3];

/// Simple exponential smoothing with constant `alpha`: the final level and the one-step squared
/// error summed over the periods after the first.
pub fn ses(y: &[f64], alpha: f64) -> (f64, f64) {
    let Some((&first, rest)) = y.split_first() else { return (0.0, 0.0) };
    let mut level = first;
    let mut sse = 0.0;
    for &v in rest {
        let e = v - level;
        sse += e * e;
        level += alpha * e;
    }
    (level, sse)
}

/// SES with `alpha` chosen on [`ALPHAS`] by one-step squared error: the final level.
pub fn ses_optimized(y: &[f64]) -> f64 {
    best_alpha(y).0
}

/// The level and alpha of the best SES on the grid.
pub fn best_alpha(y: &[f64]) -> (f64, f64) {
    let mut best = (ses(y, ALPHAS[0]).0, ALPHAS[0], f64::INFINITY);
    for alpha in ALPHAS {
        let (level, sse) = ses(y, alpha);
        if sse < best.2 {
            best = (level, alpha, sse);
        }
    }
    (best.0, best.1)
}

/// The non-zero sizes and the intervals between them (the first interval counts from the start).
fn sizes_and_intervals(y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut sizes = Vec::new();
    let mut intervals = Vec::new();
    let mut since = 0.0;
    for &v in y {
        since += 1.0;
        if v > 0.0 {
            sizes.push(v);
            intervals.push(since);
            since = 0.0;
        }
    }
    (sizes, intervals)
}

/// Mean interval between demands (ADI); `None` when nothing sold.
pub fn mean_interval(y: &[f64]) -> Option<f64> {
    let (_, intervals) = sizes_and_intervals(y);
    if intervals.is_empty() { None } else { Some(intervals.iter().sum::<f64>() / intervals.len() as f64) }
}

/// Which Croston variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrostonVariant {
    /// Classic Croston, alpha 0.1.
    Classic,
    /// Both smoothing constants optimised.
    Optimized,
    /// Syntetos–Boylan approximation: classic, debiased by (1 − α/2).
    Sba,
}

/// Croston's method: smoothed size over smoothed interval.
pub fn croston(y: &[f64], variant: CrostonVariant) -> f64 {
    let (sizes, intervals) = sizes_and_intervals(y);
    if sizes.is_empty() {
        return 0.0;
    }
    let (z, p) = match variant {
        CrostonVariant::Optimized => (ses_optimized(&sizes), ses_optimized(&intervals)),
        CrostonVariant::Classic | CrostonVariant::Sba => (ses(&sizes, 0.1).0, ses(&intervals, 0.1).0),
    };
    let f = if p > 0.0 { z / p } else { z };
    if variant == CrostonVariant::Sba { f * 0.95 } else { f }
}

/// Teunter–Syntetos–Babai: the probability of a demand is updated every period, its size only when
/// one occurs. Forecast = probability × size.
pub fn tsb(y: &[f64], alpha_d: f64, alpha_p: f64) -> f64 {
    let Some(first_sale) = y.iter().position(|v| *v > 0.0) else { return 0.0 };
    let nonzero = y.iter().filter(|v| **v > 0.0).count() as f64;
    let mut p = nonzero / y.len() as f64;
    let mut z = y[first_sale];
    for &v in y {
        let occurred = if v > 0.0 { 1.0 } else { 0.0 };
        p += alpha_p * (occurred - p);
        if v > 0.0 {
            z += alpha_d * (v - z);
        }
    }
    p * z
}

/// Sums of consecutive blocks of `k` periods, dropping the oldest remainder so that the last block
/// ends at the last period.
fn block_sums(y: &[f64], k: usize) -> Vec<f64> {
    let skip = y.len() % k;
    y[skip..].chunks_exact(k).map(|c| c.iter().sum()).collect()
}

/// ADIDA at aggregation level `k`: SES (optimised) on the sums of blocks of `k` periods, spread
/// evenly back over the periods.
pub fn aggregated_ses(y: &[f64], k: usize) -> f64 {
    let k = k.max(1);
    let sums = block_sums(y, k);
    if sums.is_empty() {
        return if y.is_empty() { 0.0 } else { y.iter().sum::<f64>() / y.len() as f64 };
    }
    ses_optimized(&sums) / k as f64
}

/// ADIDA: aggregation at the mean interval between demands.
pub fn adida(y: &[f64]) -> f64 {
    match mean_interval(y) {
        None => 0.0,
        Some(adi) => aggregated_ses(y, (adi.round() as usize).max(1)),
    }
}

/// IMAPA: the mean of ADIDA forecasts over every aggregation level from 1 to the mean interval.
pub fn imapa(y: &[f64]) -> f64 {
    match mean_interval(y) {
        None => 0.0,
        Some(adi) => {
            let top = (adi.round() as usize).max(1);
            (1..=top).map(|k| aggregated_ses(y, k)).sum::<f64>() / top as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_tracks_a_constant() {
        let (level, sse) = ses(&[5.0; 20], 0.2);
        assert!((level - 5.0).abs() < 1e-12);
        assert!(sse.abs() < 1e-12);
    }

    #[test]
    fn croston_of_regular_intermittent_demand_is_size_over_interval() {
        // 4 units every 4th period.
        let y: Vec<f64> = (0..80).map(|i| if i % 4 == 3 { 4.0 } else { 0.0 }).collect();
        assert!((croston(&y, CrostonVariant::Classic) - 1.0).abs() < 1e-9);
        assert!((croston(&y, CrostonVariant::Sba) - 0.95).abs() < 1e-9);
        // TSB right after a demand sits above the mean (probability just bumped): 0.29 × 4.
        assert!((tsb(&y, 0.1, 0.1) - 1.163).abs() < 0.01);
        assert!((adida(&y) - 1.0).abs() < 1e-9);
        // IMAPA mixes levels that end right after a demand (above the mean) with the exact one.
        let i = imapa(&y);
        assert!(i > 1.0 && i < 1.5, "{i}");
    }

    #[test]
    fn nothing_sold_forecasts_zero() {
        let y = [0.0; 30];
        assert_eq!(croston(&y, CrostonVariant::Optimized), 0.0);
        assert_eq!(tsb(&y, 0.1, 0.1), 0.0);
        assert_eq!(adida(&y), 0.0);
        assert_eq!(imapa(&y), 0.0);
    }

    #[test]
    fn block_sums_end_at_the_last_period() {
        assert_eq!(block_sums(&[1.0, 2.0, 3.0, 4.0, 5.0], 2), vec![5.0, 9.0]);
    }
}
