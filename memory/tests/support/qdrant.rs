//! A Qdrant server for the tests, in process: the real gRPC protocol (qdrant-client's own
//! generated service definitions, served by tonic on a port of its own) over an in-memory store
//! that implements what Fluxion uses — collections, keyword payload indexes, upserts, deletion by
//! filter, exact counts and nearest-vector queries with `must` keyword filters. Everything else
//! answers `UNIMPLEMENTED`, as an unknown call would.
#![allow(dead_code, clippy::unwrap_used)]

use qdrant_client::qdrant as q;
use qdrant_client::qdrant::collections_server::{Collections, CollectionsServer};
use qdrant_client::qdrant::points_server::{Points, PointsServer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tonic::{Request, Response, Status};

type Stored = (q::PointId, Vec<f32>, HashMap<String, q::Value>);

#[derive(Default)]
struct Collection {
    dim: usize,
    indexes: Vec<String>,
    points: HashMap<String, Stored>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<HashMap<String, Collection>>>);

impl Fake {
    fn with<T>(&self, name: &str, f: impl FnOnce(&mut Collection) -> Result<T, Status>) -> Result<T, Status> {
        let mut all = self.0.lock().unwrap();
        let c = all.get_mut(name).ok_or_else(|| Status::not_found(format!("Collection `{name}` doesn't exist!")))?;
        f(c)
    }
}

/// Starts the server on a free port; its gRPC URL.
pub async fn start() -> String {
    let fake = Fake::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(CollectionsServer::new(fake.clone()))
            .add_service(PointsServer::new(fake))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    format!("http://{addr}")
}

fn key(id: &q::PointId) -> String {
    match &id.point_id_options {
        Some(q::point_id::PointIdOptions::Num(n)) => n.to_string(),
        Some(q::point_id::PointIdOptions::Uuid(u)) => u.clone(),
        None => String::new(),
    }
}

#[allow(deprecated)]
fn dense(v: Option<q::Vectors>) -> Result<Vec<f32>, Status> {
    match v.and_then(|v| v.vectors_options) {
        Some(q::vectors::VectorsOptions::Vector(v)) => match v.vector {
            Some(q::vector::Vector::Dense(d)) => Ok(d.data),
            None if !v.data.is_empty() => Ok(v.data),
            _ => Err(Status::invalid_argument("a dense vector is required")),
        },
        _ => Err(Status::invalid_argument("an unnamed dense vector is required")),
    }
}

fn keyword(payload: &HashMap<String, q::Value>, field: &str) -> Option<String> {
    match payload.get(field).and_then(|v| v.kind.clone()) {
        Some(q::value::Kind::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn matches(filter: &q::Filter, payload: &HashMap<String, q::Value>) -> bool {
    filter.must.iter().all(|c| match &c.condition_one_of {
        Some(q::condition::ConditionOneOf::Field(f)) => match f.r#match.as_ref().and_then(|m| m.match_value.clone()) {
            Some(q::r#match::MatchValue::Keyword(k)) => keyword(payload, &f.key).as_deref() == Some(k.as_str()),
            _ => false,
        },
        _ => false,
    }) && filter.should.is_empty()
        && filter.must_not.is_empty()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

fn done() -> Response<q::PointsOperationResponse> {
    Response::new(q::PointsOperationResponse {
        result: Some(q::UpdateResult { operation_id: Some(0), status: q::UpdateStatus::Completed as i32 }),
        time: 0.0,
        usage: None,
    })
}

#[tonic::async_trait]
impl Collections for Fake {
    async fn get(
        &self,
        _request: Request<q::GetCollectionInfoRequest>,
    ) -> Result<Response<q::GetCollectionInfoResponse>, Status> {
        Err(Status::unimplemented("Collections/get"))
    }

    async fn list(
        &self,
        _request: Request<q::ListCollectionsRequest>,
    ) -> Result<Response<q::ListCollectionsResponse>, Status> {
        let names = self.0.lock().unwrap().keys().cloned().collect::<Vec<_>>();
        Ok(Response::new(q::ListCollectionsResponse {
            collections: names.into_iter().map(|name| q::CollectionDescription { name }).collect(),
            time: 0.0,
        }))
    }

    async fn create(
        &self,
        request: Request<q::CreateCollection>,
    ) -> Result<Response<q::CollectionOperationResponse>, Status> {
        let r = request.into_inner();
        let dim = match r.vectors_config.and_then(|c| c.config) {
            Some(q::vectors_config::Config::Params(p)) => p.size as usize,
            _ => return Err(Status::invalid_argument("vectors_config.params is required")),
        };
        let mut all = self.0.lock().unwrap();
        if all.contains_key(&r.collection_name) {
            return Err(Status::already_exists(format!("Collection `{}` already exists!", r.collection_name)));
        }
        all.insert(r.collection_name, Collection { dim, ..Collection::default() });
        Ok(Response::new(q::CollectionOperationResponse { result: true, time: 0.0 }))
    }

    async fn update(
        &self,
        _request: Request<q::UpdateCollection>,
    ) -> Result<Response<q::CollectionOperationResponse>, Status> {
        Err(Status::unimplemented("Collections/update"))
    }

    async fn delete(
        &self,
        request: Request<q::DeleteCollection>,
    ) -> Result<Response<q::CollectionOperationResponse>, Status> {
        let r = request.into_inner();
        let removed = self.0.lock().unwrap().remove(&r.collection_name).is_some();
        Ok(Response::new(q::CollectionOperationResponse { result: removed, time: 0.0 }))
    }

    async fn update_aliases(
        &self,
        _request: Request<q::ChangeAliases>,
    ) -> Result<Response<q::CollectionOperationResponse>, Status> {
        Err(Status::unimplemented("Collections/update_aliases"))
    }

    async fn list_collection_aliases(
        &self,
        _request: Request<q::ListCollectionAliasesRequest>,
    ) -> Result<Response<q::ListAliasesResponse>, Status> {
        Err(Status::unimplemented("Collections/list_collection_aliases"))
    }

    async fn list_aliases(
        &self,
        _request: Request<q::ListAliasesRequest>,
    ) -> Result<Response<q::ListAliasesResponse>, Status> {
        Err(Status::unimplemented("Collections/list_aliases"))
    }

    async fn collection_cluster_info(
        &self,
        _request: Request<q::CollectionClusterInfoRequest>,
    ) -> Result<Response<q::CollectionClusterInfoResponse>, Status> {
        Err(Status::unimplemented("Collections/collection_cluster_info"))
    }

    async fn collection_exists(
        &self,
        request: Request<q::CollectionExistsRequest>,
    ) -> Result<Response<q::CollectionExistsResponse>, Status> {
        let r = request.into_inner();
        let exists = self.0.lock().unwrap().contains_key(&r.collection_name);
        Ok(Response::new(q::CollectionExistsResponse { result: Some(q::CollectionExists { exists }), time: 0.0 }))
    }

    async fn update_collection_cluster_setup(
        &self,
        _request: Request<q::UpdateCollectionClusterSetupRequest>,
    ) -> Result<Response<q::UpdateCollectionClusterSetupResponse>, Status> {
        Err(Status::unimplemented("Collections/update_collection_cluster_setup"))
    }

    async fn create_shard_key(
        &self,
        _request: Request<q::CreateShardKeyRequest>,
    ) -> Result<Response<q::CreateShardKeyResponse>, Status> {
        Err(Status::unimplemented("Collections/create_shard_key"))
    }

    async fn delete_shard_key(
        &self,
        _request: Request<q::DeleteShardKeyRequest>,
    ) -> Result<Response<q::DeleteShardKeyResponse>, Status> {
        Err(Status::unimplemented("Collections/delete_shard_key"))
    }

    async fn list_shard_keys(
        &self,
        _request: Request<q::ListShardKeysRequest>,
    ) -> Result<Response<q::ListShardKeysResponse>, Status> {
        Err(Status::unimplemented("Collections/list_shard_keys"))
    }
}

#[tonic::async_trait]
impl Points for Fake {
    async fn upsert(&self, request: Request<q::UpsertPoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
        let r = request.into_inner();
        self.with(&r.collection_name, |c| {
            for p in r.points {
                let id = p.id.ok_or_else(|| Status::invalid_argument("point id is required"))?;
                let vector = dense(p.vectors)?;
                if vector.len() != c.dim {
                    return Err(Status::invalid_argument(format!(
                        "Wrong input: Vector dimension error: expected dim: {}, got {}",
                        c.dim,
                        vector.len()
                    )));
                }
                c.points.insert(key(&id), (id, vector, p.payload));
            }
            Ok(())
        })?;
        Ok(done())
    }

    async fn delete(&self, request: Request<q::DeletePoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
        let r = request.into_inner();
        let filter = match r.points.and_then(|p| p.points_selector_one_of) {
            Some(q::points_selector::PointsSelectorOneOf::Filter(f)) => f,
            _ => return Err(Status::unimplemented("the fake deletes by filter only")),
        };
        self.with(&r.collection_name, |c| {
            c.points.retain(|_, (_, _, payload)| !matches(&filter, payload));
            Ok(())
        })?;
        Ok(done())
    }

    async fn get(&self, _request: Request<q::GetPoints>) -> Result<Response<q::GetResponse>, Status> {
        Err(Status::unimplemented("Points/get"))
    }

    async fn update_vectors(
        &self,
        _request: Request<q::UpdatePointVectors>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/update_vectors"))
    }

    async fn delete_vectors(
        &self,
        _request: Request<q::DeletePointVectors>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/delete_vectors"))
    }

    async fn set_payload(
        &self,
        _request: Request<q::SetPayloadPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/set_payload"))
    }

    async fn overwrite_payload(
        &self,
        _request: Request<q::SetPayloadPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/overwrite_payload"))
    }

    async fn delete_payload(
        &self,
        _request: Request<q::DeletePayloadPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/delete_payload"))
    }

    async fn clear_payload(
        &self,
        _request: Request<q::ClearPayloadPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/clear_payload"))
    }

    async fn create_field_index(
        &self,
        request: Request<q::CreateFieldIndexCollection>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        let r = request.into_inner();
        self.with(&r.collection_name, |c| {
            c.indexes.push(r.field_name.clone());
            Ok(())
        })?;
        Ok(done())
    }

    async fn delete_field_index(
        &self,
        _request: Request<q::DeleteFieldIndexCollection>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/delete_field_index"))
    }

    async fn create_vector_name(
        &self,
        _request: Request<q::CreateVectorNameRequest>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/create_vector_name"))
    }

    async fn delete_vector_name(
        &self,
        _request: Request<q::DeleteVectorNameRequest>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(Status::unimplemented("Points/delete_vector_name"))
    }

    async fn search(&self, _request: Request<q::SearchPoints>) -> Result<Response<q::SearchResponse>, Status> {
        Err(Status::unimplemented("Points/search"))
    }

    async fn search_batch(
        &self,
        _request: Request<q::SearchBatchPoints>,
    ) -> Result<Response<q::SearchBatchResponse>, Status> {
        Err(Status::unimplemented("Points/search_batch"))
    }

    async fn search_groups(
        &self,
        _request: Request<q::SearchPointGroups>,
    ) -> Result<Response<q::SearchGroupsResponse>, Status> {
        Err(Status::unimplemented("Points/search_groups"))
    }

    async fn scroll(&self, _request: Request<q::ScrollPoints>) -> Result<Response<q::ScrollResponse>, Status> {
        Err(Status::unimplemented("Points/scroll"))
    }

    async fn recommend(&self, _request: Request<q::RecommendPoints>) -> Result<Response<q::RecommendResponse>, Status> {
        Err(Status::unimplemented("Points/recommend"))
    }

    async fn recommend_batch(
        &self,
        _request: Request<q::RecommendBatchPoints>,
    ) -> Result<Response<q::RecommendBatchResponse>, Status> {
        Err(Status::unimplemented("Points/recommend_batch"))
    }

    async fn recommend_groups(
        &self,
        _request: Request<q::RecommendPointGroups>,
    ) -> Result<Response<q::RecommendGroupsResponse>, Status> {
        Err(Status::unimplemented("Points/recommend_groups"))
    }

    async fn discover(&self, _request: Request<q::DiscoverPoints>) -> Result<Response<q::DiscoverResponse>, Status> {
        Err(Status::unimplemented("Points/discover"))
    }

    async fn discover_batch(
        &self,
        _request: Request<q::DiscoverBatchPoints>,
    ) -> Result<Response<q::DiscoverBatchResponse>, Status> {
        Err(Status::unimplemented("Points/discover_batch"))
    }

    async fn count(&self, request: Request<q::CountPoints>) -> Result<Response<q::CountResponse>, Status> {
        let r = request.into_inner();
        let count = self.with(&r.collection_name, |c| {
            Ok(c.points.values().filter(|(_, _, p)| r.filter.as_ref().is_none_or(|f| matches(f, p))).count() as u64)
        })?;
        Ok(Response::new(q::CountResponse { result: Some(q::CountResult { count }), time: 0.0, usage: None }))
    }

    async fn update_batch(
        &self,
        _request: Request<q::UpdateBatchPoints>,
    ) -> Result<Response<q::UpdateBatchResponse>, Status> {
        Err(Status::unimplemented("Points/update_batch"))
    }

    async fn query(&self, request: Request<q::QueryPoints>) -> Result<Response<q::QueryResponse>, Status> {
        let r = request.into_inner();
        let query = match r.query.and_then(|q| q.variant) {
            Some(q::query::Variant::Nearest(q::VectorInput { variant: Some(q::vector_input::Variant::Dense(d)) })) => {
                d.data
            }
            _ => return Err(Status::unimplemented("the fake answers nearest-dense queries only")),
        };
        let limit = r.limit.unwrap_or(10) as usize;
        let result = self.with(&r.collection_name, |c| {
            if query.len() != c.dim {
                return Err(Status::invalid_argument("Wrong input: Vector dimension error"));
            }
            let mut hits: Vec<q::ScoredPoint> = c
                .points
                .values()
                .filter(|(_, _, p)| r.filter.as_ref().is_none_or(|f| matches(f, p)))
                .map(|(id, v, p)| q::ScoredPoint {
                    id: Some(id.clone()),
                    payload: p.clone(),
                    score: cosine(&query, v),
                    ..Default::default()
                })
                .collect();
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
            hits.truncate(limit);
            Ok(hits)
        })?;
        Ok(Response::new(q::QueryResponse { result, time: 0.0, usage: None }))
    }

    async fn query_batch(
        &self,
        _request: Request<q::QueryBatchPoints>,
    ) -> Result<Response<q::QueryBatchResponse>, Status> {
        Err(Status::unimplemented("Points/query_batch"))
    }

    async fn query_groups(
        &self,
        _request: Request<q::QueryPointGroups>,
    ) -> Result<Response<q::QueryGroupsResponse>, Status> {
        Err(Status::unimplemented("Points/query_groups"))
    }

    async fn facet(&self, _request: Request<q::FacetCounts>) -> Result<Response<q::FacetResponse>, Status> {
        Err(Status::unimplemented("Points/facet"))
    }

    async fn search_matrix_pairs(
        &self,
        _request: Request<q::SearchMatrixPoints>,
    ) -> Result<Response<q::SearchMatrixPairsResponse>, Status> {
        Err(Status::unimplemented("Points/search_matrix_pairs"))
    }

    async fn search_matrix_offsets(
        &self,
        _request: Request<q::SearchMatrixPoints>,
    ) -> Result<Response<q::SearchMatrixOffsetsResponse>, Status> {
        Err(Status::unimplemented("Points/search_matrix_offsets"))
    }
}
