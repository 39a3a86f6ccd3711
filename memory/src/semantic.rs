//! Semantic memory: what the vector store holds for Fluxion, and how it is asked. Three kinds of
//! points per tenant:
//!
//! - `product`: each catalog entry (name, brand, category, barcodes, code) — for resolving
//!   "harina pan" or a barcode to the right SKUs when word matching finds nothing;
//! - `answer`: each question a user asked and the answer they got (owned by that user: long-term
//!   memory that nobody else reads);
//! - `alert` and `recommendation`: each alert raised and each order or transfer recommended, as its
//!   plain-Spanish reason with the day, store and product (so "¿qué pasó con el aceite la semana
//!   pasada?" finds them);
//! - `catalog`: one marker per tenant with the fingerprint of the indexed catalog (re-indexing an
//!   unchanged catalog is skipped).

use crate::embed::{EmbedError, Embedder};
use crate::vectors::{Filter, Hit, VectorError, VectorPoint, VectorStore};
use chrono::NaiveDate;
use fluxion_domain::{Alert, Product, Recommendation, RecommendedAction, TenantSlug};
use serde_json::json;
use std::sync::Arc;

/// Point kinds.
pub mod kind {
    /// A catalog entry.
    pub const PRODUCT: &str = "product";
    /// A question and its answer.
    pub const ANSWER: &str = "answer";
    /// An alert.
    pub const ALERT: &str = "alert";
    /// An order or transfer recommended.
    pub const RECOMMENDATION: &str = "recommendation";
    /// The fingerprint of the indexed catalog (one point per tenant).
    pub const CATALOG: &str = "catalog";
}

/// Why the semantic memory failed.
#[derive(Debug, thiserror::Error)]
pub enum SemanticError {
    /// Embedding failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The vector store failed.
    #[error(transparent)]
    Vectors(#[from] VectorError),
}

/// A remembered question and answer, or alert, found again.
#[derive(Debug, Clone, PartialEq)]
pub struct Recalled {
    /// What it is ([`kind::ANSWER`] or [`kind::ALERT`]).
    pub kind: String,
    /// The day it happened.
    pub day: NaiveDate,
    /// Its text (the alert's reason; the question and the answer).
    pub text: String,
    /// The product it was about, when one.
    pub product: Option<String>,
    /// Similarity to the query.
    pub score: f32,
}

/// A question a user asked and the answer they got.
#[derive(Debug, Clone, Copy)]
pub struct PastAnswer<'a> {
    /// The user.
    pub user: &'a str,
    /// Its id (the request's trace id).
    pub id: &'a str,
    /// The evening it was asked.
    pub day: NaiveDate,
    /// The question.
    pub question: &'a str,
    /// The answer's text.
    pub answer: &'a str,
    /// The product it was about, when one.
    pub product: Option<&'a str>,
}

/// Something that happened to a tenant, as remembered.
struct Event<'a> {
    id: String,
    text: String,
    day: NaiveDate,
    product: Option<&'a str>,
    store: &'a str,
}

/// The embedder and the vector store, together.
#[derive(Debug, Clone)]
pub struct SemanticMemory {
    embedder: Arc<dyn Embedder>,
    store: Arc<dyn VectorStore>,
}

impl SemanticMemory {
    /// Memory over `store`, with vectors from `embedder`.
    pub fn new(embedder: Arc<dyn Embedder>, store: Arc<dyn VectorStore>) -> Self {
        Self { embedder, store }
    }

    /// The vector store.
    pub fn store(&self) -> &Arc<dyn VectorStore> {
        &self.store
    }

    /// The embedder.
    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// What a product's point is embedded from.
    pub fn product_text(p: &Product) -> String {
        let mut t = format!("{} {} {}", p.name(), p.brand(), p.category());
        for b in p.barcodes() {
            t.push(' ');
            t.push_str(b.as_str());
        }
        t.push(' ');
        t.push_str(p.code().as_str());
        t
    }

    /// Replaces the tenant's product points with `products` (and builds the search index) unless
    /// the same catalog is already indexed with the same embedder.
    pub async fn index_products(&self, tenant: &TenantSlug, products: &[Product]) -> Result<usize, SemanticError> {
        let texts: Vec<String> = products.iter().map(Self::product_text).collect();
        let fingerprint = {
            let mut h = crate::embed::fnv1a_from(0xcbf2_9ce4_8422_2325, self.embedder.id().as_bytes());
            for t in &texts {
                h = crate::embed::fnv1a_from(h, t.as_bytes()) ^ 0x1f;
            }
            format!("{h:016x}")
        };
        let probe = self.marker_vector();
        let current = self.store.search(tenant, &probe, 1, Filter::kind(kind::CATALOG)).await?;
        if current.first().is_some_and(|h| h.payload["fingerprint"] == fingerprint.as_str()) {
            return Ok(products.len());
        }
        let vectors = self.embedder.embed(&texts.iter().map(String::as_str).collect::<Vec<_>>()).await?;
        let points: Vec<VectorPoint> = products
            .iter()
            .zip(vectors)
            .map(|(p, vector)| VectorPoint {
                id: p.code().as_str().to_owned(),
                kind: kind::PRODUCT.into(),
                owner: None,
                vector,
                payload: json!({"code": p.code().as_str(), "name": p.name()}),
            })
            .collect();
        let n = points.len();
        self.store.delete_kind(tenant, kind::PRODUCT).await?;
        self.store.upsert(tenant, points).await?;
        self.store.optimize().await?;
        let marker = VectorPoint {
            id: "catalog".into(),
            kind: kind::CATALOG.into(),
            owner: None,
            vector: probe,
            payload: json!({"fingerprint": fingerprint, "products": n}),
        };
        self.store.upsert(tenant, vec![marker]).await?;
        Ok(n)
    }

    /// The vector of the catalog's marker point (any unit vector: it is found by its kind).
    fn marker_vector(&self) -> Vec<f32> {
        let mut v = vec![0.0; self.embedder.dim()];
        if let Some(x) = v.first_mut() {
            *x = 1.0;
        }
        v
    }

    /// Remembers recommendations (idempotent: the same one on the same day is one point).
    pub async fn remember_recommendations(
        &self,
        tenant: &TenantSlug,
        recommendations: &[Recommendation],
        product_names: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<usize, SemanticError> {
        let events = recommendations
            .iter()
            .map(|r| {
                let name = product_names(r.product.as_str()).unwrap_or_default();
                let what = match &r.action {
                    RecommendedAction::Order { .. } => "order".to_owned(),
                    RecommendedAction::Transfer { from } => format!("transfer-{from}"),
                };
                Event {
                    id: format!("{what}:{}:{}@{}", r.store, r.product, r.on),
                    text: format!("Recomendación {name} {}: {}", r.store.as_str(), r.explanation_es),
                    day: r.on,
                    product: Some(r.product.as_str()),
                    store: r.store.as_str(),
                }
            })
            .collect();
        self.remember_events(tenant, kind::RECOMMENDATION, events).await
    }

    /// The `k` products of the tenant closest to `text`: (code, similarity).
    pub async fn products_like(
        &self,
        tenant: &TenantSlug,
        text: &str,
        k: usize,
    ) -> Result<Vec<(String, f32)>, SemanticError> {
        let hits = self.search(tenant, text, k, Filter::kind(kind::PRODUCT)).await?;
        Ok(hits.into_iter().map(|h| (h.id, h.score)).collect())
    }

    /// Remembers a question and its answer, as its user's.
    pub async fn remember_answer(&self, tenant: &TenantSlug, a: &PastAnswer<'_>) -> Result<(), SemanticError> {
        let vector = self.one(a.question).await?;
        let text = format!("Preguntaste «{}» y te respondí: {}", a.question, a.answer);
        let point = VectorPoint {
            id: a.id.to_owned(),
            kind: kind::ANSWER.into(),
            owner: Some(a.user.to_owned()),
            vector,
            payload: json!({"day": a.day, "text": text, "product": a.product}),
        };
        Ok(self.store.upsert(tenant, vec![point]).await?)
    }

    /// Remembers alerts (idempotent: the same alert on the same day is one point).
    pub async fn remember_alerts(
        &self,
        tenant: &TenantSlug,
        alerts: &[Alert],
        product_names: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<usize, SemanticError> {
        let events = alerts
            .iter()
            .map(|a| {
                let name = a.product.as_ref().and_then(|p| product_names(p.as_str())).unwrap_or_default();
                Event {
                    id: format!("{}@{}", a.dedup_key, a.raised_on),
                    text: format!("{} {} {}: {}", a.kind.label_es(), name, a.store.as_str(), a.reason_es),
                    day: a.raised_on,
                    product: a.product.as_ref().map(|p| p.as_str()),
                    store: a.store.as_str(),
                }
            })
            .collect();
        self.remember_events(tenant, kind::ALERT, events).await
    }

    /// Stores dated, shared events of `kind` (alerts, recommendations), embedded from their text.
    async fn remember_events(
        &self,
        tenant: &TenantSlug,
        kind: &str,
        events: Vec<Event<'_>>,
    ) -> Result<usize, SemanticError> {
        if events.is_empty() {
            return Ok(0);
        }
        let vectors = self.embedder.embed(&events.iter().map(|e| e.text.as_str()).collect::<Vec<_>>()).await?;
        let n = events.len();
        let points = events
            .into_iter()
            .zip(vectors)
            .map(|(e, vector)| VectorPoint {
                id: e.id,
                kind: kind.to_owned(),
                owner: None,
                vector,
                payload: json!({"day": e.day, "text": e.text, "product": e.product, "store": e.store}),
            })
            .collect();
        self.store.upsert(tenant, points).await?;
        Ok(n)
    }

    /// What the tenant's alerts and `user`'s own past answers say about `text`, most similar
    /// first, from `since` on.
    pub async fn recall(
        &self,
        tenant: &TenantSlug,
        user: Option<&str>,
        text: &str,
        since: NaiveDate,
        k: usize,
    ) -> Result<Vec<Recalled>, SemanticError> {
        let vector = self.one(text).await?;
        let mut hits = self.store.search(tenant, &vector, k * 4, Filter::kind(kind::ALERT)).await?;
        hits.extend(self.store.search(tenant, &vector, k * 4, Filter::kind(kind::RECOMMENDATION)).await?);
        if let Some(u) = user {
            hits.extend(self.store.search(tenant, &vector, k * 4, Filter::owned(kind::ANSWER, u)).await?);
        }
        let mut out: Vec<Recalled> = hits
            .into_iter()
            .filter_map(|h| {
                let day = h.payload.get("day").and_then(|d| serde_json::from_value::<NaiveDate>(d.clone()).ok())?;
                (day >= since).then(|| Recalled {
                    kind: h.kind,
                    day,
                    text: h.payload.get("text").and_then(|t| t.as_str()).unwrap_or_default().to_owned(),
                    product: h.payload.get("product").and_then(|p| p.as_str()).map(str::to_owned),
                    score: h.score,
                })
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.truncate(k);
        Ok(out)
    }

    async fn one(&self, text: &str) -> Result<Vec<f32>, SemanticError> {
        Ok(self.embedder.embed(&[text]).await?.into_iter().next().unwrap_or_default())
    }

    async fn search(
        &self,
        tenant: &TenantSlug,
        text: &str,
        k: usize,
        filter: Filter<'_>,
    ) -> Result<Vec<Hit>, SemanticError> {
        let vector = self.one(text).await?;
        Ok(self.store.search(tenant, &vector, k, filter).await?)
    }
}
