//! The runtime with real actors, a real store and both buses: answers, traces, live progress, and
//! faults — panics, hangs, exhausted restart budgets, random crashes under load.
//! Each scenario runs on the in-process bus and, when `FLUXION_TEST_REDIS_URL` is set (mandatory
//! in CI), on Redis too.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::NaiveDate;
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::{AgentKind, AgentStatus, Answer, Intent, SpanStatus, TenantSlug};
use fluxion_memory::{Bus, InProcessBus, RedisBus, Store, Topic, TraceQuery};
use fluxion_orchestrator::{Deadlines, RestartPolicy, Runtime, RuntimeConfig};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

const SEED_QUESTION: &str = "¿Cuánta harina PAN necesito para la quincena?";

/// Injected panics are expected here: keep them out of the test output.
fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or_default();
            if !text.starts_with("injected fault") {
                default(info);
            }
        }));
    });
}

fn slug() -> TenantSlug {
    TenantSlug::parse("demo").unwrap()
}

/// A small demo chain (3 stores × 60 products × 400 days) in a fresh SQLite store.
async fn demo_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
    store.create_tenant(&slug(), "Demo").await.unwrap();
    let tenant = store.scope(&slug()).await.unwrap();
    let end = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let chain = generate(&DemoConfig::new(7, 3, 60, 400, end).unwrap()).unwrap();
    for batch in chain.batches() {
        tenant.apply(&batch).await.unwrap();
    }
    (store, dir)
}

async fn buses() -> Vec<Arc<dyn Bus>> {
    let mut out: Vec<Arc<dyn Bus>> = vec![Arc::new(InProcessBus::new())];
    if let Some(url) = support::redis_url() {
        out.push(Arc::new(RedisBus::connect(&url).await.expect("connect to FLUXION_TEST_REDIS_URL")));
    }
    out
}

async fn start(store: &Arc<dyn Store>, bus: Arc<dyn Bus>, config: RuntimeConfig) -> Runtime {
    let rt = Runtime::start(store.clone(), bus, config).await.unwrap();
    rt.live(&slug()).await.unwrap();
    rt
}

fn status(a: &Answer, agent: AgentKind) -> AgentStatus {
    a.agents.iter().find(|r| r.agent == agent).unwrap().status.clone()
}

async fn wait_for(mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_question_is_answered_with_the_tenants_figures_traced_and_streamed() {
    let (store, _dir) = demo_store().await;
    for bus in buses().await {
        let rt = start(&store, bus.clone(), RuntimeConfig::default()).await;
        let mut news = bus.subscribe(&Topic::Tenant(slug())).await.unwrap();
        let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
        assert!(!a.degraded, "{:?}", a.agents);
        assert_eq!((a.intent, a.horizon_days), (Intent::Need, 15));
        assert!(a.products.iter().any(|p| p.code == "HAR-PAN-BLA-1KG"), "{:?}", a.products);
        assert!(a.figures.len() >= 3, "one figure per store: {:?}", a.figures.len());
        for f in &a.figures {
            assert!(f.p10 <= f.expected && f.expected <= f.p90 && f.expected > 0.0, "{f:?}");
            assert_eq!(f.days, 15);
        }
        // The text is built from those figures: the chain total and each store's expected demand.
        let blanca: Vec<_> = a.figures.iter().filter(|f| f.product.as_str() == "HAR-PAN-BLA-1KG").collect();
        let total: f64 = blanca.iter().map(|f| f.expected).sum();
        assert!(a.text_es.contains(&format!("necesitas ~{}", fluxion_domain::format::units(total))), "{}", a.text_es);
        for f in &blanca {
            assert!(a.text_es.contains(&fluxion_domain::format::units(f.expected)), "{}", a.text_es);
        }
        for agent in AgentKind::ALL {
            assert_eq!(status(&a, agent), AgentStatus::Ok, "{agent:?}");
        }
        // The trace is stored with a span per stage.
        let tenant = store.scope(&slug()).await.unwrap();
        let trace = tenant.trace(a.trace_id).await.unwrap().expect("trace stored");
        let names: Vec<&str> = trace.spans.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["request", "understand", "forecast", "alert", "optimizer", "compose"]);
        assert_eq!(trace.status, SpanStatus::Ok);
        assert!(
            trace.spans[1..].iter().all(|s| s.parent == Some(0) && s.start_us + s.duration_us <= trace.duration_us)
        );
        // Alert and Optimizer ran side by side, after Forecast.
        let (f, al, op) = (&trace.spans[2], &trace.spans[3], &trace.spans[4]);
        assert!(al.start_us >= f.start_us + f.duration_us && op.start_us >= f.start_us + f.duration_us);
        assert!(al.start_us < op.start_us + op.duration_us && op.start_us < al.start_us + al.duration_us);
        // Live: the tenant's channel saw the request start and end; the partial results are on the bus.
        let mut kinds = Vec::new();
        while kinds.len() < 2 {
            let e = tokio::time::timeout(Duration::from_secs(3), news.recv()).await.unwrap().unwrap();
            assert_eq!(e.request, Some(a.trace_id));
            kinds.push(e.kind);
        }
        assert_eq!(kinds, ["request.started", "request.answered"], "{}", bus.kind());
        let mut partials = Default::default();
        for _ in 0..100 {
            partials = bus.partials(&slug(), a.trace_id).await.unwrap();
            if partials.len() >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for field in ["chat", "forecast", "alert", "optimizer", "request"] {
            assert!(partials.contains_key(field), "{}: {field} missing from {:?}", bus.kind(), partials.keys());
        }
        rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_panics_is_restarted_the_answer_degraded_and_the_next_one_full() {
    quiet_injected_panics();
    let (store, _dir) = demo_store().await;
    for bus in buses().await {
        let rt = start(&store, bus, RuntimeConfig::default()).await;
        for agent in [AgentKind::Forecast, AgentKind::Alert, AgentKind::Optimizer] {
            let before = rt.restarts().of(agent);
            rt.faults().panic_next(agent, 1);
            let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
            assert!(a.degraded, "{agent:?}");
            assert!(matches!(status(&a, agent), AgentStatus::Failed { .. }), "{:?}", a.agents);
            assert!(a.text_es.contains("esta respuesta está incompleta"), "{}", a.text_es);
            assert!(a.text_es.contains(agent.gives_es()), "{}", a.text_es);
            // What the other agents produced is still there.
            if agent != AgentKind::Forecast {
                assert!(!a.figures.is_empty());
            }
            assert!(wait_for(|| rt.restarts().of(agent) > before).await, "{agent:?} was not restarted");
            let b = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
            assert!(!b.degraded, "after the restart: {:?}", b.agents);
        }
        // Chat failing while composing: the orchestrator composes from the same templates and says so.
        rt.faults().skip_next(AgentKind::Chat, 1);
        rt.faults().panic_next(AgentKind::Chat, 1);
        let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
        assert!(a.degraded && a.text_es.contains("necesitas ~") && a.text_es.contains("incompleta"), "{}", a.text_es);
        // Chat failing to understand: a plain apology, still an answer.
        assert!(wait_for(|| rt.restarts().of(AgentKind::Chat) >= 1).await);
        rt.faults().panic_next(AgentKind::Chat, 1);
        let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
        assert!(a.degraded && a.text_es.contains("No pude procesar tu pregunta"), "{}", a.text_es);
        // The trace records the failure.
        let trace = store.scope(&slug()).await.unwrap().trace(a.trace_id).await.unwrap().unwrap();
        assert_eq!(trace.status, SpanStatus::Degraded);
        assert_eq!(trace.spans[1].status, SpanStatus::Error);
        assert!(trace.spans[1].error.as_deref().is_some_and(|e| e.contains("crashed")), "{:?}", trace.spans[1]);
        assert!(rt.is_healthy());
        rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_hangs_is_cut_at_its_deadline_and_replaced() {
    let (store, _dir) = demo_store().await;
    for bus in buses().await {
        let config = RuntimeConfig {
            deadlines: Deadlines { alert: Duration::from_millis(150), ..Deadlines::default() },
            ..RuntimeConfig::default()
        };
        let rt = start(&store, bus, config).await;
        rt.faults().hang_next(AgentKind::Alert, 1);
        let started = Instant::now();
        let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
        assert_eq!(status(&a, AgentKind::Alert), AgentStatus::TimedOut { deadline_ms: 150 });
        assert!(a.degraded && a.text_es.contains("no respondió a tiempo"), "{}", a.text_es);
        // Forecast and Optimizer were not held up.
        assert!(!a.figures.is_empty());
        assert_eq!(status(&a, AgentKind::Optimizer), AgentStatus::Ok);
        // The hung actor was killed and a fresh one answers the next request.
        assert!(wait_for(|| rt.restarts().of(AgentKind::Alert) >= 1).await);
        let b = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
        assert!(!b.degraded, "{:?}", b.agents);
        let trace = store.scope(&slug()).await.unwrap().trace(a.trace_id).await.unwrap().unwrap();
        let alert = trace.spans.iter().find(|s| s.name == "alert").unwrap();
        assert_eq!(alert.status, SpanStatus::Timeout);
        rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_restart_budget_the_supervisor_escalates_and_answers_stay_degraded() {
    quiet_injected_panics();
    let (store, _dir) = demo_store().await;
    // One optimizer worker: the budget is per child.
    let config = RuntimeConfig {
        restart: RestartPolicy { max_restarts: 2, window: Duration::from_secs(60) },
        workers: 1,
        ..RuntimeConfig::default()
    };
    let rt = start(&store, Arc::new(InProcessBus::new()), config).await;
    rt.faults().panic_next(AgentKind::Optimizer, 10);
    for _ in 0..3 {
        let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
        assert!(a.degraded);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(wait_for(|| !rt.is_healthy()).await, "the third failure within the window escalates");
    // Still an answer, never an error: every agent is gone now, and the text says so.
    let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
    assert!(a.degraded && a.text_es.contains("No pude procesar"), "{}", a.text_es);
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_requests_with_random_agent_panics_lose_none() {
    quiet_injected_panics();
    let (store, _dir) = demo_store().await;
    for bus in buses().await {
        let config = RuntimeConfig {
            restart: RestartPolicy { max_restarts: 100_000, window: Duration::from_secs(60) },
            ..RuntimeConfig::default()
        };
        let rt = start(&store, bus.clone(), config).await;
        for (k, agent) in AgentKind::ALL.iter().enumerate() {
            rt.faults().panic_rate(*agent, 0.03, 11 + k as u64);
        }
        let questions = [
            SEED_QUESTION,
            "¿Qué se me va a agotar?",
            "¿Qué tengo de más?",
            "¿Cómo se vendió el arroz?",
            "¿cuánto aceite diana pido para la semana?",
            "hola",
        ];
        let mut tasks = tokio::task::JoinSet::new();
        let gate = Arc::new(tokio::sync::Semaphore::new(32));
        for n in 0..1000 {
            let (rt, gate) = (rt.clone(), gate.clone());
            let q = questions[n % questions.len()];
            tasks.spawn(async move {
                let _permit = gate.acquire().await.unwrap();
                rt.ask(&slug(), q, "load").await
            });
        }
        let (mut answered, mut degraded) = (0, 0);
        while let Some(done) = tasks.join_next().await {
            let a = done.expect("no request task panicked").expect("every request gets an answer");
            assert!(!a.text_es.trim().is_empty());
            answered += 1;
            degraded += usize::from(a.degraded);
        }
        assert_eq!(answered, 1000, "{}", bus.kind());
        assert!(degraded > 0, "faults were injected");
        let restarts: u64 = AgentKind::ALL.iter().map(|a| rt.restarts().of(*a)).sum();
        assert!(restarts > 0 && rt.is_healthy(), "restarts {restarts}");
        rt.faults().clear();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
        assert!(!a.degraded, "{:?}", a.agents);
        let traces = store
            .scope(&slug())
            .await
            .unwrap()
            .traces(&TraceQuery { limit: 5000, channel: Some("load".into()), ..TraceQuery::default() })
            .await
            .unwrap();
        assert!(traces.len() >= 1000, "every request left a trace: {}", traces.len());
        rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_others_answers_or_traces() {
    let (store, _dir) = demo_store().await;
    // A second tenant with a different, smaller chain.
    let other = TenantSlug::parse("otra").unwrap();
    store.create_tenant(&other, "Otra").await.unwrap();
    let scoped = store.scope(&other).await.unwrap();
    let end = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    for batch in generate(&DemoConfig::new(99, 2, 20, 120, end).unwrap()).unwrap().batches() {
        scoped.apply(&batch).await.unwrap();
    }
    let rt = start(&store, Arc::new(InProcessBus::new()), RuntimeConfig::default()).await;
    let a = rt.ask(&slug(), SEED_QUESTION, "test").await.unwrap();
    let b = rt.ask(&other, SEED_QUESTION, "test").await.unwrap();
    let other_stores: Vec<String> = scoped.locations().await.unwrap().into_iter().map(|l| l.code.to_string()).collect();
    assert!(!b.figures.is_empty());
    assert!(b.figures.iter().all(|f| other_stores.contains(&f.store.to_string())));
    let demo_tenant = store.scope(&slug()).await.unwrap();
    assert!(demo_tenant.trace(b.trace_id).await.unwrap().is_none());
    assert!(scoped.trace(a.trace_id).await.unwrap().is_none());
    assert!(scoped.trace(b.trace_id).await.unwrap().is_some());
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_is_answered_from_the_previous_turn_and_never_from_another_users() {
    let (store, _dir) = demo_store().await;
    for bus in buses().await {
        let rt = start(&store, bus, RuntimeConfig::default()).await;
        let first =
            rt.ask_as(&slug(), "maria", "¿Cuánta harina PAN blanca necesito para la quincena?", "test").await.unwrap();
        let stores: Vec<String> = first.figures.iter().map(|f| f.store.to_string()).collect();
        assert!(stores.len() >= 2, "{stores:?}");
        let other_store = first.figures[1].store_name.clone();
        let city_or_name = other_store.rsplit(' ').next().unwrap().to_owned();
        // "¿y en <store>?": the same product and horizon, one store.
        let a = rt.ask_as(&slug(), "maria", &format!("¿y en {city_or_name}?"), "test").await.unwrap();
        assert_eq!((a.intent, a.horizon_days), (Intent::Need, 15), "{}", a.text_es);
        assert_eq!(a.figures.len(), 1, "{}", a.text_es);
        assert_eq!(a.figures[0].store_name, other_store);
        assert_eq!(a.figures[0].product.as_str(), "HAR-PAN-BLA-1KG");
        // "¿y para la semana?": the same product and store, a week.
        let b = rt.ask_as(&slug(), "maria", "¿y para la semana?", "test").await.unwrap();
        assert_eq!((b.horizon_days, b.figures.len()), (7, 1), "{}", b.text_es);
        assert_eq!(b.figures[0].store_name, other_store);
        // Another user (or the same question without a user) has no previous turn.
        let c = rt.ask_as(&slug(), "jose", "¿y para la semana?", "test").await.unwrap();
        assert!(c.figures.is_empty() && c.intent == Intent::Help, "{}", c.text_es);
        let d = rt.ask(&slug(), "¿y para la semana?", "test").await.unwrap();
        assert!(d.figures.is_empty(), "{}", d.text_es);
        rt.shutdown().await;
    }
}
