//! The forecaster on the demo chain, loaded through the real store: it finds the quincena where the
//! generator put it, and stockout spells do not drag its forecasts down.

use chrono::NaiveDate;
use fluxion_agents::forecast::store_profiles;
use fluxion_agents::forecast::tenant::load_tenant;
use fluxion_agents::forecast::{AutoConfig, forecast_batch};
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::TenantSlug;
use fluxion_domain::forecast::DemandSeries;
use fluxion_memory::DemandQuery;

async fn demo_series() -> (Vec<DemandSeries>, fluxion_agents::forecast::Calendar, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = fluxion_memory::open_sqlite(dir.path()).await.expect("sqlite");
    let slug = TenantSlug::parse("demo").expect("slug");
    store.create_tenant(&slug, "demo").await.expect("tenant");
    let tenant = store.scope(&slug).await.expect("scope");
    let end = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
    let chain = generate(&DemoConfig::new(11, 2, 60, 500, end).expect("config")).expect("demo");
    for batch in chain.batches() {
        tenant.apply(&batch).await.expect("apply");
    }
    let (series, calendar) = load_tenant(&*tenant, &DemandQuery::default()).await.expect("load");
    (series, calendar, dir)
}

#[tokio::test]
async fn the_quincena_is_found_where_the_generator_put_it() {
    let (series, calendar, _dir) = demo_series().await;
    assert!(series.len() >= 100, "{} series", series.len());
    let cfg = AutoConfig::default();
    let profiles = store_profiles(series.iter(), &calendar, &cfg);
    let key = (0..calendar.len() as u16).find(|f| calendar.key(*f) == "payday:Quincena").expect("quincena feature");
    for (store, p) in &profiles {
        // The generator lifts paydays by 12–50% by product family, against days that also include
        // lean mid-fortnight days: pooled over a store, the lift must be clearly there.
        let lift = p.lifts[usize::from(key)];
        assert!((1.15..1.8).contains(&lift), "store {store}: quincena lift {lift:.3}");
    }
    let batch = forecast_batch(&series, 28, &calendar, &cfg);
    let mut with_lift = 0;
    let mut total = 0;
    for f in batch.forecasts.iter().flatten() {
        total += 1;
        if f.effects.iter().any(|e| e.key == "payday:Quincena" && e.lift > 1.05 && e.label_es == "la quincena") {
            with_lift += 1;
        }
        // Every band is ordered.
        for p in &f.points {
            assert!(p.mean.is_finite() && p.p10 <= p.p50 + 1e-9 && p.p50 <= p.p90 + 1e-9, "{}: {p:?}", f.series);
        }
    }
    assert!(with_lift * 10 >= total * 8, "{with_lift} of {total} forecasts apply a quincena lift");
}

#[tokio::test]
async fn stockout_spells_do_not_drag_the_forecast_down() {
    let (series, calendar, _dir) = demo_series().await;
    // The same series with their stockout days taken as true zero demand.
    let naive: Vec<DemandSeries> =
        series.iter().map(|s| DemandSeries { censored: vec![false; s.len()], ..s.clone() }).collect();
    let cfg = AutoConfig::default();
    let aware = forecast_batch(&series, 28, &calendar, &cfg);
    let blind = forecast_batch(&naive, 28, &calendar, &cfg);
    let mut higher = 0;
    let mut checked = 0;
    let (mut aware_sum, mut blind_sum) = (0.0, 0.0);
    for (i, s) in series.iter().enumerate() {
        let recent = s.len().saturating_sub(56);
        let stockout_days = s.censored[recent..].iter().filter(|c| **c).count();
        if stockout_days < 5 {
            continue;
        }
        let total = |f: &Option<fluxion_domain::forecast::Forecast>| {
            f.as_ref().map_or(0.0, |f| f.points.iter().map(|p| p.mean).sum::<f64>())
        };
        let (a, b) = (total(&aware.forecasts[i]), total(&blind.forecasts[i]));
        checked += 1;
        aware_sum += a;
        blind_sum += b;
        if a >= b * 0.999 {
            higher += 1;
        }
    }
    assert!(checked >= 5, "only {checked} series had a recent stockout spell");
    assert!(higher * 10 >= checked * 9, "{higher} of {checked} forecasts held up through a stockout");
    assert!(aware_sum > blind_sum * 1.05, "aware {aware_sum:.0} vs blind {blind_sum:.0}");
}
