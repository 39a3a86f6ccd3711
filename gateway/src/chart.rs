//! Charts drawn on the server as SVG (what the dashboard will show as is) and rasterised to PNG with
//! resvg for WhatsApp: a product's daily sales at a store, its stockout days shaded, the forecast's
//! P10–P90 band and median, and the quincenas (15th and month end) marked.

use chrono::{Datelike, NaiveDate};
use fluxion_domain::format::number;
use std::fmt::Write as _;

/// One day of history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day {
    /// The day.
    pub date: NaiveDate,
    /// Units sold.
    pub units: f64,
    /// The shelf was empty (censored demand).
    pub out_of_stock: bool,
}

/// One forecast day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// The day.
    pub date: NaiveDate,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// A sales and forecast chart.
#[derive(Debug, Clone)]
pub struct SalesChart {
    /// "Harina PAN 1 kg — Chacao".
    pub title: String,
    /// "unidades", "kg" …
    pub unit: String,
    /// Past days, oldest first.
    pub history: Vec<Day>,
    /// Coming days, oldest first.
    pub forecast: Vec<Band>,
    /// Holidays and events inside the chart's days, marked "F" ("Carnaval", "Navidad").
    pub events: Vec<(NaiveDate, String)>,
}

const W: f64 = 800.0;
const H: f64 = 450.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 64.0;

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn is_quincena(d: NaiveDate) -> bool {
    d.day() == 15 || d.succ_opt().is_some_and(|n| n.month() != d.month())
}

/// A round step for about `ticks` gridlines up to `max`.
fn step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag)
}

impl SalesChart {
    /// The chart as an SVG document (800 × 450).
    pub fn svg(&self) -> String {
        let days: Vec<NaiveDate> =
            self.history.iter().map(|d| d.date).chain(self.forecast.iter().map(|b| b.date)).collect();
        let n = days.len().max(1) as f64;
        let max = self
            .history
            .iter()
            .map(|d| d.units)
            .chain(self.forecast.iter().map(|b| b.p90))
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
            .max(1.0);
        let step = step(max, 4.0);
        let top = (max / step).ceil() * step;
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
        let x = |i: f64| LEFT + pw * (i + 0.5) / n;
        let y = |v: f64| TOP + ph * (1.0 - (v.max(0.0) / top).min(1.0));
        let bar = pw / n;
        let mut s = String::new();
        let _ = write!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Arial, sans-serif" role="img" aria-label="{title}"><rect width="100%" height="100%" fill="#ffffff"/><text x="{LEFT}" y="28" font-size="18" font-weight="bold" fill="#1f2933">{title}</text>"##,
            title = escape(&self.title)
        );
        // Stockout days, shaded.
        for (i, d) in self.history.iter().enumerate() {
            if d.out_of_stock {
                let _ = write!(
                    s,
                    r##"<rect x="{:.1}" y="{TOP}" width="{:.1}" height="{ph}" fill="#fde2e1"/>"##,
                    x(i as f64) - bar / 2.0,
                    bar
                );
            }
        }
        // Gridlines and their values.
        let mut v = 0.0;
        while v <= top + 1e-9 {
            let _ = write!(
                s,
                r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e4e7eb"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#52606d">{}</text>"##,
                W - RIGHT,
                LEFT - 6.0,
                y(v) + 4.0,
                number(v, if step < 1.0 { 1 } else { 0 }),
                y = y(v)
            );
            v += step;
        }
        // Quincenas.
        for (i, d) in days.iter().enumerate() {
            if is_quincena(*d) {
                let _ = write!(
                    s,
                    r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}" stroke="#9aa5b1" stroke-dasharray="3 3"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#52606d">Q</text>"##,
                    TOP + ph,
                    TOP - 4.0,
                    x = x(i as f64)
                );
            }
        }
        // Holidays and events.
        for (i, d) in days.iter().enumerate() {
            for (_, name) in self.events.iter().filter(|(day, _)| day == d) {
                let _ = write!(
                    s,
                    r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}" stroke="#8719e0" stroke-dasharray="1 3"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#580a94">F<title>{}</title></text>"##,
                    TOP + ph,
                    TOP - 16.0,
                    escape(name),
                    x = x(i as f64)
                );
            }
        }
        // The forecast band and median.
        let offset = self.history.len() as f64;
        if !self.forecast.is_empty() {
            let mut band = String::new();
            for (i, b) in self.forecast.iter().enumerate() {
                let _ = write!(band, "{:.1},{:.1} ", x(offset + i as f64), y(b.p90));
            }
            for (i, b) in self.forecast.iter().enumerate().rev() {
                let _ = write!(band, "{:.1},{:.1} ", x(offset + i as f64), y(b.p10));
            }
            let median: Vec<String> = self
                .forecast
                .iter()
                .enumerate()
                .map(|(i, b)| format!("{:.1},{:.1}", x(offset + i as f64), y(b.p50)))
                .collect();
            let _ = write!(
                s,
                r##"<polygon points="{}" fill="#f7c948" fill-opacity="0.35"/><polyline points="{}" fill="none" stroke="#cb6e17" stroke-width="2.5" stroke-dasharray="6 4"/>"##,
                band.trim(),
                median.join(" ")
            );
            let today = x(offset) - bar / 2.0;
            let _ = write!(
                s,
                r##"<line x1="{today:.1}" x2="{today:.1}" y1="{TOP}" y2="{:.1}" stroke="#323f4b"/>"##,
                TOP + ph
            );
        }
        // Sales.
        for (i, d) in self.history.iter().enumerate() {
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#2680c2"/>"##,
                x(i as f64) - bar * 0.4,
                y(d.units),
                bar * 0.8,
                (TOP + ph - y(d.units)).max(0.0)
            );
        }
        // Dates: first, the start of the forecast, last.
        let mut labels = vec![0usize, days.len().saturating_sub(1)];
        if !self.forecast.is_empty() {
            labels.push(self.history.len());
        }
        labels.sort_unstable();
        labels.dedup();
        for i in labels {
            if let Some(d) = days.get(i) {
                let _ = write!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#52606d">{}</text>"##,
                    x(i as f64).clamp(LEFT + 20.0, W - RIGHT - 20.0),
                    TOP + ph + 18.0,
                    d.format("%d/%m")
                );
            }
        }
        // Legend.
        let ly = H - 18.0;
        let _ = write!(
            s,
            r##"<rect x="{LEFT}" y="{:.1}" width="12" height="12" fill="#2680c2"/><text x="{:.1}" y="{ly}" font-size="12" fill="#1f2933">Venta ({unit})</text><rect x="{:.1}" y="{:.1}" width="12" height="12" fill="#f7c948" fill-opacity="0.6"/><text x="{:.1}" y="{ly}" font-size="12" fill="#1f2933">Pronóstico P10–P90</text><rect x="{:.1}" y="{:.1}" width="12" height="12" fill="#fde2e1"/><text x="{:.1}" y="{ly}" font-size="12" fill="#1f2933">Sin stock</text><text x="{:.1}" y="{ly}" font-size="12" fill="#1f2933">Q = quincena · F = feriado</text></svg>"##,
            ly - 10.0,
            LEFT + 16.0,
            LEFT + 150.0,
            ly - 10.0,
            LEFT + 166.0,
            LEFT + 320.0,
            ly - 10.0,
            LEFT + 336.0,
            LEFT + 430.0,
            unit = escape(&self.unit)
        );
        s
    }
}

/// The holidays and events (not paydays nor promotions) of a tenant's calendar between two days,
/// for a chart's markers.
pub async fn holidays(
    store: &dyn fluxion_memory::TenantStore,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, String)>, fluxion_memory::StoreError> {
    use fluxion_domain::EventKind;
    Ok(store
        .events(from, to)
        .await?
        .into_iter()
        .filter(|e| !matches!(e.kind, EventKind::Payday | EventKind::Promotion))
        .map(|e| (e.day, e.name))
        .collect())
}

/// Rasterises an SVG document to PNG (text in the system's fonts; none found: no text).
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    use std::sync::OnceLock;
    static FONTS: OnceLock<std::sync::Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_system_fonts();
        std::sync::Arc::new(db)
    });
    let options = resvg::usvg::Options { fontdb: fonts.clone(), ..resvg::usvg::Options::default() };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| "empty chart".to_string())?;
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn chart() -> SalesChart {
        let start = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        SalesChart {
            title: "Harina <PAN> & 1 kg — Chacao".into(),
            unit: "unidades".into(),
            history: (0..28)
                .map(|i| Day {
                    date: start + chrono::Duration::days(i),
                    units: 40.0 + (i % 7) as f64 * 5.0,
                    out_of_stock: i == 10,
                })
                .collect(),
            forecast: (28..42)
                .map(|i| Band { date: start + chrono::Duration::days(i), p10: 30.0, p50: 45.0, p90: 70.0 })
                .collect(),
            events: vec![
                (NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(), "Inmaculada <Concepción>".into()),
                (NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), "Año Nuevo (fuera del gráfico)".into()),
            ],
        }
    }

    #[test]
    fn the_svg_marks_quincenas_stockouts_and_the_band() {
        let svg = chart().svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Harina &lt;PAN&gt; &amp; 1 kg"), "escaped title");
        assert_eq!(svg.matches(">Q</text>").count(), 2, "15/11 and 30/11 (the days run from 1/11 to 12/12)");
        assert_eq!(svg.matches("#fde2e1").count(), 2, "one stockout day and its legend");
        assert!(svg.contains("<polygon"), "the P10–P90 band");
        assert_eq!(svg.matches("fill=\"#2680c2\"").count(), 29, "28 days of sales and the legend");
        assert_eq!(svg.matches(">F<title>").count(), 1, "the one holiday inside the chart's days");
        assert!(svg.contains("<title>Inmaculada &lt;Concepción&gt;</title>"), "its escaped name");
    }

    #[test]
    fn the_png_is_a_png_of_the_chart_size() {
        let png = png(&chart().svg()).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height, big-endian, after the signature and the chunk header.
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 800);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 450);
        assert!(png.len() < 5 * 1024 * 1024, "within WhatsApp's image limit");
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(step(97.0, 4.0), 25.0);
        assert_eq!(step(4.0, 4.0), 1.0);
        assert_eq!(step(1234.0, 4.0), 500.0);
    }
}
