//! Everything in Fluxion that stores or shares state.
//!
//! Only this crate contains SQL (and, with later issues, Redis commands and vector-store calls).
//! The rest of the code talks to the [`Store`] and [`TenantStore`] traits and never learns which
//! backend is behind them.
//!
//! # Layout
//! - [`store`]: the relational store API ([`Store`], [`TenantStore`], [`ChangeSet`]) and its two
//!   backends, [`store::sqlite`] (embedded default: one file per tenant plus a control file) and
//!   [`store::postgres`] (schema per tenant, row-level security on shared tables, monthly sales partitions).
//! - [`bus`]: the shared context's live events and partial results ([`Bus`], [`InProcessBus`]).
//! - [`conversation`]: short-term conversation memory per user ([`ConversationMemory`]: in-process or Redis).
//! - [`embed`]: text to vectors ([`Embedder`]; the built-in [`HashEmbedder`] hashes character n-grams).
//! - [`vectors`]: the vector memory ([`VectorStore`]; [`ExactIndex`], exact search in process).
//! - [`jobs`]: the durable job queue ([`JobQueue`]: SQLite file embedded, Redis stream in production).
//! - [`redis`]: the connection to a production Redis and the Redis [`RedisBus`].
//! - `migrations/` (beside `src/`): the SQL of both backends, embedded in the binary and applied on open.

pub mod bus;
pub mod conversation;
pub mod embed;
pub mod jobs;
pub mod redis;
pub mod store;
pub mod vectors;

pub use bus::{Bus, BusError, BusEvent, InProcessBus, Subscription, Topic};
pub use conversation::{ConversationMemory, InProcessMemory, MemoryError, RedisMemory};
pub use embed::{Embedder, HashEmbedder};
pub use jobs::{Job, JobError, JobKind, JobQueue, RedisJobQueue, SqliteJobQueue};
pub use redis::RedisBus;
pub use store::postgres::PostgresOptions;
pub use store::{
    Backend, ChangeSet, ChangeSummary, DemandQuery, IngestRun, IngestStatus, Store, StoreError, StoredForecast,
    TableCounts, TenantStore, TraceQuery, open_postgres, open_sqlite,
};
pub use vectors::{ExactIndex, Hit, VectorError, VectorPoint, VectorStore};
