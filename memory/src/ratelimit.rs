//! Request budgets per tenant and per API key: a generic cell rate algorithm (GCRA) — a steady rate
//! per minute plus a burst — kept in Redis when configured, so that every gateway replica draws from
//! one budget, and in process otherwise (governor).
//!
//! Redis keys: `fluxion:{namespace}:ratelimit:{subject}` (the namespace is the tenant), holding the theoretical arrival time in
//! milliseconds of Redis' own clock (replicas' clocks never matter), expiring once the budget is full
//! again. When Redis does not answer, the in-process budget is used and a warning logged: a Redis
//! outage degrades the limit to per-replica, never takes the API down.

use crate::conversation::MemoryError;
use async_trait::async_trait;
use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A budget: `per_minute` requests per minute on average, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    /// Steady rate.
    pub per_minute: NonZeroU32,
    /// Requests that may arrive together after a quiet spell.
    pub burst: NonZeroU32,
}

impl Limit {
    /// A budget; zeros are raised to one.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_minute: NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// Microseconds between two requests at the steady rate (at least 1).
    fn interval_us(&self) -> u64 {
        (60_000_000 / u64::from(self.per_minute.get())).max(1)
    }
}

/// Whose budget a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey {
    /// Whose budgets: a tenant's slug, or "_login" for logins (before any tenant is known).
    pub namespace: String,
    /// Within it: "tenant" (all of a tenant's requests), "key:<prefix>", "email:<digest>".
    pub subject: String,
}

impl RateKey {
    /// The Redis key.
    pub fn redis_key(&self) -> String {
        format!("fluxion:{}:ratelimit:{}", self.namespace, self.subject)
    }
}

/// Whether a request may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// It may.
    pub allowed: bool,
    /// When refused: how long until one more request would be allowed.
    pub retry_after: Duration,
    /// Requests left in the burst right now (after this one).
    pub remaining: u32,
}

/// A keeper of request budgets.
#[async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Takes one request from `key`'s budget under `limit`.
    async fn check(&self, key: &RateKey, limit: Limit) -> RateDecision;

    /// "redis" or "in-process".
    fn kind(&self) -> &'static str;
}

type Keyed = governor::RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Budgets in this process (governor's keyed GCRA, one limiter per distinct limit).
#[derive(Default)]
pub struct InProcessLimiter {
    limiters: Mutex<HashMap<Limit, Arc<Keyed>>>,
}

impl fmt::Debug for InProcessLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessLimiter").finish_non_exhaustive()
    }
}

impl InProcessLimiter {
    /// No budgets spent yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn limiter(&self, limit: Limit) -> Arc<Keyed> {
        let mut map = self.limiters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(limit)
            .or_insert_with(|| {
                let quota = Quota::per_minute(limit.per_minute).allow_burst(limit.burst);
                Arc::new(governor::RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>())
            })
            .clone()
    }

    /// Forgets keys whose budget is full again (call now and then: keys come and go).
    pub fn forget_idle(&self) {
        let map = self.limiters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for limiter in map.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn take(&self, key: &RateKey, limit: Limit) -> RateDecision {
        let limiter = self.limiter(limit);
        match limiter.check_key(&key.redis_key()) {
            Ok(snapshot) => RateDecision {
                allowed: true,
                retry_after: Duration::ZERO,
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => RateDecision {
                allowed: false,
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
                remaining: 0,
            },
        }
    }
}

#[async_trait]
impl RateLimiter for InProcessLimiter {
    async fn check(&self, key: &RateKey, limit: Limit) -> RateDecision {
        self.take(key, limit)
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}

/// GCRA on Redis' clock, in microseconds (exact in Lua's doubles). Returns {allowed,
/// retry_after_us, remaining}.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now, 0}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, 0, math.floor((now - allow_at) / interval)}
";

/// Budgets shared by every replica through Redis.
pub struct RedisLimiter {
    conn: crate::redis::LazyConnection,
    fallback: InProcessLimiter,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter").finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A limiter on `url`, connected on first use.
    pub fn new(url: &str) -> Result<Self, MemoryError> {
        Ok(Self {
            conn: crate::redis::LazyConnection::new(url, Duration::from_millis(500)).map_err(|e| e.0)?,
            fallback: InProcessLimiter::new(),
        })
    }

    async fn take(&self, key: &RateKey, limit: Limit) -> Result<RateDecision, redis::RedisError> {
        let mut conn = self.conn.get().await?;
        let (allowed, retry_us, remaining): (i64, i64, i64) = redis::cmd("EVAL")
            .arg(GCRA)
            .arg(1)
            .arg(key.redis_key())
            .arg(limit.interval_us())
            .arg(limit.burst.get())
            .query_async(&mut conn)
            .await?;
        Ok(RateDecision {
            allowed: allowed == 1,
            retry_after: Duration::from_micros(u64::try_from(retry_us).unwrap_or(0)),
            remaining: u32::try_from(remaining).unwrap_or(0),
        })
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, key: &RateKey, limit: Limit) -> RateDecision {
        match self.take(key, limit).await {
            Ok(decision) => decision,
            Err(e) => {
                tracing::warn!(error = %e, "rate limits fall back to this process: Redis did not answer");
                self.fallback.take(key, limit)
            }
        }
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(subject: &str) -> RateKey {
        RateKey { namespace: "t".into(), subject: subject.into() }
    }

    #[tokio::test]
    async fn a_burst_then_refusals_with_a_retry_time() {
        let limiter = InProcessLimiter::new();
        let limit = Limit::new(60, 3);
        let mut allowed = 0;
        for _ in 0..5 {
            if limiter.check(&key("a"), limit).await.allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 3);
        let refused = limiter.check(&key("a"), limit).await;
        assert!(!refused.allowed);
        assert!(refused.retry_after > Duration::from_millis(500) && refused.retry_after <= Duration::from_secs(1));
        // Another subject has its own budget.
        assert!(limiter.check(&key("b"), limit).await.allowed);
    }
}
