//! `search` and `related`: a customer's own catalog, filtered, counted, paged (docs/spec.md §11).
//!
//! Every bitmap here is in **position space**: position `i` is the `i`-th product in SKU byte
//! order. Iterating a result bitmap therefore yields rows already sorted by SKU, and a page is
//! the first `limit` members from a start position, without sorting anything at query time.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, RwLock};

use ahash::AHashMap;
use roaring::{MultiOps, RoaringBitmap};
use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::batch::BatchAt;
use super::visibility::Capabilities;
use super::{AccountDef, Engine, ProductId, NONE};
use crate::error::{QueryError, Status};
use crate::instant::Instant;
use crate::model::Capability;

/// One filter of a [`SearchQuery`]. Filters combine all-of; the values of one filter any-of.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The attribute has one of these values (for a list attribute: one of its elements does).
    /// A value is compared as text; a numeric value also matches its canonical decimal text
    /// (`"18"`, `"18.0"` and `18` are the same).
    Attr {
        /// Attribute name.
        name: String,
        /// Accepted values.
        any_of: Vec<String>,
    },
    /// The numeric attribute (or one element of a numeric list) lies within the bounds,
    /// both inclusive.
    Range {
        /// Attribute name.
        name: String,
        /// Lower bound, inclusive.
        min: Option<Decimal>,
        /// Upper bound, inclusive.
        max: Option<Decimal>,
    },
    /// The product is in one of these categories or below them.
    Category(Vec<String>),
    /// The product has one of these brands.
    Brand(Vec<String>),
    /// The product belongs to one of these families.
    Family(Vec<String>),
}

impl Filter {
    /// `Filter::Attr` from any list of values.
    pub fn any_of<I, S>(name: &str, values: I) -> Filter
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Filter::Attr {
            name: name.to_string(),
            any_of: values.into_iter().map(Into::into).collect(),
        }
    }

    /// `Filter::Range` with optional inclusive bounds.
    pub fn range(name: &str, min: Option<Decimal>, max: Option<Decimal>) -> Filter {
        Filter::Range {
            name: name.to_string(),
            min,
            max,
        }
    }

    /// The facet this filter restricts: left out when that facet's values are counted.
    fn facet(&self) -> Facet {
        match self {
            Filter::Attr { name, .. } | Filter::Range { name, .. } => Facet::Attr(name.clone()),
            Filter::Category(_) => Facet::Category,
            Filter::Brand(_) => Facet::Brand,
            Filter::Family(_) => Facet::Family,
        }
    }
}

/// A dimension whose values can be counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Facet {
    /// An attribute declared filterable (`settings.facets`).
    Attr(String),
    /// Categories; each counts its whole subtree.
    Category,
    /// Brands.
    Brand,
    /// Variant families.
    Family,
}

impl Facet {
    /// `Facet::Attr`.
    pub fn attr(name: &str) -> Facet {
        Facet::Attr(name.to_string())
    }
}

/// The order of the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sort {
    /// By SKU, byte order.
    #[default]
    Sku,
    /// By a numeric attribute (a list by its smallest number), ties by SKU; products without a
    /// number for it come last, by SKU, in both directions.
    Attr {
        /// Attribute name.
        name: String,
        /// Largest first.
        descending: bool,
    },
}

/// Where a page ends: pass it to [`SearchQuery::after`] for the next page. It holds the sort
/// key of the last row (its value and SKU), so it stays meaningful across engine reloads.
///
/// ```
/// let cursor: tarif::Cursor = "v:18:DR-1".parse().unwrap();
/// assert_eq!(cursor.to_string(), "v:18:DR-1");
/// assert!("bogus".parse::<tarif::Cursor>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(CursorKey);

#[derive(Debug, Clone, PartialEq, Eq)]
enum CursorKey {
    Sku(Box<str>),
    Value(Decimal, Box<str>),
    NoValue(Box<str>),
}

impl CursorKey {
    fn sku(&self) -> &str {
        match self {
            CursorKey::Sku(s) | CursorKey::Value(_, s) | CursorKey::NoValue(s) => s,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            CursorKey::Sku(s) => write!(f, "s:{s}"),
            CursorKey::Value(v, s) => write!(f, "v:{v}:{s}"),
            CursorKey::NoValue(s) => write!(f, "n:{s}"),
        }
    }
}

/// A cursor text that [`Cursor`] did not write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor `{0}`")]
pub struct InvalidCursor(pub String);

impl FromStr for Cursor {
    type Err = InvalidCursor;

    fn from_str(text: &str) -> Result<Cursor, InvalidCursor> {
        let bad = || InvalidCursor(text.to_string());
        let (tag, rest) = text.split_once(':').ok_or_else(bad)?;
        let key = match tag {
            "s" => CursorKey::Sku(rest.into()),
            "n" => CursorKey::NoValue(rest.into()),
            "v" => {
                let (value, sku) = rest.split_once(':').ok_or_else(bad)?;
                CursorKey::Value(value.parse().map_err(|_| bad())?, sku.into())
            }
            _ => return Err(bad()),
        };
        Ok(Cursor(key))
    }
}

/// What to search: built with the chained methods below, every part optional.
///
/// ```
/// use tarif::{Capability, Facet, Filter, SearchQuery, Sort};
/// let query = SearchQuery::new()
///     .filter(Filter::any_of("color", ["blue"]))
///     .filter(Filter::range("voltage", Some(12.into()), Some(18.into())))
///     .text("DR-")
///     .capability(Capability::Buy)
///     .sort(Sort::Attr { name: "voltage".into(), descending: true })
///     .page(0, 20)
///     .facet(Facet::attr("voltage"))
///     .facet(Facet::Brand)
///     .group_variants(true)
///     .prices("1".parse().unwrap());
/// assert_eq!(query.limit, 20);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Filters, all of which must hold.
    pub filters: Vec<Filter>,
    /// Case-insensitive prefix of a SKU, MPN or other reference, or of the digits of an EAN.
    pub text: Option<String>,
    /// The capability a product needs to be in the results (default `see`).
    pub capability: Capability,
    /// Row order.
    pub sort: Sort,
    /// Rows to skip (after the cursor, if any).
    pub offset: usize,
    /// Rows per page (default 20).
    pub limit: usize,
    /// Start after this row.
    pub cursor: Option<Cursor>,
    /// Facets to count over the visible, filtered products.
    pub facets: Vec<Facet>,
    /// One row per family (with its matching variants) instead of one per product.
    pub group_variants: bool,
    /// Price every row (and variant) for this quantity.
    pub price_qty: Option<Decimal>,
    /// Request currency of those prices (default the account's).
    pub currency: Option<String>,
}

impl Default for SearchQuery {
    fn default() -> SearchQuery {
        SearchQuery {
            filters: Vec::new(),
            text: None,
            capability: Capability::See,
            sort: Sort::Sku,
            offset: 0,
            limit: 20,
            cursor: None,
            facets: Vec::new(),
            group_variants: false,
            price_qty: None,
            currency: None,
        }
    }
}

impl SearchQuery {
    /// Everything the account may see, by SKU, first 20 rows.
    pub fn new() -> SearchQuery {
        SearchQuery::default()
    }

    /// Adds a filter.
    pub fn filter(mut self, filter: Filter) -> SearchQuery {
        self.filters.push(filter);
        self
    }

    /// Sets the reference prefix.
    pub fn text(mut self, prefix: &str) -> SearchQuery {
        self.text = Some(prefix.to_string());
        self
    }

    /// Sets the required capability.
    pub fn capability(mut self, capability: Capability) -> SearchQuery {
        self.capability = capability;
        self
    }

    /// Sets the order.
    pub fn sort(mut self, sort: Sort) -> SearchQuery {
        self.sort = sort;
        self
    }

    /// Sets offset and limit.
    pub fn page(mut self, offset: usize, limit: usize) -> SearchQuery {
        self.offset = offset;
        self.limit = limit;
        self
    }

    /// Continues after a previous page.
    pub fn after(mut self, cursor: Cursor) -> SearchQuery {
        self.cursor = Some(cursor);
        self
    }

    /// Asks for a facet's counts.
    pub fn facet(mut self, facet: Facet) -> SearchQuery {
        self.facets.push(facet);
        self
    }

    /// Groups variants by family.
    pub fn group_variants(mut self, group: bool) -> SearchQuery {
        self.group_variants = group;
        self
    }

    /// Prices each row for this quantity.
    pub fn prices(mut self, qty: Decimal) -> SearchQuery {
        self.price_qty = Some(qty);
        self
    }

    /// Sets the currency of the prices.
    pub fn currency(mut self, code: &str) -> SearchQuery {
        self.currency = Some(code.to_string());
        self
    }
}

/// A row's price, from the batch path: `status` is `Ok` or the code the quote would fail with
/// (`PRICE_HIDDEN`, `NO_PRICE`, `QUANTITY_RULE`…), the amounts then zero.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPrice {
    /// Outcome.
    pub status: Status,
    /// Unit price.
    pub unit_price: Decimal,
    /// Line total for the quantity.
    pub line_total: Decimal,
    /// Currency code (empty when the quote failed).
    pub currency: String,
}

/// One variant of a family row.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// SKU.
    pub sku: String,
    /// Its axes (`voltage: 18V`), by axis name.
    pub axes: Vec<(String, String)>,
    /// What the account may do with it.
    pub capabilities: Capabilities,
    /// Its price, when asked for.
    pub price: Option<RowPrice>,
}

/// One row of a page: a product, or with `group_variants` a family (led by its first matching
/// variant in the page order) or a product without family.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRow {
    /// The product's SKU, or for a family the SKU of its leading variant.
    pub sku: String,
    /// Display name of that product.
    pub name: Option<String>,
    /// Its brand.
    pub brand: Option<String>,
    /// Its family.
    pub family: Option<String>,
    /// What the account may do with that product.
    pub capabilities: Capabilities,
    /// With `group_variants`, the family's matching variants by SKU (the product alone when it
    /// has no family); otherwise empty.
    pub variants: Vec<Variant>,
    /// The product's price, when asked for.
    pub price: Option<RowPrice>,
}

/// How many matching products have one value of a facet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetValue {
    /// The value as text (a number in canonical decimal form; a category id; a brand…).
    pub value: String,
    /// Visible matching products with it, the facet's own filters left out.
    pub count: u64,
}

/// The counts of one facet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCounts {
    /// Which facet.
    pub facet: Facet,
    /// Values with at least one product, and the values the query selects (even at zero), in
    /// the index's value order (numbers ascending, then texts, then booleans).
    pub values: Vec<FacetValue>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// Rows of the page.
    pub rows: Vec<SearchRow>,
    /// Rows in the whole result (families count once when grouped).
    pub total: u64,
    /// Cursor after the last row, when more rows follow.
    pub next: Option<Cursor>,
    /// Requested facets, in request order.
    pub facets: Vec<FacetCounts>,
}

/// The kinds of links between products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// Products that must be ordered with it.
    Requires,
    /// Accessories.
    Accessories,
    /// Compatible products.
    Compatible,
    /// Products that cannot be ordered with it.
    Excludes,
    /// The successor: `replaced_by` followed to the first product the account may buy.
    Replacement,
}

/// A related product the account may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedProduct {
    /// SKU.
    pub sku: String,
    /// What the account may do with it.
    pub capabilities: Capabilities,
}

/// The compiled navigation index.
#[derive(Debug, Default)]
pub(crate) struct SearchIndex {
    /// Position → product.
    pub order: Vec<ProductId>,
    /// Product → position.
    pub position: Vec<u32>,
    /// Whether positions are product ids (the document lists products in SKU order).
    pub identity: bool,
    pub attrs: AHashMap<Box<str>, AttrIndex>,
    pub brands: Named,
    pub categories: Named,
    pub families: Named,
    /// Position → family (`NONE` without).
    pub family_at: Vec<u32>,
    /// Positions of products that have a family.
    pub in_family: RoaringBitmap,
    /// Product → its axes.
    pub axes: AHashMap<ProductId, Axes>,
    /// Folded references with their position, sorted: a prefix is a contiguous range.
    pub prefixes: Vec<(Box<str>, u32)>,
    pub relations: AHashMap<ProductId, RelationsDef>,
    /// Visible sets already combined, by (chain levels with their epoch, capability).
    pub visible: RwLock<AHashMap<VisKey, Arc<RoaringBitmap>>>,
    /// What filters keep, by the filters: unions of the filters with several values, and
    /// intersections of several filters; at most [`FILTER_CACHE`] of them. Visibility is not
    /// in them, so accounts with different assortments share them.
    pub filtered: RwLock<AHashMap<FilterKey, Cached>>,
    /// Ticks of the filter cache, for evicting its least recently used entry.
    pub filter_clock: AtomicU64,
}

/// A filter cache entry and when it was last used.
#[derive(Debug)]
pub(crate) struct Cached {
    set: Arc<RoaringBitmap>,
    used: AtomicU64,
}

type VisKey = (SmallVec<[(u32, u32); 4]>, u8);

/// Bound of the filter cache: an entry is at most one bit per product (128 KB at 1M), and the
/// filters a shop's navigation offers repeat.
const FILTER_CACHE: usize = 128;

/// Restrictions, sorted: one with several members (a union), or several (an intersection).
pub(crate) type FilterKey = SmallVec<[Part; 4]>;

/// One restriction of a query, as a cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Part {
    /// Member ids of a dimension, ascending and unique.
    Members(Dimension, SmallVec<[u32; 8]>),
    /// A folded reference prefix.
    Prefix(Box<str>),
}

/// Where a filter's member ids point.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Dimension {
    /// `AttrIndex::values` of the attribute.
    Values(Box<str>),
    /// `NumericIndex::values` of the attribute.
    Numbers(Box<str>),
    Category,
    Brand,
    Family,
}

/// A set: from the index, cached, or built for this query.
enum Kept<'a> {
    Borrowed(&'a RoaringBitmap),
    Shared(Arc<RoaringBitmap>),
    Owned(RoaringBitmap),
}

impl std::ops::Deref for Kept<'_> {
    type Target = RoaringBitmap;

    fn deref(&self) -> &RoaringBitmap {
        match self {
            Kept::Borrowed(set) => set,
            Kept::Shared(set) => set,
            Kept::Owned(set) => set,
        }
    }
}

/// Scanning the column costs one read per matching product and value; counting with the sets
/// costs, per value and bitmap container of the base, an AND of 1,024 words, about as much as
/// this many reads.
const READS_PER_CONTAINER_OP: u64 = 128;

/// A variant's axes, by axis name.
pub(crate) type Axes = Vec<(Box<str>, Box<str>)>;

/// Names with their product sets, in name order for counting.
#[derive(Debug, Default)]
pub(crate) struct Named {
    pub names: Vec<Box<str>>,
    pub sets: Vec<RoaringBitmap>,
    pub index: AHashMap<Box<str>, u32>,
    /// The same membership by position, to count a small matching set value by value.
    pub column: ValueColumn,
}

/// The transpose of a [`Named`]'s sets: each position's value ids, ascending. Counting a facet
/// over a few thousand matching products reads their ids, where intersecting every value's set
/// would cost one container operation per value and chunk of the catalog.
#[derive(Debug, Default)]
pub(crate) enum ValueColumn {
    /// Not built (ids would not fit in `u32`): facets are counted with the sets alone.
    #[default]
    Absent,
    /// At most one value per position (`NONE` without).
    Single(Vec<u32>),
    /// The ids of position `p` are `ids[starts[p]..starts[p + 1]]`.
    Lists { starts: Vec<u32>, ids: Vec<u32> },
}

impl ValueColumn {
    /// The column of `sets` over `positions` positions.
    pub(crate) fn of(sets: &[RoaringBitmap], positions: usize) -> ValueColumn {
        let mut per = vec![0u32; positions];
        for set in sets {
            for pos in set {
                if let Some(n) = per.get_mut(pos as usize) {
                    *n = n.saturating_add(1);
                }
            }
        }
        let ids_of = || {
            sets.iter()
                .enumerate()
                .map(|(id, set)| (u32::try_from(id).unwrap_or(NONE), set))
        };
        if per.iter().all(|&n| n <= 1) {
            let mut single = per;
            single.fill(NONE);
            for (id, set) in ids_of() {
                for pos in set {
                    if let Some(slot) = single.get_mut(pos as usize) {
                        *slot = id;
                    }
                }
            }
            return ValueColumn::Single(single);
        }
        let mut starts = Vec::with_capacity(positions + 1);
        let mut total = 0u32;
        starts.push(0);
        for n in per {
            let Some(sum) = total.checked_add(n) else {
                return ValueColumn::Absent;
            };
            total = sum;
            starts.push(total);
        }
        let mut ids = vec![NONE; total as usize];
        let mut fill = starts.clone();
        for (id, set) in ids_of() {
            for pos in set {
                if let Some(at) = fill.get_mut(pos as usize) {
                    if let Some(slot) = ids.get_mut(*at as usize) {
                        *slot = id;
                    }
                    *at += 1;
                }
            }
        }
        ValueColumn::Lists { starts, ids }
    }

    /// Value ids per position on average, to weigh a scan (0 when absent).
    fn multiplicity(&self) -> u64 {
        match self {
            ValueColumn::Absent => 0,
            ValueColumn::Single(_) => 1,
            ValueColumn::Lists { starts, ids } => {
                (ids.len() as u64).div_ceil(starts.len().max(1) as u64)
            }
        }
    }

    /// Adds each position's values to `counts`.
    fn count(&self, positions: &RoaringBitmap, counts: &mut [u64]) {
        let mut add = |id: u32| {
            if let Some(n) = counts.get_mut(id as usize) {
                *n += 1;
            }
        };
        match self {
            ValueColumn::Absent => {}
            ValueColumn::Single(at) => {
                for pos in positions {
                    add(at.get(pos as usize).copied().unwrap_or(NONE));
                }
            }
            ValueColumn::Lists { starts, ids } => {
                for pos in positions {
                    let pos = pos as usize;
                    let (Some(&start), Some(&end)) = (starts.get(pos), starts.get(pos + 1)) else {
                        continue;
                    };
                    for &id in ids.get(start as usize..end as usize).unwrap_or_default() {
                        add(id);
                    }
                }
            }
        }
    }
}

impl Named {
    /// A name's id and set.
    fn member(&self, name: &str) -> Option<(u32, &RoaringBitmap)> {
        let &id = self.index.get(name)?;
        Some((id, self.sets.get(id as usize)?))
    }

    /// Members of `base` per value id, by whichever of scanning the column or intersecting
    /// the sets costs less.
    fn counts(&self, base: &RoaringBitmap) -> Vec<u64> {
        if self.scans(base) {
            self.counts_by_column(base)
        } else {
            self.counts_by_sets(base)
        }
    }

    /// Whether scanning the column for `base` costs less than intersecting every set: per
    /// value, that probes each member of a sparse base, or ANDs each bitmap container of a
    /// dense one.
    fn scans(&self, base: &RoaringBitmap) -> bool {
        let per_value = if dense(base) {
            chunks(base) * READS_PER_CONTAINER_OP
        } else {
            base.len()
        };
        let scan = base.len().saturating_mul(self.column.multiplicity());
        let intersect = (self.sets.len() as u64).saturating_mul(per_value);
        !matches!(self.column, ValueColumn::Absent) && scan <= intersect
    }

    fn counts_by_sets(&self, base: &RoaringBitmap) -> Vec<u64> {
        self.sets
            .iter()
            .map(|set| base.intersection_len(set))
            .collect()
    }

    fn counts_by_column(&self, base: &RoaringBitmap) -> Vec<u64> {
        let mut counts = vec![0; self.sets.len()];
        self.column.count(base, &mut counts);
        counts
    }
}

/// One filterable attribute: a set per value, and for numeric ones the sort/range column.
#[derive(Debug, Default)]
pub(crate) struct AttrIndex {
    /// Values in value order (numbers ascending, texts, booleans), keyed by their text.
    pub values: Named,
    pub numeric: Option<NumericIndex>,
}

#[derive(Debug, Default)]
pub(crate) struct NumericIndex {
    /// Distinct numbers ascending, with the products having that number (any list element).
    pub values: Vec<(Decimal, RoaringBitmap)>,
    /// (smallest number, position) sorted: the sort order of products with a number.
    pub column: Vec<(Decimal, u32)>,
    /// Ranges of `column` sharing one number, ascending.
    pub groups: Vec<(Decimal, u32, u32)>,
    /// Position → index in `groups` (`NONE` without a number).
    pub group_at: Vec<u32>,
    /// Positions that have a number.
    pub present: RoaringBitmap,
}

#[derive(Debug, Default)]
pub(crate) struct RelationsDef {
    pub requires: Vec<ProductId>,
    pub accessories: Vec<ProductId>,
    pub compatible: Vec<ProductId>,
    pub excludes: Vec<ProductId>,
    pub replaced_by: Option<ProductId>,
}

fn capability_rank(capability: Capability) -> u8 {
    match capability {
        Capability::See => 0,
        Capability::Price => 1,
        Capability::Buy => 2,
    }
}

impl Engine {
    /// Searches the account's own catalog: products with the required capability that pass
    /// every filter, one page of them in order, the total, and the requested facet counts.
    ///
    /// ```
    /// use tarif::{Capability, Engine, Facet, Filter, SearchQuery};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1",
    ///   "products": [
    ///     {"sku": "A", "brand": "X", "attrs": {"voltage": 12, "color": "red"}},
    ///     {"sku": "B", "brand": "X", "attrs": {"voltage": 18, "color": "blue"}},
    ///     {"sku": "C", "brand": "Y", "attrs": {"voltage": 18, "color": "red"}}],
    ///   "accounts": [{"id": "K"}],
    ///   "contracts": [{"id": "k", "audience": {"accounts": ["K"]},
    ///     "visibility": [{"effect": "deny", "products": {"sku": "C"}}]}]}"#).unwrap();
    /// let query = SearchQuery::new()
    ///     .filter(Filter::any_of("color", ["red"]))
    ///     .facet(Facet::attr("color"));
    /// let page = engine.search("K", &query, None).unwrap();
    /// assert_eq!(page.total, 1);
    /// assert_eq!(page.rows[0].sku, "A");
    /// // The color facet leaves out its own filter: it counts what each color would give.
    /// let colors: Vec<_> = page.facets[0].values.iter().map(|v| (v.value.as_str(), v.count)).collect();
    /// assert_eq!(colors, [("blue", 1), ("red", 1)]);
    /// ```
    pub fn search(
        &self,
        account: &str,
        query: &SearchQuery,
        at: Option<Instant>,
    ) -> Result<SearchPage, QueryError> {
        let (_, def) = self.account(account)?;
        let at = at.unwrap_or_else(Instant::now);
        let visible = self.visible_set(def, query.capability, at);
        // Each restriction with the facet it belongs to; the text prefix belongs to none, so
        // no facet count ever leaves it out.
        let restrictions: Vec<(Option<Facet>, Part, Kept<'_>)> = query
            .filters
            .iter()
            .map(|f| {
                let (part, set) = self.filter_set(f);
                (Some(f.facet()), part, set)
            })
            .chain(query.text.as_deref().map(|t| {
                let prefix = crate::compile::fold(t);
                let set = self.prefix_set(&prefix);
                (None, Part::Prefix(prefix), Kept::Owned(set))
            }))
            .collect();
        let restrict = |skip: Option<&Facet>| {
            let kept: SmallVec<[&(Option<Facet>, Part, Kept<'_>); 4]> = restrictions
                .iter()
                .filter(|(facet, _, _)| facet.is_none() || facet.as_ref() != skip)
                .collect();
            let filtered = match kept.as_slice() {
                [] => return Matching::of(Kept::Borrowed(&visible)),
                [(_, _, one)] => Kept::Borrowed(one),
                several => {
                    let mut key: FilterKey =
                        several.iter().map(|(_, part, _)| part.clone()).collect();
                    key.sort_unstable();
                    Kept::Shared(self.cached(key, || {
                        intersect(several.iter().map(|(_, _, set)| &**set).collect())
                    }))
                }
            };
            Matching::pair(filtered, Kept::Borrowed(&visible))
        };
        let order = Order::new(self, &query.sort);
        let cursor = query.cursor.as_ref().map(|c| order.resume(self, &c.0));
        let own = |facet: &Facet| {
            restrictions
                .iter()
                .any(|(f, _, _)| f.as_ref() == Some(facet))
        };
        let matching = restrict(None);
        // A plain page in SKU order reads the matching set only through its first rows and its
        // count: both can skip building it when it is large.
        let plain = !query.group_variants
            && matches!(order, Order::Sku | Order::Tail)
            && query.facets.iter().all(own);
        let rows_wanted = query.offset.saturating_add(query.limit).saturating_add(1);
        let found = match matching.walk_pays(rows_wanted) {
            Some(total) if plain => Found::Lazy(matching, total),
            _ => Found::Built(matching.build()),
        };
        let facets = query
            .facets
            .iter()
            .map(|facet| match &found {
                Found::Built(matching) if !own(facet) => {
                    self.count_facet(facet, matching, &visible, query)
                }
                _ => self.count_facet(facet, &restrict(Some(facet)).build(), &visible, query),
            })
            .collect();
        let (positions, total, next) = match &found {
            Found::Lazy(lazy, total) => {
                let from = cursor.map_or(0, |c| c.from);
                let walk = lazy
                    .iter_from(from)
                    .take(usize::try_from(*total).unwrap_or(usize::MAX));
                let (rows, next) = self.page(&order, walk, query);
                (rows, *total, next)
            }
            Found::Built(matching) if query.group_variants => {
                self.family_page(&order, matching, cursor, query)
            }
            Found::Built(matching) => {
                let (rows, next) = self.page(&order, order.walk(matching, cursor), query);
                (rows, matching.len(), next)
            }
        };
        let grouped = match &found {
            Found::Built(matching) if query.group_variants => Some(&**matching),
            _ => None,
        };
        let rows = self.rows(def, &positions, grouped, query, at)?;
        Ok(SearchPage {
            rows,
            total,
            next,
            facets,
        })
    }

    /// Products linked to a product (any reference `lookup` accepts, which the account must
    /// see), filtered by what the account may see; a replacement must be buyable.
    ///
    /// ```
    /// use tarif::{Engine, RelationKind};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1",
    ///   "products": [{"sku": "OLD", "relations": {"accessories": ["BAT", "HID"], "replaced_by": "MID"}},
    ///                {"sku": "MID", "relations": {"replaced_by": "NEW"}},
    ///                {"sku": "NEW"}, {"sku": "BAT"}, {"sku": "HID"}],
    ///   "accounts": [{"id": "K"}],
    ///   "contracts": [{"id": "k", "audience": "all", "visibility": [
    ///     {"effect": "deny", "products": {"sku": "HID"}},
    ///     {"effect": "deny", "products": {"sku": "MID"}, "capabilities": ["buy"]}]}]}"#).unwrap();
    /// let skus = |kind| engine.related("K", "OLD", kind, None).unwrap()
    ///     .into_iter().map(|r| r.sku).collect::<Vec<_>>();
    /// assert_eq!(skus(RelationKind::Accessories), ["BAT"]);
    /// assert_eq!(skus(RelationKind::Replacement), ["NEW"]);
    /// ```
    pub fn related(
        &self,
        account: &str,
        reference: &str,
        kind: RelationKind,
        at: Option<Instant>,
    ) -> Result<Vec<RelatedProduct>, QueryError> {
        let (_, def) = self.account(account)?;
        let at = at.unwrap_or_else(Instant::now);
        let product = self
            .resolve_visible(def, reference, at)
            .ok_or_else(|| QueryError::UnknownProduct(reference.to_string()))?;
        let Some(links) = self.search.relations.get(&product) else {
            return Ok(Vec::new());
        };
        let related = |p: ProductId| RelatedProduct {
            sku: self.sku(p).to_string(),
            capabilities: self.capabilities(def, p, at),
        };
        let list = match kind {
            RelationKind::Requires => &links.requires,
            RelationKind::Accessories => &links.accessories,
            RelationKind::Compatible => &links.compatible,
            RelationKind::Excludes => &links.excludes,
            RelationKind::Replacement => {
                // Cycles are compile errors; the bound only guards the walk.
                let mut next = links.replaced_by;
                for _ in 0..self.catalog.skus.len() {
                    let Some(p) = next else { break };
                    if self.capabilities(def, p, at).buy {
                        return Ok(vec![related(p)]);
                    }
                    next = self.search.relations.get(&p).and_then(|l| l.replaced_by);
                }
                return Ok(Vec::new());
            }
        };
        let mut out: Vec<RelatedProduct> = Vec::with_capacity(list.len());
        for &p in list {
            let r = related(p);
            if r.capabilities.see && !out.iter().any(|o| o.sku == r.sku) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The positions of products the account has `capability` on at `at`: per capability the
    /// first level of the chain deciding wins, else the default; then the implications. Equal,
    /// product by product, to [`Engine::capabilities`]; cached per (levels at their epoch,
    /// capability), so accounts sharing an assortment share the set.
    pub(crate) fn visible_set(
        &self,
        account: &AccountDef,
        capability: Capability,
        at: Instant,
    ) -> Arc<RoaringBitmap> {
        let levels: SmallVec<[(u32, u32); 4]> = account
            .vis_chain
            .iter()
            .filter_map(|&level| {
                let def = self.visibility.levels.get(level as usize)?;
                let epoch = def.epochs.partition_point(|(start, _)| *start <= at);
                let epoch = u32::try_from(epoch.checked_sub(1)?).ok()?;
                Some((level, epoch))
            })
            .collect();
        let key = (levels, capability_rank(capability));
        if let Some(set) = self
            .search
            .visible
            .read()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return set;
        }
        let set = Arc::new(self.combine_levels(&key.0, key.1));
        if let Ok(mut cache) = self.search.visible.write() {
            cache.insert(key, Arc::clone(&set));
        }
        set
    }

    fn combine_levels(&self, levels: &[(u32, u32)], capability: u8) -> RoaringBitmap {
        let count = u32::try_from(self.catalog.skus.len()).unwrap_or(u32::MAX);
        let mut all = RoaringBitmap::new();
        all.insert_range(0..count);
        let decide = |slot: usize| {
            let mut decided = RoaringBitmap::new();
            let mut allowed = RoaringBitmap::new();
            for &(level, epoch) in levels {
                let Some(decision) = self
                    .visibility
                    .levels
                    .get(level as usize)
                    .and_then(|l| l.epochs.get(epoch as usize))
                    .and_then(|(_, d)| d.get(slot))
                else {
                    continue;
                };
                allowed |= &(&decision.allowed & &decision.decided) - &decided;
                decided |= &decision.decided;
            }
            if self.settings.default_open {
                allowed |= &all - &decided;
            }
            allowed
        };
        let mut set = decide(0);
        for slot in 1..=usize::from(capability) {
            set &= decide(slot);
        }
        if self.search.identity {
            set
        } else {
            let mut positions: Vec<u32> = set
                .iter()
                .filter_map(|p| self.search.position.get(p as usize).copied())
                .collect();
            positions.sort_unstable();
            sorted_bitmap(&positions)
        }
    }

    /// What a filter keeps, the union of its members' sets (none: nothing), and its cache key.
    fn filter_set(&self, filter: &Filter) -> (Part, Kept<'_>) {
        let (dimension, mut members) = self.filter_members(filter);
        members.sort_unstable_by_key(|&(id, _)| id);
        members.dedup_by_key(|&mut (id, _)| id);
        let part = Part::Members(dimension, members.iter().map(|&(id, _)| id).collect());
        let set = match members.as_slice() {
            [] => Kept::Owned(RoaringBitmap::new()),
            [(_, one)] => Kept::Borrowed(one),
            many => Kept::Shared(self.cached(smallvec::smallvec![part.clone()], || {
                many.iter().map(|&(_, set)| set).union()
            })),
        };
        (part, set)
    }

    /// The filter cache's set for `key`, built on a miss.
    fn cached(&self, key: FilterKey, build: impl FnOnce() -> RoaringBitmap) -> Arc<RoaringBitmap> {
        let cache = &self.search.filtered;
        let now = self
            .search
            .filter_clock
            .fetch_add(1, AtomicOrdering::Relaxed);
        let hit = cache.read().ok().and_then(|c| {
            let entry = c.get(&key)?;
            entry.used.store(now, AtomicOrdering::Relaxed);
            Some(Arc::clone(&entry.set))
        });
        if let Some(set) = hit {
            return set;
        }
        let set = Arc::new(build());
        if let Ok(mut cache) = cache.write() {
            if cache.len() >= FILTER_CACHE {
                let oldest = cache
                    .iter()
                    .min_by_key(|(_, entry)| entry.used.load(AtomicOrdering::Relaxed))
                    .map(|(key, _)| key.clone());
                if let Some(oldest) = oldest {
                    cache.remove(&oldest);
                }
            }
            cache.insert(
                key,
                Cached {
                    set: Arc::clone(&set),
                    used: AtomicU64::new(now),
                },
            );
        }
        set
    }

    /// A filter's dimension and its members (id in that dimension, set), in any order.
    fn filter_members(&self, filter: &Filter) -> (Dimension, Vec<(u32, &RoaringBitmap)>) {
        let index = &self.search;
        match filter {
            Filter::Attr { name, any_of } => {
                let mut members = Vec::new();
                if let Some(attr) = index.attrs.get(name.as_str()) {
                    for value in any_of {
                        members.extend(attr.values.member(value));
                        let canonical =
                            crate::money::parse_decimal(value).map(|d| d.normalize().to_string());
                        members.extend(
                            canonical
                                .filter(|c| c != value)
                                .and_then(|c| attr.values.member(&c)),
                        );
                    }
                }
                (Dimension::Values(name.as_str().into()), members)
            }
            Filter::Range { name, min, max } => {
                let members = match index
                    .attrs
                    .get(name.as_str())
                    .and_then(|a| a.numeric.as_ref())
                {
                    Some(numeric) => {
                        let start =
                            min.map_or(0, |m| numeric.values.partition_point(|(v, _)| *v < m));
                        let end = max.map_or(numeric.values.len(), |m| {
                            numeric.values.partition_point(|(v, _)| *v <= m)
                        });
                        numeric
                            .values
                            .get(start..end)
                            .unwrap_or_default()
                            .iter()
                            .zip(start..)
                            .filter_map(|((_, set), id)| Some((u32::try_from(id).ok()?, set)))
                            .collect()
                    }
                    None => Vec::new(),
                };
                (Dimension::Numbers(name.as_str().into()), members)
            }
            Filter::Category(names) => (Dimension::Category, named_sets(&index.categories, names)),
            Filter::Brand(names) => (Dimension::Brand, named_sets(&index.brands, names)),
            Filter::Family(names) => (Dimension::Family, named_sets(&index.families, names)),
        }
    }

    /// Positions with a reference starting with the folded `prefix`.
    fn prefix_set(&self, prefix: &str) -> RoaringBitmap {
        let keys = &self.search.prefixes;
        let start = keys.partition_point(|(k, _)| **k < *prefix);
        let mut positions: Vec<u32> = keys
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|(k, _)| k.starts_with(&*prefix))
            .map(|&(_, p)| p)
            .collect();
        positions.sort_unstable();
        positions.dedup();
        sorted_bitmap(&positions)
    }

    /// The counts of one facet over `base`. A value the query selects is listed even at zero,
    /// but only when a product the account may see (`visible`) carries it: a zero that only
    /// hidden products explain would reveal that they exist.
    fn count_facet(
        &self,
        facet: &Facet,
        base: &RoaringBitmap,
        visible: &RoaringBitmap,
        query: &SearchQuery,
    ) -> FacetCounts {
        let index = &self.search;
        let named = match facet {
            Facet::Attr(name) => index.attrs.get(name.as_str()).map(|a| &a.values),
            Facet::Category => Some(&index.categories),
            Facet::Brand => Some(&index.brands),
            Facet::Family => Some(&index.families),
        };
        let selected: Vec<&str> = query
            .filters
            .iter()
            .flat_map(|f| match (f, facet) {
                (Filter::Attr { name, any_of }, Facet::Attr(n)) if name == n => any_of.as_slice(),
                (Filter::Category(v), Facet::Category)
                | (Filter::Brand(v), Facet::Brand)
                | (Filter::Family(v), Facet::Family) => v.as_slice(),
                _ => &[],
            })
            .map(String::as_str)
            .collect();
        let values = named
            .map(|named| {
                named
                    .names
                    .iter()
                    .zip(named.sets.iter())
                    .zip(named.counts(base))
                    .filter(|((name, set), count)| {
                        *count > 0 || (selected.contains(&&***name) && !set.is_disjoint(visible))
                    })
                    .map(|((name, _), count)| FacetValue {
                        value: name.to_string(),
                        count,
                    })
                    .collect()
            })
            .unwrap_or_default();
        FacetCounts {
            facet: facet.clone(),
            values,
        }
    }

    /// One page of family rows: a family appears once, at its first matching variant.
    fn family_page(
        &self,
        order: &Order<'_>,
        matching: &RoaringBitmap,
        cursor: Option<Resume>,
        query: &SearchQuery,
    ) -> (Vec<u32>, u64, Option<Cursor>) {
        let index = &self.search;
        let mut seen = vec![false; index.families.names.len()];
        let mut families = 0u64;
        for pos in matching & &index.in_family {
            let family = index.family_at.get(pos as usize).copied().unwrap_or(NONE);
            if let Some(slot) = seen.get_mut(family as usize) {
                families += u64::from(!*slot);
                *slot = true;
            }
        }
        let total = (matching - &index.in_family).len() + families;
        let leads = order
            .walk(matching, cursor)
            .filter(|&pos| self.leads_family(order, matching, pos));
        let (rows, next) = self.page(order, leads, query);
        (rows, total, next)
    }

    /// One page of positions after `offset`, and the cursor of the next page if there is one.
    fn page(
        &self,
        order: &Order<'_>,
        positions: impl Iterator<Item = u32>,
        query: &SearchQuery,
    ) -> (Vec<u32>, Option<Cursor>) {
        let mut rows = Vec::new();
        let mut more = false;
        for pos in positions.skip(query.offset) {
            if rows.len() == query.limit {
                more = true;
                break;
            }
            rows.push(pos);
        }
        let next = more
            .then(|| rows.last().map(|&p| Cursor(order.key(self, p))))
            .flatten();
        (rows, next)
    }

    /// Whether no matching variant of the product's family comes before it in the order.
    fn leads_family(&self, order: &Order<'_>, matching: &RoaringBitmap, pos: u32) -> bool {
        let index = &self.search;
        let family = index.family_at.get(pos as usize).copied().unwrap_or(NONE);
        let Some(members) = index.families.sets.get(family as usize) else {
            return true;
        };
        let rank = order.rank(pos);
        members
            .iter()
            .filter(|m| *m != pos && matching.contains(*m))
            .all(|m| order.rank(m) > rank)
    }

    fn rows(
        &self,
        account: &AccountDef,
        positions: &[u32],
        grouped: Option<&RoaringBitmap>,
        query: &SearchQuery,
        at: Instant,
    ) -> Result<Vec<SearchRow>, QueryError> {
        let index = &self.search;
        let product_at = |pos: u32| index.order.get(pos as usize).copied().unwrap_or(NONE);
        let variants_of = |pos: u32, matching: &RoaringBitmap| -> Vec<u32> {
            let family = index.family_at.get(pos as usize).copied().unwrap_or(NONE);
            match index.families.sets.get(family as usize) {
                Some(members) => (members & matching).iter().collect(),
                None => vec![pos],
            }
        };
        let groups: Vec<Vec<u32>> = match grouped {
            Some(matching) => positions
                .iter()
                .map(|&p| variants_of(p, matching))
                .collect(),
            None => positions.iter().map(|_| Vec::new()).collect(),
        };
        let prices = match query.price_qty {
            Some(qty) => {
                let skus: Vec<&str> = positions
                    .iter()
                    .chain(groups.iter().flatten())
                    .map(|&p| self.sku(product_at(p)))
                    .collect();
                let accounts = vec![&*account.id; skus.len()];
                let qtys = vec![qty; skus.len()];
                let out = self.quote_many(
                    &accounts,
                    &skus,
                    &qtys,
                    BatchAt::One(at),
                    query.currency.as_deref(),
                )?;
                (0..skus.len())
                    .map(|i| {
                        let status = out.status.get(i).copied().unwrap_or(Status::InvalidBatch);
                        Some(RowPrice {
                            status,
                            unit_price: out.unit_price.get(i).copied().unwrap_or_default(),
                            line_total: out.line_total.get(i).copied().unwrap_or_default(),
                            currency: if status == Status::Ok {
                                out.currency
                                    .get(i)
                                    .map(|&c| self.currency_code(c).to_string())
                                    .unwrap_or_default()
                            } else {
                                String::new()
                            },
                        })
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let mut price = prices.into_iter();
        let mut next_price = move || price.next().flatten();
        let mut rows: Vec<SearchRow> = positions
            .iter()
            .map(|&pos| {
                let p = product_at(pos);
                let name = |table: &[Box<str>], id: Option<&u32>| {
                    id.and_then(|&i| table.get(i as usize))
                        .map(|s| s.to_string())
                };
                SearchRow {
                    sku: self.sku(p).to_string(),
                    name: self
                        .catalog
                        .names
                        .get(p as usize)
                        .and_then(|n| n.as_deref())
                        .map(str::to_string),
                    brand: name(&self.catalog.brands, self.catalog.brand.get(p as usize)),
                    family: name(&self.catalog.families, self.catalog.family.get(p as usize)),
                    capabilities: self.capabilities(account, p, at),
                    variants: Vec::new(),
                    price: next_price(),
                }
            })
            .collect();
        for (row, group) in rows.iter_mut().zip(groups) {
            row.variants = group
                .into_iter()
                .map(|pos| {
                    let p = product_at(pos);
                    Variant {
                        sku: self.sku(p).to_string(),
                        axes: index
                            .axes
                            .get(&p)
                            .map(|a| {
                                a.iter()
                                    .map(|(k, v)| (k.to_string(), v.to_string()))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        capabilities: self.capabilities(account, p, at),
                        price: next_price(),
                    }
                })
                .collect();
        }
        Ok(rows)
    }
}

fn named_sets<'a>(named: &'a Named, names: &[String]) -> Vec<(u32, &'a RoaringBitmap)> {
    names.iter().filter_map(|n| named.member(n)).collect()
}

/// Whether a set is mostly bitmap containers (more than 4,096 members per 65,536 positions it
/// spans), where an intersection is a word-by-word AND but extracting members costs per member.
fn dense(set: &RoaringBitmap) -> bool {
    set.len() > chunks(set) * 4096
}

/// The chunks of 65,536 positions a set spans.
fn chunks(set: &RoaringBitmap) -> u64 {
    match (set.min(), set.max()) {
        (Some(min), Some(max)) => u64::from((max >> 16) - (min >> 16)) + 1,
        _ => 0,
    }
}

/// The intersection of at least two sets. From a sparse smallest set, smallest first, so that
/// every step runs over little; when even the smallest is dense, largest first, so that the
/// intermediate results stay dense and are AND-ed in place.
fn intersect(mut sets: SmallVec<[&RoaringBitmap; 8]>) -> RoaringBitmap {
    sets.sort_by_key(|set| set.len());
    if sets.first().is_some_and(|&set| dense(set)) {
        sets.reverse();
    }
    let mut sets = sets.into_iter();
    let mut out = match (sets.next(), sets.next()) {
        (Some(a), Some(b)) => a & b,
        (Some(a), None) => a.clone(),
        (None, _) => RoaringBitmap::new(),
    };
    for set in sets {
        if out.is_empty() {
            break;
        }
        out &= set;
    }
    out
}

/// The matching set of a search, built or left to walk.
enum Found<'a> {
    /// Not built: its count.
    Lazy(Matching<'a>, u64),
    Built(Kept<'a>),
}

/// What a query keeps: `set`, intersected with `then` when there is one (what the filters
/// keep, and what the account sees). Building that intersection extracts every member; the
/// total only needs its count, and a first page only its first members, which a walk over the
/// smaller set finds quickly when the other keeps much of it.
struct Matching<'a> {
    set: Kept<'a>,
    then: Option<Kept<'a>>,
}

impl<'a> Matching<'a> {
    fn of(set: Kept<'a>) -> Matching<'a> {
        Matching { set, then: None }
    }

    /// The intersection of two sets, the smaller walked.
    fn pair(a: Kept<'a>, b: Kept<'a>) -> Matching<'a> {
        let (set, then) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        Matching {
            set,
            then: Some(then),
        }
    }

    /// The total, when walking to the `rows`-th member costs less than building the set: the
    /// walk tests about `rows × |set| / total` members, building extracts all `total`.
    fn walk_pays(&self, rows: usize) -> Option<u64> {
        let then = self.then.as_ref()?;
        let total = self.set.intersection_len(then);
        let walk = (rows as u128).saturating_mul(u128::from(self.set.len()));
        (walk <= u128::from(total) * u128::from(total)).then_some(total)
    }

    /// Members from position `from`, ascending.
    fn iter_from(&self, from: u32) -> impl Iterator<Item = u32> + '_ {
        let then = self.then.as_deref();
        self.set
            .range(from..)
            .filter(move |&pos| then.is_none_or(|t| t.contains(pos)))
    }

    fn build(self) -> Kept<'a> {
        match (self.set, self.then) {
            (set, None) => set,
            (Kept::Owned(mut set), Some(then)) => {
                set &= &*then;
                Kept::Owned(set)
            }
            (set, Some(then)) => Kept::Owned(&*set & &*then),
        }
    }
}

/// A bitmap from positions already sorted and unique.
pub(crate) fn sorted_bitmap(sorted: &[u32]) -> RoaringBitmap {
    let mut out = RoaringBitmap::new();
    if out.append(sorted.iter().copied()).is_err() {
        out.extend(sorted.iter().copied());
    }
    out
}

/// Where a walk resumes: a start in the numeric groups (or the value-less tail), and the
/// first position (SKU) to take inside that group.
#[derive(Debug, Clone, Copy)]
struct Resume {
    /// Index in walk order of the group to start in; `groups` = the value-less tail.
    group: usize,
    from: u32,
}

/// The order of a sort, over positions.
enum Order<'a> {
    Sku,
    Numeric {
        index: &'a NumericIndex,
        descending: bool,
    },
    /// Sorting by an attribute without numbers: every product is in the value-less tail.
    Tail,
}

impl<'a> Order<'a> {
    fn new(engine: &'a Engine, sort: &Sort) -> Order<'a> {
        match sort {
            Sort::Sku => Order::Sku,
            Sort::Attr { name, descending } => {
                match engine
                    .search
                    .attrs
                    .get(name.as_str())
                    .and_then(|a| a.numeric.as_ref())
                {
                    Some(index) => Order::Numeric {
                        index,
                        descending: *descending,
                    },
                    None => Order::Tail,
                }
            }
        }
    }

    fn groups(&self) -> usize {
        match self {
            Order::Numeric { index, .. } => index.groups.len(),
            _ => 0,
        }
    }

    /// The group at walk index `i` (groups reversed when descending).
    fn group(&self, i: usize) -> Option<&(Decimal, u32, u32)> {
        match self {
            Order::Numeric { index, descending } => {
                let g = if *descending {
                    index.groups.len().checked_sub(i + 1)?
                } else {
                    i
                };
                index.groups.get(g)
            }
            _ => None,
        }
    }

    /// The walk index of a position's group (`groups()` for the tail).
    fn group_of(&self, pos: u32) -> usize {
        match self {
            Order::Numeric { index, descending } => {
                match index.group_at.get(pos as usize).copied() {
                    Some(g) if g != NONE => {
                        let g = g as usize;
                        if *descending {
                            index.groups.len().saturating_sub(g + 1)
                        } else {
                            g
                        }
                    }
                    _ => index.groups.len(),
                }
            }
            _ => 0,
        }
    }

    /// A total order key: earlier rows have smaller ranks.
    fn rank(&self, pos: u32) -> (usize, u32) {
        (self.group_of(pos), pos)
    }

    fn key(&self, engine: &Engine, pos: u32) -> CursorKey {
        let sku: Box<str> = engine
            .search
            .order
            .get(pos as usize)
            .map(|&p| engine.sku(p))
            .unwrap_or("")
            .into();
        match self {
            Order::Sku => CursorKey::Sku(sku),
            _ => match self.group(self.group_of(pos)) {
                Some(&(value, _, _)) => CursorKey::Value(value, sku),
                None => CursorKey::NoValue(sku),
            },
        }
    }

    /// The first row after a cursor key.
    fn resume(&self, engine: &Engine, key: &CursorKey) -> Resume {
        let skus = &engine.search.order;
        let after_sku = |sku: &str| {
            u32::try_from(skus.partition_point(|&p| engine.sku(p) <= sku)).unwrap_or(u32::MAX)
        };
        let from = after_sku(key.sku());
        match (self, key) {
            (Order::Numeric { descending, .. }, CursorKey::Value(value, _)) => {
                let before = |g: &(Decimal, u32, u32)| {
                    let o = g.0.cmp(value);
                    if *descending {
                        o == Ordering::Greater
                    } else {
                        o == Ordering::Less
                    }
                };
                // Groups come in walk order, so "before the cursor" is a prefix of them.
                let (mut group, mut high) = (0, self.groups());
                while group < high {
                    let mid = group + (high - group) / 2;
                    if self.group(mid).is_some_and(before) {
                        group = mid + 1;
                    } else {
                        high = mid;
                    }
                }
                match self.group(group) {
                    Some(g) if g.0 == *value => Resume { group, from },
                    _ => Resume { group, from: 0 },
                }
            }
            (Order::Sku | Order::Tail, _) | (_, CursorKey::NoValue(_)) | (_, CursorKey::Sku(_)) => {
                Resume {
                    group: self.groups(),
                    from,
                }
            }
        }
    }

    /// Matching positions in order, from a resume point.
    fn walk<'b>(
        &'b self,
        matching: &'b RoaringBitmap,
        resume: Option<Resume>,
    ) -> Box<dyn Iterator<Item = u32> + 'b> {
        let resume = resume.unwrap_or(Resume { group: 0, from: 0 });
        match self {
            Order::Numeric { index, .. } => {
                let groups = (resume.group..self.groups()).flat_map(move |i| {
                    let from = if i == resume.group { resume.from } else { 0 };
                    let (start, end) = self
                        .group(i)
                        .map_or((0, 0), |&(_, s, e)| (s as usize, e as usize));
                    let slice = index.column.get(start..end).unwrap_or_default();
                    let first = slice.partition_point(|&(_, p)| p < from);
                    slice
                        .get(first..)
                        .unwrap_or_default()
                        .iter()
                        .map(|&(_, p)| p)
                        .filter(|p| matching.contains(*p))
                });
                // Once every matching product with a number is out, the rest of the column
                // (all of it, when nothing matches) cannot yield any.
                let numbered = usize::try_from(matching.intersection_len(&index.present))
                    .unwrap_or(usize::MAX);
                let groups = groups.take(numbered);
                let tail_from = if resume.group >= self.groups() {
                    resume.from
                } else {
                    0
                };
                let tail = (matching - &index.present)
                    .into_iter()
                    .filter(move |&p| p >= tail_from);
                Box::new(groups.chain(tail))
            }
            Order::Sku | Order::Tail => Box::new(matching.range(resume.from..)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarif_sample::{self as sample, showcase};

    fn engine(json: &str) -> Engine {
        Engine::from_json(json).unwrap()
    }

    const SMALL: &str = r#"{"format": "tarif/1",
      "settings": {"default_visibility": "closed"},
      "categories": [{"id": "tools"}, {"id": "drills", "parent": "tools"}, {"id": "misc"}],
      "products": [
        {"sku": "D3", "family": "D", "axes": {"v": "18V"}, "categories": ["drills"], "brand": "B",
         "attrs": {"voltage": 18, "color": "red", "tags": ["a", "b"]}},
        {"sku": "D1", "family": "D", "axes": {"v": "12V"}, "categories": ["drills"], "brand": "B",
         "attrs": {"voltage": 12, "color": "blue", "tags": ["b"]}},
        {"sku": "D2", "family": "D", "axes": {"v": "36V"}, "categories": ["drills"], "brand": "M",
         "attrs": {"voltage": 36, "color": "red"}},
        {"sku": "X1", "categories": ["misc"], "brand": "M", "mpn": "mp-77", "attrs": {"color": "red"}},
        {"sku": "X0", "categories": ["tools"], "brand": "B", "attrs": {"voltage": 12}}],
      "accounts": [{"id": "K"}, {"id": "L"}],
      "contracts": [
        {"id": "all", "audience": "all", "visibility": [{"effect": "allow", "products": "all"}]},
        {"id": "k", "audience": {"accounts": ["K"]}, "visibility": [
          {"effect": "deny", "products": {"sku": "D2"}},
          {"effect": "deny", "products": {"brand": "M"}, "capabilities": ["buy"]}]}]}"#;

    fn skus(page: &SearchPage) -> Vec<&str> {
        page.rows.iter().map(|r| r.sku.as_str()).collect()
    }

    #[test]
    fn visible_sets_equal_capabilities_product_by_product() {
        let engine = Engine::from_json(&sample::distributor().to_string()).unwrap();
        let at = engine.parse_instant(showcase::AT).unwrap();
        for (_, def) in engine.audiences.accounts.iter().enumerate().take(12) {
            for capability in [Capability::See, Capability::Price, Capability::Buy] {
                let set = engine.visible_set(def, capability, at);
                for p in 0..engine.catalog.skus.len() as u32 {
                    let caps = engine.capabilities(def, p, at);
                    let want = match capability {
                        Capability::See => caps.see,
                        Capability::Price => caps.price,
                        Capability::Buy => caps.buy,
                    };
                    let pos = engine.search.position[p as usize];
                    assert_eq!(set.contains(pos), want, "{} {p} {capability:?}", def.id);
                }
            }
        }
    }

    #[test]
    fn facet_counts_by_column_equal_counts_by_sets() {
        for e in [
            engine(SMALL),
            Engine::from_json(&sample::distributor().to_string()).unwrap(),
        ] {
            let index = &e.search;
            let positions = index.order.len() as u32;
            let mut dimensions: Vec<&Named> =
                vec![&index.brands, &index.categories, &index.families];
            dimensions.extend(index.attrs.values().map(|a| &a.values));
            let mut lists = false;
            for named in dimensions {
                lists |= matches!(named.column, ValueColumn::Lists { .. });
                assert!(!matches!(named.column, ValueColumn::Absent));
                // Every density, from nothing to the whole catalog, and every value's own set.
                let mut bases: Vec<RoaringBitmap> = (0..=8u64)
                    .map(|k| {
                        (0..positions)
                            .filter(|&p| {
                                (u64::from(p).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 8 < k
                            })
                            .collect()
                    })
                    .collect();
                bases.extend(named.sets.iter().cloned());
                for base in &bases {
                    assert_eq!(named.counts_by_column(base), named.counts_by_sets(base));
                    assert_eq!(named.counts(base), named.counts_by_sets(base));
                }
            }
            assert!(lists, "categories list their ancestors too");
        }
    }

    #[test]
    fn facet_counts_scan_small_sets_and_intersect_large_ones() {
        let mut named = Named::default();
        let positions = 1u32 << 20;
        named.sets = (0..4u32)
            .map(|v| (0..positions).filter(|p| p % 4 == v).collect())
            .collect();
        named.column = ValueColumn::of(&named.sets, positions as usize);
        let few: RoaringBitmap = (0..positions).step_by(4099).collect();
        let all: RoaringBitmap = (0..positions).collect();
        assert!(named.scans(&few));
        assert!(!named.scans(&all));
        for base in [few, all, RoaringBitmap::new()] {
            assert_eq!(named.counts(&base), named.counts_by_sets(&base));
            assert_eq!(named.counts_by_column(&base), named.counts_by_sets(&base));
        }
    }

    /// Dense sets (more than 4,096 members in a chunk) take the other intersection order and
    /// the walk over an unbuilt last intersection; small catalogs never reach either.
    #[test]
    fn dense_filters_page_count_and_walk_like_a_scan() {
        let count = 12_000u64;
        let attrs = |i: u64| {
            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            (["x", "y"][(h % 2) as usize], 1 + (h / 2) % 3, h / 6 % 4)
        };
        let products: Vec<String> = (0..count)
            .map(|i| {
                let (color, volt, cat) = attrs(i);
                format!(
                    r#"{{"sku": "S{i:05}", "categories": ["c{cat}"],
                        "attrs": {{"color": "{color}", "volt": {volt}}}}}"#
                )
            })
            .collect();
        let e = engine(&format!(
            r#"{{"format": "tarif/1", "categories": [{{"id": "c0"}}, {{"id": "c1"}}, {{"id": "c2"}},
                {{"id": "c3"}}], "products": [{}], "accounts": [{{"id": "K"}}],
                "contracts": [{{"id": "k", "audience": "all", "visibility": [
                  {{"effect": "deny", "products": {{"category": "c3"}}}}]}}]}}"#,
            products.join(",")
        ));
        type Keeps = fn(&str, u64, u64) -> bool;
        let queries: [(SearchQuery, Keeps); 3] = [
            (
                SearchQuery::new()
                    .filter(Filter::any_of("color", ["x"]))
                    .filter(Filter::range("volt", Some(1.into()), Some(2.into()))),
                |color, volt, _| color == "x" && volt <= 2,
            ),
            (
                SearchQuery::new()
                    .filter(Filter::any_of("color", ["x", "y"]))
                    .filter(Filter::Category(vec!["c0".into(), "c1".into()]))
                    .filter(Filter::any_of("volt", ["2", "3"])),
                |_, volt, cat| cat < 2 && volt >= 2,
            ),
            (
                SearchQuery::new().filter(Filter::Category(vec!["c3".into()])),
                |_, _, _| false,
            ),
        ];
        for (query, keeps) in queries {
            let expected: Vec<String> = (0..count)
                .filter(|&i| {
                    let (color, volt, cat) = attrs(i);
                    cat != 3 && keeps(color, volt, cat)
                })
                .map(|i| format!("S{i:05}"))
                .collect();
            let first = e.search("K", &query, None).unwrap();
            assert_eq!(first.total, expected.len() as u64, "{query:?}");
            assert_eq!(skus(&first), expected[..expected.len().min(20)]);
            let offset = e.search("K", &query.clone().page(100, 7), None).unwrap();
            assert_eq!(
                skus(&offset),
                expected[100.min(expected.len())..107.min(expected.len())]
            );
            // A facet over the matching set builds it: the same page either way.
            let built = query.clone().facet(Facet::Family);
            assert_eq!(e.search("K", &built, None).unwrap().rows, first.rows);
            let colors = e
                .search("K", &query.clone().facet(Facet::attr("color")), None)
                .unwrap();
            let without_color = (0..count).filter(|&i| {
                let (_, volt, cat) = attrs(i);
                cat != 3 && ["x", "y"].iter().any(|c| keeps(c, volt, cat))
            });
            let x = without_color.clone().filter(|&i| attrs(i).0 == "x").count() as u64;
            let y = without_color.count() as u64 - x;
            let counted: Vec<(&str, u64)> = colors.facets[0]
                .values
                .iter()
                .map(|v| (v.value.as_str(), v.count))
                .collect();
            let want: Vec<(&str, u64)> = [("x", x), ("y", y)]
                .into_iter()
                .filter(|&(_, n)| n > 0)
                .collect();
            assert_eq!(counted, want, "{query:?}");
            let mut walked = Vec::new();
            let mut page = first;
            loop {
                walked.extend(page.rows.iter().map(|r| r.sku.clone()));
                let Some(next) = page.next.clone() else { break };
                page = e
                    .search("K", &query.clone().page(0, 997).after(next), None)
                    .unwrap();
            }
            assert_eq!(walked, expected, "{query:?}");
        }
    }

    #[test]
    fn the_filter_cache_keeps_what_is_used_and_stays_bounded() {
        let e = engine(SMALL);
        let key = |id: u32| -> FilterKey {
            smallvec::smallvec![Part::Members(Dimension::Brand, smallvec::smallvec![id])]
        };
        let kept = e.cached(key(u32::MAX), RoaringBitmap::new);
        for id in 0..(3 * FILTER_CACHE as u32) {
            e.cached(key(id), RoaringBitmap::new);
            // Used between every two new entries: never the least recently used.
            assert!(Arc::ptr_eq(
                &e.cached(key(u32::MAX), RoaringBitmap::new),
                &kept
            ));
        }
        assert_eq!(e.search.filtered.read().unwrap().len(), FILTER_CACHE);
    }

    #[test]
    fn filters_combine_and_hidden_products_never_count() {
        let e = engine(SMALL);
        let q = SearchQuery::new()
            .filter(Filter::any_of("color", ["red", "blue"]))
            .facet(Facet::attr("color"))
            .facet(Facet::Brand)
            .facet(Facet::Category);
        let page = e.search("K", &q, None).unwrap();
        assert_eq!(skus(&page), ["D1", "D3", "X1"]);
        let counts = |i: usize| -> Vec<(String, u64)> {
            page.facets[i]
                .values
                .iter()
                .map(|v| (v.value.clone(), v.count))
                .collect()
        };
        // Own-facet exclusion: X0 has no color, so the color counts are over the same set.
        assert_eq!(counts(0), [("blue".into(), 1), ("red".into(), 2)]);
        assert_eq!(counts(1), [("B".into(), 2), ("M".into(), 1)]);
        assert_eq!(
            counts(2),
            [
                ("drills".into(), 2),
                ("misc".into(), 1),
                ("tools".into(), 2)
            ]
        );
        let l = e.search("L", &q, None).unwrap();
        assert_eq!(l.total, 4, "D2 is visible to L");
        let buy = e
            .search("K", &q.clone().capability(Capability::Buy), None)
            .unwrap();
        assert_eq!(skus(&buy), ["D1", "D3"]);
    }

    #[test]
    fn ranges_lists_text_and_numeric_sort() {
        let e = engine(SMALL);
        let q =
            SearchQuery::new().filter(Filter::range("voltage", Some(12.into()), Some(18.into())));
        assert_eq!(skus(&e.search("L", &q, None).unwrap()), ["D1", "D3", "X0"]);
        let q = SearchQuery::new().filter(Filter::any_of("voltage", ["18.0"]));
        assert_eq!(skus(&e.search("L", &q, None).unwrap()), ["D3"]);
        let q = SearchQuery::new().filter(Filter::any_of("tags", ["b"]));
        assert_eq!(skus(&e.search("L", &q, None).unwrap()), ["D1", "D3"]);
        let q = SearchQuery::new().text("mp-");
        assert_eq!(skus(&e.search("L", &q, None).unwrap()), ["X1"]);
        let q = SearchQuery::new().filter(Filter::Category(vec!["tools".into()]));
        assert_eq!(e.search("L", &q, None).unwrap().total, 4);
        let sort = |descending| {
            SearchQuery::new().sort(Sort::Attr {
                name: "voltage".into(),
                descending,
            })
        };
        assert_eq!(
            skus(&e.search("L", &sort(false), None).unwrap()),
            ["D1", "X0", "D3", "D2", "X1"]
        );
        assert_eq!(
            skus(&e.search("L", &sort(true), None).unwrap()),
            ["D2", "D3", "D1", "X0", "X1"]
        );
    }

    #[test]
    fn cursor_pages_cover_every_row_once_in_every_order() {
        let engine = Engine::from_json(&sample::distributor().to_string()).unwrap();
        let at = engine.parse_instant(showcase::AT).ok();
        let account = showcase::INSTALLER_BRANCH;
        for sort in [
            Sort::Sku,
            Sort::Attr {
                name: "voltage".into(),
                descending: false,
            },
            Sort::Attr {
                name: "power_w".into(),
                descending: true,
            },
        ] {
            for group in [false, true] {
                let base = SearchQuery::new().sort(sort.clone()).group_variants(group);
                let all = engine
                    .search(account, &base.clone().page(0, 100_000), at)
                    .unwrap();
                let mut walked = Vec::new();
                let mut query = base.clone().page(0, 97);
                loop {
                    let page = engine.search(account, &query, at).unwrap();
                    assert_eq!(page.total, all.total);
                    walked.extend(page.rows.into_iter().map(|r| r.sku));
                    match page.next {
                        Some(c) => query = base.clone().page(0, 97).after(c),
                        None => break,
                    }
                }
                let expected: Vec<String> = all.rows.into_iter().map(|r| r.sku).collect();
                assert_eq!(walked.len() as u64, all.total);
                assert_eq!(walked, expected, "{sort:?} grouped={group}");
                let offset = engine
                    .search(account, &base.clone().page(40, 10), at)
                    .unwrap();
                let by_offset: Vec<String> = offset.rows.into_iter().map(|r| r.sku).collect();
                assert_eq!(by_offset, expected[40..50]);
            }
        }
    }

    #[test]
    fn variants_group_by_family_without_hidden_ones() {
        let e = engine(SMALL);
        let q = SearchQuery::new().group_variants(true).prices(Decimal::ONE);
        let page = e.search("K", &q, None).unwrap();
        assert_eq!(page.total, 3);
        assert_eq!(skus(&page), ["D1", "X0", "X1"]);
        let variants: Vec<(&str, &str)> = page.rows[0]
            .variants
            .iter()
            .map(|v| (v.sku.as_str(), v.axes[0].1.as_str()))
            .collect();
        assert_eq!(variants, [("D1", "12V"), ("D3", "18V")]);
        // No price list: the batch path reports NO_PRICE per row instead of failing the page.
        assert_eq!(page.rows[0].price.as_ref().unwrap().status, Status::NoPrice);
    }

    #[test]
    fn related_products_follow_visibility() {
        let e = engine(
            r#"{"format": "tarif/1", "products": [
              {"sku": "A", "relations": {"accessories": ["B", "C", "B"], "requires": ["C"],
                                          "replaced_by": "B"}},
              {"sku": "B", "relations": {"replaced_by": "D"}}, {"sku": "C"}, {"sku": "D"}],
              "accounts": [{"id": "K"}],
              "contracts": [{"id": "k", "audience": "all", "visibility": [
                {"effect": "deny", "products": {"sku": "C"}},
                {"effect": "deny", "products": {"sku": "B"}, "capabilities": ["buy"]},
                {"effect": "deny", "products": {"sku": "D"}, "capabilities": ["buy"]}]}]}"#,
        );
        let related = |sku, kind| -> Vec<String> {
            e.related("K", sku, kind, None)
                .unwrap()
                .into_iter()
                .map(|r| r.sku)
                .collect()
        };
        assert_eq!(related("A", RelationKind::Accessories), ["B"]);
        assert!(related("A", RelationKind::Requires).is_empty());
        assert!(
            related("A", RelationKind::Replacement).is_empty(),
            "nothing buyable"
        );
        assert_eq!(
            e.related("K", "C", RelationKind::Accessories, None)
                .unwrap_err()
                .code(),
            "UNKNOWN_PRODUCT"
        );
    }

    #[test]
    fn unknown_relations_and_replacement_cycles_are_reported() {
        let err = Engine::from_json(
            r#"{"format": "tarif/1", "products": [
              {"sku": "A", "relations": {"accessories": ["A", "NOPE"], "replaced_by": "B"}},
              {"sku": "B", "relations": {"replaced_by": "C"}},
              {"sku": "C", "relations": {"replaced_by": "A", "excludes": ["GONE"]}}]}"#,
        )
        .unwrap_err();
        let found: Vec<(&str, &str)> = err
            .diagnostics
            .iter()
            .map(|d| (d.code.code(), d.path.as_str()))
            .collect();
        assert!(found.contains(&("UNKNOWN_REFERENCE", "products[0].relations.accessories[1]")));
        assert!(found.contains(&("UNKNOWN_REFERENCE", "products[2].relations.excludes[0]")));
        assert!(found.contains(&("REPLACEMENT_CYCLE", "products[0].relations.replaced_by")));
        assert_eq!(
            found.iter().filter(|d| d.0 == "REPLACEMENT_CYCLE").count(),
            1
        );
    }

    #[test]
    fn cursors_round_trip() {
        for text in ["s:A:B", "v:-1.5:X", "n:"] {
            assert_eq!(text.parse::<Cursor>().unwrap().to_string(), text);
        }
        assert!("v:x:A".parse::<Cursor>().is_err());
    }
}
