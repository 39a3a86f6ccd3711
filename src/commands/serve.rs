//! `fluxion serve`: the HTTP server, with the demo loaded first when asked.

use crate::app::{RedisCheck, StoreCheck};
use crate::cli::{DemoArgs, ServeArgs};
use crate::settings::Settings;
use anyhow::Context;
use fluxion_gateway::{AppState, ReadinessCheck};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn run(mut settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(port) = args.port {
        settings.server.port = port;
    }
    if let Some(host) = args.host {
        settings.server.host = host;
    }
    let store = crate::app::open_store(&settings).await?;
    if args.demo {
        let demo = DemoArgs {
            tenant: "demo".into(),
            seed: None,
            stores: None,
            products: None,
            days: None,
            end: None,
            reload: false,
        };
        super::demo::load(&settings, &*store, &demo, false).await?;
    }

    let mut checks: Vec<Box<dyn ReadinessCheck>> = vec![Box::new(StoreCheck(store.clone()))];
    if let Some(url) = settings.redis_url() {
        checks.push(Box::new(RedisCheck::new(url)));
    }
    let address = format!("{}:{}", settings.server.host, settings.server.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| crate::bad_input(format!("cannot listen on {address}: {e}")))?;
    let local = listener.local_addr().context("listener address")?;
    tracing::info!(address = %local, backend = %store.backend(), "listening on http://{local}");

    // The agents, the job workers and the scheduler of periodic jobs.
    let runtime = crate::app::start_runtime(&settings, store.clone()).await?;
    let queue = crate::app::open_queue(&settings).await?;
    let background = CancellationToken::new();
    let runner = fluxion_orchestrator::JobRunner::new(runtime.clone(), store.clone());
    let mut tasks = Vec::new();
    for k in 0..settings.jobs.workers {
        let name = format!("{}-{}-{k}", hostname(), std::process::id());
        tasks.push(runner.spawn_worker(queue.clone(), name, background.clone()));
    }
    let schedule = fluxion_orchestrator::Schedule {
        refresh_hour: settings.jobs.refresh_hour,
        optimize_weekday: settings.jobs.optimize_weekday,
        tick: Duration::from_secs(settings.jobs.tick_seconds),
    };
    tasks.push(fluxion_orchestrator::spawn_scheduler(store.clone(), queue.clone(), schedule, background.clone()));
    tracing::info!(
        bus = runtime.bus().kind(),
        queue = queue.kind(),
        workers = settings.jobs.workers,
        "agents and jobs running"
    );

    let api = crate::app::open_api(&settings, store.clone(), runtime.clone())?;
    tracing::info!(rate_limits = api.limiter.kind(), "API v1 at http://{local}/api/v1 (docs: /api/v1/docs/)");
    if api.dashboard.enabled {
        tracing::info!("dashboard at http://{local}/ (log in with a user's email and password)");
    }
    let gauges = crate::app::Gauges { store: store.clone(), queue: queue.clone() };
    let mut state = AppState::new(checks, Duration::from_secs(settings.server.readiness_timeout_seconds.max(1)))
        .with_api(api)
        .with_metrics(std::sync::Arc::new(gauges));
    if settings.whatsapp.enabled() {
        let wa = fluxion_gateway::whatsapp::WhatsApp::new(settings.whatsapp.config(), store.clone(), runtime.clone())
            .map_err(|e| anyhow::anyhow!("WhatsApp: {e}"))?;
        tasks.extend(wa.start(&background));
        tracing::info!(workers = settings.whatsapp.workers, "WhatsApp webhook at http://{local}/webhooks/whatsapp");
        state = state.with_whatsapp(wa);
    } else {
        tracing::info!("WhatsApp is off (set whatsapp.verify_token, app_secret, access_token and phone_number_id)");
    }
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(fluxion_gateway::serve(listener, state, shutdown.clone()));
    wait_for_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    shutdown.cancel();
    background.cancel();
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    runtime.shutdown().await;
    let grace = Duration::from_secs(settings.server.shutdown_grace_seconds);
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined.context("server task")?.context("server")?,
        Err(_) => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still in flight after the grace period; stopping")
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// This machine's name, for naming job workers (several processes share one queue).
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "fluxion".into())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what Kubernetes and systemd send).
async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
