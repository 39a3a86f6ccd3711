//! Tenants: the retail chains that share one Fluxion deployment and never see each other's data.

use crate::TenantSlug;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A tenant's permanent identifier (the slug names it for people; the id never changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TenantId(Uuid);

impl TenantId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    /// Wraps a stored id.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A retail chain using Fluxion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Permanent id.
    pub id: TenantId,
    /// Short name used in commands, URLs of the admin API, schema and file names.
    pub slug: TenantSlug,
    /// Display name ("Automercados La Cosecha").
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}
