//! How numbers and dates are shown to people in Venezuela (es-VE): `1.234,5`, `sáb 29/11/2026`.

use chrono::{Datelike, NaiveDate};

/// `value` with `decimals` decimals, a comma for the decimal separator and a dot between thousands.
/// Non-finite values show as "—".
pub fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let negative = value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped},{frac}") }
}

/// A whole number when `value` is large or whole, one decimal when it is small: how units read best.
pub fn units(value: f64) -> String {
    if value.abs() >= 10.0 || (value - value.round()).abs() < 0.05 {
        number(value.round(), 0)
    } else {
        number(value, 1)
    }
}

/// A quantity with its unit, in number with it: "1 unidad", "12 unidades", "1 litro", "2,5 kg".
pub fn quantity(value: f64, unit: crate::Unit) -> String {
    let one = units(value) == "1";
    let label = match unit {
        crate::Unit::Each if one => "unidad",
        crate::Unit::Litre if one => "litro",
        other => other.label_es(),
    };
    format!("{} {label}", units(value))
}

/// `29/11/2026`.
pub fn date(day: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", day.day(), day.month(), day.year())
}

/// `sáb 29/11`.
pub fn short_date(day: NaiveDate) -> String {
    const DAYS: [&str; 7] = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"];
    format!("{} {:02}/{:02}", DAYS[day.weekday().num_days_from_monday() as usize], day.day(), day.month())
}

/// A percentage change with its sign: `+35%`, `-8%`.
pub fn percent_change(ratio: f64) -> String {
    let pct = (ratio - 1.0) * 100.0;
    let sign = if pct >= 0.0 { "+" } else { "-" };
    format!("{sign}{}%", number(pct.abs().round(), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venezuelan_number_format() {
        assert_eq!(number(1234.5, 1), "1.234,5");
        assert_eq!(number(1_234_567.0, 0), "1.234.567");
        assert_eq!(number(12.0, 2), "12,00");
        assert_eq!(number(-1234.0, 0), "-1.234");
        assert_eq!(number(-0.001, 1), "0,0");
        assert_eq!(number(f64::NAN, 1), "—");
        assert_eq!(units(3.25), "3,2");
        assert_eq!(units(0.0), "0");
        assert_eq!(units(2.02), "2");
        assert_eq!(units(1234.4), "1.234");
        assert_eq!(percent_change(1.35), "+35%");
        assert_eq!(percent_change(0.92), "-8%");
    }

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 28).expect("valid");
        assert_eq!(date(d), "28/11/2026");
        assert_eq!(short_date(d), "sáb 28/11");
    }
}
