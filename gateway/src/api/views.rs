//! What the API sends and receives: plain, documented shapes (OpenAPI schemas), converted from the
//! domain's values. The domain may change its insides; these stay the contract.

use chrono::{DateTime, NaiveDate, Utc};
use fluxion_domain::forecast::Forecast;
use fluxion_domain::{
    Alert, Answer, Location, Product, Recommendation, RecommendedAction, StockSnapshot, Tenant, Trace, TraceSummary,
};
use fluxion_memory::{ApiKeyRecord, StoredAlert, StoredForecast, StoredRecommendation, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A tenant (a retail chain).
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    /// Permanent id.
    pub id: Uuid,
    /// Short name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self { id: t.id.as_uuid(), slug: t.slug.to_string(), name: t.name.clone(), created_at: t.created_at }
    }
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Permanent id.
    pub id: Uuid,
    /// Login.
    pub email: String,
    /// Display name.
    pub name: String,
    /// owner, manager, viewer or operator.
    pub role: String,
    /// Whether the user can log in.
    pub disabled: bool,
    /// The tenant's slug (null for operators).
    pub tenant: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl UserView {
    /// A user of `tenant`.
    pub fn of(u: &UserRecord, tenant: Option<&Tenant>) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.as_str().to_owned(),
            disabled: u.disabled,
            tenant: tenant.map(|t| t.slug.to_string()),
            created_at: u.created_at,
        }
    }
}

/// An API key as listed (the secret is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Permanent id.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// Its public prefix.
    pub prefix: String,
    /// read, ingest, ask, act.
    pub scopes: Vec<String>,
    /// Its own budget, requests per minute, with a burst of ten seconds of it (null: the
    /// deployment's per-key budget).
    pub rate_per_minute: Option<u32>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKeyRecord> for ApiKeyView {
    fn from(k: &ApiKeyRecord) -> Self {
        Self {
            id: k.id,
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            rate_per_minute: k.rate_per_minute,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new API key: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewApiKeyView {
    /// The key as listed.
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The whole key, to send as `Authorization: Bearer <key>` or `X-Api-Key`. Shown once.
    pub secret: String,
}

/// Tokens after a login or a refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// "Bearer".
    pub token_type: String,
    /// Seconds the access token lasts.
    pub expires_in: u64,
    /// Use once at `/api/v1/auth/refresh` for a new pair; reusing it revokes the session.
    pub refresh_token: String,
    /// Seconds the refresh token lasts.
    pub refresh_expires_in: u64,
}

/// A store or warehouse.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreView {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// City.
    pub city: String,
    /// "store" or "warehouse".
    pub kind: String,
}

impl From<&Location> for StoreView {
    fn from(l: &Location) -> Self {
        Self { code: l.code.to_string(), name: l.name.clone(), city: l.city.clone(), kind: l.kind.as_str().to_owned() }
    }
}

/// A product.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Brand.
    pub brand: String,
    /// Category.
    pub category: String,
    /// Barcodes.
    pub barcodes: Vec<String>,
    /// Unit of sale.
    pub unit: String,
    /// Units per pack.
    pub pack_size: u32,
    /// Shelf life in days, when perishable.
    pub shelf_life_days: Option<u32>,
    /// Unit cost.
    pub cost: f64,
    /// Unit price.
    pub price: f64,
    /// Currency of cost and price.
    pub currency: String,
    /// Supplier code.
    pub supplier: Option<String>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            code: p.code().to_string(),
            name: p.name().to_owned(),
            brand: p.brand().to_owned(),
            category: p.category().to_owned(),
            barcodes: p.barcodes().iter().map(ToString::to_string).collect(),
            unit: p.unit().as_str().to_owned(),
            pack_size: p.pack_size(),
            shelf_life_days: p.shelf_life_days(),
            cost: p.cost().as_f64(),
            price: p.price().as_f64(),
            currency: p.price().currency().as_str().to_owned(),
            supplier: p.supplier().map(ToString::to_string),
        }
    }
}

/// A stock level.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    /// Store code.
    pub store: String,
    /// Product code.
    pub product: String,
    /// Day of the count.
    pub day: NaiveDate,
    /// Units on hand (negative when the system oversold).
    pub on_hand: f64,
}

impl From<&StockSnapshot> for StockView {
    fn from(s: &StockSnapshot) -> Self {
        Self { store: s.location.to_string(), product: s.product.to_string(), day: s.day, on_hand: s.on_hand.get() }
    }
}

/// One sales line sent by a point of sale.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleIn {
    /// The line's own id at the source (a ticket and line number); the same id on the same day is
    /// stored once.
    pub line_key: String,
    /// Store code.
    pub store: String,
    /// Product code.
    pub product: String,
    /// When it was sold (local time, `2026-11-28T10:15:00`), between 1990 and tomorrow.
    pub sold_at: chrono::NaiveDateTime,
    /// Units, 0 to 1,000,000 (fractional for weighed goods).
    #[schema(minimum = 0, maximum = 1000000)]
    pub quantity: f64,
    /// Amount charged in `currency`, as a decimal string ("12.50") or a number.
    #[schema(value_type = String, example = "12.50")]
    pub amount: serde_json::Value,
    /// ISO 4217 currency (USD, VES …).
    pub currency: String,
    /// Units of `currency` per US dollar (1 for USD; required for other currencies).
    #[schema(exclusive_minimum = 0)]
    pub rate: Option<f64>,
}

/// A batch of sales.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesBatch {
    /// 1 to 10,000 lines.
    #[schema(min_items = 1, max_items = 10000)]
    pub lines: Vec<SaleIn>,
}

/// What a sales batch did.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResult {
    /// Lines stored for the first time.
    pub sales_new: u64,
    /// Lines already stored (same key and day), left as they were.
    pub sales_duplicate: u64,
    /// Whether this is the stored result of an earlier request with the same `Idempotency-Key`.
    pub replayed: bool,
}

/// One day of a forecast.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastDay {
    /// The day.
    pub date: NaiveDate,
    /// Expected units.
    pub mean: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// A calendar effect on the forecast ("Quincena: +35 %").
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectView {
    /// Spanish label.
    pub label_es: String,
    /// Multiplier on demand.
    pub lift: f64,
}

/// A forecast of one product at one store.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastView {
    /// Store code.
    pub store: String,
    /// Product code.
    pub product: String,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
    /// The model that produced it.
    pub model: String,
    /// smooth, erratic, intermittent or lumpy.
    pub demand_class: String,
    /// Typical backtest error of a horizon's total, percent (20 = ±20 %).
    pub typical_error_pct: Option<f64>,
    /// Backtest RMSSE (below 1: better than the naive forecast).
    pub rmsse: Option<f64>,
    /// Calendar effects of the coming days.
    pub effects: Vec<EffectView>,
    /// Day by day, up to the asked horizon.
    pub days: Vec<ForecastDay>,
}

impl ForecastView {
    /// The first `horizon` days of a stored forecast.
    pub fn of(f: &StoredForecast, horizon: usize) -> Self {
        let fc: &Forecast = &f.forecast;
        Self {
            store: f.store.to_string(),
            product: f.product.to_string(),
            computed_at: f.computed_at,
            model: fc.model.clone(),
            demand_class: fc.class.as_str().to_owned(),
            typical_error_pct: fc.backtest.as_ref().map(|b| b.typical_error_pct),
            rmsse: fc.backtest.as_ref().map(|b| b.rmsse),
            effects: fc.effects.iter().map(|e| EffectView { label_es: e.label_es.clone(), lift: e.lift }).collect(),
            days: fc
                .points
                .iter()
                .take(horizon)
                .map(|p| ForecastDay { date: p.date, mean: p.mean, p10: p.p10, p50: p.p50, p90: p.p90 })
                .collect(),
        }
    }
}

/// The JSON name of a unit enum that has no `as_str`.
fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// An alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    /// Permanent id.
    pub id: Uuid,
    /// imminent_stockout, overstock, sales_anomaly, phantom_stock, expiring_lot, transfer_opportunity, stale_data.
    pub kind: String,
    /// info, warning, critical.
    pub severity: String,
    /// open, acknowledged, resolved.
    pub status: String,
    /// Store code.
    pub store: String,
    /// Product code.
    pub product: Option<String>,
    /// Money at stake, USD.
    pub impact_usd: f64,
    /// What the money is (lost margin, capital tied up, value expiring).
    pub impact: String,
    /// What to do, with its numbers.
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
    /// Why, in Spanish.
    pub reason_es: String,
    /// Probability of the event, when it has one.
    pub probability: Option<f64>,
    /// The day the stock runs out, for stockouts.
    pub runs_out_on: Option<NaiveDate>,
    /// The day it was raised.
    pub raised_on: NaiveDate,
    /// The day it stops mattering.
    pub expires_on: NaiveDate,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// useful or wrong, when someone said.
    pub feedback: Option<String>,
}

impl From<&StoredAlert> for AlertView {
    fn from(s: &StoredAlert) -> Self {
        let a: &Alert = &s.alert;
        Self {
            id: s.id,
            kind: a.kind.as_str().to_owned(),
            severity: a.severity.as_str().to_owned(),
            status: s.status.as_str().to_owned(),
            store: a.store.to_string(),
            product: a.product.as_ref().map(ToString::to_string),
            impact_usd: a.impact_usd,
            impact: name_of(&a.impact),
            action: serde_json::to_value(&a.action).unwrap_or_default(),
            reason_es: a.reason_es.clone(),
            probability: a.probability,
            runs_out_on: a.runs_out_on,
            raised_on: a.raised_on,
            expires_on: a.expires_on,
            created_at: s.created_at,
            acknowledged_by: s.acknowledged_by.clone(),
            acknowledged_at: s.acknowledged_at,
            feedback: s.feedback.as_ref().map(|f| f.verdict.as_str().to_owned()),
        }
    }
}

/// A recommended order or transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationView {
    /// Permanent id.
    pub id: Uuid,
    /// "order" or "transfer".
    pub kind: String,
    /// pending, approved, rejected, superseded.
    pub status: String,
    /// Receiving store.
    pub store: String,
    /// Product.
    pub product: String,
    /// Supplier (orders).
    pub supplier: Option<String>,
    /// Giving store (transfers).
    pub from_store: Option<String>,
    /// Units.
    pub units: f64,
    /// What the goods cost, USD.
    pub value_usd: f64,
    /// Margin protected, USD.
    pub benefit_usd: f64,
    /// The day to place it.
    pub on: NaiveDate,
    /// Why, in Spanish.
    pub explanation_es: String,
    /// When it was first recommended.
    pub created_at: DateTime<Utc>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    pub note: Option<String>,
    /// The purchase order or transfer its approval created.
    pub executed_as: Option<String>,
}

impl From<&StoredRecommendation> for RecommendationView {
    fn from(s: &StoredRecommendation) -> Self {
        let r: &Recommendation = &s.recommendation;
        let (kind, supplier, from_store) = match &r.action {
            RecommendedAction::Order { supplier } => ("order", supplier.as_ref().map(ToString::to_string), None),
            RecommendedAction::Transfer { from } => ("transfer", None, Some(from.to_string())),
        };
        Self {
            id: s.id,
            kind: kind.into(),
            status: s.status.as_str().to_owned(),
            store: r.store.to_string(),
            product: r.product.to_string(),
            supplier,
            from_store,
            units: r.units,
            value_usd: r.value_usd,
            benefit_usd: r.benefit_usd,
            on: r.on,
            explanation_es: r.explanation_es.clone(),
            created_at: s.created_at,
            decided_by: s.decided_by.clone(),
            decided_at: s.decided_at,
            note: s.note.clone(),
            executed_as: s.executed_as.clone(),
        }
    }
}

/// A question.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskIn {
    /// In Spanish, as a store manager would write it (at most 1,000 characters).
    #[schema(example = "¿cuánto arroz necesito para la quincena en Chacao?", min_length = 1, max_length = 1000)]
    pub question: String,
}

/// What an agent did for an answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    /// chat, forecast, alert, optimizer.
    pub agent: String,
    /// ok, failed, timed_out, skipped.
    pub status: String,
    /// How long it took, ms.
    pub millis: f64,
}

/// A forecast figure inside an answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FigureView {
    /// Store code.
    pub store: String,
    /// Store name.
    pub store_name: String,
    /// Product code.
    pub product: String,
    /// Product name.
    pub product_name: String,
    /// First day.
    pub from: NaiveDate,
    /// Days covered.
    pub days: u32,
    /// Expected units over the days.
    pub expected: f64,
    /// 10th percentile of the total.
    pub p10: f64,
    /// 90th percentile of the total.
    pub p90: f64,
    /// Units on hand now.
    pub on_hand: f64,
    /// Days of expected sales the units on hand cover (none: more than the forecast reaches).
    pub cover_days: Option<f64>,
    /// Units on their way (orders and transfers).
    pub inbound: f64,
}

/// An order an answer proposes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposedOrderView {
    /// Store code.
    pub store: String,
    /// Product code.
    pub product: String,
    /// Units.
    pub units: f64,
    /// What they cost, USD.
    pub value_usd: f64,
    /// Margin they protect, USD.
    pub benefit_usd: f64,
    /// The day to place it.
    pub on: NaiveDate,
    /// Within the budget the question named (always, without one).
    pub within_budget: bool,
}

/// A purchase order or transfer on its way to a store, as the books have it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The purchase order's or transfer's number.
    pub number: String,
    /// The store that receives (code).
    pub store: String,
    /// Its name.
    pub store_name: String,
    /// Who sends it: the supplier's name, or the sending location's.
    pub from_name: String,
    /// A supplier sends it (otherwise another of the chain's locations).
    pub from_supplier: bool,
    /// The day it is expected.
    pub expected_on: NaiveDate,
    /// It was expected by the evening the books are for and has not come.
    pub late: bool,
    /// Products on it.
    pub products: usize,
    /// Units on it.
    pub units: f64,
    /// Their value at cost, USD.
    pub value_at_cost: f64,
    /// Its largest lines by value (at most five).
    pub lines: Vec<DeliveryLineView>,
}

/// One line of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryLineView {
    /// Product code.
    pub product: String,
    /// Its name.
    pub product_name: String,
    /// Units.
    pub units: f64,
    /// What they count: each, kg or l.
    pub unit: String,
}

/// The unified answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    /// Its trace (open it at `/api/v1/traces/{id}`).
    pub trace_id: Uuid,
    /// The question as understood.
    pub question: String,
    /// The answer, in Spanish.
    pub text_es: String,
    /// What was asked (need, running_out, overstock, transfers, sales, stock, recall, confirm, help …).
    pub intent: String,
    /// Horizon, days.
    pub horizon_days: u32,
    /// Products it is about (codes).
    pub products: Vec<String>,
    /// Stores it is about (codes).
    pub stores: Vec<String>,
    /// The forecast figures behind it.
    pub figures: Vec<FigureView>,
    /// Reasons of the alerts it mentions, in Spanish.
    pub alerts: Vec<String>,
    /// Explanations of the recommendations it makes, in Spanish.
    pub recommendations: Vec<String>,
    /// The orders it proposes, when the question asks what to order without naming a product.
    pub orders: Vec<ProposedOrderView>,
    /// The budget the question named, USD.
    pub budget_usd: Option<f64>,
    /// The deliveries on their way, when the question asks what is coming without naming a product
    /// ("¿qué me llega mañana?"): the late ones first, then by day.
    pub deliveries: Vec<DeliveryView>,
    /// What each agent did.
    pub agents: Vec<AgentView>,
    /// Whether an agent failed (the text says what is missing).
    pub degraded: bool,
    /// Total time, ms.
    pub millis: f64,
}

impl From<&Answer> for AnswerView {
    fn from(a: &Answer) -> Self {
        Self {
            trace_id: a.trace_id,
            question: a.question.clone(),
            text_es: a.text_es.clone(),
            intent: a.intent.as_str().to_owned(),
            horizon_days: a.horizon_days,
            products: a.products.iter().map(|p| p.code.clone()).collect(),
            stores: a.stores.iter().map(|s| s.code.clone()).collect(),
            figures: a
                .figures
                .iter()
                .map(|f| FigureView {
                    store: f.store.to_string(),
                    store_name: f.store_name.clone(),
                    product: f.product.to_string(),
                    product_name: f.product_name.clone(),
                    from: f.from,
                    days: f.days,
                    expected: f.expected,
                    p10: f.p10,
                    p90: f.p90,
                    on_hand: f.on_hand,
                    cover_days: f.cover_days,
                    inbound: f.inbound,
                })
                .collect(),
            alerts: a.alerts.iter().map(|x| x.reason_es.clone()).collect(),
            recommendations: a.recommendations.iter().map(|r| r.explanation_es.clone()).collect(),
            orders: a
                .orders
                .iter()
                .flat_map(|o| &o.lines)
                .map(|l| ProposedOrderView {
                    store: l.store.to_string(),
                    product: l.product.to_string(),
                    units: l.units,
                    value_usd: l.value_usd,
                    benefit_usd: l.benefit_usd,
                    on: l.on,
                    within_budget: l.chosen,
                })
                .collect(),
            budget_usd: a.orders.as_ref().and_then(|o| o.budget_usd),
            deliveries: a
                .deliveries
                .iter()
                .flat_map(|d| d.list.iter().map(move |x| (d.today, x)))
                .map(|(today, x)| DeliveryView {
                    number: x.number.clone(),
                    store: x.store.to_string(),
                    store_name: x.store_name.clone(),
                    from_name: x.from_name.clone(),
                    from_supplier: x.from_supplier,
                    expected_on: x.expected_on,
                    late: x.expected_on <= today,
                    products: x.products,
                    units: x.units,
                    value_at_cost: x.value_at_cost,
                    lines: x
                        .lines
                        .iter()
                        .map(|l| DeliveryLineView {
                            product: l.product.to_string(),
                            product_name: l.product_name.clone(),
                            units: l.units,
                            unit: l.unit.as_str().to_owned(),
                        })
                        .collect(),
                })
                .collect(),
            agents: a
                .agents
                .iter()
                .map(|r| AgentView {
                    agent: r.agent.as_str().to_owned(),
                    status: r.status.as_str().to_owned(),
                    millis: r.millis,
                })
                .collect(),
            degraded: a.degraded,
            millis: a.millis,
        }
    }
}

/// A trace as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceSummaryView {
    /// Id.
    pub id: Uuid,
    /// api, whatsapp, cli, dashboard …
    pub channel: String,
    /// The question.
    pub question: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Duration, microseconds.
    pub duration_us: u64,
    /// ok, degraded, failed …
    pub status: String,
}

impl From<&TraceSummary> for TraceSummaryView {
    fn from(t: &TraceSummary) -> Self {
        Self {
            id: t.id,
            channel: t.channel.clone(),
            question: t.question.clone(),
            started_at: t.started_at,
            duration_us: t.duration_us,
            status: t.status.as_str().to_owned(),
        }
    }
}

/// One span of a trace.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpanView {
    /// Id within the trace.
    pub id: u32,
    /// Parent span.
    pub parent: Option<u32>,
    /// Name (request, understand, forecast …).
    pub name: String,
    /// The agent, when one ran it.
    pub agent: Option<String>,
    /// Start, microseconds from the trace's start.
    pub start_us: u64,
    /// Duration, microseconds.
    pub duration_us: u64,
    /// ok, failed, timed_out …
    pub status: String,
    /// What went in (summary).
    pub input: String,
    /// What came out (summary).
    pub output: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Restarts of the agent during it.
    pub restarts: u32,
    /// Language-model tokens.
    pub tokens: Option<u32>,
    /// Cost, USD.
    pub cost_usd: Option<f64>,
}

/// A whole trace.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceView {
    /// The summary.
    #[serde(flatten)]
    pub summary: TraceSummaryView,
    /// The tenant it belongs to.
    pub tenant: String,
    /// The id of the HTTP request that carried it (its `x-request-id`).
    pub request_id: Option<String>,
    /// Its spans.
    pub spans: Vec<SpanView>,
}

impl TraceView {
    /// A trace of `tenant`.
    pub fn of(t: &Trace, tenant: &str) -> Self {
        Self {
            summary: TraceSummaryView::from(&t.summary()),
            tenant: tenant.to_owned(),
            request_id: t.request_id.clone(),
            spans: t
                .spans
                .iter()
                .map(|s| SpanView {
                    id: s.id,
                    parent: s.parent,
                    name: s.name.clone(),
                    agent: s.agent.map(|a| a.as_str().to_owned()),
                    start_us: s.start_us,
                    duration_us: s.duration_us,
                    status: s.status.as_str().to_owned(),
                    input: s.input.clone(),
                    output: s.output.clone(),
                    error: s.error.clone(),
                    restarts: s.restarts,
                    tokens: s.tokens,
                    cost_usd: s.cost_usd,
                })
                .collect(),
        }
    }
}
