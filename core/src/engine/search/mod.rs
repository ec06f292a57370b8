//! `search` and `related`: a customer's own catalog, filtered, counted, paged (docs/spec.md §11).
//!
//! Every bitmap here is in **position space**: position `i` is the `i`-th product in SKU byte
//! order. Iterating a result bitmap therefore yields rows already sorted by SKU, and a page is
//! the first `limit` members from a start position, without sorting anything at query time.

mod cache;
mod paging;
mod query;
mod sets;
#[cfg(test)]
mod tests;

use smallvec::SmallVec;

pub(crate) use cache::Caches;
pub use query::{
    Cursor, Facet, FacetCounts, FacetValue, Filter, InvalidCursor, RelatedProduct, RelationKind,
    RowPrice, SearchPage, SearchQuery, SearchRow, Sort, Variant,
};

use super::Engine;
use crate::error::QueryError;
use crate::index::{fold, ProductId};
use crate::instant::Instant;
use cache::{FilterKey, Part};
use paging::Order;
use sets::{intersect, Found, Kept, Matching};

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
                let prefix = fold(t);
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
                    Kept::Shared(self.caches.filtered.get_or_build(key, || {
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
        let Some(links) = self.index.search.relations.get(&product) else {
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
                for _ in 0..self.index.catalog.skus.len() {
                    let Some(p) = next else { break };
                    if self.capabilities(def, p, at).buy {
                        return Ok(vec![related(p)]);
                    }
                    next = self
                        .index
                        .search
                        .relations
                        .get(&p)
                        .and_then(|l| l.replaced_by);
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
}
