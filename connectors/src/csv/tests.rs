//! Unit tests of the pure parts: header mapping, cell values, reading and row parsing.
//! The import into a real store is tested in `connectors/tests/csv_import.rs`.

use super::mapping::{MappingProblem, normalize_name, resolve};
use super::reader::{CsvSource, OpenError, detect_delimiter};
use super::rows::{ParsedRow, RowParser};
use super::values::{normalize_decimal, parse_currency, parse_flag};
use super::*;
use ::csv::ByteRecord;
use chrono::{NaiveDate, NaiveDateTime};
use fluxion_domain::{Currency, EventKind, LocationKind};
use proptest::prelude::*;
use std::io::Write;

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Reads every record of `bytes` and parses it with `options`: (line, result) per record.
fn parse_all(bytes: &[u8], options: &ImportOptions) -> Vec<(u64, Result<ParsedRow, String>)> {
    let mut source = CsvSource::from_bytes(bytes.to_vec()).expect("opens");
    let map = resolve(options.kind, source.header().to_vec(), &options.mapping, options.default_location.is_some())
        .expect("header maps");
    let parser = RowParser::new(map, options);
    let mut record = ByteRecord::new();
    let mut out = Vec::new();
    while let Some(line) = source.read(&mut record).expect("reads") {
        out.push((line, parser.parse(&record)));
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

#[test]
fn header_names_compare_without_case_accents_or_punctuation() {
    assert_eq!(normalize_name("Código de Barras"), "codigodebarras");
    assert_eq!(normalize_name(" PACK-SIZE "), "packsize");
    assert_eq!(normalize_name("Existencia\u{feff}"), "existencia");
    assert_eq!(normalize_name("Año"), "ano");
}

#[test]
fn spanish_sales_headers_map_to_canonical_fields() {
    let map =
        resolve(ImportKind::Sales, header(&["Sucursal", "Código", "Fecha", "Cantidad", "Monto", "Tasa"]), &[], false)
            .expect("maps");
    assert_eq!(map.column(Field::Store), Some(0));
    assert_eq!(map.column(Field::Product), Some(1));
    assert_eq!(map.column(Field::Date), Some(2));
    assert_eq!(map.column(Field::Quantity), Some(3));
    assert_eq!(map.column(Field::Amount), Some(4));
    assert_eq!(map.column(Field::Rate), Some(5));
    assert_eq!(map.column(Field::Key), None);
}

#[test]
fn canonical_names_win_over_aliases_and_a_column_feeds_one_field() {
    // `codigo` is an alias of product in sales, but `product` is the canonical name.
    let map =
        resolve(ImportKind::Sales, header(&["codigo", "store", "date", "qty", "product"]), &[], false).expect("maps");
    assert_eq!(map.column(Field::Product), Some(4));
    // Stock: `cantidad` is an on-hand alias; `producto` the product.
    let map =
        resolve(ImportKind::Stock, header(&["tienda", "producto", "fecha", "existencia"]), &[], false).expect("maps");
    assert_eq!(map.column(Field::Location), Some(0));
    assert_eq!(map.column(Field::OnHand), Some(3));
}

#[test]
fn explicit_mapping_overrides_and_later_mapping_wins() {
    let explicit = vec![
        ("quantity".to_owned(), "date".to_owned()),
        ("Quantity".to_owned(), "sales".to_owned()),
        ("product".to_owned(), "ITEM".to_owned()),
    ];
    let map = resolve(ImportKind::Sales, header(&["date", "store", "item", "sales"]), &explicit, false).expect("maps");
    assert_eq!(map.column(Field::Quantity), Some(3));
    assert_eq!(map.column(Field::Date), Some(0), "the column freed by the overridden mapping is matched again");
    assert_eq!(map.column(Field::Product), Some(2), "column names in mappings compare like headers");
}

#[test]
fn bad_explicit_mappings_are_named() {
    let h = header(&["date", "store", "item", "sales"]);
    let unknown_field = resolve(ImportKind::Sales, h.clone(), &[("qtty".to_owned(), "sales".to_owned())], false);
    assert_eq!(unknown_field.err(), Some(MappingProblem::UnknownField("qtty".to_owned())));
    let unknown_column = resolve(ImportKind::Sales, h, &[("quantity".to_owned(), "units".to_owned())], false);
    assert_eq!(
        unknown_column.err(),
        Some(MappingProblem::UnknownColumn { field: "quantity", column: "units".to_owned() })
    );
}

#[test]
fn every_missing_required_field_is_listed() {
    let missing = resolve(ImportKind::Sales, header(&["store", "item"]), &[], false).err();
    assert_eq!(missing, Some(MappingProblem::Missing(vec!["quantity", "date (or datetime)"])));
    let with_default =
        resolve(ImportKind::Sales, header(&["item", "month", "qty"]), &[("date".into(), "month".into())], true);
    assert!(with_default.is_ok(), "a default location replaces the store column");
    let products = resolve(ImportKind::Products, header(&["sku"]), &[], false).err();
    assert_eq!(products, Some(MappingProblem::Missing(vec!["name"])));
}

#[test]
fn missing_columns_error_names_file_fields_and_header() {
    let error = ImportError::MissingColumns {
        file: "ventas.csv".into(),
        kind: ImportKind::Sales,
        missing: vec!["quantity"],
        header: header(&["fecha", "tienda", "sku", "ventas"]),
    };
    let text = error.to_string();
    for part in
        ["ventas.csv", "quantity", "cantidad", "\"fecha\", \"tienda\", \"sku\", \"ventas\"", "quantity=<column>"]
    {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
}

#[test]
fn dates_parse_in_each_format() {
    assert_eq!(DateFormat::Iso.parse_date("2017-01-05"), Ok(day(2017, 1, 5)));
    assert_eq!(DateFormat::Iso.parse_date("2017/1/5"), Ok(day(2017, 1, 5)));
    assert_eq!(DateFormat::MonthDayYear.parse_date("1/29/2011"), Ok(day(2011, 1, 29)));
    assert_eq!(DateFormat::DayMonthYear.parse_date("29/01/2011"), Ok(day(2011, 1, 29)));
    assert_eq!(DateFormat::DayMonthYear.parse_date("29-1-2011"), Ok(day(2011, 1, 29)));
    assert_eq!(DateFormat::YearMonth.parse_date("1998-03"), Ok(day(1998, 3, 1)));
}

#[test]
fn bad_dates_say_why() {
    assert_eq!(DateFormat::Iso.parse_date("2017-02-30"), Err("no such day".to_owned()));
    assert_eq!(DateFormat::Iso.parse_date("17-02-03"), Err("expected YYYY-MM-DD".to_owned()));
    assert_eq!(DateFormat::Iso.parse_date("0017-02-03"), Err("year 17 is out of range".to_owned()));
    let hint = DateFormat::Iso.parse_date("1/29/2011").expect_err("not ISO");
    assert!(hint.contains("mdy"), "{hint}");
    assert!(DateFormat::MonthDayYear.parse_date("29/1/2011").is_err());
    assert!(DateFormat::YearMonth.parse_date("1998-03-01").is_err());
    assert!(DateFormat::Iso.parse_date("2017-01-05-").is_err());
    assert!(DateFormat::Iso.parse_date("２０１７-01-05").is_err(), "only ASCII digits");
}

#[test]
fn datetimes_take_an_optional_time() {
    let at = |s| DateFormat::Iso.parse_datetime(s);
    let expect = |h, m, s| day(2024, 1, 5).and_hms_opt(h, m, s).expect("valid time");
    assert_eq!(at("2024-01-05 13:45"), Ok(expect(13, 45, 0)));
    assert_eq!(at("2024-01-05T13:45:10"), Ok(expect(13, 45, 10)));
    assert_eq!(at("2024-01-05"), Ok(expect(0, 0, 0)));
    assert!(at("2024-01-05 25:00").is_err());
    assert_eq!(DateFormat::DayMonthYear.parse_datetime("5/1/2024 08:00"), Ok(expect(8, 0, 0)));
}

#[test]
fn decimals_accept_a_comma_and_thousands_separators() {
    assert_eq!(normalize_decimal(" 12,5 "), "12,5");
    assert_eq!(normalize_decimal("1.234,56"), "1234,56");
    assert_eq!(normalize_decimal("1,234.56"), "1234.56");
    assert_eq!(normalize_decimal("1.234.567,5"), "1234567,5");
    assert_eq!(normalize_decimal("3.5"), "3.5");
}

#[test]
fn flags_and_currencies_accept_common_spellings() {
    assert_eq!(parse_flag("1"), Ok(true));
    assert_eq!(parse_flag("Sí"), Ok(true));
    assert_eq!(parse_flag("0"), Ok(false));
    assert!(parse_flag("2").is_err());
    assert_eq!(parse_currency("Bs."), Ok(Currency::VES));
    assert_eq!(parse_currency("usd"), Ok(Currency::USD));
    assert!(parse_currency("dólares").is_err());
}

#[test]
fn kinds_presets_date_formats_and_mappings_parse_from_text() {
    assert_eq!("ventas".parse::<ImportKind>().ok(), Some(ImportKind::Sales));
    assert_eq!("Inventario".parse::<ImportKind>().ok(), Some(ImportKind::Stock));
    assert!("compras".parse::<ImportKind>().is_err());
    assert_eq!("m5_calendar".parse::<Preset>().ok(), Some(Preset::M5Calendar));
    for preset in Preset::ALL {
        assert_eq!(preset.name().parse::<Preset>().ok(), Some(preset));
    }
    assert_eq!("dmy".parse::<DateFormat>().ok(), Some(DateFormat::DayMonthYear));
    assert_eq!(parse_map_arg("quantity = sales").ok(), Some(("quantity".to_owned(), "sales".to_owned())));
    assert!(parse_map_arg("quantity").is_err());
    assert!(parse_map_arg("=sales").is_err());
}

#[test]
fn delimiter_is_the_most_frequent_separator_outside_quotes() {
    assert_eq!(detect_delimiter(b"date,store,item,sales\n"), b',');
    assert_eq!(detect_delimiter(b"fecha;tienda;producto;cantidad\r\n"), b';');
    assert_eq!(detect_delimiter(b"\"a;b;c\",x,y\n"), b',');
    assert_eq!(detect_delimiter(b"a\tb\tc\n"), b'\t');
    assert_eq!(detect_delimiter(b"single\n"), b',');
}

#[test]
fn gzip_is_detected_by_magic_bytes_and_bom_and_crlf_are_handled() {
    let text = b"\xEF\xBB\xBFdate;store;item;qty\r\n2024-01-01;S1;P1;3\r\n".to_vec();
    for bytes in [text.clone(), gzip(&text)] {
        let mut source = CsvSource::from_bytes(bytes).expect("opens");
        assert_eq!(source.header(), ["date", "store", "item", "qty"]);
        assert_eq!(source.delimiter(), b';');
        let mut record = ByteRecord::new();
        assert_eq!(source.read(&mut record).expect("reads"), Some(2));
        assert_eq!(record.get(3), Some(&b"3"[..]), "no stray carriage return");
        assert_eq!(source.read(&mut record).expect("reads"), None);
    }
    assert!(CsvSource::from_bytes(gzip(&text)).expect("opens").compressed());
    assert!(!CsvSource::from_bytes(text).expect("opens").compressed());
}

#[test]
fn empty_files_and_broken_gzip_are_open_errors() {
    assert!(matches!(CsvSource::from_bytes(Vec::new()), Err(OpenError::Empty)));
    assert!(matches!(CsvSource::from_bytes(b"\n\n\r\n".to_vec()), Err(OpenError::Empty)));
    assert!(matches!(CsvSource::from_bytes(vec![0x1f, 0x8b, 0, 1, 2]), Err(OpenError::Io(_))));
    let utf16 = CsvSource::from_bytes(vec![0xFF, 0xFE, b'a', 0, b'\n', 0]);
    assert!(matches!(&utf16, Err(OpenError::Io(e)) if e.to_string().contains("UTF-16")), "{utf16:?}");
}

#[test]
fn line_numbers_are_physical_lines_with_the_header_as_line_one() {
    let options = ImportOptions::new(ImportKind::Sales);
    let lf = "store,product,date,quantity\nS1,P1,2024-01-01,1\n\nS1,\"P\n2\",2024-01-02,2\nS1,P3,2024-01-03,3";
    let crlf = lf.replace('\n', "\r\n");
    let blank_first = format!("\n\n{lf}\n");
    for (text, expected) in [(lf.to_owned(), vec![2, 4, 6]), (crlf, vec![2, 4, 6]), (blank_first, vec![4, 6, 8])] {
        let lines: Vec<u64> = parse_all(text.as_bytes(), &options).into_iter().map(|(line, _)| line).collect();
        assert_eq!(lines, expected, "in {text:?}");
    }
}

#[test]
fn sales_rows_parse_amounts_rates_and_derive_keys() {
    let text = "tienda;producto;fecha;cantidad;monto;moneda;tasa\n\
                CCS-01;HAR-001;2024-01-05;1,5;54,75;VES;36,5\n\
                CCS-01;HAR-001;2024-01-06;2;3.10;;\n";
    let options = ImportOptions::new(ImportKind::Sales);
    let rows = parse_all(text.as_bytes(), &options);
    let Ok(ParsedRow::Sale { line, derived_key }) = &rows[0].1 else { panic!("a sale: {:?}", rows[0]) };
    assert!(*derived_key);
    assert_eq!(line.key.as_str(), "CCS-01:HAR-001:2024-01-05");
    assert_eq!(line.quantity.get(), 1.5);
    assert_eq!(line.amount.minor(), 5475);
    assert_eq!(line.amount.currency(), Currency::VES);
    assert_eq!(line.rate.micros(), 36_500_000);
    assert_eq!(line.amount_usd().minor(), 150);
    let Ok(ParsedRow::Sale { line, .. }) = &rows[1].1 else { panic!("a sale: {:?}", rows[1]) };
    assert_eq!(line.amount.currency(), Currency::USD, "the default currency");
    assert_eq!(line.amount.minor(), 310);
}

#[test]
fn sales_keys_come_from_the_key_column_or_include_the_time() {
    let text = "store,product,datetime,quantity,key\nS1,P1,2024-01-05 13:45,1,T-1/1\nS1,P1,2024-01-05 13:46,1,\n";
    let rows = parse_all(text.as_bytes(), &ImportOptions::new(ImportKind::Sales));
    let Ok(ParsedRow::Sale { line, derived_key }) = &rows[0].1 else { panic!("a sale: {:?}", rows[0]) };
    assert_eq!((line.key.as_str(), *derived_key), ("T-1/1", false));
    let expected: NaiveDateTime = day(2024, 1, 5).and_hms_opt(13, 45, 0).expect("valid");
    assert_eq!(line.sold_at, expected);
    assert_eq!(rows[1].1, Err("missing value for key (column \"key\")".to_owned()));

    let text = "store,product,datetime,quantity\nS1,P1,2024-01-05 13:45,1\n";
    let rows = parse_all(text.as_bytes(), &ImportOptions::new(ImportKind::Sales));
    let Ok(ParsedRow::Sale { line, .. }) = &rows[0].1 else { panic!("a sale: {:?}", rows[0]) };
    assert_eq!(line.key.as_str(), "S1:P1:2024-01-05T13:45:00");
}

#[test]
fn bad_sales_cells_are_reasons_naming_field_value_and_column() {
    let text = "store,product,date,qty,amount,currency\n\
                S1,P1,2024-01-05,abc,,\n\
                S1,P1,2024-13-05,1,,\n\
                S1,,2024-01-05,1,,\n\
                S1,P1,2024-01-05,-2,,\n\
                S1,P1,2024-01-05,1,100,VES\n\
                S1,P1,2024-01-05,1\n";
    let reasons: Vec<String> = parse_all(text.as_bytes(), &ImportOptions::new(ImportKind::Sales))
        .into_iter()
        .map(|(_, r)| r.expect_err("every row is bad"))
        .collect();
    assert_eq!(reasons[0], "bad quantity \"abc\" in column \"qty\": must be a number such as 12 or 1.25");
    assert_eq!(reasons[1], "bad date \"2024-13-05\" in column \"date\": no such day");
    assert_eq!(reasons[2], "missing value for product (column \"product\")");
    assert_eq!(reasons[3], "bad quantity \"-2\" in column \"qty\": must not be negative");
    assert_eq!(reasons[4], "missing value for rate: VES amounts need an exchange rate");
    assert_eq!(reasons[5], "expected 6 fields, found 4");
}

#[test]
fn carparts_missing_months_are_skipped_and_the_store_is_the_default() {
    let text = "part_id,month,qty\n21029627,1998-01,0\n21029627,1998-02,\n21029627,1998-13,\n";
    let rows = parse_all(text.as_bytes(), &Preset::Carparts.options());
    let Ok(ParsedRow::Sale { line, .. }) = &rows[0].1 else { panic!("a sale: {:?}", rows[0]) };
    assert_eq!(line.key.as_str(), "MAIN:21029627:1998-01-01");
    assert_eq!(rows[1].1, Ok(ParsedRow::Skipped));
    assert!(rows[2].1.is_err(), "a bad month is an error even when the quantity is missing");
}

#[test]
fn m5_calendar_rows_give_events_and_snap_paydays() {
    let text = "date,wm_yr_wk,weekday,wday,month,year,event_name_1,event_type_1,event_name_2,event_type_2,snap_TX\r\n\
                1/29/2011,11101,Saturday,1,1,2011,NA,NA,NA,NA,0\r\n\
                2/6/2011,11102,Sunday,2,2,2011,SuperBowl,Sporting,NA,NA,1\r\n\
                6/19/2016,11621,Sunday,2,6,2016,NBAFinalsEnd,Sporting,Father's day,Cultural,0\r\n\
                6/20/2016,11621,Monday,3,6,2016,Oops,NA,NA,NA,0\r\n";
    let rows = parse_all(text.as_bytes(), &Preset::M5Calendar.options());
    assert_eq!(rows[0].1, Ok(ParsedRow::Events(vec![])));
    let Ok(ParsedRow::Events(events)) = &rows[1].1 else { panic!("events: {:?}", rows[1]) };
    let found: Vec<(&str, EventKind)> = events.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(found, vec![("SuperBowl", EventKind::Sporting), ("SNAP TX", EventKind::Payday)]);
    assert!(events.iter().all(|e| e.day == day(2011, 2, 6)));
    let Ok(ParsedRow::Events(events)) = &rows[2].1 else { panic!("events: {:?}", rows[2]) };
    assert_eq!(events.len(), 2);
    assert_eq!(rows[3].1, Err("missing value for kind (column \"event_type_1\")".to_owned()));
}

#[test]
fn product_rows_take_defaults_barcodes_and_decimal_commas() {
    let text = "código;descripción;marca;precio;costo;empaque;barcodes\n\
                HAR-001;Harina de maíz 1 kg;P.A.N.;1,30;0,95;20;7591002000011|12345\n\
                HAR-002;Harina 2;;;;;\n\
                HAR-003;Harina 3;;1,30;;0;\n\
                HAR-004;Harina 4;;;;;7591002000012\n";
    let rows = parse_all(text.as_bytes(), &ImportOptions::new(ImportKind::Products));
    let Ok(ParsedRow::Product(p)) = &rows[0].1 else { panic!("a product: {:?}", rows[0]) };
    assert_eq!((p.price().minor(), p.cost().minor(), p.pack_size(), p.barcodes().len()), (130, 95, 20, 2));
    assert_eq!(p.brand(), "P.A.N.");
    let Ok(ParsedRow::Product(p)) = &rows[1].1 else { panic!("a product: {:?}", rows[1]) };
    assert_eq!((p.price().minor(), p.pack_size(), p.unit().as_str()), (0, 1, "each"));
    assert!(rows[2].1.as_ref().is_err_and(|e| e.contains("pack size")), "{:?}", rows[2].1);
    assert!(rows[3].1.as_ref().is_err_and(|e| e.contains("check digit")), "{:?}", rows[3].1);
}

#[test]
fn location_rows_default_name_city_and_kind() {
    let text = "codigo,nombre,ciudad,tipo\nCCS-01,Chacao,Caracas,tienda\nDEP-01,,,almacén\n";
    let rows = parse_all(text.as_bytes(), &ImportOptions::new(ImportKind::Locations));
    let Ok(ParsedRow::Location(l)) = &rows[1].1 else { panic!("a location: {:?}", rows[1]) };
    assert_eq!((l.name.as_str(), l.city.as_str(), l.kind), ("DEP-01", "—", LocationKind::Warehouse));
    let Ok(ParsedRow::Location(l)) = &rows[0].1 else { panic!("a location: {:?}", rows[0]) };
    assert_eq!((l.city.as_str(), l.kind), ("Caracas", LocationKind::Store));
}

#[test]
fn stock_rows_accept_negative_counts() {
    let text = "sucursal,sku,fecha,existencia\nCCS-01,HAR-001,05/01/2024,-3\n";
    let mut options = ImportOptions::new(ImportKind::Stock);
    options.date_format = DateFormat::DayMonthYear;
    let rows = parse_all(text.as_bytes(), &options);
    let Ok(ParsedRow::Stock(s)) = &rows[0].1 else { panic!("a snapshot: {:?}", rows[0]) };
    assert_eq!((s.day, s.on_hand.get()), (day(2024, 1, 5), -3.0));
}

#[test]
fn invalid_utf8_in_a_mapped_column_is_a_row_error() {
    let text = b"store,product,date,quantity,note\nS1,P\xff,2024-01-01,1,x\nS1,P1,2024-01-01,1,\xff\n";
    let rows = parse_all(text, &ImportOptions::new(ImportKind::Sales));
    assert_eq!(rows[0].1, Err("column \"product\" is not valid UTF-8".to_owned()));
    assert!(rows[1].1.is_ok(), "unmapped columns are not read");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn reading_and_parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for kind in ImportKind::ALL {
            let Ok(mut source) = CsvSource::from_bytes(bytes.clone()) else { continue };
            let mut options = ImportOptions::new(kind);
            options.mapping = source.header().iter().zip(kind.fields()).map(|(h, f)| (f.field.name().to_owned(), h.clone())).collect();
            let Ok(map) = resolve(kind, source.header().to_vec(), &options.mapping, false) else { continue };
            let parser = RowParser::new(map, &options);
            let mut record = ByteRecord::new();
            while let Ok(Some(_)) = source.read(&mut record) {
                let _ = parser.parse(&record);
            }
        }
    }

    #[test]
    fn dates_and_numbers_never_panic(s in "\\PC{0,24}") {
        for format in DateFormat::ALL {
            let _ = format.parse_date(&s);
            let _ = format.parse_datetime(&s);
        }
        let _ = normalize_decimal(&s);
        let _ = parse_flag(&s);
        let _ = parse_currency(&s);
    }
}
