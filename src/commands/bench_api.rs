//! `fluxion bench api`: a mixed API workload over HTTP against the embedded server (or the
//! configured PostgreSQL/Redis), with N connections for S seconds: requests per second, p50/p99
//! latency per route and overall, errors; then the rate limit under the same pressure: how many
//! requests a key's budget let through against what the budget allows.

use crate::settings::Settings;
use anyhow::Context;
use chrono::Utc;
use fluxion_domain::TenantSlug;
use fluxion_memory::{Job, JobKind, Limit, Scope};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Serialize)]
struct RouteFigures {
    route: &'static str,
    requests: usize,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Debug, Serialize)]
struct Figures {
    tenant: String,
    backend: String,
    rate_limits: &'static str,
    connections: usize,
    seconds: f64,
    requests: usize,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
    /// Failed requests by route and status (0: no answer).
    error_kinds: Vec<(String, u16, usize)>,
    routes: Vec<RouteFigures>,
    limit_per_minute: u32,
    limit_burst: u32,
    limit_seconds: f64,
    limit_attempts: usize,
    limit_allowed: usize,
    limit_budget: f64,
    limit_refused_without_retry_after: usize,
}

/// The `p` quantile of sorted values (nearest rank); 0 when there are none.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One request of the mix.
#[derive(Clone, Copy, Debug)]
enum Op {
    Stores,
    Products,
    Product,
    Stock,
    Forecasts,
    Alerts,
    Recommendations,
    Me,
    Sales,
    Ask,
}

impl Op {
    fn route(self) -> &'static str {
        match self {
            Op::Stores => "GET /api/v1/stores",
            Op::Products => "GET /api/v1/products?q=",
            Op::Product => "GET /api/v1/products/{code}",
            Op::Stock => "GET /api/v1/stock",
            Op::Forecasts => "GET /api/v1/forecasts",
            Op::Alerts => "GET /api/v1/alerts",
            Op::Recommendations => "GET /api/v1/recommendations",
            Op::Me => "GET /api/v1/me",
            Op::Sales => "POST /api/v1/sales",
            Op::Ask => "POST /api/v1/ask",
        }
    }
}

/// The mix, by weight out of 100.
const MIX: [(Op, u32); 10] = [
    (Op::Stores, 10),
    (Op::Products, 12),
    (Op::Product, 10),
    (Op::Stock, 12),
    (Op::Forecasts, 15),
    (Op::Alerts, 15),
    (Op::Recommendations, 10),
    (Op::Me, 8),
    (Op::Sales, 6),
    (Op::Ask, 2),
];

fn pick(n: u64) -> Op {
    let mut r = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33) % 100;
    for (op, w) in MIX {
        if r < u64::from(w) {
            return op;
        }
        r -= u64::from(w);
    }
    Op::Me
}

struct Catalog {
    stores: Vec<String>,
    products: Vec<(String, String)>,
}

/// Forecasts, alerts and recommendations to read, as the nightly jobs would leave them.
pub(super) async fn nightly_jobs(
    runtime: &fluxion_orchestrator::Runtime,
    store: &Arc<dyn fluxion_memory::Store>,
    slug: &TenantSlug,
) -> anyhow::Result<()> {
    let runner = fluxion_orchestrator::JobRunner::new(runtime.clone(), store.clone());
    for kind in [JobKind::RefreshForecasts, JobKind::ScanAlerts, JobKind::Optimize] {
        let job = Job {
            id: Uuid::new_v4().to_string(),
            tenant: slug.clone(),
            kind,
            key: format!("bench:{}", kind.as_str()),
            attempt: 1,
        };
        runner.run(&job).await.map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// A tenant loaded for a benchmark, with the nightly jobs' results in its store.
pub(super) struct Loaded {
    pub slug: TenantSlug,
    pub store: Arc<dyn fluxion_memory::Store>,
    pub tenant: fluxion_domain::Tenant,
    pub runtime: fluxion_orchestrator::Runtime,
}

/// Opens the configured store, finds `tenant` (a clear error when it was never loaded), starts the
/// runtime and runs the nightly jobs.
pub(super) async fn load_tenant(settings: &Settings, tenant: &str) -> anyhow::Result<Loaded> {
    let slug = TenantSlug::parse(tenant)?;
    let store = crate::app::open_store(settings).await?;
    let tenant = store
        .tenant(&slug)
        .await?
        .ok_or_else(|| crate::bad_input(format!("tenant {slug} does not exist: load it first (`fluxion demo`)")))?;
    let runtime = crate::app::start_runtime(settings, store.clone()).await?;
    nightly_jobs(&runtime, &store, &slug).await?;
    Ok(Loaded { slug, store, tenant, runtime })
}

pub async fn run(
    settings: &Settings,
    tenant: &str,
    seconds: u64,
    connections: usize,
    limit_per_minute: u32,
    json: bool,
) -> anyhow::Result<()> {
    if !(1..=3_600).contains(&seconds) || !(1..=1_024).contains(&connections) || limit_per_minute == 0 {
        return Err(crate::bad_input("--seconds 1–3600, --connections 1–1024, --limit-per-minute ≥ 1"));
    }
    let Loaded { slug, store, tenant: t, runtime } = load_tenant(settings, tenant).await?;
    let scoped = store.scope(&slug).await?;
    let catalog = Arc::new(Catalog {
        // Stores only: sales happen at stores, not at the distribution centre.
        stores: scoped
            .locations()
            .await?
            .iter()
            .filter(|l| l.kind == fluxion_domain::LocationKind::Store)
            .map(|l| l.code.to_string())
            .collect(),
        products: scoped
            .products()
            .await?
            .iter()
            .map(|p| (p.code().to_string(), p.name().split_whitespace().next().unwrap_or("").to_lowercase()))
            .collect(),
    });
    anyhow::ensure!(
        !catalog.stores.is_empty() && !catalog.products.is_empty(),
        "tenant {slug} has no stores or products"
    );

    // Two keys: one with a budget too large to matter (throughput), one with the budget under test.
    let mut api = crate::app::open_api(settings, store.clone(), runtime.clone())?;
    let rate_limits = api.limiter.kind();
    api.limits.tiers.insert(api.limits.default_tier.clone(), Limit::new(10_000_000, 1_000_000));
    api.limits.tenant_tiers.clear();
    let burst = (limit_per_minute / 6).max(1);
    api.limits.api_key = Limit::new(10_000_000, 1_000_000);
    let mut keys = Vec::new();
    for (name, rate) in [("bench-throughput", None), ("bench-limit", Some(limit_per_minute))] {
        let (record, key) = fluxion_gateway::auth::issue_api_key(t.id, name.into(), Scope::ALL.to_vec(), rate, None);
        store.accounts().create_api_key(&record).await?;
        keys.push(key);
    }
    let state = fluxion_gateway::AppState::new(vec![], Duration::from_secs(1)).with_api(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("listen")?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(fluxion_gateway::serve(listener, state, shutdown.clone()));
    let client = fluxion_memory::http_client(Duration::from_secs(30)).map_err(|e| anyhow::anyhow!("{e}"))?;

    // Phase 1: the mix, `connections` at once, for `seconds`.
    let results = Arc::new(std::sync::Mutex::new(Vec::<(Op, f64, u16)>::new()));
    let errors = Arc::new(AtomicUsize::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    // Sales keys unique to this run: a batch is never refused as a replay of an earlier run's.
    let run = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let (client, base, key, catalog, results, errors, counter, run) = (
            client.clone(),
            base.clone(),
            keys[0].clone(),
            catalog.clone(),
            results.clone(),
            errors.clone(),
            counter.clone(),
            run.clone(),
        );
        tasks.spawn(async move {
            let mut mine = Vec::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let op = pick(n);
                let (store, (product, word)) =
                    (&catalog.stores[n as usize % catalog.stores.len()], &catalog.products[n as usize % catalog.products.len()]);
                let req = match op {
                    Op::Stores => client.get(format!("{base}/api/v1/stores")),
                    Op::Products => client.get(format!("{base}/api/v1/products?q={word}&limit=20")),
                    Op::Product => client.get(format!("{base}/api/v1/products/{product}")),
                    Op::Stock => client.get(format!("{base}/api/v1/stock?store={store}&limit=50")),
                    Op::Forecasts => client.get(format!("{base}/api/v1/forecasts?store={store}&product={product}&horizon=14")),
                    Op::Alerts => client.get(format!("{base}/api/v1/alerts?limit=20")),
                    Op::Recommendations => client.get(format!("{base}/api/v1/recommendations?limit=20&status=pending")),
                    Op::Me => client.get(format!("{base}/api/v1/me")),
                    Op::Sales => {
                        let lines: Vec<_> = (0..5)
                            .map(|i| serde_json::json!({"line_key": format!("bench-{run}-{c}-{n}-{i}"), "store": store, "product": product,
                                "sold_at": Utc::now().naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
                                "quantity": 1, "amount": "2.50", "currency": "USD"}))
                            .collect();
                        client
                            .post(format!("{base}/api/v1/sales"))
                            .header("idempotency-key", format!("bench-{run}-{c}-{n}"))
                            .header("content-type", "application/json")
                            .body(serde_json::json!({"lines": lines}).to_string())
                    }
                    Op::Ask => client
                        .post(format!("{base}/api/v1/ask"))
                        .header("content-type", "application/json")
                        .body(serde_json::json!({"question": format!("¿cuánto {word} necesito para la semana?")}).to_string()),
                };
                let t = Instant::now();
                let status = match req.header("authorization", format!("Bearer {key}")).send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                if !(200..300).contains(&status) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                mine.push((op, t.elapsed().as_secs_f64() * 1000.0, status));
            }
            results.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(mine);
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let all = std::mem::take(&mut *results.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let mut latencies: Vec<f64> = all.iter().map(|(_, ms, _)| *ms).collect();
    let mut error_kinds: std::collections::BTreeMap<(String, u16), usize> = std::collections::BTreeMap::new();
    for (op, _, status) in &all {
        if !(200..300).contains(status) {
            *error_kinds.entry((op.route().to_owned(), *status)).or_default() += 1;
        }
    }
    let error_kinds: Vec<(String, u16, usize)> = error_kinds.into_iter().map(|((r, s), n)| (r, s, n)).collect();
    latencies.sort_by(f64::total_cmp);
    let mut routes = Vec::new();
    for (op, _) in MIX {
        let mut mine: Vec<f64> = all.iter().filter(|(o, _, _)| o.route() == op.route()).map(|(_, ms, _)| *ms).collect();
        mine.sort_by(f64::total_cmp);
        routes.push(RouteFigures {
            route: op.route(),
            requests: mine.len(),
            p50_ms: percentile(&mine, 0.5),
            p99_ms: percentile(&mine, 0.99),
        });
    }

    // Phase 2: the limited key under the same pressure, for a third of the time (at least 10 s).
    let limit_seconds = (seconds / 3).max(10);
    let allowed = Arc::new(AtomicUsize::new(0));
    let attempts = Arc::new(AtomicUsize::new(0));
    let missing_retry = Arc::new(AtomicUsize::new(0));
    let limit_start = Instant::now();
    let until = limit_start + Duration::from_secs(limit_seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (client, base, key, allowed, attempts, missing_retry) =
            (client.clone(), base.clone(), keys[1].clone(), allowed.clone(), attempts.clone(), missing_retry.clone());
        tasks.spawn(async move {
            while Instant::now() < until {
                attempts.fetch_add(1, Ordering::Relaxed);
                if let Ok(r) = client
                    .get(format!("{base}/api/v1/me"))
                    .header("authorization", format!("Bearer {key}"))
                    .send()
                    .await
                {
                    match r.status().as_u16() {
                        200 => {
                            allowed.fetch_add(1, Ordering::Relaxed);
                        }
                        429 if !r.headers().contains_key("retry-after") => {
                            missing_retry.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                    let _ = r.bytes().await;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let limit_elapsed = limit_start.elapsed().as_secs_f64();
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    runtime.shutdown().await;
    // Remove the bench's keys' rights: revoke them.
    for key in store.accounts().api_keys(t.id).await? {
        if key.name.starts_with("bench-") && key.revoked_at.is_none() {
            store.accounts().revoke_api_key(t.id, key.id, Utc::now()).await?;
        }
    }

    let figures = Figures {
        tenant: slug.to_string(),
        backend: store.backend().to_string(),
        rate_limits,
        connections,
        seconds: elapsed,
        requests: latencies.len(),
        requests_per_second: latencies.len() as f64 / elapsed,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        errors: errors.load(Ordering::Relaxed),
        error_kinds,
        routes,
        limit_per_minute,
        limit_burst: burst,
        limit_seconds: limit_elapsed,
        limit_attempts: attempts.load(Ordering::Relaxed),
        limit_allowed: allowed.load(Ordering::Relaxed),
        limit_budget: f64::from(burst) + f64::from(limit_per_minute) * limit_elapsed / 60.0,
        limit_refused_without_retry_after: missing_retry.load(Ordering::Relaxed),
    };
    if json {
        super::print_json(&figures)?;
    } else {
        println!(
            "API, {} s, {} connections ({} store, rate limits {}):",
            fmt(figures.seconds),
            connections,
            figures.backend,
            rate_limits
        );
        println!(
            "  {} requests, {} req/s, p50 {} ms, p99 {} ms, {} errors",
            figures.requests,
            fmt(figures.requests_per_second),
            fmt(figures.p50_ms),
            fmt(figures.p99_ms),
            figures.errors
        );
        for (route, status, n) in &figures.error_kinds {
            println!("  errors: {n} × {status} on {route}");
        }
        for r in &figures.routes {
            println!(
                "  {:<36} {:>8} req  p50 {:>7} ms  p99 {:>7} ms",
                r.route,
                r.requests,
                fmt(r.p50_ms),
                fmt(r.p99_ms)
            );
        }
        println!(
            "Rate limit ({} / min, burst {}), {} s under {} connections: {} of {} requests allowed; the budget allows {}; {} refusals without Retry-After",
            limit_per_minute,
            burst,
            fmt(figures.limit_seconds),
            connections,
            figures.limit_allowed,
            figures.limit_attempts,
            fmt(figures.limit_budget),
            figures.limit_refused_without_retry_after
        );
    }
    if figures.errors > 0 {
        anyhow::bail!("{} requests failed", figures.errors);
    }
    if figures.limit_allowed as f64 > figures.limit_budget + 1.0 {
        anyhow::bail!(
            "the rate limit let {} requests through; its budget was {}",
            figures.limit_allowed,
            fmt(figures.limit_budget)
        );
    }
    Ok(())
}

fn fmt(v: f64) -> String {
    format!("{v:.2}")
}
