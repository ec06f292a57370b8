//! # Tarif
//!
//! A B2B pricing and catalog-visibility rules engine. A `tarif/1` rules document (price lists,
//! accounts and segments, contracts, tiers, discounts, floors, visibility rules) is compiled once
//! into an immutable, indexed [`Engine`] that answers exactly and fast:
//!
//! * what may this customer see, see the price of, and buy? ([`Engine::visibility`])
//! * what is this customer's price for this quantity today, and why? ([`Engine::quote`],
//!   [`Engine::explain`])
//! * which product does this reference mean? ([`Engine::lookup`])
//! * what does this customer's catalog look like under these filters? ([`Engine::search`],
//!   [`Engine::related`])
//! * the same for millions of lines at once ([`Engine::quote_many`]).
//!
//! ```
//! use tarif::{Engine, QuoteRequest};
//! let engine = Engine::from_json(r#"{
//!   "format": "tarif/1",
//!   "currencies": [{"code": "EUR"}],
//!   "products": [{"sku": "DR-1"}],
//!   "price_lists": [{"id": "list", "currency": "EUR", "prices": [{"sku": "DR-1", "price": "10.00"}]}],
//!   "settings": {"default_price_lists": ["list"]},
//!   "accounts": [{"id": "ACME"}]
//! }"#).unwrap();
//! let quote = engine.quote(&QuoteRequest::new("ACME", "dr-1", "3".parse().unwrap())).unwrap();
//! assert_eq!(quote.line_total.to_string(), "30.00");
//! ```
//!
//! The semantics are written down in `docs/spec.md`; [`reference`] is a naive evaluator written
//! from it, which the engine is tested against.

pub mod compile;
pub mod engine;
pub mod error;
pub mod instant;
pub mod model;
pub mod money;
pub mod reference;
pub mod sample;
pub mod wire;

pub use compile::{CompileOptions, Compiled};
pub use engine::batch::{BatchAt, BatchResult};
pub use engine::explain::{CandidateReport, Explanation, StepReport, VisibilityReport};
pub use engine::quote::{AppliedStep, Level, Notes, Quote, QuoteRequest, RuleRef, Source};
pub use engine::search::{
    Cursor, Facet, FacetCounts, FacetValue, Filter, InvalidCursor, RelatedProduct, RelationKind,
    RowPrice, SearchPage, SearchQuery, SearchRow, Sort, Variant,
};
pub use engine::visibility::Capabilities;
pub use engine::Engine;
pub use error::{CompileError, Diagnostic, DiagnosticCode, QueryError, Severity, Status};
pub use instant::{Instant, Interval};
pub use model::Capability;
pub use rust_decimal::Decimal;
