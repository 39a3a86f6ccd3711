//! The single models, by name: what `fluxion forecast eval` compares, and what the automatic
//! forecaster is measured against.

use super::intermittent::{CrostonVariant, adida, croston, imapa, ses_optimized, tsb};
use augurs::ets::AutoETS;
use augurs::forecaster::transforms::LinearInterpolator;
use augurs::forecaster::{Forecaster, Transformer};
use augurs::mstl::MSTLModel;
use augurs::prelude::*;
use std::fmt;
use std::str::FromStr;

/// A single forecasting model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// The last value.
    Naive,
    /// The value one season ago.
    SeasonalNaive,
    /// Simple exponential smoothing, alpha optimised.
    Ses,
    /// Croston with optimised constants.
    Croston,
    /// Syntetos–Boylan approximation.
    Sba,
    /// Teunter–Syntetos–Babai, constants 0.1.
    Tsb,
    /// Aggregate–disaggregate at the mean demand interval.
    Adida,
    /// Multiple aggregation levels averaged.
    Imapa,
    /// augurs AutoETS (non-seasonal: augurs 0.10 has no seasonal ETS).
    Ets,
    /// augurs MSTL (weekly or yearly season) with an AutoETS trend, gaps interpolated.
    Mstl,
}

impl Model {
    /// Every model.
    pub const ALL: [Model; 10] = [
        Model::Naive,
        Model::SeasonalNaive,
        Model::Ses,
        Model::Croston,
        Model::Sba,
        Model::Tsb,
        Model::Adida,
        Model::Imapa,
        Model::Ets,
        Model::Mstl,
    ];

    /// The fast models (microseconds per series): all but augurs' ETS and MSTL.
    pub fn fast() -> Vec<Model> {
        Model::ALL.into_iter().filter(|m| !matches!(m, Model::Ets | Model::Mstl)).collect()
    }

    /// The stable name.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Naive => "naive",
            Model::SeasonalNaive => "seasonal_naive",
            Model::Ses => "ses",
            Model::Croston => "croston",
            Model::Sba => "sba",
            Model::Tsb => "tsb",
            Model::Adida => "adida",
            Model::Imapa => "imapa",
            Model::Ets => "ets",
            Model::Mstl => "mstl",
        }
    }

    /// Point forecasts of the `h` periods after `y`, never negative. `y` may hold `NaN` gaps;
    /// `season` is the seasonal period. An empty history forecasts zeros.
    pub fn forecast(&self, y: &[f64], season: usize, h: usize) -> Vec<f64> {
        let observed: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
        if observed.is_empty() {
            return vec![0.0; h];
        }
        let flat = |v: f64| vec![v.max(0.0); h];
        let out = match self {
            Model::Naive => flat(*observed.last().unwrap_or(&0.0)),
            Model::SeasonalNaive => seasonal_naive(y, season, h),
            Model::Ses => flat(ses_optimized(&observed)),
            Model::Croston => flat(croston(&observed, CrostonVariant::Optimized)),
            Model::Sba => flat(croston(&observed, CrostonVariant::Sba)),
            Model::Tsb => flat(tsb(&observed, 0.1, 0.1)),
            Model::Adida => flat(adida(&observed)),
            Model::Imapa => flat(imapa(&observed)),
            Model::Ets => ets(&observed, h).unwrap_or_else(|| flat(ses_optimized(&observed))),
            Model::Mstl => mstl(y, season, h).unwrap_or_else(|| flat(ses_optimized(&observed))),
        };
        out.into_iter().map(|v| if v.is_finite() { v.max(0.0) } else { 0.0 }).collect()
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Model::ALL.into_iter().find(|m| m.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Model::ALL.iter().map(Model::name).collect();
            format!("unknown model {s:?}: the models are {}", names.join(", "))
        })
    }
}

/// The last full season repeated; gaps fall back to the mean of the observed values.
fn seasonal_naive(y: &[f64], season: usize, h: usize) -> Vec<f64> {
    let season = season.max(1);
    let observed: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
    let mean = observed.iter().sum::<f64>() / observed.len().max(1) as f64;
    if y.len() < season {
        return vec![mean; h];
    }
    let last = &y[y.len() - season..];
    (0..h).map(|k| last[k % season]).map(|v| if v.is_finite() { v } else { mean }).collect()
}

fn ets(y: &[f64], h: usize) -> Option<Vec<f64>> {
    let fit = AutoETS::non_seasonal().fit(y).ok()?;
    Some(fit.predict(h, None).ok()?.point)
}

fn mstl(y: &[f64], season: usize, h: usize) -> Option<Vec<f64>> {
    if y.len() < 2 * season + 1 {
        return None;
    }
    let model = MSTLModel::new(vec![season], AutoETS::non_seasonal().into_trend_model());
    let mut f = Forecaster::new(model).with_transformers(vec![LinearInterpolator::new().boxed()]);
    f.fit(y).ok()?;
    Some(f.predict(h, None).ok()?.point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_is_finite_and_non_negative_on_hard_input() {
        let inputs: [&[f64]; 5] =
            [&[], &[0.0; 40], &[3.0], &[f64::NAN, 1.0, f64::NAN, 0.0, 2.0], &[1.0, -5.0, 2.0, 0.0, 1e9, 0.0, 0.0, 3.0]];
        for model in Model::ALL {
            for y in inputs {
                let f = model.forecast(y, 7, 5);
                assert_eq!(f.len(), 5, "{model}");
                assert!(f.iter().all(|v| v.is_finite() && *v >= 0.0), "{model} on {y:?}: {f:?}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for model in Model::ALL {
            assert_eq!(model.name().parse::<Model>(), Ok(model));
        }
        assert!("prophet".parse::<Model>().is_err());
    }
}
