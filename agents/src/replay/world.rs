//! The world a replay runs in: a tenant's items on one date axis, with their real demand and terms.

use crate::forecast::Calendar;
use crate::forecast::tenant::load_tenant_with_revenue;
use crate::optimizer::{Incoming, ItemTerms, LeadTimeDays};
use chrono::{Days, NaiveDate};
use fluxion_domain::forecast::{DemandSeries, Frequency};
use fluxion_domain::{LocationCode, LocationKind, OrderDays, ProductCode, SupplierCode};
use fluxion_memory::{DemandQuery, StoreError, TenantStore};
use std::collections::HashMap;

/// One store × product.
#[derive(Debug, Clone)]
pub struct ReplayItem {
    /// Store index (into [`ReplayWorld::stores`]).
    pub store: usize,
    /// Product index (into [`ReplayWorld::products`]).
    pub product: usize,
    /// Supplier index (into [`ReplayWorld::suppliers`]; `suppliers.len()` when the product has none).
    pub supplier: usize,
    /// Ordering terms.
    pub terms: ItemTerms,
    /// The product's category, for forecasts of new items.
    pub category: Option<String>,
    /// Its promotions (planned ones are known in advance).
    pub promotions: Vec<(NaiveDate, NaiveDate)>,
    /// First day index of its history (before it the item did not exist).
    pub first: usize,
    /// Units sold each day as recorded (whole axis; zero before `first`).
    pub recorded: Vec<f64>,
    /// Days recorded out of stock.
    pub censored: Vec<bool>,
    /// Real demand each day: the recorded sales, and on days recorded out of stock an imputed demand.
    pub demand: Vec<f64>,
}

impl ReplayItem {
    /// Whether the item exists on day `t`.
    pub fn active_on(&self, t: usize) -> bool {
        t >= self.first
    }

    /// Its recorded history before day `t`, as the policy would have seen it then.
    pub fn series_until(&self, world: &ReplayWorld, t: usize) -> DemandSeries {
        let end = t.max(self.first);
        let mut s = DemandSeries::new(
            format!("{}:{}", world.stores[self.store], world.products[self.product]),
            world.stores[self.store].to_string(),
            world.products[self.product].to_string(),
            world.date_of(self.first),
            Frequency::Daily,
            self.recorded[self.first..end].to_vec(),
        );
        s.censored = self.censored[self.first..end].to_vec();
        s.category = self.category.clone();
        s.promotions = self.promotions.clone();
        s
    }

    /// Average real demand per day over the four weeks before `t`.
    pub fn recent_rate(&self, t: usize) -> f64 {
        let from = t.saturating_sub(28).max(self.first);
        if t <= from {
            return 0.0;
        }
        self.demand[from..t].iter().sum::<f64>() / (t - from) as f64
    }
}

/// A tenant's items on one date axis.
#[derive(Debug, Clone)]
pub struct ReplayWorld {
    /// Day index 0.
    pub start: NaiveDate,
    /// Days on the axis.
    pub days: usize,
    /// Store codes.
    pub stores: Vec<LocationCode>,
    /// Store names (for reasons).
    pub store_names: Vec<String>,
    /// Product codes.
    pub products: Vec<ProductCode>,
    /// Product names (for reasons).
    pub product_names: Vec<String>,
    /// What each product's quantities count.
    pub product_units: Vec<fluxion_domain::Unit>,
    /// What each product costs, USD (also for products no store has sold yet: a new product's
    /// first delivery has a value).
    pub product_costs: Vec<f64>,
    /// Supplier codes.
    pub suppliers: Vec<SupplierCode>,
    /// Every item.
    pub items: Vec<ReplayItem>,
    /// The tenant's calendar (paydays, holidays, events).
    pub calendar: Calendar,
    /// Per store, per day: the revenue recorded, USD (empty when unknown).
    pub store_revenue: Vec<Vec<f64>>,
}

impl ReplayWorld {
    /// The date of day index `t`.
    pub fn date_of(&self, t: usize) -> NaiveDate {
        self.start + Days::new(t as u64)
    }

    /// Goods on their way as the books have them: their expected day, not when they really arrive.
    pub fn incoming(&self, inbound: &super::Inbound) -> Incoming {
        Incoming {
            expected: self.date_of(inbound.expected),
            units: inbound.units,
            from_supplier: inbound.from_supplier,
        }
    }

    /// The day index of `date`, if it is on the axis.
    pub fn index_of(&self, date: NaiveDate) -> Option<usize> {
        let i = usize::try_from((date - self.start).num_days()).ok()?;
        (i < self.days).then_some(i)
    }

    /// The unit cost of `product` (from its first item; 0 when it has none).
    pub fn unit_cost(&self, product: usize) -> f64 {
        self.items.iter().find(|it| it.product == product).map_or(0.0, |it| it.terms.unit_cost)
    }

    /// The last date on the axis.
    pub fn end(&self) -> NaiveDate {
        self.date_of(self.days.saturating_sub(1))
    }
}

/// Real demand from recorded sales: a day recorded out of stock sold only what was on the shelf, so
/// its demand is the average of the same weekday in the four weeks around it (when those were
/// not out of stock), and never less than what it sold. Goods sold in whole units get whole units:
/// the fractions are carried from one imputed day to the next, so the total is kept.
pub fn impute_demand(recorded: &[f64], censored: &[bool]) -> Vec<f64> {
    let n = recorded.len();
    let whole = recorded.iter().all(|v| v.fract() == 0.0);
    let mut carry = 0.0;
    let estimates: Vec<f64> = (0..n)
        .map(|t| {
            if !censored.get(t).copied().unwrap_or(false) {
                return recorded[t];
            }
            let mut same_weekday = Vec::new();
            for k in 1..=4usize {
                for u in [t.checked_sub(7 * k), Some(t + 7 * k)].into_iter().flatten() {
                    if u < n && !censored[u] {
                        same_weekday.push(recorded[u]);
                    }
                }
            }
            let estimate = if same_weekday.is_empty() {
                let lo = t.saturating_sub(28);
                let hi = (t + 29).min(n);
                let around: Vec<f64> = (lo..hi).filter(|&u| !censored[u]).map(|u| recorded[u]).collect();
                if around.is_empty() { recorded[t] } else { around.iter().sum::<f64>() / around.len() as f64 }
            } else {
                same_weekday.iter().sum::<f64>() / same_weekday.len() as f64
            };
            estimate.max(recorded[t])
        })
        .collect();
    if !whole {
        return estimates;
    }
    estimates
        .into_iter()
        .enumerate()
        .map(|(t, e)| {
            if !censored.get(t).copied().unwrap_or(false) {
                return e;
            }
            let with_carry = e + carry;
            let units = with_carry.floor().max(recorded[t]);
            carry = with_carry - units;
            units
        })
        .collect()
}

/// The tenant's stores, products, suppliers and daily demand as a replay world.
pub async fn load_world(store: &dyn TenantStore) -> Result<ReplayWorld, StoreError> {
    let (series, calendar, revenue) = load_tenant_with_revenue(store, &DemandQuery::default()).await?;
    let locations = store.locations().await?;
    let products = store.products().await?;
    let suppliers = store.suppliers().await?;
    let shops: Vec<_> = locations.iter().filter(|l| l.kind == LocationKind::Store).collect();
    let store_codes: Vec<LocationCode> = shops.iter().map(|l| l.code.clone()).collect();
    let store_names: Vec<String> = shops.iter().map(|l| l.name.clone()).collect();
    let store_index: HashMap<&str, usize> = store_codes.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let product_codes: Vec<ProductCode> = products.iter().map(|p| p.code().clone()).collect();
    let product_names: Vec<String> = products.iter().map(|p| p.name().to_owned()).collect();
    let product_index: HashMap<&str, usize> = product_codes.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let supplier_codes: Vec<SupplierCode> = suppliers.iter().map(|s| s.code.clone()).collect();
    let start =
        series.iter().map(|s| s.start).min().unwrap_or_else(|| NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default());
    let end = series.iter().filter_map(DemandSeries::end).max().unwrap_or(start);
    let days = usize::try_from((end - start).num_days()).unwrap_or(0) + 1;
    let mut items = Vec::new();
    for s in &series {
        let (Some(&si), Some(&pi)) = (store_index.get(s.store.as_str()), product_index.get(s.product.as_str())) else {
            continue;
        };
        let product = &products[pi];
        let supplier = product.supplier().and_then(|code| suppliers.iter().position(|x| &x.code == code));
        let (lead, moq, order_days) = match supplier {
            Some(k) => {
                (LeadTimeDays::from_lead_time(suppliers[k].lead_time), suppliers[k].moq.get(), suppliers[k].order_days)
            }
            None => (LeadTimeDays::normal(3.0, 1.0), 0.0, OrderDays::EVERY_DAY),
        };
        let first = usize::try_from((s.start - start).num_days()).unwrap_or(0);
        let mut recorded = vec![0.0; days];
        let mut censored = vec![false; days];
        for (k, (v, c)) in s.values.iter().zip(&s.censored).enumerate() {
            if first + k < days {
                recorded[first + k] = if v.is_finite() { v.max(0.0) } else { 0.0 };
                censored[first + k] = *c;
            }
        }
        let demand = impute_demand(&recorded, &censored);
        items.push(ReplayItem {
            store: si,
            product: pi,
            supplier: supplier.unwrap_or(suppliers.len()),
            terms: ItemTerms {
                unit_cost: product.cost().as_f64(),
                unit_price: product.price().as_f64(),
                pack: f64::from(product.pack_size()),
                moq,
                lead,
                order_days,
                shelf_life_days: product.shelf_life_days(),
            },
            category: s.category.clone(),
            promotions: s.promotions.clone(),
            first,
            recorded,
            censored,
            demand,
        });
    }
    let mut store_revenue = vec![vec![0.0; days]; store_codes.len()];
    for (code, by_day) in &revenue {
        let Some(&si) = store_index.get(code.as_str()) else { continue };
        for (day, usd) in by_day {
            if let Ok(t) = usize::try_from((*day - start).num_days())
                && t < days
            {
                store_revenue[si][t] += usd;
            }
        }
    }
    Ok(ReplayWorld {
        start,
        days,
        stores: store_codes,
        store_names,
        products: product_codes,
        product_names,
        product_units: products.iter().map(|p| p.unit()).collect(),
        product_costs: products.iter().map(|p| p.cost().as_f64()).collect(),
        suppliers: supplier_codes,
        items,
        calendar,
        store_revenue,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stockout_days_are_imputed_from_the_same_weekday() {
        let mut recorded = vec![0.0; 35];
        for (t, v) in recorded.iter_mut().enumerate() {
            *v = if t % 7 == 5 { 20.0 } else { 5.0 };
        }
        let mut censored = vec![false; 35];
        recorded[19] = 3.0; // a Saturday-like peak day that sold out early
        censored[19] = true;
        recorded[20] = 0.0;
        censored[20] = true;
        let d = impute_demand(&recorded, &censored);
        assert!((d[19] - 20.0).abs() < 1e-9, "{}", d[19]);
        assert!((d[20] - 5.0).abs() < 1e-9);
        assert_eq!(d[3], 5.0);
        // A slow mover's imputed days are whole units that keep the total: about 0.25 a day → one unit in four.
        let recorded: Vec<f64> = (0..200).map(|t| if t % 28 == 3 { 1.0 } else { 0.0 }).collect();
        let mut censored = vec![false; 200];
        for k in 10..18 {
            censored[3 + 7 * k] = true;
        }
        let whole = impute_demand(&recorded, &censored);
        assert!(whole.iter().all(|v| v.fract() == 0.0));
        // The same history in fractional units keeps the raw averages.
        let scaled: Vec<f64> = recorded.iter().map(|v| v * 1.5).collect();
        let raw: f64 =
            impute_demand(&scaled, &censored).iter().zip(&censored).filter(|(_, c)| **c).map(|(v, _)| v / 1.5).sum();
        let imputed: f64 = whole.iter().zip(&censored).filter(|(_, c)| **c).map(|(v, _)| v).sum();
        assert!(raw > 1.0 && (imputed - raw).abs() < 1.0, "{imputed} vs {raw}");
    }
}
