//! The compiled engine: immutable, indexed, `Send + Sync`; share it through an `Arc`.
//!
//! Everything here is built by [`crate::compile`]; queries live in the submodules, one per
//! question the engine answers.

pub mod batch;
pub mod explain;
pub mod lookup;
pub mod quote;
mod refmap;
pub mod search;
pub mod visibility;

use std::sync::Arc;

use ahash::AHashMap;
use chrono_tz::Tz;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use smallvec::SmallVec;

use crate::compile::{CompileOptions, Compiled};
use crate::error::{CompileError, Diagnostic, QueryError};
use crate::instant::{Instant, Interval};
use crate::model::{PercentOf, PriceMode, RoundingMode, RoundingStage, Select, TierMode};
pub(crate) use refmap::RefMap;

/// Dense index of a product.
pub(crate) type ProductId = u32;
/// Dense index of an account.
pub(crate) type AccountId = u32;
/// Dense index of a currency.
pub(crate) type CurrencyId = u16;
/// Dense index of a price list.
pub(crate) type ListId = u32;
/// Audience key: 0 is everyone, then segments, then accounts.
pub(crate) type AudKey = u32;
/// Marks "none" in dense `u32` columns.
pub(crate) const NONE: u32 = u32::MAX;

/// A compiled rules document. Cheap to share (`Arc<Engine>`), never mutated.
///
/// ```
/// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
/// assert!(engine.engine_version().starts_with("t1-"));
/// ```
#[derive(Debug)]
pub struct Engine {
    pub(crate) version: String,
    pub(crate) settings: Settings,
    pub(crate) currencies: Vec<CurrencyDef>,
    pub(crate) catalog: Catalog,
    pub(crate) audiences: Audiences,
    pub(crate) pricing: Pricing,
    pub(crate) visibility: VisibilityIndex,
    pub(crate) refs: RefIndex,
    pub(crate) search: search::SearchIndex,
    pub(crate) warnings: Vec<Diagnostic>,
}

#[derive(Debug)]
pub(crate) struct Settings {
    pub default_open: bool,
    pub timezone: Tz,
    pub steps: Vec<StepDef>,
    pub rounding: Option<PolicyId>,
    pub default_currency: CurrencyId,
    pub policies: Vec<Policy>,
}

#[derive(Debug)]
pub(crate) struct StepDef {
    pub name: Box<str>,
    pub select: Select,
    pub required: bool,
    pub always: bool,
}

pub(crate) type PolicyId = u32;

/// A rounding policy with its defaults filled in, except the scale (currency-dependent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub mode: RoundingMode,
    pub stage: RoundingStage,
    pub scale: Option<u32>,
    pub unit_scale: u32,
}

#[derive(Debug)]
pub(crate) struct CurrencyDef {
    pub code: Box<str>,
    pub scale: u32,
    pub rounding: Option<PolicyId>,
}

/// Selector specificity: (rank, depth, members), compared lexicographically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Spec {
    pub rank: u8,
    pub depth: u16,
    pub members: u16,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    pub skus: Vec<Box<str>>,
    pub names: Vec<Option<Box<str>>>,
    /// Every category of the product, with all their ancestors.
    pub category_closure: Vec<SmallVec<[u32; 4]>>,
    pub family: Vec<u32>,
    pub brand: Vec<u32>,
    pub cost: Vec<Option<Decimal>>,
    pub order: AHashMap<ProductId, OrderRule>,
    pub categories: Vec<CategoryDef>,
    pub families: Vec<Box<str>>,
    pub brands: Vec<Box<str>>,
    pub selectors: Vec<SelectorDef>,
}

#[derive(Debug)]
pub(crate) struct CategoryDef {
    pub depth: u16,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderRule {
    pub min: Option<Decimal>,
    pub multiple: Option<Decimal>,
}

/// A compiled selector: the products it matches and how specific it is.
#[derive(Debug)]
pub(crate) struct SelectorDef {
    pub products: RoaringBitmap,
    pub spec: Spec,
    pub index: SelectorKey,
}

/// How a rule is found from a product: by a key the product carries, or by scanning.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum SelectorKey {
    Skus(Vec<ProductId>),
    Family(u32),
    Category(u32),
    Brand(u32),
    Scan,
}

#[derive(Debug)]
pub(crate) struct Audiences {
    pub segment_ids: Vec<Box<str>>,
    pub accounts: Vec<AccountDef>,
    pub account_index: AHashMap<Box<str>, AccountId>,
}

/// Everything a query needs about an account, precomputed.
#[derive(Debug)]
pub(crate) struct AccountDef {
    pub id: Box<str>,
    pub currency: Option<CurrencyId>,
    /// Audience keys of the chain with their level (0 = the account, …, everyone last).
    pub chain: SmallVec<[(AudKey, u8); 6]>,
    /// Price lists reached through the chain, most specific level first, each once.
    pub lists: SmallVec<[(ListId, u8, AudKey); 4]>,
    /// Visibility levels of the chain that have rules, most specific first.
    pub vis_chain: SmallVec<[u32; 4]>,
    /// How many of them are the account's own or its ancestors' (the rest are shared).
    pub vis_own: u8,
    /// The flattened decision of the shared rest ([`VisibilityIndex::tails`]), or [`NONE`].
    pub vis_tail: u32,
    /// The account then its ancestors, nearest first.
    pub lineage: SmallVec<[AccountId; 4]>,
}

impl Audiences {
    /// The level used for "everyone" in a chain of this account.
    pub fn everyone_level(&self, account: &AccountDef) -> u8 {
        account.chain.last().map(|&(_, level)| level).unwrap_or(0)
    }
}

#[derive(Debug)]
pub(crate) struct Pricing {
    pub lists: Vec<ListDef>,
    pub list_index: AHashMap<Box<str>, ListId>,
    pub entries: Vec<EntryDef>,
    /// `(list << 32) | product` → range in `entries`.
    pub entry_index: AHashMap<u64, (u32, u32)>,
    pub rules: Vec<RuleDef>,
    /// `(aud << 32) | key` → rules indexed by a key the product carries.
    pub rule_index: AHashMap<u64, SmallVec<[u32; 2]>>,
    /// Audience key → what its rules cover, so that a level with nothing for the product costs
    /// one lookup and one bitmap test.
    pub audience_rules: AHashMap<AudKey, AudienceRules>,
    pub contracts: Vec<ContractDef>,
    /// Everyone-level lists (for `list_price`).
    pub everyone_lists: SmallVec<[ListId; 2]>,
}

/// The pricing rules of one audience key.
#[derive(Debug, Default)]
pub(crate) struct AudienceRules {
    /// Which index kinds hold rules for it (bit per [`IndexKind`]).
    pub kinds: u8,
    /// Every product some rule of it matches.
    pub products: RoaringBitmap,
    /// Rules whose selector must be checked against the product.
    pub scan: Vec<u32>,
}

/// Kinds of product keys in the rule index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum IndexKind {
    Sku = 0,
    Family = 1,
    Category = 2,
    Brand = 3,
    Scan = 4,
}

impl IndexKind {
    pub fn key(self, aud: AudKey, value: u32) -> u64 {
        (u64::from(aud) << 32) | (u64::from(self as u8) << 29) | u64::from(value & 0x1FFF_FFFF)
    }
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[derive(Debug)]
pub(crate) struct ContractDef {
    pub id: Box<str>,
    pub rounding: Option<PolicyId>,
}

#[derive(Debug)]
pub(crate) struct ListDef {
    pub id: Box<str>,
    pub net: bool,
    pub currency: CurrencyId,
    pub priority: i64,
    pub validity: Interval,
    pub rounding: Option<PolicyId>,
    pub derived: Option<(ListId, Decimal)>,
}

/// Quantity-dependent values: the own value below the first tier, then tiers.
#[derive(Debug, Clone)]
pub(crate) struct Tiered {
    pub own: Option<Decimal>,
    /// Boxed rather than inline: most of the millions of price entries have no tiers, and an
    /// empty box costs 16 bytes where inline room for two tiers cost 72.
    pub tiers: Box<[(Decimal, Decimal)]>,
    pub mode: TierMode,
}

impl Tiered {
    /// The all-units value for `qty`: the tier with the largest threshold ≤ qty, else own.
    pub fn value_at(&self, qty: Decimal) -> Option<Decimal> {
        self.tiers
            .iter()
            .rev()
            .find(|(min, _)| *min <= qty)
            .map(|&(_, v)| v)
            .or(self.own)
    }

    /// The graduated bands for `qty`: (units in band, value of band). The unit numbered `n`
    /// (the quantity `(n − 1, n]`) is priced at the tier with the largest `min_qty` ≤ `n`, so a
    /// tier's band starts after `⌈min_qty⌉ − 1`: "from 6" prices the 6th unit on, and a whole
    /// quantity reaches the same tier as in all-units mode.
    pub fn bands(&self, qty: Decimal) -> SmallVec<[(Decimal, Decimal); 4]> {
        let mut out = SmallVec::new();
        let mut lower = Decimal::ZERO;
        let mut value = self.own;
        for &(threshold, tier_value) in &self.tiers {
            let start = band_start(threshold);
            if let Some(v) = value {
                let upper = start.min(qty);
                if upper > lower {
                    out.push((upper - lower, v));
                }
            }
            lower = lower.max(start);
            value = Some(tier_value);
            if start >= qty {
                return out;
            }
        }
        if let Some(v) = value {
            if qty > lower {
                out.push((qty - lower, v));
            }
        }
        out
    }
}

/// Where a graduated tier's band starts: after `⌈min_qty⌉ − 1` (never below zero).
fn band_start(min_qty: Decimal) -> Decimal {
    (min_qty.ceil() - Decimal::ONE).max(Decimal::ZERO)
}

#[derive(Debug)]
pub(crate) struct EntryDef {
    pub list: ListId,
    pub product: ProductId,
    pub values: Tiered,
    pub priority: i64,
    pub validity: Interval,
    pub min_qty: Option<Decimal>,
    pub max_qty: Option<Decimal>,
    pub exclusive: bool,
}

#[derive(Debug)]
pub(crate) struct RuleDef {
    pub id: Box<str>,
    pub contract: u32,
    pub step: u16,
    pub selector: u32,
    pub spec: Spec,
    pub priority: i64,
    pub validity: Interval,
    pub min_qty: Option<Decimal>,
    pub max_qty: Option<Decimal>,
    /// Set when the rule carries an absolute amount: it is a candidate only in this currency.
    pub currency: Option<CurrencyId>,
    pub exclusive: bool,
    pub action: Action,
    pub rounding: Option<PolicyId>,
    /// Audience keys the rule speaks to.
    pub audience: SmallVec<[AudKey; 2]>,
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    Price {
        values: Tiered,
        mode: PriceMode,
    },
    Percent {
        values: Tiered,
        of: PercentOf,
    },
    Amount {
        values: Tiered,
    },
    FromList {
        list: ListId,
        percent: Option<Decimal>,
    },
    Bounds(Bounds),
    RoundTo {
        target: RoundTarget,
        mode: Option<RoundingMode>,
    },
}

impl Action {
    pub fn needs_running_price(&self) -> bool {
        !matches!(self, Action::Price { .. } | Action::FromList { .. })
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Bounds {
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
    pub min_margin_pct: Option<Decimal>,
    pub max_discount_pct: Option<Decimal>,
    pub min_over_base: Option<Decimal>,
    pub max_over_base: Option<Decimal>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum RoundTarget {
    Multiple(Decimal),
    Ending(Decimal),
}

/// Per audience level, the visibility decision over time.
#[derive(Debug)]
pub(crate) struct VisibilityIndex {
    pub levels: Vec<VisLevel>,
    /// Level of everyone, if any rule speaks to everyone.
    pub everyone: Option<u32>,
    /// The shared part of account chains (segment-set level, everyone level), flattened into
    /// one byte per product, so that a check reads one byte instead of testing two bitmaps per
    /// level and capability.
    pub tails: Vec<FlatTail>,
    pub rules: Vec<VisRuleDef>,
}

#[derive(Debug)]
pub(crate) struct VisLevel {
    /// Epochs sorted by start; the decision of an instant is that of the last epoch starting at
    /// or before it (the first epoch starts at [`Instant::MIN`]).
    pub epochs: Vec<(Instant, [Arc<CapDecision>; 3])>,
}

/// The decision of one level for one capability: products it decides, and those it allows.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct CapDecision {
    pub decided: RoaringBitmap,
    pub allowed: RoaringBitmap,
}

/// The decisions of a run of levels, per epoch: for each product, bit `2c` says whether a level
/// decides capability `c` (see, price, buy) and bit `2c + 1` whether the first one deciding
/// allows it.
#[derive(Debug)]
pub(crate) struct FlatTail {
    /// Epochs sorted by start, the first at [`Instant::MIN`].
    pub epochs: Vec<(Instant, Box<[u8]>)>,
}

#[derive(Debug)]
pub(crate) struct VisRuleDef {
    pub id: Box<str>,
    pub allow: bool,
    pub selector: u32,
    pub concerns: [bool; 3],
    pub validity: Interval,
    pub audience: SmallVec<[AudKey; 2]>,
}

#[derive(Debug, Default)]
pub(crate) struct RefIndex {
    pub sku: RefMap,
    pub gtin: RefMap,
    pub mpn: RefMap,
    pub other: RefMap,
    /// Folded alias → the accounts that use it, with the product it means for each.
    pub aliases: AHashMap<Box<str>, SmallVec<[(AccountId, ProductId); 1]>>,
    /// The keys that several products share, per map (a duplicate EAN, MPN or ref; SKUs equal
    /// once folded), with every product in document order; the maps above hold only the
    /// first, and a query takes the first its account may see.
    pub shared: SharedRefs,
}

/// Keys of the reference maps that several products share, with all of them in document
/// order; empty in most documents.
#[derive(Debug, Default)]
pub(crate) struct SharedRefs {
    pub sku: AHashMap<Box<str>, SmallVec<[ProductId; 2]>>,
    pub gtin: AHashMap<Box<str>, SmallVec<[ProductId; 2]>>,
    pub mpn: AHashMap<Box<str>, SmallVec<[ProductId; 2]>>,
    pub other: AHashMap<Box<str>, SmallVec<[ProductId; 2]>>,
}

impl Engine {
    /// Compiles a `tarif/1` JSON document (warnings allowed).
    ///
    /// ```
    /// let err = tarif::Engine::from_json(r#"{"format": "tarif/1", "bogus": 1}"#).unwrap_err();
    /// assert_eq!(err.diagnostics[0].code.code(), "UNKNOWN_FIELD");
    /// ```
    pub fn from_json(json: &str) -> Result<Engine, CompileError> {
        crate::compile::compile(json, &CompileOptions::default()).map(|c| c.engine)
    }

    /// Compiles with options (e.g. `strict`), returning the engine and its warnings.
    pub fn compile(json: &str, options: &CompileOptions) -> Result<Compiled, CompileError> {
        crate::compile::compile(json, options)
    }

    /// The stable content hash of the compiled document; every quote carries it.
    pub fn engine_version(&self) -> &str {
        &self.version
    }

    /// Warnings found while compiling.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Every SKU of the catalog, in document order.
    pub fn skus(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.catalog.skus.iter().map(|s| &**s)
    }

    /// Every account id, in document order.
    pub fn accounts(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.audiences.accounts.iter().map(|a| &*a.id)
    }

    /// Whether the document has this account (bindings check it before parsing an instant, to
    /// keep the error precedence of docs/spec.md §9).
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1", "accounts": [{"id": "A"}]}"#).unwrap();
    /// assert!(engine.has_account("A") && !engine.has_account("B"));
    /// ```
    pub fn has_account(&self, id: &str) -> bool {
        self.audiences.account_index.contains_key(id)
    }

    /// Declared currency codes.
    pub fn currencies(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.currencies.iter().map(|c| &*c.code)
    }

    /// The zone bare dates are read in (`settings.timezone`).
    pub fn timezone(&self) -> Tz {
        self.settings.timezone
    }

    /// Parses an instant as queries accept it: RFC 3339, or a date in the document's zone.
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
    /// assert!(engine.parse_instant("2026-03-01").is_ok());
    /// assert_eq!(engine.parse_instant("soon").unwrap_err().code(), "INVALID_INSTANT");
    /// ```
    pub fn parse_instant(&self, text: &str) -> Result<Instant, QueryError> {
        Instant::parse_in_zone(text, self.settings.timezone)
            .ok_or_else(|| QueryError::InvalidInstant(text.to_string()))
    }

    pub(crate) fn account(&self, id: &str) -> Result<(AccountId, &AccountDef), QueryError> {
        self.audiences
            .account_index
            .get(id)
            .and_then(|&a| self.audiences.accounts.get(a as usize).map(|def| (a, def)))
            .ok_or_else(|| QueryError::UnknownAccount(id.to_string()))
    }

    pub(crate) fn sku(&self, product: ProductId) -> &str {
        self.catalog
            .skus
            .get(product as usize)
            .map(|s| &**s)
            .unwrap_or("")
    }

    pub(crate) fn currency_code(&self, currency: CurrencyId) -> &str {
        self.currencies
            .get(usize::from(currency))
            .map(|c| &*c.code)
            .unwrap_or("")
    }

    pub(crate) fn currency_id(&self, code: &str) -> Option<CurrencyId> {
        self.currencies
            .iter()
            .position(|c| &*c.code == code)
            .and_then(|i| CurrencyId::try_from(i).ok())
    }

    pub(crate) fn policy(&self, id: PolicyId) -> Option<&Policy> {
        self.settings.policies.get(id as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_is_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Engine>();
        let engine = std::sync::Arc::new(Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap());
        let versions: Vec<String> = (0..4)
            .map(|_| {
                let engine = std::sync::Arc::clone(&engine);
                std::thread::spawn(move || engine.engine_version().to_string())
            })
            .map(|h| h.join().unwrap())
            .collect();
        assert!(versions.windows(2).all(|w| w[0] == w[1]));
    }
}
