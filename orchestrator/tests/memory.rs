//! Conversations that remember, over the demo chain with the vector memory on: a suggestion waits
//! for its user's "sí" or "no" (and nobody else's), products the word matcher misses are found
//! through the vectors, and "¿qué pasó con …?" recalls the tenant's alerts and the user's own past
//! questions — never another user's or another tenant's.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::{Intent, TenantSlug};
use fluxion_memory::{ExactIndex, HashEmbedder, Job, JobKind, SemanticMemory, Store};
use fluxion_orchestrator::{JobRunner, Runtime, RuntimeConfig, Services};
use std::sync::Arc;
use std::time::Duration;

#[path = "../../agents/tests/common/mentions.rs"]
mod mentions;

async fn demo(store: &Arc<dyn Store>, slug: &str) -> TenantSlug {
    let tenant = TenantSlug::parse(slug).unwrap();
    store.create_tenant(&tenant, slug).await.unwrap();
    let scoped = store.scope(&tenant).await.unwrap();
    let end = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    for batch in generate(&DemoConfig::new(3, 3, 400, 90, end).unwrap()).unwrap().batches() {
        scoped.apply(&batch).await.unwrap();
    }
    tenant
}

async fn start(store: &Arc<dyn Store>) -> Runtime {
    let e = HashEmbedder::default();
    let semantic = SemanticMemory::new(Arc::new(e), Arc::new(ExactIndex::new(384)));
    let services = Services { semantic: Some(semantic), ..Services::in_process() };
    Runtime::start_with(store.clone(), services, RuntimeConfig::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yes_approves_the_pending_suggestion_of_its_own_user_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
    let (t1, t2) = (demo(&store, "uno").await, demo(&store, "dos").await);
    let rt = start(&store).await;
    // A question whose answer suggests something.
    let mut offered = None;
    for q in [
        "¿Cuánta harina PAN blanca necesito para la quincena en Chacao?",
        "¿Qué debo transferir?",
        "¿cuánto aceite diana de 1 litro necesito para diciembre?",
        "¿cuánta leche los andes completa pido para la quincena?",
    ] {
        let a = rt.ask_as(&t1, "ana", q, "test").await.unwrap();
        if let Some(r) = a.recommendations.first() {
            assert!(a.text_es.contains("¿Apruebo") && a.text_es.ends_with("Responde SI o NO."), "{}", a.text_es);
            offered = Some(r.clone());
            break;
        }
    }
    let offered = offered.expect("a question with a suggestion");
    // Another user of the tenant, and the same user name in another tenant, have nothing pending.
    for (t, user) in [(&t1, "beto"), (&t2, "ana")] {
        let a = rt.ask_as(t, user, "sí", "test").await.unwrap();
        assert_eq!(a.intent, Intent::Confirm { yes: true });
        assert_eq!(a.approved, None);
        assert!(a.text_es.starts_with("No tengo ninguna sugerencia pendiente"), "{}", a.text_es);
    }
    let a = rt.ask_as(&t1, "ana", "si, hazlo", "test").await.unwrap();
    assert_eq!(a.approved.as_ref(), Some(&offered));
    assert!(a.text_es.starts_with("¡Listo! Quedó aprobad"), "{}", a.text_es);
    // Approved once: a second "dale" finds nothing pending.
    let again = rt.ask_as(&t1, "ana", "dale", "test").await.unwrap();
    assert_eq!(again.approved, None);
    // A "no" declines the next suggestion.
    let a = rt.ask_as(&t1, "ana", "¿Qué debo transferir?", "test").await.unwrap();
    if !a.recommendations.is_empty() {
        let no = rt.ask_as(&t1, "ana", "no", "test").await.unwrap();
        assert_eq!(no.approved, None);
        assert!(no.text_es.starts_with("Entendido, descarto"), "{}", no.text_es);
    }
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_the_words_miss_are_found_through_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
    let t = demo(&store, "demo").await;
    let rt = start(&store).await;
    assert!(rt.index_catalog(&t).await.unwrap() >= 100);
    let plain = Runtime::start(store.clone(), Arc::new(fluxion_memory::InProcessBus::new()), RuntimeConfig::default())
        .await
        .unwrap();
    // "harinita" is no catalog word; "pan" alone matches a bread weakly.
    let q = "¿cuánta harinita pan necesito para la quincena?";
    let without = plain.ask(&t, q, "test").await.unwrap();
    let with = rt.ask(&t, q, "test").await.unwrap();
    let codes = |a: &fluxion_domain::Answer| a.products.iter().map(|p| p.code.clone()).collect::<Vec<_>>();
    println!("words alone: {:?}; with vectors: {:?}", codes(&without), codes(&with));
    assert!(codes(&without).iter().all(|c| !c.starts_with("HAR-PAN")), "the words alone miss it");
    assert!(!with.products.is_empty() && codes(&with).iter().all(|c| c.starts_with("HAR-PAN")), "{:?}", codes(&with));
    // Either the best seller with the other as an alternative, or the question of which.
    assert!(
        (with.products.len() == 1 && !with.figures.is_empty()) || with.text_es.starts_with("¿A cuál te refieres"),
        "{}",
        with.text_es
    );
    // A strong word match is never overruled.
    let strong = rt.ask(&t, "¿cuánta mayonesa mavesa 445 necesito?", "test").await.unwrap();
    assert_eq!(codes(&strong), ["MAY-MAV-445G"]);
    // Words that resemble nothing stay unmatched (the answer asks, rather than guessing).
    let nothing = rt.ask(&t, "¿cuántos xilofonos cuánticos necesito?", "test").await.unwrap();
    assert!(nothing.products.is_empty(), "{:?}", nothing.products);
    plain.shutdown().await;
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_look_back_recalls_alerts_and_the_users_own_questions_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
    let (t1, t2) = (demo(&store, "uno").await, demo(&store, "dos").await);
    let rt = start(&store).await;
    // Tonight's alerts go into the memory with the scan.
    let runner = JobRunner::new(rt.clone(), store.clone());
    let job = |t: &TenantSlug| Job {
        id: "1".into(),
        tenant: t.clone(),
        kind: JobKind::ScanAlerts,
        key: format!("scan:{t}"),
        attempt: 1,
    };
    runner.run(&job(&t1)).await.unwrap();
    let q = "¿cuánto aceite diana de 1 litro necesito para la semana?";
    rt.ask_as(&t1, "ana", q, "test").await.unwrap();
    // The answer is kept off the request's path: wait for it.
    let mut found = None;
    for _ in 0..40 {
        let a = rt.ask_as(&t1, "ana", "¿qué pasó con el aceite diana la semana pasada?", "test").await.unwrap();
        assert_eq!(a.intent, Intent::Recall);
        if a.text_es.contains("Preguntaste «¿cuánto aceite diana") {
            found = Some(a);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = found.expect("ana's own question is recalled");
    assert!(a.text_es.starts_with("Esto es lo que tengo sobre Aceite"), "{}", a.text_es);
    // Another user sees no trace of ana's conversation; another tenant sees nothing of this one.
    let b = rt.ask_as(&t1, "beto", "¿qué pasó con el aceite diana la semana pasada?", "test").await.unwrap();
    assert!(!b.text_es.contains("Preguntaste"), "{}", b.text_es);
    let other = rt.ask_as(&t2, "ana", "¿qué pasó con el aceite diana la semana pasada?", "test").await.unwrap();
    assert!(!other.text_es.contains("Preguntaste"), "{}", other.text_es);
    // Alerts of the scan are recalled by what they are about.
    let semantic = rt.semantic().unwrap();
    let since = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let alerts = semantic.recall(&t1, None, "se agota", since, 5).await.unwrap();
    assert!(!alerts.is_empty() && alerts.iter().all(|r| r.kind == "alert"));
    assert!(semantic.recall(&t2, None, "se agota", since, 5).await.unwrap().is_empty(), "no scan ran for t2");
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messy_mentions_resolve_through_words_and_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
    let t = demo(&store, "demo").await;
    let rt = start(&store).await;
    rt.index_catalog(&t).await.unwrap();
    let mut wrong = Vec::new();
    for (mention, expected) in mentions::MENTIONS {
        let a = rt.ask(&t, &format!("¿cuánto {mention} necesito?"), "test").await.unwrap();
        let got: Vec<&str> = a.products.iter().map(|p| p.code.as_str()).collect();
        if got != [*expected] {
            wrong.push(format!("{mention:?} → {got:?} (meant {expected})"));
        }
    }
    let n = mentions::MENTIONS.len();
    let accuracy = 1.0 - wrong.len() as f64 / n as f64;
    println!("product resolution with the vector memory: {n} mentions, top-1 accuracy {:.1}%", 100.0 * accuracy);
    for w in &wrong {
        println!("  miss: {w}");
    }
    assert!(n >= 100);
    assert!(accuracy >= 0.95, "top-1 accuracy {:.1}%:\n{}", 100.0 * accuracy, wrong.join("\n"));
    rt.shutdown().await;
}
