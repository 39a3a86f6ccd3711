//! PostgreSQL-only guarantees: the application role cannot bypass row-level security, tenant
//! settings never outlive their transaction, and sales land in monthly partitions.
#![allow(clippy::unwrap_used)]

mod support;

use fluxion_memory::{ChangeSet, IngestRun, IngestStatus};
use sqlx::Connection;
use support::*;

fn run(source: &str) -> IngestRun {
    let now = chrono::Utc::now();
    IngestRun {
        source: source.into(),
        started_at: now,
        finished_at: now,
        rows_read: 0,
        rows_written: 0,
        rows_rejected: 0,
        status: IngestStatus::Complete,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_role_is_bound_by_row_level_security_and_settings_do_not_leak() {
    let Some(t) = TestStore::postgres().await else { return };
    let store = t.store.clone();
    let a = store.create_tenant(&slug("alfa"), "Alfa").await.unwrap();
    let b = store.create_tenant(&slug("beta"), "Beta").await.unwrap();
    store.scope(&a.slug).await.unwrap().record_ingest(&run("a")).await.unwrap();
    store.scope(&b.slug).await.unwrap().record_ingest(&run("b")).await.unwrap();

    // Connect as the application role, the way the store does, and try to read around it.
    let url = t.postgres_database_url().unwrap();
    let opts: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let mut app = sqlx::PgConnection::connect_with(&opts.username("fluxion_app")).await.unwrap();
    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut app)
            .await
            .unwrap();
    assert!(!superuser && !bypass, "the application role must be subject to row-level security");

    let no_tenant: i64 =
        sqlx::query_scalar("SELECT count(*) FROM control.ingest_runs").fetch_one(&mut app).await.unwrap();
    assert_eq!(no_tenant, 0, "without a tenant in the transaction no shared row is visible");

    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)").bind(a.id.to_string()).execute(&mut *tx).await.unwrap();
    let sources: Vec<String> =
        sqlx::query_scalar("SELECT source FROM control.ingest_runs").fetch_all(&mut *tx).await.unwrap();
    assert_eq!(sources, vec!["a"], "tenant A sees only its rows, even with no WHERE clause");
    let forged = sqlx::query(
        "INSERT INTO control.ingest_runs (tenant_id, source, started_at, finished_at, rows_read, rows_written, rows_rejected, status)
         VALUES ($1, 'forged', now(), now(), 0, 0, 0, 'complete')",
    )
    .bind(b.id.as_uuid())
    .execute(&mut *tx)
    .await;
    assert!(forged.is_err(), "writing a row for another tenant is refused");
    drop(tx);

    // After the transaction, the setting is gone from the connection.
    let after: Option<String> = sqlx::query_scalar("SELECT NULLIF(current_setting('app.tenant_id', true), '')")
        .fetch_one(&mut app)
        .await
        .unwrap();
    assert_eq!(after, None);

    // The store's own pooled connections keep no tenant search_path between uses.
    let tenant_a = store.scope(&a.slug).await.unwrap();
    for _ in 0..20 {
        tenant_a.counts().await.unwrap();
    }
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'fluxion_app' AND datname = current_database()
           AND query ILIKE '%search_path%' AND query NOT ILIKE '%set_config%'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(leaked, 0, "no session-level SET search_path is ever issued on the pool");
    app.close().await.unwrap();
    admin.close().await.unwrap();
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_are_stored_in_monthly_partitions() {
    let Some(t) = TestStore::postgres().await else { return };
    let store = t.store.clone();
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let tenant = store.scope(&slug("t")).await.unwrap();
    tenant.apply(&catalog()).await.unwrap();
    tenant.apply(&ChangeSet { sales: sales(1_000, "p"), ..ChangeSet::default() }).await.unwrap();
    let mut admin = sqlx::PgConnection::connect(&t.postgres_database_url().unwrap()).await.unwrap();
    let partitions: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.relname::text, c.reltuples::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 't_t.sales'::regclass ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    let names: Vec<_> = partitions.iter().map(|(n, _)| n.as_str()).collect();
    // sales() spans 400 days from 2025-01-01: January 2025 to February 2026.
    assert_eq!(names.first(), Some(&"sales_y2025m01"));
    assert_eq!(names.last(), Some(&"sales_y2026m02"));
    assert_eq!(names.len(), 14);
    let in_january: i64 =
        sqlx::query_scalar("SELECT count(*) FROM t_t.sales_y2025m01").fetch_one(&mut admin).await.unwrap();
    assert!(in_january > 0);
    admin.close().await.unwrap();
    t.finish().await;
}
