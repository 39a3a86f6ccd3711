//! The demo chain's catalog: stores in Venezuelan cities, a central distribution centre, the suppliers
//! and a few hundred recognisable staples built as product family × brand × variant × size.
//!
//! The composition of the catalog (which products, their codes and names) depends only on the
//! requested number of products; the seed moves prices, margins and how fast each product sells.
//! Families are interleaved (the best-selling combination of every family first, then the second …)
//! so that a small catalog still covers harina, arroz, pasta, leche, pan, refrescos and the rest.
//! When the families run out of combinations, multipacks and imported/special editions of the
//! packaged goods fill the catalog up to its maximum size.

use super::{DemoConfig, Tag, sub_rng};
use fluxion_domain::{
    Barcode, LeadTime, Location, LocationCode, LocationKind, Money, OrderDays, Product, ProductCode, Quantity,
    Supplier, SupplierCode, Unit, product::ProductFields,
};
use rand::Rng;

/// How a product's demand moves with the calendar (see `seasons`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// Dry groceries: harina, arroz, pasta, aceite.
    Staple,
    /// Chilled dairy and eggs.
    Fresh,
    /// Bread, baked daily.
    Bakery,
    /// Soft drinks, malta, water, juice.
    Beverage,
    /// Beer and spirits.
    Alcohol,
    /// Canned fish (Semana Santa).
    Fish,
    /// Cleaning and paper.
    Household,
    /// Toiletries and baby care.
    Personal,
    /// Biscuits, chocolates, crisps.
    Snack,
    /// Fruit and vegetables by weight.
    Produce,
    /// Meat, poultry and charcuterie.
    Meat,
}

impl Profile {
    /// Every profile, in index order.
    pub(crate) const ALL: [Profile; 11] = [
        Profile::Staple,
        Profile::Fresh,
        Profile::Bakery,
        Profile::Beverage,
        Profile::Alcohol,
        Profile::Fish,
        Profile::Household,
        Profile::Personal,
        Profile::Snack,
        Profile::Produce,
        Profile::Meat,
    ];

    /// Position in [`Profile::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A brand of a family and who supplies it.
#[derive(Debug)]
struct Brand {
    name: &'static str,
    code: &'static str,
    supplier: &'static str,
    share: f64,
    price: f64,
}

/// A pack size: its label, how its price relates to the family's reference size, its share of the
/// family's sales, and how many units the supplier ships per case.
#[derive(Debug)]
struct Size {
    label: &'static str,
    code: &'static str,
    factor: f64,
    share: f64,
    pack: u32,
}

/// A flavour, type or cut.
#[derive(Debug)]
struct Variant {
    name: &'static str,
    code: &'static str,
    share: f64,
}

/// A product family: the combinations of its brands, variants and sizes are the products.
#[derive(Debug)]
struct Family {
    code: &'static str,
    /// Display name with `{b}` (brand), `{v}` (variant) and `{s}` (size) placeholders.
    pattern: &'static str,
    category: &'static str,
    profile: Profile,
    /// Extra demand at the height of the December season (0.6 = +60 %).
    festive: f64,
    unit: Unit,
    /// Days it keeps; 0 for goods that do not expire in the shop's horizon.
    shelf_life: u32,
    /// Relative sales of the family as a whole.
    popularity: f64,
    /// Shelf price in USD of the reference size (per kg for weighed goods).
    price: f64,
    /// Gross margin range (on the price).
    margin: (f64, f64),
    brands: &'static [Brand],
    sizes: &'static [Size],
    variants: &'static [Variant],
}

const fn b(name: &'static str, code: &'static str, supplier: &'static str, share: f64, price: f64) -> Brand {
    Brand { name, code, supplier, share, price }
}

const fn s(label: &'static str, code: &'static str, factor: f64, share: f64, pack: u32) -> Size {
    Size { label, code, factor, share, pack }
}

const fn v(name: &'static str, code: &'static str, share: f64) -> Variant {
    Variant { name, code, share }
}

const PLAIN: &[Variant] = &[v("", "", 1.0)];
const OWN: Brand = b("La Cosecha", "LCO", "DCV", 0.15, 0.85);

const BASE: Family = Family {
    code: "",
    pattern: "",
    category: "",
    profile: Profile::Staple,
    festive: 0.0,
    unit: Unit::Each,
    shelf_life: 0,
    popularity: 1.0,
    price: 1.0,
    margin: (0.15, 0.25),
    brands: &[],
    sizes: &[],
    variants: PLAIN,
};

/// The product families, most important first.
const FAMILIES: &[Family] = &[
    Family {
        code: "HAR",
        pattern: "Harina de maíz precocida {b} {v} {s}",
        category: "Harinas",
        festive: 0.6,
        popularity: 10.0,
        price: 1.25,
        margin: (0.15, 0.2),
        brands: &[b("P.A.N.", "PAN", "POLAR", 0.7, 1.0), b("Juana", "JUA", "MONACA", 0.2, 0.93), OWN],
        sizes: &[s("1 kg", "1KG", 1.0, 1.0, 20)],
        variants: &[v("blanca", "BLA", 0.85), v("amarilla", "AMA", 0.15)],
        ..BASE
    },
    Family {
        code: "ARR",
        pattern: "Arroz {b} {v} {s}",
        category: "Arroz y granos",
        festive: 0.2,
        popularity: 8.0,
        price: 1.45,
        margin: (0.15, 0.2),
        brands: &[b("Mary", "MAR", "MARY", 0.45, 1.0), b("Primor", "PRI", "POLAR", 0.4, 1.02), OWN],
        sizes: &[s("1 kg", "1KG", 1.0, 0.9, 24), s("5 kg", "5KG", 4.6, 0.1, 4)],
        variants: &[v("tipo I", "TI1", 0.8), v("parbolizado", "PAR", 0.2)],
        ..BASE
    },
    Family {
        code: "PAS",
        pattern: "Pasta {b} {v} {s}",
        category: "Pastas",
        festive: 0.1,
        popularity: 10.0,
        price: 1.55,
        margin: (0.15, 0.22),
        brands: &[
            b("Primor", "PRI", "POLAR", 0.35, 1.0),
            b("Capri", "CAP", "CAPRI", 0.25, 0.95),
            b("Sindoni", "SIN", "SINDONI", 0.15, 1.0),
            b("Ronco", "RON", "CARGILL", 0.15, 0.98),
            OWN,
        ],
        sizes: &[s("500 g", "500G", 0.55, 0.55, 24), s("1 kg", "1KG", 1.0, 0.45, 12)],
        variants: &[v("espagueti", "ESP", 0.6), v("vermicelli", "VER", 0.25), v("fettuccine", "FET", 0.15)],
        ..BASE
    },
    Family {
        code: "ACE",
        pattern: "Aceite vegetal {b} {s}",
        category: "Aceites",
        festive: 0.3,
        popularity: 6.0,
        price: 3.4,
        margin: (0.15, 0.22),
        brands: &[
            b("Diana", "DIA", "DIANA", 0.35, 0.92),
            b("Vatel", "VAT", "CARGILL", 0.3, 1.0),
            b("Mazeite", "MAZ", "POLAR", 0.25, 1.12),
            OWN,
        ],
        sizes: &[s("1 L", "1L", 1.0, 0.75, 12), s("500 ml", "500ML", 0.55, 0.2, 24), s("3 L", "3L", 2.8, 0.05, 6)],
        ..BASE
    },
    Family {
        code: "PAN",
        pattern: "Pan {v} {b}",
        category: "Panadería",
        profile: Profile::Bakery,
        festive: 0.2,
        shelf_life: 4,
        popularity: 9.0,
        price: 1.2,
        margin: (0.25, 0.4),
        brands: &[b("La Especial", "LES", "LAESPECIAL", 0.7, 1.0), b("Bimbo", "BIM", "BIMBO", 0.3, 1.4)],
        sizes: &[s("", "UN", 1.0, 1.0, 10)],
        variants: &[
            v("canilla", "CAN", 0.35),
            v("campesino", "CAM", 0.25),
            v("de sándwich", "SAN", 0.25),
            v("dulce", "DUL", 0.15),
        ],
        ..BASE
    },
    Family {
        code: "AZU",
        pattern: "Azúcar {v} {b} {s}",
        category: "Azúcar y endulzantes",
        festive: 0.4,
        popularity: 6.0,
        price: 1.35,
        margin: (0.15, 0.2),
        brands: &[b("Montalbán", "MON", "MONTALBAN", 0.6, 1.0), b("La Cosecha", "LCO", "DCV", 0.4, 0.88)],
        sizes: &[s("1 kg", "1KG", 1.0, 0.92, 20), s("5 kg", "5KG", 4.7, 0.08, 4)],
        variants: &[v("refinada", "REF", 0.8), v("morena", "MOR", 0.2)],
        ..BASE
    },
    Family {
        code: "LEC",
        pattern: "Leche UHT {b} {v} {s}",
        category: "Lácteos",
        profile: Profile::Fresh,
        festive: 0.1,
        shelf_life: 120,
        popularity: 6.0,
        price: 2.1,
        margin: (0.15, 0.25),
        brands: &[b("Los Andes", "LAN", "LOSANDES", 0.55, 1.0), b("La Campiña", "LCA", "PARMALAT", 0.45, 1.02)],
        sizes: &[s("1 L", "1L", 1.0, 1.0, 12)],
        variants: &[v("completa", "COM", 0.6), v("descremada", "DES", 0.2), v("deslactosada", "DSL", 0.2)],
        ..BASE
    },
    Family {
        code: "REF",
        pattern: "Refresco {b} {s}",
        category: "Bebidas",
        profile: Profile::Beverage,
        festive: 0.7,
        popularity: 7.0,
        price: 2.2,
        margin: (0.18, 0.28),
        brands: &[
            b("Pepsi", "PEP", "PEPSI", 0.3, 1.0),
            b("Coca-Cola", "COC", "COCACOLA", 0.25, 1.05),
            b("Frescolita", "FRE", "COCACOLA", 0.12, 0.95),
            b("Golden", "GOL", "PEPSI", 0.12, 0.9),
            b("Chinotto", "CHI", "COCACOLA", 0.08, 0.95),
            b("Hit", "HIT", "PEPSI", 0.07, 0.92),
            b("7Up", "7UP", "PEPSI", 0.06, 0.95),
        ],
        sizes: &[
            s("2 L", "2L", 1.0, 0.4, 6),
            s("1,5 L", "1500ML", 0.8, 0.3, 6),
            s("lata 355 ml", "355ML", 0.35, 0.3, 24),
        ],
        ..BASE
    },
    Family {
        code: "HUE",
        pattern: "Huevos {v} {b} {s}",
        category: "Huevos",
        profile: Profile::Fresh,
        festive: 0.2,
        shelf_life: 28,
        popularity: 6.0,
        price: 6.0,
        margin: (0.15, 0.22),
        brands: &[b("Los Samanes", "SAM", "SAMANES", 0.6, 1.0), b("La Cosecha", "LCO", "DCV", 0.4, 0.95)],
        sizes: &[s("cartón 30", "C30", 1.0, 0.6, 12), s("cartón 12", "C12", 0.45, 0.4, 24)],
        variants: &[v("blancos", "BLA", 0.7), v("rojos", "ROJ", 0.3)],
        ..BASE
    },
    Family {
        code: "CAF",
        pattern: "Café molido {b} {s}",
        category: "Café",
        festive: 0.3,
        popularity: 5.0,
        price: 4.2,
        margin: (0.18, 0.28),
        brands: &[
            b("Fama de América", "FAM", "FAMA", 0.45, 1.0),
            b("Madrid", "MAD", "MADRID", 0.3, 0.95),
            b("Flor de Arauca", "FAR", "FAMA", 0.15, 1.1),
            OWN,
        ],
        sizes: &[s("500 g", "500G", 1.0, 0.5, 12), s("250 g", "250G", 0.53, 0.45, 24), s("1 kg", "1KG", 1.95, 0.05, 6)],
        ..BASE
    },
    Family {
        code: "QUE",
        pattern: "Queso {v} {s}",
        category: "Charcutería y quesos",
        profile: Profile::Fresh,
        festive: 0.2,
        unit: Unit::Kilogram,
        shelf_life: 21,
        popularity: 5.0,
        price: 7.5,
        margin: (0.22, 0.35),
        brands: &[b("", "", "LOSANDES", 1.0, 1.0)],
        sizes: &[s("por kg", "KG", 1.0, 1.0, 5)],
        variants: &[
            v("blanco duro", "DUR", 0.35),
            v("llanero", "LLA", 0.2),
            v("amarillo", "AMA", 0.18),
            v("de mano", "MAN", 0.15),
            v("guayanés", "GUA", 0.12),
        ],
    },
    Family {
        code: "MAL",
        pattern: "Malta {b} {s}",
        category: "Bebidas",
        profile: Profile::Beverage,
        festive: 0.3,
        popularity: 5.0,
        price: 0.85,
        margin: (0.18, 0.25),
        brands: &[b("Maltín Polar", "MPO", "CERVPOLAR", 1.0, 1.0)],
        sizes: &[
            s("lata 355 ml", "355ML", 1.0, 0.45, 24),
            s("250 ml", "250ML", 0.75, 0.3, 36),
            s("1,5 L", "1500ML", 2.8, 0.25, 6),
        ],
        ..BASE
    },
    Family {
        code: "CRV",
        pattern: "Cerveza {b} {s}",
        category: "Licores",
        profile: Profile::Alcohol,
        festive: 0.7,
        popularity: 6.0,
        price: 1.0,
        margin: (0.2, 0.3),
        brands: &[
            b("Polar Pilsen", "PPI", "CERVPOLAR", 0.4, 1.0),
            b("Polar Light", "PLI", "CERVPOLAR", 0.3, 1.0),
            b("Zulia", "ZUL", "DCV", 0.12, 0.95),
            b("Solera", "SOL", "CERVPOLAR", 0.1, 1.1),
            b("Solera Azul", "SOA", "CERVPOLAR", 0.08, 1.1),
        ],
        sizes: &[s("lata 355 ml", "355ML", 1.0, 0.5, 24), s("tercio 222 ml", "222ML", 0.7, 0.5, 36)],
        ..BASE
    },
    Family {
        code: "MGR",
        pattern: "Margarina {b} {s}",
        category: "Untables",
        profile: Profile::Fresh,
        festive: 0.3,
        shelf_life: 150,
        popularity: 4.0,
        price: 2.7,
        margin: (0.18, 0.25),
        brands: &[b("Mavesa", "MAV", "MAVESA", 0.7, 1.0), b("Nelly", "NEL", "MAVESA", 0.3, 0.9)],
        sizes: &[s("500 g", "500G", 1.0, 0.45, 12), s("250 g", "250G", 0.55, 0.45, 24), s("1 kg", "1KG", 1.9, 0.1, 6)],
        ..BASE
    },
    Family {
        code: "MAY",
        pattern: "Mayonesa {b} {s}",
        category: "Salsas",
        festive: 0.3,
        popularity: 3.0,
        price: 3.3,
        margin: (0.18, 0.28),
        brands: &[b("Mavesa", "MAV", "MAVESA", 0.6, 1.0), b("Kraft", "KRA", "HEINZ", 0.4, 1.1)],
        sizes: &[
            s("445 g", "445G", 1.0, 0.5, 12),
            s("175 g", "175G", 0.45, 0.3, 24),
            s("910 g", "910G", 1.85, 0.2, 12),
        ],
        ..BASE
    },
    Family {
        code: "GRA",
        pattern: "{v} {b} {s}",
        category: "Arroz y granos",
        festive: 0.1,
        popularity: 4.0,
        price: 1.6,
        margin: (0.15, 0.25),
        brands: &[b("La Cosecha", "LCO", "DCV", 0.6, 1.0), b("Mary", "MAR", "MARY", 0.4, 1.05)],
        sizes: &[s("500 g", "500G", 1.0, 0.7, 24), s("1 kg", "1KG", 1.9, 0.3, 12)],
        variants: &[
            v("Caraotas negras", "CNE", 0.45),
            v("Lentejas", "LEN", 0.25),
            v("Caraotas rojas", "CRO", 0.1),
            v("Arvejas", "ARV", 0.1),
            v("Frijol bayo", "FRI", 0.1),
        ],
        ..BASE
    },
    Family {
        code: "HAT",
        pattern: "Harina de trigo {b} {v} {s}",
        category: "Harinas",
        festive: 0.7,
        popularity: 2.0,
        price: 1.45,
        margin: (0.15, 0.22),
        brands: &[b("Robin Hood", "RHO", "MONACA", 0.6, 1.0), b("Juana", "JUA", "MONACA", 0.25, 0.95), OWN],
        sizes: &[s("1 kg", "1KG", 1.0, 1.0, 20)],
        variants: &[v("todo uso", "TUS", 0.8), v("leudante", "LEU", 0.2)],
        ..BASE
    },
    Family {
        code: "SAR",
        pattern: "Sardinas {b} {v} {s}",
        category: "Enlatados",
        profile: Profile::Fish,
        popularity: 3.0,
        price: 1.2,
        margin: (0.18, 0.25),
        brands: &[b("Margarita", "MAR", "MARGARITA", 0.7, 1.0), b("La Gaviota", "GAV", "DCV", 0.3, 0.92)],
        sizes: &[s("170 g", "170G", 1.0, 1.0, 24)],
        variants: &[v("en salsa de tomate", "TOM", 0.6), v("en aceite", "ACE", 0.4)],
        ..BASE
    },
    Family {
        code: "ATU",
        pattern: "Atún {b} {v} {s}",
        category: "Enlatados",
        profile: Profile::Fish,
        popularity: 3.0,
        price: 2.3,
        margin: (0.18, 0.25),
        brands: &[b("Margarita", "MAR", "MARGARITA", 0.6, 1.0), b("Eveba", "EVE", "DCV", 0.4, 0.95)],
        sizes: &[s("140 g", "140G", 1.0, 0.7, 24), s("170 g", "170G", 1.2, 0.3, 24)],
        variants: &[v("en aceite", "ACE", 0.6), v("en agua", "AGU", 0.4)],
        ..BASE
    },
    Family {
        code: "KET",
        pattern: "Salsa de tomate {b} {s}",
        category: "Salsas",
        festive: 0.2,
        popularity: 2.0,
        price: 2.0,
        margin: (0.18, 0.28),
        brands: &[b("Pampero", "PAM", "HEINZ", 0.6, 1.0), b("Heinz", "HEI", "HEINZ", 0.4, 1.15)],
        sizes: &[s("397 g", "397G", 1.0, 0.5, 12), s("198 g", "198G", 0.55, 0.3, 24), s("1 kg", "1KG", 2.2, 0.2, 6)],
        ..BASE
    },
    Family {
        code: "JAM",
        pattern: "{v} {b} {s}",
        category: "Charcutería y quesos",
        profile: Profile::Meat,
        festive: 0.9,
        unit: Unit::Kilogram,
        shelf_life: 20,
        popularity: 3.0,
        price: 9.0,
        margin: (0.22, 0.35),
        brands: &[b("Plumrose", "PLU", "PLUMROSE", 0.7, 1.0), b("La Cosecha", "LCO", "DCV", 0.3, 0.85)],
        sizes: &[s("por kg", "KG", 1.0, 1.0, 5)],
        variants: &[
            v("Jamón de pierna", "PIE", 0.45),
            v("Jamón cocido", "COC", 0.3),
            v("Tocineta", "TOC", 0.15),
            v("Mortadela", "MOR", 0.1),
        ],
    },
    Family {
        code: "POL",
        pattern: "Pollo {v} {b} {s}",
        category: "Carnes",
        profile: Profile::Meat,
        festive: 0.2,
        unit: Unit::Kilogram,
        shelf_life: 5,
        popularity: 5.0,
        price: 3.6,
        margin: (0.15, 0.25),
        brands: &[b("Los Samanes", "SAM", "SAMANES", 1.0, 1.0)],
        sizes: &[s("por kg", "KG", 1.0, 1.0, 10)],
        variants: &[v("entero", "ENT", 0.5), v("pechuga", "PEC", 0.3), v("muslos", "MUS", 0.2)],
    },
    Family {
        code: "RES",
        pattern: "Carne de res {v} {s}",
        category: "Carnes",
        profile: Profile::Meat,
        festive: 0.3,
        unit: Unit::Kilogram,
        shelf_life: 5,
        popularity: 4.0,
        price: 8.5,
        margin: (0.18, 0.28),
        brands: &[b("", "", "FRIGO", 1.0, 1.0)],
        sizes: &[s("por kg", "KG", 1.0, 1.0, 10)],
        variants: &[
            v("molida", "MOL", 0.4),
            v("bistec", "BIS", 0.3),
            v("costilla", "COS", 0.15),
            v("lagarto", "LAG", 0.15),
        ],
    },
    Family {
        code: "PER",
        pattern: "Pernil de cerdo {s}",
        category: "Carnes",
        profile: Profile::Meat,
        festive: 3.0,
        unit: Unit::Kilogram,
        shelf_life: 7,
        popularity: 1.0,
        price: 6.8,
        margin: (0.18, 0.28),
        brands: &[b("", "", "FRIGO", 1.0, 1.0)],
        sizes: &[s("por kg", "KG", 1.0, 1.0, 10)],
        ..BASE
    },
    Family {
        code: "FRU",
        pattern: "{v} {s}",
        category: "Frutas y verduras",
        profile: Profile::Produce,
        festive: 0.1,
        unit: Unit::Kilogram,
        shelf_life: 7,
        popularity: 5.0,
        price: 1.6,
        margin: (0.25, 0.4),
        brands: &[b("", "", "MERCADITO", 1.0, 1.0)],
        sizes: &[s("por kg", "KG", 1.0, 1.0, 10)],
        variants: &[
            v("Cambur", "CAMBUR", 0.3),
            v("Naranja", "NARANJA", 0.2),
            v("Lechosa", "LECHOSA", 0.15),
            v("Limón", "LIMON", 0.15),
            v("Piña", "PINA", 0.1),
            v("Aguacate", "AGUACATE", 0.1),
        ],
    },
    Family {
        code: "VER",
        pattern: "{v} {s}",
        category: "Frutas y verduras",
        profile: Profile::Produce,
        festive: 0.3,
        unit: Unit::Kilogram,
        shelf_life: 14,
        popularity: 6.0,
        price: 1.5,
        margin: (0.25, 0.4),
        brands: &[b("", "", "MERCADITO", 1.0, 1.0)],
        sizes: &[s("por kg", "KG", 1.0, 1.0, 10)],
        variants: &[
            v("Tomate", "TOMATE", 0.2),
            v("Cebolla", "CEBOLLA", 0.2),
            v("Papa", "PAPA", 0.2),
            v("Plátano", "PLATANO", 0.15),
            v("Zanahoria", "ZANAHORIA", 0.1),
            v("Pimentón", "PIMENTON", 0.1),
            v("Ají dulce", "AJI", 0.05),
        ],
    },
    Family {
        code: "PHI",
        pattern: "Papel higiénico {b} {s}",
        category: "Cuidado del hogar",
        profile: Profile::Household,
        festive: 0.1,
        popularity: 5.0,
        price: 2.8,
        margin: (0.18, 0.28),
        brands: &[b("Rosal", "ROS", "DCV", 0.65, 1.0), b("Scott", "SCO", "KIMBERLY", 0.35, 1.1)],
        sizes: &[s("4 rollos", "4R", 1.0, 0.6, 12), s("12 rollos", "12R", 2.7, 0.4, 4)],
        ..BASE
    },
    Family {
        code: "JAB",
        pattern: "Jabón {v} {b} {s}",
        category: "Cuidado del hogar",
        profile: Profile::Household,
        popularity: 2.0,
        price: 1.0,
        margin: (0.2, 0.3),
        brands: &[b("Las Llaves", "LLA", "DCV", 0.7, 1.0), OWN],
        sizes: &[s("250 g", "250G", 1.0, 1.0, 48)],
        variants: &[v("de panela azul", "AZU", 0.6), v("de panela blanco", "BLA", 0.4)],
        ..BASE
    },
    Family {
        code: "JTO",
        pattern: "Jabón de tocador {b} {s}",
        category: "Cuidado personal",
        profile: Profile::Personal,
        popularity: 2.0,
        price: 1.3,
        margin: (0.22, 0.35),
        brands: &[
            b("Protex", "PRO", "COLGATE", 0.45, 1.0),
            b("Palmolive", "PAL", "COLGATE", 0.35, 0.95),
            b("Camay", "CAM", "PG", 0.2, 1.0),
        ],
        sizes: &[s("110 g", "110G", 1.0, 1.0, 72)],
        ..BASE
    },
    Family {
        code: "DET",
        pattern: "Detergente en polvo {b} {s}",
        category: "Cuidado del hogar",
        profile: Profile::Household,
        popularity: 3.0,
        price: 3.9,
        margin: (0.18, 0.28),
        brands: &[
            b("Ace", "ACE", "PG", 0.4, 1.0),
            b("Ariel", "ARI", "PG", 0.3, 1.2),
            b("Las Llaves", "LLA", "DCV", 0.3, 0.9),
        ],
        sizes: &[s("1 kg", "1KG", 1.0, 0.45, 12), s("500 g", "500G", 0.55, 0.35, 24), s("2 kg", "2KG", 1.9, 0.2, 6)],
        ..BASE
    },
    Family {
        code: "CRD",
        pattern: "Crema dental {b} {s}",
        category: "Cuidado personal",
        profile: Profile::Personal,
        popularity: 3.0,
        price: 2.2,
        margin: (0.25, 0.38),
        brands: &[
            b("Colgate", "COL", "COLGATE", 0.6, 1.0),
            b("Kolynos", "KOL", "COLGATE", 0.2, 0.7),
            b("Oral-B", "ORB", "PG", 0.2, 1.1),
        ],
        sizes: &[s("75 ml", "75ML", 0.8, 0.6, 24), s("150 ml", "150ML", 1.5, 0.4, 12)],
        ..BASE
    },
    Family {
        code: "CHA",
        pattern: "Champú {b} {s}",
        category: "Cuidado personal",
        profile: Profile::Personal,
        popularity: 2.0,
        price: 4.5,
        margin: (0.25, 0.4),
        brands: &[
            b("Pantene", "PAN", "PG", 0.35, 1.0),
            b("Sedal", "SED", "DCV", 0.35, 0.8),
            b("Head & Shoulders", "HAS", "PG", 0.3, 1.1),
        ],
        sizes: &[s("400 ml", "400ML", 1.0, 0.5, 12), s("200 ml", "200ML", 0.55, 0.5, 24)],
        ..BASE
    },
    Family {
        code: "PNL",
        pattern: "Pañales {b} {s}",
        category: "Bebés",
        profile: Profile::Personal,
        popularity: 2.0,
        price: 14.0,
        margin: (0.2, 0.3),
        brands: &[b("Huggies", "HUG", "KIMBERLY", 0.5, 1.0), b("Pampers", "PAM", "PG", 0.35, 1.08), OWN],
        sizes: &[
            s("talla G", "G", 1.0, 0.3, 4),
            s("talla M", "M", 1.0, 0.3, 4),
            s("talla XG", "XG", 1.05, 0.2, 4),
            s("talla P", "P", 0.95, 0.2, 4),
        ],
        ..BASE
    },
    Family {
        code: "LPO",
        pattern: "Leche en polvo {b} {s}",
        category: "Lácteos",
        festive: 0.1,
        popularity: 3.0,
        price: 9.5,
        margin: (0.15, 0.22),
        brands: &[
            b("La Campiña", "LCA", "PARMALAT", 0.35, 1.0),
            b("Los Andes", "LAN", "LOSANDES", 0.35, 0.97),
            b("Nido", "NID", "NESTLE", 0.3, 1.25),
        ],
        sizes: &[s("900 g", "900G", 1.0, 0.4, 12), s("400 g", "400G", 0.47, 0.6, 24)],
        ..BASE
    },
    Family {
        code: "YOG",
        pattern: "Yogur {b} {v} {s}",
        category: "Lácteos",
        profile: Profile::Fresh,
        shelf_life: 30,
        popularity: 2.0,
        price: 2.6,
        margin: (0.2, 0.3),
        brands: &[b("Los Andes", "LAN", "LOSANDES", 0.5, 1.0), b("La Campiña", "LCA", "PARMALAT", 0.5, 1.0)],
        sizes: &[s("1 L", "1L", 1.0, 0.5, 12), s("150 g", "150G", 0.35, 0.5, 24)],
        variants: &[v("de fresa", "FRE", 0.5), v("de durazno", "DUR", 0.3), v("natural", "NAT", 0.2)],
        ..BASE
    },
    Family {
        code: "NAT",
        pattern: "Nata {b} {s}",
        category: "Lácteos",
        profile: Profile::Fresh,
        festive: 0.2,
        shelf_life: 30,
        popularity: 0.7,
        price: 2.8,
        margin: (0.2, 0.3),
        brands: &[b("Los Andes", "LAN", "LOSANDES", 1.0, 1.0)],
        sizes: &[s("450 g", "450G", 1.0, 1.0, 12)],
        ..BASE
    },
    Family {
        code: "SLC",
        pattern: "Salchichas {b} {s}",
        category: "Charcutería y quesos",
        profile: Profile::Meat,
        festive: 0.1,
        shelf_life: 45,
        popularity: 2.0,
        price: 3.2,
        margin: (0.2, 0.3),
        brands: &[b("Plumrose", "PLU", "PLUMROSE", 0.7, 1.0), b("La Cosecha", "LCO", "DCV", 0.3, 0.85)],
        sizes: &[s("500 g", "500G", 1.0, 0.5, 12), s("225 g", "225G", 0.5, 0.5, 24)],
        ..BASE
    },
    Family {
        code: "PDJ",
        pattern: "Pan de jamón {b}",
        category: "Panadería",
        profile: Profile::Bakery,
        festive: 6.0,
        shelf_life: 5,
        popularity: 0.4,
        price: 9.0,
        margin: (0.3, 0.4),
        brands: &[b("La Especial", "LES", "LAESPECIAL", 1.0, 1.0)],
        sizes: &[s("", "UN", 1.0, 1.0, 4)],
        ..BASE
    },
    Family {
        code: "NAV",
        pattern: "{v} {b} {s}",
        category: "Despensa",
        festive: 2.5,
        popularity: 0.6,
        price: 2.5,
        margin: (0.25, 0.35),
        brands: &[b("La Cosecha", "LCO", "DCV", 0.6, 1.0), b("Goya", "GOY", "DCV", 0.4, 1.3)],
        sizes: &[s("200 g", "200G", 1.0, 1.0, 24)],
        variants: &[v("Pasas", "PAS", 0.35), v("Aceitunas rellenas", "ACE", 0.35), v("Alcaparrado", "ALC", 0.3)],
        ..BASE
    },
    Family {
        code: "PAP",
        pattern: "Papelón {b} {s}",
        category: "Azúcar y endulzantes",
        festive: 0.5,
        popularity: 1.0,
        price: 1.1,
        margin: (0.2, 0.3),
        brands: &[b("La Cosecha", "LCO", "DCV", 1.0, 1.0)],
        sizes: &[s("500 g", "500G", 1.0, 1.0, 24)],
        ..BASE
    },
    Family {
        code: "CAI",
        pattern: "Café instantáneo {b} {s}",
        category: "Café",
        festive: 0.2,
        popularity: 1.5,
        price: 6.5,
        margin: (0.2, 0.3),
        brands: &[b("Nescafé", "NES", "NESTLE", 0.8, 1.0), b("Fama de América", "FAM", "FAMA", 0.2, 0.85)],
        sizes: &[s("100 g", "100G", 0.55, 0.45, 24), s("200 g", "200G", 1.0, 0.35, 12), s("50 g", "50G", 0.3, 0.2, 24)],
        ..BASE
    },
    Family {
        code: "CON",
        pattern: "{v} {b}",
        category: "Despensa",
        festive: 0.3,
        popularity: 2.0,
        price: 1.5,
        margin: (0.25, 0.35),
        brands: &[
            b("La Comadre", "LCM", "DCV", 0.4, 1.0),
            b("Maggi", "MAG", "NESTLE", 0.35, 1.1),
            b("La Cosecha", "LCO", "DCV", 0.25, 0.85),
        ],
        sizes: &[s("", "UN", 1.0, 1.0, 24)],
        variants: &[
            v("Adobo", "ADO", 0.35),
            v("Cubitos de pollo", "CUB", 0.35),
            v("Onoto", "ONO", 0.15),
            v("Comino", "COM", 0.15),
        ],
        ..BASE
    },
    Family {
        code: "SAL",
        pattern: "Sal {b} {s}",
        category: "Despensa",
        popularity: 0.8,
        price: 0.6,
        margin: (0.2, 0.3),
        brands: &[b("La Cosecha", "LCO", "DCV", 1.0, 1.0)],
        sizes: &[s("1 kg", "1KG", 1.0, 1.0, 24)],
        ..BASE
    },
    Family {
        code: "AVE",
        pattern: "Avena en hojuelas {b} {s}",
        category: "Cereales",
        popularity: 2.0,
        price: 2.4,
        margin: (0.18, 0.28),
        brands: &[b("Quaker", "QUA", "PEPSI", 0.7, 1.0), b("La Cosecha", "LCO", "DCV", 0.3, 0.85)],
        sizes: &[s("400 g", "400G", 1.0, 0.7, 24), s("800 g", "800G", 1.85, 0.3, 12)],
        ..BASE
    },
    Family {
        code: "CCO",
        pattern: "Bebida achocolatada {b} {s}",
        category: "Cereales",
        popularity: 1.5,
        price: 3.8,
        margin: (0.2, 0.3),
        brands: &[b("Toddy", "TOD", "PEPSI", 0.6, 1.0), b("Nesquik", "NQK", "NESTLE", 0.4, 1.05)],
        sizes: &[s("400 g", "400G", 1.0, 0.6, 12), s("200 g", "200G", 0.55, 0.4, 24)],
        ..BASE
    },
    Family {
        code: "CRL",
        pattern: "Cereal {b} {v} {s}",
        category: "Cereales",
        popularity: 1.0,
        price: 4.5,
        margin: (0.2, 0.3),
        brands: &[b("Kellogg's", "KEL", "DCV", 1.0, 1.0)],
        sizes: &[s("500 g", "500G", 1.0, 1.0, 12)],
        variants: &[v("Corn Flakes", "CFL", 0.55), v("Zucaritas", "ZUC", 0.45)],
        ..BASE
    },
    Family {
        code: "GAL",
        pattern: "Galletas {b} {v}",
        category: "Galletas y dulces",
        profile: Profile::Snack,
        festive: 0.2,
        popularity: 4.0,
        price: 1.3,
        margin: (0.22, 0.32),
        brands: &[
            b("María Puig", "MPU", "PUIG", 0.4, 1.0),
            b("Marilú", "MLU", "PUIG", 0.3, 1.05),
            b("Club Social", "CLS", "DCV", 0.3, 1.2),
        ],
        sizes: &[s("", "UN", 1.0, 1.0, 24)],
        variants: &[v("clásicas", "CLA", 0.5), v("de chocolate", "CHO", 0.3), v("integrales", "INT", 0.2)],
        ..BASE
    },
    Family {
        code: "CHO",
        pattern: "Chocolate {b} {v}",
        category: "Galletas y dulces",
        profile: Profile::Snack,
        festive: 0.5,
        popularity: 2.0,
        price: 1.1,
        margin: (0.25, 0.35),
        brands: &[b("Savoy", "SAV", "NESTLE", 1.0, 1.0)],
        sizes: &[s("", "UN", 1.0, 1.0, 48)],
        variants: &[
            v("Cri-Cri", "CRI", 0.25),
            v("Toronto", "TOR", 0.25),
            v("Carré", "CAR", 0.2),
            v("Susy", "SUS", 0.2),
            v("de leche", "LEC", 0.1),
        ],
        ..BASE
    },
    Family {
        code: "PSP",
        pattern: "Pasapalos {b} {s}",
        category: "Galletas y dulces",
        profile: Profile::Snack,
        festive: 0.6,
        popularity: 3.0,
        price: 1.6,
        margin: (0.25, 0.35),
        brands: &[
            b("Doritos", "DOR", "PEPSI", 0.3, 1.0),
            b("Cheese Tris", "CHT", "PEPSI", 0.3, 0.9),
            b("Pepito", "PEP", "PEPSI", 0.2, 0.85),
            b("Platanitos", "PLT", "DCV", 0.2, 0.9),
        ],
        sizes: &[s("150 g", "150G", 1.0, 0.5, 12), s("45 g", "45G", 0.5, 0.5, 24)],
        ..BASE
    },
    Family {
        code: "JUG",
        pattern: "Néctar {b} {v} {s}",
        category: "Bebidas",
        profile: Profile::Beverage,
        festive: 0.3,
        popularity: 3.0,
        price: 2.1,
        margin: (0.18, 0.28),
        brands: &[b("Yukery", "YUK", "PEPSI", 0.6, 1.0), b("La Cosecha", "LCO", "DCV", 0.4, 0.85)],
        sizes: &[s("1,5 L", "1500ML", 1.0, 0.6, 6), s("250 ml", "250ML", 0.3, 0.4, 24)],
        variants: &[
            v("de durazno", "DUR", 0.35),
            v("de pera", "PER", 0.25),
            v("de mango", "MAN", 0.2),
            v("de naranja", "NAR", 0.2),
        ],
        ..BASE
    },
    Family {
        code: "AGU",
        pattern: "Agua mineral {b} {s}",
        category: "Bebidas",
        profile: Profile::Beverage,
        festive: 0.2,
        popularity: 5.0,
        price: 1.0,
        margin: (0.2, 0.3),
        brands: &[b("Minalba", "MIN", "PEPSI", 0.6, 1.0), b("La Cosecha", "LCO", "DCV", 0.4, 0.8)],
        sizes: &[s("1,5 L", "1500ML", 1.0, 0.4, 12), s("600 ml", "600ML", 0.6, 0.4, 24), s("5 L", "5L", 2.6, 0.2, 4)],
        ..BASE
    },
    Family {
        code: "RON",
        pattern: "Ron {b} {v} {s}",
        category: "Licores",
        profile: Profile::Alcohol,
        festive: 0.8,
        popularity: 1.2,
        price: 9.0,
        margin: (0.22, 0.35),
        brands: &[
            b("Santa Teresa", "STE", "SANTATERESA", 0.35, 1.3),
            b("Cacique", "CAC", "DIAGEO", 0.35, 1.0),
            b("Pampero", "PAM", "DIAGEO", 0.2, 0.9),
            b("Diplomático", "DIP", "DCV", 0.1, 2.8),
        ],
        sizes: &[s("0,75 L", "750ML", 1.0, 0.7, 12), s("1 L", "1L", 1.25, 0.3, 12)],
        variants: &[v("añejo", "ANE", 0.75), v("blanco", "BLA", 0.25)],
        ..BASE
    },
    Family {
        code: "WHI",
        pattern: "Whisky {b} {s}",
        category: "Licores",
        profile: Profile::Alcohol,
        festive: 1.2,
        popularity: 0.6,
        price: 24.0,
        margin: (0.25, 0.35),
        brands: &[
            b("Buchanan's", "BUC", "DIAGEO", 0.4, 1.4),
            b("Old Parr", "OPA", "DIAGEO", 0.3, 1.3),
            b("Black & White", "BWH", "DIAGEO", 0.3, 0.7),
        ],
        sizes: &[s("0,75 L", "750ML", 1.0, 1.0, 12)],
        ..BASE
    },
    Family {
        code: "PON",
        pattern: "Ponche crema {b} {s}",
        category: "Licores",
        profile: Profile::Alcohol,
        festive: 8.0,
        popularity: 0.2,
        price: 8.5,
        margin: (0.25, 0.35),
        brands: &[b("Eduardo", "EDU", "DCV", 1.0, 1.0)],
        sizes: &[s("0,75 L", "750ML", 1.0, 0.7, 12), s("1 L", "1L", 1.25, 0.3, 12)],
        ..BASE
    },
    Family {
        code: "LAV",
        pattern: "Lavaplatos en crema {b} {s}",
        category: "Cuidado del hogar",
        profile: Profile::Household,
        popularity: 2.0,
        price: 2.5,
        margin: (0.2, 0.3),
        brands: &[b("Las Llaves", "LLA", "DCV", 0.45, 1.0), b("Axion", "AXI", "COLGATE", 0.4, 1.1), OWN],
        sizes: &[s("500 g", "500G", 1.0, 1.0, 24)],
        ..BASE
    },
    Family {
        code: "CLO",
        pattern: "{v} {b} {s}",
        category: "Cuidado del hogar",
        profile: Profile::Household,
        festive: 0.1,
        popularity: 2.0,
        price: 1.8,
        margin: (0.2, 0.3),
        brands: &[b("Nevex", "NEV", "DCV", 0.5, 1.0), b("Mistolín", "MIS", "DCV", 0.3, 1.05), OWN],
        sizes: &[s("1 L", "1L", 1.0, 1.0, 12)],
        variants: &[v("Cloro", "CLO", 0.5), v("Desinfectante", "DES", 0.5)],
        ..BASE
    },
    Family {
        code: "SER",
        pattern: "{v} {b}",
        category: "Cuidado del hogar",
        profile: Profile::Household,
        festive: 0.2,
        popularity: 1.5,
        price: 1.5,
        margin: (0.2, 0.3),
        brands: &[b("Rosal", "ROS", "DCV", 0.6, 1.0), b("Scott", "SCO", "KIMBERLY", 0.4, 1.1)],
        sizes: &[s("", "UN", 1.0, 1.0, 24)],
        variants: &[v("Servilletas", "SRV", 0.6), v("Papel absorbente", "ABS", 0.4)],
        ..BASE
    },
    Family {
        code: "DES",
        pattern: "Desodorante {b}",
        category: "Cuidado personal",
        profile: Profile::Personal,
        popularity: 2.0,
        price: 3.5,
        margin: (0.25, 0.38),
        brands: &[
            b("Speed Stick", "SPS", "COLGATE", 0.4, 1.0),
            b("Lady Speed Stick", "LSS", "COLGATE", 0.3, 1.0),
            b("Gillette", "GIL", "PG", 0.3, 1.15),
        ],
        sizes: &[s("", "UN", 1.0, 1.0, 24)],
        ..BASE
    },
    Family {
        code: "TOA",
        pattern: "Toallas sanitarias {b} {v}",
        category: "Cuidado personal",
        profile: Profile::Personal,
        popularity: 2.0,
        price: 2.4,
        margin: (0.25, 0.35),
        brands: &[b("Kotex", "KOT", "KIMBERLY", 0.6, 1.0), b("Always", "ALW", "PG", 0.4, 1.1)],
        sizes: &[s("", "10U", 1.0, 1.0, 24)],
        variants: &[v("normales", "NOR", 0.65), v("nocturnas", "NOC", 0.35)],
        ..BASE
    },
    Family {
        code: "MAS",
        pattern: "Alimento para mascotas {b} {s}",
        category: "Mascotas",
        profile: Profile::Household,
        popularity: 1.0,
        price: 6.5,
        margin: (0.2, 0.3),
        brands: &[
            b("Dog Chow", "DCH", "NESTLE", 0.5, 1.0),
            b("Cat Chow", "CCH", "NESTLE", 0.3, 1.1),
            b("La Cosecha", "LCO", "DCV", 0.2, 0.8),
        ],
        sizes: &[s("2 kg", "2KG", 1.0, 0.7, 8), s("4 kg", "4KG", 1.8, 0.3, 4)],
        ..BASE
    },
    Family {
        code: "ENL",
        pattern: "{v} {b} {s}",
        category: "Enlatados",
        festive: 0.4,
        popularity: 1.0,
        price: 1.9,
        margin: (0.2, 0.3),
        brands: &[b("Del Monte", "DEL", "DCV", 0.5, 1.1), b("La Cosecha", "LCO", "DCV", 0.5, 0.9)],
        sizes: &[s("300 g", "300G", 1.0, 1.0, 24)],
        variants: &[v("Maíz dulce", "MAI", 0.45), v("Guisantes", "GUI", 0.3), v("Vegetales mixtos", "VEG", 0.25)],
        ..BASE
    },
];

/// A supplier: lead time, minimum order, order days and how often it fails to deliver.
#[derive(Debug)]
struct SupplierDef {
    code: &'static str,
    name: &'static str,
    lead_mean: f64,
    lead_sd: f64,
    moq: u32,
    order_days: u8,
    /// Chance that one delivery comes days late.
    fail: f64,
    /// Episodes per year in which nothing arrives for one to three weeks.
    outages: f64,
}

const MON: u8 = 1;
const TUE: u8 = 1 << 1;
const WED: u8 = 1 << 2;
const THU: u8 = 1 << 3;
const FRI: u8 = 1 << 4;
const SAT: u8 = 1 << 5;
const SUN: u8 = 1 << 6;

const fn sup(
    code: &'static str,
    name: &'static str,
    lead: (f64, f64),
    moq: u32,
    days: u8,
    fail: f64,
    outages: f64,
) -> SupplierDef {
    SupplierDef { code, name, lead_mean: lead.0, lead_sd: lead.1, moq, order_days: days, fail, outages }
}

const SUPPLIERS: &[SupplierDef] = &[
    sup("POLAR", "Alimentos Polar", (3.0, 1.0), 20, MON | WED | FRI, 0.03, 0.8),
    sup("CERVPOLAR", "Cervecería Polar", (2.0, 0.7), 24, MON | WED | FRI, 0.03, 0.6),
    sup("PEPSI", "Pepsi-Cola Venezuela", (2.0, 1.0), 24, MON | TUE | WED | THU | FRI | SAT, 0.04, 0.7),
    sup("COCACOLA", "Coca-Cola FEMSA de Venezuela", (2.0, 1.0), 24, TUE | THU | SAT, 0.04, 0.7),
    sup("CARGILL", "Cargill de Venezuela", (5.0, 2.0), 24, TUE | THU, 0.05, 0.8),
    sup("NESTLE", "Nestlé Venezuela", (7.0, 2.5), 12, MON, 0.05, 0.9),
    sup("PG", "Procter & Gamble de Venezuela", (10.0, 4.0), 12, WED, 0.08, 1.4),
    sup("COLGATE", "Colgate-Palmolive", (8.0, 3.0), 12, TUE, 0.06, 1.0),
    sup("KIMBERLY", "Kimberly-Clark Venezuela", (9.0, 3.0), 12, THU, 0.07, 1.3),
    sup("MAVESA", "Mavesa", (4.0, 1.5), 12, MON | THU, 0.04, 0.8),
    sup("PARMALAT", "Parmalat Venezuela", (2.0, 1.0), 12, MON | WED | FRI, 0.05, 1.0),
    sup("LOSANDES", "Lácteos Los Andes", (2.0, 0.7), 12, MON | WED | FRI, 0.04, 0.9),
    sup("PLUMROSE", "Plumrose Latinoamericana", (3.0, 1.0), 5, TUE | FRI, 0.04, 0.8),
    sup("FAMA", "Café Fama de América", (5.0, 2.0), 12, MON, 0.04, 0.8),
    sup("MADRID", "Café Madrid", (4.0, 1.0), 12, THU, 0.04, 0.7),
    sup("MONACA", "Molinos Nacionales (Monaca)", (4.0, 1.5), 20, TUE | FRI, 0.05, 1.0),
    sup("MARY", "Alimentos Mary", (4.0, 1.5), 24, WED, 0.04, 0.8),
    sup("CAPRI", "Pastas Capri", (4.0, 1.0), 24, MON | THU, 0.03, 0.6),
    sup("SINDONI", "Pastas Sindoni", (5.0, 2.0), 24, WED, 0.04, 0.7),
    sup("DIANA", "Industrias Diana", (6.0, 3.0), 12, TUE, 0.1, 1.5),
    sup("MONTALBAN", "Central Azucarero Montalbán", (6.0, 2.0), 20, MON, 0.06, 1.2),
    sup("HEINZ", "Heinz Venezuela", (6.0, 2.0), 12, WED, 0.05, 0.8),
    sup("MARGARITA", "Conservas Margarita", (6.0, 2.0), 24, TUE, 0.05, 0.8),
    sup("DIAGEO", "Diageo Venezuela", (7.0, 2.0), 6, WED, 0.04, 0.6),
    sup("SANTATERESA", "Ron Santa Teresa", (5.0, 2.0), 6, TUE, 0.04, 0.6),
    sup("BIMBO", "Bimbo de Venezuela", (1.0, 0.3), 6, MON | TUE | WED | THU | FRI | SAT, 0.03, 0.5),
    sup("LAESPECIAL", "Panificadora La Especial", (1.0, 0.0), 10, MON | TUE | WED | THU | FRI | SAT | SUN, 0.02, 0.4),
    sup("SAMANES", "Granja Avícola Los Samanes", (2.0, 0.5), 6, MON | WED | FRI, 0.04, 0.8),
    sup("FRIGO", "Frigorífico Industrial de Occidente", (2.0, 1.0), 10, MON | THU, 0.05, 0.9),
    sup("MERCADITO", "Hortalizas El Mercadito", (1.0, 0.5), 5, MON | TUE | WED | THU | FRI | SAT, 0.04, 0.6),
    sup("PUIG", "Galletas Puig", (5.0, 2.0), 12, TUE, 0.04, 0.7),
    sup("DCV", "Distribuidora Central de Víveres", (3.0, 1.0), 12, MON | WED | FRI, 0.04, 0.8),
];

/// A city with its neighbourhoods and how big a store there is.
#[derive(Debug)]
struct City {
    name: &'static str,
    code: &'static str,
    size: f64,
    neighbourhoods: &'static [&'static str],
}

const fn c(name: &'static str, code: &'static str, size: f64, neighbourhoods: &'static [&'static str]) -> City {
    City { name, code, size, neighbourhoods }
}

const CITIES: &[City] = &[
    c("Caracas", "CCS", 1.5, &["Chacao", "El Cafetal", "La Candelaria", "Los Palos Grandes", "Catia", "El Paraíso"]),
    c("Maracaibo", "MCB", 1.3, &["Bella Vista", "Tierra Negra", "La Limpia"]),
    c("Valencia", "VLN", 1.15, &["Prebo", "Naguanagua", "San Diego"]),
    c("Barquisimeto", "BQM", 1.0, &["Zona Este", "Cabudare", "Centro"]),
    c("Maracay", "MYC", 0.9, &["Las Delicias", "El Limón"]),
    c("Puerto La Cruz", "PLC", 0.8, &["Lechería", "Centro"]),
    c("Mérida", "MRD", 0.65, &["Las Américas", "Centro"]),
    c("San Cristóbal", "SCR", 0.75, &["Barrio Obrero", "Pueblo Nuevo"]),
    c("Ciudad Guayana", "CGU", 0.85, &["Alta Vista", "Unare"]),
    c("Maturín", "MUN", 0.7, &["Juanico", "Centro"]),
    c("Barcelona", "BLA", 0.7, &["Centro"]),
    c("Cumaná", "CUM", 0.6, &["Centro"]),
    c("Barinas", "BNS", 0.6, &["Alto Barinas"]),
    c("Valera", "VLV", 0.55, &["Centro"]),
    c("Coro", "CZE", 0.55, &["Centro"]),
    c("Punto Fijo", "PFJ", 0.55, &["Centro"]),
    c("Los Teques", "LTQ", 0.6, &["El Tambor"]),
    c("Acarigua", "AGV", 0.55, &["Centro"]),
    c("San Felipe", "SFE", 0.5, &["Centro"]),
    c("Porlamar", "PMV", 0.65, &["Centro"]),
    c("El Tigre", "ETG", 0.5, &["Centro"]),
    c("Guanare", "GUQ", 0.5, &["Centro"]),
];

/// A store of the chain and what drives its sales.
#[derive(Debug)]
pub(crate) struct StoreSpec {
    /// The location row.
    pub location: Location,
    /// Multiplies every product's base rate.
    pub size: f64,
    /// Whether the store's till records bolívares (with the day's rate) rather than dollars.
    pub sells_in_ves: bool,
}

/// A supplier and the reliability figures the simulation needs.
#[derive(Debug)]
pub(crate) struct SupplierSpec {
    /// The supplier row.
    pub supplier: Supplier,
    /// Chance that one delivery comes late.
    pub fail: f64,
    /// Outage episodes per year.
    pub outages: f64,
    /// For each weekday (Monday = 0), days until the next day the supplier takes orders (1..=7).
    pub next_order_gap: [usize; 7],
}

/// A product and the parameters of its simulated demand and replenishment.
#[derive(Debug)]
pub(crate) struct ProductSpec {
    /// The product row.
    pub product: Product,
    /// Index into [`Catalog::suppliers`].
    pub supplier: usize,
    /// Calendar profile.
    pub profile: Profile,
    /// December uplift at the height of the season.
    pub festive: f64,
    /// Base units per counting unit: 1 for pieces, 1000 (grams) for kilograms.
    pub scale: i64,
    /// Case size in base units.
    pub pack: i64,
    /// Minimum order in base units.
    pub moq: i64,
    /// Days it keeps.
    pub shelf_life: Option<u32>,
    /// Shelf price in US cents per counting unit.
    pub price_cents: f64,
    /// Mean units (or kg) sold per day at a store of size 1, before calendar effects.
    pub rate: f64,
    /// Gamma shape of the day-to-day noise (smaller = burstier).
    pub shape: f64,
    /// Yearly growth (log) of demand.
    pub trend: f64,
    /// Rank of the product by sales, 0 (slowest) to 1 (fastest).
    pub rank: f64,
}

/// The catalog the simulation runs on.
#[derive(Debug)]
pub(crate) struct Catalog {
    /// The chain's stores.
    pub stores: Vec<StoreSpec>,
    /// The central distribution centre.
    pub warehouse: Location,
    /// Suppliers, in table order.
    pub suppliers: Vec<SupplierSpec>,
    /// Products, in catalog order.
    pub products: Vec<ProductSpec>,
}

/// Slowest and fastest base rates (units per day at a store of size 1). Ranks in between are
/// spread evenly on a log scale, so roughly a third of the catalog sells less than one unit a day
/// at an average store: the intermittent slow movers.
const RATE_MIN: f64 = 0.08;
const RATE_MAX: f64 = 260.0;

/// Weighed goods sell in fewer kilograms than packaged goods sell in pieces.
const KG_RATE_FACTOR: f64 = 0.25;

fn parsed<T, E: std::fmt::Debug>(result: Result<T, E>) -> T {
    result.expect("demo catalog values come from fixed tables and are valid")
}

/// Builds the catalog for `config` (assumed validated).
pub(crate) fn build(config: &DemoConfig) -> Catalog {
    let suppliers = build_suppliers();
    let stores = build_stores(config);
    let warehouse = Location {
        code: parsed(LocationCode::parse("CD-VLN")),
        name: "Centro de Distribución Los Guayos".to_owned(),
        city: "Valencia".to_owned(),
        kind: LocationKind::Warehouse,
    };
    let products = build_products(config, &suppliers);
    Catalog { stores, warehouse, suppliers, products }
}

fn build_suppliers() -> Vec<SupplierSpec> {
    SUPPLIERS
        .iter()
        .map(|d| {
            let order_days = parsed(OrderDays::from_mask(d.order_days));
            let mut next_order_gap = [7; 7];
            for (weekday, gap) in next_order_gap.iter_mut().enumerate() {
                *gap = (1..=7).find(|g| d.order_days & (1 << ((weekday + g) % 7)) != 0).unwrap_or(7);
            }
            SupplierSpec {
                supplier: Supplier {
                    code: parsed(SupplierCode::parse(d.code)),
                    name: d.name.to_owned(),
                    lead_time: parsed(LeadTime::new(d.lead_mean, d.lead_sd)),
                    moq: parsed(Quantity::new(f64::from(d.moq))),
                    order_days,
                },
                fail: d.fail,
                outages: d.outages,
                next_order_gap,
            }
        })
        .collect()
}

fn build_stores(config: &DemoConfig) -> Vec<StoreSpec> {
    (0..config.stores)
        .map(|i| {
            let city = &CITIES[i % CITIES.len()];
            let round = i / CITIES.len();
            let neighbourhood = city.neighbourhoods[round % city.neighbourhoods.len()];
            let mut rng = sub_rng(config.seed, Tag::Store, &[i as u64]);
            // The first store of a city is its flagship; later ones are smaller.
            let size = city.size * if round == 0 { rng.random_range(0.9..1.1) } else { rng.random_range(0.5..0.9) };
            let code = format!("{}-{:02}", city.code, round + 1);
            let name = if round < city.neighbourhoods.len() {
                format!("La Cosecha {neighbourhood}")
            } else {
                format!("La Cosecha {neighbourhood} {}", round + 1)
            };
            StoreSpec {
                location: Location {
                    code: parsed(LocationCode::parse(&code)),
                    name,
                    city: city.name.to_owned(),
                    kind: LocationKind::Store,
                },
                size,
                sells_in_ves: i % 3 == 1,
            }
        })
        .collect()
}

/// One combination of a family's brand, variant and size, in the order the catalog takes them.
#[derive(Debug, Clone, Copy)]
struct Combo {
    family: usize,
    brand: usize,
    variant: usize,
    size: usize,
    score: f64,
}

/// Every combination, interleaved across families: the best of each family, then the second best …
fn interleaved_combos() -> Vec<Combo> {
    let per_family: Vec<Vec<Combo>> = FAMILIES
        .iter()
        .enumerate()
        .map(|(fi, f)| {
            let mut combos = Vec::new();
            for (bi, brand) in f.brands.iter().enumerate() {
                for (vi, variant) in f.variants.iter().enumerate() {
                    for (si, size) in f.sizes.iter().enumerate() {
                        let score = f.popularity * brand.share * variant.share * size.share;
                        combos.push(Combo { family: fi, brand: bi, variant: vi, size: si, score });
                    }
                }
            }
            // Stable sort: ties keep table order, so the result never depends on anything but the tables.
            combos.sort_by(|a, b| b.score.total_cmp(&a.score));
            combos
        })
        .collect();
    let longest = per_family.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest).flat_map(|round| per_family.iter().filter_map(move |combos| combos.get(round).copied())).collect()
}

/// A multipack or special edition of a packaged product, used once the plain combinations run out.
#[derive(Debug, Clone, Copy)]
struct Edition {
    origin: usize,
    multiple: u32,
}

const ORIGINS: [(&str, &str, f64); 3] = [("", "", 1.0), ("importado", "IMP", 1.35), ("edición especial", "ESP", 1.15)];
const MULTIPLES: [u32; 6] = [1, 2, 3, 4, 6, 12];

/// The editions after the plain one, in the order the catalog takes them.
fn editions() -> Vec<Edition> {
    let mut list = Vec::new();
    for origin in 0..ORIGINS.len() {
        for &multiple in &MULTIPLES {
            if origin != 0 || multiple != 1 {
                list.push(Edition { origin, multiple });
            }
        }
    }
    list.sort_by_key(|e| (e.multiple > 3, e.origin, e.multiple));
    list
}

/// The largest catalog the tables can produce (at least the 5000 a config may ask for).
#[cfg(test)]
pub(crate) fn max_products() -> usize {
    let combos = interleaved_combos();
    let packaged = combos.iter().filter(|c| FAMILIES[c.family].unit == Unit::Each).count();
    combos.len() + packaged * editions().len()
}

fn build_products(config: &DemoConfig, suppliers: &[SupplierSpec]) -> Vec<ProductSpec> {
    let combos = interleaved_combos();
    let packaged: Vec<Combo> = combos.iter().copied().filter(|c| FAMILIES[c.family].unit == Unit::Each).collect();
    let editions = editions();
    let wanted = config.products;

    let mut chosen: Vec<(Combo, Option<Edition>)> = combos.iter().map(|c| (*c, None)).take(wanted).collect();
    'fill: for edition in &editions {
        for combo in &packaged {
            if chosen.len() >= wanted {
                break 'fill;
            }
            chosen.push((*combo, Some(*edition)));
        }
    }

    // Rank by (jittered) popularity; the rank decides the base rate.
    let jitter: Vec<f64> = (0..chosen.len())
        .map(|i| {
            let mut rng = sub_rng(config.seed, Tag::Product, &[i as u64]);
            (rng.random_range(-0.35..0.35f64)).exp()
        })
        .collect();
    let score = |i: usize| {
        let (combo, edition) = chosen[i];
        let edition_weight =
            edition.map_or(1.0, |e| 0.12 / f64::from(e.multiple).sqrt() * if e.origin == 0 { 1.0 } else { 0.5 });
        combo.score * edition_weight * jitter[i]
    };
    let mut order: Vec<usize> = (0..chosen.len()).collect();
    order.sort_by(|&a, &b| score(a).total_cmp(&score(b)).then(a.cmp(&b)));
    let mut rank = vec![0.0; chosen.len()];
    let last = (chosen.len().max(2) - 1) as f64;
    for (position, &i) in order.iter().enumerate() {
        rank[i] = position as f64 / last;
    }

    chosen
        .iter()
        .enumerate()
        .map(|(i, &(combo, edition))| product_spec(config, suppliers, i, combo, edition, rank[i]))
        .collect()
}

fn product_spec(
    config: &DemoConfig,
    suppliers: &[SupplierSpec],
    index: usize,
    combo: Combo,
    edition: Option<Edition>,
    rank: f64,
) -> ProductSpec {
    let family = &FAMILIES[combo.family];
    let brand = &family.brands[combo.brand];
    let variant = &family.variants[combo.variant];
    let size = &family.sizes[combo.size];
    let mut rng = sub_rng(config.seed, Tag::Price, &[index as u64]);

    let supplier = suppliers.iter().position(|s| s.supplier.code.as_str() == brand.supplier).unwrap_or(0);

    let mut name = family.pattern.replace("{b}", brand.name).replace("{v}", variant.name).replace("{s}", size.label);
    let mut code_parts: Vec<&str> =
        [family.code, brand.code, variant.code, size.code].into_iter().filter(|p| !p.is_empty()).collect();
    let edition_code;
    let (multiple, origin_price) = match edition {
        None => (1, 1.0),
        Some(e) => {
            let (origin_name, origin_code, origin_price) = ORIGINS[e.origin];
            if !origin_name.is_empty() {
                name.push(' ');
                name.push_str(origin_name);
            }
            if e.multiple > 1 {
                name.push_str(&format!(" pack x{}", e.multiple));
            }
            edition_code =
                if e.multiple > 1 { format!("{origin_code}X{}", e.multiple) } else { origin_code.to_owned() };
            code_parts.push(&edition_code);
            (e.multiple, origin_price)
        }
    };
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let code = code_parts.join("-");

    let multipack_discount = if multiple > 1 { 0.96 } else { 1.0 };
    let price = family.price
        * size.factor
        * brand.price
        * origin_price
        * f64::from(multiple)
        * multipack_discount
        * rng.random_range(0.95..1.05);
    let price_cents = (price * 100.0).round().max(1.0);
    let margin = rng.random_range(family.margin.0..=family.margin.1);
    let cost_cents = (price_cents * (1.0 - margin)).round();

    let weighed = family.unit == Unit::Kilogram;
    let company = 1001 + supplier;
    let barcode = if weighed {
        // Weighed goods carry an in-store code (PLU) rather than a GTIN.
        Barcode::parse(&format!("2{:04}", index % 10_000))
    } else {
        Barcode::gtin_from_body(&format!("759{company:04}{:05}", index % 100_000))
    };

    let pack = (size.pack / multiple).max(1);
    let scale = if weighed { 1000 } else { 1 };
    let shelf_life = (family.shelf_life > 0).then_some(family.shelf_life);
    let moq_units = suppliers[supplier].supplier.moq.get().round() as i64;

    let product = parsed(Product::new(ProductFields {
        code: parsed(ProductCode::parse(&code)),
        barcodes: vec![parsed(barcode)],
        name,
        brand: brand.name.to_owned(),
        category: family.category.to_owned(),
        unit: family.unit,
        pack_size: pack,
        shelf_life_days: shelf_life,
        cost: Money::usd_cents(cost_cents as i64),
        price: Money::usd_cents(price_cents as i64),
        supplier: Some(suppliers[supplier].supplier.code.clone()),
    }));

    let mut rate = RATE_MIN * (RATE_MAX / RATE_MIN).powf(rank);
    if weighed {
        rate *= KG_RATE_FACTOR;
    }
    ProductSpec {
        product,
        supplier,
        profile: family.profile,
        festive: family.festive,
        scale,
        pack: i64::from(pack) * scale,
        // The supplier's minimum per line, but never less than a case nor more than four.
        moq: (moq_units * scale).min(i64::from(pack) * scale * 4).max(i64::from(pack) * scale),
        shelf_life,
        price_cents,
        rate,
        shape: 1.2 + 10.0 * rank + rng.random_range(0.0..2.0),
        trend: rng.random_range(-0.10..0.18),
        rank,
    }
}
