//! Getting data into Fluxion.
//!
//! # Layout
//! - [`demo`]: the generated, seeded demo chain (`fluxion demo`).
//! - [`csv`]: CSV import of catalogs, sales, stock and events with header mapping (`fluxion import`).
//!
//! Later issues add `odoo/`, `stellar/`, `profit/` and `webhook/`. Every connector turns foreign rows
//! into domain values and hands them to the store as [`fluxion_memory::ChangeSet`]s.

pub mod csv;
pub mod demo;
