//! The answer's Spanish text, composed from the agents' parts — every number in it comes from
//! them. When a part is missing (an agent failed or ran out of time) the text says so plainly and
//! gives what the others produced.

use super::understand::Understanding;
use fluxion_domain::format::{number, short_date, units};
use fluxion_domain::{
    AgentKind, AgentStatus, Alert, AlertKind, ForecastFigure, Intent, Recommendation, RecommendedAction, StoreSales,
    SuggestedAction,
};

/// What the agents produced for one question (`None` = that agent's part is missing).
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// What the question asks.
    pub understanding: &'a Understanding,
    /// Forecast figures per product × store.
    pub figures: Option<&'a [ForecastFigure]>,
    /// Stores' sales in money (a sales question that names no product).
    pub sales: &'a [StoreSales],
    /// Alerts bearing on the question.
    pub alerts: Option<&'a [Alert]>,
    /// Orders and transfers suggested.
    pub recommendations: Option<&'a [Recommendation]>,
    /// Agents whose part is missing, and why.
    pub faults: &'a [(AgentKind, AgentStatus)],
    /// The tonight the numbers are for.
    pub today: chrono::NaiveDate,
    /// The suggestion the answer puts to the user ("¿Lo apruebo? Responde SI o NO").
    pub offer: Option<&'a Recommendation>,
    /// The pending suggestion this message approved ("sí") or declined ("no").
    pub settled: Option<&'a Recommendation>,
    /// What the memory holds about the question (for [`Intent::Recall`]).
    pub recalled: Option<&'a [fluxion_memory::Recalled]>,
}

/// Items listed at most in one answer.
const LIST: usize = 5;

/// The answer's text.
pub fn compose(p: &Parts<'_>) -> String {
    let u = p.understanding;
    let mut text = match u.intent {
        Intent::Need => need(p),
        Intent::RunningOut => running_out(p),
        Intent::Overstock => overstock(p),
        Intent::Transfers => transfers(p),
        Intent::Sales => sales(p),
        Intent::Confirm { yes } => match (yes, p.settled) {
            (true, Some(r)) => format!(
                "¡Listo! Quedó aprobado{}: {} Queda registrado a tu nombre.",
                suggestion_es(p, r),
                r.explanation_es.trim_end_matches('.').to_owned() + "."
            ),
            (true, None) => "No tengo ninguna sugerencia pendiente de tu confirmación. Pregúntame, por ejemplo, \
                             «¿cuánta harina PAN necesito para la quincena?» y te propongo un pedido."
                .to_owned(),
            (false, Some(r)) => {
                format!("Entendido, descarto{}. Aquí estoy si necesitas algo más.", suggestion_es(p, r))
            }
            (false, None) => "Entendido, no hago nada. Aquí estoy si necesitas algo más.".to_owned(),
        },
        Intent::Recall => recall(p),
        Intent::Help => help(),
    };
    if let Some(r) = p.offer {
        text.push_str(&format!("\n\n¿Apruebo{}? Responde SI o NO.", suggestion_es(p, r)));
    }
    if !p.faults.is_empty() {
        let missing: Vec<String> = p
            .faults
            .iter()
            .map(|(agent, status)| {
                let why = match status {
                    AgentStatus::TimedOut { .. } => "no respondió a tiempo",
                    _ => "tuvo una falla",
                };
                format!("{} ({why})", agent.gives_es())
            })
            .collect();
        text.push_str(&format!(
            "\n\nNota: esta respuesta está incompleta; falta {}. Te muestro lo que sí tengo; vuelve a preguntar en \
             un momento.",
            join_es(&missing)
        ));
    }
    text
}

/// " el pedido de 96 unidades de Harina PAN para Chacao" / " la transferencia de 20 … de A a B".
fn suggestion_es(p: &Parts<'_>, r: &Recommendation) -> String {
    let figure = p.figures.and_then(|f| f.iter().find(|f| f.product == r.product));
    let product = figure.map_or_else(|| r.product.as_str().to_owned(), |f| f.product_name.clone());
    let store = |code: &fluxion_domain::LocationCode| {
        p.figures
            .and_then(|f| f.iter().find(|f| &f.store == code))
            .map_or_else(|| code.as_str().to_owned(), |f| f.store_name.clone())
    };
    let unit = figure.map_or("unidades", |f| f.unit.label_es());
    match &r.action {
        RecommendedAction::Order { .. } => {
            format!(" el pedido de {} {unit} de {product} para {}", units(r.units), store(&r.store))
        }
        RecommendedAction::Transfer { from } => format!(
            " la transferencia de {} {unit} de {product} de {} a {}",
            units(r.units),
            store(from),
            store(&r.store)
        ),
    }
}

/// What the memory holds: the user's past questions and the tenant's alerts, most relevant first.
fn recall(p: &Parts<'_>) -> String {
    let u = p.understanding;
    let about = match u.products.first() {
        Some(f) => format!(" sobre {}", f.name),
        None if !u.unmatched.is_empty() => format!(" sobre «{}»", u.unmatched.join(" ")),
        None => String::new(),
    };
    let days = u.horizon_days;
    let Some(found) = p.recalled else {
        return "No pude consultar la memoria en este momento; intenta de nuevo en unos segundos.".to_owned();
    };
    if found.is_empty() {
        return format!("No encuentro nada{about} en los últimos {days} días: ni alertas ni preguntas tuyas.");
    }
    let mut s = format!("Esto es lo que tengo{about} de los últimos {days} días:");
    for r in found.iter().take(LIST) {
        let what = match r.kind.as_str() {
            fluxion_memory::semantic::kind::ALERT => "alerta",
            fluxion_memory::semantic::kind::RECOMMENDATION => "recomendación",
            _ => "conversación",
        };
        let text: String = r.text.chars().take(220).collect();
        let cut = if r.text.chars().count() > 220 { "…" } else { "" };
        s.push_str(&format!("\n• {} ({what}): {text}{cut}", short_date(r.day)));
    }
    s
}

fn help() -> String {
    "Puedo ayudarte con:\n• cuánto pedir de un producto («¿cuánta harina PAN necesito para la quincena?»)\n• qué se \
     va a agotar («¿qué se me va a agotar en Chacao?»)\n• qué tienes de más\n• qué transferir entre tiendas\n• cómo \
     se vendió un producto («¿cómo se vendió el arroz?»)\n• qué pasó antes («¿qué pasó con el aceite la semana pasada?»)"
        .to_owned()
}

fn where_es(u: &Understanding) -> String {
    if u.stores.is_empty() {
        "en la cadena".to_owned()
    } else {
        format!("en {}", join_es(&u.stores.iter().map(|s| s.name.clone()).collect::<Vec<_>>()))
    }
}

fn horizon_es(u: &Understanding) -> String {
    match &u.horizon_es {
        Some(h) => format!("para {h} ({} días desde mañana)", u.horizon_days),
        None => format!("para los próximos {} días", u.horizon_days),
    }
}

fn no_product(u: &Understanding) -> String {
    if u.unmatched.is_empty() {
        "¿De qué producto? Dime el nombre o la marca, por ejemplo «harina PAN» o «aceite Diana».".to_owned()
    } else {
        format!(
            "No encontré «{}» en el catálogo. ¿Me das el nombre o la marca como aparece en la tienda?",
            u.unmatched.join(" ")
        )
    }
}

/// "¿A cuál te refieres: A, B o C?" when the question named several products equally.
fn which(u: &Understanding) -> String {
    let names: Vec<String> = u.products.iter().take(5).map(|f| f.name.clone()).collect();
    format!("¿A cuál te refieres: {}?", join_o(&names))
}

/// What to say instead of figures when the question names no product, or several equally.
fn product_first(u: &Understanding) -> Option<String> {
    if u.products.is_empty() {
        Some(no_product(u))
    } else if u.ambiguous() {
        Some(which(u))
    } else {
        None
    }
}

fn need(p: &Parts<'_>) -> String {
    let u = p.understanding;
    if let Some(text) = product_first(u) {
        return text;
    }
    let Some(figures) = p.figures else {
        return format!(
            "No pude calcular el pronóstico de {} en este momento.",
            join_es(&u.products.iter().map(|f| f.name.clone()).collect::<Vec<_>>())
        );
    };
    if figures.is_empty() {
        return format!("No tengo historia de ventas de {} {} para pronosticar.", u.products[0].name, where_es(u));
    }
    let mut out = Vec::new();
    for product in by_demand(u, figures) {
        let of: Vec<&ForecastFigure> = figures.iter().filter(|f| f.product.as_str() == product).collect();
        if of.is_empty() {
            continue;
        }
        if let [f] = of.as_slice() {
            let mut s = format!(
                "{} necesitas ~{} {} de {} en {} (entre {} y {}); tienes {}",
                capitalize(&horizon_es(u)),
                units(f.expected),
                f.unit.label_es(),
                f.product_name,
                f.store_name,
                units(f.p10),
                units(f.p90),
                units(f.on_hand)
            );
            if f.inbound > 0.0 {
                s.push_str(&format!(" y vienen {} en camino", units(f.inbound)));
            }
            s.push_str(". ");
            s.push_str(&order_line(p, f));
            s.push_str(&model_line(f));
            out.push(s);
        } else {
            let expected: f64 = of.iter().map(|f| f.expected).sum();
            let on_hand: f64 = of.iter().map(|f| f.on_hand).sum();
            let inbound: f64 = of.iter().map(|f| f.inbound).sum();
            let mut s = format!(
                "{} necesitas ~{} {} de {} {} ({} tiendas); tienes {}{}.",
                capitalize(&horizon_es(u)),
                units(expected),
                of[0].unit.label_es(),
                of[0].product_name,
                where_es(u),
                of.len(),
                units(on_hand),
                if inbound > 0.0 { format!(" y vienen {}", units(inbound)) } else { String::new() }
            );
            for f in &of {
                let coming = if f.inbound > 0.0 { format!(" y vienen {}", units(f.inbound)) } else { String::new() };
                s.push_str(&format!(
                    "\n• {}: ~{} (entre {} y {}), tienes {}{coming}. {}",
                    f.store_name,
                    units(f.expected),
                    units(f.p10),
                    units(f.p90),
                    units(f.on_hand),
                    order_line(p, f).trim_end()
                ));
            }
            s.push_str(&model_line(of[0]));
            out.push(s);
        }
    }
    if out.is_empty() {
        return format!("No tengo historia de ventas de {} {} para pronosticar.", u.products[0].name, where_es(u));
    }
    out.join("\n\n") + &alternatives_note(u)
}

/// "Tomé X, el más vendido; si te refieres a Y, dímelo." when other products matched as well.
fn alternatives_note(u: &Understanding) -> String {
    if u.alternatives.is_empty() {
        return String::new();
    }
    let names: Vec<String> = u.alternatives.iter().take(3).map(|a| a.name.clone()).collect();
    format!(
        "\n\nTomé {}, que es el que más se vende; si te refieres a {}, dímelo.",
        u.products.first().map_or("", |p| p.name.as_str()),
        join_o(&names)
    )
}

/// "a, b o c".
fn join_o(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} o {last}", rest.join(", ")),
    }
}

/// "Sugiero ordenar 500 hoy." for the figure's item, from the optimizer.
fn order_line(p: &Parts<'_>, f: &ForecastFigure) -> String {
    let Some(recs) = p.recommendations else {
        return "No tengo la recomendación de pedido en este momento.".to_owned();
    };
    let order = recs
        .iter()
        .find(|r| r.product == f.product && r.store == f.store && matches!(r.action, RecommendedAction::Order { .. }));
    let transfer = recs.iter().find(|r| {
        r.product == f.product && r.store == f.store && matches!(r.action, RecommendedAction::Transfer { .. })
    });
    let mut s = match order {
        Some(r) if r.on <= p.today => format!("Sugiero ordenar {} hoy.", units(r.units)),
        Some(r) => {
            format!("Sugiero ordenar {} el {} (próximo día de pedido del proveedor).", units(r.units), short_date(r.on))
        }
        None => {
            let daily = f.expected / f.days.max(1) as f64;
            let have = f.on_hand + f.inbound;
            if daily > 0.0 && have < f.expected {
                format!(
                    "Con lo que tienes y lo que viene (unos {} días de venta) no hace falta pedir hoy: tu próximo \
                     pedido llega a tiempo.",
                    number(have / daily, 0)
                )
            } else {
                "Con lo que tienes y lo que viene, no hace falta pedir todavía.".to_owned()
            }
        }
    };
    if let Some(t) = transfer
        && let RecommendedAction::Transfer { from } = &t.action
    {
        s.push_str(&format!(" También conviene traer {} de {}.", units(t.units), from));
    }
    s
}

fn model_line(f: &ForecastFigure) -> String {
    match f.typical_error_pct {
        Some(e) if e.is_finite() => format!(" (Modelo {}, error típico ±{} %.)", f.model, number(e, 0)),
        _ => format!(" (Modelo {}.)", f.model),
    }
}

fn running_out(p: &Parts<'_>) -> String {
    let u = p.understanding;
    let Some(alerts) = p.alerts else {
        return format!("No pude revisar qué se va a agotar {} en este momento.", where_es(u));
    };
    let list: Vec<&Alert> = alerts.iter().filter(|a| a.kind == AlertKind::ImminentStockout).collect();
    if list.is_empty() {
        return format!(
            "Buenas noticias: {} no veo productos que se vayan a agotar antes de su próxima reposición.",
            where_es(u)
        );
    }
    let mut s = format!(
        "{} se pueden agotar {} {} antes de su próxima reposición:",
        capitalize(&where_es(u)),
        units(list.len() as f64),
        if list.len() == 1 { "producto" } else { "productos" }
    );
    bullets(&mut s, list.iter().map(|a| a.reason_es.clone()), list.len());
    s
}

fn overstock(p: &Parts<'_>) -> String {
    let u = p.understanding;
    let Some(alerts) = p.alerts else {
        return format!("No pude revisar el exceso de inventario {} en este momento.", where_es(u));
    };
    let list: Vec<&Alert> =
        alerts.iter().filter(|a| matches!(a.kind, AlertKind::Overstock | AlertKind::ExpiringLot)).collect();
    if list.is_empty() {
        return format!("{} no veo exceso de inventario ni lotes por vencer.", capitalize(&where_es(u)));
    }
    let tied: f64 = list.iter().filter(|a| a.kind == AlertKind::Overstock).map(|a| a.impact_usd).sum();
    let expiring: f64 = list.iter().filter(|a| a.kind == AlertKind::ExpiringLot).map(|a| a.impact_usd).sum();
    let mut s = format!("{}: ", capitalize(&where_es(u)));
    let mut parts = Vec::new();
    if tied > 0.0 {
        parts.push(format!("US$ {} inmovilizados en exceso de inventario", number(tied, 2)));
    }
    if expiring > 0.0 {
        parts.push(format!("US$ {} en lotes que pueden vencerse", number(expiring, 2)));
    }
    s.push_str(&join_es(&parts));
    s.push('.');
    let lines = list.iter().map(|a| match a.action {
        SuggestedAction::MarkDown { discount_pct, .. } => {
            format!("{} (rebaja sugerida: {discount_pct} %)", a.reason_es)
        }
        _ => a.reason_es.clone(),
    });
    bullets(&mut s, lines, list.len());
    s
}

fn transfers(p: &Parts<'_>) -> String {
    let u = p.understanding;
    let Some(recs) = p.recommendations else {
        return "No pude calcular las transferencias en este momento.".to_owned();
    };
    let list: Vec<&Recommendation> =
        recs.iter().filter(|r| matches!(r.action, RecommendedAction::Transfer { .. })).collect();
    if list.is_empty() {
        return format!(
            "{} no hace falta transferir nada esta noche: ninguna tienda está corta de algo que a otra le sobre.",
            capitalize(&where_es(u))
        );
    }
    let benefit: f64 = list.iter().map(|r| r.benefit_usd).sum();
    let mut s = format!(
        "Te sugiero {} {} (protegen US$ {} de margen):",
        units(list.len() as f64),
        if list.len() == 1 { "transferencia" } else { "transferencias" },
        number(benefit, 2)
    );
    bullets(&mut s, list.iter().map(|r| r.explanation_es.clone()), list.len());
    s
}

/// The first [`LIST`] lines as bullets, then how many more there are.
fn bullets(s: &mut String, lines: impl Iterator<Item = String>, total: usize) {
    for line in lines.take(LIST) {
        s.push_str(&format!("\n• {line}"));
    }
    if total > LIST {
        s.push_str(&format!("\n… y {} más.", total - LIST));
    }
}

fn sales(p: &Parts<'_>) -> String {
    let u = p.understanding;
    if u.products.is_empty() && u.unmatched.is_empty() {
        return store_sales(u, p.sales);
    }
    if let Some(text) = product_first(u) {
        return text;
    }
    let Some(figures) = p.figures else {
        return "No pude consultar las ventas en este momento.".to_owned();
    };
    let mut out = Vec::new();
    for product in by_demand(u, figures) {
        let of: Vec<&ForecastFigure> = figures.iter().filter(|f| f.product.as_str() == product).collect();
        if of.is_empty() {
            continue;
        }
        let last: f64 = of.iter().map(|f| f.sold_last_7).sum();
        let prev: f64 = of.iter().map(|f| f.sold_prev_7).sum();
        let month: f64 = of.iter().map(|f| f.sold_last_28).sum();
        let next: f64 = of.iter().map(|f| f.expected * 7.0 / f.days.max(1) as f64).sum();
        let change = compared(last, prev, "la semana anterior", units);
        // "¿Cuánto vendí ayer?": the last day with data, by its date (a store whose feed stopped
        // earlier has no figure for that day), then the week.
        let day = of.iter().filter_map(|f| f.last_day).max().filter(|_| u.one_day);
        let sold = match day {
            Some(day) => {
                let that = || of.iter().filter(|f| f.last_day == Some(day));
                let sold: f64 = that().map(|f| f.sold_last_day).sum();
                let before: f64 = that().map(|f| f.sold_week_before_day).sum();
                format!(
                    "el {} (último día con datos) vendiste {}{}. En los últimos 7 días vendiste {}{change}, y {} en \
                     las últimas 4 semanas",
                    short_date(day),
                    units(sold),
                    compared(sold, before, &format!("el {}", short_date(day - chrono::Days::new(7))), units),
                    units(last),
                    units(month)
                )
            }
            None => format!(
                "vendiste {} en los últimos 7 días{change}, y {} en las últimas 4 semanas",
                units(last),
                units(month)
            ),
        };
        out.push(format!(
            "{} {}: {sold}. Para los próximos 7 días espero ~{}.",
            of[0].product_name,
            where_es(u),
            units(next)
        ));
    }
    if out.is_empty() {
        return format!("No tengo ventas registradas de {} {}.", u.products[0].name, where_es(u));
    }
    out.join("\n\n") + &alternatives_note(u)
}

/// "¿Cuánto vendí ayer en Chacao?": each store's sales in money on its last day with data (asked
/// about a day) or over the week to it, against the same span a week before, and its best sellers.
fn store_sales(u: &Understanding, sales: &[StoreSales]) -> String {
    if sales.is_empty() {
        return "No tengo ventas registradas de esa tienda. Si quieres las de un producto, dime cuál, por ejemplo \
                «harina PAN» o «aceite Diana»."
            .to_owned();
    }
    let mut out = Vec::new();
    for s in sales {
        let (now, before) = s.period(u.one_day);
        let (before_es, when) = if u.one_day {
            (format!("el {}", short_date(s.last_day - chrono::Days::new(7))), format!("el {}", short_date(s.last_day)))
        } else {
            ("la semana anterior".to_owned(), format!("en los 7 días al {}", short_date(s.last_day)))
        };
        let change = compared(now, before, &before_es, usd);
        let best: Vec<String> = s
            .best_sellers
            .iter()
            .map(|b| format!("{} ({} {})", b.product_name, units(b.units), b.unit.label_es()))
            .collect();
        let best = if best.is_empty() {
            String::new()
        } else {
            format!(" Los que más vendieron, en dinero: {}.", join_es(&best))
        };
        out.push(format!("{} vendió {} {when} (último día con datos){change}.{best}", s.store_name, usd(now)));
    }
    if let [_, _, ..] = sales {
        let (now, before) = sales.iter().map(|s| s.period(u.one_day)).fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        let when = if u.one_day { "su último día con datos" } else { "los últimos 7 días" };
        let before_es = if u.one_day { "el mismo día de la semana anterior" } else { "la semana anterior" };
        let who = if u.stores.is_empty() { "La cadena vendió" } else { "Entre las tiendas, vendieron" };
        out.insert(0, format!("{who} {} en {when}{}.", usd(now), compared(now, before, before_es, usd)));
    }
    out.join("\n\n")
}

/// ", 6 % más que {before_es} (3.462)", ", igual que {before_es}", or nothing without a figure to
/// compare with; `show` writes the figure before.
fn compared(now: f64, before: f64, before_es: &str, show: fn(f64) -> String) -> String {
    if before <= 0.0 {
        return String::new();
    }
    let pct = 100.0 * (now / before - 1.0);
    if pct.abs() < 3.0 {
        format!(", igual que {before_es}")
    } else if pct > 0.0 {
        format!(", {} % más que {before_es} ({})", number(pct, 0), show(before))
    } else {
        format!(", {} % menos que {before_es} ({})", number(-pct, 0), show(before))
    }
}

/// "US$ 1.234,50".
fn usd(value: f64) -> String {
    format!("US$ {}", number(value, 2))
}

/// The question's products, the best sellers first.
fn by_demand<'a>(u: &'a Understanding, figures: &[ForecastFigure]) -> Vec<&'a str> {
    let mut products: Vec<(&str, f64)> = u
        .products
        .iter()
        .map(|p| {
            let demand = figures.iter().filter(|f| f.product.as_str() == p.code).map(|f| f.expected).sum();
            (p.code.as_str(), demand)
        })
        .collect();
    products.sort_by(|a, b| b.1.total_cmp(&a.1));
    products.into_iter().map(|p| p.0).collect()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "a, b y c".
fn join_es(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} y {last}", rest.join(", ")),
    }
}
