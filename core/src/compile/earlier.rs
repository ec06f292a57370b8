//! Finding what an earlier compile built, by the fingerprint it was recognised by.

use std::hash::Hash;

use ahash::AHashMap;

/// Positions of keys in an earlier compile's list of fingerprints (its selectors' or its
/// visibility levels'). A compile builds its parts in document order, so after a change of a
/// few rules most parts come in the order they had: the position after the last one found is
/// tried first, one comparison, and a map of every key is built only the first time that
/// guess misses.
pub(super) struct InOrder<K> {
    next: usize,
    by_key: Option<AHashMap<K, usize>>,
}

impl<K> Default for InOrder<K> {
    fn default() -> Self {
        InOrder {
            next: 0,
            by_key: None,
        }
    }
}

impl<K: Copy + Eq + Hash> InOrder<K> {
    /// The position of `key` in `keys` (always the same slice for one `InOrder`).
    pub fn find(&mut self, keys: &[K], key: &K) -> Option<usize> {
        let at = match keys.get(self.next) {
            Some(next) if next == key => self.next,
            _ => *self
                .by_key
                .get_or_insert_with(|| keys.iter().enumerate().map(|(i, k)| (*k, i)).collect())
                .get(key)?,
        };
        self.next = at + 1;
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_order_out_of_order_and_missing() {
        let keys = [10u32, 20, 30, 40];
        let mut found = InOrder::default();
        assert_eq!(found.find(&keys, &10), Some(0));
        assert_eq!(found.find(&keys, &20), Some(1));
        assert!(found.by_key.is_none(), "in order: no map built");
        assert_eq!(found.find(&keys, &40), Some(3));
        assert_eq!(found.find(&keys, &30), Some(2));
        assert_eq!(found.find(&keys, &40), Some(3));
        assert_eq!(found.find(&keys, &50), None);
        assert_eq!(InOrder::default().find(&[], &10), None);
    }
}
