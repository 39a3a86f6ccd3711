//! Presets: the options that load known file layouts, among them every shared benchmark data set.

use super::{DateFormat, ImportKind, ImportOptions};
use fluxion_domain::{LocationCode, ParseError};
use std::fmt;
use std::str::FromStr;

/// A known file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// M5 long format `id,store,item,date,qty` (usually gzip'd): sales keyed
    /// `{store}:{item}:{date}`; stores and products created from the file.
    M5,
    /// The M5 calendar `date,…,event_name_1,event_type_1,event_name_2,event_type_2,snap_TX`
    /// (`M/D/YYYY`, `NA` = none): events, and `snap_TX = 1` days as paydays named "SNAP TX".
    M5Calendar,
    /// Kaggle store-item demand `date,store,item,sales`: stores and products created.
    StoreItem,
    /// Car parts `part_id,month,qty`: monthly (`YYYY-MM`) sales of one store `MAIN`; an empty
    /// quantity is a missing month, skipped; products created.
    Carparts,
}

impl Preset {
    /// Every preset, for help texts.
    pub const ALL: [Preset; 4] = [Preset::M5, Preset::M5Calendar, Preset::StoreItem, Preset::Carparts];

    /// The name accepted by [`FromStr`].
    pub fn name(&self) -> &'static str {
        match self {
            Preset::M5 => "m5",
            Preset::M5Calendar => "m5-calendar",
            Preset::StoreItem => "store-item",
            Preset::Carparts => "carparts",
        }
    }

    /// One line on the layout it reads.
    pub fn description(&self) -> &'static str {
        match self {
            Preset::M5 => "M5 daily sales, id,store,item,date,qty (gzip or plain)",
            Preset::M5Calendar => "M5 calendar: events and SNAP paydays, M/D/YYYY dates",
            Preset::StoreItem => "store-item demand, date,store,item,sales",
            Preset::Carparts => "car parts monthly sales, part_id,month,qty, one store MAIN",
        }
    }

    /// The options of this preset; adjust them (atomic, batch size, more mappings) as needed.
    pub fn options(&self) -> ImportOptions {
        match self {
            Preset::M5 => {
                let mut o = ImportOptions::new(ImportKind::Sales)
                    .map("store", "store")
                    .map("product", "item")
                    .map("date", "date")
                    .map("quantity", "qty");
                o.create_missing = true;
                o
            }
            Preset::M5Calendar => {
                let mut o = ImportOptions::new(ImportKind::Events)
                    .map("date", "date")
                    .map("name", "event_name_1")
                    .map("kind", "event_type_1")
                    .map("name_2", "event_name_2")
                    .map("kind_2", "event_type_2")
                    .map("payday", "snap_TX");
                o.date_format = DateFormat::MonthDayYear;
                o.na_values = vec!["NA".to_owned()];
                o.payday_event_name = "SNAP TX".to_owned();
                o
            }
            Preset::StoreItem => {
                let mut o = ImportOptions::new(ImportKind::Sales)
                    .map("store", "store")
                    .map("product", "item")
                    .map("date", "date")
                    .map("quantity", "sales");
                o.create_missing = true;
                o
            }
            Preset::Carparts => {
                let mut o = ImportOptions::new(ImportKind::Sales)
                    .map("product", "part_id")
                    .map("date", "month")
                    .map("quantity", "qty");
                o.date_format = DateFormat::YearMonth;
                o.create_missing = true;
                o.skip_missing_quantity = true;
                o.na_values = vec!["NA".to_owned()];
                o.default_location = LocationCode::parse("MAIN").ok();
                o
            }
        }
    }
}

impl FromStr for Preset {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == wanted)
            .ok_or_else(|| ParseError::new("import preset", s, "must be m5, m5-calendar, store-item or carparts"))
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
