//! The language model's voice, against a local OpenAI-compatible server over real HTTP: honest
//! rewordings are used, every invented number is caught (the grounded template goes out instead),
//! failures, slowness and tool loops fall back to the template, the trace records tokens, cost and
//! why, and each tenant's daily token budget holds.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::NaiveDate;
use fluxion_agents::chat::{Llm, LlmConfig};
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::{Answer, SpanStatus, TenantSlug, Trace};
use fluxion_memory::Store;
use fluxion_orchestrator::{LlmPolicy, Runtime, RuntimeConfig, Services};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::openai::{FakeLlm, Lie, Script};

const MODEL: &str = "fake-es-1";

/// Questions of every intent over the demo chain.
const QUESTIONS: &[&str] = &[
    "¿Cuánta harina PAN blanca necesito para la quincena?",
    "¿cuánta harina PAN blanca necesito para la quincena en Chacao?",
    "¿y el aceite diana de 1 litro para la semana?",
    "cuanto arroz mary tipo 1 pido pa la quincena en valencia",
    "¿cuánto café madrid de 500 necesito para diciembre en bella vista?",
    "coca cola 2 litros para el fin de semana",
    "¿Cuánto queso blanco duro necesito para la semana en Chacao?",
    "¿cuántos pañales pampers talla g necesito para el mes?",
    "¿Cómo se vendió el café fama de américa 500g?",
    "ventas de mayonesa mavesa 445 en valencia",
    "¿Qué se me va a agotar en Valencia?",
    "¿Qué se va a agotar esta semana?",
    "¿Qué tengo de más en Bella Vista?",
    "¿qué productos tienen exceso de inventario?",
    "¿Qué debo transferir?",
    "¿qué debo transferir a Chacao?",
    "¿cuanto ron santa teresa añejo 1 litro para diciembre?",
    "¿cuánto detergente ariel 1kg necesito en prebo para dos semanas?",
    "hola",
];

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    tenant: TenantSlug,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
    let tenant = TenantSlug::parse("demo").unwrap();
    store.create_tenant(&tenant, "Demo").await.unwrap();
    let scoped = store.scope(&tenant).await.unwrap();
    let end = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    for batch in generate(&DemoConfig::new(3, 3, 400, 90, end).unwrap()).unwrap().batches() {
        scoped.apply(&batch).await.unwrap();
    }
    World { _dir: dir, store, tenant }
}

fn llm(base_url: &str, stream: bool) -> Arc<Llm> {
    Arc::new(
        Llm::new(LlmConfig {
            base_url: base_url.to_owned(),
            api_key: "sk-test-local".into(),
            model: MODEL.into(),
            timeout: Duration::from_secs(5),
            stream,
            max_tokens: 400,
            temperature: 0.2,
            max_tool_rounds: 2,
        })
        .unwrap(),
    )
}

async fn runtime(w: &World, llm: Arc<Llm>, policy: LlmPolicy) -> Runtime {
    let config = RuntimeConfig { llm: policy, ..RuntimeConfig::default() };
    Runtime::start_with(w.store.clone(), Services { llm: Some(llm), ..Services::in_process() }, config).await.unwrap()
}

async fn trace_of(w: &World, a: &Answer) -> Trace {
    w.store.scope(&w.tenant).await.unwrap().trace(a.trace_id).await.unwrap().unwrap()
}

fn phrase_span(t: &Trace) -> &fluxion_domain::Span {
    t.spans.iter().find(|s| s.name == "phrase").expect("a phrase span")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_rewordings_are_used_and_traced_with_their_tokens_and_cost() {
    let w = world().await;
    let server = FakeLlm::start(Script::Honest).await;
    let policy = LlmPolicy { usd_per_million_prompt: 0.5, usd_per_million_completion: 1.5, ..LlmPolicy::default() };
    for stream in [false, true] {
        let rt = runtime(&w, llm(&server.base_url, stream), policy.clone()).await;
        let mut rejected = Vec::new();
        for q in QUESTIONS {
            let a = rt.ask_as(&w.tenant, "ana", q, "test").await.unwrap();
            if a.phrased_by.as_deref() != Some(MODEL) || !a.text_es.starts_with("¡Hola!") {
                let t = trace_of(&w, &a).await;
                rejected.push(format!("{q}: {:?}", phrase_span(&t).error));
                continue;
            }
            let t = trace_of(&w, &a).await;
            let span = phrase_span(&t);
            assert_eq!(span.status, SpanStatus::Ok);
            assert_eq!(span.tokens, Some(160));
            let cost = span.cost_usd.unwrap();
            assert!((cost - (120.0 * 0.5 + 40.0 * 1.5) / 1e6).abs() < 1e-12, "{cost}");
            // The trace's answer is the model's text (clipped to the summary length).
            assert!(a.text_es.starts_with(t.spans[0].output.trim_end_matches('…')));
        }
        println!("honest (stream {stream}): {} of {} replies used", QUESTIONS.len() - rejected.len(), QUESTIONS.len());
        assert!(rejected.is_empty(), "honest replies rejected:\n{}", rejected.join("\n"));
        rt.shutdown().await;
    }
    assert!(server.auth().iter().all(|a| a == "Bearer sk-test-local"));
    // The request carries the model, the tool and the draft.
    let body = &server.bodies()[0];
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["tools"][0]["function"]["name"], "resultados_de_agentes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invented_number_is_caught_and_the_template_goes_out() {
    let w = world().await;
    let server = FakeLlm::start(Script::Honest).await;
    let mut cases = 0;
    let mut caught = 0;
    let mut missed = Vec::new();
    for stream in [false, true] {
        let rt = runtime(&w, llm(&server.base_url, stream), LlmPolicy::default()).await;
        for q in QUESTIONS {
            for kind in Lie::ALL {
                server.set(Script::Liar(kind));
                let a = rt.ask_as(&w.tenant, "beto", q, "test").await.unwrap();
                cases += 1;
                let t = trace_of(&w, &a).await;
                let span = phrase_span(&t);
                let rejected = a.phrased_by.is_none()
                    && span.status == SpanStatus::Error
                    && span.error.as_deref().is_some_and(|e| e.contains("numbers the agents did not produce"));
                // Two tool-using rounds were spent, and counted.
                assert_eq!(span.tokens, Some(320));
                if rejected && !a.text_es.starts_with("¡Hola!") {
                    caught += 1;
                } else {
                    missed.push(format!("{kind:?} {q}: {}", a.text_es));
                }
            }
        }
        rt.shutdown().await;
    }
    println!("lying LLM: {caught} of {cases} invented numbers caught ({:.1}%)", 100.0 * caught as f64 / cases as f64);
    assert!(cases >= 150);
    assert!(missed.is_empty(), "lies that went out:\n{}", missed.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_are_answered_from_the_agents_results() {
    let w = world().await;
    let server = FakeLlm::start(Script::ToolThenHonest).await;
    for stream in [false, true] {
        let rt = runtime(&w, llm(&server.base_url, stream), LlmPolicy::default()).await;
        let before = server.hits();
        let a = rt.ask_as(&w.tenant, "carla", QUESTIONS[0], "test").await.unwrap();
        assert_eq!(a.phrased_by.as_deref(), Some(MODEL), "{}", a.text_es);
        assert!(a.text_es.contains("(horizonte: 15 días)"), "{}", a.text_es);
        assert_eq!(server.hits() - before, 2);
        // The second request carried the tool's answer: the agents' figures, as JSON.
        let body = server.bodies().last().cloned().unwrap();
        let tool = body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").cloned().unwrap();
        assert_eq!(tool["tool_call_id"], "call_1");
        let results: serde_json::Value = serde_json::from_str(tool["content"].as_str().unwrap()).unwrap();
        assert_eq!(results["pronosticos"][0]["product"], "HAR-PAN-BLA-1KG");
        assert_eq!(phrase_span(&trace_of(&w, &a).await).tokens, Some(320));
        rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_slowness_and_tool_loops_fall_back_to_the_template() {
    let w = world().await;
    let server = FakeLlm::start(Script::Honest).await;
    let policy = LlmPolicy { deadline: Duration::from_millis(2000), ..LlmPolicy::default() };
    let rt = runtime(&w, llm(&server.base_url, false), policy).await;
    let q = QUESTIONS[0];
    // The template answer, for comparison.
    let plain =
        Runtime::start(w.store.clone(), Arc::new(fluxion_memory::InProcessBus::new()), RuntimeConfig::default())
            .await
            .unwrap();
    let template = plain.ask(&w.tenant, q, "test").await.unwrap().text_es;
    plain.shutdown().await;

    let cases: Vec<(Script, SpanStatus, &str, Option<usize>)> = vec![
        // A server error is retried (safe: phrasing has no side effects), then given up.
        (Script::Status(500), SpanStatus::Error, "LLM API error", Some(4)),
        // A client error is not retried.
        (Script::Status(400), SpanStatus::Error, "LLM API error", Some(1)),
        (Script::Garbage, SpanStatus::Error, "LLM API error", Some(1)),
        (Script::ToolLoop, SpanStatus::Error, "called tools for more than 2 rounds", Some(3)),
        (Script::Slow(Duration::from_secs(5)), SpanStatus::Timeout, "did not answer within 2000 ms", None),
    ];
    for (script, status, why, hits) in cases {
        server.set(script.clone());
        let before = server.hits();
        let started = Instant::now();
        let a = rt.ask(&w.tenant, q, "test").await.unwrap();
        let took = started.elapsed();
        assert_eq!(a.phrased_by, None, "{script:?}");
        assert_eq!(a.text_es, template, "{script:?}");
        assert!(!a.degraded, "a template answer is a whole answer");
        let t = trace_of(&w, &a).await;
        let span = phrase_span(&t);
        assert_eq!(span.status, status, "{script:?}");
        assert!(span.error.as_deref().is_some_and(|e| e.contains(why)), "{script:?}: {:?}", span.error);
        if let Some(h) = hits {
            assert_eq!(server.hits() - before, h, "{script:?}");
        }
        if matches!(script, Script::Slow(_)) {
            assert!(took < Duration::from_millis(4000), "the deadline cut the slow model: {took:?}");
        }
    }
    // A degraded answer goes out exactly as the template says what is missing: the model is not asked.
    server.set(Script::Honest);
    let before = server.hits();
    rt.faults().panic_next(fluxion_domain::AgentKind::Forecast, 1);
    let a = rt.ask(&w.tenant, q, "test").await.unwrap();
    assert!(a.degraded && a.phrased_by.is_none());
    assert!(a.text_es.contains("esta respuesta está incompleta"), "{}", a.text_es);
    assert_eq!(server.hits(), before);
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_past_its_daily_token_budget_gets_templates() {
    let w = world().await;
    let server = FakeLlm::start(Script::Honest).await;
    let policy = LlmPolicy { daily_tokens_per_tenant: 300, ..LlmPolicy::default() };
    let rt = runtime(&w, llm(&server.base_url, false), policy).await;
    let q = QUESTIONS[2];
    for _ in 0..2 {
        assert_eq!(rt.ask(&w.tenant, q, "test").await.unwrap().phrased_by.as_deref(), Some(MODEL));
    }
    let hits = server.hits();
    let a = rt.ask(&w.tenant, q, "test").await.unwrap();
    assert_eq!(a.phrased_by, None);
    assert_eq!(server.hits(), hits, "no request once the budget is spent");
    let t = trace_of(&w, &a).await;
    assert!(phrase_span(&t).output.contains("presupuesto diario de tokens agotado (320 de 300)"));
    rt.shutdown().await;
}
