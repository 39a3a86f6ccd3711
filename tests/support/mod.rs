//! Running the real `fluxion` binary: commands, and a server on port 0.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Whether tests that need PostgreSQL or Redis must fail (rather than skip) when the service is not configured.
pub fn services_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
        || std::env::var("FLUXION_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The URL in `var`, or `None` (after saying so) when unset and not required.
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if services_required() => panic!("{var} must be set: this service's tests are mandatory here"),
        _ => {
            eprintln!("{var} not set: skipping");
            None
        }
    }
}

/// The binary, with a data folder, logging as plain text.
pub fn fluxion(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fluxion"));
    cmd.arg("--data-dir").arg(data_dir).env("FLUXION_TELEMETRY__FORMAT", "human").env_remove("RUST_LOG");
    cmd
}

/// Runs a command to completion with no input.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `fluxion serve`.
pub struct Server {
    child: Child,
    pub base: String,
    stderr: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `fluxion serve --port 0 <args>` and waits (up to 3 minutes) for its address.
    // The child is waited for in `stop` or killed and reaped in `Drop`.
    #[allow(clippy::zombie_processes)]
    pub fn start(mut cmd: Command, args: &[&str]) -> Server {
        cmd.arg("serve").arg("--port").arg("0").args(args);
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[server] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(180);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find("listening on http://") {
                        let addr = line[at + "listening on ".len()..].split_whitespace().next().unwrap().to_owned();
                        return Server { child, base: addr, stderr: rx };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("the server did not report its address in time");
                }
            }
        }
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        // The product's HTTP client (rustls with the ring provider installed).
        let client = fluxion_memory::http_client(std::time::Duration::from_secs(30)).unwrap();
        let resp = client.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap())
    }

    /// Sends SIGTERM and returns whether the process exited successfully within 30 s, and its log.
    pub fn stop(mut self) -> (bool, Vec<String>) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log: Vec<String> = self.stderr.try_iter().collect();
                return (status.success(), log);
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                return (false, vec![]);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh PostgreSQL database for one test, dropped by [`TestDatabase::drop_now`]; `None` (skip)
/// when `FLUXION_TEST_DATABASE_URL` is unset and services are not required.
pub struct TestDatabase {
    admin: sqlx::PgConnection,
    name: String,
    /// The URL of the fresh database.
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Option<TestDatabase> {
        use sqlx::Connection;
        let admin_url = service_url("FLUXION_TEST_DATABASE_URL")?;
        let name = format!("fluxion_e2e_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
        let base = admin_url.split('?').next().unwrap();
        let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
        Some(TestDatabase { admin, name, url })
    }

    /// Drops the database, closing whatever still uses it.
    pub async fn drop_now(mut self) {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut self.admin)
            .await
            .unwrap();
    }
}
