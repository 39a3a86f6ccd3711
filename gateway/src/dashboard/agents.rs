//! Agentes: ask a question in Spanish, watch Forecast → Alert ‖ Optimizer → Chat work (live over
//! SSE with JavaScript; the whole answer at once without), read the unified answer with its
//! figures, bands and recommendations, act on a recommendation, open the trace.

use super::catalog::{Names, RecRow};
use super::{Chrome, Form, PageError, Session, render};
use crate::api::ApiState;
use crate::api::ask::{Asking, progress_stream};
use crate::auth::Permission;
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use fluxion_domain::format::{number, units};
use fluxion_domain::{AgentKind, AgentStatus, Answer, Tenant};
use fluxion_orchestrator::Origin;
use serde::Deserialize;
use uuid::Uuid;

/// The channel of the dashboard's questions (in traces).
const CHANNEL: &str = "dashboard";
/// Longest question, characters.
const MAX_QUESTION: usize = 1_000;

/// One agent's step.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    agent: &'static str,
    name_es: &'static str,
    status: &'static str,
    status_es: String,
    millis: String,
}

/// The four agents in plan order, waiting.
fn steps() -> Vec<Step> {
    [AgentKind::Forecast, AgentKind::Alert, AgentKind::Optimizer, AgentKind::Chat]
        .iter()
        .map(|a| Step {
            agent: a.as_str(),
            name_es: name_es(*a),
            status: "waiting",
            status_es: "En espera".into(),
            millis: String::new(),
        })
        .collect()
}

fn name_es(a: AgentKind) -> &'static str {
    match a {
        AgentKind::Forecast => "Pronóstico",
        AgentKind::Alert => "Alertas",
        AgentKind::Optimizer => "Optimizador",
        AgentKind::Chat => "Conversación",
    }
}

/// A forecast figure of the answer.
#[derive(Debug, Clone)]
pub(crate) struct FigureRow {
    product: String,
    store: String,
    days: u32,
    expected: String,
    band: String,
    on_hand: String,
    unit: &'static str,
    href: String,
}

/// The answer as the page shows it.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    trace_id: Uuid,
    question: String,
    paragraphs: Vec<String>,
    steps: Vec<Step>,
    figures: Vec<FigureRow>,
    alerts: Vec<String>,
    recs: Vec<RecRow>,
    degraded: bool,
    millis: String,
    can_trace: bool,
}

#[derive(Template)]
#[template(path = "agentes.html")]
struct AgentsPage {
    c: Chrome,
    question: String,
    steps: Vec<Step>,
    shown: Option<Shown>,
    failed: bool,
}

/// The answer alone (what the stream's last event carries).
#[derive(Template)]
#[template(path = "answer.html")]
struct AnswerFragment {
    c: Chrome,
    s: Shown,
}

/// The page, with nothing asked yet.
pub(crate) async fn page(session: Session) -> Result<Response, PageError> {
    session.tenant_for(Permission::Ask)?;
    render(&AgentsPage {
        c: session.chrome("Agentes", "/agentes", None),
        question: String::new(),
        steps: steps(),
        shown: None,
        failed: false,
    })
}

/// A question.
#[derive(Debug, Deserialize)]
pub(crate) struct AskForm {
    csrf: String,
    pregunta: String,
}

/// The question of a form, and the tenant it is asked in (the CSRF token checked first).
fn question(session: &Session, headers: &HeaderMap, form: &AskForm) -> Result<(Tenant, String), PageError> {
    session.check(headers, Some(&form.csrf))?;
    let tenant = session.tenant_for(Permission::Ask)?.clone();
    Ok((tenant, crate::api::text_field(&form.pregunta, "pregunta", MAX_QUESTION)?))
}

/// Asks and shows the whole answer (the page without JavaScript).
pub(crate) async fn ask(
    State(api): State<ApiState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<AskForm>,
) -> Result<Response, PageError> {
    let (tenant, text) = question(&session, &headers, &form)?;
    let actor = session.actor();
    let request = crate::api::request_id(&headers);
    let origin = Origin { user: Some(&actor), channel: CHANNEL, trace_id: None, request_id: request.as_deref() };
    let c = session.chrome("Agentes", "/agentes", None);
    let (shown, failed) = match api.runtime.ask_from(&tenant.slug, &text, &origin).await {
        Ok(answer) => (Some(shown(&api, &session, &tenant, &answer).await?), false),
        Err(e) => {
            tracing::error!(error = %e, "ask failed");
            (None, true)
        }
    };
    render(&AgentsPage { c, question: text, steps: steps(), shown, failed })
}

/// Asks and streams: `progress` events as the agents work, then `answer` with the answer's HTML
/// (or `error`).
pub(crate) async fn stream(
    State(api): State<ApiState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<AskForm>,
) -> Result<Response, PageError> {
    let (tenant, text) = question(&session, &headers, &form)?;
    let ask = Asking {
        tenant: tenant.slug.clone(),
        question: text,
        actor: session.actor(),
        channel: CHANNEL,
        request_id: crate::api::request_id(&headers),
    };
    let state = api.clone();
    let sse = progress_stream(&api, ask, move |done| async move {
        let html = match done {
            Ok(answer) => match shown(&state, &session, &tenant, &answer).await {
                Ok(s) => AnswerFragment { c: session.chrome("Agentes", "/agentes", None), s }.render().ok(),
                Err(_) => None,
            },
            Err(_) => None,
        };
        Some(match html {
            Some(h) => Event::default().event("answer").data(h),
            None => Event::default()
                .event("error")
                .data("No pude responder en este momento; intenta de nuevo en un minuto."),
        })
    })
    .await?;
    Ok(sse.into_response())
}

/// The answer with its recommendations kept (pending, so that they can be approved from here).
async fn shown(api: &ApiState, session: &Session, tenant: &Tenant, a: &Answer) -> Result<Shown, PageError> {
    let scoped = api.scoped(tenant).await?;
    let names = Names::of(api, tenant, false).await?;
    let mut recs = Vec::new();
    for r in &a.recommendations {
        let stored = scoped.keep_recommendation(r, Utc::now()).await?;
        recs.push(RecRow::of(&stored, &names));
    }
    let mut steps = steps();
    for report in &a.agents {
        if let Some(step) = steps.iter_mut().find(|s| s.agent == report.agent.as_str()) {
            let (status, es) = match &report.status {
                AgentStatus::Ok => ("ok", "Listo".to_owned()),
                AgentStatus::Failed { .. } => ("failed", "Falló".to_owned()),
                AgentStatus::TimedOut { .. } => ("timed_out", "Sin respuesta a tiempo".to_owned()),
                AgentStatus::Skipped => ("skipped", "No hizo falta".to_owned()),
            };
            step.status = status;
            step.status_es = es;
            step.millis = format!("{} ms", number(report.millis, 0));
        }
    }
    Ok(Shown {
        trace_id: a.trace_id,
        question: a.question.clone(),
        paragraphs: a.text_es.split('\n').map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        steps,
        figures: a
            .figures
            .iter()
            .map(|f| FigureRow {
                product: f.product_name.clone(),
                store: f.store_name.clone(),
                days: f.days,
                expected: units(f.expected),
                band: format!("{} – {}", units(f.p10), units(f.p90)),
                on_hand: units(f.on_hand),
                unit: f.unit.label_es(),
                href: format!("/pronosticos?tienda={}&producto={}", f.store, f.product),
            })
            .collect(),
        alerts: a.alerts.iter().map(|x| x.reason_es.clone()).collect(),
        recs,
        degraded: a.degraded,
        millis: number(a.millis, 0),
        can_trace: session.principal.allows(Permission::ReadTraces),
    })
}
