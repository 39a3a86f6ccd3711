//! Fluxion's vocabulary: the values every other crate speaks in.
//!
//! Values with invariants (a product code, a non-negative quantity, an amount of money, an exchange rate,
//! a tenant slug) can only be built through `parse`/`TryFrom`, so a value of these types is valid by
//! construction. This crate does no I/O and knows nothing of databases, HTTP or actors.
//!
//! # Layout
//! - [`error`]: the single [`ParseError`] every constructor returns.
//! - [`code`]: tenant slugs and the codes that name locations, products, suppliers, lots and orders.
//! - [`money`]: [`Currency`], [`Money`], [`ExchangeRate`] (USD is the reference currency).
//! - [`quantity`]: [`Quantity`] (finite, non-negative units) and [`StockQuantity`] (may be negative).
//! - [`tenant`], [`location`], [`product`], [`supplier`]: the catalog.
//! - [`sales`], [`demand`], [`stock`], [`lot`], [`order`]: the facts.
//! - [`alert`]: alerts with their money impact, action, Spanish reason, deduplication key and expiry.
//! - [`promotion`]: price cuts of one product at one store, known in advance.
//! - [`recommendation`]: orders and transfers to make, explained, with the margin they protect.
//! - [`forecast`]: demand series and the forecasts built on them (quantiles, model, effects).
//! - [`answer`]: the unified answer to a question (text, intent, figures, alerts, recommendations, agents).
//! - [`conversation`]: a user's last turns, for follow-up questions.
//! - [`trace`]: the span tree recorded for every request.
//! - [`format`]: numbers and dates as people in Venezuela read them (`1.234,5`).
//! - [`calendar`]: Venezuelan paydays (quincena) and movable holidays (Carnaval, Semana Santa).

pub mod alert;
pub mod answer;
pub mod calendar;
pub mod code;
pub mod conversation;
pub mod demand;
pub mod error;
pub mod forecast;
pub mod format;
pub mod location;
pub mod lot;
pub mod money;
pub mod order;
pub mod product;
pub mod promotion;
pub mod quantity;
pub mod recommendation;
pub mod sales;
pub mod stock;
pub mod supplier;
pub mod tenant;
pub mod trace;

pub use alert::{Alert, AlertKind, ImpactKind, Severity, SuggestedAction};
pub use answer::{
    AgentKind, AgentReport, AgentStatus, Answer, Arrival, BestSeller, Coming, Deliveries, Delivery, DeliveryLine,
    ForecastFigure, Intent, OrderList, ProposedOrder, Resolved, StoreSales, StoreStock,
};
pub use calendar::{CalendarEvent, EventKind};
pub use code::{Barcode, LocationCode, LotCode, OrderNumber, ProductCode, SupplierCode, TenantSlug};
pub use conversation::{Conversation, Pending, Turn};
pub use demand::DailyDemand;
pub use error::ParseError;
pub use location::{Location, LocationKind};
pub use lot::Lot;
pub use money::{Currency, ExchangeRate, Money};
pub use order::{OrderLine, PurchaseOrder, Transfer};
pub use product::{Product, Unit};
pub use promotion::Promotion;
pub use quantity::{Quantity, StockQuantity};
pub use recommendation::{Recommendation, RecommendedAction};
pub use sales::{LineKey, SalesLine};
pub use stock::StockSnapshot;
pub use supplier::{LeadTime, OrderDays, Supplier};
pub use tenant::{Tenant, TenantId};
pub use trace::{Span, SpanStatus, Trace, TraceLink, TraceLinkKind, TraceSummary};
