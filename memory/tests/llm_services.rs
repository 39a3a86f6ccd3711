//! The outside services of the Chat agent's memory: an OpenAI-compatible embeddings endpoint
//! (a local server speaking the wire format over real HTTP) and the token ledger (in process, and
//! on Redis when `FLUXION_TEST_REDIS_URL` is set — mandatory in CI).
#![allow(clippy::unwrap_used)]

mod support;

use axum::Json;
use axum::routing::post;
use chrono::NaiveDate;
use fluxion_domain::TenantSlug;
use fluxion_memory::{
    Embedder, HashEmbedder, InProcessLedger, OpenAiEmbedder, OpenAiEmbedderConfig, RedisLedger, TokenLedger,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// An embeddings server: `dim`-dimensional vectors from the built-in embedder, scaled by 3 (the
/// client must normalise them), returned in reverse order (the client must sort by index).
async fn embeddings_server(dim: usize, calls: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new().route(
        "/v1/embeddings",
        post(move |Json(body): Json<Value>| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let inputs: Vec<String> =
                    body["input"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
                let e = HashEmbedder::new(dim);
                let vectors = e.embed_now(&inputs.iter().map(String::as_str).collect::<Vec<_>>());
                let mut data: Vec<Value> = vectors
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        json!({"object": "embedding", "index": i, "embedding": v.iter().map(|x| x * 3.0).collect::<Vec<_>>()})
                    })
                    .collect();
                data.reverse();
                Json(json!({"object": "list", "model": body["model"], "data": data,
                    "usage": {"prompt_tokens": inputs.len(), "total_tokens": inputs.len()}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn config(base_url: String, dim: usize) -> OpenAiEmbedderConfig {
    OpenAiEmbedderConfig {
        base_url,
        api_key: "sk-local".into(),
        model: "nomic-embed-text".into(),
        dim,
        timeout: Duration::from_secs(5),
        batch: 4,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_compatible_endpoint_embeds_in_batches_in_order_normalised() {
    let calls = Arc::new(AtomicUsize::new(0));
    let url = embeddings_server(64, calls.clone()).await;
    let e = OpenAiEmbedder::new(config(url.clone(), 64)).unwrap();
    assert_eq!(e.dim(), 64);
    assert_eq!(e.id(), "openai:nomic-embed-text:64");
    let texts = ["harina pan", "aceite diana", "arroz mary", "café madrid", "queso duro", "pollo entero"];
    let got = e.embed(&texts).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "six texts in batches of four");
    let want = HashEmbedder::new(64).embed_now(&texts);
    for (g, w) in got.iter().zip(&want) {
        let norm: f32 = g.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(g.iter().zip(w).all(|(a, b)| (a - b).abs() < 1e-4), "in order, normalised");
    }
    // A model of another dimension than configured is refused, not stored.
    let wrong = OpenAiEmbedder::new(config(url, 32)).unwrap();
    let err = wrong.embed(&["harina"]).await.unwrap_err();
    assert!(err.to_string().contains("dimension 32"), "{err}");
    // An endpoint that is down is an error, not a panic.
    let down = OpenAiEmbedder::new(config("http://127.0.0.1:9/v1".into(), 64)).unwrap();
    assert!(down.embed(&["harina"]).await.is_err());
}

#[tokio::test]
async fn token_ledgers_count_per_tenant_and_day() {
    let mut ledgers: Vec<Arc<dyn TokenLedger>> = vec![Arc::new(InProcessLedger::new())];
    if let Some(url) = support::redis_url() {
        ledgers.push(Arc::new(RedisLedger::new(&url).unwrap()));
    }
    for ledger in ledgers {
        let run = uuid::Uuid::new_v4().simple().to_string();
        let (a, b) = (
            TenantSlug::parse(&format!("a{}", &run[..8])).unwrap(),
            TenantSlug::parse(&format!("b{}", &run[..8])).unwrap(),
        );
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let next = day.succ_opt().unwrap();
        assert_eq!(ledger.spent(&a, day).await.unwrap(), 0);
        assert_eq!(ledger.spend(&a, day, 160).await.unwrap(), 160);
        assert_eq!(ledger.spend(&a, day, 40).await.unwrap(), 200);
        assert_eq!(ledger.spent(&a, day).await.unwrap(), 200);
        assert_eq!(ledger.spent(&b, day).await.unwrap(), 0, "tenants never share a budget");
        assert_eq!(ledger.spent(&a, next).await.unwrap(), 0, "a new day starts at zero");
    }
}
