//! The conformance suite: every backend of the store must pass every test here.
//!
//! Each test runs against SQLite always and against PostgreSQL when `FLUXION_TEST_DATABASE_URL` is
//! set (mandatory in CI), each on a fresh store.
#![allow(clippy::unwrap_used)]

mod support;

use fluxion_domain::*;
use fluxion_memory::{ChangeSet, DemandQuery, IngestRun, IngestStatus, Store, StoreError, StoredForecast};
use std::sync::Arc;
use support::*;

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
    let current = t.current_stock().await.unwrap();
    let ccs: Vec<_> = current.iter().filter(|s| s.location.as_str() == "CCS-01").collect();
    assert_eq!(ccs.len(), 1);
    assert_eq!((ccs[0].day, ccs[0].on_hand.get()), (day("2025-05-03"), 12.0), "current stock is the latest snapshot");
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
    assert_eq!(t.trace(b.id).await.unwrap().as_ref(), Some(&b), "spans round-trip");
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
