//! The `tarif/1` rules document, as it arrives: serde types with no interpretation yet.
//!
//! Money, percentages and quantities stay text here; the compiler parses them into exact
//! decimals so that every bad value is reported with its path, all at once. Each element of a
//! list is wrapped in [`Item`]: an element that does not parse keeps its error and the others are
//! still read, which is what lets compilation report every problem in one pass.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format tag every document must carry.
pub const FORMAT: &str = "tarif/1";

/// One element of a list in the document: parsed, or the reason it could not be.
#[derive(Debug, Clone)]
pub enum Item<T> {
    /// The element parsed.
    Ok(T),
    /// The element did not parse: the path inside the element and the message.
    Err {
        /// Path relative to the element (`rules[1].percent`), empty for the element itself.
        path: String,
        /// What was wrong, in serde's words.
        message: String,
    },
}

impl<T> Item<T> {
    /// The parsed element, if any.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Item::Ok(v) => Some(v),
            Item::Err { .. } => None,
        }
    }
}

thread_local! {
    /// Whether [`Item`] deserialises its element directly ([`Document::parse_direct`]) instead of
    /// through a `Value` tree that lets a bad element be recorded and the others read.
    static DIRECT: Cell<bool> = const { Cell::new(false) };
    /// Whether the contracts' visibility rules are skipped ([`Document::parse_pricing`]).
    static SKIP_VISIBILITY: Cell<bool> = const { Cell::new(false) };
}

/// Sets a flag for the life of the guard, restoring what it was even if deserialisation
/// unwinds.
struct FlagGuard(&'static std::thread::LocalKey<Cell<bool>>, bool);

impl FlagGuard {
    fn new(flag: &'static std::thread::LocalKey<Cell<bool>>) -> Self {
        FlagGuard(flag, flag.with(|d| d.replace(true)))
    }
}

impl Drop for FlagGuard {
    fn drop(&mut self) {
        let was = self.1;
        self.0.with(|d| d.set(was));
    }
}

/// A contract's visibility rules, or none read when [`SKIP_VISIBILITY`] is set.
fn visibility_rules<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Item<VisibilityRule>>, D::Error> {
    if SKIP_VISIBILITY.with(Cell::get) {
        de::IgnoredAny::deserialize(deserializer)?;
        return Ok(Vec::new());
    }
    Vec::deserialize(deserializer)
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if DIRECT.with(Cell::get) {
            return T::deserialize(deserializer).map(Item::Ok);
        }
        let value = Value::deserialize(deserializer)?;
        Ok(match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Item::Ok(v),
            Err(e) => {
                let path = e.path().to_string();
                Item::Err {
                    path: if path == "." { String::new() } else { path },
                    message: e.into_inner().to_string(),
                }
            }
        })
    }
}

impl Document {
    /// Parses a document in one pass, every element straight into its type, or `None` if
    /// anything at all is wrong with it.
    ///
    /// Building a `Value` tree per element and converting it is what lets a bad element be
    /// reported with its path while the others are still read, but it costs a tree allocation
    /// and a second walk per element. Valid documents are the common case, so they take this
    /// path; on `None` the caller parses again the slow way to collect every problem. A
    /// document parsed here equals what the slow way yields, with every element `Item::Ok`.
    pub(crate) fn parse_direct(json: &str) -> Option<Document> {
        let _direct = FlagGuard::new(&DIRECT);
        serde_json::from_str(json).ok()
    }

    /// [`Document::parse_direct`] with the contracts' visibility rules skipped (left empty), for
    /// a compile of their pricing rules alone: most of a large `contracts` section is often
    /// visibility rules.
    pub(crate) fn parse_pricing(json: &str) -> Option<Document> {
        let _skip = FlagGuard::new(&SKIP_VISIBILITY);
        Document::parse_direct(json)
    }
}

/// The contracts of one text of the `contracts` section, each parsed as
/// [`Contract::parse_pricing`] parses it; the engines a change of rules makes share those it
/// did not write.
pub(crate) type ParsedContracts = Arc<Vec<Arc<Item<Contract>>>>;

impl Contract {
    /// A `contracts` array given as its text, each contract parsed as
    /// [`Document::parse_pricing`] parses it (visibility rules left empty), or `None` if
    /// anything at all is wrong with it.
    pub(crate) fn parse_pricing(json: &str) -> Option<Vec<Item<Contract>>> {
        let _direct = FlagGuard::new(&DIRECT);
        let _skip = FlagGuard::new(&SKIP_VISIBILITY);
        serde_json::from_str(json).ok()
    }

    /// The contracts of a `contracts` section's `text` at `ranges` (one per contract, in
    /// order), each parsed as [`Contract::parse_pricing`] parses it, in parallel; `None` if
    /// anything at all is wrong with one. What an engine opened from a snapshot (which keeps
    /// no parse) reads for its first change of rules.
    pub(crate) fn parse_pricing_at(text: &str, ranges: &[Range<usize>]) -> Option<ParsedContracts> {
        // Large enough that a chunk's guards and vector cost nothing next to its parse.
        const CHUNK: usize = 512;
        let chunks = ranges
            .par_chunks(CHUNK)
            .map(|chunk| {
                let _direct = FlagGuard::new(&DIRECT);
                let _skip = FlagGuard::new(&SKIP_VISIBILITY);
                chunk
                    .iter()
                    .map(|range| {
                        let contract = serde_json::from_str(text.get(range.clone())?).ok()?;
                        Some(Arc::new(Item::Ok(contract)))
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Arc::new(chunks.into_iter().flatten().collect()))
    }
}

/// A decimal written either as a JSON string (`"2.5"`) or a JSON number (`2.5`); used for
/// quantities, never for money (money must be a string so no float ever carries it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumText(pub String);

impl<'de> Deserialize<'de> for NumText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(NumText(s)),
            Value::Number(n) => Ok(NumText(n.to_string())),
            other => Err(de::Error::custom(format!(
                "expected a decimal number or string, found `{other}`"
            ))),
        }
    }
}

/// The whole rules document.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Must be `tarif/1`.
    pub format: String,
    /// Engine-wide settings; every field has a default.
    #[serde(default)]
    pub settings: Option<Item<Settings>>,
    /// Currencies used by the document.
    #[serde(default)]
    pub currencies: Vec<Item<Currency>>,
    /// The category tree.
    #[serde(default)]
    pub categories: Vec<Item<Category>>,
    /// The catalog.
    #[serde(default)]
    pub products: Vec<Item<Product>>,
    /// Price lists.
    #[serde(default)]
    pub price_lists: Vec<Item<PriceList>>,
    /// Customer segments.
    #[serde(default)]
    pub segments: Vec<Item<Segment>>,
    /// Customer accounts.
    #[serde(default)]
    pub accounts: Vec<Item<Account>>,
    /// Framework contracts: visibility and pricing rules for an audience.
    #[serde(default)]
    pub contracts: Vec<Item<Contract>>,
    /// Stock and restock lead times, one record per product.
    #[serde(default)]
    pub stock: Vec<Item<StockRecord>>,
}

/// A product's stock: one quantity (`available`) or one per warehouse (`warehouses`), never
/// both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockRecord {
    /// The product.
    pub sku: String,
    /// Quantity on hand, when the product is not tracked per warehouse.
    pub available: Option<NumText>,
    /// Days to restock the product (used when no warehouse gives its own).
    pub lead_time_days: Option<u32>,
    /// Quantity on hand per warehouse.
    pub warehouses: Option<Vec<WarehouseStock>>,
}

/// A product's stock in one warehouse.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseStock {
    /// Warehouse id.
    pub id: String,
    /// Quantity on hand there.
    pub available: NumText,
    /// Days to restock from there.
    pub lead_time_days: Option<u32>,
}

/// Engine-wide settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What a product is when no visibility rule speaks of it.
    pub default_visibility: Option<DefaultVisibility>,
    /// IANA time zone in which bare dates are read.
    pub timezone: Option<String>,
    /// The pricing procedure: ordered steps.
    pub procedure: Option<Vec<StepDef>>,
    /// The rounding policy of last resort.
    pub rounding: Option<Rounding>,
    /// Price lists for everyone.
    #[serde(default)]
    pub default_price_lists: Vec<String>,
    /// Request currency when neither the request nor the account chain names one; also the
    /// currency of product costs. Defaults to the first entry of `currencies`.
    pub default_currency: Option<String>,
    /// Catalog navigation: which attributes are filterable and which are numeric.
    pub facets: Option<FacetSettings>,
}

/// Which attributes the facet index covers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacetSettings {
    /// Attributes indexed by value (any-of filters, value counts). Default: every string or
    /// boolean attribute, and every numeric one.
    pub attributes: Option<Vec<String>>,
    /// Attributes indexed as numbers (range filters). Default: every attribute whose values are
    /// all numbers.
    pub numeric: Option<Vec<String>>,
}

/// `open` (visible unless denied) or `closed` (hidden unless allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultVisibility {
    /// Everything is visible unless a rule denies it.
    Open,
    /// Nothing is visible unless a rule allows it.
    Closed,
}

/// One step of the pricing procedure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// The step name that rules refer to.
    pub step: String,
    /// How the step picks among its candidates.
    pub select: Option<Select>,
    /// A required step without an applied rule makes the quote `NO_PRICE`.
    #[serde(default)]
    pub required: bool,
    /// The step runs even after an exclusive rule has applied.
    #[serde(default)]
    pub always: bool,
}

/// Selection strategy of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// One rule: most specific audience, then selector, priority, lowest price, smallest id.
    MostSpecific,
    /// One rule: highest priority first, then as `most_specific`.
    Priority,
    /// One rule: the lowest resulting price, ties as `most_specific`.
    Lowest,
    /// Every candidate, in descending priority then specificity, each on the running price.
    All,
    /// The single candidate giving the lowest price (with `all`'s exclusive handling).
    Best,
}

/// A rounding policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rounding {
    /// Rounding mode; default `half_up`.
    pub mode: Option<RoundingMode>,
    /// Where currency rounding happens; default `unit`.
    pub stage: Option<RoundingStage>,
    /// Decimals of the rounded amount; default the currency's scale.
    pub scale: Option<u32>,
    /// Decimals kept on the unit price at stage `line`; default 4.
    pub unit_scale: Option<u32>,
}

/// How a value is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Half away from zero.
    HalfUp,
    /// Half to even (banker's rounding).
    HalfEven,
    /// Half towards zero.
    HalfDown,
    /// Away from zero.
    Up,
    /// Towards zero.
    Down,
}

/// Where the currency rounding happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingStage {
    /// The unit price is rounded; the line is unit × quantity exactly.
    Unit,
    /// The unit price keeps `unit_scale` decimals; the line total is rounded.
    Line,
}

/// A currency used by the document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Currency {
    /// ISO 4217 code (three capital letters).
    pub code: String,
    /// Decimals; default the ISO 4217 minor unit.
    pub scale: Option<u32>,
    /// Rounding policy for prices in this currency.
    pub rounding: Option<Rounding>,
}

/// A node of the category tree.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Category id.
    pub id: String,
    /// Parent category id.
    pub parent: Option<String>,
    /// Display name.
    pub name: Option<String>,
}

/// A product of the catalog.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Stock keeping unit: the product id.
    pub sku: String,
    /// Display name.
    pub name: Option<String>,
    /// GTIN / EAN barcode.
    pub ean: Option<String>,
    /// Manufacturer part number.
    pub mpn: Option<String>,
    /// Further references (legacy numbers, supplier codes).
    #[serde(default)]
    pub refs: Vec<String>,
    /// Variant family.
    pub family: Option<String>,
    /// Variant axes inside the family (`voltage: 18V`).
    #[serde(default)]
    pub axes: BTreeMap<String, String>,
    /// Categories the product belongs to.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Purchase cost, a decimal string in the default currency.
    pub cost: Option<String>,
    /// Technical attributes: strings, numbers, booleans or lists of them.
    #[serde(default)]
    pub attrs: BTreeMap<String, Value>,
    /// Ordering constraints.
    pub order: Option<OrderRule>,
    /// Links to other products.
    pub relations: Option<Relations>,
}

/// Minimum order quantity and multiple.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRule {
    /// Smallest quantity that may be ordered.
    pub min: Option<NumText>,
    /// Quantities must be a multiple of this.
    pub multiple: Option<NumText>,
}

/// Links from a product to others.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relations {
    /// Products that must be ordered with it.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Accessories.
    #[serde(default)]
    pub accessories: Vec<String>,
    /// Compatible products.
    #[serde(default)]
    pub compatible: Vec<String>,
    /// Products that cannot be ordered with it.
    #[serde(default)]
    pub excludes: Vec<String>,
    /// Successor product.
    pub replaced_by: Option<String>,
}

/// Validity interval: `from` inclusive, `until` exclusive; RFC 3339 instants or dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validity {
    /// First instant of validity.
    pub from: Option<String>,
    /// First instant after validity.
    pub until: Option<String>,
}

/// How tiers price a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMode {
    /// The reached tier prices every unit.
    AllUnits,
    /// Each band is priced at its own tier.
    Graduated,
}

/// Which quantity a rule's or entry's tiers and quantity range read (docs/spec.md §12.5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierBasis {
    /// The line's own quantity.
    #[default]
    Line,
    /// The order's lines of the product's family.
    Family,
    /// The order's lines sharing the line's category.
    Category,
    /// Every line of the order.
    Order,
}

/// A quantity tier: from `min_qty` on, this value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Threshold quantity (inclusive).
    pub min_qty: NumText,
    /// Unit price from this quantity (price entries and `price` rules).
    pub price: Option<String>,
    /// Percentage from this quantity (`percent` rules).
    pub percent: Option<String>,
    /// Amount from this quantity (`amount` rules).
    pub amount: Option<String>,
}

/// A price list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceList {
    /// List id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Currency of every price in the list.
    pub currency: Option<String>,
    /// Net list: every entry is exclusive.
    #[serde(default)]
    pub net: bool,
    /// Priority of its entries (default 0).
    pub priority: Option<i64>,
    /// Validity of its entries.
    pub valid: Option<Validity>,
    /// Default tier mode of its entries.
    pub tier_mode: Option<TierMode>,
    /// Default tier basis of its entries.
    pub tier_basis: Option<TierBasis>,
    /// Rounding policy of prices from this list.
    pub rounding: Option<Rounding>,
    /// Products without an entry here take their price from this list (followed in chains)...
    pub from_list: Option<String>,
    /// ...adjusted by this signed percentage.
    pub percent: Option<String>,
    /// The entries.
    #[serde(default)]
    pub prices: Vec<Item<PriceEntry>>,
}

/// One product's price in a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceEntry {
    /// The product.
    pub sku: String,
    /// Unit price below the first tier.
    pub price: Option<String>,
    /// Quantity tiers.
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Tier mode for this entry.
    pub tier_mode: Option<TierMode>,
    /// The quantity its tiers and range read (overrides the list's).
    pub tier_basis: Option<TierBasis>,
    /// Priority (overrides the list's).
    pub priority: Option<i64>,
    /// Validity (intersected with the list's).
    pub valid: Option<Validity>,
    /// Smallest quantity this entry prices.
    pub min_qty: Option<NumText>,
    /// Largest quantity this entry prices.
    pub max_qty: Option<NumText>,
    /// This entry, when applied, skips the rest of the procedure (but `always` steps).
    pub exclusive: Option<bool>,
}

/// A customer segment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Segment id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Price lists for the segment's members.
    #[serde(default)]
    pub price_lists: Vec<String>,
}

/// A customer account.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Account id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Parent account.
    pub parent: Option<String>,
    /// Segments the account belongs to.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Default request currency.
    pub currency: Option<String>,
    /// Price lists attached to the account.
    #[serde(default)]
    pub price_lists: Vec<String>,
    /// The customer's own part numbers: alias → SKU.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// The account's users (docs/spec.md §12.7); they belong to its subsidiaries too.
    #[serde(default)]
    pub users: Vec<User>,
    /// Approval rules of the account's orders and its subsidiaries' (docs/spec.md §12.7).
    #[serde(default)]
    pub approvals: Vec<ApprovalRule>,
}

/// Who a contract speaks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Everyone.
    All,
    /// These accounts (and their subsidiaries) and the members of these segments.
    Some {
        /// Account ids.
        accounts: Vec<String>,
        /// Segment ids.
        segments: Vec<String>,
    },
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Parts {
            #[serde(default)]
            accounts: Vec<String>,
            #[serde(default)]
            segments: Vec<String>,
        }
        match Value::deserialize(deserializer)? {
            Value::String(s) if s == "all" => Ok(Audience::All),
            v @ Value::Object(_) => {
                let parts = Parts::deserialize(v).map_err(de::Error::custom)?;
                Ok(Audience::Some { accounts: parts.accounts, segments: parts.segments })
            }
            other => Err(de::Error::custom(format!(
                "expected `\"all\"` or {{\"accounts\": [...], \"segments\": [...]}}, found `{other}`"
            ))),
        }
    }
}

/// A framework contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Contract id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Who the contract speaks to.
    pub audience: Audience,
    /// Validity of every rule in it.
    pub valid: Option<Validity>,
    /// Priority of its rules (default 0).
    pub priority: Option<i64>,
    /// Currency of its absolute amounts.
    pub currency: Option<String>,
    /// Rounding policy of prices its rules produce.
    pub rounding: Option<Rounding>,
    /// Visibility rules.
    #[serde(default, deserialize_with = "visibility_rules")]
    pub visibility: Vec<Item<VisibilityRule>>,
    /// Pricing rules.
    #[serde(default)]
    pub rules: Vec<Item<Rule>>,
    /// Conditions on the order as a whole (docs/spec.md §12.3).
    #[serde(default)]
    pub order_conditions: Vec<Item<OrderCondition>>,
}

/// What an order condition does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// A discount on the subtotal from a threshold on.
    OrderDiscount,
    /// A minimum order value: an error, or a surcharge below it.
    MinimumOrder,
    /// A shipping charge per delivery address, free from a threshold on.
    Shipping,
}

impl OrderKind {
    /// The name written in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::OrderDiscount => "order_discount",
            OrderKind::MinimumOrder => "minimum_order",
            OrderKind::Shipping => "shipping",
        }
    }
}

/// One limit of a bounds rule (docs/spec.md §6.5), named after its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoundKind {
    /// `min_price`.
    MinPrice,
    /// `min_margin_pct`: the cost marked up.
    MinMarginPct,
    /// `max_discount_pct`: the base price less the largest discount.
    MaxDiscountPct,
    /// `min_over_base`.
    MinOverBase,
    /// `max_price`.
    MaxPrice,
    /// `max_over_base`.
    MaxOverBase,
}

impl BoundKind {
    /// The field of the rule that sets it.
    pub fn as_str(self) -> &'static str {
        match self {
            BoundKind::MinPrice => "min_price",
            BoundKind::MinMarginPct => "min_margin_pct",
            BoundKind::MaxDiscountPct => "max_discount_pct",
            BoundKind::MinOverBase => "min_over_base",
            BoundKind::MaxPrice => "max_price",
            BoundKind::MaxOverBase => "max_over_base",
        }
    }

    /// Whether it is a lower bound (a floor) rather than a ceiling.
    pub fn is_floor(self) -> bool {
        matches!(
            self,
            BoundKind::MinPrice
                | BoundKind::MinMarginPct
                | BoundKind::MaxDiscountPct
                | BoundKind::MinOverBase
        )
    }
}

/// Which lines take the units an allocation leaves over (docs/spec.md §12.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leftover {
    /// Lines in order order.
    First,
    /// From the last line back.
    Last,
    /// Largest line total first, ties by position.
    #[default]
    Largest,
}

/// A condition on an order as a whole, in a contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderCondition {
    /// Id, unique among its contract's order conditions.
    pub id: String,
    /// What it does.
    pub kind: OrderKind,
    /// Priority (overrides the contract's).
    pub priority: Option<i64>,
    /// Validity (intersected with the contract's).
    pub valid: Option<Validity>,
    /// Currency of its amounts (overrides the contract's).
    pub currency: Option<String>,
    /// Threshold on the subtotal (inclusive).
    pub min_subtotal: Option<String>,
    /// Share of the subtotal taken off (`order_discount`).
    pub percent: Option<String>,
    /// Amount taken off (`order_discount`).
    pub amount: Option<String>,
    /// Which lines take the leftover units of the allocation (`order_discount`).
    pub leftover: Option<Leftover>,
    /// Charged below the minimum instead of failing (`minimum_order`).
    pub surcharge: Option<String>,
    /// Charge per delivery address (`shipping`).
    pub charge: Option<String>,
    /// Subtotal of an address from which it ships free (`shipping`).
    pub free_from: Option<String>,
}

/// `allow` or `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Grants the capabilities.
    Allow,
    /// Withdraws the capabilities.
    Deny,
}

/// What an account may do with a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// The product exists for the account.
    See,
    /// The account may see its price.
    Price,
    /// The account may order it.
    Buy,
}

/// A visibility rule of a contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisibilityRule {
    /// Optional id, for explanations (default `contract-id/visibility[i]`).
    pub id: Option<String>,
    /// Allow or deny.
    pub effect: Effect,
    /// Products concerned.
    pub products: Selector,
    /// Capabilities concerned (default all three).
    pub capabilities: Option<Vec<Capability>>,
    /// Validity (intersected with the contract's).
    pub valid: Option<Validity>,
}

/// Which products a rule speaks of.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// Every product.
    All,
    /// One SKU.
    Sku(String),
    /// Several SKUs.
    Skus(Vec<String>),
    /// A variant family.
    Family(String),
    /// A category and its descendants.
    Category(String),
    /// A brand.
    Brand(String),
    /// An attribute condition.
    Attr(AttrCondition),
    /// Every member must match.
    AllOf(Vec<Selector>),
}

/// A condition on a product attribute.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttrCondition {
    /// Attribute name.
    pub key: String,
    /// Equal to this value.
    pub eq: Option<Value>,
    /// Equal to one of these values.
    #[serde(rename = "in")]
    pub any_of: Option<Vec<Value>>,
    /// Numeric lower bound (inclusive).
    pub min: Option<NumText>,
    /// Numeric upper bound (inclusive).
    pub max: Option<NumText>,
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        selector_from_value(Value::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

fn selector_from_value(value: Value) -> Result<Selector, String> {
    const SHAPE: &str = "expected `\"all\"` or an object with one of `sku`, `skus`, `family`, `category`, `brand`, `attr`, `all_of`";
    let map = match value {
        Value::String(s) if s == "all" => return Ok(Selector::All),
        Value::Object(map) => map,
        other => return Err(format!("{SHAPE}, found `{other}`")),
    };
    let mut entries = map.into_iter();
    let (key, inner) = match (entries.next(), entries.next()) {
        (Some(entry), None) => entry,
        _ => return Err(format!("{SHAPE} (exactly one key)")),
    };
    let text = |v: Value| -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s),
            other => Err(format!("`{key}` expects a string, found `{other}`")),
        }
    };
    Ok(match key.as_str() {
        "sku" => Selector::Sku(text(inner)?),
        "family" => Selector::Family(text(inner)?),
        "category" => Selector::Category(text(inner)?),
        "brand" => Selector::Brand(text(inner)?),
        "skus" => {
            Selector::Skus(Vec::<String>::deserialize(inner).map_err(|e| format!("`skus`: {e}"))?)
        }
        "attr" => {
            Selector::Attr(AttrCondition::deserialize(inner).map_err(|e| format!("`attr`: {e}"))?)
        }
        "all_of" => match inner {
            Value::Array(items) => Selector::AllOf(
                items
                    .into_iter()
                    .map(selector_from_value)
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                return Err(format!(
                    "`all_of` expects a list of selectors, found `{other}`"
                ))
            }
        },
        other => return Err(format!("unknown selector `{other}`; {SHAPE}")),
    })
}

/// `price_mode` of a `price` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceMode {
    /// The price replaces the running price.
    Set,
    /// The price replaces the running price only if lower.
    NeverRaise,
}

/// What a `percent` is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PercentOf {
    /// The running price (default).
    Running,
    /// The base price (after the first step).
    Base,
}

/// `round_to`: a multiple (`"0.05"`) or an ending (`{"ending": "0.99"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundTo {
    /// Round to a multiple of this step.
    Multiple {
        /// The step.
        step: String,
        /// Mode (default: the applicable rounding policy's).
        mode: Option<RoundingMode>,
    },
    /// Round to a price whose fractional part is this ending.
    Ending {
        /// The ending (`0.99`).
        ending: String,
        /// Mode (default: the applicable rounding policy's).
        mode: Option<RoundingMode>,
    },
}

impl<'de> Deserialize<'de> for RoundTo {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Parts {
            multiple: Option<String>,
            ending: Option<String>,
            mode: Option<RoundingMode>,
        }
        match Value::deserialize(deserializer)? {
            Value::String(step) => Ok(RoundTo::Multiple { step, mode: None }),
            v @ Value::Object(_) => {
                let p = Parts::deserialize(v).map_err(de::Error::custom)?;
                match (p.multiple, p.ending) {
                    (Some(step), None) => Ok(RoundTo::Multiple { step, mode: p.mode }),
                    (None, Some(ending)) => Ok(RoundTo::Ending {
                        ending,
                        mode: p.mode,
                    }),
                    _ => Err(de::Error::custom(
                        "`round_to` needs exactly one of `multiple` and `ending`",
                    )),
                }
            }
            other => Err(de::Error::custom(format!(
                "expected a decimal string or {{\"ending\": ...}}, found `{other}`"
            ))),
        }
    }
}

/// A pricing rule of a contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Rule id, unique within its contract.
    pub id: String,
    /// The procedure step it belongs to.
    pub step: String,
    /// Products concerned.
    pub products: Selector,
    /// Priority (overrides the contract's).
    pub priority: Option<i64>,
    /// Validity (intersected with the contract's).
    pub valid: Option<Validity>,
    /// Smallest quantity (inclusive).
    pub min_qty: Option<NumText>,
    /// Largest quantity (inclusive).
    pub max_qty: Option<NumText>,
    /// Currency of its absolute amounts (overrides the contract's).
    pub currency: Option<String>,
    /// When applied, skips the rest of its step and later steps except `always` ones.
    #[serde(default)]
    pub exclusive: bool,
    /// Absolute unit price.
    pub price: Option<String>,
    /// `set` (default) or `never_raise`.
    pub price_mode: Option<PriceMode>,
    /// Signed percentage.
    pub percent: Option<String>,
    /// What `percent` is taken of.
    pub of: Option<PercentOf>,
    /// Signed amount per unit.
    pub amount: Option<String>,
    /// Take the price from this list.
    pub from_list: Option<String>,
    /// Lower bound on the unit price.
    pub min_price: Option<String>,
    /// Upper bound on the unit price.
    pub max_price: Option<String>,
    /// Minimum margin over cost, in percent of cost.
    pub min_margin_pct: Option<String>,
    /// Maximum discount relative to the base price, in percent.
    pub max_discount_pct: Option<String>,
    /// Lower bound as an amount over the base price.
    pub min_over_base: Option<String>,
    /// Upper bound as an amount over the base price.
    pub max_over_base: Option<String>,
    /// Round the running price.
    pub round_to: Option<RoundTo>,
    /// Quantity tiers.
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Tier mode.
    pub tier_mode: Option<TierMode>,
    /// The quantity its tiers and range read.
    pub tier_basis: Option<TierBasis>,
    /// Rounding policy of the price it produces.
    pub rounding: Option<Rounding>,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user of an account (docs/spec.md §12.7).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// User id, unique in the document.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Roles: `buyer`, `approver`, `viewer`, `admin` or custom names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The order total the user may place without approval.
    pub limit: Option<String>,
}

/// An approval rule of an account's orders (docs/spec.md §12.7).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRule {
    /// Rule id, unique in its account; a subsidiary's rule of the same id overrides it.
    pub id: String,
    /// `total_above`, `products` or `cost_centre_budget`.
    pub kind: String,
    /// `total_above`: the total an order may reach without approval.
    pub threshold: Option<String>,
    /// `products`: SKUs that need approval.
    #[serde(default)]
    pub products: Vec<String>,
    /// `products`: categories (with their subcategories) that need approval.
    #[serde(default)]
    pub categories: Vec<String>,
    /// `cost_centre_budget`: cost centre → budget.
    #[serde(default)]
    pub budgets: BTreeMap<String, String>,
    /// Who approves: the users holding this role.
    pub role: Option<String>,
    /// Who approves: these users.
    #[serde(default)]
    pub users: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_for_pricing_skips_the_visibility_rules_alone_and_only_while_it_parses() {
        let text = r#"{"format": "tarif/1", "contracts": [{"id": "c", "audience": "all",
            "visibility": [{"effect": "deny", "products": {"sku": "A"}}],
            "rules": [{"id": "r", "step": "discount", "products": "all", "percent": "5"}]}]}"#;
        let contract = |doc: &Document| match doc.contracts.first() {
            Some(Item::Ok(c)) => (c.visibility.len(), c.rules.len()),
            _ => (usize::MAX, usize::MAX),
        };
        let pricing = Document::parse_pricing(text).unwrap();
        assert_eq!(contract(&pricing), (0, 1));
        assert_eq!(contract(&Document::parse_direct(text).unwrap()), (1, 1));
        let slow: Document = serde_json::from_str(text).unwrap();
        assert_eq!(contract(&slow), (1, 1));
    }
}
