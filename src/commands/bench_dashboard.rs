//! `fluxion bench dashboard`: how long each dashboard page takes to make on a tenant (the demo
//! chain by default), logged in as an owner through the login form, over HTTP on loopback: server
//! time (the page's `Server-Timing`) p50, p95 and max per page, and the client's p95, after one
//! warm-up request (whose time is reported apart: it loads the tenant's live context when nothing
//! has yet).

use super::bench_api::{Loaded, load_tenant, percentile};
use crate::settings::Settings;
use anyhow::Context;
use chrono::Utc;
use fluxion_memory::{Role, UserRecord};
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Serialize)]
struct PageFigures {
    page: String,
    requests: usize,
    first_ms: f64,
    /// Server time (its `Server-Timing` header).
    p50_ms: f64,
    p95_ms: f64,
    max_ms: f64,
    /// As the client saw it (loopback HTTP included).
    client_p95_ms: f64,
    bytes: usize,
}

#[derive(Debug, Serialize)]
struct Figures {
    tenant: String,
    backend: String,
    pages: Vec<PageFigures>,
    /// The slowest page's p95 server time.
    worst_p95_ms: f64,
}

/// The value `Set-Cookie` gives `name`.
fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next()?.trim().strip_prefix(&format!("{name}=")).map(str::to_owned))
}

fn form(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

pub async fn run(settings: &Settings, tenant: &str, requests: usize, json: bool) -> anyhow::Result<()> {
    if !(1..=10_000).contains(&requests) {
        return Err(crate::bad_input("--requests 1–10000"));
    }
    let Loaded { slug, store, tenant: t, runtime } = load_tenant(settings, tenant).await?;
    let mut api = crate::app::open_api(settings, store.clone(), runtime.clone())?;
    // The tenant's request budget would pace the bench: measured here is rendering.
    api.limits.tiers.insert(api.limits.default_tier.clone(), fluxion_memory::Limit::new(10_000_000, 1_000_000));
    api.limits.tenant_tiers.clear();
    // An owner of this run only (disabled at the end).
    let password = Uuid::new_v4().to_string();
    let hash = api.auth.hash_password(&password).map_err(|_| anyhow::anyhow!("password hashing failed"))?;
    let email = format!("bench-owner-{}@{}.bench", &password[..8], slug.as_str().replace('_', "-"));
    let user = UserRecord {
        id: Uuid::new_v4(),
        tenant: Some(t.id),
        email: email.clone(),
        name: "Bench".into(),
        role: Role::Owner,
        password_hash: hash,
        disabled: false,
        created_at: Utc::now(),
    };
    store.accounts().create_user(&user).await?;
    let state = fluxion_gateway::AppState::new(vec![], Duration::from_secs(1)).with_api(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("listen")?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(fluxion_gateway::serve(listener, state, shutdown.clone()));
    fluxion_memory::http_client(Duration::from_secs(30)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .context("http client")?;

    // Log in through the form, as a browser does.
    let page = client.get(format!("{base}/ingresar")).send().await?;
    let token = set_cookie(page.headers(), "fx_ingreso").context("the login page sets its token")?;
    let login = client
        .post(format!("{base}/ingresar"))
        .header(reqwest::header::COOKIE, format!("fx_ingreso={token}"))
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("email", &email), ("password", &password), ("token", &token), ("volver", "")]))
        .send()
        .await?;
    let session = set_cookie(login.headers(), "fx_sesion").context("logging in opens a session")?;
    let cookie = format!("fx_sesion={session}");
    let get = |path: String| {
        let (client, cookie, base) = (client.clone(), cookie.clone(), base.clone());
        async move {
            let started = Instant::now();
            let resp = client.get(format!("{base}{path}")).header(reqwest::header::COOKIE, cookie).send().await?;
            let status = resp.status().as_u16();
            let server = resp
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split("dur=").nth(1))
                .and_then(|v| v.parse::<f64>().ok());
            let body = resp.text().await?;
            let client_ms = started.elapsed().as_secs_f64() * 1000.0;
            anyhow::ensure!(status == 200, "{path} answered {status}");
            let server = server.with_context(|| format!("{path} has no Server-Timing"))?;
            Ok::<_, anyhow::Error>(((server, client_ms), body))
        }
    };

    // A question, so that there is a trace to open; a best seller for the forecast page.
    let agents = get("/agentes".into()).await?.1;
    let csrf = agents
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("the CSRF token")?
        .to_owned();
    let answered = client
        .post(format!("{base}/agentes"))
        .header(reqwest::header::COOKIE, &cookie)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &csrf), ("pregunta", "¿qué se va a agotar esta semana?")]))
        .send()
        .await?
        .text()
        .await?;
    let trace = answered
        .split("href=\"/trazas/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("the answer links its trace")?
        .to_owned();
    let forecasts = get("/pronosticos".into()).await?.1;
    let best = forecasts
        .split("class=\"shortcuts\"><li><a href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("a best seller")?
        .replace("&amp;", "&");

    let pages = [
        "/resumen".to_owned(),
        "/agentes".to_owned(),
        "/alertas".to_owned(),
        "/alertas?estado=todas".to_owned(),
        best,
        "/pedidos".to_owned(),
        "/conectores".to_owned(),
        "/trazas".to_owned(),
        format!("/trazas/{trace}"),
    ];
    let mut figures = Vec::new();
    for page in pages {
        let ((first_ms, _), body) = get(page.clone()).await?;
        let (mut server, mut client_side) = (Vec::with_capacity(requests), Vec::with_capacity(requests));
        for _ in 0..requests {
            let ((s, c), _) = get(page.clone()).await?;
            server.push(s);
            client_side.push(c);
        }
        server.sort_by(f64::total_cmp);
        client_side.sort_by(f64::total_cmp);
        figures.push(PageFigures {
            page,
            requests,
            first_ms,
            p50_ms: percentile(&server, 0.5),
            p95_ms: percentile(&server, 0.95),
            max_ms: server.last().copied().unwrap_or(0.0),
            client_p95_ms: percentile(&client_side, 0.95),
            bytes: body.len(),
        });
    }
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    runtime.shutdown().await;
    store.accounts().set_user_disabled(t.id, user.id, true).await?;

    let worst = figures.iter().map(|f| f.p95_ms).fold(0.0, f64::max);
    let figures =
        Figures { tenant: slug.to_string(), backend: store.backend().to_string(), pages: figures, worst_p95_ms: worst };
    if json {
        super::print_json(&figures)?;
    } else {
        println!(
            "Dashboard pages, {} store, tenant {}, {requests} requests each after one warm-up:",
            figures.backend, figures.tenant
        );
        for p in &figures.pages {
            println!(
                "  {:<60} first {:>8.2} ms  server p50 {:>7.2} ms  p95 {:>7.2} ms  max {:>7.2} ms  client p95 {:>7.2} ms  {:>7} bytes",
                p.page, p.first_ms, p.p50_ms, p.p95_ms, p.max_ms, p.client_p95_ms, p.bytes
            );
        }
        println!("  slowest server p95: {:.2} ms (goal: under 300 ms)", figures.worst_p95_ms);
    }
    Ok(())
}
