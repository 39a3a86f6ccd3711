//! `fluxion forecast`: one product's forecast at one store, with its band and why; and
//! `fluxion forecast eval`: rolling-origin evaluation of every model on a file or a tenant.

use crate::cli::{EvalArgs, ForecastArgs, ForecastCommand};
use crate::settings::Settings;
use chrono::NaiveDate;
use fluxion_agents::forecast::distribution::total_demand;
use fluxion_agents::forecast::tenant::load_tenant;
use fluxion_agents::forecast::{AutoConfig, Calendar, EvalOptions, Model, evaluate, forecast_batch};
use fluxion_domain::forecast::{DemandSeries, Frequency};
use fluxion_domain::{LocationCode, ProductCode, TenantSlug, format};
use fluxion_memory::{DemandQuery, StoredForecast};
use serde::Serialize;

pub async fn run(settings: &Settings, args: ForecastArgs, json: bool) -> anyhow::Result<()> {
    match args.command {
        Some(ForecastCommand::Eval(eval)) => run_eval(settings, eval, json).await,
        Some(ForecastCommand::Run { tenant, days }) => run_tenant(settings, &tenant, days, json).await,
        None => run_forecast(settings, args, json).await,
    }
}

async fn run_forecast(settings: &Settings, args: ForecastArgs, json: bool) -> anyhow::Result<()> {
    let (Some(tenant), Some(product), Some(store)) = (&args.tenant, &args.product, &args.store) else {
        return Err(crate::bad_input(
            "fluxion forecast needs --tenant, --product and --store (or: fluxion forecast eval)",
        ));
    };
    if args.days == 0 || args.days > 366 {
        return Err(crate::bad_input("--days must be between 1 and 366"));
    }
    let slug = TenantSlug::parse(tenant)?;
    let product = ProductCode::parse(product)?;
    let store_code = LocationCode::parse(store)?;
    let backend = crate::app::open_store(settings).await?;
    let scoped = backend.scope(&slug).await?;
    // The whole store is loaded: its other products lend the slow movers their weekly shape.
    let query = DemandQuery { store: Some(store_code.clone()), ..DemandQuery::default() };
    let (series, calendar) = load_tenant(&*scoped, &query).await?;
    let Some(index) = series.iter().position(|s| s.product == product.as_str()) else {
        return Err(crate::bad_input(format!(
            "{product} has no sales at {store_code} in tenant {slug} / {product} no tiene ventas en {store_code}"
        )));
    };
    let batch = forecast_batch(&series, args.days, &calendar, &AutoConfig::default());
    let Some(forecast) = batch.forecasts.into_iter().nth(index).flatten() else {
        return Err(crate::bad_input(format!("{product} at {store_code}: no history to forecast from")));
    };
    let total = total_demand(&forecast, 0, forecast.points.len());
    if json {
        #[derive(Serialize)]
        struct Out<'a> {
            forecast: &'a fluxion_domain::forecast::Forecast,
            total: fluxion_domain::forecast::TotalDemand,
        }
        return super::print_json(&Out { forecast: &forecast, total });
    }
    let name = scoped
        .products()
        .await?
        .into_iter()
        .find(|p| p.code() == &product)
        .map_or_else(|| product.to_string(), |p| format!("{} ({product})", p.name()));
    let store_name = scoped
        .locations()
        .await?
        .into_iter()
        .find(|l| l.code == store_code)
        .map_or_else(|| store_code.to_string(), |l| format!("{} ({store_code})", l.name));
    println!(
        "Pronóstico de {name} en {store_name}: {} días desde el {}",
        args.days,
        format::date(forecast.origin + chrono::Days::new(1))
    );
    let error = forecast
        .backtest
        .filter(|b| b.typical_error_pct.is_finite())
        .map(|b| format!(" · error típico ±{}%", format::number(b.typical_error_pct.round(), 0)))
        .unwrap_or_default();
    println!("Modelo {} · {}{error}", forecast.model, forecast.class.label_es());
    println!("{:<10} {:>9} {:>17}", "Día", "Esperado", "Rango (P10–P90)");
    for p in &forecast.points {
        println!(
            "{:<10} {:>9} {:>17}",
            format::short_date(p.date),
            format::units(p.mean),
            format!("{} – {}", format::units(p.p10), format::units(p.p90))
        );
    }
    println!(
        "Total: {} unidades (entre {} y {} en 8 de cada 10 casos)",
        format::units(total.mean),
        format::units(total.p10),
        format::units(total.p90)
    );
    let mut effects: Vec<&fluxion_domain::forecast::Effect> = forecast.effects.iter().collect();
    effects.sort_by(|a, b| (b.lift - 1.0).abs().total_cmp(&(a.lift - 1.0).abs()));
    let mut reasons: Vec<String> =
        effects.iter().map(|e| format!("{} {}", e.label_es, format::percent_change(e.lift))).collect();
    reasons.truncate(6);
    if !reasons.is_empty() {
        println!("Por qué: {}.", reasons.join("; "));
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct RunFigures {
    tenant: String,
    series: usize,
    stored: u64,
    days: usize,
    forecast_seconds: f64,
    series_per_second: f64,
    store_seconds: f64,
}

/// Forecasts the whole tenant and stores every forecast.
async fn run_tenant(settings: &Settings, tenant: &str, days: usize, json: bool) -> anyhow::Result<()> {
    if days == 0 || days > 366 {
        return Err(crate::bad_input("--days must be between 1 and 366"));
    }
    let slug = TenantSlug::parse(tenant)?;
    let backend = crate::app::open_store(settings).await?;
    let scoped = backend.scope(&slug).await?;
    let (series, calendar) = load_tenant(&*scoped, &DemandQuery::default()).await?;
    let clock = std::time::Instant::now();
    let (series, batch) = tokio::task::spawn_blocking(move || {
        let batch = forecast_batch(&series, days, &calendar, &AutoConfig::default());
        (series, batch)
    })
    .await?;
    let forecast_seconds = clock.elapsed().as_secs_f64();
    let computed_at = chrono::Utc::now();
    let stored: Vec<StoredForecast> = series
        .iter()
        .zip(batch.forecasts)
        .filter_map(|(s, f)| {
            Some(StoredForecast {
                store: LocationCode::parse(&s.store).ok()?,
                product: ProductCode::parse(&s.product).ok()?,
                computed_at,
                forecast: f?,
            })
        })
        .collect();
    let clock = std::time::Instant::now();
    let mut written = 0;
    for chunk in stored.chunks(2_000) {
        written += scoped.save_forecasts(chunk).await?;
    }
    let figures = RunFigures {
        tenant: slug.to_string(),
        series: series.len(),
        stored: written,
        days,
        forecast_seconds,
        series_per_second: series.len() as f64 / forecast_seconds.max(1e-9),
        store_seconds: clock.elapsed().as_secs_f64(),
    };
    if json {
        return super::print_json(&figures);
    }
    println!(
        "{}: {} series forecast {} days ahead in {:.2} s ({:.0} series/s); {} forecasts stored in {:.2} s",
        figures.tenant,
        figures.series,
        days,
        forecast_seconds,
        figures.series_per_second,
        written,
        figures.store_seconds
    );
    Ok(())
}

async fn run_eval(settings: &Settings, args: EvalArgs, json: bool) -> anyhow::Result<()> {
    if !(1..=3_650).contains(&args.horizon) || !(1..=200).contains(&args.origins) {
        return Err(crate::bad_input("--horizon must be between 1 and 3650, --origins between 1 and 200"));
    }
    let models = parse_models(&args.models)?;
    let (series, calendar, source) = match (&args.data, &args.tenant) {
        (Some(path), _) => {
            let series =
                fluxion_connectors::csv::read_series(path, None).map_err(|e| crate::bad_input(e.to_string()))?;
            let calendar = match &args.calendar {
                Some(c) => Calendar::from_events(
                    &fluxion_connectors::csv::read_events(c, None).map_err(|e| crate::bad_input(e.to_string()))?,
                ),
                None => Calendar::default(),
            };
            (series, calendar, path.display().to_string())
        }
        (None, Some(tenant)) => {
            let slug = TenantSlug::parse(tenant)?;
            let backend = crate::app::open_store(settings).await?;
            let scoped = backend.scope(&slug).await?;
            let (series, calendar) = load_tenant(&*scoped, &DemandQuery::default()).await?;
            (series, calendar, format!("tenant {slug}"))
        }
        (None, None) => return Err(crate::bad_input("give --data FILE or --tenant SLUG")),
    };
    if series.is_empty() {
        return Err(crate::bad_input(format!("{source}: no series to evaluate")));
    }
    let drop_last = match (&args.holdout_end, args.drop_last) {
        (Some(end), _) => {
            let end = NaiveDate::parse_from_str(end, "%Y-%m-%d")
                .map_err(|_| crate::bad_input(format!("--holdout-end {end:?}: expected YYYY-MM-DD")))?;
            periods_after(&series, end)?
        }
        (None, Some(n)) => n,
        (None, None) => 0,
    };
    let longest = series.iter().map(DemandSeries::len).max().unwrap_or(0);
    let needed = drop_last.saturating_add(args.horizon.saturating_mul(args.origins));
    if needed >= longest {
        return Err(crate::bad_input(format!(
            "{source}: {needed} periods held out or dropped, but the longest series has {longest}: nothing left to learn from"
        )));
    }
    let monthly = series.iter().all(|s| s.frequency == Frequency::Monthly);
    let auto = AutoConfig { trim_leading_zeros: !args.keep_leading_zeros.unwrap_or(monthly), ..AutoConfig::default() };
    let opts = EvalOptions {
        horizon: args.horizon,
        origins: args.origins,
        drop_last,
        models,
        complete_only: !args.include_incomplete,
        calendar,
        auto,
    };
    let clock = std::time::Instant::now();
    let report = tokio::task::spawn_blocking(move || evaluate(&series, &opts)).await?;
    if report.results.iter().all(|r| r.scored == 0) {
        return Err(crate::bad_input(format!(
            "{source}: no series could be scored (each needs a sale and some variation before the origin)"
        )));
    }
    let lines = &report.results;
    if json {
        return super::print_json(lines);
    }
    println!(
        "{source}: {} series, h={}, {} origin(s), {} periods dropped; {} series×origins not scorable; {:.1} s",
        report.series,
        args.horizon,
        args.origins,
        drop_last,
        report.skipped,
        clock.elapsed().as_secs_f64()
    );
    println!("{:<16} {:>7} {:>7} {:>8} {:>9} {:>12}", "model", "MASE", "RMSSE", "bias %", "P10-P90", "ms/series");
    for l in lines {
        println!(
            "{:<16} {:>7.3} {:>7.3} {:>+8.1} {:>9} {:>12.3}",
            l.model,
            l.mase,
            l.rmsse,
            l.bias_pct,
            l.coverage_p10_p90.map_or_else(|| "—".to_owned(), |c| format!("{:.1}%", c * 100.0)),
            l.seconds_per_series * 1e3
        );
    }
    Ok(())
}

fn parse_models(list: &str) -> anyhow::Result<Vec<Model>> {
    match list.trim() {
        "all" => Ok(Model::ALL.to_vec()),
        "fast" => Ok(Model::fast()),
        "none" | "" => Ok(Vec::new()),
        other => other
            .split(',')
            .map(|m| m.parse::<Model>().map_err(|e| crate::bad_input(format!("--models: {e}"))))
            .collect(),
    }
}

/// How many periods of the longest series lie after `end`.
fn periods_after(series: &[DemandSeries], end: NaiveDate) -> anyhow::Result<usize> {
    let last = series.iter().filter_map(DemandSeries::end).max().unwrap_or(end);
    if end > last {
        return Err(crate::bad_input(format!("--holdout-end {end} is after the data's last period {last}")));
    }
    let frequency =
        if series.iter().all(|s| s.frequency == Frequency::Monthly) { Frequency::Monthly } else { Frequency::Daily };
    Ok(frequency.periods_between(end, last).unwrap_or(0))
}
