//! The orchestrator: the supervision tree of agent actors, the request plan (understand → forecast →
//! alert ‖ optimizer → compose), unified answers and traces.
//!
//! - [`supervisor`]: the supervisor actor and its restart policy (restart, budget per window, escalate).
//! - [`runtime`]: [`Runtime`] — starts the tree, keeps each tenant's live context, answers `ask`.
//! - `plan`: one request's stages, deadlines, degraded answers, bus progress and trace.
//! - [`jobs`]: workers that run durable jobs on the runtime, and the scheduler of periodic ones.
//! - [`trace`]: recording a request's span tree.

pub mod jobs;
mod plan;
pub mod runtime;
pub mod supervisor;
pub mod trace;

pub use jobs::{JobOutcome, JobRunner, Schedule, spawn_scheduler};
pub use runtime::{Agents, Deadlines, Live, LlmPolicy, Origin, Runtime, RuntimeConfig, RuntimeError, Services};
pub use supervisor::{RestartPolicy, Restarts};
