//! End to end: the real API server on port 0 (embedded, and on PostgreSQL + Redis when configured —
//! mandatory in CI), every endpoint through HTTP: auth flows, roles, API keys, data, idempotent
//! ingest, alerts, exactly-once approvals, asking (whole and streamed), traces, hygiene, metrics.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};

fn codes(items: &Value, field: &str) -> Vec<String> {
    items.as_array().unwrap().iter().map(|i| i[field].as_str().unwrap().to_owned()).collect()
}

async fn login_refresh_rotation_reuse_and_logout(s: &support::Server) {
    let email = support::email("manager", s.tenant_a());
    // Wrong password and unknown email: the same answer.
    for (who, pw) in [(email.as_str(), "otra-clave-123"), ("nadie@x.test", support::PASSWORD)] {
        let r = s.send(Method::POST, "/api/v1/auth/login", None, Some(json!({"email": who, "password": pw}))).await;
        assert_eq!((r.status, r.code()), (401, "invalid_credentials"), "{}", r.text);
    }
    // Emails are not case-sensitive.
    let (access, refresh) = s.login(&email.to_uppercase()).await;
    let me = s.get("/api/v1/me", &access).await;
    assert_eq!(me.expect(200)["user"]["role"], "manager");
    assert_eq!(s.get("/api/v1/tenant", &access).await.expect(200)["slug"], s.tenant_a());
    assert_eq!(me.json["tenant"]["slug"], s.tenant_a());

    // A refresh rotates: a new pair, and the old refresh token stops working.
    let r = s.send(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
    let body = r.expect(200).clone();
    let (access2, refresh2) = (body["access_token"].as_str().unwrap(), body["refresh_token"].as_str().unwrap());
    assert_ne!(refresh2, refresh);
    s.get("/api/v1/me", access2).await.expect(200);
    // Presenting the rotated token again is a reuse: the whole session is revoked, the newest token too.
    let r = s.send(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
    assert_eq!((r.status, r.code()), (401, "refresh_reused"), "{}", r.text);
    let r = s.send(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh2}))).await;
    assert_eq!(r.status, 401, "{}", r.text);

    // Logout revokes the session; an unknown token logs out silently.
    let (_, refresh3) = s.login(&email).await;
    let r = s.send(Method::POST, "/api/v1/auth/logout", None, Some(json!({"refresh_token": refresh3}))).await;
    assert_eq!(r.status, 204);
    let r = s.send(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh3}))).await;
    assert_eq!(r.status, 401);
    let r = s.send(Method::POST, "/api/v1/auth/logout", None, Some(json!({"refresh_token": "fxr_nada"}))).await;
    assert_eq!(r.status, 204);
    let r = s.send(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": "fxr_nada"}))).await;
    assert_eq!((r.status, r.code()), (401, "invalid_refresh"));
}
on_both!(login_refresh_rotation_reuse_and_logout);

async fn bad_access_tokens_are_refused(s: &support::Server) {
    let r = s.send(Method::GET, "/api/v1/stores", None, None).await;
    assert_eq!((r.status, r.code()), (401, "missing_credentials"));
    let tenant = s.store.tenant(&support::slug(s.tenant_a())).await.unwrap().unwrap();
    let user = uuid::Uuid::new_v4();
    // Expired.
    let old = s.auth.issue_access(
        user,
        Some(&tenant),
        fluxion_memory::Role::Owner,
        chrono::Utc::now() - chrono::Duration::hours(2),
    );
    let r = s.get("/api/v1/stores", &old).await;
    assert_eq!((r.status, r.code()), (401, "token_expired"), "{}", r.text);
    // Signed with our secret but for another audience.
    let mut other = support::auth_config();
    other.audience = "otra-api".into();
    let token = other.issue_access(user, Some(&tenant), fluxion_memory::Role::Owner, chrono::Utc::now());
    let r = s.get("/api/v1/stores", &token).await;
    assert_eq!((r.status, r.code()), (401, "invalid_token"));
    // Signed with another secret.
    let forged = fluxion_gateway::AuthConfig::new(&[9u8; 40]).unwrap().issue_access(
        user,
        Some(&tenant),
        fluxion_memory::Role::Owner,
        chrono::Utc::now(),
    );
    assert_eq!(s.get("/api/v1/stores", &forged).await.status, 401);
    // Garbage, an "alg":"none" token, a wrong scheme.
    assert_eq!(s.get("/api/v1/stores", "abc.def.ghi").await.status, 401);
    let none = format!(
        "{}.{}.",
        base64url(r#"{"alg":"none","typ":"JWT"}"#),
        base64url(&format!(
            r#"{{"sub":"{user}","role":"owner","typ":"access","aud":"fluxion-api","iss":"fluxion","iat":1,"exp":9999999999,"jti":"x","tid":"{}"}}"#,
            tenant.id
        ))
    );
    assert_eq!(s.get("/api/v1/stores", &none).await.status, 401);
    let r = s
        .client
        .get(format!("{}/api/v1/stores", s.base))
        .header("authorization", format!("Basic {}", base64url("a:b")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}
on_both!(bad_access_tokens_are_refused);

fn base64url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

async fn roles_allow_what_they_should_and_nothing_more(s: &support::Server) {
    let viewer = s.token("viewer", false).await;
    let manager = s.token("manager", false).await;
    let owner = s.token("owner", false).await;
    let operator = s.login(&s.operator_email()).await.0;
    let alert =
        s.get("/api/v1/alerts?limit=1", &viewer).await.expect(200)["items"][0]["id"].as_str().unwrap().to_owned();
    // Viewers read and ask but change nothing.
    s.get("/api/v1/stores", &viewer).await.expect(200);
    for (path, body) in [
        (format!("/api/v1/alerts/{alert}/ack"), json!({})),
        (format!("/api/v1/alerts/{alert}/feedback"), json!({"verdict": "useful"})),
    ] {
        let r = s.post(&path, &viewer, body).await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{path}: {}", r.text);
    }
    assert_eq!(s.get("/api/v1/users", &viewer).await.status, 403);
    assert_eq!(s.get("/api/v1/traces", &viewer).await.status, 403);
    // Managers act but do not manage accounts or read traces.
    s.post(&format!("/api/v1/alerts/{alert}/ack"), &manager, json!({})).await.expect(200);
    assert_eq!(s.get("/api/v1/users", &manager).await.status, 403);
    assert_eq!(s.get("/api/v1/api-keys", &manager).await.status, 403);
    assert_eq!(s.get("/api/v1/traces", &manager).await.status, 403);
    // Owners manage users.
    let users = s.get("/api/v1/users", &owner).await.expect(200).clone();
    assert_eq!(users.as_array().unwrap().len(), 3);
    let r = s
        .post(
            "/api/v1/users",
            &owner,
            json!({"email": "nueva@a.test", "name": "Nueva", "password": "una-clave-larga", "role": "viewer"}),
        )
        .await;
    let created = r.expect(201).clone();
    let r = s
        .post(
            "/api/v1/users",
            &owner,
            json!({"email": "NUEVA@a.test", "name": "Otra", "password": "una-clave-larga", "role": "viewer"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "email_taken"));
    for bad in [
        json!({"email": "x", "name": "X", "password": "una-clave-larga", "role": "viewer"}),
        json!({"email": "y@a.test", "name": "Y", "password": "corta", "role": "viewer"}),
        json!({"email": "z@a.test", "name": "Z", "password": "una-clave-larga", "role": "operator"}),
    ] {
        assert_eq!(s.post("/api/v1/users", &owner, bad).await.status, 422);
    }
    // Disabling a user ends their logins.
    let id = created["id"].as_str().unwrap();
    let nueva = json!({"email": "nueva@a.test", "password": "una-clave-larga"});
    s.send(Method::POST, "/api/v1/auth/login", None, Some(nueva.clone())).await.expect(200);
    let r = s.send(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&owner), Some(json!({"disabled": true}))).await;
    assert_eq!(r.expect(200)["disabled"], true);
    let r = s.send(Method::POST, "/api/v1/auth/login", None, Some(nueva)).await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    // Operators read traces of every tenant, and nothing else.
    assert_eq!(s.get("/api/v1/stores", &operator).await.status, 403);
    assert_eq!(s.get("/api/v1/alerts", &operator).await.status, 403);
    s.get("/api/v1/traces", &operator).await.expect(200);
    s.get(&format!("/api/v1/traces?tenant={}", s.tenant_b()), &operator).await.expect(200);
    // The administrator manages tenants, and reads nothing of theirs.
    let tenants = s.get("/api/v1/tenants", support::ADMIN_TOKEN).await.expect(200).clone();
    assert!(tenants.as_array().unwrap().len() >= 2);
    assert_eq!(s.get("/api/v1/stores", support::ADMIN_TOKEN).await.status, 403);
    assert_eq!(s.get("/api/v1/tenants", &owner).await.status, 403);
    let r = s
        .post(
            "/api/v1/tenants",
            support::ADMIN_TOKEN,
            json!({"slug": "nueva_cadena", "name": "Nueva", "owner": {"email": "jefa@nueva.test", "name": "Jefa", "password": "una-clave-larga"}}),
        )
        .await;
    assert_eq!(r.expect(201)["tenant"]["slug"], "nueva_cadena");
    let r = s
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "jefa@nueva.test", "password": "una-clave-larga"})),
        )
        .await;
    let jefa = r.expect(200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(s.get("/api/v1/stores", &jefa).await.expect(200).as_array().unwrap().len(), 0);
    let r = s.send(Method::DELETE, "/api/v1/tenants/nueva_cadena", Some(support::ADMIN_TOKEN), None).await;
    assert_eq!(r.status, 204);
    // A token of a deleted tenant opens nothing, even if the slug is created again.
    s.store.create_tenant(&support::slug("nueva_cadena"), "Otra").await.unwrap();
    assert_eq!(s.get("/api/v1/stores", &jefa).await.status, 401);
}
on_both!(roles_allow_what_they_should_and_nothing_more);

async fn api_keys_are_shown_once_scoped_and_revocable(s: &support::Server) {
    let owner = s.token("owner", false).await;
    let r = s.post("/api/v1/api-keys", &owner, json!({"name": "ERP nocturno", "scopes": ["read", "ingest"]})).await;
    let created = r.expect(201).clone();
    let key = created["secret"].as_str().unwrap().to_owned();
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));
    // Listings never show the secret.
    let listed = s.get("/api/v1/api-keys", &owner).await;
    assert!(!listed.text.contains(&key[key.find('.').unwrap() + 1..]));
    assert_eq!(listed.json[0]["scopes"], json!(["read", "ingest"]));
    // It reads and ingests, by either header; it does not ask, act or manage.
    s.get("/api/v1/stores", &key).await.expect(200);
    let r = s.client.get(format!("{}/api/v1/stores", s.base)).header("x-api-key", &key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(s.post("/api/v1/ask", &key, json!({"question": "hola"})).await.status, 403);
    assert_eq!(s.get("/api/v1/api-keys", &key).await.status, 403);
    assert_eq!(s.get("/api/v1/me", &key).await.expect(200)["kind"], "api_key");
    // A wrong secret with a real prefix, and a made-up key: refused.
    let prefix = created["prefix"].as_str().unwrap();
    assert_eq!(s.get("/api/v1/stores", &format!("{prefix}.nope")).await.status, 401);
    assert_eq!(s.get("/api/v1/stores", "fxk_nothing.here").await.status, 401);
    for bad in [
        json!({"name": "x", "scopes": []}),
        json!({"name": "x", "scopes": ["root"]}),
        json!({"name": "", "scopes": ["read"]}),
    ] {
        assert_eq!(s.post("/api/v1/api-keys", &owner, bad).await.status, 422);
    }
    // Tenant B's owner cannot revoke it; A's owner can, and then it never works again.
    let id = created["id"].as_str().unwrap();
    let b_owner = s.token("owner", true).await;
    let r = s.send(Method::DELETE, &format!("/api/v1/api-keys/{id}"), Some(&b_owner), None).await;
    assert_eq!(r.status, 404);
    s.get("/api/v1/stores", &key).await.expect(200);
    let r = s.send(Method::DELETE, &format!("/api/v1/api-keys/{id}"), Some(&owner), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(s.get("/api/v1/stores", &key).await.status, 401);
}
on_both!(api_keys_are_shown_once_scoped_and_revocable);

async fn stores_products_stock_and_forecasts(s: &support::Server) {
    let t = s.token("viewer", false).await;
    let stores = s.get("/api/v1/stores", &t).await.expect(200).clone();
    // Two stores and the distribution centre.
    let kinds: Vec<_> = stores.as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "store").count(), 2, "{stores}");
    let code = stores[0]["code"].as_str().unwrap();
    assert_eq!(s.get(&format!("/api/v1/stores/{code}"), &t).await.expect(200)["code"], code);
    assert_eq!(s.get("/api/v1/stores/NOPE", &t).await.code(), "not_found");
    // Pages of products walk the whole catalog once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/products?limit=7&cursor={c}"),
            None => "/api/v1/products?limit=7".into(),
        };
        let page = s.get(&path, &t).await.expect(200).clone();
        seen.extend(codes(&page["items"], "code"));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen);
    let first = s.get(&format!("/api/v1/products/{}", seen[0]), &t).await.expect(200).clone();
    let word = first["name"].as_str().unwrap().split_whitespace().next().unwrap().to_lowercase();
    let found = s.get(&format!("/api/v1/products?q={word}"), &t).await.expect(200).clone();
    assert!(codes(&found["items"], "code").contains(&seen[0]));
    assert_eq!(s.get("/api/v1/products?limit=0", &t).await.code(), "invalid_limit");
    assert_eq!(s.get("/api/v1/products?cursor=%%%", &t).await.status, 400);
    // Stock, filtered.
    let stock = s.get(&format!("/api/v1/stock?store={code}&limit=500"), &t).await.expect(200).clone();
    assert!(stock["items"].as_array().unwrap().iter().all(|i| i["store"] == code));
    assert!(!stock["items"].as_array().unwrap().is_empty());
    // Forecasts with bands, cut to the horizon.
    let f =
        s.get(&format!("/api/v1/forecasts?store={code}&product={}&horizon=10", seen[0]), &t).await.expect(200).clone();
    let f = &f["items"][0];
    assert_eq!(f["days"].as_array().unwrap().len(), 10);
    for d in f["days"].as_array().unwrap() {
        let (p10, p50, p90) = (d["p10"].as_f64().unwrap(), d["p50"].as_f64().unwrap(), d["p90"].as_f64().unwrap());
        assert!(0.0 <= p10 && p10 <= p50 && p50 <= p90, "{d}");
    }
    assert!(f["model"].as_str().unwrap().starts_with("fluxion"));
    assert_eq!(s.get("/api/v1/forecasts?horizon=99", &t).await.code(), "invalid_horizon");
}
on_both!(stores_products_stock_and_forecasts);

async fn sales_ingest_is_idempotent_by_key(s: &support::Server) {
    let owner = s.token("owner", false).await;
    let stores = s.get("/api/v1/stores", &owner).await.json.clone();
    let store = stores[0]["code"].as_str().unwrap().to_owned();
    let products = s.get("/api/v1/products?limit=2", &owner).await.json.clone();
    let product = products["items"][0]["code"].as_str().unwrap().to_owned();
    let line = |k: &str, qty: f64| {
        json!({"line_key": k, "store": store, "product": product, "sold_at": "2026-11-27T10:15:00",
               "quantity": qty, "amount": "12.50", "currency": "USD"})
    };
    let batch = json!({"lines": [line("T1-1", 2.0), line("T1-2", 1.0)]});
    let post = |key: Option<&str>, body: Value| {
        let mut req =
            s.client.post(format!("{}/api/v1/sales", s.base)).header("authorization", format!("Bearer {owner}"));
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        async move {
            support::reply(req.header("content-type", "application/json").body(body.to_string()).send().await.unwrap())
                .await
        }
    };
    let first = post(Some("lote-1"), batch.clone()).await;
    assert_eq!(first.expect(200)["sales_new"], 2);
    assert_eq!(first.json["replayed"], false);
    let again = post(Some("lote-1"), batch.clone()).await;
    assert_eq!((again.expect(200)["sales_new"].clone(), again.json["replayed"].clone()), (json!(2), json!(true)));
    let other = post(Some("lote-1"), json!({"lines": [line("T1-3", 1.0)]})).await;
    assert_eq!((other.status, other.code()), (409, "idempotency_key_reused"));
    // The same lines under another key are stored once (by line key and day).
    let dup = post(Some("lote-2"), batch.clone()).await;
    assert_eq!((dup.expect(200)["sales_new"].clone(), dup.json["sales_duplicate"].clone()), (json!(0), json!(2)));
    assert_eq!(post(None, batch.clone()).await.code(), "idempotency_key_required");
    // A bad line or an unknown product refuses the whole batch, naming the line; nothing is written.
    let bad = post(Some("lote-3"), json!({"lines": [line("T2-1", 1.0), line("T2-2", -1.0)]})).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_sale"));
    assert!(bad.text.contains("Línea 2") && bad.text.contains("Line 2"), "{}", bad.text);
    let mut unknown = line("T3-1", 1.0);
    unknown["product"] = json!("NO-EXISTE");
    let r = post(Some("lote-4"), json!({"lines": [line("T3-0", 1.0), unknown]})).await;
    assert_eq!((r.status, r.code()), (422, "unknown_reference"), "{}", r.text);
    let r = post(Some("lote-4"), json!({"lines": [line("T3-0", 1.0)]})).await;
    assert_eq!(r.expect(200)["sales_new"], 1, "the refused batch left nothing behind, and its key is free");
    let mut ves = line("T4-1", 1.0);
    ves["currency"] = json!("VES");
    assert_eq!(post(Some("lote-5"), json!({"lines": [ves.clone()]})).await.code(), "invalid_sale");
    ves["rate"] = json!(36.5);
    post(Some("lote-5"), json!({"lines": [ves]})).await.expect(200);
    // Viewers cannot ingest.
    let viewer = s.token("viewer", false).await;
    let r = support::reply(
        s.client
            .post(format!("{}/api/v1/sales", s.base))
            .header("authorization", format!("Bearer {viewer}"))
            .header("idempotency-key", "v")
            .header("content-type", "application/json")
            .body(batch.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403);
}
on_both!(sales_ingest_is_idempotent_by_key);

async fn alerts_list_filter_acknowledge_and_feedback(s: &support::Server) {
    let manager = s.token("manager", false).await;
    let all = s.get("/api/v1/alerts?limit=500", &manager).await.expect(200).clone();
    let items = all["items"].as_array().unwrap();
    assert!(!items.is_empty(), "the scan raised alerts on the demo chain");
    let kind = items[0]["kind"].as_str().unwrap();
    let same = s.get(&format!("/api/v1/alerts?kind={kind}&limit=500"), &manager).await.expect(200).clone();
    assert!(same["items"].as_array().unwrap().iter().all(|a| a["kind"] == kind));
    assert_eq!(s.get("/api/v1/alerts?kind=nada", &manager).await.code(), "invalid_filter");
    // Pages walk every alert once.
    let mut ids = Vec::new();
    let mut path = "/api/v1/alerts?limit=3".to_owned();
    loop {
        let page = s.get(&path, &manager).await.expect(200).clone();
        ids.extend(codes(&page["items"], "id"));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/alerts?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), items.len());
    let id = items[0]["id"].as_str().unwrap();
    let a = s.get(&format!("/api/v1/alerts/{id}"), &manager).await.expect(200).clone();
    assert!(!a["reason_es"].as_str().unwrap().is_empty());
    let acked = s.post(&format!("/api/v1/alerts/{id}/ack"), &manager, json!({})).await.expect(200).clone();
    assert_eq!(acked["status"], "acknowledged");
    assert!(acked["acknowledged_by"].as_str().unwrap().starts_with("user:"));
    let open = s.get("/api/v1/alerts?status=acknowledged&limit=500", &manager).await.expect(200).clone();
    assert!(codes(&open["items"], "id").contains(&id.to_owned()));
    let fb = s
        .post(
            &format!("/api/v1/alerts/{id}/feedback"),
            &manager,
            json!({"verdict": "wrong", "note": "ya llegó el camión"}),
        )
        .await;
    assert_eq!(fb.expect(200)["feedback"], "wrong");
    assert_eq!(
        s.post(&format!("/api/v1/alerts/{id}/feedback"), &manager, json!({"verdict": "meh"})).await.code(),
        "invalid_verdict"
    );
    assert_eq!(s.get(&format!("/api/v1/alerts/{}", uuid::Uuid::new_v4()), &manager).await.status, 404);
    assert_eq!(s.get("/api/v1/alerts/no-es-un-id", &manager).await.code(), "invalid_path");
}
on_both!(alerts_list_filter_acknowledge_and_feedback);

async fn approvals_execute_exactly_once(s: &support::Server) {
    let manager = s.token("manager", false).await;
    let viewer = s.token("viewer", false).await;
    let pending =
        s.get("/api/v1/recommendations?status=pending&kind=order&limit=500", &manager).await.expect(200).clone();
    let orders = pending["items"].as_array().unwrap().clone();
    assert!(orders.len() >= 2, "the optimizer recommended orders: {pending}");
    let id = orders[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.post(&format!("/api/v1/recommendations/{id}/approve"), &viewer, json!({})).await.status, 403);
    // Five concurrent approvals: exactly one executes.
    let path = format!("/api/v1/recommendations/{id}/approve");
    let calls = (0..5).map(|_| s.post(&path, &manager, json!({})));
    let replies = futures_util::future::join_all(calls).await;
    let ok: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "{:?}", replies.iter().map(|r| (r.status, r.code())).collect::<Vec<_>>());
    assert!(replies.iter().filter(|r| r.status != 200).all(|r| r.status == 409 && r.code() == "already_decided"));
    let number = ok[0].json["executed_as"].as_str().unwrap().to_owned();
    assert!(number.starts_with("FX-OC-"));
    let scoped = s.store.scope(&support::slug(s.tenant_a())).await.unwrap();
    let created: Vec<_> =
        scoped.purchase_orders().await.unwrap().into_iter().filter(|o| o.number().as_str() == number).collect();
    assert_eq!(created.len(), 1, "the purchase order exists once");
    assert_eq!(s.get(&format!("/api/v1/recommendations/{id}"), &manager).await.expect(200)["status"], "approved");
    // Reject another; rejecting or approving it again is a conflict.
    let other = orders[1]["id"].as_str().unwrap();
    let r =
        s.post(&format!("/api/v1/recommendations/{other}/reject"), &manager, json!({"note": "sin presupuesto"})).await;
    assert_eq!(
        (r.expect(200)["status"].clone(), r.json["note"].clone()),
        (json!("rejected"), json!("sin presupuesto"))
    );
    assert_eq!(s.post(&format!("/api/v1/recommendations/{other}/approve"), &manager, json!({})).await.status, 409);
    // Tenant B cannot see or decide A's recommendations.
    let b = s.token("manager", true).await;
    assert_eq!(s.get(&format!("/api/v1/recommendations/{id}"), &b).await.status, 404);
    let third = orders.get(2).map_or(other, |o| o["id"].as_str().unwrap());
    assert_eq!(s.post(&format!("/api/v1/recommendations/{third}/approve"), &b, json!({})).await.status, 404);
}
on_both!(approvals_execute_exactly_once);

async fn asking_whole_and_streamed_with_its_trace(s: &support::Server) {
    let owner = s.token("owner", false).await;
    let products = s.get("/api/v1/products?limit=1", &owner).await.json.clone();
    let name = products["items"][0]["name"].as_str().unwrap().to_owned();
    let question = format!("¿cuánto {name} necesito para la semana?");
    let r = support::reply(
        s.client
            .post(format!("{}/api/v1/ask", s.base))
            .header("authorization", format!("Bearer {owner}"))
            .header("content-type", "application/json")
            .header("x-request-id", "pedido-123")
            .body(json!({"question": question}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let answer = r.expect(200).clone();
    assert!(!answer["text_es"].as_str().unwrap().is_empty());
    assert_eq!(answer["intent"], "need");
    let trace = answer["trace_id"].as_str().unwrap();
    let t = s.get(&format!("/api/v1/traces/{trace}"), &owner).await.expect(200).clone();
    assert_eq!(t["channel"], "api");
    assert_eq!(t["request_id"], "pedido-123", "the request id is kept in the trace");
    assert!(t["spans"].as_array().unwrap().len() >= 3);
    let listed = s.get("/api/v1/traces?channel=api", &owner).await.expect(200).clone();
    assert!(codes(&listed, "id").contains(&trace.to_owned()));
    // What to order with a budget: the orders, each within it or not, never more than it in all.
    let r = s.post("/api/v1/ask", &owner, json!({"question": "¿qué compro esta semana con 300 dólares?"})).await;
    let answer = r.expect(200).clone();
    assert_eq!((answer["intent"].as_str(), answer["budget_usd"].as_f64()), (Some("need"), Some(300.0)), "{answer}");
    let spent: f64 = answer["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["within_budget"] == true)
        .map(|o| o["value_usd"].as_f64().unwrap())
        .sum();
    assert!(spent <= 300.0 + 1e-6, "{spent} spent: {answer}");
    // What is on its way: the chain's own purchase orders and transfers, the late ones first.
    let stores = codes(&s.get("/api/v1/stores", &owner).await.expect(200).clone(), "code");
    let r = s.post("/api/v1/ask", &owner, json!({"question": "¿qué pedidos vienen esta semana?"})).await;
    let answer = r.expect(200).clone();
    assert_eq!(answer["intent"], "stock", "{answer}");
    let deliveries = answer["deliveries"].as_array().unwrap();
    assert!(!deliveries.is_empty(), "the demo has open orders: {answer}");
    for d in deliveries {
        assert!(stores.contains(&d["store"].as_str().unwrap().to_owned()), "{d}");
        assert!(d["products"].as_u64().unwrap() >= 1 && d["value_at_cost"].as_f64().unwrap() >= 0.0, "{d}");
    }
    let first = deliveries[0]["number"].as_str().unwrap();
    assert!(answer["text_es"].as_str().unwrap().contains(first), "{first}: {answer}");
    let late: Vec<bool> = deliveries.iter().map(|d| d["late"].as_bool().unwrap()).collect();
    assert!(late.windows(2).all(|w| w[0] || !w[1]), "the late ones come first: {late:?}");
    // The same through Server-Sent Events: progress of each agent, then the answer.
    let resp = s
        .client
        .post(format!("{}/api/v1/ask/stream", s.base))
        .header("authorization", format!("Bearer {owner}"))
        .header("content-type", "application/json")
        .body(json!({"question": question}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let body = resp.text().await.unwrap();
    let events: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert!(events.iter().filter(|e| **e == "progress").count() >= 3, "{body}");
    assert_eq!(events.last(), Some(&"answer"), "{body}");
    assert!(body.contains("agent.finished"), "{body}");
    // The agents' calls are measured.
    let m = s.send(Method::GET, "/metrics", None, None).await;
    assert!(m.text.contains("fluxion_agent_call_seconds_bucket{agent=\"forecast\""), "{}", m.text);
    // Empty and huge questions.
    assert_eq!(s.post("/api/v1/ask", &owner, json!({"question": "  "})).await.status, 422);
    assert_eq!(s.post("/api/v1/ask", &owner, json!({"question": "x".repeat(1_001)})).await.status, 422);
    // The operator finds the trace without naming the tenant; tenant B's owner does not.
    let operator = s.login(&s.operator_email()).await.0;
    assert_eq!(s.get(&format!("/api/v1/traces/{trace}"), &operator).await.expect(200)["tenant"], s.tenant_a());
    let b = s.token("owner", true).await;
    assert_eq!(s.get(&format!("/api/v1/traces/{trace}"), &b).await.status, 404);
    assert_eq!(s.get(&format!("/api/v1/traces?tenant={}", s.tenant_a()), &b).await.status, 403);
}
on_both!(asking_whole_and_streamed_with_its_trace);

async fn hygiene_headers_limits_and_errors(s: &support::Server) {
    let owner = s.token("owner", false).await;
    let r = s.get("/api/v1/stores", &owner).await;
    for h in ["x-content-type-options", "x-frame-options", "content-security-policy", "referrer-policy", "x-request-id"]
    {
        assert!(r.headers.contains_key(h), "missing {h}");
    }
    // A request id sent is the one returned.
    let resp = s.client.get(format!("{}/healthz", s.base)).header("x-request-id", "req-abc-123").send().await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], "req-abc-123");
    // Bodies over the limit, not JSON, malformed, of the wrong shape.
    let huge = json!({"question": "x".repeat(300 * 1024)});
    let r = s.post("/api/v1/ask", &owner, huge).await;
    assert_eq!((r.status, r.code()), (413, "body_too_large"));
    let r = support::reply(
        s.client
            .post(format!("{}/api/v1/ask", s.base))
            .header("authorization", format!("Bearer {owner}"))
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
    let r = support::reply(
        s.client
            .post(format!("{}/api/v1/ask", s.base))
            .header("authorization", format!("Bearer {owner}"))
            .header("content-type", "application/json")
            .body("{\"question\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    assert_eq!(s.post("/api/v1/ask", &owner, json!({"question": 5})).await.code(), "invalid_body");
    assert_eq!(s.post("/api/v1/ask", &owner, json!({"question": "hola", "extra": 1})).await.code(), "invalid_body");
    assert_eq!(s.get("/api/v1/nada", &owner).await.code(), "not_found");
    let r = s.send(Method::DELETE, "/api/v1/stores", Some(&owner), None).await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
    // CORS: the configured origin is allowed, another is not.
    let pre = s
        .client
        .request(Method::OPTIONS, format!("{}/api/v1/stores", s.base))
        .header("origin", "https://panel.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.headers()["access-control-allow-origin"], "https://panel.example.com");
    let pre = s
        .client
        .request(Method::OPTIONS, format!("{}/api/v1/stores", s.base))
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(!pre.headers().contains_key("access-control-allow-origin"));
    // The OpenAPI document and its offline docs page.
    let doc = s.send(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.expect(200)["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
    let page = s.send(Method::GET, "/api/v1/docs/", None, None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("swagger") && !page.text.contains("https://cdn"),
        "{}",
        &page.text[..page.text.len().min(500)]
    );
    // Metrics by route and status.
    let m = s.send(Method::GET, "/metrics", None, None).await;
    assert!(m.text.contains("fluxion_http_requests_total"), "{}", m.text);
    assert!(m.text.contains(r#"route="/api/v1/stores""#), "{}", m.text);
}
on_both!(hygiene_headers_limits_and_errors);

fn rate_limits_answer_429_with_retry_after_options() -> support::Options {
    let mut o = support::Options::default();
    o.limits.tiers.insert("standard".into(), fluxion_memory::Limit::new(60, 12));
    o
}

async fn rate_limits_answer_429_with_retry_after(s: &support::Server) {
    let owner = s.token("owner", false).await;
    // The tenant's budget: a burst of 12, then one a second.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(s.get("/api/v1/me", &owner).await);
    }
    let allowed = statuses.iter().filter(|r| r.status == 200).count();
    assert!((12..=13).contains(&allowed), "{allowed} allowed of 20");
    let refused = statuses.iter().find(|r| r.status == 429).unwrap();
    assert_eq!(refused.code(), "rate_limited");
    let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry));
    // Another tenant is not affected.
    let b = s.token("owner", true).await;
    s.get("/api/v1/me", &b).await.expect(200);
}
on_both!(rate_limits_answer_429_with_retry_after, rate_limits_answer_429_with_retry_after_options());
