//! How a candidate is named in a quote's steps and an explanation: its id, source, level.

use super::procedure::*;
use super::types::*;
use crate::engine::Engine;
use crate::index::audiences::Audience;
use crate::index::{AccountDef, Action, Tiered};
use crate::model::PriceMode;

impl Engine {
    /// The id of a candidate.
    pub(crate) fn cand_id(&self, cand: &Candidate) -> RuleRef<'_> {
        match cand.kind {
            CandidateKind::Rule(r) => RuleRef::Rule(&self.index.pricing.rules.row(r).id),
            CandidateKind::Entry { entry, list, .. } => RuleRef::Entry {
                list: &self.index.pricing.lists.row(list).id,
                sku: self.sku(self.index.pricing.entry(entry).product),
            },
        }
    }

    pub(crate) fn cand_source(&self, cand: &Candidate) -> Source<'_> {
        match cand.kind {
            CandidateKind::Rule(r) => {
                let pricing = &self.index.pricing;
                Source::Contract(&pricing.contracts.row(pricing.rules.row(r).contract).id)
            }
            CandidateKind::Entry { list, .. } => {
                Source::PriceList(&self.index.pricing.lists.row(list).id)
            }
        }
    }

    pub(crate) fn level_of(&self, cand: &Candidate, account: &AccountDef) -> Level<'_> {
        let audiences = &self.index.audiences;
        match audiences.audience_of(cand.aud) {
            Some(Audience::Segment(s)) => Level::Segment {
                id: audiences.segment_ids.get(s).map(|x| &**x).unwrap_or(""),
            },
            Some(Audience::Account(acc)) => {
                let depth = account.lineage.iter().position(|&x| x == acc).unwrap_or(0);
                Level::Account {
                    id: audiences.accounts.get(acc).map(|x| &*x.id).unwrap_or(""),
                    depth: u8::try_from(depth).unwrap_or(u8::MAX),
                }
            }
            Some(Audience::Everyone) | None => Level::Everyone,
        }
    }

    pub(super) fn applied_step<'e>(
        &'e self,
        step: &'e str,
        cand: &Candidate,
        ctx: &Ctx<'e>,
        before: Option<Running>,
        after: Running,
    ) -> AppliedStep<'e> {
        let unit = |r: Running| r.as_unit(ctx.qty).unwrap_or(r.value);
        let mut notes = Notes::default();
        if cand.exclusive {
            notes = notes.with(Notes::EXCLUSIVE);
        }
        if after.per_line && !before.is_some_and(|b| b.per_line) {
            notes = notes.with(Notes::GRADUATED);
        }
        let tiered =
            |t: &Tiered| !t.tiers.is_empty() && t.tiers.first().is_some_and(|(m, _)| *m <= ctx.qty);
        match cand.kind {
            CandidateKind::Entry { entry, derived, .. } => {
                if derived {
                    notes = notes.with(Notes::DERIVED);
                }
                if tiered(&self.index.pricing.entry(entry).values) {
                    notes = notes.with(Notes::TIER);
                }
            }
            CandidateKind::Rule(r) => match &self.index.pricing.rules.row(r).action {
                Action::Price { values, mode } => {
                    if tiered(values) {
                        notes = notes.with(Notes::TIER);
                    }
                    if *mode == PriceMode::NeverRaise {
                        notes = notes.with(Notes::NEVER_RAISE);
                    }
                }
                Action::Percent { values, .. } | Action::Amount { values } if tiered(values) => {
                    notes = notes.with(Notes::TIER);
                }
                Action::Bounds(_) if before.is_some_and(|b| b.value != after.value) => {
                    notes = notes.with(Notes::CLAMPED);
                }
                _ => {}
            },
        }
        AppliedStep {
            step,
            rule: self.cand_id(cand),
            source: self.cand_source(cand),
            level: self.level_of(cand, ctx.account),
            before: before.map(unit),
            after: unit(after),
            notes,
        }
    }
}
