//! The conformance suite: every backend of the store must pass every test here.
//!
//! Each test runs against SQLite always and against PostgreSQL when `FLUXION_TEST_DATABASE_URL` is
//! set (mandatory in CI), each on a fresh store.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::{DateTime, SubsecRound, Utc};
use fluxion_domain::*;
use fluxion_memory::{
    AlertQuery, AlertStatus, ApiKeyRecord, ChangeSet, Decided, Decision, DemandQuery, Feedback, IngestRun,
    IngestStatus, Once, RecommendationQuery, RecommendationStatus, RefreshRecord, Role, Rotation, Scope, Store,
    StoreError, StoredAlert, StoredForecast, TenantStore, UserRecord, Verdict, recommendation_key,
};
use std::sync::Arc;
use support::*;
use uuid::Uuid;

conformance!(tenants_are_created_listed_and_unique, |store: Arc<dyn Store>| async move {
    assert!(store.tenants().await.unwrap().is_empty());
    let a = store.create_tenant(&slug("cadena_a"), "Cadena A").await.unwrap();
    store.create_tenant(&slug("cadena_b"), "Cadena B").await.unwrap();
    let again = store.create_tenant(&slug("cadena_a"), "Otra").await;
    assert!(matches!(again, Err(StoreError::TenantExists(_))), "{again:?}");
    let listed: Vec<_> = store.tenants().await.unwrap().into_iter().map(|t| t.slug.to_string()).collect();
    assert_eq!(listed, vec!["cadena_a", "cadena_b"]);
    assert_eq!(store.tenant(&slug("cadena_a")).await.unwrap(), Some(a));
    assert!(matches!(store.scope(&slug("nadie")).await, Err(StoreError::UnknownTenant(_))));
    store.health().await.unwrap();
    // Deleting a tenant erases it and its data; the slug can then be used again, empty.
    let b = store.scope(&slug("cadena_b")).await.unwrap();
    b.apply(&catalog()).await.unwrap();
    drop(b);
    store.delete_tenant(&slug("cadena_b")).await.unwrap();
    assert!(matches!(store.delete_tenant(&slug("cadena_b")).await, Err(StoreError::UnknownTenant(_))));
    assert!(store.tenant(&slug("cadena_b")).await.unwrap().is_none());
    store.create_tenant(&slug("cadena_b"), "Cadena B").await.unwrap();
    let b = store.scope(&slug("cadena_b")).await.unwrap();
    assert_eq!(b.counts().await.unwrap().locations, 0);
    assert_eq!(store.scope(&slug("cadena_a")).await.unwrap().counts().await.unwrap().locations, 0);
});

conformance!(catalog_round_trips_and_upserts, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let cat = catalog();
    let summary = t.apply(&cat).await.unwrap();
    assert_eq!(summary.upserted, 7);
    assert_eq!(t.locations().await.unwrap().len(), 3);
    assert_eq!(t.suppliers().await.unwrap(), cat.suppliers);
    let products = t.products().await.unwrap();
    let mut expected = cat.products.clone();
    expected.sort_by(|a, b| a.code().cmp(b.code()));
    assert_eq!(products, expected, "products come back exactly, barcodes included");
    // An update replaces fields; applying the same catalog again changes nothing.
    let mut renamed = store_location("CCS-01", "Caracas");
    renamed.name = "La Cosecha Chacao".into();
    t.apply(&ChangeSet { locations: vec![renamed.clone()], ..ChangeSet::default() }).await.unwrap();
    t.apply(&ChangeSet { locations: vec![renamed.clone()], ..ChangeSet::default() }).await.unwrap();
    let locations = t.locations().await.unwrap();
    assert_eq!(locations.len(), 3);
    assert!(locations.contains(&renamed));
    let counts = t.counts().await.unwrap();
    assert_eq!((counts.products, counts.barcodes), (3, 3));
});

conformance!(reingesting_sales_is_idempotent, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let batch = ChangeSet { sales: sales(3_000, "k"), ..ChangeSet::default() };
    let first = t.apply(&batch).await.unwrap();
    assert_eq!((first.sales_new, first.sales_duplicate), (3_000, 0));
    // After a bulk load the planner's statistics are refreshed (a no-op for what is read back).
    t.refresh_statistics().await.unwrap();
    let before = t.counts().await.unwrap();
    let demand_before = t.daily_demand(&DemandQuery::default()).await.unwrap();
    let second = t.apply(&batch).await.unwrap();
    assert_eq!((second.sales_new, second.sales_duplicate), (0, 3_000));
    assert_eq!(t.counts().await.unwrap(), before);
    assert_eq!(t.daily_demand(&DemandQuery::default()).await.unwrap(), demand_before, "aggregates unchanged");
    // The daily aggregate equals the sum of the lines.
    let total_units: f64 = batch.sales.iter().map(|s| s.quantity.get()).sum();
    let total_cents: i64 = batch.sales.iter().map(|s| s.amount.minor()).sum();
    assert_eq!(demand_before.iter().map(|d| d.units).sum::<f64>(), total_units);
    assert_eq!(demand_before.iter().map(|d| d.revenue.minor()).sum::<i64>(), total_cents);
    // A duplicate inside one batch is stored once.
    let dup = sale("dup", "CCS-01", "HAR-001", at("2025-03-01", 9), 2.0, 300);
    let s = t.apply(&ChangeSet { sales: vec![dup.clone(), dup], ..ChangeSet::default() }).await.unwrap();
    assert_eq!((s.sales_new, s.sales_duplicate), (1, 1));
});

conformance!(sales_lines_and_daily_demand_read_back, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let mut bs = sale("v1", "CCS-01", "HAR-001", at("2025-02-14", 11), 3.0, 0);
    bs.amount = Money::parse("400.00", Currency::VES).unwrap();
    bs.rate = ExchangeRate::parse("40").unwrap();
    let lines = vec![bs.clone(), sale("u1", "CCS-01", "HAR-001", at("2025-02-14", 18), 2.0, 260)];
    t.apply(&ChangeSet { sales: lines.clone(), ..ChangeSet::default() }).await.unwrap();
    let back = t.sales_lines(&loc("CCS-01"), &sku("HAR-001"), day("2025-02-14"), day("2025-02-14")).await.unwrap();
    assert_eq!(back, lines, "lines keep currency and rate");
    let q = DemandQuery { store: Some(loc("CCS-01")), product: Some(sku("HAR-001")), ..DemandQuery::default() };
    let demand = t.daily_demand(&q).await.unwrap();
    assert_eq!(demand.len(), 1);
    assert_eq!(demand[0].units, 5.0);
    assert_eq!(demand[0].revenue, Money::usd_cents(1_000 + 260), "bolívares are converted at the line's rate");
    assert!(!demand[0].out_of_stock);
});

conformance!(tenants_with_the_same_codes_never_see_each_other, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("alfa"), "Alfa").await.unwrap();
    store.create_tenant(&slug("beta"), "Beta").await.unwrap();
    let a = store.scope(&slug("alfa")).await.unwrap();
    let b = store.scope(&slug("beta")).await.unwrap();
    a.apply(&catalog()).await.unwrap();
    b.apply(&catalog()).await.unwrap();
    a.apply(&ChangeSet { sales: sales(500, "a"), ..ChangeSet::default() }).await.unwrap();
    let only_b = vec![sale("b-1", "CCS-01", "HAR-001", at("2025-01-01", 12), 99.0, 9_900)];
    // The same key as one of A's lines: B stores it as its own new line.
    let same_key_as_a = sales(1, "a");
    let s = b.apply(&ChangeSet { sales: [only_b, same_key_as_a].concat(), ..ChangeSet::default() }).await.unwrap();
    assert_eq!(s.sales_new, 2);
    let now = chrono::Utc::now();
    let run = |source: &str| IngestRun {
        source: source.into(),
        started_at: now,
        finished_at: now,
        rows_read: 1,
        rows_written: 1,
        rows_rejected: 0,
        status: IngestStatus::Complete,
    };
    a.record_ingest(&run("csv:a.csv")).await.unwrap();
    b.record_ingest(&run("csv:b.csv")).await.unwrap();

    assert_eq!(a.counts().await.unwrap().sales, 500);
    assert_eq!(b.counts().await.unwrap().sales, 2);
    let b_demand = b.daily_demand(&DemandQuery::default()).await.unwrap();
    assert_eq!(b_demand.iter().map(|d| d.units).sum::<f64>(), 99.0 + 1.0);
    let a_runs: Vec<_> = a.ingest_runs(10).await.unwrap().into_iter().map(|r| r.source).collect();
    assert_eq!(a_runs, vec!["csv:a.csv"]);
    let b_runs: Vec<_> = b.ingest_runs(10).await.unwrap().into_iter().map(|r| r.source).collect();
    assert_eq!(b_runs, vec!["csv:b.csv"]);
    // Renaming a store in B leaves A's store as it was.
    let mut renamed = store_location("CCS-01", "Caracas");
    renamed.name = "Beta Chacao".into();
    b.apply(&ChangeSet { locations: vec![renamed], ..ChangeSet::default() }).await.unwrap();
    assert!(a.locations().await.unwrap().iter().all(|l| l.name != "Beta Chacao"));
});

conformance!(a_failing_batch_writes_nothing, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let before = t.counts().await.unwrap();
    // Good rows of every kind, then one sale of a product that does not exist, at the very end.
    let mut batch = ChangeSet {
        locations: vec![store_location("VAL-01", "Valencia")],
        products: vec![product("NUEVO-1", None)],
        sales: sales(2_000, "x"),
        stock: vec![StockSnapshot {
            location: loc("CCS-01"),
            product: sku("HAR-001"),
            day: day("2025-01-02"),
            on_hand: StockQuantity::new(0.0).unwrap(),
        }],
        ..ChangeSet::default()
    };
    batch.sales.push(sale("bad", "CCS-01", "NO-EXISTE", at("2025-01-01", 9), 1.0, 100));
    let err = t.apply(&batch).await.unwrap_err();
    assert!(matches!(&err, StoreError::UnknownReference { kind: "product", code } if code == "NO-EXISTE"), "{err}");
    assert_eq!(t.counts().await.unwrap(), before, "nothing of the failed batch is visible");
    // A sale at a warehouse is refused the same way.
    let at_warehouse = sale("w", "CD-01", "HAR-001", at("2025-01-01", 9), 1.0, 100);
    let err = t.apply(&ChangeSet { sales: vec![at_warehouse], ..ChangeSet::default() }).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownReference { kind: "store", .. }), "{err}");
    assert_eq!(t.counts().await.unwrap(), before);
});

conformance!(an_apply_cancelled_midway_writes_nothing, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let before = t.counts().await.unwrap();
    let big = ChangeSet { sales: sales(200_000, "c"), ..ChangeSet::default() };
    // Dropping the future mid-way is what a crash of the task looks like to the database.
    let outcome = tokio::time::timeout(std::time::Duration::from_millis(30), t.apply(&big)).await;
    assert!(outcome.is_err(), "200k rows cannot be written in 30 ms; the test needs a cancellation");
    let after = t.counts().await.unwrap();
    assert_eq!(after, before, "a cancelled batch leaves no half-written rows");
    // The store is still usable and the same batch then applies whole.
    let s = t.apply(&big).await.unwrap();
    assert_eq!(s.sales_new, 200_000);
});

conformance!(stockout_snapshots_mark_censored_days, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let snap = |l: &str, d: &str, q: f64| StockSnapshot {
        location: loc(l),
        product: sku("ARR-001"),
        day: day(d),
        on_hand: StockQuantity::new(q).unwrap(),
    };
    t.apply(&ChangeSet {
        sales: vec![sale("s1", "CCS-01", "ARR-001", at("2025-05-01", 10), 4.0, 400)],
        stock: vec![
            snap("CCS-01", "2025-05-01", 0.0),
            snap("CCS-01", "2025-05-02", 0.0),
            snap("CCS-01", "2025-05-03", 12.0),
            snap("CD-01", "2025-05-02", 0.0),
        ],
        ..ChangeSet::default()
    })
    .await
    .unwrap();
    let q = DemandQuery { product: Some(sku("ARR-001")), ..DemandQuery::default() };
    let demand = t.daily_demand(&q).await.unwrap();
    let marks: Vec<_> =
        demand.iter().map(|d| (d.store.to_string(), d.day.to_string(), d.units, d.out_of_stock)).collect();
    assert_eq!(
        marks,
        vec![("CCS-01".into(), "2025-05-01".into(), 4.0, true), ("CCS-01".into(), "2025-05-02".into(), 0.0, true)],
        "stockout days at stores are censored; a warehouse at zero is not a store stockout"
    );
    // A recount of the same day with stock clears the mark.
    t.apply(&ChangeSet { stock: vec![snap("CCS-01", "2025-05-02", 5.0)], ..ChangeSet::default() }).await.unwrap();
    let demand = t.daily_demand(&q).await.unwrap();
    assert!(!demand[1].out_of_stock);
    let current = t.current_stock(None, None).await.unwrap();
    let ccs: Vec<_> = current.iter().filter(|s| s.location.as_str() == "CCS-01").collect();
    assert_eq!(ccs.len(), 1);
    assert_eq!((ccs[0].day, ccs[0].on_hand.get()), (day("2025-05-03"), 12.0), "current stock is the latest snapshot");
    // Filtered by location and by product: the same latest snapshots, only those.
    let at_ccs = t.current_stock(Some(&loc("CCS-01")), None).await.unwrap();
    assert_eq!(at_ccs, ccs.into_iter().cloned().collect::<Vec<_>>());
    let of_product = t.current_stock(None, Some(&current[0].product)).await.unwrap();
    assert_eq!(of_product, current.iter().filter(|s| s.product == current[0].product).cloned().collect::<Vec<_>>());
    assert!(t.current_stock(Some(&loc("NADA")), None).await.unwrap().is_empty());
    assert_eq!(t.counts().await.unwrap().out_of_stock_days, 1);
});

conformance!(lots_orders_transfers_and_events_round_trip, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let line = |p: &str, q: f64| OrderLine { product: sku(p), quantity: Quantity::new(q).unwrap() };
    let number = |n: &str| OrderNumber::parse(n).unwrap();
    let lot = Lot {
        location: loc("CCS-01"),
        product: sku("HAR-001"),
        code: LotCode::parse("L-2025-07").unwrap(),
        quantity: Quantity::new(48.0).unwrap(),
        received_on: day("2025-07-01"),
        expires_on: day("2025-08-01"),
    };
    let po = PurchaseOrder::new(
        number("OC-100"),
        SupplierCode::parse("POLAR").unwrap(),
        loc("CD-01"),
        day("2025-07-01"),
        day("2025-07-05"),
        vec![line("HAR-001", 240.0), line("ARR-001", 120.0)],
    )
    .unwrap();
    let tr = Transfer::new(
        number("TR-7"),
        loc("CD-01"),
        loc("MCBO-01"),
        day("2025-07-02"),
        day("2025-07-04"),
        vec![line("ACE-001", 36.0)],
    )
    .unwrap();
    let ev = CalendarEvent { day: day("2025-03-03"), name: "Lunes de Carnaval".into(), kind: EventKind::Cultural };
    let batch = ChangeSet {
        lots: vec![lot.clone()],
        purchase_orders: vec![po.clone()],
        transfers: vec![tr.clone()],
        events: vec![ev.clone()],
        ..ChangeSet::default()
    };
    t.apply(&batch).await.unwrap();
    t.apply(&batch).await.unwrap();
    assert_eq!(t.lots().await.unwrap(), vec![lot]);
    let mut po_back = t.purchase_orders().await.unwrap();
    assert_eq!(po_back.len(), 1);
    let po_back = po_back.remove(0);
    assert_eq!(
        (po_back.number(), po_back.lines().len()),
        (po.number(), 2),
        "re-applying an order does not double its lines"
    );
    assert_eq!(t.transfers().await.unwrap(), vec![tr]);
    assert_eq!(t.events(day("2025-01-01"), day("2025-12-31")).await.unwrap(), vec![ev]);
    assert!(t.events(day("2026-01-01"), day("2026-12-31")).await.unwrap().is_empty());
});

fn stored_forecast(store: &str, product: &str, model: &str, mean: f64) -> StoredForecast {
    use fluxion_domain::forecast::{BacktestError, DemandClass, Effect, Forecast, ForecastPoint, Frequency};
    let origin = day("2025-03-31");
    StoredForecast {
        store: LocationCode::parse(store).unwrap(),
        product: ProductCode::parse(product).unwrap(),
        computed_at: chrono::DateTime::parse_from_rfc3339("2025-04-01T06:00:00Z").unwrap().with_timezone(&chrono::Utc),
        forecast: Forecast {
            series: format!("{store}:{product}"),
            origin,
            frequency: Frequency::Daily,
            model: model.into(),
            class: DemandClass::Intermittent,
            backtest: Some(BacktestError { rmsse: 0.71, typical_error_pct: f64::NAN, origins: 3 }),
            effects: vec![Effect { key: "payday:Quincena".into(), label_es: "la quincena".into(), lift: 1.31 }],
            points: (1..=3)
                .map(|k| ForecastPoint {
                    date: origin + chrono::Days::new(k),
                    mean,
                    p10: mean * 0.5,
                    p50: mean,
                    p90: mean * 1.6,
                })
                .collect(),
            dispersion_size: f64::INFINITY,
            level_uncertainty: 0.0,
        },
    }
}

conformance!(forecasts_are_stored_replaced_and_filtered, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    store.create_tenant(&slug("u"), "U").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let u = store.scope(&slug("u")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    u.apply(&catalog()).await.unwrap();
    let first = vec![
        stored_forecast("CCS-01", "HAR-001", "fluxion[tsb(0.05)]", 4.0),
        stored_forecast("MCBO-01", "HAR-001", "fluxion[imapa]", 2.0),
        stored_forecast("CCS-01", "ARR-001", "fluxion[mean(56)]", 1.5),
    ];
    assert_eq!(t.save_forecasts(&first).await.unwrap(), 3);
    let all = t.forecasts(None, None).await.unwrap();
    assert_eq!(all.len(), 3);
    let har = all.iter().find(|f| f.store.as_str() == "CCS-01" && f.product.as_str() == "HAR-001").unwrap();
    assert_eq!(har.forecast.points, first[0].forecast.points, "points come back exactly");
    assert!(har.forecast.dispersion_size.is_infinite(), "Poisson survives the round trip");
    assert!(har.forecast.backtest.unwrap().typical_error_pct.is_nan());
    assert_eq!(har.forecast.effects, first[0].forecast.effects);
    // A new run replaces; filters by store and product.
    t.save_forecasts(&[stored_forecast("CCS-01", "HAR-001", "fluxion[imapa]", 9.0)]).await.unwrap();
    let ccs = t.forecasts(Some(&LocationCode::parse("CCS-01").unwrap()), None).await.unwrap();
    assert_eq!(ccs.len(), 2);
    let har = t
        .forecasts(Some(&LocationCode::parse("CCS-01").unwrap()), Some(&ProductCode::parse("HAR-001").unwrap()))
        .await
        .unwrap();
    assert_eq!(har.len(), 1);
    assert_eq!((har[0].forecast.model.as_str(), har[0].forecast.points[0].mean), ("fluxion[imapa]", 9.0));
    // An unknown product fails the whole call: the good forecast next to it is not written.
    let bad = t
        .save_forecasts(&[
            stored_forecast("MCBO-01", "ACE-001", "fluxion[ses]", 3.0),
            stored_forecast("MCBO-01", "NO-EXISTE", "fluxion[ses]", 3.0),
        ])
        .await;
    assert!(matches!(bad, Err(StoreError::UnknownReference { kind: "product", .. })), "{bad:?}");
    // A warehouse is not a store.
    let bad = t.save_forecasts(&[stored_forecast("CD-01", "ACE-001", "fluxion[ses]", 3.0)]).await;
    assert!(matches!(bad, Err(StoreError::UnknownReference { kind: "store", .. })), "{bad:?}");
    assert_eq!(t.forecasts(None, None).await.unwrap().len(), 3);
    // The other tenant, with the same codes, sees none of them.
    assert!(u.forecasts(None, None).await.unwrap().is_empty());
});

conformance!(promotions_round_trip_upsert_and_stay_in_their_tenant, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    store.create_tenant(&slug("u"), "U").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let u = store.scope(&slug("u")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    u.apply(&catalog()).await.unwrap();
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let promo = |store: &str, product: &str, first: &str, last: &str, pct: u8| {
        Promotion::new(
            LocationCode::parse(store).unwrap(),
            ProductCode::parse(product).unwrap(),
            day(first),
            day(last),
            pct,
        )
        .unwrap()
    };
    let changes = ChangeSet {
        promotions: vec![
            promo("CCS-01", "HAR-001", "2026-03-02", "2026-03-08", 20),
            promo("MCBO-01", "ARR-001", "2026-03-05", "2026-03-06", 15),
        ],
        ..ChangeSet::default()
    };
    t.apply(&changes).await.unwrap();
    let read = t.promotions().await.unwrap();
    assert_eq!(read, changes.promotions);
    // The same promotion again, now longer and deeper: replaced, not doubled.
    let longer = ChangeSet {
        promotions: vec![promo("CCS-01", "HAR-001", "2026-03-02", "2026-03-10", 30)],
        ..ChangeSet::default()
    };
    t.apply(&longer).await.unwrap();
    let read = t.promotions().await.unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!((read[0].last(), read[0].discount_pct()), (day("2026-03-10"), 30));
    // An unknown product fails the change set; the other tenant sees nothing.
    let bad = ChangeSet {
        promotions: vec![promo("CCS-01", "NO-EXISTE", "2026-04-01", "2026-04-02", 10)],
        ..ChangeSet::default()
    };
    assert!(t.apply(&bad).await.is_err());
    assert!(u.promotions().await.unwrap().is_empty());
});

conformance!(traces_are_stored_listed_filtered_and_stay_in_their_tenant, |store: Arc<dyn Store>| async move {
    use fluxion_domain::{AgentKind, Span, SpanStatus, Trace};
    use fluxion_memory::TraceQuery;
    store.create_tenant(&slug("t"), "T").await.unwrap();
    store.create_tenant(&slug("u"), "U").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let u = store.scope(&slug("u")).await.unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let trace = |n: i64, channel: &str, status: SpanStatus, duration_us: u64| Trace {
        request_id: Some(format!("req-{n}")),
        id: uuid::Uuid::new_v4(),
        channel: channel.into(),
        question: format!("¿Cuánta harina PAN necesito? #{n}"),
        started_at: start + chrono::Duration::seconds(n),
        duration_us,
        status,
        spans: vec![
            Span {
                id: 0,
                parent: None,
                name: "request".into(),
                agent: None,
                start_us: 0,
                duration_us,
                status,
                input: "pregunta".into(),
                output: "respuesta".into(),
                error: None,
                restarts: 0,
                tokens: None,
                cost_usd: None,
            },
            Span {
                id: 1,
                parent: Some(0),
                name: "forecast".into(),
                agent: Some(AgentKind::Forecast),
                start_us: 10,
                duration_us: duration_us / 2,
                status: SpanStatus::Error,
                input: "2 artículos".into(),
                output: String::new(),
                error: Some("injected fault".into()),
                restarts: 1,
                tokens: Some(12),
                cost_usd: Some(0.001),
            },
        ],
        links: vec![fluxion_domain::TraceLink {
            kind: fluxion_domain::TraceLinkKind::Alert,
            store: "TDA-01".into(),
            product: Some("HARINA-PAN".into()),
            key: Some(format!("imminent_stockout:TDA-01:HARINA-PAN:{n}")),
            label_es: "Quiebre inminente".into(),
        }],
    };
    let a = trace(1, "cli", SpanStatus::Ok, 900);
    let b = trace(2, "whatsapp", SpanStatus::Degraded, 150_000);
    let c = trace(3, "cli", SpanStatus::Ok, 2_000);
    for x in [&a, &b, &c] {
        t.save_trace(x).await.unwrap();
    }
    // Saving again replaces.
    t.save_trace(&c).await.unwrap();
    let all = t.traces(&TraceQuery::default()).await.unwrap();
    assert_eq!(all.iter().map(|s| s.id).collect::<Vec<_>>(), [c.id, b.id, a.id], "newest first");
    assert_eq!(all[1], b.summary());
    assert_eq!(t.trace(b.id).await.unwrap().as_ref(), Some(&b), "spans and links round-trip");
    let cli = t.traces(&TraceQuery { channel: Some("cli".into()), ..TraceQuery::default() }).await.unwrap();
    assert_eq!(cli.len(), 2);
    let slow = t.traces(&TraceQuery { min_duration_us: Some(100_000), ..TraceQuery::default() }).await.unwrap();
    assert_eq!(slow.iter().map(|s| s.id).collect::<Vec<_>>(), [b.id]);
    let degraded = t.traces(&TraceQuery { status: Some(SpanStatus::Degraded), ..TraceQuery::default() }).await.unwrap();
    assert_eq!(degraded.len(), 1);
    assert_eq!(t.traces(&TraceQuery { limit: 1, ..TraceQuery::default() }).await.unwrap().len(), 1);
    // The other tenant sees none of them, not even by id.
    assert!(u.traces(&TraceQuery::default()).await.unwrap().is_empty());
    assert_eq!(u.trace(b.id).await.unwrap(), None);
});

// --- Accounts -----------------------------------------------------------------------------------

/// A fixed instant with nanoseconds, which the store keeps to the microsecond.
fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn user(tenant: Option<TenantId>, email: &str, role: Role) -> UserRecord {
    UserRecord {
        id: Uuid::new_v4(),
        tenant,
        email: email.into(),
        name: format!("Usuario {email}"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
        created_at: instant("2026-01-15T08:30:00.123456789Z"),
    }
}

/// A random 32-byte digest.
fn digest() -> [u8; 32] {
    let mut d = [0u8; 32];
    d[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    d[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    d
}

/// A refresh token of `user` in a new family, valid for a day from `now`.
fn refresh(user: Uuid, now: DateTime<Utc>) -> RefreshRecord {
    RefreshRecord {
        id: Uuid::new_v4(),
        family: Uuid::new_v4(),
        user,
        token_hash: digest(),
        issued_at: now,
        expires_at: now + chrono::Duration::days(1),
    }
}

fn api_key(tenant: TenantId, prefix: &str, created_at: DateTime<Utc>, created_by: Option<Uuid>) -> ApiKeyRecord {
    ApiKeyRecord {
        id: Uuid::new_v4(),
        tenant,
        name: format!("ERP nocturno {prefix}"),
        prefix: prefix.into(),
        secret_hash: digest(),
        scopes: vec![Scope::Read, Scope::Ingest],
        rate_per_minute: Some(120),
        created_by,
        created_at,
        revoked_at: None,
    }
}

conformance!(users_are_found_by_email_in_any_case_and_emails_are_unique, |store: Arc<dyn Store>| async move {
    let a = store.create_tenant(&slug("alfa"), "Alfa").await.unwrap();
    let b = store.create_tenant(&slug("beta"), "Beta").await.unwrap();
    let accounts = store.accounts();
    let ana = user(Some(a.id), "Ana.Perez@Example.COM", Role::Owner);
    accounts.create_user(&ana).await.unwrap();
    let expected = UserRecord {
        email: "ana.perez@example.com".into(),
        created_at: ana.created_at.trunc_subsecs(6),
        ..ana.clone()
    };
    assert_eq!(accounts.user_by_email("ana.perez@example.com").await.unwrap(), Some(expected.clone()));
    assert_eq!(accounts.user_by_email("ANA.PEREZ@example.com").await.unwrap(), Some(expected.clone()));
    assert_eq!(accounts.user(ana.id).await.unwrap(), Some(expected.clone()));
    assert_eq!(accounts.user_by_email("nadie@example.com").await.unwrap(), None);
    assert_eq!(accounts.user(Uuid::new_v4()).await.unwrap(), None);

    // The same email in another case, even for another tenant, is taken.
    let again = accounts.create_user(&user(Some(b.id), "ana.perez@EXAMPLE.com", Role::Viewer)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // A user of a tenant that does not exist is refused.
    let orphan = accounts.create_user(&user(Some(TenantId::new_random()), "x@example.com", Role::Viewer)).await;
    assert!(matches!(orphan, Err(StoreError::UnknownReference { kind: "tenant", .. })), "{orphan:?}");

    let beto = user(Some(a.id), "beto@example.com", Role::Manager);
    let carla = user(Some(b.id), "carla@example.com", Role::Viewer);
    let ops = user(None, "ops@fluxion.dev", Role::Operator);
    for u in [&beto, &carla, &ops] {
        accounts.create_user(u).await.unwrap();
    }
    let emails = |users: Vec<UserRecord>| users.into_iter().map(|u| u.email).collect::<Vec<_>>();
    assert_eq!(emails(accounts.users(Some(a.id)).await.unwrap()), ["ana.perez@example.com", "beto@example.com"]);
    assert_eq!(emails(accounts.users(Some(b.id)).await.unwrap()), ["carla@example.com"]);
    assert_eq!(emails(accounts.users(None).await.unwrap()), ["ops@fluxion.dev"], "operators have no tenant");

    // Disabling: only through the user's own tenant; it revokes every refresh token of theirs.
    let now = instant("2026-02-01T12:00:00Z");
    let login = refresh(beto.id, now);
    accounts.insert_refresh(&login).await.unwrap();
    assert!(!accounts.set_user_disabled(b.id, beto.id, true).await.unwrap(), "another tenant's user");
    assert!(!accounts.set_user_disabled(a.id, Uuid::new_v4(), true).await.unwrap(), "no such user");
    assert!(!accounts.user(beto.id).await.unwrap().unwrap().disabled);
    assert!(accounts.set_user_disabled(a.id, beto.id, true).await.unwrap());
    assert!(accounts.user(beto.id).await.unwrap().unwrap().disabled);
    let next = refresh(beto.id, now);
    let presented = accounts.rotate_refresh(&login.token_hash, &next, now).await.unwrap();
    assert_eq!(presented, Rotation::Reused { user: beto.id }, "a disabled user's tokens are revoked");
    // Enabling again does not bring old tokens back; a new login works.
    assert!(accounts.set_user_disabled(a.id, beto.id, false).await.unwrap());
    let presented = accounts.rotate_refresh(&login.token_hash, &refresh(beto.id, now), now).await.unwrap();
    assert_eq!(presented, Rotation::Reused { user: beto.id });
    let fresh = refresh(beto.id, now);
    accounts.insert_refresh(&fresh).await.unwrap();
    let rotated = accounts.rotate_refresh(&fresh.token_hash, &refresh(beto.id, now), now).await.unwrap();
    assert_eq!(rotated, Rotation::Rotated { user: beto.id });
});

conformance!(
    sessions_are_current_tokens_until_expired_revoked_rotated_or_disabled,
    |store: Arc<dyn Store>| async move {
        let t = store.create_tenant(&slug("t"), "T").await.unwrap();
        let accounts = store.accounts();
        let ana = user(Some(t.id), "ana@example.com", Role::Manager);
        accounts.create_user(&ana).await.unwrap();
        let now = instant("2026-02-01T12:00:00Z");
        let session = refresh(ana.id, now);
        accounts.insert_refresh(&session).await.unwrap();
        // Presented as often as wanted: it is not rotated.
        for _ in 0..3 {
            assert_eq!(accounts.session_user(&session.token_hash, now).await.unwrap().map(|u| u.id), Some(ana.id));
        }
        assert_eq!(accounts.session_user(&digest(), now).await.unwrap().map(|u| u.id), None, "unknown");
        assert_eq!(
            accounts.session_user(&session.token_hash, session.expires_at).await.unwrap().map(|u| u.id),
            None,
            "expired"
        );
        // Disabling the user ends it; enabling again does not bring it back.
        assert!(accounts.set_user_disabled(t.id, ana.id, true).await.unwrap());
        assert_eq!(accounts.session_user(&session.token_hash, now).await.unwrap().map(|u| u.id), None, "disabled");
        assert!(accounts.set_user_disabled(t.id, ana.id, false).await.unwrap());
        assert_eq!(
            accounts.session_user(&session.token_hash, now).await.unwrap().map(|u| u.id),
            None,
            "revoked with the disabling"
        );
        // Logging out (revoking the family) ends a new one; a rotated token is not a session either.
        let second = refresh(ana.id, now);
        accounts.insert_refresh(&second).await.unwrap();
        assert_eq!(accounts.session_user(&second.token_hash, now).await.unwrap().map(|u| u.id), Some(ana.id));
        assert!(accounts.revoke_refresh_family(&second.token_hash, now).await.unwrap());
        assert_eq!(accounts.session_user(&second.token_hash, now).await.unwrap().map(|u| u.id), None, "logged out");
        let third = refresh(ana.id, now);
        accounts.insert_refresh(&third).await.unwrap();
        let next = refresh(ana.id, now);
        accounts.rotate_refresh(&third.token_hash, &next, now).await.unwrap();
        assert_eq!(accounts.session_user(&third.token_hash, now).await.unwrap().map(|u| u.id), None, "rotated");
        assert_eq!(accounts.session_user(&next.token_hash, now).await.unwrap().map(|u| u.id), Some(ana.id));
    }
);

conformance!(refresh_tokens_rotate_and_a_replayed_one_revokes_its_family, |store: Arc<dyn Store>| async move {
    let t = store.create_tenant(&slug("t"), "T").await.unwrap();
    let accounts = store.accounts();
    let ana = user(Some(t.id), "ana@example.com", Role::Owner);
    accounts.create_user(&ana).await.unwrap();
    let now = instant("2026-02-01T12:00:00.000000500Z");

    // A chain of rotations. `next.family` and `next.user` are taken from the presented token.
    let t0 = refresh(ana.id, now);
    accounts.insert_refresh(&t0).await.unwrap();
    let t1 = RefreshRecord { family: Uuid::new_v4(), user: Uuid::new_v4(), ..refresh(ana.id, now) };
    assert_eq!(accounts.rotate_refresh(&t0.token_hash, &t1, now).await.unwrap(), Rotation::Rotated { user: ana.id });
    let t2 = refresh(ana.id, now);
    assert_eq!(accounts.rotate_refresh(&t1.token_hash, &t2, now).await.unwrap(), Rotation::Rotated { user: ana.id });
    // Someone replays t0: the whole family is revoked, the newest token (t2) included.
    let stolen = refresh(ana.id, now);
    assert_eq!(accounts.rotate_refresh(&t0.token_hash, &stolen, now).await.unwrap(), Rotation::Reused { user: ana.id });
    assert_eq!(
        accounts.rotate_refresh(&t2.token_hash, &refresh(ana.id, now), now).await.unwrap(),
        Rotation::Reused { user: ana.id },
        "the current token of a replayed family no longer works"
    );
    assert_eq!(
        accounts.rotate_refresh(&stolen.token_hash, &refresh(ana.id, now), now).await.unwrap(),
        Rotation::Unknown,
        "a reuse stores no next token"
    );
    assert_eq!(accounts.rotate_refresh(&digest(), &refresh(ana.id, now), now).await.unwrap(), Rotation::Unknown);

    // Another login (family) of the same user is unaffected.
    let other = refresh(ana.id, now);
    accounts.insert_refresh(&other).await.unwrap();
    let other_next = refresh(ana.id, now);
    assert_eq!(
        accounts.rotate_refresh(&other.token_hash, &other_next, now).await.unwrap(),
        Rotation::Rotated { user: ana.id }
    );

    // An expired token changes nothing: presented before its expiry, it still rotates.
    let late = other_next.expires_at;
    assert_eq!(
        accounts.rotate_refresh(&other_next.token_hash, &refresh(ana.id, late), late).await.unwrap(),
        Rotation::Expired
    );
    let before = late - chrono::Duration::seconds(1);
    assert_eq!(
        accounts.rotate_refresh(&other_next.token_hash, &refresh(ana.id, before), before).await.unwrap(),
        Rotation::Rotated { user: ana.id }
    );

    // Logout revokes the family of any of its tokens.
    let login = refresh(ana.id, now);
    accounts.insert_refresh(&login).await.unwrap();
    let second = refresh(ana.id, now);
    accounts.rotate_refresh(&login.token_hash, &second, now).await.unwrap();
    assert!(accounts.revoke_refresh_family(&login.token_hash, now).await.unwrap());
    assert_eq!(
        accounts.rotate_refresh(&second.token_hash, &refresh(ana.id, now), now).await.unwrap(),
        Rotation::Reused { user: ana.id }
    );
    assert!(!accounts.revoke_refresh_family(&digest(), now).await.unwrap());

    // A token digest is unique; a token of an unknown user is refused.
    let dup = RefreshRecord { id: Uuid::new_v4(), ..login.clone() };
    assert!(matches!(accounts.insert_refresh(&dup).await, Err(StoreError::Conflict(_))));
    let nobody = refresh(Uuid::new_v4(), now);
    assert!(matches!(accounts.insert_refresh(&nobody).await, Err(StoreError::UnknownReference { kind: "user", .. })));
});

conformance!(concurrent_presentations_of_one_refresh_token_rotate_it_once, |store: Arc<dyn Store>| async move {
    let t = store.create_tenant(&slug("t"), "T").await.unwrap();
    let ana = user(Some(t.id), "ana@example.com", Role::Owner);
    store.accounts().create_user(&ana).await.unwrap();
    let now = Utc::now();
    for _ in 0..8 {
        let current = refresh(ana.id, now);
        store.accounts().insert_refresh(&current).await.unwrap();
        let nexts = [refresh(ana.id, now), refresh(ana.id, now)];
        let tasks: Vec<_> = nexts
            .iter()
            .map(|next| {
                let (store, next, hash) = (store.clone(), next.clone(), current.token_hash);
                tokio::spawn(async move { store.accounts().rotate_refresh(&hash, &next, now).await.unwrap() })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let rotated = outcomes.iter().filter(|o| matches!(o, Rotation::Rotated { .. })).count();
        let reused = outcomes.iter().filter(|o| matches!(o, Rotation::Reused { .. })).count();
        assert_eq!((rotated, reused), (1, 1), "{outcomes:?}");
        // The token the winner received was revoked with its family by the loser's reuse.
        for next in &nexts {
            let again = store.accounts().rotate_refresh(&next.token_hash, &refresh(ana.id, now), now).await.unwrap();
            assert!(matches!(again, Rotation::Reused { .. } | Rotation::Unknown), "{again:?}");
        }
    }
});

conformance!(api_keys_are_created_found_listed_and_revoked_within_their_tenant, |store: Arc<dyn Store>| async move {
    let a = store.create_tenant(&slug("alfa"), "Alfa").await.unwrap();
    let b = store.create_tenant(&slug("beta"), "Beta").await.unwrap();
    let accounts = store.accounts();
    let owner = user(Some(a.id), "owner@alfa.com", Role::Owner);
    accounts.create_user(&owner).await.unwrap();
    let k1 = api_key(a.id, "fxk_a1", instant("2026-03-01T10:00:00.987654321Z"), Some(owner.id));
    let k2 = ApiKeyRecord {
        scopes: vec![Scope::Act, Scope::Ask],
        rate_per_minute: None,
        created_by: None,
        ..api_key(a.id, "fxk_a2", instant("2026-03-02T10:00:00Z"), None)
    };
    let k3 = api_key(b.id, "fxk_b1", instant("2026-03-03T10:00:00Z"), None);
    for k in [&k1, &k2, &k3] {
        accounts.create_api_key(k).await.unwrap();
    }
    let taken = accounts.create_api_key(&api_key(b.id, "fxk_a1", Utc::now(), None)).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let orphan = accounts.create_api_key(&api_key(TenantId::new_random(), "fxk_x", Utc::now(), None)).await;
    assert!(matches!(orphan, Err(StoreError::UnknownReference { kind: "tenant", .. })), "{orphan:?}");

    let stored = |k: &ApiKeyRecord| ApiKeyRecord { created_at: k.created_at.trunc_subsecs(6), ..k.clone() };
    assert_eq!(accounts.api_key_by_prefix("fxk_a1").await.unwrap(), Some(stored(&k1)));
    assert_eq!(accounts.api_key_by_prefix("fxk_a2").await.unwrap(), Some(stored(&k2)));
    assert_eq!(accounts.api_key_by_prefix("fxk_zz").await.unwrap(), None);
    assert_eq!(accounts.api_keys(a.id).await.unwrap(), vec![stored(&k2), stored(&k1)], "newest first");
    assert_eq!(accounts.api_keys(b.id).await.unwrap(), vec![stored(&k3)]);

    // Revoking: not through another tenant, once, and the key then shows when.
    let now = instant("2026-03-05T09:00:00Z");
    assert!(!accounts.revoke_api_key(b.id, k1.id, now).await.unwrap(), "another tenant's key");
    assert!(accounts.api_key_by_prefix("fxk_a1").await.unwrap().unwrap().revoked_at.is_none());
    assert!(!accounts.revoke_api_key(a.id, Uuid::new_v4(), now).await.unwrap());
    assert!(accounts.revoke_api_key(a.id, k1.id, now).await.unwrap());
    assert!(!accounts.revoke_api_key(a.id, k1.id, now).await.unwrap(), "already revoked");
    assert_eq!(accounts.api_key_by_prefix("fxk_a1").await.unwrap().unwrap().revoked_at, Some(now));
    assert_eq!(accounts.api_keys(a.id).await.unwrap().len(), 2, "revoked keys are still listed");
});

conformance!(deleting_a_tenant_deletes_its_users_tokens_and_keys, |store: Arc<dyn Store>| async move {
    let a = store.create_tenant(&slug("alfa"), "Alfa").await.unwrap();
    let b = store.create_tenant(&slug("beta"), "Beta").await.unwrap();
    let accounts = store.accounts();
    let now = Utc::now();
    let ana = user(Some(a.id), "ana@alfa.com", Role::Owner);
    let bea = user(Some(b.id), "bea@beta.com", Role::Owner);
    let ops = user(None, "ops@fluxion.dev", Role::Operator);
    for u in [&ana, &bea, &ops] {
        accounts.create_user(u).await.unwrap();
    }
    let (ana_token, bea_token) = (refresh(ana.id, now), refresh(bea.id, now));
    accounts.insert_refresh(&ana_token).await.unwrap();
    accounts.insert_refresh(&bea_token).await.unwrap();
    accounts.create_api_key(&api_key(a.id, "fxk_a", now, Some(ana.id))).await.unwrap();
    accounts.create_api_key(&api_key(b.id, "fxk_b", now, Some(bea.id))).await.unwrap();
    // An operator's key for tenant B survives the operator-independent deletion of A.
    accounts.create_api_key(&api_key(b.id, "fxk_ops", now, Some(ops.id))).await.unwrap();

    store.delete_tenant(&a.slug).await.unwrap();
    assert_eq!(accounts.user(ana.id).await.unwrap(), None);
    assert_eq!(accounts.user_by_email("ana@alfa.com").await.unwrap(), None);
    assert!(accounts.users(Some(a.id)).await.unwrap().is_empty());
    assert_eq!(accounts.api_key_by_prefix("fxk_a").await.unwrap(), None);
    assert!(accounts.api_keys(a.id).await.unwrap().is_empty());
    assert_eq!(
        accounts.rotate_refresh(&ana_token.token_hash, &refresh(ana.id, now), now).await.unwrap(),
        Rotation::Unknown
    );
    assert!(!accounts.revoke_refresh_family(&ana_token.token_hash, now).await.unwrap());
    assert_eq!(store.tenant_by_id(a.id).await.unwrap(), None);

    // The other tenant and the operators keep theirs.
    assert_eq!(store.tenant_by_id(b.id).await.unwrap(), Some(b.clone()));
    assert!(accounts.user(bea.id).await.unwrap().is_some());
    assert!(accounts.user(ops.id).await.unwrap().is_some());
    assert_eq!(accounts.api_keys(b.id).await.unwrap().len(), 2);
    assert_eq!(
        accounts.rotate_refresh(&bea_token.token_hash, &refresh(bea.id, now), now).await.unwrap(),
        Rotation::Rotated { user: bea.id }
    );
    // The email and the prefix can be used again.
    let a2 = store.create_tenant(&a.slug, "Alfa otra vez").await.unwrap();
    accounts.create_user(&user(Some(a2.id), "ana@alfa.com", Role::Owner)).await.unwrap();
    accounts.create_api_key(&api_key(a2.id, "fxk_a", now, None)).await.unwrap();
});

// --- Idempotent ingest --------------------------------------------------------------------------

conformance!(apply_once_applies_a_key_once_and_refuses_another_request_under_it, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    store.create_tenant(&slug("u"), "U").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let u = store.scope(&slug("u")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    u.apply(&catalog()).await.unwrap();
    let batch = ChangeSet { sales: sales(300, "once"), ..ChangeSet::default() };
    let Once::Applied(first) = t.apply_once("req-1", "sha256:aaa", &batch).await.unwrap() else {
        panic!("the first call applies")
    };
    assert_eq!((first.sales_new, first.sales_duplicate), (300, 0));
    assert_eq!(t.apply_once("req-1", "sha256:aaa", &batch).await.unwrap(), Once::Replayed(first));
    let other = ChangeSet { sales: sales(5, "otro"), ..ChangeSet::default() };
    assert_eq!(t.apply_once("req-1", "sha256:bbb", &other).await.unwrap(), Once::Conflict);
    assert_eq!(t.counts().await.unwrap().sales, 300, "neither the replay nor the conflict wrote anything");

    // A change set that fails records no key: the same key then applies a good one.
    let mut bad = ChangeSet { sales: sales(3, "mal"), ..ChangeSet::default() };
    bad.sales.push(sale("bad", "CCS-01", "NO-EXISTE", at("2025-01-01", 9), 1.0, 100));
    assert!(matches!(t.apply_once("req-2", "sha256:ccc", &bad).await, Err(StoreError::UnknownReference { .. })));
    assert!(matches!(t.apply_once("req-2", "sha256:ddd", &other).await.unwrap(), Once::Applied(s) if s.sales_new == 5));
    // An empty change set is recorded too; a long key is stored as it is.
    let long_key = "k".repeat(200);
    assert_eq!(
        t.apply_once(&long_key, "sha256:eee", &ChangeSet::default()).await.unwrap(),
        Once::Applied(Default::default())
    );
    assert_eq!(
        t.apply_once(&long_key, "sha256:eee", &ChangeSet::default()).await.unwrap(),
        Once::Replayed(Default::default())
    );
    // Keys belong to their tenant.
    assert!(
        matches!(u.apply_once("req-1", "sha256:aaa", &batch).await.unwrap(), Once::Applied(s) if s.sales_new == 300)
    );
});

conformance!(concurrent_apply_once_with_one_key_applies_once, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let batch = Arc::new(ChangeSet { sales: sales(2_000, "conc"), ..ChangeSet::default() });
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (t, batch) = (t.clone(), batch.clone());
            tokio::spawn(async move { t.apply_once("same-request", "sha256:fff", &batch).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let applied: Vec<_> = outcomes.iter().filter(|o| matches!(o, Once::Applied(_))).collect();
    assert_eq!(applied.len(), 1, "{outcomes:?}");
    let Once::Applied(summary) = applied[0] else { unreachable!() };
    assert_eq!(summary.sales_new, 2_000);
    for o in &outcomes {
        assert!(matches!(o, Once::Applied(s) | Once::Replayed(s) if s == summary), "{o:?}");
    }
    assert_eq!(t.counts().await.unwrap().sales, 2_000);
    let units: f64 = t.daily_demand(&DemandQuery::default()).await.unwrap().iter().map(|d| d.units).sum();
    assert_eq!(units, batch.sales.iter().map(|s| s.quantity.get()).sum::<f64>(), "sales counted once");
});

// --- Alerts -------------------------------------------------------------------------------------

fn alert(key: &str, kind: AlertKind, severity: Severity, store: &str, product: Option<&str>) -> Alert {
    Alert {
        kind,
        severity,
        store: loc(store),
        product: product.map(sku),
        impact_usd: 123.45,
        impact: ImpactKind::LostMargin,
        action: SuggestedAction::Reorder { units: 48.0 },
        reason_es: format!("Quedan 3 unidades; se venden 2,5 por día ({key})"),
        dedup_key: key.into(),
        raised_on: day("2026-03-01"),
        expires_on: day("2026-03-08"),
        probability: Some(0.87),
        runs_out_on: Some(day("2026-03-03")),
        unit: product.map(|_| Unit::Each),
    }
}

fn stockout(key: &str, store: &str, product: &str) -> Alert {
    alert(key, AlertKind::ImminentStockout, Severity::Warning, store, Some(product))
}

/// Ids of rows created at the same instant, in listing order (the id breaks the tie, descending).
fn newest_first_by_id<const N: usize>(mut ids: [Uuid; N]) -> [Uuid; N] {
    ids.sort_by(|a, b| b.cmp(a));
    ids
}

/// Every alert of the tenant, walking the pages of `query`.
async fn all_alerts(t: &dyn TenantStore, mut query: AlertQuery) -> Vec<StoredAlert> {
    let mut out = Vec::new();
    loop {
        let page = t.alerts(&query).await.unwrap();
        assert!(page.items.len() <= query.limit as usize);
        out.extend(page.items);
        match page.next {
            Some(next) => query.before = Some(next),
            None => return out,
        }
    }
}

conformance!(alerts_are_updated_in_place_resolved_and_reopened_with_a_new_id, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let t1 = instant("2026-03-01T20:00:00.123456789Z");
    let (t2, t3, t4) =
        (t1 + chrono::Duration::hours(24), t1 + chrono::Duration::hours(48), t1 + chrono::Duration::hours(72));
    let keys = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect::<Vec<_>>();

    let a1 = stockout("stockout|CCS-01|HAR-001", "CCS-01", "HAR-001");
    let a2 = alert("stale|MCBO-01", AlertKind::StaleData, Severity::Info, "MCBO-01", None);
    let first = t.record_alerts(&[a1.clone(), a2.clone()], &keys(&[&a1.dedup_key, &a2.dedup_key]), t1).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!((first[0].alert.clone(), first[0].status), (a1.clone(), AlertStatus::Open));
    assert_eq!((first[0].created_at, first[0].updated_at), (t1.trunc_subsecs(6), t1.trunc_subsecs(6)));
    assert_eq!(first[1].alert, a2, "a store-wide alert round-trips");
    assert_eq!(t.alert(first[0].id).await.unwrap().as_ref(), Some(&first[0]));

    // The next scan: the situation got worse. Same row, new version, status kept.
    let worse = Alert { severity: Severity::Critical, impact_usd: 250.0, ..a1.clone() };
    let second =
        t.record_alerts(std::slice::from_ref(&worse), &keys(&[&a1.dedup_key, &a2.dedup_key]), t2).await.unwrap();
    assert_eq!(second[0].id, first[0].id);
    assert_eq!((second[0].alert.clone(), second[0].status), (worse.clone(), AlertStatus::Open));
    assert_eq!((second[0].created_at, second[0].updated_at), (t1.trunc_subsecs(6), t2.trunc_subsecs(6)));
    assert_eq!(t.alert(first[1].id).await.unwrap().unwrap().status, AlertStatus::Open, "a suppressed key stays open");

    // Acknowledged: only an open alert changes; an acknowledged one stays as the first ack left it.
    let acked = t.acknowledge_alert(first[1].id, "user:ana", t2).await.unwrap().unwrap();
    assert_eq!(
        (acked.status, acked.acknowledged_by.as_deref(), acked.acknowledged_at),
        (AlertStatus::Acknowledged, Some("user:ana"), Some(t2.trunc_subsecs(6)))
    );
    assert_eq!(t.acknowledge_alert(first[1].id, "user:beto", t3).await.unwrap(), Some(acked.clone()));
    assert_eq!(t.acknowledge_alert(Uuid::new_v4(), "user:ana", t3).await.unwrap(), None);
    // A scan that still produces it updates it and keeps it acknowledged.
    let again = t.record_alerts(std::slice::from_ref(&a2), &keys(&[&a1.dedup_key, &a2.dedup_key]), t3).await.unwrap();
    assert_eq!((again[0].id, again[0].status), (first[1].id, AlertStatus::Acknowledged));
    assert_eq!(again[0].acknowledged_by.as_deref(), Some("user:ana"));

    // A scan that no longer produces a key resolves it, acknowledged or not.
    t.record_alerts(&[], &keys(&[&a1.dedup_key]), t3).await.unwrap();
    let resolved = t.alert(first[1].id).await.unwrap().unwrap();
    assert_eq!((resolved.status, resolved.updated_at), (AlertStatus::Resolved, t3.trunc_subsecs(6)));
    assert_eq!(t.alert(first[0].id).await.unwrap().unwrap().status, AlertStatus::Open);
    assert_eq!(t.acknowledge_alert(first[1].id, "user:ana", t4).await.unwrap(), Some(resolved.clone()));

    // The situation comes back: a new row with a new id; the resolved one stays as it was. An alert
    // recorded is live even when its key is missing from the open keys; the other key is resolved.
    let back = t.record_alerts(std::slice::from_ref(&a2), &[], t4).await.unwrap();
    assert_ne!(back[0].id, first[1].id);
    assert_eq!((back[0].status, back[0].created_at), (AlertStatus::Open, t4.trunc_subsecs(6)));
    assert_eq!(back[0].acknowledged_by, None);
    assert_eq!(t.alert(first[1].id).await.unwrap(), Some(resolved));
    assert_eq!(t.alert(first[0].id).await.unwrap().unwrap().status, AlertStatus::Resolved);
    let all = all_alerts(&*t, AlertQuery { limit: 10, ..AlertQuery::default() }).await;
    // Newest first; the two of the first scan share their created_at, and the id orders them.
    let older = newest_first_by_id([first[0].id, first[1].id]);
    assert_eq!(all.iter().map(|a| a.id).collect::<Vec<_>>(), [back[0].id, older[0], older[1]]);

    // Feedback is recorded and replaced; none for an unknown id.
    let feedback =
        Feedback { verdict: Verdict::Useful, by: "user:ana".into(), at: t4, note: Some("Era cierto".into()) };
    let with = t.alert_feedback(first[0].id, &feedback).await.unwrap().unwrap();
    assert_eq!(with.feedback, Some(Feedback { at: t4.trunc_subsecs(6), ..feedback.clone() }));
    let wrong = Feedback { verdict: Verdict::Wrong, by: "+584141234567".into(), at: t4, note: None };
    let replaced = t.alert_feedback(first[0].id, &wrong).await.unwrap().unwrap();
    assert_eq!(replaced.feedback, Some(Feedback { at: t4.trunc_subsecs(6), ..wrong.clone() }));
    assert_eq!(replaced.status, AlertStatus::Resolved, "feedback does not change the status");
    assert_eq!(t.alert(first[0].id).await.unwrap(), Some(replaced));
    assert_eq!(t.alert_feedback(Uuid::new_v4(), &wrong).await.unwrap(), None);
});

conformance!(alerts_are_filtered_and_paged_without_gaps_or_duplicates, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let start = instant("2026-03-01T20:00:00Z");
    let stores = ["CCS-01", "MCBO-01"];
    let products = ["HAR-001", "ARR-001", "ACE-001"];
    // 25 alerts in 3 scans, so that many share a created_at (the id breaks the tie).
    let mut recorded = Vec::new();
    let mut keys = Vec::new();
    for scan in 0..3 {
        let batch: Vec<Alert> = (0..25)
            .filter(|i| i % 3 == scan)
            .map(|i| {
                let kind = if i % 2 == 0 { AlertKind::ImminentStockout } else { AlertKind::Overstock };
                let severity = if i % 5 == 0 { Severity::Critical } else { Severity::Warning };
                alert(&format!("k{i}"), kind, severity, stores[i % 2], Some(products[i % 3]))
            })
            .collect();
        keys.extend(batch.iter().map(|a| a.dedup_key.clone()));
        let at = start + chrono::Duration::minutes(scan as i64);
        recorded.extend(t.record_alerts(&batch, &keys, at).await.unwrap());
    }
    assert_eq!(recorded.len(), 25);
    let mut expected = recorded.clone();
    expected.sort_by_key(|a| std::cmp::Reverse((a.created_at, a.id)));

    // Pages of 5: exactly five full pages, the last one says there is no next.
    let mut query = AlertQuery { limit: 5, ..AlertQuery::default() };
    let mut pages = 0;
    let mut walked = Vec::new();
    loop {
        let page = t.alerts(&query).await.unwrap();
        pages += 1;
        assert_eq!(page.items.len(), 5);
        walked.extend(page.items);
        match page.next {
            Some(next) => {
                assert_eq!(next, (walked.last().unwrap().created_at, walked.last().unwrap().id));
                query.before = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(walked, expected, "newest first, ties by id, no duplicates, nothing missing");
    assert_eq!(all_alerts(&*t, AlertQuery { limit: 7, ..AlertQuery::default() }).await, expected);

    // Filters, alone and together.
    let count = |q: AlertQuery| {
        let t = t.clone();
        async move { all_alerts(&*t, AlertQuery { limit: 4, ..q }).await }
    };
    let in_ccs = count(AlertQuery { store: Some("CCS-01".into()), ..AlertQuery::default() }).await;
    assert_eq!(in_ccs.len(), 13);
    assert!(in_ccs.iter().all(|a| a.alert.store.as_str() == "CCS-01"));
    let harina = count(AlertQuery { product: Some("HAR-001".into()), ..AlertQuery::default() }).await;
    assert_eq!(harina.len(), 9);
    let over = count(AlertQuery { kind: Some("overstock".into()), ..AlertQuery::default() }).await;
    assert_eq!(over.len(), 12);
    assert!(over.iter().all(|a| a.alert.kind == AlertKind::Overstock));
    let critical = count(AlertQuery { severity: Some("critical".into()), ..AlertQuery::default() }).await;
    assert_eq!(critical.len(), 5);
    let both = count(AlertQuery {
        store: Some("CCS-01".into()),
        kind: Some("imminent_stockout".into()),
        ..AlertQuery::default()
    })
    .await;
    assert_eq!(both.len(), 13, "even indexes are CCS-01 stockouts");
    t.acknowledge_alert(expected[3].id, "user:ana", start).await.unwrap();
    let acked = count(AlertQuery { status: Some(AlertStatus::Acknowledged), ..AlertQuery::default() }).await;
    assert_eq!(acked.iter().map(|a| a.id).collect::<Vec<_>>(), [expected[3].id]);
    assert_eq!(count(AlertQuery { status: Some(AlertStatus::Open), ..AlertQuery::default() }).await.len(), 24);
    assert!(count(AlertQuery { store: Some("NO-EXISTE".into()), ..AlertQuery::default() }).await.is_empty());

    // Page sizes: 0 asks for the default, and nothing above 500 is served at once.
    let many: Vec<Alert> = (0..520).map(|i| stockout(&format!("m{i}"), "CCS-01", "HAR-001")).collect();
    let many_keys: Vec<String> = many.iter().map(|a| a.dedup_key.clone()).chain(keys.clone()).collect();
    t.record_alerts(&many, &many_keys, start + chrono::Duration::hours(1)).await.unwrap();
    let default_page = t.alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(default_page.items.len(), 50);
    let capped = t.alerts(&AlertQuery { limit: 10_000, ..AlertQuery::default() }).await.unwrap();
    assert_eq!(capped.items.len(), 500);
    assert!(capped.next.is_some());
});

conformance!(alerts_stay_in_their_tenant, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    store.create_tenant(&slug("u"), "U").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let u = store.scope(&slug("u")).await.unwrap();
    let now = Utc::now();
    let a = stockout("stockout|CCS-01|HAR-001", "CCS-01", "HAR-001");
    let stored = t.record_alerts(std::slice::from_ref(&a), std::slice::from_ref(&a.dedup_key), now).await.unwrap();
    let id = stored[0].id;
    assert!(u.alerts(&AlertQuery::default()).await.unwrap().items.is_empty());
    assert_eq!(u.alert(id).await.unwrap(), None);
    assert_eq!(u.acknowledge_alert(id, "user:intruso", now).await.unwrap(), None);
    let feedback = Feedback { verdict: Verdict::Wrong, by: "user:intruso".into(), at: now, note: None };
    assert_eq!(u.alert_feedback(id, &feedback).await.unwrap(), None);
    // The same key in the other tenant is another alert, and its scan resolves nothing of T's.
    let theirs = u.record_alerts(std::slice::from_ref(&a), &[], now).await.unwrap();
    assert_ne!(theirs[0].id, id);
    u.record_alerts(&[], &[], now).await.unwrap();
    assert_eq!(t.alert(id).await.unwrap(), Some(stored[0].clone()), "untouched by the other tenant");
});

// --- Recommendations ----------------------------------------------------------------------------

fn order(store: &str, product: &str, units: f64) -> Recommendation {
    Recommendation {
        action: RecommendedAction::Order { supplier: Some(SupplierCode::parse("POLAR").unwrap()) },
        store: loc(store),
        product: sku(product),
        units,
        value_usd: units * 1.0,
        benefit_usd: units * 0.35,
        on: day("2026-03-02"),
        explanation_es: format!("Pedir {units}: demanda esperada alta"),
    }
}

fn transfer(from: &str, to: &str, product: &str, units: f64) -> Recommendation {
    Recommendation { action: RecommendedAction::Transfer { from: loc(from) }, ..order(to, product, units) }
}

/// The purchase order an approval of an order writes.
fn purchase_order_effect(number: &str, store: &str, product: &str, units: f64) -> ChangeSet {
    let po = PurchaseOrder::new(
        OrderNumber::parse(number).unwrap(),
        SupplierCode::parse("POLAR").unwrap(),
        loc(store),
        day("2026-03-02"),
        day("2026-03-06"),
        vec![OrderLine { product: sku(product), quantity: Quantity::new(units).unwrap() }],
    )
    .unwrap();
    ChangeSet { purchase_orders: vec![po], ..ChangeSet::default() }
}

fn approval(by: &str, at: DateTime<Utc>, number: &str) -> Decision {
    Decision { approve: true, by: by.into(), at, note: None, executed_as: Some(number.into()) }
}

conformance!(recommendations_are_updated_in_place_and_superseded, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let t1 = instant("2026-03-01T22:00:00.555555555Z");
    let (t2, t3) = (t1 + chrono::Duration::days(1), t1 + chrono::Duration::days(2));
    let r1 = order("CCS-01", "HAR-001", 120.0);
    let r2 = transfer("CCS-01", "MCBO-01", "ARR-001", 24.0);
    let first = t.record_recommendations(&[r1.clone(), r2.clone()], t1).await.unwrap();
    assert_eq!(first[0].key, recommendation_key(&r1));
    assert_eq!(first[1].key, "transfer|MCBO-01|ARR-001|CCS-01");
    assert_eq!((first[0].recommendation.clone(), first[0].status), (r1.clone(), RecommendationStatus::Pending));
    assert_eq!((first[0].created_at, first[0].updated_at), (t1.trunc_subsecs(6), t1.trunc_subsecs(6)));
    assert_eq!(t.recommendation(first[1].id).await.unwrap().as_ref(), Some(&first[1]));

    // The next optimisation: the order changed (same row), the transfer is no longer recommended.
    let r1b = order("CCS-01", "HAR-001", 144.0);
    let second = t.record_recommendations(std::slice::from_ref(&r1b), t2).await.unwrap();
    assert_eq!(second[0].id, first[0].id);
    assert_eq!((second[0].recommendation.clone(), second[0].status), (r1b.clone(), RecommendationStatus::Pending));
    assert_eq!((second[0].created_at, second[0].updated_at), (t1.trunc_subsecs(6), t2.trunc_subsecs(6)));
    let superseded = t.recommendation(first[1].id).await.unwrap().unwrap();
    assert_eq!((superseded.status, superseded.updated_at), (RecommendationStatus::Superseded, t2.trunc_subsecs(6)));
    assert_eq!(superseded.recommendation, r2, "a superseded recommendation keeps its last version");

    // Recommended again later: a new pending row; the superseded one stays.
    let third = t.record_recommendations(&[r1b.clone(), r2.clone()], t3).await.unwrap();
    assert_eq!(third[0].id, first[0].id);
    assert_ne!(third[1].id, first[1].id);
    assert_eq!(t.recommendation(first[1].id).await.unwrap().unwrap().status, RecommendationStatus::Superseded);

    // Listing: newest first, filtered, paged.
    let list = |q: RecommendationQuery| {
        let t = t.clone();
        async move {
            let mut q = RecommendationQuery { limit: 1, ..q };
            let mut out = Vec::new();
            loop {
                let page = t.recommendations(&q).await.unwrap();
                out.extend(page.items.into_iter().map(|r| r.id));
                match page.next {
                    Some(next) => q.before = Some(next),
                    None => return out,
                }
            }
        }
    };
    let older = newest_first_by_id([first[0].id, first[1].id]);
    assert_eq!(list(RecommendationQuery::default()).await, [third[1].id, older[0], older[1]]);
    assert_eq!(list(RecommendationQuery { kind: Some("order".into()), ..Default::default() }).await, [first[0].id]);
    assert_eq!(
        list(RecommendationQuery { kind: Some("transfer".into()), ..Default::default() }).await,
        [third[1].id, first[1].id]
    );
    assert_eq!(
        list(RecommendationQuery { store: Some("MCBO-01".into()), ..Default::default() }).await,
        [third[1].id, first[1].id],
        "a transfer is listed under the store that receives"
    );
    assert_eq!(
        list(RecommendationQuery { status: Some(RecommendationStatus::Superseded), ..Default::default() }).await,
        [first[1].id]
    );
    assert!(list(RecommendationQuery { store: Some("CD-01".into()), ..Default::default() }).await.is_empty());
});

conformance!(a_recommendation_is_decided_once_and_its_effect_applied_with_it, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let now = instant("2026-03-02T08:15:00.999999999Z");
    let recs = t
        .record_recommendations(
            &[
                order("CCS-01", "HAR-001", 120.0),
                order("MCBO-01", "ARR-001", 60.0),
                transfer("CCS-01", "MCBO-01", "ACE-001", 12.0),
            ],
            now,
        )
        .await
        .unwrap();

    // An approval whose effect fails writes nothing: the recommendation stays pending.
    let broken = purchase_order_effect("OC-9", "CCS-01", "NO-EXISTE", 120.0);
    let failed = t.decide_recommendation(recs[0].id, &approval("user:ana", now, "OC-9"), &broken).await;
    assert!(matches!(failed, Err(StoreError::UnknownReference { kind: "product", .. })), "{failed:?}");
    assert_eq!(t.recommendation(recs[0].id).await.unwrap().unwrap().status, RecommendationStatus::Pending);
    assert!(t.purchase_orders().await.unwrap().is_empty());

    let effect = purchase_order_effect("OC-1", "CCS-01", "HAR-001", 120.0);
    let Decided::Done(approved) =
        t.decide_recommendation(recs[0].id, &approval("user:ana", now, "OC-1"), &effect).await.unwrap()
    else {
        panic!("a pending recommendation is decided")
    };
    assert_eq!(approved.id, recs[0].id);
    assert_eq!(approved.status, RecommendationStatus::Approved);
    assert_eq!(
        (approved.decided_by.as_deref(), approved.decided_at, approved.executed_as.as_deref()),
        (Some("user:ana"), Some(now.trunc_subsecs(6)), Some("OC-1"))
    );
    assert_eq!(t.recommendation(recs[0].id).await.unwrap(), Some(approved.clone()));
    assert_eq!(t.purchase_orders().await.unwrap(), effect.purchase_orders, "the effect came with the approval");

    // Deciding again, either way, changes nothing and applies nothing.
    let again = t
        .decide_recommendation(
            recs[0].id,
            &approval("user:beto", now, "OC-2"),
            &purchase_order_effect("OC-2", "CCS-01", "HAR-001", 1.0),
        )
        .await
        .unwrap();
    assert_eq!(again, Decided::Already(approved.clone()));
    let reject =
        Decision { approve: false, by: "user:beto".into(), at: now, note: Some("No".into()), executed_as: None };
    assert_eq!(t.decide_recommendation(recs[0].id, &reject, &ChangeSet::default()).await.unwrap(), again);
    assert_eq!(t.purchase_orders().await.unwrap().len(), 1);

    // A rejection applies no effect and keeps its note; executed_as is only for approvals.
    let reject = Decision {
        approve: false,
        by: "+584141234567".into(),
        at: now,
        note: Some("Tenemos inventario en el depósito".into()),
        executed_as: Some("OC-3".into()),
    };
    let effect3 = purchase_order_effect("OC-3", "MCBO-01", "ARR-001", 60.0);
    let Decided::Done(rejected) = t.decide_recommendation(recs[1].id, &reject, &effect3).await.unwrap() else {
        panic!("a pending recommendation is decided")
    };
    assert_eq!(rejected.status, RecommendationStatus::Rejected);
    assert_eq!((rejected.note.as_deref(), rejected.executed_as.as_deref()), (reject.note.as_deref(), None));
    assert_eq!(t.purchase_orders().await.unwrap().len(), 1, "a rejection applies nothing");

    // Superseded ones cannot be decided; unknown ids are not found.
    t.record_recommendations(&[], now).await.unwrap();
    let superseded = t.recommendation(recs[2].id).await.unwrap().unwrap();
    assert_eq!(superseded.status, RecommendationStatus::Superseded);
    assert_eq!(
        t.decide_recommendation(recs[2].id, &approval("user:ana", now, "TR-1"), &ChangeSet::default()).await.unwrap(),
        Decided::Already(superseded)
    );
    assert_eq!(
        t.decide_recommendation(Uuid::new_v4(), &approval("user:ana", now, "OC-4"), &ChangeSet::default())
            .await
            .unwrap(),
        Decided::NotFound
    );
    // A decided recommendation is history: the same situation recommended again is a new one.
    let renewed = t.record_recommendations(&[order("CCS-01", "HAR-001", 90.0)], now).await.unwrap();
    assert_ne!(renewed[0].id, recs[0].id);
    assert_eq!(t.recommendation(recs[0].id).await.unwrap(), Some(approved));
});

conformance!(concurrent_approvals_execute_a_recommendation_once, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    let now = Utc::now();
    for round in 0..6 {
        let product = ["HAR-001", "ARR-001", "ACE-001"][round % 3];
        let rec = t.record_recommendations(&[order("CCS-01", product, 10.0)], now).await.unwrap().remove(0);
        let tasks: Vec<_> = ["A", "B"]
            .into_iter()
            .map(|who| {
                let t = t.clone();
                let number = format!("OC-{round}-{who}");
                let effect = purchase_order_effect(&number, "CCS-01", product, 10.0);
                tokio::spawn(async move {
                    t.decide_recommendation(rec.id, &approval(&format!("user:{who}"), now, &number), &effect)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let done: Vec<_> =
            outcomes.iter().filter_map(|o| if let Decided::Done(r) = o { Some(r) } else { None }).collect();
        assert_eq!(done.len(), 1, "{outcomes:?}");
        assert!(outcomes.iter().any(|o| matches!(o, Decided::Already(r) if r == done[0])), "{outcomes:?}");
        let orders = t.purchase_orders().await.unwrap();
        assert_eq!(orders.len(), round + 1, "one order per approved recommendation");
        assert!(orders.iter().any(|o| Some(o.number().as_str()) == done[0].executed_as.as_deref()));
    }
});

conformance!(recommendations_stay_in_their_tenant, |store: Arc<dyn Store>| async move {
    store.create_tenant(&slug("t"), "T").await.unwrap();
    store.create_tenant(&slug("u"), "U").await.unwrap();
    let t = store.scope(&slug("t")).await.unwrap();
    let u = store.scope(&slug("u")).await.unwrap();
    t.apply(&catalog()).await.unwrap();
    u.apply(&catalog()).await.unwrap();
    let now = Utc::now();
    let rec = t.record_recommendations(&[order("CCS-01", "HAR-001", 10.0)], now).await.unwrap().remove(0);
    assert!(u.recommendations(&RecommendationQuery::default()).await.unwrap().items.is_empty());
    assert_eq!(u.recommendation(rec.id).await.unwrap(), None);
    let effect = purchase_order_effect("OC-X", "CCS-01", "HAR-001", 10.0);
    let decided = u.decide_recommendation(rec.id, &approval("user:intruso", now, "OC-X"), &effect).await.unwrap();
    assert_eq!(decided, Decided::NotFound);
    assert!(u.purchase_orders().await.unwrap().is_empty(), "nothing applied in the other tenant");
    // The other tenant's optimisation supersedes nothing of T's.
    u.record_recommendations(&[], now).await.unwrap();
    assert_eq!(t.recommendation(rec.id).await.unwrap(), Some(rec));
});

fn contact(phone: &str, user: Uuid, tenant: TenantId) -> fluxion_memory::Contact {
    fluxion_memory::Contact {
        phone: phone.into(),
        user,
        tenant,
        stores: vec!["CCS-01".into()],
        alerts: true,
        created_at: instant("2026-01-15T08:30:00Z"),
    }
}

fn inbound(id: &str, phone: &str, sent_at: &str) -> fluxion_memory::InboundMessage {
    fluxion_memory::InboundMessage {
        id: id.into(),
        phone: phone.into(),
        sent_at: instant(sent_at),
        received_at: Utc::now().trunc_subsecs(6),
        event: format!("{{\"id\":\"{id}\"}}"),
        attempts: 0,
    }
}

conformance!(whatsapp_contacts_belong_to_one_user_and_tenant, |store: Arc<dyn Store>| async move {
    let a = store.create_tenant(&slug("cadena_a"), "A").await.unwrap();
    let b = store.create_tenant(&slug("cadena_b"), "B").await.unwrap();
    let (ana, bea) = (user(Some(a.id), "ana@a.com", Role::Manager), user(Some(b.id), "bea@b.com", Role::Owner));
    store.accounts().create_user(&ana).await.unwrap();
    store.accounts().create_user(&bea).await.unwrap();
    let m = store.messaging();
    m.save_contact(&contact("584141111111", ana.id, a.id)).await.unwrap();
    assert_eq!(m.contact("584141111111").await.unwrap().unwrap().user, ana.id);
    // Another user's number is a conflict; a user of another tenant cannot be registered under this one.
    let taken = m.save_contact(&contact("584141111111", bea.id, b.id)).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let wrong = m.save_contact(&contact("584142222222", bea.id, a.id)).await;
    assert!(matches!(wrong, Err(StoreError::UnknownReference { .. })), "{wrong:?}");
    // A new number replaces the user's old one; settings update in place.
    let mut moved = contact("584143333333", ana.id, a.id);
    moved.alerts = false;
    m.save_contact(&moved).await.unwrap();
    assert!(m.contact("584141111111").await.unwrap().is_none());
    assert_eq!(m.contacts(a.id).await.unwrap(), vec![moved.clone()]);
    assert!(m.contacts(b.id).await.unwrap().is_empty());
    // The suggestion a typed "sí" settles.
    let offer = fluxion_memory::Offer { recommendation: Uuid::new_v4(), expires_at: instant("2026-11-29T10:00:00Z") };
    m.set_offer("584143333333", &offer).await.unwrap();
    assert_eq!(m.offer("584143333333").await.unwrap(), Some(offer));
    // Settling another suggestion leaves this one on offer; settling this one takes it off.
    m.clear_offer("584143333333", Uuid::new_v4()).await.unwrap();
    assert_eq!(m.offer("584143333333").await.unwrap(), Some(offer));
    m.clear_offer("584143333333", offer.recommendation).await.unwrap();
    assert_eq!(m.offer("584143333333").await.unwrap(), None);
    assert!(!m.delete_contact(b.id, ana.id).await.unwrap(), "not from another tenant");
    assert!(m.delete_contact(a.id, ana.id).await.unwrap());
    assert!(m.contact("584143333333").await.unwrap().is_none());
});

conformance!(whatsapp_inbox_keeps_each_message_once_and_leases_it, |store: Arc<dyn Store>| async move {
    let m = store.messaging();
    let first = [
        inbound("wamid.1", "584141111111", "2026-11-28T10:00:00Z"),
        inbound("wamid.2", "584141111111", "2026-11-28T10:00:05Z"),
    ];
    assert_eq!(m.receive(&first).await.unwrap(), 2);
    // A redelivery (with one new message) stores only the new one.
    assert_eq!(
        m.receive(&[first[0].clone(), inbound("wamid.3", "584142222222", "2026-11-28T09:00:00Z")]).await.unwrap(),
        1
    );
    assert_eq!(m.inbox_pending().await.unwrap(), 3);
    assert_eq!(m.last_inbound("584141111111").await.unwrap(), Some(instant("2026-11-28T10:00:05Z")));
    // An older message does not move the window back.
    m.receive(&[inbound("wamid.0", "584141111111", "2026-11-27T10:00:00Z")]).await.unwrap();
    assert_eq!(m.last_inbound("584141111111").await.unwrap(), Some(instant("2026-11-28T10:00:05Z")));
    let now = Utc::now();
    let lease = chrono::Duration::seconds(30);
    let taken = m.claim_inbound(now, lease, 3).await.unwrap();
    assert_eq!(taken.len(), 3);
    assert!(taken.iter().all(|x| x.attempts == 1));
    // Held messages are not taken again until their lease runs out.
    let rest = m.claim_inbound(now, lease, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(m.claim_inbound(now, lease, 10).await.unwrap().is_empty());
    m.finish_inbound(&taken[0].id, "answered").await.unwrap();
    let again = m.claim_inbound(now + chrono::Duration::seconds(31), lease, 10).await.unwrap();
    assert_eq!(again.len(), 3, "a dead worker's messages come back; a finished one does not");
    assert!(again.iter().all(|x| x.attempts == 2 && x.id != taken[0].id));
    let (_, state, outcome) = m.inbound(&taken[0].id).await.unwrap().unwrap();
    assert_eq!((state.as_str(), outcome.as_deref()), ("done", Some("answered")));
    assert_eq!(m.inbox_pending().await.unwrap(), 3);
});

conformance!(whatsapp_outbox_sends_each_intent_once_and_statuses_move_forward, |store: Arc<dyn Store>| async move {
    use fluxion_memory::{OutState, OutboundMessage, SendOutcome, StatusUpdate};
    let m = store.messaging();
    let mut hello = OutboundMessage::new("in:wamid.1:1", "584141111111", None, "reply", "{\"type\":\"text\"}".into());
    hello.fallback = Some("{\"type\":\"template\"}".into());
    let bye = OutboundMessage::new("in:wamid.1:2", "584141111111", None, "reply", "{}".into());
    assert_eq!(m.queue(&[hello.clone(), bye.clone()]).await.unwrap(), 2);
    assert_eq!(m.queue(&[hello.clone()]).await.unwrap(), 0, "an intent id is queued once");
    let now = Utc::now() + chrono::Duration::seconds(1);
    let lease = chrono::Duration::seconds(30);
    let due = m.claim_outbound(now, lease, 10).await.unwrap();
    assert_eq!(due.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), vec!["in:wamid.1:1", "in:wamid.1:2"]);
    assert!(m.claim_outbound(now, lease, 10).await.unwrap().is_empty(), "held");
    m.finish_outbound(&hello.id, &SendOutcome::Sent { wamid: "wamid.out.1".into() }).await.unwrap();
    // The second one timed out: uncertain, due again later — unless a status names it first.
    let later = now + chrono::Duration::seconds(60);
    m.finish_outbound(&bye.id, &SendOutcome::Retry { at: later, error: "timeout".into(), uncertain: true })
        .await
        .unwrap();
    assert_eq!(m.outbound(&bye.id).await.unwrap().unwrap().state, OutState::Uncertain);
    let named = StatusUpdate {
        wamid: "wamid.out.2".into(),
        intent: Some(bye.id.clone()),
        status: "delivered".into(),
        errors: vec![],
    };
    let found = m.record_status(&named).await.unwrap().unwrap();
    assert_eq!(
        (found.state, found.wamid.as_deref(), found.delivery.as_deref()),
        (OutState::Sent, Some("wamid.out.2"), Some("delivered"))
    );
    assert!(
        m.claim_outbound(later + chrono::Duration::seconds(1), lease, 10).await.unwrap().is_empty(),
        "never sent twice"
    );
    // A late attempt's outcome does not undo what a status settled.
    m.finish_outbound(&bye.id, &SendOutcome::Failed { error: "late".into() }).await.unwrap();
    assert_eq!(m.outbound(&bye.id).await.unwrap().unwrap().state, OutState::Sent);
    // Statuses only move forward: read, then a late delivered, stays read; failed is final.
    let status = |s: &str| StatusUpdate { wamid: "wamid.out.1".into(), intent: None, status: s.into(), errors: vec![] };
    m.record_status(&status("read")).await.unwrap();
    m.record_status(&status("delivered")).await.unwrap();
    assert_eq!(m.outbound_by_wamid("wamid.out.1").await.unwrap().unwrap().delivery.as_deref(), Some("read"));
    assert!(
        m.record_status(&StatusUpdate {
            wamid: "wamid.unknown".into(),
            intent: None,
            status: "read".into(),
            errors: vec![]
        })
        .await
        .unwrap()
        .is_none()
    );
    // Replacing with the template makes it due again, without the old wamid.
    m.finish_outbound(&hello.id, &SendOutcome::Replace { message: "{\"type\":\"template\"}".into() }).await.unwrap();
    let replaced = m.outbound(&hello.id).await.unwrap().unwrap();
    assert_eq!((replaced.state, replaced.wamid, replaced.fallback), (OutState::Pending, None, None));
    assert_eq!(m.outbox_pending().await.unwrap(), 1);
    assert_eq!(m.outbox("584141111111", Some("reply"), instant("2026-01-01T00:00:00Z")).await.unwrap().len(), 2);
    // Pushes: recorded with their intent, once per number and alert.
    let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
    let push = OutboundMessage::new("al:584141111111:abc", "584141111111", None, "alert", "{}".into());
    assert!(m.queue_push(&push, &[x]).await.unwrap());
    assert!(!m.queue_push(&push, &[x, y]).await.unwrap(), "the same push is queued once");
    assert_eq!(m.pushed("584141111111", &[x, y]).await.unwrap(), [x].into_iter().collect());
    assert!(m.pushed("584142222222", &[x]).await.unwrap().is_empty());
});
