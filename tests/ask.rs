//! End to end: `fluxion ask` through the whole runtime on a small demo tenant, its JSON, the trace
//! it leaves (`fluxion traces list|show`), and clear errors (exit 2) on bad input.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

#[test]
fn ask_answers_in_spanish_with_every_agents_part_and_leaves_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(fluxion(dir.path()).args(["demo", "--stores", "2", "--products", "30", "--days", "200"]));
    assert!(out.status.success(), "{}", text(&out.stderr));

    let question = "¿Cuánta harina PAN necesito para la quincena?";
    let out = run(fluxion(dir.path()).args(["--json", "ask", "--tenant", "demo", question]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["intent"]["kind"], "need");
    assert_eq!(answer["horizon_days"], 15);
    assert_eq!(answer["degraded"], false);
    let agents: Vec<&str> = answer["agents"].as_array().unwrap().iter().map(|a| a["agent"].as_str().unwrap()).collect();
    assert_eq!(agents, ["chat", "forecast", "alert", "optimizer"]);
    assert!(answer["agents"].as_array().unwrap().iter().all(|a| a["status"] == "ok"), "{}", answer["agents"]);
    let figures = answer["figures"].as_array().unwrap();
    assert!(!figures.is_empty());
    let text_es = answer["text_es"].as_str().unwrap();
    assert!(text_es.starts_with("Para la quincena (15 días desde mañana) necesitas ~"), "{text_es}");
    let id = answer["trace_id"].as_str().unwrap().to_owned();

    // The plain output prints the answer and how to open its trace.
    let out = run(fluxion(dir.path()).args(["ask", "--tenant", "demo", "¿Qué se me va a agotar?"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("Agentes: chat") && shown.contains("fluxion traces show --tenant demo"), "{shown}");

    let out = run(fluxion(dir.path()).args(["--json", "traces", "list", "--tenant", "demo"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(list.as_array().unwrap().iter().any(|t| t["id"] == id.as_str() && t["channel"] == "cli"));
    let out = run(fluxion(dir.path()).args(["traces", "show", "--tenant", "demo", &id]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tree = text(&out.stdout);
    for line in [
        "request ",
        "  understand [chat]",
        "  forecast [forecast]",
        "  alert [alert]",
        "  optimizer [optimizer]",
        "  compose [chat]",
    ] {
        assert!(tree.contains(line), "{line:?} missing from\n{tree}");
    }
    assert!(tree.contains(question));

    // Bad input: a clear message and exit code 2.
    for args in [
        vec!["ask", "--tenant", "demo", "   "],
        vec!["ask", "--tenant", "nadie", "hola"],
        vec!["traces", "show", "--tenant", "demo", "not-a-uuid"],
        vec!["traces", "show", "--tenant", "demo", "00000000-0000-4000-8000-000000000000"],
        vec!["traces", "list", "--tenant", "demo", "--status", "bogus"],
    ] {
        let out = run(fluxion(dir.path()).args(&args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
    }
}
