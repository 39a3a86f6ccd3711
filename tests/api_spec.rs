//! The served OpenAPI document against the real binary (`fluxion serve --demo`):
//! - it is OpenAPI 3.1, every operation has an id, a tag and an error body for each error status;
//! - every documented operation, called with valid credentials and real ids, answers a documented
//!   status;
//! - `schemathesis` (PyPI; `FLUXION_SCHEMATHESIS` names its executable; mandatory when the services
//!   are, as in CI) generates requests for every operation and checks that no answer is a server
//!   error and that every status, content type and body matches the document.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::*;

const ADMIN: &str = "admin-token-of-the-spec-test-0123";

fn demo_server(dir: &std::path::Path) -> Server {
    let mut cmd = fluxion(dir);
    cmd.env("FLUXION_DEMO__STORES", "2")
        .env("FLUXION_DEMO__PRODUCTS", "20")
        .env("FLUXION_DEMO__DAYS", "120")
        .env("FLUXION_AUTH__ADMIN_TOKEN", ADMIN)
        .env("FLUXION_AUTH__ARGON2_MEMORY_KIB", "256")
        .env("FLUXION_AUTH__ARGON2_ITERATIONS", "1")
        .env("FLUXION_API__RATE_LIMITS__TIERS__STANDARD__PER_MINUTE", "1000000")
        .env("FLUXION_API__RATE_LIMITS__TIERS__STANDARD__BURST", "100000")
        .env("FLUXION_API__RATE_LIMITS__LOGIN_PER_MINUTE", "100000")
        .env("FLUXION_API__RATE_LIMITS__LOGIN_BURST", "10000");
    Server::start(cmd, &["--demo"])
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(json!({"email": "dueno@demo.fluxion.local", "password": "fluxion-demo-2026"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_what_the_server_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let client = fluxion_memory::http_client(std::time::Duration::from_secs(60)).unwrap();
    let base = server.base.clone();
    let doc: Value = serde_json::from_slice(
        &client.get(format!("{base}/api/v1/openapi.json")).send().await.unwrap().bytes().await.unwrap(),
    )
    .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let token = login(&client, &base).await;

    // Real ids to put in paths.
    let fetch = |path: &str| {
        let req = client.get(format!("{base}{path}")).header("authorization", format!("Bearer {token}"));
        async move { serde_json::from_slice::<Value>(&req.send().await.unwrap().bytes().await.unwrap()).unwrap() }
    };
    let store = fetch("/api/v1/stores").await[0]["code"].as_str().unwrap().to_owned();
    let product = fetch("/api/v1/products?limit=1").await["items"][0]["code"].as_str().unwrap().to_owned();
    let user = fetch("/api/v1/users").await[1]["id"].as_str().unwrap().to_owned();

    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            assert!(op["operationId"].is_string(), "{method} {path} has no operationId");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has no tag");
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
                }
            }
            // Call it once with a valid credential and real ids.
            let concrete = path
                .replace("{code}", if path.contains("stores") { &store } else { &product })
                .replace("{id}", if path.contains("users") { &user } else { "00000000-0000-4000-8000-000000000000" })
                .replace("{slug}", "no_existe");
            let credential = if path.contains("/tenants") { ADMIN } else { token.as_str() };
            let body = match (method.as_str(), path.as_str()) {
                ("post", "/api/v1/auth/login") => {
                    json!({"email": "dueno@demo.fluxion.local", "password": "fluxion-demo-2026"})
                }
                ("post", p) if p.starts_with("/api/v1/auth/") => json!({"refresh_token": "fxr_x"}),
                ("post", "/api/v1/ask" | "/api/v1/ask/stream") => json!({"question": "¿qué se está agotando?"}),
                ("patch", _) => json!({"disabled": false}),
                _ => json!({}),
            };
            let req = client
                .request(method.to_uppercase().parse().unwrap(), format!("{base}{concrete}"))
                .header("authorization", format!("Bearer {credential}"))
                .header("idempotency-key", "spec-walk")
                .header("content-type", "application/json");
            let req = if method == "get" || method == "delete" { req } else { req.body(body.to_string()) };
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16().to_string();
            let text = resp.text().await.unwrap();
            assert!(
                op["responses"].get(&status).is_some(),
                "{method} {concrete} answered {status}, which the document does not list: {text}"
            );
        }
    }
    assert!(operations >= 30, "{operations} operations documented");

    // schemathesis, when available.
    let st = std::env::var("FLUXION_SCHEMATHESIS").ok().filter(|s| !s.is_empty());
    match st {
        Some(st) => {
            let out = std::process::Command::new(st)
                .args(["run", &format!("{base}/api/v1/openapi.json")])
                .args(["--header", &format!("Authorization: Bearer {token}")])
                .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"])
                .args(["--max-examples", "25", "--seed", "7", "--workers", "2", "--request-timeout", "30"])
                .args(["--exclude-path-regex", "^/api/v1/(tenants|auth/logout)"])
                .args(["--generation-allow-x00", "false"])
                .output()
                .unwrap();
            let log = format!("{}\n{}", text_of(&out.stdout), text_of(&out.stderr));
            println!("{log}");
            assert!(out.status.success(), "schemathesis found problems:\n{log}");
        }
        None if services_required() => panic!("FLUXION_SCHEMATHESIS must name the schemathesis executable here"),
        None => eprintln!("FLUXION_SCHEMATHESIS not set: the schemathesis run is skipped"),
    }
    server.stop();
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
