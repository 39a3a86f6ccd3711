//! Request budgets: in process, and in Redis shared by every replica (when `FLUXION_TEST_REDIS_URL`
//! is set; mandatory in CI); a Redis that does not answer degrades to the in-process budget.
#![allow(clippy::unwrap_used)]

mod support;

use fluxion_memory::{InProcessLimiter, Limit, RateKey, RateLimiter, RedisLimiter};
use std::time::Duration;

fn key(subject: &str) -> RateKey {
    RateKey { namespace: format!("t{}", uuid::Uuid::new_v4().simple()), subject: subject.into() }
}

async fn allowed(limiters: &[&dyn RateLimiter], key: &RateKey, limit: Limit, n: usize) -> usize {
    let mut ok = 0;
    for i in 0..n {
        if limiters[i % limiters.len()].check(key, limit).await.allowed {
            ok += 1;
        }
    }
    ok
}

#[tokio::test]
async fn in_process_budgets_hold_a_burst_then_refill_at_the_rate() {
    let limiter = InProcessLimiter::new();
    let k = key("tenant");
    // 600 a minute is one every 100 ms, after a burst of 5.
    let limit = Limit::new(600, 5);
    assert_eq!(allowed(&[&limiter], &k, limit, 20).await, 5);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(allowed(&[&limiter], &k, limit, 20).await, 3);
}

#[tokio::test]
async fn two_replicas_on_redis_share_one_budget() {
    let Some(url) = support::redis_url() else { return };
    let (a, b) = (RedisLimiter::new(&url).unwrap(), RedisLimiter::new(&url).unwrap());
    let k = key("key:fxk_test");
    let limit = Limit::new(60, 8);
    // Alternating between the replicas, 20 requests: the burst of 8 is shared, not doubled.
    assert_eq!(allowed(&[&a, &b], &k, limit, 20).await, 8);
    let refused = a.check(&k, limit).await;
    assert!(!refused.allowed);
    assert!(refused.retry_after > Duration::from_millis(500) && refused.retry_after <= Duration::from_secs(1));
    // Another key has its own budget.
    assert!(b.check(&key("key:otra"), limit).await.allowed);
    assert_eq!(a.kind(), "redis");
}

#[tokio::test]
async fn an_unreachable_redis_degrades_to_the_process_budget() {
    let limiter = RedisLimiter::new("redis://127.0.0.1:1/0").unwrap();
    let k = key("tenant");
    assert_eq!(allowed(&[&limiter], &k, Limit::new(60, 4), 10).await, 4);
}
