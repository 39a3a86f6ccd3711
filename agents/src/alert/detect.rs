//! The detectors: one function per alert type.

use super::AlertSettings;
use crate::optimizer::{
    DemandAhead, Incoming, ItemTerms, LeadTimeDays, Move, PeriodDemand, ReorderSettings, ShelfOutlook, levels,
    order_quantity,
};
use chrono::{Days, NaiveDate};
use fluxion_domain::format::{number, short_date, units};
use fluxion_domain::{Alert, AlertKind, ImpactKind, LocationCode, ProductCode, Severity, SuggestedAction, Unit};

/// One recent day checked against the forecast made before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayCheck {
    /// The day.
    pub date: NaiveDate,
    /// Units sold.
    pub sold: f64,
    /// The forecast's mean for that day (made before it).
    pub expected: f64,
    /// The forecast's dispersion (negative-binomial size; `INFINITY` = Poisson).
    pub size: f64,
    /// Recorded out of stock (its sales say nothing about demand).
    pub censored: bool,
}

/// What one SKU × store looks like tonight.
#[derive(Debug, Clone)]
pub struct ItemView<'a> {
    /// The store.
    pub store: &'a LocationCode,
    /// The store's name, for reasons.
    pub store_name: &'a str,
    /// The product.
    pub product: &'a ProductCode,
    /// The product's name, for reasons.
    pub product_name: &'a str,
    /// What its quantities count (pieces, kilograms, litres).
    pub unit: Unit,
    /// Ordering terms (cost, price, pack, MOQ, lead time, order days, shelf life).
    pub terms: &'a ItemTerms,
    /// Units on hand tonight, as the system has them.
    pub on_hand: f64,
    /// Orders and transfers on their way.
    pub inbound: &'a [Incoming],
    /// Lots on hand (perishables): `(expiry day, units)`.
    pub lots: &'a [(NaiveDate, f64)],
    /// Demand from tomorrow on (the latest forecast).
    pub ahead: Option<DemandAhead<'a>>,
    /// The last days, oldest first, each against the forecast made before it.
    pub recent: &'a [DayCheck],
}

impl ItemView<'_> {
    fn key(&self, kind: AlertKind) -> String {
        format!("{}:{}:{}", kind.as_str(), self.store, self.product)
    }

    fn alert(&self, kind: AlertKind, today: NaiveDate) -> Alert {
        Alert {
            kind,
            severity: Severity::Warning,
            store: self.store.clone(),
            product: Some(self.product.clone()),
            impact_usd: 0.0,
            impact: ImpactKind::LostMargin,
            action: SuggestedAction::Review,
            reason_es: String::new(),
            dedup_key: self.key(kind),
            raised_on: today,
            expires_on: today + Days::new(7),
            probability: None,
            runs_out_on: None,
            unit: Some(self.unit),
        }
    }

    fn margin(&self) -> f64 {
        (self.terms.unit_price - self.terms.unit_cost).max(0.0)
    }
}

/// Units expected within `days` days after `today`.
fn arriving(inbound: &[Incoming], today: NaiveDate, days: usize) -> f64 {
    let until = today + Days::new(days as u64);
    inbound.iter().filter(|g| g.expected_from(today) <= until).map(|g| g.units).sum()
}

/// The horizon (days) an imminent-stockout alert looks ahead: the days before the next possible
/// replenishment arrives (it arrives in the morning of the day after the horizon).
pub fn stockout_horizon(terms: &ItemTerms, today: NaiveDate) -> usize {
    crate::optimizer::shelf::replenishment_horizon(terms, today)
}

/// The probability that item runs out before the next possible replenishment arrives: demand
/// until then against stock on hand, with each delivery already on its way counted only from the
/// morning it arrives. `None` without a forecast.
pub fn stockout_risk(item: &ItemView<'_>, today: NaiveDate) -> Option<f64> {
    risk(item, today).map(|r| r.probability)
}

/// An item's stockout risk and the numbers behind it.
struct Risk<'a> {
    probability: f64,
    horizon: usize,
    exposure: PeriodDemand,
    incoming: f64,
    ahead: &'a DemandAhead<'a>,
}

fn risk<'a>(item: &'a ItemView<'_>, today: NaiveDate) -> Option<Risk<'a>> {
    let ahead = item.ahead.as_ref()?;
    let horizon = stockout_horizon(item.terms, today);
    // The horizon ends the morning a replenishment ordered now would arrive at the expected lead
    // time; the alert is judged on that horizon, so its probability is taken over the same days.
    let incoming = arriving(item.inbound, today, horizon);
    // Perishable stock that expires before it sells does not protect the shelf.
    let waste = crate::lots::expected_waste_dated(item.lots, today, horizon, |k| ahead.mean_at(k));
    // Each delivery counted from the morning it may arrive (a late one may not come in time).
    let mut shelf = ShelfOutlook::new(ahead, item.inbound, &item.terms.lead, today, horizon);
    let probability = shelf.stockout_probability(item.on_hand, &waste);
    let exposure = shelf.exposure();
    Some(Risk { probability, horizon, exposure, incoming, ahead })
}

/// Tonight's imminent-stockout verdict on an item, from one computation of its risk.
#[derive(Debug, Clone, PartialEq)]
pub enum StockoutVerdict {
    /// Likely enough to raise an alert ([`AlertSettings::stockout_probability`]).
    Raise(Alert),
    /// Below that, but likely enough to keep an open alert open
    /// ([`AlertSettings::stockout_hold_probability`]): its deduplication key.
    Hold(String),
    /// Neither.
    Clear,
}

/// Imminent stockout: P(demand until the next possible replenishment > on hand + arriving in time).
pub fn imminent_stockout(
    item: &ItemView<'_>,
    today: NaiveDate,
    settings: &AlertSettings,
    reorder: &ReorderSettings,
) -> Option<Alert> {
    match stockout_verdict(item, today, settings, reorder) {
        StockoutVerdict::Raise(alert) => Some(alert),
        StockoutVerdict::Hold(_) | StockoutVerdict::Clear => None,
    }
}

/// [`imminent_stockout`], or the key that holds an open alert about it.
pub fn stockout_verdict(
    item: &ItemView<'_>,
    today: NaiveDate,
    settings: &AlertSettings,
    reorder: &ReorderSettings,
) -> StockoutVerdict {
    let Some(Risk { probability: p, horizon, exposure, incoming, ahead }) = risk(item, today) else {
        return StockoutVerdict::Clear;
    };
    if p < settings.stockout_probability {
        return if p >= settings.stockout_hold_probability {
            StockoutVerdict::Hold(item.key(AlertKind::ImminentStockout))
        } else {
            StockoutVerdict::Clear
        };
    }
    let available = item.on_hand.max(0.0) + incoming;
    // The day the stock is expected to run out: cumulative expected demand reaches what is there.
    let mut cumulative = 0.0;
    let mut runs_out = horizon;
    for k in 0..horizon.max(1) {
        cumulative += ahead.mean_at(k);
        if cumulative > item.on_hand.max(0.0) + arriving(item.inbound, today, k + 1) {
            runs_out = k + 1;
            break;
        }
    }
    let runs_out_on = today + Days::new(runs_out as u64);
    let l = levels(ahead, item.terms, today, reorder);
    let position = item.on_hand.max(0.0) + item.inbound.iter().map(|g| g.units).sum::<f64>();
    let daily = ahead.total(0, 7).0 / 7.0;
    let mut reorder_units = order_quantity(position, &l, item.terms, daily, reorder);
    if reorder_units <= 0.0 {
        reorder_units = item.terms.packed(item.terms.pack);
    }
    let mut a = item.alert(AlertKind::ImminentStockout, today);
    a.severity =
        if p >= settings.critical_probability || runs_out <= 2 { Severity::Critical } else { Severity::Warning };
    a.impact_usd = exposure.expected_shortage(available) * item.margin();
    a.impact = ImpactKind::LostMargin;
    a.action = SuggestedAction::Reorder { units: reorder_units };
    a.probability = Some(p);
    a.runs_out_on = Some(runs_out_on);
    a.expires_on = today + Days::new(horizon as u64);
    let arriving_text = if incoming > 0.0 { format!(" y llegan {}", units(incoming)) } else { String::new() };
    // A delivery that is already late may keep the shelf waiting.
    let late = item.inbound.iter().filter(|g| g.from_supplier && g.is_late(today)).map(|g| g.expected).min();
    let late_text = late.map_or(String::new(), |d| format!(" (el pedido que venía el {} aún no llega)", short_date(d)));
    let lead = item.terms.lead.mean_days();
    let when = if item.on_hand <= 0.0 {
        "ya se agotó".to_owned()
    } else {
        format!("se agota el {}", short_date(runs_out_on))
    };
    a.reason_es = format!(
        "Quedan {} {} de {} en {}{}{}; se venden ~{} al día y el proveedor tarda {} días: {} \
         (probabilidad de quiebre {} %). Pedir {}.",
        units(item.on_hand.max(0.0)),
        item.unit.label_es(),
        item.product_name,
        item.store_name,
        arriving_text,
        late_text,
        units(daily),
        units(lead),
        when,
        number(100.0 * p, 0),
        units(reorder_units),
    );
    StockoutVerdict::Raise(a)
}

/// An imminent stockout that a move from another store relieves (from the transfer plan): the alert
/// suggests the move, which arrives tomorrow morning — sooner than any order, and the only remedy
/// while a supplier's delivery is late — and its reason still names the order to place.
pub fn relieve_by_transfer(alert: &mut Alert, m: &Move, from: (&LocationCode, &str)) {
    alert.action = SuggestedAction::Transfer { units: m.units, from: from.0.clone(), to: alert.store.clone() };
    let unit = alert.unit.unwrap_or(Unit::Each).label_es();
    alert.reason_es.push_str(&format!(
        " {} tiene de más y puede enviar {} {unit}, que llegarían mañana.",
        from.1,
        units(m.units)
    ));
}

/// Overstock: cover far above what the policy holds, with the capital tied up.
pub fn overstock(
    item: &ItemView<'_>,
    today: NaiveDate,
    settings: &AlertSettings,
    reorder: &ReorderSettings,
) -> Option<Alert> {
    let ahead = item.ahead.as_ref()?;
    let stock = item.on_hand.max(0.0) + item.inbound.iter().map(|g| g.units).sum::<f64>();
    if stock <= 0.0 {
        return None;
    }
    let daily = ahead.total(0, 28).0 / 28.0;
    let l = levels(ahead, item.terms, today, reorder);
    // What the policy holds at most: its order-up-to level plus one minimum order.
    let policy_units = l.order_up_to + item.terms.moq.max(item.terms.pack);
    let policy_days = if daily > 0.0 { policy_units / daily } else { 0.0 };
    let cover = if daily > 0.0 { stock / daily } else { f64::INFINITY };
    let limit_days = (settings.overstock_factor * policy_days).max(settings.overstock_min_cover_days);
    if cover <= limit_days {
        return None;
    }
    let keep = (daily * limit_days).max(policy_units);
    let excess = (stock - keep).max(0.0).floor();
    let tied = excess * item.terms.unit_cost;
    if excess < 1.0 || tied < settings.min_impact_usd {
        return None;
    }
    let mut a = item.alert(AlertKind::Overstock, today);
    a.severity = if cover > 2.0 * limit_days { Severity::Warning } else { Severity::Info };
    a.impact_usd = tied;
    a.impact = ImpactKind::CapitalTiedUp;
    let slow = item.terms.shelf_life_days.is_some() || cover > 120.0;
    a.action = if slow {
        SuggestedAction::MarkDown { units: excess, discount_pct: if cover > 180.0 { 30 } else { 15 } }
    } else {
        SuggestedAction::HoldOrders
    };
    let cover_text = if cover.is_finite() {
        format!("alcanzan para {} días", number(cover, 0))
    } else {
        "no se están vendiendo".into()
    };
    a.reason_es = format!(
        "Hay {} {} de {} en {}: a ~{} al día {}, y la política pide unos {}. US$ {} inmovilizados en {} {} de más.",
        units(stock),
        item.unit.label_es(),
        item.product_name,
        item.store_name,
        units(daily),
        cover_text,
        number(policy_days, 0),
        number(tied, 2),
        units(excess),
        item.unit.label_es(),
    );
    Some(a)
}

/// P(X ≥ k) and P(X ≤ k) for one day's demand.
fn tails(expected: f64, size: f64, k: f64) -> (f64, f64) {
    let means = [expected.max(0.0)];
    let d = DemandAhead { means: &means, size, level_uncertainty: 0.0 };
    let day = PeriodDemand::over(&d, 0, 0, &LeadTimeDays::fixed(1));
    let at_most = day.cdf(k);
    let below = if k >= 1.0 { day.cdf(k - 1.0) } else { 0.0 };
    (1.0 - below, at_most)
}

/// Sales anomaly: the most improbable recent day (either tail), or a lasting level change.
pub fn sales_anomaly(item: &ItemView<'_>, today: NaiveDate, settings: &AlertSettings) -> Option<Alert> {
    let days: Vec<&DayCheck> = item.recent.iter().filter(|d| !d.censored && d.expected.is_finite()).collect();
    // One day far outside the band (the last three days are checked).
    let mut worst: Option<(f64, &DayCheck, bool)> = None;
    for d in days.iter().rev().take(3) {
        let (upper, lower) = tails(d.expected, d.size, d.sold.round());
        let spike = upper < settings.anomaly_probability && d.sold >= d.expected + 5.0;
        // A drop is only meaningful where sales were expected; zero runs are phantom stock's job.
        let drop = lower < settings.anomaly_probability && d.sold > 0.0 && d.expected >= 5.0;
        let p = if spike { upper } else { lower };
        if (spike || drop) && worst.is_none_or(|w| p < w.0) {
            worst = Some((p, d, spike));
        }
    }
    if let Some((p, d, spike)) = worst {
        let mut a = item.alert(AlertKind::SalesAnomaly, today);
        a.dedup_key = format!("{}:{}", a.dedup_key, d.date);
        a.severity = Severity::Info;
        a.impact = ImpactKind::RevenueAtRisk;
        a.impact_usd = (d.sold - d.expected).abs() * item.terms.unit_price;
        a.probability = Some(p);
        a.expires_on = today + Days::new(3);
        let band_hi = d.expected + 3.0 * (d.expected + d.expected.powi(2) / d.size.max(1e-9)).sqrt();
        a.reason_es = if spike {
            format!(
                "El {} se vendieron {} {} de {} en {}, cuando lo esperado era ~{} (rara vez más de {}). \
                 ¿Promoción, compra grande o error de registro? Revise si hay que reponer antes.",
                short_date(d.date),
                units(d.sold),
                item.unit.label_es(),
                item.product_name,
                item.store_name,
                units(d.expected),
                units(band_hi),
            )
        } else {
            format!(
                "El {} se vendieron solo {} {} de {} en {}, cuando lo esperado era ~{}. Revise precio, exhibición o inventario.",
                short_date(d.date),
                units(d.sold),
                item.unit.label_es(),
                item.product_name,
                item.store_name,
                units(d.expected),
            )
        };
        return Some(a);
    }
    // A lasting change: the last 14 days together, against their forecast.
    let window: Vec<&&DayCheck> = days.iter().rev().take(14).collect();
    if window.len() < 14 {
        return None;
    }
    let sold: f64 = window.iter().map(|d| d.sold).sum();
    let expected: f64 = window.iter().map(|d| d.expected.max(0.0)).sum();
    let var: f64 = window.iter().map(|d| d.expected + d.expected.powi(2) / d.size.max(1e-9)).sum::<f64>()
        + (0.1 * expected).powi(2);
    if expected < 14.0 || var <= 0.0 {
        return None;
    }
    let z = (sold - expected) / var.sqrt();
    let p = 1.0 - distrs::Normal::cdf(z.abs(), 0.0, 1.0);
    if p >= settings.anomaly_probability / 10.0 {
        return None;
    }
    let mut a = item.alert(AlertKind::SalesAnomaly, today);
    a.dedup_key = format!("{}:level", a.dedup_key);
    a.severity = Severity::Warning;
    a.impact = ImpactKind::RevenueAtRisk;
    a.impact_usd = (sold - expected).abs() * item.terms.unit_price;
    a.probability = Some(p);
    a.expires_on = today + Days::new(14);
    let ratio = sold / expected;
    a.reason_es = format!(
        "En las últimas dos semanas {} vendió {} {} de {} frente a ~{} esperadas ({}): la venta cambió de nivel. \
         Revise precio, competencia o exhibición; los pronósticos se ajustarán.",
        item.store_name,
        units(sold),
        item.unit.label_es(),
        item.product_name,
        units(expected),
        fluxion_domain::format::percent_change(ratio),
    );
    Some(a)
}

/// Phantom stock: a run of zero-sale days the forecast makes near impossible, while the system
/// says the item is on the shelf.
pub fn phantom_stock(item: &ItemView<'_>, today: NaiveDate, settings: &AlertSettings) -> Option<Alert> {
    if item.on_hand < 1.0 {
        return None;
    }
    let mut run = 0usize;
    let mut expected = 0.0;
    let mut log_p = 0.0;
    for d in item.recent.iter().rev() {
        if d.sold > 0.0 || d.censored {
            break;
        }
        run += 1;
        expected += d.expected.max(0.0);
        let (_, zero) = tails(d.expected, d.size, 0.0);
        log_p += zero.max(1e-300).ln();
    }
    let p = log_p.exp();
    if run < 2 || expected < settings.phantom_min_expected || p > settings.phantom_probability {
        return None;
    }
    let daily = item.ahead.as_ref().map_or(expected / run as f64, |a| a.total(0, 7).0 / 7.0);
    let mut a = item.alert(AlertKind::PhantomStock, today);
    a.severity = if run >= 5 { Severity::Critical } else { Severity::Warning };
    a.impact = ImpactKind::LostMargin;
    a.impact_usd = (expected + 7.0 * daily) * item.margin();
    a.action = SuggestedAction::CheckShelf;
    a.probability = Some(1.0 - p);
    a.reason_es = format!(
        "El sistema dice que hay {} {} de {} en {}, pero lleva {} días sin una venta (se esperaban ~{}). \
         Revise el anaquel y cuente: puede estar perdido, robado o mal contado.",
        units(item.on_hand),
        item.unit.label_es(),
        item.product_name,
        item.store_name,
        run,
        units(expected),
    );
    Some(a)
}

/// Expiring lots: units that first-in-first-out selling will not reach before each lot expires.
pub fn expiring_lots(item: &ItemView<'_>, today: NaiveDate, settings: &AlertSettings) -> Vec<Alert> {
    let Some(ahead) = item.ahead.as_ref() else { return Vec::new() };
    let mut lots: Vec<(NaiveDate, f64)> = item.lots.iter().copied().filter(|l| l.1 > 0.0).collect();
    lots.sort_by_key(|l| l.0);
    let mut before = 0.0;
    let mut out = Vec::new();
    for (expires, qty) in lots {
        let days = usize::try_from((expires - today).num_days()).unwrap_or(0);
        let through = before + qty;
        before = through;
        if days > settings.expiry_horizon_days as usize {
            continue;
        }
        // Sold by the end of the expiry day: tomorrow … expiry day.
        let sells = ahead.total(0, days).0;
        let at_risk = (through - sells).clamp(0.0, qty).floor();
        let value = at_risk * item.terms.unit_cost;
        if at_risk < 1.0 || value < settings.min_impact_usd.min(5.0) {
            continue;
        }
        let mut a = item.alert(AlertKind::ExpiringLot, today);
        a.dedup_key = format!("{}:{}", a.dedup_key, expires);
        a.severity = if days <= 3 { Severity::Critical } else { Severity::Warning };
        a.impact = ImpactKind::ValueExpiring;
        a.impact_usd = value;
        let share = at_risk / qty;
        a.action = SuggestedAction::MarkDown {
            units: at_risk,
            discount_pct: if share > 0.5 {
                40
            } else if share > 0.2 {
                30
            } else {
                20
            },
        };
        a.expires_on = expires;
        a.reason_es = format!(
            "Un lote de {} {} de {} en {} vence el {}; al ritmo de venta (~{} al día) quedarían {} sin vender \
             (US$ {}). Conviene rebajarlo o transferirlo.",
            units(qty),
            item.unit.label_es(),
            item.product_name,
            item.store_name,
            short_date(expires),
            units(ahead.total(0, days.max(1)).0 / days.max(1) as f64),
            units(at_risk),
            number(value, 2),
        );
        out.push(a);
    }
    out
}

/// A move from the transfer plan, announced at the receiving store.
pub fn transfer_opportunity(
    m: &Move,
    product: &ProductCode,
    product_name: &str,
    unit: Unit,
    from: (&LocationCode, &str),
    to: (&LocationCode, &str),
    today: NaiveDate,
) -> Alert {
    Alert {
        kind: AlertKind::TransferOpportunity,
        severity: Severity::Warning,
        store: to.0.clone(),
        product: Some(product.clone()),
        impact_usd: m.benefit,
        impact: ImpactKind::LostMargin,
        action: SuggestedAction::Transfer { units: m.units, from: from.0.clone(), to: to.0.clone() },
        reason_es: format!(
            "{} puede quedarse sin {} antes de su próxima entrega y {} tiene de más: transferir {} {} \
             evita perder, en promedio, US$ {} de margen (el traslado cuesta US$ {}).",
            to.1,
            product_name,
            from.1,
            units(m.units),
            unit.label_es(),
            number(m.benefit + m.cost, 2),
            number(m.cost, 2),
        ),
        dedup_key: format!("{}:{}:{}:{}", AlertKind::TransferOpportunity.as_str(), from.0, to.0, product),
        raised_on: today,
        expires_on: today + Days::new(2),
        probability: None,
        runs_out_on: None,
        unit: Some(unit),
    }
}

/// A store's data feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedView<'a> {
    /// The store.
    pub store: &'a LocationCode,
    /// Its name.
    pub store_name: &'a str,
    /// The last day with any sales or stock data.
    pub last_data: NaiveDate,
    /// The usual gap between days with data (1 for a daily feed).
    pub usual_gap_days: f64,
    /// Average revenue per day, USD.
    pub daily_revenue: f64,
}

/// Stale data: a store quiet for longer than its usual gap allows.
pub fn stale_data(feed: &FeedView<'_>, today: NaiveDate, settings: &AlertSettings) -> Option<Alert> {
    let quiet = (today - feed.last_data).num_days();
    let limit = (settings.stale_factor * feed.usual_gap_days.max(1.0)).max(f64::from(settings.stale_min_days));
    if (quiet as f64) < limit {
        return None;
    }
    Some(Alert {
        kind: AlertKind::StaleData,
        severity: if quiet as f64 >= 2.0 * limit { Severity::Critical } else { Severity::Warning },
        store: feed.store.clone(),
        product: None,
        impact_usd: feed.daily_revenue * quiet as f64,
        impact: ImpactKind::RevenueAtRisk,
        action: SuggestedAction::CheckFeed,
        reason_es: format!(
            "No llegan datos de {} desde el {} ({} días). Sin ventas ni inventario al día, las alertas y pedidos \
             de esa tienda pueden estar equivocados: revise la conexión del punto de venta.",
            feed.store_name,
            short_date(feed.last_data),
            quiet
        ),
        dedup_key: format!("{}:{}:{}", AlertKind::StaleData.as_str(), feed.store, feed.last_data),
        raised_on: today,
        expires_on: today + Days::new(7),
        probability: None,
        runs_out_on: None,
        unit: None,
    })
}

#[cfg(test)]
mod tests;
