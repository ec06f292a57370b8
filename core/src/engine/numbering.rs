//! The distinct strings of a batch column, numbered: each row's number and the strings by
//! number, so that a batch works out what each distinct account or reference means once.
//!
//! A batch of millions of rows repeats thousands of accounts and up to a million references.
//! One hash map over the whole column misses the cache on nearly every row once it outgrows
//! it (a profile of 10M rows put a fifth of the batch there). The rows are instead split by
//! the top bits of their string's hash into parts small enough that each part's table stays
//! in cache, and each part is numbered on its own, in parallel.

use ahash::RandomState;
use hashbrown::hash_table::{Entry, HashTable};
use rayon::prelude::*;

/// Fixed seeds: the numbering is a function of the column alone, the same in every process
/// and on every thread count (the answers never depend on it, but two runs read alike).
fn hasher() -> RandomState {
    RandomState::with_seeds(
        0x9e37_79b9_7f4a_7c15,
        0xbf58_476d_1ce4_e5b9,
        0x94d0_49bb_1331_11eb,
        0x2545_f491_4f6c_dd1d,
    )
}

/// Rows per part, about: with a part's distinct strings at most this many, its table (12
/// bytes a string) stays within a core's cache while the part is numbered.
const ROWS_PER_PART: usize = 16_384;

/// Rows a thread splits into parts at a time.
const ROWS_PER_CHUNK: usize = 65_536;

/// A row as a part holds it: its string and the string's hash, so that numbering a part
/// reads its rows in order and compares strings only when their hashes are equal.
#[derive(Clone, Copy)]
struct Held<'c> {
    text: &'c str,
    hash: u64,
}

/// A chunk of rows split by part, with each row's part to put the numbers back.
struct Split<'c> {
    held: Vec<Vec<Held<'c>>>,
    part_of_row: Vec<u16>,
}

/// What numbering one part found: its distinct strings in order of first appearance, and for
/// each chunk, in row order, the numbers within the part of the chunk's rows there.
struct Numbered<'c> {
    distinct: Vec<&'c str>,
    by_chunk: Vec<Vec<u32>>,
}

/// Numbers the distinct strings of `column`: each row's number and the strings by number.
/// Rows past `u32::MAX` get no number (`u32::MAX`).
///
/// Numbers follow the parts, and within a part the order of first appearance: they depend
/// on the column alone, not on the number of threads.
pub(crate) fn number_distinct<S: AsRef<str> + Sync>(column: &[S]) -> (Vec<u32>, Vec<&str>) {
    let numbered = column.get(..u32::MAX as usize).unwrap_or(column);
    let bits = (numbered.len() / ROWS_PER_PART)
        .next_power_of_two()
        .trailing_zeros()
        .min(12);
    let parts = 1usize << bits;
    let part_of = move |hash: u64| hash.checked_shr(64 - bits).unwrap_or(0) as usize;
    let state = hasher();

    let chunks: Vec<Split<'_>> = numbered
        .par_chunks(ROWS_PER_CHUNK)
        .map(|texts| {
            let mut held: Vec<Vec<Held<'_>>> = vec![Vec::new(); parts];
            let mut part_of_row = Vec::with_capacity(texts.len());
            for text in texts {
                let text = text.as_ref();
                let hash = state.hash_one(text);
                let part = part_of(hash);
                if let Some(rows) = held.get_mut(part) {
                    rows.push(Held { text, hash });
                }
                part_of_row.push(part as u16);
            }
            Split { held, part_of_row }
        })
        .collect();

    let numbered_parts: Vec<Numbered<'_>> = (0..parts)
        .into_par_iter()
        .map(|part| number_part(&chunks, part))
        .collect();

    let mut first_number = Vec::with_capacity(parts);
    let mut distinct = Vec::new();
    for part in &numbered_parts {
        first_number.push(u32::try_from(distinct.len()).unwrap_or(u32::MAX));
        distinct.extend_from_slice(&part.distinct);
    }

    let mut of_row = vec![u32::MAX; column.len()];
    of_row
        .par_chunks_mut(ROWS_PER_CHUNK)
        .zip(chunks.par_iter())
        .enumerate()
        .for_each(|(chunk, (numbers, split))| {
            let mut next = vec![0usize; parts];
            for (number, &part) in numbers.iter_mut().zip(&split.part_of_row) {
                let part = usize::from(part);
                let (Some(cursor), Some(found), Some(&first)) = (
                    next.get_mut(part),
                    numbered_parts.get(part).and_then(|p| p.by_chunk.get(chunk)),
                    first_number.get(part),
                ) else {
                    continue;
                };
                if let Some(&local) = found.get(*cursor) {
                    *number = first.saturating_add(local);
                }
                *cursor += 1;
            }
        });
    (of_row, distinct)
}

/// Numbers the rows of one part, chunk after chunk (so in row order).
fn number_part<'c>(chunks: &[Split<'c>], part: usize) -> Numbered<'c> {
    let mut table: HashTable<(u64, u32)> = HashTable::new();
    let mut distinct: Vec<&'c str> = Vec::new();
    let by_chunk = chunks
        .iter()
        .map(|split| {
            let rows = split.held.get(part).map(Vec::as_slice).unwrap_or_default();
            rows.iter()
                .map(|&Held { text, hash }| {
                    let same = |&(h, n): &(u64, u32)| {
                        h == hash && distinct.get(n as usize).is_some_and(|&d| d == text)
                    };
                    match table.entry(hash, same, |&(h, _)| h) {
                        Entry::Occupied(found) => found.get().1,
                        Entry::Vacant(slot) => {
                            let number = u32::try_from(distinct.len()).unwrap_or(u32::MAX);
                            distinct.push(text);
                            slot.insert((hash, number));
                            number
                        }
                    }
                })
                .collect()
        })
        .collect();
    Numbered { distinct, by_chunk }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(column: &[String]) {
        let (of_row, distinct) = number_distinct(column);
        assert_eq!(of_row.len(), column.len());
        let mut seen = std::collections::HashSet::new();
        for text in &distinct {
            assert!(seen.insert(*text), "{text:?} numbered twice");
        }
        for (row, &number) in of_row.iter().enumerate() {
            assert_eq!(
                distinct.get(number as usize).copied(),
                column.get(row).map(String::as_str)
            );
        }
        assert_eq!(
            seen.len(),
            column
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len()
        );
    }

    #[test]
    fn a_column_larger_than_a_part_numbers_each_string_once() {
        let column: Vec<String> = (0..300_000u64)
            .map(|i| format!("S{}", (i * 7919) % 40_000))
            .collect();
        check(&column);
    }

    #[test]
    fn the_numbering_is_the_same_on_any_thread_count() {
        let column: Vec<String> = (0..200_000).map(|i| format!("A{}", i % 5_003)).collect();
        let on = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map(|pool| pool.install(|| number_distinct(&column)))
                .map(|(rows, distinct)| {
                    (
                        rows,
                        distinct.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    )
                })
                .ok()
        };
        assert_eq!(on(1), on(3));
    }

    proptest! {
        #[test]
        fn every_row_gets_the_number_of_its_string(column in prop::collection::vec("[a-c]{0,3}", 0..200)) {
            check(&column);
        }
    }
}
