//! [`import_file`]: a blocking task reads and parses the file, the async side checks rows against
//! the tenant's catalog, batches them into change sets and applies them.
//!
//! Reading runs on tokio's blocking pool so that a large file never stalls the runtime, and it
//! overlaps with the store's writes. Chunks of parsed rows travel through a bounded channel, so
//! memory stays flat whatever the file's size (except in atomic mode, where the whole file is one
//! change set by definition).

use super::mapping::{MappingProblem, resolve};
use super::reader::{CsvSource, OpenError};
use super::report::{ImportError, ImportProgress, ImportReport, RowError};
use super::rows::{ParsedRow, RowParser};
use super::{ImportKind, ImportOptions};
use ::csv::ByteRecord;
use chrono::Utc;
use fluxion_domain::product::ProductFields;
use fluxion_domain::{Location, LocationCode, LocationKind, Money, Product, ProductCode, SupplierCode, Unit};
use fluxion_memory::{ChangeSet, ChangeSummary, IngestRun, IngestStatus, TenantStore};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::Instrument;

/// Rows per chunk sent by the reading task, and so rows between two progress calls.
const CHUNK_ROWS: usize = 4096;
/// Chunks in flight between the reading task and the importer.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Imports one CSV file (plain or gzip'd) into the tenant of `store`.
///
/// Refused rows do not make this fail: they are counted and listed in the report, whose
/// `status` says whether anything was written. It fails when the file cannot be opened, its header
/// lacks required columns, reading stops in the middle, or the store fails; batches committed
/// before such a failure stay committed (none are with `atomic`). The run is recorded with
/// [`TenantStore::record_ingest`] as `csv:<file name>`.
///
/// `progress` is called every few thousand rows and once at the end.
pub async fn import_file(
    store: &dyn TenantStore,
    path: &Path,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> Result<ImportReport, ImportError> {
    let file = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let span = tracing::info_span!(
        "csv_import",
        tenant = %store.tenant().slug,
        file = %file,
        kind = %options.kind,
    );
    run(store, path, file, options, progress).instrument(span).await
}

async fn run(
    store: &dyn TenantStore,
    path: &Path,
    file: String,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> Result<ImportReport, ImportError> {
    let mut importer = Importer::start(store, file.clone(), options).await?;

    let (sender, mut chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let reading = tokio::task::spawn_blocking({
        let path = path.to_owned();
        let options = options.clone();
        let file = file.clone();
        move || read_file(&path, &file, &options, &sender)
    });

    while let Some(chunk) = chunks.recv().await {
        for (line, row) in chunk.rows {
            importer.accept(line, row);
            if importer.batch_is_full() {
                importer.flush().await?;
            }
        }
        progress(chunk.progress);
    }

    match reading.await {
        Ok(Ok(info)) => importer.finish(info).await,
        Ok(Err(error)) => Err(importer.abort(error).await),
        Err(join) => Err(importer.abort(ImportError::ReaderStopped { file, reason: join.to_string() }).await),
    }
}

/// Parsed rows and where the reading stands after them.
#[derive(Debug)]
struct Chunk {
    rows: Vec<(u64, Result<ParsedRow, String>)>,
    progress: ImportProgress,
}

/// What the reading task found out about the file.
#[derive(Debug, Clone, Copy)]
struct FileInfo {
    compressed: bool,
    delimiter: u8,
}

/// Opens `path` and maps its header for `options`: the source positioned after the header and the
/// parser of its records. `file` is the name used in errors.
pub(crate) fn open_mapped(
    path: &Path,
    file: &str,
    options: &ImportOptions,
) -> Result<(CsvSource, RowParser), ImportError> {
    let source = CsvSource::open(path).map_err(|e| match e {
        OpenError::Open(source) => ImportError::Open { file: path.display().to_string(), source },
        OpenError::Io(source) => ImportError::Read { file: file.to_owned(), line: 1, source },
        OpenError::Empty => ImportError::Empty { file: file.to_owned() },
    })?;
    let header = source.header().to_vec();
    let map = resolve(options.kind, header.clone(), &options.mapping, options.default_location.is_some()).map_err(
        |problem| match problem {
            MappingProblem::Missing(missing) => ImportError::MissingColumns {
                file: file.to_owned(),
                kind: options.kind,
                missing,
                header: header.clone(),
            },
            MappingProblem::UnknownField(field) => {
                let known: Vec<&str> = options.kind.fields().iter().map(|s| s.field.name()).collect();
                ImportError::BadMapping {
                    file: file.to_owned(),
                    reason: format!(
                        "a {} import has no field {field:?} (its fields are {})",
                        options.kind,
                        known.join(", ")
                    ),
                    header: header.clone(),
                }
            }
            MappingProblem::UnknownColumn { field, column } => ImportError::BadMapping {
                file: file.to_owned(),
                reason: format!("{field} is mapped to column {column:?}, which the file does not have"),
                header: header.clone(),
            },
        },
    )?;
    Ok((source, RowParser::new(map, options)))
}

/// The reading task: opens, maps the header, parses every record and sends them in chunks.
/// Returns early (successfully) if the importer stopped listening.
fn read_file(
    path: &Path,
    file: &str,
    options: &ImportOptions,
    sender: &mpsc::Sender<Chunk>,
) -> Result<FileInfo, ImportError> {
    let (mut source, parser) = open_mapped(path, file, options)?;
    let info = FileInfo { compressed: source.compressed(), delimiter: source.delimiter() };

    let mut record = ByteRecord::new();
    let mut rows = Vec::with_capacity(CHUNK_ROWS);
    let mut rows_read = 0u64;
    loop {
        let line = source.read(&mut record).map_err(|(line, source)| ImportError::Read {
            file: file.to_owned(),
            line,
            source,
        })?;
        let more = line.is_some();
        if let Some(line) = line {
            rows_read += 1;
            rows.push((line, parser.parse(&record)));
        }
        if rows.len() == CHUNK_ROWS || !more {
            let progress = ImportProgress {
                bytes_read: if more { source.bytes_read() } else { source.total_bytes() },
                bytes_total: source.total_bytes(),
                rows_read,
            };
            let full = std::mem::replace(&mut rows, Vec::with_capacity(if more { CHUNK_ROWS } else { 0 }));
            if sender.blocking_send(Chunk { rows: full, progress }).is_err() {
                return Ok(info);
            }
        }
        if !more {
            return Ok(info);
        }
    }
}

/// The tenant's codes, to check references before writing.
#[derive(Debug, Default)]
struct Catalog {
    locations: HashMap<LocationCode, LocationKind>,
    products: HashSet<ProductCode>,
    suppliers: HashSet<SupplierCode>,
}

/// The async side: checks rows, accumulates change sets, applies them, keeps the report.
struct Importer<'a> {
    store: &'a dyn TenantStore,
    options: &'a ImportOptions,
    file: String,
    started_at: chrono::DateTime<Utc>,
    clock: Instant,
    catalog: Catalog,
    /// Hashes of the sales keys derived so far, to refuse a second line for the same store,
    /// product and day (it would otherwise be silently dropped as "already stored").
    derived_keys: HashSet<u64>,
    pending: ChangeSet,
    pending_rows: usize,
    report: ImportReport,
}

impl<'a> Importer<'a> {
    async fn start(store: &'a dyn TenantStore, file: String, options: &'a ImportOptions) -> Result<Self, ImportError> {
        let store_error = |source| ImportError::Store { file: file.clone(), source };
        let mut catalog = Catalog::default();
        if matches!(options.kind, ImportKind::Sales | ImportKind::Stock) {
            catalog.locations =
                store.locations().await.map_err(store_error)?.into_iter().map(|l| (l.code, l.kind)).collect();
            catalog.products =
                store.products().await.map_err(store_error)?.into_iter().map(|p| p.code().clone()).collect();
        }
        if options.kind == ImportKind::Products {
            catalog.suppliers = store.suppliers().await.map_err(store_error)?.into_iter().map(|s| s.code).collect();
        }
        let report = ImportReport {
            file: file.clone(),
            kind: options.kind,
            status: IngestStatus::Complete,
            rows_read: 0,
            rows_imported: 0,
            rows_skipped: 0,
            rows_rejected: 0,
            errors: Vec::new(),
            changes: ChangeSummary::default(),
            locations_created: 0,
            products_created: 0,
            batches: 0,
            compressed: false,
            delimiter: ',',
            elapsed: Duration::ZERO,
        };
        Ok(Self {
            store,
            options,
            file,
            started_at: Utc::now(),
            clock: Instant::now(),
            catalog,
            derived_keys: HashSet::new(),
            pending: ChangeSet::default(),
            pending_rows: 0,
            report,
        })
    }

    /// Takes one parsed row: counts it, checks it against the catalog, queues what it writes.
    fn accept(&mut self, line: u64, row: Result<ParsedRow, String>) {
        self.report.rows_read += 1;
        let outcome = match row {
            Ok(ParsedRow::Skipped) => {
                self.report.rows_skipped += 1;
                return;
            }
            Ok(row) => self.queue(row),
            Err(reason) => Err(reason),
        };
        match outcome {
            Ok(()) => {
                self.report.rows_imported += 1;
                self.pending_rows += 1;
            }
            Err(reason) => {
                self.report.rows_rejected += 1;
                if self.report.errors.len() < self.options.max_row_errors {
                    self.report.errors.push(RowError { file: self.file.clone(), line, reason });
                }
            }
        }
        if self.options.atomic && self.report.rows_rejected > 0 && self.pending_rows > 0 {
            // Nothing will be written: stop holding rows.
            self.pending = ChangeSet::default();
            self.pending_rows = 0;
        }
    }

    /// Checks a row's references and queues it (with the stores and products it creates).
    /// Nothing is queued or remembered when it is refused.
    fn queue(&mut self, row: ParsedRow) -> Result<(), String> {
        match row {
            ParsedRow::Location(location) => {
                self.catalog.locations.insert(location.code.clone(), location.kind);
                self.pending.locations.push(location);
            }
            ParsedRow::Product(product) => {
                if let Some(supplier) = product.supplier()
                    && !self.catalog.suppliers.contains(supplier)
                {
                    return Err(format!("unknown supplier {:?}", supplier.as_str()));
                }
                self.catalog.products.insert(product.code().clone());
                self.pending.products.push(product);
            }
            ParsedRow::Sale { line, derived_key } => {
                if let Some(why) = line.implausible(chrono::Utc::now().date_naive()) {
                    return Err(why);
                }
                let new_store = self.check_location(&line.store, true)?;
                let new_product = self.check_product(&line.product)?;
                if derived_key && !self.derived_keys.insert(key_hash(line.key.as_str())) {
                    return Err(format!(
                        "another line has the same store, product and {} ({}); map a key column if the file \
                         has several lines per day",
                        if line.sold_at.time() == chrono::NaiveTime::MIN { "date" } else { "time" },
                        line.key.as_str()
                    ));
                }
                self.create(new_store.then(|| line.store.clone()), new_product.then(|| line.product.clone()))?;
                self.pending.sales.push(line);
            }
            ParsedRow::Stock(snapshot) => {
                let new_location = self.check_location(&snapshot.location, false)?;
                let new_product = self.check_product(&snapshot.product)?;
                self.create(
                    new_location.then(|| snapshot.location.clone()),
                    new_product.then(|| snapshot.product.clone()),
                )?;
                self.pending.stock.push(snapshot);
            }
            ParsedRow::Events(events) => self.pending.events.extend(events),
            ParsedRow::Skipped => {}
        }
        Ok(())
    }

    /// `Ok(true)` when the location is unknown and may be created.
    fn check_location(&self, code: &LocationCode, must_be_store: bool) -> Result<bool, String> {
        match self.catalog.locations.get(code) {
            Some(LocationKind::Warehouse) if must_be_store => {
                Err(format!("{:?} is a warehouse, not a store", code.as_str()))
            }
            Some(_) => Ok(false),
            None if self.options.create_missing => Ok(true),
            None => Err(format!("unknown {} {:?}", if must_be_store { "store" } else { "location" }, code.as_str())),
        }
    }

    /// `Ok(true)` when the product is unknown and may be created.
    fn check_product(&self, code: &ProductCode) -> Result<bool, String> {
        if self.catalog.products.contains(code) {
            Ok(false)
        } else if self.options.create_missing {
            Ok(true)
        } else {
            Err(format!("unknown product {:?}", code.as_str()))
        }
    }

    /// Queues a store and a product that rows refer to but the tenant lacks.
    fn create(&mut self, store: Option<LocationCode>, product: Option<ProductCode>) -> Result<(), String> {
        let product = product
            .map(|code| {
                Product::new(ProductFields {
                    name: code.as_str().to_owned(),
                    code,
                    barcodes: Vec::new(),
                    brand: String::new(),
                    category: String::new(),
                    unit: Unit::Each,
                    pack_size: 1,
                    shelf_life_days: None,
                    cost: Money::usd_cents(0),
                    price: Money::usd_cents(0),
                    supplier: None,
                })
                .map_err(|e| e.to_string())
            })
            .transpose()?;
        if let Some(code) = store {
            self.catalog.locations.insert(code.clone(), LocationKind::Store);
            self.pending.locations.push(Location {
                name: code.as_str().to_owned(),
                code,
                city: "—".to_owned(),
                kind: LocationKind::Store,
            });
            self.report.locations_created += 1;
        }
        if let Some(product) = product {
            self.catalog.products.insert(product.code().clone());
            self.pending.products.push(product);
            self.report.products_created += 1;
        }
        Ok(())
    }

    fn batch_is_full(&self) -> bool {
        !self.options.atomic && self.pending_rows >= self.options.batch_size.max(1)
    }

    /// Applies the queued rows in one transaction.
    async fn flush(&mut self) -> Result<(), ImportError> {
        if self.pending.is_empty() {
            self.pending_rows = 0;
            return Ok(());
        }
        let changes = std::mem::take(&mut self.pending);
        self.pending_rows = 0;
        match self.store.apply(&changes).await {
            Ok(summary) => {
                self.report.changes.add(summary);
                self.report.batches += 1;
                tracing::debug!(batch = self.report.batches, rows = changes.rows(), "batch committed");
                Ok(())
            }
            Err(source) => Err(self.abort(ImportError::Store { file: self.file.clone(), source }).await),
        }
    }

    /// Commits what is left (unless atomic with a bad row), records the run and returns the report.
    async fn finish(mut self, info: FileInfo) -> Result<ImportReport, ImportError> {
        self.report.compressed = info.compressed;
        self.report.delimiter = char::from(info.delimiter);
        let refused_atomic = self.options.atomic && self.report.rows_rejected > 0;
        if refused_atomic {
            self.pending = ChangeSet::default();
            self.report.locations_created = 0;
            self.report.products_created = 0;
        } else {
            self.flush().await?;
        }
        self.report.status = if refused_atomic || (self.report.rows_rejected > 0 && self.report.rows_imported == 0) {
            IngestStatus::Failed
        } else if self.report.rows_rejected > 0 {
            IngestStatus::Partial
        } else {
            IngestStatus::Complete
        };
        self.record(self.report.status).await;
        self.report.elapsed = self.clock.elapsed();
        tracing::info!(
            status = self.report.status.as_str(),
            rows_read = self.report.rows_read,
            rows_rejected = self.report.rows_rejected,
            sales_new = self.report.changes.sales_new,
            seconds = self.report.elapsed.as_secs_f64(),
            "csv import finished"
        );
        Ok(self.report)
    }

    /// Records a run that stopped on `error` and hands the error back.
    async fn abort(&mut self, error: ImportError) -> ImportError {
        let status = if self.report.batches > 0 { IngestStatus::Partial } else { IngestStatus::Failed };
        tracing::warn!(%error, batches = self.report.batches, "csv import stopped");
        self.record(status).await;
        error
    }

    /// Records the run; a failure to record is logged, not returned, since the data is written.
    async fn record(&self, status: IngestStatus) {
        let changes = self.report.changes;
        let run = IngestRun {
            source: format!("csv:{}", self.file),
            started_at: self.started_at,
            finished_at: Utc::now(),
            rows_read: self.report.rows_read,
            rows_written: changes.sales_new + changes.upserted,
            rows_rejected: self.report.rows_rejected,
            status,
        };
        if let Err(error) = self.store.record_ingest(&run).await {
            tracing::warn!(%error, "could not record the ingest run");
        }
        // A big load changes what the planner should do: tell it.
        if run.rows_written >= 10_000
            && let Err(error) = self.store.refresh_statistics().await
        {
            tracing::warn!(%error, "could not refresh the planner's statistics");
        }
    }
}

fn key_hash(key: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}
