//! The agents: Forecast, Alert, Optimizer and Chat.
//!
//! Each agent will live in its own folder (`forecast/`, `alert/`, `optimizer/`, `chat/`) with its pure
//! model logic in plain functions, a thin ractor actor on top and a small cloneable handle. They read
//! everything through `fluxion_memory`'s traits. This crate is empty until the forecast issue: it holds
//! no placeholder logic, so nothing here can be mistaken for a working model.
