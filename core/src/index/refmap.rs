//! A string → product map for the reference index, compact enough for millions of keys.
//!
//! A `HashMap<Box<str>, ProductId>` costs about 68 bytes per reference at a million keys: a
//! 24-byte bucket at half load, a control byte and a 16-byte heap block per key. Here the keys
//! sit back to back in one string and the table holds entry numbers, each with 32 bits of its
//! key's hash, about 40 bytes per key.

use super::ids::ProductId;
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

fn hash(key: &str) -> u64 {
    let [a, b, c, d] = SEEDS;
    ahash::RandomState::with_seeds(a, b, c, d).hash_one(key)
}

/// How many keys [`RefMap::get_each`] looks up side by side.
const GROUP: usize = 16;

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
            let hash = hash(self.key(entry));
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
        let (_, entry) = self.find(key, hash(key))?;
        self.values.get(entry?)
    }

    /// The product of each of `keys`, handed to `found` with the key's position. The lookups
    /// of [`GROUP`] keys at a time are interleaved: each step (the first slot, where the key's
    /// text ends, the text, the value) is read for every key of the group before the next step
    /// of any, so that their cache misses overlap. In a map of millions of keys each step is a
    /// miss, and one lookup after another waited for each in turn. A key not settled by its
    /// first slot is looked up on its own.
    pub fn get_each(&self, keys: &[&str], mut found: impl FnMut(usize, Option<ProductId>)) {
        for (group, keys) in keys.chunks(GROUP).enumerate() {
            let offset = group * GROUP;
            self.get_group(keys, |i, value| found(offset + i, value));
        }
    }

    /// [`RefMap::get_each`] of at most [`GROUP`] keys.
    fn get_group(&self, keys: &[&str], mut found: impl FnMut(usize, Option<ProductId>)) {
        let Some(mask) = self.slots.len().checked_sub(1) else {
            (0..keys.len()).for_each(|i| found(i, None));
            return;
        };
        let mut hashes = [0u64; GROUP];
        let mut entries = [None; GROUP];
        let mut spans = [(0, 0); GROUP];
        // Keys whose first slot is empty: absent, with nothing more to read.
        let mut vacant = [false; GROUP];
        for (hash_of, key) in hashes.iter_mut().zip(keys) {
            *hash_of = hash(key);
        }
        for ((entry, vacant), &hash) in entries.iter_mut().zip(&mut vacant).zip(&hashes) {
            match self.slots.get(start(hash, mask)).copied() {
                Some(0) | None => *vacant = true,
                Some(first) if first & !NUMBER == slot(hash, 0) => {
                    *entry = ((first & NUMBER) as usize).checked_sub(1);
                }
                Some(_) => {}
            }
        }
        for (span, entry) in spans.iter_mut().zip(&entries) {
            if let Some(entry) = *entry {
                *span = self.span(entry);
            }
        }
        for ((entry, span), key) in entries.iter_mut().zip(&spans).zip(keys) {
            if self.text.get(span.0..span.1) != Some(*key) {
                *entry = None;
            }
        }
        let settled = entries.iter().zip(&vacant).zip(&hashes);
        for (i, (key, ((entry, &vacant), &hash))) in keys.iter().zip(settled).enumerate() {
            let value = match entry {
                Some(entry) => self.values.get(*entry).copied(),
                None if vacant => None,
                None => {
                    (self.find(key, hash)).and_then(|(_, entry)| self.values.get(entry?).copied())
                }
            };
            found(i, value);
        }
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
        let hash = hash(key);
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
        for keys in [&keys[..], &keys[..GROUP - 3], &keys[5..]] {
            let mut seen = vec![None; keys.len()];
            map.get_each(keys, |i, value| seen[i] = Some(value));
            let expected: Vec<_> = keys.iter().map(|key| Some(map.get(key).copied())).collect();
            assert_eq!(seen, expected);
        }
        let mut calls = 0;
        RefMap::default().get_each(&["A", "B"], |_, value| {
            calls += 1;
            assert_eq!(value, None);
        });
        assert_eq!(calls, 2);
    }
}
