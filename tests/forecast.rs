//! End to end: `fluxion forecast eval` on files, `fluxion forecast run` on a tenant, the forecast
//! view in Spanish, and clear errors (exit 2) on bad input.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

/// A small M5-format file: 12 items of one store, 200 days, weekly shape, some intermittent.
fn m5_file(dir: &std::path::Path) -> String {
    let mut body = String::from("id,store,item,date,qty\n");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for item in 0..12u32 {
        for d in 0..200u32 {
            let day = start + chrono::Days::new(u64::from(d));
            let weekly = [3, 2, 2, 3, 4, 6, 5][(d % 7) as usize];
            let qty = if item % 3 == 0 { u32::from((d * 7 + item) % 5 == 0) } else { weekly + (d * 31 + item * 7) % 4 };
            body.push_str(&format!("FOODS_{item}_TX_1,TX_1,FOODS_{item},{day},{qty}\n"));
        }
    }
    let path = dir.join("m5_small.csv");
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

#[test]
fn eval_prints_one_object_per_model_with_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let file = m5_file(dir.path());
    let out = run(fluxion(dir.path()).args([
        "--json",
        "forecast",
        "eval",
        "--data",
        &file,
        "--horizon",
        "14",
        "--origins",
        "2",
        "--models",
        "tsb,seasonal_naive",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let models: Vec<&str> = lines.as_array().unwrap().iter().map(|l| l["model"].as_str().unwrap()).collect();
    assert_eq!(models, vec!["tsb", "seasonal_naive", "fluxion"]);
    for l in lines.as_array().unwrap() {
        for field in ["mase", "rmsse", "bias_pct", "seconds_per_series"] {
            assert!(l[field].as_f64().unwrap().is_finite(), "{field} in {l}");
        }
        assert_eq!(l["series_scored"], 24, "12 series × 2 origins");
    }
    let auto = &lines[2];
    let coverage = auto["coverage_p10_p90"].as_f64().unwrap();
    assert!((0.3..=1.0).contains(&coverage), "{coverage}");
    assert!(lines[0]["coverage_p10_p90"].is_null(), "single models have no band");

    // The text table, and moving the origin back with --holdout-end.
    let out = run(fluxion(dir.path()).args([
        "forecast",
        "eval",
        "--data",
        &file,
        "--horizon",
        "7",
        "--holdout-end",
        "2024-06-30",
        "--models",
        "none",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("fluxion") && stdout.contains("RMSSE") && stdout.contains("18 periods dropped"),
        "{stdout}"
    );
}

#[test]
fn eval_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = m5_file(dir.path());
    let cases: [&[&str]; 9] = [
        &["forecast", "eval", "--data", &file, "--drop-last", "18446744073709551615"],
        &["forecast", "eval", "--data", &file, "--drop-last", "190"],
        &["forecast", "eval", "--data", "/no/such/file.csv"],
        &["forecast", "eval", "--data", &file, "--horizon", "0"],
        &["forecast", "eval", "--data", &file, "--horizon", "1000000000"],
        &["forecast", "eval", "--data", &file, "--origins", "100000"],
        &["forecast", "eval", "--data", &file, "--models", "prophet"],
        &["forecast", "eval", "--data", &file, "--holdout-end", "2030-01-01"],
        &["forecast", "eval", "--data", &file, "--holdout-end", "yesterday"],
    ];
    for args in cases {
        let out = run(fluxion(dir.path()).args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
    }
    // A bad line is named by file and line.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,store,item,date,qty\nA,S,P,2024-01-01,3\nA,S,P,2024-13-01,3\n").unwrap();
    let out = run(fluxion(dir.path()).args(["forecast", "eval", "--data", bad.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bad.csv:3"), "{}", text(&out.stderr));
    // A stray date a century away would make a series of 40,000 days: refused, naming the series.
    std::fs::write(&bad, "id,store,item,date,qty\nA,S,P,1901-01-01,3\nA,S,P,2024-01-01,3\n").unwrap();
    let out = run(fluxion(dir.path()).args(["forecast", "eval", "--data", bad.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("S:P") && text(&out.stderr).contains("1901-01-01"), "{}", text(&out.stderr));
}

#[test]
fn a_tenant_is_forecast_stored_and_explained_in_spanish() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(fluxion(dir.path()).args([
        "demo",
        "--stores",
        "2",
        "--products",
        "20",
        "--days",
        "400",
        "--end",
        "2026-06-30",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(fluxion(dir.path()).args(["--json", "forecast", "run", "--tenant", "demo", "--days", "28"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures["series"], 40);
    assert_eq!(figures["stored"], 40);

    // The view of one product (Harina P.A.N., the demo's best seller at Caracas): its quincena lift,
    // its band and its total, numbers the Venezuelan way.
    let (store, product) = ("CCS-01".to_owned(), "HAR-PAN-BLA-1KG".to_owned());
    let out = run(fluxion(dir.path()).args([
        "forecast",
        "--tenant",
        "demo",
        "--store",
        &store,
        "--product",
        &product,
        "--days",
        "15",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("Pronóstico de "), "{stdout}");
    assert!(stdout.contains("Rango (P10–P90)") && stdout.contains("Total:") && stdout.contains("Por qué:"), "{stdout}");
    assert!(stdout.contains("la quincena +"), "the quincena is explained: {stdout}");
    assert_eq!(stdout.lines().filter(|l| l.contains('/') && l.contains('–')).count(), 15, "{stdout}");

    let out = run(fluxion(dir.path()).args([
        "--json",
        "forecast",
        "--tenant",
        "demo",
        "--store",
        &store,
        "--product",
        &product,
    ]));
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = view["forecast"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 15);
    for p in points {
        let (p10, p50, p90) = (p["p10"].as_f64().unwrap(), p["p50"].as_f64().unwrap(), p["p90"].as_f64().unwrap());
        assert!(0.0 <= p10 && p10 <= p50 && p50 <= p90, "{p}");
    }
    assert!(view["total"]["p90"].as_f64().unwrap() >= view["total"]["mean"].as_f64().unwrap());

    // Unknown product, unknown tenant, missing arguments: exit 2 with a message.
    for args in [
        vec!["forecast", "--tenant", "demo", "--store", &store, "--product", "NO-EXISTE"],
        vec!["forecast", "--tenant", "nadie", "--store", &store, "--product", &product],
        vec!["forecast", "--tenant", "demo"],
        vec!["forecast", "--tenant", "demo", "--store", &store, "--product", &product, "--days", "0"],
    ] {
        let out = run(fluxion(dir.path()).args(&args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
    }
}

/// The same whole-tenant run on PostgreSQL: daily demand read back by ids, forecasts stored in the
/// tenant's schema and read by the view.
#[tokio::test]
async fn a_tenant_is_forecast_and_stored_on_postgres() {
    use sqlx::Connection;
    let Some(db) = TestDatabase::create().await else { return };
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let on_pg = |args: &[&str]| run(fluxion(dir.path()).env("FLUXION_DATABASE__URL", &url).args(args));

    let out = on_pg(&["demo", "--stores", "2", "--products", "15", "--days", "200", "--end", "2026-06-30"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = on_pg(&["--json", "forecast", "run", "--tenant", "demo", "--days", "14"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures["series"], 30);
    assert_eq!(figures["stored"], 30);
    let out =
        on_pg(&["forecast", "--tenant", "demo", "--store", "CCS-01", "--product", "HAR-PAN-BLA-1KG", "--days", "7"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("la quincena +"), "{}", text(&out.stdout));
    let stored: i64 = {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM t_demo.forecasts").fetch_one(&mut conn).await.unwrap()
    };
    assert_eq!(stored, 30);
    db.drop_now().await;
}
