#![doc = include_str!("../README.md")]

mod changes;
mod compile;
mod engine;
mod error;
mod index;
mod instant;

mod load;
mod model;
mod scenario;
#[cfg(feature = "serde")]
mod serialize;
mod source;

pub mod import;
pub mod money;
pub mod snapshot;
pub mod wire;

/// The typed form of a `tarif/1` rules document, as it arrives: serde types with no
/// interpretation yet (money and quantities stay text). The engine compiles from it; tools and
/// the reference evaluator read it.
///
/// Two words of the document's vocabulary that queries use too are at the crate root:
/// [`Capability`] and [`RoundingStage`].
///
/// ```
/// use tarif::document::{Document, Item};
/// let doc: Document = serde_json::from_str(
///     r#"{"format": "tarif/1", "products": [{"sku": "A"}, {"sku": 7}]}"#,
/// ).unwrap();
/// assert!(matches!(doc.products[0], Item::Ok(_)));
/// assert!(matches!(doc.products[1], Item::Err { .. }));
/// ```
pub mod document {
    pub use crate::model::{
        Account, ApprovalRule, AttrCondition, Audience, Category, Contract, Currency,
        DefaultVisibility, Document, Effect, FacetSettings, Item, Leftover, NumText,
        OrderCondition, OrderKind, OrderRule, PercentOf, PriceEntry, PriceList, PriceMode, Product,
        Relations, RoundTo, Rounding, RoundingMode, Rule, Segment, Select, Selector, Settings,
        StepDef, StockRecord, Tier, TierBasis, TierMode, User, Validity, VisibilityRule,
        WarehouseStock, FORMAT,
    };
}

pub use changes::{ChangeKind, Diff, EntityChange, CHANGES_FORMAT};
pub use compile::{CompileOptions, CompileProgress};
pub use engine::batch::{BatchAt, BatchDetail, BatchResult, LineChanges, BATCH_STEP};
pub use engine::explain::{CandidateReport, Explanation, StepReport, VisibilityReport};
pub use engine::order::{
    Adjustment, Approval, ApprovalReason, Approvers, ConditionReport, Decision, LineFormat, Order,
    OrderExplanation, OrderLine, OrderText, PlacedQuote, Placing, PreparedQuote, PriceOrigin,
    PriceOverride, PricedOrder, QuoteDraft, QuotedAdjustment, QuotedLine, SalesQuote, TextLine,
    TextOptions, QUOTE_FORMAT,
};
pub use engine::quote::{
    AppliedStep, Level, Notes, Quote, QuoteRequest, RuleRef, Source, Steps, StockInfo,
};
pub use engine::search::{
    Cursor, Facet, FacetCounts, FacetValue, Filter, InvalidCursor, RelatedProduct, RelationKind,
    RowPrice, SearchPage, SearchQuery, SearchRow, Sort, Variant,
};
pub use engine::simulate::{Group, GroupBy, PivotRow, ScenarioRun, Simulation};
pub use engine::visibility::Capabilities;
pub use engine::{AccountInfo, Engine};
pub use error::{
    CompileError, Diagnostic, DiagnosticCode, QueryError, Severity, SnapshotError, Status,
    ERROR_CODES,
};
pub use index::stock::WarehouseAvailability;
pub use instant::{Instant, Interval};
pub use load::Compiled;
pub use model::{BoundKind, Capability, Leftover, OrderKind, RoundingStage};
pub use rust_decimal::Decimal;
pub use scenario::{Edit, Shift};
