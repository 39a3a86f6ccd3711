//! Text as the matcher sees it: lower case, accents and punctuation gone ("P.A.N." → "pan",
//! "¿Cuánta?" → "cuanta"), split into words.

use unicode_normalization::UnicodeNormalization;

/// `text` in lower case without accents, with dotted abbreviations joined ("P.A.N." → "pan") and
/// every other non-alphanumeric character a space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c == '.' || c == '\'' || c == '’' {
            // "P.A.N." and "d'" join; a dot between digits ("1.5") becomes a space.
            if out.chars().last().is_some_and(|p| p.is_ascii_digit()) {
                out.push(' ');
            }
            continue;
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else {
            out.push(' ');
        }
    }
    out
}

/// The words of `text`, normalized; a number glued to its unit is two words ("1kg" → "1", "kg")
/// and units are written one way ("litros", "lts" → "l"; "kilo" → "kg"; "gr" → "g").
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in normalize(text).split_whitespace() {
        let mut start = 0;
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        for k in 1..chars.len() {
            if chars[k].1.is_ascii_digit() != chars[k - 1].1.is_ascii_digit() {
                out.push(unit(&word[start..chars[k].0]));
                start = chars[k].0;
            }
        }
        out.push(unit(&word[start..]));
    }
    millilitres(out)
}

/// A fraction of a litre in millilitres ("0,75 L" → "750 ml"), the way bottles are asked for; a
/// bare fraction ("ron 0,75") is taken as litres too.
fn millilitres(words: Vec<String>) -> Vec<String> {
    const OTHER_UNITS: [&str; 4] = ["kg", "g", "ml", "m"];
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if words[i] == "0"
            && let Some(frac) = words.get(i + 1)
            && (1..=3).contains(&frac.len())
            && frac.chars().all(|c| c.is_ascii_digit())
            && !words.get(i + 2).is_some_and(|u| OTHER_UNITS.contains(&u.as_str()))
            && let Ok(v) = format!("0.{frac}").parse::<f64>()
        {
            out.push(format!("{}", (v * 1000.0).round() as u32));
            out.push("ml".to_owned());
            i += if words.get(i + 2).is_some_and(|u| u == "l") { 3 } else { 2 };
            continue;
        }
        out.push(words[i].clone());
        i += 1;
    }
    out
}

/// One spelling per unit.
fn unit(word: &str) -> String {
    match word {
        "litro" | "litros" | "lt" | "lts" | "ltr" | "lit" => "l",
        "kilo" | "kilos" | "kgs" | "kilogramo" | "kilogramos" => "kg",
        "gr" | "grs" | "gramo" | "gramos" => "g",
        "mililitro" | "mililitros" | "mls" => "ml",
        other => other,
    }
    .to_owned()
}

/// How well a word of the question matches a word of a name, 0–1: exact 1; a prefix of at least
/// three letters 0.9; one edit (insert, delete, substitute, swap) on words of four letters or more
/// 0.85; two edits on words of seven or more 0.7.
pub fn word_match(query: &str, name: &str) -> f64 {
    if query == name {
        return 1.0;
    }
    let (q, n) = (query.chars().count(), name.chars().count());
    if q >= 3 && n > q && name.starts_with(query) {
        return 0.9;
    }
    if q.min(n) < 4 || q.abs_diff(n) > 2 {
        return 0.0;
    }
    match strsim::damerau_levenshtein(query, name) {
        1 => 0.85,
        2 if q.min(n) >= 7 => 0.7,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_the_way_people_write_them() {
        assert_eq!(words("¿Cuánta Harina P.A.N. necesito?"), ["cuanta", "harina", "pan", "necesito"]);
        assert_eq!(words("Azúcar  refinada 1 kg"), ["azucar", "refinada", "1", "kg"]);
        assert_eq!(words("Leche 1.5 L"), ["leche", "1", "5", "l"]);
        assert_eq!(
            words("aceite 1lt, coca-cola 1,5 litros y harina 1kg"),
            ["aceite", "1", "l", "coca", "cola", "1", "5", "l", "y", "harina", "1", "kg"]
        );
        assert_eq!(words("huevos c30 de 500gr"), ["huevos", "c", "30", "de", "500", "g"]);
        assert_eq!(words("Ron añejo 0,75 L"), ["ron", "anejo", "750", "ml"]);
        assert_eq!(words("0,5 litros y 0 kg"), ["500", "ml", "y", "0", "kg"]);
        assert_eq!(words("ron 0,75 y queso 0,5 kg"), ["ron", "750", "ml", "y", "queso", "0", "5", "kg"]);
        assert_eq!(word_match("harna", "harina"), 0.85);
        assert_eq!(word_match("har", "harina"), 0.9);
        assert_eq!(word_match("pan", "pan"), 1.0);
        assert_eq!(word_match("pam", "pan"), 0.0, "three letters are too short for a typo");
        assert_eq!(word_match("mayonesa", "mayonesa"), 1.0);
        assert_eq!(word_match("mayonsea", "mayonesa"), 0.85);
    }
}
