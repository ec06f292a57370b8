//! The `stock` section between changes: the text it had when last written and the records
//! changed since, so that a change of stock records costs those records and not the section.
//!
//! The text a [`StockText`] gives is the one merging each change into the document in turn
//! gives ([`merge`]): records changed in place stay where they were, records new to the section
//! (or deleted, then upserted again) come after the others in the order they came.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use ahash::{AHashMap, AHashSet};

use super::{merge, Changes, Delete, Problems, Upsert, KEYED};
use crate::source::{Section, Source, STOCK};

/// The `stock` section as changes left it; written out the first time its text is read.
#[derive(Debug)]
pub(crate) struct StockText {
    base: Arc<str>,
    range: Range<usize>,
    patch: Patch,
    text: OnceLock<String>,
}

/// The records changed since the base text, by SKU.
#[derive(Debug, Clone, Default)]
struct Patch {
    /// Records of the base text taken out.
    deleted: AHashSet<String>,
    /// Records of the base text rewritten where they are.
    replaced: AHashMap<String, Arc<Upsert>>,
    /// Records after the base text's, with their order.
    added: AHashMap<String, (u64, Arc<Upsert>)>,
    next: u64,
}

impl StockText {
    /// The stock section after a change of stock records alone, applied to `section` (absent:
    /// the document had none): `deletes` takes records out, then each upsert rewrites its
    /// record (`present`: the section has one) or adds it. With `write`, the text is written
    /// at once and the section no longer carries the change (the stock index folded its
    /// changed records on the same schedule).
    pub(crate) fn after(
        section: Option<&Section>,
        upserts: Vec<Upsert>,
        present: &[bool],
        deletes: &[Delete],
        write: bool,
        hash: [u8; 32],
    ) -> Section {
        let (base, range, mut patch) = match section {
            Some(section) => match section.parts() {
                Ok((text, range)) => (Arc::clone(text), range, Patch::default()),
                Err(stock) => (
                    Arc::clone(&stock.base),
                    stock.range.clone(),
                    stock.patch.clone(),
                ),
            },
            None => (Arc::from("[]"), 0..2, Patch::default()),
        };
        for d in deletes {
            if patch.added.remove(&d.key).is_none() {
                patch.replaced.remove(&d.key);
                patch.deleted.insert(d.key.clone());
            }
        }
        for (u, &present) in upserts.into_iter().zip(present) {
            let u = Arc::new(u);
            match patch.added.get_mut(&u.key) {
                Some((_, added)) if present => *added = u,
                _ if present => {
                    patch.replaced.insert(u.key.clone(), u);
                }
                _ => {
                    patch.added.insert(u.key.clone(), (patch.next, u));
                    patch.next += 1;
                }
            }
        }
        let stock = StockText {
            base,
            range,
            patch,
            text: OnceLock::new(),
        };
        if write {
            let StockText {
                base, range, patch, ..
            } = stock;
            // The upserts of this change are held once, here: they are taken, not copied.
            let text = merged(base, range, patch, |u| {
                Arc::try_unwrap(u).unwrap_or_else(|u| Upsert::clone(&u))
            });
            return Section::owned(STOCK, text, hash);
        }
        Section::stock(stock, hash)
    }

    /// The section's text.
    pub(crate) fn text(&self) -> &str {
        self.text.get_or_init(|| {
            merged(
                Arc::clone(&self.base),
                self.range.clone(),
                self.patch.clone(),
                |u| Upsert::clone(&u),
            )
        })
    }
}

/// The base text with the changed records merged in, as one change deleting the records taken
/// out and upserting the others: the ones rewritten in place first, then the added ones in
/// their order (`take` makes each an upsert to merge). Every deleted SKU is one of the base
/// text's, so the merge cannot fail; if it did, the text would be empty, which no compile
/// accepts.
fn merged(
    base: Arc<str>,
    range: Range<usize>,
    patch: Patch,
    take: impl Fn(Arc<Upsert>) -> Upsert,
) -> String {
    let Some(at) = KEYED.iter().position(|(name, _)| *name == STOCK) else {
        return String::new();
    };
    let mut added: Vec<(u64, Arc<Upsert>)> = patch.added.into_values().collect();
    added.sort_unstable_by_key(|(order, _)| *order);
    let upserts: Vec<Upsert> = patch
        .replaced
        .into_values()
        .chain(added.into_iter().map(|(_, u)| u))
        .map(take)
        .collect();
    let deletes: Vec<Delete> = patch
        .deleted
        .into_iter()
        .map(|key| Delete {
            parent: None,
            key,
            path: String::new(),
        })
        .collect();
    let mut changes = Changes::default();
    if let (Some(u), Some(d)) = (changes.upserts.get_mut(at), changes.deletes.get_mut(at)) {
        *u = upserts;
        *d = deletes;
    }
    let base = Source::of_sections(vec![Section::new(STOCK.into(), base, range, [0; 32])]);
    let mut problems = Problems::default();
    merge(&base, changes, &mut problems)
        .and_then(|mut merged| merged.sections.remove(STOCK))
        .unwrap_or_default()
}
