//! What an import tells its caller: progress while it runs, a report or an error at the end.

use super::ImportKind;
use fluxion_memory::{ChangeSummary, IngestStatus, StoreError};
use std::fmt;
use std::time::Duration;

/// How far an import has got; the CLI draws a bar from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportProgress {
    /// Bytes read from disk (compressed bytes for a gzip file).
    pub bytes_read: u64,
    /// The file's size on disk.
    pub bytes_total: u64,
    /// Data rows read so far.
    pub rows_read: u64,
}

impl ImportProgress {
    /// The share of the file read, from 0 to 1.
    pub fn fraction(&self) -> f64 {
        if self.bytes_total == 0 { 1.0 } else { (self.bytes_read as f64 / self.bytes_total as f64).min(1.0) }
    }
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file's name.
    pub file: String,
    /// The physical line where the row starts (1-based; the header is line 1).
    pub line: u64,
    /// Why it was refused ("bad quantity …", "unknown store \"X\"").
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.reason)
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// The file's name.
    pub file: String,
    /// What it held.
    pub kind: ImportKind,
    /// `Complete` (every row written or skipped as NA), `Partial` (bad rows skipped, good rows
    /// written) or `Failed` (nothing written: an atomic import with a bad row, or no good row).
    pub status: IngestStatus,
    /// Data rows read (the header not counted).
    pub rows_read: u64,
    /// Rows accepted (written, or already stored).
    pub rows_imported: u64,
    /// Rows with nothing to import: blank records, missing (NA) quantities, calendar days without events.
    pub rows_skipped: u64,
    /// Rows refused.
    pub rows_rejected: u64,
    /// The first refused rows with their reasons (at most `ImportOptions::max_row_errors`).
    pub errors: Vec<RowError>,
    /// What the store did: sales lines new and already stored, other rows upserted.
    pub changes: ChangeSummary,
    /// Stores created because rows referred to them.
    pub locations_created: u64,
    /// Products created because rows referred to them.
    pub products_created: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Whether the file was gzip'd.
    pub compressed: bool,
    /// The delimiter found on the header line.
    pub delimiter: char,
    /// How long the import took.
    pub elapsed: Duration,
}

impl ImportReport {
    /// Whether anything was refused or nothing was written.
    pub fn has_errors(&self) -> bool {
        self.rows_rejected > 0 || self.status == IngestStatus::Failed
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} import {} in {:.1} s ({} batch(es){})",
            self.file,
            self.kind,
            self.status.as_str(),
            self.elapsed.as_secs_f64(),
            self.batches,
            if self.compressed { ", gzip" } else { "" },
        )?;
        writeln!(
            f,
            "  rows: {} read, {} imported, {} skipped, {} rejected",
            self.rows_read, self.rows_imported, self.rows_skipped, self.rows_rejected
        )?;
        write!(
            f,
            "  sales lines: {} new, {} already stored; other rows upserted: {}",
            self.changes.sales_new, self.changes.sales_duplicate, self.changes.upserted
        )?;
        if self.locations_created + self.products_created > 0 {
            write!(f, "\n  created: {} store(s), {} product(s)", self.locations_created, self.products_created)?;
        }
        for error in &self.errors {
            write!(f, "\n  {error}")?;
        }
        let untold = self.rows_rejected.saturating_sub(self.errors.len() as u64);
        if untold > 0 {
            write!(f, "\n  … and {untold} more refused row(s)")?;
        }
        Ok(())
    }
}

/// Why an import could not run or stopped. Refused rows are not errors: they are in the report.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened.
    #[error("cannot open {file}: {source}")]
    Open {
        /// The path as given.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file has no header line.
    #[error("{file} is empty: there is no header line")]
    Empty {
        /// The file's name.
        file: String,
    },
    /// Required fields have no column.
    #[error("{file}: {}", missing_message(*kind, missing, header))]
    MissingColumns {
        /// The file's name.
        file: String,
        /// What was being imported.
        kind: ImportKind,
        /// The fields without a column.
        missing: Vec<&'static str>,
        /// The header found.
        header: Vec<String>,
    },
    /// An explicit mapping names an unknown field or a column the file lacks.
    #[error("{file}: {reason}; header found: {}", quoted(header))]
    BadMapping {
        /// The file's name.
        file: String,
        /// What is wrong with the mapping.
        reason: String,
        /// The header found.
        header: Vec<String>,
    },
    /// Reading stopped in the middle (a truncated or corrupt gzip stream, a disk error). With a
    /// non-atomic import the batches before it stay committed.
    #[error("cannot read {file} at line {line}: {source}")]
    Read {
        /// The file's name.
        file: String,
        /// The line where reading stopped.
        line: u64,
        /// Why.
        source: std::io::Error,
    },
    /// The store failed. With a non-atomic import the batches before it stay committed.
    #[error("{file}: the store failed: {source}")]
    Store {
        /// The file's name.
        file: String,
        /// Why.
        source: StoreError,
    },
    /// The reading task ended without a result (it panicked or was cancelled).
    #[error("{file}: the reading task stopped unexpectedly: {reason}")]
    ReaderStopped {
        /// The file's name.
        file: String,
        /// What the runtime said.
        reason: String,
    },
}

fn quoted(header: &[String]) -> String {
    if header.is_empty() {
        return "(none)".to_owned();
    }
    header.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
}

fn missing_message(kind: ImportKind, missing: &[&'static str], header: &[String]) -> String {
    let described: Vec<String> = missing
        .iter()
        .map(|name| {
            let aliases = kind
                .fields()
                .iter()
                .find(|s| s.field.name() == *name)
                .map(|s| s.aliases.iter().take(4).copied().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            if aliases.is_empty() { (*name).to_owned() } else { format!("{name} (also read from {aliases}, …)") }
        })
        .collect();
    format!(
        "no column for {} in a {kind} import; header found: {}; map a column explicitly, such as {}=<column>",
        described.join("; "),
        quoted(header),
        missing.first().map_or("field", |m| m.split(' ').next().unwrap_or(m)),
    )
}
