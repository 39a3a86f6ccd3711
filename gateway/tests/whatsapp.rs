//! WhatsApp end to end: the real gateway (webhook, inbox workers, sender) against the fake of Meta,
//! over HTTP, on SQLite and on PostgreSQL. Questions are answered by the real runtime over two demo
//! tenants; approvals create real purchase orders and transfers.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::Utc;
use fluxion_gateway::whatsapp::fake::{Fault, MetaFake, Sent};
use fluxion_gateway::whatsapp::{WhatsApp, push};
use fluxion_memory::{Offer, RecommendationStatus, Role, StoredRecommendation, TenantStore, Verdict};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{B_ONLY_PRODUCT, Server, phone, slug};

const WAIT: Duration = Duration::from_secs(60);

fn wa(s: &Server) -> (&Arc<WhatsApp>, &MetaFake) {
    let (w, f) = s.wa.as_ref().unwrap();
    (w, f)
}

async fn tenant_store(s: &Server, b: bool) -> Arc<dyn TenantStore> {
    s.store.scope(&slug(if b { s.tenant_b() } else { s.tenant_a() })).await.unwrap()
}

/// Waits until the inbox is empty and the outbox has nothing due, then a little longer.
async fn settle(s: &Server) {
    let m = s.store.messaging();
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if m.inbox_pending().await.unwrap() == 0 && m.outbox_pending().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn texts(list: &[Sent]) -> Vec<String> {
    list.iter().map(Sent::text).collect()
}

async fn question_answer_unknown_numbers_and_duplicates(s: &Server) {
    let (_, fake) = wa(s);
    // The handshake: the challenge byte for byte (even one that needs URL encoding), 403 on a wrong token.
    assert_eq!(fake.verify(support::WA_VERIFY).await.unwrap(), (reqwest::StatusCode::OK, true));
    let (status, _) = fake.verify("not-the-token").await.unwrap();
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);

    // A bad signature: 401 and nothing stored.
    let manager = phone(Role::Manager, false);
    let id = fake.wamid();
    let body = fake.envelope(&manager, "Gerente", &id, serde_json::json!({"type": "text", "text": {"body": "hola"}}));
    assert_eq!(fake.deliver(body.clone(), Some(&format!("sha256={}", "0".repeat(64)))).await.unwrap(), 401);
    assert_eq!(fake.deliver(body, Some("")).await.unwrap(), 401);
    assert!(s.store.messaging().inbound(&id).await.unwrap().is_none(), "a refused webhook stores nothing");

    // A question, answered with the agents' numbers.
    let before = fake.sent_to(&manager).len();
    let asked = fake.user_says(&manager, "¿cuántas ventas espero de harina esta semana?").await;
    let got = fake.wait_for(&manager, before + 1, WAIT).await;
    settle(s).await;
    let replies: Vec<Sent> = fake.sent_to(&manager)[before..].to_vec();
    assert!(!replies.is_empty(), "no answer to the question");
    let text = texts(&replies).join("\n");
    assert!(text.chars().any(|c| c.is_ascii_digit()), "an answer with numbers: {text}");
    assert!(got.iter().all(|m| m.text().chars().count() <= 4096));
    let (row, state, outcome) = s.store.messaging().inbound(&asked).await.unwrap().unwrap();
    assert_eq!((row.phone.as_str(), state.as_str()), (manager.as_str(), "done"));
    assert!(outcome.unwrap().starts_with("answered"));
    // Its trace records the channel and the message that carried it.
    let traces = tenant_store(s, false).await.traces(&Default::default()).await.unwrap();
    assert!(traces.iter().any(|t| t.channel == "whatsapp"), "a whatsapp trace");

    // "Muéstrame la venta del arroz": a chart, uploaded as media, then the words.
    let before = fake.sent_to(&manager).len();
    fake.user_says(&manager, "muéstrame la venta del arroz").await;
    fake.wait_for(&manager, before + 2, WAIT).await;
    settle(s).await;
    let replies = fake.sent_to(&manager)[before..].to_vec();
    let image = replies.iter().find(|m| m.body["type"] == "image").expect("a chart");
    let media = image.body["image"]["id"].as_str().expect("sent by media id");
    assert!(image.body["image"].get("link").is_none() && image.body["image"].get("png_base64").is_none());
    let (png, mime) = fake.media_file(media).unwrap();
    assert_eq!((&png[..4], mime.as_str()), (&b"\x89PNG"[..], "image/png"));
    assert!(image.text().contains("P10–P90"), "{}", image.text());

    // "¿Qué pido hoy?": the store's orders in words; none of them offered alone with buttons.
    let before = fake.sent_to(&manager).len();
    fake.user_says(&manager, "¿qué pido hoy?").await;
    fake.wait_for(&manager, before + 1, WAIT).await;
    settle(s).await;
    let replies = fake.sent_to(&manager)[before..].to_vec();
    assert!(replies.iter().all(|m| m.buttons().is_empty()), "a list of orders offers no single one");
    let text = texts(&replies).join("\n");
    assert!(text.contains("«Pedidos y transferencias»") || text.contains("no hace falta pedir nada"), "{text}");

    // "¿Qué me llega esta semana?": the deliveries on their way, by sender and number, no buttons.
    let before = fake.sent_to(&manager).len();
    fake.user_says(&manager, "¿qué me llega esta semana?").await;
    fake.wait_for(&manager, before + 1, WAIT).await;
    settle(s).await;
    let replies = fake.sent_to(&manager)[before..].to_vec();
    assert!(replies.iter().all(|m| m.buttons().is_empty()), "deliveries offer nothing to approve");
    let text = texts(&replies).join("\n");
    assert!(text.contains("esperas") && text.contains("(pedido OC-"), "{text}");

    // The same message delivered three times (Meta's at-least-once): answered once.
    let before = fake.sent_to(&manager).len();
    let id = fake.wamid();
    let body = fake.envelope(
        &manager,
        "Gerente",
        &id,
        serde_json::json!({"type": "text", "text": {"body": "¿qué se me agota esta semana?"}}),
    );
    for _ in 0..3 {
        assert_eq!(fake.deliver(body.clone(), None).await.unwrap(), 200);
    }
    fake.wait_for(&manager, before + 1, WAIT).await;
    settle(s).await;
    let once = fake.sent_to(&manager).len() - before;
    assert!(once >= 1);
    let intents = s.store.messaging().outbox(&manager, None, Utc::now() - chrono::Duration::minutes(5)).await.unwrap();
    let for_it = intents.iter().filter(|o| o.id.starts_with(&format!("in:{id}:"))).count();
    assert_eq!(once, for_it, "one send per intent of the one handling");

    // An unknown number: directions, nothing else.
    let stranger = "584129998877";
    fake.user_says(stranger, "¿cuánta harina tengo?").await;
    let got = fake.wait_for(stranger, 1, WAIT).await;
    settle(s).await;
    assert_eq!(fake.sent_to(stranger).len(), 1);
    assert!(got[0].text().contains("no está registrado"), "{}", got[0].text());
    assert!(!got[0].text().chars().any(|c| c.is_ascii_digit()), "no data for strangers");

    // Tenant A's manager never hears of tenant B's product.
    let before = fake.sent_to(&manager).len();
    fake.user_says(&manager, &format!("¿cuánto vendo de {B_ONLY_PRODUCT}?")).await;
    fake.wait_for(&manager, before + 1, WAIT).await;
    settle(s).await;
    let text = texts(&fake.sent_to(&manager)[before..]).join("\n");
    assert!(!text.contains("Producto sólo de B") && !text.contains(B_ONLY_PRODUCT), "{text}");
}
on_both!(question_answer_unknown_numbers_and_duplicates, support::with_whatsapp());

/// The pending recommendation on offer after a push (the last one pushed with "SI" buttons: a
/// typed "sí" refers to it), and the message that carried it.
async fn pushed_suggestion(s: &Server, to: &str) -> (uuid::Uuid, Sent) {
    let (w, fake) = wa(s);
    let queued = push::push_once(w, Utc::now()).await.unwrap();
    assert!(queued > 0, "alerts are pushed");
    settle(s).await;
    let offer = s.store.messaging().offer(to).await.unwrap().expect("a suggestion on offer");
    let yes = format!("r:{}:si", offer.recommendation);
    let carrier = fake
        .sent_to(to)
        .into_iter()
        .find(|m| m.buttons().contains(&yes))
        .expect("a pushed alert with the suggestion on offer");
    (offer.recommendation, carrier)
}

async fn recommendation(s: &Server, id: uuid::Uuid) -> StoredRecommendation {
    tenant_store(s, false).await.recommendation(id).await.unwrap().unwrap()
}

async fn orders_numbered(s: &Server, number: &str) -> usize {
    let store = tenant_store(s, false).await;
    let orders = store.purchase_orders().await.unwrap().iter().filter(|o| o.number().as_str() == number).count();
    let transfers = store.transfers().await.unwrap().iter().filter(|t| t.number().as_str() == number).count();
    orders + transfers
}

fn confirmations(fake: &MetaFake, to: &str) -> usize {
    fake.sent_to(to).iter().filter(|m| m.text().starts_with("✅ Aprobado")).count()
}

async fn alert_push_approval_exactly_once(s: &Server) {
    let (w, fake) = wa(s);
    let owner = phone(Role::Owner, false);
    fake.open_window(&owner);
    let (rec, carrier) = pushed_suggestion(s, &owner).await;
    assert!(carrier.text().contains("US$"), "an alert with its money impact: {}", carrier.text());
    // Pushing again pushes nothing new.
    assert_eq!(push::push_once(w, Utc::now()).await.unwrap(), 0);

    // "SI" delivered three times, tapped twice, and typed: one order, one confirmation.
    let tap = fake.wamid();
    let body = fake.tap_envelope(&owner, &tap, &format!("r:{rec}:si"), "SI", &carrier.wamid);
    for _ in 0..3 {
        assert_eq!(fake.deliver(body.clone(), None).await.unwrap(), 200);
    }
    fake.user_taps(&owner, &format!("r:{rec}:si"), "SI", &carrier.wamid).await;
    fake.user_says(&owner, "sí").await;
    settle(s).await;
    let r = recommendation(s, rec).await;
    assert_eq!(r.status, RecommendationStatus::Approved);
    let number = r.executed_as.clone().unwrap();
    assert_eq!(orders_numbered(s, &number).await, 1, "exactly one order or transfer");
    assert_eq!(confirmations(fake, &owner), 1, "one confirmation");
    let confirmation = fake.sent_to(&owner).into_iter().find(|m| m.text().starts_with("✅")).unwrap();
    assert!(confirmation.text().contains(&number), "{}", confirmation.text());
    let user = s.store.messaging().contact(&owner).await.unwrap().unwrap().user;
    assert_eq!(r.decided_by.as_deref(), Some(format!("user:{user}").as_str()), "who approved");
    assert!(r.decided_at.is_some());

    // Feedback on the alert that brought it.
    let rate = fake
        .sent_to(&owner)
        .into_iter()
        .find(|m| m.text().contains("¿Te fue útil") && m.buttons().iter().any(|b| b.starts_with("f:")))
        .expect("the approval asks whether the alert helped");
    let useful = rate.buttons()[0].clone();
    fake.user_taps(&owner, &useful, "Útil", &rate.wamid).await;
    settle(s).await;
    let alert: uuid::Uuid = useful.split(':').nth(1).unwrap().parse().unwrap();
    let stored = tenant_store(s, false).await.alert(alert).await.unwrap().unwrap();
    assert_eq!(stored.feedback.unwrap().verdict, Verdict::Useful);

    // A viewer cannot approve.
    let viewer = phone(Role::Viewer, false);
    let pending = tenant_store(s, false)
        .await
        .recommendations(&fluxion_memory::RecommendationQuery {
            status: Some(RecommendationStatus::Pending),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let other = pending.first().unwrap().id;
    fake.user_taps(&viewer, &format!("r:{other}:si"), "SI", "wamid.none").await;
    settle(s).await;
    assert_eq!(recommendation(s, other).await.status, RecommendationStatus::Pending);
    assert!(fake.sent_to(&viewer).last().unwrap().text().contains("consulta"));

    // A later suggestion is on offer while the owner taps "SI" under an earlier one.
    let later = pending.get(3).unwrap().id;
    let offer = Offer { recommendation: later, expires_at: Utc::now() + chrono::Duration::hours(1) };
    s.store.messaging().set_offer(&owner, &offer).await.unwrap();
    // A worker killed between executing and confirming: one order, one confirmation, after the lease.
    w.faults.crash_after_execute.store(1, Ordering::SeqCst);
    fake.user_taps(&owner, &format!("r:{other}:si"), "SI", "wamid.none").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while confirmations(fake, &owner) < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settle(s).await;
    let r = recommendation(s, other).await;
    assert_eq!(r.status, RecommendationStatus::Approved);
    assert_eq!(orders_numbered(s, r.executed_as.as_deref().unwrap()).await, 1);
    assert_eq!(confirmations(fake, &owner), 2, "the crashed approval was confirmed once, after the lease");
    assert_eq!(w.faults.crash_after_execute.load(Ordering::SeqCst), 0);
    // Settling the earlier one left the later one on offer: a typed "sí" approves it.
    assert_eq!(s.store.messaging().offer(&owner).await.unwrap().map(|o| o.recommendation), Some(later));
    fake.user_says(&owner, "sí").await;
    settle(s).await;
    assert_eq!(recommendation(s, later).await.status, RecommendationStatus::Approved);
    assert_eq!(confirmations(fake, &owner), 3, "the typed sí confirmed the suggestion on offer");
    assert_eq!(s.store.messaging().offer(&owner).await.unwrap(), None, "and took it off offer");

    // Tenant B's owner cannot approve tenant A's suggestion.
    let third = pending.get(1).unwrap().id;
    // A manager: the detail, then "SI" above their limit (refused), then "NO" (rejected, recorded).
    let manager = phone(Role::Manager, false);
    let fourth = pending.get(2).unwrap().id;
    fake.user_taps(&manager, &format!("r:{fourth}:ver"), "Ver detalle", "wamid.none").await;
    settle(s).await;
    let detail = fake.sent_to(&manager).last().unwrap().clone();
    assert!(detail.text().contains("Valor: US$") && detail.text().contains("Margen que protege"), "{}", detail.text());
    assert_eq!(detail.buttons().len(), 2, "SI and NO under the detail");
    fake.user_taps(&manager, &format!("r:{fourth}:si"), "SI", &detail.wamid).await;
    settle(s).await;
    assert!(fake.sent_to(&manager).last().unwrap().text().contains("límite"));
    assert_eq!(recommendation(s, fourth).await.status, RecommendationStatus::Pending);
    fake.user_taps(&manager, &format!("r:{fourth}:no"), "NO", &detail.wamid).await;
    settle(s).await;
    let rejected = recommendation(s, fourth).await;
    assert_eq!(rejected.status, RecommendationStatus::Rejected);
    assert!(rejected.executed_as.is_none());
    let b_owner = phone(Role::Owner, true);
    fake.user_taps(&b_owner, &format!("r:{third}:si"), "SI", "wamid.none").await;
    settle(s).await;
    assert_eq!(recommendation(s, third).await.status, RecommendationStatus::Pending);
}
on_both!(alert_push_approval_exactly_once, support::with_whatsapp());

async fn closed_windows_get_templates_and_sends_never_duplicate(s: &Server) {
    let (w, fake) = wa(s);
    // The owner wrote (both sides think the window open), but Meta's closed meanwhile; the manager
    // never wrote (the service knows the window is closed).
    let owner = phone(Role::Owner, false);
    let manager = phone(Role::Manager, false);
    fake.user_says(&owner, "hola").await;
    settle(s).await;
    fake.age_window(&owner, chrono::Duration::hours(25));
    let before = fake.sent_to(&owner).len();
    assert!(push::push_once(w, Utc::now()).await.unwrap() > 0);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !fake.sent_to(&owner)[before..].iter().any(Sent::is_template) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settle(s).await;
    // The manager: only templates, straight away.
    let got = fake.sent_to(&manager);
    assert!(!got.is_empty());
    assert!(got.iter().all(Sent::is_template), "outside the window only templates");
    assert_eq!(got[0].body["template"]["name"], "fluxion_alerta");
    assert!(got.iter().all(|m| m.delivered));
    // The owner: Meta failed the free-form message with 131047, and the template went instead.
    let after = &fake.sent_to(&owner)[before..];
    assert!(after.iter().any(|m| !m.delivered), "the free-form attempt failed at Meta");
    assert!(after.iter().any(|m| m.is_template() && m.delivered), "then the template was delivered");

    // Throughput errors are retried; a send that took the message but never answered is not sent
    // again (its status webhook names it).
    let viewer = phone(Role::Viewer, false);
    fake.fail_next([Fault::Error { code: 130429, status: 400 }, Fault::Hang]);
    let before = fake.sent_to(&viewer).len();
    fake.user_says(&viewer, "ayuda").await;
    fake.wait_for(&viewer, before + 1, WAIT).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    settle(s).await;
    let replies = &fake.sent_to(&viewer)[before..];
    assert_eq!(replies.len(), 1, "delivered once: {:?}", texts(replies));
    let intent = s.store.messaging().outbox(&viewer, None, Utc::now() - chrono::Duration::minutes(5)).await.unwrap();
    let last = intent.last().unwrap();
    assert_eq!(last.state, fluxion_memory::OutState::Sent);
    assert_eq!(last.wamid.as_deref(), Some(replies[0].wamid.as_str()), "reconciled from the status webhook");
}
on_both!(closed_windows_get_templates_and_sends_never_duplicate, support::with_whatsapp());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_malformed_webhooks_never_get_a_5xx() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    let s = Server::start(support::Backends::Embedded, support::with_whatsapp()).await.unwrap();
    let (_, fake) = wa(&s);
    let json_leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z_.]{0,12}".prop_map(serde_json::Value::from),
    ];
    let json = json_leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::hash_map(
                prop_oneof![
                    Just("object".to_string()),
                    Just("entry".to_string()),
                    Just("changes".to_string()),
                    Just("field".to_string()),
                    Just("value".to_string()),
                    Just("messages".to_string()),
                    Just("statuses".to_string()),
                    Just("id".to_string()),
                    Just("from".to_string()),
                    Just("type".to_string()),
                    Just("text".to_string()),
                    Just("interactive".to_string()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    let bodies =
        prop_oneof![prop::collection::vec(any::<u8>(), 0..300), json.prop_map(|v| v.to_string().into_bytes()),];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let client = support::unpooled_client();
    let url = format!("{}/webhooks/whatsapp", s.base);
    for i in 0..1000 {
        let body = bodies.new_tree(&mut runner).unwrap().current();
        let signed = i % 4 != 0;
        let mut req = client.post(&url).body(body.clone());
        if signed {
            req = req.header(
                "x-hub-signature-256",
                fluxion_gateway::whatsapp::webhook::sign(support::WA_SECRET.as_bytes(), &body),
            );
        }
        let status = req.send().await.unwrap().status().as_u16();
        assert!(status < 500, "body {i} got {status}: {:?}", String::from_utf8_lossy(&body));
        assert_eq!(status, if signed { 200 } else { 401 }, "body {i}");
    }
    // The service still answers.
    let manager = phone(Role::Manager, false);
    fake.user_says(&manager, "hola").await;
    assert!(!fake.wait_for(&manager, 1, WAIT).await.is_empty());
    s.stop().await;
}
