//! The Chat agent: understands questions in Venezuelan Spanish and composes grounded answers from
//! the other agents' numbers (templates; a language model comes later and is checked against them).
//!
//! - [`text`]: normalisation and forgiving word matching.
//! - [`understand`]: intent, horizon, products and stores of a question.
//! - [`compose`]: the answer's Spanish text from the agents' parts.

pub mod agent;
pub mod compose;
pub mod text;
pub mod understand;

pub use agent::{ChatAgent, ChatReply, ChatRequest, ComposeInput};
pub use compose::{Parts, compose};
pub use understand::{Catalog, Found, Understanding};
