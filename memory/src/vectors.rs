//! The vector memory: points (a vector, a kind, an owner, a payload) per tenant, searched by
//! similarity. One trait, three implementations: [`ExactIndex`] (exact, in process: tests and
//! small tenants), [`crate::qdrant::EdgeStore`] (Qdrant's embedded engine in the data folder, the
//! embedded default) and [`crate::qdrant::ServerStore`] (a Qdrant server, production). Every call
//! names the tenant, and a search only ever sees that tenant's points.

use async_trait::async_trait;
use fluxion_domain::TenantSlug;
use std::collections::HashMap;
use std::sync::RwLock;

/// One stored point.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    /// Its id within the tenant and kind (a product code, a question id …).
    pub id: String,
    /// What it is ("product", "answer", "alert").
    pub kind: String,
    /// The user it belongs to (past questions and answers), or none (shared by the tenant).
    pub owner: Option<String>,
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

/// Which of a tenant's points a search may return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter<'a> {
    /// Only points of this kind.
    pub kind: Option<&'a str>,
    /// Only points of this owner.
    pub owner: Option<&'a str>,
}

impl<'a> Filter<'a> {
    /// Any of the tenant's points.
    pub const ANY: Filter<'static> = Filter { kind: None, owner: None };

    /// Points of `kind`.
    pub fn kind(kind: &'a str) -> Self {
        Self { kind: Some(kind), owner: None }
    }

    /// Points of `kind` belonging to `owner`.
    pub fn owned(kind: &'a str, owner: &'a str) -> Self {
        Self { kind: Some(kind), owner: Some(owner) }
    }

    fn admits(&self, kind: &str, owner: Option<&str>) -> bool {
        self.kind.is_none_or(|k| k == kind) && self.owner.is_none_or(|o| owner == Some(o))
    }
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
    /// The engine (embedded or server) failed.
    #[error("vector engine: {0}")]
    Engine(String),
}

/// A vector memory.
#[async_trait]
pub trait VectorStore: Send + Sync + std::fmt::Debug {
    /// Stores points for `tenant`, replacing points with the same id.
    async fn upsert(&self, tenant: &TenantSlug, points: Vec<VectorPoint>) -> Result<(), VectorError>;
    /// The `k` points of `tenant` that `filter` admits most similar to `query`, best first.
    async fn search(
        &self,
        tenant: &TenantSlug,
        query: &[f32],
        k: usize,
        filter: Filter<'_>,
    ) -> Result<Vec<Hit>, VectorError>;
    /// Points stored for `tenant`.
    async fn count(&self, tenant: &TenantSlug) -> Result<u64, VectorError>;
    /// Removes `tenant`'s points of `kind` (before re-indexing them).
    async fn delete_kind(&self, tenant: &TenantSlug, kind: &str) -> Result<(), VectorError>;
    /// Builds search indexes after a large load (a no-op where the engine does it by itself).
    async fn optimize(&self) -> Result<(), VectorError> {
        Ok(())
    }
    /// The engine's name ("exact", "qdrant-edge", "qdrant").
    fn backend(&self) -> &'static str;
}

/// One tenant's points, vectors stored contiguously (a search is one pass over memory).
#[derive(Debug, Default)]
struct TenantPoints {
    ids: Vec<String>,
    kinds: Vec<String>,
    owners: Vec<Option<String>>,
    payloads: Vec<serde_json::Value>,
    flat: Vec<f32>,
    /// Where each (kind, id) is.
    position: HashMap<(String, String), usize>,
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
            match mine.position.get(&(p.kind.clone(), p.id.clone())) {
                Some(&i) => {
                    mine.kinds[i] = p.kind;
                    mine.owners[i] = p.owner;
                    mine.payloads[i] = p.payload;
                    mine.flat[i * self.dim..(i + 1) * self.dim].copy_from_slice(&p.vector);
                }
                None => {
                    mine.position.insert((p.kind.clone(), p.id.clone()), mine.ids.len());
                    mine.ids.push(p.id);
                    mine.kinds.push(p.kind);
                    mine.owners.push(p.owner);
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
        filter: Filter<'_>,
    ) -> Result<Vec<Hit>, VectorError> {
        self.check(query)?;
        let tenants = self.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(mine) = tenants.get(tenant) else { return Ok(Vec::new()) };
        let mut scored: Vec<(f32, usize)> = mine
            .flat
            .chunks_exact(self.dim)
            .enumerate()
            .filter(|(i, _)| filter.admits(&mine.kinds[*i], mine.owners[*i].as_deref()))
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

    async fn delete_kind(&self, tenant: &TenantSlug, kind: &str) -> Result<(), VectorError> {
        let mut tenants = self.tenants.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(mine) = tenants.get_mut(tenant) else { return Ok(()) };
        let old = std::mem::take(mine);
        for (i, id) in old.ids.into_iter().enumerate() {
            if old.kinds[i] != kind {
                mine.position.insert((old.kinds[i].clone(), id.clone()), mine.ids.len());
                mine.ids.push(id);
                mine.kinds.push(old.kinds[i].clone());
                mine.owners.push(old.owners[i].clone());
                mine.payloads.push(old.payloads[i].clone());
                mine.flat.extend_from_slice(&old.flat[i * self.dim..(i + 1) * self.dim]);
            }
        }
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "exact"
    }
}
