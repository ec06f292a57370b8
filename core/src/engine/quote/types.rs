//! What a quote returns: the public result types, and the request.

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::Decimal;
use smallvec::SmallVec;

use crate::index::stock::WarehouseAvailability;
use crate::instant::Instant;
use crate::model::RoundingStage;

/// One line to price.
///
/// ```
/// use tarif::{Instant, QuoteRequest};
/// let req = QuoteRequest::new("ACME", "DR-18V-01", 3.into()).at(Instant::from_unix_seconds(0)).currency("EUR");
/// assert_eq!(req.currency, Some("EUR"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct QuoteRequest<'a> {
    /// Account id.
    pub account: &'a str,
    /// Any reference `lookup` accepts: SKU, EAN, MPN, ref or the account's alias.
    pub product: &'a str,
    /// Quantity (positive).
    pub qty: Decimal,
    /// Instant of the price (default: now).
    pub at: Option<Instant>,
    /// Currency (default: the account's, else the document's default).
    pub currency: Option<&'a str>,
}

impl<'a> QuoteRequest<'a> {
    /// A request at the current instant in the account's currency.
    pub fn new(account: &'a str, product: &'a str, qty: Decimal) -> Self {
        QuoteRequest {
            account,
            product,
            qty,
            at: None,
            currency: None,
        }
    }

    /// At a given instant.
    pub fn at(mut self, at: Instant) -> Self {
        self.at = Some(at);
        self
    }

    /// In a given currency.
    pub fn currency(mut self, currency: &'a str) -> Self {
        self.currency = Some(currency);
        self
    }
}

/// A priced line.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote<'e> {
    /// The product's SKU.
    pub sku: &'e str,
    /// The quantity priced.
    pub qty: Decimal,
    /// Currency code.
    pub currency: &'e str,
    /// Unit price, rounded per the rounding policy.
    pub unit_price: Decimal,
    /// Line total.
    pub line_total: Decimal,
    /// Price after the first step, rounded like the unit price.
    pub base_price: Decimal,
    /// What the everyone level alone gives, when it gives a price.
    pub list_price: Option<Decimal>,
    /// Whether the account may order the product.
    pub buyable: bool,
    /// The rounding stage used (a graduated quote is always at stage `line`).
    pub stage: RoundingStage,
    /// The rules that applied, in order.
    pub steps: Steps<'e>,
    /// The engine that produced the quote.
    pub engine_version: &'e str,
    /// What can ship now and what is backordered; `None` when the document has no stock
    /// record for the product (not tracked). Stock never changes the price nor `buyable`.
    pub stock: Option<StockInfo<'e>>,
}

/// The rules that applied to a quote, in order: read it as a slice (`quote.steps[0]`,
/// `quote.steps.iter()`, `quote.steps.len()`). Its storage is the engine's own business (a quote
/// of up to four steps allocates nothing).
///
/// ```
/// use tarif::{AppliedStep, Engine, QuoteRequest};
/// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2"}]}],
///   "accounts": [{"id": "C"}]}"#).unwrap();
/// let quote = engine.quote(&QuoteRequest::new("C", "A", 1.into())).unwrap();
/// let steps: &[AppliedStep] = &quote.steps;
/// assert_eq!(steps.len(), 1);
/// assert_eq!((&quote.steps).into_iter().count(), 1);
/// ```
#[derive(Clone, PartialEq, Default)]
pub struct Steps<'e>(pub(crate) SmallVec<[AppliedStep<'e>; 4]>);

impl<'e> std::ops::Deref for Steps<'e> {
    type Target = [AppliedStep<'e>];

    fn deref(&self) -> &[AppliedStep<'e>] {
        &self.0
    }
}

impl<'a, 'e> IntoIterator for &'a Steps<'e> {
    type Item = &'a AppliedStep<'e>;
    type IntoIter = std::slice::Iter<'a, AppliedStep<'e>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Debug for Steps<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The stock side of a quote: the quantity is split into what can ship now and the rest.
///
/// ```
/// use tarif::{Engine, QuoteRequest};
/// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}, {"sku": "B"}],
///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "5"}]}],
///   "stock": [{"sku": "A", "available": "4", "lead_time_days": 3}],
///   "accounts": [{"id": "C"}]}"#).unwrap();
/// let q = engine.quote(&QuoteRequest::new("C", "A", 6.into())).unwrap();
/// let stock = q.stock.unwrap();
/// assert_eq!((stock.available, stock.backorder, stock.lead_time_days), (4.into(), 2.into(), Some(3)));
/// // The price ignores stock.
/// assert_eq!(q.line_total.to_string(), "60.00");
/// // B has no stock record: not tracked.
/// assert!(engine.quote(&QuoteRequest::new("C", "B", 1.into())).unwrap().stock.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StockInfo<'e> {
    /// The part of the quantity that can ship now: the smaller of the quantity and the
    /// product's total on hand.
    pub available: Decimal,
    /// The rest of the quantity (zero or more).
    pub backorder: Decimal,
    /// Days until the backorder can ship: the product's lead time, `None` when nothing is
    /// backordered or no lead time is known.
    pub lead_time_days: Option<u32>,
    /// Stock on hand per warehouse, as the record gives it (empty when the product is not
    /// tracked per warehouse).
    pub warehouses: &'e [WarehouseAvailability],
}

/// One applied rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedStep<'e> {
    /// Procedure step name.
    pub step: &'e str,
    /// The rule (its `Display` is the full id).
    pub rule: RuleRef<'e>,
    /// Where the rule comes from.
    pub source: Source<'e>,
    /// The audience level it applied at.
    pub level: Level<'e>,
    /// Unit value before (none in the first step).
    pub before: Option<Decimal>,
    /// Unit value after.
    pub after: Decimal,
    /// Remarks: `exclusive`, `graduated`, `tier`, `derived`, `never_raise`, `clamped`.
    pub notes: Notes,
}

/// A rule or price-list entry, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleRef<'e> {
    /// A contract rule: `contract-id/rule-id`.
    Rule(&'e str),
    /// A price-list entry: `list-id/sku`.
    Entry {
        /// List id.
        list: &'e str,
        /// Product SKU.
        sku: &'e str,
    },
}

impl RuleRef<'_> {
    /// Compares full ids byte-wise without building them.
    pub(crate) fn cmp_id(&self, other: &RuleRef<'_>) -> Ordering {
        // A simulation sorts millions of entries, most of one list: those compare as their
        // SKUs (str order is byte order), without walking the joined bytes.
        match (self, other) {
            (RuleRef::Rule(a), RuleRef::Rule(b)) => return a.cmp(b),
            (RuleRef::Entry { list: a, sku: x }, RuleRef::Entry { list: b, sku: y }) if a == b => {
                return x.cmp(y)
            }
            _ => {}
        }
        fn bytes<'a>(r: &'a RuleRef<'_>) -> impl Iterator<Item = u8> + 'a {
            let (a, sep, b): (&[u8], &[u8], &[u8]) = match r {
                RuleRef::Rule(id) => (id.as_bytes(), b"", b""),
                RuleRef::Entry { list, sku } => (list.as_bytes(), b"/", sku.as_bytes()),
            };
            a.iter().chain(sep).chain(b).copied()
        }
        bytes(self).cmp(bytes(other))
    }
}

impl fmt::Display for RuleRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleRef::Rule(id) => f.write_str(id),
            RuleRef::Entry { list, sku } => write!(f, "{list}/{sku}"),
        }
    }
}

/// Where an applied rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'e> {
    /// A contract, by id.
    Contract(&'e str),
    /// A price list, by id.
    PriceList(&'e str),
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Contract(id) => write!(f, "contract {id}"),
            Source::PriceList(id) => write!(f, "price list {id}"),
        }
    }
}

/// An audience level of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level<'e> {
    /// The account (depth 0) or an ancestor (depth 1, 2, …).
    Account {
        /// Account id.
        id: &'e str,
        /// 0 for the account itself.
        depth: u8,
    },
    /// A segment of the account or of an ancestor.
    Segment {
        /// Segment id.
        id: &'e str,
    },
    /// Everyone.
    Everyone,
}

impl fmt::Display for Level<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Account { id, depth: 0 } => write!(f, "account {id}"),
            Level::Account { id, depth } => write!(f, "ancestor {id} (+{depth})"),
            Level::Segment { id } => write!(f, "segment {id}"),
            Level::Everyone => f.write_str("everyone"),
        }
    }
}

/// Remarks on an applied step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Notes(u8);

impl Notes {
    pub(crate) const EXCLUSIVE: Notes = Notes(1);
    pub(crate) const GRADUATED: Notes = Notes(2);
    pub(crate) const TIER: Notes = Notes(4);
    pub(crate) const DERIVED: Notes = Notes(8);
    pub(crate) const NEVER_RAISE: Notes = Notes(16);
    pub(crate) const CLAMPED: Notes = Notes(32);
    const NAMES: [&'static str; 6] = [
        "exclusive",
        "graduated",
        "tier",
        "derived",
        "never_raise",
        "clamped",
    ];

    pub(crate) fn with(self, other: Notes) -> Notes {
        Notes(self.0 | other.0)
    }

    /// The remarks, by name.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        Notes::NAMES
            .iter()
            .enumerate()
            .filter(|(k, _)| self.0 & (1 << k) != 0)
            .map(|(_, n)| *n)
    }

    /// Whether there is no remark.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Notes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().collect::<Vec<_>>().join(", "))
    }
}
