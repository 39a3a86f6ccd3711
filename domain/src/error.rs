//! The one error every constructor of this crate returns.

use std::fmt;

/// A value that could not be built: which field, what was given, and why it was refused.
///
/// The message is written for the person who supplied the value (an importer prints it next to
/// the file and line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    what: &'static str,
    input: String,
    reason: String,
}

impl ParseError {
    /// A refusal of `input` as a `what` (for example "product code") for `reason`.
    pub fn new(what: &'static str, input: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut input = input.into();
        if input.chars().count() > 60 {
            input = input.chars().take(60).collect::<String>() + "…";
        }
        Self { what, input, reason: reason.into() }
    }

    /// The kind of value that was refused ("product code", "quantity", …).
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Why it was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: {}", self.what, self.input, self.reason)
    }
}

impl std::error::Error for ParseError {}
