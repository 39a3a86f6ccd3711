//! Conversation memory: in process always, on Redis when `FLUXION_TEST_REDIS_URL` is set
//! (mandatory in CI). A conversation is kept per tenant and user, for its TTL, and never crosses.
#![allow(clippy::unwrap_used)]

mod support;

use fluxion_domain::{Conversation, Intent, TenantSlug, Turn};
use fluxion_memory::{ConversationMemory, InProcessMemory, RedisMemory};
use std::sync::Arc;
use std::time::Duration;

fn memories() -> Vec<Arc<dyn ConversationMemory>> {
    let mut out: Vec<Arc<dyn ConversationMemory>> = vec![Arc::new(InProcessMemory::new())];
    if let Some(url) = support::redis_url() {
        out.push(Arc::new(RedisMemory::new(&url).unwrap()));
    }
    out
}

fn tenant(s: &str) -> TenantSlug {
    TenantSlug::parse(&format!("{s}{}", &uuid::Uuid::new_v4().simple().to_string()[..8])).unwrap()
}

fn conversation(q: &str) -> Conversation {
    let mut c = Conversation::default();
    for n in 0..8 {
        c.push(Turn {
            question: format!("{q} #{n}"),
            intent: Intent::Need,
            products: vec![],
            stores: vec![],
            horizon_days: 15,
            horizon_es: Some("la quincena".into()),
            budget_usd: Some(2000.0),
            coming: Some(fluxion_domain::Coming::Late),
            coming_from_supplier: Some(false),
            senders: vec!["Alimentos Polar".into()],
            at: chrono::Utc::now(),
        });
    }
    // A suggestion awaiting "sí" or "no" travels with the turns.
    c.pending = Some(fluxion_domain::Pending {
        recommendation: fluxion_domain::Recommendation {
            action: fluxion_domain::RecommendedAction::Order { supplier: None },
            store: fluxion_domain::LocationCode::parse("CCS-01").unwrap(),
            product: fluxion_domain::ProductCode::parse("HAR-PAN-BLA-1KG").unwrap(),
            units: 96.0,
            value_usd: 105.6,
            benefit_usd: 31.2,
            on: chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            explanation_es: format!("Pedir 96 ({q})"),
        },
        offered_in: uuid::Uuid::new_v4(),
        expires_at: chrono::Utc::now() + chrono::Duration::minutes(30),
    });
    c
}

#[tokio::test]
async fn conversations_are_kept_per_tenant_and_user_for_their_ttl() {
    for m in memories() {
        let (a, b) = (tenant("a"), tenant("b"));
        let mine = conversation("¿cuánta harina?");
        assert_eq!(mine.turns.len(), fluxion_domain::conversation::TURNS_KEPT, "only the last turns are kept");
        assert_eq!(mine.last().unwrap().question, "¿cuánta harina? #7");
        m.save(&a, "maria", &mine, Duration::from_secs(30)).await.unwrap();
        assert_eq!(m.load(&a, "maria").await.unwrap().as_ref(), Some(&mine));
        assert!(m.load(&a, "maria").await.unwrap().unwrap().pending.is_some(), "the pending suggestion is kept");
        // Another user of the same tenant, and the same user name in another tenant, see nothing.
        assert_eq!(m.load(&a, "jose").await.unwrap(), None);
        assert_eq!(m.load(&b, "maria").await.unwrap(), None);
        m.save(&b, "maria", &conversation("otra"), Duration::from_secs(30)).await.unwrap();
        assert_eq!(m.load(&a, "maria").await.unwrap().as_ref(), Some(&mine));
        // Past its TTL it is forgotten.
        m.save(&a, "jose", &mine, Duration::from_millis(50)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(m.load(&a, "jose").await.unwrap(), None);
    }
}
