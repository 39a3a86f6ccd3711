//! The job queue suite: the embedded SQLite queue and the Redis stream behave the same. Each test
//! runs on SQLite always and on Redis when `FLUXION_TEST_REDIS_URL` is set (mandatory in CI).
#![allow(clippy::unwrap_used)]

mod support;

use fluxion_domain::TenantSlug;
use fluxion_memory::{JobKind, JobQueue, RedisJobQueue, SqliteJobQueue};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

async fn queues(visibility: Duration) -> (Vec<Arc<dyn JobQueue>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut out: Vec<Arc<dyn JobQueue>> =
        vec![Arc::new(SqliteJobQueue::open(&dir.path().join("jobs.db"), visibility).await.unwrap())];
    if let Some(url) = support::redis_url() {
        let stream = format!("fluxion:test:jobs:{}", uuid::Uuid::new_v4().simple());
        out.push(Arc::new(RedisJobQueue::connect(&url, &stream, visibility, Duration::from_secs(60)).await.unwrap()));
    }
    (out, dir)
}

fn tenant() -> TenantSlug {
    TenantSlug::parse("demo").unwrap()
}

#[tokio::test]
async fn a_job_is_queued_once_per_key_delivered_in_order_and_gone_once_acknowledged() {
    let (queues, _dir) = queues(Duration::from_secs(30)).await;
    for q in queues {
        assert!(q.enqueue(&tenant(), JobKind::RefreshForecasts, "refresh:demo:2026-11-28").await.unwrap());
        assert!(q.enqueue(&tenant(), JobKind::ScanAlerts, "scan:demo:1").await.unwrap());
        // Every replica's scheduler fires: the same key is not queued again.
        assert!(!q.enqueue(&tenant(), JobKind::RefreshForecasts, "refresh:demo:2026-11-28").await.unwrap());
        assert_eq!(q.pending().await.unwrap(), 2, "{}", q.kind());
        let jobs = q.claim("w1", 10, Duration::from_millis(50)).await.unwrap();
        let kinds: Vec<JobKind> = jobs.iter().map(|j| j.kind).collect();
        assert_eq!(kinds, [JobKind::RefreshForecasts, JobKind::ScanAlerts], "{}", q.kind());
        assert!(jobs.iter().all(|j| j.tenant == tenant() && j.attempt == 1));
        // Held: nobody else gets them.
        assert!(q.claim("w2", 10, Duration::from_millis(50)).await.unwrap().is_empty(), "{}", q.kind());
        for j in &jobs {
            q.ack(j).await.unwrap();
        }
        assert_eq!(q.pending().await.unwrap(), 0, "{}", q.kind());
        assert!(q.claim("w1", 10, Duration::from_millis(20)).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_split_the_jobs_without_overlap() {
    let (queues, _dir) = queues(Duration::from_secs(30)).await;
    for q in queues {
        for n in 0..60 {
            q.enqueue(&tenant(), JobKind::ScanAlerts, &format!("scan:{n}")).await.unwrap();
        }
        let mut workers = tokio::task::JoinSet::new();
        for w in 0..4 {
            let q = q.clone();
            workers.spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let jobs = q.claim(&format!("w{w}"), 3, Duration::from_millis(50)).await.unwrap();
                    if jobs.is_empty() {
                        break;
                    }
                    for j in jobs {
                        q.ack(&j).await.unwrap();
                        mine.push(j.key);
                    }
                }
                mine
            });
        }
        let mut all = Vec::new();
        while let Some(done) = workers.join_next().await {
            all.extend(done.unwrap());
        }
        let distinct: BTreeSet<&String> = all.iter().collect();
        assert_eq!((all.len(), distinct.len()), (60, 60), "{}: every job once", q.kind());
    }
}

#[tokio::test]
async fn a_job_whose_worker_died_is_claimed_again_and_its_effect_happens_once() {
    let (queues, _dir) = queues(Duration::from_millis(200)).await;
    for q in queues {
        q.enqueue(&tenant(), JobKind::Optimize, "optimize:demo:week-48").await.unwrap();
        // The effect of a job is keyed by the job's key (an upsert): running it twice changes nothing.
        let mut effects: BTreeSet<String> = BTreeSet::new();
        let held = q.claim("doomed", 1, Duration::from_millis(50)).await.unwrap();
        assert_eq!(held.len(), 1);
        effects.insert(held[0].key.clone());
        // … and the worker dies before acknowledging. Within the visibility timeout nobody takes it.
        assert!(q.claim("rescuer", 1, Duration::from_millis(20)).await.unwrap().is_empty(), "{}", q.kind());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = q.claim("rescuer", 1, Duration::from_millis(50)).await.unwrap();
        assert_eq!(again.len(), 1, "{}: reclaimed after the timeout", q.kind());
        assert_eq!(again[0].key, held[0].key);
        assert_eq!(again[0].attempt, 2, "{}", q.kind());
        effects.insert(again[0].key.clone());
        q.ack(&again[0]).await.unwrap();
        assert_eq!(effects.len(), 1);
        assert_eq!(q.pending().await.unwrap(), 0, "{}", q.kind());
    }
}
