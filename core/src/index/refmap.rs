//! A string → product map for the reference index, compact enough for millions of keys.
//!
//! A `HashMap<Box<str>, ProductId>` costs about 68 bytes per reference at a million keys: a
//! 24-byte bucket at half load, a control byte and a 16-byte heap block per key. Here the keys
//! sit back to back in one string and the table holds entry numbers, each with 32 bits of its
//! key's hash, about 40 bytes per key.

use super::ids::ProductId;
use prefetch_index::prefetch_index;
use serde::{Deserialize, Serialize};

/// Fixed seeds: the table layout, like everything else compiled, is the same on every run.
const SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

/// References to products; a key is inserted once, the first value wins.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct RefMap {
    /// Every key, back to back.
    text: String,
    /// End of each key in `text`; a key starts where the previous one ends.
    ends: Vec<usize>,
    values: Vec<ProductId>,
    /// Open addressing with linear probing: the high 32 bits of the key's hash above entry
    /// number + 1, or 0 for an empty slot. The length is a power of two and at most half the
    /// slots are used. A probe compares the hash bits before the key, so that passing another
    /// key's slot does not read that key's text (two likely cache misses in a large map).
    slots: Vec<u64>,
}

fn hash_of(key: &str) -> u64 {
    let [a, b, c, d] = SEEDS;
    ahash::RandomState::with_seeds(a, b, c, d).hash_one(key)
}

/// How many keys apart [`RefMap::get_each`] takes the steps of one lookup.
const DISTANCE: usize = 8;

/// The lookups [`RefMap::get_each`] keeps track of: every step of [`DISTANCE`] keys.
const RING: usize = 4 * DISTANCE;

/// Slots in a cache line: a first look reads no further.
const SLOTS_PER_LINE: usize = 8;

/// What [`RefMap::get_each`] knows of a key after its first look at the slots.
#[derive(Clone, Copy)]
enum Look {
    /// Absent: an empty slot came before any with its hash bits.
    Vacant,
    /// Probably this entry (its hash bits matched), whose text is at this span once read.
    Entry(usize, (usize, usize)),
    /// Not settled by the slots of one cache line: looked up on its own.
    Unsettled,
}

/// The bits of a slot that hold the entry number; the others hold the key's hash bits.
const NUMBER: u64 = 0xFFFF_FFFF;

/// The slot of entry number `number` (entry + 1) whose key hashes to `hash`.
fn slot(hash: u64, number: u32) -> u64 {
    (hash & !NUMBER) | u64::from(number)
}

/// Where the probe for a key hashing to `hash` starts in a table of `mask + 1` slots.
fn start(hash: u64, mask: usize) -> usize {
    // Truncation keeps the low bits, which the mask keeps anyway.
    hash as usize & mask
}

impl RefMap {
    /// Room for `count` keys without growing.
    pub fn reserve(&mut self, count: usize) {
        self.ends.reserve(count);
        self.values.reserve(count);
        let wanted = count.saturating_mul(2).next_power_of_two();
        if wanted > self.slots.len() {
            self.rehash(wanted);
        }
    }

    fn key(&self, entry: usize) -> &str {
        let (start, end) = self.span(entry);
        self.text.get(start..end).unwrap_or("")
    }

    /// The slot holding `key` (whose hash is `hash`), or the empty slot where it would go; `None`
    /// only while the table has no slots.
    fn find(&self, key: &str, hash: u64) -> Option<(usize, Option<usize>)> {
        let mask = self.slots.len().checked_sub(1)?;
        let tag = slot(hash, 0);
        let mut at = start(hash, mask);
        loop {
            match self.slots.get(at).copied() {
                Some(0) | None => return Some((at, None)),
                Some(found) if found & !NUMBER == tag => {
                    let entry = ((found & NUMBER) as usize).checked_sub(1);
                    if let Some(entry) = entry.filter(|&e| self.key(e) == key) {
                        return Some((at, Some(entry)));
                    }
                }
                Some(_) => {}
            }
            at = (at + 1) & mask;
        }
    }

    fn rehash(&mut self, size: usize) {
        self.slots = vec![0; size];
        let mask = size - 1;
        for entry in 0..self.ends.len() {
            let hash = hash_of(self.key(entry));
            let mut at = start(hash, mask);
            while self.slots.get(at).is_some_and(|&s| s != 0) {
                at = (at + 1) & mask;
            }
            if let (Some(free), Ok(number)) = (self.slots.get_mut(at), u32::try_from(entry + 1)) {
                *free = slot(hash, number);
            }
        }
    }

    /// The product of `key`.
    pub fn get<K: AsRef<str> + ?Sized>(&self, key: &K) -> Option<&ProductId> {
        let key = key.as_ref();
        let (_, entry) = self.find(key, hash_of(key))?;
        self.values.get(entry?)
    }

    /// The product of each of `keys`, handed to `found` with the key's position, in order.
    /// In a map of millions of keys each step of a lookup (the key's slot, where its text
    /// ends, the text, the value) is a cache miss, and one lookup after another waited for
    /// each in turn: here the lookups are pipelined, each step of a key taken [`DISTANCE`]
    /// keys after its previous one, with the memory the next step reads fetched into the cache
    /// meanwhile. A key not settled by the slots of its first look is looked up on its own.
    pub fn get_each(&self, keys: &[&str], mut found: impl FnMut(usize, Option<ProductId>)) {
        let Some(mask) = self.slots.len().checked_sub(1) else {
            (0..keys.len()).for_each(|i| found(i, None));
            return;
        };
        let mut hashes = [0u64; RING];
        let mut looks = [Look::Unsettled; RING];
        for step in 0..keys.len() + 3 * DISTANCE {
            // The slots where the key's probe starts.
            if let (Some(key), Some(hash)) = (keys.get(step), hashes.get_mut(step % RING)) {
                *hash = hash_of(key);
                prefetch_index(&self.slots, start(*hash, mask));
            }
            // Its entry, and where its text ends.
            let k = step.wrapping_sub(DISTANCE);
            if let (true, Some(&hash), Some(look)) = (
                k < keys.len(),
                hashes.get(k % RING),
                looks.get_mut(k % RING),
            ) {
                *look = self.first_look(hash, mask);
                if let Look::Entry(entry, _) = *look {
                    prefetch_index(&self.ends, entry.saturating_sub(1));
                    prefetch_index(&self.ends, entry);
                    prefetch_index(&self.values, entry);
                }
            }
            // Its text.
            let k = step.wrapping_sub(2 * DISTANCE);
            if let (true, Some(look)) = (k < keys.len(), looks.get_mut(k % RING)) {
                if let Look::Entry(entry, _) = *look {
                    let span = self.span(entry);
                    *look = Look::Entry(entry, span);
                    prefetch_index(self.text.as_bytes(), span.0);
                }
            }
            // The key compared with it, and its value.
            let k = step.wrapping_sub(3 * DISTANCE);
            if let (Some(key), Some(&look)) = (keys.get(k), looks.get(k % RING)) {
                let value = match look {
                    Look::Vacant => None,
                    Look::Entry(entry, span) if self.text.get(span.0..span.1) == Some(*key) => {
                        self.values.get(entry).copied()
                    }
                    _ => self.get(*key).copied(),
                };
                found(k, value);
            }
        }
    }

    /// What the slots from where the probe for `hash` starts say, as far as one cache line
    /// of them goes.
    fn first_look(&self, hash: u64, mask: usize) -> Look {
        let tag = slot(hash, 0);
        let from = start(hash, mask);
        for at in from..from + SLOTS_PER_LINE {
            match self.slots.get(at & mask).copied() {
                Some(0) | None => return Look::Vacant,
                Some(found) if found & !NUMBER == tag => {
                    return match ((found & NUMBER) as usize).checked_sub(1) {
                        Some(entry) => Look::Entry(entry, (0, 0)),
                        None => Look::Unsettled,
                    };
                }
                Some(_) => {}
            }
        }
        Look::Unsettled
    }

    /// Where the text of `entry` starts and ends in `text`.
    fn span(&self, entry: usize) -> (usize, usize) {
        let start = match entry.checked_sub(1) {
            Some(previous) => self.ends.get(previous).copied().unwrap_or(0),
            None => 0,
        };
        (start, self.ends.get(entry).copied().unwrap_or(start))
    }

    /// Inserts `key` unless present; returns the product it already had.
    pub fn insert_first(&mut self, key: &str, product: ProductId) -> Option<ProductId> {
        if (self.ends.len() + 1) * 2 > self.slots.len() {
            self.rehash((self.slots.len() * 2).max(16));
        }
        let hash = hash_of(key);
        let (at, entry) = self.find(key, hash)?;
        if let Some(entry) = entry {
            return self.values.get(entry).copied();
        }
        // Entry numbers are u32 in the slots; a table that large is not indexed rather than
        // indexed wrongly.
        let number = u32::try_from(self.ends.len() + 1).ok()?;
        self.text.push_str(key);
        self.ends.push(self.text.len());
        self.values.push(product);
        if let Some(free) = self.slots.get_mut(at) {
            *free = slot(hash, number);
        }
        None
    }

    /// Releases spare capacity once the map is built.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.values.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Id;

    #[test]
    fn first_value_wins_and_every_key_is_found() {
        let p = |i: u32| ProductId::from_index(i as usize).unwrap();
        let mut map = RefMap::default();
        assert_eq!(map.get("A"), None);
        for i in 0..1000u32 {
            assert_eq!(map.insert_first(&format!("K{i}"), p(i)), None);
        }
        assert_eq!(map.insert_first("K7", p(99)), Some(p(7)));
        assert_eq!(map.insert_first("", p(5)), None);
        for i in 0..1000u32 {
            assert_eq!(map.get(&format!("K{i}")), Some(&p(i)));
        }
        assert_eq!(map.get(""), Some(&p(5)));
        assert_eq!(map.get("K1000"), None);
        let boxed: Box<str> = "K3".into();
        assert_eq!(map.get(&boxed), Some(&p(3)));
    }

    #[test]
    fn a_large_map_finds_its_keys_through_collisions_and_misses_the_others() {
        let p = |i: u32| ProductId::from_index(i as usize).unwrap();
        let mut map = RefMap::default();
        map.reserve(10);
        for i in 0..50_000u32 {
            assert_eq!(map.insert_first(&format!("SKU{i:07}"), p(i)), None);
        }
        assert!(map.slots.len() >= 100_000);
        for i in 0..50_000u32 {
            assert_eq!(map.get(&format!("SKU{i:07}")), Some(&p(i)));
            assert_eq!(map.get(&format!("sku{i:07}")), None);
        }
        // Groups of keys found, missed, repeated, short of a whole group.
        let keys: Vec<String> = (0..200u32)
            .map(|i| match i % 4 {
                0 => format!("SKU{:07}", i * 211 % 50_000),
                1 => format!("SKU{:07}", 50_000 + i),
                2 => format!("sku{i:07}"),
                _ => "SKU0000007".to_string(),
            })
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        for keys in [&keys[..], &keys[..RING - 3], &keys[5..]] {
            let mut seen = vec![None; keys.len()];
            map.get_each(keys, |i, value| seen[i] = Some(value));
            let expected: Vec<_> = keys.iter().map(|key| Some(map.get(key).copied())).collect();
            assert_eq!(seen, expected);
        }
        // Every key and as many absent ones: the longer probe runs of a large table (past
        // the slots of a first look) among them.
        let every: Vec<String> = (0..100_000u32).map(|i| format!("SKU{i:07}")).collect();
        let every: Vec<&str> = every.iter().map(String::as_str).collect();
        let mut seen = Vec::new();
        map.get_each(&every, |i, value| seen.push((i, value)));
        let expected: Vec<_> = (every.iter().enumerate())
            .map(|(i, key)| (i, map.get(key).copied()))
            .collect();
        assert_eq!(seen, expected);
        let mut calls = 0;
        RefMap::default().get_each(&["A", "B"], |_, value| {
            calls += 1;
            assert_eq!(value, None);
        });
        assert_eq!(calls, 2);
    }
}
