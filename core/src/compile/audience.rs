//! Segments, accounts and their hierarchy: each account's audience chain, computed once.

use ahash::AHashMap;
use smallvec::SmallVec;

use super::hierarchy::{self, Depth};
use super::values::{At, Currencies};
use super::{items, values, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::{AccountDef, AccountId, AudKey, Audiences, Id, IdVec, NONE};
use crate::model::{self, Audience, Document};

/// Audiences being built, with what later phases resolve through.
pub(crate) struct AudienceBuild {
    pub audiences: Audiences,
    pub segment_index: AHashMap<String, u32>,
    /// Price lists named by each segment, with the path of each name.
    pub segment_lists: Vec<Vec<(String, String)>>,
    /// Price lists named by each account, with the path of each name.
    pub account_lists: Vec<Vec<(String, String)>>,
    /// Segments of each account and its ancestors (sorted, unique).
    pub segment_sets: Vec<SmallVec<[u32; 4]>>,
    /// Aliases of each account: (alias, sku, path).
    pub aliases: Vec<Vec<(String, String, String)>>,
}

impl AudienceBuild {
    /// The audiences of a compiled index, for a compile of contracts or price lists alone:
    /// the accounts with their chains and lists, their visibility chains cleared for the
    /// contracts to set again, and the lists each segment and account names (for price
    /// lists to be attached again).
    pub fn over(
        compiled: &Audiences,
        segment_lists: &[Vec<(String, String)>],
        account_lists: &[Vec<(String, String)>],
    ) -> AudienceBuild {
        let mut audiences = compiled.clone();
        let segments = u32::try_from(audiences.segment_ids.len()).unwrap_or(0);
        let segment_sets = audiences
            .accounts
            .iter()
            .map(|a| {
                a.chain
                    .iter()
                    .filter(|&&(key, _)| key >= 1 && key <= segments)
                    .map(|&(key, _)| key - 1)
                    .collect()
            })
            .collect();
        for account in audiences.accounts.iter_mut() {
            account.vis_chain = SmallVec::new();
            account.vis_own = 0;
            account.vis_tail = None;
        }
        AudienceBuild {
            segment_index: segment_index(&audiences),
            audiences,
            segment_lists: segment_lists.to_vec(),
            account_lists: account_lists.to_vec(),
            segment_sets,
            aliases: Vec::new(),
        }
    }

    /// The audience key of a segment.
    pub fn segment_key(&self, segment: u32) -> AudKey {
        Audiences::segment_key(segment)
    }

    /// The names a contract's audience resolves through.
    pub fn names(&self) -> AudienceNames<'_> {
        AudienceNames {
            audiences: &self.audiences,
            segments: &self.segment_index,
        }
    }
}

/// What resolves a contract's audience to audience keys: the accounts and the segments by id.
/// A compile of pricing rules alone resolves through the engine's audiences without copying
/// them.
pub(crate) struct AudienceNames<'a> {
    pub audiences: &'a Audiences,
    pub segments: &'a AHashMap<String, u32>,
}

/// The segments of compiled audiences by id, for [`AudienceNames`].
pub(crate) fn segment_index(audiences: &Audiences) -> AHashMap<String, u32> {
    (audiences.segment_ids.iter().enumerate())
        .filter_map(|(i, s)| Some((s.to_string(), u32::try_from(i).ok()?)))
        .collect()
}

impl AudienceNames<'_> {
    /// Resolves a contract audience to audience keys, reporting unknown names.
    pub fn resolve(
        &self,
        audience: &Audience,
        path: impl At,
        diags: &mut Diags,
    ) -> SmallVec<[AudKey; 2]> {
        let mut keys = SmallVec::new();
        match audience {
            Audience::All => keys.push(0),
            Audience::Some { accounts, segments } => {
                for (k, a) in accounts.iter().enumerate() {
                    match self.audiences.account_index.get(a.as_str()) {
                        Some(&id) => keys.push(self.audiences.account_key(id)),
                        None => diags.error(
                            Code::UnknownReference,
                            &format!("{}.accounts[{k}]", path.path()),
                            format!("unknown account `{a}`"),
                            &[a],
                        ),
                    }
                }
                for (k, s) in segments.iter().enumerate() {
                    match self.segments.get(s) {
                        Some(&id) => keys.push(Audiences::segment_key(id)),
                        None => diags.error(
                            Code::UnknownReference,
                            &format!("{}.segments[{k}]", path.path()),
                            format!("unknown segment `{s}`"),
                            &[s],
                        ),
                    }
                }
                if accounts.is_empty() && segments.is_empty() {
                    diags.error(
                        Code::InvalidType,
                        &path.path(),
                        "the audience names no account and no segment; use `\"all\"` for everyone"
                            .into(),
                        &[],
                    );
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

pub(crate) fn build(doc: &Document, currencies: &Currencies, diags: &mut Diags) -> AudienceBuild {
    let mut b = AudienceBuild {
        audiences: Audiences {
            segment_ids: Vec::new(),
            accounts: IdVec::new(),
            account_index: AHashMap::new(),
        },
        segment_index: AHashMap::new(),
        segment_lists: Vec::new(),
        account_lists: Vec::new(),
        segment_sets: Vec::new(),
        aliases: Vec::new(),
    };
    for (i, s) in items(&doc.segments, "segments", diags) {
        let path = format!("segments[{i}]");
        if !values::id_ok(&s.id, &format!("{path}.id"), diags) {
            continue;
        }
        if b.segment_index.contains_key(&s.id) {
            diags.error(
                Code::DuplicateId,
                &format!("{path}.id"),
                format!("duplicate segment `{}`", s.id),
                &[&s.id],
            );
            continue;
        }
        b.segment_index.insert(
            s.id.clone(),
            u32::try_from(b.audiences.segment_ids.len()).unwrap_or(NONE),
        );
        b.audiences.segment_ids.push(s.id.as_str().into());
        b.segment_lists.push(
            s.price_lists
                .iter()
                .enumerate()
                .map(|(k, l)| (l.clone(), format!("{path}.price_lists[{k}]")))
                .collect(),
        );
    }
    let kept = intern_accounts(doc, currencies, &mut b, diags);
    let links = link_accounts(&kept, &b, diags);
    chain_accounts(&kept, &links, &mut b, diags);
    b
}

/// Registers every well-formed, unique account; returns them in id order, with their index in
/// the document.
fn intern_accounts<'d>(
    doc: &'d Document,
    currencies: &Currencies,
    b: &mut AudienceBuild,
    diags: &mut Diags,
) -> Vec<(usize, &'d model::Account)> {
    let mut kept = Vec::new();
    for (i, a) in items(&doc.accounts, "accounts", diags) {
        let path = format!("accounts[{i}]");
        if !values::id_ok(&a.id, &format!("{path}.id"), diags) {
            continue;
        }
        if b.audiences.account_index.contains_key(a.id.as_str()) {
            diags.error(
                Code::DuplicateId,
                &format!("{path}.id"),
                format!("duplicate account `{}`", a.id),
                &[&a.id],
            );
            continue;
        }
        let currency = a
            .currency
            .as_deref()
            .and_then(|c| currencies.resolve(c, &format!("{path}.currency"), diags));
        let Some(id) = b.audiences.accounts.push(AccountDef {
            id: a.id.as_str().into(),
            currency,
            chain: SmallVec::new(),
            lists: SmallVec::new(),
            vis_chain: SmallVec::new(),
            vis_own: 0,
            vis_tail: None,
            lineage: SmallVec::new(),
        }) else {
            continue;
        };
        b.audiences.account_index.insert(a.id.as_str().into(), id);
        b.account_lists.push(
            a.price_lists
                .iter()
                .enumerate()
                .map(|(k, l)| (l.clone(), format!("{path}.price_lists[{k}]")))
                .collect(),
        );
        b.aliases.push(
            a.aliases
                .iter()
                .map(|(alias, sku)| {
                    (
                        alias.clone(),
                        sku.clone(),
                        format!("{path}.aliases.{alias}"),
                    )
                })
                .collect(),
        );
        kept.push((i, a));
    }
    kept
}

/// Each account's parent and own segments, in account id order.
struct Links {
    parent: Vec<Option<AccountId>>,
    own_segments: Vec<SmallVec<[u32; 4]>>,
}

/// Resolves each account's parent and segments, reporting unknown names.
fn link_accounts(kept: &[(usize, &model::Account)], b: &AudienceBuild, diags: &mut Diags) -> Links {
    let mut links = Links {
        parent: Vec::with_capacity(kept.len()),
        own_segments: Vec::with_capacity(kept.len()),
    };
    for (i, a) in kept {
        let parent = a.parent.as_ref().and_then(|p| {
            let found = b.audiences.account_index.get(p.as_str()).copied();
            if found.is_none() {
                diags.error(
                    Code::UnknownReference,
                    &format!("accounts[{i}].parent"),
                    format!("unknown parent account `{p}`"),
                    &[&a.id, p],
                );
            }
            found
        });
        let mut segments = SmallVec::new();
        for (k, s) in a.segments.iter().enumerate() {
            match b.segment_index.get(s) {
                Some(&sid) => segments.push(sid),
                None => diags.error(
                    Code::UnknownReference,
                    &format!("accounts[{i}].segments[{k}]"),
                    format!("unknown segment `{s}`"),
                    &[&a.id, s],
                ),
            }
        }
        links.parent.push(parent);
        links.own_segments.push(segments);
    }
    links
}

/// Each account's lineage (itself, then its ancestors) and audience chain: the lineage's
/// keys, then the segments of the whole lineage, then everyone. A cycle is reported once per
/// account on it.
fn chain_accounts(
    kept: &[(usize, &model::Account)],
    links: &Links,
    b: &mut AudienceBuild,
    diags: &mut Diags,
) {
    let ids: Vec<AccountId> = b.audiences.accounts.ids().collect();
    let parents: Vec<u32> = links
        .parent
        .iter()
        .map(|p| p.map_or(NONE, AccountId::raw))
        .collect();
    let depths = hierarchy::depths(&parents);
    for (n, &id) in ids.iter().enumerate() {
        let (i, a) = kept
            .get(n)
            .map(|(i, a)| (*i, a.id.as_str()))
            .unwrap_or((0, ""));
        match depths.get(n) {
            Some(Depth::Cyclic) => diags.error(
                Code::HierarchyCycle,
                &format!("accounts[{i}].parent"),
                format!("account `{a}` is its own ancestor"),
                &[a],
            ),
            // One error per over-deep branch, at its topmost offender.
            Some(&Depth::Ancestors(d)) if d == hierarchy::MAX_DEPTH + 1 => diags.error(
                Code::HierarchyTooDeep,
                &format!("accounts[{i}].parent"),
                format!(
                    "account `{a}` has {d} ancestors: account hierarchies are limited to {} levels above an account",
                    hierarchy::MAX_DEPTH
                ),
                &[a],
            ),
            _ => {}
        }
        // Bounded even where the document is rejected, so that a cycle or an over-deep chain
        // costs no more than a legal one.
        let mut lineage: SmallVec<[AccountId; 4]> = SmallVec::new();
        let mut at = Some(id);
        while let Some(account) = at {
            if lineage.len() > hierarchy::MAX_DEPTH as usize {
                break;
            }
            lineage.push(account);
            at = links.parent.get(account.index()).copied().flatten();
        }
        let mut segments: SmallVec<[u32; 4]> = lineage
            .iter()
            .flat_map(|x| {
                links
                    .own_segments
                    .get(x.index())
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        segments.sort_unstable();
        segments.dedup();
        let mut chain: SmallVec<[(AudKey, u8); 6]> = SmallVec::new();
        for (depth, &acc) in lineage.iter().enumerate() {
            chain.push((
                b.audiences.account_key(acc),
                u8::try_from(depth).unwrap_or(u8::MAX),
            ));
        }
        let seg_level = u8::try_from(lineage.len()).unwrap_or(u8::MAX);
        for &s in &segments {
            chain.push((b.segment_key(s), seg_level));
        }
        chain.push((0, seg_level.saturating_add(1)));
        if let Some(def) = b.audiences.accounts.get_mut(id) {
            def.chain = chain;
            def.lineage = lineage;
        }
        b.segment_sets.push(segments);
    }
}
