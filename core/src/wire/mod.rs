//! The text boundary shared by every binding: the names of the vocabulary ([`facet`],
//! [`sort`]), the stable codes of input a binding cannot use ([`InputCode`]), and requests as a
//! binding receives them ([`QuoteInput`], [`ProductInput`], [`QtyInput`], [`AtInput`]),
//! answered in the error precedence of docs/spec.md §9 here, once, rather than once per
//! language.
//!
//! A binding converts its language's values into these types and says only what it received —
//! a decimal, text that is not one, an instant, text that may be one — and the core decides
//! which error wins.

#[cfg(feature = "arrow")]
pub mod arrow;
mod names;
mod order;
mod request;

pub use names::{facet, sort, UnknownName, FACET_NAMES};
pub use order::{OrderInput, OrderLineInput, OrderTextInput, PlacingInput, QuoteDraftInput};
pub use request::{document_text, AtInput, ProductInput, QtyInput, QuoteInput};

use std::fmt;

/// Stable codes of a value a binding received but cannot hand to the core: the wrong type, a
/// binary float, text that is not Unicode, a name outside its vocabulary. Such a value fails
/// the call before any query error (docs/spec.md §9), checked in the order of the arguments.
///
/// ```
/// use tarif::wire::InputCode;
/// assert_eq!(InputCode::FloatRejected.code(), "FLOAT_REJECTED");
/// assert_eq!(InputCode::FloatRejected.to_string(), "FLOAT_REJECTED");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputCode {
    /// A value of a type the argument cannot be: a number for an account id, `None`/`null` for
    /// a required argument, a list for a quantity.
    InvalidType,
    /// A binary floating-point number where an exact decimal is needed: a float, a fractional
    /// JavaScript number, or an integer beyond what a double holds exactly.
    FloatRejected,
    /// Text that is not Unicode: a string with a lone surrogate.
    InvalidText,
    /// A search query part of the right type that means nothing: an unknown capability, sort
    /// or facet name, a negative count, a filter of the wrong shape, an unreadable bound.
    InvalidQuery,
    /// A relation kind outside `requires`, `accessories`, `compatible`, `excludes`,
    /// `replacement`.
    InvalidRelationKind,
    /// A search cursor that no page wrote.
    InvalidCursor,
    /// Batch columns that do not line up, or a table without the needed columns.
    InvalidBatch,
    /// A Python `datetime` without a timezone, which names no instant.
    NaiveDatetime,
}

impl InputCode {
    /// The stable code, as written in docs/spec.md §9.
    pub fn code(self) -> &'static str {
        match self {
            InputCode::InvalidType => "INVALID_TYPE",
            InputCode::FloatRejected => "FLOAT_REJECTED",
            InputCode::InvalidText => "INVALID_TEXT",
            InputCode::InvalidQuery => "INVALID_QUERY",
            InputCode::InvalidRelationKind => "INVALID_RELATION_KIND",
            InputCode::InvalidCursor => "INVALID_CURSOR",
            InputCode::InvalidBatch => "INVALID_BATCH",
            InputCode::NaiveDatetime => "NAIVE_DATETIME",
        }
    }
}

impl fmt::Display for InputCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
