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

/// The bounds the rules that apply to a line set on its unit price.
pub(crate) struct LineLimits<'e> {
    sku: &'e str,
    floor: Option<Limit>,
    ceiling: Option<Limit>,
    qty: Decimal,
    scale: u32,
    mode: crate::model::RoundingMode,
}

impl LineLimits<'_> {
    /// The lowest line total the floors allow (the unit floor times the quantity, rounded up
    /// to the line's scale), `None` without floor.
    pub(crate) fn line_floor(&self) -> Option<Decimal> {
        let floor = self.floor.as_ref()?;
        let line = floor.value.exact_mul(self.qty)?;
        Some(line.round_dp_with_strategy(self.scale, rust_decimal::RoundingStrategy::AwayFromZero))
    }
}

impl Engine {
    /// The floors and ceilings of the bounds rules that apply to the line of `request` (the
    /// rules its quote selects, in its order when it has one), read as unit prices from its
    /// base price (`base_price`).
    pub(crate) fn line_limits(
        &self,
        request: &QuoteRequest<'_>,
        order: Option<OrderLines>,
    ) -> Result<LineLimits<'_>, QueryError> {
        let (mut ctx, _) = self.prepare(request)?;
        ctx.order = order;
        let sku = self.sku(ctx.product);
        let mut chosen = Chosen::default();
        let priced = self
            .run(&ctx, &mut chosen)
            .map_err(|f| self.fail(f, &ctx))?;
        let (_, _, base) = self
            .finish(&priced, ctx.qty)
            .map_err(|f| self.fail(f, &ctx))?;
        let overflow = || QueryError::Overflow(sku.to_string());
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
        Ok(LineLimits {
            sku,
            floor,
            ceiling,
            qty: ctx.qty,
            scale: priced.scale,
            mode: priced.policy.mode,
        })
    }

    /// The unit price and line total of `request` at the manual unit price `price`, when the
    /// price is within the bounds of [`Engine::line_limits`]; `PRICE_BOUND` naming the limit
    /// and its rule otherwise. The unit price is `price` written with at least the line's
    /// decimals, the total `price × qty` rounded to the line's scale in its rounding mode.
    pub(crate) fn manual_line(
        &self,
        request: &QuoteRequest<'_>,
        order: Option<OrderLines>,
        price: Decimal,
    ) -> Result<(Decimal, Decimal), QueryError> {
        let limits = self.line_limits(request, order)?;
        let refuse = |kind: &str, limit: Decimal, rule: Option<String>| QueryError::PriceBound {
            sku: limits.sku.to_string(),
            price,
            bound: kind.to_string(),
            limit,
            rule,
        };
        if price < Decimal::ZERO {
            return Err(refuse("non_negative", Decimal::ZERO, None));
        }
        if let Some(l) = limits.floor.as_ref().filter(|l| price < l.value) {
            return Err(refuse(l.kind.as_str(), l.value, Some(l.rule.clone())));
        }
        // The floor wins over a ceiling below it (docs/spec.md §6.5): the floor is allowed then.
        if let Some(l) = limits
            .ceiling
            .as_ref()
            .filter(|l| price > l.value && limits.floor.as_ref().is_none_or(|f| price > f.value))
        {
            return Err(refuse(l.kind.as_str(), l.value, Some(l.rule.clone())));
        }
        let line = price
            .exact_mul(limits.qty)
            .ok_or_else(|| QueryError::Overflow(limits.sku.to_string()))?;
        let mut unit = price;
        if unit.scale() < limits.scale {
            unit.rescale(limits.scale);
        }
        Ok((unit, money::round(line, limits.scale, limits.mode)))
    }
}
