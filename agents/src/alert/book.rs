//! Open alerts, so that the same situation is not announced twice.

use chrono::NaiveDate;
use fluxion_domain::Alert;
use std::collections::BTreeMap;

/// The alerts currently open, by deduplication key.
///
/// A scan's alerts are admitted against it: an alert whose key is open is suppressed unless it is
/// more severe than the open one (the situation got worse); an open alert whose key the scan
/// neither produces nor holds (still there, below the threshold that raises it) is closed (the
/// situation was resolved), as is one past its expiry, so that a recurrence later is announced again.
#[derive(Debug, Clone, Default)]
pub struct AlertBook {
    open: BTreeMap<String, Alert>,
}

impl AlertBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// The alerts of tonight's scan that are news; the book is updated. `holding` are the keys of
    /// situations too weak to raise an alert tonight but strong enough to keep an open one open.
    pub fn admit(&mut self, today: NaiveDate, scan: Vec<Alert>, holding: &[String]) -> Vec<Alert> {
        self.open.retain(|_, a| a.expires_on >= today);
        let keys: std::collections::BTreeSet<&str> =
            scan.iter().map(|a| a.dedup_key.as_str()).chain(holding.iter().map(String::as_str)).collect();
        self.open.retain(|k, _| keys.contains(k.as_str()));
        let mut news = Vec::new();
        for alert in scan {
            match self.open.get(&alert.dedup_key) {
                Some(open) if open.severity >= alert.severity => {}
                _ => {
                    self.open.insert(alert.dedup_key.clone(), alert.clone());
                    news.push(alert);
                }
            }
        }
        news
    }

    /// Open alerts.
    pub fn open(&self) -> impl Iterator<Item = &Alert> {
        self.open.values()
    }

    /// Whether an alert with this key is open.
    pub fn is_open(&self, key: &str) -> bool {
        self.open.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluxion_domain::{AlertKind, ImpactKind, LocationCode, Severity, SuggestedAction};

    fn alert(key: &str, severity: Severity, day: u32, expires: u32) -> Alert {
        Alert {
            kind: AlertKind::ImminentStockout,
            severity,
            store: LocationCode::parse("S1").expect("code"),
            product: None,
            impact_usd: 1.0,
            impact: ImpactKind::LostMargin,
            action: SuggestedAction::CheckShelf,
            reason_es: String::new(),
            dedup_key: key.into(),
            raised_on: NaiveDate::from_ymd_opt(2026, 1, day).expect("date"),
            expires_on: NaiveDate::from_ymd_opt(2026, 1, expires).expect("date"),
            probability: None,
            runs_out_on: None,
            unit: None,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).expect("date")
    }

    #[test]
    fn an_unchanged_situation_is_announced_once() {
        let mut book = AlertBook::new();
        assert_eq!(book.admit(day(1), vec![alert("a", Severity::Warning, 1, 5)], &[]).len(), 1);
        assert!(book.admit(day(2), vec![alert("a", Severity::Warning, 2, 6)], &[]).is_empty());
        assert!(book.admit(day(3), vec![alert("a", Severity::Info, 3, 7)], &[]).is_empty());
        // Worse: announced again.
        assert_eq!(book.admit(day(4), vec![alert("a", Severity::Critical, 4, 8)], &[]).len(), 1);
        assert!(book.is_open("a"));
    }

    #[test]
    fn resolved_or_expired_situations_are_announced_again_when_they_recur() {
        let mut book = AlertBook::new();
        book.admit(day(1), vec![alert("a", Severity::Warning, 1, 3), alert("b", Severity::Warning, 1, 30)], &[]);
        // "b" is not in tonight's scan: resolved.
        assert!(book.admit(day(2), vec![alert("a", Severity::Warning, 2, 3)], &[]).is_empty());
        assert!(!book.is_open("b"));
        assert_eq!(book.admit(day(3), vec![alert("b", Severity::Warning, 3, 30)], &[]).len(), 1);
        // "a" expired on day 3: on day 4 it is news again.
        assert_eq!(
            book.admit(day(4), vec![alert("a", Severity::Warning, 4, 9), alert("b", Severity::Warning, 4, 30)], &[])
                .len(),
            1
        );
    }

    #[test]
    fn a_held_situation_stays_open_and_is_not_announced_again() {
        let mut book = AlertBook::new();
        assert_eq!(book.admit(day(1), vec![alert("a", Severity::Warning, 1, 6)], &[]).len(), 1);
        // Tonight "a" is below the threshold that raises it but above the one that holds it.
        let held = ["a".to_owned()];
        assert!(book.admit(day(2), Vec::new(), &held).is_empty());
        assert!(book.is_open("a"));
        // Back above the threshold: the same situation, not news.
        assert!(book.admit(day(3), vec![alert("a", Severity::Warning, 3, 8)], &[]).is_empty());
        // Holding never opens a situation, nor keeps one past its expiry.
        assert!(book.admit(day(4), Vec::new(), &["b".to_owned()]).is_empty());
        assert!(!book.is_open("b") && !book.is_open("a"), "neither produced nor held: resolved");
        book.admit(day(5), vec![alert("c", Severity::Warning, 5, 6)], &[]);
        book.admit(day(7), Vec::new(), &["c".to_owned()]);
        assert!(!book.is_open("c"), "expired on day 6");
    }
}
