//! One CSV record into one domain value, or the reason it cannot be one.
//!
//! This is pure: it knows the column map and the options but not the tenant's catalog; whether
//! a store or product exists is checked afterwards by the importer.

use super::mapping::{ColumnMap, Field};
use super::values::{DateFormat, normalize_decimal, parse_count, parse_currency, parse_flag};
use super::{ImportKind, ImportOptions};
use ::csv::ByteRecord;
use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike};
use fluxion_domain::product::ProductFields;
use fluxion_domain::{
    Barcode, CalendarEvent, Currency, EventKind, ExchangeRate, LineKey, Location, LocationCode, LocationKind, Money,
    Product, ProductCode, Quantity, SalesLine, StockQuantity, StockSnapshot, SupplierCode, Unit,
};
use std::fmt::Write as _;

/// What one good record holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParsedRow {
    /// A store or warehouse.
    Location(Location),
    /// A product.
    Product(Product),
    /// A sales line; `derived_key` when its key was made from store, product and date.
    Sale { line: SalesLine, derived_key: bool },
    /// A stock count.
    Stock(StockSnapshot),
    /// The events of one calendar day (possibly none).
    Events(Vec<CalendarEvent>),
    /// Nothing to import: a blank record or a missing (NA) quantity.
    Skipped,
}

/// Turns records of one file into [`ParsedRow`]s.
#[derive(Debug, Clone)]
pub(crate) struct RowParser {
    kind: ImportKind,
    map: ColumnMap,
    date_format: DateFormat,
    na_values: Vec<String>,
    currency: Currency,
    default_location: Option<LocationCode>,
    skip_missing_quantity: bool,
    payday_event_name: String,
}

impl RowParser {
    /// A parser for records laid out as `map` says.
    pub(crate) fn new(map: ColumnMap, options: &ImportOptions) -> Self {
        Self {
            kind: options.kind,
            map,
            date_format: options.date_format,
            na_values: options.na_values.iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect(),
            currency: options.currency,
            default_location: options.default_location.clone(),
            skip_missing_quantity: options.skip_missing_quantity,
            payday_event_name: options.payday_event_name.clone(),
        }
    }

    /// Parses one record; the error is the reason, for a row error.
    pub(crate) fn parse(&self, record: &ByteRecord) -> Result<ParsedRow, String> {
        let blank = record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace));
        if blank {
            return Ok(ParsedRow::Skipped);
        }
        if record.len() != self.map.width() {
            return Err(format!("expected {} fields, found {}", self.map.width(), record.len()));
        }
        let cells = Cells { parser: self, record };
        match self.kind {
            ImportKind::Products => self.product(&cells),
            ImportKind::Locations => self.location(&cells),
            ImportKind::Sales => self.sale(&cells),
            ImportKind::Stock => self.stock(&cells),
            ImportKind::Events => self.events(&cells),
        }
    }

    fn is_na(&self, value: &str) -> bool {
        self.na_values.iter().any(|na| na.eq_ignore_ascii_case(value))
    }

    fn product(&self, c: &Cells<'_>) -> Result<ParsedRow, String> {
        let code = c.parse(Field::Code, ProductCode::parse)?;
        let name = c.require(Field::Name)?.to_owned();
        let unit = match c.get(Field::Unit)? {
            Some(v) => v.parse::<Unit>().map_err(|e| c.bad(Field::Unit, v, e.reason()))?,
            None => Unit::Each,
        };
        let pack_size = match c.get(Field::PackSize)? {
            Some(v) => parse_count(v).map_err(|r| c.bad(Field::PackSize, v, &r))?,
            None => 1,
        };
        let shelf_life_days = match c.get(Field::ShelfLifeDays)? {
            Some(v) => Some(parse_count(v).map_err(|r| c.bad(Field::ShelfLifeDays, v, &r))?),
            None => None,
        };
        let money = |field: Field| -> Result<Money, String> {
            match c.get(field)? {
                Some(v) => Money::parse(&normalize_decimal(v), Currency::USD).map_err(|e| c.bad(field, v, e.reason())),
                None => Ok(Money::usd_cents(0)),
            }
        };
        let (cost, price) = (money(Field::Cost)?, money(Field::Price)?);
        let supplier =
            c.get(Field::Supplier)?.map(|v| parse_with(c, Field::Supplier, v, SupplierCode::parse)).transpose()?;
        let mut barcodes = Vec::new();
        if let Some(v) = c.get(Field::Barcodes)? {
            for part in v.split('|').map(str::trim).filter(|p| !p.is_empty()) {
                barcodes.push(Barcode::parse(part).map_err(|e| c.bad(Field::Barcodes, part, e.reason()))?);
            }
        }
        let fields = ProductFields {
            code,
            barcodes,
            name,
            brand: c.get(Field::Brand)?.unwrap_or_default().to_owned(),
            category: c.get(Field::Category)?.unwrap_or_default().to_owned(),
            unit,
            pack_size,
            shelf_life_days,
            cost,
            price,
            supplier,
        };
        Product::new(fields).map(ParsedRow::Product).map_err(|e| e.to_string())
    }

    fn location(&self, c: &Cells<'_>) -> Result<ParsedRow, String> {
        let code = c.parse(Field::Code, LocationCode::parse)?;
        let kind = match c.get(Field::Kind)? {
            Some(v) => v.parse::<LocationKind>().map_err(|e| c.bad(Field::Kind, v, e.reason()))?,
            None => LocationKind::Store,
        };
        let name = c.get(Field::Name)?.map_or_else(|| code.to_string(), str::to_owned);
        let city = c.get(Field::City)?.unwrap_or("—").to_owned();
        Ok(ParsedRow::Location(Location { code, name, city, kind }))
    }

    fn sale(&self, c: &Cells<'_>) -> Result<ParsedRow, String> {
        let store = self.location_code(c, Field::Store)?;
        let product = c.parse(Field::Product, ProductCode::parse)?;
        let (sold_at, has_time) = self.sold_at(c)?;
        let quantity = match c.get(Field::Quantity)? {
            Some(v) => Quantity::parse(&normalize_decimal(v)).map_err(|e| c.bad(Field::Quantity, v, e.reason()))?,
            None if self.skip_missing_quantity => return Ok(ParsedRow::Skipped),
            None => return Err(c.missing(Field::Quantity)),
        };
        let (amount, rate) = match c.get(Field::Amount)? {
            None => (Money::usd_cents(0), ExchangeRate::ONE),
            Some(v) => {
                let currency = match c.get(Field::Currency)? {
                    Some(cur) => parse_currency(cur).map_err(|r| c.bad(Field::Currency, cur, &r))?,
                    None => self.currency,
                };
                let amount =
                    Money::parse(&normalize_decimal(v), currency).map_err(|e| c.bad(Field::Amount, v, e.reason()))?;
                let rate = if currency == Currency::USD {
                    ExchangeRate::ONE
                } else {
                    match c.get(Field::Rate)? {
                        Some(r) => {
                            ExchangeRate::parse(&normalize_decimal(r)).map_err(|e| c.bad(Field::Rate, r, e.reason()))?
                        }
                        None => {
                            return Err(format!("missing value for rate: {currency} amounts need an exchange rate"));
                        }
                    }
                };
                (amount, rate)
            }
        };
        let (key, derived_key) = match c.get(Field::Key)? {
            Some(k) => (parse_with(c, Field::Key, k, LineKey::parse)?, false),
            None if self.map.has(Field::Key) => return Err(c.missing(Field::Key)),
            None => {
                let mut text = format!("{store}:{product}:");
                let d = sold_at.date();
                // Writing to a String cannot fail.
                let _ = write!(text, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
                if has_time {
                    let t = sold_at.time();
                    let _ = write!(text, "T{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
                    if t.nanosecond() != 0 {
                        let _ = write!(text, ".{:09}", t.nanosecond());
                    }
                }
                (LineKey::parse(&text).map_err(|e| e.to_string())?, true)
            }
        };
        let line = SalesLine { key, store, product, sold_at, quantity, amount, rate };
        Ok(ParsedRow::Sale { line, derived_key })
    }

    fn sold_at(&self, c: &Cells<'_>) -> Result<(NaiveDateTime, bool), String> {
        if let Some(v) = c.get(Field::DateTime)? {
            let at = self.date_format.parse_datetime(v).map_err(|r| c.bad(Field::DateTime, v, &r))?;
            return Ok((at, true));
        }
        if let Some(v) = c.get(Field::Date)? {
            let day = self.date_format.parse_date(v).map_err(|r| c.bad(Field::Date, v, &r))?;
            return Ok((day.and_time(NaiveTime::MIN), false));
        }
        Err(c.missing(if self.map.has(Field::Date) { Field::Date } else { Field::DateTime }))
    }

    fn stock(&self, c: &Cells<'_>) -> Result<ParsedRow, String> {
        let location = self.location_code(c, Field::Location)?;
        let product = c.parse(Field::Product, ProductCode::parse)?;
        let day = {
            let v = c.require(Field::Date)?;
            self.date_format.parse_date(v).map_err(|r| c.bad(Field::Date, v, &r))?
        };
        let on_hand = match c.get(Field::OnHand)? {
            Some(v) => StockQuantity::parse(&normalize_decimal(v)).map_err(|e| c.bad(Field::OnHand, v, e.reason()))?,
            None if self.skip_missing_quantity => return Ok(ParsedRow::Skipped),
            None => return Err(c.missing(Field::OnHand)),
        };
        Ok(ParsedRow::Stock(StockSnapshot { location, product, day, on_hand }))
    }

    fn events(&self, c: &Cells<'_>) -> Result<ParsedRow, String> {
        let day = {
            let v = c.require(Field::Date)?;
            self.date_format.parse_date(v).map_err(|r| c.bad(Field::Date, v, &r))?
        };
        let mut events = Vec::new();
        for (name_field, kind_field) in [(Field::Name, Field::Kind), (Field::Name2, Field::Kind2)] {
            match (c.get(name_field)?, c.get(kind_field)?) {
                (None, None) => {}
                (Some(name), Some(kind)) => {
                    let kind = kind.parse::<EventKind>().map_err(|e| c.bad(kind_field, kind, e.reason()))?;
                    events.push(CalendarEvent { day, name: name.to_owned(), kind });
                }
                (Some(_), None) => return Err(c.missing(kind_field)),
                (None, Some(_)) => return Err(c.missing(name_field)),
            }
        }
        if let Some(v) = c.get(Field::Payday)?
            && parse_flag(v).map_err(|r| c.bad(Field::Payday, v, &r))?
        {
            events.push(CalendarEvent { day, name: self.payday_event_name.clone(), kind: EventKind::Payday });
        }
        Ok(ParsedRow::Events(events))
    }

    /// The store or location of a row: its column, or the default when the file has none.
    fn location_code(&self, c: &Cells<'_>, field: Field) -> Result<LocationCode, String> {
        match (&self.default_location, self.map.has(field)) {
            (Some(default), false) => Ok(default.clone()),
            _ => c.parse(field, LocationCode::parse),
        }
    }
}

/// The cells of one record, read through the column map.
struct Cells<'r> {
    parser: &'r RowParser,
    record: &'r ByteRecord,
}

impl<'r> Cells<'r> {
    /// The trimmed value of `field`; `None` when the field has no column, or the cell is empty or NA.
    fn get(&self, field: Field) -> Result<Option<&'r str>, String> {
        let Some(column) = self.parser.map.column(field) else {
            return Ok(None);
        };
        let bytes = self.record.get(column).unwrap_or_default();
        let text =
            std::str::from_utf8(bytes).map_err(|_| format!("column {:?} is not valid UTF-8", self.header(field)))?;
        let text = text.trim();
        if text.is_empty() || self.parser.is_na(text) { Ok(None) } else { Ok(Some(text)) }
    }

    /// The value of a field that must have one.
    fn require(&self, field: Field) -> Result<&'r str, String> {
        self.get(field)?.ok_or_else(|| self.missing(field))
    }

    /// The value of a required field parsed by a domain constructor.
    fn parse<T>(&self, field: Field, parse: fn(&str) -> Result<T, fluxion_domain::ParseError>) -> Result<T, String> {
        let value = self.require(field)?;
        parse_with(self, field, value, parse)
    }

    fn header(&self, field: Field) -> &str {
        self.parser.map.header_of(field).unwrap_or("")
    }

    fn missing(&self, field: Field) -> String {
        match self.parser.map.header_of(field) {
            Some(column) => format!("missing value for {field} (column {column:?})"),
            None => format!("missing value for {field}"),
        }
    }

    fn bad(&self, field: Field, value: &str, reason: &str) -> String {
        format!("bad {field} {:?} in column {:?}: {reason}", shorten(value), self.header(field))
    }
}

fn parse_with<T>(
    c: &Cells<'_>,
    field: Field,
    value: &str,
    parse: fn(&str) -> Result<T, fluxion_domain::ParseError>,
) -> Result<T, String> {
    parse(value).map_err(|e| c.bad(field, value, e.reason()))
}

/// At most 40 characters of a value, for messages.
fn shorten(value: &str) -> String {
    if value.chars().count() <= 40 { value.to_owned() } else { value.chars().take(40).collect::<String>() + "…" }
}
