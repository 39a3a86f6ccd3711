//! Fluxion's automatic forecaster for daily retail demand.
//!
//! The forecast of a day is `level × weekday profile × calendar lifts × seasonal ratio`:
//!
//! 1. **Clean the history.** Periods before the first sale, censored days (out of stock, store
//!    closed) and zero runs too long to be chance for this item (a probable stockout) become gaps,
//!    never zeros of demand.
//! 2. **Weekday profile and calendar lifts** (quincena/SNAP paydays, holidays) are estimated on the
//!    item's own history and shrunk towards the same effects pooled over its store, so that a slow
//!    mover borrows its shape from the store and a fast mover keeps its own.
//! 3. **Level.** The history divided by profile and lifts is smoothed by a combination of SES and the
//!    intermittent-demand family (TSB, IMAPA), which stays unbiased on mostly-zero series.
//! 4. **Seasonal ratio.** How the store's total moved from the recent weeks to the forecast window
//!    one and two years earlier (December, Semana Santa, school holidays).
//! 5. **Band.** A negative binomial around each day's mean, its dispersion estimated from the
//!    item's one-step errors.

use super::calendar::{Calendar, EffectSums, Feature, shrink};
use super::distribution::nb_quantile;
use super::intermittent::{best_alpha, imapa, tsb};
use chrono::{Datelike, NaiveDate};
use fluxion_domain::forecast::{BacktestError, DemandClass, DemandSeries, Effect, Forecast, ForecastPoint, Frequency};
use std::collections::{BTreeMap, HashSet};

/// Knobs of the automatic forecaster. The defaults are the tuned values.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoConfig {
    /// Days of history the weekday profile and lifts are estimated on.
    pub profile_window: usize,
    /// Baseline units at which an item's own weekday profile weighs as much as its store's.
    pub weekday_strength: f64,
    /// Baseline units at which an item's own calendar lift weighs as much as its store's.
    pub effect_strength: f64,
    /// Smallest pooled lift deviation from 1 worth applying.
    pub min_effect: f64,
    /// A zero run whose probability under the item's zero rate is below this is a probable stockout.
    pub stockout_run_probability: f64,
    /// Shortest zero run ever taken for a stockout.
    pub stockout_min_run: usize,
    /// A zero run that ends the history and whose probability is below this is a probable stockout
    /// in progress: the forecast is the demand before it, times [`AutoConfig::resume_factor`].
    pub trailing_run_probability: f64,
    /// Shortest trailing zero run taken for a stockout, in days (two weeks: a shorter gap is
    /// ordinary for a slow mover).
    pub trailing_min_run_days: usize,
    /// The same for monthly series, in months.
    pub trailing_min_run_months: usize,
    /// Expected share of the pre-stockout demand over the horizon when a stockout is in progress
    /// (some items are delisted, most are replenished). `None` learns it from the store's history.
    pub resume_factor: Option<f64>,
    /// Learn from the first sale on (leading zeros mean "not yet listed", as in retail feeds). Off
    /// for catalogs whose leading zeros are real zero demand.
    pub trim_leading_zeros: bool,
    /// Level candidates for daily series, weighed by backtest.
    pub daily_levels: Vec<LevelMethod>,
    /// Level candidates for monthly series.
    pub periodic_levels: Vec<LevelMethod>,
    /// Rolling origins of the per-series backtest that weighs the level candidates.
    pub backtest_origins: usize,
    /// Range of the store's level calibration (Σ actual / Σ forecast over all its backtests).
    pub calibration_range: (f64, f64),
    /// Weight of that calibration (0 = off).
    pub calibration_weight: f64,
    /// Days of the store total the trend is fitted on.
    pub trend_window_days: usize,
    /// Months of the store total the trend is fitted on.
    pub trend_window_months: usize,
    /// Damping of the trend's slope per period ahead.
    pub trend_damping: f64,
    /// t-statistic above which a recent step in a store's total is taken as its new level.
    pub shift_threshold: f64,
    /// Weight of the store trend on each item (0 = off).
    pub trend_weight: f64,
    /// Weight of the cross-series level model against the item's own combination (0 = off).
    pub stack_weight: f64,
    /// Ridge penalty of the cross-series model, relative to the mean diagonal.
    pub stack_ridge: f64,
    /// Fewest training rows the cross-series model needs.
    pub stack_min_rows: usize,
    /// Days of observations below which a daily series is new: its level is shrunk towards its
    /// category's.
    pub new_history_days: usize,
    /// Months of observations below which a monthly series is new.
    pub new_history_months: usize,
    /// Share of that history at which a new series' own level weighs as much as its category's.
    pub new_strength: f64,
    /// Weight of the seasonal ratio (0 = ignore, 1 = apply fully).
    pub seasonal_weight: f64,
    /// Units at which an item's own year-over-year ratio weighs as much as its store's.
    pub seasonal_strength: f64,
    /// Days of recent history the seasonal ratio compares with.
    pub seasonal_recent: usize,
    /// Multiplier of the estimated over-dispersion (calibrates the P10–P90 band).
    pub dispersion_scale: f64,
}

impl AutoConfig {
    /// The shortest trailing zero run taken for a stockout, in periods of the series.
    pub fn trailing_min_run(&self, daily: bool) -> usize {
        if daily { self.trailing_min_run_days } else { self.trailing_min_run_months }
    }
}

impl Default for AutoConfig {
    fn default() -> Self {
        AutoConfig {
            profile_window: 364,
            weekday_strength: 60.0,
            effect_strength: 40.0,
            min_effect: 0.02,
            stockout_run_probability: 1e-4,
            stockout_min_run: 14,
            trailing_run_probability: 1e-2,
            trailing_min_run_days: 14,
            trailing_min_run_months: 7,
            resume_factor: None,
            trim_leading_zeros: true,
            backtest_origins: 3,
            new_history_days: 56,
            new_history_months: 6,
            new_strength: 0.25,
            stack_weight: 0.5,
            stack_ridge: 1e-3,
            stack_min_rows: 500,
            daily_levels: DAILY_LEVELS.to_vec(),
            periodic_levels: PERIODIC_LEVELS.to_vec(),
            trend_window_days: 91,
            trend_window_months: 24,
            trend_damping: 0.98,
            trend_weight: 1.0,
            shift_threshold: 4.0,
            calibration_range: (0.8, 1.2),
            calibration_weight: 1.0,
            seasonal_weight: 0.5,
            seasonal_recent: 28,
            seasonal_strength: 200.0,
            dispersion_scale: 1.0,
        }
    }
}

/// What a store's series share: weekday profile, calendar lifts, closed days, and its daily total.
#[derive(Debug, Clone)]
pub struct StoreProfile {
    /// Multiplicative weekday profile, Monday first, mean 1.
    pub weekday: [f64; 7],
    /// Pooled lift per calendar feature.
    pub lifts: Vec<f64>,
    /// Days the store was closed (its total collapsed).
    pub closed: HashSet<NaiveDate>,
    /// First day of `total`.
    pub start: NaiveDate,
    /// The store's daily total over its series, closed days as `NaN`.
    pub total: Vec<f64>,
    /// What share of their pre-stockout demand items sold in the 4 weeks after a past origin at
    /// which they were in a probable stockout (learned on the store's own history).
    pub resume_ratio: f64,
    /// The trend of the store's total, if it has enough history.
    pub trend: Option<StoreTrend>,
    /// The pooled lift of its items' promotions (1 when none were seen).
    pub promo_lift: f64,
}

/// The recent trend of a store's total, as a ratio to apply to its items' flat levels: the
/// store's total is far less noisy than any item, so its drift (a chain growing, a catalog of car
/// parts ageing, the slide from the summer peak to December) is measured there and passed down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreTrend {
    /// The flat level the item models would give the store's total.
    pub flat: f64,
    /// The fitted trend line at the last period.
    pub end: f64,
    /// Its slope per period.
    pub slope: f64,
    /// Damping of the slope per period ahead.
    pub damping: f64,
}

impl StoreTrend {
    /// The trend of `total` over the trend window, unless the like-for-like total (`like`: the items
    /// already selling before the window) shows a recent step, whose level then wins, flat.
    fn fit(total: &[f64], like: &[f64], factors: &[f64], frequency: Frequency, cfg: &AutoConfig) -> Option<StoreTrend> {
        let window = match frequency {
            Frequency::Daily => cfg.trend_window_days,
            Frequency::Monthly => cfg.trend_window_months,
        };
        if total.len() < window || window < 4 {
            return None;
        }
        let adjust = |series: &[f64]| -> Vec<f64> {
            series.iter().zip(factors).map(|(v, f)| if *f > 0.0 { v / f } else { f64::NAN }).collect()
        };
        let candidates: &[LevelMethod] =
            if frequency == Frequency::Daily { &cfg.daily_levels } else { &cfg.periodic_levels };
        let flat_of = |z: &[f64]| {
            let observed: Vec<f64> = z.iter().copied().filter(|v| v.is_finite()).collect();
            candidates.iter().map(|m| m.level(&observed)).sum::<f64>() / candidates.len() as f64
        };
        // A step in the last weeks (a price change, a new competitor, the month's budget running
        // out) beats any line: the level after it, flat. Launches are not steps: like for like.
        let like = adjust(like);
        if let Some(after) = recent_shift(&like[like.len() - window..], cfg.shift_threshold, frequency) {
            let flat = flat_of(&like);
            return (flat > 0.0 && after > 0.0).then_some(StoreTrend {
                flat,
                end: after,
                slope: 0.0,
                damping: cfg.trend_damping,
            });
        }
        let z = adjust(total);
        let recent = &z[z.len() - window..];
        let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, v) in recent.iter().enumerate().filter(|(_, v)| v.is_finite()) {
            let x = i as f64;
            n += 1.0;
            sx += x;
            sy += v;
            sxx += x * x;
            sxy += x * v;
        }
        let denom = n * sxx - sx * sx;
        if n < 4.0 || denom <= 0.0 {
            return None;
        }
        let slope = (n * sxy - sx * sy) / denom;
        let intercept = (sy - slope * sx) / n;
        let end = intercept + slope * (window - 1) as f64;
        let flat = flat_of(&z);
        (flat > 0.0 && end > 0.0).then_some(StoreTrend { flat, end, slope, damping: cfg.trend_damping })
    }

    /// The ratio of the trend's value `k` periods ahead (1 = the next) to the flat level.
    pub fn ratio(&self, k: usize) -> f64 {
        let mut sum = 0.0;
        let mut phi = 1.0;
        for _ in 0..k {
            phi *= self.damping;
            sum += phi;
        }
        ((self.end + self.slope * sum) / self.flat).clamp(0.5, 2.0)
    }
}

/// The mean after the most recent significant level shift of `z` (the last eight weeks of days, or
/// six months), if its t-statistic against the stretch before it (four weeks, a year) exceeds
/// `threshold`. `z` must already be free of weekday and calendar effects: a quincena is not a step.
fn recent_shift(z: &[f64], threshold: f64, frequency: Frequency) -> Option<f64> {
    // Longest step looked for, the stretch before it compared with, the least of that stretch.
    let (max_after, before_len, min_before) = match frequency {
        Frequency::Daily => (56, 28, 7),
        Frequency::Monthly => (6, 12, 6),
    };
    let n = z.len();
    for after_len in 2..=max_after.min(n.saturating_sub(2 * min_before)) {
        let c = n - after_len;
        let before: Vec<f64> = z[c.saturating_sub(before_len)..c].iter().copied().filter(|v| v.is_finite()).collect();
        let after: Vec<f64> = z[c..].iter().copied().filter(|v| v.is_finite()).collect();
        if before.len() < min_before || after.len() < 2 {
            continue;
        }
        let mb = before.iter().sum::<f64>() / before.len() as f64;
        let ma = after.iter().sum::<f64>() / after.len() as f64;
        let var = before.iter().map(|v| (v - mb) * (v - mb)).sum::<f64>() / (before.len() - 1) as f64;
        let se = (var / before.len() as f64 + var / after.len() as f64).sqrt();
        if se <= 0.0 {
            continue;
        }
        // The most recent step that stands out: older ones are already in the level.
        if ((ma - mb) / se).abs() > threshold {
            return Some(ma);
        }
    }
    None
}

impl StoreProfile {
    /// The profile of the series of one store (daily series; others are ignored).
    pub fn build(series: &[&DemandSeries], calendar: &Calendar, cfg: &AutoConfig) -> Option<StoreProfile> {
        let frequency = series.first()?.frequency;
        let same: Vec<&&DemandSeries> = series.iter().filter(|s| s.frequency == frequency).collect();
        let start = same.iter().map(|s| s.start).min()?;
        let end = same.iter().filter_map(|s| s.end()).max()?;
        let len = frequency.periods_between(start, end)? + 1;
        let mut total = vec![0.0; len];
        let mut seen = vec![false; len];
        // Like for like: the total of the items already selling before the trend window, so that a
        // launch (or a delisting) is not read as the whole store moving.
        let window = match frequency {
            Frequency::Daily => cfg.trend_window_days,
            Frequency::Monthly => cfg.trend_window_months,
        };
        let mut like = vec![0.0; len];
        for s in &same {
            let offset = frequency.periods_between(start, s.start)?;
            let first_sale = s.values.iter().position(|v| *v > 0.0).map_or(usize::MAX, |i| offset + i);
            let established = first_sale.saturating_add(window) <= len;
            for (i, v) in s.values.iter().enumerate() {
                if v.is_finite() && !s.censored.get(i).copied().unwrap_or(false) {
                    total[offset + i] += v;
                    seen[offset + i] = true;
                    if established {
                        like[offset + i] += v;
                    }
                }
            }
        }
        for (t, s) in total.iter_mut().zip(&seen) {
            if !s {
                *t = f64::NAN;
            }
        }
        let daily = frequency == Frequency::Daily;
        // A day whose total is under a tenth of the median of the surrounding fortnight: closed.
        let mut closed = HashSet::new();
        for i in (0..len).filter(|_| daily) {
            let lo = i.saturating_sub(7);
            let hi = (i + 8).min(len);
            let mut around: Vec<f64> =
                (lo..hi).filter(|j| *j != i).map(|j| total[j]).filter(|v| v.is_finite()).collect();
            if around.len() < 4 {
                continue;
            }
            around.sort_by(f64::total_cmp);
            let median = around[around.len() / 2];
            if median > 20.0 && total[i].is_finite() && total[i] < 0.1 * median {
                closed.insert(start + chrono::Days::new(i as u64));
                total[i] = f64::NAN;
            }
        }
        // Even a store's profile is shrunk towards flat: a store with a handful of sales has no shape yet.
        let weekday = if daily {
            weekday_profile(&total, start, cfg.profile_window, Some(&[1.0; 7]), cfg.weekday_strength)
        } else {
            [1.0; 7]
        };
        let calendar = if daily { calendar } else { &Calendar::default() };
        for (l, t) in like.iter_mut().zip(&total) {
            if t.is_nan() {
                *l = f64::NAN;
            }
        }
        let sums = effect_sums(&total, start, &weekday, calendar, cfg.profile_window.max(3 * 364));
        let lifts: Vec<f64> = sums.iter().map(|s| shrink(s, 1.0, cfg.effect_strength)).collect();
        // The store's totals free of weekday and calendar effects, for its trend.
        let first_wd = weekday_index(start);
        let factors: Vec<f64> = (0..len)
            .map(|i| {
                if !daily {
                    return 1.0;
                }
                let day = start + chrono::Days::new(i as u64);
                calendar.features(day).iter().fold(weekday[(first_wd + i) % 7], |f, feat| {
                    f * lifts.get(usize::from(*feat)).copied().unwrap_or(1.0)
                })
            })
            .collect();
        let trend = StoreTrend::fit(&total, &like, &factors, frequency, cfg);
        let resume_ratio = resume_ratio(&same, &closed, cfg);
        let mut promo = EffectSums::default();
        for s in same.iter().filter(|s| !s.promotions.is_empty()) {
            if let Some((first, y)) = clean_history(s, Some(&closed), cfg) {
                let own = promo_sums(&y, first, &[1.0; 7], s, cfg.profile_window.max(3 * 364));
                promo.actual += own.actual;
                promo.baseline += own.baseline;
                promo.days += own.days;
            }
        }
        let promo_lift = shrink(&promo, 1.0, cfg.effect_strength).clamp(0.5, 5.0);
        Some(StoreProfile { weekday, lifts, closed, start, total, resume_ratio, trend, promo_lift })
    }

    /// The store total on `day`, if known.
    fn total_on(&self, day: NaiveDate) -> Option<f64> {
        let i = usize::try_from((day - self.start).num_days()).ok()?;
        self.total.get(i).copied().filter(|v| v.is_finite())
    }

    /// How much the store's total over `[from, from + h)` one and two years (52 and 104 weeks)
    /// before exceeded the `recent` days before `from` in the same years.
    pub fn seasonal_ratio(&self, from: NaiveDate, h: usize, recent: usize) -> Option<f64> {
        let mut ratios = Vec::new();
        for weeks in [52u64, 104] {
            let back = from.checked_sub_days(chrono::Days::new(weeks * 7))?;
            let mean = |a: NaiveDate, n: usize| {
                let vals: Vec<f64> = (0..n).filter_map(|i| self.total_on(a + chrono::Days::new(i as u64))).collect();
                (vals.len() * 2 >= n && !vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
            };
            let target = mean(back, h);
            let before = back.checked_sub_days(chrono::Days::new(recent as u64)).and_then(|b| mean(b, recent));
            if let (Some(t), Some(b)) = (target, before)
                && b > 0.0
            {
                ratios.push(t / b);
            }
        }
        (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64)
    }
}

/// One profile per store, over the series of each store.
pub fn store_profiles<'a>(
    series: impl Iterator<Item = &'a DemandSeries>,
    calendar: &Calendar,
    cfg: &AutoConfig,
) -> BTreeMap<String, StoreProfile> {
    let mut by_store: BTreeMap<String, Vec<&DemandSeries>> = BTreeMap::new();
    for s in series {
        by_store.entry(s.store.clone()).or_default().push(s);
    }
    by_store
        .into_iter()
        .filter_map(|(store, list)| StoreProfile::build(&list, calendar, cfg).map(|p| (store, p)))
        .collect()
}

/// Replays past origins every 4 weeks over the last two years: at each, the items in a probable
/// stockout, what their pre-stockout demand promised over the next 4 weeks, and what they sold.
fn resume_ratio(series: &[&&DemandSeries], closed: &HashSet<NaiveDate>, cfg: &AutoConfig) -> f64 {
    let daily = series.first().is_some_and(|s| s.frequency == Frequency::Daily);
    // Four weeks ahead from origins over the last two years; a year ahead for monthly data.
    let (h, origins) = if daily { (28, 26) } else { (12, 3) };
    let (mut promised, mut sold, mut cases) = (0.0, 0.0, 0u32);
    for s in series {
        let Some((_, y)) = clean_history(s, Some(closed), cfg) else { continue };
        for k in 1..=origins {
            let Some(cut) = y.len().checked_sub(k * h) else { break };
            let past = &y[..cut];
            let run = trailing_zero_run(past);
            if run == 0 || run >= past.len() {
                continue;
            }
            let before = &past[..past.len() - run];
            let Some(limit) = stockout_limit(before, cfg.trailing_run_probability, cfg.trailing_min_run(daily)) else {
                continue;
            };
            // Learned on the runs it will be applied to: a stockout, not a product gone.
            if run < limit || run >= inactive_after(limit, daily) {
                continue;
            }
            let observed: Vec<f64> = before.iter().rev().filter(|v| v.is_finite()).take(182).copied().collect();
            let level = tsb(&observed.iter().rev().copied().collect::<Vec<_>>(), 0.1, 0.1);
            promised += level * h as f64;
            sold += y[cut..cut + h].iter().filter(|v| v.is_finite()).sum::<f64>();
            cases += 1;
        }
    }
    if cases < 5 || promised <= 0.0 { 1.0 } else { (sold / promised).clamp(0.2, 1.5) }
}

/// Monday = 0.
fn weekday_index(day: NaiveDate) -> usize {
    day.weekday().num_days_from_monday() as usize
}

/// The weekday profile of the last `window` days of `y` (mean 1), shrunk towards `prior` with `strength`.
fn weekday_profile(y: &[f64], start: NaiveDate, window: usize, prior: Option<&[f64; 7]>, strength: f64) -> [f64; 7] {
    let from = y.len().saturating_sub(window);
    let mut sum = [0.0; 7];
    let mut n = [0u32; 7];
    let first_wd = weekday_index(start);
    for (i, v) in y.iter().enumerate().skip(from) {
        if v.is_finite() {
            let d = (first_wd + i) % 7;
            sum[d] += v;
            n[d] += 1;
        }
    }
    let means: Vec<f64> = (0..7).map(|d| if n[d] > 0 { sum[d] / f64::from(n[d]) } else { f64::NAN }).collect();
    let known: Vec<f64> = means.iter().copied().filter(|m| m.is_finite()).collect();
    let overall = if known.is_empty() { 0.0 } else { known.iter().sum::<f64>() / known.len() as f64 };
    let mut out = [1.0; 7];
    for d in 0..7 {
        let p = prior.map_or(1.0, |p| p[d]);
        out[d] = if overall > 0.0 && means[d].is_finite() {
            let own = EffectSums { actual: sum[d], baseline: overall * f64::from(n[d]), days: n[d] };
            if prior.is_some() { shrink(&own, p, strength) } else { means[d] / overall }
        } else {
            p
        };
    }
    let mean = out.iter().sum::<f64>() / 7.0;
    if mean > 0.0 {
        for v in &mut out {
            *v /= mean;
        }
    }
    out
}

/// Σ actual and Σ baseline on the days of each calendar feature over the last `window` days, the
/// baseline being the centred 4-week mean of the weekday-adjusted series times the weekday factor.
fn effect_sums(y: &[f64], start: NaiveDate, weekday: &[f64; 7], calendar: &Calendar, window: usize) -> Vec<EffectSums> {
    let mut sums = vec![EffectSums::default(); calendar.len()];
    if calendar.is_empty() || y.is_empty() {
        return sums;
    }
    let local = LocalLevel::new(y, start, weekday, |_| false);
    for (i, v) in y.iter().enumerate().skip(y.len().saturating_sub(window)) {
        let features = calendar.features(start + chrono::Days::new(i as u64));
        if features.is_empty() || !v.is_finite() {
            continue;
        }
        let Some(base) = local.base(i) else { continue };
        for f in features {
            let s = &mut sums[usize::from(*f)];
            s.actual += v;
            s.baseline += base;
            s.days += 1;
        }
    }
    sums
}

/// The expected sales of each day from its neighbourhood: the mean of the weekday-adjusted
/// values within two weeks (at least seven of them, `excluded` days left out), times the day's
/// weekday factor.
struct LocalLevel<'a> {
    sums: Vec<f64>,
    counts: Vec<u32>,
    weekday: &'a [f64; 7],
    first_wd: usize,
}

impl<'a> LocalLevel<'a> {
    fn new(y: &[f64], start: NaiveDate, weekday: &'a [f64; 7], excluded: impl Fn(usize) -> bool) -> Self {
        let first_wd = weekday_index(start);
        let mut sums = vec![0.0; y.len() + 1];
        let mut counts = vec![0u32; y.len() + 1];
        for (i, v) in y.iter().enumerate() {
            let w = weekday[(first_wd + i) % 7];
            let usable = v.is_finite() && w > 0.0 && !excluded(i);
            sums[i + 1] = sums[i] + if usable { v / w } else { 0.0 };
            counts[i + 1] = counts[i] + u32::from(usable);
        }
        Self { sums, counts, weekday, first_wd }
    }

    fn base(&self, i: usize) -> Option<f64> {
        let len = self.counts.len() - 1;
        let (lo, hi) = (i.saturating_sub(14), (i + 15).min(len));
        let n = self.counts[hi] - self.counts[lo];
        (n >= 7).then(|| (self.sums[hi] - self.sums[lo]) / f64::from(n) * self.weekday[(self.first_wd + i) % 7])
    }
}

/// Sums of a series' sales on its promotion days against its local level (the mean of the
/// weekday-adjusted non-promotion days within two weeks), over the last `window` days.
fn promo_sums(y: &[f64], start: NaiveDate, weekday: &[f64; 7], series: &DemandSeries, window: usize) -> EffectSums {
    let mut sums = EffectSums::default();
    if series.promotions.is_empty() || y.is_empty() {
        return sums;
    }
    let on: Vec<bool> = (0..y.len()).map(|i| series.on_promotion(start + chrono::Days::new(i as u64))).collect();
    if !on.iter().any(|p| *p) {
        return sums;
    }
    let local = LocalLevel::new(y, start, weekday, |i| on[i]);
    for (i, v) in y.iter().enumerate().skip(y.len().saturating_sub(window)) {
        if !on[i] || !v.is_finite() {
            continue;
        }
        let Some(base) = local.base(i) else { continue };
        sums.actual += v;
        sums.baseline += base;
        sums.days += 1;
    }
    sums
}

/// The history a model may learn from: from the first sale, censored and closed days and probable
/// stockout runs as `NaN`. Returns the start date too.
pub fn clean_history(
    series: &DemandSeries,
    closed: Option<&HashSet<NaiveDate>>,
    cfg: &AutoConfig,
) -> Option<(NaiveDate, Vec<f64>)> {
    let first_sale = series.values.iter().position(|v| *v > 0.0)?;
    let first = if cfg.trim_leading_zeros { first_sale } else { series.values.iter().position(|v| v.is_finite())? };
    let start = series.frequency.date_at(series.start, first)?;
    let mut y: Vec<f64> = series.values[first..]
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let censored = series.censored.get(first + i).copied().unwrap_or(false);
            let shut = closed.is_some_and(|c| c.contains(&(start + chrono::Days::new(i as u64))));
            if censored || shut || !v.is_finite() || *v < 0.0 { f64::NAN } else { *v }
        })
        .collect();
    mask_stockout_runs(&mut y, cfg);
    Some((start, y))
}

/// The zero-run length beyond which a run is a probable stockout for this history, if it has a
/// usable zero rate.
fn stockout_limit(y: &[f64], probability: f64, min_run: usize) -> Option<usize> {
    let finite = y.iter().filter(|v| v.is_finite()).count();
    let zeros = y.iter().filter(|v| **v == 0.0).count();
    if finite < 28 || zeros == finite {
        return None;
    }
    let p0 = (zeros as f64 / finite as f64).max(0.02);
    Some((probability.ln() / p0.ln()).ceil().max(min_run as f64) as usize)
}

/// A zero run this long is a product no longer sold, not a stockout: three times the stockout limit,
/// and at least a quarter (or a year of months).
fn inactive_after(limit: usize, daily: bool) -> usize {
    limit.saturating_mul(3).max(if daily { 90 } else { 12 })
}

/// The length of the zero run (gaps included) that ends the history.
fn trailing_zero_run(y: &[f64]) -> usize {
    y.iter().rev().take_while(|v| **v == 0.0 || v.is_nan()).count()
}

/// Turns inner zero runs too long for the item's zero rate into gaps. A run reaching the end is
/// left alone here: see [`AutoConfig::trailing_run_probability`].
fn mask_stockout_runs(y: &mut [f64], cfg: &AutoConfig) {
    let Some(limit) = stockout_limit(y, cfg.stockout_run_probability, cfg.stockout_min_run) else { return };
    let mut i = 0;
    while i < y.len() {
        if y[i] == 0.0 {
            let mut j = i;
            while j < y.len() && (y[j] == 0.0 || y[j].is_nan()) {
                j += 1;
            }
            if j - i >= limit && j < y.len() {
                for v in &mut y[i..j] {
                    *v = f64::NAN;
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
}

/// The Syntetos–Boylan class of a cleaned history.
pub fn classify(y: &[f64]) -> DemandClass {
    let finite: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
    let sizes: Vec<f64> = finite.iter().copied().filter(|v| *v > 0.0).collect();
    if finite.len() < 28 || sizes.len() < 3 {
        return DemandClass::New;
    }
    let adi = finite.len() as f64 / sizes.len() as f64;
    let mean = sizes.iter().sum::<f64>() / sizes.len() as f64;
    let var = sizes.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / sizes.len() as f64;
    let cv2 = var / (mean * mean);
    match (adi < 1.32, cv2 < 0.49) {
        (true, true) => DemandClass::Smooth,
        (true, false) => DemandClass::Erratic,
        (false, true) => DemandClass::Intermittent,
        (false, false) => DemandClass::Lumpy,
    }
}

/// The point forecasts and band of one daily series, `h` days after its last day.
pub fn forecast_daily(
    series: &DemandSeries,
    h: usize,
    calendar: &Calendar,
    store: Option<&StoreProfile>,
    cfg: &AutoConfig,
) -> Option<Forecast> {
    forecast_one(series, h, calendar, store, cfg).map(|d| d.forecast)
}

/// A forecast before the batch adjusts its level: what [`forecast_batch`](super::forecast_batch)
/// needs to re-level it.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    /// The forecast as this series alone would have it.
    pub forecast: Forecast,
    /// Σ forecast and Σ actual of its backtest, in adjusted units.
    pub totals: (f64, f64),
    /// The adjusted history (observed periods divided by weekday and calendar factors).
    pub adjusted: Vec<f64>,
    /// Expected units per unit of level, per forecast period.
    pub unit: Vec<f64>,
}

impl Draft {
    /// Sets the level: every point's mean becomes `level × unit`, its quantiles follow.
    pub fn relevel(&mut self, level: f64) {
        let size = self.forecast.dispersion_size;
        for (p, u) in self.forecast.points.iter_mut().zip(&self.unit) {
            p.mean = (level * u).max(0.0);
            p.p10 = nb_quantile(p.mean, size, 0.1);
            p.p50 = nb_quantile(p.mean, size, 0.5);
            p.p90 = nb_quantile(p.mean, size, 0.9);
        }
    }

    /// The level the forecast was made with.
    pub fn level(&self) -> f64 {
        self.forecast.points.iter().zip(&self.unit).find(|(_, u)| **u > 0.0).map_or(0.0, |(p, u)| p.mean / u)
    }
}

/// [`forecast_daily`], as a [`Draft`] the batch can re-level.
pub(crate) fn forecast_one(
    series: &DemandSeries,
    h: usize,
    calendar: &Calendar,
    store: Option<&StoreProfile>,
    cfg: &AutoConfig,
) -> Option<Draft> {
    let origin = series.end()?;
    let Some((start, y)) = clean_history(series, store.map(|s| &s.closed), cfg) else {
        return Some(Draft::flat(flat_forecast(series, origin, h, 0.0, DemandClass::New)));
    };
    // A stockout in progress: learn from the history before it, and scale the forecast by the
    // chance that the item comes back.
    // A run far longer than any stockout (three times the limit, and a quarter or a year at least)
    // is a product no longer sold there: it forecasts zero.
    let mut resume = 1.0;
    let mut inactive = false;
    let mut y = y;
    let run = trailing_zero_run(&y);
    if run > 0
        && run < y.len()
        && let Some(limit) = stockout_limit(
            &y[..y.len() - run],
            cfg.trailing_run_probability,
            cfg.trailing_min_run(series.frequency == Frequency::Daily),
        )
        && run >= limit
    {
        let n = y.len();
        for v in &mut y[n - run..] {
            *v = f64::NAN;
        }
        inactive = run >= inactive_after(limit, series.frequency == Frequency::Daily);
        resume = if inactive { 0.0 } else { cfg.resume_factor.or(store.map(|s| s.resume_ratio)).unwrap_or(1.0) };
    }
    let class = classify(&y);
    let first_wd = weekday_index(start);
    let prior_weekday = store.map_or([1.0; 7], |s| s.weekday);
    let daily = series.frequency == Frequency::Daily;
    let weekday = if daily {
        weekday_profile(&y, start, cfg.profile_window, Some(&prior_weekday), cfg.weekday_strength)
    } else {
        [1.0; 7]
    };
    let calendar = if daily { calendar } else { &Calendar::default() };
    let freq = series.frequency;
    let own = effect_sums(&y, start, &weekday, calendar, cfg.profile_window.max(3 * 364));
    let lifts: Vec<f64> = (0..calendar.len())
        .map(|f| {
            let prior = store.and_then(|s| s.lifts.get(f).copied()).unwrap_or(1.0);
            let l = shrink(&own[f], prior, cfg.effect_strength);
            if (l - 1.0).abs() < cfg.min_effect { 1.0 } else { l.clamp(0.2, 5.0) }
        })
        .collect();
    // Promotions of this item: its own lift, shrunk towards the store's pooled one.
    let promo_lift = if series.promotions.is_empty() {
        1.0
    } else {
        let own = promo_sums(&y, start, &weekday, series, cfg.profile_window.max(3 * 364));
        shrink(&own, store.map_or(1.0, |s| s.promo_lift), cfg.effect_strength).clamp(0.5, 5.0)
    };
    let factor = |i: usize, day: NaiveDate| -> f64 {
        let mut f = weekday[(first_wd + i) % 7];
        for feat in calendar.features(day) {
            f *= lifts.get(usize::from(*feat)).copied().unwrap_or(1.0);
        }
        if promo_lift != 1.0 && series.on_promotion(day) {
            f *= promo_lift;
        }
        f
    };
    // Deseasonalised observed history.
    let mut z = Vec::with_capacity(y.len());
    let mut factors = Vec::with_capacity(y.len());
    for (i, v) in y.iter().enumerate() {
        let f = freq.date_at(start, i).map_or(1.0, |d| factor(i, d));
        factors.push(f);
        if v.is_finite() && f > 0.0 {
            z.push(v / f);
        }
    }
    if z.is_empty() {
        return Some(Draft::flat(flat_forecast(series, origin, h, 0.0, class)));
    }
    let (_, alpha) = best_alpha(&z);
    let candidates: &[LevelMethod] = if daily { &cfg.daily_levels } else { &cfg.periodic_levels };
    let choice = choose_level(&z, h, candidates, cfg.backtest_origins);
    let level = choice.level.max(0.0);
    let store_seasonal = store
        .filter(|_| daily)
        .and_then(|s| s.seasonal_ratio(origin + chrono::Days::new(1), h, cfg.seasonal_recent))
        .map_or(1.0, |r| r.clamp(0.5, 2.0));
    // The item's own year-over-year ratio, shrunk towards the store's.
    let own_seasonal = if daily { own_seasonal_sums(&y, h, cfg.seasonal_recent) } else { EffectSums::default() };
    let seasonal_ratio = shrink(&own_seasonal, store_seasonal, cfg.seasonal_strength).clamp(0.5, 2.0);
    let seasonal = 1.0 + cfg.seasonal_weight * (seasonal_ratio - 1.0);

    // Dispersion from one-step errors over the profile window.
    let size = one_step_size(&y, &factors, alpha, cfg);
    // What the backtest's horizon totals missed by beyond that day-to-day noise is an error of the
    // level shared by every day of the horizon: it widens totals, not days.
    let expected_total = level * h as f64;
    let noise_rel = if expected_total > 0.0 {
        1.0 / expected_total + if size.is_finite() { 1.0 / (h as f64 * size) } else { 0.0 }
    } else {
        0.0
    };
    let level_uncertainty = (choice.total_rel_sq - noise_rel).clamp(0.0, 1.0);
    let n = y.len();
    let mut unit = Vec::with_capacity(h);
    let points: Vec<ForecastPoint> = (0..h)
        .filter_map(|k| {
            let day = freq.date_at(origin, k + 1)?;
            let trend = store.and_then(|s| s.trend).map_or(1.0, |t| 1.0 + cfg.trend_weight * (t.ratio(k + 1) - 1.0));
            let u = (factor(n + k, day) * seasonal * resume * trend).max(0.0);
            unit.push(u);
            let mean = level * u;
            Some(ForecastPoint {
                date: day,
                mean,
                p10: nb_quantile(mean, size, 0.1),
                p50: nb_quantile(mean, size, 0.5),
                p90: nb_quantile(mean, size, 0.9),
            })
        })
        .collect();
    // The effects that shape this forecast: calendar features of the coming periods, and the weekdays.
    let coming: HashSet<Feature> =
        points.iter().flat_map(|p: &ForecastPoint| calendar.features(p.date).iter().copied()).collect();
    let mut effects: Vec<Effect> = (0..calendar.len())
        .filter(|f| coming.contains(&(*f as Feature)) && (lifts[*f] - 1.0).abs() >= cfg.min_effect)
        .map(|f| Effect {
            key: calendar.key(f as Feature).to_owned(),
            label_es: calendar.label(f as Feature).to_owned(),
            lift: lifts[f],
        })
        .collect();
    // The season (how the store's total moved in these weeks of past years) and the store's trend.
    if (seasonal - 1.0).abs() >= cfg.min_effect {
        let december = points.iter().any(|p| p.date.month() == 12);
        let label = if december { "la temporada de diciembre" } else { "la temporada (años anteriores)" };
        effects.push(Effect { key: "season".to_owned(), label_es: label.to_owned(), lift: seasonal });
    }
    if promo_lift != 1.0 && points.iter().any(|p| series.on_promotion(p.date)) {
        effects.push(Effect { key: "promotion".to_owned(), label_es: "la promoción".to_owned(), lift: promo_lift });
    }
    if let Some(t) = store.and_then(|s| s.trend) {
        let mid = 1.0 + cfg.trend_weight * (t.ratio(h.div_ceil(2)) - 1.0);
        if (mid - 1.0).abs() >= cfg.min_effect {
            effects.push(Effect {
                key: "trend".to_owned(),
                label_es: "la tendencia reciente de la tienda".to_owned(),
                lift: mid,
            });
        }
    }
    const DAYS_ES: [&str; 7] =
        ["los lunes", "los martes", "los miércoles", "los jueves", "los viernes", "los sábados", "los domingos"];
    for (d, w) in weekday.iter().enumerate() {
        if (w - 1.0).abs() >= 0.1 {
            effects.push(Effect { key: format!("weekday:{d}"), label_es: DAYS_ES[d].to_owned(), lift: *w });
        }
    }
    let forecast = Forecast {
        series: series.id.clone(),
        origin,
        frequency: series.frequency,
        model: if inactive { "fluxion[inactive]".to_owned() } else { choice.name.clone() },
        class,
        backtest: choice.rmsse_scale.zip(choice.sse).map(|(scale, _)| BacktestError {
            rmsse: choice.rmsse(scale),
            typical_error_pct: choice.typical_error_pct,
            origins: choice.origins,
        }),
        effects,
        points,
        dispersion_size: size,
        level_uncertainty,
    };
    Some(Draft { forecast, totals: choice.totals, adjusted: z, unit })
}

impl Draft {
    fn flat(forecast: Forecast) -> Draft {
        let unit = vec![0.0; forecast.points.len()];
        Draft { forecast, totals: (0.0, 0.0), adjusted: Vec::new(), unit }
    }
}

/// A way to estimate the level of an adjusted history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LevelMethod {
    /// TSB with both constants equal to this.
    Tsb(f64),
    /// IMAPA.
    Imapa,
    /// ADIDA.
    Adida,
    /// SES, alpha optimised.
    Ses,
    /// Mean of the last this many observations.
    Mean(usize),
}

impl std::str::FromStr for LevelMethod {
    type Err = String;
    /// `tsb(0.05)`, `imapa`, `adida`, `ses`, `mean(56)`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let arg =
            |prefix: &str| s.strip_prefix(prefix).and_then(|r| r.strip_prefix('(')).and_then(|r| r.strip_suffix(')'));
        match s {
            "imapa" => Ok(LevelMethod::Imapa),
            "adida" => Ok(LevelMethod::Adida),
            "ses" => Ok(LevelMethod::Ses),
            _ => {
                if let Some(a) = arg("tsb").and_then(|a| a.parse::<f64>().ok()).filter(|a| *a > 0.0 && *a < 1.0) {
                    Ok(LevelMethod::Tsb(a))
                } else if let Some(k) = arg("mean").and_then(|k| k.parse::<usize>().ok()).filter(|k| *k > 0) {
                    Ok(LevelMethod::Mean(k))
                } else {
                    Err(format!("unknown level method {s:?}: use tsb(a), imapa, adida, ses or mean(n)"))
                }
            }
        }
    }
}

impl LevelMethod {
    /// The stable name.
    pub fn name(&self) -> String {
        match self {
            LevelMethod::Tsb(a) => format!("tsb({a})"),
            LevelMethod::Imapa => "imapa".to_owned(),
            LevelMethod::Adida => "adida".to_owned(),
            LevelMethod::Ses => "ses".to_owned(),
            LevelMethod::Mean(k) => format!("mean({k})"),
        }
    }

    /// The level of `z`.
    pub fn level(&self, z: &[f64]) -> f64 {
        match self {
            LevelMethod::Tsb(a) => tsb(z, *a, *a),
            LevelMethod::Imapa => imapa(z),
            LevelMethod::Adida => super::intermittent::adida(z),
            LevelMethod::Ses => best_alpha(z).0,
            LevelMethod::Mean(k) => {
                let k = (*k).min(z.len()).max(1);
                z.iter().rev().take(k).sum::<f64>() / k as f64
            }
        }
    }
}

/// Level candidates for daily series.
pub const DAILY_LEVELS: [LevelMethod; 4] =
    [LevelMethod::Tsb(0.05), LevelMethod::Tsb(0.1), LevelMethod::Imapa, LevelMethod::Mean(56)];
/// Level candidates for monthly series.
pub const PERIODIC_LEVELS: [LevelMethod; 4] =
    [LevelMethod::Imapa, LevelMethod::Adida, LevelMethod::Ses, LevelMethod::Mean(12)];

/// The level chosen by backtest.
#[derive(Debug, Clone)]
struct LevelChoice {
    name: String,
    level: f64,
    sse: Option<f64>,
    count: usize,
    origins: usize,
    rmsse_scale: Option<f64>,
    typical_error_pct: f64,
    /// Σ forecast and Σ actual of the combination over the backtest windows.
    totals: (f64, f64),
    /// Mean squared relative error of a window's total, `(F − A)/F`, over the backtest windows.
    total_rel_sq: f64,
}

impl LevelChoice {
    fn rmsse(&self, scale: f64) -> f64 {
        match self.sse {
            Some(sse) if self.count > 0 && scale > 0.0 => (sse / self.count as f64 / scale).sqrt(),
            _ => f64::NAN,
        }
    }
}

/// Backtests every candidate on the last `origins` windows of `h` observations of `z`, and combines
/// them weighted by the inverse of their squared error (the plain mean without a backtest).
fn choose_level(z: &[f64], h: usize, candidates: &[LevelMethod], origins: usize) -> LevelChoice {
    let h = h.max(1);
    let usable = (1..=origins).take_while(|o| z.len() >= (o + 2) * h).count();
    let mut sse = vec![0.0; candidates.len()];
    let mut totals = vec![(0.0, 0.0); candidates.len()];
    // Per origin: each candidate's forecast total, and the actual total.
    let mut windows: Vec<(Vec<f64>, f64)> = Vec::with_capacity(usable);
    let mut count = 0;
    for o in 1..=usable {
        let cut = z.len() - o * h;
        let actual = &z[cut..cut + h];
        let actual_total = actual.iter().sum::<f64>();
        count += h;
        let mut forecast_totals = Vec::with_capacity(candidates.len());
        for (c, m) in candidates.iter().enumerate() {
            let l = m.level(&z[..cut]);
            sse[c] += actual.iter().map(|a| (a - l) * (a - l)).sum::<f64>();
            totals[c].0 += l * h as f64;
            totals[c].1 += actual_total;
            forecast_totals.push(l * h as f64);
        }
        windows.push((forecast_totals, actual_total));
    }
    let levels: Vec<f64> = candidates.iter().map(|m| m.level(z)).collect();
    let scale = {
        let d: Vec<f64> = z.windows(2).map(|w| (w[1] - w[0]) * (w[1] - w[0])).collect();
        (!d.is_empty()).then(|| d.iter().sum::<f64>() / d.len() as f64).filter(|s| *s > 0.0)
    };
    if usable == 0 {
        let level = levels.iter().sum::<f64>() / levels.len().max(1) as f64;
        return LevelChoice {
            name: "fluxion[combination]".to_owned(),
            level,
            sse: None,
            count: 0,
            origins: 0,
            rmsse_scale: scale,
            typical_error_pct: f64::NAN,
            totals: (0.0, 0.0),
            total_rel_sq: 0.0,
        };
    }
    // Inverse-error weights: measured on M5 FOODS_3 and car parts, they beat both picking the best
    // candidate and the plain mean.
    let weights: Vec<f64> = sse.iter().map(|e| 1.0 / (e + 1e-9)).collect();
    let wsum: f64 = weights.iter().sum();
    let level = levels.iter().zip(&weights).map(|(l, w)| l * w).sum::<f64>() / wsum;
    let combined_sse = sse.iter().zip(&weights).map(|(e, w)| e * w).sum::<f64>() / wsum;
    let (f, a) =
        totals.iter().zip(&weights).fold((0.0, 0.0), |acc, (t, w)| (acc.0 + t.0 * w / wsum, acc.1 + t.1 * w / wsum));
    let top = weights.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
    // The typical error of a horizon's total: mean absolute percentage error over the windows.
    let errors: Vec<f64> = windows
        .iter()
        .filter(|(_, actual)| *actual > 0.0)
        .map(|(forecasts, actual)| {
            let f: f64 = forecasts.iter().zip(&weights).map(|(f, w)| f * w).sum::<f64>() / wsum;
            100.0 * (f - actual).abs() / actual
        })
        .collect();
    let typical_error_pct = if errors.is_empty() { f64::NAN } else { errors.iter().sum::<f64>() / errors.len() as f64 };
    let rel: Vec<f64> = windows
        .iter()
        .filter_map(|(forecasts, actual)| {
            let f: f64 = forecasts.iter().zip(&weights).map(|(f, w)| f * w).sum::<f64>() / wsum;
            (f > 0.0).then(|| ((f - actual) / f).powi(2))
        })
        .collect();
    let total_rel_sq = if rel.is_empty() { 0.0 } else { rel.iter().sum::<f64>() / rel.len() as f64 };
    LevelChoice {
        name: format!("fluxion[{}]", candidates[top].name()),
        level,
        sse: Some(combined_sse),
        count,
        origins: usable,
        rmsse_scale: scale,
        typical_error_pct,
        totals: (f, a),
        total_rel_sq,
    }
}

/// Units over the forecast window one and two years (52 and 104 weeks) back, against the units of
/// the `recent` days before it in the same years, scaled to the same length.
fn own_seasonal_sums(y: &[f64], h: usize, recent: usize) -> EffectSums {
    let mut sums = EffectSums::default();
    let n = y.len();
    for back in [364usize, 728] {
        // Window [n − back, n − back + h) and the `recent` days before it.
        let Some(from) = n.checked_sub(back) else { continue };
        let Some(before) = from.checked_sub(recent) else { continue };
        let target: Vec<f64> = y[from..(from + h).min(n)].iter().copied().filter(|v| v.is_finite()).collect();
        let base: Vec<f64> = y[before..from].iter().copied().filter(|v| v.is_finite()).collect();
        if target.len() * 2 < h || base.len() * 2 < recent {
            continue;
        }
        sums.actual += target.iter().sum::<f64>() / target.len() as f64;
        sums.baseline += base.iter().sum::<f64>() / base.len() as f64;
        sums.days += 1;
    }
    // Express the evidence in units over the window, as the shrinkage strength is.
    sums.actual *= h as f64;
    sums.baseline *= h as f64;
    sums
}

/// The negative-binomial size that fits the one-step errors of SES on the adjusted history.
fn one_step_size(y: &[f64], factors: &[f64], alpha: f64, cfg: &AutoConfig) -> f64 {
    let mut level = None::<f64>;
    let from = y.len().saturating_sub(cfg.profile_window);
    let (mut sq, mut mean_sum, mut mean_sq) = (0.0, 0.0, 0.0);
    for (i, (v, f)) in y.iter().zip(factors).enumerate() {
        if !v.is_finite() || *f <= 0.0 {
            continue;
        }
        let z = v / f;
        if let Some(l) = level {
            if i >= from {
                let mu = l * f;
                sq += (v - mu) * (v - mu);
                mean_sum += mu;
                mean_sq += mu * mu;
            }
            level = Some(l + alpha * (z - l));
        } else {
            level = Some(z);
        }
    }
    let extra = (sq - mean_sum) * cfg.dispersion_scale;
    if mean_sq > 0.0 && extra > 0.0 { mean_sq / extra } else { f64::INFINITY }
}

/// A forecast of `value` every day (new products, nothing to learn from).
fn flat_forecast(series: &DemandSeries, origin: NaiveDate, h: usize, value: f64, class: DemandClass) -> Forecast {
    let points = (0..h)
        .filter_map(|k| {
            let date = series.frequency.date_at(origin, k + 1)?;
            Some(ForecastPoint { date, mean: value, p10: 0.0, p50: value, p90: value })
        })
        .collect();
    Forecast {
        series: series.id.clone(),
        origin,
        frequency: series.frequency,
        model: "flat".to_owned(),
        class,
        backtest: None,
        effects: Vec::new(),
        points,
        dispersion_size: f64::INFINITY,
        level_uncertainty: 0.0,
    }
}
