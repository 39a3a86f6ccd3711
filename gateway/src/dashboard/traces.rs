//! Trazas (owners: their tenant's; operators: every tenant's): the list with filters, and one
//! trace as a waterfall of spans with what went in and out, errors, restarts, tokens and cost, and
//! the business objects it touched.

use super::{Chrome, PageError, Path, Query, Session, bad_request, not_found, render};
use crate::api::ApiState;
use crate::api::traces::{find, newest, readable};
use crate::chart::escape;
use axum::extract::State;
use axum::response::Response;
use fluxion_domain::format::number;
use fluxion_domain::{SpanStatus, Tenant, Trace, TraceLinkKind};
use fluxion_memory::{AlertQuery, RecommendationQuery, TraceQuery};
use serde::Deserialize;
use std::fmt::Write as _;
use uuid::Uuid;

/// The list's filters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    cadena: String,
    #[serde(default)]
    canal: String,
    #[serde(default)]
    estado: String,
    #[serde(default)]
    lentas: String,
}

/// A trace in the list.
#[derive(Debug)]
pub(crate) struct Row {
    id: Uuid,
    tenant: String,
    tenant_name: String,
    channel: String,
    question: String,
    started: String,
    millis: String,
    status: &'static str,
    status_es: &'static str,
}

#[derive(askama::Template)]
#[template(path = "trazas.html")]
struct ListPage {
    c: Chrome,
    operator: bool,
    tenants: Vec<(String, String)>,
    f: Filters,
    rows: Vec<Row>,
}

fn status_es(s: SpanStatus) -> &'static str {
    match s {
        SpanStatus::Ok => "Bien",
        SpanStatus::Degraded => "Incompleta",
        SpanStatus::Error => "Error",
        SpanStatus::Timeout => "Sin respuesta a tiempo",
    }
}

/// Milliseconds from microseconds, es-VE.
fn ms(us: u64) -> String {
    number(us as f64 / 1000.0, if us < 10_000 { 1 } else { 0 })
}

/// The list.
pub(crate) async fn list(
    State(api): State<ApiState>,
    session: Session,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let named = (!f.cadena.is_empty()).then_some(f.cadena.as_str());
    let tenants = readable(&api, &session.principal, named).await?;
    let status = match f.estado.as_str() {
        "" => None,
        s => Some(SpanStatus::parse(s).ok_or_else(|| bad_request("Ese estado no existe.", "No such status."))?),
    };
    let min_ms = match f.lentas.as_str() {
        "" => None,
        s => Some(s.parse::<u64>().map_err(|_| {
            bad_request(
                "El mínimo debe ser un número de milisegundos.",
                "The minimum must be a number of milliseconds.",
            )
        })?),
    };
    if f.canal.len() > 32 {
        return Err(bad_request("Ese canal no existe.", "No such channel."));
    }
    let query = TraceQuery {
        limit: 100,
        channel: (!f.canal.is_empty()).then(|| f.canal.clone()),
        status,
        min_duration_us: min_ms.map(|m| m.saturating_mul(1_000)),
    };
    let rows = newest(&api, &tenants, &query).await?;
    let offset = api.dashboard.utc_offset_hours;
    let rows = rows
        .into_iter()
        .map(|(t, tenant)| Row {
            id: t.id,
            tenant: tenant.slug.to_string(),
            tenant_name: tenant.name.clone(),
            channel: t.channel,
            question: t.question,
            started: super::when(t.started_at, offset),
            millis: ms(t.duration_us),
            status: t.status.as_str(),
            status_es: status_es(t.status),
        })
        .collect();
    let operator = session.is_operator();
    let all = if operator { api.store.tenants().await? } else { Vec::new() };
    render(&ListPage {
        c: session.chrome("Trazas", "/trazas", None),
        operator,
        tenants: all.iter().map(|t| (t.slug.to_string(), t.name.clone())).collect(),
        f,
        rows,
    })
}

/// A span's row beside the waterfall.
#[derive(Debug)]
pub(crate) struct SpanRow {
    depth: usize,
    name: String,
    agent: String,
    start: String,
    millis: String,
    status: &'static str,
    status_es: &'static str,
    input: String,
    output: String,
    error: Option<String>,
    restarts: u32,
    tokens: Option<u32>,
    cost: Option<String>,
}

/// A business object the trace touched.
#[derive(Debug)]
pub(crate) struct LinkRow {
    kind_es: &'static str,
    label: String,
    href: Option<String>,
    state: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "traza.html")]
struct TracePage {
    c: Chrome,
    id: Uuid,
    tenant_name: String,
    question: String,
    channel: String,
    started: String,
    millis: String,
    status: &'static str,
    status_es: &'static str,
    request_id: Option<String>,
    svg: String,
    spans: Vec<SpanRow>,
    links: Vec<LinkRow>,
    tokens: u32,
    cost: String,
}

/// Which tenant to look in (operators).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct At {
    #[serde(default)]
    cadena: String,
}

/// One trace.
pub(crate) async fn show(
    State(api): State<ApiState>,
    session: Session,
    Path(id): Path<Uuid>,
    Query(at): Query<At>,
) -> Result<Response, PageError> {
    let named = (!at.cadena.is_empty()).then_some(at.cadena.as_str());
    let tenants = readable(&api, &session.principal, named).await?;
    let (trace, tenant) = find(&api, tenants, id).await?.ok_or_else(|| not_found("esa traza", "trace"))?;
    let depth = |mut i: u32| {
        let mut d = 0;
        while let Some(p) = trace.spans.get(i as usize).and_then(|s| s.parent) {
            d += 1;
            i = p;
            if d > 16 {
                break;
            }
        }
        d
    };
    let spans = trace
        .spans
        .iter()
        .map(|s| SpanRow {
            depth: depth(s.id),
            name: s.name.clone(),
            agent: s.agent.map(|a| a.as_str().to_owned()).unwrap_or_default(),
            start: ms(s.start_us),
            millis: ms(s.duration_us),
            status: s.status.as_str(),
            status_es: status_es(s.status),
            input: s.input.clone(),
            output: s.output.clone(),
            error: s.error.clone(),
            restarts: s.restarts,
            tokens: s.tokens,
            cost: s.cost_usd.map(|c| format!("US$ {}", number(c, 4))),
        })
        .collect();
    let links = links(&api, &session, &tenant, &trace).await?;
    render(&TracePage {
        c: session.chrome("Traza", "/trazas", None),
        id: trace.id,
        tenant_name: tenant.name.clone(),
        question: trace.question.clone(),
        channel: trace.channel.clone(),
        started: super::when(trace.started_at, api.dashboard.utc_offset_hours),
        millis: ms(trace.duration_us),
        status: trace.status.as_str(),
        status_es: status_es(trace.status),
        request_id: trace.request_id.clone(),
        svg: waterfall(&trace),
        tokens: trace.spans.iter().filter_map(|s| s.tokens).sum(),
        cost: format!("US$ {}", number(trace.spans.iter().filter_map(|s| s.cost_usd).sum(), 4)),
        spans,
        links,
    })
}

/// The trace's business objects, each with where it stands now and a link to its page (for the
/// tenant's own users: operators read traces only).
async fn links(api: &ApiState, session: &Session, tenant: &Tenant, trace: &Trace) -> Result<Vec<LinkRow>, PageError> {
    let scoped = api.scoped(tenant).await?;
    let names = super::catalog::Names::of(api, tenant, false).await?;
    let own = !session.is_operator();
    let mut out = Vec::new();
    for l in &trace.links {
        let product = l.product.clone().unwrap_or_default();
        let what = match &l.product {
            Some(p) => format!("{} en {}", names.product(p).0, names.store(&l.store)),
            None => names.store(&l.store),
        };
        let row = match l.kind {
            TraceLinkKind::Item => LinkRow {
                kind_es: "Producto en tienda",
                label: l.label_es.clone(),
                href: own.then(|| format!("/pronosticos?tienda={}&producto={}", l.store, product)),
                state: None,
            },
            TraceLinkKind::Alert => {
                let query = AlertQuery {
                    store: Some(l.store.clone()),
                    product: l.product.clone(),
                    limit: 100,
                    ..AlertQuery::default()
                };
                let stored =
                    scoped.alerts(&query).await?.items.into_iter().find(|a| Some(&a.alert.dedup_key) == l.key.as_ref());
                LinkRow {
                    kind_es: "Alerta",
                    label: format!("{} — {what}", l.label_es),
                    href: own.then(|| format!("/alertas?tienda={}&estado=todas", l.store)),
                    state: stored.map(|a| a.status.label_es().to_owned()),
                }
            }
            TraceLinkKind::Recommendation => {
                let query =
                    RecommendationQuery { store: Some(l.store.clone()), limit: 200, ..RecommendationQuery::default() };
                let stored =
                    scoped.recommendations(&query).await?.items.into_iter().find(|r| Some(&r.key) == l.key.as_ref());
                LinkRow {
                    kind_es: "Recomendación",
                    label: format!("{} — {what}", l.label_es),
                    href: own.then(|| "/pedidos".to_owned()),
                    state: stored.map(|r| match &r.executed_as {
                        Some(n) => format!("aprobada y ejecutada como {n}"),
                        None => r.status.label_es().to_owned(),
                    }),
                }
            }
        };
        out.push(row);
    }
    Ok(out)
}

/// The spans as a waterfall: one bar per span, placed by its start and length on the request's
/// time axis, coloured by status, with its name and duration.
pub(crate) fn waterfall(t: &Trace) -> String {
    const W: f64 = 760.0;
    const LABEL: f64 = 180.0;
    const ROW: f64 = 26.0;
    let total = t.spans.iter().map(|s| s.start_us + s.duration_us).max().unwrap_or(1).max(1) as f64;
    let h = ROW * t.spans.len() as f64 + 30.0;
    let scale = (W - LABEL - 70.0) / total;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="waterfall" width="{W}" height="{h}" viewBox="0 0 {W} {h}" role="img" aria-labelledby="waterfall-title"><title id="waterfall-title">Cascada de la traza: {} etapas en {} ms</title>"##,
        t.spans.len(),
        ms(t.duration_us)
    );
    for (i, span) in t.spans.iter().enumerate() {
        let y = 8.0 + ROW * i as f64;
        let x = LABEL + span.start_us as f64 * scale;
        let w = (span.duration_us as f64 * scale).max(2.0);
        let color = match span.status {
            SpanStatus::Ok => "#2680c2",
            SpanStatus::Degraded => "#cb6e17",
            SpanStatus::Error => "#ba2525",
            SpanStatus::Timeout => "#8719e0",
        };
        let name = match span.agent {
            Some(a) if a.as_str() != span.name => format!("{} ({})", span.name, a.as_str()),
            _ => span.name.clone(),
        };
        let indent = if span.parent.is_some() { 12.0 } else { 0.0 };
        let _ = write!(
            s,
            r##"<g class="span" data-status="{status}"><text x="{tx:.1}" y="{ty:.1}" font-size="12" fill="#1f2933">{name}</text><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="16" rx="2" fill="{color}"><title>{name}: {dur} ms</title></rect><text x="{lx:.1}" y="{ty:.1}" font-size="11" fill="#3e4c59">{dur} ms</text></g>"##,
            status = span.status.as_str(),
            tx = 4.0 + indent,
            ty = y + 12.5,
            name = escape(&name),
            dur = ms(span.duration_us),
            lx = x + w + 4.0,
        );
    }
    s.push_str("</svg>");
    s
}
