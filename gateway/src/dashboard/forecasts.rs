//! Pronósticos: one product at one store — its history and forecast with the P10–P90 band,
//! quincenas, holidays and stockout days marked, the model chosen with its backtest error, and the
//! calendar effects that explain it.

use super::{Chrome, PageError, Query, Session, bad_request, capitalize, render};
use crate::api::ApiState;
use crate::auth::Permission;
use crate::chart::{Band, Day, SalesChart, holidays};
use axum::extract::State;
use axum::response::Response;
use fluxion_domain::format::{number, percent_change, short_date, units};
use fluxion_domain::{LocationCode, ProductCode};
use serde::Deserialize;

/// Days of history shown.
const HISTORY_DAYS: usize = 56;
/// Days of forecast shown.
const AHEAD_DAYS: usize = 28;

/// Which item.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Pick {
    #[serde(default)]
    tienda: String,
    #[serde(default)]
    producto: String,
}

/// One forecast day in the table.
#[derive(Debug)]
pub(crate) struct DayRow {
    day: String,
    p10: String,
    p50: String,
    p90: String,
}

/// The chosen item's forecast.
#[derive(Debug)]
pub(crate) struct Shown {
    title: String,
    svg: String,
    model: String,
    class: String,
    error: Option<String>,
    rmsse: Option<String>,
    effects: Vec<String>,
    days: Vec<DayRow>,
    total: String,
    unit: &'static str,
    stockout_days: usize,
    on_hand: Option<String>,
}

/// A best seller, as a shortcut.
#[derive(Debug)]
pub(crate) struct Shortcut {
    store: String,
    product: String,
    label: String,
}

#[derive(askama::Template)]
#[template(path = "pronosticos.html")]
struct ForecastPage {
    c: Chrome,
    stores: Vec<(String, String)>,
    products: Vec<(String, String)>,
    store: String,
    product: String,
    shown: Option<Shown>,
    missing: bool,
    shortcuts: Vec<Shortcut>,
}

/// A model's stable name as people read it: `fluxion[mean(56)]` is the automatic choice of a level
/// (here the mean of the last 56 days) with the calendar's effects.
fn model_es(model: &str) -> String {
    let one = |m: &str| -> String {
        let m = m.trim();
        let arg = |p: &str| m.strip_prefix(p).and_then(|r| r.strip_prefix('(')).and_then(|r| r.strip_suffix(')'));
        if let Some(n) = arg("mean") {
            return format!("promedio de los últimos {n} días");
        }
        if let Some(a) = arg("tsb") {
            return format!("TSB para demanda intermitente (α {})", a.replace('.', ","));
        }
        match m {
            "seasonal_naive" => "estacional ingenuo".into(),
            "ses" => "suavizamiento exponencial simple".into(),
            "ets" => "suavizamiento exponencial (ETS)".into(),
            "mstl" => "MSTL (varias estacionalidades)".into(),
            "croston" => "Croston".into(),
            "sba" => "Croston-SBA".into(),
            "tsb" => "TSB para demanda intermitente".into(),
            "adida" => "ADIDA (demanda agregada)".into(),
            "imapa" => "IMAPA (demanda agregada)".into(),
            "inactive" => "sin ventas recientes".into(),
            other => other.to_owned(),
        }
    };
    match model.strip_prefix("fluxion[").and_then(|r| r.strip_suffix(']')) {
        Some(inner) => format!(
            "elección automática de Fluxion: {} y los efectos del calendario",
            inner.split('+').map(one).collect::<Vec<_>>().join(" + ")
        ),
        None => model.split('+').map(one).collect::<Vec<_>>().join(" + "),
    }
}

/// The page.
pub(crate) async fn page(
    State(api): State<ApiState>,
    session: Session,
    Query(pick): Query<Pick>,
) -> Result<Response, PageError> {
    let tenant = session.tenant_for(Permission::Read)?;
    let catalog = api.catalog(tenant).await?;
    let live = super::live(&api, tenant).await?;
    let ctx = &live.ctx;
    let w = &ctx.world;
    let stores = catalog.locations.iter().map(|l| (l.code.to_string(), l.name.clone())).collect();
    let mut products: Vec<(String, String)> =
        catalog.products.iter().map(|p| (p.code().to_string(), p.name().to_owned())).collect();
    products.sort_by(|a, b| a.1.cmp(&b.1));
    let chosen = !pick.tienda.is_empty() && !pick.producto.is_empty();
    let item = if chosen {
        let bad = || bad_request("Esa tienda o ese producto no existen.", "No such store or product.");
        let store = LocationCode::parse(&pick.tienda).map_err(|_| bad())?;
        let product = ProductCode::parse(&pick.producto).map_err(|_| bad())?;
        ctx.item(&store, &product)
    } else {
        None
    };
    let shown = match item {
        Some(i) => {
            let it = &w.items[i];
            let (name, unit) = catalog.products.iter().find(|p| *p.code() == w.products[it.product]).map_or_else(
                || (w.product_names[it.product].clone(), "unidades"),
                |p| (p.name().to_owned(), p.unit().label_es()),
            );
            let from = w.days.saturating_sub(HISTORY_DAYS).max(it.first);
            let history: Vec<Day> = (from..w.days)
                .map(|t| Day { date: w.date_of(t), units: it.recorded[t], out_of_stock: it.censored[t] })
                .collect();
            let forecast = ctx.ahead.get(i).and_then(Option::as_ref);
            let bands: Vec<Band> = forecast
                .map(|f| {
                    f.points
                        .iter()
                        .take(AHEAD_DAYS)
                        .map(|p| Band { date: p.date, p10: p.p10, p50: p.p50, p90: p.p90 })
                        .collect()
                })
                .unwrap_or_default();
            let last = bands.last().map_or(ctx.today, |b| b.date);
            let scoped = api.scoped(tenant).await?;
            let events = holidays(scoped.as_ref(), w.date_of(from), last).await?;
            let store_name = w.store_names[it.store].clone();
            let chart = SalesChart {
                title: format!("{name} — {store_name}"),
                unit: unit.to_owned(),
                history,
                forecast: bands,
                events,
            };
            let stockout_days = chart.history.iter().filter(|d| d.out_of_stock).count();
            Some(Shown {
                title: format!("{name} en {store_name}"),
                svg: chart.svg(),
                model: forecast.map_or_else(|| "sin pronóstico".to_owned(), |f| model_es(&f.model)),
                class: forecast.map_or("", |f| f.class.label_es()).to_owned(),
                error: forecast
                    .and_then(|f| f.backtest.as_ref())
                    .map(|b| format!("±{} %", number(b.typical_error_pct, 0))),
                rmsse: forecast.and_then(|f| f.backtest.as_ref()).map(|b| number(b.rmsse, 2)),
                effects: forecast
                    .map(|f| {
                        f.effects
                            .iter()
                            .filter(|e| (e.lift - 1.0).abs() >= 0.03)
                            .map(|e| {
                                format!(
                                    "{} {} la venta ({})",
                                    capitalize(&e.label_es),
                                    if e.lift >= 1.0 { "sube" } else { "baja" },
                                    percent_change(e.lift)
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                days: chart
                    .forecast
                    .iter()
                    .take(14)
                    .map(|b| DayRow {
                        day: short_date(b.date),
                        p10: units(b.p10),
                        p50: units(b.p50),
                        p90: units(b.p90),
                    })
                    .collect(),
                total: forecast
                    .map(|f| units(f.points.iter().take(14).map(|p| p.mean).sum::<f64>()))
                    .unwrap_or_else(|| "—".to_owned()),
                unit,
                stockout_days,
                on_hand: ctx.on_hand(i).map(units),
            })
        }
        None => None,
    };
    // Shortcuts: the items that sold most in the last 28 days.
    let mut best: Vec<(f64, usize)> = w
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.recorded[w.days.saturating_sub(28)..].iter().sum::<f64>(), i))
        .collect();
    best.sort_by(|a, b| b.0.total_cmp(&a.0));
    let shortcuts = best
        .iter()
        .take(8)
        .map(|(_, i)| {
            let it = &w.items[*i];
            Shortcut {
                store: w.stores[it.store].to_string(),
                product: w.products[it.product].to_string(),
                label: format!("{} — {}", w.product_names[it.product], w.store_names[it.store]),
            }
        })
        .collect();
    render(&ForecastPage {
        c: session.chrome("Pronósticos", "/pronosticos", None),
        stores,
        products,
        missing: chosen && shown.is_none(),
        store: pick.tienda,
        product: pick.producto,
        shown,
        shortcuts,
    })
}

#[cfg(test)]
mod tests {
    use super::model_es;

    #[test]
    fn model_names_read_in_spanish() {
        assert_eq!(
            model_es("fluxion[mean(56)]"),
            "elección automática de Fluxion: promedio de los últimos 56 días y los efectos del calendario"
        );
        assert_eq!(model_es("tsb(0.05)"), "TSB para demanda intermitente (α 0,05)");
        assert_eq!(model_es("mstl+ets"), "MSTL (varias estacionalidades) + suavizamiento exponencial (ETS)");
        assert_eq!(model_es("algo-nuevo"), "algo-nuevo");
    }
}
