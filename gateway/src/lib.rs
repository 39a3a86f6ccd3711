//! HTTP: everything outside the process reaches Fluxion through here.
//!
//! - `/healthz` (the process is alive) and `/readyz` (every configured backend answers);
//! - `/api/v1/…`, the REST API ([`api`]): authentication ([`auth`]), tenant isolation, rate limits,
//!   its OpenAPI document at `/api/v1/openapi.json` and docs page at `/api/v1/docs/`;
//! - `/metrics`, Prometheus text ([`metrics`]);
//! - the web dashboard's pages (`/ingresar`, `/resumen`, `/agentes`, `/alertas`, `/pronosticos`,
//!   `/pedidos`, `/conectores`, `/trazas`), server-rendered in Spanish ([`dashboard`]).
//!
//! The server takes its shutdown signal as a parameter ([`CancellationToken`]): it stops accepting
//! connections when the token is cancelled and finishes the requests in flight.
//!
//! **API boundary:** every error leaves as `{"error":{"code":"…","message":"…"}}` with a stable
//! code and a message in Spanish and English ([`error`]); a panic in a handler becomes that body
//! with a 500, never a dropped connection.

pub mod api;
pub mod auth;
pub mod chart;
pub mod dashboard;
pub mod error;
pub mod metrics;
pub mod whatsapp;

pub use api::{Api, HttpLimits, RateLimits};
pub use auth::AuthConfig;
pub use dashboard::DashboardConfig;
pub use error::ApiError;
pub use metrics::MetricsSource;
pub use whatsapp::{GraphConfig, WhatsAppConfig};

use async_trait::async_trait;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The state of one backend as `/readyz` reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BackendStatus {
    /// "store", "redis" …
    pub name: String,
    /// Which implementation ("sqlite", "postgres", "redis").
    pub kind: String,
    /// Whether it answered.
    pub ready: bool,
    /// How long the check took.
    pub latency_ms: u64,
    /// Why it is not ready (never contains secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Something `/readyz` checks. The binary implements it for each configured backend.
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// Name shown in the report.
    fn name(&self) -> &str;
    /// Implementation shown in the report.
    fn kind(&self) -> &str;
    /// Checks the backend; the error text is shown to operators.
    async fn check(&self) -> Result<(), String>;
}

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct AppState {
    checks: Arc<Vec<Box<dyn ReadinessCheck>>>,
    check_timeout: Duration,
    api: Option<api::ApiState>,
    metrics: Option<Arc<dyn MetricsSource>>,
    whatsapp: Option<Arc<whatsapp::WhatsApp>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("checks", &self.checks.len()).finish()
    }
}

impl AppState {
    /// State with the given readiness checks, each bounded by `check_timeout`.
    pub fn new(checks: Vec<Box<dyn ReadinessCheck>>, check_timeout: Duration) -> Self {
        Self { checks: Arc::new(checks), check_timeout, api: None, metrics: None, whatsapp: None }
    }

    /// Serves the REST API too.
    pub fn with_api(mut self, api: Api) -> Self {
        self.api = Some(Arc::new(api));
        self
    }

    /// Serves `/metrics`, asking `source` for the gauges it knows (queue depth, freshness …) on
    /// every scrape.
    pub fn with_metrics(mut self, source: Arc<dyn MetricsSource>) -> Self {
        self.metrics = Some(source);
        self
    }

    /// Serves the WhatsApp webhook (`/webhooks/whatsapp`).
    pub fn with_whatsapp(mut self, whatsapp: Arc<whatsapp::WhatsApp>) -> Self {
        self.whatsapp = Some(whatsapp);
        self
    }

    /// Runs every check concurrently.
    pub async fn readiness(&self) -> Vec<BackendStatus> {
        let runs = self.checks.iter().map(|c| async move {
            let started = Instant::now();
            let outcome = match tokio::time::timeout(self.check_timeout, c.check()).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {} ms", self.check_timeout.as_millis())),
            };
            BackendStatus {
                name: c.name().to_owned(),
                kind: c.kind().to_owned(),
                ready: outcome.is_ok(),
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                error: outcome.err(),
            }
        });
        futures_util::future::join_all(runs).await
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION") })
}

#[derive(Serialize)]
struct Ready {
    status: &'static str,
    backends: Vec<BackendStatus>,
}

async fn readyz(State(state): State<AppState>) -> Response {
    let backends = state.readiness().await;
    let ready = backends.iter().all(|b| b.ready);
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Ready { status: if ready { "ready" } else { "not_ready" }, backends })).into_response()
}

async fn fallback() -> ApiError {
    ApiError::route_not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Esa ruta no admite este método.",
        "This route does not allow this method.",
    )
}

/// Turns a panic in a handler into the error body (500), logged.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = what, "a handler panicked");
    ApiError::internal().into_response()
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let mut app: Router =
        Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(state.clone());
    let mut cors = Vec::new();
    if let Some(api) = &state.api {
        let (routes, doc) = api::routes(api.clone());
        app = app.merge(routes).merge(api::openapi::docs(doc));
        if api.dashboard.enabled {
            app = app.merge(dashboard::routes(api.clone()));
        }
        cors = api.http.cors_origins.clone();
    }
    if let Some(wa) = &state.whatsapp {
        app = app.merge(wa.routes());
    }
    if let Some(source) = &state.metrics {
        app = app.merge(metrics::routes(source.clone()));
    }
    let app = app.fallback(fallback).method_not_allowed_fallback(method_not_allowed);
    api::hygiene(app, &cors).layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
}

/// Cancelled when the server shuts down: long-lived responses (event streams) end with it, so that
/// a browser left open never holds a shutdown.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(pub CancellationToken);

/// Serves until `shutdown` is cancelled, then lets requests in flight finish (event streams end).
pub async fn serve(listener: TcpListener, state: AppState, shutdown: CancellationToken) -> std::io::Result<()> {
    let app = router(state).layer(axum::Extension(Shutdown(shutdown.clone())));
    axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    struct Fixed(Result<(), String>);

    #[async_trait]
    impl ReadinessCheck for Fixed {
        fn name(&self) -> &str {
            "store"
        }
        fn kind(&self) -> &str {
            "test"
        }
        async fn check(&self) -> Result<(), String> {
            self.0.clone()
        }
    }

    async fn get_json(app: Router, path: &str) -> (StatusCode, serde_json::Value) {
        let resp =
            app.oneshot(Request::get(path).body(Body::empty()).expect("valid request")).await.expect("infallible");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).expect("json body"))
    }

    #[tokio::test]
    async fn readyz_is_503_when_a_backend_fails() {
        let state =
            AppState::new(vec![Box::new(Fixed(Ok(()))), Box::new(Fixed(Err("down".into())))], Duration::from_secs(1));
        let (status, body) = get_json(router(state), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "not_ready");
        assert_eq!(body["backends"][1]["error"], "down");
    }

    #[tokio::test]
    async fn readyz_is_200_when_all_backends_answer() {
        let state = AppState::new(vec![Box::new(Fixed(Ok(())))], Duration::from_secs(1));
        let (status, body) = get_json(router(state), "/readyz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ready");
    }

    #[tokio::test]
    async fn unknown_routes_get_the_bilingual_error_body() {
        let state = AppState::new(vec![], Duration::from_secs(1));
        let (status, body) = get_json(router(state), "/nada").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");
        assert!(body["error"]["message"].is_string());
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("No existe") && m.contains("no such")));
    }
}
