//! Product resolution: messy mentions of the demo catalog's products, as store managers write them
//! (typos, no accents, brands only, glued units, abbreviations), each against the product it means.
//! Prints the top-1 accuracy; fails below 95%.

use chrono::NaiveDate;
use fluxion_agents::chat::Catalog;
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::LocationKind;

/// (mention, the product meant)
const MENTIONS: &[(&str, &str)] = &[
    ("harina pan blanca", "HAR-PAN-BLA-1KG"),
    ("harna pan blanka", "HAR-PAN-BLA-1KG"),
    ("Harina P.A.N. amarilla", "HAR-PAN-AMA-1KG"),
    ("pan amarilla 1kg", "HAR-PAN-AMA-1KG"),
    ("harina juana blanca", "HAR-JUA-BLA-1KG"),
    ("harina de maiz la cosecha amarilla", "HAR-LCO-AMA-1KG"),
    ("harina de trigo robin hood leudante", "HAT-RHO-LEU-1KG"),
    ("robin hood todo uso", "HAT-RHO-TUS-1KG"),
    ("harina trigo juana leudante", "HAT-JUA-LEU-1KG"),
    ("aceite diana 1 litro", "ACE-DIA-1L"),
    ("aceite diana 1lt", "ACE-DIA-1L"),
    ("aceite diana de 3 litros", "ACE-DIA-3L"),
    ("diana 500ml", "ACE-DIA-500ML"),
    ("aceite mazeite 1l", "ACE-MAZ-1L"),
    ("aceite vatel 3l", "ACE-VAT-3L"),
    ("arroz mary tipo 1 de 1kg", "ARR-MAR-TI1-1KG"),
    ("arroz mary parbolizado 5 kilos", "ARR-MAR-PAR-5KG"),
    ("arros primor tipo i 1 kg", "ARR-PRI-TI1-1KG"),
    ("arroz primor parbolizado 1kg", "ARR-PRI-PAR-1KG"),
    ("pasta primor espagueti 1 kilo", "PAS-PRI-ESP-1KG"),
    ("espaguetis primor 500gr", "PAS-PRI-ESP-500G"),
    ("pasta capri vermicelli 500 g", "PAS-CAP-VER-500G"),
    ("fettuccine primor 1kg", "PAS-PRI-FET-1KG"),
    ("pasta ronco 1kg", "PAS-RON-ESP-1KG"),
    ("sindoni 500g", "PAS-SIN-ESP-500G"),
    ("azucar montalban refinada 1kg", "AZU-MON-REF-1KG"),
    ("azúcar morena montalban 5 kg", "AZU-MON-MOR-5KG"),
    ("cafe fama de america 500g", "CAF-FAM-500G"),
    ("café molido madrid 1 kilo", "CAF-MAD-1KG"),
    ("flor de arauca 250", "CAF-FAR-250G"),
    ("nescafe 200 gr", "CAI-NES-200G"),
    ("cafe instantaneo fama 50g", "CAI-FAM-50G"),
    ("leche los andes completa", "LEC-LAN-COM-1L"),
    ("leche andes deslactosada", "LEC-LAN-DSL-1L"),
    ("leche la campiña descremada", "LEC-LCA-DES-1L"),
    ("leche campina completa", "LEC-LCA-COM-1L"),
    ("leche en polvo nido 900g", "LPO-NID-900G"),
    ("nido 400", "LPO-NID-400G"),
    ("leche polvo los andes 900", "LPO-LAN-900G"),
    ("maltin polar lata", "MAL-MPO-355ML"),
    ("maltin polar 1,5", "MAL-MPO-1500ML"),
    ("malta 250 ml", "MAL-MPO-250ML"),
    ("coca cola 2 litros", "REF-COC-2L"),
    ("cocacola lata", "REF-COC-355ML"),
    ("pepsi 1.5", "REF-PEP-1500ML"),
    ("refresco pepsi 2l", "REF-PEP-2L"),
    ("frescolita lata", "REF-FRE-355ML"),
    ("chinotto 2 litros", "REF-CHI-2L"),
    ("golden 1,5 lts", "REF-GOL-1500ML"),
    ("refresco hit", "REF-HIT-2L"),
    ("cerveza polar pilsen lata", "CRV-PPI-355ML"),
    ("polar light tercio", "CRV-PLI-222ML"),
    ("solera azul lata", "CRV-SOA-355ML"),
    ("cerveza zulia tercio", "CRV-ZUL-222ML"),
    ("mayonesa mavesa 445", "MAY-MAV-445G"),
    ("mayonesa kraft 910g", "MAY-KRA-910G"),
    ("margarina mavesa 500 gr", "MGR-MAV-500G"),
    ("margarina nelly 1kg", "MGR-NEL-1KG"),
    ("salsa de tomate pampero 397", "KET-PAM-397G"),
    ("ketchup heinz 1 kilo", "KET-HEI-1KG"),
    ("atun margarita en aceite 140", "ATU-MAR-ACE-140G"),
    ("atún eveba en agua 170g", "ATU-EVE-AGU-170G"),
    ("sardinas margarita en tomate", "SAR-MAR-TOM-170G"),
    ("sardinas la gaviota en aceite", "SAR-GAV-ACE-170G"),
    ("caraotas negras mary 1kg", "GRA-MAR-CNE-1KG"),
    ("caraotas rojas la cosecha 500", "GRA-LCO-CRO-500G"),
    ("lentejas mary 500g", "GRA-MAR-LEN-500G"),
    ("arvejas mary", "GRA-MAR-ARV-500G"),
    ("frijol bayo la cosecha", "GRA-LCO-FRI-500G"),
    ("huevos blancos los samanes carton 30", "HUE-SAM-BLA-C30"),
    ("huevos rojos samanes c12", "HUE-SAM-ROJ-C12"),
    ("pollo entero samanes", "POL-SAM-ENT-KG"),
    ("pechuga de pollo", "POL-SAM-PEC-KG"),
    ("muslos de pollo", "POL-SAM-MUS-KG"),
    ("carne molida", "RES-MOL-KG"),
    ("bistec de res", "RES-BIS-KG"),
    ("pernil", "PER-KG"),
    ("queso blanco duro", "QUE-DUR-KG"),
    ("queso guayanes", "QUE-GUA-KG"),
    ("queso de mano", "QUE-MAN-KG"),
    ("jamon de pierna plumrose", "JAM-PLU-PIE-KG"),
    ("mortadela plumrose", "JAM-PLU-MOR-KG"),
    ("tocineta la cosecha", "JAM-LCO-TOC-KG"),
    ("salchichas plumrose 500", "SLC-PLU-500G"),
    ("cambur", "FRU-CAMBUR-KG"),
    ("platano", "VER-PLATANO-KG"),
    ("aji dulce", "VER-AJI-KG"),
    ("papel higienico rosal 12 rollos", "PHI-ROS-12R"),
    ("papel scott 4 rollos", "PHI-SCO-4R"),
    ("servilletas rosal", "SER-ROS-SRV-UN"),
    ("pañales pampers talla g", "PNL-PAM-G"),
    ("panales huggies xg", "PNL-HUG-XG"),
    ("detergente ariel 2kg", "DET-ARI-2KG"),
    ("detergente ace 500 gramos", "DET-ACE-500G"),
    ("jabon las llaves azul", "JAB-LLA-AZU-250G"),
    ("jabon de tocador protex", "JTO-PRO-110G"),
    ("crema dental colgate 75ml", "CRD-COL-75ML"),
    ("champu pantene 400", "CHA-PAN-400ML"),
    ("head and shoulders 200ml", "CHA-HAS-200ML"),
    ("desodorante speed stick", "DES-SPS-UN"),
    ("cloro nevex", "CLO-NEV-CLO-1L"),
    ("lavaplatos axion", "LAV-AXI-500G"),
    ("ron cacique añejo 0,75", "RON-CAC-ANE-750ML"),
    ("ron santa teresa blanco 1 litro", "RON-STE-BLA-1L"),
    ("whisky old parr", "WHI-OPA-750ML"),
    ("ponche crema eduardo 1l", "PON-EDU-1L"),
    ("yogur los andes fresa 1 litro", "YOG-LAN-FRE-1L"),
    ("yogurt campiña natural 150", "YOG-LCA-NAT-150G"),
    ("nectar yukery durazno 1,5", "JUG-YUK-DUR-1500ML"),
    ("jugo yukery mango 250", "JUG-YUK-MAN-250ML"),
    ("galletas maria puig clasicas", "GAL-MPU-CLA-UN"),
    ("club social integrales", "GAL-CLS-INT-UN"),
    ("doritos 150g", "PSP-DOR-150G"),
    ("cheese tris pequeño 45 gr", "PSP-CHT-45G"),
    ("savoy cri cri", "CHO-SAV-CRI-UN"),
    ("toddy 400", "CCO-TOD-400G"),
    ("avena quaker 800", "AVE-QUA-800G"),
    ("corn flakes", "CRL-KEL-CFL-500G"),
    ("zucaritas", "CRL-KEL-ZUC-500G"),
    ("dog chow 4kg", "MAS-DCH-4KG"),
    ("cubitos maggi", "CON-MAG-CUB-UN"),
    ("onoto la comadre", "CON-LCM-ONO-UN"),
    ("pan de jamon", "PDJ-LES-UN"),
    ("pan canilla bimbo", "PAN-BIM-CAN-UN"),
    ("agua minalba 5 litros", "AGU-MIN-5L"),
    ("sal la cosecha", "SAL-LCO-1KG"),
    ("papelon", "PAP-LCO-500G"),
    // Written after the resolver was last changed, and kept whatever they gave.
    ("salsa heinz 397", "KET-HEI-397G"),
    ("jabon palmolive", "JTO-PAL-110G"),
    ("cerveza solera lata", "CRV-SOL-355ML"),
    ("atun margarita agua 170", "ATU-MAR-AGU-170G"),
    ("harina robinhood leudante", "HAT-RHO-LEU-1KG"),
    ("coca-cola 1,5", "REF-COC-1500ML"),
    ("huevos rojos la cosecha 30", "HUE-LCO-ROJ-C30"),
    ("diplomatico añejo 750", "RON-DIP-ANE-750ML"),
    ("kotex nocturnas", "TOA-KOT-NOC-10U"),
    ("cat chow 2 kilos", "MAS-CCH-2KG"),
    ("queso amarillo", "QUE-AMA-KG"),
    ("salchicha la cosecha 225", "SLC-LCO-225G"),
];

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
