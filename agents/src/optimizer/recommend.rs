//! Recommended orders, explained with their numbers and the margin they protect.

use super::demand::{DemandAhead, PeriodDemand};
use super::reorder::{ItemTerms, ReorderSettings, days_to_order, levels, order_quantity};
use chrono::{Days, NaiveDate};
use fluxion_domain::format::{number, short_date, units};
use fluxion_domain::{LocationCode, ProductCode, Recommendation, RecommendedAction, SupplierCode};

/// What ordering one SKU × store needs to know tonight.
#[derive(Debug, Clone)]
pub struct OrderContext<'a> {
    /// The store.
    pub store: &'a LocationCode,
    /// The product.
    pub product: &'a ProductCode,
    /// Its supplier.
    pub supplier: Option<&'a SupplierCode>,
    /// Ordering terms.
    pub terms: &'a ItemTerms,
    /// Units on hand tonight.
    pub on_hand: f64,
    /// Units on their way.
    pub inbound: f64,
    /// Perishable lots on hand: `(last day it can be sold, units)`.
    pub lots: &'a [(NaiveDate, f64)],
    /// Demand from tomorrow on.
    pub ahead: &'a DemandAhead<'a>,
}

/// The order to place on the supplier's next order day (today if it takes orders today), if any.
///
/// The position on that day is projected from tonight's (expected sales until then come off it), the
/// levels are computed for that day, and the benefit is the margin of the lost sales the order avoids
/// over the protection period: `margin × (E[(D − position)⁺] − E[(D − position − q)⁺])`.
pub fn recommend_order(ctx: &OrderContext<'_>, today: NaiveDate, settings: &ReorderSettings) -> Option<Recommendation> {
    let wait = days_to_order(ctx.terms.order_days, today);
    let on = today + Days::new(wait as u64);
    let means: Vec<f64> = (wait..wait + 120).map(|i| ctx.ahead.mean_at(i)).collect();
    let later = DemandAhead { means: &means, size: ctx.ahead.size, level_uncertainty: ctx.ahead.level_uncertainty };
    let sold_before = ctx.ahead.total(0, wait).0;
    let on_hand = (ctx.on_hand - sold_before).max(0.0);
    let l = levels(&later, ctx.terms, on, settings);
    // Stock that will expire before it sells does not protect the period the order covers.
    let until = wait + l.protection_days();
    let expiring =
        crate::lots::expected_waste_dated(ctx.lots, today, until, |k| ctx.ahead.mean_at(k))[until].min(on_hand);
    let position = on_hand - expiring + ctx.inbound;
    let daily = later.total(0, 7).0 / 7.0;
    let q = order_quantity(position, &l, ctx.terms, daily, settings);
    if q <= 0.0 {
        return None;
    }
    let period = PeriodDemand::until_arrival(&later, l.review_days, &ctx.terms.lead);
    let margin = (ctx.terms.unit_price - ctx.terms.unit_cost).max(0.0);
    let benefit = margin * (period.expected_shortage(position) - period.expected_shortage(position + q));
    let days = (l.review_days as f64 + l.lead_days - 1.0).round().max(1.0);
    let (when, stock) = if wait == 0 {
        (String::new(), "stock".to_owned())
    } else {
        (format!(" el {}", short_date(on)), "stock previsto para ese día".to_owned())
    };
    let expiring_note =
        if expiring >= 0.5 { format!(" ({} se vencerían antes de venderse)", units(expiring)) } else { String::new() };
    let mut explanation = format!(
        "Pedir {}{}: demanda esperada {} en {} días, {} {}{}, en tránsito {}",
        units(q),
        when,
        units(l.expected_demand),
        number(days, 0),
        stock,
        units(on_hand),
        expiring_note,
        units(ctx.inbound),
    );
    if ctx.terms.moq > 0.0 {
        explanation.push_str(&format!(", mínimo de compra {}", units(ctx.terms.moq)));
    }
    if ctx.terms.pack > 1.0 {
        explanation.push_str(&format!(", cajas de {}", units(ctx.terms.pack)));
    }
    explanation.push_str(&format!(
        ". Cubre la demanda hasta la próxima entrega con {} % de confianza y protege US$ {} de margen.",
        number(100.0 * l.service_level, 0),
        number(benefit, 2)
    ));
    Some(Recommendation {
        action: RecommendedAction::Order { supplier: ctx.supplier.cloned() },
        store: ctx.store.clone(),
        product: ctx.product.clone(),
        units: q,
        value_usd: q * ctx.terms.unit_cost,
        benefit_usd: benefit,
        on,
        explanation_es: explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::LeadTimeDays;
    use fluxion_domain::OrderDays;

    #[test]
    fn an_order_explains_itself_and_states_its_benefit() {
        let store = LocationCode::parse("CCS-01").expect("code");
        let product = ProductCode::parse("ARR-001").expect("code");
        let terms = ItemTerms {
            unit_cost: 1.0,
            unit_price: 1.3,
            pack: 25.0,
            moq: 250.0,
            lead: LeadTimeDays::fixed(5),
            order_days: OrderDays::EVERY_DAY,
            shelf_life_days: None,
        };
        let means = vec![80.0; 60];
        let ahead = DemandAhead { means: &means, size: f64::INFINITY, level_uncertainty: 0.0 };
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let ctx = OrderContext {
            store: &store,
            product: &product,
            supplier: None,
            terms: &terms,
            on_hand: 100.0,
            inbound: 0.0,
            lots: &[],
            ahead: &ahead,
        };
        let r = recommend_order(&ctx, today, &ReorderSettings::default()).expect("an order");
        assert_eq!(r.units % 25.0, 0.0);
        assert!(r.units >= 250.0);
        assert!(r.explanation_es.starts_with("Pedir "), "{}", r.explanation_es);
        assert!(
            r.explanation_es.contains("demanda esperada 400 en 5 días, stock 100, en tránsito 0, mínimo de compra 250"),
            "{}",
            r.explanation_es
        );
        // 100 on hand against 400 expected: about 300 short, 0.30 margin each.
        assert!(r.benefit_usd > 80.0 && r.benefit_usd < 95.0, "{}", r.benefit_usd);
        // Plenty on hand: nothing to order.
        let full = OrderContext { on_hand: 2000.0, ..ctx.clone() };
        assert!(recommend_order(&full, today, &ReorderSettings::default()).is_none());
        // A supplier that takes orders on Thursdays only: the order is for Thursday.
        let thursday = ItemTerms { order_days: OrderDays::parse("jue").expect("days"), ..terms.clone() };
        let later = OrderContext { terms: &thursday, ..ctx };
        let r = recommend_order(&later, today, &ReorderSettings::default()).expect("an order");
        assert_eq!(r.on, today + Days::new(3));
        assert!(r.explanation_es.contains(" el jue 26/11"), "{}", r.explanation_es);
    }

    #[test]
    fn stock_about_to_expire_does_not_count() {
        let store = LocationCode::parse("CCS-01").expect("code");
        let product = ProductCode::parse("QUE-001").expect("code");
        let terms = ItemTerms {
            unit_cost: 1.0,
            unit_price: 1.6,
            pack: 1.0,
            moq: 0.0,
            lead: LeadTimeDays::fixed(2),
            order_days: OrderDays::EVERY_DAY,
            shelf_life_days: Some(6),
        };
        let means = vec![10.0; 60];
        let ahead = DemandAhead { means: &means, size: f64::INFINITY, level_uncertainty: 0.0 };
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let fresh = [(today + Days::new(6), 60.0)];
        let ctx = OrderContext {
            store: &store,
            product: &product,
            supplier: None,
            terms: &terms,
            on_hand: 60.0,
            inbound: 0.0,
            lots: &fresh,
            ahead: &ahead,
        };
        // 60 fresh units cover the next two days' 20 with room to spare.
        assert!(recommend_order(&ctx, today, &ReorderSettings::default()).is_none());
        // The same 60, sellable through tomorrow only: 10 sell, 50 go to waste.
        let old = [(today + Days::new(1), 60.0)];
        let r =
            recommend_order(&OrderContext { lots: &old, ..ctx }, today, &ReorderSettings::default()).expect("an order");
        assert!(
            r.explanation_es.contains("stock 60 (50 se vencerían antes de venderse), en tránsito 0"),
            "{}",
            r.explanation_es
        );
        assert!(r.units >= 20.0, "{}", r.units);
    }
}
