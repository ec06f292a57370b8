//! The sets a search combines: what the account sees, what each filter keeps, their
//! intersection (built or walked), and the facet counts over it.

use std::sync::Arc;

use roaring::{MultiOps, RoaringBitmap};
use smallvec::SmallVec;

use super::cache::{Dimension, Part};
use super::query::{Facet, FacetCounts, FacetValue, Filter, SearchQuery};
use crate::engine::Engine;
use crate::index::search::{dense, sorted_bitmap, Named};
use crate::index::AccountDef;
use crate::instant::Instant;
use crate::model::Capability;

/// A set: from the index, cached, or built for this query.
pub(super) enum Kept<'a> {
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

fn capability_rank(capability: Capability) -> u8 {
    match capability {
        Capability::See => 0,
        Capability::Price => 1,
        Capability::Buy => 2,
    }
}

impl Engine {
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
                let (epoch, _) = self.index.visibility.levels.get(level as usize)?.at(at)?;
                Some((level, u32::try_from(epoch).ok()?))
            })
            .collect();
        let key = (levels, capability_rank(capability));
        self.caches
            .visible
            .get_or_build(key.clone(), || self.combine_levels(&key.0, key.1))
    }

    fn combine_levels(&self, levels: &[(u32, u32)], capability: u8) -> RoaringBitmap {
        let count = u32::try_from(self.index.catalog.skus.len()).unwrap_or(u32::MAX);
        let mut all = RoaringBitmap::new();
        all.insert_range(0..count);
        let decide = |slot: usize| {
            let mut decided = RoaringBitmap::new();
            let mut allowed = RoaringBitmap::new();
            for &(level, epoch) in levels {
                let Some(decision) = self
                    .index
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
            if self.index.settings.default_open {
                allowed |= &all - &decided;
            }
            allowed
        };
        let mut set = decide(0);
        for slot in 1..=usize::from(capability) {
            set &= decide(slot);
        }
        if self.index.search.identity {
            set
        } else {
            let mut positions: Vec<u32> = set
                .iter()
                .filter_map(|p| self.index.search.position.get(p as usize).copied())
                .collect();
            positions.sort_unstable();
            sorted_bitmap(&positions)
        }
    }

    /// What a filter keeps, the union of its members' sets (none: nothing), and its cache key.
    pub(super) fn filter_set(&self, filter: &Filter) -> (Part, Kept<'_>) {
        let (dimension, mut members) = self.filter_members(filter);
        members.sort_unstable_by_key(|&(id, _)| id);
        members.dedup_by_key(|&mut (id, _)| id);
        let part = Part::Members(dimension, members.iter().map(|&(id, _)| id).collect());
        let set = match members.as_slice() {
            [] => Kept::Owned(RoaringBitmap::new()),
            [(_, one)] => Kept::Borrowed(one),
            many => Kept::Shared(
                self.caches
                    .filtered
                    .get_or_build(smallvec::smallvec![part.clone()], || {
                        many.iter().map(|&(_, set)| set).union()
                    }),
            ),
        };
        (part, set)
    }

    /// A filter's dimension and its members (id in that dimension, set), in any order.
    fn filter_members(&self, filter: &Filter) -> (Dimension, Vec<(u32, &RoaringBitmap)>) {
        let index = &self.index.search;
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
            Filter::InStock => (Dimension::InStock, vec![(0, &self.index.stock.in_stock)]),
        }
    }

    /// Positions with a reference starting with the folded `prefix`.
    pub(super) fn prefix_set(&self, prefix: &str) -> RoaringBitmap {
        let keys = &self.index.search.prefixes;
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
    pub(super) fn count_facet(
        &self,
        facet: &Facet,
        base: &RoaringBitmap,
        visible: &RoaringBitmap,
        query: &SearchQuery,
    ) -> FacetCounts {
        let index = &self.index.search;
        let named = match facet {
            Facet::Attr(name) => index.attrs.get(name.as_str()).map(|a| &a.values),
            Facet::Category => Some(&index.categories),
            Facet::Brand => Some(&index.brands),
            Facet::Family => Some(&index.families),
            Facet::InStock => return self.count_in_stock(base, visible, query),
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

    /// The in-stock facet: two values, `false` then `true` (the order of boolean facet values),
    /// listed like any other facet's.
    fn count_in_stock(
        &self,
        base: &RoaringBitmap,
        visible: &RoaringBitmap,
        query: &SearchQuery,
    ) -> FacetCounts {
        let in_stock = &self.index.stock.in_stock;
        let yes = base.intersection_len(in_stock);
        let no = base.len() - yes;
        let selected = query.filters.contains(&Filter::InStock);
        let mut values = Vec::with_capacity(2);
        if no > 0 {
            values.push(FacetValue {
                value: "false".into(),
                count: no,
            });
        }
        if yes > 0 || (selected && !in_stock.is_disjoint(visible)) {
            values.push(FacetValue {
                value: "true".into(),
                count: yes,
            });
        }
        FacetCounts {
            facet: Facet::InStock,
            values,
        }
    }
}

fn named_sets<'a>(named: &'a Named, names: &[String]) -> Vec<(u32, &'a RoaringBitmap)> {
    names.iter().filter_map(|n| named.member(n)).collect()
}

/// The intersection of at least two sets. From a sparse smallest set, smallest first, so that
/// every step runs over little; when even the smallest is dense, largest first, so that the
/// intermediate results stay dense and are AND-ed in place.
pub(super) fn intersect(mut sets: SmallVec<[&RoaringBitmap; 8]>) -> RoaringBitmap {
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
pub(super) enum Found<'a> {
    /// Not built: its count.
    Lazy(Matching<'a>, u64),
    Built(Kept<'a>),
}

/// What a query keeps: `set`, intersected with `then` when there is one (what the filters
/// keep, and what the account sees). Building that intersection extracts every member; the
/// total only needs its count, and a first page only its first members, which a walk over the
/// smaller set finds quickly when the other keeps much of it.
pub(super) struct Matching<'a> {
    set: Kept<'a>,
    then: Option<Kept<'a>>,
}

impl<'a> Matching<'a> {
    pub(super) fn of(set: Kept<'a>) -> Matching<'a> {
        Matching { set, then: None }
    }

    /// The intersection of two sets, the smaller walked.
    pub(super) fn pair(a: Kept<'a>, b: Kept<'a>) -> Matching<'a> {
        let (set, then) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        Matching {
            set,
            then: Some(then),
        }
    }

    /// The total, when walking to the `rows`-th member costs less than building the set: the
    /// walk tests about `rows × |set| / total` members, building extracts all `total`.
    pub(super) fn walk_pays(&self, rows: usize) -> Option<u64> {
        let then = self.then.as_ref()?;
        let total = self.set.intersection_len(then);
        let walk = (rows as u128).saturating_mul(u128::from(self.set.len()));
        (walk <= u128::from(total) * u128::from(total)).then_some(total)
    }

    /// Members from position `from`, ascending.
    pub(super) fn iter_from(&self, from: u32) -> impl Iterator<Item = u32> + '_ {
        let then = self.then.as_deref();
        self.set
            .range(from..)
            .filter(move |&pos| then.is_none_or(|t| t.contains(pos)))
    }

    pub(super) fn build(self) -> Kept<'a> {
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
