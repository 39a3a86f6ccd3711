//! Reading a sales file straight into demand series, without a tenant: what `fluxion forecast eval`
//! scores forecasters on.
//!
//! The file is read with the same header mapping and cell parsing as [`import_file`](super::import_file)
//! (a [`Preset`] or the sales aliases). Lines of the same store, product and period are summed. Each
//! series runs from its first row to the last period of the whole file; a period with no row, or
//! whose quantity is empty or `NA`, is missing (`NaN`), never a silent zero.

use super::import::open_mapped;
use super::reader::CsvSource;
use super::rows::ParsedRow;
use super::{DateFormat, ImportError, ImportKind, ImportOptions, Preset};
use ::csv::ByteRecord;
use chrono::{Datelike, NaiveDate};
use fluxion_domain::CalendarEvent;
use fluxion_domain::forecast::{DemandSeries, Frequency};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Why a file could not be read as series.
#[derive(Debug)]
pub enum SeriesError {
    /// Opening, header mapping or reading failed.
    Import(ImportError),
    /// A record could not be parsed.
    Row {
        /// The file.
        file: String,
        /// 1-based physical line.
        line: u64,
        /// What was wrong.
        reason: String,
    },
    /// The file holds no sales row.
    NoSeries {
        /// The file.
        file: String,
    },
    /// A series would span more periods than [`MAX_PERIODS`] (a stray date decades away).
    TooLong {
        /// The file.
        file: String,
        /// The series' id.
        series: String,
        /// Its first period.
        first: NaiveDate,
        /// The file's last period.
        last: NaiveDate,
    },
}

/// The most periods a series may span: 40 years of days.
pub const MAX_PERIODS: usize = 40 * 366;

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeriesError::Import(e) => e.fmt(f),
            SeriesError::Row { file, line, reason } => write!(f, "{file}:{line}: {reason}"),
            SeriesError::NoSeries { file } => write!(f, "{file}: no sales rows, so no series to read"),
            SeriesError::TooLong { file, series, first, last } => write!(
                f,
                "{file}: series {series} would run from {first} to {last}, more than {MAX_PERIODS} periods (a wrong date?)"
            ),
        }
    }
}

impl std::error::Error for SeriesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SeriesError::Import(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ImportError> for SeriesError {
    fn from(e: ImportError) -> Self {
        SeriesError::Import(e)
    }
}

/// The preset whose columns match `header`, if one does.
pub fn detect_preset(header: &[String]) -> Option<Preset> {
    let has = |name: &str| header.iter().any(|h| h.trim().eq_ignore_ascii_case(name));
    if has("part_id") && has("month") {
        Some(Preset::Carparts)
    } else if has("id") && has("item") && has("qty") {
        Some(Preset::M5)
    } else if has("item") && has("sales") && has("store") {
        Some(Preset::StoreItem)
    } else if has("snap_tx") && has("event_name_1") {
        Some(Preset::M5Calendar)
    } else {
        None
    }
}

/// Reads every store × product series of a sales file. `preset` picks the layout; `None` detects a
/// known one from the header, else maps the sales aliases (`store`/`tienda`, `date`/`fecha`, …).
pub fn read_series(path: &Path, preset: Option<Preset>) -> Result<Vec<DemandSeries>, SeriesError> {
    let file = display_name(path);
    let options = options_for(path, preset, ImportKind::Sales);
    let monthly = options.date_format == DateFormat::YearMonth;
    let (mut source, parser) = open_mapped(path, &file, &options)?;
    let mut record = ByteRecord::new();
    let mut sums: HashMap<(String, String), HashMap<NaiveDate, f64>> = HashMap::new();
    let mut last = None::<NaiveDate>;
    while let Some(line) =
        source.read(&mut record).map_err(|(line, source)| ImportError::Read { file: file.clone(), line, source })?
    {
        match parser.parse(&record) {
            Ok(ParsedRow::Sale { line: sale, .. }) => {
                let mut day = sale.sold_at.date();
                if monthly {
                    day = day.with_day(1).unwrap_or(day);
                }
                last = Some(last.map_or(day, |l| l.max(day)));
                let entry = sums.entry((sale.store.to_string(), sale.product.to_string())).or_default();
                *entry.entry(day).or_insert(0.0) += sale.quantity.get();
            }
            Ok(_) => {}
            Err(reason) => return Err(SeriesError::Row { file, line, reason }),
        }
    }
    let Some(last) = last else { return Err(SeriesError::NoSeries { file }) };
    let frequency = if monthly { Frequency::Monthly } else { Frequency::Daily };
    if let Some(((store, product), first)) =
        sums.iter().filter_map(|(k, days)| days.keys().min().map(|d| (k, *d))).min_by_key(|(_, d)| *d)
        && frequency.periods_between(first, last).unwrap_or(0) >= MAX_PERIODS
    {
        return Err(SeriesError::TooLong { file, series: format!("{store}:{product}"), first, last });
    }
    let mut out: Vec<DemandSeries> = sums
        .into_iter()
        .filter_map(|((store, product), days)| {
            let start = *days.keys().min()?;
            let len = frequency.periods_between(start, last)? + 1;
            let mut values = vec![f64::NAN; len];
            for (day, units) in days {
                values[frequency.periods_between(start, day)?] = units;
            }
            Some(DemandSeries::new(format!("{store}:{product}"), store, product, start, frequency, values))
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Reads a calendar file (the M5 calendar preset, or `date,name,kind` events) into events.
pub fn read_events(path: &Path, preset: Option<Preset>) -> Result<Vec<CalendarEvent>, SeriesError> {
    let file = display_name(path);
    let options = options_for(path, preset, ImportKind::Events);
    let (mut source, parser) = open_mapped(path, &file, &options)?;
    let mut record = ByteRecord::new();
    let mut events = Vec::new();
    while let Some(line) =
        source.read(&mut record).map_err(|(line, source)| ImportError::Read { file: file.clone(), line, source })?
    {
        match parser.parse(&record) {
            Ok(ParsedRow::Events(day)) => events.extend(day),
            Ok(_) => {}
            Err(reason) => return Err(SeriesError::Row { file, line, reason }),
        }
    }
    events.sort_by(|a, b| a.day.cmp(&b.day).then(a.name.cmp(&b.name)));
    Ok(events)
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn options_for(path: &Path, preset: Option<Preset>, kind: ImportKind) -> ImportOptions {
    // A file that cannot be opened is reported by `open_mapped` afterwards, with its proper error.
    let preset = preset.or_else(|| CsvSource::open(path).ok().and_then(|s| detect_preset(s.header())));
    match preset {
        Some(p) => p.options(),
        None => ImportOptions::new(kind),
    }
}
