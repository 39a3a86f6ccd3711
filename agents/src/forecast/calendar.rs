//! Calendar features of days and the effects learned from them.
//!
//! A day can be a payday (the quincena, or SNAP days in the M5 data), a named holiday or event,
//! in December, at a month's end. Effects are multiplicative: demand on such days is `lift` times
//! the baseline of that weekday. They are estimated as Σ actual / Σ baseline over the flagged days
//! of the history, per series, and shrunk towards the effect pooled over the store's series so that
//! a slow mover borrows strength from its store.

use chrono::NaiveDate;
use fluxion_domain::calendar::is_quincena;
use fluxion_domain::{CalendarEvent, EventKind};
use std::collections::HashMap;

/// The days that are not ordinary, from a tenant's events.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    features: HashMap<NaiveDate, Vec<Feature>>,
    names: Vec<(String, String)>,
}

/// An index into [`Calendar`]'s feature names.
pub type Feature = u16;

impl Calendar {
    /// A calendar from events. Each payday name becomes a feature `payday:<name>` (the quincena,
    /// the day after it, SNAP days); every other event its own feature `event:<name>` (so
    /// Thanksgiving and Carnaval each learn their own lift).
    pub fn from_events(events: &[CalendarEvent]) -> Calendar {
        let mut cal = Calendar::default();
        for e in events {
            let (key, label) = match e.kind {
                EventKind::Payday => (format!("payday:{}", e.name), payday_label(&e.name)),
                _ => (format!("event:{}", e.name), e.name.clone()),
            };
            let f = cal.feature(&key, &label);
            let day = cal.features.entry(e.day).or_default();
            if !day.contains(&f) {
                day.push(f);
            }
        }
        cal
    }

    fn feature(&mut self, key: &str, label: &str) -> Feature {
        if let Some(i) = self.names.iter().position(|(k, _)| k == key) {
            return i as Feature;
        }
        self.names.push((key.to_owned(), label.to_owned()));
        (self.names.len() - 1) as Feature
    }

    /// The features of `day`.
    pub fn features(&self, day: NaiveDate) -> &[Feature] {
        self.features.get(&day).map_or(&[], Vec::as_slice)
    }

    /// Number of distinct features.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the calendar has no feature.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The stable key of a feature.
    pub fn key(&self, f: Feature) -> &str {
        self.names.get(usize::from(f)).map_or("", |(k, _)| k.as_str())
    }

    /// The Spanish label of a feature.
    pub fn label(&self, f: Feature) -> &str {
        self.names.get(usize::from(f)).map_or("", |(_, l)| l.as_str())
    }
}

/// Name of the payday event on the 15th and the last day of the month.
pub const QUINCENA: &str = "Quincena";
/// Name of the payday event the day after.
pub const AFTER_QUINCENA: &str = "Día después de quincena";

/// The quincena paydays and the days after them, between two days (inclusive).
pub fn quincena_events(from: NaiveDate, to: NaiveDate) -> Vec<CalendarEvent> {
    let mut events = Vec::new();
    let mut day = Some(from);
    while let Some(d) = day.filter(|d| *d <= to) {
        if is_quincena(d) {
            events.push(CalendarEvent { day: d, name: QUINCENA.to_owned(), kind: EventKind::Payday });
        } else if d.pred_opt().is_some_and(is_quincena) {
            events.push(CalendarEvent { day: d, name: AFTER_QUINCENA.to_owned(), kind: EventKind::Payday });
        }
        day = d.succ_opt();
    }
    events
}

fn payday_label(name: &str) -> String {
    match name {
        QUINCENA => "la quincena".to_owned(),
        AFTER_QUINCENA => "el día después de la quincena".to_owned(),
        other => format!("los días de pago ({other})"),
    }
}

/// Sums behind an effect estimate: actual and baseline units on flagged days.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EffectSums {
    /// Σ actual units on the flagged days.
    pub actual: f64,
    /// Σ baseline units on the same days.
    pub baseline: f64,
    /// Flagged days seen.
    pub days: u32,
}

impl EffectSums {
    /// The raw lift, when there is any baseline.
    pub fn lift(&self) -> Option<f64> {
        (self.baseline > 0.0).then(|| self.actual / self.baseline)
    }
}

/// Shrinks an own lift towards a prior lift: `strength` is the baseline units at which both weigh the same.
pub fn shrink(own: &EffectSums, prior: f64, strength: f64) -> f64 {
    match own.lift() {
        None => prior,
        Some(l) => {
            let w = own.baseline / (own.baseline + strength);
            w * l + (1.0 - w) * prior
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paydays_and_events_get_their_own_features() {
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).expect("valid");
        let mut events = quincena_events(d(1, 1), d(3, 31));
        events.push(CalendarEvent { day: d(3, 3), name: "Lunes de Carnaval".into(), kind: EventKind::Cultural });
        let cal = Calendar::from_events(&events);
        let payday = cal.features(d(1, 15));
        assert_eq!(payday.len(), 1);
        assert_eq!(cal.key(payday[0]), "payday:Quincena");
        assert_eq!(cal.label(payday[0]), "la quincena");
        assert_eq!(cal.key(cal.features(d(2, 28))[0]), "payday:Quincena");
        assert_eq!(cal.key(cal.features(d(1, 16))[0]), "payday:Día después de quincena");
        assert!(cal.features(d(1, 17)).is_empty());
        assert_eq!(cal.key(cal.features(d(3, 3))[0]), "event:Lunes de Carnaval");
    }

    #[test]
    fn shrinkage_moves_from_prior_to_own_with_evidence() {
        let weak = EffectSums { actual: 2.0, baseline: 1.0, days: 1 };
        let strong = EffectSums { actual: 2000.0, baseline: 1000.0, days: 100 };
        assert!((shrink(&weak, 1.0, 50.0) - 1.0).abs() < 0.05);
        assert!((shrink(&strong, 1.0, 50.0) - 2.0).abs() < 0.06);
    }
}
