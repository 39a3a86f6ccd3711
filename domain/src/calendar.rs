//! The retail calendar: paydays and holidays that move demand.
//!
//! In Venezuela salaries are paid on the 15th and on the last day of the month ("la quincena"),
//! December brings the aguinaldo bonus, and Carnaval and Semana Santa move with Easter.

use crate::ParseError;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What kind of day an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A national or civic holiday.
    National,
    /// A religious holiday (Semana Santa, Christmas).
    Religious,
    /// A cultural event (Carnaval, Mother's Day).
    Cultural,
    /// A sporting event.
    Sporting,
    /// A payday or benefit disbursement (quincena, SNAP).
    Payday,
    /// A promotion run by the tenant.
    Promotion,
}

impl EventKind {
    /// The stable name used in files and databases.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::National => "national",
            EventKind::Religious => "religious",
            EventKind::Cultural => "cultural",
            EventKind::Sporting => "sporting",
            EventKind::Payday => "payday",
            EventKind::Promotion => "promotion",
        }
    }
}

impl FromStr for EventKind {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "national" | "nacional" => Ok(EventKind::National),
            "religious" | "religioso" => Ok(EventKind::Religious),
            "cultural" => Ok(EventKind::Cultural),
            "sporting" | "deportivo" => Ok(EventKind::Sporting),
            "payday" | "quincena" | "snap" => Ok(EventKind::Payday),
            "promotion" | "promo" | "promocion" | "promoción" => Ok(EventKind::Promotion),
            _ => Err(ParseError::new(
                "event kind",
                s,
                "must be national, religious, cultural, sporting, payday or promotion",
            )),
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A named day in a tenant's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CalendarEvent {
    /// The day.
    pub day: NaiveDate,
    /// Its name ("Carnaval", "SuperBowl", "Quincena").
    pub name: String,
    /// What kind of day it is.
    pub kind: EventKind,
}

/// Easter Sunday of `year` (Gregorian computus, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// Whether `day` is the last day of its month.
pub fn is_last_day_of_month(day: NaiveDate) -> bool {
    day.succ_opt().is_none_or(|next| next.month() != day.month())
}

/// Whether `day` is a payday: the 15th or the last day of the month.
pub fn is_quincena(day: NaiveDate) -> bool {
    day.day() == 15 || is_last_day_of_month(day)
}

/// Venezuela's main holidays of `year`: fixed national ones, Carnaval (Monday and Tuesday before
/// Ash Wednesday), Semana Santa (Holy Thursday and Good Friday), Christmas Eve and New Year's Eve.
pub fn venezuelan_holidays(year: i32) -> Vec<CalendarEvent> {
    let mut events = Vec::new();
    let mut push = |day: Option<NaiveDate>, name: &str, kind: EventKind| {
        if let Some(day) = day {
            events.push(CalendarEvent { day, name: name.to_owned(), kind });
        }
    };
    let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d);
    push(ymd(1, 1), "Año Nuevo", EventKind::National);
    push(ymd(4, 19), "Declaración de la Independencia", EventKind::National);
    push(ymd(5, 1), "Día del Trabajador", EventKind::National);
    push(ymd(6, 24), "Batalla de Carabobo", EventKind::National);
    push(ymd(7, 5), "Día de la Independencia", EventKind::National);
    push(ymd(7, 24), "Natalicio del Libertador", EventKind::National);
    push(ymd(10, 12), "Día de la Resistencia Indígena", EventKind::National);
    push(ymd(12, 24), "Nochebuena", EventKind::Religious);
    push(ymd(12, 25), "Navidad", EventKind::Religious);
    push(ymd(12, 31), "Fin de Año", EventKind::National);
    if let Some(easter) = easter_sunday(year) {
        push(Some(easter - Duration::days(48)), "Lunes de Carnaval", EventKind::Cultural);
        push(Some(easter - Duration::days(47)), "Martes de Carnaval", EventKind::Cultural);
        push(Some(easter - Duration::days(3)), "Jueves Santo", EventKind::Religious);
        push(Some(easter - Duration::days(2)), "Viernes Santo", EventKind::Religious);
    }
    events.sort_by_key(|e| e.day);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn easter_matches_known_dates() {
        assert_eq!(easter_sunday(2024), Some(d(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(d(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(d(2026, 4, 5)));
    }

    #[test]
    fn carnaval_2026_is_february_16_and_17() {
        let days: Vec<_> =
            venezuelan_holidays(2026).into_iter().filter(|e| e.kind == EventKind::Cultural).map(|e| e.day).collect();
        assert_eq!(days, vec![d(2026, 2, 16), d(2026, 2, 17)]);
    }

    #[test]
    fn quincena_is_the_15th_and_the_last_day() {
        assert!(is_quincena(d(2026, 2, 15)));
        assert!(is_quincena(d(2026, 2, 28)));
        assert!(is_quincena(d(2024, 2, 29)));
        assert!(!is_quincena(d(2024, 2, 28)));
        assert!(is_quincena(d(2026, 12, 31)));
        assert!(!is_quincena(d(2026, 12, 30)));
    }
}
