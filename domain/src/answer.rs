//! The unified answer: what the orchestrator returns for one question, whoever asked and however.
//!
//! It carries the text for people (Spanish) and the structured parts behind it: what was understood,
//! the forecast figures with their bands, alerts, recommendations, which agents contributed or failed
//! and how long each took, and the id of the trace that records the request.

use crate::{Alert, LocationCode, ProductCode, Recommendation};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Intent {
    /// How much of a product is needed over a horizon ("¿cuánta harina necesito para la quincena?").
    Need,
    /// What is about to run out ("¿qué se me va a agotar en Chacao?").
    RunningOut,
    /// What is overstocked ("¿qué tengo de más?").
    Overstock,
    /// What to move between stores ("¿qué debo transferir?").
    Transfers,
    /// How a product sold ("¿cómo se vendió el arroz?").
    Sales,
    /// What is on the shelf and on its way ("¿cuánta harina me queda?", "¿hay aceite en
    /// Valencia?", "¿cuándo llega el pedido de arroz?").
    Stock,
    /// What happened before: past alerts and the user's own past questions ("¿qué pasó con el
    /// aceite la semana pasada?").
    Recall,
    /// An answer to a pending suggestion: yes or no.
    Confirm {
        /// "sí" / "dale" = true; "no" = false.
        yes: bool,
    },
    /// Greetings, thanks, help, or anything not understood.
    Help,
}

impl Intent {
    /// Stable name (for traces, metrics and the API).
    pub fn as_str(&self) -> &'static str {
        match self {
            Intent::Need => "need",
            Intent::RunningOut => "running_out",
            Intent::Overstock => "overstock",
            Intent::Transfers => "transfers",
            Intent::Sales => "sales",
            Intent::Stock => "stock",
            Intent::Recall => "recall",
            Intent::Confirm { yes: true } => "confirm_yes",
            Intent::Confirm { yes: false } => "confirm_no",
            Intent::Help => "help",
        }
    }
}

/// The agents that take part in an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// Understands the question and composes the answer.
    Chat,
    /// Demand forecasts.
    Forecast,
    /// Stockout, overstock, expiry and the other alerts.
    Alert,
    /// Orders and transfers.
    Optimizer,
}

impl AgentKind {
    /// Every agent, in plan order.
    pub const ALL: [AgentKind; 4] = [AgentKind::Chat, AgentKind::Forecast, AgentKind::Alert, AgentKind::Optimizer];

    /// Stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            AgentKind::Chat => "chat",
            AgentKind::Forecast => "forecast",
            AgentKind::Alert => "alert",
            AgentKind::Optimizer => "optimizer",
        }
    }

    /// What the agent gives, in Spanish, for saying what is missing ("el pronóstico").
    pub fn gives_es(&self) -> &'static str {
        match self {
            AgentKind::Chat => "la interpretación de la pregunta",
            AgentKind::Forecast => "el pronóstico de demanda",
            AgentKind::Alert => "las alertas",
            AgentKind::Optimizer => "las recomendaciones de pedido y transferencia",
        }
    }
}

/// How an agent's part of a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AgentStatus {
    /// It answered.
    Ok,
    /// It failed (crashed or returned an error).
    Failed {
        /// What went wrong (for operators).
        reason: String,
    },
    /// It did not answer within its deadline.
    TimedOut {
        /// The deadline, milliseconds.
        deadline_ms: u64,
    },
    /// The plan did not need it, or could not call it because an earlier stage was missing.
    Skipped,
}

impl AgentStatus {
    /// Stable name (the JSON `status`): ok, failed, timed_out, skipped.
    pub fn as_str(&self) -> &'static str {
        match self {
            AgentStatus::Ok => "ok",
            AgentStatus::Failed { .. } => "failed",
            AgentStatus::TimedOut { .. } => "timed_out",
            AgentStatus::Skipped => "skipped",
        }
    }

    /// Whether the agent's part is missing from the answer because of a fault.
    pub fn is_fault(&self) -> bool {
        matches!(self, AgentStatus::Failed { .. } | AgentStatus::TimedOut { .. })
    }
}

/// One agent's part of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// The agent.
    pub agent: AgentKind,
    /// How it ended.
    #[serde(flatten)]
    pub status: AgentStatus,
    /// Wall time as the orchestrator saw it (call, queueing, compute, reply), milliseconds.
    pub millis: f64,
    /// Time in the agent's own logic, milliseconds (the rest of `millis` is messaging).
    pub compute_millis: f64,
}

/// A forecast figure for one product at one store over the question's horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastFigure {
    /// The store.
    pub store: LocationCode,
    /// Its name.
    pub store_name: String,
    /// The product.
    pub product: ProductCode,
    /// Its name.
    pub product_name: String,
    /// What its quantities count (pieces, kilograms, litres).
    pub unit: crate::Unit,
    /// First day covered (tomorrow).
    pub from: NaiveDate,
    /// Days covered.
    pub days: u32,
    /// Expected demand over those days, units.
    pub expected: f64,
    /// 10th percentile of the total.
    pub p10: f64,
    /// 90th percentile of the total.
    pub p90: f64,
    /// Units on hand tonight.
    pub on_hand: f64,
    /// Units on their way (orders and transfers).
    pub inbound: f64,
    /// Units sold in the last 7 days with data.
    pub sold_last_7: f64,
    /// Units sold in the 7 days before those.
    pub sold_prev_7: f64,
    /// Units sold in the last 28 days.
    pub sold_last_28: f64,
    /// The store's last day with data ("hoy" or "ayer" in a question about sales).
    #[serde(default)]
    pub last_day: Option<NaiveDate>,
    /// Units sold that day.
    #[serde(default)]
    pub sold_last_day: f64,
    /// Units sold the same weekday a week before it.
    #[serde(default)]
    pub sold_week_before_day: f64,
    /// Days of expected demand the units on hand cover from tomorrow (arrivals aside); `None`
    /// when they outlast the forecast.
    #[serde(default)]
    pub cover_days: Option<f64>,
    /// What is on its way, soonest first (an arrival before tomorrow is overdue).
    #[serde(default)]
    pub arrivals: Vec<Arrival>,
    /// The model that made the forecast.
    pub model: String,
    /// Its typical error in backtests, percent (when measured).
    pub typical_error_pct: Option<f64>,
}

/// Units on their way to a store: a supplier's order or a transfer from another store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arrival {
    /// The day it is expected (the purchase order's or the transfer's date).
    pub on: NaiveDate,
    /// Units.
    pub units: f64,
    /// From a supplier (otherwise a transfer between stores).
    pub from_supplier: bool,
}

/// What to order over a question's horizon, at the stores it names, and what fits its budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderList {
    /// The money there is to spend, USD, when the question named it.
    pub budget_usd: Option<f64>,
    /// The orders due by the end of the horizon: without a budget the most margin protected
    /// first; with one, those it buys first (most margin per dollar first), then those left out.
    pub lines: Vec<ProposedOrder>,
}

impl OrderList {
    /// Value and margin protected of the lines `chosen` or not, USD.
    pub fn totals(&self, chosen: bool) -> (f64, f64) {
        ProposedOrder::worth(self.lines.iter().filter(|l| l.chosen == chosen))
    }
}

impl ProposedOrder {
    /// Value and margin protected of `lines`, USD.
    pub fn worth<'a>(lines: impl IntoIterator<Item = &'a ProposedOrder>) -> (f64, f64) {
        lines.into_iter().fold((0.0, 0.0), |(v, b), l| (v + l.value_usd, b + l.benefit_usd))
    }
}

/// One order of an [`OrderList`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedOrder {
    /// The store that receives.
    pub store: LocationCode,
    /// Its name.
    pub store_name: String,
    /// The product.
    pub product: ProductCode,
    /// Its name.
    pub product_name: String,
    /// What its quantities count.
    pub unit: crate::Unit,
    /// Units to order.
    pub units: f64,
    /// What they cost, USD.
    pub value_usd: f64,
    /// Margin they protect, USD.
    pub benefit_usd: f64,
    /// The day to place the order (the supplier's next order day).
    pub on: NaiveDate,
    /// Within the budget (every line, without one).
    pub chosen: bool,
}

/// What a question asks about the deliveries on their way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coming {
    /// What arrives over the horizon, and what is late ("¿qué me llega mañana?").
    Due,
    /// Only what is late ("¿qué pedidos están atrasados?").
    Late,
}

/// The deliveries the stores a question names expect: those already late, then those due by the
/// end of its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deliveries {
    /// The evening the books are for: a delivery expected by then that has not come is late.
    pub today: NaiveDate,
    /// The last day of the window asked about ("mañana": the day after `today`).
    pub until: NaiveDate,
    /// The first day of the window when it is not the day after `today` ("¿qué me llega el
    /// martes?": that day only).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Only the late ones were asked about ("¿qué pedidos están atrasados?").
    pub late_only: bool,
    /// Only purchase orders (`Some(true)`: "¿qué proveedores están atrasados?") or only transfers
    /// (`Some(false)`: "¿qué transferencias me llegan?") were asked about.
    #[serde(default)]
    pub from_supplier: Option<bool>,
    /// Only these senders were asked about, by name ("¿cuándo llega el pedido de Polar?"; empty:
    /// every sender).
    #[serde(default)]
    pub senders: Vec<String>,
    /// The late ones first (the longest overdue first), then by day, the largest first.
    pub list: Vec<Delivery>,
}

impl Deliveries {
    /// The deliveries that were due by `today` and have not come.
    pub fn late(&self) -> impl Iterator<Item = &Delivery> {
        self.list.iter().filter(|d| d.expected_on <= self.today)
    }

    /// The deliveries due after `today`, from `from` through `until`.
    pub fn coming(&self) -> impl Iterator<Item = &Delivery> {
        self.list.iter().filter(|d| d.expected_on > self.today && self.from.is_none_or(|f| d.expected_on >= f))
    }

    /// The first day of the window.
    pub fn first_day(&self) -> NaiveDate {
        self.from.unwrap_or(self.today + chrono::Days::new(1))
    }
}

/// One purchase order or transfer on its way to a store, as the books have it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The purchase order's or transfer's number.
    pub number: String,
    /// The store that receives.
    pub store: LocationCode,
    /// Its name.
    pub store_name: String,
    /// Who sends it: the supplier's name, or the sending store's or warehouse's.
    pub from_name: String,
    /// A supplier sends it (otherwise another of the chain's locations).
    pub from_supplier: bool,
    /// The day it is expected.
    pub expected_on: NaiveDate,
    /// Products on it.
    pub products: usize,
    /// Units on it.
    pub units: f64,
    /// Their value at the catalog's cost, USD.
    pub value_at_cost: f64,
    /// Its largest lines by value, at most five.
    pub lines: Vec<DeliveryLine>,
}

/// One line of a [`Delivery`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLine {
    /// The product.
    pub product: ProductCode,
    /// Its name.
    pub product_name: String,
    /// What its quantities count.
    pub unit: crate::Unit,
    /// Units.
    pub units: f64,
}

/// What a store holds tonight, in money, what it is missing and what it is waiting for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreStock {
    /// The store.
    pub store: LocationCode,
    /// Its name.
    pub store_name: String,
    /// Units on hand at cost, USD.
    pub value_at_cost: f64,
    /// Days of sales the stock covers: its value at cost over the expected demand of the next
    /// 28 days at cost, per day (`None` when nothing is expected to sell).
    pub cover_days: Option<f64>,
    /// Products with units on hand.
    pub products_on_hand: usize,
    /// Products that sell and have nothing on hand, the largest expected sales first (at most
    /// five names).
    pub empty: Vec<String>,
    /// How many products sell and have nothing on hand.
    pub empty_count: usize,
    /// Products with goods (orders or transfers) expected over the next 7 days.
    pub arriving: usize,
    /// Those goods' value at cost, USD.
    pub arriving_value: f64,
    /// Products with goods that were due by tonight and have not come.
    pub overdue: usize,
}

/// What a store sold, in money, on its last day with data and over the week to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreSales {
    /// The store.
    pub store: LocationCode,
    /// Its name.
    pub store_name: String,
    /// Its last day with data.
    pub last_day: NaiveDate,
    /// Revenue that day, USD, as recorded.
    pub revenue_last_day: f64,
    /// Revenue the same weekday a week before, USD.
    pub revenue_week_before_day: f64,
    /// Revenue over the 7 days to the last day, USD.
    pub revenue_last_7: f64,
    /// Revenue over the 7 days before those, USD.
    pub revenue_prev_7: f64,
    /// The products that sold most (by units at their list price) over the period asked, with
    /// their units: at most five.
    pub best_sellers: Vec<BestSeller>,
}

impl StoreSales {
    /// Revenue over the period asked (its last day, or the week to it) and over the same span a
    /// week before.
    pub fn period(&self, one_day: bool) -> (f64, f64) {
        if one_day {
            (self.revenue_last_day, self.revenue_week_before_day)
        } else {
            (self.revenue_last_7, self.revenue_prev_7)
        }
    }
}

/// A product among a store's best sellers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestSeller {
    /// Its name.
    pub product_name: String,
    /// What its quantities count.
    pub unit: crate::Unit,
    /// Units sold over the period.
    pub units: f64,
}

/// A product or store as the question named it and as it was resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// The words in the question.
    pub mention: String,
    /// The code it resolved to.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Match score, 0–1.
    pub score: f64,
}

/// Everything Fluxion answers to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The trace that records the request.
    pub trace_id: Uuid,
    /// The question.
    pub question: String,
    /// The answer for people, in Spanish.
    pub text_es: String,
    /// What was understood.
    pub intent: Intent,
    /// Products named in the question, resolved.
    pub products: Vec<Resolved>,
    /// Products the question also matched, set aside for a clear best seller (the text mentions them).
    pub alternatives: Vec<Resolved>,
    /// Stores named in the question, resolved (none = all the chain's stores).
    pub stores: Vec<Resolved>,
    /// Days ahead the question is about.
    pub horizon_days: u32,
    /// Forecast figures per product × store.
    pub figures: Vec<ForecastFigure>,
    /// A store's sales in money, when the question asks about sales without naming a product.
    #[serde(default)]
    pub sales: Vec<StoreSales>,
    /// What a store holds, when the question asks about stock without naming a product.
    #[serde(default)]
    pub stock: Vec<StoreStock>,
    /// What to order, when the question asks without naming a product ("¿qué pido hoy?").
    #[serde(default)]
    pub orders: Option<OrderList>,
    /// What the stores expect, when the question asks what is coming without naming a product
    /// ("¿qué me llega mañana?", "¿qué pedidos están atrasados?").
    #[serde(default)]
    pub deliveries: Option<Deliveries>,
    /// Alerts that bear on the question, most severe first.
    pub alerts: Vec<Alert>,
    /// Orders and transfers suggested, largest benefit first.
    pub recommendations: Vec<Recommendation>,
    /// Each agent's part.
    pub agents: Vec<AgentReport>,
    /// Whether a part is missing because an agent failed or timed out (the text says which).
    pub degraded: bool,
    /// The language model that phrased the text, when one did (none: the grounded templates).
    #[serde(default)]
    pub phrased_by: Option<String>,
    /// The suggestion the user approved with this message ("sí", "dale"), when one was pending.
    #[serde(default)]
    pub approved: Option<Recommendation>,
    /// Wall time of the whole request, milliseconds.
    pub millis: f64,
}
