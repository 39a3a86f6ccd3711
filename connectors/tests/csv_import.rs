//! The CSV importer against a real SQLite store in a temporary folder: samples of every shared
//! benchmark data set, idempotent re-imports, malformed files, atomic and batched commits, and a
//! property test that arbitrary input never panics and never commits a bad row.
//!
//! The shared data folder is `$CARGO_MANIFEST_DIR/../../shared/data`, or `FLUXION_SHARED_DATA`.
//! Without it the data-set tests fail: they must not pass by skipping.

use chrono::{Datelike as _, NaiveDate};
use fluxion_connectors::csv::{
    DateFormat, ImportError, ImportKind, ImportOptions, ImportProgress, ImportReport, Preset, import_file,
};
use fluxion_domain::product::ProductFields;
use fluxion_domain::{EventKind, Location, LocationCode, LocationKind, Money, Product, ProductCode, TenantSlug, Unit};
use fluxion_memory::{ChangeSet, IngestStatus, TenantStore, open_sqlite};
use proptest::prelude::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The shared benchmark data folder; panics with the places looked at when it is missing.
fn shared_data() -> PathBuf {
    let dir = match std::env::var_os("FLUXION_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    };
    assert!(
        dir.join("SOURCES.md").is_file(),
        "shared data folder not found at {} (set FLUXION_SHARED_DATA to the folder holding SOURCES.md)",
        dir.display()
    );
    dir
}

/// The header and the first `rows` data lines of a shared file (decompressed if gzip'd).
fn data_lines(name: &str, rows: usize) -> Vec<String> {
    let path = shared_data().join(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let reader: Box<dyn Read> =
        if name.ends_with(".gz") { Box::new(flate2::read::MultiGzDecoder::new(file)) } else { Box::new(file) };
    BufReader::new(reader)
        .lines()
        .take(rows.saturating_add(1))
        .map(|l| l.expect("shared data files are UTF-8"))
        .collect()
}

/// A tenant in a fresh SQLite data folder, with a folder for test files.
struct TestTenant {
    store: Arc<dyn TenantStore>,
    files: TempDir,
    _data: TempDir,
}

async fn new_tenant() -> TestTenant {
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let deployment = open_sqlite(data.path()).await.expect("open sqlite");
    let slug = TenantSlug::parse("prueba").expect("valid slug");
    deployment.create_tenant(&slug, "Prueba").await.expect("create tenant");
    let store = deployment.scope(&slug).await.expect("scope tenant");
    TestTenant { store, files, _data: data }
}

impl TestTenant {
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    fn write_lines(&self, name: &str, lines: &[String]) -> PathBuf {
        self.write(name, (lines.join("\n") + "\n").as_bytes())
    }

    fn write_gz(&self, name: &str, lines: &[String]) -> PathBuf {
        self.write(name, &gzip((lines.join("\n") + "\n").as_bytes()))
    }

    async fn import(&self, path: &Path, options: &ImportOptions) -> Result<ImportReport, ImportError> {
        import_file(self.store.as_ref(), path, options, &mut |_| {}).await
    }

    /// Seeds stores CCS-01 and MCBO-01, warehouse DEP-01, products HAR-001 and ARR-002.
    async fn seed_catalog(&self) {
        let mut changes = ChangeSet::default();
        for (code, kind) in
            [("CCS-01", LocationKind::Store), ("MCBO-01", LocationKind::Store), ("DEP-01", LocationKind::Warehouse)]
        {
            changes.locations.push(Location { code: code_l(code), name: code.into(), city: "Caracas".into(), kind });
        }
        for code in ["HAR-001", "ARR-002"] {
            changes.products.push(product(code));
        }
        self.store.apply(&changes).await.expect("seed catalog");
    }

    async fn sales_count(&self) -> u64 {
        self.store.counts().await.expect("counts").sales
    }
}

fn code_l(code: &str) -> LocationCode {
    LocationCode::parse(code).expect("valid location code")
}

fn code_p(code: &str) -> ProductCode {
    ProductCode::parse(code).expect("valid product code")
}

fn product(code: &str) -> Product {
    Product::new(ProductFields {
        code: code_p(code),
        barcodes: vec![],
        name: code.into(),
        brand: String::new(),
        category: String::new(),
        unit: Unit::Each,
        pack_size: 1,
        shelf_life_days: None,
        cost: Money::usd_cents(0),
        price: Money::usd_cents(0),
        supplier: None,
    })
    .expect("valid product")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

fn error_lines(report: &ImportReport) -> Vec<u64> {
    report.errors.iter().map(|e| e.line).collect()
}

// ---------------------------------------------------------------------------------------------
// The shared data sets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn m5_sample_imports_with_the_preset_and_reimport_changes_nothing() {
    let t = new_tenant().await;
    let sample = data_lines("m5_foods3_tx3_daily.csv.gz", 20_000);
    let items: HashSet<&str> = sample[1..].iter().filter_map(|l| l.split(',').nth(2)).collect();
    let path = t.write_gz("m5_sample.csv.gz", &sample);
    let options = Preset::M5.options();

    let first = t.import(&path, &options).await.expect("first import");
    assert_eq!(first.status, IngestStatus::Complete, "{first}");
    assert!(first.compressed);
    assert_eq!((first.rows_read, first.rows_imported, first.rows_rejected), (20_000, 20_000, 0));
    assert_eq!((first.changes.sales_new, first.changes.sales_duplicate), (20_000, 0));
    assert_eq!((first.locations_created, first.products_created), (1, items.len() as u64));
    let counts = t.store.counts().await.expect("counts");
    assert_eq!((counts.sales, counts.locations, counts.products), (20_000, 1, items.len() as u64));

    let second = t.import(&path, &options).await.expect("second import");
    assert_eq!(second.status, IngestStatus::Complete);
    assert_eq!((second.changes.sales_new, second.changes.sales_duplicate), (0, 20_000));
    assert_eq!((second.locations_created, second.products_created, second.changes.upserted), (0, 0, 0));
    assert_eq!(t.store.counts().await.expect("counts"), counts, "a re-import changes nothing");

    let runs = t.store.ingest_runs(10).await.expect("ingest runs");
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.source == "csv:m5_sample.csv.gz" && r.status == IngestStatus::Complete));
    assert_eq!(runs[0].rows_written, 0, "the newest run wrote nothing");
}

#[tokio::test]
async fn m5_sales_lines_keep_the_file_quantities() {
    let t = new_tenant().await;
    let sample = data_lines("m5_hobbies2_ca3_daily.csv.gz", 3_000);
    let path = t.write_gz("hobbies.csv.gz", &sample);
    t.import(&path, &Preset::M5.options()).await.expect("import");
    // The first series, HOBBIES_2_001 at CA_3, from 2011-01-29 on.
    let expected: Vec<f64> = sample[1..]
        .iter()
        .filter(|l| l.starts_with("HOBBIES_2_001_CA_3,"))
        .map(|l| l.rsplit(',').next().and_then(|q| q.parse().ok()).expect("integer qty"))
        .collect();
    let stored = t
        .store
        .sales_lines(&code_l("CA_3"), &code_p("HOBBIES_2_001"), day(2011, 1, 29), day(2016, 5, 22))
        .await
        .expect("sales lines");
    assert_eq!(stored.iter().map(|l| l.quantity.get()).collect::<Vec<_>>(), expected);
    assert_eq!(stored[0].key.as_str(), "CA_3:HOBBIES_2_001:2011-01-29");
}

#[tokio::test]
async fn gzip_and_plain_copies_give_the_same_tenant() {
    let sample = data_lines("m5_hobbies2_ca3_daily.csv.gz", 5_000);
    let plain = new_tenant().await;
    let zipped = new_tenant().await;
    // Names say nothing: gzip is recognised by its magic bytes.
    let plain_report =
        plain.import(&plain.write_lines("sales.gz", &sample), &Preset::M5.options()).await.expect("plain");
    let gz_report = zipped.import(&zipped.write_gz("sales.csv", &sample), &Preset::M5.options()).await.expect("gzip");
    assert!(!plain_report.compressed && gz_report.compressed);
    assert_eq!(plain_report.changes, gz_report.changes);
    assert_eq!(plain.store.counts().await.expect("counts"), zipped.store.counts().await.expect("counts"));
    let read = |t: &TestTenant| {
        let store = Arc::clone(&t.store);
        async move {
            store
                .sales_lines(&code_l("CA_3"), &code_p("HOBBIES_2_002"), day(2011, 1, 1), day(2017, 1, 1))
                .await
                .expect("lines")
        }
    };
    assert_eq!(read(&plain).await, read(&zipped).await);
}

#[tokio::test]
async fn store_item_sample_creates_stores_and_items() {
    let t = new_tenant().await;
    // Sorted by item, then store, then date: 3,000 rows are item 1 at stores 1 to 9.
    let sample = data_lines("store_item_demand_2017.csv", 3_000);
    let stores: HashSet<&str> = sample[1..].iter().filter_map(|l| l.split(',').nth(1)).collect();
    let units: f64 = sample[1..].iter().filter_map(|l| l.rsplit(',').next()?.parse::<f64>().ok()).sum();
    let report =
        t.import(&t.write_lines("store_item.csv", &sample), &Preset::StoreItem.options()).await.expect("import");
    assert_eq!(report.status, IngestStatus::Complete, "{report}");
    assert_eq!(report.changes.sales_new, 3_000);
    assert_eq!((report.locations_created, report.products_created), (stores.len() as u64, 1));
    let first_day =
        t.store.sales_lines(&code_l("1"), &code_p("1"), day(2017, 1, 1), day(2017, 1, 1)).await.expect("lines");
    assert_eq!(first_day.len(), 1);
    assert_eq!(first_day[0].quantity.get(), 19.0, "2017-01-01,1,1,19 is the first row");
    let mut stored_units = 0.0;
    for store in &stores {
        let sold = t.store.sales_lines(&code_l(store), &code_p("1"), day(2017, 1, 1), day(2017, 12, 31)).await;
        stored_units += sold.expect("lines").iter().map(|l| l.quantity.get()).sum::<f64>();
    }
    assert_eq!(stored_units, units);
}

#[tokio::test]
async fn carparts_missing_months_are_skipped_not_rejected() {
    let t = new_tenant().await;
    let all = data_lines("carparts_monthly.csv", usize::MAX);
    let first_with_na = all[1..].iter().find(|l| l.ends_with(',')).and_then(|l| l.split(',').next()).expect("NA rows");
    let mut sample: Vec<String> = all[..2_001].to_vec();
    sample.extend(all[2_001..].iter().filter(|l| l.starts_with(&format!("{first_with_na},"))).cloned());
    let na = sample[1..].iter().filter(|l| l.ends_with(',')).count() as u64;
    assert!(na > 0);
    let observed = sample.len() as u64 - 1 - na;

    let report = t.import(&t.write_lines("carparts.csv", &sample), &Preset::Carparts.options()).await.expect("import");
    assert_eq!(report.status, IngestStatus::Complete, "{report}");
    assert_eq!((report.rows_skipped, report.rows_rejected, report.changes.sales_new), (na, 0, observed));
    let locations = t.store.locations().await.expect("locations");
    assert_eq!(locations.iter().map(|l| l.code.as_str()).collect::<Vec<_>>(), vec!["MAIN"]);
    let months = t.store.sales_lines(&code_l("MAIN"), &code_p(first_with_na), day(1998, 1, 1), day(2002, 3, 31)).await;
    assert!(months.expect("lines").iter().all(|l| l.sold_at.date().day0() == 0), "monthly rows fall on the 1st");
}

#[tokio::test]
async fn m5_calendar_yields_events_and_snap_paydays() {
    let t = new_tenant().await;
    let path = shared_data().join("m5_calendar_afcs2023.csv");
    let text = std::fs::read_to_string(&path).expect("calendar is UTF-8");
    let (mut named, mut snap) = (0u64, 0u64);
    for row in text.lines().skip(1) {
        let cells: Vec<&str> = row.split(',').collect();
        named += [cells[6], cells[8]].iter().filter(|c| **c != "NA").count() as u64;
        snap += u64::from(cells[10].trim() == "1");
    }

    let report = t.import(&path, &Preset::M5Calendar.options()).await.expect("import");
    assert_eq!(report.status, IngestStatus::Complete, "{report}");
    assert_eq!(report.rows_read, 1_969);
    assert_eq!(t.store.counts().await.expect("counts").events, named + snap);
    let super_bowl = t.store.events(day(2011, 2, 6), day(2011, 2, 6)).await.expect("events");
    assert!(super_bowl.iter().any(|e| e.name == "SuperBowl" && e.kind == EventKind::Sporting), "{super_bowl:?}");
    let snap_day = t.store.events(day(2011, 2, 1), day(2011, 2, 1)).await.expect("events");
    assert!(snap_day.iter().any(|e| e.name == "SNAP TX" && e.kind == EventKind::Payday), "{snap_day:?}");
    let paydays = t.store.events(day(2011, 1, 1), day(2016, 12, 31)).await.expect("events");
    assert_eq!(paydays.iter().filter(|e| e.kind == EventKind::Payday).count() as u64, snap);

    t.import(&path, &Preset::M5Calendar.options()).await.expect("re-import");
    assert_eq!(t.store.counts().await.expect("counts").events, named + snap, "events are upserts");
}

// ---------------------------------------------------------------------------------------------
// Malformed files
// ---------------------------------------------------------------------------------------------

const SALES_WITH_BAD_ROWS: &str = "tienda,producto,fecha,cantidad
CCS-01,HAR-001,2024-01-01,3
CCS-01,HAR-001,2024-01-02,tres
CCS-01,HAR-001,2024-02-30,1
VAL-09,HAR-001,2024-01-03,1
CCS-01,ARR-002,2024-01-03,2
CCS-01,XXX-999,2024-01-03,2
DEP-01,ARR-002,2024-01-03,2";

#[tokio::test]
async fn missing_columns_fail_naming_the_file_the_fields_and_the_header() {
    let t = new_tenant().await;
    let path = t.write_lines("ventas.csv", &lines("fecha,tienda,articulo_x,total_vendido\n2024-01-01,CCS-01,A,1"));
    let error = t.import(&path, &ImportOptions::new(ImportKind::Sales)).await.expect_err("no product nor quantity");
    let ImportError::MissingColumns { missing, .. } = &error else { panic!("unexpected error {error}") };
    assert_eq!(missing, &vec!["product", "quantity"]);
    let text = error.to_string();
    for part in ["ventas.csv", "product", "quantity", "\"articulo_x\"", "\"total_vendido\""] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
    let mapped = ImportOptions::new(ImportKind::Sales).map("quantity", "unidades");
    let error = t.import(&path, &mapped).await.expect_err("no such column");
    assert!(matches!(error, ImportError::BadMapping { .. }), "{error}");
    assert!(error.to_string().contains("\"unidades\""), "{error}");
}

#[tokio::test]
async fn bad_rows_are_reported_with_line_numbers_and_good_rows_committed() {
    let t = new_tenant().await;
    t.seed_catalog().await;
    let path = t.write_lines("sales.csv", &lines(SALES_WITH_BAD_ROWS));
    let report = t.import(&path, &ImportOptions::new(ImportKind::Sales)).await.expect("import runs");

    assert_eq!(report.status, IngestStatus::Partial);
    assert_eq!((report.rows_read, report.rows_imported, report.rows_rejected), (7, 2, 5));
    assert_eq!(error_lines(&report), vec![3, 4, 5, 7, 8]);
    let shown: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert!(shown[0].starts_with("sales.csv line 3: bad quantity \"tres\""), "{shown:?}");
    assert!(shown[1].starts_with("sales.csv line 4: bad date \"2024-02-30\""), "{shown:?}");
    assert_eq!(shown[2], "sales.csv line 5: unknown store \"VAL-09\"");
    assert_eq!(shown[3], "sales.csv line 7: unknown product \"XXX-999\"");
    assert_eq!(shown[4], "sales.csv line 8: \"DEP-01\" is a warehouse, not a store");
    assert_eq!(t.sales_count().await, 2, "the good rows are committed");

    let run = &t.store.ingest_runs(1).await.expect("runs")[0];
    assert_eq!((run.status, run.rows_read, run.rows_written, run.rows_rejected), (IngestStatus::Partial, 7, 2, 5));
}

#[tokio::test]
async fn atomic_import_commits_nothing_when_a_row_is_bad() {
    let t = new_tenant().await;
    t.seed_catalog().await;
    let mut options = ImportOptions::new(ImportKind::Sales);
    options.atomic = true;
    options.create_missing = true;
    let locations_before = t.store.counts().await.expect("counts").locations;

    let report = t.import(&t.write_lines("sales.csv", &lines(SALES_WITH_BAD_ROWS)), &options).await.expect("runs");
    assert_eq!(report.status, IngestStatus::Failed);
    assert_eq!(error_lines(&report), vec![3, 4, 8], "unknown codes are created, not refused");
    assert_eq!((report.locations_created, report.products_created), (0, 0));
    assert_eq!(t.sales_count().await, 0);
    assert_eq!(t.store.counts().await.expect("counts").locations, locations_before, "no store created either");
    assert_eq!(t.store.ingest_runs(1).await.expect("runs")[0].status, IngestStatus::Failed);

    let good: Vec<String> = lines(SALES_WITH_BAD_ROWS)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| ![2, 3, 7].contains(i))
        .map(|(_, l)| l)
        .collect();
    let report = t.import(&t.write_lines("good.csv", &good), &options).await.expect("runs");
    assert_eq!(report.status, IngestStatus::Complete, "{report}");
    assert_eq!((report.batches, report.locations_created, report.products_created), (1, 1, 1));
    assert_eq!(t.sales_count().await, 4);
}

#[tokio::test]
async fn duplicate_lines_for_one_store_product_and_day_are_refused() {
    let t = new_tenant().await;
    t.seed_catalog().await;
    let text = "store,product,date,quantity\nCCS-01,HAR-001,2024-01-01,3\nCCS-01,HAR-001,2024-01-01,4\n";
    let report =
        t.import(&t.write("dup.csv", text.as_bytes()), &ImportOptions::new(ImportKind::Sales)).await.expect("runs");
    assert_eq!(error_lines(&report), vec![3]);
    assert!(report.errors[0].reason.contains("same store, product and date"), "{}", report.errors[0]);
    assert_eq!(t.sales_count().await, 1);
}

#[tokio::test]
async fn empty_unknown_and_truncated_files_are_errors_naming_the_file() {
    let t = new_tenant().await;
    let missing = t.files.path().join("nope.csv");
    let error = t.import(&missing, &ImportOptions::new(ImportKind::Sales)).await.expect_err("no file");
    assert!(matches!(error, ImportError::Open { .. }) && error.to_string().contains("nope.csv"), "{error}");

    let empty = t.write("empty.csv", b"");
    let error = t.import(&empty, &ImportOptions::new(ImportKind::Sales)).await.expect_err("empty");
    assert!(matches!(error, ImportError::Empty { .. }) && error.to_string().contains("empty.csv"), "{error}");

    let sample = data_lines("m5_hobbies2_ca3_daily.csv.gz", 20_000);
    let bytes = gzip((sample.join("\n") + "\n").as_bytes());
    let path = t.write("cut.csv.gz", &bytes[..bytes.len() / 2]);
    let mut options = Preset::M5.options();
    options.batch_size = 1_000;
    let error = t.import(&path, &options).await.expect_err("truncated gzip");
    let ImportError::Read { file, line, .. } = &error else { panic!("unexpected error {error}") };
    assert_eq!(file, "cut.csv.gz");
    assert!(*line > 1_000, "read stopped at line {line}");
    let stored = t.sales_count().await;
    assert!(stored > 0 && stored % 1_000 == 0, "only whole batches are committed, found {stored}");
    assert_eq!(t.store.ingest_runs(1).await.expect("runs")[0].status, IngestStatus::Partial);
}

// ---------------------------------------------------------------------------------------------
// Formats and options
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn semicolon_files_with_decimal_commas_bom_and_crlf_import() {
    let t = new_tenant().await;
    let locations =
        "\u{feff}Código;Nombre;Ciudad;Tipo\r\nCCS-01;Chacao;Caracas;tienda\r\nDEP-01;Depósito;Guarenas;almacén\r\n";
    let report = t
        .import(&t.write("tiendas.csv", locations.as_bytes()), &ImportOptions::new(ImportKind::Locations))
        .await
        .expect("runs");
    assert_eq!((report.status, report.delimiter, report.changes.upserted), (IngestStatus::Complete, ';', 2));

    let products = "\u{feff}Código;Descripción;Marca;Precio;Costo;Empaque;Código de barras\r\n\
                    HAR-001;Harina de maíz 1 kg;P.A.N.;1,30;0,95;20;7591002000011\r\n";
    let report = t
        .import(&t.write("productos.csv", products.as_bytes()), &ImportOptions::new(ImportKind::Products))
        .await
        .expect("runs");
    assert_eq!(report.status, IngestStatus::Complete, "{report}");
    let stored = t.store.products().await.expect("products");
    assert_eq!((stored[0].price().minor(), stored[0].cost().minor(), stored[0].pack_size()), (130, 95, 20));
    assert_eq!(stored[0].barcodes()[0].as_str(), "7591002000011");

    let sales = "Sucursal;SKU;Fecha;Unidades;Monto;Moneda;Tasa\r\n\
                 CCS-01;HAR-001;05/01/2024;1,5;54,75;Bs;36,50\r\n\
                 CCS-01;HAR-001;06/01/2024;2;1.234,50;VES;36,5\r\n";
    let mut options = ImportOptions::new(ImportKind::Sales);
    options.date_format = DateFormat::DayMonthYear;
    let report = t.import(&t.write("ventas.csv", sales.as_bytes()), &options).await.expect("runs");
    assert_eq!((report.status, report.changes.sales_new), (IngestStatus::Complete, 2), "{report}");
    let lines = t
        .store
        .sales_lines(&code_l("CCS-01"), &code_p("HAR-001"), day(2024, 1, 1), day(2024, 1, 31))
        .await
        .expect("lines");
    assert_eq!(lines[0].quantity.get(), 1.5);
    assert_eq!(
        (lines[0].amount.minor(), lines[0].rate.micros(), lines[0].amount_usd().minor()),
        (5475, 36_500_000, 150)
    );
    assert_eq!(lines[1].amount.minor(), 123_450);
}

#[tokio::test]
async fn explicit_mapping_reads_a_renamed_column_and_create_missing_adds_codes() {
    let t = new_tenant().await;
    let path = t.write("demand.csv", b"date,store,item,sales\n2017-01-01,1,1,19\n2017-01-02,1,1,15\n");
    let error = t.import(&path, &ImportOptions::new(ImportKind::Sales)).await.expect_err("no quantity column");
    assert!(error.to_string().contains("quantity"), "{error}");

    let options = ImportOptions::new(ImportKind::Sales).map("quantity", "sales");
    let report = t.import(&path, &options).await.expect("runs");
    assert_eq!(error_lines(&report), vec![2, 3], "without create_missing unknown codes are errors");
    assert_eq!(report.errors[0].reason, "unknown store \"1\"");

    let mut options = options;
    options.create_missing = true;
    let report = t.import(&path, &options).await.expect("runs");
    assert_eq!((report.changes.sales_new, report.locations_created, report.products_created), (2, 1, 1));
    let store = &t.store.locations().await.expect("locations")[0];
    assert_eq!((store.name.as_str(), store.city.as_str(), store.kind), ("1", "—", LocationKind::Store));
}

#[tokio::test]
async fn batches_commit_separately_and_progress_reaches_the_end() {
    let t = new_tenant().await;
    t.seed_catalog().await;
    let mut text = String::from("store,product,date,quantity\n");
    for d in 1..=10 {
        text.push_str(&format!("CCS-01,HAR-001,2024-01-{d:02},{d}\n"));
    }
    let path = t.write("ten.csv", text.as_bytes());
    let mut options = ImportOptions::new(ImportKind::Sales);
    options.batch_size = 3;
    let mut seen: Vec<ImportProgress> = Vec::new();
    // The import future is Send, so a server can spawn it.
    fn spawnable<F: std::future::Future + Send>(future: F) -> F {
        future
    }
    let report = spawnable(import_file(t.store.as_ref(), &path, &options, &mut |p| seen.push(p))).await.expect("runs");
    assert_eq!((report.batches, report.changes.sales_new), (4, 10));
    let last = seen.last().expect("progress reported");
    assert_eq!((last.rows_read, last.bytes_read, last.bytes_total), (10, text.len() as u64, text.len() as u64));
    assert_eq!(last.fraction(), 1.0);
}

#[tokio::test]
async fn stock_and_events_files_import_with_spanish_headers() {
    let t = new_tenant().await;
    t.seed_catalog().await;
    let stock = "sucursal,sku,fecha,existencia\nDEP-01,HAR-001,2024-01-05,120\nCCS-01,HAR-001,2024-01-05,-3\nCCS-01,NOPE,2024-01-05,1\n";
    let report =
        t.import(&t.write("stock.csv", stock.as_bytes()), &ImportOptions::new(ImportKind::Stock)).await.expect("runs");
    assert_eq!(error_lines(&report), vec![4]);
    assert_eq!(t.store.counts().await.expect("counts").stock_snapshots, 2);

    let events = "fecha,evento,tipo\n2026-02-16,Lunes de Carnaval,cultural\n2026-02-17,Martes de Carnaval,cultural\n2026-02-18,Miércoles,feriado\n";
    let report = t
        .import(&t.write("eventos.csv", events.as_bytes()), &ImportOptions::new(ImportKind::Events))
        .await
        .expect("runs");
    assert_eq!(error_lines(&report), vec![4]);
    assert!(report.errors[0].reason.starts_with("bad kind \"feriado\" in column \"tipo\""), "{}", report.errors[0]);
    assert_eq!(t.store.events(day(2026, 2, 1), day(2026, 2, 28)).await.expect("events").len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// A line of a generated sales file.
#[derive(Debug, Clone)]
enum Line {
    /// A valid row: store index, product index, day of 2024 (0-based), quantity.
    Good(usize, usize, u32, u32),
    /// A row broken in one of several ways.
    Bad(u8, String),
}

fn line_strategy() -> impl Strategy<Value = Line> {
    prop_oneof![
        3 => (0..2usize, 0..2usize, 0..90u32, 0..50u32).prop_map(|(s, p, d, q)| Line::Good(s, p, d, q)),
        1 => (0..8u8, "[a-z ]{0,8}").prop_map(|(how, junk)| Line::Bad(how, junk)),
    ]
}

const STORES: [&str; 2] = ["CCS-01", "MCBO-01"];
const PRODUCTS: [&str; 2] = ["HAR-001", "ARR-002"];

fn render(line: &Line) -> String {
    match line {
        Line::Good(s, p, d, q) => {
            let date = day(2024, 1, 1) + chrono::Duration::days(i64::from(*d));
            format!("{},{},{date},{q}", STORES[*s], PRODUCTS[*p])
        }
        Line::Bad(how, junk) => match how {
            0 => format!("CCS-01,HAR-001,2024-06-01,x{junk}"),
            1 => "CCS-01,HAR-001,2024-02-30,1".to_owned(),
            2 => format!("ZZ{junk},HAR-001,2024-06-02,1"),
            3 => "CCS-01,QQ-9,2024-06-03,1".to_owned(),
            4 => "CCS-01,HAR-001,2024-06-04".to_owned(),
            5 => "CCS-01,HAR-001,2024-06-05,".to_owned(),
            6 => "CCS-01,HAR-001,2024-06-06,-1".to_owned(),
            _ => format!("CCS-01,HAR-001,d{junk},1"),
        },
    }
}

/// Runs `f` on a fresh current-thread runtime (proptest bodies are synchronous).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn generated_files_commit_exactly_their_good_rows(
        generated in proptest::collection::vec(line_strategy(), 0..40),
        batch_size in 1..6usize,
        atomic in any::<bool>(),
    ) {
        // One line per store, product and day: a second one would be refused as a duplicate.
        let mut keys = HashSet::new();
        let file_lines: Vec<Line> = generated
            .into_iter()
            .filter(|l| match l { Line::Good(s, p, d, _) => keys.insert((*s, *p, *d)), Line::Bad(..) => true })
            .collect();
        let goods: Vec<&Line> = file_lines.iter().filter(|l| matches!(l, Line::Good(..))).collect();
        let bad = (file_lines.len() - goods.len()) as u64;
        let (report, stored) = block_on(async {
            let t = new_tenant().await;
            t.seed_catalog().await;
            let mut text = vec!["store,product,date,quantity".to_owned()];
            text.extend(file_lines.iter().map(render));
            let mut options = ImportOptions::new(ImportKind::Sales);
            options.batch_size = batch_size;
            options.atomic = atomic;
            let report = t.import(&t.write_lines("gen.csv", &text), &options).await.expect("import runs");
            let mut stored = Vec::new();
            for s in STORES {
                for p in PRODUCTS {
                    let lines = t.store.sales_lines(&code_l(s), &code_p(p), day(2024, 1, 1), day(2024, 12, 31)).await;
                    stored.extend(lines.expect("lines").into_iter().map(|l| (l.key.as_str().to_owned(), l.quantity.get())));
                }
            }
            (report, stored)
        });
        prop_assert_eq!(report.rows_rejected, bad);
        prop_assert_eq!(report.rows_imported, goods.len() as u64);
        let mut expected: Vec<(String, f64)> = if atomic && bad > 0 {
            Vec::new()
        } else {
            goods.iter().map(|l| match l {
                Line::Good(s, p, d, q) => {
                    let date = day(2024, 1, 1) + chrono::Duration::days(i64::from(*d));
                    (format!("{}:{}:{date}", STORES[*s], PRODUCTS[*p]), f64::from(*q))
                }
                Line::Bad(..) => unreachable!("filtered"),
            }).collect()
        };
        let mut stored = stored;
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        stored.sort_by(|a, b| a.0.cmp(&b.0));
        prop_assert_eq!(stored, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_never_commit_more_than_reported(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        header in prop::sample::select(vec!["store,product,date,quantity\n", "tienda;producto;fecha;cantidad\n", ""]),
        atomic in any::<bool>(),
    ) {
        let outcome = block_on(async {
            let t = new_tenant().await;
            t.seed_catalog().await;
            let mut content = header.as_bytes().to_vec();
            content.extend_from_slice(&bytes);
            let mut options = ImportOptions::new(ImportKind::Sales);
            options.atomic = atomic;
            options.batch_size = 2;
            let result = t.import(&t.write("any.csv", &content), &options).await;
            (result, t.sales_count().await)
        });
        match outcome {
            (Ok(report), stored) => {
                prop_assert_eq!(stored, report.changes.sales_new);
                prop_assert_eq!(report.rows_read, report.rows_imported + report.rows_skipped + report.rows_rejected);
                if atomic && report.rows_rejected > 0 {
                    prop_assert_eq!(stored, 0);
                }
            }
            (Err(error), stored) => {
                prop_assert!(matches!(error, ImportError::Empty { .. } | ImportError::MissingColumns { .. }), "{}", error);
                prop_assert_eq!(stored, 0);
            }
        }
    }
}
