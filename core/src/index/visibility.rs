//! Visibility: per audience level, which products each capability is decided and allowed for,
//! epoch by epoch.

use std::sync::Arc;

use roaring::RoaringBitmap;
use smallvec::SmallVec;

use super::ids::{AudKey, SelectorId};
use crate::instant::{Instant, Interval};

/// Per audience level, the visibility decision over time.
#[derive(Debug)]
pub(crate) struct VisibilityIndex {
    pub levels: Vec<VisLevel>,
    /// Level of everyone, if any rule speaks to everyone.
    pub everyone: Option<u32>,
    /// The shared part of account chains (segment-set level, everyone level), flattened into
    /// one byte per product, so that a check reads one byte instead of testing two bitmaps per
    /// level and capability.
    pub tails: Vec<FlatTail>,
    pub rules: Vec<VisRuleDef>,
}

#[derive(Debug)]
pub(crate) struct VisLevel {
    /// Epochs sorted by start; the decision of an instant is that of the last epoch starting at
    /// or before it (the first epoch starts at [`Instant::MIN`]).
    pub epochs: Vec<(Instant, [Arc<CapDecision>; 3])>,
}

/// The decision of one level for one capability: products it decides, and those it allows.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct CapDecision {
    pub decided: RoaringBitmap,
    pub allowed: RoaringBitmap,
}

/// The decisions of a run of levels, per epoch: for each product, bit `2c` says whether a level
/// decides capability `c` (see, price, buy) and bit `2c + 1` whether the first one deciding
/// allows it.
#[derive(Debug)]
pub(crate) struct FlatTail {
    /// Epochs sorted by start, the first at [`Instant::MIN`].
    pub epochs: Vec<(Instant, Box<[u8]>)>,
}

#[derive(Debug)]
pub(crate) struct VisRuleDef {
    pub id: Box<str>,
    pub allow: bool,
    pub selector: SelectorId,
    pub concerns: [bool; 3],
    pub validity: Interval,
    pub audience: SmallVec<[AudKey; 2]>,
}

/// The epoch in force at `at` — the last one starting at or before it — with its number.
pub(crate) fn epoch_at<T>(epochs: &[(Instant, T)], at: Instant) -> Option<(usize, &T)> {
    let epoch = epochs
        .partition_point(|(start, _)| *start <= at)
        .checked_sub(1)?;
    epochs.get(epoch).map(|(_, value)| (epoch, value))
}

impl VisLevel {
    /// The level's decisions at `at`, with the number of their epoch.
    pub(crate) fn at(&self, at: Instant) -> Option<(usize, &[Arc<CapDecision>; 3])> {
        epoch_at(&self.epochs, at)
    }
}

impl FlatTail {
    /// The flattened decisions at `at`, one byte per product.
    pub(crate) fn at(&self, at: Instant) -> Option<&[u8]> {
        epoch_at(&self.epochs, at).map(|(_, bytes)| &**bytes)
    }
}
