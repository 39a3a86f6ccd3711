//! Durable jobs run on the runtime: a job whose worker died is run again and its effect happens
//! once; two workers sharing a queue split the jobs; a Redis restart is survived by the bus, the
//! queue and the runtime. On the SQLite queue always and on Redis when `FLUXION_TEST_REDIS_URL` is
//! set (mandatory in CI).
#![allow(clippy::unwrap_used)]

mod support;

use chrono::NaiveDate;
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::TenantSlug;
use fluxion_memory::{Bus, InProcessBus, JobKind, JobQueue, RedisBus, RedisJobQueue, SqliteJobQueue, Store, Topic};
use fluxion_orchestrator::{JobRunner, Runtime, RuntimeConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn slug(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

async fn demo_store(tenants: &[&str]) -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
    for (k, t) in tenants.iter().enumerate() {
        store.create_tenant(&slug(t), t).await.unwrap();
        let tenant = store.scope(&slug(t)).await.unwrap();
        let end = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        for batch in generate(&DemoConfig::new(7 + k as u64, 2, 40, 400, end).unwrap()).unwrap().batches() {
            tenant.apply(&batch).await.unwrap();
        }
    }
    (store, dir)
}

async fn queues(dir: &std::path::Path, visibility: Duration) -> Vec<Arc<dyn JobQueue>> {
    let mut out: Vec<Arc<dyn JobQueue>> =
        vec![Arc::new(SqliteJobQueue::open(&dir.join("jobs.db"), visibility).await.unwrap())];
    if let Some(url) = support::redis_url() {
        let stream = format!("fluxion:test:jobs:{}", uuid::Uuid::new_v4().simple());
        out.push(Arc::new(RedisJobQueue::connect(&url, &stream, visibility, Duration::from_secs(60)).await.unwrap()));
    }
    out
}

async fn drained(queue: &Arc<dyn JobQueue>) -> bool {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if queue.pending().await.unwrap() == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_died_runs_again_and_its_effect_happens_once() {
    let (store, dir) = demo_store(&["demo"]).await;
    for queue in queues(dir.path(), Duration::from_millis(300)).await {
        let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
        let rt = Runtime::start(store.clone(), bus.clone(), RuntimeConfig::default()).await.unwrap();
        let runner = JobRunner::new(rt.clone(), store.clone());
        let tenant = slug("demo");
        let scoped = store.scope(&tenant).await.unwrap();
        let before = scoped.forecasts(None, None).await.unwrap().len();
        queue.enqueue(&tenant, JobKind::RefreshForecasts, &format!("refresh:{}", queue.kind())).await.unwrap();
        // A worker takes the job and dies before acknowledging it.
        let held = queue.claim("dead-worker", 1, Duration::from_millis(100)).await.unwrap();
        assert_eq!(held.len(), 1);
        // A live worker picks it up once the claim expires, runs it and acknowledges it.
        let stop = CancellationToken::new();
        let worker = runner.spawn_worker(queue.clone(), "live-worker".into(), stop.clone());
        assert!(drained(&queue).await, "{}: the job was not run again", queue.kind());
        let stored = scoped.forecasts(None, None).await.unwrap();
        let items = rt.live(&tenant).await.unwrap().ctx.ahead.iter().filter(|f| f.is_some()).count();
        assert_eq!(stored.len(), before.max(items), "{}: one forecast per store × product", queue.kind());
        // Running it again (a redelivery) changes nothing: still one forecast per item.
        queue.enqueue(&tenant, JobKind::RefreshForecasts, &format!("refresh-again:{}", queue.kind())).await.unwrap();
        assert!(drained(&queue).await);
        assert_eq!(scoped.forecasts(None, None).await.unwrap().len(), stored.len());
        // A scan announces the new alerts once; the next scan of an unchanged tenant announces none.
        let mut news = bus.subscribe(&Topic::Tenant(tenant.clone())).await.unwrap();
        queue.enqueue(&tenant, JobKind::ScanAlerts, &format!("scan-1:{}", queue.kind())).await.unwrap();
        let (mut alerts, mut done) = (0, 0);
        while done < 1 {
            let e = tokio::time::timeout(Duration::from_secs(20), news.recv()).await.unwrap().unwrap();
            match e.kind.as_str() {
                "alert.new" => alerts += 1,
                "job.done" => done += 1,
                _ => {}
            }
        }
        assert!(alerts > 0, "{}", queue.kind());
        queue.enqueue(&tenant, JobKind::ScanAlerts, &format!("scan-2:{}", queue.kind())).await.unwrap();
        loop {
            let e = tokio::time::timeout(Duration::from_secs(20), news.recv()).await.unwrap().unwrap();
            assert_ne!(e.kind, "alert.new", "an unchanged situation was announced twice");
            if e.kind == "job.done" {
                assert_eq!(e.data["summary"], "0 alertas nuevas");
                break;
            }
        }
        stop.cancel();
        worker.await.unwrap();
        rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_sharing_a_queue_run_every_job_once() {
    let (store, dir) = demo_store(&["uno", "dos"]).await;
    for queue in queues(dir.path(), Duration::from_secs(30)).await {
        let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
        // Two runtimes: two server processes sharing one queue.
        let a = Runtime::start(store.clone(), bus.clone(), RuntimeConfig::default()).await.unwrap();
        let b = Runtime::start(store.clone(), bus.clone(), RuntimeConfig::default()).await.unwrap();
        let mut feeds = vec![
            bus.subscribe(&Topic::Tenant(slug("uno"))).await.unwrap(),
            bus.subscribe(&Topic::Tenant(slug("dos"))).await.unwrap(),
        ];
        for n in 0..6 {
            for t in ["uno", "dos"] {
                queue
                    .enqueue(&slug(t), JobKind::Optimize, &format!("optimize:{t}:{n}:{}", queue.kind()))
                    .await
                    .unwrap();
            }
        }
        let stop = CancellationToken::new();
        let wa = JobRunner::new(a.clone(), store.clone()).spawn_worker(queue.clone(), "a".into(), stop.clone());
        let wb = JobRunner::new(b.clone(), store.clone()).spawn_worker(queue.clone(), "b".into(), stop.clone());
        assert!(drained(&queue).await);
        let mut keys = Vec::new();
        for feed in &mut feeds {
            while keys.len() < 12 {
                match tokio::time::timeout(Duration::from_millis(500), feed.recv()).await {
                    Ok(Some(e)) if e.kind == "job.done" => keys.push(e.data["key"].as_str().unwrap().to_owned()),
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
        keys.sort();
        let total = keys.len();
        keys.dedup();
        assert_eq!((total, keys.len()), (12, 12), "{}: every job exactly once", queue.kind());
        stop.cancel();
        let _ = tokio::join!(wa, wb);
        a.shutdown().await;
        b.shutdown().await;
    }
}

/// A private redis-server on a free port, so that restarting it disturbs no other test.
struct PrivateRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    fn start(port: u16) -> std::io::Result<Self> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()?;
        Ok(Self { port, child: Some(child) })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the private redis-server did not start");
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_is_survived_by_the_bus_the_queue_and_the_answers() {
    if support::redis_url().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut redis = PrivateRedis::start(port).expect("redis-server must be installed where the Redis tests run");
    redis.wait_ready().await;
    let (store, _dir) = demo_store(&["demo"]).await;
    let bus: Arc<dyn Bus> = Arc::new(RedisBus::connect(&redis.url()).await.unwrap());
    let queue: Arc<dyn JobQueue> = Arc::new(
        RedisJobQueue::connect(&redis.url(), "fluxion:jobs", Duration::from_secs(5), Duration::from_secs(60))
            .await
            .unwrap(),
    );
    let rt = Runtime::start(store.clone(), bus.clone(), RuntimeConfig::default()).await.unwrap();
    let tenant = slug("demo");
    let mut news = bus.subscribe(&Topic::Tenant(tenant.clone())).await.unwrap();
    let stop = CancellationToken::new();
    let worker = JobRunner::new(rt.clone(), store.clone()).spawn_worker(queue.clone(), "w".into(), stop.clone());
    let a = rt.ask(&tenant, "¿Qué se va a agotar?", "test").await.unwrap();
    assert!(!a.degraded);
    let e = tokio::time::timeout(Duration::from_secs(5), news.recv()).await.unwrap().unwrap();
    assert_eq!(e.request, Some(a.trace_id));

    // Redis goes away: answers still come (the bus is best effort), with nothing lost but the live feed.
    redis.kill();
    let b = rt.ask(&tenant, "¿Qué se va a agotar?", "test").await.unwrap();
    assert!(!b.degraded && !b.text_es.is_empty());

    // Redis comes back (empty: no persistence): the subscription, the bus and the queue reconnect.
    let redis = PrivateRedis::start(port).unwrap();
    redis.wait_ready().await;
    let until = Instant::now() + Duration::from_secs(20);
    let mut seen = false;
    while Instant::now() < until && !seen {
        let c = rt.ask(&tenant, "¿Qué se va a agotar?", "test").await.unwrap();
        while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(300), news.recv()).await {
            if e.request == Some(c.trace_id) {
                seen = true;
                break;
            }
        }
    }
    assert!(seen, "the live feed resumed after the restart");
    let mut queued = false;
    while Instant::now() < until && !queued {
        queued = queue.enqueue(&tenant, JobKind::ScanAlerts, "scan:after-restart").await.is_ok();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(queued, "the queue accepts jobs again");
    let mut done = false;
    while Instant::now() < until && !done {
        if let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), news.recv()).await {
            done = e.kind == "job.done" && e.data["key"] == "scan:after-restart";
        }
    }
    assert!(done, "the worker runs jobs again");
    stop.cancel();
    worker.await.unwrap();
    rt.shutdown().await;
}
