//! The Forecast agent's logic: demand forecasts with quantiles, per product × store.
//!
//! # Layout
//! - `intermittent`: SES, Croston/SBA, TSB, ADIDA, IMAPA.
//! - `models`: every single model by name ([`Model`]), augurs' ETS and MSTL among them.
//! - `calendar`: day features (paydays, holidays) and the shrinkage of their lifts.
//! - `auto`: Fluxion's automatic forecaster (profile × level × lifts × seasonal ratio, NB band).
//! - `stack`: a level model learned across all series of a batch.
//! - `batch`: a whole tenant in parallel, with each store's profile and level calibration.
//! - `distribution`: negative-binomial quantiles.
//! - `metrics`: MASE, RMSSE, bias, coverage.
//! - `tenant`: a tenant's daily demand as series, and its calendar (events + quincena).
//! - `eval`: rolling-origin evaluation of models against held-out data.

pub mod agent;
pub mod auto;
pub mod batch;
pub mod calendar;
pub mod distribution;
pub mod eval;
pub mod intermittent;
pub mod metrics;
pub mod models;
pub mod stack;
pub mod tenant;

pub use agent::{
    DeliveryQuery, ForecastAgent, ForecastRequest, cover_days, deliveries, figures, store_sales, store_stock,
};
pub use auto::{AutoConfig, StoreProfile, forecast_daily, store_profiles};
pub use batch::{BatchForecast, forecast_batch};
pub use calendar::Calendar;
pub use eval::{EvalOptions, EvalReport, ModelResult, evaluate};
pub use models::Model;
