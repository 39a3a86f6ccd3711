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
    let state = AppState::new(checks, Duration::from_secs(settings.server.readiness_timeout_seconds.max(1)));

    let address = format!("{}:{}", settings.server.host, settings.server.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| crate::bad_input(format!("cannot listen on {address}: {e}")))?;
    let local = listener.local_addr().context("listener address")?;
    tracing::info!(address = %local, backend = %store.backend(), "listening on http://{local}");

    let shutdown = CancellationToken::new();
    let server = tokio::spawn(fluxion_gateway::serve(listener, state, shutdown.clone()));
    wait_for_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    shutdown.cancel();
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
