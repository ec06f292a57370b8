//! Visibility rules, compiled into one decision per audience level, capability and epoch.
//!
//! A level's decision for a capability is two bitmaps: the products it decides (some rule of the
//! level concerns them) and those it allows. The segment level of an account is the union of the
//! rules of all its segments, so it is built per distinct set of segments and shared by every
//! account with that set; epochs cut time where a rule of the level starts or ends.

use std::sync::Arc;

use ahash::AHashMap;
use roaring::RoaringBitmap;
use smallvec::SmallVec;

use super::audience::AudienceBuild;
use super::catalog::CatalogBuild;
use super::earlier::InOrder;
use super::{items, values, Diags};
use crate::index::{
    CapDecision, Catalog, FlatTail, Id, IdVec, SelectorDef, SelectorId, Settings, Spec, VisLevel,
    VisRuleDef, VisibilityIndex, NONE,
};
use crate::instant::Instant;
use crate::model::{Capability, Document, Effect};
use crate::source::first16;

/// Which capabilities (see, price, buy) a rule concerns, per docs/spec.md §7.
pub(crate) fn concerns(effect: Effect, capabilities: &[Capability]) -> [bool; 3] {
    let mut out = [false; 3];
    for &c in capabilities {
        let c = c as usize;
        for (k, slot) in out.iter_mut().enumerate() {
            // A deny reaches the capabilities that require it (above), an allow those it
            // requires (below).
            let reached = match effect {
                Effect::Deny => k >= c,
                Effect::Allow => k <= c,
            };
            *slot |= reached;
        }
    }
    out
}

pub(crate) fn build(
    doc: &Document,
    settings: &Settings,
    catalog: &mut CatalogBuild,
    audiences: &mut AudienceBuild,
    earlier: Option<&VisibilityIndex>,
    diags: &mut Diags,
) -> VisibilityIndex {
    let rules = read_rules(doc, settings, catalog, audiences, diags);
    let mut index = VisibilityIndex {
        levels: Vec::new(),
        level_fingerprints: Vec::new(),
        everyone: None,
        tails: Vec::new(),
        rules: Vec::new(),
    };
    let by_key = rules_by_key(&rules);
    let mut levels = Levels {
        rules: &rules,
        catalog: &catalog.catalog,
        earlier,
        found: InOrder::default(),
    };
    let level_of_key = own_levels(&mut levels, &by_key, audiences, &mut index);
    chain_levels(&mut levels, &by_key, &level_of_key, audiences, &mut index);
    flatten_tails(catalog.catalog.skus.len(), audiences, &mut index, earlier);
    index.rules = rules;
    index
}

/// Whether the visibility rules of `old` (over `old_catalog`), their selectors interned after
/// the pricing rules' `catalog` holds, give each selector the id it had and leave the catalog's
/// selectors as `old_catalog`'s: true when the pricing rules' selectors are the ones
/// `old_catalog` starts with, and the visibility rules meet the others in the order of their
/// ids. The catalog and the visibility are then `old`'s, shared.
pub(crate) fn unchanged(
    old: &VisibilityIndex,
    old_catalog: &Catalog,
    catalog: &CatalogBuild,
) -> bool {
    let pricing = &catalog.catalog.selector_hashes;
    if old_catalog.selector_hashes.get(..pricing.len()) != Some(pricing.as_slice()) {
        return false;
    }
    // Selectors are interned by text: one interned already keeps the id its text has.
    let mut next = pricing.len();
    for rule in &old.rules {
        let id = rule.selector.index();
        if id > next {
            return false;
        }
        if id == next {
            next += 1;
        }
    }
    next == old_catalog.selector_hashes.len()
}

/// The visibility of a compile whose contracts differ from `old`'s in their pricing rules
/// alone: `old`'s levels, chains and rules, each rule's selector interned again into `catalog`
/// in the order a compile reads them (after the pricing rules'); `old` itself when every
/// selector keeps its id. `None` when a selector is not `old_catalog`'s.
pub(crate) fn reinterned(
    old: &Arc<VisibilityIndex>,
    old_catalog: &Catalog,
    catalog: &mut CatalogBuild,
) -> Option<Arc<VisibilityIndex>> {
    let selectors = old
        .rules
        .iter()
        .map(|rule| catalog.reintern(old_catalog, rule.selector))
        .collect::<Option<Vec<_>>>()?;
    if old
        .rules
        .iter()
        .zip(&selectors)
        .all(|(r, s)| r.selector == *s)
    {
        return Some(Arc::clone(old));
    }
    let rules = old
        .rules
        .iter()
        .zip(selectors)
        .map(|(rule, selector)| VisRuleDef {
            selector,
            ..rule.clone()
        })
        .collect();
    Some(Arc::new(VisibilityIndex {
        levels: old.levels.clone(),
        level_fingerprints: old.level_fingerprints.clone(),
        everyone: old.everyone,
        tails: old.tails.clone(),
        rules,
    }))
}

/// Builds the levels of a set of rules, taking those an earlier compile over the same catalog
/// built from the same rules.
struct Levels<'a> {
    rules: &'a [VisRuleDef],
    catalog: &'a Catalog,
    earlier: Option<&'a VisibilityIndex>,
    /// Where each earlier level is, by fingerprint: every compile builds the levels in the
    /// same order (accounts' own in key order, then the segment sets in account order).
    found: InOrder<[u8; 16]>,
}

impl<'a> Levels<'a> {
    /// The level of the rules at positions `members`, and its fingerprint.
    fn build(&mut self, members: &[usize]) -> (VisLevel, [u8; 16]) {
        let mut hasher = blake3::Hasher::new();
        for rule in members.iter().filter_map(|&m| self.rules.get(m)) {
            hasher.update(&rule.validity.from.0.to_le_bytes());
            hasher.update(&rule.validity.until.0.to_le_bytes());
            hasher.update(&rule.concerns.map(u8::from));
            hasher.update(&[u8::from(rule.allow)]);
            hasher.update(&self.catalog.selector_hash(rule.selector));
        }
        let fingerprint = first16(&hasher.finalize());
        let level = match self.earlier_level(&fingerprint) {
            Some(level) => level.clone(),
            None => build_level(self.rules, members, &self.catalog.selectors),
        };
        (level, fingerprint)
    }

    /// The earlier compile's level with this fingerprint.
    fn earlier_level(&mut self, fingerprint: &[u8; 16]) -> Option<&'a VisLevel> {
        let earlier = self.earlier?;
        let at = self.found.find(&earlier.level_fingerprints, fingerprint)?;
        earlier.levels.get(at)
    }
}

/// Reads every contract's visibility rules, reporting malformed ones.
fn read_rules(
    doc: &Document,
    settings: &Settings,
    catalog: &mut CatalogBuild,
    audiences: &AudienceBuild,
    diags: &mut Diags,
) -> Vec<VisRuleDef> {
    let tz = settings.timezone;
    let mut rules = Vec::new();
    // Pricing reads the contracts first and reports those that do not parse.
    for (i, c) in items(&doc.contracts, "contracts", &mut Diags::default()) {
        let path = format!("contracts[{i}]");
        let contract_validity = values::validity(
            c.valid.as_ref(),
            tz,
            || format!("{path}.valid"),
            &mut Diags::default(),
        );
        let audience = audiences.names().resolve(
            &c.audience,
            || format!("{path}.audience"),
            &mut Diags::default(),
        );
        for (k, v) in items(&c.visibility, || format!("{path}.visibility"), diags) {
            let vpath = || format!("{path}.visibility[{k}]");
            let selector = catalog.selector(&v.products, || format!("{}.products", vpath()), diags);
            let validity = contract_validity.intersect(&values::validity(
                v.valid.as_ref(),
                tz,
                || format!("{}.valid", vpath()),
                diags,
            ));
            let caps = v
                .capabilities
                .clone()
                .unwrap_or_else(|| vec![Capability::See, Capability::Price, Capability::Buy]);
            if caps.is_empty() {
                diags.error(
                    crate::error::DiagnosticCode::InvalidType,
                    &format!("{}.capabilities", vpath()),
                    "`capabilities` is empty; omit it to mean all three".into(),
                    &[&c.id],
                );
                continue;
            }
            let Some(selector) = selector else { continue };
            let id =
                v.id.clone()
                    .map(|id| format!("{}/{id}", c.id))
                    .unwrap_or_else(|| format!("{}/visibility[{k}]", c.id));
            rules.push(VisRuleDef {
                id: id.into(),
                allow: v.effect == Effect::Allow,
                selector,
                concerns: concerns(v.effect, &caps),
                validity,
                audience: audience.clone(),
            });
        }
    }
    rules
}

/// The rules of each audience key, by position in `rules`.
fn rules_by_key(rules: &[VisRuleDef]) -> AHashMap<u32, Vec<usize>> {
    let mut by_key: AHashMap<u32, Vec<usize>> = AHashMap::new();
    for (n, rule) in rules.iter().enumerate() {
        for &key in &rule.audience {
            by_key.entry(key).or_default().push(n);
        }
    }
    by_key
}

/// One level per account key and for everyone, in key order; returns each key's level.
fn own_levels(
    levels: &mut Levels<'_>,
    by_key: &AHashMap<u32, Vec<usize>>,
    audiences: &AudienceBuild,
    index: &mut VisibilityIndex,
) -> AHashMap<u32, u32> {
    let mut level_of_key: AHashMap<u32, u32> = AHashMap::new();
    let mut keys: Vec<u32> = by_key
        .keys()
        .copied()
        .filter(|k| *k == 0 || *k > segment_count(audiences))
        .collect();
    keys.sort_unstable();
    for key in keys {
        let members = by_key.get(&key).cloned().unwrap_or_default();
        level_of_key.insert(key, push_level(index, levels.build(&members)));
    }
    index.everyone = level_of_key.get(&0).copied();
    level_of_key
}

/// Each account's visibility chain: its lineage's levels, one level per distinct set of
/// segments (built once, shared by the accounts with that set), then everyone's.
fn chain_levels(
    levels: &mut Levels<'_>,
    by_key: &AHashMap<u32, Vec<usize>>,
    level_of_key: &AHashMap<u32, u32>,
    audiences: &mut AudienceBuild,
    index: &mut VisibilityIndex,
) {
    let mut group_levels: AHashMap<SmallVec<[u32; 4]>, Option<u32>> = AHashMap::new();
    let seg_count = segment_count(audiences);
    for (n, account) in audiences.audiences.accounts.iter_mut().enumerate() {
        let mut chain: SmallVec<[u32; 4]> = SmallVec::new();
        for &acc in &account.lineage {
            if let Some(&level) = level_of_key.get(&(1 + seg_count + acc.raw())) {
                chain.push(level);
            }
        }
        account.vis_own = u8::try_from(chain.len()).unwrap_or(u8::MAX);
        let segments = audiences.segment_sets.get(n).cloned().unwrap_or_default();
        let group = group_levels.entry(segments.clone()).or_insert_with(|| {
            let mut members: Vec<usize> = segments
                .iter()
                .flat_map(|s| by_key.get(&(1 + s)).cloned().unwrap_or_default())
                .collect();
            members.sort_unstable();
            members.dedup();
            if members.is_empty() {
                None
            } else {
                Some(push_level(index, levels.build(&members)))
            }
        });
        if let Some(level) = *group {
            chain.push(level);
        }
        if let Some(level) = index.everyone {
            chain.push(level);
        }
        account.vis_chain = chain;
    }
}

/// Flattens the shared rest of each chain into one byte per product and epoch, when all of
/// them fit in [`FLAT_BUDGET`]; a tail whose levels `earlier` (compiled over the same catalog)
/// flattened already is shared with it.
fn flatten_tails(
    products: usize,
    audiences: &mut AudienceBuild,
    index: &mut VisibilityIndex,
    earlier: Option<&VisibilityIndex>,
) {
    let mut tail_of: AHashMap<SmallVec<[u32; 4]>, u32> = AHashMap::new();
    for account in &mut audiences.audiences.accounts {
        let tail: SmallVec<[u32; 4]> = account
            .vis_chain
            .get(usize::from(account.vis_own)..)
            .unwrap_or(&[])
            .into();
        if tail.is_empty() {
            continue;
        }
        let next = u32::try_from(tail_of.len()).unwrap_or(NONE);
        account.vis_tail = Some(*tail_of.entry(tail).or_insert(next));
    }
    let mut tails: Vec<(u32, SmallVec<[u32; 4]>)> =
        tail_of.into_iter().map(|(tail, n)| (n, tail)).collect();
    tails.sort_unstable();
    let epochs: usize = tails
        .iter()
        .map(|(_, tail)| tail_epochs(&index.levels, tail).len())
        .sum();
    if epochs.saturating_mul(products) <= FLAT_BUDGET {
        let flattened: AHashMap<[u8; 16], &Arc<FlatTail>> = earlier
            .into_iter()
            .flat_map(|e| &e.tails)
            .map(|t| (t.fingerprint, t))
            .collect();
        index.tails = tails
            .iter()
            .map(|(_, tail)| {
                let fingerprint = tail_fingerprint(index, tail, products);
                match flattened.get(&fingerprint) {
                    Some(&kept) => Arc::clone(kept),
                    None => Arc::new(flatten(&index.levels, tail, products, fingerprint)),
                }
            })
            .collect();
    } else {
        for account in &mut audiences.audiences.accounts {
            account.vis_tail = None;
        }
    }
}

/// Bytes the flattened tails may take (one per product and epoch); beyond it, checks test the
/// levels' bitmaps one by one.
const FLAT_BUDGET: usize = 256 << 20;

/// The instants where some level of the tail changes epoch, `Instant::MIN` first.
fn tail_epochs(levels: &[VisLevel], tail: &[u32]) -> Vec<Instant> {
    let mut cuts: Vec<Instant> = tail
        .iter()
        .filter_map(|&l| levels.get(l as usize))
        .flat_map(|l| l.epochs.iter().map(|(start, _)| *start))
        .chain([Instant::MIN])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// The [`FlatTail::fingerprint`] of a tail.
fn tail_fingerprint(index: &VisibilityIndex, tail: &[u32], products: usize) -> [u8; 16] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&(products as u64).to_le_bytes());
    for &l in tail {
        hasher.update(index.level_fingerprints.get(l as usize).unwrap_or(&[0; 16]));
    }
    first16(&hasher.finalize())
}

/// One byte per product and epoch holding what the first deciding level of the tail says.
fn flatten(levels: &[VisLevel], tail: &[u32], products: usize, fingerprint: [u8; 16]) -> FlatTail {
    let epochs = tail_epochs(levels, tail)
        .into_iter()
        .map(|at| {
            let mut bytes = vec![0u8; products];
            // Least specific level first, so that a more specific one overwrites it.
            for level in tail.iter().rev().filter_map(|&l| levels.get(l as usize)) {
                let Some((_, decisions)) = level.at(at) else {
                    continue;
                };
                for (cap, decision) in decisions.iter().enumerate() {
                    let decided = 1u8 << (2 * cap);
                    let allowed = decided << 1;
                    for p in &decision.decided {
                        if let Some(b) = bytes.get_mut(p as usize) {
                            *b = (*b & !(decided | allowed)) | decided;
                        }
                    }
                    for p in &decision.allowed {
                        if let Some(b) = bytes.get_mut(p as usize) {
                            *b |= allowed;
                        }
                    }
                }
            }
            (at, bytes.into_boxed_slice())
        })
        .collect();
    FlatTail {
        epochs,
        fingerprint,
    }
}

fn segment_count(audiences: &AudienceBuild) -> u32 {
    u32::try_from(audiences.audiences.segment_ids.len()).unwrap_or(0)
}

fn push_level(index: &mut VisibilityIndex, (level, fingerprint): (VisLevel, [u8; 16])) -> u32 {
    index.levels.push(level);
    index.level_fingerprints.push(fingerprint);
    u32::try_from(index.levels.len() - 1).unwrap_or(u32::MAX)
}

fn build_level(
    rules: &[VisRuleDef],
    members: &[usize],
    selectors: &IdVec<SelectorId, SelectorDef>,
) -> VisLevel {
    let mut cuts: Vec<Instant> = vec![Instant::MIN];
    for &m in members {
        if let Some(r) = rules.get(m) {
            cuts.extend(
                [r.validity.from, r.validity.until]
                    .into_iter()
                    .filter(|t| *t != Instant::MIN && *t != Instant::MAX),
            );
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut epochs: Vec<(Instant, [Arc<CapDecision>; 3])> = Vec::new();
    let mut previous_active: Option<Vec<usize>> = None;
    for at in cuts {
        let active: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&m| rules.get(m).is_some_and(|r| r.validity.contains(at)))
            .collect();
        if previous_active.as_ref() == Some(&active) {
            continue;
        }
        let decide = |cap: usize| Arc::new(decision(rules, &active, cap, selectors));
        epochs.push((at, [decide(0), decide(1), decide(2)]));
        previous_active = Some(active);
    }
    VisLevel { epochs }
}

/// Most specific selector first; within a specificity, deny wins.
fn decision(
    rules: &[VisRuleDef],
    active: &[usize],
    cap: usize,
    selectors: &IdVec<SelectorId, SelectorDef>,
) -> CapDecision {
    let mut groups: Vec<(Spec, bool, &RoaringBitmap)> = active
        .iter()
        .filter_map(|&m| rules.get(m))
        .filter(|r| r.concerns.get(cap).copied().unwrap_or(false))
        .filter_map(|r| {
            selectors
                .get(r.selector)
                .map(|s| (s.spec, r.allow, &s.products))
        })
        .collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    let mut out = CapDecision::default();
    let mut start = 0;
    while let Some(&(spec, _, _)) = groups.get(start) {
        let end = start
            + groups
                .get(start..)
                .map(|g| g.iter().take_while(|x| x.0 == spec).count())
                .unwrap_or(1);
        let mut allow = RoaringBitmap::new();
        let mut deny = RoaringBitmap::new();
        for &(_, allowed, products) in groups.get(start..end).unwrap_or(&[]) {
            if allowed {
                allow |= products;
            } else {
                deny |= products;
            }
        }
        let fresh = &(&allow | &deny) - &out.decided;
        out.allowed |= &(&fresh & &allow) - &deny;
        out.decided |= fresh;
        start = end.max(start + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_reaches_up_allow_reaches_down() {
        assert_eq!(
            concerns(Effect::Deny, &[Capability::See]),
            [true, true, true]
        );
        assert_eq!(
            concerns(Effect::Deny, &[Capability::Buy]),
            [false, false, true]
        );
        assert_eq!(
            concerns(Effect::Allow, &[Capability::Buy]),
            [true, true, true]
        );
        assert_eq!(
            concerns(Effect::Allow, &[Capability::See]),
            [true, false, false]
        );
        assert_eq!(
            concerns(Effect::Deny, &[Capability::Price]),
            [false, true, true]
        );
    }
}
