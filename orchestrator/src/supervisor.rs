//! The supervision tree: one supervisor actor owns every agent actor as a linked child and
//! restarts a child that fails or stops — under the same registered name, so handles find it
//! again — within a restart budget per time window; past the budget it escalates by failing
//! itself (the runtime then reports itself unhealthy and answers degraded).

use fluxion_domain::AgentKind;
use futures_util::future::BoxFuture;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, SpawnErr, SupervisionEvent};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a child may be restarted before the supervisor gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed within `window`.
    pub max_restarts: u32,
    /// The window.
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self { max_restarts: 50, window: Duration::from_secs(10) }
    }
}

/// Starts a child linked to the supervisor it is given; returns the child's cell.
pub type StartFn = Arc<dyn Fn(ActorCell) -> BoxFuture<'static, Result<ActorCell, SpawnErr>> + Send + Sync>;

/// One supervised child.
#[derive(Clone)]
pub struct ChildSpec {
    /// Its registered name.
    pub name: String,
    /// The agent it runs.
    pub kind: AgentKind,
    /// How to start it.
    pub start: StartFn,
    /// Its restart budget.
    pub policy: RestartPolicy,
}

impl std::fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildSpec").field("name", &self.name).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// Restarts so far, per agent kind (read by traces).
#[derive(Debug, Default)]
pub struct Restarts {
    counts: [AtomicU64; 4],
}

impl Restarts {
    fn slot(kind: AgentKind) -> usize {
        AgentKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
    }

    /// Restarts of `kind`'s actors so far.
    pub fn of(&self, kind: AgentKind) -> u64 {
        self.counts[Self::slot(kind)].load(Ordering::Relaxed)
    }

    fn add(&self, kind: AgentKind) {
        self.counts[Self::slot(kind)].fetch_add(1, Ordering::Relaxed);
    }
}

/// What the supervisor is started with.
#[derive(Debug)]
pub struct SupervisorArgs {
    /// Its children.
    pub children: Vec<ChildSpec>,
    /// Where restarts are counted.
    pub restarts: Arc<Restarts>,
}

/// Messages to the supervisor.
#[derive(Debug)]
pub enum SupervisorMsg {
    /// Stop every child and then the supervisor, without restarting anything.
    Shutdown,
}

/// The supervisor actor.
#[derive(Debug, Default)]
pub struct Supervisor;

#[derive(Debug)]
struct Child {
    spec: ChildSpec,
    cell: Option<ActorCell>,
    recent: VecDeque<Instant>,
}

/// The supervisor's state.
#[derive(Debug)]
pub struct SupervisorState {
    children: Vec<Child>,
    restarts: Arc<Restarts>,
    stopping: bool,
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let mut children = Vec::with_capacity(args.children.len());
        for spec in args.children {
            let cell = (spec.start)(myself.get_cell()).await?;
            children.push(Child { spec, cell: Some(cell), recent: VecDeque::new() });
        }
        Ok(SupervisorState { children, restarts: args.restarts, stopping: false })
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Shutdown => {
                state.stopping = true;
                for child in &state.children {
                    if let Some(cell) = &child.cell {
                        cell.stop(Some("shutdown".into()));
                    }
                }
                myself.stop(Some("shutdown".into()));
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, why) = match event {
            SupervisionEvent::ActorFailed(cell, err) => (cell, format!("failed: {err}")),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, format!("stopped: {}", reason.unwrap_or_else(|| "no reason".into())))
            }
            _ => return Ok(()),
        };
        if state.stopping {
            return Ok(());
        }
        let Some(child) =
            state.children.iter_mut().find(|c| c.cell.as_ref().is_some_and(|x| x.get_id() == cell.get_id()))
        else {
            return Ok(());
        };
        child.cell = None;
        let now = Instant::now();
        let window = child.spec.policy.window;
        while child.recent.front().is_some_and(|t| now.duration_since(*t) > window) {
            child.recent.pop_front();
        }
        if child.recent.len() as u32 >= child.spec.policy.max_restarts {
            tracing::error!(
                agent = child.spec.kind.as_str(),
                name = %child.spec.name,
                restarts = child.recent.len(),
                window_s = window.as_secs_f64(),
                "an agent keeps failing; the supervisor gives up and escalates"
            );
            return Err(format!(
                "{} restarted {} times within {:?}; escalating",
                child.spec.name,
                child.recent.len(),
                window
            )
            .into());
        }
        child.recent.push_back(now);
        tracing::warn!(agent = child.spec.kind.as_str(), name = %child.spec.name, %why, "restarting an agent");
        let cell = (child.spec.start)(myself.get_cell()).await?;
        child.cell = Some(cell);
        state.restarts.add(child.spec.kind);
        Ok(())
    }
}
