//! End to end: `fluxion alerts` and `fluxion simulate` on a small demo tenant, their JSON, and clear
//! errors (exit 2) on bad input.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

fn demo(dir: &std::path::Path) {
    let out = run(fluxion(dir).args(["demo", "--stores", "2", "--products", "30", "--days", "200"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn alerts_and_the_replay_speak_json_and_spanish() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());

    let out = run(fluxion(dir.path()).args(["--json", "alerts", "--tenant", "demo"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let scan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let alerts = scan["alerts"].as_array().unwrap();
    assert!(!alerts.is_empty());
    for a in alerts {
        for field in ["kind", "severity", "store", "impact_usd", "action", "reason_es", "dedup_key", "expires_on"] {
            assert!(!a[field].is_null(), "{field} missing in {a}");
        }
    }
    // The demo's second store went quiet three days before the end.
    assert!(alerts.iter().any(|a| a["kind"] == "stale_data"), "{alerts:?}");
    let out = run(fluxion(dir.path()).args(["alerts", "--tenant", "demo", "--kind", "stale_data"]));
    assert!(out.status.success());
    let shown = text(&out.stdout);
    assert!(shown.contains("Datos desactualizados") && shown.contains("No llegan datos de"), "{shown}");

    // Recommended orders explain themselves; a budget is never exceeded.
    let out = run(fluxion(dir.path()).args(["--json", "recommend", "--tenant", "demo", "--budget", "500"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let recs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let orders = recs["orders"].as_array().unwrap();
    assert!(!orders.is_empty());
    for o in orders {
        assert!(o["explanation_es"].as_str().unwrap().starts_with("Pedir "), "{o}");
        assert!(o["benefit_usd"].as_f64().unwrap() >= 0.0 && o["units"].as_f64().unwrap() > 0.0, "{o}");
    }
    let plan = &recs["budget"];
    assert!(plan["spent_usd"].as_f64().unwrap() <= 500.0, "{plan}");
    let chosen: Vec<usize> = plan["chosen"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let spent: f64 = chosen.iter().map(|&i| orders[i]["value_usd"].as_f64().unwrap()).sum();
    assert!(spent <= 500.0 + 1e-6);
    let out = run(fluxion(dir.path()).args(["recommend", "--tenant", "demo", "--budget", "-5"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = run(fluxion(dir.path())
        .args(["--json", "simulate", "--tenant", "demo", "--policy", "fluxion", "--days", "60", "--warmup", "14"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["policy"], "fluxion");
    assert_eq!(report["days"], 60);
    for field in ["stockout_days", "fill_rate", "lost_sales_usd", "avg_inventory_usd", "expired_units"] {
        assert!(report[field].as_f64().unwrap() >= 0.0, "{field} in {report}");
    }
    for field in ["alert_precision", "alert_recall"] {
        assert!(report.get(field).is_some(), "{field} missing in {report}");
    }
    let out = run(fluxion(dir.path()).args(["simulate", "--tenant", "demo", "--days", "60", "--warmup", "14"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("Política fluxion") && shown.contains("Política minmax"), "{shown}");
    assert!(shown.contains("días de quiebre") && shown.contains("fluxion frente a minmax"), "{shown}");
}

#[test]
fn bad_input_is_refused_with_exit_2_and_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let cases: [(&[&str], &str); 5] = [
        (&["simulate", "--tenant", "demo", "--policy", "guess"], "--policy must be fluxion, minmax or both"),
        (&["simulate", "--tenant", "demo", "--from", "1999-01-01"], "--from must be between"),
        (&["simulate", "--tenant", "demo", "--from", "yesterday"], "--from must be a date"),
        (&["simulate", "--tenant", "demo", "--days", "0"], "--days must be between 1 and 3650"),
        (&["alerts", "--tenant", "demo", "--kind", "fire"], "--kind \"fire\" is not one of"),
    ];
    for (args, message) in cases {
        let out = run(fluxion(dir.path()).args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
    }
}
