//! Products, the category tree and product selectors (each compiled once into a bitmap).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ahash::AHashMap;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use serde_json::Value;
use smallvec::SmallVec;

use super::earlier::InOrder;
use super::hierarchy::{self, Depth};
use super::values::At;
use super::{items, values, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::catalog::{Products, Selectables};
use crate::index::Id;
use crate::index::{
    Catalog, CategoryDef, IdVec, OrderRule, ProductId, RefIndex, SelectorDef, SelectorId,
    SelectorKey, Spec, NONE,
};
use crate::model::{AttrCondition, Document, Selector};
use crate::money::parse_decimal;

/// The catalog built, with the lookup tables later phases resolve names through.
pub(crate) struct CatalogBuild {
    pub catalog: Catalog,
    /// Products by SKU; empty in a compile of contracts or price lists alone, which finds
    /// them in `refs`.
    pub ids: AHashMap<String, ProductId>,
    pub sel: Arc<Selectables>,
    /// Attribute name → (product, value), for attribute selectors; `None` in a compile of
    /// contracts alone.
    pub attrs: Option<AHashMap<String, Vec<(ProductId, Value)>>>,
    /// An attribute selector was met without the attributes: the whole document must be
    /// compiled.
    pub needs_attrs: bool,
    /// The compiled reference maps, in a compile of contracts or price lists alone.
    refs: Option<Arc<RefIndex>>,
    /// The product tried first when `refs` finds products: the one after the last found (a
    /// price list usually lists products in catalog order, and a SKU compare costs less than a
    /// probe of a map of a million products).
    next: AtomicUsize,
    /// The selectors interned so far, by the hash of their text.
    selector_cache: AHashMap<[u8; 32], SelectorId>,
    /// The selectors of the compile a change of contracts or price lists comes from, by the
    /// hash of their text: over the same products, they are taken as they were.
    earlier: Option<Earlier>,
}

/// The catalog a compile of contracts or price lists alone comes from, and where each of its
/// selectors is found by the hash of its text.
struct Earlier {
    catalog: Arc<Catalog>,
    found: InOrder<[u8; 32]>,
}

/// The catalog while its products are read.
struct Draft {
    products: Products,
    ids: AHashMap<String, ProductId>,
    sel: Selectables,
    attrs: AHashMap<String, Vec<(ProductId, Value)>>,
}

impl CatalogBuild {
    /// The product with this exact SKU.
    pub(crate) fn product_id(&self, sku: &str) -> Option<ProductId> {
        let Some(refs) = &self.refs else {
            return self.ids.get(sku).copied();
        };
        let guess = ProductId::from_index(self.next.load(Ordering::Relaxed));
        let found = match guess {
            Some(p) if self.catalog.skus.get(p).is_some_and(|s| &**s == sku) => Some(p),
            _ => refs.product_of_sku(&self.catalog, sku),
        };
        if let Some(p) = found {
            self.next.store(p.index() + 1, Ordering::Relaxed);
        }
        found
    }

    /// The catalog of a compile of contracts or price lists alone: the products, their
    /// selectable sets and reference maps of a compiled index (`earlier`, whose selectors are
    /// taken again where their text is the same), and no selectors yet.
    pub(crate) fn over(
        earlier: Arc<Catalog>,
        sel: Arc<Selectables>,
        refs: Arc<RefIndex>,
    ) -> CatalogBuild {
        CatalogBuild {
            catalog: Catalog {
                products: Arc::clone(&earlier.products),
                selectors: IdVec::new(),
                selector_hashes: Vec::new(),
            },
            ids: AHashMap::new(),
            sel,
            attrs: None,
            needs_attrs: false,
            refs: Some(refs),
            next: AtomicUsize::new(0),
            selector_cache: AHashMap::new(),
            earlier: Some(Earlier {
                catalog: earlier,
                found: InOrder::default(),
            }),
        }
    }
}

pub(crate) fn build(doc: &Document, diags: &mut Diags) -> CatalogBuild {
    let mut b = Draft {
        products: Products::default(),
        ids: AHashMap::new(),
        sel: Selectables::default(),
        attrs: AHashMap::new(),
    };
    let parents = categories(doc, &mut b, diags);
    products(doc, &mut b, &parents, diags);
    CatalogBuild {
        catalog: Catalog {
            products: Arc::new(b.products),
            selectors: IdVec::new(),
            selector_hashes: Vec::new(),
        },
        ids: b.ids,
        sel: Arc::new(b.sel),
        attrs: Some(b.attrs),
        needs_attrs: false,
        refs: None,
        next: AtomicUsize::new(0),
        selector_cache: AHashMap::new(),
        earlier: None,
    }
}

/// Reads the category tree; returns each category's parent.
fn categories(doc: &Document, b: &mut Draft, diags: &mut Diags) -> Vec<u32> {
    let list = items(&doc.categories, "categories", diags);
    let mut kept = Vec::new();
    for (i, c) in &list {
        let path = format!("categories[{i}].id");
        if !values::id_ok(&c.id, &path, diags) {
            continue;
        }
        if b.sel.category_index.contains_key(&c.id) {
            diags.error(
                Code::DuplicateId,
                &path,
                format!("duplicate category `{}`", c.id),
                &[&c.id],
            );
            continue;
        }
        let id = u32::try_from(b.products.categories.len()).unwrap_or(NONE);
        b.sel.category_index.insert(c.id.clone(), id);
        b.products.categories.push(CategoryDef {
            id: c.id.as_str().into(),
            depth: 0,
        });
        kept.push((*i, *c));
    }
    let mut parents = vec![NONE; b.products.categories.len()];
    for (n, (i, c)) in kept.iter().enumerate() {
        if let Some(parent) = &c.parent {
            match b.sel.category_index.get(parent) {
                Some(&p) => {
                    if let Some(slot) = parents.get_mut(n) {
                        *slot = p;
                    }
                }
                None => diags.error(
                    Code::UnknownReference,
                    &format!("categories[{i}].parent"),
                    format!("unknown parent category `{parent}`"),
                    &[&c.id, parent],
                ),
            }
        }
    }
    let count = parents.len();
    let depths = hierarchy::depths(&parents);
    for (n, depth) in depths.iter().enumerate() {
        let (i, c) = kept
            .get(n)
            .map(|(i, c)| (*i, c.id.as_str()))
            .unwrap_or((0, ""));
        let detach = match *depth {
            Depth::Cyclic => {
                diags.error(
                    Code::HierarchyCycle,
                    &format!("categories[{i}].parent"),
                    format!("category `{c}` is its own ancestor"),
                    &[c],
                );
                true
            }
            Depth::Ancestors(d) if d > hierarchy::MAX_DEPTH => {
                // One error per over-deep branch, at its topmost offender.
                if d == hierarchy::MAX_DEPTH + 1 {
                    diags.error(
                        Code::HierarchyTooDeep,
                        &format!("categories[{i}].parent"),
                        format!(
                            "category `{c}` has {d} ancestors: the category tree is limited to {} levels above a category",
                            hierarchy::MAX_DEPTH
                        ),
                        &[c],
                    );
                }
                true
            }
            Depth::Ancestors(d) => {
                if let Some(def) = b.products.categories.get_mut(n) {
                    def.depth = u16::try_from(d).unwrap_or(u16::MAX);
                }
                false
            }
        };
        // A detached category keeps every later walk up the tree short (the document is
        // rejected, but its other problems are still collected).
        if detach {
            if let Some(p) = parents.get_mut(n) {
                *p = NONE;
            }
        }
    }
    b.sel.category_products = vec![RoaringBitmap::new(); count];
    parents
}

fn intern(
    index: &mut AHashMap<String, u32>,
    names: &mut Vec<Box<str>>,
    sets: &mut Vec<RoaringBitmap>,
    name: &str,
) -> u32 {
    if let Some(&id) = index.get(name) {
        return id;
    }
    let id = u32::try_from(names.len()).unwrap_or(NONE);
    index.insert(name.to_string(), id);
    names.push(name.into());
    sets.push(RoaringBitmap::new());
    id
}

fn products(doc: &Document, b: &mut Draft, parents: &[u32], diags: &mut Diags) {
    let count = doc.products.len();
    b.ids.reserve(count);
    b.products.skus.reserve_exact(count);
    b.products.names.reserve_exact(count);
    b.products.category_closure.reserve_exact(count);
    b.products.family.reserve_exact(count);
    b.products.brand.reserve_exact(count);
    b.products.cost.reserve_exact(count);
    for (i, p) in items(&doc.products, "products", diags) {
        let path = || format!("products[{i}]");
        if !values::id_ok(&p.sku, || format!("{}.sku", path()), diags) {
            continue;
        }
        if b.ids.contains_key(&p.sku) {
            diags.error(
                Code::DuplicateId,
                &format!("{}.sku", path()),
                format!("duplicate sku `{}`", p.sku),
                &[&p.sku],
            );
            continue;
        }
        let Some(id) = b.products.skus.push(p.sku.as_str().into()) else {
            continue;
        };
        b.ids.insert(p.sku.clone(), id);
        b.products.names.push(p.name.as_deref().map(Into::into));
        let mut closure: SmallVec<[u32; 4]> = SmallVec::new();
        for (k, c) in p.categories.iter().enumerate() {
            match b.sel.category_index.get(c) {
                Some(&cat) => {
                    let mut at = cat;
                    let mut guard = 0;
                    while at != NONE && guard <= parents.len() {
                        if !closure.contains(&at) {
                            closure.push(at);
                        }
                        if let Some(set) = b.sel.category_products.get_mut(at as usize) {
                            set.insert(id.raw());
                        }
                        at = parents.get(at as usize).copied().unwrap_or(NONE);
                        guard += 1;
                    }
                }
                None => diags.error(
                    Code::UnknownReference,
                    &format!("{}.categories[{k}]", path()),
                    format!("unknown category `{c}`"),
                    &[&p.sku, c],
                ),
            }
        }
        b.products.category_closure.push(closure);
        let family = match &p.family {
            Some(f) => {
                let fid = intern(
                    &mut b.sel.family_index,
                    &mut b.products.families,
                    &mut b.sel.family_products,
                    f,
                );
                if let Some(set) = b.sel.family_products.get_mut(fid as usize) {
                    set.insert(id.raw());
                }
                fid
            }
            None => NONE,
        };
        b.products.family.push(family);
        let brand = match &p.brand {
            Some(name) => {
                let bid = intern(
                    &mut b.sel.brand_index,
                    &mut b.products.brands,
                    &mut b.sel.brand_products,
                    name,
                );
                if let Some(set) = b.sel.brand_products.get_mut(bid as usize) {
                    set.insert(id.raw());
                }
                bid
            }
            None => NONE,
        };
        b.products.brand.push(brand);
        let cost = p
            .cost
            .as_deref()
            .and_then(|c| values::non_negative(c, || format!("{}.cost", path()), diags));
        b.products.cost.push(cost);
        if let Some(order) = &p.order {
            let min = order
                .min
                .as_ref()
                .and_then(|q| values::quantity(q, || format!("{}.order.min", path()), diags));
            let multiple = order
                .multiple
                .as_ref()
                .and_then(|q| values::quantity(q, || format!("{}.order.multiple", path()), diags));
            if min.is_some() || multiple.is_some() {
                b.products.order.insert(id, OrderRule { min, multiple });
            }
        }
        for (key, value) in &p.attrs {
            if !attr_value_ok(value) {
                diags.error(
                    Code::InvalidType,
                    &format!("{}.attrs.{key}", path()),
                    format!("attribute `{key}` must be a string, number, boolean or a list of them, found `{value}`"),
                    &[&p.sku],
                );
                continue;
            }
            b.attrs
                .entry(key.clone())
                .or_default()
                .push((id, value.clone()));
        }
    }
}

fn attr_value_ok(value: &Value) -> bool {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
        Value::Array(items) => items
            .iter()
            .all(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))),
        _ => false,
    }
}

/// Whether an attribute value (or one of its elements) equals the condition's value.
pub(crate) fn attr_equals(actual: &Value, wanted: &Value) -> bool {
    match actual {
        Value::Array(items) => items.iter().any(|a| scalar_equals(a, wanted)),
        a => scalar_equals(a, wanted),
    }
}

fn scalar_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number(x) == number(y) && number(x).is_some(),
        (Value::Number(x), Value::String(y)) | (Value::String(y), Value::Number(x)) => {
            number(x).is_some() && number(x) == parse_decimal(y)
        }
        _ => a == b,
    }
}

/// A JSON number as an exact decimal (through its shortest text form).
pub(crate) fn number(n: &serde_json::Number) -> Option<Decimal> {
    parse_decimal(&n.to_string())
}

/// Whether an attribute value (or one of its elements) is a number within the bounds.
pub(crate) fn attr_in_range(actual: &Value, min: Option<Decimal>, max: Option<Decimal>) -> bool {
    let within = |v: &Value| match v {
        Value::Number(n) => {
            number(n).is_some_and(|d| min.is_none_or(|m| d >= m) && max.is_none_or(|m| d <= m))
        }
        _ => false,
    };
    match actual {
        Value::Array(items) => items.iter().any(within),
        v => within(v),
    }
}

impl CatalogBuild {
    /// Compiles a selector (deduplicated) and returns its index in the selector table.
    pub fn selector(
        &mut self,
        selector: &Selector,
        path: impl At,
        diags: &mut Diags,
    ) -> Option<SelectorId> {
        let key = format!("{selector:?}");
        let hash = *blake3::hash(key.as_bytes()).as_bytes();
        if let Some(&id) = self.selector_cache.get(&hash) {
            return Some(id);
        }
        let kept = self.earlier.as_mut().and_then(|earlier| {
            let at = earlier
                .found
                .find(&earlier.catalog.selector_hashes, &hash)?;
            earlier
                .catalog
                .selectors
                .get(SelectorId::from_index(at)?)
                .cloned()
        });
        let def = match kept {
            Some(def) => def,
            None => {
                let (products, spec, index) = self.resolve(selector, &path.path(), diags)?;
                SelectorDef {
                    products,
                    spec,
                    index,
                }
            }
        };
        self.interned(def, hash)
    }

    /// The selector `earlier` compiled as `id`, interned as [`CatalogBuild::selector`] interns
    /// the text it was compiled from.
    pub fn reintern(&mut self, earlier: &Catalog, id: SelectorId) -> Option<SelectorId> {
        let hash = *earlier.selector_hashes.get(id.index())?;
        if let Some(&id) = self.selector_cache.get(&hash) {
            return Some(id);
        }
        let def = earlier.selectors.get(id)?.clone();
        self.interned(def, hash)
    }

    fn interned(&mut self, def: SelectorDef, hash: [u8; 32]) -> Option<SelectorId> {
        let id = self.catalog.selectors.push(def)?;
        self.catalog.selector_hashes.push(hash);
        self.selector_cache.insert(hash, id);
        Some(id)
    }

    fn resolve(
        &mut self,
        selector: &Selector,
        path: &str,
        diags: &mut Diags,
    ) -> Option<(RoaringBitmap, Spec, SelectorKey)> {
        let plain = |rank: u8| Spec {
            rank,
            depth: 0,
            members: 1,
        };
        Some(match selector {
            Selector::All => {
                let all = RoaringBitmap::from_iter(0..u32::try_from(self.catalog.skus.len()).ok()?);
                (all, plain(1), SelectorKey::Scan)
            }
            Selector::Sku(s) => {
                let id = self.product(s, path, "sku", diags)?;
                (
                    RoaringBitmap::from_iter([id.raw()]),
                    plain(6),
                    SelectorKey::Skus(vec![id]),
                )
            }
            Selector::Skus(list) => {
                let mut ids = Vec::new();
                let mut ok = !list.is_empty();
                for (k, s) in list.iter().enumerate() {
                    match self.product(s, &format!("{path}.skus[{k}]"), "", diags) {
                        Some(id) => ids.push(id),
                        None => ok = false,
                    }
                }
                if list.is_empty() {
                    diags.error(Code::InvalidSelector, path, "`skus` is empty".into(), &[]);
                }
                if !ok {
                    return None;
                }
                ids.sort_unstable();
                ids.dedup();
                (
                    RoaringBitmap::from_iter(ids.iter().map(|p| p.raw())),
                    plain(6),
                    SelectorKey::Skus(ids),
                )
            }
            Selector::Family(f) => match self.sel.family_index.get(f) {
                Some(&fid) => (
                    self.sel
                        .family_products
                        .get(fid as usize)
                        .cloned()
                        .unwrap_or_default(),
                    plain(5),
                    SelectorKey::Family(fid),
                ),
                None => (
                    RoaringBitmap::new(),
                    plain(5),
                    SelectorKey::Skus(Vec::new()),
                ),
            },
            Selector::Category(c) => match self.sel.category_index.get(c) {
                Some(&cid) => {
                    let depth = self
                        .catalog
                        .categories
                        .get(cid as usize)
                        .map(|d| d.depth)
                        .unwrap_or(0);
                    (
                        self.sel
                            .category_products
                            .get(cid as usize)
                            .cloned()
                            .unwrap_or_default(),
                        Spec {
                            rank: 4,
                            depth,
                            members: 1,
                        },
                        SelectorKey::Category(cid),
                    )
                }
                None => {
                    diags.error(
                        Code::UnknownReference,
                        &format!("{path}.category"),
                        format!("unknown category `{c}`"),
                        &[c],
                    );
                    return None;
                }
            },
            Selector::Brand(name) => match self.sel.brand_index.get(name) {
                Some(&bid) => (
                    self.sel
                        .brand_products
                        .get(bid as usize)
                        .cloned()
                        .unwrap_or_default(),
                    plain(2),
                    SelectorKey::Brand(bid),
                ),
                None => (
                    RoaringBitmap::new(),
                    plain(2),
                    SelectorKey::Skus(Vec::new()),
                ),
            },
            Selector::Attr(cond) => (
                self.attr_products(cond, path, diags)?,
                plain(3),
                SelectorKey::Scan,
            ),
            Selector::AllOf(members) => {
                if members.is_empty() {
                    diags.error(Code::InvalidSelector, path, "`all_of` is empty".into(), &[]);
                    return None;
                }
                let mut set: Option<RoaringBitmap> = None;
                let mut spec = Spec::default();
                let mut failed = false;
                for (k, m) in members.iter().enumerate() {
                    match self.resolve(m, &format!("{path}.all_of[{k}]"), diags) {
                        Some((products, member_spec, _)) => {
                            set = Some(match set {
                                Some(s) => s & products,
                                None => products,
                            });
                            if (member_spec.rank, member_spec.depth) > (spec.rank, spec.depth) {
                                spec.rank = member_spec.rank;
                                spec.depth = member_spec.depth;
                            }
                        }
                        None => failed = true,
                    }
                }
                if failed {
                    return None;
                }
                spec.members = u16::try_from(members.len()).unwrap_or(u16::MAX);
                (set.unwrap_or_default(), spec, SelectorKey::Scan)
            }
        })
    }

    fn product(&self, sku: &str, path: &str, key: &str, diags: &mut Diags) -> Option<ProductId> {
        let found = self.product_id(sku);
        if found.is_none() {
            let at = if key.is_empty() {
                path.to_string()
            } else {
                format!("{path}.{key}")
            };
            diags.error(
                Code::UnknownReference,
                &at,
                format!("unknown product `{sku}`"),
                &[sku],
            );
        }
        found
    }

    fn attr_products(
        &mut self,
        cond: &AttrCondition,
        path: &str,
        diags: &mut Diags,
    ) -> Option<RoaringBitmap> {
        let path = format!("{path}.attr");
        let bound = |q: &Option<crate::model::NumText>, key: &str, diags: &mut Diags| match q {
            None => Ok(None),
            Some(t) => match parse_decimal(&t.0) {
                Some(d) => Ok(Some(d)),
                None => {
                    diags.error(
                        Code::InvalidDecimal,
                        &format!("{path}.{key}"),
                        format!("invalid decimal `{}`", t.0),
                        &[],
                    );
                    Err(())
                }
            },
        };
        let min = bound(&cond.min, "min", diags).ok()?;
        let max = bound(&cond.max, "max", diags).ok()?;
        let forms = [
            cond.eq.is_some(),
            cond.any_of.is_some(),
            min.is_some() || max.is_some(),
        ];
        if forms.iter().filter(|f| **f).count() != 1 {
            diags.error(
                Code::InvalidSelector,
                &path,
                format!(
                    "attribute condition on `{}` needs exactly one of `eq`, `in`, or `min`/`max`",
                    cond.key
                ),
                &[&cond.key],
            );
            return None;
        }
        let Some(attrs) = &self.attrs else {
            self.needs_attrs = true;
            return Some(RoaringBitmap::new());
        };
        let column = attrs.get(&cond.key).map(Vec::as_slice).unwrap_or(&[]);
        let matches = |v: &Value| {
            if let Some(eq) = &cond.eq {
                attr_equals(v, eq)
            } else if let Some(any) = &cond.any_of {
                any.iter().any(|w| attr_equals(v, w))
            } else {
                attr_in_range(v, min, max)
            }
        };
        Some(
            column
                .iter()
                .filter(|(_, v)| matches(v))
                .map(|(p, _)| p.raw())
                .collect(),
        )
    }
}
