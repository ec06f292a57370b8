//! A change of price entries alone (docs/spec.md §13.1): the groups it writes read and checked
//! as a compile reads them, written over the engine's entry table, and the section's hash
//! updated from the groups' hashes; nothing else of the document is read.

use std::sync::Arc;

use super::pricing::{index_entries, read_entries, EntriesOf};
use super::version::{group_hash, section_of_lists};
use super::Diags;
use crate::error::BuildWarnings;
use crate::index::pricing::{entry_key, EntryChanges, ListSum, PriceLists};
use crate::index::{EntryId, Id, IdVec, Index, ListId, ProductId};
use crate::model::{Document, Item, FORMAT};
use crate::source::record_hash;

/// A product's new entries in a list: the canonical JSON text of each, in order.
pub(crate) struct Group {
    pub list: ListId,
    pub product: ProductId,
    pub entries: Vec<String>,
}

/// The price lists after a change of prices alone, the section's hash, and whether the changed
/// groups were folded into a new table (the section's text is then written out too).
pub(crate) struct Patched {
    pub lists: PriceLists,
    pub hash: [u8; 32],
    pub folded: bool,
}

/// `index`'s price lists with the groups `deleted` taken out and `groups` written, reading no
/// other entry. `None` when the lists are not hashed by list, when a warning of the engine's
/// names an entry by its position (positions move), or when a written entry has any problem at
/// all: compiling the merged document then reports it.
pub(crate) fn patch(
    index: &Index,
    warnings: &BuildWarnings,
    deleted: &[(ListId, ProductId)],
    groups: &[Group],
) -> Option<Patched> {
    let old = &index.pricing.price_lists;
    let mut hashes = old.hashes.clone()?;
    if warnings.of_lists().any(|d| d.path.contains("].prices[")) {
        return None;
    }
    let doc = Document::parse_direct(&group_document(groups))?;
    let mut changed = old.changed.clone();
    for &(list, product) in deleted {
        old.entry_run(list, product)?;
        take_out(old, &mut hashes, list, product, &mut changed)?;
    }
    let tz = index.settings.timezone;
    let base = old.table.entries.len();
    for (group, list) in groups.iter().zip(&doc.price_lists) {
        let Item::Ok(list) = list else {
            return None;
        };
        let def = old.lists.get(group.list)?;
        let entry_hashes: Vec<u128> = group
            .entries
            .iter()
            .map(|text| record_hash(text.as_bytes()))
            .collect();
        let mut diags = Diags::default();
        let mut read = Vec::with_capacity(list.prices.len());
        read_entries(
            &EntriesOf::list(group.list, def, tz),
            &list.prices,
            &entry_hashes,
            "prices",
            |sku| index.product_of_sku(sku),
            &mut read,
            &mut diags,
        );
        let whole = read.len() == group.entries.len() && !read.is_empty();
        if !diags.is_clean() || !whole || read.iter().any(|e| e.product != group.product) {
            return None;
        }
        let first = EntryId::from_index(base + changed.added.len())?;
        let len = u32::try_from(read.len()).ok()?;
        take_out(old, &mut hashes, group.list, group.product, &mut changed)?
            .groups
            .add(group_hash(entry_hashes));
        changed.added.extend(read.into_iter().map(Arc::new));
        changed
            .runs
            .insert(entry_key(group.list, group.product), (first, len));
    }
    let hash = section_of_lists(hashes.iter().map(|l| (l.header, l.groups)));
    let mut lists = PriceLists {
        lists: old.lists.clone(),
        list_index: old.list_index.clone(),
        table: Arc::clone(&old.table),
        changed,
        hashes: Some(hashes),
        everyone_lists: old.everyone_lists.clone(),
    };
    // Past an eighth of the table, the changed groups cost more to look through than a new
    // table costs to index.
    let folded = lists.changed.added.len() > base / 8;
    if folded {
        let entries = lists.all_entries().cloned().collect();
        lists.table = Arc::new(index_entries(entries, index.catalog.skus.len()));
        lists.changed = EntryChanges::default();
    }
    Some(Patched {
        lists,
        hash,
        folded,
    })
}

/// Takes the product's group out of the list: its hash out of the list's groups (if the list
/// has one), its run replaced by an empty one. The list's sum, for the group written instead.
fn take_out<'h>(
    old: &PriceLists,
    hashes: &'h mut IdVec<ListId, ListSum>,
    list: ListId,
    product: ProductId,
    changed: &mut EntryChanges,
) -> Option<&'h mut ListSum> {
    let sum = hashes.get_mut(list)?;
    if old.entry_run(list, product).is_some() {
        sum.groups.remove(group_hash(
            old.entries_of(list, product)
                .map(|(_, e)| u128::from_le_bytes(e.hash)),
        ));
    }
    changed
        .runs
        .insert(entry_key(list, product), (EntryId::from_index(0)?, 0));
    Some(sum)
}

/// A document with one price list per group, holding the group's entries, for the parser.
fn group_document(groups: &[Group]) -> String {
    let mut text = format!("{{\"format\":\"{FORMAT}\",\"price_lists\":[");
    for (i, group) in groups.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!("{{\"id\":\"g{i}\",\"prices\":["));
        text.push_str(&group.entries.join(","));
        text.push_str("]}");
    }
    text.push_str("]}");
    text
}
