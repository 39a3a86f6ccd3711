//! A tenant's daily demand as series, and its calendar.

use super::calendar::{Calendar, quincena_events};
use chrono::{Datelike, NaiveDate};
use fluxion_domain::calendar::venezuelan_holidays;
use fluxion_domain::forecast::{DemandSeries, Frequency};
use fluxion_domain::{CalendarEvent, DailyDemand, EventKind};
use fluxion_memory::{DemandQuery, StoreError, TenantStore};
use std::collections::BTreeMap;

/// Turns daily demand rows into one series per store × product, each from its first row to `end`
/// (default: the last day of any row). A day without a row sold nothing and was not out of stock;
/// a day flagged out of stock is censored.
pub fn series_from_demand(rows: &[DailyDemand], end: Option<NaiveDate>) -> Vec<DemandSeries> {
    let Some(last) = end.or_else(|| rows.iter().map(|r| r.day).max()) else { return Vec::new() };
    let mut by_key: BTreeMap<(String, String), Vec<&DailyDemand>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.day <= last) {
        by_key.entry((r.store.to_string(), r.product.to_string())).or_default().push(r);
    }
    by_key
        .into_iter()
        .filter_map(|((store, product), days)| {
            let start = days.iter().map(|r| r.day).min()?;
            let len = usize::try_from((last - start).num_days()).ok()? + 1;
            let mut values = vec![0.0; len];
            let mut censored = vec![false; len];
            for r in days {
                let i = usize::try_from((r.day - start).num_days()).ok()?;
                values[i] += r.units;
                censored[i] |= r.out_of_stock;
            }
            let mut s =
                DemandSeries::new(format!("{store}:{product}"), store, product, start, Frequency::Daily, values);
            s.censored = censored;
            Some(s)
        })
        .collect()
}

/// The tenant's calendar over `[from, to]`: its own events, plus the Venezuelan quincena when the
/// tenant recorded no paydays of its own and Venezuela's holidays when it recorded none. Promotions are left out: each concerns one product at
/// one store, and as a chain-wide day it would move every other product too.
pub fn tenant_calendar(events: &[CalendarEvent], from: NaiveDate, to: NaiveDate) -> Calendar {
    let mut all: Vec<CalendarEvent> = events.iter().filter(|e| e.kind != EventKind::Promotion).cloned().collect();
    if !events.iter().any(|e| e.kind == EventKind::Payday) {
        all.extend(quincena_events(from, to));
    }
    if !events.iter().any(|e| matches!(e.kind, EventKind::National | EventKind::Religious)) {
        for year in from.year()..=to.year() {
            all.extend(venezuelan_holidays(year).into_iter().filter(|e| e.day >= from && e.day <= to));
        }
    }
    Calendar::from_events(&all)
}

/// Every daily series of a tenant matching `query`, with its calendar (events up to a year past the
/// last day, so that forecasts see the coming holidays).
pub async fn load_tenant(
    store: &dyn TenantStore,
    query: &DemandQuery,
) -> Result<(Vec<DemandSeries>, Calendar), StoreError> {
    load(store, query, false).await.map(|(series, calendar, _)| (series, calendar))
}

/// Revenue per store code, per day, USD, as recorded.
pub type StoreRevenue = std::collections::HashMap<String, std::collections::HashMap<NaiveDate, f64>>;

/// [`load_tenant`], with the revenue each store recorded per day.
pub async fn load_tenant_with_revenue(
    store: &dyn TenantStore,
    query: &DemandQuery,
) -> Result<(Vec<DemandSeries>, Calendar, StoreRevenue), StoreError> {
    load(store, query, true).await
}

async fn load(
    store: &dyn TenantStore,
    query: &DemandQuery,
    with_revenue: bool,
) -> Result<(Vec<DemandSeries>, Calendar, StoreRevenue), StoreError> {
    let rows = store.daily_demand(query).await?;
    let mut revenue = StoreRevenue::new();
    for r in rows.iter().filter(|_| with_revenue) {
        // One key per store, not one allocation per row.
        let days = match revenue.get_mut(r.store.as_str()) {
            Some(days) => days,
            None => revenue.entry(r.store.to_string()).or_default(),
        };
        *days.entry(r.day).or_default() += r.revenue.as_f64();
    }
    let mut series = series_from_demand(&rows, query.to);
    let categories: std::collections::HashMap<String, String> = store
        .products()
        .await?
        .into_iter()
        .filter(|p| !p.category().is_empty())
        .map(|p| (p.code().to_string(), p.category().to_owned()))
        .collect();
    let mut promotions: std::collections::HashMap<(String, String), Vec<(NaiveDate, NaiveDate)>> =
        std::collections::HashMap::new();
    for p in store.promotions().await? {
        promotions.entry((p.store().to_string(), p.product().to_string())).or_default().push((p.first(), p.last()));
    }
    for s in &mut series {
        s.category = categories.get(&s.product).cloned();
        if let Some(p) = promotions.remove(&(s.store.clone(), s.product.clone())) {
            s.promotions = p;
        }
    }
    let from = series.iter().map(|s| s.start).min();
    let to = series.iter().filter_map(DemandSeries::end).max();
    let calendar = match (from, to) {
        (Some(from), Some(to)) => {
            let horizon_end = NaiveDate::from_ymd_opt(to.year() + 1, 12, 31).unwrap_or(to);
            let events = store.events(from, horizon_end).await?;
            tenant_calendar(&events, from, horizon_end)
        }
        _ => Calendar::default(),
    };
    Ok((series, calendar, revenue))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluxion_domain::{LocationCode, Money, ProductCode};

    fn row(day: u32, units: f64, oos: bool) -> DailyDemand {
        DailyDemand {
            store: LocationCode::parse("S1").expect("code"),
            product: ProductCode::parse("P1").expect("code"),
            day: NaiveDate::from_ymd_opt(2026, 1, day).expect("day"),
            units,
            revenue: Money::usd_cents(0),
            out_of_stock: oos,
        }
    }

    #[test]
    fn missing_days_are_zero_and_stockouts_censored() {
        let s = series_from_demand(&[row(2, 3.0, false), row(5, 0.0, true)], None);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].values, vec![3.0, 0.0, 0.0, 0.0]);
        assert_eq!(s[0].censored, vec![false, false, false, true]);
    }

    #[test]
    fn the_quincena_is_added_when_the_tenant_has_no_paydays() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).expect("day");
        let cal = tenant_calendar(&[], d(1, 1), d(3, 31));
        assert_eq!(cal.features(d(1, 15)).len(), 1);
        assert_eq!(cal.features(d(2, 28)).len(), 1);
        assert_eq!(cal.features(d(3, 1)).len(), 1);
        assert!(cal.features(d(2, 27)).is_empty());
        // Carnaval 2026: Monday 16 and Tuesday 17 February.
        assert!(cal.features(d(2, 16)).iter().any(|f| cal.label(*f).contains("Carnaval")));
    }
}
