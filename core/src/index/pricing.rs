//! Price lists, their entries, contracts and rules, with the keys that find them from a product.

use std::ops::Deref;
use std::sync::Arc;

use ahash::AHashMap;
use prefetch_index::prefetch_index;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use rayon::prelude::*;

use super::catalog::{Catalog, Spec};
use super::compact;
use super::ids::{
    AudKey, ContractId, CurrencyId, EntryId, Id, IdVec, ListId, PolicyId, ProductId, RuleId,
    SelectorId, NONE,
};
use crate::instant::Interval;
use crate::model::{PercentOf, PriceMode, RoundingMode, TierBasis, TierMode};

/// The compiled prices: the price lists with their entries (shared: a change of contracts
/// builds new rules over the same lists), and the contracts with their rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Pricing {
    pub price_lists: Arc<PriceLists>,
    pub rules: IdVec<RuleId, RuleDef>,
    /// `(aud << 32) | key` → rules indexed by a key the product carries.
    pub rule_index: AHashMap<u64, SmallVec<[RuleId; 2]>>,
    /// Audience key → what its rules cover, so that a level with nothing for the product costs
    /// one lookup and one bitmap test.
    pub audience_rules: AHashMap<AudKey, AudienceRules>,
    pub contracts: IdVec<ContractId, ContractDef>,
    /// The contracts' order conditions, in document order.
    pub order_conditions: Vec<super::OrderCondDef>,
}

/// The price lists are read as the pricing's own fields.
impl Deref for Pricing {
    type Target = PriceLists;

    fn deref(&self) -> &PriceLists {
        &self.price_lists
    }
}

/// The price lists and their entries.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct PriceLists {
    pub lists: IdVec<ListId, ListDef>,
    pub list_index: AHashMap<Box<str>, ListId>,
    /// The entries as a compile indexed them; shared with the engines a change of prices made.
    pub table: Arc<EntryTable>,
    /// The (list, product) groups a change of prices wrote since `table` was indexed.
    pub changed: EntryChanges,
    /// Per list, its header's hash and its groups as a set (docs/spec.md §10), so that a change
    /// of prices hashes only the groups it writes; `None` when the section is not hashed by
    /// list.
    pub hashes: Option<IdVec<ListId, ListSum>>,
    /// Everyone-level lists (for `list_price`).
    pub everyone_lists: SmallVec<[ListId; 2]>,
}

/// The entries sorted by (list, product), with where each product's run is in each list.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct EntryTable {
    pub entries: IdVec<EntryId, EntryDef>,
    /// The runs of the lists without [`EntrySlots`], by product.
    pub by_product: ProductRuns,
    /// Per list, its entries' ranges by product when it prices a large share of the catalog.
    pub entry_slots: IdVec<ListId, Option<EntrySlots>>,
}

/// The (list, product) groups written over an [`EntryTable`] by changes of prices: each
/// replaces the table's run of that key (an empty run: the group was deleted). Their entries
/// take the ids after the table's.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct EntryChanges {
    pub runs: AHashMap<u64, (EntryId, u32)>,
    pub added: Vec<Arc<EntryDef>>,
}

/// A list's header hash and its groups, as [`PriceLists::hashes`] keeps them.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct ListSum {
    pub header: u128,
    pub groups: crate::source::RecordSet,
}

/// The pricing rules of one audience key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct AudienceRules {
    /// Which index kinds hold rules for it (bit per [`IndexKind`]).
    pub kinds: u8,
    /// Every product some rule of it matches.
    pub products: RoaringBitmap,
    /// Rules whose selector must be checked against the product.
    pub scan: Vec<RuleId>,
    /// Each product's matching rules, resolved at compile time, when the rules cover a large
    /// share of the catalog ([`Pricing::resolve_dense`]); shared with the engine a change of
    /// other rules came from.
    pub dense: Option<Arc<DenseRules>>,
    /// blake3 (first 16 bytes) over the audience's rules as they were indexed: each one's id
    /// and the text of its selector. Two compiles over the same catalog with equal
    /// fingerprints index the same rules under the same keys, so they resolve the same
    /// [`DenseRules`].
    pub fingerprint: [u8; 16],
}

/// The rules of one audience that match each product, in the order
/// [`Pricing::matching_rules`] finds them. A segment's discounts usually cover most of the
/// catalog through a handful of categories: resolving them once turns the probes of every key a
/// product carries (SKU, family, each ancestor category, brand, scanned selectors), each a
/// likely cache miss in a large catalog, into one read of `set_of`. Products share few distinct
/// sets, so `sets` and `rules` stay small and warm.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct DenseRules {
    /// Per product, 1 + the position of its set in `sets`, or 0 when no rule matches it.
    set_of: Box<[u32]>,
    /// Each distinct set of rules, as a range of `rules`.
    sets: Box<[(u32, u32)]>,
    rules: Box<[RuleId]>,
}

/// The range of `entries` that holds each product's entries in one list, by product: the
/// general price list of a catalog prices nearly every product, and a read of this column costs
/// one cache miss where [`ProductRuns`] costs two.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct EntrySlots {
    /// Per product, its first entry and how many it has (none: 0).
    runs: Box<[(u32, u32)]>,
}

/// The runs of the small lists (account net lists, mostly), grouped by product: a batch goes
/// through its rows in product order, so the runs of one product are read from memory once
/// for all of its rows, where a hash map keyed by (list, product) cost a cache miss per row
/// at random. Two flat arrays, in about half the memory of that map.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ProductRuns {
    /// Product `p`'s runs are `runs[start[p]..start[p + 1]]`; empty for a catalog without
    /// such runs.
    start: Box<[u32]>,
    /// `(list, first entry, count)`, by product then list.
    runs: Box<[(ListId, EntryId, u32)]>,
}

impl ProductRuns {
    /// The index of `runs`, given as `(list, product, first entry, count)` in any order, over a
    /// catalog of at least `products` products.
    pub(crate) fn new(products: usize, mut runs: Vec<(ListId, ProductId, EntryId, u32)>) -> Self {
        if runs.is_empty() {
            return ProductRuns::default();
        }
        runs.sort_unstable_by_key(|&(list, product, _, _)| (product, list));
        let last = runs.last().map_or(0, |run| run.1.index() + 1);
        let mut start = vec![0u32; products.max(last) + 1];
        for &(_, product, _, _) in &runs {
            if let Some(count) = start.get_mut(product.index() + 1) {
                *count += 1;
            }
        }
        let mut total = 0;
        for slot in &mut start {
            total += *slot;
            *slot = total;
        }
        ProductRuns {
            start: start.into_boxed_slice(),
            runs: runs
                .into_iter()
                .map(|(list, _, first, len)| (list, first, len))
                .collect(),
        }
    }

    fn run(&self, list: ListId, product: ProductId) -> Option<(EntryId, u32)> {
        let from = *self.start.get(product.index())? as usize;
        let to = *self.start.get(product.index() + 1)? as usize;
        let runs = self.runs.get(from..to)?;
        // A product is in few account lists: a scan of its runs, then a binary search.
        let found = if runs.len() <= 8 {
            runs.iter().find(|run| run.0 == list)
        } else {
            let at = runs.binary_search_by_key(&list, |run| run.0).ok()?;
            runs.get(at)
        };
        found.map(|&(_, first, len)| (first, len))
    }
}

/// A list's entries are indexed by product in [`EntrySlots`] when it prices at least one
/// product in this many.
pub(crate) const SLOTS_SHARE: usize = 4;

impl EntrySlots {
    /// Slots for a catalog of `products` products, filled from `(product, first entry, count)`.
    pub(crate) fn new(
        products: usize,
        runs: impl Iterator<Item = (ProductId, EntryId, u32)>,
    ) -> Self {
        let mut slots = vec![(0, 0); products];
        for (product, first, len) in runs {
            if let (Some(slot), Ok(first)) =
                (slots.get_mut(product.index()), u32::try_from(first.index()))
            {
                *slot = (first, len);
            }
        }
        EntrySlots {
            runs: slots.into_boxed_slice(),
        }
    }

    fn run(&self, product: ProductId) -> Option<(EntryId, u32)> {
        let &(first, len) = self.runs.get(product.index())?;
        (len > 0).then_some(())?;
        Some((EntryId::from_index(first as usize)?, len))
    }
}

/// An audience's rules are resolved per product when they cover at least one product in this
/// many: below that, the per-product table (4 bytes a product) costs more than it saves.
const DENSE_SHARE: u64 = 32;

impl DenseRules {
    /// The rules matching `product`, without repeats.
    pub fn rules_of(&self, product: ProductId) -> &[RuleId] {
        let range = self
            .set_of
            .get(product.index())
            .and_then(|set| set.checked_sub(1))
            .and_then(|set| self.sets.get(set as usize));
        match range {
            Some(&(start, len)) => self
                .rules
                .get(start as usize..start as usize + len as usize)
                .unwrap_or_default(),
            None => &[],
        }
    }
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContractDef {
    pub id: Box<str>,
    pub rounding: Option<PolicyId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ListDef {
    pub id: Box<str>,
    pub net: bool,
    pub currency: CurrencyId,
    pub priority: i64,
    #[serde(with = "compact")]
    pub validity: Interval,
    pub rounding: Option<PolicyId>,
    #[serde(with = "compact")]
    pub derived: Option<(ListId, Decimal)>,
    /// The defaults of its entries.
    pub tier_mode: Option<TierMode>,
    pub tier_basis: Option<TierBasis>,
}

/// Quantity-dependent values: the own value below the first tier, then tiers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Tiered {
    #[serde(with = "compact")]
    pub own: Option<Decimal>,
    /// Boxed rather than inline: most of the millions of price entries have no tiers, and an
    /// empty box costs 16 bytes where inline room for two tiers cost 72.
    #[serde(with = "compact")]
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

    /// The graduated bands of the units `(start, start + qty]` of a basis: the bands of
    /// `start + qty` units with the first `start` cut off, so that lines sharing a basis take
    /// its bands one after another (docs/spec.md §12.5).
    pub fn bands_from(
        &self,
        start: Decimal,
        qty: Decimal,
    ) -> Option<SmallVec<[(Decimal, Decimal); 4]>> {
        if start.is_zero() {
            return Some(self.bands(qty));
        }
        let mut out = SmallVec::new();
        let mut lower = Decimal::ZERO;
        for (units, v) in self.bands(start.checked_add(qty)?) {
            let upper = lower.checked_add(units)?;
            let from = lower.max(start);
            if upper > from {
                out.push((upper - from, v));
            }
            lower = upper;
        }
        Some(out)
    }
}

/// Where a graduated tier's band starts: after `⌈min_qty⌉ − 1` (never below zero).
fn band_start(min_qty: Decimal) -> Decimal {
    (min_qty.ceil() - Decimal::ONE).max(Decimal::ZERO)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EntryDef {
    /// The hash of the entry as the document wrote it (docs/spec.md §10), little-endian, or
    /// zeros when the section is not hashed by list. Bytes rather than a `u128`, whose 16-byte
    /// alignment would pad every entry.
    pub hash: [u8; 16],
    pub list: ListId,
    pub product: ProductId,
    pub values: Tiered,
    pub priority: i64,
    #[serde(with = "compact")]
    pub validity: Interval,
    #[serde(with = "compact")]
    pub min_qty: Option<Decimal>,
    #[serde(with = "compact")]
    pub max_qty: Option<Decimal>,
    pub exclusive: bool,
    pub tier_basis: TierBasis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RuleDef {
    pub id: Box<str>,
    pub contract: ContractId,
    pub step: u16,
    pub selector: SelectorId,
    pub spec: Spec,
    pub priority: i64,
    #[serde(with = "compact")]
    pub validity: Interval,
    #[serde(with = "compact")]
    pub min_qty: Option<Decimal>,
    #[serde(with = "compact")]
    pub max_qty: Option<Decimal>,
    /// Set when the rule carries an absolute amount: it is a candidate only in this currency.
    pub currency: Option<CurrencyId>,
    pub exclusive: bool,
    pub action: Action,
    pub rounding: Option<PolicyId>,
    /// Audience keys the rule speaks to.
    pub audience: SmallVec<[AudKey; 2]>,
    pub tier_basis: TierBasis,
    /// For the `category` basis: the deepest category the selector names (`NONE`: the
    /// product's first category).
    pub basis_category: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
        #[serde(with = "compact")]
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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Bounds {
    #[serde(with = "compact")]
    pub min_price: Option<Decimal>,
    #[serde(with = "compact")]
    pub max_price: Option<Decimal>,
    #[serde(with = "compact")]
    pub min_margin_pct: Option<Decimal>,
    #[serde(with = "compact")]
    pub max_discount_pct: Option<Decimal>,
    #[serde(with = "compact")]
    pub min_over_base: Option<Decimal>,
    #[serde(with = "compact")]
    pub max_over_base: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) enum RoundTarget {
    Multiple(#[serde(with = "compact")] Decimal),
    Ending(#[serde(with = "compact")] Decimal),
}

/// The key of a product's entries in a list ([`EntryChanges::runs`]).
pub(crate) fn entry_key(list: ListId, product: ProductId) -> u64 {
    (u64::from(list.raw()) << 32) | u64::from(product.raw())
}

impl Pricing {
    /// Whether the list itself holds an entry for the product.
    pub(crate) fn has_entry(&self, list: ListId, product: ProductId) -> bool {
        self.entry_run(list, product).is_some()
    }
}

impl PriceLists {
    /// The product's entries in the list, with their ids: the run a change wrote, else the
    /// table's.
    pub(crate) fn entries_of(
        &self,
        list: ListId,
        product: ProductId,
    ) -> impl Iterator<Item = (EntryId, &EntryDef)> + '_ {
        self.entry_run(list, product)
            .into_iter()
            .flat_map(move |(start, len)| {
                (start.index()..start.index() + len as usize).filter_map(move |i| {
                    let id = EntryId::from_index(i)?;
                    Some((id, self.entry(id)))
                })
            })
    }

    /// The products that have entries in `list`, or had when the table was indexed, in
    /// product order.
    pub(crate) fn products_of(&self, list: ListId) -> Vec<ProductId> {
        let entries = self.table.entries.iter().as_slice();
        let start = entries.partition_point(|e| e.list < list);
        let end = entries.partition_point(|e| e.list <= list);
        let mut products: Vec<ProductId> = entries
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|e| e.product)
            .collect();
        products.extend(
            (self.changed.runs.keys())
                .filter(|&&key| key >> 32 == u64::from(list.raw()))
                .filter_map(|&key| ProductId::from_index((key & u64::from(u32::MAX)) as usize)),
        );
        products.sort_unstable();
        products.dedup();
        products
    }

    /// The entry of `id`, in the table or written by a change.
    pub(crate) fn entry(&self, id: EntryId) -> &EntryDef {
        let table = self.table.entries.len();
        match id.index().checked_sub(table) {
            None => self.table.entries.row(id),
            Some(i) => match self.changed.added.get(i) {
                Some(entry) => entry,
                None => unreachable!("{id:?} was not issued by these price lists"),
            },
        }
    }

    /// The run of the product's entries in the list, if it has any.
    pub(crate) fn entry_run(&self, list: ListId, product: ProductId) -> Option<(EntryId, u32)> {
        if !self.changed.runs.is_empty() {
            if let Some(&run) = self.changed.runs.get(&entry_key(list, product)) {
                return (run.1 > 0).then_some(run);
            }
        }
        self.table.run(list, product)
    }

    /// Starts fetching into the cache what finding a product's entries in `list` reads of the
    /// list itself: where its entries are by product, and whether it derives from another (read
    /// when it has none for the product, as an account's own list mostly has not).
    pub(crate) fn prefetch_list(&self, list: ListId) {
        prefetch_index(self.table.entry_slots.iter().as_slice(), list.index());
        if let Some(def) = self.lists.get(list) {
            prefetch_index(std::slice::from_ref(&def.derived), 0);
        }
    }

    /// Starts fetching into the cache what pricing `product` from `list` reads of the first
    /// entry the list holds for it, if the table holds one: a batch prices a job while the
    /// entries of the next ones are on their way, instead of waiting for each in turn.
    pub(crate) fn prefetch_entry(&self, list: ListId, product: ProductId) {
        let Some((first, _)) = self.entry_run(list, product) else {
            return;
        };
        if let Some(entry) = self.table.entries.get(first) {
            prefetch_index(std::slice::from_ref(&entry.values), 0);
            prefetch_index(std::slice::from_ref(&entry.priority), 0);
            prefetch_index(std::slice::from_ref(&entry.validity), 0);
        }
    }

    /// Every entry in (list, product) order, a product's entries in a list in document order:
    /// the order of a compile's table.
    pub(crate) fn all_entries(&self) -> impl Iterator<Item = &EntryDef> + '_ {
        let mut written: Vec<(u64, EntryId, u32)> = self
            .changed
            .runs
            .iter()
            .filter(|(_, run)| run.1 > 0)
            .map(|(&key, &(start, len))| (key, start, len))
            .collect();
        written.sort_unstable_by_key(|&(key, _, _)| key);
        let mut written = written.into_iter().peekable();
        let mut pending: Vec<&EntryDef> = Vec::new();
        let mut table = self.table.entries.iter().peekable();
        std::iter::from_fn(move || loop {
            if let Some(entry) = pending.pop() {
                return Some(entry);
            }
            let next_key = table.peek().map(|e| entry_key(e.list, e.product));
            match (written.peek(), next_key) {
                (Some(&(key, start, len)), next) if next.is_none_or(|k| key <= k) => {
                    written.next();
                    pending = self.entries_run(start, len).rev().collect();
                }
                (_, Some(key)) => {
                    let entry = table.next()?;
                    if !self.changed.runs.contains_key(&key) {
                        return Some(entry);
                    }
                }
                (_, None) => return None,
            }
        })
    }

    /// The entries of a run [`PriceLists::entry_run`] gave.
    pub(crate) fn entries_run(
        &self,
        start: EntryId,
        len: u32,
    ) -> impl DoubleEndedIterator<Item = &EntryDef> {
        (start.index()..start.index() + len as usize)
            .filter_map(|i| EntryId::from_index(i).map(|id| self.entry(id)))
    }
}

impl EntryTable {
    fn run(&self, list: ListId, product: ProductId) -> Option<(EntryId, u32)> {
        match self.entry_slots.get(list) {
            Some(Some(slots)) => slots.run(product),
            _ => self.by_product.run(list, product),
        }
    }
}

impl Pricing {
    /// Calls `emit` with each rule of audience `aud` whose selector matches `product` (a rule
    /// may come more than once), probing the keys the product carries: SKU, family, each
    /// category with its ancestors, brand, then the rules whose selector must be scanned.
    pub(crate) fn matching_rules(
        &self,
        catalog: &Catalog,
        aud: AudKey,
        rules: &AudienceRules,
        product: ProductId,
        emit: &mut impl FnMut(RuleId),
    ) {
        let kinds = rules.kinds;
        let mut by_key = |kind: IndexKind, value: u32| {
            if kinds & kind.bit() != 0 && value != NONE {
                if let Some(found) = self.rule_index.get(&kind.key(aud, value)) {
                    found.iter().for_each(|&r| emit(r));
                }
            }
        };
        by_key(IndexKind::Sku, product.raw());
        by_key(IndexKind::Family, *catalog.family.row(product));
        if kinds & IndexKind::Category.bit() != 0 {
            for &c in catalog.category_closure.row(product) {
                by_key(IndexKind::Category, c);
            }
        }
        by_key(IndexKind::Brand, *catalog.brand.row(product));
        if kinds & IndexKind::Scan.bit() != 0 {
            for &r in &rules.scan {
                let selector = self.rules.row(r).selector;
                if catalog
                    .selectors
                    .row(selector)
                    .products
                    .contains(product.raw())
                {
                    emit(r);
                }
            }
        }
    }

    /// Resolves per product the rules of every audience that covers at least one product in
    /// [`DENSE_SHARE`] ([`DenseRules`]), one audience per task. An audience whose rules
    /// `earlier` (compiled over the same catalog) indexed the same way keeps its resolution.
    pub(crate) fn resolve_dense(&mut self, catalog: &Catalog, earlier: Option<&Pricing>) {
        let products = catalog.skus.len() as u64;
        let mut wide: Vec<AudKey> = self
            .audience_rules
            .iter()
            .filter(|(_, rules)| rules.products.len().saturating_mul(DENSE_SHARE) >= products)
            .map(|(&aud, _)| aud)
            .collect();
        wide.sort_unstable();
        let kept = |aud: AudKey| {
            let now = self.audience_rules.get(&aud)?;
            let before = earlier?.audience_rules.get(&aud)?;
            (before.fingerprint == now.fingerprint)
                .then(|| before.dense.clone())
                .flatten()
        };
        let resolved: Vec<(AudKey, Option<Arc<DenseRules>>)> = wide
            .par_iter()
            .map(|&aud| {
                let dense = kept(aud).or_else(|| self.dense_rules(catalog, aud).map(Arc::new));
                (aud, dense)
            })
            .collect();
        for (aud, dense) in resolved {
            if let Some(rules) = self.audience_rules.get_mut(&aud) {
                rules.dense = dense;
            }
        }
    }

    /// The [`DenseRules`] of one audience; `None` when the catalog is too large to number.
    fn dense_rules(&self, catalog: &Catalog, aud: AudKey) -> Option<DenseRules> {
        let rules = self.audience_rules.get(&aud)?;
        let mut set_of = vec![0u32; catalog.skus.len()];
        let mut interned: AHashMap<SmallVec<[RuleId; 4]>, u32> = AHashMap::new();
        let mut sets: Vec<(u32, u32)> = Vec::new();
        let mut all: Vec<RuleId> = Vec::new();
        let mut found: SmallVec<[RuleId; 4]> = SmallVec::new();
        for raw in &rules.products {
            let Some(product) = ProductId::from_index(raw as usize) else {
                continue;
            };
            found.clear();
            self.matching_rules(catalog, aud, rules, product, &mut |r| {
                if !found.contains(&r) {
                    found.push(r);
                }
            });
            if found.is_empty() {
                continue;
            }
            let set = match interned.get(&found) {
                Some(&set) => set,
                None => {
                    let start = u32::try_from(all.len()).ok()?;
                    let len = u32::try_from(found.len()).ok()?;
                    all.extend_from_slice(&found);
                    sets.push((start, len));
                    let set = u32::try_from(sets.len()).ok()?;
                    interned.insert(found.clone(), set);
                    set
                }
            };
            *set_of.get_mut(product.index())? = set;
        }
        Some(DenseRules {
            set_of: set_of.into_boxed_slice(),
            sets: sets.into_boxed_slice(),
            rules: all.into_boxed_slice(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile, CompileOptions};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    fn sample_index() -> crate::index::Index {
        compile(
            &tarif_sample::distributor_json(),
            &CompileOptions::default(),
        )
        .unwrap()
        .index
    }

    /// Every audience of the sample resolved per product (whatever its share of the catalog)
    /// gives, product by product, the rules the probes find.
    #[test]
    fn dense_rules_are_the_probed_rules() {
        let index = sample_index();
        let pricing = &index.pricing;
        assert!(pricing.audience_rules.values().any(|r| r.dense.is_some()));
        for (&aud, rules) in &pricing.audience_rules {
            let dense = pricing.dense_rules(&index.catalog, aud).unwrap();
            assert_ne!(rules.fingerprint, [0; 16]);
            for product in index.catalog.skus.ids() {
                let mut probed = Vec::new();
                if rules.products.contains(product.raw()) {
                    pricing.matching_rules(&index.catalog, aud, rules, product, &mut |r| {
                        if !probed.contains(&r) {
                            probed.push(r);
                        }
                    });
                }
                assert_eq!(
                    dense.rules_of(product),
                    probed.as_slice(),
                    "{aud} {product:?}"
                );
                if let Some(kept) = &rules.dense {
                    assert_eq!(kept.rules_of(product), probed.as_slice());
                }
            }
        }
    }

    /// Whether a list is indexed by product or in the hash map, a product's entries in it are
    /// those a scan of every entry finds.
    #[test]
    fn entries_of_a_list_are_the_scanned_entries() {
        let index = sample_index();
        let pricing = &index.pricing;
        assert!(pricing.table.entry_slots.iter().any(Option::is_some));
        assert!(!pricing.table.by_product.runs.is_empty());
        for list in pricing.lists.ids() {
            for product in index.catalog.skus.ids() {
                let found: Vec<EntryId> = pricing
                    .entries_of(list, product)
                    .map(|(id, _)| id)
                    .collect();
                let scanned: Vec<EntryId> = pricing
                    .table
                    .entries
                    .iter_enumerated()
                    .filter(|(_, e)| (e.list, e.product) == (list, product))
                    .map(|(id, _)| id)
                    .collect();
                assert_eq!(found, scanned, "{list:?} {product:?}");
                assert_eq!(pricing.has_entry(list, product), !scanned.is_empty());
            }
        }
    }

    #[test]
    fn graduated_bands_cover_the_quantity() {
        let t = Tiered {
            own: Some(d("10")),
            tiers: Box::new([(d("10"), d("9")), (d("50"), d("8"))]),
            mode: TierMode::Graduated,
        };
        let bands = t.bands(d("60"));
        assert_eq!(
            bands.as_slice(),
            &[(d("9"), d("10")), (d("40"), d("9")), (d("11"), d("8"))]
        );
        assert_eq!(t.bands(d("5")).as_slice(), &[(d("5"), d("10"))]);
        // "From 10": the 10th unit is the first at the tier.
        assert_eq!(
            t.bands(d("10")).as_slice(),
            &[(d("9"), d("10")), (d("1"), d("9"))]
        );
        assert_eq!(t.bands(d("9")).as_slice(), &[(d("9"), d("10"))]);
    }

    #[test]
    fn lines_sharing_a_basis_take_its_bands_one_after_another() {
        let t = Tiered {
            own: Some(d("10")),
            tiers: Box::new([(d("10"), d("9")), (d("50"), d("8"))]),
            mode: TierMode::Graduated,
        };
        // 60 units as 20 + 25 + 15: units 1–20, 21–45, 46–60.
        let cut = |start: &str, qty: &str| t.bands_from(d(start), d(qty)).unwrap_or_default();
        assert_eq!(
            cut("0", "20").as_slice(),
            &[(d("9"), d("10")), (d("11"), d("9"))]
        );
        assert_eq!(cut("20", "25").as_slice(), &[(d("25"), d("9"))]);
        assert_eq!(
            cut("45", "15").as_slice(),
            &[(d("4"), d("9")), (d("11"), d("8"))]
        );
        let lines: Decimal = [("0", "20"), ("20", "25"), ("45", "15")]
            .iter()
            .flat_map(|(s, q)| cut(s, q))
            .map(|(u, v)| u * v)
            .sum();
        let whole: Decimal = t.bands(d("60")).iter().map(|(u, v)| u * v).sum();
        assert_eq!(lines, whole);
    }

    #[test]
    fn graduated_bands_follow_the_sap_interval_scale() {
        // Scale 1–5 at 10.00, from 6 at 12.00, from 21 at 15.00, from 101 at 20.00.
        let t = Tiered {
            own: Some(d("10.00")),
            tiers: Box::new([
                (d("6"), d("12.00")),
                (d("21"), d("15.00")),
                (d("101"), d("20.00")),
            ]),
            mode: TierMode::Graduated,
        };
        let line: Decimal = t.bands(d("140")).iter().map(|(u, v)| u * v).sum();
        assert_eq!(line, d("2230.00"));
        // A part of the 6th unit is priced as the 6th unit; a fractional threshold belongs
        // to the unit it falls in.
        assert_eq!(
            t.bands(d("5.5")).as_slice(),
            &[(d("5"), d("10.00")), (d("0.5"), d("12.00"))]
        );
        let fractional = Tiered {
            own: Some(d("2")),
            tiers: Box::new([(d("2.5"), d("1"))]),
            mode: TierMode::Graduated,
        };
        assert_eq!(
            fractional.bands(d("4")).as_slice(),
            &[(d("2"), d("2")), (d("2"), d("1"))]
        );
    }

    /// A product's run in a list is found whether the product is in a few lists (scanned) or
    /// in many (searched), and runs given in any order land under their own product.
    #[test]
    fn product_runs_find_each_lists_run() {
        let id = |i: usize| EntryId::from_index(i).unwrap();
        let list = |i: usize| ListId::from_index(i).unwrap();
        let product = |i: usize| ProductId::from_index(i).unwrap();
        // Product 1 in 12 lists (searched), product 3 in two (scanned), the rest in none.
        let mut runs: Vec<_> = (0..12)
            .map(|l| (list(l * 2), product(1), id(l * 10), 2))
            .collect();
        runs.push((list(5), product(3), id(500), 1));
        runs.push((list(2), product(3), id(400), 3));
        runs.reverse();
        let index = ProductRuns::new(5, runs);
        for l in 0..24 {
            let expected = (l % 2 == 0).then(|| (id(l / 2 * 10), 2));
            assert_eq!(index.run(list(l), product(1)), expected, "list {l}");
        }
        assert_eq!(index.run(list(2), product(3)), Some((id(400), 3)));
        assert_eq!(index.run(list(5), product(3)), Some((id(500), 1)));
        assert_eq!(index.run(list(4), product(3)), None);
        for p in [0, 2, 4, 5, 1000] {
            assert_eq!(index.run(list(2), product(p)), None, "product {p}");
        }
        assert_eq!(
            ProductRuns::new(5, Vec::new()).run(list(0), product(0)),
            None
        );
    }
}
