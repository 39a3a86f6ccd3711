//! Development harness: `cargo run --release -p fluxion-agents --example forecast_lab -- FILE H [CALENDAR]`.
use fluxion_agents::forecast::{AutoConfig, Calendar, EvalOptions, Model, evaluate};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = &args[1];
    let h: usize = args[2].parse().expect("h");
    let series = fluxion_connectors::csv::read_series(Path::new(file), None).expect("read");
    let calendar = match args.get(3) {
        Some(c) => Calendar::from_events(&fluxion_connectors::csv::read_events(Path::new(c), None).expect("cal")),
        None => Calendar::default(),
    };
    let env = |k: &str, d: f64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let mut auto = AutoConfig::default();
    auto.weekday_strength = env("WS", auto.weekday_strength);
    auto.effect_strength = env("ES", auto.effect_strength);
    auto.seasonal_weight = env("SW", auto.seasonal_weight);
    auto.dispersion_scale = env("DS", auto.dispersion_scale);
    auto.stockout_run_probability = env("SRP", auto.stockout_run_probability);
    auto.resume_factor = std::env::var("RF").ok().and_then(|v| v.parse().ok());
    auto.trailing_min_run = env("TMR", auto.trailing_min_run as f64) as usize;
    auto.trailing_run_probability = env("TRP", auto.trailing_run_probability);
    auto.stockout_min_run = env("SMR", auto.stockout_min_run as f64) as usize;
    if std::env::var("PROFILE").is_ok() {
        let ps = fluxion_agents::forecast::eval::store_profiles(series.iter(), &calendar, &auto);
        for (k, p) in ps {
            println!(
                "{k}: weekday {:?} resume {:.3} closed {}",
                p.weekday.map(|w| (w * 100.0).round() / 100.0),
                p.resume_ratio,
                p.closed.len()
            );
            for (i, l) in p.lifts.iter().enumerate() {
                if (l - 1.0).abs() > 0.03 {
                    print!("{}={:.2} ", calendar.key(i as u16), l);
                }
            }
            println!();
        }
    }
    auto.trim_leading_zeros = std::env::var("KEEP0").is_err();
    auto.backtest_origins = env("BO", auto.backtest_origins as f64) as usize;
    auto.calibration_weight = env("CW", auto.calibration_weight);
    let models = std::env::var("MODELS")
        .map(|m| m.split(',').filter(|s| !s.is_empty()).map(|s| s.parse::<Model>().expect("model")).collect())
        .unwrap_or_else(|_| vec![Model::Tsb, Model::Adida, Model::Imapa, Model::SeasonalNaive]);
    let opts = EvalOptions {
        horizon: h,
        origins: env("ORIGINS", 1.0) as usize,
        drop_last: env("DROP", 0.0) as usize,
        models,
        complete_only: true,
        calendar,
        auto,
    };
    let t = std::time::Instant::now();
    let r = evaluate(&series, &opts);
    println!("series {} skipped {} in {:.1}s", r.series, r.skipped, t.elapsed().as_secs_f64());
    for m in r.results {
        println!(
            "{:>16} mase {:.3} rmsse {:.4} bias {:+.1}% cov {:?} {:.3}ms n={}",
            m.model,
            m.mase,
            m.rmsse,
            m.bias_pct,
            m.coverage_p10_p90.map(|c| (c * 1000.0).round() / 10.0),
            m.seconds_per_series * 1e3,
            m.scored
        );
    }
}
