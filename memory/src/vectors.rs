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

/// The exact in-process index.
#[derive(Debug)]
pub struct ExactIndex {
    dim: usize,
    tenants: RwLock<HashMap<TenantSlug, HashMap<String, VectorPoint>>>,
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
            mine.insert(p.id.clone(), p);
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
        let mut scored: Vec<(f32, &VectorPoint)> = mine
            .values()
            .filter(|p| kind.is_none_or(|k| p.kind == k))
            .map(|p| (crate::embed::cosine(query, &p.vector), p))
            .collect();
        let k = k.min(scored.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        scored.truncate(k);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        Ok(scored
            .into_iter()
            .map(|(score, p)| Hit { id: p.id.clone(), kind: p.kind.clone(), score, payload: p.payload.clone() })
            .collect())
    }

    async fn count(&self, tenant: &TenantSlug) -> Result<u64, VectorError> {
        let tenants = self.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(tenants.get(tenant).map_or(0, |m| m.len() as u64))
    }
}
