//! The bus suite: the in-process bus and the Redis bus behave the same. Each test runs on the
//! in-process bus always and on Redis when `FLUXION_TEST_REDIS_URL` is set (mandatory in CI).
#![allow(clippy::unwrap_used)]

mod support;

use fluxion_domain::TenantSlug;
use fluxion_memory::{Bus, BusEvent, InProcessBus, RedisBus, Topic};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

async fn buses() -> Vec<Arc<dyn Bus>> {
    let mut out: Vec<Arc<dyn Bus>> = vec![Arc::new(InProcessBus::new())];
    if let Some(url) = support::redis_url() {
        out.push(Arc::new(RedisBus::connect(&url).await.expect("connect to FLUXION_TEST_REDIS_URL")));
    }
    out
}

fn event(kind: &str, request: Uuid, n: i64) -> BusEvent {
    BusEvent {
        kind: kind.into(),
        request: Some(request),
        agent: Some("forecast".into()),
        data: serde_json::json!({"n": n}),
    }
}

fn tenant(s: &str) -> TenantSlug {
    TenantSlug::parse(&format!("{s}{}", &Uuid::new_v4().simple().to_string()[..8])).unwrap()
}

async fn next(sub: &mut fluxion_memory::Subscription) -> Option<BusEvent> {
    tokio::time::timeout(Duration::from_secs(2), sub.recv()).await.ok().flatten()
}

#[tokio::test]
async fn events_reach_subscribers_in_order_and_only_theirs() {
    for bus in buses().await {
        let (a, b) = (tenant("a"), tenant("b"));
        let id = Uuid::new_v4();
        let mine = Topic::Request { tenant: a.clone(), id };
        let theirs = Topic::Request { tenant: b.clone(), id };
        assert!(mine.channel().contains(a.as_str()) && Topic::Tenant(a.clone()).channel().contains(a.as_str()));
        let mut sub = bus.subscribe(&mine).await.unwrap();
        let mut other = bus.subscribe(&theirs).await.unwrap();
        for n in 0..20 {
            bus.publish(&mine, &event("agent.finished", id, n)).await.unwrap();
        }
        for n in 0..20 {
            assert_eq!(next(&mut sub).await, Some(event("agent.finished", id, n)), "{}", bus.kind());
        }
        // The same request id under another tenant is another channel: nothing leaks.
        bus.publish(&theirs, &event("x", id, 99)).await.unwrap();
        assert_eq!(next(&mut other).await.unwrap().data["n"], 99);
        bus.publish(&mine, &event("y", id, 100)).await.unwrap();
        assert_eq!(next(&mut sub).await.unwrap().data["n"], 100, "{}", bus.kind());
        // Publishing with nobody listening is fine.
        bus.publish(&Topic::Tenant(tenant("c")), &event("z", id, 0)).await.unwrap();
    }
}

#[tokio::test]
async fn partial_results_are_kept_per_request_and_expire() {
    for bus in buses().await {
        let (a, b) = (tenant("a"), tenant("b"));
        let id = Uuid::new_v4();
        let v = serde_json::json!({"figures": [1, 2, 3]});
        bus.put_partial(&a, id, "forecast", &v, Duration::from_secs(30)).await.unwrap();
        bus.put_partial(&a, id, "alert", &serde_json::json!([]), Duration::from_secs(30)).await.unwrap();
        let got = bus.partials(&a, id).await.unwrap();
        assert_eq!(got.len(), 2, "{}", bus.kind());
        assert_eq!(got["forecast"], v);
        assert!(bus.partials(&b, id).await.unwrap().is_empty(), "another tenant's request is another key");
        bus.put_partial(&a, id, "forecast", &v, Duration::from_millis(50)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(bus.partials(&a, id).await.unwrap().is_empty(), "{}: expired", bus.kind());
    }
}
