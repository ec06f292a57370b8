//! Price lists, their entries and the contracts' pricing rules, indexed for the quote path.

use std::borrow::Borrow;
use std::sync::Arc;

use ahash::{AHashMap, AHashSet};
use rayon::prelude::*;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::audience::{AudienceBuild, AudienceNames};
use super::catalog::CatalogBuild;
use super::orders;
use super::values::{self, Currencies, Policies};
use super::version::PriceHashes;
use super::{items, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::pricing::{
    EntrySlots, EntryTable, ListSum, PriceLists, ProductRuns, SLOTS_SHARE,
};
use crate::index::{
    Action, AudKey, Bounds, ContractDef, CurrencyId, EntryDef, EntryId, Id, IdVec, Index,
    IndexKind, ListDef, ListId, Pricing, ProductId, RoundTarget, RuleDef, RuleId, SelectorId,
    SelectorKey, Settings, Tiered, NONE,
};
use crate::instant::{Instant, Interval};
use crate::model::{
    self, Contract, Document, Item, PercentOf, PriceMode, RoundTo, Tier, TierBasis, TierMode,
};
use crate::source::first16;

/// Which key a tier of this rule must carry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TierKey {
    Price,
    Percent,
    Amount,
}

impl TierKey {
    fn name(self) -> &'static str {
        match self {
            TierKey::Price => "price",
            TierKey::Percent => "percent",
            TierKey::Amount => "amount",
        }
    }
}

/// Parses tiers carrying `key`, checking thresholds increase strictly.
fn tiers(
    list: &[Tier],
    key: TierKey,
    path: impl values::At,
    diags: &mut Diags,
) -> Option<Box<[(Decimal, Decimal)]>> {
    let mut out: Vec<(Decimal, Decimal)> = Vec::new();
    let mut ok = true;
    for (k, t) in list.iter().enumerate() {
        let tpath = format!("{}.tiers[{k}]", path.path());
        let min = values::quantity(&t.min_qty, &format!("{tpath}.min_qty"), diags);
        let given = [
            (TierKey::Price, &t.price),
            (TierKey::Percent, &t.percent),
            (TierKey::Amount, &t.amount),
        ];
        let mut value = None;
        for (tk, v) in given {
            let Some(text) = v else { continue };
            if tk != key {
                diags.error(
                    Code::TierAction,
                    &format!("{tpath}.{}", tk.name()),
                    format!(
                        "a tier of this rule carries `{}`, not `{}`",
                        key.name(),
                        tk.name()
                    ),
                    &[],
                );
                ok = false;
                continue;
            }
            let vpath = format!("{tpath}.{}", tk.name());
            value = match tk {
                TierKey::Price => values::non_negative(text, &vpath, diags),
                TierKey::Percent => values::percent(text, &vpath, diags),
                TierKey::Amount => values::decimal(text, &vpath, diags),
            };
        }
        if t.price.is_none() && t.percent.is_none() && t.amount.is_none() {
            diags.error(
                Code::TierAction,
                &tpath,
                format!("the tier carries no `{}`", key.name()),
                &[],
            );
            ok = false;
        }
        match (min, value) {
            (Some(m), Some(v)) => {
                if let Some(&(prev, _)) = out.last() {
                    if m <= prev {
                        diags.error(
                            Code::TiersNotIncreasing,
                            &format!("{tpath}.min_qty"),
                            format!("tier threshold `{m}` does not increase over `{prev}`"),
                            &[],
                        );
                        ok = false;
                    }
                }
                out.push((m, v));
            }
            _ => ok = false,
        }
    }
    ok.then(|| out.into_boxed_slice())
}

fn qty_range(
    min: &Option<model::NumText>,
    max: &Option<model::NumText>,
    path: impl values::At,
    diags: &mut Diags,
) -> (Option<Decimal>, Option<Decimal>) {
    let lo = min
        .as_ref()
        .and_then(|q| values::quantity(q, &format!("{}.min_qty", path.path()), diags));
    let hi = max
        .as_ref()
        .and_then(|q| values::quantity(q, &format!("{}.max_qty", path.path()), diags));
    if let (Some(l), Some(h)) = (lo, hi) {
        if l > h {
            diags.error(
                Code::InvalidInterval,
                &format!("{}.max_qty", path.path()),
                format!("`max_qty` `{h}` is below `min_qty` `{l}`"),
                &[],
            );
        }
    }
    (lo, hi)
}

pub(super) fn never_valid(validity: Interval, path: &str, id: &str, diags: &mut Diags) {
    if validity.is_empty() && !diags.has_error_at(path) {
        diags.warning(
            Code::NeverValid,
            path,
            format!("`{id}` is never valid: its validity does not meet its container's"),
            &[id],
        );
    }
}

/// The price lists: read, derived lists resolved, entries indexed by product, and attached to
/// each account's chain. `hashes` are the section's by list (docs/spec.md §10), kept with the
/// entries so that a change of prices hashes only the groups it writes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_lists(
    doc: &Document,
    settings: &Settings,
    currencies: &Currencies,
    catalog: &CatalogBuild,
    audiences: &mut AudienceBuild,
    policies: &mut Policies,
    hashes: Option<&PriceHashes>,
    diags: &mut Diags,
) -> PriceLists {
    let mut lists = PriceLists::default();
    // The hashes are the document's only if they count its lists and each list's entries.
    let hashes = hashes.filter(|h| {
        h.lists.len() == doc.price_lists.len()
            && h.lists.iter().zip(&doc.price_lists).all(|(h, l)| match l {
                model::Item::Ok(l) => h.entries.len() == l.prices.len(),
                model::Item::Err { .. } => false,
            })
    });
    let read = read_lists(
        doc,
        settings.timezone,
        currencies,
        catalog,
        policies,
        hashes,
        &mut lists,
        diags,
    );
    resolve_derived(&mut lists, &read.derived, &read.paths, diags);
    lists.table = Arc::new(index_entries(read.entries, catalog.catalog.skus.len()));
    // A list that is not read (an error) leaves the ids out of step with the hashes; the
    // compile then fails.
    lists.hashes = hashes
        .filter(|h| h.lists.len() == lists.lists.len())
        .and_then(|h| {
            IdVec::from_vec(
                h.lists
                    .iter()
                    .map(|l| ListSum {
                        header: l.header,
                        groups: l.groups,
                    })
                    .collect(),
            )
        });
    attach_lists(&mut lists, doc, audiences, diags);
    lists
}

/// The contracts' rules over `lists`, and each wide audience's rules resolved per product.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_rules(
    contracts: &[impl Borrow<Item<Contract>>],
    settings: &Settings,
    currencies: &Currencies,
    catalog: &mut CatalogBuild,
    audiences: &AudienceNames<'_>,
    policies: &mut Policies,
    lists: Arc<PriceLists>,
    earlier: Option<&Pricing>,
    diags: &mut Diags,
) -> Pricing {
    let mut pricing = Pricing {
        price_lists: lists,
        ..Pricing::default()
    };
    let mut indexed = AHashMap::new();
    read_contracts(
        contracts,
        settings,
        currencies,
        catalog,
        audiences,
        policies,
        &mut pricing,
        &mut indexed,
        diags,
    );
    for (aud, indexed) in indexed {
        if let Some(rules) = pricing.audience_rules.get_mut(&aud) {
            rules.fingerprint = first16(&indexed.fingerprint.finalize());
            // The union of a segment's selectors covers most of the catalog: an audience
            // whose rules are indexed as they were takes it from the engine a change comes
            // from.
            let kept = earlier
                .and_then(|e| e.audience_rules.get(&aud))
                .filter(|e| e.fingerprint == rules.fingerprint);
            rules.products = match kept {
                Some(kept) => kept.products.clone(),
                None => {
                    let selectors = &catalog.catalog.selectors;
                    let mut products = RoaringBitmap::new();
                    for def in indexed.selectors.iter().filter_map(|&s| selectors.get(s)) {
                        products |= &def.products;
                    }
                    products
                }
            };
        }
    }
    pricing.resolve_dense(&catalog.catalog, earlier);
    pricing
}

/// The price lists read from the document: what `from_list` names (resolved once every list
/// is known), each list's path, and every entry, unsorted.
#[derive(Default)]
struct ListsRead {
    derived: Vec<Option<(String, Option<Decimal>, String)>>,
    paths: Vec<String>,
    entries: Vec<EntryDef>,
}

/// Registers every well-formed, unique price list and reads its entries.
#[allow(clippy::too_many_arguments)]
fn read_lists(
    doc: &Document,
    tz: chrono_tz::Tz,
    currencies: &Currencies,
    catalog: &CatalogBuild,
    policies: &mut Policies,
    hashes: Option<&PriceHashes>,
    pricing: &mut PriceLists,
    diags: &mut Diags,
) -> ListsRead {
    let lists = items(&doc.price_lists, "price_lists", diags);
    let mut read = ListsRead {
        entries: Vec::with_capacity(lists.iter().map(|(_, l)| l.prices.len()).sum()),
        ..ListsRead::default()
    };
    for (i, l) in &lists {
        let path = format!("price_lists[{i}]");
        if !values::id_ok(&l.id, &format!("{path}.id"), diags) {
            continue;
        }
        if pricing.list_index.contains_key(l.id.as_str()) {
            diags.error(
                Code::DuplicateId,
                &format!("{path}.id"),
                format!("duplicate price list `{}`", l.id),
                &[&l.id],
            );
            continue;
        }
        let validity = values::validity(l.valid.as_ref(), tz, &format!("{path}.valid"), diags);
        let percent = l
            .percent
            .as_deref()
            .and_then(|p| values::percent(p, &format!("{path}.percent"), diags));
        if l.percent.is_some() && l.from_list.is_none() {
            diags.error(
                Code::RuleActions,
                &format!("{path}.percent"),
                "`percent` on a price list needs `from_list`".into(),
                &[&l.id],
            );
        }
        read.derived.push(
            l.from_list
                .clone()
                .map(|f| (f, percent, format!("{path}.from_list"))),
        );
        let Some(list_id) = pricing.lists.push(ListDef {
            id: l.id.as_str().into(),
            net: l.net,
            currency: currencies.or_default(
                l.currency.as_deref(),
                &format!("{path}.currency"),
                diags,
            ),
            priority: l.priority.unwrap_or(0),
            validity,
            rounding: policies.parse(l.rounding.as_ref(), &format!("{path}.rounding"), diags),
            derived: None,
            tier_mode: l.tier_mode,
            tier_basis: l.tier_basis,
        }) else {
            continue;
        };
        pricing.list_index.insert(l.id.as_str().into(), list_id);
        read.paths.push(path.clone());
        let entry_hashes = hashes
            .and_then(|h| h.lists.get(*i))
            .map_or(&[][..], |l| &l.entries[..]);
        read_entries(
            &EntriesOf {
                list: list_id,
                id: &l.id,
                net: l.net,
                priority: l.priority.unwrap_or(0),
                tier_mode: l.tier_mode,
                tier_basis: l.tier_basis,
                validity,
                tz,
            },
            &l.prices,
            entry_hashes,
            &format!("{path}.prices"),
            |sku| catalog.product_id(sku),
            &mut read.entries,
            diags,
        );
    }
    read
}

/// Sorts the entries by (list, product) and indexes each run of one product in one list: by
/// product in [`EntrySlots`] for a list that prices at least one product in [`SLOTS_SHARE`] of
/// the `products` of the catalog, by product in [`ProductRuns`] for the others.
pub(crate) fn index_entries(mut entries: Vec<EntryDef>, products: usize) -> EntryTable {
    // Lists usually give their entries in catalog order: no sort (and its copy) then.
    if !entries.is_sorted_by_key(|e| (e.list, e.product)) {
        entries.sort_by_key(|e| (e.list, e.product));
    }
    let Some(table) = IdVec::from_vec(entries) else {
        return EntryTable::default();
    };
    let mut runs: Vec<(ListId, ProductId, EntryId, u32)> = Vec::new();
    for (id, e) in table.iter_enumerated() {
        match runs.last_mut() {
            Some((list, product, _, len)) if (*list, *product) == (e.list, e.product) => *len += 1,
            _ => runs.push((e.list, e.product, id, 1)),
        }
    }
    let mut slots: IdVec<ListId, Option<EntrySlots>> = IdVec::new();
    let mut small = Vec::new();
    for (list, list_runs) in runs
        .chunk_by(|a, b| a.0 == b.0)
        .filter_map(|r| Some((r.first()?.0, r)))
    {
        while slots.len() < list.index() {
            slots.push(None);
        }
        if list_runs.len().saturating_mul(SLOTS_SHARE) >= products {
            let filled = list_runs
                .iter()
                .map(|&(_, product, first, len)| (product, first, len));
            slots.push(Some(EntrySlots::new(products, filled)));
        } else {
            slots.push(None);
            small.extend_from_slice(list_runs);
        }
    }
    EntryTable {
        entries: table,
        by_product: ProductRuns::new(products, small),
        entry_slots: slots,
    }
}

/// The list whose entries [`read_entries`] reads, as its entries need it.
pub(crate) struct EntriesOf<'a> {
    pub list: ListId,
    pub id: &'a str,
    pub net: bool,
    pub priority: i64,
    pub tier_mode: Option<TierMode>,
    pub tier_basis: Option<TierBasis>,
    pub validity: Interval,
    pub tz: chrono_tz::Tz,
}

impl<'a> EntriesOf<'a> {
    /// The list `def` (of id `list`), read in time zone `tz`.
    pub(crate) fn list(list: ListId, def: &'a ListDef, tz: chrono_tz::Tz) -> Self {
        EntriesOf {
            list,
            id: &def.id,
            net: def.net,
            priority: def.priority,
            tier_mode: def.tier_mode,
            tier_basis: def.tier_basis,
            validity: def.validity,
            tz,
        }
    }
}

/// Reads the entries of one price list into `entries`, each with its hash from `hashes` (the
/// list's entries' hashes in document order, or none), reporting unknown products (found by
/// `product_of`), missing or malformed prices, and overlapping validity; `path` is where the
/// entries are.
pub(crate) fn read_entries(
    l: &EntriesOf<'_>,
    prices: &[Item<model::PriceEntry>],
    hashes: &[u128],
    path: &str,
    product_of: impl Fn(&str) -> Option<ProductId>,
    entries: &mut Vec<EntryDef>,
    diags: &mut Diags,
) {
    let mut seen: AHashMap<u32, Vec<Interval>> = AHashMap::new();
    for (k, e) in items(prices, path, diags) {
        let epath = || format!("{path}[{k}]");
        let Some(product) = product_of(&e.sku) else {
            diags.error(
                Code::UnknownReference,
                &format!("{}.sku", epath()),
                format!("unknown product `{}`", e.sku),
                &[l.id, &e.sku],
            );
            continue;
        };
        let own = e
            .price
            .as_deref()
            .and_then(|p| values::non_negative(p, || format!("{}.price", epath()), diags));
        let Some(tier_list) = tiers(&e.tiers, TierKey::Price, epath, diags) else {
            continue;
        };
        if e.price.is_none() && e.tiers.is_empty() {
            diags.error(
                Code::RuleActions,
                &epath(),
                format!("the entry for `{}` has no `price` and no `tiers`", e.sku),
                &[l.id, &e.sku],
            );
            continue;
        }
        if e.price.is_some() && own.is_none() {
            continue;
        }
        let mode = e.tier_mode.or(l.tier_mode).unwrap_or(TierMode::AllUnits);
        if mode == TierMode::Graduated && own.is_none() {
            diags.error(
                Code::GraduatedNeedsPrice,
                &epath(),
                format!(
                    "graduated tiers of `{}` need a `price` for the first band",
                    e.sku
                ),
                &[l.id, &e.sku],
            );
            continue;
        }
        let entry_validity = values::validity(
            e.valid.as_ref(),
            l.tz,
            || format!("{}.valid", epath()),
            diags,
        );
        let valid = l.validity.intersect(&entry_validity);
        if valid.is_empty() {
            never_valid(valid, &epath(), &format!("{}/{}", l.id, e.sku), diags);
        }
        rising(own, &tier_list, epath, l.id, &e.sku, diags);
        let overlaps = seen.entry(product.raw()).or_default();
        if overlaps.iter().any(|o| !o.intersect(&valid).is_empty()) {
            diags.warning(
                Code::OverlappingPrices,
                &epath(),
                format!(
                    "`{}` has two prices in `{}` valid at the same time",
                    e.sku, l.id
                ),
                &[l.id, &e.sku],
            );
        }
        overlaps.push(valid);
        let (min_qty, max_qty) = qty_range(&e.min_qty, &e.max_qty, epath, diags);
        entries.push(EntryDef {
            hash: hashes.get(k).copied().unwrap_or(0).to_le_bytes(),
            list: l.list,
            product,
            values: Tiered {
                own,
                tiers: tier_list,
                mode,
            },
            priority: e.priority.unwrap_or(l.priority),
            validity: valid,
            min_qty,
            max_qty,
            exclusive: e.exclusive.unwrap_or(l.net),
            tier_basis: e.tier_basis.or(l.tier_basis).unwrap_or_default(),
        });
    }
}

fn rising(
    own: Option<Decimal>,
    tiers: &[(Decimal, Decimal)],
    path: impl values::At,
    list: &str,
    sku: &str,
    diags: &mut Diags,
) {
    let mut previous = own;
    for (k, &(_, price)) in tiers.iter().enumerate() {
        if previous.is_some_and(|p| price > p) {
            diags.warning(
                Code::RisingTier,
                &format!("{}.tiers[{k}].price", path.path()),
                format!(
                    "tier price `{price}` of `{sku}` in `{list}` is higher than the price below it"
                ),
                &[list, sku],
            );
        }
        previous = Some(price);
    }
}

fn resolve_derived(
    pricing: &mut PriceLists,
    names: &[Option<(String, Option<Decimal>, String)>],
    paths: &[String],
    diags: &mut Diags,
) {
    let lists: Vec<ListId> = pricing.lists.ids().collect();
    for (&n, name) in lists.iter().zip(names) {
        let Some((target, percent, path)) = name else {
            continue;
        };
        let Some(&t) = pricing.list_index.get(target.as_str()) else {
            diags.error(
                Code::UnknownReference,
                path,
                format!("unknown price list `{target}`"),
                &[target],
            );
            continue;
        };
        if let Some(list) = pricing.lists.get_mut(n) {
            list.derived = Some((t, percent.unwrap_or(Decimal::ZERO)));
        }
    }
    let count = pricing.lists.len();
    for (k, &n) in lists.iter().enumerate() {
        let mut at = n;
        let mut hops = 0;
        let mut currency_ok = true;
        let start_currency = pricing.lists.get(n).map(|l| l.currency);
        while let Some((next, _)) = pricing.lists.get(at).and_then(|l| l.derived) {
            at = next;
            hops += 1;
            if pricing.lists.get(at).map(|l| l.currency) != start_currency {
                currency_ok = false;
            }
            if at == n || hops > count {
                break;
            }
        }
        let path = paths.get(k).map(String::as_str).unwrap_or("");
        let id = pricing.lists.row(n).id.to_string();
        if at == n && hops > 0 || hops > count {
            diags.error(
                Code::ListCycle,
                &format!("{path}.from_list"),
                format!("price list `{id}` derives from itself"),
                &[&id],
            );
            if let Some(l) = pricing.lists.get_mut(n) {
                l.derived = None;
            }
        } else if !currency_ok {
            diags.error(
                Code::CurrencyMismatch,
                &format!("{path}.from_list"),
                format!("price list `{id}` derives from a list in another currency"),
                &[&id],
            );
        }
    }
}

/// Attaches price lists to each account's chain: own, ancestors', segments', everyone's.
fn attach_lists(
    pricing: &mut PriceLists,
    doc: &Document,
    audiences: &mut AudienceBuild,
    diags: &mut Diags,
) {
    let resolve = |name: &str, path: &str, diags: &mut Diags| {
        let found = pricing.list_index.get(name).copied();
        if found.is_none() {
            diags.error(
                Code::UnknownReference,
                path,
                format!("unknown price list `{name}`"),
                &[name],
            );
        }
        found
    };
    let defaults: Vec<ListId> = match &doc.settings {
        Some(model::Item::Ok(s)) => s
            .default_price_lists
            .iter()
            .enumerate()
            .filter_map(|(k, l)| resolve(l, &format!("settings.default_price_lists[{k}]"), diags))
            .collect(),
        _ => Vec::new(),
    };
    let segment_lists: Vec<Vec<ListId>> = audiences
        .segment_lists
        .iter()
        .map(|names| {
            names
                .iter()
                .filter_map(|(l, p)| resolve(l, p, diags))
                .collect()
        })
        .collect();
    let account_lists: Vec<Vec<ListId>> = audiences
        .account_lists
        .iter()
        .map(|names| {
            names
                .iter()
                .filter_map(|(l, p)| resolve(l, p, diags))
                .collect()
        })
        .collect();
    pricing.everyone_lists = defaults.iter().copied().collect();
    let segment_count = u32::try_from(audiences.audiences.segment_ids.len()).unwrap_or(0);
    for (n, account) in audiences.audiences.accounts.iter_mut().enumerate() {
        let mut lists: SmallVec<[(ListId, u8, u32); 4]> = SmallVec::new();
        let mut push = |list: ListId, level: u8, key: u32| {
            if !lists.iter().any(|(l, _, _)| *l == list) {
                lists.push((list, level, key));
            }
        };
        let seg_level = u8::try_from(account.lineage.len()).unwrap_or(u8::MAX);
        for (depth, &acc) in account.lineage.iter().enumerate() {
            for &l in account_lists
                .get(acc.index())
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                push(
                    l,
                    u8::try_from(depth).unwrap_or(u8::MAX),
                    1 + segment_count + acc.raw(),
                );
            }
        }
        for &s in audiences
            .segment_sets
            .get(n)
            .map(|s| s.as_slice())
            .unwrap_or(&[])
        {
            for &l in segment_lists
                .get(s as usize)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                push(l, seg_level, 1 + s);
            }
        }
        for &l in &defaults {
            push(l, seg_level.saturating_add(1), 0);
        }
        account.lists = lists;
    }
}

/// What the rules of one audience key were indexed from, as they are read: their
/// [`AudienceRules::fingerprint`] being hashed, and their selectors, whose products make
/// [`AudienceRules::products`].
#[derive(Default)]
struct Indexed {
    fingerprint: blake3::Hasher,
    selectors: Vec<SelectorId>,
}

#[allow(clippy::too_many_arguments)]
fn read_contracts(
    contracts: &[impl Borrow<Item<Contract>>],
    settings: &Settings,
    currencies: &Currencies,
    catalog: &mut CatalogBuild,
    audiences: &AudienceNames<'_>,
    policies: &mut Policies,
    pricing: &mut Pricing,
    indexed: &mut AHashMap<AudKey, Indexed>,
    diags: &mut Diags,
) {
    let tz = settings.timezone;
    let mut contract_ids: AHashSet<&str> = AHashSet::with_capacity(contracts.len());
    let contracts = items(contracts.iter().map(Borrow::borrow), "contracts", diags);
    // A contract's audience depends on nothing read before it, and resolving it misses the
    // cache twice (the parsed contract, the account map): the audiences are resolved side by
    // side first, each one's problems reported where the loop meets its contract.
    let resolved: Vec<(SmallVec<[AudKey; 2]>, Diags)> = contracts
        .par_iter()
        .with_min_len(256)
        .map(|(i, c)| {
            let mut found = Diags::default();
            let keys = audiences.resolve(
                &c.audience,
                || format!("contracts[{i}].audience"),
                &mut found,
            );
            (keys, found)
        })
        .collect();
    for ((i, c), (audience, found)) in contracts.into_iter().zip(resolved) {
        let path = format!("contracts[{i}]");
        if !values::id_ok(&c.id, || format!("{path}.id"), diags) {
            continue;
        }
        if !contract_ids.insert(&c.id) {
            diags.error(
                Code::DuplicateId,
                &format!("{path}.id"),
                format!("duplicate contract `{}`", c.id),
                &[&c.id],
            );
            continue;
        }
        let Some(contract) = pricing.contracts.push(ContractDef {
            id: c.id.as_str().into(),
            rounding: policies.parse(c.rounding.as_ref(), || format!("{path}.rounding"), diags),
        }) else {
            continue;
        };
        diags.append(found);
        let validity = values::validity(c.valid.as_ref(), tz, || format!("{path}.valid"), diags);
        if validity.until < Instant::MAX {
            diags.expiring(
                validity.until,
                Code::Expired,
                &format!("{path}.valid"),
                format!("contract `{}` has expired", c.id),
                &[&c.id],
            );
        }
        let contract_currency = c
            .currency
            .as_deref()
            .and_then(|cur| currencies.resolve(cur, || format!("{path}.currency"), diags));
        let mut rule_ids: AHashSet<&str> = AHashSet::new();
        for (k, r) in items(&c.rules, || format!("{path}.rules"), diags) {
            let rpath = format!("{path}.rules[{k}]");
            if !values::id_ok(&r.id, || format!("{rpath}.id"), diags) {
                continue;
            }
            if !rule_ids.insert(r.id.as_str()) {
                diags.error(
                    Code::DuplicateId,
                    &format!("{rpath}.id"),
                    format!("duplicate rule `{}` in contract `{}`", r.id, c.id),
                    &[&c.id, &r.id],
                );
                continue;
            }
            let full = format!("{}/{}", c.id, r.id);
            let step = settings
                .steps
                .iter()
                .position(|s| *s.name == *r.step)
                .and_then(|s| u16::try_from(s).ok());
            if step.is_none() {
                diags.error(
                    Code::UnknownStep,
                    &format!("{rpath}.step"),
                    format!(
                        "unknown step `{}`: the procedure has {}",
                        r.step,
                        step_names(settings)
                    ),
                    &[&full],
                );
            }
            let selector = catalog.selector(&r.products, || format!("{rpath}.products"), diags);
            let rule_validity = validity.intersect(&values::validity(
                r.valid.as_ref(),
                tz,
                || format!("{rpath}.valid"),
                diags,
            ));
            never_valid(rule_validity, &rpath, &full, diags);
            let (min_qty, max_qty) = qty_range(&r.min_qty, &r.max_qty, &rpath, diags);
            let action = action(r, pricing, &rpath, diags);
            let absolute = action.as_ref().is_some_and(is_absolute);
            let explicit = r
                .currency
                .as_deref()
                .and_then(|cur| currencies.resolve(cur, || format!("{rpath}.currency"), diags));
            if absolute
                && explicit.is_none()
                && contract_currency.is_none()
                && currencies.defs.len() > 1
                && r.currency.is_none()
            {
                diags.error(
                    Code::MissingField,
                    &format!("{path}.currency"),
                    format!("contract `{}` has absolute amounts and the document several currencies: name its `currency`", c.id),
                    &[&c.id, &full],
                );
            }
            let currency: Option<CurrencyId> = explicit.or(if absolute {
                Some(contract_currency.unwrap_or(currencies.default))
            } else {
                None
            });
            let rounding =
                policies.parse(r.rounding.as_ref(), || format!("{rpath}.rounding"), diags);
            let (Some(step), Some(selector), Some(action)) = (step, selector, action) else {
                continue;
            };
            let spec = catalog
                .catalog
                .selectors
                .get(selector)
                .map(|s| s.spec)
                .unwrap_or_default();
            let Some(rule_id) = pricing.rules.push(RuleDef {
                id: full.into(),
                contract,
                step,
                selector,
                spec,
                priority: r.priority.or(c.priority).unwrap_or(0),
                validity: rule_validity,
                min_qty,
                max_qty,
                currency,
                exclusive: r.exclusive,
                action,
                rounding,
                audience: audience.clone(),
                tier_basis: r.tier_basis.unwrap_or_default(),
                basis_category: named_category(&r.products, catalog),
            }) else {
                continue;
            };
            index_rule(pricing, catalog, rule_id, selector, &audience, indexed);
        }
        let context = orders::ContractContext {
            id: &c.id,
            audience: &audience,
            validity,
            priority: c.priority,
            currency: contract_currency.unwrap_or(currencies.default),
        };
        let mut condition_ids: AHashSet<&str> = AHashSet::new();
        for (k, o) in items(
            &c.order_conditions,
            || format!("{path}.order_conditions"),
            diags,
        ) {
            let opath = format!("{path}.order_conditions[{k}]");
            if !values::id_ok(&o.id, || format!("{opath}.id"), diags) {
                continue;
            }
            if !condition_ids.insert(o.id.as_str()) {
                diags.error(
                    Code::DuplicateId,
                    &format!("{opath}.id"),
                    format!(
                        "duplicate order condition `{}` in contract `{}`",
                        o.id, c.id
                    ),
                    &[&c.id, &o.id],
                );
                continue;
            }
            let currency = o
                .currency
                .as_deref()
                .and_then(|cur| currencies.resolve(cur, || format!("{opath}.currency"), diags));
            if let Some(def) = orders::condition(o, &context, currency, tz, &opath, diags) {
                pricing.order_conditions.push(def);
            }
        }
    }
}

/// The deepest category a selector names (`NONE` when it names none): the category a
/// `category` tier basis reads (docs/spec.md §12.5).
fn named_category(selector: &model::Selector, catalog: &CatalogBuild) -> u32 {
    let depth = |c: u32| {
        catalog
            .catalog
            .categories
            .get(c as usize)
            .map_or(0, |d| d.depth)
    };
    match selector {
        model::Selector::Category(c) => catalog.sel.category_index.get(c).copied().unwrap_or(NONE),
        model::Selector::AllOf(members) => members
            .iter()
            .map(|m| named_category(m, catalog))
            .filter(|&c| c != NONE)
            // The first of the deepest, in document order.
            .fold(NONE, |best, c| {
                if best == NONE || depth(c) > depth(best) {
                    c
                } else {
                    best
                }
            }),
        _ => NONE,
    }
}

fn step_names(settings: &Settings) -> String {
    settings
        .steps
        .iter()
        .map(|s| format!("`{}`", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_absolute(action: &Action) -> bool {
    match action {
        Action::Price { .. } | Action::Amount { .. } => true,
        Action::Bounds(b) => {
            b.min_price.is_some()
                || b.max_price.is_some()
                || b.min_over_base.is_some()
                || b.max_over_base.is_some()
        }
        Action::Percent { .. } | Action::FromList { .. } | Action::RoundTo { .. } => false,
    }
}

fn index_rule(
    pricing: &mut Pricing,
    catalog: &CatalogBuild,
    rule: RuleId,
    selector: SelectorId,
    audience: &[u32],
    indexed: &mut AHashMap<AudKey, Indexed>,
) {
    let Some(def) = catalog.catalog.selectors.get(selector) else {
        return;
    };
    let selector_hash = catalog.catalog.selector_hash(selector);
    for &aud in audience {
        let indexed = indexed.entry(aud).or_default();
        indexed
            .fingerprint
            .update(&(rule.index() as u64).to_le_bytes())
            .update(&selector_hash);
        indexed.selectors.push(selector);
        let rules = pricing.audience_rules.entry(aud).or_default();
        let (kind, keys): (IndexKind, SmallVec<[u32; 4]>) = match &def.index {
            SelectorKey::Skus(ids) => (IndexKind::Sku, ids.iter().map(|p| p.raw()).collect()),
            SelectorKey::Family(f) => (IndexKind::Family, smallvec::smallvec![*f]),
            SelectorKey::Category(c) => (IndexKind::Category, smallvec::smallvec![*c]),
            SelectorKey::Brand(b) => (IndexKind::Brand, smallvec::smallvec![*b]),
            SelectorKey::Scan => {
                rules.scan.push(rule);
                rules.kinds |= IndexKind::Scan.bit();
                continue;
            }
        };
        rules.kinds |= kind.bit();
        for key in keys {
            pricing
                .rule_index
                .entry(kind.key(aud, key))
                .or_default()
                .push(rule);
        }
    }
}

/// Reads the one action of a rule.
fn action(r: &model::Rule, pricing: &Pricing, path: &str, diags: &mut Diags) -> Option<Action> {
    let given = action_kinds(r);
    let tiers_only = given.is_empty() && !r.tiers.is_empty();
    if given.len() != 1 && !tiers_only {
        diags.error(
            Code::RuleActions,
            path,
            format!(
                "rule `{}` must have exactly one action (price, percent, amount, from_list, bounds or round_to), found {}",
                r.id,
                if given.is_empty() { "none".to_string() } else { given.join(", ") }
            ),
            &[&r.id],
        );
        return None;
    }
    let tier_key = tier_key(r, given.is_empty());
    if !r.tiers.is_empty() && tier_key.is_none() {
        diags.error(
            Code::TierAction,
            &format!("{path}.tiers"),
            format!(
                "rule `{}` cannot have tiers: only price, percent and amount rules can",
                r.id
            ),
            &[&r.id],
        );
        return None;
    }
    match tier_key {
        Some(key) => tiered_action(r, key, path, diags),
        None => untiered_action(r, pricing, path, diags),
    }
}

/// The actions a rule gives, by name (a `percent` with `from_list` belongs to the latter).
fn action_kinds(r: &model::Rule) -> Vec<&'static str> {
    let bounds_given = [
        &r.min_price,
        &r.max_price,
        &r.min_margin_pct,
        &r.max_discount_pct,
        &r.min_over_base,
        &r.max_over_base,
    ]
    .iter()
    .any(|b| b.is_some());
    let kinds = [
        ("price", r.price.is_some()),
        ("percent", r.percent.is_some() && r.from_list.is_none()),
        ("amount", r.amount.is_some()),
        ("from_list", r.from_list.is_some()),
        ("bounds", bounds_given),
        ("round_to", r.round_to.is_some()),
    ];
    kinds.iter().filter(|(_, g)| *g).map(|(k, _)| *k).collect()
}

/// Which value a rule's tiers hold: that of its action, or for a rule of tiers only, that of
/// its first tier.
fn tier_key(r: &model::Rule, no_action: bool) -> Option<TierKey> {
    if r.price.is_some() {
        Some(TierKey::Price)
    } else if r.percent.is_some() && r.from_list.is_none() {
        Some(TierKey::Percent)
    } else if r.amount.is_some() {
        Some(TierKey::Amount)
    } else if no_action {
        r.tiers.first().map(|t| {
            if t.price.is_some() {
                TierKey::Price
            } else if t.percent.is_some() {
                TierKey::Percent
            } else {
                TierKey::Amount
            }
        })
    } else {
        None
    }
}

/// A `price`, `percent` or `amount` action with its tiers.
fn tiered_action(r: &model::Rule, key: TierKey, path: &str, diags: &mut Diags) -> Option<Action> {
    let mode = r.tier_mode.unwrap_or(TierMode::AllUnits);
    let tiered = |own: Option<Decimal>, key: TierKey, diags: &mut Diags| -> Option<Tiered> {
        let list = tiers(&r.tiers, key, path, diags)?;
        if mode == TierMode::Graduated && own.is_none() {
            diags.error(
                Code::GraduatedNeedsPrice,
                path,
                format!(
                    "graduated tiers of rule `{}` need an own `{}` for the first band",
                    r.id,
                    key.name()
                ),
                &[&r.id],
            );
            return None;
        }
        Some(Tiered {
            own,
            tiers: list,
            mode,
        })
    };
    let field = |name: &str| format!("{path}.{name}");
    match key {
        TierKey::Price => {
            let own = match &r.price {
                Some(p) => Some(values::non_negative(p, &field("price"), diags)?),
                None => None,
            };
            Some(Action::Price {
                values: tiered(own, TierKey::Price, diags)?,
                mode: r.price_mode.unwrap_or(PriceMode::Set),
            })
        }
        TierKey::Percent => {
            let own = match &r.percent {
                Some(p) => Some(values::percent(p, &field("percent"), diags)?),
                None => None,
            };
            Some(Action::Percent {
                values: tiered(own, TierKey::Percent, diags)?,
                of: r.of.unwrap_or(PercentOf::Running),
            })
        }
        TierKey::Amount => {
            let own = match &r.amount {
                Some(a) => Some(values::decimal(a, &field("amount"), diags)?),
                None => None,
            };
            Some(Action::Amount {
                values: tiered(own, TierKey::Amount, diags)?,
            })
        }
    }
}

/// A `from_list`, `round_to` or bounds action.
fn untiered_action(
    r: &model::Rule,
    pricing: &Pricing,
    path: &str,
    diags: &mut Diags,
) -> Option<Action> {
    let field = |name: &str| format!("{path}.{name}");
    if let Some(list) = &r.from_list {
        let percent = match &r.percent {
            Some(p) => Some(values::percent(p, &field("percent"), diags)?),
            None => None,
        };
        let Some(&id) = pricing.list_index.get(list.as_str()) else {
            diags.error(
                Code::UnknownReference,
                &field("from_list"),
                format!("unknown price list `{list}`"),
                &[list],
            );
            return None;
        };
        return Some(Action::FromList { list: id, percent });
    }
    if let Some(round) = &r.round_to {
        return round_to(round, path, diags);
    }
    let mut ok = true;
    let mut get = |v: &Option<String>, name: &str, diags: &mut Diags| match v {
        None => None,
        Some(t) => {
            let parsed = values::non_negative(t, &field(name), diags);
            ok &= parsed.is_some();
            parsed
        }
    };
    let bounds = Bounds {
        min_price: get(&r.min_price, "min_price", diags),
        max_price: get(&r.max_price, "max_price", diags),
        min_margin_pct: get(&r.min_margin_pct, "min_margin_pct", diags),
        max_discount_pct: get(&r.max_discount_pct, "max_discount_pct", diags),
        min_over_base: match &r.min_over_base {
            Some(t) => {
                let v = values::decimal(t, &field("min_over_base"), diags);
                ok &= v.is_some();
                v
            }
            None => None,
        },
        max_over_base: match &r.max_over_base {
            Some(t) => {
                let v = values::decimal(t, &field("max_over_base"), diags);
                ok &= v.is_some();
                v
            }
            None => None,
        },
    };
    ok.then_some(Action::Bounds(bounds))
}

fn round_to(round: &RoundTo, path: &str, diags: &mut Diags) -> Option<Action> {
    let path = format!("{path}.round_to");
    match round {
        RoundTo::Multiple { step, mode } => {
            let value = values::decimal(step, &path, diags)?;
            if value <= Decimal::ZERO {
                diags.error(
                    Code::InvalidRounding,
                    &path,
                    format!("`round_to` step `{step}` must be positive"),
                    &[],
                );
                return None;
            }
            Some(Action::RoundTo {
                target: RoundTarget::Multiple(value),
                mode: *mode,
            })
        }
        RoundTo::Ending { ending, mode } => {
            let value = values::decimal(ending, &format!("{path}.ending"), diags)?;
            if value < Decimal::ZERO || value >= Decimal::ONE {
                diags.error(
                    Code::InvalidRounding,
                    &format!("{path}.ending"),
                    format!("ending `{ending}` must be at least 0 and below 1"),
                    &[],
                );
                return None;
            }
            Some(Action::RoundTo {
                target: RoundTarget::Ending(value),
                mode: *mode,
            })
        }
    }
}

/// Warnings that need the finished index.
pub(crate) fn warn(index: &Index, as_of: Instant, diags: &mut Diags) {
    let pricing = &index.pricing;
    let catalog = &index.catalog;
    if !pricing.everyone_lists.is_empty() {
        let mut unpriced = Vec::new();
        for (p, sku) in catalog.skus.iter_enumerated() {
            if !visible_to_everyone(index, p, as_of) {
                continue;
            }
            let priced = pricing
                .everyone_lists
                .iter()
                .any(|&l| list_prices(pricing, l, p));
            if !priced {
                unpriced.push(&**sku);
            }
        }
        if !unpriced.is_empty() {
            let shown: Vec<String> = unpriced.iter().take(5).map(|s| format!("`{s}`")).collect();
            diags.warning(
                Code::UnpricedProduct,
                "products",
                format!(
                    "{} product(s) visible to everyone have no price in the default price lists: {}{}",
                    unpriced.len(),
                    shown.join(", "),
                    if unpriced.len() > 5 { ", …" } else { "" }
                ),
                &unpriced.iter().take(5).copied().collect::<Vec<_>>(),
            );
        }
    }
    floors(index, diags);
    shadowed(index, diags);
}

/// Whether a product is visible to an account with no rule of its own: the everyone level's
/// decision at `at`, else the default.
fn visible_to_everyone(index: &Index, product: ProductId, at: Instant) -> bool {
    let decision = index
        .visibility
        .everyone
        .and_then(|level| index.visibility.levels.get(level as usize))
        .and_then(|level| level.at(at))
        .and_then(|(_, caps)| caps.first())
        .filter(|see| see.decided.contains(product.raw()))
        .map(|see| see.allowed.contains(product.raw()));
    decision.unwrap_or(index.settings.default_open)
}

fn list_prices(pricing: &Pricing, list: ListId, product: ProductId) -> bool {
    let mut at = list;
    for _ in 0..=pricing.lists.len() {
        if pricing.has_entry(at, product) {
            return true;
        }
        match pricing.lists.get(at).and_then(|l| l.derived) {
            Some((next, _)) => at = next,
            None => return false,
        }
    }
    false
}

/// Everyone-level list prices below an everyone-level `min_price` floor.
fn floors(index: &Index, diags: &mut Diags) {
    let pricing = &index.pricing;
    for rule in &pricing.rules {
        let Action::Bounds(Bounds {
            min_price: Some(floor),
            ..
        }) = &rule.action
        else {
            continue;
        };
        if !rule.audience.contains(&0) {
            continue;
        }
        let Some(selector) = index.catalog.selectors.get(rule.selector) else {
            continue;
        };
        for entry in pricing.all_entries() {
            if !pricing.everyone_lists.contains(&entry.list)
                || !selector.products.contains(entry.product.raw())
            {
                continue;
            }
            let below = entry.values.own.is_some_and(|p| p < *floor)
                && pricing.lists.get(entry.list).map(|l| Some(l.currency)) == Some(rule.currency);
            if below {
                let list = pricing.lists.get(entry.list).map(|l| &*l.id).unwrap_or("");
                let sku = index.sku(entry.product);
                diags.warning(
                    Code::PriceBelowFloor,
                    "price_lists",
                    format!(
                        "list price of `{sku}` in `{list}` is below the floor `{floor}` of `{}`",
                        rule.id
                    ),
                    &[list, sku, &rule.id],
                );
            }
        }
    }
}

/// Rules of a `most_specific` step that a more specific rule of the same audience, validity and
/// quantity range always beats.
fn shadowed(index: &Index, diags: &mut Diags) {
    let pricing = &index.pricing;
    let mut groups: AHashMap<(u16, Vec<u32>, Interval), Vec<&RuleDef>> = AHashMap::new();
    for rule in &pricing.rules {
        let most_specific = index
            .settings
            .steps
            .get(usize::from(rule.step))
            .is_some_and(|s| s.select == model::Select::MostSpecific);
        if most_specific && rule.min_qty.is_none() && rule.max_qty.is_none() {
            groups
                .entry((rule.step, rule.audience.to_vec(), rule.validity))
                .or_default()
                .push(rule);
        }
    }
    for rules in groups.values() {
        for weak in rules {
            let Some(weak_set) = index.catalog.selectors.get(weak.selector) else {
                continue;
            };
            if weak_set.products.is_empty() {
                continue;
            }
            let beaten_by = rules.iter().find(|strong| {
                strong.spec > weak.spec
                    && strong.currency == weak.currency
                    && strong.action.tiers_cover_all()
                    && index
                        .catalog
                        .selectors
                        .get(strong.selector)
                        .is_some_and(|s| weak_set.products.is_subset(&s.products))
            });
            if let Some(strong) = beaten_by {
                diags.warning(
                    Code::ShadowedRule,
                    "contracts",
                    format!("rule `{}` never applies: `{}` is more specific for every product it matches", weak.id, strong.id),
                    &[&weak.id, &strong.id],
                );
            }
        }
    }
}

impl Action {
    /// Whether the action has a value for every quantity (no tier-only gaps).
    fn tiers_cover_all(&self) -> bool {
        match self {
            Action::Price { values, .. }
            | Action::Percent { values, .. }
            | Action::Amount { values } => values.own.is_some(),
            Action::FromList { .. } => false,
            Action::Bounds(_) | Action::RoundTo { .. } => true,
        }
    }
}
