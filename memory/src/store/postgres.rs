//! PostgreSQL backend (being written in this session).
use super::{Store, StoreError};
use std::sync::Arc;

/// Opens the PostgreSQL store.
pub async fn open_postgres(_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Err(StoreError::Corrupt("postgres backend not yet available".into()))
}
