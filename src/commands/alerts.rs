//! `fluxion alerts`: tonight's alert scan of a tenant — stockouts, overstock, anomalies, phantom
//! stock, expiring lots, transfer opportunities and stale feeds — with money impact and reason.

use crate::cli::AlertsArgs;
use crate::settings::Settings;
use fluxion_agents::alert::scan_tenant;
use fluxion_domain::{AlertKind, SuggestedAction, TenantSlug, format};

pub async fn run(settings: &Settings, args: AlertsArgs, json: bool) -> anyhow::Result<()> {
    let slug = TenantSlug::parse(&args.tenant)?;
    let kinds: Vec<AlertKind> = match &args.kind {
        None => AlertKind::ALL.to_vec(),
        Some(text) => text
            .split(',')
            .map(|k| {
                AlertKind::ALL.iter().copied().find(|a| a.as_str() == k.trim()).ok_or_else(|| {
                    let names: Vec<&str> = AlertKind::ALL.iter().map(AlertKind::as_str).collect();
                    crate::bad_input(format!("--kind {k:?} is not one of {}", names.join(", ")))
                })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let backend = crate::app::open_store(settings).await?;
    let scoped = backend.scope(&slug).await?;
    let clock = std::time::Instant::now();
    let mut scan = scan_tenant(&*scoped, &settings.alerts, &settings.optimizer).await?;
    let seconds = clock.elapsed().as_secs_f64();
    scan.alerts.retain(|a| kinds.contains(&a.kind));
    if json {
        return crate::commands::print_json(&scan);
    }
    println!(
        "Alertas de {} al {} — {} productos × tienda revisados en {} s",
        slug,
        format::date(scan.today),
        format::number(scan.items as f64, 0),
        format::number(seconds, 1)
    );
    for kind in AlertKind::ALL.iter().filter(|k| kinds.contains(k)) {
        let of_kind: Vec<_> = scan.alerts.iter().filter(|a| a.kind == *kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let impact: f64 = of_kind.iter().map(|a| a.impact_usd).sum();
        println!("\n{} — {} (US$ {})", kind.label_es(), of_kind.len(), format::number(impact, 2));
        for a in of_kind.iter().take(args.limit) {
            println!("  [{}] {}  {}", a.severity.as_str(), a.store, a.product.as_ref().map_or("", |p| p.as_str()));
            println!("      {}", a.reason_es);
            let unit = a.unit.map_or("unidades", |u| u.label_es());
            println!("      → {}   (US$ {})", action_es(&a.action, unit), format::number(a.impact_usd, 2));
        }
        if of_kind.len() > args.limit {
            println!("  … y {} más", of_kind.len() - args.limit);
        }
    }
    Ok(())
}

fn action_es(action: &SuggestedAction, unit: &str) -> String {
    match action {
        SuggestedAction::Reorder { units } => format!("pedir {} {unit}", format::units(*units)),
        SuggestedAction::Transfer { units, from, to } => {
            format!("transferir {} {unit} de {from} a {to}", format::units(*units))
        }
        SuggestedAction::MarkDown { units, discount_pct } => {
            format!("rebajar {} {unit} un {discount_pct} %", format::units(*units))
        }
        SuggestedAction::HoldOrders => "no pedir hasta que baje el inventario".into(),
        SuggestedAction::CheckShelf => "revisar el anaquel y contar".into(),
        SuggestedAction::CheckFeed => "revisar la conexión del punto de venta".into(),
        SuggestedAction::Review => "revisar qué pasó".into(),
    }
}
