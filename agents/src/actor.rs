//! Agents as ractor actors: one generic actor runs any [`Agent`]; callers hold a small cloneable
//! [`AgentHandle`] that finds the live actor by its registered name on every call, so a restarted
//! agent is found again and nobody holds a dead `ActorRef`.
//!
//! [`Faults`] injects panics and hangs into agents on purpose (fault tests, chaos drills); it is
//! empty — and costs one uncontended lock per call — otherwise.

use fluxion_domain::AgentKind;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One kind of agent: plain, synchronous logic behind an actor.
pub trait Agent: Send + Sync + 'static {
    /// What it is asked.
    type Request: Send + 'static;
    /// What it answers.
    type Reply: Send + 'static;
    /// Which agent it is.
    const KIND: AgentKind;
    /// Answers one request (an error is a message for operators).
    fn run(&self, request: Self::Request) -> Result<Self::Reply, String>;
}

/// A request to an agent actor, with the port its answer goes back through.
#[derive(Debug)]
pub struct Call<A: Agent> {
    /// The request.
    pub request: A::Request,
    /// Where the answer goes, with the time the agent's logic took.
    pub reply: RpcReplyPort<Result<(A::Reply, Duration), String>>,
}

/// The actor that runs agent `A`.
#[derive(Debug)]
pub struct AgentActor<A: Agent> {
    agent: Arc<A>,
    faults: Arc<Faults>,
}

impl<A: Agent> AgentActor<A> {
    /// An actor running `agent`, subject to `faults`.
    pub fn new(agent: Arc<A>, faults: Arc<Faults>) -> Self {
        Self { agent, faults }
    }
}

impl<A: Agent> Actor for AgentActor<A> {
    type Msg = Call<A>;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _myself: ActorRef<Self::Msg>, _args: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        call: Call<A>,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match self.faults.draw(A::KIND) {
            Fault::None => {}
            Fault::Panic => panic!("injected fault: the {} agent panicked", A::KIND.as_str()),
            Fault::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
        }
        let started = Instant::now();
        let answer = self.agent.run(call.request).map(|reply| (reply, started.elapsed()));
        // The caller may have given up (deadline): nothing to do then.
        let _ = call.reply.send(answer);
        Ok(())
    }
}

/// Why a call to an agent brought no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The agent answered with an error.
    #[error("the agent failed: {0}")]
    Failed(String),
    /// The agent crashed while answering.
    #[error("the agent crashed while answering")]
    Crashed,
    /// No answer within the deadline (the agent is cut and restarted).
    #[error("no answer within {0} ms")]
    TimedOut(u64),
    /// No live agent under its name (restarting, or the runtime is down).
    #[error("the agent is not running")]
    Unavailable,
}

/// A cloneable handle on an agent (or a pool of identical workers, called in turn).
#[derive(Debug)]
pub struct AgentHandle<A: Agent> {
    names: Arc<[String]>,
    next: Arc<AtomicUsize>,
    _agent: PhantomData<fn() -> A>,
}

impl<A: Agent> Clone for AgentHandle<A> {
    fn clone(&self) -> Self {
        Self { names: self.names.clone(), next: self.next.clone(), _agent: PhantomData }
    }
}

impl<A: Agent> AgentHandle<A> {
    /// A handle on the actors registered under `names` (one, or a pool).
    pub fn new(names: Vec<String>) -> Self {
        Self { names: names.into(), next: Arc::new(AtomicUsize::new(0)), _agent: PhantomData }
    }

    /// The registered names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Asks the agent, waiting at most `deadline`. A worker that does not answer in time is killed
    /// (its supervisor starts a fresh one); a worker that is restarting is waited for briefly.
    pub async fn call(&self, request: A::Request, deadline: Duration) -> Result<A::Reply, CallError> {
        self.call_timed(request, deadline).await.map(|(reply, _)| reply)
    }

    /// [`AgentHandle::call`], also returning the time the agent's own logic took.
    pub async fn call_timed(&self, request: A::Request, deadline: Duration) -> Result<(A::Reply, Duration), CallError> {
        let started = Instant::now();
        let name = &self.names[self.next.fetch_add(1, Ordering::Relaxed) % self.names.len().max(1)];
        let actor = loop {
            if let Some(actor) = ActorRef::<Call<A>>::where_is(name.as_str()) {
                break actor;
            }
            if started.elapsed() + Duration::from_millis(2) >= deadline {
                return Err(CallError::Unavailable);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let left = deadline.saturating_sub(started.elapsed()).max(Duration::from_millis(1));
        match actor.call(|reply| Call { request, reply }, Some(left)).await {
            Ok(CallResult::Success(Ok(reply))) => Ok(reply),
            Ok(CallResult::Success(Err(e))) => Err(CallError::Failed(e)),
            Ok(CallResult::Timeout) => {
                actor.kill();
                Err(CallError::TimedOut(deadline.as_millis() as u64))
            }
            // The reply port was dropped unanswered: the actor died handling the request.
            Ok(CallResult::SenderError) => Err(CallError::Crashed),
            Err(_) => Err(CallError::Unavailable),
        }
    }
}

/// What an injected fault does to the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing.
    None,
    /// The agent panics.
    Panic,
    /// The agent never answers.
    Hang,
}

#[derive(Debug)]
struct FaultPlan {
    skip: u32,
    panic_next: u32,
    hang_next: u32,
    panic_rate: f64,
    rng: ChaCha8Rng,
}

/// Faults to inject, per agent: the next N calls panic or hang, or each call panics with a
/// probability.
#[derive(Debug, Default)]
pub struct Faults {
    plans: Mutex<HashMap<AgentKind, FaultPlan>>,
}

impl Faults {
    fn with<R>(&self, kind: AgentKind, f: impl FnOnce(&mut FaultPlan) -> R) -> R {
        let mut plans = self.plans.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let plan = plans.entry(kind).or_insert_with(|| FaultPlan {
            skip: 0,
            panic_next: 0,
            hang_next: 0,
            panic_rate: 0.0,
            rng: ChaCha8Rng::seed_from_u64(kind as u64),
        });
        f(plan)
    }

    /// The next `n` calls to `kind` panic.
    pub fn panic_next(&self, kind: AgentKind, n: u32) {
        self.with(kind, |p| p.panic_next = n);
    }

    /// The next `calls` calls to `kind` run normally before the planned faults apply.
    pub fn skip_next(&self, kind: AgentKind, calls: u32) {
        self.with(kind, |p| p.skip = calls);
    }

    /// The next `n` calls to `kind` hang.
    pub fn hang_next(&self, kind: AgentKind, n: u32) {
        self.with(kind, |p| p.hang_next = n);
    }

    /// Each call to `kind` panics with probability `rate`, drawn from `seed`.
    pub fn panic_rate(&self, kind: AgentKind, rate: f64, seed: u64) {
        self.with(kind, |p| {
            p.panic_rate = rate.clamp(0.0, 1.0);
            p.rng = ChaCha8Rng::seed_from_u64(seed);
        });
    }

    /// Clears every fault.
    pub fn clear(&self) {
        self.plans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// The fault for the next call to `kind`.
    pub fn draw(&self, kind: AgentKind) -> Fault {
        self.with(kind, |p| {
            if p.skip > 0 {
                p.skip -= 1;
                Fault::None
            } else if p.panic_next > 0 {
                p.panic_next -= 1;
                Fault::Panic
            } else if p.hang_next > 0 {
                p.hang_next -= 1;
                Fault::Hang
            } else if p.panic_rate > 0.0 && p.rng.random::<f64>() < p.panic_rate {
                Fault::Panic
            } else {
                Fault::None
            }
        })
    }
}
