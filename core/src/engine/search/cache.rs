//! The search caches: sets already combined, kept while they are reused, each cache bounded in
//! bytes so that no stream of distinct queries can grow the engine's memory.
//!
//! They are runtime state of the engine, not part of the compiled index: a reloaded or
//! persisted index starts with empty caches and gives the same answers.

use std::hash::Hash;
use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ahash::AHashMap;
use roaring::RoaringBitmap;
use smallvec::SmallVec;

use crate::index::search::chunks;

/// Bound of the visible-set cache. An entry is at most one bit per product (128 KiB at 1M
/// products), one per distinct (chain levels at their epoch, capability): 64 MiB keeps a few
/// hundred assortments of a million products.
pub(crate) const VISIBLE_CACHE_BYTES: usize = 64 << 20;

/// Bound of the filter cache: the filters a shop's navigation offers repeat, and 32 MiB keeps
/// a few hundred of their sets at 1M products.
pub(crate) const FILTER_CACHE_BYTES: usize = 32 << 20;

/// When a cache is full, its least recently used entries are dropped until it is at most this
/// share (in quarters) of its bound, so that eviction sorts the entries once per many inserts.
const KEPT_QUARTERS: usize = 3;

/// A hash table is at least 7/16 full after it grows, so an entry owns at most 16/7 of a slot
/// of the table; it is charged 3.
const SLOTS_PER_ENTRY: usize = 3;

/// The engine's caches.
#[derive(Debug)]
pub(crate) struct Caches {
    /// Visible sets already combined, by (chain levels with their epoch, capability).
    pub visible: SetCache<VisKey>,
    /// What filters keep, by the filters: unions of the filters with several values, and
    /// intersections of several filters. Visibility is not in them, so accounts with different
    /// assortments share them.
    pub filtered: SetCache<FilterKey>,
}

impl Default for Caches {
    fn default() -> Caches {
        Caches {
            visible: SetCache::new(VISIBLE_CACHE_BYTES),
            filtered: SetCache::new(FILTER_CACHE_BYTES),
        }
    }
}

/// Chain levels with their epoch, and the capability rank.
pub(crate) type VisKey = (SmallVec<[(u32, u32); 4]>, u8);

/// Restrictions, sorted: one with several members (a union), or several (an intersection).
pub(crate) type FilterKey = SmallVec<[Part; 4]>;

/// One restriction of a query, as a cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Part {
    /// Member ids of a dimension, ascending and unique.
    Members(Dimension, SmallVec<[u32; 8]>),
    /// A folded reference prefix.
    Prefix(Box<str>),
}

/// Where a filter's member ids point.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Dimension {
    /// `AttrIndex::values` of the attribute.
    Values(Box<str>),
    /// `NumericIndex::values` of the attribute.
    Numbers(Box<str>),
    Category,
    Brand,
    Family,
    /// The one set of products in stock (member 0).
    InStock,
}

/// A cache key that can tell what it holds on the heap.
pub(crate) trait CacheKey: Eq + Hash + Clone {
    /// Heap bytes owned by the key (its inline size is counted with the table slot).
    fn heap_bytes(&self) -> usize;
}

impl CacheKey for VisKey {
    fn heap_bytes(&self) -> usize {
        spilled_bytes(&self.0)
    }
}

impl CacheKey for FilterKey {
    fn heap_bytes(&self) -> usize {
        spilled_bytes(self) + self.iter().map(Part::heap_bytes).sum::<usize>()
    }
}

impl Part {
    fn heap_bytes(&self) -> usize {
        match self {
            Part::Members(dimension, ids) => dimension.heap_bytes() + spilled_bytes(ids),
            Part::Prefix(prefix) => prefix.len(),
        }
    }
}

impl Dimension {
    fn heap_bytes(&self) -> usize {
        match self {
            Dimension::Values(name) | Dimension::Numbers(name) => name.len(),
            Dimension::Category | Dimension::Brand | Dimension::Family | Dimension::InStock => 0,
        }
    }
}

fn spilled_bytes<A: smallvec::Array>(v: &SmallVec<A>) -> usize {
    if v.spilled() {
        v.capacity() * size_of::<A::Item>()
    } else {
        0
    }
}

/// A map from keys to shared sets, bounded in accounted bytes, least recently used evicted.
///
/// An entry is accounted as its set's heap (its serialized size, plus a container header per
/// 65,536-position chunk it spans, plus the `Arc` block), its key's heap, and
/// [`SLOTS_PER_ENTRY`] table slots. `bytes()` never exceeds the bound; a set larger than the
/// bound on its own is returned without being kept.
#[derive(Debug)]
pub(crate) struct SetCache<K> {
    limit: usize,
    clock: AtomicU64,
    entries: RwLock<Entries<K>>,
}

#[derive(Debug)]
struct Entries<K> {
    map: AHashMap<K, Cached>,
    bytes: usize,
}

/// A cache entry, its accounted size and when it was last used.
#[derive(Debug)]
struct Cached {
    set: Arc<RoaringBitmap>,
    used: AtomicU64,
    bytes: usize,
}

impl<K: CacheKey> SetCache<K> {
    /// An empty cache holding at most `limit` accounted bytes.
    pub(crate) fn new(limit: usize) -> SetCache<K> {
        SetCache {
            limit,
            clock: AtomicU64::new(0),
            entries: RwLock::new(Entries {
                map: AHashMap::new(),
                bytes: 0,
            }),
        }
    }

    /// The set for `key`, built and kept on a miss.
    pub(crate) fn get_or_build(
        &self,
        key: K,
        build: impl FnOnce() -> RoaringBitmap,
    ) -> Arc<RoaringBitmap> {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let hit = self.entries.read().ok().and_then(|entries| {
            let entry = entries.map.get(&key)?;
            entry.used.store(now, Ordering::Relaxed);
            Some(Arc::clone(&entry.set))
        });
        if let Some(set) = hit {
            return set;
        }
        let set = Arc::new(build());
        let bytes = entry_bytes(&key, &set);
        if bytes > self.limit {
            return set;
        }
        if let Ok(mut entries) = self.entries.write() {
            // Another thread may have built the same set meanwhile: keep the first.
            if entries.map.contains_key(&key) {
                return set;
            }
            if entries.bytes + bytes > self.limit {
                entries.evict((self.limit - bytes) / 4 * KEPT_QUARTERS);
            }
            entries.bytes += bytes;
            entries.map.insert(
                key,
                Cached {
                    set: Arc::clone(&set),
                    used: AtomicU64::new(now),
                    bytes,
                },
            );
        }
        set
    }

    /// Accounted bytes of the entries kept.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.entries.read().map_or(0, |entries| entries.bytes)
    }

    /// Entries kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().map_or(0, |entries| entries.map.len())
    }
}

impl<K: CacheKey> Entries<K> {
    /// Drops the least recently used entries until at most `target` bytes are kept.
    fn evict(&mut self, target: usize) {
        let mut by_use: Vec<(u64, &K)> = self
            .map
            .iter()
            .map(|(key, entry)| (entry.used.load(Ordering::Relaxed), key))
            .collect();
        by_use.sort_unstable_by_key(|&(used, _)| used);
        let mut bytes = self.bytes;
        let mut dropped: Vec<K> = Vec::new();
        for (_, key) in by_use {
            if bytes <= target {
                break;
            }
            if let Some(entry) = self.map.get(key) {
                bytes -= entry.bytes;
                dropped.push(key.clone());
            }
        }
        for key in dropped {
            self.map.remove(&key);
        }
        self.bytes = bytes;
    }
}

/// What one entry is accounted for (see [`SetCache`]).
fn entry_bytes<K: CacheKey>(key: &K, set: &RoaringBitmap) -> usize {
    const CONTAINER_HEADER: usize = 32;
    let chunks = usize::try_from(chunks(set)).unwrap_or(usize::MAX);
    let set_heap = set
        .serialized_size()
        .saturating_add(chunks.saturating_mul(CONTAINER_HEADER))
        .saturating_add(size_of::<RoaringBitmap>() + 2 * size_of::<usize>());
    let slot = size_of::<(K, Cached)>() + 1;
    set_heap
        .saturating_add(key.heap_bytes())
        .saturating_add(SLOTS_PER_ENTRY * slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(ids: &[u32]) -> FilterKey {
        smallvec::smallvec![Part::Members(
            Dimension::Values("color".into()),
            ids.iter().copied().collect()
        )]
    }

    #[test]
    fn a_hundred_thousand_distinct_filters_stay_within_the_bound() {
        let cache: SetCache<FilterKey> = SetCache::new(FILTER_CACHE_BYTES);
        let mut peak = 0;
        for i in 0..100_000u32 {
            // Ten ids spill the key's inline room, and the sets are of varied sizes.
            let key = filter(&[i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7, i + 8, i]);
            cache.get_or_build(key, || {
                let mut set = RoaringBitmap::new();
                set.insert_range(i..i + (i % 4096));
                set
            });
            peak = peak.max(cache.bytes());
            assert!(cache.bytes() <= FILTER_CACHE_BYTES);
        }
        assert!(peak > FILTER_CACHE_BYTES / 2, "the test filled the cache");
        assert!(cache.len() < 100_000, "entries were evicted");
    }

    #[test]
    fn the_least_recently_used_entries_go_first() {
        let one = entry_bytes(&filter(&[0]), &RoaringBitmap::new());
        let cache: SetCache<FilterKey> = SetCache::new(10 * one);
        let kept = cache.get_or_build(filter(&[u32::MAX]), RoaringBitmap::new);
        for id in 0..1000 {
            cache.get_or_build(filter(&[id]), RoaringBitmap::new);
            // Used between every two new entries: never the least recently used.
            let again = cache.get_or_build(filter(&[u32::MAX]), RoaringBitmap::new);
            assert!(Arc::ptr_eq(&again, &kept));
            assert!(cache.bytes() <= 10 * one);
        }
        assert!(cache.len() <= 10);
    }

    #[test]
    fn a_set_larger_than_the_bound_is_not_kept() {
        let cache: SetCache<FilterKey> = SetCache::new(64);
        let set = cache.get_or_build(filter(&[1]), || (0..1000).collect());
        assert_eq!(set.len(), 1000);
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }
}
