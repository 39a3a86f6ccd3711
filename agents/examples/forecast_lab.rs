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
    auto.trailing_min_run_days = env("TMR", auto.trailing_min_run_days as f64) as usize;
    auto.trailing_run_probability = env("TRP", auto.trailing_run_probability);
    auto.stockout_min_run = env("SMR", auto.stockout_min_run as f64) as usize;
    if std::env::var("PROFILE").is_ok() {
        let back = env("DROP", 0.0) as usize + h;
        let trains: Vec<_> = series.iter().map(|s| s.truncated(s.len() - back)).collect();
        let ps = fluxion_agents::forecast::store_profiles(trains.iter(), &calendar, &auto);
        for (k, p) in ps {
            println!(
                "{k}: weekday {:?} resume {:.3} closed {} trend {:?} r1 {:?} r28 {:?}",
                p.weekday.map(|w| (w * 100.0).round() / 100.0),
                p.resume_ratio,
                p.closed.len(),
                p.trend,
                p.trend.map(|t| t.ratio(1)),
                p.trend.map(|t| t.ratio(28))
            );
            let origin = trains.iter().filter_map(|s| s.end()).max().expect("end");
            println!("seasonal ratio {:?}", p.seasonal_ratio(origin + chrono::Days::new(1), h, 28));
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
    auto.trend_weight = env("TW", auto.trend_weight);
    auto.trend_damping = env("TD", auto.trend_damping);
    auto.trend_window_days = env("TWD", auto.trend_window_days as f64) as usize;
    auto.trend_window_months = env("TWM", auto.trend_window_months as f64) as usize;
    auto.shift_threshold = env("ST", auto.shift_threshold);
    if let Ok(l) = std::env::var("DL") {
        auto.daily_levels = l.split(';').map(|m| m.parse().expect("level")).collect();
    }
    if let Ok(l) = std::env::var("PL") {
        auto.periodic_levels = l.split(';').map(|m| m.parse().expect("level")).collect();
    }
    auto.seasonal_strength = env("SS", auto.seasonal_strength);
    auto.profile_window = env("PW", auto.profile_window as f64) as usize;
    auto.new_strength = env("NS", auto.new_strength);
    auto.stack_weight = env("SKW", auto.stack_weight);
    auto.stack_ridge = env("SKR", auto.stack_ridge);
    let models = std::env::var("MODELS")
        .map(|m| m.split(',').filter(|s| !s.is_empty()).map(|s| s.parse::<Model>().expect("model")).collect())
        .unwrap_or_else(|_| vec![Model::Tsb, Model::Adida, Model::Imapa, Model::SeasonalNaive]);
    if std::env::var("CAL").is_ok() {
        let trains: Vec<_> = series
            .iter()
            .filter(|s| s.len() > h && s.values.iter().all(|v| v.is_finite()))
            .map(|s| s.truncated(s.len() - h))
            .collect();
        let b = fluxion_agents::forecast::forecast_batch(&trains, h, &calendar, &auto);
        println!("calibration {:?}", b.calibration);
    }
    if std::env::var("BREAK").is_ok() {
        use fluxion_agents::forecast::metrics::{scales, score};
        let trains: Vec<_> = series.iter().map(|s| s.truncated(s.len() - h)).collect();
        let b = fluxion_agents::forecast::forecast_batch(&trains, h, &calendar, &auto);
        let mut by: std::collections::BTreeMap<String, (usize, f64, f64, f64, f64)> = Default::default();
        for ((s, t), f) in series.iter().zip(&trains).zip(&b.forecasts) {
            let Some(f) = f else { continue };
            let Some(first) = t.values.iter().position(|v| *v > 0.0) else { continue };
            let y = &t.values[first..];
            let Some(sc) = scales(y, 7) else { continue };
            let actual = &s.values[s.len() - h..];
            let mean: Vec<f64> = f.points.iter().map(|p| p.mean).collect();
            let tsb = Model::Tsb.forecast(y, 7, h);
            let a = score(sc, &mean, None, actual);
            let c = score(sc, &tsb, None, actual);
            let age = if y.len() < 180 { "young" } else { "old" };
            for key in [f.class.to_string(), age.to_string(), format!("model {}", f.model)] {
                let e = by.entry(key).or_default();
                e.0 += 1;
                e.1 += a.rmsse;
                e.2 += c.rmsse;
                e.3 += a.forecast_sum - a.actual_sum;
                e.4 += a.actual_sum;
            }
        }
        for (k, (n, a, c, d, act)) in by {
            println!(
                "{k:>28} n={n:4} fluxion {:.4} tsb {:.4} sum-diff {:.0} bias {:+.1}%",
                a / n as f64,
                c / n as f64,
                a - c,
                100.0 * d / act
            );
        }
    }
    // DUMP=path: the automatic forecaster's means over the last `h` days held out, one line per
    // series and day (`id,step,mean`), for comparisons and blends outside Rust.
    if let Ok(path) = std::env::var("DUMP") {
        use std::io::Write;
        let trains: Vec<_> = series.iter().filter(|s| s.len() > h).map(|s| s.truncated(s.len() - h)).collect();
        let b = fluxion_agents::forecast::forecast_batch(&trains, h, &calendar, &auto);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("dump file"));
        writeln!(out, "id,step,mean").expect("write");
        for (s, f) in trains.iter().zip(&b.forecasts) {
            for (k, p) in f.iter().flat_map(|f| f.points.iter().enumerate()) {
                writeln!(out, "{},{},{}", s.id, k, p.mean).expect("write");
            }
        }
    }
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
