//! Background work through the durable queue: workers that claim jobs and run them on the
//! runtime, and a scheduler that queues the periodic ones.
//!
//! Every job's effect is idempotent, so a job redelivered after its worker died changes nothing
//! the first run did not: forecasts are upserted per store × product, alerts pass through the
//! tenant's alert book (an unchanged situation is not announced twice), and plans are recomputed.

use crate::runtime::Runtime;
use chrono::{Datelike, NaiveDate, Timelike, Utc};
use fluxion_agents::alert::{AlertBook, scan_context};
use fluxion_domain::TenantSlug;
use fluxion_memory::{BusEvent, Job, JobKind, JobQueue, Store, StoredForecast, Topic};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a job did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobOutcome {
    /// The job's key.
    pub key: String,
    /// A one-line summary.
    pub summary: String,
}

/// Runs jobs on a runtime.
#[derive(Clone)]
pub struct JobRunner {
    runtime: Runtime,
    store: Arc<dyn Store>,
    books: Arc<Mutex<HashMap<TenantSlug, AlertBook>>>,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner").finish_non_exhaustive()
    }
}

impl JobRunner {
    /// A runner on `runtime`, writing to `store`.
    pub fn new(runtime: Runtime, store: Arc<dyn Store>) -> Self {
        Self { runtime, store, books: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Tonight's whole-tenant scan (alerts, orders, transfers), off the async runtime.
    async fn scan(&self, tenant: &TenantSlug) -> Result<fluxion_agents::alert::Scan, String> {
        let live = self.runtime.live(tenant).await.map_err(|e| e.to_string())?;
        let config = self.runtime.config();
        let (settings, optimizer) = (config.alerts.clone(), config.optimizer.clone());
        let ctx = live.ctx.clone();
        tokio::task::spawn_blocking(move || scan_context(&ctx, &settings, &optimizer)).await.map_err(|e| e.to_string())
    }

    /// Runs one job.
    pub async fn run(&self, job: &Job) -> Result<JobOutcome, String> {
        let tenant = &job.tenant;
        let summary = match job.kind {
            JobKind::RefreshForecasts => {
                let live = self.runtime.refresh(tenant).await.map_err(|e| e.to_string())?;
                let ctx = &live.ctx;
                let computed_at = Utc::now();
                let stored: Vec<StoredForecast> = ctx
                    .ahead
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| {
                        let item = &ctx.world.items[i];
                        Some(StoredForecast {
                            store: ctx.world.stores[item.store].clone(),
                            product: ctx.world.products[item.product].clone(),
                            computed_at,
                            forecast: f.clone()?,
                        })
                    })
                    .collect();
                let scoped = self.store.scope(tenant).await.map_err(|e| e.to_string())?;
                let mut written = 0;
                for chunk in stored.chunks(2_000) {
                    written += scoped.save_forecasts(chunk).await.map_err(|e| e.to_string())?;
                }
                format!("{written} pronósticos guardados")
            }
            JobKind::ScanAlerts => {
                let scan = self.scan(tenant).await?;
                let all = scan.alerts.clone();
                let (news, open) = {
                    let mut books = self.books.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let book = books.entry(tenant.clone()).or_default();
                    let news = book.admit(scan.today, scan.alerts, &scan.holding);
                    (news, book.open().map(|a| a.dedup_key.clone()).collect::<Vec<_>>())
                };
                // The store keeps every open situation (people acknowledge them and give feedback),
                // and resolves those the scan no longer produces.
                let scoped = self.store.scope(tenant).await.map_err(|e| e.to_string())?;
                let open_now: Vec<_> = all.into_iter().filter(|a| open.contains(&a.dedup_key)).collect();
                scoped.record_alerts(&open_now, &open, Utc::now()).await.map_err(|e| e.to_string())?;
                if let Some(semantic) = self.runtime.semantic() {
                    let live = self.runtime.live(tenant).await.map_err(|e| e.to_string())?;
                    let names = |code: &str| live.catalog.product_name(code).map(str::to_owned);
                    if let Err(e) = semantic.remember_alerts(tenant, &news, &names).await {
                        tracing::warn!(error = %e, "new alerts could not be kept in the vector memory");
                    }
                }
                for alert in &news {
                    let event = BusEvent {
                        kind: "alert.new".into(),
                        request: None,
                        agent: Some("alert".into()),
                        data: serde_json::to_value(alert).unwrap_or_default(),
                    };
                    if let Err(e) = self.runtime.bus().publish(&Topic::Tenant(tenant.clone()), &event).await {
                        tracing::warn!(error = %e, "a new alert could not be announced on the bus");
                    }
                }
                format!("{} alertas nuevas", news.len())
            }
            JobKind::Optimize => {
                let scan = self.scan(tenant).await?;
                let scoped = self.store.scope(tenant).await.map_err(|e| e.to_string())?;
                let all: Vec<_> = scan.orders.iter().chain(&scan.transfers).cloned().collect();
                scoped.record_recommendations(&all, Utc::now()).await.map_err(|e| e.to_string())?;
                if let Some(semantic) = self.runtime.semantic() {
                    let live = self.runtime.live(tenant).await.map_err(|e| e.to_string())?;
                    let names = |code: &str| live.catalog.product_name(code).map(str::to_owned);
                    if let Err(e) = semantic.remember_recommendations(tenant, &all, &names).await {
                        tracing::warn!(error = %e, "recommendations could not be kept in the vector memory");
                    }
                }
                let benefit: f64 = scan.orders.iter().chain(&scan.transfers).map(|r| r.benefit_usd).sum();
                format!(
                    "{} pedidos y {} transferencias, US$ {} de margen protegido",
                    scan.orders.len(),
                    scan.transfers.len(),
                    fluxion_domain::format::number(benefit, 2)
                )
            }
        };
        let event = BusEvent {
            kind: "job.done".into(),
            request: None,
            agent: None,
            data: serde_json::json!({"job": job.kind.as_str(), "key": job.key, "attempt": job.attempt, "summary": summary}),
        };
        if let Err(e) = self.runtime.bus().publish(&Topic::Tenant(tenant.clone()), &event).await {
            tracing::warn!(error = %e, "a finished job could not be announced on the bus");
        }
        Ok(JobOutcome { key: job.key.clone(), summary })
    }

    /// Claims and runs jobs until `stop` is cancelled: each job is acknowledged after its effect;
    /// a failed job is left unacknowledged, so it comes back after the visibility timeout.
    pub fn spawn_worker(
        &self,
        queue: Arc<dyn JobQueue>,
        name: String,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let runner = self.clone();
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let jobs = tokio::select! {
                    () = stop.cancelled() => break,
                    jobs = queue.claim(&name, 4, Duration::from_millis(1000)) => jobs,
                };
                let jobs = match jobs {
                    Ok(jobs) => jobs,
                    Err(e) => {
                        tracing::warn!(worker = %name, error = %e, "could not claim jobs; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                };
                for job in jobs {
                    match runner.run(&job).await {
                        Ok(outcome) => {
                            tracing::info!(worker = %name, job = job.kind.as_str(), key = %job.key, attempt = job.attempt, summary = %outcome.summary, "job done");
                            if let Err(e) = queue.ack(&job).await {
                                tracing::warn!(worker = %name, key = %job.key, error = %e, "a finished job could not be acknowledged; it will run again");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(worker = %name, key = %job.key, attempt = job.attempt, error = %e, "job failed; it will be retried");
                        }
                    }
                }
            }
        })
    }
}

/// When the periodic jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Hour (UTC, 0–23) of the daily forecast refresh.
    pub refresh_hour: u32,
    /// Weekday of the weekly optimisation (1 = Monday … 7 = Sunday).
    pub optimize_weekday: u32,
    /// How often the scheduler looks at the clock.
    pub tick: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Self { refresh_hour: 4, optimize_weekday: 1, tick: Duration::from_secs(60) }
    }
}

/// The idempotency keys of the periodic jobs due at `now` for `tenant`: the daily refresh (once
/// its hour has come) followed by a scan, and the weekly optimisation once its weekday and hour
/// have come — on that day normally, or at once on a deployment started later in the week, which
/// then has this week's orders and transfers to show. The keys name the day or the week, so every
/// replica's scheduler queues each job once.
pub fn due(tenant: &TenantSlug, now: chrono::DateTime<Utc>, schedule: &Schedule) -> Vec<(JobKind, String)> {
    let day: NaiveDate = now.date_naive();
    let mut out = Vec::new();
    if now.hour() >= schedule.refresh_hour {
        out.push((JobKind::RefreshForecasts, format!("refresh:{tenant}:{day}")));
        out.push((JobKind::ScanAlerts, format!("scan:{tenant}:{day}")));
    }
    let weekday = day.weekday().number_from_monday();
    if weekday > schedule.optimize_weekday
        || (weekday == schedule.optimize_weekday && now.hour() >= schedule.refresh_hour)
    {
        let week = day.iso_week();
        out.push((JobKind::Optimize, format!("optimize:{tenant}:{}-W{:02}", week.year(), week.week())));
    }
    out
}

/// Queues the periodic jobs of every tenant until `stop` is cancelled.
pub fn spawn_scheduler(
    store: Arc<dyn Store>,
    queue: Arc<dyn JobQueue>,
    schedule: Schedule,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match store.tenants().await {
                Ok(tenants) => {
                    for t in tenants {
                        for (kind, key) in due(&t.slug, Utc::now(), &schedule) {
                            match queue.enqueue(&t.slug, kind, &key).await {
                                Ok(true) => tracing::info!(tenant = %t.slug, job = kind.as_str(), %key, "job queued"),
                                Ok(false) => {}
                                Err(e) => tracing::warn!(tenant = %t.slug, error = %e, "a job could not be queued"),
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the scheduler could not list tenants"),
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(schedule.tick) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_jobs_are_keyed_by_day_and_week() {
        let t = TenantSlug::parse("demo").unwrap_or_else(|_| unreachable!());
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default();
        let s = Schedule::default();
        assert_eq!(
            due(&t, at("2026-11-28T03:59:00Z"), &s),
            [(JobKind::Optimize, "optimize:demo:2026-W48".to_owned())],
            "before the refresh hour, only the week's optimisation, whose Monday has passed"
        );
        // A Saturday: the day's refresh and scan, and this week's optimisation (its Monday has
        // passed: a deployment started today gets it at once, one already running has it queued).
        let sat = due(&t, at("2026-11-28T04:00:00Z"), &s);
        assert_eq!(
            sat,
            [
                (JobKind::RefreshForecasts, "refresh:demo:2026-11-28".to_owned()),
                (JobKind::ScanAlerts, "scan:demo:2026-11-28".to_owned()),
                (JobKind::Optimize, "optimize:demo:2026-W48".to_owned())
            ]
        );
        // Later the same day: the same keys (queued once).
        assert_eq!(due(&t, at("2026-11-28T23:00:00Z"), &s), sat);
        // Monday before the hour: nothing (last week's key is done, this week's not yet due).
        assert!(due(&t, at("2026-11-30T03:00:00Z"), &s).is_empty());
        let mon = due(&t, at("2026-11-30T05:00:00Z"), &s);
        assert_eq!(mon[2], (JobKind::Optimize, "optimize:demo:2026-W49".to_owned()));
        // Tuesday: still the same week's key.
        assert_eq!(due(&t, at("2026-12-01T01:00:00Z"), &s), [(JobKind::Optimize, "optimize:demo:2026-W49".to_owned())]);
        // With Wednesday as its weekday, Tuesday queues no optimisation.
        let wed = Schedule { optimize_weekday: 3, ..Schedule::default() };
        assert!(due(&t, at("2026-12-01T05:00:00Z"), &wed).iter().all(|(k, _)| *k != JobKind::Optimize));
    }
}
