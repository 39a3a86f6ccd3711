//! The request plan: understand (Chat) → Forecast → Alert ‖ Optimizer → compose (Chat), each
//! stage under its deadline. A stage that fails or times out leaves its part missing; the answer
//! still comes back, says what is missing, and carries what the others produced. Every stage is a
//! span of the request's trace, and its progress is published on the bus as it happens.

use crate::runtime::{Inner, Live};
use crate::trace::TraceRecorder;
use fluxion_agents::actor::CallError;
use fluxion_agents::alert::AlertRequest;
use fluxion_agents::chat::{ChatReply, ChatRequest, ComposeInput};
use fluxion_agents::forecast::ForecastRequest;
use fluxion_agents::optimizer::OptimizerRequest;
use fluxion_domain::format::units;
use fluxion_domain::{
    AgentKind, AgentReport, AgentStatus, AlertKind, Answer, Intent, LocationCode, ProductCode, Resolved, SpanStatus,
    TenantSlug, Turn,
};
use fluxion_memory::{BusEvent, Topic};
use std::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

/// Longest question read (longer ones are cut).
const MAX_QUESTION: usize = 2000;

/// A stage's result for the bus, serialized by the publisher rather than on the request's path.
enum Partial {
    None,
    Json(serde_json::Value),
    Figures(Vec<fluxion_domain::ForecastFigure>),
    Alerts(Vec<fluxion_domain::Alert>),
    Recommendations(Vec<fluxion_domain::Recommendation>),
}

impl Partial {
    fn into_json(self) -> serde_json::Value {
        let value = match self {
            Partial::None => return serde_json::Value::Null,
            Partial::Json(v) => return v,
            Partial::Figures(f) => serde_json::to_value(f),
            Partial::Alerts(a) => serde_json::to_value(a),
            Partial::Recommendations(r) => serde_json::to_value(r),
        };
        value.unwrap_or_default()
    }
}

/// One event for the publisher; `partial` also goes under the agent's field of the request's partials.
struct Outgoing {
    event: BusEvent,
    result: Option<(String, Partial)>,
}

/// Publishes a request's events in order, off the request's path.
struct Progress {
    tx: tokio::sync::mpsc::UnboundedSender<Outgoing>,
}

impl Progress {
    fn start(inner: &Inner, tenant: &TenantSlug, id: Uuid) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Outgoing>();
        let bus = inner.bus.clone();
        let ttl = inner.config.partial_ttl;
        let tenant = tenant.clone();
        tokio::spawn(async move {
            let request = Topic::Request { tenant: tenant.clone(), id };
            let news = Topic::Tenant(tenant.clone());
            while let Some(Outgoing { mut event, result }) = rx.recv().await {
                if let Some((field, partial)) = result {
                    let result = partial.into_json();
                    if let Some(data) = event.data.as_object_mut()
                        && !result.is_null()
                    {
                        data.insert("result".into(), result);
                    }
                    if let Err(e) = bus.put_partial(&tenant, id, &field, &event.data, ttl).await {
                        tracing::warn!(error = %e, "a partial result could not be stored on the bus");
                    }
                }
                let topics: &[&Topic] =
                    if event.kind.starts_with("request.") { &[&request, &news] } else { &[&request] };
                for topic in topics {
                    if let Err(e) = bus.publish(topic, &event).await {
                        tracing::warn!(error = %e, "a progress event could not be published");
                    }
                }
            }
        });
        Self { tx }
    }

    /// Sends an event; with `result`, the event (and the result in it) is also kept as the
    /// request's partial result under the agent's name ("request" for the request itself).
    fn send(&self, id: Uuid, kind: &str, agent: Option<AgentKind>, data: serde_json::Value, result: Option<Partial>) {
        let event = BusEvent { kind: kind.into(), request: Some(id), agent: agent.map(|a| a.as_str().into()), data };
        let result = result.map(|p| (agent.map_or("request", |a| a.as_str()).to_owned(), p));
        let _ = self.tx.send(Outgoing { event, result });
    }
}

/// The status of a failed call.
fn status_of(e: &CallError) -> AgentStatus {
    match e {
        CallError::TimedOut(ms) => AgentStatus::TimedOut { deadline_ms: *ms },
        other => AgentStatus::Failed { reason: other.to_string() },
    }
}

/// The `tracing` span of one stage (a child of the request's `ask` span), for OpenTelemetry export.
fn stage_span(stage: &'static str, agent: AgentKind) -> tracing::Span {
    tracing::info_span!("stage", stage, agent = agent.as_str())
}

fn span_status(s: &AgentStatus) -> SpanStatus {
    match s {
        AgentStatus::Ok | AgentStatus::Skipped => SpanStatus::Ok,
        AgentStatus::Failed { .. } => SpanStatus::Error,
        AgentStatus::TimedOut { .. } => SpanStatus::Timeout,
    }
}

/// One stage's bookkeeping: span, timing, report, progress event.
struct Stage {
    agent: AgentKind,
    span: u32,
    started: Instant,
    restarts_before: u64,
    compute: std::time::Duration,
}

struct Run<'a> {
    inner: &'a Inner,
    trace: TraceRecorder,
    progress: Progress,
    reports: Vec<AgentReport>,
    faults: Vec<(AgentKind, AgentStatus)>,
}

impl Run<'_> {
    fn begin(&mut self, name: &str, agent: AgentKind, input: &str) -> Stage {
        let span = self.trace.open(name, Some(agent), None, input);
        self.progress.send(
            self.trace.id(),
            "agent.started",
            Some(agent),
            serde_json::json!({"stage": name, "input": input}),
            None,
        );
        Stage {
            agent,
            span,
            started: Instant::now(),
            restarts_before: self.inner.restarts.of(agent),
            compute: std::time::Duration::ZERO,
        }
    }

    fn end(&mut self, stage: Stage, name: &str, status: AgentStatus, output: &str, partial: Partial) {
        let millis = stage.started.elapsed().as_secs_f64() * 1000.0;
        let compute_millis = stage.compute.as_secs_f64() * 1000.0;
        let error = match &status {
            AgentStatus::Failed { reason } => Some(reason.clone()),
            AgentStatus::TimedOut { deadline_ms } => Some(format!("no answer within {deadline_ms} ms")),
            _ => None,
        };
        self.trace.close(stage.span, span_status(&status), output, error);
        let restarts = self.inner.restarts.of(stage.agent).saturating_sub(stage.restarts_before);
        self.trace.add_restarts(stage.span, restarts as u32);
        self.progress.send(
            self.trace.id(),
            "agent.finished",
            Some(stage.agent),
            serde_json::json!({"stage": name, "status": status, "millis": millis, "output": output}),
            Some(partial),
        );
        if status.is_fault() {
            self.faults.push((stage.agent, status.clone()));
        }
        // One report per agent: Chat runs twice (understand, compose) and reports its total and worst.
        match self.reports.iter_mut().find(|r| r.agent == stage.agent) {
            Some(r) => {
                r.millis += millis;
                r.compute_millis += compute_millis;
                if !r.status.is_fault() && status != AgentStatus::Skipped {
                    r.status = status;
                }
            }
            None => self.reports.push(AgentReport { agent: stage.agent, status, millis, compute_millis }),
        }
    }

    fn skip(&mut self, agent: AgentKind) {
        if !self.reports.iter().any(|r| r.agent == agent) {
            self.reports.push(AgentReport { agent, status: AgentStatus::Skipped, millis: 0.0, compute_millis: 0.0 });
        }
    }
}

/// What the plan calls for, by intent.
struct Needs {
    forecast: bool,
    alert_kinds: Option<Vec<AlertKind>>,
    orders: bool,
    transfers: bool,
}

fn needs(intent: Intent) -> Needs {
    let kinds = |k: &[AlertKind]| Some(k.to_vec());
    match intent {
        Intent::Need => Needs {
            forecast: true,
            alert_kinds: kinds(&[AlertKind::ImminentStockout, AlertKind::ExpiringLot]),
            orders: true,
            transfers: true,
        },
        Intent::Sales => Needs {
            forecast: true,
            alert_kinds: kinds(&[AlertKind::SalesAnomaly, AlertKind::PhantomStock]),
            orders: false,
            transfers: false,
        },
        Intent::RunningOut => Needs {
            forecast: false,
            alert_kinds: kinds(&[AlertKind::ImminentStockout]),
            orders: false,
            transfers: false,
        },
        Intent::Overstock => Needs {
            forecast: false,
            alert_kinds: kinds(&[AlertKind::Overstock, AlertKind::ExpiringLot]),
            orders: false,
            transfers: false,
        },
        Intent::Transfers => Needs { forecast: false, alert_kinds: None, orders: false, transfers: true },
        Intent::Confirm { .. } | Intent::Help => {
            Needs { forecast: false, alert_kinds: None, orders: false, transfers: false }
        }
    }
}

fn resolved(found: &[fluxion_agents::chat::Found]) -> Vec<Resolved> {
    found
        .iter()
        .map(|f| Resolved { mention: f.mention.clone(), code: f.code.clone(), name: f.name.clone(), score: f.score })
        .collect()
}

/// Runs one request.
pub(crate) async fn run(
    inner: &Inner,
    live: &Live,
    tenant: &TenantSlug,
    user: Option<&str>,
    question: &str,
    channel: &str,
) -> Answer {
    let started = Instant::now();
    let id = Uuid::new_v4();
    let question: String = question.trim().chars().take(MAX_QUESTION).collect();
    let span = tracing::info_span!("ask", tenant = %tenant, trace_id = %id, channel);
    async move {
        let mut run = Run {
            inner,
            trace: TraceRecorder::new(id, channel, &question),
            progress: Progress::start(inner, tenant, id),
            reports: Vec::new(),
            faults: Vec::new(),
        };
        run.progress.send(
            id,
            "request.started",
            None,
            serde_json::json!({"question": question, "channel": channel}),
            None,
        );
        let ctx = live.ctx.clone();
        let d = inner.config.deadlines;

        // 1. Understand (in the light of the user's previous turn).
        let mut conversation = match user {
            Some(user) => inner.memory.load(tenant, user).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the conversation could not be read; answering without it");
                None
            }),
            None => None,
        }
        .unwrap_or_default();
        let mut stage = run.begin("understand", AgentKind::Chat, &question);
        let request = ChatRequest::Understand {
            catalog: live.catalog.clone(),
            question: question.clone(),
            previous: conversation.last().cloned().map(Box::new),
        };
        let understanding = match inner
            .agents
            .chat
            .call_timed(request, d.understand)
            .instrument(stage_span("understand", AgentKind::Chat))
            .await
        {
            Ok((ChatReply::Understood(u), compute)) => {
                stage.compute = compute;
                let out = format!(
                    "{}{} · {} días · productos: {} · tiendas: {}",
                    u.intent.as_str(),
                    if u.follow_up { " (seguimiento)" } else { "" },
                    u.horizon_days,
                    u.products.iter().map(|p| p.code.as_str()).collect::<Vec<_>>().join(", "),
                    if u.stores.is_empty() {
                        "todas".to_owned()
                    } else {
                        u.stores.iter().map(|s| s.code.as_str()).collect::<Vec<_>>().join(", ")
                    }
                );
                run.end(
                    stage,
                    "understand",
                    AgentStatus::Ok,
                    &out,
                    Partial::Json(serde_json::json!({"intent": u.intent})),
                );
                Some(u)
            }
            Ok((ChatReply::Text(_), _)) => {
                let status = AgentStatus::Failed { reason: "unexpected reply".into() };
                run.end(stage, "understand", status, "", Partial::None);
                None
            }
            Err(e) => {
                run.end(stage, "understand", status_of(&e), "", Partial::None);
                None
            }
        };
        let Some(u) = understanding else {
            // Without understanding nothing else can run: say so plainly.
            for a in [AgentKind::Forecast, AgentKind::Alert, AgentKind::Optimizer] {
                run.skip(a);
            }
            let text = "No pude procesar tu pregunta en este momento: el agente de conversación no respondió. \
                        Intenta de nuevo en unos segundos."
                .to_owned();
            return finish(run, live, started, &question, Intent::Help, text, Understood::default(), tenant).await;
        };

        if let Some(user) = user {
            conversation.push(Turn {
                question: question.clone(),
                intent: u.intent,
                products: resolved(&u.products),
                stores: resolved(&u.stores),
                horizon_days: u.horizon_days,
                horizon_es: u.horizon_es.clone(),
                at: chrono::Utc::now(),
            });
            if let Err(e) = inner.memory.save(tenant, user, &conversation, inner.config.conversation_ttl).await {
                tracing::warn!(error = %e, "the conversation could not be kept; the next question starts afresh");
            }
        }

        // 2. Which items.
        let products: Vec<ProductCode> = u.products.iter().filter_map(|p| ProductCode::parse(&p.code).ok()).collect();
        let stores: Vec<LocationCode> = u.stores.iter().filter_map(|s| LocationCode::parse(&s.code).ok()).collect();
        let items = match u.intent {
            // Several products named equally: Chat asks which before anyone computes.
            Intent::Need | Intent::Sales if u.ambiguous() => Vec::new(),
            Intent::Need | Intent::Sales => ctx.items_for(&products, &stores),
            Intent::RunningOut | Intent::Overstock | Intent::Transfers => ctx.items_at(&stores),
            Intent::Confirm { .. } | Intent::Help => Vec::new(),
        };
        let plan = needs(u.intent);
        let scope = format!("{} artículos (producto × tienda)", units(items.len() as f64));

        // 3. Forecast.
        let figures = if plan.forecast && !items.is_empty() {
            let mut stage = run.begin("forecast", AgentKind::Forecast, &format!("{scope}, {} días", u.horizon_days));
            let request = ForecastRequest { ctx: ctx.clone(), items: items.clone(), horizon_days: u.horizon_days };
            match inner
                .agents
                .forecast
                .call_timed(request, d.forecast)
                .instrument(stage_span("forecast", AgentKind::Forecast))
                .await
            {
                Ok((f, compute)) => {
                    stage.compute = compute;
                    let total: f64 = f.iter().map(|x| x.expected).sum();
                    let out = format!("{} cifras, demanda esperada total {}", f.len(), units(total));
                    run.end(stage, "forecast", AgentStatus::Ok, &out, Partial::Figures(f.clone()));
                    Some(f)
                }
                Err(e) => {
                    run.end(stage, "forecast", status_of(&e), "", Partial::None);
                    None
                }
            }
        } else {
            run.skip(AgentKind::Forecast);
            Some(Vec::new())
        };

        // 4. Alert ‖ Optimizer.
        let alert_call = async {
            match &plan.alert_kinds {
                Some(kinds) if !items.is_empty() => {
                    let request = AlertRequest { ctx: ctx.clone(), items: items.clone(), kinds: kinds.clone() };
                    Some(inner.agents.alert.call_timed(request, d.alert).await)
                }
                _ => None,
            }
        };
        let optimizer_call = async {
            if (plan.orders || plan.transfers) && !items.is_empty() {
                let request = OptimizerRequest {
                    ctx: ctx.clone(),
                    items: items.clone(),
                    orders: plan.orders,
                    transfers: plan.transfers,
                };
                Some(inner.agents.optimizer.call_timed(request, d.optimizer).await)
            } else {
                None
            }
        };
        let alert_stage = plan.alert_kinds.is_some() && !items.is_empty();
        let optimizer_stage = (plan.orders || plan.transfers) && !items.is_empty();
        let a_stage = alert_stage.then(|| run.begin("alert", AgentKind::Alert, &scope));
        let o_stage = optimizer_stage.then(|| run.begin("optimizer", AgentKind::Optimizer, &scope));
        let (alerts, recommendations) = tokio::join!(
            alert_call.instrument(stage_span("alert", AgentKind::Alert)),
            optimizer_call.instrument(stage_span("optimizer", AgentKind::Optimizer))
        );
        let alerts = match (a_stage, alerts) {
            (Some(mut stage), Some(Ok((list, compute)))) => {
                stage.compute = compute;
                let out = format!("{} alertas", list.len());
                run.end(stage, "alert", AgentStatus::Ok, &out, Partial::Alerts(list.clone()));
                Some(list)
            }
            (Some(stage), Some(Err(e))) => {
                run.end(stage, "alert", status_of(&e), "", Partial::None);
                None
            }
            _ => {
                run.skip(AgentKind::Alert);
                Some(Vec::new())
            }
        };
        let recommendations = match (o_stage, recommendations) {
            (Some(mut stage), Some(Ok((list, compute)))) => {
                stage.compute = compute;
                let benefit: f64 = list.iter().map(|r| r.benefit_usd).sum();
                let out = format!("{} recomendaciones, beneficio US$ {}", list.len(), units(benefit));
                run.end(stage, "optimizer", AgentStatus::Ok, &out, Partial::Recommendations(list.clone()));
                Some(list)
            }
            (Some(stage), Some(Err(e))) => {
                run.end(stage, "optimizer", status_of(&e), "", Partial::None);
                None
            }
            _ => {
                run.skip(AgentKind::Optimizer);
                Some(Vec::new())
            }
        };

        // 5. Compose.
        let input = ComposeInput {
            understanding: u.clone(),
            figures: figures.clone(),
            alerts: alerts.clone(),
            recommendations: recommendations.clone(),
            faults: run.faults.clone(),
            today: ctx.today,
        };
        let mut stage = run.begin("compose", AgentKind::Chat, "respuesta en español");
        let text = match inner
            .agents
            .chat
            .call_timed(ChatRequest::Compose(Box::new(input.clone())), d.compose)
            .instrument(stage_span("compose", AgentKind::Chat))
            .await
        {
            Ok((ChatReply::Text(text), compute)) => {
                stage.compute = compute;
                run.end(stage, "compose", AgentStatus::Ok, &text, Partial::None);
                text
            }
            other => {
                let status = match other {
                    Err(e) => status_of(&e),
                    Ok(_) => AgentStatus::Failed { reason: "unexpected reply".into() },
                };
                run.end(stage, "compose", status, "", Partial::None);
                // The orchestrator composes from the same templates, and says Chat failed.
                let mut fallback = input;
                fallback.faults = run.faults.clone();
                fallback.text()
            }
        };
        let understood = Understood {
            products: resolved(&u.products),
            alternatives: resolved(&u.alternatives),
            stores: resolved(&u.stores),
            horizon_days: u.horizon_days,
            figures: figures.unwrap_or_default(),
            alerts: alerts.unwrap_or_default(),
            recommendations: recommendations.unwrap_or_default(),
        };
        finish(run, live, started, &question, u.intent, text, understood, tenant).await
    }
    .instrument(span)
    .await
}

/// The structured parts of an answer.
#[derive(Default)]
struct Understood {
    products: Vec<Resolved>,
    alternatives: Vec<Resolved>,
    stores: Vec<Resolved>,
    horizon_days: u32,
    figures: Vec<fluxion_domain::ForecastFigure>,
    alerts: Vec<fluxion_domain::Alert>,
    recommendations: Vec<fluxion_domain::Recommendation>,
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    mut run: Run<'_>,
    live: &Live,
    started: Instant,
    question: &str,
    intent: Intent,
    text: String,
    parts: Understood,
    tenant: &TenantSlug,
) -> Answer {
    for agent in AgentKind::ALL {
        run.skip(agent);
    }
    run.reports.sort_by_key(|r| r.agent);
    let degraded = run.reports.iter().any(|r| r.status.is_fault());
    let status = if degraded { SpanStatus::Degraded } else { SpanStatus::Ok };
    let id = run.trace.id();
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let answer = Answer {
        trace_id: id,
        question: question.to_owned(),
        text_es: text,
        intent,
        products: parts.products,
        alternatives: parts.alternatives,
        stores: parts.stores,
        horizon_days: if parts.horizon_days == 0 { 7 } else { parts.horizon_days },
        figures: parts.figures,
        alerts: parts.alerts,
        recommendations: parts.recommendations,
        agents: run.reports.clone(),
        degraded,
        millis,
    };
    run.progress.send(
        id,
        "request.answered",
        None,
        serde_json::json!({"status": status, "millis": millis, "text": answer.text_es, "degraded": degraded}),
        Some(Partial::None),
    );
    let trace = run.trace.finish(status, &answer.text_es);
    // The trace is part of the request: stored before the answer is returned (a failure to store
    // it is logged, never turned into a failed answer).
    if let Err(e) = live.store.save_trace(&trace).await {
        tracing::warn!(tenant = %tenant, error = %e, "a trace could not be stored");
    }
    if degraded {
        tracing::warn!(tenant = %tenant, trace_id = %id, "answered degraded");
    }
    answer
}
