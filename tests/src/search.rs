//! `search` and `related` for the fixtures: the query format, the engine's answers, and a
//! brute-force evaluation over the document with the reference evaluator's visibility, written
//! from docs/spec.md §11 without any index.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use tarif::model::{Capability, Document, Item, Product};
use tarif::money::parse_decimal;
use tarif::reference::Reference;
use tarif::{Cursor, Facet, Filter, Instant, RelationKind, SearchQuery, Sort};

/// Reads a fixture query (format in `fixtures/README.md`).
pub fn parse_query(value: &Value) -> Result<SearchQuery, String> {
    let mut q = SearchQuery::new();
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| match s {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect()
    };
    let decimal = |v: Option<&Value>| -> Result<Option<Decimal>, String> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_decimal(s).map(Some).ok_or(format!("bad decimal {s}")),
            Some(Value::Number(n)) => parse_decimal(&n.to_string())
                .map(Some)
                .ok_or(format!("bad decimal {n}")),
            Some(other) => Err(format!("bad decimal {other}")),
        }
    };
    for f in value
        .get("filters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let filter = if let Some(name) = f.get("attr").and_then(Value::as_str) {
            if f.get("any_of").is_some() {
                Filter::any_of(name, strings(f.get("any_of")))
            } else {
                Filter::range(name, decimal(f.get("min"))?, decimal(f.get("max"))?)
            }
        } else if f.get("category").is_some() {
            Filter::Category(strings(f.get("category")))
        } else if f.get("brand").is_some() {
            Filter::Brand(strings(f.get("brand")))
        } else if f.get("family").is_some() {
            Filter::Family(strings(f.get("family")))
        } else {
            return Err(format!("unknown filter {f}"));
        };
        q = q.filter(filter);
    }
    if let Some(text) = value.get("text").and_then(Value::as_str) {
        q = q.text(text);
    }
    q = q.capability(match value.get("capability").and_then(Value::as_str) {
        None => Capability::See,
        Some(name) => name.parse().map_err(|e| format!("{e}"))?,
    });
    match value.get("sort") {
        None => {}
        Some(Value::String(s)) if s == "sku" => {}
        Some(sort) => {
            let name = sort
                .get("attr")
                .and_then(Value::as_str)
                .ok_or(format!("bad sort {sort}"))?;
            q = q.sort(Sort::Attr {
                name: name.into(),
                descending: sort.get("descending").and_then(Value::as_bool) == Some(true),
            });
        }
    }
    let number = |key: &str, default: usize| {
        value
            .get(key)
            .and_then(Value::as_u64)
            .map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
    };
    q = q.page(number("offset", 0), number("limit", 20));
    if let Some(cursor) = value.get("cursor").and_then(Value::as_str) {
        q = q.after(cursor.parse::<Cursor>().map_err(|e| e.to_string())?);
    }
    for f in value
        .get("facets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        q = q.facet(match f {
            Value::String(s) if s == "brand" => Facet::Brand,
            Value::String(s) if s == "category" => Facet::Category,
            Value::String(s) if s == "family" => Facet::Family,
            other => Facet::attr(
                other
                    .get("attr")
                    .and_then(Value::as_str)
                    .ok_or(format!("bad facet {other}"))?,
            ),
        });
    }
    q = q.group_variants(value.get("group_variants").and_then(Value::as_bool) == Some(true));
    if let Some(prices) = value.get("prices") {
        q.price_qty = decimal(prices.get("qty"))?;
        q.currency = prices
            .get("currency")
            .and_then(Value::as_str)
            .map(String::from);
    }
    Ok(q)
}

/// The fixture name of a relation kind.
pub fn relation_kind(name: &str) -> Option<RelationKind> {
    name.parse().ok()
}

fn facet_name(facet: &Facet) -> String {
    match facet {
        Facet::Attr(name) => name.clone(),
        Facet::Category => "category".into(),
        Facet::Brand => "brand".into(),
        Facet::Family => "family".into(),
    }
}

/// The engine's answer: `{"total", "skus", "facets", "variants"?, "prices"?, "walk"?}`.
/// `walk` pages through the whole result with cursors, `walk` rows at a time.
pub fn engine_search(
    engine: &tarif::Engine,
    account: &str,
    query: &SearchQuery,
    at: Instant,
    walk: Option<usize>,
) -> Value {
    let page = match engine.search(account, query, Some(at)) {
        Ok(page) => page,
        Err(e) => return json!({ "error": e.code() }),
    };
    let mut facets = Map::new();
    for counts in &page.facets {
        let values: Map<String, Value> = counts
            .values
            .iter()
            .map(|v| (v.value.clone(), json!(v.count)))
            .collect();
        facets.insert(facet_name(&counts.facet), Value::Object(values));
    }
    let mut answer = json!({
        "total": page.total,
        "skus": page.rows.iter().map(|r| r.sku.clone()).collect::<Vec<_>>(),
        "facets": facets,
    });
    if query.group_variants {
        answer["variants"] = json!(page
            .rows
            .iter()
            .map(|r| r.variants.iter().map(|v| v.sku.clone()).collect::<Vec<_>>())
            .collect::<Vec<_>>());
    }
    if query.price_qty.is_some() {
        answer["prices"] = json!(page
            .rows
            .iter()
            .map(|r| match &r.price {
                Some(p) if p.status == tarif::Status::Ok => p.unit_price.to_string(),
                Some(p) => p.status.code().to_string(),
                None => String::new(),
            })
            .collect::<Vec<_>>());
    }
    if let Some(size) = walk {
        let base = query.clone().page(0, size);
        let mut all = Vec::new();
        let mut q = base.clone();
        while let Ok(page) = engine.search(account, &q, Some(at)) {
            all.extend(page.rows.into_iter().map(|r| r.sku));
            match page.next {
                Some(c) => q = base.clone().after(c),
                None => break,
            }
        }
        answer["walk"] = json!(all);
    }
    answer
}

/// The engine's `related` answer: `{"skus"}` or `{"error"}`.
pub fn engine_related(
    engine: &tarif::Engine,
    account: &str,
    reference: &str,
    kind: RelationKind,
    at: Instant,
) -> Value {
    match engine.related(account, reference, kind, Some(at)) {
        Ok(list) => json!({ "skus": list.into_iter().map(|r| r.sku).collect::<Vec<_>>() }),
        Err(e) => json!({ "error": e.code() }),
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
        }
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

    fn counts(&self, facet: &Facet, base: &[&Product], query: &SearchQuery) -> Map<String, Value> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut exists: BTreeSet<String> = BTreeSet::new();
        let values = |p: &Product| -> BTreeSet<String> {
            match facet {
                Facet::Attr(name) => self.keys(p, name).iter().map(Key::text).collect(),
                Facet::Brand => p.brand.iter().cloned().collect(),
                Facet::Family => p.family.iter().cloned().collect(),
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
        for p in &self.products {
            exists.extend(values(p));
        }
        if *facet == Facet::Category {
            let doc = self.reference.document();
            exists.extend(
                doc.categories
                    .iter()
                    .filter_map(Item::ok)
                    .map(|c| c.id.clone()),
            );
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
                _ => Vec::new(),
            };
            for v in selected.into_iter().filter(|v| exists.contains(v)) {
                counts.entry(v).or_default();
            }
        }
        counts.into_iter().map(|(k, v)| (k, json!(v))).collect()
    }

    /// The same answer as [`engine_search`], by scanning (`walk` = the whole order).
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
            facets.insert(
                facet_name(facet),
                Value::Object(self.counts(facet, &base, query)),
            );
        }
        let page: Vec<&(&Product, Vec<&Product>)> =
            rows.iter().skip(query.offset).take(query.limit).collect();
        let mut answer = json!({
            "total": rows.len(),
            "skus": page.iter().map(|(p, _)| p.sku.clone()).collect::<Vec<_>>(),
            "facets": facets,
        });
        if query.group_variants {
            answer["variants"] = json!(page
                .iter()
                .map(|(_, v)| v.iter().map(|p| p.sku.clone()).collect::<Vec<_>>())
                .collect::<Vec<_>>());
        }
        if let Some(qty) = query.price_qty {
            answer["prices"] = json!(page
                .iter()
                .map(|(p, _)| {
                    match self
                        .reference
                        .quote(account, &p.sku, qty, at, query.currency.as_deref())
                    {
                        Ok(q) => q.unit_price.to_string(),
                        Err(code) => code.to_string(),
                    }
                })
                .collect::<Vec<_>>());
        }
        if walk {
            answer["walk"] = json!(rows.iter().map(|(p, _)| p.sku.clone()).collect::<Vec<_>>());
        }
        answer
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
