//! `fluxion simulate`: replays a tenant's history day by day under a replenishment policy and
//! prints stockout days, fill rate, lost sales, inventory and expiry (see `fluxion_agents::replay`).

use crate::cli::SimulateArgs;
use crate::settings::Settings;
use chrono::NaiveDate;
use fluxion_agents::replay::{
    FluxionPolicy, FluxionSettings, MinMaxPolicy, Policy, ReplayConfig, ReplayReport, load_world, replay,
};
use fluxion_domain::{TenantSlug, format};

pub async fn run(settings: &Settings, args: SimulateArgs, json: bool) -> anyhow::Result<()> {
    let slug = TenantSlug::parse(&args.tenant)?;
    let policies: Vec<&str> = match args.policy.as_str() {
        "fluxion" => vec!["fluxion"],
        "minmax" => vec!["minmax"],
        "both" => vec!["fluxion", "minmax"],
        other => return Err(crate::bad_input(format!("--policy must be fluxion, minmax or both, not {other:?}"))),
    };
    if args.days == 0 || args.days > 3650 {
        return Err(crate::bad_input("--days must be between 1 and 3650"));
    }
    if args.warmup > 365 {
        return Err(crate::bad_input("--warmup must be at most 365 days"));
    }
    if args.refresh_days == 0 || args.refresh_days > 90 {
        return Err(crate::bad_input("--refresh-days must be between 1 and 90"));
    }
    let backend = crate::app::open_store(settings).await?;
    let scoped = backend.scope(&slug).await?;
    let world = load_world(&*scoped).await?;
    if world.items.is_empty() {
        return Err(crate::bad_input(format!("tenant {slug} has no sales to replay")));
    }
    let from = match &args.from {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| crate::bad_input(format!("--from must be a date like 2026-05-01, not {text:?}")))?,
        None => world.end() - chrono::Days::new(args.days as u64 - 1),
    };
    let first_allowed = world.start + chrono::Days::new(args.warmup as u64 + 28);
    if from < first_allowed || from > world.end() {
        return Err(crate::bad_input(format!(
            "--from must be between {first_allowed} and {} (the history runs from {} to {}, and the replay needs \
             four weeks of history before its {}-day warm-up)",
            world.end(),
            world.start,
            world.end(),
            args.warmup
        )));
    }
    let config = ReplayConfig {
        from,
        days: args.days,
        warmup_days: args.warmup,
        opening_cover_days: 10.0,
        seed: args.seed,
        alerts: Some(settings.alerts.clone()),
        alert_refresh_days: args.refresh_days,
        transfer_cost_fixed_usd: settings.optimizer.transfer_cost_fixed_usd,
        transfer_cost_share: settings.optimizer.transfer_cost_share,
    };
    let refresh = args.refresh_days;
    let transfers = !args.no_transfers;
    let optimizer = settings.optimizer.clone();
    let reports: Vec<ReplayReport> = tokio::task::spawn_blocking(move || {
        policies
            .iter()
            .map(|name| {
                let clock = std::time::Instant::now();
                let mut policy: Box<dyn Policy> = match *name {
                    "fluxion" => Box::new(FluxionPolicy::new(FluxionSettings {
                        optimizer: optimizer.clone(),
                        refresh_days: refresh,
                        transfers,
                        ..FluxionSettings::default()
                    })),
                    _ => Box::new(MinMaxPolicy::default()),
                };
                let report = replay(&world, policy.as_mut(), &config);
                tracing::info!(policy = name, seconds = clock.elapsed().as_secs_f64(), "replay finished");
                report
            })
            .collect()
    })
    .await?;
    if json {
        if reports.len() == 1 {
            return crate::commands::print_json(&reports[0]);
        }
        return crate::commands::print_json(&reports);
    }
    for r in &reports {
        print_report(&slug, r);
    }
    if let [a, b] = reports.as_slice() {
        let fewer = if b.stockout_days > 0 { 1.0 - a.stockout_days as f64 / b.stockout_days as f64 } else { 0.0 };
        println!(
            "{} frente a {}: {} días de quiebre menos, inventario promedio {}.",
            a.policy,
            b.policy,
            format::percent_change(1.0 + fewer).trim_start_matches('+'),
            format::percent_change(a.avg_inventory_usd / b.avg_inventory_usd.max(1e-9))
        );
    }
    Ok(())
}

fn print_report(slug: &TenantSlug, r: &ReplayReport) {
    let from = r.from.map(format::date).unwrap_or_default();
    println!("Política {} — {} — {} días desde el {}, {} productos × tienda", r.policy, slug, r.days, from, r.items);
    println!("  días de quiebre:       {}", format::number(r.stockout_days as f64, 0));
    println!("  nivel de servicio:     {} %", format::number(100.0 * r.fill_rate, 2));
    println!(
        "  ventas perdidas:       {} unidades, US$ {}",
        format::number(r.lost_units, 0),
        format::number(r.lost_sales_usd, 2)
    );
    println!("  inventario promedio:   US$ {}", format::number(r.avg_inventory_usd, 2));
    println!(
        "  vencido:               {} unidades, US$ {}",
        format::number(r.expired_units, 0),
        format::number(r.expired_usd, 2)
    );
    println!(
        "  pedidos: {}   transferencias: {} ({} unidades, traslado US$ {})",
        format::number(r.orders as f64, 0),
        format::number(r.transfers as f64, 0),
        format::number(r.transferred_units, 0),
        format::number(r.transfer_cost_usd, 2)
    );
    let pct = |x: Option<f64>| x.map_or_else(|| "—".to_owned(), |x| format!("{} %", format::number(100.0 * x, 1)));
    if r.alert_precision.is_some() || r.stockout_episodes > 0 {
        println!(
            "  alertas de quiebre:    {} emitidas, {} acertadas; {} de las noches camino al quiebre con alerta",
            format::number(r.alerts_raised as f64, 0),
            pct(r.alert_precision),
            pct(r.alert_recall)
        );
        println!(
            "  episodios de quiebre:  {}, {} avisados antes ({}); {} empezaron con una entrega atrasada",
            format::number(r.stockout_episodes as f64, 0),
            format::number(r.episodes_warned as f64, 0),
            pct(r.episode_recall),
            format::number(r.episodes_late_delivery as f64, 0)
        );
        let curve: Vec<String> = r
            .alert_curve
            .iter()
            .map(|c| format!("{} → {} / {}", format::number(c.threshold, 1), pct(c.precision), pct(c.episode_recall)))
            .collect();
        println!("  umbral → acierto / episodios avisados: {}", curve.join(" · "));
    }
    if !r.alert_calibration.is_empty() && r.stockout_brier.is_some() {
        // Calibration: in each band of predicted risk, how often the item really ran out.
        let bands: Vec<String> = r
            .alert_calibration
            .iter()
            .filter(|b| b.evenings > 0)
            .map(|b| {
                format!(
                    "{}–{} %: {} → {} ({} noches)",
                    format::number(100.0 * b.from, 0),
                    format::number(100.0 * b.to, 0),
                    pct(b.mean_probability),
                    pct(b.observed),
                    format::number(b.evenings as f64, 0)
                )
            })
            .collect();
        println!("  riesgo de quiebre anunciado → ocurrido: {}", bands.join(" · "));
        println!(
            "  puntaje de Brier: {} (mejora sobre la tasa base: {})",
            r.stockout_brier.map_or_else(|| "—".to_owned(), |b| format::number(b, 4)),
            pct(r.stockout_brier_skill)
        );
    }
}
