//! Durable jobs: scheduled and background work (forecast refresh, alert scan after a sync, weekly
//! optimisation) goes through a queue with at-least-once delivery.
//!
//! - A job carries an idempotency key: enqueuing the same key twice (every replica's scheduler
//!   firing, a retried sync) queues it once.
//! - A worker claims jobs and acknowledges each after its effect is done; a job claimed by a
//!   worker that died (no ack within the visibility timeout) is claimed again by another, so
//!   handlers must be idempotent.
//! - [`SqliteJobQueue`] is the embedded queue (a file in the data folder, survives restarts);
//!   [`RedisJobQueue`] is production (a Redis stream with a consumer group: several processes
//!   sharing one Redis split the work and never run a job twice at the same time).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fluxion_domain::TenantSlug;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Reload the tenant's context and store fresh forecasts (daily, and after a sync).
    RefreshForecasts,
    /// Scan the tenant for alerts and announce the new ones (after each sync).
    ScanAlerts,
    /// Plan the week's orders and transfers (weekly).
    Optimize,
}

impl JobKind {
    /// Stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobKind::RefreshForecasts => "refresh_forecasts",
            JobKind::ScanAlerts => "scan_alerts",
            JobKind::Optimize => "optimize",
        }
    }

    /// Parses [`JobKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "refresh_forecasts" => JobKind::RefreshForecasts,
            "scan_alerts" => JobKind::ScanAlerts,
            "optimize" => JobKind::Optimize,
            _ => return None,
        })
    }
}

/// A job to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The queue's id for it (what `ack` takes).
    pub id: String,
    /// The tenant it is for.
    pub tenant: TenantSlug,
    /// What to do.
    pub kind: JobKind,
    /// Its idempotency key.
    pub key: String,
    /// Deliveries so far, this one included (above 1: a worker died holding it).
    pub attempt: u32,
}

/// Why the queue failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// SQLite failed.
    #[error("job queue: {0}")]
    Sqlite(#[from] sqlx::Error),
    /// Redis failed.
    #[error("job queue: {0}")]
    Redis(#[from] redis::RedisError),
    /// A stored job could not be read.
    #[error("job queue: a stored job is unreadable: {0}")]
    Corrupt(String),
}

/// A durable job queue.
#[async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Queues a job unless one with the same key was queued before (`Ok(false)` then).
    async fn enqueue(&self, tenant: &TenantSlug, kind: JobKind, key: &str) -> Result<bool, JobError>;

    /// Claims up to `max` jobs for `worker`: jobs nobody holds, and jobs whose holder has not
    /// acknowledged them within the visibility timeout. Waits up to `wait` when there are none.
    async fn claim(&self, worker: &str, max: usize, wait: Duration) -> Result<Vec<Job>, JobError>;

    /// Marks a job done.
    async fn ack(&self, job: &Job) -> Result<(), JobError>;

    /// Jobs queued or held and not yet acknowledged.
    async fn pending(&self) -> Result<u64, JobError>;

    /// Which implementation ("sqlite" or "redis").
    fn kind(&self) -> &'static str;
}

/// The embedded queue: a SQLite file of its own.
#[derive(Debug, Clone)]
pub struct SqliteJobQueue {
    pool: sqlx::SqlitePool,
    visibility: Duration,
}

impl SqliteJobQueue {
    /// Opens (creating if needed) the queue in `path`; a claim not acknowledged within
    /// `visibility` goes back to the queue.
    pub async fn open(path: &std::path::Path, visibility: Duration) -> Result<Self, JobError> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS jobs (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                tenant      TEXT NOT NULL,
                kind        TEXT NOT NULL,
                key         TEXT NOT NULL UNIQUE,
                state       TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'held', 'done')),
                holder      TEXT,
                held_until  TEXT,
                attempts    INTEGER NOT NULL DEFAULT 0,
                enqueued_at TEXT NOT NULL
            )",
        )
        .execute(&pool)
        .await?;
        sqlx::query("CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, id)").execute(&pool).await?;
        Ok(Self { pool, visibility })
    }
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    tenant: String,
    kind: String,
    key: String,
    attempts: i64,
}

impl TryFrom<JobRow> for Job {
    type Error = JobError;
    fn try_from(r: JobRow) -> Result<Self, JobError> {
        Ok(Job {
            id: r.id.to_string(),
            tenant: TenantSlug::parse(&r.tenant).map_err(|e| JobError::Corrupt(e.to_string()))?,
            kind: JobKind::parse(&r.kind).ok_or_else(|| JobError::Corrupt(format!("job kind {:?}", r.kind)))?,
            key: r.key,
            attempt: u32::try_from(r.attempts).unwrap_or(u32::MAX),
        })
    }
}

#[async_trait]
impl JobQueue for SqliteJobQueue {
    async fn enqueue(&self, tenant: &TenantSlug, kind: JobKind, key: &str) -> Result<bool, JobError> {
        let done = sqlx::query(
            "INSERT INTO jobs (tenant, kind, key, enqueued_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(kind.as_str())
        .bind(key)
        .bind(Utc::now())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim(&self, worker: &str, max: usize, wait: Duration) -> Result<Vec<Job>, JobError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let now: DateTime<Utc> = Utc::now();
            let until = now + chrono::Duration::from_std(self.visibility).unwrap_or(chrono::Duration::seconds(60));
            // One statement: concurrent workers never hold the same job.
            let rows: Vec<JobRow> = sqlx::query_as(
                "UPDATE jobs SET state = 'held', holder = ?1, held_until = ?2, attempts = attempts + 1
                 WHERE id IN (SELECT id FROM jobs
                              WHERE state = 'ready' OR (state = 'held' AND held_until < ?3)
                              ORDER BY id LIMIT ?4)
                 RETURNING id, tenant, kind, key, attempts",
            )
            .bind(worker)
            .bind(until)
            .bind(now)
            .bind(i64::try_from(max).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
            if !rows.is_empty() || tokio::time::Instant::now() >= deadline {
                let mut jobs: Vec<Job> = rows.into_iter().map(Job::try_from).collect::<Result<_, _>>()?;
                jobs.sort_by_key(|j| j.id.parse::<i64>().unwrap_or(0));
                return Ok(jobs);
            }
            tokio::time::sleep(Duration::from_millis(20).min(wait)).await;
        }
    }

    async fn ack(&self, job: &Job) -> Result<(), JobError> {
        sqlx::query("UPDATE jobs SET state = 'done', holder = NULL, held_until = NULL WHERE id = ?")
            .bind(job.id.parse::<i64>().map_err(|_| JobError::Corrupt(format!("job id {:?}", job.id)))?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn pending(&self) -> Result<u64, JobError> {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state <> 'done'").fetch_one(&self.pool).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }
}

/// The production queue: a Redis stream with a consumer group.
#[derive(Clone)]
pub struct RedisJobQueue {
    commands: crate::redis::LazyConnection,
    reads: crate::redis::LazyConnection,
    stream: String,
    group: String,
    visibility: Duration,
    key_ttl: Duration,
}

impl std::fmt::Debug for RedisJobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisJobQueue").field("stream", &self.stream).finish_non_exhaustive()
    }
}

impl RedisJobQueue {
    /// A queue on `url` that connects on first use (a Redis that is down at start is not an
    /// error: claims fail and are retried). A job not acknowledged within `visibility` is claimed
    /// again; idempotency keys are remembered for `key_ttl`.
    pub fn new(url: &str, stream: &str, visibility: Duration, key_ttl: Duration) -> Result<Self, JobError> {
        let lazy = |timeout| crate::redis::LazyConnection::new(url, timeout).map_err(|e| JobError::Redis(e.0));
        Ok(Self {
            commands: lazy(Duration::from_secs(5))?,
            // Blocking reads get their own connection so they never hold up the other commands.
            reads: lazy(Duration::from_secs(10))?,
            stream: stream.to_owned(),
            group: "workers".into(),
            visibility,
            key_ttl,
        })
    }

    /// [`RedisJobQueue::new`], connected now, with the stream and its consumer group made.
    pub async fn connect(url: &str, stream: &str, visibility: Duration, key_ttl: Duration) -> Result<Self, JobError> {
        let queue = Self::new(url, stream, visibility, key_ttl)?;
        queue.create_group().await?;
        Ok(queue)
    }

    fn job_of(entry: &redis::streams::StreamId) -> Result<Job, JobError> {
        let field = |name: &str| -> Result<String, JobError> {
            entry.get::<String>(name).ok_or_else(|| JobError::Corrupt(format!("job {} lacks {name}", entry.id)))
        };
        Ok(Job {
            id: entry.id.clone(),
            tenant: TenantSlug::parse(&field("tenant")?).map_err(|e| JobError::Corrupt(e.to_string()))?,
            kind: JobKind::parse(&field("kind")?).ok_or_else(|| JobError::Corrupt(format!("job {} kind", entry.id)))?,
            key: field("key")?,
            attempt: entry.delivered_count.map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }
}

#[async_trait]
impl JobQueue for RedisJobQueue {
    async fn enqueue(&self, tenant: &TenantSlug, kind: JobKind, key: &str) -> Result<bool, JobError> {
        let mut conn = self.commands.get().await?;
        // The key first: a second enqueue of the same job finds it and stops.
        let fresh: Option<String> = redis::cmd("SET")
            .arg(format!("{}:key:{key}", self.stream))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(self.key_ttl.as_millis().max(1) as u64)
            .query_async(&mut conn)
            .await?;
        if fresh.is_none() {
            return Ok(false);
        }
        let _: String = redis::cmd("XADD")
            .arg(&self.stream)
            .arg("*")
            .arg("tenant")
            .arg(tenant.as_str())
            .arg("kind")
            .arg(kind.as_str())
            .arg("key")
            .arg(key)
            .query_async(&mut conn)
            .await?;
        Ok(true)
    }

    async fn claim(&self, worker: &str, max: usize, wait: Duration) -> Result<Vec<Job>, JobError> {
        match self.claim_once(worker, max, wait).await {
            // A Redis that restarted without persistence lost the stream and its group: make them again.
            Err(JobError::Redis(e)) if e.code() == Some("NOGROUP") => {
                tracing::warn!("the job stream's consumer group is gone (Redis restarted?); creating it again");
                self.create_group().await?;
                Ok(Vec::new())
            }
            other => other,
        }
    }

    async fn ack(&self, job: &Job) -> Result<(), JobError> {
        self.ack_one(job).await
    }

    async fn pending(&self) -> Result<u64, JobError> {
        let mut conn = self.commands.get().await?;
        let n: u64 = redis::cmd("XLEN").arg(&self.stream).query_async(&mut conn).await?;
        Ok(n)
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

impl RedisJobQueue {
    async fn create_group(&self) -> Result<(), JobError> {
        let mut conn = self.commands.get().await?;
        let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn claim_once(&self, worker: &str, max: usize, wait: Duration) -> Result<Vec<Job>, JobError> {
        use redis::streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamReadOptions, StreamReadReply};
        let mut conn = self.reads.get().await?;
        // Jobs whose holder went quiet past the visibility timeout come first.
        let stale: StreamAutoClaimReply = redis::AsyncCommands::xautoclaim_options(
            &mut conn,
            &self.stream,
            &self.group,
            worker,
            self.visibility.as_millis() as u64,
            "0-0",
            StreamAutoClaimOptions::default().count(max),
        )
        .await?;
        let mut jobs: Vec<Job> = stale.claimed.iter().map(Self::job_of).collect::<Result<_, _>>()?;
        if !jobs.is_empty() {
            // XAUTOCLAIM does not say how often each was delivered: XPENDING does.
            let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
                .arg(&self.stream)
                .arg(&self.group)
                .arg("-")
                .arg("+")
                .arg(max.max(1) * 4)
                .arg(worker)
                .query_async(&mut conn)
                .await?;
            for job in &mut jobs {
                let count = pending.iter().find(|p| p.0 == job.id).map_or(2, |p| p.3);
                job.attempt = u32::try_from(count).unwrap_or(u32::MAX).max(2);
            }
        }
        if jobs.len() < max {
            let options = StreamReadOptions::default()
                .group(&self.group, worker)
                .count(max - jobs.len())
                .block(wait.as_millis().clamp(1, 4000) as usize);
            let reply: Option<StreamReadReply> =
                redis::AsyncCommands::xread_options(&mut conn, &[&self.stream], &[">"], &options).await?;
            for key in reply.map(|r| r.keys).unwrap_or_default() {
                for entry in &key.ids {
                    let mut job = Self::job_of(entry)?;
                    job.attempt = job.attempt.max(1);
                    jobs.push(job);
                }
            }
        }
        Ok(jobs)
    }

    async fn ack_one(&self, job: &Job) -> Result<(), JobError> {
        let mut conn = self.commands.get().await?;
        let () = redis::pipe()
            .atomic()
            .cmd("XACK")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&job.id)
            .ignore()
            .cmd("XDEL")
            .arg(&self.stream)
            .arg(&job.id)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
