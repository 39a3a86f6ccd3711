//! The dashboard over HTTP, as a browser without JavaScript uses it: sessions and CSRF, every page,
//! roles, tenant isolation by URL editing, exactly-once approval, asking, the live alert feed.
//! On SQLite and on PostgreSQL + Redis.
#![allow(clippy::unwrap_used)]

mod support;

use fluxion_memory::{BusEvent, RecommendationQuery, RecommendationStatus, StoredRecommendation, TenantStore, Topic};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::sync::Arc;
use std::time::Duration;
use support::{B_ONLY_PRODUCT, B_ONLY_STORE, PASSWORD, Server, email, slug, urlencode};

/// A browser's view of the dashboard: a session cookie, no JavaScript, redirects not followed.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookie: String,
}

/// A page as received.
#[derive(Debug)]
struct Got {
    status: u16,
    location: String,
    body: String,
    headers: reqwest::header::HeaderMap,
}

fn encode(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

fn client() -> reqwest::Client {
    fluxion_memory::http_client(Duration::from_secs(60)).unwrap();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The value a `Set-Cookie` header gives `name`.
fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next()?.trim().strip_prefix(&format!("{name}=")).map(str::to_owned))
}

/// The `value` of the first input named `name` (or the content of a meta tag).
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no field {name} in {html}"));
    let rest = &html[at..];
    let v = rest.find("value=\"").map(|i| i + 7).or_else(|| rest.find("content=\"").map(|i| i + 9)).unwrap();
    rest[v..rest[v..].find('"').unwrap() + v].to_owned()
}

async fn got(resp: reqwest::Response) -> Got {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let location = headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    Got { status, location, body: resp.text().await.unwrap_or_default(), headers }
}

impl Browser {
    fn anonymous(s: &Server) -> Browser {
        Browser { base: s.base.clone(), client: client(), cookie: String::new() }
    }

    async fn login(s: &Server, who: &str) -> Browser {
        let mut b = Browser::anonymous(s);
        let r = b.try_login(who, PASSWORD).await;
        assert_eq!(r.status, 303, "{}", r.body);
        b.cookie = format!("fx_sesion={}", set_cookie(&r.headers, "fx_sesion").expect("a session cookie"));
        b
    }

    async fn try_login(&self, who: &str, password: &str) -> Got {
        let page = self.get("/ingresar").await;
        assert_eq!(page.status, 200);
        let token = set_cookie(&page.headers, "fx_ingreso").unwrap();
        assert_eq!(field(&page.body, "token"), token, "the form carries the cookie's value");
        let body = encode(&[("email", who), ("password", password), ("token", &token), ("volver", "")]);
        got(self
            .client
            .post(format!("{}/ingresar", self.base))
            .header(COOKIE, format!("fx_ingreso={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap())
        .await
    }

    async fn get(&self, path: &str) -> Got {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if !self.cookie.is_empty() {
            req = req.header(COOKIE, &self.cookie);
        }
        got(req.send().await.unwrap()).await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Got {
        got(self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(fields))
            .send()
            .await
            .unwrap())
        .await
    }

    /// The CSRF token of this session (from any page).
    async fn csrf(&self) -> String {
        field(&self.get("/agentes").await.body, "csrf-token")
    }
}

/// Tenant A with a transfer to approve.
fn imbalanced() -> support::Options {
    support::Options { imbalance: true, ..support::Options::default() }
}

async fn tenant_store(s: &Server, b: bool) -> Arc<dyn TenantStore> {
    s.store.scope(&slug(if b { s.tenant_b() } else { s.tenant_a() })).await.unwrap()
}

/// How many recommendations of tenant A wait for a decision.
async fn pending_count(s: &Server) -> usize {
    let q = RecommendationQuery {
        status: Some(RecommendationStatus::Pending),
        limit: 500,
        ..RecommendationQuery::default()
    };
    tenant_store(s, false).await.recommendations(&q).await.unwrap().items.len()
}

async fn pending(s: &Server, b: bool, kind: &str) -> StoredRecommendation {
    let q = RecommendationQuery {
        kind: Some(kind.into()),
        status: Some(RecommendationStatus::Pending),
        limit: 50,
        ..RecommendationQuery::default()
    };
    tenant_store(s, b).await.recommendations(&q).await.unwrap().items.into_iter().next().expect("a pending one")
}

async fn sessions_logins_and_csrf(s: &Server) {
    let anon = Browser::anonymous(s);
    // No session: to the login page, then back.
    let r = anon.get("/alertas").await;
    assert_eq!((r.status, r.location.as_str()), (303, "/ingresar?volver=/alertas"));
    assert_eq!(anon.get("/").await.location, "/ingresar");
    let expired = anon.post("/pedidos/00000000-0000-0000-0000-000000000000/aprobar", &[("csrf", "x")]).await;
    assert_eq!((expired.status, expired.location.as_str()), (303, "/ingresar"), "a form is not a page to come back to");
    // The login page is Spanish, labelled, and protected by its own token.
    let page = anon.get("/ingresar").await;
    assert!(page.body.contains("<html lang=\"es-VE\">") && page.body.contains("<label for=\"email\">Correo</label>"));
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let owner = email("owner", s.tenant_a());
    let forged = anon
        .client
        .post(format!("{}/ingresar", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("email", &owner), ("password", PASSWORD), ("token", "made-up"), ("volver", "")]))
        .send()
        .await
        .unwrap();
    let forged = got(forged).await;
    assert_eq!(forged.status, 403, "a login form without its cookie");
    assert!(forged.body.contains("csrf_failed"));
    // A wrong password: the form again, with the error, and no session.
    let wrong = anon.try_login(&owner, "otra-clave").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Correo o contraseña incorrectos."));
    assert!(set_cookie(&wrong.headers, "fx_sesion").is_none());
    // The right one: a session (HttpOnly, SameSite) and the summary.
    let ok = anon.try_login(&owner, PASSWORD).await;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/resumen"));
    let cookie_line = ok
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .find_map(|v| v.to_str().ok().filter(|v| v.starts_with("fx_sesion=")))
        .unwrap();
    assert!(cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Lax"), "{cookie_line}");
    let me = Browser::login(s, &owner).await;
    assert_eq!(me.get("/resumen").await.status, 200);
    // Forms need the session's CSRF token: none, a wrong one, another session's, a foreign origin.
    let rec = pending(s, false, "transfer").await;
    let other = Browser::login(s, &owner).await;
    let other_csrf = other.csrf().await;
    let mine = me.csrf().await;
    assert_ne!(mine, other_csrf, "each session has its own token");
    for token in ["", "x", other_csrf.as_str()] {
        let r = me.post(&format!("/pedidos/{}/aprobar", rec.id), &[("csrf", token)]).await;
        assert_eq!(r.status, 403, "token {token:?}: {}", r.body);
    }
    let foreign = got(me
        .client
        .post(format!("{}/pedidos/{}/aprobar", s.base, rec.id))
        .header(COOKIE, &me.cookie)
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("csrf", &mine)]))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(foreign.status, 403, "another site's form");
    let still = tenant_store(s, false).await.recommendation(rec.id).await.unwrap().unwrap();
    assert_eq!(still.status, RecommendationStatus::Pending, "nothing was decided");
    // Logging out ends the session everywhere; the other session lives on.
    let out = me.post("/salir", &[("csrf", &mine)]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/ingresar"));
    assert_eq!(me.get("/resumen").await.status, 303, "the old cookie no longer opens pages");
    assert_eq!(other.get("/resumen").await.status, 200);
}
on_both!(sessions_logins_and_csrf, imbalanced());

async fn every_page_reads_without_javascript(s: &Server) {
    let owner = Browser::login(s, &email("owner", s.tenant_a())).await;
    let stock = tenant_store(s, false).await.current_stock(None, None).await.unwrap();
    let item = stock.iter().find(|x| x.on_hand.get() > 0.0).unwrap();
    let forecast = format!("/pronosticos?tienda={}&producto={}", item.location, item.product);
    for (path, must) in [
        ("/resumen", "Nivel de servicio"),
        ("/agentes", "Pronóstico → Alertas ‖ Optimizador → Conversación"),
        ("/alertas", "id=\"alert-feed\""),
        ("/alertas?estado=todas&severidad=critical", "Filtrar"),
        (forecast.as_str(), "<svg"),
        ("/pedidos", "Transferencias sugeridas"),
        ("/conectores", "Frescura por tienda"),
        ("/trazas", "Trazas"),
    ] {
        let r = owner.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.body.contains(must), "{path} shows {must:?}");
        assert!(!r.body.contains("{{") && !r.body.contains("{%"), "{path} is fully rendered");
        assert!(r.body.contains("aria-current=\"page\""), "{path} marks its place in the navigation");
        assert_eq!(r.headers.get("cache-control").unwrap(), "no-store", "{path}");
        let timing = r.headers.get("server-timing").unwrap().to_str().unwrap();
        assert!(timing.starts_with("app;dur="), "{path}: {timing}");
    }
    // What is on its way: the chain's open purchase orders due this week, or late however long, by
    // their numbers.
    let end = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    let open = tenant_store(s, false).await.purchase_orders().await.unwrap();
    let due: Vec<String> = open
        .iter()
        .filter(|o| o.expected_on() <= end + chrono::Duration::days(7))
        .map(|o| o.number().to_string())
        .collect();
    assert!(!due.is_empty(), "the demo has open orders");
    let page = owner.get("/pedidos").await.body;
    assert!(
        page.contains(&format!("En camino ({})", due.len() + page.matches("<td>Transferencia</td>").count())),
        "{page}"
    );
    assert!(due.iter().all(|n| page.contains(&format!("<td>{n}</td>"))), "{due:?}");
    // The summary counts the deliveries to the stores that were due by the books' evening.
    let t = tenant_store(s, false).await;
    let stores: Vec<_> = t
        .locations()
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.kind == fluxion_domain::LocationKind::Store)
        .map(|l| l.code)
        .collect();
    let late = open.iter().filter(|o| o.expected_on() <= end && stores.contains(o.destination())).count()
        + t.transfers().await.unwrap().iter().filter(|x| x.expected_on() <= end && stores.contains(x.to())).count();
    let summary = owner.get("/resumen").await.body;
    assert!(
        summary.contains(&format!("id=\"kpi-late\" href=\"/pedidos#coming-title\">{late}</a>")),
        "{late}: {summary}"
    );
    let chart = owner.get(&forecast).await.body;
    assert!(chart.contains("P10–P90") && chart.contains(">Q</text>"), "band and quincenas");
    assert!(chart.contains("id=\"fc-model\"") && chart.contains("Error típico"));
    // Numbers the Venezuelan way, money in US$.
    let summary = owner.get("/resumen").await.body;
    assert!(summary.contains("US$ ") && summary.contains(" %</span>"), "{summary}");
    // Bad filters are a clear 400 page, not a 500.
    let bad = owner.get("/alertas?tipo=nada").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Ese tipo de alerta no existe.") && bad.body.contains("No such alert type."));
    assert_eq!(owner.get("/trazas?lentas=mucho").await.status, 400);
    assert_eq!(owner.get("/pronosticos?tienda=%00&producto=x").await.status, 400);
    // Static assets are served and cached.
    let css = owner.get("/static/fluxion.css").await;
    assert_eq!(css.status, 200);
    assert!(css.headers.get("cache-control").unwrap().to_str().unwrap().contains("max-age"));
    assert_eq!(owner.get("/static/nada.js").await.status, 404);
}
on_both!(every_page_reads_without_javascript, imbalanced());

async fn malformed_urls_and_forms_get_error_pages(s: &Server) {
    let owner = Browser::login(s, &email("owner", s.tenant_a())).await;
    let csrf = owner.csrf().await;
    let secret = "no-es-un-uuid-ZX81";
    for r in [
        owner.get(&format!("/trazas/{secret}")).await,
        owner.post(&format!("/pedidos/{secret}/aprobar"), &[("csrf", &csrf)]).await,
        owner.get(&format!("/alertas?tienda={secret}&tienda=otra")).await,
        owner.post("/agentes", &[("csrf", &csrf)]).await,
        owner
            .post(
                &format!("/alertas/{}/opinion", uuid::Uuid::new_v4()),
                &[("csrf", &csrf), ("veredicto", secret), ("veredicto", "x")],
            )
            .await,
    ] {
        assert!(matches!(r.status, 400 | 422), "{} {}", r.status, r.body);
        assert!(r.body.contains("<html") && r.body.contains("data-code=\"invalid_"), "an error page: {}", r.body);
        assert!(!r.body.contains(secret), "the value sent is not repeated: {}", r.body);
    }
}
on_both!(malformed_urls_and_forms_get_error_pages);

async fn viewers_read_and_ask_but_cannot_act(s: &Server) {
    let viewer = Browser::login(s, &email("viewer", s.tenant_a())).await;
    let page = viewer.get("/pedidos").await.body;
    assert!(!page.contains("/aprobar"), "no approve buttons for viewers");
    let alerts = viewer.get("/alertas").await.body;
    assert!(!alerts.contains("/reconocer"), "no acknowledge buttons for viewers");
    assert!(!viewer.get("/resumen").await.body.contains("href=\"/trazas\""), "no traces for viewers");
    let csrf = viewer.csrf().await;
    let rec = pending(s, false, "transfer").await;
    let r = viewer.post(&format!("/pedidos/{}/aprobar", rec.id), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("forbidden"));
    assert_eq!(viewer.post(&format!("/pedidos/{}/rechazar", rec.id), &[("csrf", &csrf)]).await.status, 403);
    let still = tenant_store(s, false).await.recommendation(rec.id).await.unwrap().unwrap();
    assert_eq!(still.status, RecommendationStatus::Pending);
    assert_eq!(viewer.get("/trazas").await.status, 403, "viewers do not read traces");
    // A manager acts but does not read traces either.
    let manager = Browser::login(s, &email("manager", s.tenant_a())).await;
    assert!(manager.get("/pedidos").await.body.contains("/aprobar"));
    assert_eq!(manager.get("/trazas").await.status, 403);
}
on_both!(viewers_read_and_ask_but_cannot_act, imbalanced());

async fn alerts_are_acknowledged_and_rated(s: &Server) {
    let manager = Browser::login(s, &email("manager", s.tenant_a())).await;
    let csrf = manager.csrf().await;
    let store = tenant_store(s, false).await;
    let open = fluxion_memory::AlertQuery { status: Some(fluxion_memory::AlertStatus::Open), ..Default::default() };
    let alert = store.alerts(&open).await.unwrap().items[0].clone();
    let r = manager.post(&format!("/alertas/{}/reconocer", alert.id), &[("csrf", &csrf)]).await;
    assert_eq!(r.location, "/alertas?aviso=reconocida");
    let seen = store.alert(alert.id).await.unwrap().unwrap();
    assert_eq!(seen.status, fluxion_memory::AlertStatus::Acknowledged);
    assert!(seen.acknowledged_by.as_deref().is_some_and(|b| b.starts_with("user:")));
    let r =
        manager.post(&format!("/alertas/{}/opinion", alert.id), &[("csrf", &csrf), ("veredicto", "incorrecta")]).await;
    assert_eq!(r.location, "/alertas?aviso=opinion");
    let rated = store.alert(alert.id).await.unwrap().unwrap();
    assert_eq!(rated.feedback.map(|f| f.verdict), Some(fluxion_memory::Verdict::Wrong));
    let bad =
        manager.post(&format!("/alertas/{}/opinion", alert.id), &[("csrf", &csrf), ("veredicto", "quizas")]).await;
    assert_eq!(bad.status, 400);
    // The feed shows who saw it and the opinion, and no longer offers "Ya la vi".
    let page = manager.get("/alertas?estado=vistas").await.body;
    let row =
        page.split(&format!("id=\"alerta-{}\"", alert.id)).nth(1).unwrap().split("</li>").next().unwrap().to_owned();
    assert!(
        row.contains("vista por")
            && row.contains(&email("manager", s.tenant_a()))
            && row.contains("opinión: incorrecta"),
        "{row}"
    );
    assert!(!row.contains("/reconocer"));
}
on_both!(alerts_are_acknowledged_and_rated, imbalanced());

async fn pages_draw_from_the_tenants_request_budget(s: &Server) {
    let owner = Browser::login(s, &email("owner", s.tenant_a())).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = owner.get("/conectores").await;
        if r.status == 429 {
            assert!(r.headers.get("retry-after").is_some(), "429 says when to come back");
            assert!(r.body.contains("rate_limited"));
        }
        statuses.push(r.status);
    }
    assert!(statuses.starts_with(&[200, 200, 200]), "{statuses:?}");
    assert!(statuses.contains(&429), "the budget (burst 4) runs out: {statuses:?}");
    // Another tenant's budget is its own.
    let b = Browser::login(s, &email("owner", s.tenant_b())).await;
    assert_eq!(b.get("/conectores").await.status, 200);
}
on_both!(pages_draw_from_the_tenants_request_budget, {
    let mut o = support::Options::default();
    o.limits.tiers.insert("standard".into(), fluxion_memory::Limit::new(6, 4));
    o
});

async fn approving_twice_executes_once(s: &Server) {
    let owner = Browser::login(s, &email("owner", s.tenant_a())).await;
    let csrf = owner.csrf().await;
    let rec = pending(s, false, "transfer").await;
    let path = format!("/pedidos/{}/aprobar", rec.id);
    // A double click: two requests at once.
    let form = [("csrf", csrf.as_str())];
    let (a, b) = tokio::join!(owner.post(&path, &form), owner.post(&path, &form));
    let mut notices = [a.location.clone(), b.location.clone()];
    notices.sort();
    assert_eq!(notices, ["/pedidos?aviso=aprobada", "/pedidos?aviso=ya-aprobada"], "{a:?} {b:?}");
    let store = tenant_store(s, false).await;
    let done = store.recommendation(rec.id).await.unwrap().unwrap();
    let number = done.executed_as.clone().unwrap();
    assert!(number.starts_with("FX-TR-"), "{number}");
    let transfers = store.transfers().await.unwrap();
    assert_eq!(transfers.iter().filter(|t| t.number().as_str() == number).count(), 1, "one transfer");
    // The page says it was done, by whom, once.
    let page = owner.get("/pedidos?aviso=aprobada").await.body;
    assert!(page.contains("Aprobada: se creó el pedido o la transferencia."));
    assert_eq!(page.matches(&format!("<td class=\"executed\">{number}</td>")).count(), 1, "once among the decided");
    assert_eq!(page.matches(&format!("<td>{number}</td>")).count(), 1, "and at once among what is on its way");
    assert_eq!(page.matches(&number).count(), 2, "nowhere else");
    assert!(page.contains(&email("owner", s.tenant_a())), "by whom");
    // Someone else approving it later changes nothing.
    let manager = Browser::login(s, &email("manager", s.tenant_a())).await;
    let late = manager.post(&path, &[("csrf", &manager.csrf().await)]).await;
    assert_eq!(late.location, "/pedidos?aviso=ya-decidida");
    assert_eq!(store.transfers().await.unwrap().iter().filter(|t| t.number().as_str() == number).count(), 1);
    // Rejecting: recorded with the note.
    let order = pending(s, false, "order").await;
    let r = owner.post(&format!("/pedidos/{}/rechazar", order.id), &[("csrf", &csrf), ("nota", "Ya pedimos")]).await;
    assert_eq!(r.location, "/pedidos?aviso=rechazada");
    let rejected = store.recommendation(order.id).await.unwrap().unwrap();
    assert_eq!((rejected.status, rejected.note.as_deref()), (RecommendationStatus::Rejected, Some("Ya pedimos")));
}
on_both!(approving_twice_executes_once, imbalanced());

async fn other_tenants_pages_are_not_found_by_editing_urls(s: &Server) {
    let a = Browser::login(s, &email("owner", s.tenant_a())).await;
    let csrf = a.csrf().await;
    // Tenant B's objects.
    let b_owner = s.token("owner", true).await;
    let answer = s.post("/api/v1/ask", &b_owner, serde_json::json!({"question": "¿qué se va a agotar?"})).await;
    let b_trace = answer.expect(200)["trace_id"].as_str().unwrap().to_owned();
    let b_store = tenant_store(s, true).await;
    let b_alert = b_store.alerts(&fluxion_memory::AlertQuery::default()).await.unwrap().items[0].id;
    let b_rec = pending(s, true, "order").await.id;
    let r = a.get(&format!("/trazas/{b_trace}")).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(a.get(&format!("/trazas/{b_trace}?cadena={}", s.tenant_b())).await.status, 403);
    assert_eq!(a.get(&format!("/trazas?cadena={}", s.tenant_b())).await.status, 403);
    assert_eq!(a.post(&format!("/alertas/{b_alert}/reconocer"), &[("csrf", &csrf)]).await.status, 404);
    assert_eq!(
        a.post(&format!("/alertas/{b_alert}/opinion"), &[("csrf", &csrf), ("veredicto", "util")]).await.status,
        404
    );
    assert_eq!(a.post(&format!("/pedidos/{b_rec}/aprobar"), &[("csrf", &csrf)]).await.status, 404);
    assert_eq!(b_store.recommendation(b_rec).await.unwrap().unwrap().status, RecommendationStatus::Pending);
    assert_eq!(b_store.alert(b_alert).await.unwrap().unwrap().acknowledged_by, None);
    let r = a.get(&format!("/pronosticos?tienda={B_ONLY_STORE}&producto={B_ONLY_PRODUCT}")).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("Producto sólo de B") && !r.body.contains("Tienda sólo de B"), "B's names never show");
    assert!(!a.get(&format!("/alertas?tienda={B_ONLY_STORE}")).await.body.contains("sólo de B"));
    // Tenant B's own owner opens the trace; operators open every tenant's traces, and nothing else.
    let b = Browser::login(s, &email("owner", s.tenant_b())).await;
    let own = b.get(&format!("/trazas/{b_trace}")).await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains("class=\"waterfall\""));
    let op = Browser::login(s, &s.operator_email()).await;
    assert_eq!(op.get("/").await.location, "/trazas");
    let list = op.get("/trazas").await.body;
    assert!(list.contains(&format!("?cadena={}", s.tenant_b())), "operators see every tenant's traces");
    assert_eq!(op.get(&format!("/trazas/{b_trace}?cadena={}", s.tenant_b())).await.status, 200);
    for path in ["/resumen", "/alertas", "/pedidos", "/pronosticos", "/conectores", "/agentes"] {
        assert_eq!(op.get(path).await.status, 403, "{path} is not for operators");
    }
}
on_both!(other_tenants_pages_are_not_found_by_editing_urls, imbalanced());

async fn asking_shows_the_agents_the_answer_and_its_trace(s: &Server) {
    let pending_before = pending_count(s).await;
    let owner = Browser::login(s, &email("owner", s.tenant_a())).await;
    let csrf = owner.csrf().await;
    // Without JavaScript: the whole answer at once.
    let r = owner.post("/agentes", &[("csrf", &csrf), ("pregunta", "¿qué transferencias me recomiendas?")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"answer-title\""));
    assert!(r.body.contains("class=\"step ok\" data-agent=\"optimizer\""), "{}", r.body);
    let trace = r.body.split("href=\"/trazas/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    // The trace: a waterfall of the request's stages, and what it touched.
    let t = owner.get(&format!("/trazas/{trace}")).await;
    assert_eq!(t.status, 200);
    assert!(t.body.contains("data-status=\"ok\"") && t.body.contains("dashboard"));
    assert!(t.body.contains("Lo que tocó"));
    // The transfer it recommends is kept pending (the same one the optimizer's job left), can be
    // approved from the answer, and the trace links it with what became of it.
    let id =
        r.body.split("action=\"/pedidos/").nth(1).expect("an approve form in the answer").split('/').next().unwrap();
    let approved = owner.post(&format!("/pedidos/{id}/aprobar"), &[("csrf", &csrf)]).await;
    assert_eq!(approved.location, "/pedidos?aviso=aprobada");
    let t = owner.get(&format!("/trazas/{trace}")).await;
    assert!(t.body.contains("Recomendación:") && t.body.contains("aprobada y ejecutada como FX-TR-"), "{}", t.body);
    let pending_after = pending_count(s).await;
    assert_eq!(
        pending_after,
        pending_before - 1,
        "the answer's transfer was the job's one, kept in place, and approved"
    );
    // An empty question is refused with a clear message.
    let empty = owner.post("/agentes", &[("csrf", &csrf), ("pregunta", "  ")]).await;
    assert_eq!(empty.status, 422);
    // With JavaScript: the stream of progress, then the answer's HTML.
    let stream = owner
        .client
        .post(format!("{}/agentes/preguntar", s.base))
        .header(COOKIE, &owner.cookie)
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("csrf", ""), ("pregunta", "¿qué se va a agotar esta semana?")]))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let text = stream.text().await.unwrap();
    assert!(text.contains("event: progress") && text.contains("agent.started") && text.contains("agent.finished"));
    let answer_at = text.find("event: answer").expect("an answer event");
    assert!(text[answer_at..].contains("answer-title"), "{text}");
}
on_both!(asking_shows_the_agents_the_answer_and_its_trace, imbalanced());

async fn new_alerts_reach_the_open_feed(s: &Server) {
    let owner = Browser::login(s, &email("owner", s.tenant_a())).await;
    let feed =
        owner.client.get(format!("{}/alertas/eventos", s.base)).header(COOKIE, &owner.cookie).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    let store = tenant_store(s, false).await;
    let stored = store.alerts(&fluxion_memory::AlertQuery::default()).await.unwrap().items[0].clone();
    // Tenant B's news never reach A's feed; A's do.
    let b_alert =
        tenant_store(s, true).await.alerts(&fluxion_memory::AlertQuery::default()).await.unwrap().items[0].clone();
    let announce = |alert: &fluxion_domain::Alert| BusEvent {
        kind: "alert.new".into(),
        request: None,
        agent: Some("alert".into()),
        data: serde_json::to_value(alert).unwrap(),
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.runtime.bus().publish(&Topic::Tenant(slug(s.tenant_b())), &announce(&b_alert.alert)).await.unwrap();
    s.runtime.bus().publish(&Topic::Tenant(slug(s.tenant_a())), &announce(&stored.alert)).await.unwrap();
    let mut body = feed;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !text.contains("</li>") && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), body.chunk()).await {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    assert!(text.contains("event: alert"), "{text}");
    assert!(text.contains(&format!("id=\"alerta-{}\"", stored.id)), "A's alert, rendered: {text}");
    assert!(!text.contains(&b_alert.id.to_string()), "never B's");
    // A feed left open does not hold the server's shutdown: the stream ends.
    s.begin_shutdown();
    let ended =
        tokio::time::timeout(Duration::from_secs(5), async { while let Ok(Some(_)) = body.chunk().await {} }).await;
    assert!(ended.is_ok(), "the live feed ends when the server shuts down");
}
on_both!(new_alerts_reach_the_open_feed, imbalanced());
