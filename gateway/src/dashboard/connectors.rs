//! Conectores: each data source's last sync, rows, errors, and each store's data freshness.

use super::summary::{Freshness, freshness};
use super::{Chrome, PageError, Session, render};
use crate::api::ApiState;
use crate::auth::Permission;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use fluxion_domain::format::number;
use fluxion_memory::IngestStatus;

/// One source's record.
#[derive(Debug)]
pub(crate) struct Source {
    name: String,
    last: String,
    ago: String,
    status_es: &'static str,
    ok: bool,
    runs: usize,
    read: String,
    written: String,
    rejected: String,
    failed_runs: usize,
}

/// One run in the history.
#[derive(Debug)]
pub(crate) struct Run {
    source: String,
    finished: String,
    seconds: String,
    read: String,
    written: String,
    rejected: String,
    status_es: &'static str,
    ok: bool,
}

#[derive(askama::Template)]
#[template(path = "conectores.html")]
struct ConnectorsPage {
    c: Chrome,
    sources: Vec<Source>,
    runs: Vec<Run>,
    stores: Vec<Freshness>,
}

fn status_es(s: IngestStatus) -> (&'static str, bool) {
    match s {
        IngestStatus::Complete => ("Completa", true),
        IngestStatus::Partial => ("Parcial (filas rechazadas)", false),
        IngestStatus::Failed => ("Fallida", false),
    }
}

/// "hace 3 horas".
fn ago(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 90 => "hace un momento".to_owned(),
        s if s < 5_400 => format!("hace {} minutos", s / 60),
        s if s < 172_800 => format!("hace {} horas", s / 3_600),
        s => format!("hace {} días", s / 86_400),
    }
}

/// The page.
pub(crate) async fn page(State(api): State<ApiState>, session: Session) -> Result<Response, PageError> {
    let tenant = session.tenant_for(Permission::Read)?;
    let scoped = api.scoped(tenant).await?;
    let history = scoped.ingest_runs(200).await?;
    let now = Utc::now();
    let offset = api.dashboard.utc_offset_hours;
    let mut sources: Vec<Source> = Vec::new();
    for run in &history {
        let (status, ok) = status_es(run.status);
        match sources.iter_mut().find(|s| s.name == run.source) {
            Some(s) => {
                s.runs += 1;
                s.failed_runs += usize::from(!ok);
            }
            None => sources.push(Source {
                name: run.source.clone(),
                last: super::when(run.finished_at, offset),
                ago: ago((now - run.finished_at).num_seconds()),
                status_es: status,
                ok,
                runs: 1,
                read: number(run.rows_read as f64, 0),
                written: number(run.rows_written as f64, 0),
                rejected: number(run.rows_rejected as f64, 0),
                failed_runs: usize::from(!ok),
            }),
        }
    }
    let runs = history
        .iter()
        .take(30)
        .map(|r| {
            let (status_es, ok) = status_es(r.status);
            Run {
                source: r.source.clone(),
                finished: super::when(r.finished_at, offset),
                seconds: number((r.finished_at - r.started_at).num_milliseconds() as f64 / 1000.0, 1),
                read: number(r.rows_read as f64, 0),
                written: number(r.rows_written as f64, 0),
                rejected: number(r.rows_rejected as f64, 0),
                status_es,
                ok,
            }
        })
        .collect();
    let live = super::live(&api, tenant).await?;
    let today = super::local(now, offset).date_naive();
    render(&ConnectorsPage {
        c: session.chrome("Conectores", "/conectores", None),
        sources,
        runs,
        stores: freshness(&live.ctx, today),
    })
}
