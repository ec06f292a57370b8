//! Errors, one enum per phase: compile diagnostics and query errors, each with a stable code.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How serious a compile diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The document is accepted (rejected in strict mode).
    Warning,
    /// The document is rejected.
    Error,
}

/// Stable codes of compile diagnostics; serde writes each as its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum DiagnosticCode {
    ParseError,
    InvalidFormat,
    UnknownField,
    MissingField,
    InvalidType,
    InvalidId,
    DuplicateId,
    UnknownReference,
    HierarchyCycle,
    HierarchyTooDeep,
    ListCycle,
    InvalidDecimal,
    InvalidPercent,
    InvalidQuantity,
    InvalidCurrency,
    UnknownCurrency,
    CurrencyMismatch,
    InvalidTimezone,
    InvalidInstant,
    InvalidInterval,
    TiersNotIncreasing,
    TierAction,
    GraduatedNeedsPrice,
    RuleActions,
    UnknownStep,
    DuplicateStep,
    InvalidSelector,
    InvalidRounding,
    ReplacementCycle,
    UnpricedProduct,
    ShadowedRule,
    PriceBelowFloor,
    OverlappingPrices,
    Expired,
    DuplicateEan,
    RisingTier,
    NeverValid,
    UnknownId,
    ConflictingChange,
    VersionMismatch,
    NoSource,
}

impl DiagnosticCode {
    /// The stable code, as written in docs/spec.md.
    pub fn code(self) -> &'static str {
        use DiagnosticCode::*;
        match self {
            ParseError => "PARSE_ERROR",
            InvalidFormat => "INVALID_FORMAT",
            UnknownField => "UNKNOWN_FIELD",
            MissingField => "MISSING_FIELD",
            InvalidType => "INVALID_TYPE",
            InvalidId => "INVALID_ID",
            DuplicateId => "DUPLICATE_ID",
            UnknownReference => "UNKNOWN_REFERENCE",
            HierarchyCycle => "HIERARCHY_CYCLE",
            HierarchyTooDeep => "HIERARCHY_TOO_DEEP",
            ListCycle => "LIST_CYCLE",
            InvalidDecimal => "INVALID_DECIMAL",
            InvalidPercent => "INVALID_PERCENT",
            InvalidQuantity => "INVALID_QUANTITY",
            InvalidCurrency => "INVALID_CURRENCY",
            UnknownCurrency => "UNKNOWN_CURRENCY",
            CurrencyMismatch => "CURRENCY_MISMATCH",
            InvalidTimezone => "INVALID_TIMEZONE",
            InvalidInstant => "INVALID_INSTANT",
            InvalidInterval => "INVALID_INTERVAL",
            TiersNotIncreasing => "TIERS_NOT_INCREASING",
            TierAction => "TIER_ACTION",
            GraduatedNeedsPrice => "GRADUATED_NEEDS_PRICE",
            RuleActions => "RULE_ACTIONS",
            UnknownStep => "UNKNOWN_STEP",
            DuplicateStep => "DUPLICATE_STEP",
            InvalidSelector => "INVALID_SELECTOR",
            InvalidRounding => "INVALID_ROUNDING",
            ReplacementCycle => "REPLACEMENT_CYCLE",
            UnpricedProduct => "UNPRICED_PRODUCT",
            ShadowedRule => "SHADOWED_RULE",
            PriceBelowFloor => "PRICE_BELOW_FLOOR",
            OverlappingPrices => "OVERLAPPING_PRICES",
            Expired => "EXPIRED",
            DuplicateEan => "DUPLICATE_EAN",
            RisingTier => "RISING_TIER",
            NeverValid => "NEVER_VALID",
            UnknownId => "UNKNOWN_ID",
            ConflictingChange => "CONFLICTING_CHANGE",
            VersionMismatch => "VERSION_MISMATCH",
            NoSource => "NO_SOURCE",
        }
    }

    /// Whether this code rejects the document.
    pub fn severity(self) -> Severity {
        use DiagnosticCode::*;
        match self {
            UnpricedProduct | ShadowedRule | PriceBelowFloor | OverlappingPrices | Expired
            | DuplicateEan | RisingTier | NeverValid => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// A compile's warnings as they were before the day was applied to them, so that a change that
/// recompiles part of a document can judge again those that depend on the day
/// (`CompileOptions::as_of`) without recompiling the rest: the warnings of the build phases,
/// and each `EXPIRED` warning with the instant it becomes due and where it goes among them. The
/// warnings of the final checks, which read the whole index, are not kept: they are run again.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct BuildWarnings {
    pub list: Vec<Diagnostic>,
    pub expiring: Vec<Expiring>,
    /// Where the warnings of the price lists begin in `list`, then those of the contracts'
    /// pricing rules, then those of their visibility rules, and where the latter end: a
    /// change of the contracts' pricing rules alone replaces `marks[1]..marks[2]`, of
    /// contracts alone `marks[1]..marks[3]`, of price lists alone `marks[0]..marks[3]`.
    pub marks: [usize; 4],
}

/// A warning due once its element's validity has ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Expiring {
    /// Its position: before `list[at]`.
    pub at: usize,
    /// Due when the compile's day is after this instant (microseconds since the Unix epoch,
    /// as [`crate::Instant`] holds it).
    pub until: i64,
    pub diagnostic: Diagnostic,
}

impl BuildWarnings {
    /// These warnings with those from `marks[phases.start]` to `marks[phases.end]` replaced by
    /// `own`, the warnings of a compile of those phases alone (its marks relative to its own
    /// list). Only the contracts' pricing rules have warnings that depend on the day, so every
    /// `EXPIRED` warning placed from `marks[phases.start]` to `marks[phases.end]`, both ends
    /// included, is theirs: each range replaced holds them.
    pub(crate) fn replaced(
        &self,
        phases: std::ops::Range<usize>,
        own: BuildWarnings,
    ) -> BuildWarnings {
        let start = self.marks.get(phases.start).copied().unwrap_or(0);
        let end = self.marks.get(phases.end).copied().unwrap_or(start);
        let head = self.list.get(..start).unwrap_or_default();
        let tail = self.list.get(end..).unwrap_or_default();
        let grown = start + own.list.len();
        let mut list = Vec::with_capacity(head.len() + own.list.len() + tail.len());
        list.extend_from_slice(head);
        list.extend(own.list);
        list.extend_from_slice(tail);
        let before = self.expiring.iter().filter(|e| e.at < start).cloned();
        let after = self
            .expiring
            .iter()
            .filter(|e| e.at > end)
            .cloned()
            .map(|mut e| {
                e.at = e.at - end + grown;
                e
            });
        let mine = own.expiring.into_iter().map(|mut e| {
            e.at += start;
            e
        });
        let mut marks = self.marks;
        for (i, mark) in marks.iter_mut().enumerate().skip(phases.start) {
            *mark = match i < phases.end {
                true => start + own.marks.get(i).copied().unwrap_or(0),
                false => *mark - end + grown,
            };
        }
        BuildWarnings {
            list,
            expiring: before.chain(mine).chain(after).collect(),
            marks,
        }
    }

    /// The warnings of the price lists' phase (`marks[0]..marks[1]`), those due on a later
    /// day included.
    pub(crate) fn of_lists(&self) -> impl Iterator<Item = &Diagnostic> + '_ {
        let [start, end, ..] = self.marks;
        let list = self.list.get(start..end).unwrap_or_default().iter();
        let expiring = self
            .expiring
            .iter()
            .filter(move |e| (start..=end).contains(&e.at));
        list.chain(expiring.map(|e| &e.diagnostic))
    }

    /// The warnings as of a day, in the order a compile reports them.
    pub(crate) fn as_of(&self, day: crate::instant::Instant) -> Vec<Diagnostic> {
        let mut due = self.expiring.iter().filter(|e| e.until < day.0).peekable();
        let mut out = Vec::with_capacity(self.list.len());
        for (i, d) in self.list.iter().enumerate() {
            while let Some(e) = due.next_if(|e| e.at <= i) {
                out.push(e.diagnostic.clone());
            }
            out.push(d.clone());
        }
        out.extend(due.map(|e| e.diagnostic.clone()));
        out
    }
}

/// One problem found while compiling a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Stable code.
    pub code: DiagnosticCode,
    /// Path into the document, e.g. `contracts[3].rules[1].percent`.
    pub path: String,
    /// Lowercase message naming the offending value in backticks.
    pub message: String,
    /// Ids involved (the element's own id first).
    pub ids: Vec<String>,
}

impl Diagnostic {
    /// Error or warning.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = (!self.path.is_empty()).then_some(&self.path as &dyn fmt::Display);
        write_diagnostic(f, self.code.code(), path, &self.message)
    }
}

/// A rejected document: every problem found, errors first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// All diagnostics (errors, and warnings too).
    pub diagnostics: Vec<Diagnostic>,
}

impl CompileError {
    /// The stable code of the error as a whole: `COMPILE_ERROR`, or `STRICT_WARNINGS` when only
    /// warnings rejected it in strict mode.
    pub fn code(&self) -> &'static str {
        rejection_code(self.diagnostics.iter().map(Diagnostic::severity))
    }
}

/// The code of a rejection by the compiler (of a document, or of the document imported tables
/// make): `COMPILE_ERROR` when any diagnostic is an error, else `STRICT_WARNINGS`.
pub(crate) fn rejection_code(mut severities: impl Iterator<Item = Severity>) -> &'static str {
    if severities.any(|s| s == Severity::Error) {
        "COMPILE_ERROR"
    } else {
        "STRICT_WARNINGS"
    }
}

/// `<what> rejected: n error(s), m warning(s)`, then one diagnostic a line: how every rejection
/// that lists diagnostics (a document, an import) is written.
pub(crate) fn write_rejection<D: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    what: &str,
    diagnostics: &[D],
    severity: impl Fn(&D) -> Severity,
) -> fmt::Result {
    let errors = diagnostics
        .iter()
        .filter(|d| severity(d) == Severity::Error)
        .count();
    write!(
        f,
        "{what} rejected: {errors} error(s), {} warning(s)",
        diagnostics.len() - errors
    )?;
    for d in diagnostics {
        write!(f, "\n  {d}")?;
    }
    Ok(())
}

/// `CODE at place: message`, the place `(document)` when there is none: how every diagnostic
/// (of a document, a change, an import) is written.
pub(crate) fn write_diagnostic(
    f: &mut fmt::Formatter<'_>,
    code: &str,
    place: Option<&dyn fmt::Display>,
    message: &str,
) -> fmt::Result {
    match place {
        Some(place) => write!(f, "{code} at {place}: {message}"),
        None => write!(f, "{code} at (document): {message}"),
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rejection(f, "document", &self.diagnostics, Diagnostic::severity)
    }
}

impl std::error::Error for CompileError {}

/// Why a query has no answer. Stable codes via [`QueryError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The account id is not in the document.
    #[error("unknown account `{0}`")]
    UnknownAccount(String),
    /// No product has this reference, or the account may not see it.
    #[error("unknown product `{0}`")]
    UnknownProduct(String),
    /// The product is visible, but its price is not.
    #[error("the price of `{0}` is hidden for this account")]
    PriceHidden(String),
    /// No price in the request currency.
    #[error("no price for `{sku}` in `{currency}`{}", priced_in_text(.priced_in))]
    NoPrice {
        /// The product.
        sku: String,
        /// The request currency.
        currency: String,
        /// Currencies that do have a price for this account and product.
        priced_in: Vec<String>,
    },
    /// The quantity violates the product's order rules.
    #[error("quantity `{qty}` of `{sku}` is not orderable; nearest valid quantity is `{nearest}`")]
    QuantityRule {
        /// The product.
        sku: String,
        /// The requested quantity.
        qty: Decimal,
        /// The nearest orderable quantity.
        nearest: Decimal,
    },
    /// The account may see and price the product but not order it (an order line).
    #[error("`{0}` may not be ordered by this account")]
    NotBuyable(String),
    /// Order text that cannot be read at all (a bad line only fails its line).
    #[error("invalid order text: {0}")]
    InvalidOrderText(String),
    /// The quantity is not a positive decimal.
    #[error("invalid quantity `{0}`: expected a positive decimal")]
    InvalidQuantity(String),
    /// The currency is not declared by the document.
    #[error("unknown currency `{0}`")]
    UnknownCurrency(String),
    /// The instant does not parse.
    #[error("invalid instant `{0}`: expected RFC 3339 or YYYY-MM-DD")]
    InvalidInstant(String),
    /// A value does not fit the decimal type.
    #[error("arithmetic overflow while pricing `{0}`")]
    Overflow(String),
    /// A batch whose columns do not line up.
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
    /// The user placing an order is not declared on its account or an ancestor.
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    /// An order below a minimum order value that has no surcharge (docs/spec.md §12.3).
    #[error("the order is `{missing}` short of the minimum order value `{minimum}`")]
    MinimumOrder {
        /// The minimum order value.
        minimum: Decimal,
        /// What the subtotal lacks to reach it.
        missing: Decimal,
    },
    /// A manual unit price outside the bounds the rules set for the line (docs/spec.md §12.6).
    #[error("{}", price_bound_text(.sku, .price, .bound, .limit, .rule.as_deref()))]
    PriceBound {
        /// The product.
        sku: String,
        /// The manual unit price.
        price: Decimal,
        /// The rule's field that sets the limit (`min_price`, `max_discount_pct`, …), or
        /// `non_negative` for a price below zero.
        bound: String,
        /// The limit, as a unit price.
        limit: Decimal,
        /// The rule that sets it (`contract-id/rule-id`).
        rule: Option<String>,
    },
    /// A sales-quote document that cannot be read, or a draft that cannot become one.
    #[error("invalid quote: {0}")]
    QuoteInvalid(String),
    /// A sales-quote document whose signature does not match its content.
    #[error("the quote does not match its signature: it was altered, or signed with another key")]
    QuoteTampered,
    /// A sales quote placed after its validity end.
    #[error("the quote expired at `{valid_until}`; it was placed at `{at}`")]
    QuoteExpired {
        /// The quote's validity end.
        valid_until: String,
        /// The instant it was placed at.
        at: String,
    },
    /// A signing key too short to protect a quote.
    #[error("the quote signing key has `{0}` bytes; at least 16 are needed")]
    QuoteKey(usize),
}

fn price_bound_text(
    sku: &str,
    price: &Decimal,
    bound: &str,
    limit: &Decimal,
    rule: Option<&str>,
) -> String {
    let side = if price < limit { "below" } else { "above" };
    match rule {
        Some(rule) => format!(
            "manual unit price `{price}` of `{sku}` is {side} `{limit}`, the `{bound}` of rule `{rule}`"
        ),
        None => format!("manual unit price `{price}` of `{sku}` is {side} `{limit}` (`{bound}`)"),
    }
}

fn priced_in_text(currencies: &[String]) -> String {
    if currencies.is_empty() {
        String::new()
    } else {
        format!(
            " (priced in {})",
            currencies
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl QueryError {
    /// The stable code, as written in docs/spec.md.
    ///
    /// ```
    /// use tarif::QueryError;
    /// assert_eq!(QueryError::UnknownAccount("X".into()).code(), "UNKNOWN_ACCOUNT");
    /// ```
    pub fn code(&self) -> &'static str {
        self.status().code()
    }

    /// The compact status of a batch row for this error.
    pub fn status(&self) -> Status {
        match self {
            QueryError::UnknownAccount(_) => Status::UnknownAccount,
            QueryError::UnknownProduct(_) => Status::UnknownProduct,
            QueryError::PriceHidden(_) => Status::PriceHidden,
            QueryError::NoPrice { .. } => Status::NoPrice,
            QueryError::QuantityRule { .. } => Status::QuantityRule,
            QueryError::InvalidQuantity(_) => Status::InvalidQuantity,
            QueryError::UnknownCurrency(_) => Status::UnknownCurrency,
            QueryError::InvalidInstant(_) => Status::InvalidInstant,
            QueryError::Overflow(_) => Status::Overflow,
            QueryError::InvalidBatch(_) => Status::InvalidBatch,
            QueryError::NotBuyable(_) => Status::NotBuyable,
            QueryError::InvalidOrderText(_) => Status::InvalidOrderText,
            QueryError::UnknownUser(_) => Status::UnknownUser,
            QueryError::MinimumOrder { .. } => Status::MinimumOrder,
            QueryError::PriceBound { .. } => Status::PriceBound,
            QueryError::QuoteInvalid(_) => Status::QuoteInvalid,
            QueryError::QuoteTampered => Status::QuoteTampered,
            QueryError::QuoteExpired { .. } => Status::QuoteExpired,
            QueryError::QuoteKey(_) => Status::QuoteKey,
        }
    }
}

/// Per-row outcome of a batch: `Ok` or the code of the row's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Status {
    /// Priced.
    Ok = 0,
    /// See [`QueryError::UnknownAccount`].
    UnknownAccount = 1,
    /// See [`QueryError::UnknownProduct`].
    UnknownProduct = 2,
    /// See [`QueryError::PriceHidden`].
    PriceHidden = 3,
    /// See [`QueryError::NoPrice`].
    NoPrice = 4,
    /// See [`QueryError::QuantityRule`].
    QuantityRule = 5,
    /// See [`QueryError::InvalidQuantity`].
    InvalidQuantity = 6,
    /// See [`QueryError::UnknownCurrency`].
    UnknownCurrency = 7,
    /// See [`QueryError::InvalidInstant`].
    InvalidInstant = 8,
    /// See [`QueryError::Overflow`].
    Overflow = 9,
    /// See [`QueryError::InvalidBatch`].
    InvalidBatch = 10,
    /// See [`QueryError::NotBuyable`].
    NotBuyable = 11,
    /// See [`QueryError::InvalidOrderText`].
    InvalidOrderText = 12,
    /// See [`QueryError::MinimumOrder`].
    MinimumOrder = 13,
    /// See [`QueryError::UnknownUser`].
    UnknownUser = 14,
    /// See [`QueryError::PriceBound`].
    PriceBound = 15,
    /// See [`QueryError::QuoteInvalid`].
    QuoteInvalid = 16,
    /// See [`QueryError::QuoteTampered`].
    QuoteTampered = 17,
    /// See [`QueryError::QuoteExpired`].
    QuoteExpired = 18,
    /// See [`QueryError::QuoteKey`].
    QuoteKey = 19,
}

impl Status {
    /// The stable code (`OK` for success).
    pub fn code(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::UnknownAccount => "UNKNOWN_ACCOUNT",
            Status::UnknownProduct => "UNKNOWN_PRODUCT",
            Status::PriceHidden => "PRICE_HIDDEN",
            Status::NoPrice => "NO_PRICE",
            Status::QuantityRule => "QUANTITY_RULE",
            Status::InvalidQuantity => "INVALID_QUANTITY",
            Status::UnknownCurrency => "UNKNOWN_CURRENCY",
            Status::InvalidInstant => "INVALID_INSTANT",
            Status::Overflow => "OVERFLOW",
            Status::InvalidBatch => "INVALID_BATCH",
            Status::NotBuyable => "NOT_BUYABLE",
            Status::InvalidOrderText => "INVALID_ORDER_TEXT",
            Status::MinimumOrder => "MINIMUM_ORDER",
            Status::UnknownUser => "UNKNOWN_USER",
            Status::PriceBound => "PRICE_BOUND",
            Status::QuoteInvalid => "QUOTE_INVALID",
            Status::QuoteTampered => "QUOTE_TAMPERED",
            Status::QuoteExpired => "QUOTE_EXPIRED",
            Status::QuoteKey => "QUOTE_KEY",
        }
    }
}

/// Why a snapshot could not be written or read. Stable codes via [`SnapshotError::code`].
///
/// The checksum of a snapshot detects corruption, not forgery: a snapshot is trusted like a
/// compiled library, and only files written by [`crate::Engine::save`] should be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Not a whole, intact snapshot: truncated, altered, or not a snapshot at all.
    #[error("corrupt snapshot{}: {reason}", path_text(.path))]
    Corrupt {
        /// The file, when read from one.
        path: Option<String>,
        /// What is wrong with it.
        reason: String,
    },
    /// A snapshot of a format version this build does not read.
    #[error(
        "snapshot{} has format version `{found}`; this build reads version `{supported}` only (recompile the rules document)",
        path_text(.path)
    )]
    Version {
        /// The file, when read from one.
        path: Option<String>,
        /// The version the file has.
        found: u32,
        /// The one version this build reads.
        supported: u32,
    },
    /// The file could not be read or written.
    #[error("cannot {action} `{path}`: {message}")]
    Io {
        /// `read`, `write`, …
        action: &'static str,
        /// The file.
        path: String,
        /// The system's reason.
        message: String,
    },
}

fn path_text(path: &Option<String>) -> String {
    path.as_ref().map(|p| format!(" `{p}`")).unwrap_or_default()
}

impl SnapshotError {
    /// The stable code, as written in docs/spec.md.
    ///
    /// ```
    /// let err = tarif::Engine::from_snapshot_bytes(b"not a snapshot").unwrap_err();
    /// assert_eq!(err.code(), "SNAPSHOT_CORRUPT");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::Corrupt { .. } => "SNAPSHOT_CORRUPT",
            SnapshotError::Version { .. } => "SNAPSHOT_VERSION",
            SnapshotError::Io { .. } => "IO_ERROR",
        }
    }

    /// The same error, naming the file it was read from (what [`crate::Engine::open`] does
    /// for the file it reads).
    ///
    /// ```
    /// let err = tarif::Engine::from_snapshot_bytes(b"").unwrap_err().at_path("rules.snap");
    /// assert!(err.to_string().starts_with("corrupt snapshot `rules.snap`: "));
    /// ```
    pub fn at_path(self, file: &str) -> SnapshotError {
        match self {
            SnapshotError::Corrupt { reason, .. } => SnapshotError::Corrupt {
                path: Some(file.to_string()),
                reason,
            },
            SnapshotError::Version {
                found, supported, ..
            } => SnapshotError::Version {
                path: Some(file.to_string()),
                found,
                supported,
            },
            io @ SnapshotError::Io { .. } => io,
        }
    }
}

/// Every code an error of the library can carry as a whole (what the bindings raise as
/// `err.code`): the codes of [`QueryError`], [`CompileError`], [`SnapshotError`],
/// [`crate::wire::InputCode`] and [`crate::import::ImportError`]. The codes of single compile
/// or import diagnostics (`UNKNOWN_FIELD`, `IMPORT_DUPLICATE`, …) are not among them: an error
/// lists those in its diagnostics.
///
/// ```
/// let err = tarif::Engine::from_json("{").unwrap_err();
/// assert!(tarif::ERROR_CODES.contains(&err.code()));
/// ```
pub const ERROR_CODES: &[&str] = &[
    "UNKNOWN_ACCOUNT",
    "UNKNOWN_PRODUCT",
    "PRICE_HIDDEN",
    "NO_PRICE",
    "QUANTITY_RULE",
    "INVALID_QUANTITY",
    "UNKNOWN_CURRENCY",
    "INVALID_INSTANT",
    "OVERFLOW",
    "INVALID_BATCH",
    "NOT_BUYABLE",
    "INVALID_ORDER_TEXT",
    "MINIMUM_ORDER",
    "UNKNOWN_USER",
    "PRICE_BOUND",
    "QUOTE_INVALID",
    "QUOTE_TAMPERED",
    "QUOTE_EXPIRED",
    "QUOTE_KEY",
    "COMPILE_ERROR",
    "STRICT_WARNINGS",
    "IMPORT_ERROR",
    "SNAPSHOT_CORRUPT",
    "SNAPSHOT_VERSION",
    "IO_ERROR",
    "INVALID_TYPE",
    "FLOAT_REJECTED",
    "INVALID_TEXT",
    "INVALID_QUERY",
    "INVALID_RELATION_KIND",
    "INVALID_CURSOR",
    "NAIVE_DATETIME",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::InputCode;

    /// One error of every kind. The `match`es list every variant, so that a new variant does
    /// not compile until it is added here, and so checked against [`ERROR_CODES`].
    fn one_of_each() -> Vec<&'static str> {
        let text = String::new;
        let queries = [
            QueryError::UnknownAccount(text()),
            QueryError::UnknownProduct(text()),
            QueryError::PriceHidden(text()),
            QueryError::NoPrice {
                sku: text(),
                currency: text(),
                priced_in: Vec::new(),
            },
            QueryError::QuantityRule {
                sku: text(),
                qty: Decimal::ONE,
                nearest: Decimal::TWO,
            },
            QueryError::NotBuyable(text()),
            QueryError::InvalidOrderText(text()),
            QueryError::InvalidQuantity(text()),
            QueryError::UnknownCurrency(text()),
            QueryError::InvalidInstant(text()),
            QueryError::Overflow(text()),
            QueryError::InvalidBatch(text()),
            QueryError::UnknownUser(text()),
            QueryError::MinimumOrder {
                minimum: Decimal::TWO,
                missing: Decimal::ONE,
            },
            QueryError::PriceBound {
                sku: text(),
                price: Decimal::ONE,
                bound: text(),
                limit: Decimal::TWO,
                rule: None,
            },
            QueryError::QuoteInvalid(text()),
            QueryError::QuoteTampered,
            QueryError::QuoteExpired {
                valid_until: text(),
                at: text(),
            },
            QueryError::QuoteKey(0),
        ];
        let snapshots = [
            SnapshotError::Corrupt {
                path: None,
                reason: text(),
            },
            SnapshotError::Version {
                path: None,
                found: 0,
                supported: 1,
            },
            SnapshotError::Io {
                action: "read",
                path: text(),
                message: text(),
            },
        ];
        let inputs = [
            InputCode::InvalidType,
            InputCode::FloatRejected,
            InputCode::InvalidText,
            InputCode::InvalidQuery,
            InputCode::InvalidRelationKind,
            InputCode::InvalidCursor,
            InputCode::InvalidBatch,
            InputCode::NaiveDatetime,
        ];
        let mut codes = Vec::new();
        for e in &queries {
            match e {
                QueryError::UnknownAccount(_)
                | QueryError::UnknownProduct(_)
                | QueryError::PriceHidden(_)
                | QueryError::NoPrice { .. }
                | QueryError::QuantityRule { .. }
                | QueryError::NotBuyable(_)
                | QueryError::InvalidOrderText(_)
                | QueryError::InvalidQuantity(_)
                | QueryError::UnknownCurrency(_)
                | QueryError::InvalidInstant(_)
                | QueryError::Overflow(_)
                | QueryError::InvalidBatch(_)
                | QueryError::MinimumOrder { .. }
                | QueryError::UnknownUser(_)
                | QueryError::PriceBound { .. }
                | QueryError::QuoteInvalid(_)
                | QueryError::QuoteTampered
                | QueryError::QuoteExpired { .. }
                | QueryError::QuoteKey(_) => codes.push(e.code()),
            }
        }
        for e in &snapshots {
            match e {
                SnapshotError::Corrupt { .. }
                | SnapshotError::Version { .. }
                | SnapshotError::Io { .. } => codes.push(e.code()),
            }
        }
        for code in inputs {
            match code {
                InputCode::InvalidType
                | InputCode::FloatRejected
                | InputCode::InvalidText
                | InputCode::InvalidQuery
                | InputCode::InvalidRelationKind
                | InputCode::InvalidCursor
                | InputCode::InvalidBatch
                | InputCode::NaiveDatetime => codes.push(code.code()),
            }
        }
        let rejected = |diagnostics: &[DiagnosticCode]| CompileError {
            diagnostics: diagnostics
                .iter()
                .map(|&code| Diagnostic {
                    code,
                    path: text(),
                    message: text(),
                    ids: Vec::new(),
                })
                .collect(),
        };
        codes.push(rejected(&[DiagnosticCode::ParseError]).code());
        codes.push(rejected(&[DiagnosticCode::Expired]).code());
        if let Err(e) = crate::Engine::import("no/such/manifest.json") {
            codes.push(e.code());
        }
        codes
    }

    #[test]
    fn error_codes_are_every_code_an_error_can_carry() {
        let mut found = one_of_each();
        found.sort_unstable();
        found.dedup();
        let mut listed = ERROR_CODES.to_vec();
        listed.sort_unstable();
        assert_eq!(listed.len(), ERROR_CODES.len(), "a code is listed twice");
        assert_eq!(found, listed);
    }
}
