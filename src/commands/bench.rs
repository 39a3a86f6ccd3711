//! `fluxion bench …`: sales ingest throughput into each backend, forecast throughput, the transfer
//! LP and the budget plan, on synthetic data.

use crate::cli::BenchCommand;
use crate::settings::Settings;
use chrono::{Duration, NaiveDate};
use fluxion_domain::product::ProductFields;
use fluxion_domain::{
    ExchangeRate, LineKey, Location, LocationCode, LocationKind, Money, Product, ProductCode, Quantity, SalesLine,
    TenantSlug, Unit,
};
use fluxion_memory::{ChangeSet, Store};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

const STORES: usize = 20;
const PRODUCTS: usize = 500;

#[derive(Debug, Serialize)]
struct IngestFigures {
    backend: String,
    rows: usize,
    batch: usize,
    seconds: f64,
    rows_per_second: f64,
    reingest_seconds: f64,
    reingest_rows_per_second: f64,
}

pub async fn run(settings: &Settings, cmd: BenchCommand, json: bool) -> anyhow::Result<()> {
    let (rows, batch, backend) = match cmd {
        BenchCommand::Ingest { rows, batch, backend } => (rows, batch, backend),
        BenchCommand::Forecast { series, days, horizon } => return forecast(series, days, horizon, json).await,
        BenchCommand::Transfers { stores, products } => return transfers(stores, products, json).await,
        BenchCommand::Budget { candidates } => return budget(candidates, json).await,
        BenchCommand::Vectors { products, queries, engine } => return vectors(products, queries, &engine, json).await,
        BenchCommand::Api { tenant, seconds, connections, limit_per_minute } => {
            return super::bench_api::run(settings, &tenant, seconds, connections, limit_per_minute, json).await;
        }
        BenchCommand::Dashboard { tenant, requests } => {
            return super::bench_dashboard::run(settings, &tenant, requests, json).await;
        }
        BenchCommand::Whatsapp { tenant, rate, seconds, users } => {
            return super::bench_whatsapp::run(settings, &tenant, rate, seconds, users, json).await;
        }
        BenchCommand::Ask { tenant, requests, concurrency } => {
            return ask(settings, &tenant, requests, concurrency, json).await;
        }
    };
    if rows == 0 || batch == 0 {
        return Err(crate::bad_input("--rows and --batch must be at least 1"));
    }
    let (sqlite, postgres) = match backend.as_str() {
        "sqlite" => (true, false),
        "postgres" => (false, true),
        "all" => (true, settings.database_url().is_some()),
        other => return Err(crate::bad_input(format!("--backend {other:?}: use sqlite, postgres or all"))),
    };
    if postgres && settings.database_url().is_none() {
        return Err(crate::bad_input("the postgres benchmark needs database.url (FLUXION_DATABASE__URL)"));
    }
    let catalog = catalog();
    let lines = sales_lines(rows);
    let mut figures = Vec::new();
    if sqlite {
        let dir = tempfile::tempdir()?;
        let store = fluxion_memory::open_sqlite(dir.path()).await?;
        figures.push(measure(store, "sqlite", &catalog, &lines, batch).await?);
    }
    if postgres {
        let store = crate::app::open_store(settings).await?;
        figures.push(measure(store, "postgres", &catalog, &lines, batch).await?);
    }
    if json {
        super::print_json(&figures)?;
    } else {
        for f in &figures {
            println!(
                "{:<9} {} rows in batches of {}: {:.2} s = {:.0} rows/s; re-ingest (all duplicates): {:.2} s = {:.0} rows/s",
                f.backend,
                f.rows,
                f.batch,
                f.seconds,
                f.rows_per_second,
                f.reingest_seconds,
                f.reingest_rows_per_second
            );
        }
    }
    Ok(())
}

/// Ingests `lines` into a fresh tenant, twice (the second time every line is a duplicate), then deletes it.
async fn measure(
    store: Arc<dyn Store>,
    backend: &str,
    catalog: &ChangeSet,
    lines: &[SalesLine],
    batch: usize,
) -> anyhow::Result<IngestFigures> {
    let slug = TenantSlug::parse(&format!("bench_{}", uuid::Uuid::new_v4().simple()))?;
    store.create_tenant(&slug, "ingest benchmark").await?;
    let tenant = store.scope(&slug).await?;
    tenant.apply(catalog).await?;
    let mut seconds = [0.0; 2];
    for pass in &mut seconds {
        let clock = Instant::now();
        for chunk in lines.chunks(batch) {
            tenant.apply(&ChangeSet { sales: chunk.to_vec(), ..ChangeSet::default() }).await?;
        }
        *pass = clock.elapsed().as_secs_f64();
    }
    let stored = tenant.counts().await?.sales;
    drop(tenant);
    store.delete_tenant(&slug).await?;
    anyhow::ensure!(stored == lines.len() as u64, "{backend}: {stored} lines stored, {} expected", lines.len());
    Ok(IngestFigures {
        backend: backend.into(),
        rows: lines.len(),
        batch,
        seconds: seconds[0],
        rows_per_second: lines.len() as f64 / seconds[0],
        reingest_seconds: seconds[1],
        reingest_rows_per_second: lines.len() as f64 / seconds[1],
    })
}

fn catalog() -> ChangeSet {
    let locations = (0..STORES)
        .map(|s| Location {
            code: code(&format!("S{s:03}")),
            name: format!("Store {s}"),
            city: "Caracas".into(),
            kind: LocationKind::Store,
        })
        .collect();
    let products = (0..PRODUCTS)
        .filter_map(|p| {
            Product::new(ProductFields {
                code: ProductCode::parse(&format!("P{p:05}")).ok()?,
                barcodes: vec![],
                name: format!("Product {p}"),
                brand: String::new(),
                category: String::new(),
                unit: Unit::Each,
                pack_size: 1,
                shelf_life_days: None,
                cost: Money::usd_cents(100),
                price: Money::usd_cents(130),
                supplier: None,
            })
            .ok()
        })
        .collect();
    ChangeSet { locations, products, ..ChangeSet::default() }
}

fn code(s: &str) -> LocationCode {
    // Benchmark codes are short ASCII: parsing cannot fail.
    LocationCode::parse(s).unwrap_or_else(|_| unreachable!("benchmark location code {s}"))
}

/// `n` daily sales lines spread over stores × products × days.
fn sales_lines(n: usize) -> Vec<SalesLine> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let stores: Vec<LocationCode> = (0..STORES).map(|s| code(&format!("S{s:03}"))).collect();
    let products: Vec<ProductCode> =
        (0..PRODUCTS).filter_map(|p| ProductCode::parse(&format!("P{p:05}")).ok()).collect();
    let series = stores.len() * products.len();
    (0..n)
        .filter_map(|i| {
            let (s, p, d) = (i % stores.len(), (i / stores.len()) % products.len(), i / series);
            let day = start + Duration::days(d as i64);
            Some(SalesLine {
                key: LineKey::parse(&format!("b:{s}:{p}:{d}")).ok()?,
                store: stores[s].clone(),
                product: products[p].clone(),
                sold_at: day.and_hms_opt(20, 0, 0)?,
                quantity: Quantity::new(1.0 + (i % 7) as f64).ok()?,
                amount: Money::usd_cents(130 * (1 + (i % 7) as i64)),
                rate: ExchangeRate::ONE,
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct ForecastFigures {
    series: usize,
    days: usize,
    horizon: usize,
    threads: usize,
    seconds: f64,
    series_per_second: f64,
}

/// Forecasts `n` synthetic daily series (weekly shape, paydays, levels from 0.2 to 200 units a day,
/// a quarter of them intermittent) with the automatic forecaster and its quantiles, on every core.
async fn forecast(n: usize, days: usize, horizon: usize, json: bool) -> anyhow::Result<()> {
    use fluxion_agents::forecast::tenant::tenant_calendar;
    use fluxion_agents::forecast::{AutoConfig, forecast_batch};
    use fluxion_domain::forecast::{DemandSeries, Frequency};
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Gamma, Poisson};
    if !(1..=1_000_000).contains(&n) || !(14..=3_650).contains(&days) || !(1..=366).contains(&horizon) {
        return Err(crate::bad_input("--series 1–1000000, --days 14–3650 and --horizon 1–366"));
    }
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let end = start + Duration::days(days as i64 + horizon as i64);
    let calendar = tenant_calendar(&[], start, end);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let weekly = [0.9, 0.85, 0.9, 0.95, 1.1, 1.3, 1.0];
    let series: Vec<DemandSeries> = (0..n)
        .map(|i| {
            let level: f64 = 10f64.powf(rng.random_range(-0.7..2.3));
            let values = (0..days)
                .map(|d| {
                    let day = start + Duration::days(d as i64);
                    let w = weekly[chrono::Datelike::weekday(&day).num_days_from_monday() as usize];
                    let payday = if fluxion_domain::calendar::is_quincena(day) { 1.3 } else { 1.0 };
                    let mean = level * w * payday * Gamma::new(4.0, 0.25).map_or(1.0, |g| g.sample(&mut rng));
                    Poisson::new(mean.max(1e-9)).map_or(0.0, |p| p.sample(&mut rng))
                })
                .collect();
            DemandSeries::new(
                format!("S{}:P{i}", i % 20),
                format!("S{}", i % 20),
                format!("P{i}"),
                start,
                Frequency::Daily,
                values,
            )
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cfg = AutoConfig::default();
    let (seconds, made) = tokio::task::spawn_blocking(move || {
        let clock = Instant::now();
        let batch = forecast_batch(&series, horizon, &calendar, &cfg);
        (clock.elapsed().as_secs_f64(), batch.forecasts.iter().flatten().count())
    })
    .await?;
    anyhow::ensure!(made == n, "{made} of {n} series forecast");
    let figures = ForecastFigures { series: n, days, horizon, threads, seconds, series_per_second: n as f64 / seconds };
    if json {
        super::print_json(&figures)?;
    } else {
        println!(
            "forecast: {n} daily series × {days} days, h={horizon}, quantiles P10/P50/P90, {threads} threads: {seconds:.2} s = {:.0} series/s",
            figures.series_per_second
        );
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct TransferFigures {
    stores: usize,
    products: usize,
    programs: usize,
    variables: usize,
    threads: usize,
    seconds: f64,
    objective: f64,
    cost_without: f64,
    moves: usize,
    units_moved: f64,
}

/// The transfer LP on a random chain: each store × product has stock and demand drawn from 0..40
/// (so about half the pairs are short and half long); moving a unit costs 0.5 + 0.05 × the distance
/// between the stores' positions on a line; a unit short costs 10.
async fn transfers(stores: usize, products: usize, json: bool) -> anyhow::Result<()> {
    use fluxion_agents::optimizer::{ProductTransfers, StorePosition, plan_transfers};
    use rand::{Rng, SeedableRng};
    if !(2..=500).contains(&stores) || !(1..=100_000).contains(&products) {
        return Err(crate::bad_input("--stores 2–500 and --products 1–100000"));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let problems: Vec<ProductTransfers> = (0..products)
        .map(|p| ProductTransfers {
            product: p,
            stores: (0..stores)
                .map(|s| {
                    let stock = f64::from(rng.random_range(0u32..=40));
                    let demand = f64::from(rng.random_range(0u32..=40));
                    StorePosition {
                        store: s,
                        surplus: (stock - demand).max(0.0),
                        shortage: (demand - stock).max(0.0),
                        shortage_cost: 10.0,
                    }
                })
                .collect(),
        })
        .collect();
    let threads = rayon::current_num_threads();
    let (seconds, plan) = tokio::task::spawn_blocking(move || {
        let lane = |a: usize, b: usize| Some(0.5 + 0.05 * (a as f64 - b as f64).abs());
        let clock = Instant::now();
        let plan = plan_transfers(&problems, &lane);
        (clock.elapsed().as_secs_f64(), plan)
    })
    .await?;
    let plan = plan?;
    let figures = TransferFigures {
        stores,
        products,
        programs: plan.programs,
        variables: plan.variables,
        threads,
        seconds,
        objective: plan.objective,
        cost_without: plan.cost_without,
        moves: plan.moves.len(),
        units_moved: plan.moves.iter().map(|m| m.units).sum(),
    };
    if json {
        super::print_json(&figures)?;
    } else {
        println!(
            "transfers: {stores} stores × {products} products, {} programs, {} variables, {threads} threads: {seconds:.3} s to optimality; \
             objective {:.4} (shortage cost without transfers {:.0}), {} moves, {:.0} units",
            figures.programs,
            figures.variables,
            figures.objective,
            figures.cost_without,
            figures.moves,
            figures.units_moved
        );
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct BudgetFigures {
    candidates: usize,
    budget: f64,
    total_value: f64,
    seconds: f64,
    chosen: usize,
    spent: f64,
    benefit: f64,
    greedy_benefit: f64,
}

/// The purchase plan under a budget on random candidate orders (value 50–2,000 USD, return 5–60% of
/// it), with the budget at half of all the orders' value; the greedy ratio rule is shown beside it.
async fn budget(candidates: usize, json: bool) -> anyhow::Result<()> {
    use fluxion_agents::optimizer::{Candidate, plan_purchases};
    use rand::{Rng, SeedableRng};
    if !(1..=100_000).contains(&candidates) {
        return Err(crate::bad_input("--candidates 1–100000"));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let cands: Vec<Candidate> = (0..candidates)
        .map(|id| {
            let value = (rng.random_range(50.0..2_000.0f64)).round();
            Candidate { id, value, benefit: (value * rng.random_range(0.05..0.6f64)).round() }
        })
        .collect();
    let total: f64 = cands.iter().map(|c| c.value).sum();
    let budget = (total / 2.0).round();
    let mut by_ratio: Vec<&Candidate> = cands.iter().collect();
    by_ratio.sort_by(|a, b| b.ratio().total_cmp(&a.ratio()));
    let mut left = budget;
    let greedy: f64 = by_ratio
        .iter()
        .filter(|c| {
            let fits = c.value <= left;
            if fits {
                left -= c.value;
            }
            fits
        })
        .map(|c| c.benefit)
        .sum();
    let (seconds, plan) = tokio::task::spawn_blocking(move || {
        let clock = Instant::now();
        let plan = plan_purchases(&cands, budget);
        (clock.elapsed().as_secs_f64(), plan)
    })
    .await?;
    let plan = plan?;
    let figures = BudgetFigures {
        candidates,
        budget,
        total_value: total,
        seconds,
        chosen: plan.chosen.len(),
        spent: plan.spent,
        benefit: plan.benefit,
        greedy_benefit: greedy,
    };
    if json {
        super::print_json(&figures)?;
    } else {
        println!(
            "budget: {candidates} candidate orders worth {total:.0}, budget {budget:.0}: {seconds:.3} s; {} chosen, spent {:.0}, \
             margin protected {:.0} (greedy by ratio: {greedy:.0})",
            figures.chosen, figures.spent, figures.benefit
        );
    }
    Ok(())
}

/// The question mix of `bench ask`: every intent, with and without a store, names written loosely.
const ASK_MIX: &[&str] = &[
    "¿Cuánta harina PAN necesito para la quincena?",
    "¿Cuánta harina pan blanca necesito para la quincena en Chacao?",
    "¿cuánto aceite diana pido para la semana en Valencia?",
    "¿Qué se me va a agotar en Chacao?",
    "¿Qué se va a agotar esta semana?",
    "¿Qué tengo de más en Maracaibo?",
    "¿Cómo se vendió el arroz?",
    "¿Cómo se vendió la mayonesa mavesa en Prebo?",
    "¿Qué debo transferir a Lechería?",
    "harna pan para 10 días",
    "hola",
    "sí",
];

#[derive(Debug, Serialize)]
struct AskFigures {
    tenant: String,
    bus: String,
    requests: usize,
    context_load_seconds: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    overhead_p50_ms: f64,
    overhead_p95_ms: f64,
    degraded: usize,
    concurrency: usize,
    requests_per_second: f64,
    concurrent_p95_ms: f64,
    per_question: Vec<(String, f64, f64)>,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Everything but the agents' own compute: messaging, planning, the bus, the trace. Stages run in
/// sequence except Alert ‖ Optimizer, which overlap.
fn overhead_ms(a: &fluxion_domain::Answer) -> f64 {
    let compute =
        |k: fluxion_domain::AgentKind| a.agents.iter().find(|r| r.agent == k).map_or(0.0, |r| r.compute_millis);
    use fluxion_domain::AgentKind::*;
    let agents = compute(Chat) + compute(Forecast) + compute(Alert).max(compute(Optimizer));
    (a.millis - agents).max(0.0)
}

async fn ask(settings: &Settings, tenant: &str, requests: usize, concurrency: usize, json: bool) -> anyhow::Result<()> {
    let slug = TenantSlug::parse(tenant)?;
    if !(1..=1_000_000).contains(&requests) || !(1..=1024).contains(&concurrency) {
        return Err(crate::bad_input("--requests 1–1000000 and --concurrency 1–1024"));
    }
    let store = crate::app::open_store(settings).await?;
    store.scope(&slug).await?;
    let runtime = crate::app::start_runtime(settings, store).await?;
    let clock = Instant::now();
    runtime.live(&slug).await?;
    let context_load_seconds = clock.elapsed().as_secs_f64();
    // Warm-up.
    for q in ASK_MIX {
        runtime.ask(&slug, q, "bench").await?;
    }
    // Phase 1: one asker, latency and overhead.
    let mut latencies = Vec::with_capacity(requests);
    let mut overheads = Vec::with_capacity(requests);
    let mut by_question: Vec<Vec<f64>> = vec![Vec::new(); ASK_MIX.len()];
    let mut degraded = 0;
    for n in 0..requests {
        let q = ASK_MIX[n % ASK_MIX.len()];
        let t = Instant::now();
        let a = runtime.ask(&slug, q, "bench").await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        latencies.push(ms);
        overheads.push(overhead_ms(&a));
        by_question[n % ASK_MIX.len()].push(ms);
        degraded += usize::from(a.degraded);
    }
    latencies.sort_by(f64::total_cmp);
    overheads.sort_by(f64::total_cmp);
    // Phase 2: concurrent askers, throughput.
    let clock = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..concurrency {
        let (runtime, slug, next) = (runtime.clone(), slug.clone(), next.clone());
        tasks.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= requests {
                    break;
                }
                let t = Instant::now();
                let a = runtime.ask(&slug, ASK_MIX[n % ASK_MIX.len()], "bench").await?;
                mine.push((t.elapsed().as_secs_f64() * 1000.0, a.degraded));
            }
            anyhow::Ok(mine)
        });
    }
    let mut concurrent = Vec::with_capacity(requests);
    while let Some(done) = tasks.join_next().await {
        for (ms, d) in done?? {
            concurrent.push(ms);
            degraded += usize::from(d);
        }
    }
    let seconds = clock.elapsed().as_secs_f64();
    concurrent.sort_by(f64::total_cmp);
    runtime.shutdown().await;
    let per_question = ASK_MIX
        .iter()
        .zip(by_question.iter_mut())
        .map(|(q, v)| {
            v.sort_by(f64::total_cmp);
            ((*q).to_owned(), quantile(v, 0.5), quantile(v, 0.95))
        })
        .collect();
    let figures = AskFigures {
        tenant: slug.to_string(),
        bus: runtime.bus().kind().to_owned(),
        requests,
        context_load_seconds,
        p50_ms: quantile(&latencies, 0.5),
        p95_ms: quantile(&latencies, 0.95),
        p99_ms: quantile(&latencies, 0.99),
        overhead_p50_ms: quantile(&overheads, 0.5),
        overhead_p95_ms: quantile(&overheads, 0.95),
        degraded,
        concurrency,
        requests_per_second: requests as f64 / seconds,
        concurrent_p95_ms: quantile(&concurrent, 0.95),
        per_question,
    };
    if json {
        return crate::commands::print_json(&figures);
    }
    let n = |x: f64| fluxion_domain::format::number(x, 2);
    println!(
        "ask on {} ({} bus, {} requests, context loaded in {} s)",
        figures.tenant,
        figures.bus,
        requests,
        n(context_load_seconds)
    );
    println!(
        "  one asker:      p50 {} ms, p95 {} ms, p99 {} ms",
        n(figures.p50_ms),
        n(figures.p95_ms),
        n(figures.p99_ms)
    );
    println!(
        "  orchestration:  p50 {} ms, p95 {} ms (everything but the agents' own compute)",
        n(figures.overhead_p50_ms),
        n(figures.overhead_p95_ms)
    );
    println!(
        "  {} askers:      {} requests/s, p95 {} ms",
        concurrency,
        fluxion_domain::format::number(figures.requests_per_second, 0),
        n(figures.concurrent_p95_ms)
    );
    println!("  degraded answers: {}", figures.degraded);
    for (q, p50, p95) in &figures.per_question {
        println!("    {:>8} / {:>8} ms  {q}", n(*p50), n(*p95));
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct VectorFigures {
    engine: String,
    products: usize,
    dim: usize,
    embed_seconds: f64,
    upsert_seconds: f64,
    /// Building the search index (HNSW for Qdrant's engine; none for the exact index).
    optimize_seconds: f64,
    queries: usize,
    p50_ms: f64,
    p95_ms: f64,
    /// Share of misspelt names whose own product came first.
    top1: f64,
}

async fn vectors(products: usize, queries: usize, engine: &str, json: bool) -> anyhow::Result<()> {
    use fluxion_memory::{EdgeStore, Embedder, ExactIndex, Filter, HashEmbedder, VectorPoint, VectorStore};
    if !(1..=1_000_000).contains(&products) || !(1..=100_000).contains(&queries) {
        return Err(crate::bad_input("--products 1–1000000 and --queries 1–100000"));
    }
    let engines: &[&str] = match engine {
        "both" => &["edge", "edge-hnsw", "exact"],
        "edge" => &["edge", "edge-hnsw"],
        "exact" => &["exact"],
        _ => return Err(crate::bad_input("--engine must be edge, exact or both")),
    };
    let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
    let chain = fluxion_connectors::demo::generate(&fluxion_connectors::demo::DemoConfig::new(1, 1, 400, 60, end)?)?;
    let base: Vec<String> =
        chain.batch(0).map(|c| c.products.iter().map(|p| p.name().to_owned()).collect()).unwrap_or_default();
    if base.is_empty() {
        anyhow::bail!("the demo catalog is empty");
    }
    // The catalog's names, then numbered presentations of them, up to `products`.
    let names: Vec<String> = (0..products)
        .map(|i| {
            let name = &base[i % base.len()];
            if i < base.len() { name.clone() } else { format!("{name} presentación {}", i / base.len()) }
        })
        .collect();
    let e = HashEmbedder::default();
    let clock = Instant::now();
    let vectors = e.embed_now(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let embed_seconds = clock.elapsed().as_secs_f64();
    // Queries: a catalog name with one letter dropped from its first long word.
    let typos: Vec<(usize, Vec<f32>)> = (0..queries)
        .map(|q| {
            let target = q % base.len();
            let name = &base[target];
            let typo: String = match name.split_whitespace().position(|w| w.chars().count() > 4) {
                Some(k) => name
                    .split_whitespace()
                    .enumerate()
                    .map(|(j, w)| if j == k { w.chars().skip(1).collect::<String>() } else { w.to_owned() })
                    .collect::<Vec<_>>()
                    .join(" "),
                None => name.clone(),
            };
            (target, e.embed_now(&[typo.as_str()]).remove(0))
        })
        .collect();
    let tenant = TenantSlug::parse("bench")?;
    let other = TenantSlug::parse("other")?;
    let points = |v: &[Vec<f32>]| -> Vec<VectorPoint> {
        v.iter()
            .enumerate()
            .map(|(i, vector)| VectorPoint {
                id: i.to_string(),
                kind: "product".into(),
                owner: None,
                vector: vector.clone(),
                payload: serde_json::Value::Null,
            })
            .collect()
    };
    let mut all = Vec::new();
    for &name in engines {
        let dir = tempfile::tempdir()?;
        let index: Box<dyn VectorStore> = match name {
            "edge" => Box::new(EdgeStore::open(dir.path(), &e.id(), e.dim())?),
            "edge-hnsw" => Box::new(EdgeStore::open(dir.path(), &e.id(), e.dim())?.exact(false)),
            _ => Box::new(ExactIndex::new(e.dim())),
        };
        let clock = Instant::now();
        index.upsert(&tenant, points(&vectors)).await?;
        // Another tenant of the same size: a search must filter it out.
        index.upsert(&other, points(&vectors)).await?;
        let upsert_seconds = clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        index.optimize().await?;
        let optimize_seconds = clock.elapsed().as_secs_f64();
        let mut latencies = Vec::with_capacity(queries);
        let mut first = 0usize;
        for (target, v) in &typos {
            let clock = Instant::now();
            let hits = index.search(&tenant, v, 5, Filter::kind("product")).await?;
            latencies.push(clock.elapsed().as_secs_f64() * 1000.0);
            first += usize::from(hits.first().is_some_and(|h| h.id == target.to_string()));
        }
        latencies.sort_by(f64::total_cmp);
        all.push(VectorFigures {
            engine: match name {
                "edge" => "qdrant-edge exact".to_owned(),
                "edge-hnsw" => "qdrant-edge hnsw".to_owned(),
                _ => index.backend().to_owned(),
            },
            products,
            dim: e.dim(),
            embed_seconds,
            upsert_seconds,
            optimize_seconds,
            queries,
            p50_ms: quantile(&latencies, 0.5),
            p95_ms: quantile(&latencies, 0.95),
            top1: first as f64 / queries as f64,
        });
    }
    if json {
        return crate::commands::print_json(&all);
    }
    let n = |x: f64| fluxion_domain::format::number(x, 3);
    println!("vectors: {products} products per tenant × 2 tenants, dim {} (hash n-gram embedder)", e.dim());
    println!("  embed {} s", n(embed_seconds));
    for f in &all {
        println!(
            "  {:<18} upsert {} s, index {} s; filtered top-5 p50 {} ms, p95 {} ms over {} queries; misspelt names \
             found first {} %",
            f.engine,
            n(f.upsert_seconds),
            n(f.optimize_seconds),
            n(f.p50_ms),
            n(f.p95_ms),
            f.queries,
            fluxion_domain::format::number(100.0 * f.top1, 1)
        );
    }
    Ok(())
}
