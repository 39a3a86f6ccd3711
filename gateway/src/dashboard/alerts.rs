//! Alertas: the feed (new alerts arrive live over SSE), filters, acknowledging, feedback.

use super::catalog::{AlertRow, Names, alert_kinds};
use super::session::CsrfForm;
use super::{Chrome, Form, PageError, Path, Query, Session, back, bad_request, not_found, render};
use crate::api::ApiState;
use crate::auth::Permission;
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use fluxion_domain::Alert;
use fluxion_memory::{AlertQuery, AlertStatus, Feedback, Topic, Verdict};
use serde::Deserialize;
use uuid::Uuid;

/// The most alerts a page lists (newest first).
const LIMIT: usize = 100;

/// The feed's filters (empty: any).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    pub tienda: String,
    #[serde(default)]
    pub tipo: String,
    #[serde(default)]
    pub severidad: String,
    #[serde(default)]
    pub estado: String,
    pub aviso: Option<String>,
}

impl Filters {
    /// The store query they make; an unknown value is a 400.
    fn query(&self) -> Result<AlertQuery, PageError> {
        let pick = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        if !self.tipo.is_empty() && !alert_kinds().iter().any(|(k, _)| *k == self.tipo) {
            return Err(bad_request("Ese tipo de alerta no existe.", "No such alert type."));
        }
        if !matches!(self.severidad.as_str(), "" | "info" | "warning" | "critical") {
            return Err(bad_request("Esa severidad no existe.", "No such severity."));
        }
        let status = match self.estado.as_str() {
            "" | "abiertas" => Some(AlertStatus::Open),
            "vistas" => Some(AlertStatus::Acknowledged),
            "resueltas" => Some(AlertStatus::Resolved),
            "todas" => None,
            _ => return Err(bad_request("Ese estado no existe.", "No such status.")),
        };
        if self.tienda.len() > 64 {
            return Err(bad_request("Esa tienda no existe.", "No such store."));
        }
        Ok(AlertQuery {
            store: pick(&self.tienda),
            kind: pick(&self.tipo),
            severity: pick(&self.severidad),
            status,
            limit: LIMIT as u32,
            ..AlertQuery::default()
        })
    }

    /// Whether a new alert passes them.
    fn admit(&self, a: &Alert) -> bool {
        (self.tienda.is_empty() || a.store.as_str() == self.tienda)
            && (self.tipo.is_empty() || a.kind.as_str() == self.tipo)
            && (self.severidad.is_empty() || a.severity.as_str() == self.severidad)
            && matches!(self.estado.as_str(), "" | "abiertas" | "todas")
    }
}

#[derive(Template)]
#[template(path = "alertas.html")]
struct AlertsPage {
    c: Chrome,
    f: Filters,
    stores: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    alerts: Vec<AlertRow>,
    /// The most alerts a page lists.
    limit: usize,
    live_query: String,
}

/// One alert's row, alone (what the live feed sends).
#[derive(Template)]
#[template(path = "alert_row.html")]
struct AlertRowFragment {
    c: Chrome,
    a: AlertRow,
}

/// The alerts page.
pub(crate) async fn page(
    State(api): State<ApiState>,
    session: Session,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let tenant = session.tenant_for(Permission::Read)?;
    let query = f.query()?;
    let scoped = api.scoped(tenant).await?;
    let names = Names::of(&api, tenant, true).await?;
    let alerts = scoped.alerts(&query).await?.items.iter().map(|a| AlertRow::of(a, &names)).collect();
    let stores = names.catalog.locations.iter().map(|l| (l.code.to_string(), l.name.clone())).collect();
    // The live feed's URL carries the same filters (values checked above: codes and known words).
    let live_query = format!("tienda={}&tipo={}&severidad={}&estado={}", f.tienda, f.tipo, f.severidad, f.estado);
    render(&AlertsPage {
        c: session.chrome("Alertas", "/alertas", f.aviso.as_deref()),
        live_query: if f.tienda.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            live_query
        } else {
            String::new()
        },
        f,
        stores,
        kinds: alert_kinds(),
        alerts,
        limit: LIMIT,
    })
}

/// Acknowledges an alert ("ya la vi").
pub(crate) async fn acknowledge(
    State(api): State<ApiState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let scoped = session.acting(&api, &headers, &form.csrf).await?;
    scoped
        .acknowledge_alert(id, &session.actor(), Utc::now())
        .await?
        .ok_or_else(|| not_found("esa alerta", "alert"))?;
    Ok(back("/alertas", "reconocida"))
}

/// Feedback on an alert.
#[derive(Debug, Deserialize)]
pub(crate) struct FeedbackForm {
    csrf: String,
    veredicto: String,
}

/// "Útil" or "Incorrecta".
pub(crate) async fn feedback(
    State(api): State<ApiState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<FeedbackForm>,
) -> Result<Response, PageError> {
    let scoped = session.acting(&api, &headers, &form.csrf).await?;
    let verdict = match form.veredicto.as_str() {
        "util" => Verdict::Useful,
        "incorrecta" => Verdict::Wrong,
        _ => return Err(bad_request("La opinión debe ser útil o incorrecta.", "The verdict must be useful or wrong.")),
    };
    let feedback = Feedback { verdict, by: session.actor(), at: Utc::now(), note: None };
    let alert = scoped.alert_feedback(id, &feedback).await?.ok_or_else(|| not_found("esa alerta", "alert"))?;
    metrics::counter!("fluxion_alert_feedback_total", "kind" => alert.alert.kind.as_str(), "verdict" => verdict.as_str())
        .increment(1);
    Ok(back("/alertas", "opinion"))
}

/// The live feed: each new alert of the tenant (that passes the filters) as an `alert` event whose
/// data is its row's HTML, rendered here like the page's rows.
pub(crate) async fn events(
    State(api): State<ApiState>,
    session: Session,
    shutdown: Option<axum::Extension<crate::Shutdown>>,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let tenant = session.tenant_for(Permission::Read)?.clone();
    f.query()?;
    let mut news = api.runtime.bus().subscribe(&Topic::Tenant(tenant.slug.clone())).await.map_err(|e| {
        tracing::error!(error = %e, "the bus could not be subscribed to");
        crate::error::ApiError::unavailable()
    })?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(16);
    let chrome = session.chrome("Alertas", "/alertas", None);
    let stop = shutdown.map(|s| s.0.0.clone()).unwrap_or_default();
    tokio::spawn(async move {
        // Until the page goes away (the stream's receiver is dropped) or the server shuts down.
        loop {
            let event = tokio::select! {
                event = news.recv() => match event {
                    Some(event) => event,
                    None => break,
                },
                () = tx.closed() => break,
                () = stop.cancelled() => break,
            };
            if event.kind != "alert.new" {
                continue;
            }
            let Ok(alert) = serde_json::from_value::<Alert>(event.data) else { continue };
            if !f.admit(&alert) {
                continue;
            }
            let Some(row) = stored_row(&api, &tenant, &alert).await else { continue };
            let Ok(html) = (AlertRowFragment { c: chrome.clone(), a: row }).render() else { continue };
            if tx.send(Event::default().event("alert").data(html)).await.is_err() {
                break;
            }
        }
    });
    Ok(crate::api::ask::event_stream(rx).into_response())
}

/// The stored alert of an announced one (the announcement comes after it is stored).
async fn stored_row(api: &ApiState, tenant: &fluxion_domain::Tenant, alert: &Alert) -> Option<AlertRow> {
    let scoped = api.scoped(tenant).await.ok()?;
    let query = AlertQuery {
        store: Some(alert.store.to_string()),
        product: alert.product.as_ref().map(ToString::to_string),
        kind: Some(alert.kind.as_str().to_owned()),
        limit: 20,
        ..AlertQuery::default()
    };
    let stored = scoped.alerts(&query).await.ok()?.items.into_iter().find(|s| s.alert.dedup_key == alert.dedup_key)?;
    let names = Names::of(api, tenant, false).await.ok()?;
    Some(AlertRow::of(&stored, &names))
}
