//! Accuracy on the shared real data, with the protocol of the issue (last `h` periods held out, one
//! origin): the acceptance figures that hold are asserted as they are; where the target is not met
//! yet (M5 RMSSE), the current figure is guarded against regressions.
//!
//! Reads `../shared/data` (or `FLUXION_SHARED_DATA`); CI sets it.

use fluxion_agents::forecast::{AutoConfig, Calendar, EvalOptions, EvalReport, evaluate};
use std::path::PathBuf;

fn shared(file: &str) -> PathBuf {
    let dir = std::env::var_os("FLUXION_SHARED_DATA")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"), PathBuf::from);
    assert!(dir.join("SOURCES.md").is_file(), "shared data not found at {} (set FLUXION_SHARED_DATA)", dir.display());
    dir.join(file)
}

fn eval(file: &str, calendar: Option<&str>, horizon: usize, drop_last: usize, monthly: bool) -> (f64, f64, f64) {
    let series = fluxion_connectors::csv::read_series(&shared(file), None).expect("series");
    let calendar = calendar.map_or_else(Calendar::default, |c| {
        Calendar::from_events(&fluxion_connectors::csv::read_events(&shared(c), None).expect("calendar"))
    });
    let opts = EvalOptions {
        horizon,
        origins: 1,
        drop_last,
        models: Vec::new(),
        complete_only: true,
        calendar,
        auto: AutoConfig { trim_leading_zeros: !monthly, ..AutoConfig::default() },
    };
    let report: EvalReport = evaluate(&series, &opts);
    let r = report.results.iter().find(|r| r.model == "fluxion").expect("fluxion result");
    (r.rmsse, r.bias_pct, r.coverage_p10_p90.expect("band"))
}

#[test]
fn car_parts_beats_every_peer_with_little_bias() {
    let (rmsse, bias, coverage) = eval("carparts_monthly.csv", None, 12, 0, true);
    assert!(rmsse <= 0.59, "RMSSE {rmsse:.4} (IMAPA, the best peer: 0.597)");
    assert!(bias.abs() <= 10.0, "bias {bias:+.1}%");
    assert!((0.75..=0.85).contains(&coverage), "P10–P90 coverage {coverage:.3}");
}

#[test]
fn store_item_december_and_november() {
    let (rmsse, bias, coverage) = eval("store_item_demand_2017.csv", None, 28, 0, false);
    assert!(rmsse <= 0.80, "Dec 4–31: RMSSE {rmsse:.4} (Prophet 0.826)");
    assert!(bias.abs() <= 10.0, "Dec bias {bias:+.1}%");
    assert!((0.75..=0.85).contains(&coverage), "Dec coverage {coverage:.3}");
    let (rmsse, bias, _) = eval("store_item_demand_2017.csv", None, 28, 31, false);
    assert!(rmsse <= 0.62, "Nov 3–30: RMSSE {rmsse:.4} (AutoETS 0.646)");
    assert!(bias.abs() <= 10.0, "Nov bias {bias:+.1}%");
}

#[test]
fn m5_foods_is_ahead_of_every_peer() {
    let (rmsse, bias, coverage) = eval("m5_foods3_tx3_daily.csv.gz", Some("m5_calendar_afcs2023.csv"), 28, 0, false);
    // The target is 0.75; today's figure is 0.754 (TSB, the best peer: 0.767).
    assert!(rmsse <= 0.755, "RMSSE {rmsse:.4}");
    assert!(bias.abs() <= 8.0, "bias {bias:+.1}%");
    assert!((0.75..=0.85).contains(&coverage), "P10–P90 coverage {coverage:.3}");
}

#[test]
fn m5_hobbies_is_ahead_of_the_peers() {
    let (rmsse, _, coverage) = eval("m5_hobbies2_ca3_daily.csv.gz", None, 28, 0, false);
    // The target is 0.82; today's figure is 0.832 (IMAPA 0.835, TSB 0.838, AutoETS 0.838).
    assert!(rmsse <= 0.833, "RMSSE {rmsse:.4}");
    assert!((0.75..=0.85).contains(&coverage), "P10–P90 coverage {coverage:.3}");
}
