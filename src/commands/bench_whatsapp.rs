//! `fluxion bench whatsapp`: a burst of signed WhatsApp webhooks (text questions from many users)
//! at a fixed rate against the real webhook, with the fake of Meta on the other side: the
//! acknowledgement latency (p50, p99, max), then the time until every message was handled and
//! answered, and whether any was lost.

use super::bench_api::percentile;
use crate::settings::Settings;
use anyhow::Context;
use chrono::Utc;
use fluxion_gateway::whatsapp::fake::{FakeConfig, MetaFake};
use fluxion_gateway::whatsapp::{GraphConfig, WhatsApp, WhatsAppConfig, webhook};
use fluxion_memory::{Contact, Role, UserRecord};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Serialize)]
struct Figures {
    tenant: String,
    backend: String,
    rate_per_second: u32,
    seconds: u64,
    users: usize,
    workers: usize,
    sent: usize,
    acknowledged: usize,
    non_200: usize,
    ack_p50_ms: f64,
    ack_p99_ms: f64,
    ack_max_ms: f64,
    achieved_rate_per_second: f64,
    stored: usize,
    handled: usize,
    answered_users: usize,
    replies: usize,
    drain_seconds: f64,
    handled_per_second: f64,
    lost: usize,
}

const QUESTIONS: [&str; 6] = [
    "¿cuánta harina pan pido para la quincena?",
    "¿qué se me agota esta semana?",
    "¿cuánto arroz vendo en la semana?",
    "¿tengo exceso de inventario?",
    "¿qué transferencias me recomiendas?",
    "ayuda",
];

pub async fn run(
    settings: &Settings,
    tenant: &str,
    rate: u32,
    seconds: u64,
    users: usize,
    json: bool,
) -> anyhow::Result<()> {
    if !(1..=5_000).contains(&rate) || !(1..=600).contains(&seconds) || !(1..=10_000).contains(&users) {
        return Err(crate::bad_input("--rate 1–5000, --seconds 1–600, --users 1–10000"));
    }
    let super::bench_api::Loaded { slug, store, tenant: t, runtime } =
        super::bench_api::load_tenant(settings, tenant).await?;
    // Bench users (managers who cannot log in: their password hash verifies nothing), each with a number.
    let mut phones = Vec::with_capacity(users);
    for i in 0..users {
        let email = format!("wa-bench-{i}@{}.bench.fluxion.local", slug.as_str().replace('_', "-"));
        let id = match store.accounts().user_by_email(&email).await? {
            Some(u) => u.id,
            None => {
                let user = UserRecord {
                    id: Uuid::new_v4(),
                    tenant: Some(t.id),
                    email,
                    name: format!("Gerente de prueba {i}"),
                    role: Role::Manager,
                    password_hash: "!bench-user-cannot-log-in".into(),
                    disabled: false,
                    created_at: Utc::now(),
                };
                store.accounts().create_user(&user).await?;
                user.id
            }
        };
        let phone = format!("5800{:07}", i);
        let contact = Contact {
            phone: phone.clone(),
            user: id,
            tenant: t.id,
            stores: Vec::new(),
            alerts: false,
            created_at: Utc::now(),
        };
        store.messaging().save_contact(&contact).await?;
        phones.push(phone);
    }

    let secret = "bench-app-secret";
    let fake = MetaFake::start(FakeConfig::new(secret, "bench-token", "1234567890")).await?;
    let graph = GraphConfig {
        base_url: fake.base_url().to_owned(),
        version: "v23.0".into(),
        phone_number_id: "1234567890".into(),
        access_token: "bench-token".into(),
        timeout: Duration::from_secs(10),
    };
    let mut config = WhatsAppConfig::new("bench-verify", secret, graph);
    config.workers = settings.whatsapp.workers;
    config.push.enabled = false;
    let wa = WhatsApp::new(config, store.clone(), runtime.clone()).map_err(anyhow::Error::msg)?;
    let background = CancellationToken::new();
    let tasks = wa.start(&background);
    let state = fluxion_gateway::AppState::new(vec![], Duration::from_secs(1)).with_whatsapp(wa.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("listen")?;
    let url = format!("http://{}/webhooks/whatsapp", listener.local_addr()?);
    fake.set_webhook(&url);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(fluxion_gateway::serve(listener, state, shutdown.clone()));
    let client = fluxion_memory::http_client(Duration::from_secs(30)).map_err(|e| anyhow::anyhow!("{e}"))?;

    // The burst: one webhook every 1/rate s, each on its own task (Meta does not wait for us).
    let total = rate as usize * seconds as usize;
    let latencies = Arc::new(Mutex::new(Vec::<f64>::with_capacity(total)));
    let failures = Arc::new(Mutex::new(0usize));
    let mut ids = Vec::with_capacity(total);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sends = tokio::task::JoinSet::new();
    let started = Instant::now();
    for n in 0..total {
        ticker.tick().await;
        let phone = &phones[n % phones.len()];
        let id = fake.wamid();
        fake.open_window(phone);
        let body = fake.envelope(
            phone,
            "Gerente",
            &id,
            serde_json::json!({"type": "text", "text": {"body": QUESTIONS[n % QUESTIONS.len()]}}),
        );
        ids.push(id);
        let signature = webhook::sign(secret.as_bytes(), &body);
        let (client, url, latencies, failures) = (client.clone(), url.clone(), latencies.clone(), failures.clone());
        sends.spawn(async move {
            let t = Instant::now();
            let status = client
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if status == 200 {
                latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(ms);
            } else {
                *failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
            }
        });
    }
    while sends.join_next().await.is_some() {}
    let burst = started.elapsed().as_secs_f64();

    // Then every message handled and answered.
    let messaging = store.messaging();
    let deadline = Instant::now() + Duration::from_secs(1800);
    while Instant::now() < deadline {
        if messaging.inbox_pending().await? == 0 && messaging.outbox_pending().await? == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drain = started.elapsed().as_secs_f64();
    let mut stored = 0;
    let mut handled = 0;
    for id in &ids {
        if let Some((_, state, _)) = messaging.inbound(id).await? {
            stored += 1;
            if state == "done" {
                handled += 1;
            }
        }
    }
    let sent = fake.sent();
    let answered_users = phones.iter().filter(|p| sent.iter().any(|s| &s.to == *p)).count();
    shutdown.cancel();
    background.cancel();
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    runtime.shutdown().await;

    let mut lat = std::mem::take(&mut *latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    lat.sort_by(f64::total_cmp);
    let non_200 = *failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let figures = Figures {
        tenant: slug.to_string(),
        backend: store.backend().to_string(),
        rate_per_second: rate,
        seconds,
        users,
        workers: settings.whatsapp.workers,
        sent: total,
        acknowledged: lat.len(),
        non_200,
        ack_p50_ms: percentile(&lat, 0.5),
        ack_p99_ms: percentile(&lat, 0.99),
        ack_max_ms: lat.last().copied().unwrap_or(0.0),
        achieved_rate_per_second: total as f64 / burst,
        stored,
        handled,
        answered_users,
        replies: sent.len(),
        drain_seconds: drain,
        handled_per_second: handled as f64 / drain,
        lost: total - handled,
    };
    if json {
        super::print_json(&figures)?;
    } else {
        println!(
            "WhatsApp webhook, {} messages/s for {} s from {} users ({} store, {} workers):",
            rate, seconds, users, figures.backend, figures.workers
        );
        println!(
            "  acknowledged {} of {} (achieved {:.1} msg/s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} not 200",
            figures.acknowledged,
            total,
            figures.achieved_rate_per_second,
            figures.ack_p50_ms,
            figures.ack_p99_ms,
            figures.ack_max_ms,
            non_200
        );
        println!(
            "  stored {}, handled {}, {} replies to {} of {} users; all handled {:.1} s after the burst began ({:.1} msg/s); lost {}",
            stored, handled, figures.replies, answered_users, users, drain, figures.handled_per_second, figures.lost
        );
    }
    if figures.lost > 0 || non_200 > 0 {
        anyhow::bail!("{} messages lost, {} not acknowledged", figures.lost, non_200);
    }
    Ok(())
}
