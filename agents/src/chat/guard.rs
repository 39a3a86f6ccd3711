//! The number guard: a language model may phrase an answer, never compute one. Every number in
//! its text must be one the agents produced (or the question asked about), allowing the ways people
//! write numbers: Venezuelan or English separators, rounding, percentages, numbers in words.
//!
//! The guard is deliberately strict: a number it cannot trace to the agents' results sends the
//! grounded template answer instead, which is always correct.

use unicode_normalization::UnicodeNormalization;

/// A number found in a text, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    /// The characters, as written ("1.234,5", "35", "doscientas").
    pub raw: String,
    /// The values it can mean (separators are ambiguous: "1.234" is 1234 in Caracas and 1.234 in Miami).
    pub values: Vec<f64>,
}

/// The numbers an answer may contain.
#[derive(Debug, Clone, Default)]
pub struct Grounding {
    values: Vec<f64>,
}

impl Grounding {
    /// No numbers allowed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows `value` (and its rounded forms).
    pub fn allow(&mut self, value: f64) {
        if value.is_finite() {
            self.values.push(value.abs());
            // Probabilities and shares are shown as percentages.
            if value.abs() > 0.0 && value.abs() <= 1.0 {
                self.values.push(value.abs() * 100.0);
            }
        }
    }

    /// Allows every number written in `text` (the grounded draft, a product's name, a date).
    pub fn allow_text(&mut self, text: &str) {
        for m in numbers_in(text) {
            for v in m.values {
                self.allow(v);
            }
        }
    }

    /// Allows every number in a JSON value: numbers, and numbers inside its strings (dates, names).
    pub fn allow_json(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::Number(n) => {
                if let Some(v) = n.as_f64() {
                    self.allow(v);
                }
            }
            serde_json::Value::String(s) => self.allow_text(s),
            serde_json::Value::Array(items) => items.iter().for_each(|v| self.allow_json(v)),
            serde_json::Value::Object(map) => map.values().for_each(|v| self.allow_json(v)),
            serde_json::Value::Bool(_) | serde_json::Value::Null => {}
        }
    }

    /// Whether `x` is an allowed number as a person would write it.
    pub fn allows(&self, x: f64) -> bool {
        self.values.iter().any(|&a| written_as(a, x))
    }

    /// The numbers in `reply` that no result supports (empty: the reply is grounded).
    pub fn invented(&self, reply: &str) -> Vec<String> {
        numbers_in(reply).into_iter().filter(|m| !m.values.iter().any(|&v| self.allows(v))).map(|m| m.raw).collect()
    }
}

/// Whether `x` is a way of writing `a`: exactly, rounded to 0–2 decimals, down or up to a whole
/// number, or to two or three significant figures ("unas 1.200" for 1.234).
fn written_as(a: f64, x: f64) -> bool {
    let close = |p: f64, q: f64| (p - q).abs() <= 1e-6 * p.abs().max(1.0);
    if close(a, x) || close(a.floor(), x) || close(a.ceil(), x) {
        return true;
    }
    if (0..=2).any(|d| {
        let f = 10f64.powi(d);
        close((a * f).round() / f, x)
    }) {
        return true;
    }
    if a >= 10.0 {
        let magnitude = a.log10().floor() as i32;
        for sig in [2, 3] {
            let f = 10f64.powi(magnitude + 1 - sig);
            if close((a / f).round() * f, x) {
                return true;
            }
        }
    }
    false
}

/// Every number written in `text`: digits (with either separator convention) and Spanish number words.
pub fn numbers_in(text: &str) -> Vec<Mention> {
    let mut found = digits_in(text);
    found.extend(words_in(text));
    found
}

fn digits_in(text: &str) -> Vec<Mention> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_digit()
                || ((chars[i] == '.' || chars[i] == ',') && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
        {
            i += 1;
        }
        let raw: String = chars[start..i].iter().collect();
        let values = readings(&raw);
        if !values.is_empty() {
            out.push(Mention { raw, values });
        }
    }
    out
}

/// The values a run of digits and separators can mean.
fn readings(raw: &str) -> Vec<f64> {
    let parse = |s: &str| s.parse::<f64>().ok();
    let dots = raw.matches('.').count();
    let commas = raw.matches(',').count();
    let grouped = |s: &str, sep: char| {
        let parts: Vec<&str> = s.split(sep).collect();
        parts.len() > 1 && parts[1..].iter().all(|p| p.len() == 3) && !parts[0].is_empty() && parts[0].len() <= 3
    };
    let mut values = Vec::new();
    match (dots, commas) {
        (0, 0) => values.extend(parse(raw)),
        (_, 0) => {
            // "1.234.567" groups thousands (Venezuelan); "12.5" is a decimal point (English).
            if grouped(raw, '.') {
                values.extend(parse(&raw.replace('.', "")));
            }
            if dots == 1 {
                values.extend(parse(raw));
            }
        }
        (0, _) => {
            if grouped(raw, ',') {
                values.extend(parse(&raw.replace(',', "")));
            }
            if commas == 1 {
                values.extend(parse(&raw.replace(',', ".")));
            }
        }
        _ => {
            // Both: the last one is the decimal separator.
            let last_dot = raw.rfind('.').unwrap_or(0);
            let last_comma = raw.rfind(',').unwrap_or(0);
            let (thousands, decimal) = if last_comma > last_dot { ('.', ',') } else { (',', '.') };
            let (int, frac) = raw.rsplit_once(decimal).unwrap_or((raw, ""));
            if grouped(int, thousands) && !frac.contains(thousands) {
                values.extend(parse(&format!("{}.{frac}", int.replace(thousands, ""))));
            }
        }
    }
    values
}

/// Spanish number words, as whole numbers ("doscientas cincuenta" = 250, "mil" = 1000). The
/// articles "un", "una" and "uno" alone are not numbers.
fn words_in(text: &str) -> Vec<Mention> {
    let folded: String = text.nfd().filter(|c| !('\u{300}'..='\u{36f}').contains(c)).collect::<String>().to_lowercase();
    let words: Vec<&str> = folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if word_value(words[i]).is_none() || is_article(words[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut total = 0f64;
        let mut current = 0f64;
        // The last part added below a thousand: a part as large or larger starts another number
        // ("veintitrés, treinta y cinco" is two numbers).
        let mut last = f64::INFINITY;
        while i < words.len() {
            let w = words[i];
            if w == "y" && i + 1 < words.len() && word_value(words[i + 1]).is_some_and(|v| v < 10.0) && current > 0.0 {
                i += 1;
                continue;
            }
            match word_value(w) {
                Some(1000.0) => {
                    total += current.max(1.0) * 1000.0;
                    current = 0.0;
                    last = f64::INFINITY;
                }
                Some(1e6) => {
                    total = (total + current.max(1.0)) * 1e6;
                    current = 0.0;
                    last = f64::INFINITY;
                }
                Some(v) if v >= last => break,
                Some(v) => {
                    current += v;
                    last = v;
                    i += 1;
                    continue;
                }
                None => break,
            }
            i += 1;
        }
        out.push(Mention { raw: words[start..i].join(" "), values: vec![total + current] });
    }
    out
}

fn is_article(w: &str) -> bool {
    matches!(w, "un" | "una" | "uno")
}

fn word_value(w: &str) -> Option<f64> {
    let v = match w {
        "un" | "una" | "uno" => 1,
        "dos" => 2,
        "tres" => 3,
        "cuatro" => 4,
        "cinco" => 5,
        "seis" => 6,
        "siete" => 7,
        "ocho" => 8,
        "nueve" => 9,
        "diez" => 10,
        "once" => 11,
        "doce" => 12,
        "trece" => 13,
        "catorce" => 14,
        "quince" => 15,
        "dieciseis" => 16,
        "diecisiete" => 17,
        "dieciocho" => 18,
        "diecinueve" => 19,
        "veinte" => 20,
        "veintiun" | "veintiuno" | "veintiuna" => 21,
        "veintidos" => 22,
        "veintitres" => 23,
        "veinticuatro" => 24,
        "veinticinco" => 25,
        "veintiseis" => 26,
        "veintisiete" => 27,
        "veintiocho" => 28,
        "veintinueve" => 29,
        "treinta" => 30,
        "cuarenta" => 40,
        "cincuenta" => 50,
        "sesenta" => 60,
        "setenta" => 70,
        "ochenta" => 80,
        "noventa" => 90,
        "cien" | "ciento" => 100,
        "doscientos" | "doscientas" => 200,
        "trescientos" | "trescientas" => 300,
        "cuatrocientos" | "cuatrocientas" => 400,
        "quinientos" | "quinientas" => 500,
        "seiscientos" | "seiscientas" => 600,
        "setecientos" | "setecientas" => 700,
        "ochocientos" | "ochocientas" => 800,
        "novecientos" | "novecientas" => 900,
        "mil" => 1000,
        "millon" | "millones" => 1_000_000,
        _ => return None,
    };
    Some(f64::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grounding(nums: &[f64]) -> Grounding {
        let mut g = Grounding::new();
        nums.iter().for_each(|&n| g.allow(n));
        g
    }

    #[test]
    fn separators_of_both_conventions_are_read() {
        assert_eq!(readings("1.234"), vec![1234.0, 1.234]);
        assert_eq!(readings("1.234,5"), vec![1234.5]);
        assert_eq!(readings("1,234.5"), vec![1234.5]);
        assert_eq!(readings("2,5"), vec![2.5]);
        assert_eq!(readings("1.234.567"), vec![1_234_567.0]);
        assert_eq!(readings("12.5"), vec![12.5]);
    }

    #[test]
    fn rounding_and_formatting_are_allowed() {
        let g = grounding(&[1234.56, 41.7, 0.82, 7.0]);
        for ok in ["1.234,56", "1.235", "1234", "1.200", "42", "41,7", "82%", "siete", "mil doscientos"] {
            assert!(g.invented(ok).is_empty(), "{ok} should be grounded");
        }
        for bad in ["1.300", "45", "8", "83%", "nueve", "doscientas"] {
            assert_eq!(g.invented(bad).len(), 1, "{bad} should be caught");
        }
    }

    #[test]
    fn words_and_articles() {
        let g = grounding(&[250.0]);
        assert!(g.invented("Pide doscientas cincuenta unidades, una caja grande").is_empty());
        assert_eq!(g.invented("Pide trescientas unidades"), vec!["trescientas".to_string()]);
        let v: Vec<f64> =
            words_in("dos mil quinientos veintitrés, treinta y cinco").iter().flat_map(|m| m.values.clone()).collect();
        assert_eq!(v, vec![2523.0, 35.0]);
    }

    proptest::proptest! {
        /// Any text (a model can write anything) is read without panicking.
        #[test]
        fn any_text_is_read(text in "\\PC{0,200}") {
            let _ = numbers_in(&text);
            let _ = grounding(&[1.0, 2.5, 1234.0]).invented(&text);
        }

        /// A whole number far from every allowed one is caught however it is written.
        #[test]
        fn a_number_far_from_the_results_is_caught(
            allowed in proptest::collection::vec(0.0f64..5000.0, 1..12),
            x in 10u32..100_000,
        ) {
            let x = f64::from(x);
            proptest::prop_assume!(allowed.iter().all(|a| (a - x).abs() > 0.2 * x.max(*a) + 2.0));
            let g = grounding(&allowed);
            let thousands = format!("{}.{:03}", (x / 1000.0).floor(), x % 1000.0);
            for written in [format!("{x}"), if x >= 1000.0 { thousands } else { format!("{x},0") }] {
                proptest::prop_assert!(!g.invented(&format!("Pide {written} unidades.")).is_empty(), "{}", written);
            }
        }

        /// The results' own numbers, written the Venezuelan way, pass.
        #[test]
        fn the_results_numbers_pass(allowed in proptest::collection::vec(0.0f64..100_000.0, 1..12)) {
            let g = grounding(&allowed);
            let text: Vec<String> = allowed.iter().map(|a| fluxion_domain::format::number(*a, 1)).collect();
            proptest::prop_assert!(g.invented(&text.join(" y ")).is_empty(), "{:?}", text);
        }
    }

    #[test]
    fn dates_and_names_in_results_are_allowed() {
        let mut g = Grounding::new();
        g.allow_json(&serde_json::json!({"on": "2026-12-03", "name": "Harina PAN 1 kg", "units": 96.4}));
        assert!(g.invented("El jueves 3 de diciembre de 2026 pide 96 paquetes de Harina PAN 1 kg.").is_empty());
        assert_eq!(g.invented("Pide 98 paquetes el 4 de diciembre"), vec!["98".to_string(), "4".to_string()]);
    }
}
