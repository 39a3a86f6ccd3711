//! End to end: the real binary serves `/healthz` and `/readyz` over each backend and stops gracefully.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

/// A small demo so that debug builds load it in seconds.
fn small_demo(cmd: &mut std::process::Command) {
    cmd.env("FLUXION_DEMO__STORES", "2").env("FLUXION_DEMO__PRODUCTS", "20").env("FLUXION_DEMO__DAYS", "90");
}

#[tokio::test]
async fn serve_demo_becomes_ready_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fluxion(dir.path());
    small_demo(&mut cmd);
    let server = Server::start(cmd, &["--demo"]);
    let (status, health) = server.get("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = server.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["backends"][0]["kind"], "sqlite");
    let (status, missing) = server.get("/api/v1/nada").await;
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("not_found")));
    let (clean, log) = server.stop();
    assert!(clean, "SIGTERM must end the server with exit code 0");
    assert!(log.iter().any(|l| l.contains("stopped")), "graceful shutdown is logged: {log:?}");

    // The demo tenant holds data, and a second `serve --demo` does not load it again.
    let out = run(fluxion(dir.path()).args(["--json", "tenants", "list"]));
    let tenants: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tenants[0]["slug"], "demo");
    assert!(tenants[0]["counts"]["sales"].as_u64().unwrap() > 1_000);
    let mut cmd = fluxion(dir.path());
    small_demo(&mut cmd);
    let server = Server::start(cmd, &["--demo"]);
    let (status, _) = server.get("/readyz").await;
    assert_eq!(status, 200);
    let (_, log) = server.stop();
    assert!(log.iter().all(|l| !l.contains("demo chain generated")), "the demo is loaded once");
}

#[tokio::test]
async fn readyz_is_503_while_a_configured_redis_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fluxion(dir.path());
    cmd.env("FLUXION_REDIS__URL", "redis://127.0.0.1:1/0").env("FLUXION_SERVER__READINESS_TIMEOUT_SECONDS", "2");
    let server = Server::start(cmd, &[]);
    let (status, ready) = server.get("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "not_ready");
    let redis = ready["backends"].as_array().unwrap().iter().find(|b| b["name"] == "redis").unwrap().clone();
    assert_eq!(redis["ready"], false);
    assert!(!redis["error"].as_str().unwrap().is_empty());
    server.stop();
}

#[tokio::test]
async fn readyz_checks_a_real_redis() {
    let Some(url) = service_url("FLUXION_TEST_REDIS_URL") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fluxion(dir.path());
    cmd.env("FLUXION_REDIS__URL", &url);
    let server = Server::start(cmd, &[]);
    let (status, ready) = server.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let names: Vec<_> =
        ready["backends"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, vec!["store", "redis"]);
    server.stop();
}

#[tokio::test]
async fn serve_demo_on_postgres_becomes_ready() {
    let Some(db) = TestDatabase::create().await else { return };
    let url = db.url.clone();

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fluxion(dir.path());
    small_demo(&mut cmd);
    cmd.env("FLUXION_DATABASE__URL", &url);
    let server = Server::start(cmd, &["--demo"]);
    let (status, ready) = server.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["backends"][0]["kind"], "postgres");
    let (clean, _) = server.stop();
    assert!(clean);
    assert!(!dir.path().join("control.db").exists(), "with a database URL nothing is written to the data folder");

    db.drop_now().await;
}
