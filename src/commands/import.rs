//! `fluxion import`: one CSV file into one tenant, with a progress bar and a report.

use crate::cli::ImportArgs;
use crate::progress::Progress;
use crate::settings::Settings;
use fluxion_connectors::csv::{DateFormat, ImportKind, ImportOptions, ImportReport, Preset, parse_map_arg};
use fluxion_domain::TenantSlug;
use fluxion_memory::{IngestStatus, JobKind};
use std::path::PathBuf;

pub async fn run(settings: &Settings, args: ImportArgs, json: bool) -> anyhow::Result<()> {
    let (kind, file) = match args.items.as_slice() {
        [file] => (None, PathBuf::from(file)),
        [kind, file] => (Some(kind.clone()), PathBuf::from(file)),
        _ => return Err(crate::bad_input("give the file to import, optionally preceded by its kind")),
    };
    let mut options = match (&args.preset, &kind) {
        (Some(p), kind) => {
            let preset: Preset = p.parse()?;
            let options = preset.options();
            if let Some(k) = kind {
                let k: ImportKind = k.parse()?;
                if k != options.kind {
                    return Err(crate::bad_input(format!(
                        "preset {} imports {}, not {k}",
                        preset.name(),
                        options.kind
                    )));
                }
            }
            options
        }
        (None, Some(k)) => ImportOptions::new(k.parse()?),
        (None, None) => {
            return Err(crate::bad_input(
                "say what the file holds (products, locations, sales, stock, events) or give --preset",
            ));
        }
    };
    for m in &args.mapping {
        options.mapping.push(parse_map_arg(m)?);
    }
    options.atomic |= args.atomic;
    options.create_missing |= args.create_missing;
    options.batch_size = args.batch_size.unwrap_or(
        if args.preset.is_some() && options.batch_size != ImportOptions::DEFAULT_BATCH_SIZE {
            options.batch_size
        } else {
            settings.import.batch_size
        },
    );
    if options.batch_size == 0 {
        return Err(crate::bad_input("--batch-size must be at least 1"));
    }
    if let Some(f) = &args.date_format {
        options.date_format = f.parse::<DateFormat>()?;
    }

    let slug = TenantSlug::parse(&args.tenant)?;
    let store = crate::app::open_store(settings).await?;
    if args.create_tenant && store.tenant(&slug).await?.is_none() {
        store.create_tenant(&slug, slug.as_str()).await?;
    }
    let tenant = store.scope(&slug).await?;

    let total = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let label = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut bar = Progress::new(&label, total);
    let report =
        fluxion_connectors::csv::import_file(&*tenant, &file, &options, &mut |p| bar.set(p.bytes_read)).await?;
    bar.finish();
    if report.rows_imported > 0 {
        // New data: the server's workers refresh the forecasts and scan for alerts.
        let queue = crate::app::open_queue(settings).await?;
        let key = format!("sync:{slug}:{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"));
        for (kind, suffix) in [(JobKind::RefreshForecasts, "refresh"), (JobKind::ScanAlerts, "scan")] {
            if let Err(e) = queue.enqueue(&slug, kind, &format!("{key}:{suffix}")).await {
                tracing::warn!(error = %e, "the post-import jobs could not be queued; the daily schedule will catch up");
            }
        }
    }

    if json {
        super::print_json(&report_json(&report))?;
    } else {
        println!("{report}");
    }
    if report.rows_rejected > 0 {
        let outcome = match report.status {
            IngestStatus::Failed => "nothing was imported",
            _ => "the good rows were imported",
        };
        return Err(crate::bad_input(format!("{}: {} row(s) refused; {outcome}", report.file, report.rows_rejected)));
    }
    Ok(())
}

fn report_json(r: &ImportReport) -> serde_json::Value {
    serde_json::json!({
        "file": r.file,
        "kind": r.kind.as_str(),
        "status": r.status,
        "rows_read": r.rows_read,
        "rows_imported": r.rows_imported,
        "rows_skipped": r.rows_skipped,
        "rows_rejected": r.rows_rejected,
        "sales_new": r.changes.sales_new,
        "sales_duplicate": r.changes.sales_duplicate,
        "upserted": r.changes.upserted,
        "locations_created": r.locations_created,
        "products_created": r.products_created,
        "batches": r.batches,
        "seconds": r.elapsed.as_secs_f64(),
        "errors": r.errors.iter().map(|e| serde_json::json!({"file": e.file, "line": e.line, "reason": e.reason})).collect::<Vec<_>>(),
    })
}
