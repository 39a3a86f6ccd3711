use super::*;
use fluxion_domain::{Resolved, Turn};

fn catalog() -> Catalog {
    Catalog::new(
        [
            ("HAR-PAN-BLA-1KG", "Harina de maíz precocida P.A.N. blanca 1 kg", "P.A.N."),
            ("HAR-PAN-AMA-1KG", "Harina de maíz precocida P.A.N. amarilla 1 kg", "P.A.N."),
            ("HAT-RHO-TUS-1KG", "Harina de trigo Robin Hood todo uso 1 kg", "Robin Hood"),
            ("PAN-LES-CAN-UN", "Pan canilla La Especial", "La Especial"),
            ("ARR-MAR-TI1-1KG", "Arroz Mary tipo I 1 kg", "Mary"),
            ("ACE-DIA-1L", "Aceite vegetal Diana 1 L", "Diana"),
            ("MAY-MAV-445G", "Mayonesa Mavesa 445 g", "Mavesa"),
            ("MGR-MAV-500G", "Margarina Mavesa 500 g", "Mavesa"),
            ("GRA-LCO-CNE-500G", "Caraotas negras La Cosecha 500 g", "La Cosecha"),
            ("AZU-MON-REF-1KG", "Azúcar refinada Montalbán 1 kg", "Montalbán"),
        ],
        [
            ("CCS-01", "La Cosecha Chacao", "Caracas"),
            ("MCB-01", "La Cosecha Bella Vista", "Maracaibo"),
            ("VLN-01", "La Cosecha Prebo", "Valencia"),
            ("PLC-01", "La Cosecha Lechería", "Puerto La Cruz"),
        ],
    )
}

fn codes(found: &[Found]) -> Vec<&str> {
    found.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn the_seed_question_is_a_need_for_the_quincena() {
    let u = catalog().understand("¿Cuánta harina PAN necesito para la quincena?");
    assert_eq!(u.intent, Intent::Need);
    assert_eq!(u.horizon_days, 15);
    assert_eq!(u.horizon_es.as_deref(), Some("la quincena"));
    assert_eq!(codes(&u.products), ["HAR-PAN-BLA-1KG", "HAR-PAN-AMA-1KG"]);
    assert!(u.stores.is_empty());
}

#[test]
fn product_names_are_found_however_they_are_written() {
    let c = catalog();
    for q in ["harina pan", "Harina P.A.N.", "harna pan", "HARINA PAN", "la harina pan blanca"] {
        let u = c.understand(&format!("¿cuánta {q} necesito?"));
        assert!(codes(&u.products).contains(&"HAR-PAN-BLA-1KG"), "{q}: {:?}", u.products);
        assert!(!codes(&u.products).contains(&"PAN-LES-CAN-UN"), "{q}: {:?}", u.products);
    }
    let u = c.understand("¿cuánta harina pan blanca necesito?");
    assert_eq!(codes(&u.products), ["HAR-PAN-BLA-1KG"]);
    assert_eq!(codes(&c.understand("¿cuánto aceite diana pido?").products), ["ACE-DIA-1L"]);
    assert_eq!(codes(&c.understand("mayonesa mavesa").products), ["MAY-MAV-445G"]);
    assert_eq!(codes(&c.understand("cuanta mayonsea necesito").products), ["MAY-MAV-445G"]);
    assert_eq!(codes(&c.understand("¿y el azucar?").products), ["AZU-MON-REF-1KG"]);
    assert_eq!(codes(&c.understand("pan canilla para mañana").products), ["PAN-LES-CAN-UN"]);
}

#[test]
fn stores_are_found_by_name_or_city_and_their_words_do_not_name_products() {
    let c = catalog();
    let u = c.understand("¿Qué se me va a agotar en La Cosecha Chacao?");
    assert_eq!(u.intent, Intent::RunningOut);
    assert_eq!(codes(&u.stores), ["CCS-01"]);
    assert!(u.products.is_empty(), "{:?}", u.products);
    let u = c.understand("¿cuánto arroz necesito en Valencia para la semana?");
    assert_eq!((u.intent, u.horizon_days), (Intent::Need, 7));
    assert_eq!(codes(&u.stores), ["VLN-01"]);
    assert_eq!(codes(&u.products), ["ARR-MAR-TI1-1KG"]);
    assert_eq!(codes(&c.understand("arroz en maracaibo").stores), ["MCB-01"]);
    assert_eq!(codes(&c.understand("arroz en maracai").stores), ["MCB-01"], "most of the word");
    assert_eq!(codes(&c.understand("arroz en bella vista").stores), ["MCB-01"]);
    // A product word that starts a store's name does not name the store.
    assert!(c.understand("¿cuánta leche los andes pido?").stores.is_empty());
    assert_eq!(codes(&c.understand("arroz en lecheria").stores), ["PLC-01"]);
}

#[test]
fn every_common_question_has_its_intent() {
    let c = catalog();
    let cases = [
        ("¿Qué tengo de más en Chacao?", Intent::Overstock),
        ("¿Qué productos tienen exceso de inventario?", Intent::Overstock),
        ("¿Qué debo transferir entre tiendas?", Intent::Transfers),
        ("¿Qué puedo mover de Valencia a Chacao?", Intent::Transfers),
        ("¿Cómo se vendió el arroz la semana pasada?", Intent::Sales),
        ("ventas de aceite diana", Intent::Sales),
        ("¿Qué se va a agotar esta semana?", Intent::RunningOut),
        ("¿Qué me falta?", Intent::RunningOut),
        ("¿Cuánto aceite pido?", Intent::Need),
        ("aceite diana", Intent::Need),
        ("Sí", Intent::Confirm { yes: true }),
        ("dale", Intent::Confirm { yes: true }),
        ("sí, hazlo", Intent::Confirm { yes: true }),
        ("No", Intent::Confirm { yes: false }),
        ("no gracias", Intent::Confirm { yes: false }),
        ("hola", Intent::Help),
        ("", Intent::Help),
    ];
    for (q, intent) in cases {
        assert_eq!(c.understand(q).intent, intent, "{q}");
    }
}

#[test]
fn horizons_in_words_and_numbers() {
    let c = catalog();
    for (q, days) in [
        ("arroz para la quincena", 15),
        ("arroz para dos quincenas", 30),
        ("arroz para la semana", 7),
        ("arroz para 2 semanas", 14),
        ("arroz para el mes", 30),
        ("arroz para 10 días", 10),
        ("arroz para mañana", 1),
        ("arroz para mañana en valencia", 1),
        ("arroz para la tarde, no en la mañana", 7),
        ("arroz", 7),
        // Past what the forecasts reach: cut, and not named.
        ("arroz para dos meses", MAX_HORIZON_DAYS),
        ("arroz para 4 quincenas", MAX_HORIZON_DAYS),
    ] {
        assert_eq!(c.understand(q).horizon_days, days, "{q}");
    }
    assert_eq!(c.understand("arroz para dos meses").horizon_es, None);
    // Dates count from the tenant's evening: Friday 27 November 2026.
    let mut c = catalog();
    c.set_today(chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default());
    let u = c.understand("¿cuánto arroz necesito para el fin de semana?");
    assert_eq!((u.horizon_days, u.horizon_es.as_deref()), (2, Some("el fin de semana")));
    let u = c.understand("¿cuánto arroz necesito para diciembre?");
    assert_eq!((u.horizon_days, u.horizon_es.as_deref()), (34, Some("diciembre")), "28/11 through 31/12");
    assert_eq!(c.understand("arroz para noviembre").horizon_days, 3, "the rest of this month");
    let u = c.understand("¿cuánta harina necesito para llegar a fin de mes?");
    assert_eq!((u.horizon_days, u.horizon_es.as_deref()), (3, Some("fin de mes")), "28/11 through 30/11");
    assert!(u.unmatched.is_empty(), "nothing of «llegar a fin» is a product: {:?}", u.unmatched);
    assert_eq!(c.understand("arroz para enero").horizon_days, MAX_HORIZON_DAYS, "past the forecasts");
    let u = c.understand("¿cuánta mayo kraft necesito?");
    assert_eq!(u.horizon_days, 7, "mayo alone is mayonnaise, not May");
}

#[test]
fn an_unknown_product_is_reported_not_guessed() {
    let u = catalog().understand("¿cuánto whisky necesito?");
    assert!(u.products.is_empty(), "{:?}", u.products);
    assert_eq!(u.unmatched, ["whisky"]);
}

proptest::proptest! {
    #[test]
    fn any_text_is_understood_without_panicking(q in "\\PC{0,80}") {
        let u = catalog().understand(&q);
        proptest::prop_assert!(u.horizon_days >= 1 && u.horizon_days <= 120);
    }
}

fn turn(c: &Catalog, q: &str) -> Turn {
    let u = c.understand(q);
    let resolved = |f: &[Found]| {
        f.iter()
            .map(|f| Resolved {
                mention: f.mention.clone(),
                code: f.code.clone(),
                name: f.name.clone(),
                score: f.score,
            })
            .collect()
    };
    Turn {
        question: q.into(),
        intent: u.intent,
        products: resolved(&u.products),
        stores: resolved(&u.stores),
        horizon_days: u.horizon_days,
        horizon_es: u.horizon_es,
        budget_usd: u.budget_usd,
        coming: u.coming,
        coming_from_supplier: u.coming_from_supplier,
        senders: u.senders,
        at: chrono::Utc::now(),
    }
}

#[test]
fn follow_ups_keep_what_they_do_not_change() {
    let c = catalog();
    let first = turn(&c, "¿Cuánta harina PAN blanca necesito para la quincena en Chacao?");
    // Another store.
    let u = c.understand_after("¿y en Valencia?", Some(&first));
    assert!(u.follow_up);
    assert_eq!((u.intent, u.horizon_days), (Intent::Need, 15));
    assert_eq!(codes(&u.products), ["HAR-PAN-BLA-1KG"]);
    assert_eq!(codes(&u.stores), ["VLN-01"]);
    // Another horizon.
    let u = c.understand_after("¿y para la semana?", Some(&first));
    assert_eq!((u.intent, u.horizon_days), (Intent::Need, 7));
    assert_eq!(codes(&u.products), ["HAR-PAN-BLA-1KG"]);
    assert_eq!(codes(&u.stores), ["CCS-01"]);
    // Another product, same store and horizon.
    let u = c.understand_after("¿y el aceite diana?", Some(&first));
    assert_eq!(codes(&u.products), ["ACE-DIA-1L"]);
    assert_eq!((codes(&u.stores), u.horizon_days), (vec!["CCS-01"], 15));
    // The same store, another question: the intent asked now wins.
    let out = turn(&c, "¿Qué se me va a agotar en Chacao?");
    let u = c.understand_after("¿y en Maracaibo?", Some(&out));
    assert_eq!((u.intent, codes(&u.stores)), (Intent::RunningOut, vec!["MCB-01"]));
    assert!(u.products.is_empty());
    // A whole new question is not a follow-up.
    let u = c.understand_after("¿Cuánto arroz necesito?", Some(&first));
    assert!(!u.follow_up && u.stores.is_empty() && u.horizon_days == 7);
    assert_eq!(codes(&u.products), ["ARR-MAR-TI1-1KG"]);
    // Yes/no and greetings stand on their own.
    assert_eq!(c.understand_after("sí", Some(&first)).intent, Intent::Confirm { yes: true });
    assert!(!c.understand_after("hola", Some(&first)).follow_up);
    // Without a previous turn nothing is inherited.
    let u = c.understand_after("¿y en Valencia?", None);
    assert!(!u.follow_up && u.products.is_empty());
}

#[test]
fn equally_good_matches_go_to_the_clear_best_seller() {
    let mut c = catalog();
    c.set_popularity([("HAR-PAN-BLA-1KG", 2_300.0), ("HAR-PAN-AMA-1KG", 970.0), ("NO-EXISTE", 5.0)]);
    let u = c.understand("¿Cuánta harina PAN necesito para la quincena?");
    assert_eq!(codes(&u.products), ["HAR-PAN-BLA-1KG"]);
    assert_eq!(codes(&u.alternatives), ["HAR-PAN-AMA-1KG"]);
    // Named precisely, the other one is taken.
    let u = c.understand("¿Cuánta harina PAN amarilla necesito?");
    assert_eq!(codes(&u.products), ["HAR-PAN-AMA-1KG"]);
    assert!(u.alternatives.is_empty());
    // A toss-up keeps both, the best seller first.
    c.set_popularity([("HAR-PAN-AMA-1KG", 2_000.0)]);
    let u = c.understand("harina pan");
    assert_eq!(codes(&u.products), ["HAR-PAN-BLA-1KG", "HAR-PAN-AMA-1KG"]);
    assert!(u.alternatives.is_empty());
}

#[test]
fn a_toss_up_is_asked_about_and_the_reply_picks_one() {
    let c = catalog();
    let first = turn(&c, "¿Cuánta harina PAN necesito para la quincena en Chacao?");
    assert_eq!(first.products.len(), 2, "a toss-up without sales figures");
    assert!(c.understand("¿Cuánta harina PAN necesito para la quincena?").ambiguous());
    for reply in ["la amarilla", "amarilla", "la amarilla por favor", "¿y la amarilla?"] {
        let u = c.understand_after(reply, Some(&first));
        assert_eq!(codes(&u.products), ["HAR-PAN-AMA-1KG"], "{reply}");
        assert_eq!((u.intent, u.horizon_days), (Intent::Need, 15), "{reply}");
        assert_eq!(codes(&u.stores), ["CCS-01"], "{reply}");
        assert!(!u.ambiguous());
    }
    // A reply that names none of them is a new question.
    let u = c.understand_after("¿y el arroz?", Some(&first));
    assert_eq!(codes(&u.products), ["ARR-MAR-TI1-1KG"]);
}

#[test]
fn time_words_are_not_product_words_and_a_day_is_asked_for() {
    let c = catalog();
    let u = c.understand("¿Cuánto vendí ayer en Chacao?");
    assert_eq!(u.intent, Intent::Sales);
    assert!(u.products.is_empty() && u.unmatched.is_empty(), "{:?} {:?}", u.products, u.unmatched);
    assert_eq!(codes(&u.stores), ["CCS-01"]);
    assert!(u.one_day);
    let u = c.understand("¿cuánto se ha vendido hoy de harina pan blanca?");
    assert_eq!((u.intent, codes(&u.products)), (Intent::Sales, vec!["HAR-PAN-BLA-1KG"]));
    assert!(u.one_day);
    let u = c.understand("¿Cómo se vendió el arroz la semana pasada?");
    assert_eq!(codes(&u.products), ["ARR-MAR-TI1-1KG"]);
    assert!(!u.one_day && u.unmatched.is_empty());
    // Only a question about sales asks for a day.
    assert!(!c.understand("¿cuánta harina pan blanca necesito hoy?").one_day);
}

#[test]
fn ties_go_to_what_the_product_is_then_to_the_name_without_unsaid_words() {
    let mut c = Catalog::new(
        [
            ("HAR-PAN-BLA-1KG", "Harina de maíz precocida P.A.N. blanca 1 kg", "P.A.N."),
            ("HAT-JUA-TUS-1KG", "Harina de trigo Juana todo uso 1 kg", "Juana"),
            ("DES-SPS-UN", "Desodorante Speed Stick", "Speed Stick"),
            ("DES-LSS-UN", "Desodorante Lady Speed Stick", "Lady Speed Stick"),
            ("ACE-DIA-1L", "Aceite vegetal Diana 1 L", "Diana"),
            ("ACE-MAZ-1L", "Aceite vegetal Mazeite 1 L", "Mazeite"),
            ("SAR-MAR-ACE-170G", "Sardinas Margarita en aceite 170 g", "Margarita"),
        ],
        [("CCS-01", "La Cosecha Chacao", "Caracas")],
    );
    c.set_popularity([("HAR-PAN-BLA-1KG", 2_600.0), ("HAT-JUA-TUS-1KG", 420.0), ("DES-LSS-UN", 900.0)]);
    // "Harina" names both flours equally, whatever the length of their names: the best seller.
    let u = c.understand("¿cuánto se vendió de harina ayer?");
    assert_eq!(codes(&u.products), ["HAR-PAN-BLA-1KG"]);
    assert_eq!(codes(&u.alternatives), ["HAT-JUA-TUS-1KG"]);
    // "Speed stick" is the name Lady Speed Stick adds "lady" to, even though Lady sells more.
    assert_eq!(codes(&c.understand("desodorante speed stick").products), ["DES-SPS-UN"]);
    assert_eq!(codes(&c.understand("lady speed stick").products), ["DES-LSS-UN"]);
    // "Aceite" is what the oils are; the sardines only come in it.
    assert_eq!(codes(&c.understand("¿cuánto aceite necesito?").products), ["ACE-DIA-1L", "ACE-MAZ-1L"]);
    assert_eq!(codes(&c.understand("sardinas en aceite").products), ["SAR-MAR-ACE-170G"]);
}

#[test]
fn questions_about_the_shelf_and_what_is_coming_are_about_stock() {
    let c = catalog();
    for (q, products, stores) in [
        ("¿Cuánta harina pan blanca me queda?", vec!["HAR-PAN-BLA-1KG"], vec![]),
        ("¿hay aceite diana en Valencia?", vec!["ACE-DIA-1L"], vec!["VLN-01"]),
        ("¿dónde hay arroz mary?", vec!["ARR-MAR-TI1-1KG"], vec![]),
        ("¿cuánto azúcar tengo en Chacao?", vec!["AZU-MON-REF-1KG"], vec!["CCS-01"]),
        ("existencias de margarina mavesa", vec!["MGR-MAV-500G"], vec![]),
        ("¿cuándo llega el pedido de caraotas?", vec!["GRA-LCO-CNE-500G"], vec![]),
        ("¿cómo estoy de inventario en Bella Vista?", vec![], vec!["MCB-01"]),
        ("¿qué me llega esta semana?", vec![], vec![]),
    ] {
        let u = c.understand(q);
        assert_eq!(u.intent, Intent::Stock, "{q}");
        assert_eq!(codes(&u.products), products, "{q}");
        assert_eq!(codes(&u.stores), stores, "{q}");
        assert!(u.unmatched.is_empty(), "{q}: {:?}", u.unmatched);
    }
    // Asking what to order, or what will run out, is not a stock question even with its words.
    for (q, intent) in [
        ("¿Cuánto aceite tengo que pedir?", Intent::Need),
        ("¿cuánta harina necesito si me quedan 20?", Intent::Need),
        ("¿hay algo que se vaya a agotar en Chacao?", Intent::RunningOut),
        ("¿Qué tengo de más en Chacao?", Intent::Overstock),
        ("¿qué productos tienen exceso de inventario?", Intent::Overstock),
    ] {
        assert_eq!(c.understand(q).intent, intent, "{q}");
    }
}

#[test]
fn questions_about_what_is_coming_ask_for_the_deliveries() {
    let c = catalog();
    for (q, coming, horizon, stores) in [
        ("¿qué me llega mañana?", Some(Coming::Due), 1, vec![]),
        ("¿qué me llega hoy en Chacao?", Some(Coming::Due), 1, vec!["CCS-01"]),
        ("¿Qué me llega mañana a Chacao?", Some(Coming::Due), 1, vec!["CCS-01"]),
        ("¿qué pedidos vienen esta semana en Prebo?", Some(Coming::Due), 7, vec!["VLN-01"]),
        ("¿qué voy a recibir la semana que viene?", Some(Coming::Due), 7, vec![]),
        ("¿qué tengo en camino en Bella Vista?", Some(Coming::Due), 7, vec!["MCB-01"]),
        ("¿qué pedidos están atrasados?", Some(Coming::Late), 7, vec![]),
        ("¿Qué proveedores están retrasados en Lechería?", Some(Coming::Late), 7, vec!["PLC-01"]),
        ("¿qué pedidos no han llegado?", Some(Coming::Late), 7, vec![]),
        ("pedidos pendientes", Some(Coming::Due), 7, vec![]),
        // The stores' stock, not what is coming.
        ("¿cómo estoy de inventario en Bella Vista?", None, 7, vec!["MCB-01"]),
        ("¿me alcanza el inventario para llegar a fin de mes?", None, 30, vec![]),
        ("¿qué tengo la semana que viene en Chacao?", None, 7, vec!["CCS-01"]),
    ] {
        let u = c.understand(q);
        assert_eq!(u.intent, Intent::Stock, "{q}");
        assert_eq!(u.coming, coming, "{q}");
        assert_eq!(u.horizon_days, horizon, "{q}");
        assert_eq!(codes(&u.stores), stores, "{q}");
        assert!(u.products.is_empty() && u.unmatched.is_empty(), "{q}: {:?} {:?}", u.products, u.unmatched);
    }
    // A product's arrivals stay the product's answer; ordering stays a need.
    let u = c.understand("¿cuándo llega el pedido de caraotas?");
    assert_eq!(codes(&u.products), vec!["GRA-LCO-CNE-500G"]);
    assert_eq!(c.understand("¿qué pedidos tengo que hacer mañana?").intent, Intent::Need);
    // "¿y en Valencia?" after what is coming: what is coming there.
    let first = turn(&c, "¿qué me llega mañana a Chacao?");
    let u = c.understand_after("¿y en Prebo?", Some(&first));
    assert_eq!((u.intent, u.coming, u.horizon_days), (Intent::Stock, Some(Coming::Due), 1));
    assert_eq!(codes(&u.stores), vec!["VLN-01"]);
    let first = turn(&c, "¿qué pedidos están atrasados en Chacao?");
    let u = c.understand_after("¿y en Lechería?", Some(&first));
    assert_eq!((u.intent, u.coming), (Intent::Stock, Some(Coming::Late)));
    // A follow-up that says what it asks keeps its own.
    let u = c.understand_after("¿y los que vienen esta semana?", Some(&first));
    assert_eq!((u.intent, u.coming), (Intent::Stock, Some(Coming::Due)));
    let u = c.understand_after("¿y cómo estoy de inventario en Prebo?", Some(&first));
    assert_eq!((u.intent, u.coming), (Intent::Stock, None));
    let u = c.understand_after("¿y con 2.000 dólares?", Some(&first));
    assert_eq!((u.intent, u.coming, u.budget_usd), (Intent::Need, None, Some(2000.0)));
    // Only transfers, or only purchase orders, and a follow-up keeps which.
    for (q, from_supplier) in [
        ("¿qué transferencias me llegan mañana?", Some(false)),
        ("¿llegó el traslado a Chacao?", Some(false)),
        ("¿qué proveedores están atrasados?", Some(true)),
        ("¿qué órdenes de compra vienen esta semana?", Some(true)),
        ("¿qué me llega mañana?", None),
    ] {
        let u = c.understand(q);
        assert_eq!((u.intent, u.coming.is_some(), u.coming_from_supplier), (Intent::Stock, true, from_supplier), "{q}");
    }
    let first = turn(&c, "¿qué transferencias me llegan mañana?");
    let u = c.understand_after("¿y en Prebo?", Some(&first));
    assert_eq!((u.coming, u.coming_from_supplier), (Some(Coming::Due), Some(false)));
    let u = c.understand_after("¿y las atrasadas?", Some(&first));
    assert_eq!((u.coming, u.coming_from_supplier), (Some(Coming::Late), Some(false)), "the kind stays");
    // A follow-up that names only another kind asks the same about it.
    for (q, from_supplier) in
        [("¿y los pedidos?", Some(true)), ("¿y las entregas?", None), ("¿y los proveedores?", Some(true))]
    {
        let u = c.understand_after(q, Some(&first));
        assert_eq!(
            (u.intent, u.coming, u.coming_from_supplier, u.horizon_days),
            (Intent::Stock, Some(Coming::Due), from_supplier, 1),
            "{q}"
        );
    }
    let late = turn(&c, "¿qué pedidos están atrasados en Chacao?");
    let u = c.understand_after("¿y las transferencias?", Some(&late));
    assert_eq!((u.intent, u.coming, u.coming_from_supplier), (Intent::Stock, Some(Coming::Late), Some(false)));
    assert_eq!(codes(&u.stores), vec!["CCS-01"]);
    let u = c.understand_after("¿y las transferencias en Prebo?", Some(&late));
    assert_eq!((u.intent, u.coming, codes(&u.stores)), (Intent::Stock, Some(Coming::Late), vec!["VLN-01"]));
    // Without a question about what is coming before, transfers are the ones to suggest.
    let need = turn(&c, "¿cuánta harina pan blanca necesito en Chacao?");
    assert_eq!(c.understand_after("¿y las transferencias?", Some(&need)).intent, Intent::Transfers);
}

#[test]
fn a_sender_is_named_by_all_the_words_asked_and_never_by_what_a_product_is() {
    let c = catalog();
    let names = [
        "Cervecería Polar",
        "Alimentos Polar",
        "Pepsi-Cola Venezuela",
        "Alimentos Polar",
        "Harinera del Centro",
        "Arrocera Mary",
        "Aceites Diana",
    ];
    assert_eq!(c.senders_named("polar", names), ["Cervecería Polar", "Alimentos Polar"]);
    assert_eq!(c.senders_named("alimentos polar", names), ["Alimentos Polar"]);
    assert_eq!(c.senders_named("pepsi", names), ["Pepsi-Cola Venezuela"]);
    assert!(c.senders_named("pepsy", names).is_empty(), "word for word: a typo names no sender");
    // What a product is names the product: "aceite" is the oils, "arroz" the rice.
    assert!(c.senders_named("aceite", ["Aceite Diana"]).is_empty());
    assert!(c.senders_named("arroz mary", names).is_empty());
    assert!(c.senders_named("harina pan", names).is_empty());
    assert!(c.senders_named("", names).is_empty());
}

#[test]
fn arrivals_are_read_however_they_are_asked_and_other_questions_stay_theirs() {
    let mut c = catalog();
    // Friday 27 November 2026.
    c.set_today(chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default());
    for (q, coming, horizon) in [
        ("¿qué transferencias me llegan mañana?", Some(Coming::Due), 1),
        ("¿qué transferencias están atrasadas?", Some(Coming::Late), 7),
        ("¿qué me falta por llegar?", Some(Coming::Due), 7),
        ("¿qué tengo que recibir esta semana?", Some(Coming::Due), 7),
        ("¿qué recibo mañana?", Some(Coming::Due), 1),
        ("¿ya llegó el pedido?", Some(Coming::Due), 7),
        ("¿qué viene pasado mañana?", Some(Coming::Due), 2),
        ("¿qué me llega el martes?", Some(Coming::Due), 4),
        ("¿qué me llega el viernes?", Some(Coming::Due), 7),
        ("¿qué me trae el proveedor mañana?", Some(Coming::Due), 1),
        ("¿llegó la orden de compra de Chacao?", Some(Coming::Due), 7),
        ("¿qué me trae el camión mañana?", Some(Coming::Due), 1),
        ("¿cómo estoy de inventario para la quincena que viene?", None, 15),
        ("¿cómo viene el inventario en Chacao?", None, 7),
    ] {
        let u = c.understand(q);
        assert_eq!((u.intent, u.coming, u.horizon_days), (Intent::Stock, coming, horizon), "{q}");
        assert!(u.products.is_empty() && u.unmatched.is_empty(), "{q}: {:?} {:?}", u.products, u.unmatched);
    }
    assert_eq!(c.understand("¿qué me llega el martes?").horizon_es.as_deref(), Some("el martes"));
    assert!(c.understand("¿qué me llega el martes?").names_one_day());
    assert!(c.understand("¿qué viene pasado mañana?").names_one_day());
    assert!(!c.understand("¿qué me llega esta semana?").names_one_day());
    assert!(!c.understand("¿qué me llega mañana?").names_one_day(), "one day anyway");
    for (q, intent) in [
        ("¿qué puedes hacer?", Intent::Help),
        ("¿qué producto me trae más ventas en Chacao?", Intent::Sales),
        ("¿qué hago si se me agota la harina?", Intent::RunningOut),
        ("¿qué transferencias debo hacer?", Intent::Transfers),
        ("¿cuánta harina necesito hasta que llega el camión?", Intent::Need),
        ("¿se me acaba el aceite antes de que llegue el pedido?", Intent::RunningOut),
    ] {
        assert_eq!(c.understand(q).intent, intent, "{q}");
    }
}

#[test]
fn money_to_spend_is_read_however_it_is_written() {
    for (q, usd) in [
        ("¿qué pido con 5.000 dólares?", Some(5000.0)),
        ("tengo US$ 2.500,50 para comprar", Some(2500.5)),
        ("¿qué compro con $3000?", Some(3000.0)),
        ("presupuesto de 4 mil dolares", Some(4000.0)),
        ("¿en qué gasto 1,500 USD esta semana?", Some(1500.0)),
        ("presupuesto: 750", Some(750.0)),
        ("con 12.5 dólares", Some(12.5)),
        ("¿cuánta harina necesito para 2 semanas?", None),
        ("aceite diana 1 litro", None),
        ("¿qué pido hoy?", None),
    ] {
        assert_eq!(budget_of(q), usd, "{q}");
    }
    let c = catalog();
    let u = c.understand("¿Qué pido con 5.000 dólares en Chacao?");
    assert_eq!(u.intent, Intent::Need);
    assert!(u.store_orders(), "{u:?}");
    assert_eq!(codes(&u.stores), ["CCS-01"]);
    assert_eq!(u.budget_usd, Some(5000.0));
    // "¿y en Valencia?" asks about the same money there.
    let first = turn(&c, "¿Qué pido con 5.000 dólares en Chacao?");
    let u = c.understand_after("¿y en Valencia?", Some(&first));
    assert!(u.store_orders() && u.budget_usd == Some(5000.0), "{u:?}");
    assert_eq!(codes(&u.stores), ["VLN-01"]);
    let u = c.understand("tengo 3 mil dólares, ¿en qué los invierto?");
    assert!(u.store_orders() && u.budget_usd == Some(3000.0), "{u:?}");
    assert!(c.understand("¿qué debo pedir hoy?").store_orders());
    assert!(c.understand("¿qué compro con 500 dólares en Chacao?").store_orders());
    assert!(!c.understand("¿cuánto aceite pido?").store_orders());
}

proptest::proptest! {
    #[test]
    fn any_question_reads_a_budget_without_panicking(q in "\\PC{0,60}") {
        if let Some(usd) = budget_of(&q) {
            proptest::prop_assert!(usd.is_finite() && usd > 0.0);
        }
    }
}

#[test]
fn the_amount_of_a_budget_names_no_product() {
    let c = catalog();
    for q in ["¿Qué pido esta semana con 2.000 dólares?", "¿qué compro con US$ 1.500,50?", "presupuesto de 3000"] {
        let u = c.understand(q);
        assert!(u.store_orders(), "{q}: {u:?}");
        assert!(u.products.is_empty() && u.unmatched.is_empty(), "{q}: {u:?}");
    }
    let u = c.understand("¿cuánto aceite diana de 1 litro pido con 500 dólares?");
    assert_eq!(codes(&u.products), ["ACE-DIA-1L"]);
}

#[test]
fn a_stock_follow_up_keeps_the_product() {
    let c = catalog();
    let first = turn(&c, "¿cuánto aceite diana me queda en Chacao?");
    assert_eq!(first.intent, Intent::Stock);
    let u = c.understand_after("¿y en Valencia?", Some(&first));
    assert_eq!(u.intent, Intent::Stock);
    assert_eq!(codes(&u.products), ["ACE-DIA-1L"]);
    assert_eq!(codes(&u.stores), ["VLN-01"]);
}

#[test]
fn a_store_takes_only_its_closest_words() {
    let c = Catalog::new(
        [
            ("LEC-LAN-COM-1L", "Leche UHT Los Andes completa 1 L", "Los Andes"),
            ("PER-CER-KG", "Pernil de cerdo por kg", ""),
        ],
        [("PLC-01", "La Cosecha Lechería", "Puerto La Cruz")],
    );
    let u = c.understand("¿hay leche en Lechería?");
    assert_eq!(
        (u.intent, codes(&u.products), codes(&u.stores)),
        (Intent::Stock, vec!["LEC-LAN-COM-1L"], vec!["PLC-01"])
    );
    // "cero" is not a typo of "cerdo": it asks for what is at zero.
    let u = c.understand("¿cuántos productos tengo en cero?");
    assert_eq!((u.intent, u.products.len(), u.unmatched.len()), (Intent::Stock, 0, 0), "{u:?}");
    // Lots about to expire are asked about among what is in excess.
    let u = c.understand("¿qué se me vence esta semana en Lechería?");
    assert_eq!((u.intent, u.expiring, codes(&u.stores)), (Intent::Overstock, true, vec!["PLC-01"]));
    assert!(!c.understand("¿qué tengo de más?").expiring);
}

#[test]
fn need_questions_with_common_words_stay_needs_and_a_horizon_is_not_money() {
    let c = catalog();
    for q in [
        "¿Cuánto aceite diana para la semana que viene?",
        "¿cuánta harina pan para llegar a fin de mes?",
        "¿Cuánto arroz mary hay que encargar?",
        "¿cuánto aceite debo encargar si tengo 20?",
    ] {
        assert_eq!(c.understand(q).intent, Intent::Need, "{q}");
    }
    let u = c.understand("¿qué presupuesto necesito para 15 días?");
    assert_eq!((u.budget_usd, u.horizon_days), (None, 15));
    let u = c.understand("¿qué pido para 2 semanas con 2 mil dólares?");
    assert_eq!((u.budget_usd, u.horizon_days, u.horizon_es.as_deref()), (Some(2000.0), 14, Some("2 semanas")));
    assert!(u.store_orders(), "{u:?}");
}
