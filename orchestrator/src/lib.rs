//! The orchestrator: the supervision tree of agent actors, the request plan (understand → forecast →
//! alert ‖ optimizer → compose), unified answers and traces.
//!
//! - [`supervisor`]: the supervisor actor and its restart policy (restart, budget per window, escalate).
//! - [`runtime`]: [`Runtime`] — starts the tree, keeps each tenant's live context, answers `ask`.
//! - `plan`: one request's stages, deadlines, degraded answers, bus progress and trace.
//! - [`trace`]: recording a request's span tree.

mod plan;
pub mod runtime;
pub mod supervisor;
pub mod trace;

pub use runtime::{Agents, Deadlines, Live, Runtime, RuntimeConfig, RuntimeError};
pub use supervisor::{RestartPolicy, Restarts};
