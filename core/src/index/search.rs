//! The navigation index: per-value product sets in **position space** (position `i` is the
//! `i`-th product in SKU byte order), numeric sort columns, the reference prefix table and the
//! product relations.

use ahash::AHashMap;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::compact;
use super::ids::{ProductId, NONE};

/// The compiled navigation index.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct SearchIndex {
    /// Position → product.
    pub order: Vec<ProductId>,
    /// Product → position.
    pub position: Vec<u32>,
    /// Whether positions are product ids (the document lists products in SKU order).
    pub identity: bool,
    pub attrs: AHashMap<Box<str>, AttrIndex>,
    pub brands: Named,
    pub categories: Named,
    pub families: Named,
    /// Position → family (`NONE` without).
    pub family_at: Vec<u32>,
    /// Positions of products that have a family.
    pub in_family: RoaringBitmap,
    /// Product → its axes.
    pub axes: AHashMap<ProductId, Axes>,
    /// Folded references with their position, sorted: a prefix is a contiguous range.
    pub prefixes: Vec<(Box<str>, u32)>,
    pub relations: AHashMap<ProductId, RelationsDef>,
}

/// Scanning the column costs one read per matching product and value; counting with the sets
/// costs, per value and bitmap container of the base, an AND of 1,024 words, about as much as
/// this many reads.
const READS_PER_CONTAINER_OP: u64 = 128;

/// A variant's axes, by axis name.
pub(crate) type Axes = Vec<(Box<str>, Box<str>)>;

/// Names with their product sets, in name order for counting.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Named {
    pub names: Vec<Box<str>>,
    pub sets: Vec<RoaringBitmap>,
    pub index: AHashMap<Box<str>, u32>,
    /// The same membership by position, to count a small matching set value by value.
    pub column: ValueColumn,
}

/// The transpose of a [`Named`]'s sets: each position's value ids, ascending. Counting a facet
/// over a few thousand matching products reads their ids, where intersecting every value's set
/// would cost one container operation per value and chunk of the catalog.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) enum ValueColumn {
    /// Not built (ids would not fit in `u32`): facets are counted with the sets alone.
    #[default]
    Absent,
    /// At most one value per position (`NONE` without).
    Single(Vec<u32>),
    /// The ids of position `p` are `ids[starts[p]..starts[p + 1]]`.
    Lists { starts: Vec<u32>, ids: Vec<u32> },
}

impl ValueColumn {
    /// The column of `sets` over `positions` positions.
    pub(crate) fn of(sets: &[RoaringBitmap], positions: usize) -> ValueColumn {
        let mut per = vec![0u32; positions];
        for set in sets {
            for pos in set {
                if let Some(n) = per.get_mut(pos as usize) {
                    *n = n.saturating_add(1);
                }
            }
        }
        let ids_of = || {
            sets.iter()
                .enumerate()
                .map(|(id, set)| (u32::try_from(id).unwrap_or(NONE), set))
        };
        if per.iter().all(|&n| n <= 1) {
            let mut single = per;
            single.fill(NONE);
            for (id, set) in ids_of() {
                for pos in set {
                    if let Some(slot) = single.get_mut(pos as usize) {
                        *slot = id;
                    }
                }
            }
            return ValueColumn::Single(single);
        }
        let mut starts = Vec::with_capacity(positions + 1);
        let mut total = 0u32;
        starts.push(0);
        for n in per {
            let Some(sum) = total.checked_add(n) else {
                return ValueColumn::Absent;
            };
            total = sum;
            starts.push(total);
        }
        let mut ids = vec![NONE; total as usize];
        let mut fill = starts.clone();
        for (id, set) in ids_of() {
            for pos in set {
                if let Some(at) = fill.get_mut(pos as usize) {
                    if let Some(slot) = ids.get_mut(*at as usize) {
                        *slot = id;
                    }
                    *at += 1;
                }
            }
        }
        ValueColumn::Lists { starts, ids }
    }

    /// Value ids per position on average, to weigh a scan (0 when absent).
    pub(crate) fn multiplicity(&self) -> u64 {
        match self {
            ValueColumn::Absent => 0,
            ValueColumn::Single(_) => 1,
            ValueColumn::Lists { starts, ids } => {
                (ids.len() as u64).div_ceil(starts.len().max(1) as u64)
            }
        }
    }

    /// Adds each position's values to `counts`.
    pub(crate) fn count(&self, positions: &RoaringBitmap, counts: &mut [u64]) {
        let mut add = |id: u32| {
            if let Some(n) = counts.get_mut(id as usize) {
                *n += 1;
            }
        };
        match self {
            ValueColumn::Absent => {}
            ValueColumn::Single(at) => {
                for pos in positions {
                    add(at.get(pos as usize).copied().unwrap_or(NONE));
                }
            }
            ValueColumn::Lists { starts, ids } => {
                for pos in positions {
                    let pos = pos as usize;
                    let (Some(&start), Some(&end)) = (starts.get(pos), starts.get(pos + 1)) else {
                        continue;
                    };
                    for &id in ids.get(start as usize..end as usize).unwrap_or_default() {
                        add(id);
                    }
                }
            }
        }
    }
}

impl Named {
    /// A name's id and set.
    pub(crate) fn member(&self, name: &str) -> Option<(u32, &RoaringBitmap)> {
        let &id = self.index.get(name)?;
        Some((id, self.sets.get(id as usize)?))
    }

    /// Members of `base` per value id, by whichever of scanning the column or intersecting
    /// the sets costs less.
    pub(crate) fn counts(&self, base: &RoaringBitmap) -> Vec<u64> {
        if self.scans(base) {
            self.counts_by_column(base)
        } else {
            self.counts_by_sets(base)
        }
    }

    /// Whether scanning the column for `base` costs less than intersecting every set: per
    /// value, that probes each member of a sparse base, or ANDs each bitmap container of a
    /// dense one.
    pub(crate) fn scans(&self, base: &RoaringBitmap) -> bool {
        let per_value = if dense(base) {
            chunks(base) * READS_PER_CONTAINER_OP
        } else {
            base.len()
        };
        let scan = base.len().saturating_mul(self.column.multiplicity());
        let intersect = (self.sets.len() as u64).saturating_mul(per_value);
        !matches!(self.column, ValueColumn::Absent) && scan <= intersect
    }

    pub(crate) fn counts_by_sets(&self, base: &RoaringBitmap) -> Vec<u64> {
        self.sets
            .iter()
            .map(|set| base.intersection_len(set))
            .collect()
    }

    pub(crate) fn counts_by_column(&self, base: &RoaringBitmap) -> Vec<u64> {
        let mut counts = vec![0; self.sets.len()];
        self.column.count(base, &mut counts);
        counts
    }
}

/// One filterable attribute: a set per value, and for numeric ones the sort/range column.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AttrIndex {
    /// Values in value order (numbers ascending, texts, booleans), keyed by their text.
    pub values: Named,
    pub numeric: Option<NumericIndex>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct NumericIndex {
    /// Distinct numbers ascending, with the products having that number (any list element).
    #[serde(with = "compact")]
    pub values: Vec<(Decimal, RoaringBitmap)>,
    /// (smallest number, position) sorted: the sort order of products with a number.
    #[serde(with = "compact")]
    pub column: Vec<(Decimal, u32)>,
    /// Ranges of `column` sharing one number, ascending.
    #[serde(with = "compact")]
    pub groups: Vec<(Decimal, u32, u32)>,
    /// Position → index in `groups` (`NONE` without a number).
    pub group_at: Vec<u32>,
    /// Positions that have a number.
    pub present: RoaringBitmap,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct RelationsDef {
    pub requires: Vec<ProductId>,
    pub accessories: Vec<ProductId>,
    pub compatible: Vec<ProductId>,
    pub excludes: Vec<ProductId>,
    pub replaced_by: Option<ProductId>,
}

/// Whether a set is mostly bitmap containers (more than 4,096 members per 65,536 positions it
/// spans), where an intersection is a word-by-word AND but extracting members costs per member.
pub(crate) fn dense(set: &RoaringBitmap) -> bool {
    set.len() > chunks(set) * 4096
}

/// The chunks of 65,536 positions a set spans.
pub(crate) fn chunks(set: &RoaringBitmap) -> u64 {
    match (set.min(), set.max()) {
        (Some(min), Some(max)) => u64::from((max >> 16) - (min >> 16)) + 1,
        _ => 0,
    }
}

/// A bitmap from positions already sorted and unique.
pub(crate) fn sorted_bitmap(sorted: &[u32]) -> RoaringBitmap {
    let mut out = RoaringBitmap::new();
    if out.append(sorted.iter().copied()).is_err() {
        out.extend(sorted.iter().copied());
    }
    out
}
