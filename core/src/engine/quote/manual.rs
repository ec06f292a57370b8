//! A unit price set by hand (a sales rep's quote, docs/spec.md §12.6), accepted only within
//! the bounds the rules that price the line set.

use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::procedure::*;
use super::types::QuoteRequest;
use crate::engine::Engine;
use crate::error::QueryError;
use crate::index::Action;
use crate::model::BoundKind;
use crate::money::{self, ExactMul};

/// Records which candidates applied, nothing else.
#[derive(Default)]
struct Chosen(SmallVec<[Candidate; 4]>);

impl Recorder<'_> for Chosen {
    const STEPS: bool = false;
    const CHOICES: bool = true;
    fn chose(&mut self, candidate: &Candidate) {
        self.0.push(*candidate);
    }
}

/// The tightest limit on one side, with where it comes from.
struct Limit {
    value: Decimal,
    kind: BoundKind,
    rule: String,
}

impl Engine {
    /// The unit price and line total of `request` at the manual unit price `price`, when the
    /// price is within the bounds that the bounds rules applying to the line set (read in
    /// unit amounts from the line's base price); `PRICE_BOUND` naming the limit and its rule
    /// otherwise. The unit price is `price` written with at least the line's decimals, the
    /// total `price × qty` rounded to the line's scale in its rounding mode.
    pub(crate) fn manual_line(
        &self,
        request: &QuoteRequest<'_>,
        price: Decimal,
    ) -> Result<(Decimal, Decimal), QueryError> {
        let (ctx, _) = self.prepare(request)?;
        let sku = self.sku(ctx.product);
        let refuse = |kind: &str, limit: Decimal, rule: Option<String>| QueryError::PriceBound {
            sku: sku.to_string(),
            price,
            bound: kind.to_string(),
            limit,
            rule,
        };
        if price < Decimal::ZERO {
            return Err(refuse("non_negative", Decimal::ZERO, None));
        }
        let mut chosen = Chosen::default();
        let priced = self
            .run(&ctx, &mut chosen)
            .map_err(|f| self.fail(f, &ctx))?;
        let overflow = || QueryError::Overflow(sku.to_string());
        let base = priced.base.as_unit(ctx.qty).ok_or_else(overflow)?;
        let mut floor: Option<Limit> = None;
        let mut ceiling: Option<Limit> = None;
        for cand in &chosen.0 {
            let CandidateKind::Rule(r) = cand.kind else {
                continue;
            };
            let rule = self.index.pricing.rules.row(r);
            let Action::Bounds(bounds) = &rule.action else {
                continue;
            };
            let limits = self
                .bound_limits(bounds, &ctx, base, Decimal::ONE)
                .map_err(|_| overflow())?;
            for (kind, value) in limits {
                let slot = if kind.is_floor() {
                    &mut floor
                } else {
                    &mut ceiling
                };
                let tighter = slot.as_ref().is_none_or(|l| {
                    if kind.is_floor() {
                        value > l.value
                    } else {
                        value < l.value
                    }
                });
                if tighter {
                    *slot = Some(Limit {
                        value,
                        kind,
                        rule: rule.id.to_string(),
                    });
                }
            }
        }
        if let Some(l) = floor.as_ref().filter(|l| price < l.value) {
            return Err(refuse(l.kind.as_str(), l.value, Some(l.rule.clone())));
        }
        // The floor wins over a ceiling below it (docs/spec.md §6.5): the floor is allowed then.
        if let Some(l) = ceiling
            .as_ref()
            .filter(|l| price > l.value && floor.as_ref().is_none_or(|f| price > f.value))
        {
            return Err(refuse(l.kind.as_str(), l.value, Some(l.rule.clone())));
        }
        let line = price.exact_mul(ctx.qty).ok_or_else(overflow)?;
        let mut unit = price;
        if unit.scale() < priced.scale {
            unit.rescale(priced.scale);
        }
        Ok((unit, money::round(line, priced.scale, priced.policy.mode)))
    }
}
