//! `search` and `related` by brute force: every product of the document, one by one, with the
//! reference evaluator's visibility, written from docs/spec.md §11 without any index. Answers
//! are in the fixtures' shape (`tests/fixtures/README.md`).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use tarif::document::{Document, Item, Product};
use tarif::money::parse_decimal;
use tarif::{Capability, Facet, Filter, Instant, RelationKind, SearchQuery, Sort};

use crate::Reference;

/// The fixtures' name of a facet: the attribute's name, or `category`, `brand`, `family`,
/// `in_stock`.
pub fn facet_name(facet: &Facet) -> String {
    match facet {
        Facet::Attr(name) => name.clone(),
        Facet::Category => "category".into(),
        Facet::Brand => "brand".into(),
        Facet::Family => "family".into(),
        Facet::InStock => "in_stock".into(),
    }
}

/// A facet value as text, and its place in the value order (numbers, texts, booleans).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Number(Decimal),
    Text(String),
    Bool(bool),
}

impl Key {
    fn of(v: &Value) -> Option<Key> {
        match v {
            Value::Number(n) => parse_decimal(&n.to_string()).map(|d| Key::Number(d.normalize())),
            Value::String(s) => Some(Key::Text(s.clone())),
            Value::Bool(b) => Some(Key::Bool(*b)),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Key::Number(d) => d.to_string(),
            Key::Text(s) => s.clone(),
            Key::Bool(b) => b.to_string(),
        }
    }
}

fn elements(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(list) => list.iter().collect(),
        v => vec![v],
    }
}

fn fold(text: &str) -> String {
    text.trim().to_uppercase()
}

/// The brute force: every product of the document, one by one.
pub struct BruteForce<'a> {
    reference: &'a Reference,
    products: Vec<&'a Product>,
    parents: BTreeMap<&'a str, &'a str>,
    indexed: BTreeSet<String>,
    numeric: BTreeSet<String>,
}

impl<'a> BruteForce<'a> {
    /// Over the reference's document.
    pub fn new(reference: &'a Reference) -> BruteForce<'a> {
        let doc: &Document = reference.document();
        let mut seen = BTreeSet::new();
        let products: Vec<&Product> = doc
            .products
            .iter()
            .filter_map(Item::ok)
            .filter(|p| seen.insert(p.sku.clone()))
            .collect();
        let parents = doc
            .categories
            .iter()
            .filter_map(Item::ok)
            .filter_map(|c| Some((c.id.as_str(), c.parent.as_deref()?)))
            .collect();
        let settings = doc
            .settings
            .as_ref()
            .and_then(Item::ok)
            .and_then(|s| s.facets.clone());
        let names: BTreeSet<String> = products
            .iter()
            .flat_map(|p| p.attrs.keys().cloned())
            .collect();
        let declared = settings.as_ref().and_then(|s| s.attributes.clone());
        let declared_numeric = settings.as_ref().and_then(|s| s.numeric.clone());
        let indexed: BTreeSet<String> = match &declared {
            Some(list) => list
                .iter()
                .chain(declared_numeric.iter().flatten())
                .cloned()
                .collect(),
            None => names.clone(),
        };
        let numeric = match &declared_numeric {
            Some(list) => list.iter().cloned().collect(),
            None => indexed
                .iter()
                .filter(|n| {
                    products.iter().filter_map(|p| p.attrs.get(*n)).all(|v| {
                        !elements(v).is_empty() && elements(v).iter().all(|e| e.is_number())
                    })
                })
                .cloned()
                .collect(),
        };
        BruteForce {
            reference,
            products,
            parents,
            indexed,
            numeric,
        }
    }

    fn allowed(&self, account: &str, p: &Product, capability: Capability, at: Instant) -> bool {
        // An alias of the account could redirect a SKU: visibility is asked by exact SKU, and
        // the generated documents have no aliases that shadow SKUs.
        self.reference
            .visibility(account, &p.sku, at)
            .map(|c| match capability {
                Capability::See => c.see,
                Capability::Price => c.price,
                Capability::Buy => c.buy,
            })
            .unwrap_or(false)
    }

    fn in_category(&self, p: &Product, wanted: &str) -> bool {
        p.categories.iter().any(|c| {
            let mut at = Some(c.as_str());
            let mut guard = 0;
            while let Some(cat) = at {
                if cat == wanted {
                    return true;
                }
                at = self.parents.get(cat).copied();
                guard += 1;
                if guard > 1000 {
                    break;
                }
            }
            false
        })
    }

    fn keys(&self, p: &Product, name: &str) -> Vec<Key> {
        if !self.indexed.contains(name) {
            return Vec::new();
        }
        p.attrs
            .get(name)
            .map(|v| elements(v).into_iter().filter_map(Key::of).collect())
            .unwrap_or_default()
    }

    fn numbers(&self, p: &Product, name: &str) -> Vec<Decimal> {
        if !self.numeric.contains(name) || !self.indexed.contains(name) {
            return Vec::new();
        }
        self.keys(p, name)
            .into_iter()
            .filter_map(|k| match k {
                Key::Number(d) => Some(d),
                _ => None,
            })
            .collect()
    }

    fn passes(&self, p: &Product, filter: &Filter) -> bool {
        let any = |wanted: &[String], have: Option<&String>| {
            have.is_some_and(|h| wanted.iter().any(|w| w == h))
        };
        match filter {
            Filter::Attr { name, any_of } => self.keys(p, name).iter().any(|k| {
                any_of.iter().any(|v| {
                    *v == k.text()
                        || parse_decimal(v).is_some_and(|d| d.normalize().to_string() == k.text())
                })
            }),
            Filter::Range { name, min, max } => self
                .numbers(p, name)
                .iter()
                .any(|d| min.is_none_or(|m| *d >= m) && max.is_none_or(|m| *d <= m)),
            Filter::Category(names) => names.iter().any(|c| self.in_category(p, c)),
            Filter::Brand(names) => any(names, p.brand.as_ref()),
            Filter::Family(names) => any(names, p.family.as_ref()),
            Filter::InStock => self.in_stock(p),
        }
    }

    /// A positive total on hand (§14); a product without a stock record is not in stock.
    fn in_stock(&self, p: &Product) -> bool {
        self.reference
            .stock(&p.sku)
            .is_some_and(|(total, _)| total > Decimal::ZERO)
    }

    fn text_matches(p: &Product, text: &str) -> bool {
        let prefix = fold(text);
        let mut keys = vec![fold(&p.sku)];
        keys.extend(p.mpn.iter().map(|m| fold(m)));
        keys.extend(p.refs.iter().map(|r| fold(r)));
        keys.extend(
            p.ean
                .iter()
                .map(|e| e.chars().filter(char::is_ascii_digit).collect()),
        );
        keys.iter().any(|k| !k.is_empty() && k.starts_with(&prefix))
    }

    fn facet_of(filter: &Filter) -> Facet {
        match filter {
            Filter::Attr { name, .. } | Filter::Range { name, .. } => Facet::Attr(name.clone()),
            Filter::Category(_) => Facet::Category,
            Filter::Brand(_) => Facet::Brand,
            Filter::Family(_) => Facet::Family,
            Filter::InStock => Facet::InStock,
        }
    }

    fn matching(
        &self,
        account: &str,
        query: &SearchQuery,
        at: Instant,
        skip: Option<&Facet>,
    ) -> Vec<&'a Product> {
        self.products
            .iter()
            .copied()
            .filter(|p| self.allowed(account, p, query.capability, at))
            .filter(|p| {
                query
                    .text
                    .as_deref()
                    .is_none_or(|t| Self::text_matches(p, t))
            })
            .filter(|p| {
                query
                    .filters
                    .iter()
                    .filter(|f| Some(&Self::facet_of(f)) != skip)
                    .all(|f| self.passes(p, f))
            })
            .collect()
    }

    /// Sort key: (has no number, number — negated when descending — , SKU).
    fn sort_key(&self, p: &Product, sort: &Sort) -> (bool, Decimal, String) {
        match sort {
            Sort::Sku => (false, Decimal::ZERO, p.sku.clone()),
            Sort::Attr { name, descending } => match self.numbers(p, name).into_iter().min() {
                Some(d) => (false, if *descending { -d } else { d }, p.sku.clone()),
                None => (true, Decimal::ZERO, p.sku.clone()),
            },
        }
    }

    /// Counts over `base`; a value the query selects is listed at zero only when a product the
    /// account may see (`visible`) carries it, so that no zero reveals a hidden product.
    fn counts(
        &self,
        facet: &Facet,
        base: &[&Product],
        visible: &[&Product],
        query: &SearchQuery,
    ) -> Map<String, Value> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut exists: BTreeSet<String> = BTreeSet::new();
        let values = |p: &Product| -> BTreeSet<String> {
            match facet {
                Facet::Attr(name) => self.keys(p, name).iter().map(Key::text).collect(),
                Facet::Brand => p.brand.iter().cloned().collect(),
                Facet::Family => p.family.iter().cloned().collect(),
                Facet::InStock => BTreeSet::from([self.in_stock(p).to_string()]),
                Facet::Category => {
                    let mut out = BTreeSet::new();
                    for c in &p.categories {
                        let mut at = Some(c.as_str());
                        while let Some(cat) = at {
                            if !out.insert(cat.to_string()) {
                                break;
                            }
                            at = self.parents.get(cat).copied();
                        }
                    }
                    out
                }
            }
        };
        for p in visible {
            exists.extend(values(p));
        }
        for p in base {
            for v in values(p) {
                *counts.entry(v).or_default() += 1;
            }
        }
        for f in &query.filters {
            let selected = match (f, facet) {
                (Filter::Attr { name, any_of }, Facet::Attr(n)) if name == n => any_of.clone(),
                (Filter::Category(v), Facet::Category)
                | (Filter::Brand(v), Facet::Brand)
                | (Filter::Family(v), Facet::Family) => v.clone(),
                (Filter::InStock, Facet::InStock) => vec!["true".to_string()],
                _ => Vec::new(),
            };
            for v in selected.into_iter().filter(|v| exists.contains(v)) {
                counts.entry(v).or_default();
            }
        }
        counts.into_iter().map(|(k, v)| (k, json!(v))).collect()
    }

    /// The answer the engine gives (`tarif_conformance::search::engine_search`), by scanning
    /// (`walk` = the whole order).
    pub fn search(&self, account: &str, query: &SearchQuery, at: Instant, walk: bool) -> Value {
        if !self.reference.has_account(account) {
            return json!({ "error": "UNKNOWN_ACCOUNT" });
        }
        let mut matching = self.matching(account, query, at, None);
        matching.sort_by_cached_key(|p| self.sort_key(p, &query.sort));
        let rows: Vec<(&Product, Vec<&Product>)> = if query.group_variants {
            let mut seen = BTreeSet::new();
            matching
                .iter()
                .filter(|p| p.family.as_ref().is_none_or(|f| seen.insert(f.clone())))
                .map(|p| {
                    let mut variants: Vec<&Product> = match &p.family {
                        Some(f) => matching
                            .iter()
                            .copied()
                            .filter(|v| v.family.as_ref() == Some(f))
                            .collect(),
                        None => vec![*p],
                    };
                    variants.sort_by(|a, b| a.sku.cmp(&b.sku));
                    (*p, variants)
                })
                .collect()
        } else {
            matching.iter().map(|p| (*p, Vec::new())).collect()
        };
        let mut facets = Map::new();
        for facet in &query.facets {
            let own = query.filters.iter().any(|f| Self::facet_of(f) == *facet);
            let base = if own {
                self.matching(account, query, at, Some(facet))
            } else {
                matching.clone()
            };
            let visible: Vec<&Product> = self
                .products
                .iter()
                .copied()
                .filter(|p| self.allowed(account, p, query.capability, at))
                .collect();
            facets.insert(
                facet_name(facet),
                Value::Object(self.counts(facet, &base, &visible, query)),
            );
        }
        let page: Vec<&(&Product, Vec<&Product>)> =
            rows.iter().skip(query.offset).take(query.limit).collect();
        let mut answer = Map::new();
        answer.insert("total".into(), json!(rows.len()));
        answer.insert(
            "skus".into(),
            json!(page.iter().map(|(p, _)| p.sku.clone()).collect::<Vec<_>>()),
        );
        answer.insert("facets".into(), Value::Object(facets));
        if query.group_variants {
            answer.insert(
                "variants".into(),
                json!(page
                    .iter()
                    .map(|(_, v)| v.iter().map(|p| p.sku.clone()).collect::<Vec<_>>())
                    .collect::<Vec<_>>()),
            );
        }
        if let Some(qty) = query.price_qty {
            answer.insert(
                "prices".into(),
                json!(page
                    .iter()
                    .map(|(p, _)| {
                        match self.reference.quote(
                            account,
                            &p.sku,
                            qty,
                            at,
                            query.currency.as_deref(),
                        ) {
                            Ok(q) => q.unit_price.to_string(),
                            Err(code) => code.to_string(),
                        }
                    })
                    .collect::<Vec<_>>()),
            );
        }
        if walk {
            answer.insert(
                "walk".into(),
                json!(rows.iter().map(|(p, _)| p.sku.clone()).collect::<Vec<_>>()),
            );
        }
        Value::Object(answer)
    }

    /// `related` by following the document's relations.
    pub fn related(
        &self,
        account: &str,
        reference: &str,
        kind: RelationKind,
        at: Instant,
    ) -> Value {
        if !self.reference.has_account(account) {
            return json!({ "error": "UNKNOWN_ACCOUNT" });
        }
        let sku = match self.reference.lookup(account, reference, at) {
            Ok(sku) => sku,
            Err(code) => return json!({ "error": code }),
        };
        let product = |sku: &str| self.products.iter().copied().find(|p| p.sku == sku);
        let Some(relations) = product(&sku).and_then(|p| p.relations.as_ref()) else {
            return json!({ "skus": [] });
        };
        let list = match kind {
            RelationKind::Requires => &relations.requires,
            RelationKind::Accessories => &relations.accessories,
            RelationKind::Compatible => &relations.compatible,
            RelationKind::Excludes => &relations.excludes,
            RelationKind::Replacement => {
                let mut next = relations.replaced_by.clone();
                let mut steps = 0;
                while let Some(s) = next {
                    let Some(p) = product(&s) else { break };
                    if self.allowed(account, p, Capability::Buy, at) {
                        return json!({ "skus": [s] });
                    }
                    next = p.relations.as_ref().and_then(|r| r.replaced_by.clone());
                    steps += 1;
                    if steps > self.products.len() {
                        break;
                    }
                }
                return json!({ "skus": [] });
            }
        };
        let mut out: Vec<String> = Vec::new();
        for s in list {
            if let Some(p) = product(s) {
                if self.allowed(account, p, Capability::See, at) && !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        json!({ "skus": out })
    }
}
