//! The answer's Spanish text, composed from the agents' parts — every number in it comes from
//! them. When a part is missing (an agent failed or ran out of time) the text says so plainly and
//! gives what the others produced.

use super::understand::Understanding;
use fluxion_domain::format::{number, quantity, short_date, units};
use fluxion_domain::{
    AgentKind, AgentStatus, Alert, AlertKind, Arrival, Deliveries, Delivery, ForecastFigure, Intent, OrderList,
    ProposedOrder, Recommendation, RecommendedAction, StoreSales, StoreStock, SuggestedAction,
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
    /// Stores' stock in money (a stock question that names no product).
    pub stock: &'a [StoreStock],
    /// What to order (a question about orders that names no product).
    pub orders: Option<&'a OrderList>,
    /// What is on its way (a question about deliveries that names no product).
    pub deliveries: Option<&'a Deliveries>,
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
        Intent::Stock => stock(p),
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
     se vendió un producto («¿cómo se vendió el arroz?»)\n• cuánto te queda y qué viene en camino («¿cuánto \
     aceite Diana me queda en Valencia?»)\n• qué pasó antes («¿qué pasó con el aceite la semana pasada?»)"
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
    if u.store_orders() {
        return store_orders(p);
    }
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

/// "¿Qué pido hoy?": the orders due today at the stores asked about, the most margin protected
/// first, and how many come due later in the horizon; with a budget, the ones it buys first (most
/// margin per dollar) and those left for later.
fn store_orders(p: &Parts<'_>) -> String {
    let u = p.understanding;
    let Some(list) = p.orders else {
        return "No pude calcular los pedidos en este momento.".to_owned();
    };
    let one_store = u.stores.len() == 1;
    let line = |l: &ProposedOrder| {
        let at = if one_store { String::new() } else { format!(" en {}", l.store_name) };
        let when = if l.on <= p.today { String::new() } else { format!(", el {}", short_date(l.on)) };
        format!(
            "{}{at}: {} {} ({}{when}; protege {})",
            l.product_name,
            units(l.units),
            l.unit.label_es(),
            usd(l.value_usd),
            usd(l.benefit_usd)
        )
    };
    let days = u.horizon_days.max(1);
    let span = if days == 1 { "hasta mañana".to_owned() } else { format!("en los próximos {days} días") };
    let of_span = if days == 1 { "de hoy y mañana".to_owned() } else { format!("de los próximos {days} días") };
    if list.lines.is_empty() {
        return format!(
            "{} no hace falta pedir nada {span}: lo que tienes y lo que viene cubre la demanda hasta el próximo pedido \
             de cada proveedor.",
            capitalize(&where_es(u))
        );
    }
    let footer = "\n\nPuedes aprobarlos en el tablero, en «Pedidos y transferencias», o preguntarme por uno («¿cuánta \
                  harina PAN pido?») y responder SI.";
    if let Some(budget) = list.budget_usd {
        let mut s;
        let (spent, protected) = list.totals(true);
        let (left, at_stake) = list.totals(false);
        let chosen: Vec<&ProposedOrder> = list.lines.iter().filter(|l| l.chosen).collect();
        let deferred: Vec<&ProposedOrder> = list.lines.iter().filter(|l| !l.chosen).collect();
        if deferred.is_empty() {
            s = format!(
                "Con {} te alcanza para {} {of_span} {}: {} a costo, que protegen {} de margen. Primero los que más \
                 protegen por dólar:",
                usd(budget),
                if chosen.len() == 1 {
                    "el pedido".to_owned()
                } else {
                    format!("los {} pedidos", units(chosen.len() as f64))
                },
                where_es(u),
                usd(spent),
                usd(protected)
            );
        } else if chosen.is_empty() && deferred.iter().any(|l| l.value_usd <= budget) {
            return format!(
                "Con {} no hace falta comprar nada {of_span} {}: los pedidos que tocan no protegen margen.{footer}",
                usd(budget),
                where_es(u)
            );
        } else if chosen.is_empty() {
            return format!(
                "Con {} no alcanza para ningún pedido completo {of_span} {}: el más pequeño cuesta {}.{footer}",
                usd(budget),
                where_es(u),
                usd(deferred.iter().map(|l| l.value_usd).fold(f64::INFINITY, f64::min))
            );
        } else {
            s = format!(
                "Con {} te alcanza para {} de los {} pedidos {of_span} {}: {} a costo, que protegen {} de los {} de \
                 margen en juego. Primero los que más protegen por dólar:",
                usd(budget),
                units(chosen.len() as f64),
                units(list.lines.len() as f64),
                where_es(u),
                usd(spent),
                usd(protected),
                usd(protected + at_stake)
            );
        }
        bullets(&mut s, chosen.iter().map(|l| line(l)), chosen.len());
        if !deferred.is_empty() {
            let names: Vec<String> = deferred.iter().take(3).map(|l| l.product_name.clone()).collect();
            s.push_str(&format!(
                "\n\nQuedan para después {} ({} a costo).",
                names_and_more(names, deferred.len()),
                usd(left)
            ));
        }
        return s + footer;
    }
    let (today, later): (Vec<&ProposedOrder>, Vec<&ProposedOrder>) = list.lines.iter().partition(|l| l.on <= p.today);
    let mut parts = Vec::new();
    if today.is_empty() {
        parts.push(format!("Hoy no toca pedir nada {}.", where_es(u)));
    } else {
        let (value, benefit) = ProposedOrder::worth(today.iter().copied());
        let mut s = format!(
            "Hoy conviene pedir {} {}: {} a costo, que protegen {} de margen. Los que más protegen:",
            count(today.len(), "producto", "productos"),
            where_es(u),
            usd(value),
            usd(benefit)
        );
        bullets(&mut s, today.iter().map(|l| line(l)), today.len());
        parts.push(s);
    }
    if let Some(first) = later.iter().min_by_key(|l| l.on) {
        let (value, _) = ProposedOrder::worth(later.iter().copied());
        parts.push(format!(
            "{} {} {}{}, {} ({} a costo){}: {}.",
            capitalize(&span),
            if later.len() == 1 { "toca" } else { "tocan" },
            count(later.len(), "pedido", "pedidos"),
            if today.is_empty() { "" } else { " más" },
            if later.len() == 1 {
                "en el día de pedido de su proveedor"
            } else {
                "cada uno en el día de pedido de su proveedor"
            },
            usd(value),
            if later.len() == 1 { "" } else { "; el primero" },
            line(first)
        ));
    }
    parts.join("\n\n") + footer
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
    let list: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::ExpiringLot || (a.kind == AlertKind::Overstock && !u.expiring))
        .collect();
    if list.is_empty() {
        return if u.expiring {
            format!("{} no veo lotes que puedan vencerse antes de venderse.", capitalize(&where_es(u)))
        } else {
            format!("{} no veo exceso de inventario ni lotes por vencer.", capitalize(&where_es(u)))
        };
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

/// "¿Cuánta harina me queda?": per product, what is on hand (and the days of sales it covers) and
/// what is on its way, store by store; then the alerts on those items (a shelf to check, a stockout
/// before the next delivery, lots that may expire).
fn stock(p: &Parts<'_>) -> String {
    let u = p.understanding;
    if u.products.is_empty() && u.unmatched.is_empty() {
        return match p.deliveries {
            Some(d) => deliveries(u, d),
            None if u.coming.is_some() => "No pude consultar las entregas en camino en este momento.".to_owned(),
            None => store_stock(u, p.stock),
        };
    }
    if u.products.is_empty() {
        return no_product(u);
    }
    let Some(figures) = p.figures else {
        return "No pude consultar el inventario en este momento.".to_owned();
    };
    // Per product, its figures with the store that runs out first first.
    let products: Vec<Vec<&ForecastFigure>> = by_demand(u, figures)
        .into_iter()
        .take(LIST)
        .map(|product| {
            let mut of: Vec<&ForecastFigure> = figures.iter().filter(|f| f.product.as_str() == product).collect();
            of.sort_by(|a, b| a.cover_days.unwrap_or(f64::INFINITY).total_cmp(&b.cover_days.unwrap_or(f64::INFINITY)));
            of
        })
        .filter(|of| !of.is_empty())
        .collect();
    let mut out = Vec::new();
    // Several products: a line each (the chain's units, the store that runs short first); the
    // detail comes when one is asked about.
    if let [_, _, ..] = products.as_slice() {
        let mut s = format!("{}:", capitalize(&where_es(u)));
        let lines = products.iter().map(|of| {
            let on_hand: f64 = of.iter().map(|f| f.on_hand.max(0.0)).sum();
            let coming: f64 = of.iter().map(|f| f.inbound).sum();
            let first = of[0];
            let shortest = match (of.len(), first.cover_days) {
                (1, _) => String::new(),
                (_, Some(c)) if first.on_hand > 0.0 => {
                    format!("; en {} alcanza para {}", first.store_name, days_es(c))
                }
                (_, Some(_)) => format!("; en {} no queda nada", first.store_name),
                (_, None) => String::new(),
            };
            format!(
                "{}: {} {}{}{shortest}{}",
                first.product_name,
                units(on_hand),
                first.unit.label_es(),
                if of.len() > 1 { format!(" en {} tiendas", of.len()) } else { String::new() },
                if coming > 0.0 { format!("; vienen {}", units(coming)) } else { String::new() }
            )
        });
        bullets(&mut s, lines, products.len());
        s.push_str("\n\nDime cuál y te doy el detalle por tienda.");
        out.push(s);
    }
    // One product at one store, or store by store.
    if let [of] = products.as_slice() {
        let unit = of[0].unit.label_es();
        if let [f] = of.as_slice() {
            out.push(format!(
                "{} en {}: {}.{}",
                f.product_name,
                f.store_name,
                on_hand_es(f, p.today),
                arrivals_es(&f.arrivals, p.today)
            ));
        } else {
            let on_hand: f64 = of.iter().map(|f| f.on_hand.max(0.0)).sum();
            let coming: f64 = of.iter().map(|f| f.inbound).sum();
            let mut s = format!(
                "{} {}: tienes {} {unit} en {} tiendas{}.",
                of[0].product_name,
                where_es(u),
                units(on_hand),
                of.len(),
                if coming > 0.0 { format!(" y vienen {} en camino", units(coming)) } else { String::new() }
            );
            let lines = of
                .iter()
                .map(|f| format!("{}: {}.{}", f.store_name, on_hand_es(f, p.today), arrivals_es(&f.arrivals, p.today)));
            bullets(&mut s, lines, of.len());
            out.push(s);
        }
    }
    if out.is_empty() {
        return format!("No tengo inventario registrado de {} {}.", u.products[0].name, where_es(u));
    }
    let mut text = out.join("\n\n");
    if let Some(alerts) = p.alerts {
        let warn: Vec<String> = alerts
            .iter()
            .filter(|a| {
                matches!(a.kind, AlertKind::PhantomStock | AlertKind::ImminentStockout | AlertKind::ExpiringLot)
            })
            .take(LIST)
            .map(|a| format!("Ojo: {}", a.reason_es))
            .collect();
        if !warn.is_empty() {
            text.push_str("\n\n");
            text.push_str(&warn.join("\n"));
        }
    }
    text + &alternatives_note(u)
}

/// "tienes 1.234 unidades, para unos 3 días de venta (hasta el mar 01/12)".
fn on_hand_es(f: &ForecastFigure, today: chrono::NaiveDate) -> String {
    let unit = f.unit.label_es();
    if f.on_hand <= 0.0 {
        return "no te queda nada".to_owned();
    }
    let have = format!("tienes {} {unit}", units(f.on_hand));
    match f.cover_days {
        None => format!("{have}, para más de {} semanas de venta", crate::context::HORIZON_DAYS / 7),
        Some(c) if c < 1.0 => format!("{have}, menos de lo que se vende en un día"),
        Some(c) => {
            // Lasting c days from tomorrow, it runs out on day ⌈c⌉.
            let out_on = today + chrono::Days::new(c.ceil() as u64);
            format!("{have}, para {} de venta (hasta el {})", days_es(c.max(1.0)), short_date(out_on))
        }
    }
}

/// " Vienen 2.000 del proveedor el mar 01/12." (and what was due and has not come), or that
/// nothing is on its way.
fn arrivals_es(arrivals: &[Arrival], today: chrono::NaiveDate) -> String {
    if arrivals.is_empty() {
        return " No hay nada en camino.".to_owned();
    }
    let from = |a: &Arrival| if a.from_supplier { "del proveedor" } else { "de otra tienda" };
    let (late, coming): (Vec<&Arrival>, Vec<&Arrival>) = arrivals.iter().partition(|a| a.on <= today);
    let mut s = String::new();
    if !coming.is_empty() {
        let list: Vec<String> =
            coming.iter().map(|a| format!("{} {} el {}", units(a.units), from(a), short_date(a.on))).collect();
        let one = coming.len() == 1 && coming[0].units == 1.0;
        s.push_str(&format!(" {} {}.", if one { "Viene" } else { "Vienen" }, join_es(&list)));
    }
    for a in late {
        s.push_str(&format!(
            " {} {} {} que esperabas el {} no ha llegado.",
            if a.from_supplier { "El pedido de" } else { "La transferencia de" },
            units(a.units),
            from(a),
            short_date(a.on)
        ));
    }
    s
}

/// Deliveries an answer lists at most.
const DELIVERIES: usize = 8;
/// Lines of a delivery an answer names at most.
const DELIVERY_LINES: usize = 3;

/// "¿Qué me llega mañana?", "¿qué pedidos están atrasados?": the deliveries that were due and have
/// not come, the longest overdue first, then those due over the window, by day; each with who
/// sends it, its number, its products and value at cost, and its largest lines.
fn deliveries(u: &Understanding, d: &Deliveries) -> String {
    let where_ = where_es(u);
    // The senders asked about by name: " de Alimentos Polar".
    let of = if d.senders.is_empty() { String::new() } else { format!(" de {}", join_es(&d.senders)) };
    let chain = u.stores.len() != 1;
    let late: Vec<&Delivery> = d.late().collect();
    let coming: Vec<&Delivery> = d.coming().collect();
    let one_day = d.until <= d.first_day();
    let window = if one_day {
        format!("el {}", short_date(d.until))
    } else {
        format!("del {} al {}", short_date(d.first_day()), short_date(d.until))
    };
    // What the question asked about: every delivery, only purchase orders or only transfers.
    let (one, many, feminine) = match d.from_supplier {
        None => ("entrega", "entregas", true),
        Some(true) => ("pedido", "pedidos", false),
        Some(false) => ("transferencia", "transferencias", true),
    };
    let line = |x: &Delivery, late: bool| {
        let (kind, expected) = if x.from_supplier { ("pedido", "esperado") } else { ("transferencia", "esperada") };
        let from = if x.from_supplier { x.from_name.clone() } else { format!("desde {}", x.from_name) };
        let to = if chain { format!(" a {}", x.store_name) } else { String::new() };
        let when = if late {
            match usize::try_from((d.today - x.expected_on).num_days()).unwrap_or(0) {
                0 => format!(", {expected} el {}", short_date(x.expected_on)),
                days => {
                    format!(", {expected} el {} ({} de retraso)", short_date(x.expected_on), count(days, "día", "días"))
                }
            }
        } else {
            String::new()
        };
        let main: Vec<String> = x
            .lines
            .iter()
            .take(DELIVERY_LINES)
            .map(|l| format!("{} {}", l.product_name, quantity(l.units, l.unit)))
            .collect();
        capitalize(&format!(
            "{}{from}{to} ({kind} {}){when}: {}, {} a costo — {}.",
            if late || one_day { String::new() } else { format!("{}: ", short_date(x.expected_on)) },
            x.number,
            count(x.products, "producto", "productos"),
            usd(x.value_at_cost),
            names_and_more(main, x.products)
        ))
    };
    let list = |s: &mut String, of: &[&Delivery], late: bool| {
        for x in of.iter().take(DELIVERIES) {
            s.push_str(&format!("\n• {}", line(x, late)));
        }
        if of.len() > DELIVERIES {
            let rest: f64 = of[DELIVERIES..].iter().map(|x| x.value_at_cost).sum();
            s.push_str(&format!("\n… y {} más ({} a costo).", count(of.len() - DELIVERIES, one, many), usd(rest)));
            // Across the chain, what each store waits for, the most value first.
            let mut by_store: Vec<(&str, usize, f64)> = Vec::new();
            for x in of {
                match by_store.iter_mut().find(|(name, _, _)| *name == x.store_name) {
                    Some(row) => {
                        row.1 += 1;
                        row.2 += x.value_at_cost;
                    }
                    None => by_store.push((&x.store_name, 1, x.value_at_cost)),
                }
            }
            if chain && by_store.len() > 1 {
                by_store.sort_by(|a, b| b.2.total_cmp(&a.2));
                let each: Vec<String> = by_store
                    .iter()
                    .map(|(name, n, value)| format!("{name} {} ({})", count(*n, one, many), usd(*value)))
                    .collect();
                s.push_str(&format!("\nPor tienda: {}.", join_es(&each)));
            }
        }
    };
    let value = |of: &[&Delivery]| usd(of.iter().map(|x| x.value_at_cost).sum());
    let mut out = Vec::new();
    if !d.late_only {
        if coming.is_empty() {
            out.push(format!("No esperas {many}{of} {where_} {window}."));
        } else {
            let mut s = format!(
                "{} esperas {}{of} {where_} ({} a costo):",
                capitalize(&window),
                count(coming.len(), one, many),
                value(&coming)
            );
            list(&mut s, &coming, false);
            out.push(s);
        }
    }
    if late.is_empty() {
        let since = short_date(d.today);
        out.push(match (d.from_supplier, of.is_empty()) {
            (None, true) => {
                format!("Ninguna entrega está atrasada {where_}: no queda pedido ni transferencia de hasta el {since} sin recibir.")
            }
            (Some(true), _) => {
                format!("Ningún pedido{of} está atrasado {where_}: no queda ninguno de hasta el {since} sin recibir.")
            }
            (Some(false), _) | (None, false) => {
                format!("Ninguna {one}{of} está atrasada {where_}: no queda ninguna de hasta el {since} sin recibir.")
            }
        });
    } else {
        let mut s = if late.len() == 1 {
            let a = if feminine { "Una" } else { "Un" };
            format!("{a} {one}{of} que esperabas {where_} no ha llegado ({} a costo):", value(&late))
        } else {
            format!(
                "{}{of} que esperabas {where_} no han llegado ({} a costo):",
                capitalize(&count(late.len(), one, many)),
                value(&late)
            )
        };
        list(&mut s, &late, true);
        let call = match (late.iter().all(|x| x.from_supplier), late.len()) {
            (true, 1) => "al proveedor",
            (true, _) => "a los proveedores",
            (false, 1) => "a quien la envía",
            (false, _) => "a quienes las envían",
        };
        s.push_str(&format!(
            "\n\nConviene llamar {call}. Si quieres saber qué se te puede agotar mientras tanto, pregúntame «¿qué se \
             me va a agotar?»."
        ));
        out.push(s);
    }
    out.join("\n\n")
}

/// "¿Cómo estoy de inventario en Chacao?": each store's stock at cost and the days of sales it
/// covers, the products that sell and have nothing on hand, and what it is waiting for.
fn store_stock(u: &Understanding, stock: &[StoreStock]) -> String {
    if stock.is_empty() {
        return "No tengo inventario registrado de esa tienda. Si quieres el de un producto, dime cuál, por ejemplo \
                «harina PAN» o «aceite Diana»."
            .to_owned();
    }
    let mut out = Vec::new();
    for s in stock {
        let cover = match s.cover_days {
            Some(d) => format!(", {} de venta", days_es(d)),
            None => String::new(),
        };
        let mut line = format!(
            "{} tiene {} en inventario (a costo) en {}{cover}.",
            s.store_name,
            usd(s.value_at_cost),
            count(s.products_on_hand, "producto", "productos")
        );
        match s.empty_count {
            0 => line.push_str(" Ningún producto que se venda está en cero."),
            1 => line.push_str(&format!(" Un producto que se vende está en cero: {}.", s.empty.join(", "))),
            n => line.push_str(&format!(
                " {} productos que se venden están en cero: {}.",
                units(n as f64),
                names_and_more(s.empty.clone(), n)
            )),
        }
        if s.arriving > 0 {
            line.push_str(&format!(
                " En los próximos 7 días llega mercancía de {} {} ({} a costo).",
                units(s.arriving as f64),
                if s.arriving == 1 { "producto" } else { "productos" },
                usd(s.arriving_value)
            ));
        }
        if s.overdue > 0 {
            line.push_str(&format!(
                " {} {} con entregas atrasadas.",
                units(s.overdue as f64),
                if s.overdue == 1 { "producto sigue" } else { "productos siguen" }
            ));
        }
        out.push(line);
    }
    if let [_, _, ..] = stock {
        let total: f64 = stock.iter().map(|s| s.value_at_cost).sum();
        let who = if u.stores.is_empty() { "La cadena tiene" } else { "Entre las tiendas tienes" };
        out.insert(0, format!("{who} {} en inventario (a costo).", usd(total)));
    }
    out.join("\n\n")
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

/// "1 producto", "12 productos".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", units(n as f64), if n == 1 { one } else { many })
}

/// "menos de un día", "un día", "unos 12 días" of sales.
fn days_es(days: f64) -> String {
    if days < 0.5 {
        "menos de un día".to_owned()
    } else if days.round() <= 1.0 {
        "un día".to_owned()
    } else {
        format!("unos {} días", units(days.round()))
    }
}

/// "a, b y 5 más": `names`, the first of `total`.
fn names_and_more(mut names: Vec<String>, total: usize) -> String {
    let more = total.saturating_sub(names.len());
    if more > 0 {
        names.push(format!("{} más", units(more as f64)));
    }
    join_es(&names)
}

/// "a, b y c".
fn join_es(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} y {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use fluxion_domain::{LocationCode, ProductCode, Unit};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("date")
    }

    fn figure(on_hand: f64, cover_days: Option<f64>, arrivals: Vec<Arrival>) -> ForecastFigure {
        ForecastFigure {
            store: LocationCode::parse("CCS-01").expect("code"),
            store_name: "La Cosecha Chacao".into(),
            product: ProductCode::parse("ACE-DIA-1L").expect("code"),
            product_name: "Aceite vegetal Diana 1 L".into(),
            unit: Unit::Litre,
            from: day(29),
            days: 7,
            expected: 140.0,
            p10: 100.0,
            p90: 180.0,
            on_hand,
            inbound: arrivals.iter().map(|a| a.units).sum(),
            sold_last_7: 140.0,
            sold_prev_7: 130.0,
            sold_last_28: 560.0,
            last_day: Some(day(28)),
            sold_last_day: 20.0,
            sold_week_before_day: 20.0,
            cover_days,
            arrivals,
            model: "ets".into(),
            typical_error_pct: Some(20.0),
        }
    }

    #[test]
    fn the_shelf_is_told_in_days_of_sales_and_what_is_coming_by_its_date() {
        let today = day(28);
        assert_eq!(
            on_hand_es(&figure(1234.0, Some(3.6), vec![]), today),
            "tienes 1.234 litros, para unos 4 días de venta (hasta el mié 02/12)"
        );
        assert_eq!(on_hand_es(&figure(0.0, Some(0.0), vec![]), today), "no te queda nada");
        assert_eq!(
            on_hand_es(&figure(5.0, Some(0.2), vec![]), today),
            "tienes 5 litros, menos de lo que se vende en un día"
        );
        assert_eq!(
            on_hand_es(&figure(9000.0, None, vec![]), today),
            "tienes 9.000 litros, para más de 6 semanas de venta"
        );
        assert_eq!(arrivals_es(&[], today), " No hay nada en camino.");
        let arrivals = [
            Arrival { on: day(25), units: 500.0, from_supplier: true },
            Arrival { on: day(30), units: 2000.0, from_supplier: true },
            Arrival { on: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"), units: 60.0, from_supplier: false },
        ];
        assert_eq!(
            arrivals_es(&arrivals, today),
            " Vienen 2.000 del proveedor el lun 30/11 y 60 de otra tienda el mar 01/12. El pedido de 500 del \
             proveedor que esperabas el mié 25/11 no ha llegado."
        );
    }

    fn understanding(intent: Intent, stores: Vec<crate::chat::Found>, budget_usd: Option<f64>) -> Understanding {
        Understanding {
            intent,
            horizon_days: 7,
            horizon_es: None,
            products: Vec::new(),
            stores,
            unmatched: Vec::new(),
            product_words: String::new(),
            intent_explicit: true,
            follow_up: false,
            alternatives: Vec::new(),
            one_day: false,
            budget_usd,
            expiring: false,
            coming: None,
            coming_from_supplier: None,
            senders: Vec::new(),
        }
    }

    fn order(product: &str, value: f64, benefit: f64, on: NaiveDate, chosen: bool) -> ProposedOrder {
        ProposedOrder {
            store: LocationCode::parse("CCS-01").expect("code"),
            store_name: "La Cosecha Chacao".into(),
            product: ProductCode::parse("P-1").expect("code"),
            product_name: product.into(),
            unit: Unit::Each,
            units: value,
            value_usd: value,
            benefit_usd: benefit,
            on,
            chosen,
        }
    }

    fn parts<'a>(u: &'a Understanding, orders: Option<&'a OrderList>) -> Parts<'a> {
        Parts {
            understanding: u,
            figures: None,
            sales: &[],
            stock: &[],
            orders,
            deliveries: None,
            alerts: None,
            recommendations: None,
            faults: &[],
            today: day(28),
            offer: None,
            settled: None,
            recalled: None,
        }
    }

    #[test]
    fn the_orders_of_the_day_come_first_and_a_budget_buys_the_best_return() {
        let u = understanding(Intent::Need, Vec::new(), None);
        let list = OrderList {
            budget_usd: None,
            lines: vec![
                order("Harina", 1000.0, 300.0, day(28), true),
                order("Aceite", 500.0, 200.0, day(28), true),
                order("Arroz", 800.0, 100.0, day(30), true),
            ],
        };
        let text = compose(&parts(&u, Some(&list)));
        assert!(
            text.starts_with(
                "Hoy conviene pedir 2 productos en la cadena: US$ 1.500,00 a costo, que protegen US$ 500,00 de margen. \
                 Los que más protegen:\n• Harina en La Cosecha Chacao: 1.000 unidades (US$ 1.000,00; protege US$ 300,00)"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "En los próximos 7 días toca 1 pedido más, en el día de pedido de su proveedor (US$ 800,00 a costo): \
                 Arroz en La Cosecha Chacao: 800 unidades (US$ 800,00, el lun 30/11; protege US$ \
                 100,00)."
            ),
            "{text}"
        );
        assert!(text.contains("en «Pedidos y transferencias»"), "{text}");

        let u = understanding(Intent::Need, Vec::new(), Some(1500.0));
        let list = OrderList {
            budget_usd: Some(1500.0),
            lines: vec![
                order("Aceite", 500.0, 200.0, day(28), true),
                order("Harina", 1000.0, 300.0, day(28), true),
                order("Arroz", 800.0, 100.0, day(30), false),
            ],
        };
        let text = compose(&parts(&u, Some(&list)));
        assert!(
            text.starts_with(
                "Con US$ 1.500,00 te alcanza para 2 de los 3 pedidos de los próximos 7 días en la cadena: US$ 1.500,00 \
                 a costo, que protegen US$ 500,00 de los US$ 600,00 de margen en juego."
            ),
            "{text}"
        );
        assert!(text.contains("• Aceite en La Cosecha Chacao"), "{text}");
        assert!(text.contains("Quedan para después Arroz (US$ 800,00 a costo)."), "{text}");

        let list = OrderList { budget_usd: Some(100.0), lines: vec![order("Arroz", 800.0, 100.0, day(30), false)] };
        let text = compose(&parts(&u, Some(&list)));
        assert!(text.starts_with("Con US$ 100,00 no alcanza para ningún pedido completo"), "{text}");
        let empty = OrderList { budget_usd: None, lines: Vec::new() };
        let text = compose(&parts(&u, Some(&empty)));
        assert!(text.starts_with("En la cadena no hace falta pedir nada"), "{text}");
        assert_eq!(compose(&parts(&u, None)), "No pude calcular los pedidos en este momento.");
    }

    #[test]
    fn a_store_without_a_product_gets_its_stock_in_money_and_what_is_missing() {
        let u = understanding(Intent::Stock, Vec::new(), None);
        let store = |name: &str, value: f64, empty: &[&str], count: usize| StoreStock {
            store: LocationCode::parse("CCS-01").expect("code"),
            store_name: name.into(),
            value_at_cost: value,
            cover_days: Some(12.4),
            products_on_hand: 180,
            empty: empty.iter().map(|s| (*s).to_owned()).collect(),
            empty_count: count,
            arriving: 3,
            arriving_value: 1500.0,
            overdue: 1,
        };
        let text = store_stock(
            &u,
            &[
                store("La Cosecha Chacao", 52300.5, &["Aceite Diana", "Arroz Mary"], 7),
                store("La Cosecha Prebo", 10000.0, &[], 0),
            ],
        );
        assert!(text.starts_with("La cadena tiene US$ 62.300,50 en inventario (a costo)."), "{text}");
        assert!(
            text.contains(
                "La Cosecha Chacao tiene US$ 52.300,50 en inventario (a costo) en 180 productos, unos 12 días de venta. 7 \
                 productos que se venden están en cero: Aceite Diana, Arroz Mary y 5 más. En los próximos 7 días \
                 llega mercancía de 3 productos (US$ 1.500,00 a costo). 1 producto sigue con entregas atrasadas."
            ),
            "{text}"
        );
        assert!(text.contains("La Cosecha Prebo tiene US$ 10.000,00 en inventario (a costo) en 180 productos, unos 12 días de venta. Ningún producto que se venda está en cero."), "{text}");
    }

    #[test]
    fn quantities_agree_in_number() {
        assert_eq!(quantity(1.0, Unit::Each), "1 unidad");
        assert_eq!(quantity(1.0, Unit::Litre), "1 litro");
        assert_eq!(quantity(1200.0, Unit::Each), "1.200 unidades");
        assert_eq!(quantity(2.5, Unit::Kilogram), "2,5 kg");
    }

    #[test]
    fn deliveries_say_what_is_late_and_what_comes_with_who_sends_it() {
        let chacao = crate::chat::Found {
            index: 0,
            code: "CCS-01".into(),
            name: "La Cosecha Chacao".into(),
            mention: "chacao".into(),
            score: 1.0,
        };
        let mut u = understanding(Intent::Stock, vec![chacao], None);
        u.coming = Some(fluxion_domain::Coming::Due);
        let line = |name: &str, units: f64| fluxion_domain::DeliveryLine {
            product: ProductCode::parse("P").expect("code"),
            product_name: name.into(),
            unit: Unit::Each,
            units,
        };
        let delivery =
            |number: &str, from: &str, supplier: bool, on: NaiveDate, lines: Vec<fluxion_domain::DeliveryLine>| {
                Delivery {
                    number: number.into(),
                    store: LocationCode::parse("CCS-01").expect("code"),
                    store_name: "La Cosecha Chacao".into(),
                    from_name: from.into(),
                    from_supplier: supplier,
                    expected_on: on,
                    products: lines.len(),
                    units: lines.iter().map(|l| l.units).sum(),
                    value_at_cost: lines.iter().map(|l| l.units * 2.0).sum(),
                    lines,
                }
            };
        let d = Deliveries {
            today: day(28),
            until: day(29),
            from: None,
            late_only: false,
            from_supplier: None,
            senders: Vec::new(),
            list: vec![
                delivery("OC-7", "Alimentos Polar", true, day(26), vec![line("Harina PAN", 1200.0)]),
                delivery(
                    "OC-9",
                    "Distribuidora Mary",
                    true,
                    day(29),
                    vec![line("Arroz Mary", 800.0), line("Caraotas", 300.0), line("Azúcar", 200.0), line("Sal", 100.0)],
                ),
            ],
        };
        let mut p = parts(&u, None);
        p.deliveries = Some(&d);
        let text = compose(&p);
        assert_eq!(
            text,
            "El dom 29/11 esperas 1 entrega en La Cosecha Chacao (US$ 2.800,00 a costo):\n• Distribuidora Mary \
             (pedido OC-9): 4 productos, US$ 2.800,00 a costo — Arroz Mary 800 unidades, Caraotas 300 unidades, \
             Azúcar 200 unidades y 1 más.\n\nUna entrega que esperabas en La Cosecha Chacao no ha llegado (US$ \
             2.400,00 a costo):\n• Alimentos Polar (pedido OC-7), esperado el jue 26/11 (2 días de retraso): 1 \
             producto, US$ 2.400,00 a costo — Harina PAN 1.200 unidades.\n\nConviene llamar al proveedor. Si \
             quieres saber qué se te puede agotar mientras tanto, pregúntame «¿qué se me va a agotar?»."
        );
        // Only the late ones, across the chain: each says where it goes; a transfer, who sends it.
        let mut u = understanding(Intent::Stock, Vec::new(), None);
        u.coming = Some(fluxion_domain::Coming::Late);
        let late = Deliveries {
            late_only: true,
            list: vec![delivery("TR-2", "Centro de distribución", false, day(28), vec![line("Sal", 10.0)])],
            ..d.clone()
        };
        let mut p = parts(&u, None);
        p.deliveries = Some(&late);
        let text = compose(&p);
        assert!(
            text.starts_with(
                "Una entrega que esperabas en la cadena no ha llegado (US$ 20,00 a costo):\n• Desde Centro de \
                 distribución a La Cosecha Chacao (transferencia TR-2), esperada el sáb 28/11: 1 producto"
            ),
            "{text}"
        );
        assert!(text.contains("Conviene llamar a quien la envía."), "{text}");
        // More than a list shows, across stores: how many, and what each store waits for.
        let many = Deliveries {
            late_only: true,
            list: (0..9)
                .map(|k| {
                    let mut x = delivery(&format!("OC-{k}"), "Alimentos Polar", true, day(27), vec![line("Sal", 10.0)]);
                    if k % 2 == 1 {
                        x.store_name = "La Cosecha Prebo".into();
                    }
                    x
                })
                .collect(),
            ..d.clone()
        };
        let mut p = parts(&u, None);
        p.deliveries = Some(&many);
        let text = compose(&p);
        assert!(
            text.contains(
                "\n… y 1 entrega más (US$ 20,00 a costo).\nPor tienda: La Cosecha Chacao 5 entregas (US$ 100,00) y La \
                 Cosecha Prebo 4 entregas (US$ 80,00)."
            ),
            "{text}"
        );
        assert!(
            text.starts_with("9 entregas que esperabas en la cadena no han llegado (US$ 180,00 a costo):")
                && text.contains("Conviene llamar a los proveedores."),
            "{text}"
        );
        // Only transfers, and only purchase orders.
        let transfers = Deliveries { from_supplier: Some(false), ..late.clone() };
        let mut p = parts(&u, None);
        p.deliveries = Some(&transfers);
        assert!(
            compose(&p).starts_with("Una transferencia que esperabas en la cadena no ha llegado"),
            "{}",
            compose(&p)
        );
        let orders = Deliveries { from_supplier: Some(true), list: Vec::new(), ..late.clone() };
        p.deliveries = Some(&orders);
        assert_eq!(
            compose(&p),
            "Ningún pedido está atrasado en la cadena: no queda ninguno de hasta el sáb 28/11 sin recibir."
        );
        // One day ahead only ("¿qué me llega el lunes?"): that day's, by name of the day.
        let monday = Deliveries {
            from: Some(day(30)),
            until: day(30),
            list: vec![delivery("OC-30", "Alimentos Polar", true, day(30), vec![line("Sal", 10.0)])],
            ..d.clone()
        };
        let mut p = parts(&u, None);
        p.deliveries = Some(&monday);
        let text = compose(&p);
        assert!(
            text.starts_with(
                "El lun 30/11 esperas 1 entrega en la cadena (US$ 20,00 a costo):\n• Alimentos Polar a La Cosecha \
                 Chacao (pedido OC-30)"
            ),
            "{text}"
        );
        // A sender asked about by name.
        let polar = Deliveries { senders: vec!["Alimentos Polar".into()], list: vec![d.list[0].clone()], ..d.clone() };
        let mut u = understanding(Intent::Stock, Vec::new(), None);
        u.coming = Some(fluxion_domain::Coming::Due);
        let mut p = parts(&u, None);
        p.deliveries = Some(&polar);
        let text = compose(&p);
        assert!(text.starts_with("No esperas entregas de Alimentos Polar en la cadena el dom 29/11."), "{text}");
        assert!(text.contains("Una entrega de Alimentos Polar que esperabas en la cadena no ha llegado"), "{text}");
        let polar = Deliveries { from_supplier: Some(true), list: Vec::new(), ..polar.clone() };
        p.deliveries = Some(&polar);
        let text = compose(&p);
        assert!(
            text.ends_with(
                "Ningún pedido de Alimentos Polar está atrasado en la cadena: no queda ninguno de hasta el sáb 28/11 sin \
                 recibir."
            ),
            "{text}"
        );
        // Nothing on its way.
        let none = Deliveries { list: Vec::new(), ..d.clone() };
        let mut u = understanding(Intent::Stock, Vec::new(), None);
        u.coming = Some(fluxion_domain::Coming::Due);
        let mut p = parts(&u, None);
        p.deliveries = Some(&none);
        assert_eq!(
            compose(&p),
            "No esperas entregas en la cadena el dom 29/11.\n\nNinguna entrega está atrasada en la cadena: no queda \
             pedido ni transferencia de hasta el sáb 28/11 sin recibir."
        );
        // The deliveries could not be read.
        assert_eq!(compose(&parts(&u, None)), "No pude consultar las entregas en camino en este momento.");
    }
}
