//! Paging: the order of a sort over positions, where a cursor resumes, and the rows of a page.

use std::cmp::Ordering;

use roaring::RoaringBitmap;
use rust_decimal::Decimal;

use super::query::{Cursor, CursorKey, RowPrice, SearchQuery, SearchRow, Sort, Variant};
use crate::engine::batch::BatchAt;
use crate::engine::Engine;
use crate::error::QueryError;
use crate::error::Status;
use crate::index::search::NumericIndex;
use crate::index::{AccountDef, CurrencyId, Id, ProductId, NONE};
use crate::instant::Instant;

impl Engine {
    /// One page of family rows: a family appears once, at its first matching variant.
    pub(super) fn family_page(
        &self,
        order: &Order<'_>,
        matching: &RoaringBitmap,
        cursor: Option<Resume>,
        query: &SearchQuery,
    ) -> (Vec<u32>, u64, Option<Cursor>) {
        let index = &self.index.search;
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
    pub(super) fn page(
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
    pub(super) fn leads_family(
        &self,
        order: &Order<'_>,
        matching: &RoaringBitmap,
        pos: u32,
    ) -> bool {
        let index = &self.index.search;
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

    pub(super) fn rows(
        &self,
        account: &AccountDef,
        positions: &[u32],
        grouped: Option<&RoaringBitmap>,
        query: &SearchQuery,
        at: Instant,
    ) -> Result<Vec<SearchRow>, QueryError> {
        let index = &self.index.search;
        let product_at = |pos: u32| {
            index
                .order
                .get(pos as usize)
                .copied()
                .unwrap_or(ProductId::ABSENT)
        };
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
                                    .and_then(|&c| CurrencyId::from_index(usize::from(c)))
                                    .and_then(|c| self.index.currencies.get(c))
                                    .map(|c| c.code.to_string())
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
                        .index
                        .catalog
                        .names
                        .get(p)
                        .and_then(|n| n.as_deref())
                        .map(str::to_string),
                    brand: name(&self.index.catalog.brands, self.index.catalog.brand.get(p)),
                    family: name(
                        &self.index.catalog.families,
                        self.index.catalog.family.get(p),
                    ),
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

/// Where a walk resumes: a start in the numeric groups (or the value-less tail), and the
/// first position (SKU) to take inside that group.
#[derive(Debug, Clone, Copy)]
pub(super) struct Resume {
    /// Index in walk order of the group to start in; `groups` = the value-less tail.
    pub(super) group: usize,
    pub(super) from: u32,
}

/// The order of a sort, over positions.
pub(super) enum Order<'a> {
    Sku,
    Numeric {
        index: &'a NumericIndex,
        descending: bool,
    },
    /// Sorting by an attribute without numbers: every product is in the value-less tail.
    Tail,
}

impl<'a> Order<'a> {
    pub(super) fn new(engine: &'a Engine, sort: &Sort) -> Order<'a> {
        match sort {
            Sort::Sku => Order::Sku,
            Sort::Attr { name, descending } => {
                match engine
                    .index
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

    pub(super) fn groups(&self) -> usize {
        match self {
            Order::Numeric { index, .. } => index.groups.len(),
            _ => 0,
        }
    }

    /// The group at walk index `i` (groups reversed when descending).
    pub(super) fn group(&self, i: usize) -> Option<&(Decimal, u32, u32)> {
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
    pub(super) fn group_of(&self, pos: u32) -> usize {
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
    pub(super) fn rank(&self, pos: u32) -> (usize, u32) {
        (self.group_of(pos), pos)
    }

    pub(super) fn key(&self, engine: &Engine, pos: u32) -> CursorKey {
        let sku: Box<str> = engine
            .index
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
    pub(super) fn resume(&self, engine: &Engine, key: &CursorKey) -> Resume {
        let skus = &engine.index.search.order;
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
    pub(super) fn walk<'b>(
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
