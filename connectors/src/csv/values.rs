//! Cell values: dates in several orders, decimals with a comma, yes/no flags and currency names.
//!
//! The functions return the reason of a refusal as text; the row parser adds the field, the
//! column and the value to it.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use fluxion_domain::{Currency, ParseError};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// How the dates of a file are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateFormat {
    /// `YYYY-MM-DD` (or `YYYY/MM/DD`), the default.
    #[default]
    Iso,
    /// `M/D/YYYY` as US systems write it (`1/29/2011`); `-` and `.` also separate.
    MonthDayYear,
    /// `D/M/YYYY` as Venezuelan systems write it (`29/1/2011`); `-` and `.` also separate.
    DayMonthYear,
    /// `YYYY-MM` for monthly data; the day is the first of the month.
    YearMonth,
}

/// Years outside this range are typing errors in retail data.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

impl DateFormat {
    /// Every format, for help texts.
    pub const ALL: [DateFormat; 4] =
        [DateFormat::Iso, DateFormat::MonthDayYear, DateFormat::DayMonthYear, DateFormat::YearMonth];

    /// The short name accepted by [`FromStr`] (`iso`, `mdy`, `dmy`, `ym`).
    pub fn as_str(&self) -> &'static str {
        match self {
            DateFormat::Iso => "iso",
            DateFormat::MonthDayYear => "mdy",
            DateFormat::DayMonthYear => "dmy",
            DateFormat::YearMonth => "ym",
        }
    }

    /// How a date of this format looks (`YYYY-MM-DD`, `M/D/YYYY`, …).
    pub fn pattern(&self) -> &'static str {
        match self {
            DateFormat::Iso => "YYYY-MM-DD",
            DateFormat::MonthDayYear => "M/D/YYYY",
            DateFormat::DayMonthYear => "D/M/YYYY",
            DateFormat::YearMonth => "YYYY-MM",
        }
    }

    /// Parses a date written in this format; the error is the reason, for a row error.
    pub fn parse_date(&self, input: &str) -> Result<NaiveDate, String> {
        let s = input.trim();
        let numbers = match self {
            DateFormat::Iso => parts::<3>(s, &['-', '/']).and_then(|[y, m, d]| ymd(y, m, d)),
            DateFormat::MonthDayYear => parts::<3>(s, &['/', '-', '.']).and_then(|[m, d, y]| ymd(y, m, d)),
            DateFormat::DayMonthYear => parts::<3>(s, &['/', '-', '.']).and_then(|[d, m, y]| ymd(y, m, d)),
            DateFormat::YearMonth => parts::<2>(s, &['-', '/']).and_then(|[y, m]| ymd(y, m, "1")),
        };
        let Some((year, month, day)) = numbers else {
            return Err(self.expected(s));
        };
        if !YEARS.contains(&year) {
            return Err(format!("year {year} is out of range"));
        }
        NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| "no such day".to_owned())
    }

    /// Parses a date with an optional time (`2024-01-05 13:45`, `2024-01-05T13:45:10`), the date
    /// part in this format. Without a time it is midnight.
    pub fn parse_datetime(&self, input: &str) -> Result<NaiveDateTime, String> {
        let s = input.trim();
        let (date_part, time_part) = match s.find(['T', ' ']) {
            Some(at) => (&s[..at], s[at + 1..].trim()),
            None => (s, ""),
        };
        let day = self.parse_date(date_part)?;
        if time_part.is_empty() {
            return Ok(day.and_time(NaiveTime::MIN));
        }
        let time = NaiveTime::parse_from_str(time_part, "%H:%M:%S%.f")
            .or_else(|_| NaiveTime::parse_from_str(time_part, "%H:%M"))
            .map_err(|_| format!("expected {} followed by a time HH:MM or HH:MM:SS", self.pattern()))?;
        Ok(day.and_time(time))
    }

    fn expected(&self, s: &str) -> String {
        let mut reason = format!("expected {}", self.pattern());
        let slashed = s.contains('/') && s.rsplit('/').next().is_some_and(|y| y.len() == 4);
        if *self == DateFormat::Iso && slashed {
            reason.push_str(" (for dates like 1/29/2011 choose the mdy or dmy date format)");
        }
        reason
    }
}

/// Splits `s` at any of `separators` into exactly `N` parts.
fn parts<'a, const N: usize>(s: &'a str, separators: &[char]) -> Option<[&'a str; N]> {
    let mut out = [""; N];
    let mut pieces = s.split(separators);
    for slot in &mut out {
        *slot = pieces.next()?;
    }
    if pieces.next().is_some() {
        return None;
    }
    Some(out)
}

/// A four-digit year, a month and a day of one or two digits each.
fn ymd(year: &str, month: &str, day: &str) -> Option<(i32, u32, u32)> {
    let digits = |p: &str, lengths: std::ops::RangeInclusive<usize>| -> Option<u32> {
        if !lengths.contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let year = i32::try_from(digits(year, 4..=4)?).ok()?;
    Some((year, digits(month, 1..=2)?, digits(day, 1..=2)?))
}

impl FromStr for DateFormat {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "iso" | "ymd" | "yyyy-mm-dd" => Ok(DateFormat::Iso),
            "mdy" | "us" | "m/d/yyyy" => Ok(DateFormat::MonthDayYear),
            "dmy" | "ve" | "d/m/yyyy" => Ok(DateFormat::DayMonthYear),
            "ym" | "monthly" | "yyyy-mm" => Ok(DateFormat::YearMonth),
            _ => Err(ParseError::new("date format", s, "must be iso, mdy, dmy or ym")),
        }
    }
}

impl fmt::Display for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Removes thousands separators when both `.` and `,` occur: the one that comes last is the
/// decimal separator (`1.234,56` → `1234,56`, `1,234.56` → `1234.56`). A lone `,` stays and is read
/// as a decimal comma by the domain parsers; a lone `.` stays a decimal point.
pub(crate) fn normalize_decimal(input: &str) -> Cow<'_, str> {
    let s = input.trim();
    match (s.rfind('.'), s.rfind(',')) {
        (Some(dot), Some(comma)) => {
            let thousands = if dot > comma { ',' } else { '.' };
            Cow::Owned(s.chars().filter(|&c| c != thousands).collect())
        }
        _ => Cow::Borrowed(s),
    }
}

/// A whole number of at least zero (pack sizes, shelf lives).
pub(crate) fn parse_count(input: &str) -> Result<u32, String> {
    let s = input.trim();
    let whole = s.strip_suffix(".0").or_else(|| s.strip_suffix(",0")).unwrap_or(s);
    whole.parse::<u32>().map_err(|_| "must be a whole number such as 12".to_owned())
}

/// A yes/no cell: `1`/`0`, `true`/`false`, `yes`/`no`, `sí`/`no`, `x`.
pub(crate) fn parse_flag(input: &str) -> Result<bool, String> {
    match input.trim().to_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "si" | "sí" | "s" | "x" => Ok(true),
        "0" | "false" | "no" | "n" => Ok(false),
        _ => Err("must be 1 or 0 (yes or no)".to_owned()),
    }
}

/// A currency code, also accepting how Venezuelan files write them (`Bs`, `Bs.`, `$`).
pub(crate) fn parse_currency(input: &str) -> Result<Currency, String> {
    let upper = input.trim().to_uppercase();
    match upper.as_str() {
        "BS" | "BS." | "BSD" | "BSS" | "BS.D" | "BS.S" | "VED" => Ok(Currency::VES),
        "$" | "US$" | "USD$" => Ok(Currency::USD),
        _ => Currency::parse(&upper).map_err(|e| e.reason().to_owned()),
    }
}
