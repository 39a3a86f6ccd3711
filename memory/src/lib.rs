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
//! - [`embed`]: text to vectors ([`Embedder`]; the built-in [`HashEmbedder`] hashes character n-grams,
//!   [`OpenAiEmbedder`] calls an OpenAI-compatible endpoint).
//! - [`budget`]: language-model tokens spent per tenant and day ([`TokenLedger`]).
//! - [`http`]: the HTTP client of outside APIs.
//! - [`vectors`]: the vector memory ([`VectorStore`]; [`ExactIndex`], exact search in process).
//! - [`semantic`]: what the vector memory holds (products, past answers, alerts) and how it is asked.
//! - [`qdrant`]: Qdrant behind the same trait ([`EdgeStore`] embedded, [`ServerStore`] a server).
//! - [`jobs`]: the durable job queue ([`JobQueue`]: SQLite file embedded, Redis stream in production).
//! - [`redis`]: the connection to a production Redis and the Redis [`RedisBus`].
//! - `migrations/` (beside `src/`): the SQL of both backends, embedded in the binary and applied on open.

pub mod budget;
pub mod bus;
pub mod conversation;
pub mod embed;
pub mod http;
pub mod jobs;
pub mod qdrant;
pub mod ratelimit;
pub mod redis;
pub mod semantic;
pub mod store;
pub mod vectors;

pub use budget::{InProcessLedger, RedisLedger, TokenLedger};
pub use bus::{Bus, BusError, BusEvent, InProcessBus, Subscription, Topic};
pub use conversation::{ConversationMemory, InProcessMemory, MemoryError, RedisMemory};
pub use embed::{EmbedError, Embedder, HashEmbedder, OpenAiEmbedder, OpenAiEmbedderConfig};
pub use http::http_client;
pub use jobs::{Job, JobError, JobKind, JobQueue, RedisJobQueue, SqliteJobQueue};
pub use qdrant::{EdgeStore, ServerConfig, ServerStore};
pub use ratelimit::{InProcessLimiter, Limit, RateDecision, RateKey, RateLimiter, RedisLimiter};
pub use redis::RedisBus;
pub use semantic::{PastAnswer, Recalled, SemanticError, SemanticMemory};
pub use store::postgres::PostgresOptions;
pub use store::{
    Accounts, AlertQuery, AlertStatus, ApiKeyRecord, Backend, ChangeSet, ChangeSummary, Contact, Decided, Decision,
    DemandQuery, Feedback, InboundMessage, IngestRun, IngestStatus, Messaging, Offer, Once, OutState, OutboundMessage,
    Page, RecommendationQuery, RecommendationStatus, RefreshRecord, Role, Rotation, Scope, SendOutcome, StatusUpdate,
    Store, StoreError, StoredAlert, StoredForecast, StoredRecommendation, TableCounts, TenantStore, TraceQuery,
    UserRecord, Verdict, normalize_phone, open_postgres, open_sqlite, recommendation_key,
};
pub use vectors::{ExactIndex, Filter, Hit, VectorError, VectorPoint, VectorStore};
