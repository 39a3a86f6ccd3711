//! `fluxion demo`: create the demo tenant and load the generated chain (also used by `serve --demo`).

use crate::cli::DemoArgs;
use crate::progress::Progress;
use crate::settings::Settings;
use chrono::{Duration, Local, NaiveDate, Utc};
use fluxion_connectors::demo::{DEMO_CHAIN_NAME, DemoConfig, DemoFigures};
use fluxion_domain::TenantSlug;
use fluxion_memory::{ChangeSummary, IngestRun, IngestStatus, Store, TableCounts};
use serde::Serialize;
use std::time::Instant;

/// The source name of demo ingest runs; a complete one means the demo is loaded.
const DEMO_SOURCE: &str = "demo";

/// What a demo load did.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    tenant: String,
    skipped: bool,
    seed: u64,
    end: Option<NaiveDate>,
    generate_seconds: f64,
    load_seconds: f64,
    rows: usize,
    rows_per_second: f64,
    summary: ChangeSummary,
    counts: TableCounts,
}

pub async fn run(settings: &Settings, args: &DemoArgs, json: bool) -> anyhow::Result<DemoReport> {
    let store = crate::app::open_store(settings).await?;
    let report = load(settings, &*store, args, true).await?;
    if json {
        super::print_json(&report)?;
    } else if report.skipped {
        println!("El tenant {} ya tiene la cadena demo completa; use --reload para cargarla de nuevo.", report.tenant);
    } else {
        let c = &report.counts;
        println!("Cadena demo cargada en el tenant {} ({DEMO_CHAIN_NAME}).", report.tenant);
        println!(
            "  generación {:.1} s, carga {:.1} s, {} filas ({:.0} filas/s)",
            report.generate_seconds, report.load_seconds, report.rows, report.rows_per_second
        );
        println!(
            "  {} ubicaciones, {} proveedores, {} productos, {} líneas de venta, {} días de demanda ({} sin stock),",
            c.locations, c.suppliers, c.products, c.sales, c.daily_demand, c.out_of_stock_days
        );
        println!(
            "  {} conteos de stock, {} lotes, {} órdenes de compra abiertas, {} transferencias, {} eventos",
            c.stock_snapshots, c.lots, c.purchase_orders, c.transfers, c.events
        );
    }
    Ok(report)
}

/// Loads the demo into `args.tenant`, creating it if missing. Unless `args.reload`, a tenant that
/// already holds a complete demo is left as it is. `progress` draws a progress bar or lines.
pub async fn load(
    settings: &Settings,
    store: &dyn Store,
    args: &DemoArgs,
    progress: bool,
) -> anyhow::Result<DemoReport> {
    let slug = TenantSlug::parse(&args.tenant)?;
    let end = match &args.end {
        Some(text) => Some(
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| crate::bad_input(format!("--end {text:?} is not a date YYYY-MM-DD")))?,
        ),
        None => None,
    };
    let config = DemoConfig::new(
        args.seed.unwrap_or(settings.demo.seed),
        args.stores.unwrap_or(settings.demo.stores),
        args.products.unwrap_or(settings.demo.products),
        args.days.unwrap_or(settings.demo.days),
        end.unwrap_or_else(|| Local::now().date_naive() - Duration::days(1)),
    )
    .map_err(|e| crate::bad_input(e.to_string()))?;

    let tenant = match store.tenant(&slug).await? {
        Some(t) => t,
        None => store.create_tenant(&slug, DEMO_CHAIN_NAME).await?,
    };
    super::users::ensure_demo_users(settings, store, &tenant).await?;
    let scoped = store.scope(&tenant.slug).await?;
    let loaded =
        scoped.ingest_runs(50).await?.iter().any(|r| r.source == DEMO_SOURCE && r.status == IngestStatus::Complete);
    if loaded && !args.reload {
        tracing::info!(tenant = %slug, "demo chain already loaded");
        return Ok(DemoReport {
            tenant: slug.to_string(),
            skipped: true,
            seed: config.seed,
            end: None,
            generate_seconds: 0.0,
            load_seconds: 0.0,
            rows: 0,
            rows_per_second: 0.0,
            summary: ChangeSummary::default(),
            counts: scoped.counts().await?,
        });
    }

    let started_at = Utc::now();
    let clock = Instant::now();
    let chain = fluxion_connectors::demo::generate(&config).map_err(|e| crate::bad_input(e.to_string()))?;
    let figures: DemoFigures = *chain.figures();
    let generate_seconds = clock.elapsed().as_secs_f64();
    tracing::info!(tenant = %slug, rows = figures.rows, batches = figures.batches, "demo chain generated");

    let clock = Instant::now();
    let mut bar = progress.then(|| Progress::new("demo", figures.rows as u64));
    let mut summary = ChangeSummary::default();
    // Batches are generated on a blocking thread while the previous one is being written.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let producer = tokio::task::spawn_blocking(move || {
        for batch in chain.batches() {
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
    });
    while let Some(batch) = rx.recv().await {
        let rows = batch.rows() as u64;
        summary.add(scoped.apply(&batch).await?);
        if let Some(bar) = bar.as_mut() {
            bar.inc(rows);
        }
    }
    producer.await?;
    if let Some(bar) = bar {
        bar.finish();
    }
    let load_seconds = clock.elapsed().as_secs_f64();
    scoped
        .record_ingest(&IngestRun {
            source: DEMO_SOURCE.into(),
            started_at,
            finished_at: Utc::now(),
            rows_read: figures.rows as u64,
            rows_written: summary.sales_new + summary.upserted,
            rows_rejected: 0,
            status: IngestStatus::Complete,
        })
        .await?;
    scoped.refresh_statistics().await?;
    let counts = scoped.counts().await?;
    tracing::info!(tenant = %slug, load_seconds, sales = counts.sales, "demo chain loaded");
    Ok(DemoReport {
        tenant: slug.to_string(),
        skipped: false,
        seed: config.seed,
        end: Some(config.end),
        generate_seconds,
        load_seconds,
        rows: figures.rows,
        rows_per_second: figures.rows as f64 / (generate_seconds + load_seconds).max(1e-9),
        summary,
        counts,
    })
}
