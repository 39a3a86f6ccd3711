//! Property tests over HTTP against the real server:
//! - malformed input (random bytes, wrong types, unicode edge cases, injection strings, huge values,
//!   path tricks) to every endpoint never gets a 5xx, and every 4xx carries the error body;
//! - broken object-level authorization (OWASP API1): a user of tenant A, guessing ids, using tenant
//!   B's real ids, or twisting paths, never gets anything of tenant B.
#![allow(clippy::unwrap_used)]

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use support::urlencode;

/// Every endpoint: method, path template (`{id}` is replaced), whether it takes a body.
const ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("PATCH", "/api/v1/users/{id}"),
    ("GET", "/api/v1/api-keys"),
    ("POST", "/api/v1/api-keys"),
    ("DELETE", "/api/v1/api-keys/{id}"),
    ("GET", "/api/v1/tenant"),
    ("GET", "/api/v1/tenants"),
    ("POST", "/api/v1/tenants"),
    ("DELETE", "/api/v1/tenants/{id}"),
    ("GET", "/api/v1/stores"),
    ("GET", "/api/v1/stores/{id}"),
    ("GET", "/api/v1/products"),
    ("GET", "/api/v1/products/{id}"),
    ("GET", "/api/v1/stock"),
    ("POST", "/api/v1/sales"),
    ("GET", "/api/v1/forecasts"),
    ("GET", "/api/v1/alerts"),
    ("GET", "/api/v1/alerts/{id}"),
    ("POST", "/api/v1/alerts/{id}/ack"),
    ("POST", "/api/v1/alerts/{id}/feedback"),
    ("GET", "/api/v1/recommendations"),
    ("GET", "/api/v1/recommendations/{id}"),
    ("POST", "/api/v1/recommendations/{id}/approve"),
    ("POST", "/api/v1/recommendations/{id}/reject"),
    ("POST", "/api/v1/ask"),
    ("GET", "/api/v1/traces"),
    ("GET", "/api/v1/traces/{id}"),
];

const NASTY: &[&str] = &[
    "' OR '1'='1",
    "'; DROP TABLE sales; --",
    "\u{0}",
    "../../etc/passwd",
    "..%2F..%2F",
    "%00",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "\u{202e}\u{fe0f}\u{1f600}",
    "ñandú Ñ á é í ó ú",
    "\u{ffff}\u{10ffff}",
    "-1",
    "1e309",
    "NaN",
    "null",
    "9999999999999999999999",
];

fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(NASTY).prop_map(str::to_owned),
        any::<String>(),
        "[a-z]{0,8}".prop_map(|s| s.repeat(2_000)),
        proptest::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    proptest::sample::select(
                        &[
                            "email",
                            "password",
                            "refresh_token",
                            "question",
                            "lines",
                            "verdict",
                            "note",
                            "name",
                            "scopes",
                            "role",
                            "disabled",
                            "slug",
                            "owner",
                            "line_key",
                            "store",
                            "product",
                            "sold_at",
                            "quantity",
                            "amount",
                            "currency",
                            "rate",
                            "rate_per_minute"
                        ][..]
                    )
                    .prop_map(str::to_owned),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body: raw bytes, or JSON of any shape.
#[derive(Debug, Clone)]
enum Body {
    Raw(Vec<u8>),
    Json(Value),
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(Body::Raw),
        json_value().prop_map(Body::Json),
        // Plausible bodies with one field wrong.
        (nasty_string(), json_value()).prop_map(|(q, v)| Body::Json(json!({"question": q, "verdict": v}))),
        (json_value(), nasty_string())
            .prop_map(|(v, k)| Body::Json(json!({"lines": [{"line_key": k, "store": v, "product": "X",
            "sold_at": "2026-13-45T99:00:00", "quantity": "uno", "amount": [], "currency": "US"}]}))),
    ]
}

fn path_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(uuid::Uuid::new_v4().to_string()),
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        proptest::sample::select(NASTY).prop_map(urlencode),
        "[A-Za-z0-9_-]{1,40}",
        any::<String>().prop_map(|s| urlencode(&s)),
    ]
}

fn query_piece() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(
            &["limit", "cursor", "kind", "status", "store", "product", "horizon", "q", "tenant", "severity"][..],
        ),
        path_piece(),
    )
        .prop_map(|(k, v)| format!("{k}={v}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1_000)
}

#[test]
fn malformed_input_never_gets_a_server_error() {
    let rt = runtime();
    let server = Arc::new(
        rt.block_on(support::Server::start(support::Backends::Embedded, support::Options::default())).unwrap(),
    );
    let owner = rt.block_on(server.token("owner", false));
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = support::unpooled_client();
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let strategy = (0..ENDPOINTS.len(), path_piece(), proptest::option::of(query_piece()), body(), 0..3u8);
    runner
        .run(&strategy, |(e, piece, query, body, auth)| {
            let (method, template) = ENDPOINTS[e];
            let mut path = template.replace("{id}", &piece);
            if let Some(q) = query {
                path = format!("{path}?{q}");
            }
            let token = match auth {
                0 => Some(owner.clone()),
                1 => Some(support::ADMIN_TOKEN.to_owned()),
                _ => None,
            };
            let (s, client) = (server.clone(), client.clone());
            sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let reply = rt.block_on(async move {
                let mut req =
                    client.request(Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{path}", s.base));
                if let Some(t) = token {
                    req = req.header("authorization", format!("Bearer {t}"));
                }
                req = req.header("idempotency-key", "prop");
                req = match body {
                    Body::Raw(bytes) => req.header("content-type", "application/json").body(bytes),
                    Body::Json(v) => req.header("content-type", "application/json").body(v.to_string()),
                };
                match req.send().await {
                    Ok(r) => Some(support::reply(r).await),
                    // The client refused to send it (an invalid URL): nothing reached the server.
                    Err(e) if e.is_builder() => None,
                    Err(e) => panic!("the server dropped the request: {e}"),
                }
            });
            if let Some(r) = reply {
                prop_assert!(r.status < 500, "{method} {template}: {} {}", r.status, r.text);
                if r.status >= 400 {
                    prop_assert!(r.json["error"]["code"].is_string(), "{method} {template}: {} {}", r.status, r.text);
                    prop_assert!(r.json["error"]["message"].as_str().is_some_and(|m| m.contains(" / ")), "{}", r.text);
                }
            }
            Ok(())
        })
        .unwrap();
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent >= cases() as usize, "only {sent} requests were sent");
    eprintln!("{sent} malformed requests, none answered with a 5xx");
    let server = Arc::try_unwrap(server).ok().unwrap();
    rt.block_on(server.stop());
}

/// Everything of tenant B that tenant A could try to reach.
struct Targets {
    ids: Vec<String>,
    markers: Vec<String>,
}

async fn b_targets(s: &support::Server) -> Targets {
    let owner_b = s.token("owner", true).await;
    let mut ids = Vec::new();
    for path in ["/api/v1/alerts?limit=50", "/api/v1/recommendations?limit=50"] {
        let page = s.get(path, &owner_b).await.expect(200).clone();
        ids.extend(page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()));
    }
    let answer =
        s.post("/api/v1/ask", &owner_b, json!({"question": "¿qué se está agotando?"})).await.expect(200).clone();
    ids.push(answer["trace_id"].as_str().unwrap().to_owned());
    let users = s.get("/api/v1/users", &owner_b).await.expect(200).clone();
    ids.extend(users.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()));
    let key = s.post("/api/v1/api-keys", &owner_b, json!({"name": "b", "scopes": ["read"]})).await.expect(201).clone();
    ids.push(key["id"].as_str().unwrap().to_owned());
    let mut markers = ids.clone();
    markers.extend([support::B_ONLY_STORE.to_owned(), support::B_ONLY_PRODUCT.to_owned(), s.tenant_b().to_owned()]);
    Targets { ids, markers }
}

#[test]
fn no_user_of_one_tenant_ever_sees_another_tenants_data() {
    let rt = runtime();
    let server = Arc::new(
        rt.block_on(support::Server::start(support::Backends::Embedded, support::Options::default())).unwrap(),
    );
    let targets = Arc::new(rt.block_on(b_targets(&server)));
    // Every role of tenant A, and a key of A with every scope.
    let mut tokens = Vec::new();
    for role in ["owner", "manager", "viewer"] {
        tokens.push(rt.block_on(server.token(role, false)));
    }
    let owner_a = tokens[0].clone();
    let key = rt.block_on(server.post(
        "/api/v1/api-keys",
        &owner_a,
        json!({"name": "a", "scopes": ["read", "ingest", "ask", "act"]}),
    ));
    tokens.push(key.json["secret"].as_str().unwrap().to_owned());
    let tokens = Arc::new(tokens);
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let n_ids = targets.ids.len();
    assert!(n_ids >= 10, "tenant B has alerts, recommendations, a trace, users and a key to aim at");
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = support::unpooled_client();
    let strategy = (
        0..ENDPOINTS.len(),
        0..n_ids,
        prop_oneof![
            Just("".to_owned()),
            Just("%2F..".to_owned()),
            Just("/".to_owned()),
            Just("%20".to_owned()),
            Just("?tenant=".to_owned())
        ],
        proptest::option::of(query_piece()),
        0..4usize,
        body(),
    );
    runner
        .run(&strategy, |(e, id, trick, query, who, body)| {
            let (method, template) = ENDPOINTS[e];
            let target = &targets.ids[id];
            let mut path = template.replace("{id}", &format!("{target}{trick}"));
            if trick == "?tenant=" {
                path.push_str(server.tenant_b());
            }
            if let Some(q) = query {
                path = format!("{path}{}{q}", if path.contains('?') { "&" } else { "?" });
            }
            // Half the time, tenant B's own ids in the body and the query.
            let body = match body {
                Body::Json(Value::Object(mut m)) => {
                    m.insert("tenant".into(), json!(server.tenant_b()));
                    m.insert("id".into(), json!(target));
                    Body::Json(Value::Object(m))
                }
                other => other,
            };
            let (s, token, markers, client) = (server.clone(), tokens[who].clone(), targets.clone(), client.clone());
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let reply = rt.block_on(async move {
                let req = client
                    .request(Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{path}", s.base))
                    .header("authorization", format!("Bearer {token}"))
                    .header("idempotency-key", format!("api1-{}", uuid::Uuid::new_v4()))
                    .header("content-type", "application/json");
                let req = match body {
                    Body::Raw(b) => req.body(b),
                    Body::Json(v) => req.body(v.to_string()),
                };
                match req.send().await {
                    Ok(r) => Some((path, support::reply(r).await, markers)),
                    Err(e) if e.is_builder() => None,
                    Err(e) => panic!("the server dropped the request: {e}"),
                }
            });
            if let Some((path, r, markers)) = reply {
                prop_assert!(r.status < 500, "{method} {path}: {} {}", r.status, r.text);
                for m in &markers.markers {
                    prop_assert!(!r.text.contains(m.as_str()), "{method} {path} leaked {m}: {} {}", r.status, r.text);
                }
            }
            Ok(())
        })
        .unwrap();
    let attempts = attempts.load(std::sync::atomic::Ordering::Relaxed);
    assert!(attempts >= cases() as usize, "only {attempts} attacks were sent");
    eprintln!("{attempts} attacks on {n_ids} of tenant B's ids, nothing leaked");
    // Tenant B's decisions are untouched by everything A tried.
    let owner_b = rt.block_on(server.token("owner", true));
    let recs = rt.block_on(server.get("/api/v1/recommendations?limit=500", &owner_b));
    assert!(recs.json["items"].as_array().unwrap().iter().all(|r| r["status"] == "pending"), "{}", recs.text);
    let alerts = rt.block_on(server.get("/api/v1/alerts?limit=500", &owner_b));
    assert!(
        alerts.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["acknowledged_by"].is_null() && a["feedback"].is_null())
    );
    let server = Arc::try_unwrap(server).ok().unwrap();
    rt.block_on(server.stop());
}
