//! Qdrant behind the [`VectorStore`] trait: [`EdgeStore`], Qdrant's embedded engine (`qdrant-edge`)
//! in the data folder, and [`ServerStore`], a Qdrant server through `qdrant-client` (gRPC).
//!
//! Both keep every tenant in one collection (Qdrant's recommended multitenancy): each point carries
//! `tenant_id` (a keyword index flagged `is_tenant`, so Qdrant lays the tenant's points out together),
//! `kind` and `owner` (keyword indexes), the caller's `id` and its `data`. Every query and deletion
//! filters on `tenant_id`; a point's Qdrant id is a hash of (tenant, kind, id), so tenants never
//! overwrite each other's points either.
//!
//! The collection (server) or folder (embedded) is named after the embedder: another embedder means
//! another collection, filled afresh, and the stale ones are dropped — changing the embedder
//! re-indexes cleanly, never mixing vectors of two models.

use crate::embed::fnv1a_from;
use crate::vectors::{Filter, Hit, VectorError, VectorPoint, VectorStore};
use async_trait::async_trait;
use fluxion_domain::TenantSlug;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Payload fields.
const TENANT: &str = "tenant_id";
const KIND: &str = "kind";
const OWNER: &str = "owner";
const ID: &str = "id";
const DATA: &str = "data";

/// Candidates the embedded engine's HNSW search keeps (`hnsw_ef`).
const HNSW_EF: usize = 256;

/// Points per upsert request.
const BATCH: usize = 256;

/// The Qdrant id of a tenant's point: 128 bits of two independent FNV-1a hashes.
fn point_uuid(tenant: &TenantSlug, kind: &str, id: &str) -> uuid::Uuid {
    let key = format!("{tenant}\u{1f}{kind}\u{1f}{id}");
    let hi = fnv1a_from(0xcbf2_9ce4_8422_2325, key.as_bytes());
    let lo = fnv1a_from(0x6c62_272e_07bb_0142, key.as_bytes());
    uuid::Uuid::from_u128((u128::from(hi) << 64) | u128::from(lo))
}

/// A name made of letters, digits, '-' and '_' (for folders and collections).
fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '_' }).collect()
}

fn payload_of(tenant: &TenantSlug, p: &VectorPoint) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(TENANT.into(), json!(tenant.as_str()));
    m.insert(KIND.into(), json!(p.kind));
    if let Some(o) = &p.owner {
        m.insert(OWNER.into(), json!(o));
    }
    m.insert(ID.into(), json!(p.id));
    m.insert(DATA.into(), p.payload.clone());
    m
}

fn hit_of(score: f32, payload: &serde_json::Map<String, Value>) -> Hit {
    let text = |k: &str| payload.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    Hit { id: text(ID), kind: text(KIND), score, payload: payload.get(DATA).cloned().unwrap_or(Value::Null) }
}

fn check_dim(dim: usize, v: &[f32]) -> Result<(), VectorError> {
    if v.len() == dim { Ok(()) } else { Err(VectorError::Dimension { expected: dim, got: v.len() }) }
}

// ---------------------------------------------------------------------------------------------
// Embedded: qdrant-edge
// ---------------------------------------------------------------------------------------------

/// Qdrant's embedded engine in a folder: `<root>/<embedder>/`, one shard for every tenant.
pub struct EdgeStore {
    shard: Arc<qdrant_edge::EdgeShard>,
    dim: usize,
    path: PathBuf,
    exact: bool,
}

impl std::fmt::Debug for EdgeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeStore").field("path", &self.path).field("dim", &self.dim).finish()
    }
}

impl EdgeStore {
    /// Opens (or creates) the shard of `embedder` (its id) under `root`, with `dim`-dimensional
    /// cosine vectors. Shards of other embedders under `root` are removed.
    pub fn open(root: &Path, embedder: &str, dim: usize) -> Result<Self, VectorError> {
        let engine = |e: &dyn std::fmt::Display| VectorError::Engine(e.to_string());
        std::fs::create_dir_all(root).map_err(|e| engine(&e))?;
        let name = slug(embedder);
        for entry in std::fs::read_dir(root).map_err(|e| engine(&e))?.flatten() {
            if entry.file_name().to_string_lossy() != name && entry.path().is_dir() {
                tracing::info!(path = %entry.path().display(), "removing the vectors of another embedder");
                std::fs::remove_dir_all(entry.path()).map_err(|e| engine(&e))?;
            }
        }
        let path = root.join(&name);
        let existing = path.join("edge_config.json").exists();
        let shard = if existing {
            qdrant_edge::EdgeShard::load(&path, None).map_err(|e| engine(&e))?
        } else {
            std::fs::create_dir_all(&path).map_err(|e| engine(&e))?;
            let config = qdrant_edge::EdgeConfigBuilder::new()
                .vector(
                    qdrant_edge::DEFAULT_VECTOR_NAME,
                    qdrant_edge::EdgeVectorParamsBuilder::new(dim, qdrant_edge::Distance::Cosine).build(),
                )
                .build();
            let shard = qdrant_edge::EdgeShard::new(&path, config).map_err(|e| engine(&e))?;
            for (field, tenant) in [(TENANT, true), (KIND, false), (OWNER, false)] {
                shard
                    .update(qdrant_edge::UpdateOperation::FieldIndexOperation(
                        qdrant_edge::FieldIndexOperations::CreateIndex(qdrant_edge::CreateIndex {
                            field_name: json_path(field)?,
                            field_schema: Some(qdrant_edge::PayloadFieldSchema::FieldParams(
                                qdrant_edge::PayloadSchemaParams::Keyword(qdrant_edge::KeywordIndexParams {
                                    r#type: Default::default(),
                                    is_tenant: Some(tenant),
                                    on_disk: None,
                                    enable_hnsw: None,
                                }),
                            )),
                        }),
                    ))
                    .map_err(|e| engine(&e))?;
            }
            shard
        };
        let stored = shard.config().vectors.get(qdrant_edge::DEFAULT_VECTOR_NAME).map(|v| v.size);
        if stored.is_some_and(|s| s != dim) {
            return Err(VectorError::Dimension { expected: stored.unwrap_or_default(), got: dim });
        }
        Ok(Self { shard: Arc::new(shard), dim, path, exact: true })
    }

    /// Whether searches score every point of the tenant (the default: exact top hits, under a
    /// millisecond at 10,000 products per tenant) or walk the HNSW graph (about half the time,
    /// approximate).
    pub fn exact(mut self, exact: bool) -> Self {
        self.exact = exact;
        self
    }

    fn tenant_filter(tenant: &TenantSlug, filter: Filter<'_>) -> Result<qdrant_edge::Filter, VectorError> {
        let field = |key: &str, value: &str| -> Result<qdrant_edge::Condition, VectorError> {
            Ok(qdrant_edge::Condition::Field(qdrant_edge::FieldCondition::new_match(
                json_path(key)?,
                qdrant_edge::Match::from(value.to_owned()),
            )))
        };
        let mut must = vec![field(TENANT, tenant.as_str())?];
        if let Some(k) = filter.kind {
            must.push(field(KIND, k)?);
        }
        if let Some(o) = filter.owner {
            must.push(field(OWNER, o)?);
        }
        Ok(qdrant_edge::Filter { must: Some(must), ..qdrant_edge::Filter::new() })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&qdrant_edge::EdgeShard) -> Result<T, VectorError> + Send + 'static,
    ) -> Result<T, VectorError> {
        let shard = self.shard.clone();
        tokio::task::spawn_blocking(move || f(&shard)).await.map_err(|e| VectorError::Engine(e.to_string()))?
    }
}

/// A payload field's path.
fn json_path(field: &str) -> Result<qdrant_edge::JsonPath, VectorError> {
    field.try_into().map_err(|()| VectorError::Engine(format!("invalid payload field {field:?}")))
}

#[async_trait]
impl VectorStore for EdgeStore {
    async fn upsert(&self, tenant: &TenantSlug, points: Vec<VectorPoint>) -> Result<(), VectorError> {
        for p in &points {
            check_dim(self.dim, &p.vector)?;
        }
        let tenant = tenant.clone();
        self.blocking(move |shard| {
            for chunk in points.chunks(BATCH) {
                let list = chunk
                    .iter()
                    .map(|p| qdrant_edge::PointStructPersisted {
                        id: qdrant_edge::PointId::Uuid(point_uuid(&tenant, &p.kind, &p.id)),
                        vector: qdrant_edge::VectorStructPersisted::Single(p.vector.clone()),
                        payload: Some(qdrant_edge::Payload(payload_of(&tenant, p))),
                    })
                    .collect();
                shard
                    .update(qdrant_edge::UpdateOperation::PointOperation(qdrant_edge::PointOperations::UpsertPoints(
                        qdrant_edge::PointInsertOperations::PointsList(list),
                    )))
                    .map_err(|e| VectorError::Engine(e.to_string()))?;
            }
            Ok(())
        })
        .await
    }

    async fn search(
        &self,
        tenant: &TenantSlug,
        query: &[f32],
        k: usize,
        filter: Filter<'_>,
    ) -> Result<Vec<Hit>, VectorError> {
        check_dim(self.dim, query)?;
        if k == 0 {
            return Ok(Vec::new());
        }
        let request = qdrant_edge::QueryRequest {
            prefetches: Vec::new(),
            query: Some(qdrant_edge::ScoringQuery::Vector(qdrant_edge::QueryEnum::Nearest(qdrant_edge::NamedQuery {
                query: qdrant_edge::VectorInternal::Dense(query.to_vec()),
                using: None,
            }))),
            filter: Some(Self::tenant_filter(tenant, filter)?),
            score_threshold: None,
            limit: k,
            offset: 0,
            // Exact: every point of the tenant scored (through the tenant index). Otherwise HNSW with
            // a wider beam than the default.
            params: Some(qdrant_edge::SearchParams { hnsw_ef: Some(HNSW_EF), exact: self.exact, ..Default::default() }),
            with_vector: qdrant_edge::WithVector::Bool(false),
            with_payload: qdrant_edge::WithPayloadInterface::Bool(true),
        };
        // Small tenants search in microseconds: on this thread, with no hop to the blocking pool.
        let found = self.shard.query(request).map_err(|e| VectorError::Engine(e.to_string()))?;
        Ok(found
            .iter()
            .map(|p| hit_of(p.score, p.payload.as_ref().map(|p| &p.0).unwrap_or(&Default::default())))
            .collect())
    }

    async fn count(&self, tenant: &TenantSlug) -> Result<u64, VectorError> {
        let filter = Self::tenant_filter(tenant, Filter::ANY)?;
        self.blocking(move |shard| {
            shard
                .count(qdrant_edge::CountRequest { filter: Some(filter), exact: true })
                .map(|n| n as u64)
                .map_err(|e| VectorError::Engine(e.to_string()))
        })
        .await
    }

    async fn delete_kind(&self, tenant: &TenantSlug, kind: &str) -> Result<(), VectorError> {
        let filter = Self::tenant_filter(tenant, Filter::kind(kind))?;
        self.blocking(move |shard| {
            shard
                .update(qdrant_edge::UpdateOperation::PointOperation(
                    qdrant_edge::PointOperations::DeletePointsByFilter(filter),
                ))
                .map_err(|e| VectorError::Engine(e.to_string()))
        })
        .await
    }

    async fn optimize(&self) -> Result<(), VectorError> {
        self.blocking(|shard| {
            shard.optimize().map_err(|e| VectorError::Engine(e.to_string()))?;
            shard.flush();
            Ok(())
        })
        .await
    }

    fn backend(&self) -> &'static str {
        "qdrant-edge"
    }
}

// ---------------------------------------------------------------------------------------------
// Production: a Qdrant server
// ---------------------------------------------------------------------------------------------

use qdrant_client::qdrant as q;

/// How to reach a Qdrant server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// gRPC URL ("http://127.0.0.1:6334").
    pub url: String,
    /// API key (empty: none).
    pub api_key: String,
    /// Collections are named `<prefix>_<embedder>`.
    pub prefix: String,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Attempts of a request that failed for a transient reason (unavailable, timed out).
    pub attempts: u32,
}

/// A Qdrant server: one collection for every tenant, named after the embedder.
pub struct ServerStore {
    client: qdrant_client::Qdrant,
    collection: String,
    dim: usize,
    attempts: u32,
}

impl std::fmt::Debug for ServerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerStore").field("collection", &self.collection).field("dim", &self.dim).finish()
    }
}

fn server_error(e: qdrant_client::QdrantError) -> VectorError {
    VectorError::Engine(e.to_string())
}

/// Whether a failed request may be sent again (the server was unreachable or overloaded; every
/// write here is an idempotent upsert or delete, so a repeat changes nothing).
fn transient(e: &qdrant_client::QdrantError) -> bool {
    match e {
        qdrant_client::QdrantError::ResponseError { status } => matches!(
            status.code(),
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::ResourceExhausted
        ),
        _ => false,
    }
}

impl ServerStore {
    /// Connects, creates the collection of `embedder` (cosine, `dim`) with its payload indexes
    /// when missing, and drops the collections of other embedders under the same prefix.
    pub async fn connect(config: &ServerConfig, embedder: &str, dim: usize) -> Result<Self, VectorError> {
        let mut builder =
            qdrant_client::Qdrant::from_url(&config.url).timeout(config.timeout).skip_compatibility_check();
        if !config.api_key.is_empty() {
            builder = builder.api_key(config.api_key.clone());
        }
        let client = builder.build().map_err(server_error)?;
        let collection = format!("{}_{}", slug(&config.prefix), slug(embedder));
        let store = Self { client, collection, dim, attempts: config.attempts.max(1) };
        let existing = store.retry(|c| async move { c.list_collections().await }).await?;
        let prefix = format!("{}_", slug(&config.prefix));
        for stale in existing.collections.iter().map(|c| &c.name) {
            if stale.starts_with(&prefix) && *stale != store.collection {
                tracing::info!(collection = %stale, "dropping the vectors of another embedder");
                let name = stale.clone();
                store
                    .retry(|c| {
                        let n = name.clone();
                        async move { c.delete_collection(q::DeleteCollectionBuilder::new(n)).await }
                    })
                    .await?;
            }
        }
        if !existing.collections.iter().any(|c| c.name == store.collection) {
            let name = store.collection.clone();
            store
                .retry(|c| {
                    let n = name.clone();
                    async move {
                        c.create_collection(
                            q::CreateCollectionBuilder::new(n)
                                .vectors_config(q::VectorParamsBuilder::new(dim as u64, q::Distance::Cosine)),
                        )
                        .await
                    }
                })
                .await?;
            for (field, tenant) in [(TENANT, true), (KIND, false), (OWNER, false)] {
                let name = store.collection.clone();
                store
                    .retry(|c| {
                        let n = name.clone();
                        async move {
                            c.create_field_index(
                                q::CreateFieldIndexCollectionBuilder::new(n, field, q::FieldType::Keyword)
                                    .field_index_params(q::KeywordIndexParamsBuilder::default().is_tenant(tenant))
                                    .wait(true),
                            )
                            .await
                        }
                    })
                    .await?;
            }
        }
        Ok(store)
    }

    /// The collection's name.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    async fn retry<T, F, Fut>(&self, call: F) -> Result<T, VectorError>
    where
        F: Fn(qdrant_client::Qdrant) -> Fut,
        Fut: std::future::Future<Output = Result<T, qdrant_client::QdrantError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call(self.client.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) if attempt < self.attempts && transient(&e) => {
                    tracing::warn!(attempt, error = %e, "qdrant request failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * (1 << attempt.min(6)))).await;
                }
                Err(e) => return Err(server_error(e)),
            }
        }
    }

    fn filter(tenant: &TenantSlug, filter: Filter<'_>) -> q::Filter {
        let mut must = vec![q::Condition::matches(TENANT, tenant.as_str().to_owned())];
        if let Some(k) = filter.kind {
            must.push(q::Condition::matches(KIND, k.to_owned()));
        }
        if let Some(o) = filter.owner {
            must.push(q::Condition::matches(OWNER, o.to_owned()));
        }
        q::Filter::must(must)
    }
}

#[async_trait]
impl VectorStore for ServerStore {
    async fn upsert(&self, tenant: &TenantSlug, points: Vec<VectorPoint>) -> Result<(), VectorError> {
        for p in &points {
            check_dim(self.dim, &p.vector)?;
        }
        for chunk in points.chunks(BATCH) {
            let list: Vec<q::PointStruct> = chunk
                .iter()
                .map(|p| {
                    q::PointStruct::new(
                        point_uuid(tenant, &p.kind, &p.id).to_string(),
                        p.vector.clone(),
                        qdrant_client::Payload::from(payload_of(tenant, p)),
                    )
                })
                .collect();
            let name = self.collection.clone();
            self.retry(|c| {
                let (n, l) = (name.clone(), list.clone());
                async move { c.upsert_points(q::UpsertPointsBuilder::new(n, l).wait(true)).await }
            })
            .await?;
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
        check_dim(self.dim, query)?;
        if k == 0 {
            return Ok(Vec::new());
        }
        let f = Self::filter(tenant, filter);
        let name = self.collection.clone();
        let found = self
            .retry(|c| {
                let (n, f, v) = (name.clone(), f.clone(), query.to_vec());
                async move {
                    c.query(q::QueryPointsBuilder::new(n).query(v).filter(f).limit(k as u64).with_payload(true)).await
                }
            })
            .await?;
        Ok(found
            .result
            .into_iter()
            .map(|p| {
                let payload: serde_json::Map<String, Value> =
                    p.payload.into_iter().map(|(k, v)| (k, serde_json::Value::from(v))).collect();
                hit_of(p.score, &payload)
            })
            .collect())
    }

    async fn count(&self, tenant: &TenantSlug) -> Result<u64, VectorError> {
        let f = Self::filter(tenant, Filter::ANY);
        let name = self.collection.clone();
        let r = self
            .retry(|c| {
                let (n, f) = (name.clone(), f.clone());
                async move { c.count(q::CountPointsBuilder::new(n).filter(f).exact(true)).await }
            })
            .await?;
        Ok(r.result.map_or(0, |c| c.count))
    }

    async fn delete_kind(&self, tenant: &TenantSlug, kind: &str) -> Result<(), VectorError> {
        let f = Self::filter(tenant, Filter::kind(kind));
        let name = self.collection.clone();
        self.retry(|c| {
            let (n, f) = (name.clone(), f.clone());
            async move { c.delete_points(q::DeletePointsBuilder::new(n).points(f).wait(true)).await }
        })
        .await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "qdrant"
    }
}
