//! Segments, accounts and their hierarchy: each account's audience chain, computed once.

use ahash::AHashMap;
use smallvec::SmallVec;

use super::values::Currencies;
use super::{items, values, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::{AccountDef, AccountId, AudKey, Audiences, NONE};
use crate::model::{Audience, Document};

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
    /// The audience key of a segment.
    pub fn segment_key(&self, segment: u32) -> AudKey {
        1 + segment
    }

    /// The audience key of an account.
    pub fn account_key(&self, account: AccountId) -> AudKey {
        1 + u32::try_from(self.audiences.segment_ids.len()).unwrap_or(0) + account
    }

    /// Resolves a contract audience to audience keys, reporting unknown names.
    pub fn resolve(
        &self,
        audience: &Audience,
        path: &str,
        diags: &mut Diags,
    ) -> SmallVec<[AudKey; 2]> {
        let mut keys = SmallVec::new();
        match audience {
            Audience::All => keys.push(0),
            Audience::Some { accounts, segments } => {
                for (k, a) in accounts.iter().enumerate() {
                    match self.audiences.account_index.get(a.as_str()) {
                        Some(&id) => keys.push(self.account_key(id)),
                        None => diags.error(
                            Code::UnknownReference,
                            &format!("{path}.accounts[{k}]"),
                            format!("unknown account `{a}`"),
                            &[a],
                        ),
                    }
                }
                for (k, s) in segments.iter().enumerate() {
                    match self.segment_index.get(s) {
                        Some(&id) => keys.push(self.segment_key(id)),
                        None => diags.error(
                            Code::UnknownReference,
                            &format!("{path}.segments[{k}]"),
                            format!("unknown segment `{s}`"),
                            &[s],
                        ),
                    }
                }
                if accounts.is_empty() && segments.is_empty() {
                    diags.error(
                        Code::InvalidType,
                        path,
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
            accounts: Vec::new(),
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
    let accounts = items(&doc.accounts, "accounts", diags);
    let mut kept = Vec::new();
    for (i, a) in &accounts {
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
        let id = u32::try_from(b.audiences.accounts.len()).unwrap_or(NONE);
        b.audiences.account_index.insert(a.id.as_str().into(), id);
        let currency = a
            .currency
            .as_deref()
            .and_then(|c| currencies.resolve(c, &format!("{path}.currency"), diags));
        b.audiences.accounts.push(AccountDef {
            id: a.id.as_str().into(),
            currency,
            chain: SmallVec::new(),
            lists: SmallVec::new(),
            vis_chain: SmallVec::new(),
            vis_own: 0,
            vis_tail: NONE,
            lineage: SmallVec::new(),
        });
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
        kept.push((*i, *a));
    }
    let count = kept.len();
    let mut parent = vec![NONE; count];
    let mut own_segments: Vec<SmallVec<[u32; 4]>> = vec![SmallVec::new(); count];
    for (n, (i, a)) in kept.iter().enumerate() {
        if let Some(p) = &a.parent {
            match b.audiences.account_index.get(p.as_str()) {
                Some(&pid) => {
                    if let Some(slot) = parent.get_mut(n) {
                        *slot = pid;
                    }
                }
                None => diags.error(
                    Code::UnknownReference,
                    &format!("accounts[{i}].parent"),
                    format!("unknown parent account `{p}`"),
                    &[&a.id, p],
                ),
            }
        }
        for (k, s) in a.segments.iter().enumerate() {
            match b.segment_index.get(s) {
                Some(&sid) => {
                    if let Some(set) = own_segments.get_mut(n) {
                        set.push(sid);
                    }
                }
                None => diags.error(
                    Code::UnknownReference,
                    &format!("accounts[{i}].segments[{k}]"),
                    format!("unknown segment `{s}`"),
                    &[&a.id, s],
                ),
            }
        }
    }
    let segment_count = u32::try_from(b.audiences.segment_ids.len()).unwrap_or(0);
    for n in 0..count {
        let mut lineage: SmallVec<[AccountId; 4]> = SmallVec::new();
        let mut at = u32::try_from(n).unwrap_or(NONE);
        let mut cyclic = false;
        while at != NONE {
            if lineage.contains(&at) {
                cyclic = true;
                break;
            }
            lineage.push(at);
            at = parent.get(at as usize).copied().unwrap_or(NONE);
        }
        if cyclic {
            let (i, a) = kept
                .get(n)
                .map(|(i, a)| (*i, a.id.as_str()))
                .unwrap_or((0, ""));
            diags.error(
                Code::HierarchyCycle,
                &format!("accounts[{i}].parent"),
                format!("account `{a}` is its own ancestor"),
                &[a],
            );
        }
        let mut segments: SmallVec<[u32; 4]> = lineage
            .iter()
            .flat_map(|&x| own_segments.get(x as usize).cloned().unwrap_or_default())
            .collect();
        segments.sort_unstable();
        segments.dedup();
        let mut chain: SmallVec<[(AudKey, u8); 6]> = SmallVec::new();
        for (depth, &acc) in lineage.iter().enumerate() {
            chain.push((
                1 + segment_count + acc,
                u8::try_from(depth).unwrap_or(u8::MAX),
            ));
        }
        let seg_level = u8::try_from(lineage.len()).unwrap_or(u8::MAX);
        for &s in &segments {
            chain.push((1 + s, seg_level));
        }
        chain.push((0, seg_level.saturating_add(1)));
        if let Some(def) = b.audiences.accounts.get_mut(n) {
            def.chain = chain;
            def.lineage = lineage;
        }
        b.segment_sets.push(segments);
    }
    b
}
