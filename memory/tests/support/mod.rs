//! Test support: fresh stores of both backends and small, valid domain fixtures.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveDateTime};
use fluxion_domain::product::ProductFields;
use fluxion_domain::*;
use fluxion_memory::store::postgres::PostgresOptions;
use fluxion_memory::{ChangeSet, Store};
use sqlx::Connection;
use std::sync::Arc;

/// Whether tests that need PostgreSQL or Redis must fail (rather than skip) when the service is not configured.
pub fn services_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
        || std::env::var("FLUXION_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The PostgreSQL admin URL for tests, or `None` (after saying so) when it is not configured and not required.
pub fn postgres_url() -> Option<String> {
    match std::env::var("FLUXION_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if services_required() => {
            panic!("FLUXION_TEST_DATABASE_URL must be set: PostgreSQL tests are mandatory here")
        }
        _ => {
            eprintln!("FLUXION_TEST_DATABASE_URL not set: skipping the PostgreSQL run of this test");
            None
        }
    }
}

/// The Redis URL for tests, or `None` (after saying so) when it is not configured and not required.
pub fn redis_url() -> Option<String> {
    match std::env::var("FLUXION_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if services_required() => panic!("FLUXION_TEST_REDIS_URL must be set: Redis tests are mandatory here"),
        _ => {
            eprintln!("FLUXION_TEST_REDIS_URL not set: skipping the Redis run of this test");
            None
        }
    }
}

/// A store under test; dropping the PostgreSQL database happens in [`TestStore::finish`].
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestStore {
    pub async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
        TestStore { store, _dir: Some(dir), pg: None }
    }

    /// A store on a fresh database created for this test only.
    pub async fn postgres() -> Option<TestStore> {
        let admin_url = postgres_url()?;
        let db = format!("fluxion_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect to FLUXION_TEST_DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
        let url = with_database(&admin_url, &db);
        let store = fluxion_memory::open_postgres(&PostgresOptions::new(url)).await.unwrap();
        Some(TestStore { store, _dir: None, pg: Some((admin_url, db)) })
    }

    /// The URL of this test's PostgreSQL database, if it is one.
    pub fn postgres_database_url(&self) -> Option<String> {
        self.pg.as_ref().map(|(admin, db)| with_database(admin, db))
    }

    pub async fn finish(self) {
        let TestStore { store, pg, .. } = self;
        drop(store);
        if let Some((admin_url, db)) = pg {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{db}{query}")
}

/// Runs a conformance test body against SQLite and, when configured, PostgreSQL.
#[macro_export]
macro_rules! conformance {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = support::TestStore::sqlite().await;
                ($body)(t.store.clone()).await;
                t.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(t) = support::TestStore::postgres().await {
                    ($body)(t.store.clone()).await;
                    t.finish().await;
                }
            }
        }
    };
}

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn at(s: &str, hour: u32) -> NaiveDateTime {
    day(s).and_hms_opt(hour, 0, 0).unwrap()
}

pub fn slug(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

pub fn loc(code: &str) -> LocationCode {
    LocationCode::parse(code).unwrap()
}

pub fn sku(code: &str) -> ProductCode {
    ProductCode::parse(code).unwrap()
}

pub fn store_location(code: &str, city: &str) -> Location {
    Location { code: loc(code), name: format!("Tienda {code}"), city: city.into(), kind: LocationKind::Store }
}

pub fn supplier(code: &str) -> Supplier {
    Supplier {
        code: SupplierCode::parse(code).unwrap(),
        name: format!("Proveedor {code}"),
        lead_time: LeadTime::new(4.0, 1.5).unwrap(),
        moq: Quantity::new(24.0).unwrap(),
        order_days: OrderDays::parse("lun,jue").unwrap(),
    }
}

pub fn product(code: &str, supplier: Option<&str>) -> Product {
    Product::new(ProductFields {
        code: sku(code),
        barcodes: vec![Barcode::gtin_from_body("759100200001").unwrap()],
        name: format!("Producto {code}"),
        brand: "Marca".into(),
        category: "Víveres".into(),
        unit: Unit::Each,
        pack_size: 12,
        shelf_life_days: Some(30),
        cost: Money::usd_cents(100),
        price: Money::usd_cents(135),
        supplier: supplier.map(|s| SupplierCode::parse(s).unwrap()),
    })
    .unwrap()
}

pub fn sale(key: &str, store: &str, product: &str, when: NaiveDateTime, qty: f64, cents: i64) -> SalesLine {
    SalesLine {
        key: LineKey::parse(key).unwrap(),
        store: loc(store),
        product: sku(product),
        sold_at: when,
        quantity: Quantity::new(qty).unwrap(),
        amount: Money::usd_cents(cents),
        rate: ExchangeRate::ONE,
    }
}

/// A catalog of two stores, a warehouse, one supplier and three products.
pub fn catalog() -> ChangeSet {
    let mut warehouse = store_location("CD-01", "Valencia");
    warehouse.kind = LocationKind::Warehouse;
    ChangeSet {
        locations: vec![store_location("CCS-01", "Caracas"), store_location("MCBO-01", "Maracaibo"), warehouse],
        suppliers: vec![supplier("POLAR")],
        products: vec![product("HAR-001", Some("POLAR")), product("ARR-001", Some("POLAR")), product("ACE-001", None)],
        ..ChangeSet::default()
    }
}

/// `n` sales lines over `days` days for the catalog's two stores and three products.
pub fn sales(n: usize, prefix: &str) -> Vec<SalesLine> {
    let stores = ["CCS-01", "MCBO-01"];
    let products = ["HAR-001", "ARR-001", "ACE-001"];
    let start = day("2025-01-01");
    (0..n)
        .map(|i| {
            let d = start + chrono::Duration::days((i % 400) as i64);
            sale(
                &format!("{prefix}{i}"),
                stores[i % 2],
                products[i % 3],
                d.and_hms_opt(10 + (i % 8) as u32, 0, 0).unwrap(),
                1.0 + (i % 5) as f64,
                100 + (i % 7) as i64,
            )
        })
        .collect()
}
