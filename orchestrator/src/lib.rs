//! The orchestrator: the supervision tree of agent actors, the request plan (understand → forecast →
//! alert ‖ optimizer → compose), unified answers, traces, scheduled runs and approvals.
//!
//! Empty until the runtime issue; it holds no placeholder logic.
