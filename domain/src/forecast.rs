//! Demand series and the forecasts built on them.
//!
//! A [`DemandSeries`] is what a forecaster reads: one value per period (day or month) from a start
//! date, with censored periods (out of stock, store closed, not yet listed) marked so that they are
//! never learned as zero demand. A [`Forecast`] is what it writes: per-period quantiles, the model
//! that was chosen with its backtest error, and the calendar effects it applied — everything an
//! answer needs to say "modelo X, error típico ±Y%, la quincena sube la venta un 35%".

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long one period of a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// One value per day.
    Daily,
    /// One value per calendar month (dated on its first day).
    Monthly,
}

impl Frequency {
    /// The natural seasonal period: a week of days, a year of months.
    pub fn season(&self) -> usize {
        match self {
            Frequency::Daily => 7,
            Frequency::Monthly => 12,
        }
    }

    /// Whole periods from `from` to `to`; `None` when `to` comes first.
    pub fn periods_between(&self, from: NaiveDate, to: NaiveDate) -> Option<usize> {
        let n = match self {
            Frequency::Daily => (to - from).num_days(),
            Frequency::Monthly => {
                i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month())
            }
        };
        usize::try_from(n).ok()
    }

    /// The date of period `index` of a series starting at `start`.
    pub fn date_at(&self, start: NaiveDate, index: usize) -> Option<NaiveDate> {
        match self {
            Frequency::Daily => start.checked_add_days(chrono::Days::new(index as u64)),
            Frequency::Monthly => start.with_day(1)?.checked_add_months(Months::new(u32::try_from(index).ok()?)),
        }
    }
}

/// One product's demand at one location, one value per period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandSeries {
    /// A stable id (`store:product` for tenant data, the file's id for benchmark files).
    pub id: String,
    /// The location code (or the file's store column).
    pub store: String,
    /// The product code (or the file's item column).
    pub product: String,
    /// The product's category, when known: a new product borrows its level from its category.
    #[serde(default)]
    pub category: Option<String>,
    /// The date of the first value.
    pub start: NaiveDate,
    /// Days or months.
    pub frequency: Frequency,
    /// Units per period. `NaN` is a missing period.
    pub values: Vec<f64>,
    /// Periods whose value is not demand (out of stock, store closed): the same length as `values`.
    pub censored: Vec<bool>,
    /// Promotions of this product at this store, `(first, last)` inclusive, past and planned.
    #[serde(default)]
    pub promotions: Vec<(NaiveDate, NaiveDate)>,
}

impl DemandSeries {
    /// A series with nothing censored.
    pub fn new(
        id: impl Into<String>,
        store: impl Into<String>,
        product: impl Into<String>,
        start: NaiveDate,
        frequency: Frequency,
        values: Vec<f64>,
    ) -> Self {
        let censored = vec![false; values.len()];
        DemandSeries {
            id: id.into(),
            store: store.into(),
            product: product.into(),
            category: None,
            start,
            frequency,
            values,
            censored,
            promotions: Vec::new(),
        }
    }

    /// Number of periods.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the series holds no period.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The date of the last period.
    pub fn end(&self) -> Option<NaiveDate> {
        self.len().checked_sub(1).and_then(|i| self.frequency.date_at(self.start, i))
    }

    /// Whether `day` falls in one of its promotions.
    pub fn on_promotion(&self, day: NaiveDate) -> bool {
        self.promotions.iter().any(|(a, b)| (*a..=*b).contains(&day))
    }

    /// The first `n` periods (all of them when `n` is larger); promotions, planned ones included, stay.
    pub fn truncated(&self, n: usize) -> DemandSeries {
        let n = n.min(self.len());
        DemandSeries {
            values: self.values[..n].to_vec(),
            censored: self.censored.get(..n).map(<[bool]>::to_vec).unwrap_or_else(|| vec![false; n]),
            ..self.clone()
        }
    }
}

/// The Syntetos–Boylan demand pattern of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemandClass {
    /// Sells most periods, steady sizes (ADI < 1.32, CV² < 0.49).
    Smooth,
    /// Sells most periods, sizes vary a lot.
    Erratic,
    /// Many zero periods, steady sizes.
    Intermittent,
    /// Many zero periods, sizes vary a lot.
    Lumpy,
    /// Too little history to tell (new product).
    New,
}

impl DemandClass {
    /// The stable English name.
    pub fn as_str(&self) -> &'static str {
        match self {
            DemandClass::Smooth => "smooth",
            DemandClass::Erratic => "erratic",
            DemandClass::Intermittent => "intermittent",
            DemandClass::Lumpy => "lumpy",
            DemandClass::New => "new",
        }
    }

    /// The Spanish name a store manager reads.
    pub fn label_es(&self) -> &'static str {
        match self {
            DemandClass::Smooth => "venta regular",
            DemandClass::Erratic => "venta irregular",
            DemandClass::Intermittent => "venta intermitente",
            DemandClass::Lumpy => "venta esporádica",
            DemandClass::New => "producto nuevo",
        }
    }
}

impl fmt::Display for DemandClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A calendar effect a forecast applied, as a multiplier of the usual demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// A stable key (`payday`, `month_end`, `december`, `holiday`, `weekday:6`, …).
    pub key: String,
    /// What a store manager reads ("la quincena", "los sábados", "diciembre").
    pub label_es: String,
    /// Demand on such days is `lift` times the usual (1.35 = +35%).
    pub lift: f64,
}

/// Forecast of one period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// The day (or the first day of the month).
    pub date: NaiveDate,
    /// Expected units.
    pub mean: f64,
    /// 10% of outcomes fall below this.
    pub p10: f64,
    /// The median.
    pub p50: f64,
    /// 90% of outcomes fall below this.
    pub p90: f64,
}

/// Total demand over several periods (a horizon, a lead time).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TotalDemand {
    /// Periods summed.
    pub periods: usize,
    /// Expected units.
    pub mean: f64,
    /// Standard deviation of the total.
    pub std_dev: f64,
    /// Quantiles of the total.
    pub p10: f64,
    /// The median total.
    pub p50: f64,
    /// 90% of outcomes fall below this.
    pub p90: f64,
}

/// How well the chosen model did on the series' own recent history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BacktestError {
    /// Root mean squared scaled error (M5 scaling); NaN when it could not be measured.
    #[serde(serialize_with = "non_finite::serialize", deserialize_with = "non_finite::nan")]
    pub rmsse: f64,
    /// Typical error of the total over a horizon, as a percentage of that total ("±Y%"); NaN when
    /// the backtest saw no demand.
    #[serde(serialize_with = "non_finite::serialize", deserialize_with = "non_finite::nan")]
    pub typical_error_pct: f64,
    /// Rolling origins used.
    pub origins: usize,
}

/// Serde for numbers that may be infinite or NaN: written as `null`, read back as the default the
/// field's doc names (JSON has no infinity).
mod non_finite {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() { s.serialize_some(v) } else { s.serialize_none() }
    }

    pub fn infinity<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
    }

    pub fn nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// A demand forecast for one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The series id.
    pub series: String,
    /// The last period of history the forecast was made from.
    pub origin: NaiveDate,
    /// Days or months.
    pub frequency: Frequency,
    /// The model (or combination) chosen, as a stable name.
    pub model: String,
    /// The demand pattern.
    pub class: DemandClass,
    /// Backtest error of the chosen model on this series.
    pub backtest: Option<BacktestError>,
    /// Calendar effects applied.
    pub effects: Vec<Effect>,
    /// One point per future period.
    pub points: Vec<ForecastPoint>,
    /// Negative-binomial dispersion of one period's demand around its mean: variance = mean + mean²/size.
    /// `f64::INFINITY` (`null` in JSON) means Poisson.
    #[serde(serialize_with = "non_finite::serialize", deserialize_with = "non_finite::infinity")]
    pub dispersion_size: f64,
    /// Extra variance of a sum from a shared error in the level (as a fraction of the squared total mean).
    pub level_uncertainty: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forecast_round_trips_through_json_with_non_finite_numbers() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid");
        let f = Forecast {
            series: "S1:P1".into(),
            origin: day,
            frequency: Frequency::Daily,
            model: "fluxion".into(),
            class: DemandClass::Smooth,
            backtest: Some(BacktestError { rmsse: 0.7, typical_error_pct: f64::NAN, origins: 3 }),
            effects: vec![Effect { key: "payday:Quincena".into(), label_es: "la quincena".into(), lift: 1.3 }],
            points: vec![ForecastPoint { date: day, mean: 2.0, p10: 0.5, p50: 1.8, p90: 3.9 }],
            dispersion_size: f64::INFINITY,
            level_uncertainty: 0.0,
        };
        let json = serde_json::to_string(&f).expect("serialize");
        let back: Forecast = serde_json::from_str(&json).expect("deserialize");
        assert!(back.dispersion_size.is_infinite());
        assert!(back.backtest.expect("backtest").typical_error_pct.is_nan());
        assert_eq!(back.points, f.points);
        assert_eq!(back.effects, f.effects);
    }

    #[test]
    fn periods_and_dates() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 30).expect("valid");
        assert_eq!(Frequency::Monthly.date_at(day, 1), NaiveDate::from_ymd_opt(2026, 2, 1));
        assert_eq!(Frequency::Daily.date_at(day, 2), NaiveDate::from_ymd_opt(2026, 2, 1));
        let later = NaiveDate::from_ymd_opt(2027, 3, 1).expect("valid");
        assert_eq!(Frequency::Monthly.periods_between(day, later), Some(14));
        assert_eq!(Frequency::Daily.periods_between(day, day), Some(0));
        assert_eq!(Frequency::Daily.periods_between(later, day), None);
        let s = DemandSeries::new("a", "S", "P", day, Frequency::Daily, vec![0.0, 0.0, 3.0, 1.0]);
        assert_eq!(s.end(), NaiveDate::from_ymd_opt(2026, 2, 2));
        assert_eq!(s.truncated(2).values, vec![0.0, 0.0]);
    }
}
