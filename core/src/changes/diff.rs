//! What changed between the documents of two engines, entity by entity.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::value::RawValue;

use std::sync::Arc;

use super::{merge, KEYED, NESTED};
use crate::compile::{canonical, ContractRecords};
use crate::index::Index;
use crate::source::{Section, Source, CONTRACTS};

/// How an entity differs between two documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// Only in the new document.
    Added,
    /// Only in the old document.
    Removed,
    /// In both, with different content.
    Modified,
}

impl ChangeKind {
    /// `added`, `removed` or `modified`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Modified => "modified",
        }
    }
}

/// One entity that differs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityChange {
    /// The section: a document section (`products`, `price_lists`, ...), `prices` (a product's
    /// entries in one list), `rules` (one rule of a contract) or `settings`.
    pub section: &'static str,
    /// The price list of `prices`, the contract of `rules`.
    pub parent: Option<String>,
    /// The entity's id (a SKU for `products` and `prices`, a code for `currencies`).
    pub id: String,
    /// Added, removed or modified.
    pub kind: ChangeKind,
}

impl fmt::Display for EntityChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parent {
            Some(parent) => write!(
                f,
                "{} {}[{parent}/{}]",
                self.kind.as_str(),
                self.section,
                self.id
            ),
            None => write!(f, "{} {}[{}]", self.kind.as_str(), self.section, self.id),
        }
    }
}

/// The entities that differ between two engines' documents, in document section order, then
/// by parent and id. A list's header and its prices are separate entities (so are a
/// contract's header with its visibility rules, and each of its pricing rules): raising one
/// price shows as one modified `prices` entity, not a modified list. The prices and rules of
/// a list or contract that was added or removed are not listed again.
///
/// ```
/// use tarif::{CompileOptions, Engine};
/// let old = Engine::from_json(r#"{"format": "tarif/1", "products": [{"sku": "A"}, {"sku": "B"}],
///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "1"}]}]}"#).unwrap();
/// let new = old.apply(r#"{"format": "tarif/1-changes", "delete": {"products": ["B"]},
///   "upsert": {"prices": [{"list": "l", "sku": "A", "price": "2"}]}}"#, &CompileOptions::default())
///   .unwrap().engine;
/// let diff = old.diff(&new).unwrap();
/// let lines: Vec<String> = diff.changes.iter().map(|c| c.to_string()).collect();
/// assert_eq!(lines, ["removed products[B]", "modified prices[l/A]"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// The entities that differ.
    pub changes: Vec<EntityChange>,
}

impl Diff {
    /// Whether the two documents have the same entities with the same content.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// A document's entities: per section, id → the element's texts (one for a keyed element,
/// every entry of the SKU for a list's prices).
#[derive(Default)]
struct Entities<'a> {
    settings: Option<&'a RawValue>,
    keyed: Vec<BTreeMap<String, Vec<&'a RawValue>>>,
    /// Per nested section, (parent, key) → texts.
    nested: Vec<BTreeMap<(String, String), Vec<&'a RawValue>>>,
}

fn entities<'a>(top: &BTreeMap<&str, &'a str>) -> Entities<'a> {
    let mut out = Entities {
        settings: top
            .get("settings")
            .and_then(|t| serde_json::from_str(t).ok()),
        ..Entities::default()
    };
    for (name, key_field) in KEYED {
        let mut by_key: BTreeMap<String, Vec<&RawValue>> = BTreeMap::new();
        let nested = NESTED.iter().find(|n| n.parent == name);
        let mut nested_by_key: BTreeMap<(String, String), Vec<&RawValue>> = BTreeMap::new();
        for raw in merge::raw_list(top.get(name).copied()) {
            let key = merge::key_of(raw, key_field);
            match nested {
                Some(nested) => {
                    let fields: BTreeMap<String, &RawValue> =
                        serde_json::from_str(raw.get()).unwrap_or_default();
                    for item in merge::raw_list(fields.get(nested.field).map(|r| r.get())) {
                        nested_by_key
                            .entry((key.clone(), merge::key_of(item, nested.key)))
                            .or_default()
                            .push(item);
                    }
                    by_key.entry(key).or_default().push(raw);
                }
                None => by_key.entry(key).or_default().push(raw),
            }
        }
        out.keyed.push(by_key);
        if nested.is_some() {
            out.nested.push(nested_by_key);
        }
    }
    out
}

/// Whether two elements are the same JSON; the text is compared first, which is all it takes
/// for what neither side touched.
fn same(a: &[&RawValue], b: &[&RawValue], without: Option<&str>) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.get() == y.get() || canonical_without(x, without) == canonical_without(y, without)
        })
}

/// The canonical text of an element, without its nested list (compared on its own).
fn canonical_without(raw: &RawValue, field: Option<&str>) -> Option<String> {
    match field {
        None => canonical(raw.get()),
        Some(field) => {
            let mut map: BTreeMap<String, &RawValue> = serde_json::from_str(raw.get()).ok()?;
            map.remove(field);
            canonical(&serde_json::to_string(&map).ok()?)
        }
    }
}

/// The `price_lists` and `prices` entities that differ between two engines over the same
/// products whose price lists are both hashed by list (docs/spec.md §10), found from the
/// hashes they keep instead of reading both sections: a list's header hash, its groups' sum
/// and each entry's hash are those of the canonical JSON the text is compared by, so the
/// entities are the ones the text gives. Only the lists whose groups differ are read, each
/// product of theirs once. `None` when the engines do not qualify.
pub(crate) fn price_changes(old: &Index, new: &Index) -> Option<Vec<EntityChange>> {
    if !Arc::ptr_eq(&old.catalog.products, &new.catalog.products) {
        return None;
    }
    let (a, b) = (&old.pricing.price_lists, &new.pricing.price_lists);
    let (sums_a, sums_b) = (a.hashes.as_ref()?, b.hashes.as_ref()?);
    let mut changes = Vec::new();
    let change = |section, parent: Option<&str>, id: &str, kind| EntityChange {
        section,
        parent: parent.map(str::to_string),
        id: id.to_string(),
        kind,
    };
    for (id, &list_a) in &a.list_index {
        let Some(&list_b) = b.list_index.get(id) else {
            changes.push(change("price_lists", None, id, ChangeKind::Removed));
            continue;
        };
        let (sum_a, sum_b) = (sums_a.get(list_a)?, sums_b.get(list_b)?);
        if sum_a.header != sum_b.header {
            changes.push(change("price_lists", None, id, ChangeKind::Modified));
        }
        if sum_a.groups == sum_b.groups {
            continue;
        }
        let mut products = a.products_of(list_a);
        products.extend(b.products_of(list_b));
        products.sort_unstable();
        products.dedup();
        for product in products {
            let kind = match (a.entry_run(list_a, product), b.entry_run(list_b, product)) {
                (None, None) => continue,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some((start_a, len_a)), Some((start_b, len_b))) => {
                    let hashes_a = a.entries_run(start_a, len_a).map(|e| e.hash);
                    if hashes_a.eq(b.entries_run(start_b, len_b).map(|e| e.hash)) {
                        continue;
                    }
                    ChangeKind::Modified
                }
            };
            let sku = old.catalog.skus.get(product)?;
            changes.push(change("prices", Some(id), sku, kind));
        }
    }
    for id in b.list_index.keys() {
        if !a.list_index.contains_key(id) {
            changes.push(change("price_lists", None, id, ChangeKind::Added));
        }
    }
    Some(changes)
}

/// The contracts of two `contracts` sections whose id or hash (docs/spec.md §10) the other
/// section does not share, each side as a JSON array in its order: a contract found in both
/// with the same hash is the same JSON, header and rules, so it adds no entity and is not
/// read. `None` when a section's contracts are not each found by an id of their own.
fn contracts_that_differ(old: &Section, new: &Section) -> Option<(String, String)> {
    let (a, b) = (old.contracts()?, new.contracts()?);
    Some((unshared(old.text(), a, b)?, unshared(new.text(), b, a)?))
}

/// The contracts of a section (`own`, read from `text`) that `other` does not hold under the
/// same id with the same hash, as a JSON array in their order.
fn unshared(text: &str, own: &ContractRecords, other: &ContractRecords) -> Option<String> {
    let (ids, others) = (own.ids.as_deref()?, other.ids.as_deref()?);
    let mut by_position: Vec<Option<&str>> = vec![None; own.hashes.len()];
    for (id, &at) in ids {
        *by_position.get_mut(at)? = Some(id);
    }
    let mut out = String::from("[");
    for ((id, hash), range) in by_position.iter().zip(&own.hashes).zip(&own.ranges) {
        let theirs = id
            .and_then(|id| others.get(id))
            .and_then(|&at| other.hashes.get(at));
        if theirs != Some(hash) {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(text.get(range.clone())?);
        }
    }
    out.push(']');
    Some(out)
}

/// The entities that differ between the documents `old` and `new`. Sections with the same
/// hash are the same JSON and are not read; `prices`, when given, are the `price_lists` and
/// `prices` entities found without reading their section ([`price_changes`]).
pub(crate) fn diff(old: &Source, new: &Source, prices: Option<Vec<EntityChange>>) -> Diff {
    let by_hashes = prices.is_some();
    let differ = |name: &str| match (old.section(name), new.section(name)) {
        _ if by_hashes && name == "price_lists" => false,
        (Some(a), Some(b)) => a.hash != b.hash,
        _ => true,
    };
    let mut old_top = old.texts();
    old_top.retain(|name, _| differ(name));
    let mut new_top = new.texts();
    new_top.retain(|name, _| differ(name));
    let contracts = match (old.section(CONTRACTS), new.section(CONTRACTS)) {
        (Some(a), Some(b)) if differ(CONTRACTS) => contracts_that_differ(a, b),
        _ => None,
    };
    if let Some((a, b)) = &contracts {
        old_top.insert(CONTRACTS, a);
        new_top.insert(CONTRACTS, b);
    }
    let (a, b) = rayon::join(|| entities(&old_top), || entities(&new_top));
    let mut changes = prices.unwrap_or_default();
    let settings_same = match (a.settings, b.settings) {
        (None, None) => true,
        (Some(x), Some(y)) => same(&[x], &[y], None),
        _ => false,
    };
    if !settings_same {
        changes.push(EntityChange {
            section: "settings",
            parent: None,
            id: String::new(),
            kind: match (a.settings, b.settings) {
                (None, _) => ChangeKind::Added,
                (_, None) => ChangeKind::Removed,
                _ => ChangeKind::Modified,
            },
        });
    }
    let mut nested_index = 0;
    for ((name, _), (old_map, new_map)) in KEYED.iter().zip(a.keyed.iter().zip(&b.keyed)) {
        let nested = NESTED.iter().find(|n| n.parent == *name);
        compare(
            name,
            None,
            old_map,
            new_map,
            nested.map(|n| n.field),
            &mut changes,
        );
        if let Some(nested) = nested {
            if let (Some(old_nested), Some(new_nested)) =
                (a.nested.get(nested_index), b.nested.get(nested_index))
            {
                let both = |(parent, _): &(String, String)| {
                    old_map.contains_key(parent) && new_map.contains_key(parent)
                };
                let old_nested: BTreeMap<_, _> =
                    old_nested.iter().filter(|(k, _)| both(k)).collect();
                let new_nested: BTreeMap<_, _> =
                    new_nested.iter().filter(|(k, _)| both(k)).collect();
                for (key, old_texts) in &old_nested {
                    let kind = match new_nested.get(key) {
                        None => Some(ChangeKind::Removed),
                        Some(new_texts) if !same(old_texts, new_texts, None) => {
                            Some(ChangeKind::Modified)
                        }
                        Some(_) => None,
                    };
                    if let Some(kind) = kind {
                        changes.push(nested_change(nested.name, key, kind));
                    }
                }
                for key in new_nested.keys() {
                    if !old_nested.contains_key(key) {
                        changes.push(nested_change(nested.name, key, ChangeKind::Added));
                    }
                }
            }
            nested_index += 1;
        }
    }
    let order = |section: &str| {
        [
            "settings",
            "currencies",
            "categories",
            "products",
            "price_lists",
            "prices",
            "segments",
            "accounts",
            "contracts",
            "rules",
            "stock",
        ]
        .iter()
        .position(|s| *s == section)
    };
    changes.sort_by(|x, y| {
        (order(x.section), &x.parent, &x.id).cmp(&(order(y.section), &y.parent, &y.id))
    });
    Diff { changes }
}

fn nested_change(
    section: &'static str,
    (parent, id): &(String, String),
    kind: ChangeKind,
) -> EntityChange {
    EntityChange {
        section,
        parent: Some(parent.clone()),
        id: id.clone(),
        kind,
    }
}

fn compare(
    section: &'static str,
    parent: Option<&str>,
    old: &BTreeMap<String, Vec<&RawValue>>,
    new: &BTreeMap<String, Vec<&RawValue>>,
    without: Option<&str>,
    changes: &mut Vec<EntityChange>,
) {
    let change = |id: &str, kind| EntityChange {
        section,
        parent: parent.map(str::to_string),
        id: id.to_string(),
        kind,
    };
    for (id, old_texts) in old {
        match new.get(id) {
            None => changes.push(change(id, ChangeKind::Removed)),
            Some(new_texts) if !same(old_texts, new_texts, without) => {
                changes.push(change(id, ChangeKind::Modified))
            }
            Some(_) => {}
        }
    }
    for id in new.keys() {
        if !old.contains_key(id) {
            changes.push(change(id, ChangeKind::Added));
        }
    }
}
