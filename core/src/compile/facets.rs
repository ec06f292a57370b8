//! The navigation index: per-value product sets in SKU order, numeric columns, the reference
//! prefix table and the product relations (with their diagnostics).

use std::collections::{BTreeMap, BTreeSet};

use ahash::AHashMap;
use rust_decimal::Decimal;
use serde_json::Value;

use super::catalog::{number, CatalogBuild};
use super::{items, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::fold;
use crate::index::search::{
    sorted_bitmap, AttrIndex, Named, NumericIndex, RelationsDef, SearchIndex, ValueColumn,
};
use crate::index::{Id, ProductId, NONE};
use crate::model::{Document, FacetSettings};

/// Order of facet values: numbers ascending, then texts, then booleans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ValueKey {
    Number(Decimal),
    Text(String),
    Bool(bool),
}

impl ValueKey {
    fn of(value: &Value) -> Option<ValueKey> {
        match value {
            Value::Number(n) => number(n).map(|d| ValueKey::Number(d.normalize())),
            Value::String(s) => Some(ValueKey::Text(s.clone())),
            Value::Bool(b) => Some(ValueKey::Bool(*b)),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            ValueKey::Number(d) => d.to_string(),
            ValueKey::Text(s) => s.clone(),
            ValueKey::Bool(b) => b.to_string(),
        }
    }
}

fn elements(value: &Value) -> &[Value] {
    match value {
        Value::Array(list) => list,
        v => std::slice::from_ref(v),
    }
}

pub(crate) fn build(
    doc: &Document,
    settings: Option<&FacetSettings>,
    catalog: &CatalogBuild,
    diags: &mut Diags,
) -> SearchIndex {
    let cat = &catalog.catalog;
    let count = cat.skus.len();
    let mut order: Vec<ProductId> = cat.skus.ids().collect();
    order.sort_by(|&a, &b| cat.skus.get(a).cmp(&cat.skus.get(b)));
    let mut position = vec![NONE; count];
    for (pos, &p) in order.iter().enumerate() {
        if let Some(slot) = position.get_mut(p.index()) {
            *slot = u32::try_from(pos).unwrap_or(NONE);
        }
    }
    let pos_of = |p: ProductId| position.get(p.index()).copied().unwrap_or(NONE);
    let identity = order.iter().enumerate().all(|(i, &p)| i == p.index());

    // Walking positions in order keeps every member list sorted.
    let mut brand_sets = vec![Vec::new(); cat.brands.len()];
    let mut family_sets = vec![Vec::new(); cat.families.len()];
    let mut category_sets = vec![Vec::new(); cat.categories.len()];
    let mut family_at = Vec::with_capacity(count);
    for (pos, &p) in order.iter().enumerate() {
        let pos = u32::try_from(pos).unwrap_or(NONE);
        let brand = cat.brand.get(p).copied().unwrap_or(NONE);
        if let Some(set) = brand_sets.get_mut(brand as usize) {
            set.push(pos);
        }
        let family = cat.family.get(p).copied().unwrap_or(NONE);
        if let Some(set) = family_sets.get_mut(family as usize) {
            set.push(pos);
        }
        family_at.push(family);
        for &c in cat.category_closure.get(p).into_iter().flatten() {
            if let Some(set) = category_sets.get_mut(c as usize) {
                set.push(pos);
            }
        }
    }
    let in_family: Vec<u32> = family_at
        .iter()
        .enumerate()
        .filter(|&(_, &f)| f != NONE)
        .filter_map(|(pos, _)| u32::try_from(pos).ok())
        .collect();
    let mut category_names = vec![Box::<str>::from(""); cat.categories.len()];
    for (name, &id) in &catalog.sel.category_index {
        if let Some(slot) = category_names.get_mut(id as usize) {
            *slot = name.as_str().into();
        }
    }

    let families = named(&cat.families, family_sets, count);
    // Family ids of the catalog are in document order; the index keeps them in name order.
    let family_at = family_at
        .into_iter()
        .map(|f| {
            cat.families
                .get(f as usize)
                .and_then(|name| families.index.get(name))
                .copied()
                .unwrap_or(NONE)
        })
        .collect();
    let mut index = SearchIndex {
        attrs: attributes(settings, catalog, &pos_of, count),
        brands: named(&cat.brands, brand_sets, count),
        categories: named(&category_names, category_sets, count),
        families,
        family_at,
        in_family: sorted_bitmap(&in_family),
        identity,
        ..SearchIndex::default()
    };
    products(doc, catalog, &pos_of, &mut index, diags);
    index.order = order;
    index.position = position;
    index
}

/// Sets in name order, so that counts come out sorted.
fn named(names: &[Box<str>], members: Vec<Vec<u32>>, count: usize) -> Named {
    let mut pairs: Vec<(Box<str>, Vec<u32>)> = names.iter().cloned().zip(members).collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Named::default();
    for (i, (name, set)) in pairs.into_iter().enumerate() {
        out.index
            .insert(name.clone(), u32::try_from(i).unwrap_or(NONE));
        out.names.push(name);
        out.sets.push(sorted_bitmap(&set));
    }
    out.column = ValueColumn::of(&out.sets, count);
    out
}

fn attributes(
    settings: Option<&FacetSettings>,
    catalog: &CatalogBuild,
    pos_of: &dyn Fn(ProductId) -> u32,
    count: usize,
) -> AHashMap<Box<str>, AttrIndex> {
    // The whole document is being compiled: the catalog has its attributes.
    let no_attrs = AHashMap::new();
    let attrs = catalog.attrs.as_ref().unwrap_or(&no_attrs);
    let declared = settings.and_then(|s| s.attributes.as_ref());
    let declared_numeric = settings.and_then(|s| s.numeric.as_ref());
    let indexed: BTreeSet<&str> = match declared {
        Some(list) => list
            .iter()
            .chain(declared_numeric.into_iter().flatten())
            .map(String::as_str)
            .collect(),
        None => attrs.keys().map(String::as_str).collect(),
    };
    let all_numbers = |name: &str| {
        attrs.get(name).is_some_and(|entries| {
            entries
                .iter()
                .all(|(_, v)| !elements(v).is_empty() && elements(v).iter().all(Value::is_number))
        })
    };
    let numeric: BTreeSet<&str> = match declared_numeric {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => indexed.iter().copied().filter(|n| all_numbers(n)).collect(),
    };
    let mut out = AHashMap::new();
    for name in indexed {
        let entries = attrs.get(name).map(Vec::as_slice).unwrap_or_default();
        let mut values: BTreeMap<String, (ValueKey, Vec<u32>)> = BTreeMap::new();
        let mut numbers: BTreeMap<Decimal, Vec<u32>> = BTreeMap::new();
        let mut smallest: Vec<Option<Decimal>> = if numeric.contains(name) {
            vec![None; count]
        } else {
            Vec::new()
        };
        for (product, value) in entries {
            let pos = pos_of(*product);
            for element in elements(value) {
                let Some(key) = ValueKey::of(element) else {
                    continue;
                };
                let entry = values
                    .entry(key.text())
                    .or_insert_with(|| (key.clone(), Vec::new()));
                entry.0 = entry.0.clone().min(key.clone());
                entry.1.push(pos);
                if let (ValueKey::Number(d), Some(slot)) = (&key, smallest.get_mut(pos as usize)) {
                    numbers.entry(*d).or_default().push(pos);
                    *slot = Some(slot.map_or(*d, |s| s.min(*d)));
                }
            }
        }
        let mut ordered: Vec<(ValueKey, String, Vec<u32>)> = values
            .into_iter()
            .map(|(text, (key, set))| (key, text, set))
            .collect();
        ordered.sort_by(|a, b| a.0.cmp(&b.0));
        let mut attr = AttrIndex::default();
        for (i, (_, text, mut set)) in ordered.into_iter().enumerate() {
            set.sort_unstable();
            set.dedup();
            attr.values
                .index
                .insert(text.as_str().into(), u32::try_from(i).unwrap_or(NONE));
            attr.values.names.push(text.into());
            attr.values.sets.push(sorted_bitmap(&set));
        }
        attr.values.column = ValueColumn::of(&attr.values.sets, count);
        if numeric.contains(name) {
            attr.numeric = Some(numeric_index(numbers, &smallest));
        }
        out.insert(name.into(), attr);
    }
    out
}

fn numeric_index(
    numbers: BTreeMap<Decimal, Vec<u32>>,
    smallest: &[Option<Decimal>],
) -> NumericIndex {
    let values = numbers
        .into_iter()
        .map(|(d, mut set)| {
            set.sort_unstable();
            set.dedup();
            (d, sorted_bitmap(&set))
        })
        .collect();
    let mut column: Vec<(Decimal, u32)> = smallest
        .iter()
        .enumerate()
        .filter_map(|(pos, v)| Some(((*v)?, u32::try_from(pos).ok()?)))
        .collect();
    column.sort();
    let mut groups: Vec<(Decimal, u32, u32)> = Vec::new();
    let mut group_at = vec![NONE; smallest.len()];
    for (i, &(value, pos)) in column.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(NONE);
        match groups.last_mut() {
            Some(last) if last.0 == value => last.2 = i + 1,
            _ => groups.push((value, i, i + 1)),
        }
        if let Some(slot) = group_at.get_mut(pos as usize) {
            *slot = u32::try_from(groups.len().saturating_sub(1)).unwrap_or(NONE);
        }
    }
    let mut present: Vec<u32> = column.iter().map(|&(_, p)| p).collect();
    present.sort_unstable();
    NumericIndex {
        values,
        present: sorted_bitmap(&present),
        column,
        groups,
        group_at,
    }
}

/// Axes, reference prefixes and relations, read from the products of the document.
fn products(
    doc: &Document,
    catalog: &CatalogBuild,
    pos_of: &dyn Fn(ProductId) -> u32,
    index: &mut SearchIndex,
    diags: &mut Diags,
) {
    let count = catalog.catalog.skus.len();
    let mut doc_index = vec![usize::MAX; count];
    let mut next = vec![NONE; count];
    // Item errors were reported with the catalog.
    for (i, p) in items(&doc.products, "products", &mut Diags::default()) {
        let Some(&id) = catalog.ids.get(&p.sku) else {
            continue;
        };
        match doc_index.get_mut(id.index()) {
            Some(slot) if *slot == usize::MAX => *slot = i,
            _ => continue,
        }
        let pos = pos_of(id);
        if !p.axes.is_empty() {
            let axes = p
                .axes
                .iter()
                .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
                .collect();
            index.axes.insert(id, axes);
        }
        let mut keys: Vec<Box<str>> = vec![fold(&p.sku)];
        keys.extend(p.mpn.as_deref().map(fold));
        keys.extend(p.refs.iter().map(|r| fold(r)));
        if let Some(ean) = &p.ean {
            keys.push(
                ean.chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .into(),
            );
        }
        keys.sort();
        keys.dedup();
        index
            .prefixes
            .extend(keys.into_iter().filter(|k| !k.is_empty()).map(|k| (k, pos)));
        let Some(relations) = &p.relations else {
            continue;
        };
        let path = format!("products[{i}].relations");
        let resolve = |list: &[String], key: &str, diags: &mut Diags| -> Vec<ProductId> {
            list.iter()
                .enumerate()
                .filter_map(|(k, sku)| {
                    let found = catalog.ids.get(sku).copied();
                    if found.is_none() {
                        diags.error(
                            Code::UnknownReference,
                            &format!("{path}.{key}[{k}]"),
                            format!("unknown product `{sku}`"),
                            &[&p.sku, sku],
                        );
                    }
                    found
                })
                .collect()
        };
        let def = RelationsDef {
            requires: resolve(&relations.requires, "requires", diags),
            accessories: resolve(&relations.accessories, "accessories", diags),
            compatible: resolve(&relations.compatible, "compatible", diags),
            excludes: resolve(&relations.excludes, "excludes", diags),
            replaced_by: relations.replaced_by.as_ref().and_then(|sku| {
                let found = catalog.ids.get(sku).copied();
                if found.is_none() {
                    diags.error(
                        Code::UnknownReference,
                        &format!("{path}.replaced_by"),
                        format!("unknown product `{sku}`"),
                        &[&p.sku, sku],
                    );
                }
                found
            }),
        };
        if let (Some(to), Some(slot)) = (def.replaced_by, next.get_mut(id.index())) {
            *slot = to.raw();
        }
        index.relations.insert(id, def);
    }
    index.prefixes.sort();
    replacement_cycles(catalog, &next, &doc_index, diags);
}

/// Reports each `replaced_by` cycle once, at its member that comes first in the document.
fn replacement_cycles(
    catalog: &CatalogBuild,
    next: &[u32],
    doc_index: &[usize],
    diags: &mut Diags,
) {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; next.len()];
    for start in 0..next.len() {
        let mut path: Vec<usize> = Vec::new();
        let mut at = start;
        while state.get(at) == Some(&NEW) {
            if let Some(s) = state.get_mut(at) {
                *s = ON_PATH;
            }
            path.push(at);
            at = next.get(at).copied().unwrap_or(NONE) as usize;
        }
        if state.get(at) == Some(&ON_PATH) {
            let cycle: Vec<usize> = path.iter().skip_while(|&&p| p != at).copied().collect();
            let first = cycle
                .iter()
                .copied()
                .min_by_key(|&p| doc_index.get(p).copied().unwrap_or(usize::MAX));
            if let Some(first) = first {
                let sku = |p: usize| {
                    ProductId::from_index(p)
                        .and_then(|p| catalog.catalog.skus.get(p))
                        .map_or("", |s| &**s)
                };
                let skus: Vec<&str> = cycle.iter().map(|&p| sku(p)).collect();
                diags.error(
                    Code::ReplacementCycle,
                    &format!(
                        "products[{}].relations.replaced_by",
                        doc_index.get(first).copied().unwrap_or(0)
                    ),
                    format!(
                        "`replaced_by` of `{}` loops: {}",
                        sku(first),
                        skus.join(" → ")
                    ),
                    &skus,
                );
            }
        }
        for p in path {
            if let Some(s) = state.get_mut(p) {
                *s = DONE;
            }
        }
    }
}
