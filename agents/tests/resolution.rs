//! Product resolution: messy mentions of the demo catalog's products, as store managers write them
//! (typos, no accents, brands only, glued units, abbreviations), each against the product it means.
//! Prints the top-1 accuracy; fails below 95%.

use chrono::NaiveDate;
use fluxion_agents::chat::Catalog;
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::LocationKind;

#[path = "common/mentions.rs"]
mod mentions;
use mentions::MENTIONS;

#[test]
fn messy_mentions_resolve_to_the_product_meant() {
    let end = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    let chain = generate(&DemoConfig::new(1, 2, 400, 60, end).expect("config")).expect("demo");
    let catalog = chain.batch(0).expect("catalog batch");
    let c = Catalog::new(
        catalog.products.iter().map(|p| (p.code().as_str(), p.name(), p.brand())),
        catalog
            .locations
            .iter()
            .filter(|l| l.kind == LocationKind::Store)
            .map(|l| (l.code.as_str(), l.name.as_str(), l.city.as_str())),
    );
    assert!(c.product_count() >= 400);
    let codes: std::collections::HashSet<&str> = catalog.products.iter().map(|p| p.code().as_str()).collect();
    let mut wrong = Vec::new();
    for (mention, expected) in MENTIONS {
        assert!(codes.contains(expected), "{expected} is not in the demo catalog");
        let u = c.understand(&format!("¿cuánto {mention} necesito?"));
        let got: Vec<&str> = u.products.iter().map(|p| p.code.as_str()).collect();
        if got != [*expected] {
            wrong.push(format!("{mention:?} → {got:?} (meant {expected})"));
        }
    }
    let accuracy = 1.0 - wrong.len() as f64 / MENTIONS.len() as f64;
    println!("product resolution: {} mentions, top-1 accuracy {:.1}%", MENTIONS.len(), 100.0 * accuracy);
    for w in &wrong {
        println!("  miss: {w}");
    }
    assert!(MENTIONS.len() >= 100);
    assert!(accuracy >= 0.95, "top-1 accuracy {:.1}%:\n{}", 100.0 * accuracy, wrong.join("\n"));
}
