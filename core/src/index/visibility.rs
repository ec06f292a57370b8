//! Visibility: per audience level, which products each capability is decided and allowed for,
//! epoch by epoch.

use std::sync::Arc;

use ahash::AHashMap;
use roaring::RoaringBitmap;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use super::compact;
use super::ids::{AudKey, SelectorId};
use crate::instant::{Instant, Interval};

/// Per audience level, the visibility decision over time.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct VisibilityIndex {
    pub levels: Vec<VisLevel>,
    /// Per level, blake3 (first 16 bytes) over what it was built from: each of its rules'
    /// validity, capabilities, effect and selector text. Over the same catalog, equal
    /// fingerprints are equal levels, which a change of other rules takes as they were.
    pub level_fingerprints: Vec<[u8; 16]>,
    /// Level of everyone, if any rule speaks to everyone.
    pub everyone: Option<u32>,
    /// The shared part of account chains (segment-set level, everyone level), flattened into
    /// one byte per product, so that a check reads one byte instead of testing two bitmaps per
    /// level and capability. Shared with the engine a change came from where the levels are
    /// as they were.
    pub tails: Vec<Arc<FlatTail>>,
    pub rules: Vec<VisRuleDef>,
}

#[derive(Debug, Clone)]
pub(crate) struct VisLevel {
    /// Epochs sorted by start; the decision of an instant is that of the last epoch starting at
    /// or before it (the first epoch starts at [`Instant::MIN`]).
    pub epochs: Vec<(Instant, [Arc<CapDecision>; 3])>,
}

/// The decision of one level for one capability: products it decides, and those it allows.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CapDecision {
    pub decided: RoaringBitmap,
    pub allowed: RoaringBitmap,
}

/// The decisions of a run of levels, per epoch: for each product, bit `2c` says whether a level
/// decides capability `c` (see, price, buy) and bit `2c + 1` whether the first one deciding
/// allows it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FlatTail {
    /// Epochs sorted by start, the first at [`Instant::MIN`].
    #[serde(with = "compact")]
    pub epochs: Vec<(Instant, Box<[u8]>)>,
    /// blake3 (first 16 bytes) over the catalog's size and the tail's levels' fingerprints: a
    /// tail of equal levels flattens to the same bytes, so a change that leaves them as they
    /// were keeps it.
    pub fingerprint: [u8; 16],
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VisRuleDef {
    pub id: Box<str>,
    pub allow: bool,
    pub selector: SelectorId,
    pub concerns: [bool; 3],
    #[serde(with = "compact")]
    pub validity: Interval,
    pub audience: SmallVec<[AudKey; 2]>,
}

/// In a snapshot, a level's decisions are written once each: epochs share the decisions that
/// did not change (an `Arc` each), and writing them per epoch would multiply the bitmaps.
#[derive(Serialize)]
struct LevelOut<'a> {
    decisions: Vec<&'a CapDecision>,
    epochs: Vec<(i64, [u32; 3])>,
}

#[derive(Deserialize)]
struct LevelIn {
    decisions: Vec<CapDecision>,
    epochs: Vec<(i64, [u32; 3])>,
}

impl Serialize for VisLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut numbers: AHashMap<*const CapDecision, u32> = AHashMap::new();
        let mut decisions = Vec::new();
        let mut epochs = Vec::with_capacity(self.epochs.len());
        for (start, caps) in &self.epochs {
            let mut numbered = [0u32; 3];
            for (number, cap) in numbered.iter_mut().zip(caps) {
                *number = *numbers.entry(Arc::as_ptr(cap)).or_insert_with(|| {
                    decisions.push(&**cap);
                    u32::try_from(decisions.len() - 1).unwrap_or(u32::MAX)
                });
            }
            epochs.push((start.0, numbered));
        }
        LevelOut { decisions, epochs }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for VisLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let level = LevelIn::deserialize(d)?;
        let decisions: Vec<Arc<CapDecision>> = level.decisions.into_iter().map(Arc::new).collect();
        let decision = |number: u32| {
            decisions
                .get(number as usize)
                .cloned()
                .ok_or_else(|| de::Error::custom(format_args!("no decision {number}")))
        };
        let epochs = level
            .epochs
            .into_iter()
            .map(|(start, [see, price, buy])| {
                Ok((
                    Instant(start),
                    [decision(see)?, decision(price)?, decision(buy)?],
                ))
            })
            .collect::<Result<_, D::Error>>()?;
        Ok(VisLevel { epochs })
    }
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
