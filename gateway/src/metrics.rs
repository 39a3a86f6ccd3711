//! `/metrics` in Prometheus text. Everything in the process records through the `metrics` facade
//! (requests by route and status here, agent calls and language-model tokens in the orchestrator);
//! gauges only the binary can read (job queue depth, data freshness) come from a [`MetricsSource`]
//! asked at every scrape.

use async_trait::async_trait;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};

/// Latency buckets, seconds.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Gauges read at scrape time.
#[async_trait]
pub trait MetricsSource: Send + Sync {
    /// Sets the gauges it knows (through the `metrics` macros).
    async fn collect(&self);
}

/// The process-wide recorder (installed once; later calls return the same handle).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            if ::metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder was installed first; /metrics will be empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    ::metrics::describe_counter!("fluxion_http_requests_total", "HTTP requests by method, route and status");
    ::metrics::describe_histogram!(
        "fluxion_http_request_duration_seconds",
        ::metrics::Unit::Seconds,
        "HTTP request latency by method and route"
    );
    ::metrics::describe_counter!("fluxion_rate_limited_total", "Requests refused by a rate limit");
    ::metrics::describe_histogram!(
        "fluxion_agent_call_seconds",
        ::metrics::Unit::Seconds,
        "Agent call latency by agent and outcome"
    );
    ::metrics::describe_counter!("fluxion_agent_failures_total", "Agent calls that failed or timed out");
    ::metrics::describe_counter!("fluxion_llm_tokens_total", "Language-model tokens spent, by tenant");
    ::metrics::describe_gauge!("fluxion_job_queue_depth", "Jobs waiting in the queue");
    ::metrics::describe_gauge!("fluxion_sync_age_seconds", "Seconds since a tenant's last successful ingest");
    ::metrics::describe_counter!("fluxion_alert_feedback_total", "Feedback on alerts, by kind and verdict");
}

pub(crate) fn routes<S: Clone + Send + Sync + 'static>(source: Arc<dyn MetricsSource>) -> Router<S> {
    let handle = handle();
    Router::new().route(
        "/metrics",
        get(move || {
            let (handle, source) = (handle.clone(), source.clone());
            async move {
                source.collect().await;
                let mut response: Response = handle.render().into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
                response
            }
        }),
    )
}
