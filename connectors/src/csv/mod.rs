//! CSV import: catalogs, sales, stock and calendar events from plain or gzip'd CSV files.
//!
//! [`import_file`] streams one file into one tenant. A blocking task reads and parses the file
//! (gzip detected by its magic bytes, `,`/`;`/tab delimiter detected from the header line, UTF-8
//! with or without BOM, any line ending); the async side checks each parsed row against the
//! tenant's catalog and writes [`ChangeSet`](fluxion_memory::ChangeSet)s through
//! [`TenantStore::apply`](fluxion_memory::TenantStore::apply).
//!
//! Columns are found by header: the canonical field name, an English or Spanish alias
//! (`tienda`, `producto`, `cantidad`, …) compared without case, accents or punctuation, or an
//! explicit mapping (`quantity=sales`). [`Preset`]s bundle the options that load each shared
//! benchmark data set (M5, the M5 calendar, store-item demand, car parts).
//!
//! # Layout
//! - `options`: [`ImportKind`] and [`ImportOptions`] (what to import and how).
//! - `presets`: [`Preset`], ready-made options for known file layouts.
//! - `mapping`: [`Field`]s of each kind, their aliases, and header resolution.
//! - `values`: cell parsing — [`DateFormat`], decimals with a comma, flags, currencies.
//! - `reader`: opening a file (gzip, BOM, delimiter) and reading records with line numbers.
//! - `rows`: one record into one domain value ([`SalesLine`](fluxion_domain::SalesLine), …).
//! - `import`: [`import_file`], the catalog checks, batching and the ingest record.
//! - `series`: [`read_series`] and [`read_events`], a file straight into demand series (for
//!   `fluxion forecast eval`), no tenant involved.
//! - `report`: [`ImportReport`], [`RowError`], [`ImportProgress`], [`ImportError`].
//!
//! # Architecture invariants
//! - A row that fails to parse or refers to an unknown store or product is never written; it is
//!   reported with its file, 1-based physical line number (the header is line 1) and reason.
//! - With [`ImportOptions::atomic`], the whole file is one change set applied once, only if no
//!   row was bad. Otherwise good rows are written in batches of [`ImportOptions::batch_size`],
//!   one transaction each, so an interrupted import leaves whole batches only.
//! - Importing the same file twice changes nothing: sales lines carry a key taken from the file
//!   or derived from store, product and date, and catalog rows are upserts.
//! - No input makes the importer panic.

mod import;
mod mapping;
mod options;
mod presets;
mod reader;
mod report;
mod rows;
mod series;
mod values;

#[cfg(test)]
mod tests;

pub use import::import_file;
pub use mapping::{Field, FieldSpec};
pub use options::{ImportKind, ImportOptions, parse_map_arg};
pub use presets::Preset;
pub use report::{ImportError, ImportProgress, ImportReport, RowError};
pub use series::{MAX_PERIODS, SeriesError, detect_preset, read_events, read_series};
pub use values::DateFormat;
