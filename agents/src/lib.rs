//! The agents: Forecast, Alert, Optimizer and Chat.
//!
//! Each agent lives in its own folder with its pure model logic in plain functions; the ractor actor
//! and its small cloneable handle come with the runtime. They read everything through
//! `fluxion_memory`'s traits.
//!
//! # Layout
//! - [`forecast`]: demand forecasts with quantiles, calendar effects and censored-demand handling.

pub mod forecast;
