//! End to end: the command line's outputs, JSON mode and exit codes (0 ok, 2 bad input, 1 failure).
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

#[test]
fn tenants_are_created_and_listed_and_bad_slugs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(fluxion(dir.path()).args(["--json", "tenants", "create", "cadena_x", "--name", "Cadena X"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["slug"], "cadena_x");

    let out = run(fluxion(dir.path()).args(["tenants", "create", "cadena_x"]));
    assert_eq!(out.status.code(), Some(2), "a taken slug is bad input");
    assert!(text(&out.stderr).contains("already exists"));

    let out = run(fluxion(dir.path()).args(["tenants", "create", "Cadena-X"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("tenant slug"), "{}", text(&out.stderr));

    let out = run(fluxion(dir.path()).args(["--json", "tenants", "list"]));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "Cadena X");

    let out = run(fluxion(dir.path()).args(["tenants", "bogus"]));
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn whatsapp_numbers_are_registered_per_user() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(fluxion(dir.path()).args(["tenants", "create", "cadena_x"])).status.success());
    for email in ["gerente@x.com", "otra@x.com"] {
        let out = run(fluxion(dir.path())
            .args(["users", "add", "--tenant", "cadena_x", "--email", email, "--role", "manager"])
            .env("FLUXION_NEW_PASSWORD", "una-clave-larga-123"));
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let out =
        run(fluxion(dir.path()).args(["users", "whatsapp", "--email", "gerente@x.com", "--phone", "0414-1234567"]));
    assert_eq!(out.status.code(), Some(2), "a number without its country code");
    assert!(text(&out.stderr).contains("--phone"), "{}", text(&out.stderr));
    let out =
        run(fluxion(dir.path()).args(["users", "whatsapp", "--email", "gerente@x.com", "--phone", "+58 414-123 4567"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(fluxion(dir.path()).args(["users", "whatsapp", "--email", "otra@x.com", "--phone", "584141234567"]));
    assert_eq!(out.status.code(), Some(2), "another user's number");
    assert!(text(&out.stderr).contains("already another user's number"), "{}", text(&out.stderr));
    let out = run(fluxion(dir.path()).args([
        "users",
        "whatsapp",
        "--email",
        "otra@x.com",
        "--phone",
        "584149990000",
        "--stores",
        "NO-EXISTE",
    ]));
    assert_eq!(out.status.code(), Some(2), "an unknown store");
    let out = run(fluxion(dir.path()).args(["--json", "users", "list", "--tenant", "cadena_x"]));
    let users: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gerente = users.as_array().unwrap().iter().find(|u| u["email"] == "gerente@x.com").unwrap();
    assert_eq!(gerente["whatsapp"], "584141234567");
    assert_eq!(gerente["whatsapp_alerts"], true);
    let out = run(fluxion(dir.path()).args(["users", "whatsapp", "--email", "gerente@x.com", "--remove"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(fluxion(dir.path()).args(["--json", "users", "list", "--tenant", "cadena_x"]));
    let users: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(users.as_array().unwrap().iter().all(|u| u["whatsapp"].is_null()));
}

#[test]
fn config_shows_environment_overrides_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(fluxion(dir.path())
        .args(["--json", "config"])
        .env("FLUXION_SERVER__PORT", "9191")
        .env("FLUXION_DATABASE__URL", "postgres://app:muysecreta@db.example:5432/fluxion")
        .env("FLUXION_DATABASE__APP_PASSWORD", "otrasecreta"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("muysecreta") && !stdout.contains("otrasecreta"), "{stdout}");
    let cfg: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(cfg["server"]["port"], 9191);
    assert_eq!(cfg["database"]["url"], "postgres://app:[redacted]@db.example:5432/fluxion");
    assert_eq!(cfg["database"]["app_password"], "[redacted]");
    assert_eq!(cfg["data_dir"], dir.path().display().to_string(), "--data-dir wins over the default");

    let out = run(fluxion(dir.path()).args(["config"]).env("FLUXION_SERVER__PORT", "not-a-port"));
    assert_eq!(out.status.code(), Some(2), "a bad setting is bad input: {}", text(&out.stderr));

    let out = run(fluxion(dir.path()).args(["--config", "/no/such/file.toml", "config"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/no/such/file.toml"));

    // The language model's, the embeddings' and Qdrant's keys are secrets too.
    let out = run(fluxion(dir.path())
        .args(["--json", "config"])
        .env("FLUXION_LLM__BASE_URL", "http://127.0.0.1:11434/v1")
        .env("FLUXION_LLM__MODEL", "llama3.1:8b")
        .env("FLUXION_LLM__API_KEY", "sk-muysecreta")
        .env("FLUXION_EMBEDDINGS__API_KEY", "sk-otrasecreta")
        .env("FLUXION_VECTORS__QDRANT_API_KEY", "qd-secreta"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("secreta"), "{stdout}");
    let cfg: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(cfg["llm"]["model"], "llama3.1:8b");
    assert_eq!(cfg["llm"]["api_key"], "[redacted]");
    assert_eq!(cfg["vectors"]["backend"], "edge", "Qdrant's embedded engine is the embedded default");

    // WhatsApp's verify token, app secret and access token too.
    let out = run(fluxion(dir.path())
        .args(["--json", "config"])
        .env("FLUXION_WHATSAPP__VERIFY_TOKEN", "verify-secreta")
        .env("FLUXION_WHATSAPP__APP_SECRET", "app-secreta")
        .env("FLUXION_WHATSAPP__ACCESS_TOKEN", "token-secreta")
        .env("FLUXION_WHATSAPP__PHONE_NUMBER_ID", "106540352242922"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("secreta"), "{stdout}");
    let cfg: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(cfg["whatsapp"]["app_secret"], "[redacted]");
    assert_eq!(cfg["whatsapp"]["phone_number_id"], "106540352242922");
    assert_eq!(cfg["whatsapp"]["alerts"]["min_severity"], "warning");
    let out = run(fluxion(dir.path()).args(["config"]).env("FLUXION_WHATSAPP__ALERTS__QUIET_FROM_HOUR", "25"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("whatsapp.alerts"), "{}", text(&out.stderr));

    // The token signing secret, the administrator's token and the demo password too.
    let out = run(fluxion(dir.path())
        .args(["--json", "config"])
        .env("FLUXION_AUTH__JWT_SECRET", "una-firma-muysecreta-de-32-bytes-o-mas")
        .env("FLUXION_AUTH__ADMIN_TOKEN", "admin-muysecreto-0123456789"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("muysecret") && !stdout.contains("fluxion-demo-2026"), "{stdout}");
    let cfg: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(cfg["auth"]["jwt_secret"], "[redacted]");
    assert_eq!(cfg["api"]["rate_limits"]["tiers"]["standard"]["per_minute"], 1200);
    // Short secrets and unknown tiers are bad input naming the setting.
    for (key, value, says) in [
        ("FLUXION_AUTH__JWT_SECRET", "corta", "auth.jwt_secret"),
        ("FLUXION_AUTH__ADMIN_TOKEN", "corto", "auth.admin_token"),
        ("FLUXION_API__RATE_LIMITS__DEFAULT_TIER", "oro", "api.rate_limits.default_tier"),
    ] {
        let out = run(fluxion(dir.path()).args(["config"]).env(key, value));
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{key}: {}", text(&out.stderr));
    }

    // A model endpoint without a model, or an unknown vector backend, is bad input that says which.
    for (key, value, says) in [
        ("FLUXION_LLM__BASE_URL", "http://127.0.0.1:11434/v1", "llm.model"),
        ("FLUXION_VECTORS__BACKEND", "pinecone", "vectors"),
        ("FLUXION_VECTORS__BACKEND", "qdrant", "vectors.qdrant_url"),
    ] {
        let out = run(fluxion(dir.path()).args(["config"]).env(key, value));
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{key}={value}: {}", text(&out.stderr));
    }
}

fn write(dir: &std::path::Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

#[test]
fn malformed_csv_names_file_and_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stores = write(dir.path(), "stores.csv", "code,name,city,kind\nCCS-01,Chacao,Caracas,store\n");
    let products = write(dir.path(), "products.csv", "code,name,price,cost\nHAR-1,Harina 1 kg,1.30,0.95\n");
    run(fluxion(&data).args(["tenants", "create", "t"]));
    for (kind, file) in [("locations", &stores), ("products", &products)] {
        let out = run(fluxion(&data).args(["import", kind, file, "--tenant", "t"]));
        assert!(out.status.success(), "{kind}: {}{}", text(&out.stdout), text(&out.stderr));
    }

    let cases = [
        ("wrong_header.csv", "tienda,fecha,cantidad\nCCS-01,2025-01-01,3\n", "product"),
        (
            "bad_number.csv",
            "store,product,date,quantity\nCCS-01,HAR-1,2025-01-01,3\nCCS-01,HAR-1,2025-01-02,tres\n",
            "line 3",
        ),
        ("bad_date.csv", "store,product,date,quantity\nCCS-01,HAR-1,2025-13-01,3\n", "line 2"),
        (
            "unknown_store.csv",
            "store,product,date,quantity\nCCS-01,HAR-1,2025-01-01,3\nVAL-09,HAR-1,2025-01-01,3\n",
            "VAL-09",
        ),
    ];
    for (name, body, expected) in cases {
        let file = write(dir.path(), name, body);
        let out = run(fluxion(&data).args(["import", "sales", &file, "--tenant", "t", "--atomic"]));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{name}: {all}");
        assert!(all.contains(name), "{name}: the message names the file: {all}");
        assert!(all.contains(expected), "{name}: expected {expected:?} in {all}");
        assert!(!all.contains("panicked"), "{all}");
    }
    // --atomic: none of the good rows of the bad files went in.
    let out = run(fluxion(&data).args(["--json", "tenants", "list"]));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["counts"]["sales"], 0);

    // Without --atomic the good rows are kept and the bad ones reported.
    let file = dir.path().join("unknown_store.csv");
    let out = run(fluxion(&data).args(["--json", "import", "sales", file.to_str().unwrap(), "--tenant", "t"]));
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["sales_new"].as_u64(), report["rows_rejected"].as_u64()), (Some(1), Some(1)));
    assert_eq!(report["errors"][0]["line"], 3);
}

#[test]
fn reimporting_a_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let body: String = std::iter::once("date,store,item,sales\n".to_owned())
        .chain((1..=28).flat_map(|d| (1..=3).map(move |i| format!("2017-02-{d:02},1,{i},{}\n", d + i))))
        .collect();
    let file = write(dir.path(), "store_item.csv", &body);
    let import = || {
        let out = run(fluxion(&data).args([
            "--json",
            "import",
            &file,
            "--preset",
            "store-item",
            "--tenant",
            "k",
            "--create-tenant",
        ]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = import();
    assert_eq!((first["sales_new"].as_u64(), first["sales_duplicate"].as_u64()), (Some(84), Some(0)));
    let second = import();
    assert_eq!((second["sales_new"].as_u64(), second["sales_duplicate"].as_u64()), (Some(0), Some(84)));
    let out = run(fluxion(&data).args(["--json", "tenants", "list"]));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["counts"]["sales"], 84);
}

fn sales_count(data: &std::path::Path, tenant: &str) -> u64 {
    let out = run(fluxion(data).args(["--json", "tenants", "list"]));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    listed
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["slug"] == tenant))
        .and_then(|t| t["counts"]["sales"].as_u64())
        .unwrap_or(0)
}

#[test]
fn an_import_killed_midway_leaves_only_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // 50 stores × 100 items × 120 days = 600,000 lines: far more than a debug build imports before the kill.
    let mut body = String::from("date,store,item,sales\n");
    let start = chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
    for d in 0..120 {
        let day = start + chrono::Duration::days(d);
        for s in 1..=50 {
            for i in 1..=100 {
                body.push_str(&format!("{day},{s},{i},{}\n", (d + s + i) % 9));
            }
        }
    }
    let file = write(dir.path(), "big.csv", &body);
    run(fluxion(&data).args(["tenants", "create", "k"]));
    let mut child = fluxion(&data)
        .args(["import", &file, "--preset", "store-item", "--tenant", "k", "--batch-size", "10000"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while sales_count(&data, "k") == 0 {
        assert!(std::time::Instant::now() < deadline, "the import never committed a batch");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let stored = sales_count(&data, "k");
    assert!(stored < 600_000, "the import was killed before the end ({stored} lines)");
    assert_eq!(stored % 10_000, 0, "only whole batches are stored: {stored} lines");

    // Importing again completes the file: the committed batches are recognised as already stored.
    let out = run(fluxion(&data).args(["--json", "import", &file, "--preset", "store-item", "--tenant", "k"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sales_duplicate"].as_u64(), Some(stored));
    assert_eq!(sales_count(&data, "k"), 600_000);
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(fluxion(dir.path())
        .args(["demo", "--stores", "1", "--products", "10", "--days", "60"])
        .env("FLUXION_TELEMETRY__FORMAT", "json"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let logs: Vec<serde_json::Value> =
        text(&out.stderr).lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(logs.iter().any(|l| l["message"] == "demo chain loaded" && l["level"] == "INFO"), "{logs:?}");
}
