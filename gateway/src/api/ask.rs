//! Asking: the unified answer, whole or as Server-Sent Events that stream each agent's progress.

use super::views::{AnswerView, AskIn};
use super::{ApiState, text_field};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ErrorBody, Json};
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use fluxion_domain::Answer;
use fluxion_domain::TenantSlug;
use fluxion_memory::Topic;
use fluxion_orchestrator::{Origin, RuntimeError};
use futures_util::Stream;
use std::convert::Infallible;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(ask)).routes(routes!(ask_stream))
}

/// One event of the ask stream, as the OpenAPI document describes it (the events themselves are
/// written by axum's `Sse`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AskEvent {
    /// "progress", "answer" or "error".
    pub event: String,
    /// JSON: a progress event (`{"kind","request","agent","data"}`), the answer, or the error body.
    pub data: String,
}

/// Longest question, characters.
const MAX_QUESTION: usize = 1_000;

fn question_and_tenant(p: &Principal, body: &AskIn) -> Result<(TenantSlug, String), ApiError> {
    let tenant = p.tenant_for(Permission::Ask)?.slug.clone();
    Ok((tenant, text_field(&body.question, "question", MAX_QUESTION)?))
}

/// Asks a question and waits for the whole answer.
#[utoipa::path(post, path = "/api/v1/ask", tag = "ask", security(("bearer" = [])), request_body = AskIn,
    responses(
        (status = 200, description = "The answer (degraded when an agent failed: the text says what is missing)", body = AnswerView),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 422, description = "Empty or too long question", body = ErrorBody),
    ))]
async fn ask(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    Json(body): Json<AskIn>,
) -> Result<Json<AnswerView>, ApiError> {
    let (tenant, question) = question_and_tenant(&p, &body)?;
    let (actor, request) = (p.actor(), super::request_id(&headers));
    let origin = Origin { user: Some(&actor), channel: "api", trace_id: None, request_id: request.as_deref() };
    let answer = api.runtime.ask_from(&tenant, &question, &origin).await.map_err(|e| {
        tracing::error!(error = %e, "ask failed");
        ApiError::unavailable()
    })?;
    Ok(Json(AnswerView::from(&answer)))
}

/// Asks a question and streams its progress as Server-Sent Events: `progress` events (each agent
/// starting and finishing, as `{"kind","request","agent","data"}`), then one `answer` event with the
/// answer (or one `error` event with the error body), then the stream ends.
#[utoipa::path(post, path = "/api/v1/ask/stream", tag = "ask", security(("bearer" = [])), request_body = AskIn,
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = AskEvent),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 422, description = "Empty or too long question", body = ErrorBody),
    ))]
async fn ask_stream(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    Json(body): Json<AskIn>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let (tenant, question) = question_and_tenant(&p, &body)?;
    let ask = Asking { tenant, question, actor: p.actor(), channel: "api", request_id: super::request_id(&headers) };
    progress_stream(&api, ask, |done| async move {
        match done {
            Ok(a) => Event::default().event("answer").json_data(AnswerView::from(&a)).ok(),
            Err(_) => Event::default().event("error").json_data(serde_json::json!({"error": {
                "code": "unavailable",
                "message": "Un servicio interno no responde; intenta de nuevo en un momento. / An internal service is not answering; try again shortly."
            }})).ok(),
        }
    })
    .await
}

/// A question to stream.
#[derive(Debug)]
pub(crate) struct Asking {
    pub tenant: TenantSlug,
    pub question: String,
    /// Who asks (`user:<id>` …).
    pub actor: String,
    /// api, dashboard …
    pub channel: &'static str,
    pub request_id: Option<String>,
}

/// Asks and streams the request's progress as `progress` events (each agent starting and
/// finishing, `{"kind","request","agent","data"}`), then the event `last` makes of the answer (or
/// of the failure), then ends.
pub(crate) async fn progress_stream<F, Fut>(
    api: &ApiState,
    ask: Asking,
    last: F,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<F, Fut>>, ApiError>
where
    F: FnOnce(Result<Answer, RuntimeError>) -> Fut + Send + 'static,
    Fut: Future<Output = Option<Event>> + Send,
{
    let id = Uuid::new_v4();
    // Subscribe before asking so that no progress event is missed.
    let mut progress =
        api.runtime.bus().subscribe(&Topic::Request { tenant: ask.tenant.clone(), id }).await.map_err(|e| {
            tracing::error!(error = %e, "the bus could not be subscribed to");
            ApiError::unavailable()
        })?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(64);
    let runtime = api.runtime.clone();
    tokio::spawn(async move {
        let origin = Origin {
            user: Some(&ask.actor),
            channel: ask.channel,
            trace_id: Some(id),
            request_id: ask.request_id.as_deref(),
        };
        let answer = runtime.ask_from(&ask.tenant, &ask.question, &origin);
        tokio::pin!(answer);
        let mut bus_open = true;
        let done = loop {
            tokio::select! {
                event = progress.recv(), if bus_open => match event {
                    Some(event) => {
                        if let Ok(e) = Event::default().event("progress").json_data(&event) {
                            let _ = tx.send(e).await;
                        }
                    }
                    None => bus_open = false,
                },
                done = &mut answer => break done,
            }
        };
        // Events published just before the answer may still be on their way.
        while let Ok(Some(event)) = tokio::time::timeout(std::time::Duration::from_millis(20), progress.recv()).await {
            if let Ok(e) = Event::default().event("progress").json_data(&event) {
                let _ = tx.send(e).await;
            }
        }
        if let Err(e) = &done {
            tracing::error!(error = %e, "ask failed");
        }
        if let Some(e) = last(done).await {
            let _ = tx.send(e).await;
        }
    });
    Ok(event_stream(rx))
}

/// The events a task sends, as a Server-Sent Events response (kept alive while idle); it ends when
/// the task drops its sender.
pub(crate) fn event_stream(
    rx: tokio::sync::mpsc::Receiver<Event>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
