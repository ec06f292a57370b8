//! A section hashed by record (`stock`, `price_lists`, docs/spec.md §10) between changes: the
//! text it had when last written and the records changed since, so that a change of some
//! records costs those records and not the section.
//!
//! The text a [`PatchedText`] gives is the one merging each change into the document in turn
//! gives ([`merge`]): records changed in place stay where they were, records new to the section
//! (or deleted, then upserted again) come after the others in the order they came. A record is
//! a stock record (keyed by SKU) or a price list's group of entries (keyed by list and SKU).

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use ahash::{AHashMap, AHashSet};

use super::{merge, Changes, Delete, NestedUpsert, Problems, Upsert, KEYED, NESTED};
use crate::source::{Section, Source, PRICE_LISTS};

/// A record's key: its parent's (a price list's id, none for stock) and its own.
type Key = (Option<String>, String);

/// A record as a change wrote it: one stock record, or a group's entries.
type Record = Arc<Vec<Upsert>>;

/// A section as changes left it; written out the first time its text is read.
#[derive(Debug)]
pub(crate) struct PatchedText {
    name: &'static str,
    base: Arc<str>,
    range: Range<usize>,
    patch: Patch,
    text: OnceLock<String>,
}

/// The records changed since the base text, by key.
#[derive(Debug, Clone, Default)]
struct Patch {
    /// Records of the base text taken out.
    deleted: AHashSet<Key>,
    /// Records of the base text rewritten where they are.
    replaced: AHashMap<Key, Record>,
    /// Records after the base text's, with their order.
    added: AHashMap<Key, (u64, Record)>,
    next: u64,
}

/// The records one change writes into a section hashed by record, in the order it wrote them:
/// each with its key and whether the section (as the engine it applies to has it) holds it.
pub(crate) struct Written {
    pub deletes: Vec<Key>,
    pub upserts: Vec<(Key, bool, Vec<Upsert>)>,
}

impl PatchedText {
    /// Section `name` (`stock` or `price_lists`) after a change of its records alone, applied
    /// to `section` (absent: the document had none): the deletions take records out, then each
    /// upsert rewrites its record (when the section has one) or adds it. With `write`, the
    /// text is written at once and the section no longer carries the change (the index folded
    /// its changed records on the same schedule).
    pub(crate) fn after(
        name: &'static str,
        section: Option<&Section>,
        written: Written,
        write: bool,
        hash: [u8; 32],
    ) -> Section {
        let (base, range, mut patch) = match section {
            Some(section) => match section.parts() {
                Ok((text, range)) => (Arc::clone(text), range, Patch::default()),
                Err(patched) => (
                    Arc::clone(&patched.base),
                    patched.range.clone(),
                    patched.patch.clone(),
                ),
            },
            None => (Arc::from("[]"), 0..2, Patch::default()),
        };
        for key in written.deletes {
            if patch.added.remove(&key).is_none() {
                patch.replaced.remove(&key);
                patch.deleted.insert(key);
            }
        }
        for (key, present, record) in written.upserts {
            let record = Arc::new(record);
            match patch.added.get_mut(&key) {
                Some((_, added)) if present => *added = record,
                _ if present => {
                    patch.replaced.insert(key, record);
                }
                _ => {
                    patch.added.insert(key, (patch.next, record));
                    patch.next += 1;
                }
            }
        }
        let patched = PatchedText {
            name,
            base,
            range,
            patch,
            text: OnceLock::new(),
        };
        if write {
            let PatchedText {
                base, range, patch, ..
            } = patched;
            // The records of this change are held once, here: they are taken, not copied.
            let text = merged(name, base, range, patch, |r| {
                Arc::try_unwrap(r).unwrap_or_else(|r| Vec::clone(&r))
            });
            return Section::owned(name, text, hash);
        }
        Section::patched(patched, hash)
    }

    /// The section's name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The section's text.
    pub(crate) fn text(&self) -> &str {
        self.text.get_or_init(|| {
            merged(
                self.name,
                Arc::clone(&self.base),
                self.range.clone(),
                self.patch.clone(),
                |r| Vec::clone(&r),
            )
        })
    }
}

/// The base text with the changed records merged in, as one change deleting the records taken
/// out and upserting the others: the ones rewritten in place first, then the added ones in
/// their order (`take` makes each record's upserts). Every deleted key is one of the base
/// text's, so the merge cannot fail; if it did, the text would be empty, which no compile
/// accepts.
fn merged(
    name: &'static str,
    base: Arc<str>,
    range: Range<usize>,
    patch: Patch,
    take: impl Fn(Record) -> Vec<Upsert>,
) -> String {
    let mut added: Vec<(u64, Key, Record)> = patch
        .added
        .into_iter()
        .map(|(key, (order, record))| (order, key, record))
        .collect();
    added.sort_unstable_by_key(|(order, _, _)| *order);
    let upserts = patch
        .replaced
        .into_iter()
        .chain(added.into_iter().map(|(_, key, record)| (key, record)))
        .flat_map(|(key, record)| take(record).into_iter().map(move |u| (key.0.clone(), u)));
    let deletes = patch.deleted.into_iter().map(|(parent, key)| Delete {
        parent,
        key,
        path: String::new(),
    });
    let mut changes = Changes::default();
    let written = match name {
        PRICE_LISTS => NESTED
            .iter()
            .position(|n| n.parent == PRICE_LISTS)
            .and_then(|at| {
                let ups = changes.nested_upserts.get_mut(at)?;
                *ups = upserts
                    .filter_map(|(parent, element)| {
                        Some(NestedUpsert {
                            parent: parent?,
                            element,
                        })
                    })
                    .collect();
                *changes.nested_deletes.get_mut(at)? = deletes.collect();
                Some(())
            }),
        _ => KEYED.iter().position(|(n, _)| *n == name).and_then(|at| {
            *changes.upserts.get_mut(at)? = upserts.map(|(_, u)| u).collect();
            *changes.deletes.get_mut(at)? = deletes.collect();
            Some(())
        }),
    };
    if written.is_none() {
        return String::new();
    }
    let base = Source::of_sections(vec![Section::new(name.into(), base, range, [0; 32])]);
    let mut problems = Problems::default();
    merge(&base, changes, &mut problems)
        .and_then(|mut merged| merged.sections.remove(name))
        .unwrap_or_default()
}

/// The key of a stock record.
pub(crate) fn stock_key(sku: &str) -> Key {
    (None, sku.to_string())
}

/// The key of a list's group of entries for a SKU.
pub(crate) fn group_key(list: &str, sku: &str) -> Key {
    (Some(list.to_string()), sku.to_string())
}
