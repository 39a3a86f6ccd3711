//! The Chat agent: understands questions in Venezuelan Spanish and composes grounded answers from
//! the other agents' numbers (templates; an optional language model rephrases them, checked by the
//! number guard).
//!
//! - [`text`]: normalisation and forgiving word matching.
//! - [`understand`]: intent, horizon, products and stores of a question.
//! - [`compose`]: the answer's Spanish text from the agents' parts.
//! - [`guard`]: the numbers a reply may contain, and the ones it invented.
//! - [`llm`]: the optional OpenAI-compatible voice, checked by the guard.

pub mod agent;
pub mod compose;
pub mod guard;
pub mod llm;
pub mod text;
pub mod understand;

pub use agent::{ChatAgent, ChatReply, ChatRequest, ComposeInput};
pub use compose::{Parts, compose};
pub use guard::Grounding;
pub use llm::{Brief, Llm, LlmConfig, LlmError, Phrased};
pub use understand::{Catalog, Found, Understanding, confirmation};
