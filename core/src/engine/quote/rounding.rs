//! Rounding (docs/spec.md §6.7): which policy a quote rounds with, `round_to`'s default mode,
//! and the quantity rules' nearest valid quantity.

use rust_decimal::Decimal;

use super::procedure::*;
use crate::engine::Engine;
use crate::index::{CurrencyId, Policy, RuleDef};
use crate::model::{RoundingMode, RoundingStage};
use crate::money::ExactMul;

impl Engine {
    /// `round_to`'s default mode: the rule's policy, its contract's, the currency's, the
    /// settings', else half up.
    pub(super) fn round_to_mode(&self, rule: &RuleDef, currency: CurrencyId) -> RoundingMode {
        [
            rule.rounding,
            self.index.pricing.contracts.row(rule.contract).rounding,
            self.index.currencies.get(currency).and_then(|c| c.rounding),
            self.index.settings.rounding,
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|p| self.policy(p).mode)
        .unwrap_or(RoundingMode::HalfUp)
    }

    /// The rounding policy of a quote (docs/spec.md §6.7).
    pub(super) fn policy_for(&self, applied: &[CandidateKind], currency: CurrencyId) -> Policy {
        let rules = || {
            applied.iter().rev().filter_map(|k| match k {
                CandidateKind::Rule(r) => Some(self.index.pricing.rules.row(*r)),
                CandidateKind::Entry { .. } => None,
            })
        };
        let own = rules().find_map(|r| r.rounding);
        let contract =
            || rules().find_map(|r| self.index.pricing.contracts.row(r.contract).rounding);
        let list = || {
            applied.iter().rev().find_map(|k| match k {
                CandidateKind::Entry { list, .. } => self.index.pricing.lists.row(*list).rounding,
                CandidateKind::Rule(_) => None,
            })
        };
        let chosen = own
            .or_else(contract)
            .or_else(list)
            .or_else(|| self.index.currencies.get(currency).and_then(|c| c.rounding))
            .or(self.index.settings.rounding);
        chosen.map(|p| *self.policy(p)).unwrap_or(Policy {
            mode: RoundingMode::HalfUp,
            stage: RoundingStage::Unit,
            scale: None,
            unit_scale: 4,
        })
    }
}

/// The valid quantity closest to `qty` (ties to the larger), docs/spec.md §6.8.
pub(crate) fn nearest_quantity(
    qty: Decimal,
    min: Option<Decimal>,
    multiple: Option<Decimal>,
) -> Option<Decimal> {
    let floor_min = min.unwrap_or(Decimal::ZERO);
    let Some(m) = multiple else {
        return Some(qty.max(floor_min));
    };
    // The smallest valid quantity: the first multiple at or above the minimum (and above 0).
    let first = {
        let k = (floor_min.checked_div(m)?).ceil().max(Decimal::ONE);
        k.exact_mul(m)?
    };
    if qty <= first {
        return Some(first);
    }
    let below = (qty.checked_div(m)?).floor().exact_mul(m)?;
    let above = below.checked_add(m)?;
    let below = below.max(first);
    Some(if qty - below < above - qty {
        below
    } else {
        above
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn nearest_quantity_rounds_to_multiples_ties_up() {
        assert_eq!(nearest_quantity(d("7"), None, Some(d("5"))), Some(d("5")));
        assert_eq!(
            nearest_quantity(d("7.5"), None, Some(d("5"))),
            Some(d("10"))
        );
        assert_eq!(nearest_quantity(d("8"), None, Some(d("5"))), Some(d("10")));
        assert_eq!(
            nearest_quantity(d("2"), Some(d("10")), Some(d("4"))),
            Some(d("12"))
        );
        assert_eq!(nearest_quantity(d("3"), Some(d("10")), None), Some(d("10")));
        assert_eq!(
            nearest_quantity(d("1.2"), None, Some(d("0.5"))),
            Some(d("1.0"))
        );
    }
}
