//! The demo chain's calendar: how each kind of product sells by weekday, around paydays, in
//! December, at Carnaval and in Semana Santa; the bolívar's exchange rate; and the promotions.
//!
//! Everything here is a pure function of the dates (and, for rates and promotions, of the seed), so
//! the demand of a product on a day never depends on which other products or stores are generated.

use super::catalog::{Catalog, Profile};
use super::{Tag, sub_rng};
use chrono::{Datelike, Duration, NaiveDate};
use fluxion_domain::calendar::{easter_sunday, is_quincena, venezuelan_holidays};
use fluxion_domain::{CalendarEvent, EventKind, ExchangeRate};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::HashSet;

/// Day-of-week demand (Monday first) by profile: weekends and Fridays carry food and drink.
const WEEKLY: [[f64; 7]; 11] = [
    [0.90, 0.87, 0.92, 0.96, 1.12, 1.28, 1.00], // Staple
    [0.92, 0.90, 0.94, 0.97, 1.10, 1.25, 1.08], // Fresh
    [0.95, 0.93, 0.95, 0.97, 1.05, 1.18, 1.22], // Bakery
    [0.85, 0.85, 0.90, 0.95, 1.18, 1.35, 1.10], // Beverage
    [0.70, 0.70, 0.78, 0.90, 1.45, 1.70, 0.95], // Alcohol
    [0.90, 0.87, 0.92, 0.96, 1.12, 1.28, 1.00], // Fish
    [0.97, 0.95, 0.97, 1.00, 1.05, 1.12, 0.94], // Household
    [0.97, 0.95, 0.97, 1.00, 1.05, 1.12, 0.94], // Personal
    [0.90, 0.90, 0.93, 0.97, 1.12, 1.25, 1.05], // Snack
    [0.95, 0.92, 0.96, 0.98, 1.08, 1.28, 0.95], // Produce
    [0.85, 0.85, 0.90, 0.95, 1.15, 1.35, 1.10], // Meat
];

/// Payday lift by profile: on the 15th and the last day of the month sales rise by this fraction,
/// the day after by three quarters of it, and in the lean days mid-fortnight they fall by a quarter of it.
const QUINCENA: [f64; 11] = [0.45, 0.30, 0.12, 0.30, 0.50, 0.35, 0.40, 0.40, 0.25, 0.20, 0.45];

/// The demo calendar: one entry per day from the first simulated day to some months past the last.
#[derive(Debug)]
pub(crate) struct Calendar {
    /// The day of each index.
    pub dates: Vec<NaiveDate>,
    /// Monday = 0 … Sunday = 6.
    pub weekday: Vec<u8>,
    /// Demand multiplier by profile and day (weekday, quincena, December, holidays, season).
    pub profile_mult: Vec<Vec<f64>>,
    /// How far into the December season a day is, 0 to 1; festive goods get `1 + festive × ramp`.
    pub festive_ramp: Vec<f64>,
    /// National, religious and cultural holidays of every year covered.
    pub holidays: Vec<CalendarEvent>,
}

impl Calendar {
    /// A calendar of `len` days from `start`.
    pub(crate) fn new(start: NaiveDate, len: usize) -> Self {
        let dates: Vec<NaiveDate> = (0..len).map(|t| start + Duration::days(t as i64)).collect();
        let first_year = start.year();
        let last_year = dates.last().map_or(first_year, |d| d.year()) + 1;
        let holidays: Vec<CalendarEvent> = (first_year..=last_year).flat_map(venezuelan_holidays).collect();
        let national: HashSet<NaiveDate> = holidays
            .iter()
            .filter(|e| e.kind == EventKind::National && !(e.day.month() == 1 && e.day.day() == 1))
            .filter(|e| !(e.day.month() == 12 && e.day.day() == 31))
            .map(|e| e.day)
            .collect();

        let weekday: Vec<u8> = dates.iter().map(|d| d.weekday().num_days_from_monday() as u8).collect();
        let festive_ramp: Vec<f64> = dates.iter().map(|&d| festive_ramp(d)).collect();
        let profile_mult = Profile::ALL
            .iter()
            .map(|&profile| dates.iter().map(|&d| day_multiplier(profile, d, &national)).collect())
            .collect();
        Self { dates, weekday, profile_mult, festive_ramp, holidays }
    }

    /// Number of days covered.
    pub(crate) fn len(&self) -> usize {
        self.dates.len()
    }
}

/// The December season for festive goods (hallacas, pernil, pan de jamón, ponche crema, licores):
/// a ramp through the second half of the month, a dead Christmas Day and a New Year's Eve peak.
fn festive_ramp(d: NaiveDate) -> f64 {
    if d.month() != 12 {
        return 0.0;
    }
    match d.day() {
        1..=15 => 0.15,
        16..=23 => 0.55 + 0.45 * f64::from(d.day() - 16) / 7.0,
        24 => 0.9,
        25 => 0.0,
        26..=29 => 0.4,
        _ => 0.85,
    }
}

fn day_multiplier(profile: Profile, d: NaiveDate, national: &HashSet<NaiveDate>) -> f64 {
    let p = profile.index();
    let mut m = WEEKLY[p][d.weekday().num_days_from_monday() as usize];

    // La quincena: paydays on the 15th and the last day, spending the day after, lean days in between.
    let q = QUINCENA[p];
    let previous = d.pred_opt().unwrap_or(d);
    if is_quincena(d) {
        m *= 1.0 + q;
    } else if is_quincena(previous) {
        m *= 1.0 + 0.75 * q;
    } else if matches!(d.day(), 8..=11 | 22..=25) {
        m *= 1.0 - 0.25 * q;
    }

    // December: aguinaldos lift everything; Christmas Day and New Year's Day are nearly dead.
    m *= match (d.month(), d.day()) {
        (12, 1..=15) => 1.08,
        (12, 16..=23) => 1.15,
        (12, 24) => 1.1,
        (12, 25) => 0.35,
        (12, 26..=30) => 1.05,
        (1, 1) => 0.3,
        _ => 1.0,
    };

    let drinks = matches!(profile, Profile::Beverage | Profile::Alcohol);
    if national.contains(&d) {
        m *= if drinks { 1.15 } else { 0.8 };
    }

    if let Some(easter) = easter_sunday(d.year()) {
        let offset = (d - easter).num_days();
        // Carnaval: the weekend before and the Monday and Tuesday; people travel and party.
        if (-50..=-47).contains(&offset) {
            m *= match profile {
                Profile::Beverage => 1.3,
                Profile::Alcohol => 1.5,
                Profile::Snack => 1.2,
                Profile::Fish => 0.9,
                _ => 0.85,
            };
        }
        // Semana Santa: fish replaces meat, drinks for the beach, short opening hours Thursday and Friday.
        if (-7..=-1).contains(&offset) {
            let holy_days = (-3..=-2).contains(&offset);
            m *= match profile {
                Profile::Fish if (-4..=-2).contains(&offset) => 2.2,
                Profile::Fish => 1.6,
                Profile::Beverage => 1.2,
                Profile::Alcohol => 1.25,
                Profile::Meat => {
                    if holy_days {
                        0.5
                    } else {
                        0.85
                    }
                }
                _ if holy_days => 0.7,
                _ => 0.95,
            };
        }
        if offset == 0 {
            m *= 0.9;
        }
    }

    // Drinks follow the heat: most in the dry season (March to May).
    if drinks {
        let angle = 2.0 * std::f64::consts::PI * (f64::from(d.ordinal()) - 105.0) / 365.0;
        m *= 1.0 + 0.1 * angle.cos();
    }
    m
}

/// Bolívares per dollar for every day: about 36 at the start, losing a fifth of its value a year in
/// small daily steps and the occasional jump. The rate is fixed on weekdays only (as the central
/// bank does), so Saturday and Sunday keep Friday's.
pub(crate) fn exchange_rates(seed: u64, calendar: &Calendar) -> Vec<ExchangeRate> {
    let mut rng = sub_rng(seed, Tag::Rate, &[]);
    let yearly = (60.0f64 / 36.0).ln() / 2.0;
    let jump_chance = 1.0 / 90.0;
    let mean_jump = 0.025;
    let drift = yearly / 365.0 - jump_chance * mean_jump * 5.0 / 7.0;
    let mut log_rate = 36.0f64.ln();
    let mut rates = Vec::with_capacity(calendar.len());
    let mut current = ExchangeRate::ONE;
    for (t, &weekday) in calendar.weekday.iter().enumerate() {
        let noise: f64 = StandardNormal.sample(&mut rng);
        if t == 0 || weekday < 5 {
            log_rate += drift * if t == 0 { 0.0 } else { 7.0 / 5.0 } + 0.003 * noise;
            if rng.random_bool(jump_chance) {
                log_rate += rng.random_range(0.01..0.04);
            }
            // Four decimals, as published.
            let micros = (log_rate.exp() * 1e4).round() as i64 * 100;
            current = ExchangeRate::from_micros(micros.max(1)).unwrap_or(current);
        }
        rates.push(current);
    }
    rates
}

/// A price cut on one product at one store for one to two weeks.
#[derive(Debug, Clone)]
pub(crate) struct Promo {
    /// Store index.
    pub store: usize,
    /// Product index.
    pub product: usize,
    /// First day index.
    pub first: usize,
    /// Last day index (inclusive).
    pub last: usize,
    /// Price cut in percent.
    pub discount_pct: u32,
    /// Demand multiplier while it runs.
    pub lift: f64,
}

impl Promo {
    /// The calendar events naming it, one per day.
    pub(crate) fn events(&self, catalog: &Catalog, calendar: &Calendar) -> Vec<CalendarEvent> {
        let name = format!(
            "Promoción {} -{}% ({})",
            catalog.products[self.product].product.name(),
            self.discount_pct,
            catalog.stores[self.store].location.code
        );
        (self.first..=self.last.min(calendar.len() - 1))
            .map(|t| CalendarEvent { day: calendar.dates[t], name: name.clone(), kind: EventKind::Promotion })
            .collect()
    }
}

/// Promotions per store per month, on average.
const PROMOS_PER_MONTH: f64 = 1.5;

/// The promotions of every store between the second week and four weeks past the last simulated day
/// (so that the forecast horizon already knows the planned ones), sorted by store, product and day.
pub(crate) fn promotions(seed: u64, catalog: &Catalog, days: usize, calendar: &Calendar) -> Vec<Promo> {
    // Promotions go to products that sell every day, not to the slow tail.
    let candidates: Vec<usize> =
        catalog.products.iter().enumerate().filter(|(_, p)| p.rank >= 0.35).map(|(i, _)| i).collect();
    let horizon = (days + 28).min(calendar.len());
    let mut promos: Vec<Promo> = Vec::new();
    if candidates.is_empty() || horizon < 30 {
        return promos;
    }
    for store in 0..catalog.stores.len() {
        let mut rng = sub_rng(seed, Tag::Promo, &[store as u64]);
        let count = (horizon as f64 / 30.0 * PROMOS_PER_MONTH).round() as usize;
        let mut mine: Vec<Promo> = Vec::with_capacity(count);
        for _ in 0..count {
            let product = candidates[rng.random_range(0..candidates.len())];
            let length = rng.random_range(7..=14);
            let first = rng.random_range(7..horizon - length);
            let last = first + length - 1;
            let discount_pct = [10, 15, 20, 25][rng.random_range(0..4)];
            let lift = 1.0 + f64::from(discount_pct) / 100.0 * rng.random_range(3.0..6.0);
            let clashes = mine.iter().any(|p| p.product == product && first <= p.last + 14 && p.first <= last + 14);
            if !clashes {
                mine.push(Promo { store, product, first, last, discount_pct, lift });
            }
        }
        promos.extend(mine);
    }
    promos.sort_by_key(|p| (p.store, p.product, p.first));
    promos
}
