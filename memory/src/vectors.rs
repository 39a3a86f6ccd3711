//! The vector memory: points (a vector, a kind, a payload) per tenant, searched by similarity.
//! One trait; [`ExactIndex`] is the exact in-process implementation (brute-force cosine over the
//! tenant's points). Every call names the tenant, and a search only ever sees that tenant's points.

use async_trait::async_trait;
use fluxion_domain::TenantSlug;
use std::collections::HashMap;
use std::sync::RwLock;

/// One stored point.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    /// Its id within the tenant (a product code, a question id …).
    pub id: String,
    /// What it is ("product", "answer", "alert").
    pub kind: String,
    /// The vector (L2-normalised).
    pub vector: Vec<f32>,
    /// What comes back with a hit.
    pub payload: serde_json::Value,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The point's id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Cosine similarity to the query.
    pub score: f32,
    /// Its payload.
    pub payload: serde_json::Value,
}

/// Why the vector memory refused.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// A vector of the wrong dimension.
    #[error("vector of dimension {got}, the index holds {expected}")]
    Dimension {
        /// The index's dimension.
        expected: usize,
        /// The vector's.
        got: usize,
    },
}

/// A vector memory.
#[async_trait]
pub trait VectorStore: Send + Sync + std::fmt::Debug {
    /// Stores points for `tenant`, replacing points with the same id.
    async fn upsert(&self, tenant: &TenantSlug, points: Vec<VectorPoint>) -> Result<(), VectorError>;
    /// The `k` points of `tenant` (of `kind`, when given) most similar to `query`, best first.
    async fn search(
        &self,
        tenant: &TenantSlug,
        query: &[f32],
        k: usize,
        kind: Option<&str>,
    ) -> Result<Vec<Hit>, VectorError>;
    /// Points stored for `tenant`.
    async fn count(&self, tenant: &TenantSlug) -> Result<u64, VectorError>;
}

/// One tenant's points, vectors stored contiguously (a search is one pass over memory).
#[derive(Debug, Default)]
struct TenantPoints {
    ids: Vec<String>,
    kinds: Vec<String>,
    payloads: Vec<serde_json::Value>,
    flat: Vec<f32>,
    position: HashMap<String, usize>,
}

/// The exact in-process index.
#[derive(Debug)]
pub struct ExactIndex {
    dim: usize,
    tenants: RwLock<HashMap<TenantSlug, TenantPoints>>,
}

impl ExactIndex {
    /// An empty index of `dim`-dimensional vectors.
    pub fn new(dim: usize) -> Self {
        Self { dim, tenants: RwLock::new(HashMap::new()) }
    }

    fn check(&self, v: &[f32]) -> Result<(), VectorError> {
        if v.len() == self.dim { Ok(()) } else { Err(VectorError::Dimension { expected: self.dim, got: v.len() }) }
    }
}

#[async_trait]
impl VectorStore for ExactIndex {
    async fn upsert(&self, tenant: &TenantSlug, points: Vec<VectorPoint>) -> Result<(), VectorError> {
        for p in &points {
            self.check(&p.vector)?;
        }
        let mut tenants = self.tenants.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = tenants.entry(tenant.clone()).or_default();
        for p in points {
            match mine.position.get(&p.id) {
                Some(&i) => {
                    mine.kinds[i] = p.kind;
                    mine.payloads[i] = p.payload;
                    mine.flat[i * self.dim..(i + 1) * self.dim].copy_from_slice(&p.vector);
                }
                None => {
                    mine.position.insert(p.id.clone(), mine.ids.len());
                    mine.ids.push(p.id);
                    mine.kinds.push(p.kind);
                    mine.payloads.push(p.payload);
                    mine.flat.extend_from_slice(&p.vector);
                }
            }
        }
        Ok(())
    }

    async fn search(
        &self,
        tenant: &TenantSlug,
        query: &[f32],
        k: usize,
        kind: Option<&str>,
    ) -> Result<Vec<Hit>, VectorError> {
        self.check(query)?;
        let tenants = self.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(mine) = tenants.get(tenant) else { return Ok(Vec::new()) };
        let mut scored: Vec<(f32, usize)> = mine
            .flat
            .chunks_exact(self.dim)
            .enumerate()
            .filter(|(i, _)| kind.is_none_or(|k| mine.kinds[*i] == k))
            .map(|(i, v)| (crate::embed::cosine(query, v), i))
            .collect();
        let k = k.min(scored.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        let order = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(mine.ids[a.1].cmp(&mine.ids[b.1]));
        scored.select_nth_unstable_by(k - 1, order);
        scored.truncate(k);
        scored.sort_by(order);
        Ok(scored
            .into_iter()
            .map(|(score, i)| Hit {
                id: mine.ids[i].clone(),
                kind: mine.kinds[i].clone(),
                score,
                payload: mine.payloads[i].clone(),
            })
            .collect())
    }

    async fn count(&self, tenant: &TenantSlug) -> Result<u64, VectorError> {
        let tenants = self.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(tenants.get(tenant).map_or(0, |m| m.ids.len() as u64))
    }
}
