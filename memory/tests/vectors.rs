//! The vector memory, on each engine (the exact index, Qdrant's embedded engine, and a Qdrant
//! server when `FLUXION_TEST_QDRANT_URL` is set): searches find the similar points of the tenant
//! asked, never another's; kinds and owners filter; re-indexing a kind replaces it; the embedded
//! engine keeps its points across a reopen and re-indexes cleanly when the embedder changes.
#![allow(clippy::unwrap_used)]

use fluxion_domain::TenantSlug;
use fluxion_memory::{
    EdgeStore, ExactIndex, Filter, HashEmbedder, ServerConfig, ServerStore, VectorPoint, VectorStore,
};
use std::time::Duration;

#[path = "support/qdrant.rs"]
mod fake_qdrant;

fn tenant(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

fn point(e: &HashEmbedder, id: &str, kind: &str, owner: Option<&str>, text: &str) -> VectorPoint {
    VectorPoint {
        id: id.into(),
        kind: kind.into(),
        owner: owner.map(str::to_owned),
        vector: e.embed_now(&[text]).remove(0),
        payload: serde_json::json!({"name": text}),
    }
}

async fn load(index: &dyn VectorStore, e: &HashEmbedder, t: &TenantSlug, names: &[(&str, &str)]) {
    let points = names.iter().map(|(id, name)| point(e, id, "product", None, name)).collect();
    index.upsert(t, points).await.unwrap();
}

/// The behaviour every engine must have.
async fn contract(index: &dyn VectorStore) {
    let e = HashEmbedder::default();
    // Unique tenants: a shared server may hold earlier runs' points.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (a, b) = (tenant(&format!("cadena_a_{}", &run[..8])), tenant(&format!("cadena_b_{}", &run[..8])));
    load(
        index,
        &e,
        &a,
        &[
            ("HAR-PAN-BLA-1KG", "Harina de maíz precocida P.A.N. blanca 1 kg"),
            ("ACE-DIA-1L", "Aceite vegetal Diana 1 L"),
            ("ARR-MAR-1KG", "Arroz Mary tipo I 1 kg"),
        ],
    )
    .await;
    // The other tenant has a product with the very same name, under another code.
    load(index, &e, &b, &[("B-PAN", "Harina de maíz precocida P.A.N. blanca 1 kg")]).await;
    let q = &e.embed_now(&["harna pan blanca"])[0];
    let hits = index.search(&a, q, 2, Filter::kind("product")).await.unwrap();
    assert_eq!(hits[0].id, "HAR-PAN-BLA-1KG");
    assert_eq!(hits[0].kind, "product");
    assert_eq!(hits[0].payload["name"], "Harina de maíz precocida P.A.N. blanca 1 kg");
    assert!(hits.len() == 2 && hits[0].score > hits[1].score);
    assert!(hits.iter().all(|h| h.id != "B-PAN"));
    let theirs = index.search(&b, q, 10, Filter::ANY).await.unwrap();
    assert_eq!(theirs.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["B-PAN"]);
    assert!(index.search(&tenant(&format!("nadie_{}", &run[..8])), q, 5, Filter::ANY).await.unwrap().is_empty());
    assert!(index.search(&a, q, 5, Filter::kind("answer")).await.unwrap().is_empty());

    // Owners: a user's answers are theirs alone.
    index
        .upsert(
            &a,
            vec![
                point(&e, "q1", "answer", Some("ana"), "¿cuánta harina pan necesito?"),
                point(&e, "q2", "answer", Some("beto"), "¿cuánta harina pan necesito?"),
            ],
        )
        .await
        .unwrap();
    let ana = index.search(&a, q, 5, Filter::owned("answer", "ana")).await.unwrap();
    assert_eq!(ana.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["q1"]);
    // The same id under another kind is another point.
    index.upsert(&a, vec![point(&e, "ACE-DIA-1L", "alert", None, "Aceite Diana se agota")]).await.unwrap();
    assert_eq!(index.count(&a).await.unwrap(), 6);

    // Upserting the same id replaces it; deleting a kind leaves the rest.
    load(index, &e, &a, &[("ACE-DIA-1L", "Aceite vegetal Diana 1 L")]).await;
    assert_eq!(index.count(&a).await.unwrap(), 6);
    index.delete_kind(&a, "product").await.unwrap();
    assert_eq!(index.count(&a).await.unwrap(), 3);
    assert!(index.search(&a, q, 5, Filter::kind("product")).await.unwrap().is_empty());
    assert_eq!(index.count(&b).await.unwrap(), 1, "another tenant's points are untouched");

    // A vector of another dimension is refused.
    let bad = VectorPoint {
        id: "x".into(),
        kind: "product".into(),
        owner: None,
        vector: vec![0.0; 3],
        payload: serde_json::Value::Null,
    };
    assert!(index.upsert(&a, vec![bad]).await.is_err());
    assert!(index.search(&a, &[0.0; 3], 1, Filter::ANY).await.is_err());
}

#[tokio::test]
async fn the_exact_index_keeps_tenants_apart() {
    contract(&ExactIndex::new(384)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qdrant_edge_keeps_tenants_apart_and_its_points_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let e = HashEmbedder::default();
    let id = fluxion_memory::Embedder::id(&e);
    {
        let store = EdgeStore::open(dir.path(), &id, 384).unwrap();
        assert_eq!(store.backend(), "qdrant-edge");
        contract(&store).await;
        // A bigger tenant, indexed (HNSW), still exact on its top hit.
        let t = tenant("grande");
        let names: Vec<(String, String)> =
            (0..600).map(|i| (format!("P{i:04}"), format!("Producto de prueba número {i} marca {}", i % 37))).collect();
        let refs: Vec<(&str, &str)> = names.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        load(&store, &e, &t, &refs).await;
        store.optimize().await.unwrap();
        let q = &e.embed_now(&["Producto de prueba número 417 marca 10"])[0];
        assert_eq!(store.search(&t, q, 3, Filter::kind("product")).await.unwrap()[0].id, "P0417");
    }
    // Reopened: the points are there.
    let store = EdgeStore::open(dir.path(), &id, 384).unwrap();
    assert_eq!(store.count(&tenant("grande")).await.unwrap(), 600);
    drop(store);
    // Another embedder: another shard, the old one removed (a clean re-index).
    let other = EdgeStore::open(dir.path(), "openai:text-embedding-3-small:1536", 1536).unwrap();
    assert_eq!(other.count(&tenant("grande")).await.unwrap(), 0);
    let dirs: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|d| d.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(dirs, ["openai_text-embedding-3-small_1536"]);
}

fn server_config(url: String, prefix: &str) -> ServerConfig {
    ServerConfig { url, api_key: String::new(), prefix: prefix.into(), timeout: Duration::from_secs(10), attempts: 3 }
}

/// The server store over real gRPC, against the in-process Qdrant of the tests: collection and
/// payload indexes created, batches, filters, counts, deletion, and a clean switch of embedder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_store_speaks_qdrants_grpc() {
    let url = fake_qdrant::start().await;
    let store =
        ServerStore::connect(&server_config(url.clone(), "fluxion"), "hash-ngram-3-4-fnv1a-384", 384).await.unwrap();
    assert_eq!(store.collection(), "fluxion_hash-ngram-3-4-fnv1a-384");
    contract(&store).await;
    // More points than one batch.
    let e = HashEmbedder::default();
    let t = tenant("lotes");
    let points = (0..700).map(|i| point(&e, &format!("P{i}"), "product", None, &format!("producto {i}"))).collect();
    store.upsert(&t, points).await.unwrap();
    assert_eq!(store.count(&t).await.unwrap(), 700);
    // Connecting again with the same embedder keeps the collection and its points.
    let again =
        ServerStore::connect(&server_config(url.clone(), "fluxion"), "hash-ngram-3-4-fnv1a-384", 384).await.unwrap();
    assert_eq!(again.count(&t).await.unwrap(), 700);
    // Another embedder: a fresh collection, the stale one dropped.
    let other =
        ServerStore::connect(&server_config(url, "fluxion"), "openai:text-embedding-3-small:1536", 1536).await.unwrap();
    assert_eq!(other.count(&t).await.unwrap(), 0);
    assert!(again.count(&t).await.is_err(), "the old collection is gone");
}

/// A Qdrant server, when one is given (`FLUXION_TEST_QDRANT_URL`, gRPC, e.g. http://127.0.0.1:6334).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qdrant_server_keeps_tenants_apart() {
    let Ok(url) = std::env::var("FLUXION_TEST_QDRANT_URL") else {
        eprintln!("FLUXION_TEST_QDRANT_URL not set: the Qdrant server suite is skipped (no server on this machine)");
        return;
    };
    let config = ServerConfig {
        url,
        api_key: std::env::var("FLUXION_TEST_QDRANT_API_KEY").unwrap_or_default(),
        prefix: format!("fluxiontest{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        timeout: Duration::from_secs(10),
        attempts: 3,
    };
    let store = ServerStore::connect(&config, "hash-ngram-3-4-fnv1a-384", 384).await.unwrap();
    assert_eq!(store.backend(), "qdrant");
    contract(&store).await;
    // Connecting again with another embedder drops this collection for a fresh one.
    let again = ServerStore::connect(&config, "hash-ngram-3-4-fnv1a-256", 256).await.unwrap();
    assert_ne!(again.collection(), store.collection());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_qdrant_server_is_a_clean_error() {
    let config = ServerConfig {
        url: "http://127.0.0.1:9".into(),
        api_key: String::new(),
        prefix: "fluxion".into(),
        timeout: Duration::from_millis(500),
        attempts: 2,
    };
    let err = ServerStore::connect(&config, "hash", 384).await.unwrap_err();
    assert!(err.to_string().contains("vector engine"), "{err}");
}
