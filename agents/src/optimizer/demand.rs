//! The distribution of demand over a protection period (lead time plus review period) when the lead
//! time itself is uncertain.
//!
//! Each day's demand is the forecast's negative binomial around its mean, plus the forecast's shared
//! level error. For a lead time of exactly `l` days the total over `review + l` days is again
//! approximated by a negative binomial with the right mean and variance; the lead time is a
//! discretised normal (its mean and spread from the supplier), so the protection-period demand is a
//! mixture of those negative binomials. It is kept as a probability mass function over whole units,
//! which gives exact quantiles, stockout probabilities and expected shortages even for slow movers,
//! where the textbook `z·σ·√L` (a normal approximation) badly misplaces the reorder point.

use crate::forecast::distribution::size_for;
use chrono::{Days, NaiveDate};
use fluxion_domain::LeadTime;
use fluxion_domain::forecast::Forecast;

/// Above this mean the mixture is represented by a normal approximation instead of a mass function.
const PMF_MEAN_LIMIT: f64 = 5_000.0;
/// Tail mass left out of a mass function.
const TAIL: f64 = 1e-7;

/// A lead time as a discrete distribution over whole days (at least one).
#[derive(Debug, Clone, PartialEq)]
pub struct LeadTimeDays {
    /// `(days, probability)`, probabilities summing to 1.
    pub days: Vec<(usize, f64)>,
}

impl LeadTimeDays {
    /// A normal with the lead time's mean and spread, rounded to whole days and folded below one day.
    pub fn from_lead_time(lead: LeadTime) -> Self {
        Self::normal(lead.mean_days(), lead.sd_days())
    }

    /// A fixed number of days.
    pub fn fixed(days: usize) -> Self {
        Self { days: vec![(days.max(1), 1.0)] }
    }

    /// A discretised normal with this mean and spread (days rounded to the nearest whole day).
    pub fn normal(mean: f64, sd: f64) -> Self {
        if sd.is_nan() || sd <= 0.05 || !mean.is_finite() {
            return Self::fixed(mean.round().max(1.0) as usize);
        }
        let lo = (mean - 4.0 * sd).floor().max(1.0) as usize;
        let hi = (mean + 4.0 * sd).ceil().max(1.0) as usize;
        let cdf = |x: f64| distrs::Normal::cdf(x, mean, sd);
        let mut days: Vec<(usize, f64)> = (lo..=hi)
            .map(|d| {
                let below = if d == 1 { 0.0 } else { cdf(d as f64 - 0.5) };
                (d, cdf(d as f64 + 0.5) - below)
            })
            .filter(|(_, p)| *p > 1e-6)
            .collect();
        let total: f64 = days.iter().map(|d| d.1).sum();
        if total <= 0.0 {
            return Self::fixed(mean.round().max(1.0) as usize);
        }
        for d in &mut days {
            d.1 /= total;
        }
        Self { days }
    }

    /// The longest lead time with any probability.
    pub fn max_days(&self) -> usize {
        self.days.iter().map(|d| d.0).max().unwrap_or(1)
    }

    /// The expected lead time in days.
    pub fn mean_days(&self) -> f64 {
        self.days.iter().map(|(d, p)| *d as f64 * p).sum()
    }

    /// The usual lead time in whole days (at least one): what a purchase order promises.
    pub fn usual_days(&self) -> usize {
        self.mean_days().round().max(1.0) as usize
    }
}

/// Goods on their way to a store, as the books have them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incoming {
    /// The day the purchase order or transfer says they arrive. It may have passed: late goods are
    /// still expected.
    pub expected: NaiveDate,
    /// Units.
    pub units: f64,
    /// Whether a supplier delivers them. A supplier's goods come as much earlier or later than
    /// promised as its lead time varies; a transfer between the chain's own stores comes when expected.
    pub from_supplier: bool,
}

impl Incoming {
    /// The morning they are expected, seen on the evening of `today`: late goods are expected tomorrow.
    pub fn expected_from(&self, today: NaiveDate) -> NaiveDate {
        self.expected.max(today + Days::new(1))
    }

    /// Days from `today` to the morning they are expected (at least 1).
    pub fn days_from(&self, today: NaiveDate) -> usize {
        usize::try_from((self.expected_from(today) - today).num_days()).unwrap_or(1).max(1)
    }

    /// Whether they were expected by `today` and have not come.
    pub fn is_late(&self, today: NaiveDate) -> bool {
        self.expected <= today
    }

    /// When they may arrive, seen on the evening of `today`: `(days from today, probability)`, at
    /// least one day, probabilities summing to 1. A supplier's delivery is as early or late against
    /// its promised day as `lead` (the supplier's lead time) is against its usual length, given
    /// that it has not come yet: a late one becomes less likely to come each morning it does not.
    pub fn arrival(&self, today: NaiveDate, lead: &LeadTimeDays) -> Vec<(usize, f64)> {
        let promised = (self.expected - today).num_days();
        let usual = lead.usual_days() as i64;
        let mut days: Vec<(usize, f64)> = if self.from_supplier {
            lead.days
                .iter()
                .filter_map(|&(d, p)| {
                    let k = promised + d as i64 - usual;
                    (k >= 1 && p > 0.0).then_some((k as usize, p))
                })
                .collect()
        } else {
            Vec::new()
        };
        let total: f64 = days.iter().map(|d| d.1).sum();
        if total <= 0.0 || !total.is_finite() {
            // Not from a supplier, or later than its lead time has ever been: expected as the books say.
            return vec![(self.days_from(today), 1.0)];
        }
        for d in &mut days {
            d.1 /= total;
        }
        days
    }
}

/// Daily demand ahead: means per day, a dispersion and a shared level error (as in [`Forecast`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DemandAhead<'a> {
    /// Expected demand of each coming day (day 0 = tomorrow).
    pub means: &'a [f64],
    /// Negative-binomial size of one day's demand (`INFINITY` = Poisson).
    pub size: f64,
    /// Extra variance of a sum, as a fraction of its squared mean.
    pub level_uncertainty: f64,
}

impl<'a> DemandAhead<'a> {
    /// The view of a forecast's points.
    pub fn of(forecast: &Forecast, means: &'a [f64]) -> Self {
        Self { means, size: forecast.dispersion_size, level_uncertainty: forecast.level_uncertainty }
    }

    /// The mean of day `i`; past the forecast's end, the average of its last week.
    pub fn mean_at(&self, i: usize) -> f64 {
        match self.means.get(i) {
            Some(m) => m.max(0.0),
            None => {
                let tail = &self.means[self.means.len().saturating_sub(7)..];
                if tail.is_empty() { 0.0 } else { tail.iter().map(|m| m.max(0.0)).sum::<f64>() / tail.len() as f64 }
            }
        }
    }

    /// Mean and variance of the total over days `[from, from + n)`.
    pub fn total(&self, from: usize, n: usize) -> (f64, f64) {
        let (mut mean, mut var) = (0.0, 0.0);
        for i in from..from + n {
            let m = self.mean_at(i);
            mean += m;
            var += m + if self.size.is_finite() && self.size > 0.0 { m * m / self.size } else { 0.0 };
        }
        var += self.level_uncertainty.max(0.0) * mean * mean;
        (mean, var)
    }
}

/// Demand over a protection period, as a distribution over whole units.
#[derive(Debug, Clone, PartialEq)]
pub enum PeriodDemand {
    /// `pmf[k]` = P(demand = k units); the last entry absorbs the far tail.
    Mass(Vec<f64>),
    /// Large totals: a normal with this mean and standard deviation.
    Normal { mean: f64, sd: f64 },
}

impl PeriodDemand {
    /// The demand over days `[from, from + review + L)` of `daily`, for a lead time `L` drawn from `lead`.
    /// `review = 0` gives the demand during the lead time alone.
    pub fn over(daily: &DemandAhead<'_>, from: usize, review: usize, lead: &LeadTimeDays) -> Self {
        Self::mixture(daily, from, lead, |l| review + l)
    }

    /// The demand from tomorrow until the morning an order placed `wait` evenings from now arrives
    /// (`wait = 0`: tonight): `wait + L − 1` days, for a lead time `L` drawn from `lead`. Goods
    /// arrive before the shop opens, so the arrival day's own demand is already covered by them.
    pub fn until_arrival(daily: &DemandAhead<'_>, wait: usize, lead: &LeadTimeDays) -> Self {
        Self::mixture(daily, 0, lead, |l| (wait + l).saturating_sub(1))
    }

    /// The demand of the `n` days starting at day `from` (day 0 = tomorrow).
    pub fn days(daily: &DemandAhead<'_>, from: usize, n: usize) -> Self {
        Self::mixture(daily, from, &LeadTimeDays::fixed(1), |_| n)
    }

    fn mixture(daily: &DemandAhead<'_>, from: usize, lead: &LeadTimeDays, days: impl Fn(usize) -> usize) -> Self {
        let parts: Vec<(f64, f64, f64)> = lead
            .days
            .iter()
            .map(|&(l, p)| {
                let (m, v) = daily.total(from, days(l));
                (p, m, v)
            })
            .collect();
        let mean: f64 = parts.iter().map(|(p, m, _)| p * m).sum();
        if mean > PMF_MEAN_LIMIT {
            let second: f64 = parts.iter().map(|(p, m, v)| p * (v + m * m)).sum();
            return PeriodDemand::Normal { mean, sd: (second - mean * mean).max(0.0).sqrt() };
        }
        let mut pmf: Vec<f64> = Vec::new();
        for &(weight, m, v) in &parts {
            add_nb(&mut pmf, weight, m, size_for(m, v));
        }
        if pmf.is_empty() {
            pmf.push(1.0);
        }
        PeriodDemand::Mass(pmf)
    }

    /// Expected demand.
    pub fn mean(&self) -> f64 {
        match self {
            PeriodDemand::Mass(p) => p.iter().enumerate().map(|(k, q)| k as f64 * q).sum(),
            PeriodDemand::Normal { mean, .. } => *mean,
        }
    }

    /// P(demand ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        match self {
            PeriodDemand::Mass(p) => {
                if x < 0.0 {
                    return 0.0;
                }
                let k = x.floor() as usize;
                p.iter().take(k + 1).sum::<f64>().min(1.0)
            }
            PeriodDemand::Normal { mean, sd } => {
                if *sd <= 0.0 {
                    return if x >= *mean { 1.0 } else { 0.0 };
                }
                distrs::Normal::cdf(x + 0.5, *mean, *sd)
            }
        }
    }

    /// P(demand > stock): the chance that `stock` runs out within the period.
    pub fn stockout_probability(&self, stock: f64) -> f64 {
        (1.0 - self.cdf(stock.max(0.0))).clamp(0.0, 1.0)
    }

    /// The smallest whole number of units `s` with P(demand ≤ s) ≥ `q`.
    pub fn quantile(&self, q: f64) -> f64 {
        let q = q.clamp(0.0, 1.0 - 1e-9);
        match self {
            PeriodDemand::Mass(p) => {
                let mut acc = 0.0;
                for (k, v) in p.iter().enumerate() {
                    acc += v;
                    if acc >= q - 1e-12 {
                        return k as f64;
                    }
                }
                (p.len().saturating_sub(1)) as f64
            }
            PeriodDemand::Normal { mean, sd } => (distrs::Normal::ppf(q, *mean, sd.max(1e-9)) - 0.5).ceil().max(0.0),
        }
    }

    /// E[(demand − stock)⁺]: the units expected to be short when `stock` is what is available.
    pub fn expected_shortage(&self, stock: f64) -> f64 {
        let stock = stock.max(0.0);
        match self {
            PeriodDemand::Mass(p) => p.iter().enumerate().map(|(k, q)| (k as f64 - stock).max(0.0) * q).sum(),
            PeriodDemand::Normal { mean, sd } => {
                if *sd <= 0.0 {
                    return (mean - stock).max(0.0);
                }
                let z = (stock - mean) / sd;
                sd * (distrs::Normal::pdf(z, 0.0, 1.0) - z * (1.0 - distrs::Normal::cdf(z, 0.0, 1.0)))
            }
        }
    }
}

/// Adds `weight` × NB(mean, size) to `pmf` (Poisson when `size` is infinite).
fn add_nb(pmf: &mut Vec<f64>, weight: f64, mean: f64, size: f64) {
    if weight <= 0.0 {
        return;
    }
    if mean.is_nan() || mean <= 1e-12 {
        if pmf.is_empty() {
            pmf.push(0.0);
        }
        pmf[0] += weight;
        return;
    }
    let finite = size.is_finite() && size > 0.0;
    let mut p = if finite { (size * (size / (size + mean)).ln()).exp() } else { (-mean).exp() };
    let odds = if finite { mean / (size + mean) } else { 0.0 };
    // Far from zero the first terms underflow: start from the mode in log space instead.
    if p == 0.0 {
        let var = mean + if finite { mean * mean / size } else { 0.0 };
        let sd = var.sqrt();
        let lo = (mean - 12.0 * sd).floor().max(0.0) as usize;
        let hi = (mean + 12.0 * sd).ceil() as usize;
        // A discretised normal is accurate when the first term underflows (mean in the hundreds).
        let mut mass: Vec<f64> = (lo..=hi).map(|k| distrs::Normal::pdf(k as f64, mean, sd)).collect();
        let total: f64 = mass.iter().sum();
        if pmf.len() <= hi {
            pmf.resize(hi + 1, 0.0);
        }
        for (i, m) in mass.iter_mut().enumerate() {
            pmf[lo + i] += weight * *m / total;
        }
        return;
    }
    let mut cdf = 0.0;
    let mut k = 0usize;
    loop {
        if pmf.len() <= k {
            pmf.push(0.0);
        }
        pmf[k] += weight * p;
        cdf += p;
        if cdf >= 1.0 - TAIL || (k as f64 > mean && p < 1e-300) {
            // Fold the remaining tail into the last unit so that the mass sums to `weight`.
            pmf[k] += weight * (1.0 - cdf).max(0.0);
            break;
        }
        let kf = k as f64;
        p *= if finite { (kf + size) / (kf + 1.0) * odds } else { mean / (kf + 1.0) };
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_arrives_as_its_supplier_varies_and_a_late_one_has_not_come_yet() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let lead = LeadTimeDays::normal(5.0, 2.0);
        let on_its_way = Incoming { expected: today + Days::new(3), units: 10.0, from_supplier: true };
        let days = on_its_way.arrival(today, &lead);
        assert!((days.iter().map(|d| d.1).sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(days.iter().all(|d| d.0 >= 1));
        // Centred on the promised day, less the early days it would already have come on.
        let mean: f64 = days.iter().map(|(k, p)| *k as f64 * p).sum();
        assert!(mean > 3.0 && mean < 3.5, "{days:?}");
        // Two days late: only the draws longer than seven days remain, the next morning most likely.
        let late = Incoming { expected: today - Days::new(2), ..on_its_way };
        assert!(late.is_late(today) && !on_its_way.is_late(today));
        let days = late.arrival(today, &lead);
        assert!(days.iter().all(|d| d.0 >= 1) && days[0].0 == 1, "{days:?}");
        assert!(days[0].1 > 0.4 && days[0].1 < 0.7, "{days:?}");
        // A transfer, a fixed lead time, or later than the lead time has ever been: when expected.
        let transfer = Incoming { from_supplier: false, ..on_its_way };
        assert_eq!(transfer.arrival(today, &lead), vec![(3, 1.0)]);
        assert_eq!(on_its_way.arrival(today, &LeadTimeDays::fixed(5)), vec![(3, 1.0)]);
        let lost = Incoming { expected: today - Days::new(30), ..on_its_way };
        assert_eq!(lost.arrival(today, &lead), vec![(1, 1.0)]);
    }

    fn flat(mean: f64, days: usize) -> Vec<f64> {
        vec![mean; days]
    }

    #[test]
    fn lead_time_mass_sums_to_one_and_keeps_its_mean() {
        let l = LeadTimeDays::normal(5.0, 2.0);
        let total: f64 = l.days.iter().map(|d| d.1).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!((l.mean_days() - 5.0).abs() < 0.1, "{}", l.mean_days());
        assert!(l.days.iter().all(|d| d.0 >= 1));
        assert_eq!(LeadTimeDays::normal(3.0, 0.0).days, vec![(3, 1.0)]);
        // A short lead time with a wide spread folds its left tail into one day.
        let short = LeadTimeDays::normal(1.0, 2.0);
        assert_eq!(short.days[0].0, 1);
        assert!(short.days[0].1 > 0.5);
    }

    #[test]
    fn poisson_period_matches_its_known_quantiles() {
        let means = flat(2.0, 30);
        let d = DemandAhead { means: &means, size: f64::INFINITY, level_uncertainty: 0.0 };
        let p = PeriodDemand::over(&d, 0, 0, &LeadTimeDays::fixed(5));
        // Poisson(10): P(X ≤ 15) ≈ 0.9513, P(X ≤ 14) ≈ 0.9165.
        assert_eq!(p.quantile(0.95), 15.0);
        assert!((p.mean() - 10.0).abs() < 1e-6);
        assert!((p.cdf(14.0) - 0.9165).abs() < 1e-3);
        // E[(X − 10)⁺] for Poisson(10) = 10·P(X=10) ≈ 1.2511.
        assert!((p.expected_shortage(10.0) - 1.2511).abs() < 1e-3, "{}", p.expected_shortage(10.0));
    }

    #[test]
    fn slow_movers_get_whole_units_not_the_normal_formula() {
        // 0.1 a day over 5 days: Poisson(0.5). P(0)=0.607, P(≤1)=0.910, P(≤2)=0.986.
        let means = flat(0.1, 10);
        let d = DemandAhead { means: &means, size: f64::INFINITY, level_uncertainty: 0.0 };
        let p = PeriodDemand::over(&d, 0, 0, &LeadTimeDays::fixed(5));
        assert_eq!(p.quantile(0.95), 2.0);
        assert_eq!(p.quantile(0.9), 1.0);
        // z·σ·√L would say 0.5 + 1.645·√0.5 ≈ 1.66 units: one unit too few at 95%.
        assert!(p.cdf(1.0) < 0.95);
    }

    #[test]
    fn uncertain_lead_times_widen_the_distribution() {
        let means = flat(10.0, 60);
        let d = DemandAhead { means: &means, size: 20.0, level_uncertainty: 0.0 };
        let fixed = PeriodDemand::over(&d, 0, 2, &LeadTimeDays::fixed(7));
        let spread = PeriodDemand::over(&d, 0, 2, &LeadTimeDays::normal(7.0, 3.0));
        assert!((fixed.mean() - spread.mean()).abs() < 1.0, "{} {}", fixed.mean(), spread.mean());
        assert!(spread.quantile(0.95) > fixed.quantile(0.95) + 10.0);
    }

    #[test]
    fn huge_totals_use_the_normal_approximation_consistently() {
        let means = flat(900.0, 30);
        let d = DemandAhead { means: &means, size: f64::INFINITY, level_uncertainty: 0.01 };
        let p = PeriodDemand::over(&d, 0, 3, &LeadTimeDays::fixed(4));
        assert!(matches!(p, PeriodDemand::Normal { .. }));
        let q = p.quantile(0.9);
        assert!((p.cdf(q) - 0.9).abs() < 0.01);
        assert!(p.expected_shortage(q) < p.expected_shortage(p.mean()));
    }

    #[test]
    fn past_the_forecast_the_last_week_carries_on() {
        let means = vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0];
        let d = DemandAhead { means: &means, size: f64::INFINITY, level_uncertainty: 0.0 };
        let (m, _) = d.total(8, 7);
        assert!((m - 7.0 * (6.0 + 3.0) / 7.0).abs() < 1e-9);
    }
}
