//! The dashboard in a real browser: `gateway/tests/browser/dashboard.mjs` drives Debian's Chromium
//! (npm's playwright-core, axe-core for accessibility) against a real server over the demo tenants:
//! log in, watch a new alert arrive live, ask and watch the agents, approve a transfer (once, however
//! often clicked), open the trace's waterfall, open a forecast chart, every page without serious
//! accessibility violations, a phone's viewport, a viewer, and reading without JavaScript.
//! Screenshots go to `<target>/tmp/dashboard-screenshots/`.
//!
//! Needs `node`, `/usr/bin/chromium` and `npm ci` in `gateway/tests/browser/`: skipped (with a note)
//! when they are missing, unless services are required (CI), where it fails.
#![allow(clippy::unwrap_used)]

mod support;

use fluxion_memory::{Job, JobKind};
use fluxion_orchestrator::JobRunner;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use support::{Backends, Options, PASSWORD, Server, email, slug};

fn chromium() -> PathBuf {
    std::env::var_os("FLUXION_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Why the browser test cannot run here, if it cannot.
fn missing(dir: &Path) -> Option<String> {
    if std::process::Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !chromium().exists() {
        return Some(format!("{} is missing (Debian package chromium)", chromium().display()));
    }
    for module in ["playwright-core", "axe-core"] {
        if !dir.join("node_modules").join(module).exists() {
            return Some(format!("{module} is missing: run `npm ci` in {}", dir.display()));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_a_real_browser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if let Some(why) = missing(&dir) {
        assert!(!support::services_required(), "the browser test must run here: {why}");
        eprintln!("skipping the browser test: {why}");
        return;
    }
    // Tenant A: a transfer to approve, and its alerts not scanned yet (the first scan raises them live).
    let options = Options { imbalance: true, scan_a: false, ..Options::default() };
    let s = Server::start(Backends::Embedded, options).await.unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    let mut node = std::process::Command::new("node")
        .arg(dir.join("dashboard.mjs"))
        .current_dir(&dir)
        .env("FLUXION_BASE", &s.base)
        .env("FLUXION_OWNER", email("owner", s.tenant_a()))
        .env("FLUXION_VIEWER", email("viewer", s.tenant_a()))
        .env("FLUXION_PASSWORD", PASSWORD)
        .env("FLUXION_SHOTS", &shots)
        .env("FLUXION_CHROMIUM", chromium())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = node.stdin.take().unwrap();
    let stdout = node.stdout.take().unwrap();
    let mut stderr = node.stderr.take().unwrap();
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let runner = JobRunner::new(s.runtime.clone(), s.store.clone());
    let mut log = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let line = match tokio::time::timeout_at(deadline, lines.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(_) => {
                let _ = node.kill();
                panic!("the browser test did not finish within 5 minutes:\n{}", log.join("\n"));
            }
        };
        println!("browser: {line}");
        if line == "WAIT alerts" {
            let job = Job {
                id: "scan-a".into(),
                tenant: slug(s.tenant_a()),
                kind: JobKind::ScanAlerts,
                key: format!("scan_alerts:{}", s.tenant_a()),
                attempt: 1,
            };
            let outcome = runner.run(&job).await.unwrap();
            println!("harness: {}", outcome.summary);
            stdin.write_all(b"GO\n").unwrap();
            stdin.flush().unwrap();
        }
        log.push(line);
    }
    let status = node.wait().unwrap();
    let stderr = errors.join().unwrap();
    assert!(status.success(), "the browser test failed:\n{stderr}\n{}", log.join("\n"));
    assert_eq!(log.last().map(String::as_str), Some("DONE"), "{}", log.join("\n"));
    for name in [
        "01-ingresar",
        "02-alertas-en-vivo",
        "03-resumen",
        "04-agentes",
        "06-pedidos-aprobada",
        "07-traza",
        "09-pronosticos",
    ] {
        let file = shots.join(format!("{name}.png"));
        let bytes = std::fs::read(&file).unwrap_or_else(|_| panic!("a screenshot {}", file.display()));
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
    println!("screenshots in {}", shots.display());
    s.stop().await;
}
