//! The distribution of demand around a forecast: negative binomial per period, and of a total
//! over several periods.
//!
//! Count demand is over-dispersed: variance = mean + mean²/size. `size = ∞` is Poisson. Quantiles
//! are read from the cumulative distribution interpolated linearly between integers, so a P90 of
//! 0.7 on a slow mover says "most days none, sometimes one" instead of jumping to a whole unit.

use fluxion_domain::forecast::{Forecast, TotalDemand};

/// Above this mean a normal approximation replaces summing the probabilities.
const EXACT_MEAN_LIMIT: f64 = 2_000.0;

/// The `q` quantile (0 < q < 1) of a negative binomial with `mean` and `size` (`INFINITY` = Poisson).
pub fn nb_quantile(mean: f64, size: f64, q: f64) -> f64 {
    if mean.is_nan() || mean <= 0.0 || !mean.is_finite() {
        return 0.0;
    }
    let q = q.clamp(1e-6, 1.0 - 1e-6);
    let var = mean + if size.is_finite() && size > 0.0 { mean * mean / size } else { 0.0 };
    if mean > EXACT_MEAN_LIMIT {
        return (mean + normal_quantile(q) * var.sqrt()).max(0.0);
    }
    // P(0) and the ratio P(k+1)/P(k).
    let (mut p, ratio): (f64, Box<dyn Fn(f64) -> f64>) = if size.is_finite() && size > 0.0 {
        let odds = mean / (size + mean);
        (((size / (size + mean)).ln() * size).exp(), Box::new(move |k: f64| (k + size) / (k + 1.0) * odds))
    } else {
        ((-mean).exp(), Box::new(move |k: f64| mean / (k + 1.0)))
    };
    if p == 0.0 {
        // Underflow on a large mean with little dispersion: the normal approximation is accurate there.
        return (mean + normal_quantile(q) * var.sqrt()).max(0.0);
    }
    let mut cdf_prev = 0.0;
    let mut cdf = p;
    let mut k = 0.0;
    // Interpolate between k−1 (cdf_prev) and k (cdf).
    while cdf < q {
        p *= ratio(k);
        k += 1.0;
        cdf_prev = cdf;
        cdf += p;
        if k > mean + 60.0 * var.sqrt() + 100.0 {
            break;
        }
    }
    let width = cdf - cdf_prev;
    let frac = if width > 0.0 { (q - cdf_prev) / width } else { 1.0 };
    (k - 1.0 + frac).max(0.0)
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let low = 0.02425;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// The size of a negative binomial with this `mean` and `variance` (`INFINITY` when not over-dispersed).
pub fn size_for(mean: f64, variance: f64) -> f64 {
    let extra = variance - mean;
    if mean > 0.0 && extra > 1e-12 { mean * mean / extra } else { f64::INFINITY }
}

/// The total demand of `periods` forecast points starting at `from` (0 = the first forecast period).
///
/// Days are independent negative binomials around their means, plus a shared level error (the
/// forecast's `level_uncertainty`), so the total's variance is Σ(μ + μ²/size) + u·(Σμ)². Its
/// quantiles come from a negative binomial with that mean and variance.
pub fn total_demand(forecast: &Forecast, from: usize, periods: usize) -> TotalDemand {
    let points = forecast.points.iter().skip(from).take(periods);
    let (mut mean, mut var) = (0.0, 0.0);
    let mut n = 0;
    for p in points {
        let m = p.mean.max(0.0);
        mean += m;
        var += m + if forecast.dispersion_size.is_finite() { m * m / forecast.dispersion_size } else { 0.0 };
        n += 1;
    }
    var += forecast.level_uncertainty.max(0.0) * mean * mean;
    let size = size_for(mean, var);
    TotalDemand {
        periods: n,
        mean,
        std_dev: var.sqrt(),
        p10: nb_quantile(mean, size, 0.1),
        p50: nb_quantile(mean, size, 0.5),
        p90: nb_quantile(mean, size, 0.9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_median_and_tails() {
        // Poisson(10): P(X ≤ 9) ≈ 0.458, P(X ≤ 10) ≈ 0.583 → the median lies between 9 and 10.
        let m = nb_quantile(10.0, f64::INFINITY, 0.5);
        assert!(m > 9.0 && m < 10.0, "{m}");
        assert!(nb_quantile(10.0, f64::INFINITY, 0.9) > 13.0);
        assert!(nb_quantile(10.0, f64::INFINITY, 0.1) < 7.0);
    }

    #[test]
    fn dispersion_widens_the_band() {
        let narrow = nb_quantile(5.0, f64::INFINITY, 0.9) - nb_quantile(5.0, f64::INFINITY, 0.1);
        let wide = nb_quantile(5.0, 1.0, 0.9) - nb_quantile(5.0, 1.0, 0.1);
        assert!(wide > narrow);
    }

    #[test]
    fn degenerate_inputs_give_zero() {
        assert_eq!(nb_quantile(0.0, 1.0, 0.9), 0.0);
        assert_eq!(nb_quantile(f64::NAN, 1.0, 0.9), 0.0);
        assert_eq!(nb_quantile(-3.0, 1.0, 0.9), 0.0);
    }

    #[test]
    fn large_means_use_the_normal_approximation() {
        let q = nb_quantile(1e6, f64::INFINITY, 0.5);
        assert!((q - 1e6).abs() < 1.0);
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
    }
}
