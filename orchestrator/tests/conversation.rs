//! The conversation suite: Venezuelan-Spanish questions and follow-ups over a demo chain, each with
//! the intent, products, stores and horizon it means; the figures in every answer must be the
//! agents'. Prints the share answered correctly; fails below 95%.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::format::units;
use fluxion_domain::{Answer, Intent, TenantSlug};
use fluxion_memory::{ExactIndex, HashEmbedder, SemanticMemory};
use fluxion_orchestrator::{Runtime, RuntimeConfig, Services};
use std::sync::Arc;

/// One turn: who asks, what, and what it means.
struct Case {
    user: &'static str,
    question: &'static str,
    intent: Intent,
    products: &'static [&'static str],
    stores: &'static [&'static str],
    /// `None`: whatever the default is.
    horizon: Option<u32>,
}

const fn case(
    user: &'static str,
    question: &'static str,
    intent: Intent,
    products: &'static [&'static str],
    stores: &'static [&'static str],
    horizon: Option<u32>,
) -> Case {
    Case { user, question, intent, products, stores, horizon }
}

const NEED: Intent = Intent::Need;
const SALES: Intent = Intent::Sales;
const STOCK: Intent = Intent::Stock;
const OUT: Intent = Intent::RunningOut;
const OVER: Intent = Intent::Overstock;
const MOVE: Intent = Intent::Transfers;
const HELP: Intent = Intent::Help;
const RECALL: Intent = Intent::Recall;
const YES: Intent = Intent::Confirm { yes: true };
const NO: Intent = Intent::Confirm { yes: false };
const CCS: &str = "CCS-01";
const MCB: &str = "MCB-01";
const VLN: &str = "VLN-01";

/// The demo chain's evening is Friday 27 November 2026: "el fin de semana" is 2 days and
/// "diciembre" 34 (28/11 through 31/12).
const CASES: &[Case] = &[
    case("ana", "¿Cuánta harina PAN blanca necesito para la quincena?", NEED, &["HAR-PAN-BLA-1KG"], &[], Some(15)),
    case("ana", "¿y en Chacao?", NEED, &["HAR-PAN-BLA-1KG"], &[CCS], Some(15)),
    case("ana", "¿y para la semana?", NEED, &["HAR-PAN-BLA-1KG"], &[CCS], Some(7)),
    case("ana", "¿y el aceite diana de 1 litro?", NEED, &["ACE-DIA-1L"], &[CCS], Some(7)),
    case("ana", "¿y en Maracaibo?", NEED, &["ACE-DIA-1L"], &[MCB], Some(7)),
    case("ana", "dale", YES, &[], &[], None),
    case(
        "beto",
        "cuanto arroz mary tipo 1 pido pa la quincena en valencia",
        NEED,
        &["ARR-MAR-TI1-1KG"],
        &[VLN],
        Some(15),
    ),
    case("beto", "¿y para el fin de semana?", NEED, &["ARR-MAR-TI1-1KG"], &[VLN], Some(2)),
    case("beto", "¿y para diciembre?", NEED, &["ARR-MAR-TI1-1KG"], &[VLN], Some(34)),
    case("beto", "¿Qué se me va a agotar en Valencia?", OUT, &[], &[VLN], None),
    case("beto", "¿y en Chacao?", OUT, &[], &[CCS], None),
    case("carla", "¿Qué tengo de más en Bella Vista?", OVER, &[], &[MCB], None),
    case("carla", "¿qué productos tienen exceso de inventario?", OVER, &[], &[], None),
    case("carla", "¿Qué debo transferir?", MOVE, &[], &[], None),
    case("carla", "¿qué puedo mover a Prebo?", MOVE, &[], &[VLN], None),
    case("carla", "¿Cómo se vendió el café fama de américa 500g?", SALES, &["CAF-FAM-500G"], &[], None),
    case("carla", "¿y en Caracas?", SALES, &["CAF-FAM-500G"], &[CCS], None),
    case(
        "carla",
        "¿qué pasó con el café fama de américa 500g la semana pasada?",
        RECALL,
        &["CAF-FAM-500G"],
        &[],
        Some(14),
    ),
    case("dani", "harna pan amarilla para 10 dias", NEED, &["HAR-PAN-AMA-1KG"], &[], Some(10)),
    case(
        "dani",
        "cuantas maltin polar lata necesito para el fin de semana en chacao",
        NEED,
        &["MAL-MPO-355ML"],
        &[CCS],
        Some(2),
    ),
    case("dani", "coca cola 2 litros para la semana", NEED, &["REF-COC-2L"], &[], Some(7)),
    case("dani", "¿y la pepsi de 2 litros?", NEED, &["REF-PEP-2L"], &[], Some(7)),
    case(
        "dani",
        "¿cuántos huevos blancos los samanes carton 30 necesito mañana en Valencia?",
        NEED,
        &["HUE-SAM-BLA-C30"],
        &[VLN],
        Some(1),
    ),
    case("eva", "¿Cuánto queso blanco duro necesito para la semana en Chacao?", NEED, &["QUE-DUR-KG"], &[CCS], Some(7)),
    case("eva", "¿y de pollo entero?", NEED, &["POL-SAM-ENT-KG"], &[CCS], Some(7)),
    case("eva", "¿Qué se va a agotar esta semana?", OUT, &[], &[], None),
    case("eva", "ventas de mayonesa mavesa 445", SALES, &["MAY-MAV-445G"], &[], None),
    case("eva", "¿cuánto se vendió ayer de harina pan blanca en chacao?", SALES, &["HAR-PAN-BLA-1KG"], &[CCS], None),
    case("eva", "¿cuánto vendí ayer en chacao?", SALES, &[], &[CCS], None),
    case("eva", "¿cómo van las ventas esta semana?", SALES, &[], &[], None),
    case("eva", "¿cómo va el azucar montalban refinada 1kg en valencia?", SALES, &["AZU-MON-REF-1KG"], &[VLN], None),
    case("fer", "¿cuánta leche los andes completa pido para la quincena?", NEED, &["LEC-LAN-COM-1L"], &[], Some(15)),
    case("fer", "¿y la deslactosada?", NEED, &["LEC-LAN-DSL-1L"], &[], Some(15)),
    case("fer", "¿cuántos pañales pampers talla g necesito para el mes?", NEED, &["PNL-PAM-G"], &[], Some(30)),
    case("fer", "papel higienico rosal 12 rollos en maracaibo", NEED, &["PHI-ROS-12R"], &[MCB], Some(7)),
    case("fer", "¿Qué se me va a acabar en Maracaibo?", OUT, &[], &[MCB], None),
    case("gabi", "hola", HELP, &[], &[], None),
    case(
        "gabi",
        "¿cuánto detergente ariel 1kg necesito en prebo para dos semanas?",
        NEED,
        &["DET-ARI-1KG"],
        &[VLN],
        Some(14),
    ),
    case("gabi", "¿y en Chacao?", NEED, &["DET-ARI-1KG"], &[CCS], Some(14)),
    case("gabi", "¿Cuánta pasta primor espagueti 1 kilo pido?", NEED, &["PAS-PRI-ESP-1KG"], &[], Some(7)),
    case("gabi", "¿y para la quincena?", NEED, &["PAS-PRI-ESP-1KG"], &[], Some(15)),
    case("gabi", "¿Cómo se vendió la cerveza polar pilsen lata?", SALES, &["CRV-PPI-355ML"], &[], None),
    case("hugo", "¿cuanto ron santa teresa añejo 1 litro para diciembre?", NEED, &["RON-STE-ANE-1L"], &[], Some(34)),
    case("hugo", "¿y ponche crema eduardo 1l?", NEED, &["PON-EDU-1L"], &[], Some(34)),
    case("hugo", "¿Qué tengo de más en Chacao?", OVER, &[], &[CCS], None),
    case("hugo", "¿qué debo transferir a Chacao?", MOVE, &[], &[CCS], None),
    case("hugo", "no, gracias", NO, &[], &[], None),
    case("hugo", "¿qué me dijiste del ponche crema?", RECALL, &["PON-EDU-1L"], &[], Some(30)),
    case("juan", "¿cuánta harinita pan necesito para la quincena?", NEED, &["HAR-PAN-BLA-1KG"], &[], Some(15)),
    case("juan", "si, hazlo", YES, &[], &[], None),
    case(
        "ines",
        "¿cuánto café madrid de 500 necesito para la quincena en bella vista?",
        NEED,
        &["CAF-MAD-500G"],
        &[MCB],
        Some(15),
    ),
    case("ines", "y para 3 dias", NEED, &["CAF-MAD-500G"], &[MCB], Some(3)),
    case(
        "ines",
        "¿Cómo se vendió el arroz mary tipo 1 de 1 kg la semana pasada?",
        SALES,
        &["ARR-MAR-TI1-1KG"],
        &[],
        None,
    ),
    case("ines", "¿qué se va a agotar en caracas?", OUT, &[], &[CCS], None),
    case("kike", "¿cuánto aceite diana de 1 litro me queda en Chacao?", STOCK, &["ACE-DIA-1L"], &[CCS], None),
    case("kike", "¿y en Valencia?", STOCK, &["ACE-DIA-1L"], &[VLN], None),
    case("kike", "¿dónde hay harina pan blanca?", STOCK, &["HAR-PAN-BLA-1KG"], &[], None),
    case("kike", "¿cuándo llega el pedido de arroz mary tipo 1?", STOCK, &["ARR-MAR-TI1-1KG"], &[], None),
    case("kike", "¿cómo estoy de inventario en Bella Vista?", STOCK, &[], &[MCB], None),
    case("kike", "¿cuánto inventario tiene la cadena?", STOCK, &[], &[], None),
    case(
        "kike",
        "¿cuánta harina precocida blanca me queda?",
        STOCK,
        &["HAR-PAN-BLA-1KG", "HAR-LCO-BLA-1KG", "HAR-JUA-BLA-1KG"],
        &[],
        None,
    ),
    case("lola", "¿Qué pido hoy en Chacao?", NEED, &[], &[CCS], None),
    case("lola", "¿y en Valencia?", NEED, &[], &[VLN], None),
    case("lola", "¿qué compro esta semana con 2.000 dólares?", NEED, &[], &[], Some(7)),
    case("lola", "¿y en Chacao?", NEED, &[], &[CCS], Some(7)),
    case("memo", "¿Qué me llega mañana a Chacao?", STOCK, &[], &[CCS], Some(1)),
    case("memo", "¿y en Bella Vista?", STOCK, &[], &[MCB], Some(1)),
    case("memo", "¿qué pedidos vienen esta semana?", STOCK, &[], &[], Some(7)),
    case("memo", "¿qué pedidos están atrasados?", STOCK, &[], &[], None),
    case("memo", "¿y los que vienen esta semana?", STOCK, &[], &[], Some(7)),
    case("memo", "¿ya llegó el pedido de Chacao?", STOCK, &[], &[CCS], None),
    case("memo", "¿qué transferencias me llegan esta semana?", STOCK, &[], &[], Some(7)),
    case("memo", "¿cuándo llega el pedido de Polar?", STOCK, &[], &[], None),
    case("memo", "¿y los atrasados?", STOCK, &[], &[], None),
    case("nora", "¿Qué me llega el martes?", STOCK, &[], &[], Some(4)),
];

fn grounded(a: &Answer) -> Result<(), String> {
    match a.intent {
        // "¿Qué pido hoy?": the stores' orders, within the budget when one is named.
        Intent::Need if a.products.is_empty() => {
            let Some(list) = &a.orders else { return Err("no order list".into()) };
            if list.lines.iter().any(|l| !a.stores.is_empty() && !a.stores.iter().any(|s| s.code == l.store.as_str())) {
                return Err("an order for a store not asked about".into());
            }
            let budget_asked = a.question.contains("dólares") || a.question == "¿y en Chacao?";
            if budget_asked && list.budget_usd != Some(2000.0) {
                return Err(format!("budget {:?}", list.budget_usd));
            }
            match list.budget_usd {
                Some(budget) => {
                    let (spent, _) = list.totals(true);
                    if spent > budget + 1e-6 || spent <= 0.0 {
                        return Err(format!("US$ {spent} spent of a budget of {budget}"));
                    }
                    let said = format!("US$ {} a costo", fluxion_domain::format::number(spent, 2));
                    if !a.text_es.contains(&said) {
                        return Err(format!("the text does not carry «{said}»"));
                    }
                }
                None => {
                    if !list.lines.iter().any(|l| a.text_es.contains(&l.product_name)) {
                        return Err(format!("the text names none of the {} orders", list.lines.len()));
                    }
                }
            }
        }
        Intent::Need => {
            if a.figures.is_empty() {
                return Err("no figures".into());
            }
            let total: f64 = a.figures.iter().map(|f| f.expected).sum();
            let shown = if a.figures.len() == 1 { a.figures[0].expected } else { total };
            if !a.text_es.contains(&format!("~{}", units(shown))) {
                return Err(format!("the text does not carry the forecast's {}", units(shown)));
            }
        }
        // A store's sales in money, when no product is named.
        Intent::Sales if a.products.is_empty() => {
            let day = a.question.contains("ayer");
            if a.sales.is_empty() || (a.stores.len() == 1 && a.sales.len() != 1) {
                return Err(format!("{} stores' sales", a.sales.len()));
            }
            for s in &a.sales {
                let usd = if day { s.revenue_last_day } else { s.revenue_last_7 };
                let said = format!("{} vendió US$ {}", s.store_name, fluxion_domain::format::number(usd, 2));
                if usd <= 0.0 || s.best_sellers.is_empty() || !a.text_es.contains(&said) {
                    return Err(format!("the text does not carry «{said}» with its best sellers"));
                }
            }
        }
        Intent::Sales => {
            let sold: f64 = a.figures.iter().map(|f| f.sold_last_7).sum();
            if a.figures.is_empty() || !a.text_es.contains(&format!("vendiste {}", units(sold))) {
                return Err(format!("the text does not carry the {} sold", units(sold)));
            }
            // "ayer": the last day with data, by its date, comes first.
            if a.question.contains("ayer") {
                let f = &a.figures[0];
                let day = f.last_day.map(fluxion_domain::format::short_date).unwrap_or_default();
                let said = format!("el {day} (último día con datos) vendiste {}", units(f.sold_last_day));
                if a.figures.len() != 1 || !a.text_es.contains(&said) {
                    return Err(format!("the text does not start with «{said}»"));
                }
            }
        }
        // What is on its way, when no product is named: every delivery of the stores asked about,
        // late or due in the window, each named in the text by its number.
        Intent::Stock if a.products.is_empty() && a.deliveries.is_some() => {
            let Some(d) = &a.deliveries else { return Err("no deliveries".into()) };
            if d.list.iter().any(|x| !a.stores.is_empty() && !a.stores.iter().any(|s| s.code == x.store.as_str())) {
                return Err("a delivery to a store not asked about".into());
            }
            if d.list.iter().any(|x| x.expected_on > d.until || (d.late_only && x.expected_on > d.today)) {
                return Err("a delivery outside the window".into());
            }
            if d.late_only != a.question.contains("atrasad") {
                return Err(format!("late only: {}", d.late_only));
            }
            if a.question.contains("transferencias") && d.list.iter().any(|x| x.from_supplier) {
                return Err("a purchase order among the transfers asked about".into());
            }
            // "el martes": that day's only.
            if a.question.contains("martes")
                && (d.from != Some(d.until)
                    || d.list.iter().any(|x| x.expected_on > d.today && x.expected_on != d.until))
            {
                return Err("a delivery of another day than Tuesday's".into());
            }
            // Polar's deliveries, and a follow-up keeps to them.
            if (a.question.contains("Polar") || a.question == "¿y los atrasados?")
                && (d.senders.is_empty() || d.list.iter().any(|x| !x.from_name.contains("Polar")))
            {
                return Err(format!("the deliveries of {:?}, not only Polar's", d.senders));
            }
            let late = d.late().count();
            let coming = d.coming().count();
            if late + coming == 0 {
                return Err("no delivery at all in the demo".into());
            }
            for x in d.list.iter().filter(|x| x.expected_on <= d.today).take(8) {
                if !a.text_es.contains(&format!(" {})", x.number)) && !a.text_es.contains(&format!(" {}),", x.number)) {
                    return Err(format!("the text does not name the late delivery {}", x.number));
                }
            }
            if !d.late_only && coming > 0 {
                let value: f64 = d.coming().map(|x| x.value_at_cost).sum();
                let said = format!("(US$ {} a costo)", fluxion_domain::format::number(value, 2));
                if !a.text_es.contains(&said) {
                    return Err(format!("the text does not carry «{said}»"));
                }
            }
        }
        // A store's stock in money, when no product is named.
        Intent::Stock if a.products.is_empty() => {
            if a.stock.is_empty() || (a.stores.len() == 1 && a.stock.len() != 1) {
                return Err(format!("{} stores' stock", a.stock.len()));
            }
            for s in &a.stock {
                let said = format!(
                    "{} tiene US$ {} en inventario",
                    s.store_name,
                    fluxion_domain::format::number(s.value_at_cost, 2)
                );
                if s.value_at_cost <= 0.0 || !a.text_es.contains(&said) {
                    return Err(format!("the text does not carry «{said}»"));
                }
            }
        }
        // Several products: a line each, with the chain's units.
        Intent::Stock if a.products.len() > 1 => {
            for p in &a.products {
                let on_hand: f64 =
                    a.figures.iter().filter(|f| f.product.as_str() == p.code).map(|f| f.on_hand.max(0.0)).sum();
                if !a.text_es.contains(&format!("{}: {} ", p.name, units(on_hand))) {
                    return Err(format!("the text does not carry the {} on hand of {}", units(on_hand), p.name));
                }
            }
        }
        // Each store's units on hand, and the first delivery on its way.
        Intent::Stock => {
            if a.figures.is_empty() {
                return Err("no figures".into());
            }
            for f in &a.figures {
                let said = format!("{}: tienes {} ", f.store_name, units(f.on_hand));
                let said_one = format!("{} en {}: tienes {} ", f.product_name, f.store_name, units(f.on_hand));
                if f.on_hand > 0.0 && !a.text_es.contains(&said) && !a.text_es.contains(&said_one) {
                    return Err(format!("the text does not carry «{said}»"));
                }
                if let Some(next) = f.arrivals.iter().find(|x| x.on > f.from - chrono::Days::new(1))
                    && !a.text_es.contains(&format!("{} ", units(next.units)))
                {
                    return Err(format!("the text does not carry the {} on their way", units(next.units)));
                }
            }
        }
        Intent::RunningOut => {
            let n = a.alerts.iter().filter(|x| x.kind == fluxion_domain::AlertKind::ImminentStockout).count();
            if n > 0 && !a.text_es.contains(&format!("se pueden agotar {}", units(n as f64))) {
                return Err(format!("{n} alerts, not in the text"));
            }
        }
        _ => {}
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn venezuelan_spanish_questions_and_follow_ups_are_understood_and_answered_with_the_agents_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let store = fluxion_memory::open_sqlite(dir.path()).await.unwrap();
    let slug = TenantSlug::parse("demo").unwrap();
    store.create_tenant(&slug, "Demo").await.unwrap();
    let tenant = store.scope(&slug).await.unwrap();
    let end = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    for batch in generate(&DemoConfig::new(3, 3, 400, 120, end).unwrap()).unwrap().batches() {
        tenant.apply(&batch).await.unwrap();
    }
    // With the vector memory on: products are resolved through it too, answers are remembered.
    let semantic = SemanticMemory::new(Arc::new(HashEmbedder::default()), Arc::new(ExactIndex::new(384)));
    let services = Services { semantic: Some(semantic), ..Services::in_process() };
    let rt = Runtime::start_with(store.clone(), services, RuntimeConfig::default()).await.unwrap();
    rt.index_catalog(&slug).await.unwrap();
    let mut wrong = Vec::new();
    for c in CASES {
        let a = rt.ask_as(&slug, c.user, c.question, "test").await.unwrap();
        let products: Vec<&str> = a.products.iter().map(|p| p.code.as_str()).collect();
        let stores: Vec<&str> = a.stores.iter().map(|s| s.code.as_str()).collect();
        let mut problems = Vec::new();
        if a.intent != c.intent {
            problems.push(format!("intent {:?}", a.intent));
        }
        if products != c.products {
            problems.push(format!("products {products:?}"));
        }
        if stores != c.stores {
            problems.push(format!("stores {stores:?}"));
        }
        if let Some(h) = c.horizon
            && a.horizon_days != h
        {
            problems.push(format!("horizon {}", a.horizon_days));
        }
        if let Err(e) = grounded(&a) {
            problems.push(e);
        }
        if a.degraded {
            problems.push("degraded".into());
        }
        if !problems.is_empty() {
            wrong.push(format!(
                "{}: {:?} → {}\n    {}",
                c.user,
                c.question,
                problems.join(", "),
                a.text_es.replace('\n', " ")
            ));
        }
    }
    let share = 1.0 - wrong.len() as f64 / CASES.len() as f64;
    println!("conversation suite: {} turns, {:.1}% answered correctly", CASES.len(), 100.0 * share);
    for w in &wrong {
        println!("  wrong: {w}");
    }
    assert!(CASES.len() >= 40);
    assert!(share >= 0.95, "{:.1}% correct:\n{}", 100.0 * share, wrong.join("\n"));
    rt.shutdown().await;
}
