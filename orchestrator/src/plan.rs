//! The request plan: understand (Chat) → Forecast → Alert ‖ Optimizer → compose (Chat), each
//! stage under its deadline. A stage that fails or times out leaves its part missing; the answer
//! still comes back, says what is missing, and carries what the others produced. Every stage is a
//! span of the request's trace, and its progress is published on the bus as it happens.

use crate::runtime::{Inner, Live};
use crate::trace::TraceRecorder;
use fluxion_agents::actor::CallError;
use fluxion_agents::alert::AlertRequest;
use fluxion_agents::chat::{Brief, ChatReply, ChatRequest, ComposeInput, Understanding};
use fluxion_agents::context::TenantContext;
use fluxion_agents::forecast::ForecastRequest;
use fluxion_agents::optimizer::OptimizerRequest;
use fluxion_domain::format::units;
use fluxion_domain::{
    AgentKind, AgentReport, AgentStatus, AlertKind, Answer, Intent, LocationCode, Pending, ProductCode, Resolved,
    SpanStatus, TenantSlug, Turn,
};
use fluxion_memory::{BusEvent, PastAnswer, Recalled, SemanticMemory, Topic};
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
        let outcome = status.as_str();
        metrics::histogram!("fluxion_agent_call_seconds", "agent" => stage.agent.as_str(), "stage" => name.to_owned(), "outcome" => outcome)
            .record(millis / 1000.0);
        if status.is_fault() {
            metrics::counter!("fluxion_agent_failures_total", "agent" => stage.agent.as_str(), "outcome" => outcome)
                .increment(1);
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
        Intent::Stock => Needs {
            forecast: true,
            alert_kinds: kinds(&[AlertKind::ImminentStockout, AlertKind::PhantomStock, AlertKind::ExpiringLot]),
            orders: false,
            transfers: false,
        },
        Intent::Transfers => Needs { forecast: false, alert_kinds: None, orders: false, transfers: true },
        Intent::Confirm { .. } | Intent::Help | Intent::Recall => {
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
    question: &str,
    origin: &crate::runtime::Origin<'_>,
) -> Answer {
    let (user, channel) = (origin.user, origin.channel);
    let started = Instant::now();
    let id = origin.trace_id.unwrap_or_else(Uuid::new_v4);
    let question: String = question.trim().chars().take(MAX_QUESTION).collect();
    let span = tracing::info_span!("ask", tenant = %tenant, trace_id = %id, channel);
    async move {
        let mut run = Run {
            inner,
            trace: TraceRecorder::new(id, channel, &question, origin.request_id),
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

        let mut u = u;
        if let Some(semantic) = &inner.semantic {
            resolve_by_vectors(&mut run, semantic, live, tenant, &mut u).await;
        }
        if u.intent == Intent::Recall {
            prefer_recent_products(&mut u, &conversation);
        }
        // A supplier or a location named in a question about what is coming ("¿cuándo llega el
        // pedido de Polar?") asks for its deliveries, not the stock of the products its name matches.
        if u.intent == Intent::Stock && u.coming.is_some() && !u.product_words.is_empty() {
            match fluxion_agents::context::sender_names(live.store.as_ref()).await {
                Ok(names) => {
                    let senders = live.catalog.senders_named(&u.product_words, names.iter().map(|(n, _)| n.as_str()));
                    if !senders.is_empty() {
                        let span = run.trace.open("senders", Some(AgentKind::Chat), None, &u.product_words);
                        run.trace.close(span, SpanStatus::Ok, &senders.join(", "), None);
                        // Only suppliers named: purchase orders; only the chain's locations: transfers.
                        let supplier = |s: &String| names.iter().any(|(n, is)| n == s && *is);
                        let location = |s: &String| names.iter().any(|(n, is)| n == s && !*is);
                        if u.coming_from_supplier.is_none() {
                            if senders.iter().all(supplier) && !senders.iter().any(location) {
                                u.coming_from_supplier = Some(true);
                            } else if senders.iter().all(location) && !senders.iter().any(supplier) {
                                u.coming_from_supplier = Some(false);
                            }
                        }
                        u.senders = senders;
                        u.products.clear();
                        u.alternatives.clear();
                        u.unmatched.clear();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the senders' names could not be read"),
            }
        }
        if user.is_some() {
            conversation.push(Turn {
                question: question.clone(),
                intent: u.intent,
                products: resolved(&u.products),
                stores: resolved(&u.stores),
                horizon_days: u.horizon_days,
                horizon_es: u.horizon_es.clone(),
                budget_usd: u.budget_usd,
                coming: u.coming,
                coming_from_supplier: u.coming_from_supplier,
                senders: u.senders.clone(),
                at: chrono::Utc::now(),
            });
        }
        // A "sí" or "no" settles the pending suggestion (if it has not expired); any other
        // question leaves it pending until the next answer offers another.
        let settled = match u.intent {
            Intent::Confirm { .. } => {
                conversation.pending.take().filter(|p| p.expires_at > chrono::Utc::now()).map(|p| p.recommendation)
            }
            _ => None,
        };

        // 2. Which items.
        let products: Vec<ProductCode> = u.products.iter().filter_map(|p| ProductCode::parse(&p.code).ok()).collect();
        let stores: Vec<LocationCode> = u.stores.iter().filter_map(|s| LocationCode::parse(&s.code).ok()).collect();
        let items = match u.intent {
            // "¿Qué pido hoy?": every item of the stores asked about.
            Intent::Need if u.store_orders() => ctx.items_at(&stores),
            // Several products named equally: Chat asks which before anyone computes.
            Intent::Need | Intent::Sales if u.ambiguous() => Vec::new(),
            Intent::Need | Intent::Sales => ctx.items_for(&products, &stores),
            // Stock of several products is listed, as many as an answer shows.
            Intent::Stock => ctx.items_for(&products[..products.len().min(STOCK_PRODUCTS)], &stores),
            Intent::RunningOut | Intent::Overstock | Intent::Transfers => ctx.items_at(&stores),
            Intent::Confirm { .. } | Intent::Help | Intent::Recall => Vec::new(),
        };
        let plan = if u.store_orders() {
            Needs { forecast: false, alert_kinds: None, orders: true, transfers: false }
        } else {
            needs(u.intent)
        };
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
        let mut recommendations = match (o_stage, recommendations) {
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

        // What the memory holds, for a look back.
        let recalled = if u.intent == Intent::Recall { recall(&mut run, live, tenant, user, &u).await } else { None };

        // The suggestion put to the user: the first recommendation, when they can answer it.
        let offer = match (user, u.intent, &recommendations) {
            // A list of orders is approved on the dashboard, not one "sí" at a time.
            (Some(_), Intent::Need, _) if u.store_orders() => None,
            (Some(_), Intent::Need | Intent::Transfers, Some(list)) => list.first().cloned(),
            _ => None,
        };
        // A list of orders replaces the suggestion pending: a "sí" after it approves nothing unseen.
        if u.store_orders() {
            conversation.pending = None;
        }
        if let Some(r) = &offer {
            conversation.pending = Some(Pending {
                recommendation: r.clone(),
                offered_in: id,
                expires_at: chrono::Utc::now()
                    + chrono::Duration::from_std(inner.config.conversation_ttl).unwrap_or_default(),
            });
        }
        if let Some(user) = user
            && let Err(e) = inner.memory.save(tenant, user, &conversation, inner.config.conversation_ttl).await
        {
            tracing::warn!(error = %e, "the conversation could not be kept; the next question starts afresh");
        }

        // A question about sales or stock that names no product: the stores' figures in money.
        let whole_stores = u.products.is_empty() && u.unmatched.is_empty();
        let sales = if u.intent == Intent::Sales && whole_stores {
            let span = run.trace.open("sales", Some(AgentKind::Forecast), None, &stores_es(&u));
            let sales = store_indices(&ctx, &u)
                .map(|stores| fluxion_agents::forecast::store_sales(&ctx, &stores, u.one_day))
                .unwrap_or_default();
            let total: f64 = sales.iter().map(|s| s.period(u.one_day).0).sum();
            run.trace.close(
                span,
                SpanStatus::Ok,
                &format!("{} tiendas, venta US$ {}", sales.len(), fluxion_domain::format::number(total, 2)),
                None,
            );
            sales
        } else {
            Vec::new()
        };
        // What is on its way ("¿qué me llega mañana?", "¿qué pedidos están atrasados?").
        let deliveries = match u.coming {
            Some(coming) if u.intent == Intent::Stock && whole_stores => {
                let until = ctx.today + chrono::Days::new(u64::from(u.horizon_days.max(1)));
                let late_only = coming == fluxion_domain::Coming::Late;
                let from = if u.senders.is_empty() { String::new() } else { format!(" de {}", u.senders.join(", ")) };
                let what = if late_only {
                    format!("entregas atrasadas{from}, {}", stores_es(&u))
                } else {
                    format!("entregas hasta el {until}{from}, {}", stores_es(&u))
                };
                let span = run.trace.open("deliveries", Some(AgentKind::Optimizer), None, &what);
                // Read afresh: an order approved since the context was loaded is on its way.
                let fresh = fluxion_agents::context::read_deliveries(live.store.as_ref(), &ctx.world).await;
                let open = fresh.as_deref().unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "open orders could not be read; the context's are used");
                    &ctx.deliveries
                });
                let list = store_indices(&ctx, &u).map(|stores| {
                    let query = fluxion_agents::forecast::DeliveryQuery {
                        stores,
                        // "¿qué me llega el martes?": that day's, and what is late.
                        from: u.names_one_day().then_some(until),
                        until,
                        late_only,
                        from_supplier: u.coming_from_supplier,
                        senders: u.senders.clone(),
                    };
                    fluxion_agents::forecast::deliveries(&ctx, open, &query)
                });
                let out = list
                    .as_ref()
                    .map_or_else(String::new, |d| format!("{} entregas, {} atrasadas", d.list.len(), d.late().count()));
                run.trace.close(span, SpanStatus::Ok, &out, None);
                list
            }
            _ => None,
        };
        let stock = if u.intent == Intent::Stock && whole_stores && deliveries.is_none() {
            let span = run.trace.open("stock", Some(AgentKind::Optimizer), None, &stores_es(&u));
            let stock = store_indices(&ctx, &u)
                .map(|stores| fluxion_agents::forecast::store_stock(&ctx, &stores))
                .unwrap_or_default();
            let total: f64 = stock.iter().map(|s| s.value_at_cost).sum();
            run.trace.close(
                span,
                SpanStatus::Ok,
                &format!(
                    "{} tiendas, inventario US$ {} a costo",
                    stock.len(),
                    fluxion_domain::format::number(total, 2)
                ),
                None,
            );
            stock
        } else {
            Vec::new()
        };

        // What to order at the stores asked about, within the budget when the question names one.
        let orders = match (&recommendations, u.store_orders()) {
            (Some(recs), true) => {
                // Horizons count from tomorrow: "mañana" is the orders due by tomorrow.
                let until = ctx.today + chrono::Days::new(u64::from(u.horizon_days.max(1)));
                let what = match u.budget_usd {
                    Some(b) => format!("pedidos hasta el {until}, presupuesto US$ {}", units(b)),
                    None => format!("pedidos hasta el {until}"),
                };
                let span = run.trace.open("purchase_plan", Some(AgentKind::Optimizer), None, &what);
                match fluxion_agents::optimizer::order_list(&ctx, recs, until, u.budget_usd) {
                    Ok(list) => {
                        let (value, benefit) = list.totals(true);
                        let out = format!(
                            "{} de {} pedidos, US$ {} que protegen US$ {}",
                            list.lines.iter().filter(|l| l.chosen).count(),
                            list.lines.len(),
                            fluxion_domain::format::number(value, 2),
                            fluxion_domain::format::number(benefit, 2)
                        );
                        run.trace.close(span, SpanStatus::Ok, &out, None);
                        Some(list)
                    }
                    Err(e) => {
                        run.trace.close(span, SpanStatus::Error, "", Some(e.to_string()));
                        None
                    }
                }
            }
            _ => None,
        };
        // The answer's recommendations are the orders it proposes (those the budget buys), in its order.
        if let (Some(list), Some(recs)) = (&orders, &mut recommendations) {
            let mut orders: std::collections::HashMap<(LocationCode, ProductCode), fluxion_domain::Recommendation> =
                std::mem::take(recs)
                    .into_iter()
                    .filter(|r| matches!(r.action, fluxion_domain::RecommendedAction::Order { .. }))
                    .map(|r| ((r.store.clone(), r.product.clone()), r))
                    .collect();
            *recs = list
                .lines
                .iter()
                .filter(|l| l.chosen)
                .filter_map(|l| orders.remove(&(l.store.clone(), l.product.clone())))
                .collect();
        }

        // 5. Compose.
        let input = ComposeInput {
            understanding: u.clone(),
            figures: figures.clone(),
            sales: sales.clone(),
            stock: stock.clone(),
            orders: orders.clone(),
            deliveries: deliveries.clone(),
            alerts: alerts.clone(),
            recommendations: recommendations.clone(),
            faults: run.faults.clone(),
            today: ctx.today,
            offer,
            settled: settled.clone(),
            recalled,
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
                let mut fallback = input.clone();
                fallback.faults = run.faults.clone();
                fallback.text()
            }
        };
        // 6. Phrase (when a language model is configured): checked against the agents' numbers.
        let (text, phrased_by) = phrase(&mut run, tenant, &question, &input, text).await;
        let approved = if matches!(u.intent, Intent::Confirm { yes: true }) { settled } else { None };
        let understood = Understood {
            phrased_by,
            approved,
            products: resolved(&u.products),
            alternatives: resolved(&u.alternatives),
            stores: resolved(&u.stores),
            horizon_days: u.horizon_days,
            figures: figures.unwrap_or_default(),
            sales,
            stock,
            orders,
            deliveries,
            alerts: alerts.unwrap_or_default(),
            recommendations: recommendations.unwrap_or_default(),
        };
        let answer = finish(run, live, started, &question, u.intent, text, understood, tenant).await;
        remember(inner, tenant, user, &answer, ctx.today);
        answer
    }
    .instrument(span)
    .await
}

/// Products a stock question lists at most.
const STOCK_PRODUCTS: usize = 5;

/// The world indices of the stores a question names (every store when it names none); `None` when
/// one of them is not in the tenant's data.
fn store_indices(ctx: &TenantContext, u: &Understanding) -> Option<Vec<usize>> {
    let stores: Vec<usize> =
        u.stores.iter().filter_map(|s| ctx.world.stores.iter().position(|c| c.as_str() == s.code)).collect();
    (stores.len() == u.stores.len()).then_some(stores)
}

/// The stores a question names, for a trace ("todas las tiendas" when it names none).
fn stores_es(u: &Understanding) -> String {
    if u.stores.is_empty() {
        "todas las tiendas".to_owned()
    } else {
        u.stores.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Least similarity at which the vector memory's best product is taken for words the catalog's
/// word matching did not recognise, or recognised only weakly.
const MIN_VECTOR_SCORE: f32 = 0.42;
/// A word match scoring below this is weak: the vector memory may overrule it.
const WEAK_WORD_MATCH: f64 = 0.5;
/// Vector hits this close to the best are equally good (the answer asks which, or takes the best
/// seller).
const VECTOR_TIE: f32 = 0.05;

/// Products the word matcher missed or matched weakly, found through the vector memory ("harinita
/// pan" → the Harina PAN products, not a bread that shares the word "pan"): the hits close to the
/// best when it is similar enough and, against a weak word match, clearly better.
async fn resolve_by_vectors(
    run: &mut Run<'_>,
    semantic: &SemanticMemory,
    live: &Live,
    tenant: &TenantSlug,
    u: &mut Understanding,
) {
    if !matches!(u.intent, Intent::Need | Intent::Sales | Intent::Recall | Intent::Help) {
        return;
    }
    let weak = u.products.first().is_some_and(|p| p.score < WEAK_WORD_MATCH);
    let mention = if (u.products.is_empty() && !u.unmatched.is_empty()) || weak {
        u.product_words.clone()
    } else {
        return;
    };
    if mention.trim().is_empty() {
        return;
    }
    let span = run.trace.open("resolve", Some(AgentKind::Chat), None, &mention);
    let hits = match semantic.products_like(tenant, &mention, 5).await {
        Ok(h) => h,
        Err(e) => {
            run.trace.close(span, SpanStatus::Error, "", Some(e.to_string()));
            return;
        }
    };
    let listed = hits.iter().map(|(c, s)| format!("{c} {s:.2}")).collect::<Vec<_>>().join(", ");
    let need = if weak { MIN_VECTOR_SCORE + VECTOR_TIE } else { MIN_VECTOR_SCORE };
    let best = hits.first().map_or(0.0, |h| h.1);
    // A weak match the vector memory agrees with stays; a weak toss-up among several products is
    // settled by it ("harinita pan": "pan" alone names every bread and both flours equally).
    let already =
        weak && u.products.len() == 1 && hits.first().is_some_and(|(c, _)| u.products.iter().any(|p| &p.code == c));
    if best < need || already {
        run.trace.close(span, SpanStatus::Ok, &format!("sin coincidencia mejor: {listed}"), None);
        return;
    }
    let mut found: Vec<_> = hits
        .iter()
        .filter(|(_, s)| best - s <= VECTOR_TIE)
        .filter_map(|(code, s)| live.catalog.product_by_code(code, &mention, f64::from(*s)))
        .collect();
    let alternatives = live.catalog.prefer_best_seller(&mut found);
    run.trace.close(
        span,
        SpanStatus::Ok,
        &format!("{} ← {listed}", found.iter().map(|f| f.code.as_str()).collect::<Vec<_>>().join(", ")),
        None,
    );
    u.products = found;
    u.alternatives = alternatives;
    u.unmatched.clear();
    if u.intent == Intent::Help {
        u.intent = Intent::Need;
    }
}

/// A look back that names products loosely ("¿qué me dijiste del ponche?") means the ones the user
/// recently asked about, when they are among those it matched.
fn prefer_recent_products(u: &mut Understanding, conversation: &fluxion_domain::Conversation) {
    let matched: Vec<_> = u.products.iter().chain(&u.alternatives).cloned().collect();
    let recent: Vec<_> = matched
        .iter()
        .filter(|f| conversation.turns.iter().rev().any(|t| t.products.iter().any(|p| p.code == f.code)))
        .cloned()
        .collect();
    if !recent.is_empty() && recent.len() < matched.len() {
        u.alternatives = matched.into_iter().filter(|f| !recent.iter().any(|r| r.code == f.code)).collect();
        u.products = recent;
    }
}

/// What the memory holds for a look back: the tenant's alerts and the user's own past answers,
/// about the products named when the question named some. `None` when the memory failed.
async fn recall(
    run: &mut Run<'_>,
    live: &Live,
    tenant: &TenantSlug,
    user: Option<&str>,
    u: &Understanding,
) -> Option<Vec<Recalled>> {
    let Some(semantic) = &run.inner.semantic else { return Some(Vec::new()) };
    let about = if !u.products.is_empty() {
        u.products.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join(" ")
    } else {
        u.unmatched.join(" ")
    };
    let since = live.ctx.today - chrono::Duration::days(i64::from(u.horizon_days));
    let span = run.trace.open("recall", Some(AgentKind::Chat), None, &format!("«{about}» desde {since}"));
    let query = if about.is_empty() { "alerta" } else { about.as_str() };
    match semantic.recall(tenant, user, query, since, 8).await {
        Ok(mut found) => {
            if !u.products.is_empty() {
                found.retain(|r| r.product.as_deref().is_some_and(|p| u.products.iter().any(|f| f.code == p)));
            }
            run.trace.close(span, SpanStatus::Ok, &format!("{} recuerdos", found.len()), None);
            Some(found)
        }
        Err(e) => {
            run.trace.close(span, SpanStatus::Error, "", Some(e.to_string()));
            None
        }
    }
}

/// Has the language model (when configured and within the tenant's token budget) phrase the
/// template answer; its text is used only when every number in it comes from the agents. On any
/// failure, timeout or invented number the template goes out, and the trace says why.
async fn phrase(
    run: &mut Run<'_>,
    tenant: &TenantSlug,
    question: &str,
    input: &ComposeInput,
    template: String,
) -> (String, Option<String>) {
    let Some(llm) = run.inner.llm.clone() else { return (template, None) };
    // A degraded answer says exactly what is missing, and an approval exactly what was approved:
    // both go out as written.
    if !input.faults.is_empty() || matches!(input.understanding.intent, Intent::Confirm { .. }) {
        return (template, None);
    }
    let policy = run.inner.config.llm.clone();
    let ledger = run.inner.ledger.clone();
    let day = chrono::Utc::now().date_naive();
    let span = run.trace.open("phrase", Some(AgentKind::Chat), None, &format!("modelo {}", llm.model()));
    let id = run.trace.id();
    run.progress.send(id, "agent.started", Some(AgentKind::Chat), serde_json::json!({"stage": "phrase"}), None);
    if policy.daily_tokens_per_tenant > 0 {
        match ledger.spent(tenant, day).await {
            Ok(spent) if spent >= policy.daily_tokens_per_tenant => {
                let why = format!(
                    "presupuesto diario de tokens agotado ({} de {}): respuesta con plantilla",
                    spent, policy.daily_tokens_per_tenant
                );
                run.trace.close(span, SpanStatus::Ok, &why, None);
                run.progress.send(
                    id,
                    "agent.finished",
                    Some(AgentKind::Chat),
                    serde_json::json!({"stage": "phrase", "status": "budget_spent", "millis": 0.0, "tokens": 0}),
                    None,
                );
                return (template, None);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the token ledger could not be read; phrasing anyway"),
        }
    }
    let brief = Brief::of(question, input, &template);
    let started = Instant::now();
    let outcome = tokio::time::timeout(policy.deadline, llm.phrase(&brief))
        .instrument(stage_span("phrase", AgentKind::Chat))
        .await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let (result, spent) = match outcome {
        Ok(Ok(p)) => {
            let text = p.text.clone();
            (Ok(text), p)
        }
        Ok(Err((e, p))) => (Err((SpanStatus::Error, e.to_string())), p),
        Err(_) => (
            Err((SpanStatus::Timeout, format!("the LLM did not answer within {} ms", policy.deadline.as_millis()))),
            Default::default(),
        ),
    };
    let tokens = spent.tokens();
    let cost = f64::from(spent.prompt_tokens) * policy.usd_per_million_prompt / 1e6
        + f64::from(spent.completion_tokens) * policy.usd_per_million_completion / 1e6;
    run.trace.set_usage(span, tokens, cost);
    if tokens > 0 {
        metrics::counter!("fluxion_llm_tokens_total", "tenant" => tenant.to_string()).increment(u64::from(tokens));
    }
    if tokens > 0
        && let Err(e) = ledger.spend(tenant, day, u64::from(tokens)).await
    {
        tracing::warn!(error = %e, "spent tokens could not be counted");
    }
    let (text, by, status) = match result {
        Ok(text) => {
            run.trace.close(span, SpanStatus::Ok, &text, None);
            (text, Some(llm.model().to_owned()), "ok")
        }
        Err((status, why)) => {
            tracing::info!(reason = %why, "the LLM's phrasing was not used; the template answer goes out");
            run.trace.close(span, status, "respuesta con plantilla", Some(why));
            (template, None, if status == SpanStatus::Timeout { "timed_out" } else { "fallback" })
        }
    };
    run.progress.send(
        id,
        "agent.finished",
        Some(AgentKind::Chat),
        serde_json::json!({"stage": "phrase", "status": status, "millis": millis, "tokens": tokens}),
        None,
    );
    (text, by)
}

/// Keeps the question and its answer in the user's long-term memory (off the request's path).
fn remember(inner: &Inner, tenant: &TenantSlug, user: Option<&str>, answer: &Answer, today: chrono::NaiveDate) {
    let (Some(semantic), Some(user)) = (inner.semantic.clone(), user) else { return };
    if matches!(answer.intent, Intent::Confirm { .. } | Intent::Help | Intent::Recall) {
        return;
    }
    let (tenant, user) = (tenant.clone(), user.to_owned());
    let (id, question, text) = (answer.trace_id.to_string(), answer.question.clone(), answer.text_es.clone());
    let product = answer.products.first().map(|p| p.code.clone());
    inner.background.spawn(async move {
        let past = PastAnswer {
            user: &user,
            id: &id,
            day: today,
            question: &question,
            answer: &text,
            product: product.as_deref(),
        };
        if let Err(e) = semantic.remember_answer(&tenant, &past).await {
            tracing::warn!(error = %e, "an answer could not be kept in the long-term memory");
        }
    });
}

/// The structured parts of an answer.
#[derive(Default)]
struct Understood {
    phrased_by: Option<String>,
    approved: Option<fluxion_domain::Recommendation>,
    products: Vec<Resolved>,
    alternatives: Vec<Resolved>,
    stores: Vec<Resolved>,
    horizon_days: u32,
    figures: Vec<fluxion_domain::ForecastFigure>,
    sales: Vec<fluxion_domain::StoreSales>,
    stock: Vec<fluxion_domain::StoreStock>,
    orders: Option<fluxion_domain::OrderList>,
    deliveries: Option<fluxion_domain::Deliveries>,
    alerts: Vec<fluxion_domain::Alert>,
    recommendations: Vec<fluxion_domain::Recommendation>,
}

/// The business objects an answer is about, for its trace: the items of its figures, its alerts,
/// its recommendations.
fn links(a: &Answer) -> Vec<fluxion_domain::TraceLink> {
    use fluxion_domain::{RecommendedAction, TraceLink, TraceLinkKind};
    let items = a.figures.iter().map(|f| TraceLink {
        kind: TraceLinkKind::Item,
        store: f.store.to_string(),
        product: Some(f.product.to_string()),
        key: None,
        label_es: format!("{} en {}", f.product_name, f.store_name),
    });
    let alerts = a.alerts.iter().map(|x| TraceLink {
        kind: TraceLinkKind::Alert,
        store: x.store.to_string(),
        product: x.product.as_ref().map(ToString::to_string),
        key: Some(x.dedup_key.clone()),
        label_es: x.kind.label_es().to_owned(),
    });
    let recommendations = a.recommendations.iter().map(|r| TraceLink {
        kind: TraceLinkKind::Recommendation,
        store: r.store.to_string(),
        product: Some(r.product.to_string()),
        key: Some(fluxion_memory::recommendation_key(r)),
        label_es: match r.action {
            RecommendedAction::Order { .. } => format!("Pedido de {}", units(r.units)),
            RecommendedAction::Transfer { .. } => format!("Transferencia de {}", units(r.units)),
        },
    });
    items.chain(alerts).chain(recommendations).collect()
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
        sales: parts.sales,
        stock: parts.stock,
        orders: parts.orders,
        deliveries: parts.deliveries,
        alerts: parts.alerts,
        recommendations: parts.recommendations,
        agents: run.reports.clone(),
        degraded,
        millis,
        phrased_by: parts.phrased_by,
        approved: parts.approved,
    };
    run.progress.send(
        id,
        "request.answered",
        None,
        serde_json::json!({"status": status, "millis": millis, "text": answer.text_es, "degraded": degraded}),
        Some(Partial::None),
    );
    let mut trace = run.trace.finish(status, &answer.text_es);
    trace.links = links(&answer);
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
