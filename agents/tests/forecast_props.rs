//! Degenerate input never makes the forecaster panic: all zeros, one point, NaN, negative returns,
//! gaps, huge values, censored everything. Whatever comes in, what comes out is finite,
//! non-negative, as long as asked, with ordered quantiles.

use chrono::NaiveDate;
use fluxion_agents::forecast::distribution::total_demand;
use fluxion_agents::forecast::tenant::tenant_calendar;
use fluxion_agents::forecast::{AutoConfig, Calendar, Model, forecast_batch};
use fluxion_domain::forecast::{DemandSeries, Frequency};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => Just(0.0),
        6 => 0.0..50.0f64,
        1 => Just(f64::NAN),
        1 => -20.0..0.0f64,
        1 => Just(f64::INFINITY),
        1 => 1e6..1e9f64,
    ]
}

fn series() -> impl Strategy<Value = DemandSeries> {
    (prop::collection::vec((value(), any::<bool>()), 0..420), any::<bool>(), 0u32..3).prop_map(
        |(cells, monthly, store)| {
            let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
            let frequency = if monthly { Frequency::Monthly } else { Frequency::Daily };
            let values: Vec<f64> = cells.iter().map(|(v, _)| *v).collect();
            let mut s = DemandSeries::new("s", format!("S{store}"), "p", start, frequency, values);
            s.censored = cells.iter().map(|(_, c)| *c && cells.len() % 3 == 0).collect();
            s
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_batch_gives_sane_forecasts(batch in prop::collection::vec(series(), 1..12), h in 1usize..40) {
        let batch: Vec<DemandSeries> = batch
            .into_iter()
            .enumerate()
            .map(|(i, s)| DemandSeries { id: format!("s{i}"), product: format!("p{i}"), ..s })
            .collect();
        let day = |y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or_default();
        let calendar = tenant_calendar(&[], day(2023), day(2027));
        let out = forecast_batch(&batch, h, &calendar, &AutoConfig::default());
        prop_assert_eq!(out.forecasts.len(), batch.len());
        for (s, f) in batch.iter().zip(&out.forecasts) {
            match f {
                None => prop_assert!(s.is_empty()),
                Some(f) => {
                    prop_assert_eq!(f.points.len(), h);
                    for p in &f.points {
                        prop_assert!(p.mean.is_finite() && p.mean >= 0.0, "{:?}", p);
                        prop_assert!(p.p10 >= 0.0 && p.p10 <= p.p50 + 1e-9 && p.p50 <= p.p90 + 1e-9, "{:?}", p);
                        prop_assert!(p.p90.is_finite());
                    }
                    let t = total_demand(f, 0, h);
                    prop_assert!(t.mean.is_finite() && t.p10 <= t.p50 + 1e-9 && t.p50 <= t.p90 + 1e-9, "{:?}", t);
                }
            }
        }
    }

    #[test]
    fn every_single_model_survives_anything(s in series(), h in 1usize..30) {
        for model in Model::fast() {
            let f = model.forecast(&s.values, s.frequency.season(), h);
            prop_assert_eq!(f.len(), h);
            prop_assert!(f.iter().all(|v| v.is_finite() && *v >= 0.0), "{model}: {f:?}");
        }
    }
}

#[test]
fn one_point_all_zeros_and_all_gaps() {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let cases = [vec![7.0], vec![0.0; 90], vec![f64::NAN; 30], vec![]];
    let batch: Vec<DemandSeries> = cases
        .iter()
        .enumerate()
        .map(|(i, v)| DemandSeries::new(format!("s{i}"), "S", format!("p{i}"), start, Frequency::Daily, v.clone()))
        .collect();
    let out = forecast_batch(&batch, 7, &Calendar::default(), &AutoConfig::default());
    // One sale: a small positive forecast, not a copy of the sale nor zero.
    let one = out.forecasts[0].as_ref().expect("one point forecasts");
    assert!(one.points.iter().all(|p| p.mean > 0.0 && p.mean <= 7.0), "{:?}", one.points);
    // Never sold: zero, with a zero band.
    let zeros = out.forecasts[1].as_ref().expect("zeros forecast");
    assert!(zeros.points.iter().all(|p| p.mean == 0.0 && p.p90 == 0.0));
    assert!(out.forecasts[2].as_ref().expect("gaps forecast").points.iter().all(|p| p.mean == 0.0));
    assert!(out.forecasts[3].is_none());
}
