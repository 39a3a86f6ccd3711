//! The vector memory: searches find the similar points of the tenant asked, never another's.
#![allow(clippy::unwrap_used)]

use fluxion_domain::TenantSlug;
use fluxion_memory::{Embedder, ExactIndex, HashEmbedder, VectorPoint, VectorStore};

fn tenant(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

async fn load(index: &ExactIndex, e: &HashEmbedder, t: &TenantSlug, names: &[(&str, &str)]) {
    let vectors = e.embed(&names.iter().map(|n| n.1).collect::<Vec<_>>());
    let points = names
        .iter()
        .zip(vectors)
        .map(|((id, name), vector)| VectorPoint {
            id: (*id).into(),
            kind: "product".into(),
            vector,
            payload: serde_json::json!({"name": name}),
        })
        .collect();
    index.upsert(t, points).await.unwrap();
}

#[tokio::test]
async fn a_tenant_finds_its_own_similar_products_and_never_anothers() {
    let e = HashEmbedder::default();
    let index = ExactIndex::new(e.dim());
    let (a, b) = (tenant("cadena_a"), tenant("cadena_b"));
    load(
        &index,
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
    load(&index, &e, &b, &[("B-PAN", "Harina de maíz precocida P.A.N. blanca 1 kg")]).await;
    let q = &e.embed(&["harna pan blanca"])[0];
    let hits = index.search(&a, q, 2, Some("product")).await.unwrap();
    assert_eq!(hits[0].id, "HAR-PAN-BLA-1KG");
    assert!(hits.len() == 2 && hits[0].score > hits[1].score);
    assert!(hits.iter().all(|h| h.id != "B-PAN"));
    let theirs = index.search(&b, q, 10, None).await.unwrap();
    assert_eq!(theirs.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["B-PAN"]);
    assert!(index.search(&tenant("nadie"), q, 5, None).await.unwrap().is_empty());
    assert!(index.search(&a, q, 5, Some("answer")).await.unwrap().is_empty());
    // Upserting the same id replaces it; a vector of another dimension is refused.
    load(&index, &e, &a, &[("ACE-DIA-1L", "Aceite vegetal Diana 1 L")]).await;
    assert_eq!(index.count(&a).await.unwrap(), 3);
    let bad =
        VectorPoint { id: "x".into(), kind: "product".into(), vector: vec![0.0; 3], payload: serde_json::Value::Null };
    assert!(index.upsert(&a, vec![bad]).await.is_err());
    assert!(index.search(&a, &[0.0; 3], 1, None).await.is_err());
}
