//! Demo chain (being written).
