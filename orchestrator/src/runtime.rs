//! The runtime: the supervision tree of agent actors, the tenants' shared contexts, the bus, and
//! `ask` — one question in, one unified answer out, with a stored trace.

use crate::plan;
use crate::supervisor::{ChildSpec, RestartPolicy, Restarts, StartFn, Supervisor, SupervisorArgs, SupervisorMsg};
use fluxion_agents::actor::{Agent, AgentActor, AgentHandle, Faults};
use fluxion_agents::alert::{AlertAgent, AlertSettings};
use fluxion_agents::chat::Llm;
use fluxion_agents::chat::{Catalog, ChatAgent};
use fluxion_agents::context::TenantContext;
use fluxion_agents::forecast::{AutoConfig, ForecastAgent};
use fluxion_agents::optimizer::{OptimizerAgent, OptimizerSettings};
use fluxion_domain::{Answer, LocationKind, TenantSlug};
use fluxion_memory::{
    Bus, ConversationMemory, InProcessBus, InProcessLedger, InProcessMemory, SemanticMemory, Store, StoreError,
    TenantStore, TokenLedger,
};
use ractor::{Actor, ActorCell, ActorRef, ActorStatus};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// How long each stage of a request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// Chat understanding the question.
    pub understand: Duration,
    /// Forecast figures.
    pub forecast: Duration,
    /// Alerts.
    pub alert: Duration,
    /// Orders and transfers.
    pub optimizer: Duration,
    /// Chat composing the answer.
    pub compose: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            understand: Duration::from_millis(300),
            forecast: Duration::from_millis(1500),
            alert: Duration::from_millis(1500),
            optimizer: Duration::from_millis(1500),
            compose: Duration::from_millis(300),
        }
    }
}

/// How the runtime runs.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Stage deadlines.
    pub deadlines: Deadlines,
    /// Workers of each CPU-bound agent (Forecast, Alert, Optimizer); Chat is one actor.
    pub workers: usize,
    /// Each agent's restart budget.
    pub restart: RestartPolicy,
    /// The Alert agent's thresholds.
    pub alerts: AlertSettings,
    /// The Optimizer's service levels and costs.
    pub optimizer: OptimizerSettings,
    /// How long partial results stay on the bus.
    pub partial_ttl: Duration,
    /// How long a user's conversation is remembered after their last question.
    pub conversation_ttl: Duration,
    /// How the language model (when one is configured) may be used.
    pub llm: LlmPolicy,
}

/// Limits on the language model's use.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmPolicy {
    /// Longest the model may take to phrase one answer (all its rounds and retries); past it the
    /// template answer goes out.
    pub deadline: Duration,
    /// Tokens each tenant may spend per day (UTC); past it answers use the templates (0 = no cap).
    pub daily_tokens_per_tenant: u64,
    /// Price of a million prompt tokens, USD (for the cost in traces).
    pub usd_per_million_prompt: f64,
    /// Price of a million completion tokens, USD.
    pub usd_per_million_completion: f64,
}

impl Default for LlmPolicy {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(8),
            daily_tokens_per_tenant: 200_000,
            usd_per_million_prompt: 0.0,
            usd_per_million_completion: 0.0,
        }
    }
}

/// Where a question comes from.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// Who asks (none: an anonymous question, no conversation).
    pub user: Option<&'a str>,
    /// "cli", "api", "whatsapp", "dashboard" …
    pub channel: &'a str,
    /// The trace id to use (none: a fresh one).
    pub trace_id: Option<uuid::Uuid>,
    /// The id of the HTTP request or webhook delivery that carried it (kept in the trace).
    pub request_id: Option<&'a str>,
}

impl Default for Origin<'_> {
    fn default() -> Self {
        Self { user: None, channel: "api", trace_id: None, request_id: None }
    }
}

/// What the runtime keeps its state in and talks to, besides the relational store.
#[derive(Debug, Clone)]
pub struct Services {
    /// Live events and partial results.
    pub bus: Arc<dyn Bus>,
    /// Users' short-term conversations.
    pub memory: Arc<dyn ConversationMemory>,
    /// Language-model tokens spent per tenant and day.
    pub ledger: Arc<dyn TokenLedger>,
    /// The language model that phrases answers (none: templates).
    pub llm: Option<Arc<Llm>>,
    /// The vector memory (products, past answers, alerts); none: word matching only.
    pub semantic: Option<SemanticMemory>,
}

impl Services {
    /// Everything in process, no language model, no vector memory.
    pub fn in_process() -> Self {
        Self {
            bus: Arc::new(InProcessBus::new()),
            memory: Arc::new(InProcessMemory::new()),
            ledger: Arc::new(InProcessLedger::new()),
            llm: None,
            semantic: None,
        }
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            deadlines: Deadlines::default(),
            workers: 2,
            restart: RestartPolicy::default(),
            alerts: AlertSettings::default(),
            optimizer: OptimizerSettings::default(),
            partial_ttl: Duration::from_secs(600),
            conversation_ttl: Duration::from_secs(30 * 60),
            llm: LlmPolicy::default(),
        }
    }
}

/// Why the runtime could not answer at all (a degraded answer is still an answer).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The agents could not be started.
    #[error("the agents could not be started: {0}")]
    Start(String),
    /// The tenant's data could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A tenant's live context: what every request about it reads.
#[derive(Debug)]
pub struct Live {
    /// Items, books and forecasts.
    pub ctx: Arc<TenantContext>,
    /// The names questions can mention.
    pub catalog: Arc<Catalog>,
    /// The tenant's store (traces are written here).
    pub store: Arc<dyn TenantStore>,
    /// When it was loaded.
    pub loaded_at: Instant,
}

/// The agents' handles.
#[derive(Debug, Clone)]
pub struct Agents {
    /// Chat.
    pub chat: AgentHandle<ChatAgent>,
    /// Forecast (a pool, as are Alert and Optimizer).
    pub forecast: AgentHandle<ForecastAgent>,
    /// Alert.
    pub alert: AgentHandle<AlertAgent>,
    /// Optimizer.
    pub optimizer: AgentHandle<OptimizerAgent>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) memory: Arc<dyn ConversationMemory>,
    pub(crate) ledger: Arc<dyn TokenLedger>,
    pub(crate) llm: Option<Arc<Llm>>,
    pub(crate) semantic: Option<SemanticMemory>,
    /// Work off the requests' path (indexing, remembering), awaited at shutdown.
    pub(crate) background: tokio_util::task::TaskTracker,
    pub(crate) faults: Arc<Faults>,
    pub(crate) restarts: Arc<Restarts>,
    pub(crate) agents: Agents,
    pub(crate) config: RuntimeConfig,
    supervisor: ActorRef<SupervisorMsg>,
    supervisor_done: Mutex<Option<tokio::task::JoinHandle<()>>>,
    tenants: Mutex<HashMap<TenantSlug, Arc<OnceCell<Arc<Live>>>>>,
}

/// The multi-agent runtime (cheap to clone; every clone is the same runtime).
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("bus", &self.inner.bus.kind()).finish_non_exhaustive()
    }
}

fn child<A: Agent>(name: String, agent: Arc<A>, faults: Arc<Faults>, policy: RestartPolicy) -> ChildSpec {
    let spawn_name = name.clone();
    let start: StartFn = Arc::new(move |supervisor: ActorCell| {
        let (name, agent, faults) = (spawn_name.clone(), agent.clone(), faults.clone());
        Box::pin(async move {
            let (actor, _) = Actor::spawn_linked(Some(name), AgentActor::new(agent, faults), (), supervisor).await?;
            Ok(actor.get_cell())
        })
    });
    ChildSpec { name, kind: A::KIND, start, policy }
}

impl Runtime {
    /// Starts the supervision tree and its agents on `bus`, everything else in process (no
    /// language model, no vector memory).
    pub async fn start(store: Arc<dyn Store>, bus: Arc<dyn Bus>, config: RuntimeConfig) -> Result<Self, RuntimeError> {
        Self::start_with(store, Services { bus, ..Services::in_process() }, config).await
    }

    /// Starts the supervision tree and its agents on `services`.
    pub async fn start_with(
        store: Arc<dyn Store>,
        services: Services,
        config: RuntimeConfig,
    ) -> Result<Self, RuntimeError> {
        let Services { bus, memory, ledger, llm, semantic } = services;
        // Registry names are process-wide: each runtime gets its own prefix.
        let prefix = format!("rt-{}", uuid::Uuid::new_v4().simple());
        let faults = Arc::new(Faults::default());
        let restarts = Arc::new(Restarts::default());
        let policy = config.restart;
        let name = |kind: &str, k: usize| format!("{prefix}/{kind}/{k}");
        let workers = config.workers.max(1);
        let mut children = vec![child(name("chat", 0), Arc::new(ChatAgent), faults.clone(), policy)];
        let alert = Arc::new(AlertAgent { settings: config.alerts.clone(), optimizer: config.optimizer.clone() });
        let optimizer = Arc::new(OptimizerAgent::new(config.optimizer.clone()));
        let forecast = Arc::new(ForecastAgent);
        for k in 0..workers {
            children.push(child(name("forecast", k), forecast.clone(), faults.clone(), policy));
            children.push(child(name("alert", k), alert.clone(), faults.clone(), policy));
            children.push(child(name("optimizer", k), optimizer.clone(), faults.clone(), policy));
        }
        let pool = |kind: &str| (0..workers).map(|k| name(kind, k)).collect::<Vec<_>>();
        let agents = Agents {
            chat: AgentHandle::new(vec![name("chat", 0)]),
            forecast: AgentHandle::new(pool("forecast")),
            alert: AgentHandle::new(pool("alert")),
            optimizer: AgentHandle::new(pool("optimizer")),
        };
        let (supervisor, done) = Actor::spawn(
            Some(format!("{prefix}/supervisor")),
            Supervisor,
            SupervisorArgs { children, restarts: restarts.clone() },
        )
        .await
        .map_err(|e| RuntimeError::Start(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                bus,
                memory,
                ledger,
                llm,
                semantic,
                background: tokio_util::task::TaskTracker::new(),
                faults,
                restarts,
                agents,
                config,
                supervisor,
                supervisor_done: Mutex::new(Some(done)),
                tenants: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Faults to inject into the agents (fault tests and chaos drills).
    pub fn faults(&self) -> &Arc<Faults> {
        &self.inner.faults
    }

    /// Restarts so far, per agent.
    pub fn restarts(&self) -> &Arc<Restarts> {
        &self.inner.restarts
    }

    /// The bus.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.inner.bus
    }

    /// Its configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// The agents' handles.
    pub fn agents(&self) -> &Agents {
        &self.inner.agents
    }

    /// Whether the supervision tree is up (it stops when an agent exhausts its restart budget).
    pub fn is_healthy(&self) -> bool {
        matches!(self.inner.supervisor.get_status(), ActorStatus::Running | ActorStatus::Upgrading)
    }

    /// The tenant's live context, loaded on first use (one load at a time per tenant).
    pub async fn live(&self, tenant: &TenantSlug) -> Result<Arc<Live>, RuntimeError> {
        let cell = {
            let mut tenants = self.inner.tenants.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            tenants.entry(tenant.clone()).or_default().clone()
        };
        let live = cell.get_or_try_init(|| load(&self.inner, tenant.clone())).await?;
        Ok(live.clone())
    }

    /// Reloads a tenant's context (after a data sync or on schedule); requests keep the old one
    /// until the new one is ready.
    pub async fn refresh(&self, tenant: &TenantSlug) -> Result<Arc<Live>, RuntimeError> {
        let live = load(&self.inner, tenant.clone()).await?;
        let cell = Arc::new(OnceCell::new_with(Some(live.clone())));
        self.inner.tenants.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(tenant.clone(), cell);
        Ok(live)
    }

    /// Answers `question` for `tenant`, arriving through `channel` ("cli", "api", "whatsapp", …).
    /// An agent that fails or runs out of time makes the answer degraded, never absent.
    pub async fn ask(&self, tenant: &TenantSlug, question: &str, channel: &str) -> Result<Answer, RuntimeError> {
        let live = self.live(tenant).await?;
        let origin = Origin { channel, ..Origin::default() };
        Ok(plan::run(&self.inner, &live, tenant, question, &origin).await)
    }

    /// [`Runtime::ask`] as `user`: the question is read in the light of the user's previous turn
    /// ("¿y en Valencia?"), and becomes their latest turn. Users never share a conversation.
    pub async fn ask_as(
        &self,
        tenant: &TenantSlug,
        user: &str,
        question: &str,
        channel: &str,
    ) -> Result<Answer, RuntimeError> {
        let live = self.live(tenant).await?;
        let origin = Origin { user: Some(user), channel, ..Origin::default() };
        Ok(plan::run(&self.inner, &live, tenant, question, &origin).await)
    }

    /// [`Runtime::ask`] from a described origin: its user (follow-ups, long-term memory), its
    /// channel, the trace id (chosen by a caller who follows the request's progress on
    /// `Topic::Request` from before it starts; it must be fresh) and the carrying request's id.
    pub async fn ask_from(
        &self,
        tenant: &TenantSlug,
        question: &str,
        origin: &Origin<'_>,
    ) -> Result<Answer, RuntimeError> {
        let live = self.live(tenant).await?;
        Ok(plan::run(&self.inner, &live, tenant, question, origin).await)
    }

    /// The relational store the runtime reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The vector memory, when configured.
    pub fn semantic(&self) -> Option<&SemanticMemory> {
        self.inner.semantic.as_ref()
    }

    /// Indexes the tenant's catalog in the vector memory now (loading a tenant also does it, in the
    /// background); the number of products indexed (0 without a vector memory).
    pub async fn index_catalog(&self, tenant: &TenantSlug) -> Result<usize, RuntimeError> {
        let Some(semantic) = &self.inner.semantic else { return Ok(0) };
        let products = self.inner.store.scope(tenant).await?.products().await?;
        semantic.index_products(tenant, &products).await.map_err(|e| RuntimeError::Start(e.to_string()))
    }

    /// Stops every agent and the supervisor, after the work off the requests' path (indexing,
    /// remembering answers) is done or 5 seconds have passed.
    pub async fn shutdown(&self) {
        self.inner.background.close();
        if tokio::time::timeout(Duration::from_secs(5), self.inner.background.wait()).await.is_err() {
            tracing::warn!("background work was still running at shutdown");
        }
        let _ = self.inner.supervisor.cast(SupervisorMsg::Shutdown);
        let done = self.inner.supervisor_done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(done) = done {
            let _ = tokio::time::timeout(Duration::from_secs(5), done).await;
        }
    }
}

async fn load(inner: &Inner, tenant: TenantSlug) -> Result<Arc<Live>, RuntimeError> {
    let store = inner.store.clone();
    let started = Instant::now();
    let scoped = store.scope(&tenant).await?;
    let data = TenantContext::read(&*scoped).await?;
    let products = scoped.products().await?;
    let locations = scoped.locations().await?;
    let ctx = tokio::task::spawn_blocking(move || TenantContext::build(data, &AutoConfig::default()))
        .await
        .map_err(|e| RuntimeError::Start(format!("building the tenant's context: {e}")))?;
    let mut catalog = Catalog::new(
        products.iter().map(|p| (p.code().as_str(), p.name(), p.brand())),
        locations
            .iter()
            .filter(|l| l.kind == LocationKind::Store)
            .map(|l| (l.code.as_str(), l.name.as_str(), l.city.as_str())),
    );
    // What each product sold in the last four weeks: a question naming several equally ("harina
    // PAN") most likely means the best seller.
    let mut sold: HashMap<&str, f64> = HashMap::new();
    let from = ctx.world.days.saturating_sub(28);
    for item in &ctx.world.items {
        *sold.entry(ctx.world.products[item.product].as_str()).or_default() +=
            item.recorded.get(from..).map_or(0.0, |d| d.iter().sum::<f64>());
    }
    catalog.set_popularity(sold);
    catalog.set_today(ctx.today);
    if let Some(semantic) = inner.semantic.clone() {
        // The catalog's vectors, off the load's path (a no-op when they are current): word
        // matching works meanwhile.
        let (tenant, products) = (tenant.clone(), products.clone());
        inner.background.spawn(async move {
            match semantic.index_products(&tenant, &products).await {
                Ok(n) => tracing::info!(tenant = %tenant, products = n, "catalog indexed in the vector memory"),
                Err(e) => tracing::warn!(tenant = %tenant, error = %e, "the catalog could not be indexed"),
            }
        });
    }
    tracing::info!(
        tenant = %tenant,
        items = ctx.world.items.len(),
        seconds = started.elapsed().as_secs_f64(),
        "tenant context loaded"
    );
    Ok(Arc::new(Live { ctx: Arc::new(ctx), catalog: Arc::new(catalog), store: scoped, loaded_at: Instant::now() }))
}
