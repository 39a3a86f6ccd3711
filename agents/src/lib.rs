//! The agents: Forecast, Alert, Optimizer and Chat.
//!
//! Each agent lives in its own folder with its pure model logic in plain functions; the ractor actor
//! and its small cloneable handle come with the runtime. They read everything through
//! `fluxion_memory`'s traits.
//!
//! # Layout
//! - [`actor`]: the generic agent actor, its cloneable handle and fault injection.
//! - [`alert`]: the Alert agent's detectors (stockout, overstock, anomaly, phantom stock, expiry,
//!   transfer, stale data) and the book that keeps an unchanged situation from alerting twice.
//! - [`chat`]: the Chat agent's understanding of Spanish questions and its grounded answers.
//! - [`context`]: a tenant's items, tonight's books and the latest forecasts, loaded once and shared.
//! - [`forecast`]: demand forecasts with quantiles, calendar effects and censored-demand handling.
//! - [`lots`]: taking from perishable lots, first-expiring first.
//! - [`optimizer`]: reorder levels, order quantities, transfers (LP) and purchase plans under a budget.
//! - [`replay`]: replays history day by day under a policy (Fluxion's or min/max) and measures it.

pub mod actor;
pub mod alert;
pub mod chat;
pub mod context;
pub mod forecast;
pub mod lots;
pub mod optimizer;
pub mod replay;
