//! A change of contracts' pricing rules alone, merged contract by contract: the contracts it
//! names are found by id, merged on their own, hashed and written back in place into a copy of
//! the section's text, so that the change costs those contracts and one copy of the text, not
//! a read of every contract (docs/spec.md §13.1).

use std::ops::Range;
use std::sync::Arc;

use serde_json::value::RawValue;

use super::{merge, Changes, Merged, Problems};
use crate::compile::{canonical, ContractRecords};
use crate::model::{Contract, Item, ParsedContracts};
use crate::source::{record_hash, Section, Source, CONTRACTS};

/// The `contracts` section after a change of rules alone: the merge (the section's text and
/// where what the change wrote comes from), the section's hash and its contracts.
#[derive(Debug)]
pub(crate) struct RulesMerged {
    pub merged: Merged,
    pub hash: [u8; 32],
    pub contracts: Arc<ContractRecords>,
    /// The positions of the contracts the change wrote, in order.
    pub touched: Vec<usize>,
}

/// `changes` merged into the `contracts` section contract by contract; `None` when the change
/// is anything but rules, when the section's contracts are not each found by an id of their
/// own, or when the merge finds any problem: the caller then merges the whole document, which
/// reports it.
pub(crate) fn merge_rules(section: &Section, changes: &Changes) -> Option<RulesMerged> {
    let (upserts, deletes) = changes.nested_only("rules")?;
    let records = section.contracts()?;
    let ids = records.ids.as_ref()?;
    let parents = (upserts.iter().map(|u| Some(u.parent.as_str())))
        .chain(deletes.iter().map(|d| d.parent.as_deref()));
    let mut touched = parents
        .map(|parent| ids.get(parent?).copied())
        .collect::<Option<Vec<usize>>>()?;
    touched.sort_unstable();
    touched.dedup();
    let text = section.text();
    let olds = records.texts(text, &touched)?;
    let taken = format!("[{}]", olds.join(","));
    let len = taken.len();
    let alone = Section::new(CONTRACTS.into(), Arc::from(taken), 0..len, [0; 32]);
    let mut problems = Problems::default();
    let mut merged = merge(
        &Source::of_sections(vec![alone]),
        changes.clone(),
        &mut problems,
    )?;
    if !problems.0.is_empty() {
        return None;
    }
    let written = merged.sections.remove(CONTRACTS)?;
    let news: Vec<&RawValue> = serde_json::from_str(&written).ok()?;
    if news.len() != touched.len() {
        return None;
    }
    let mut hashes = records.hashes.clone();
    let grown: usize = news.iter().map(|new| new.get().len()).sum();
    let mut out = String::with_capacity(text.len() + grown);
    let mut copied = 0;
    let mut placed: Vec<(usize, Range<usize>)> = Vec::with_capacity(touched.len());
    for (&at, new) in touched.iter().zip(&news) {
        let old = records.ranges.get(at)?;
        out.push_str(text.get(copied..old.start)?);
        let start = out.len();
        out.push_str(new.get());
        placed.push((at, start..out.len()));
        *hashes.get_mut(at)? = record_hash(canonical(new.get())?.as_bytes());
        copied = old.end;
    }
    out.push_str(text.get(copied..)?);
    let ranges = shifted(&records.ranges, &placed)?;
    let contracts = ContractRecords {
        hashes,
        ranges,
        ids: records.ids.clone(),
    };
    Some(RulesMerged {
        merged: merged.placed(CONTRACTS, &touched, out),
        hash: contracts.hash(),
        contracts: Arc::new(contracts),
        touched,
    })
}

/// `parsed` (the contracts of a text of the section, parsed for their pricing) with the ones
/// at `touched` parsed again from `texts` (theirs in another text), or `None` if one of those
/// does not parse.
pub(crate) fn reparsed(
    parsed: &[Arc<Item<Contract>>],
    touched: &[usize],
    texts: &[&str],
) -> Option<ParsedContracts> {
    let again = Contract::parse_pricing(&format!("[{}]", texts.join(",")))?;
    if again.len() != touched.len() {
        return None;
    }
    let mut out = parsed.to_vec();
    for (&at, contract) in touched.iter().zip(again) {
        *out.get_mut(at)? = Arc::new(contract);
    }
    Some(Arc::new(out))
}

/// The contracts' ranges in the new text: the rewritten ones where they were written (in
/// order of position), each of the others moved by what the rewritten ones before it grew.
fn shifted(old: &[Range<usize>], placed: &[(usize, Range<usize>)]) -> Option<Vec<Range<usize>>> {
    let mut ranges = Vec::with_capacity(old.len());
    let mut next = placed.iter().peekable();
    // What the rewritten contracts so far took out of the text and put in.
    let (mut taken, mut put) = (0usize, 0usize);
    for (at, range) in old.iter().enumerate() {
        match next.next_if(|(p, _)| *p == at) {
            Some((_, new)) => {
                ranges.push(new.clone());
                taken += range.len();
                put += new.len();
            }
            None => {
                let moved = |i: usize| (i + put).checked_sub(taken);
                ranges.push(moved(range.start)?..moved(range.end)?);
            }
        }
    }
    Some(ranges)
}
