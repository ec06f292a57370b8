//! Accounts and segments: each account's precomputed chain of audience keys.

use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::ids::{AccountId, AudKey, CurrencyId, Id, IdVec, ListId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Audiences {
    pub segment_ids: Vec<Box<str>>,
    pub accounts: IdVec<AccountId, AccountDef>,
    pub account_index: AHashMap<Box<str>, AccountId>,
}

/// Everything a query needs about an account, precomputed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccountDef {
    pub id: Box<str>,
    pub currency: Option<CurrencyId>,
    /// Audience keys of the chain with their level (0 = the account, …, everyone last).
    pub chain: SmallVec<[(AudKey, u8); 6]>,
    /// Price lists reached through the chain, most specific level first, each once.
    pub lists: SmallVec<[(ListId, u8, AudKey); 4]>,
    /// Visibility levels of the chain that have rules, most specific first.
    pub vis_chain: SmallVec<[u32; 4]>,
    /// How many of them are the account's own or its ancestors' (the rest are shared).
    pub vis_own: u8,
    /// The flattened decision of the shared rest ([`super::VisibilityIndex::tails`]), when
    /// the rest is flattened.
    pub vis_tail: Option<u32>,
    /// The account then its ancestors, nearest first.
    pub lineage: SmallVec<[AccountId; 4]>,
}

/// What an audience key speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    Everyone,
    /// A segment, by its position in `segment_ids`.
    Segment(usize),
    Account(AccountId),
}

impl Audiences {
    /// The audience key of a segment, by its position in `segment_ids`: after everyone (0).
    pub fn segment_key(segment: u32) -> AudKey {
        1 + segment
    }

    /// The audience key of an account: after everyone (0) and the segments.
    pub fn account_key(&self, account: AccountId) -> AudKey {
        1 + u32::try_from(self.segment_ids.len()).unwrap_or(0) + account.raw()
    }

    /// What an audience key speaks to (the inverse of the key encoding).
    pub fn audience_of(&self, key: AudKey) -> Option<Audience> {
        let segments = u32::try_from(self.segment_ids.len()).unwrap_or(0);
        match key {
            0 => Some(Audience::Everyone),
            s if s <= segments => Some(Audience::Segment((s - 1) as usize)),
            a => AccountId::from_index((a - 1 - segments) as usize).map(Audience::Account),
        }
    }
}
