//! Applying one candidate to the running price (docs/spec.md §6.3–6.6).

use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::procedure::*;
use crate::engine::Engine;
use crate::index::{Action, Bounds, ListId, RoundTarget, RuleDef, Tiered, NONE};
use crate::model::BoundKind;
use crate::model::{PercentOf, PriceMode, RoundingMode, TierMode};
use crate::money::{self, non_negative, ExactMul};

impl Engine {
    /// The candidate's result on the running price; `None` when it is not a candidate here.
    /// Once a quote is line-primary it stays so (docs/spec.md §6.4).
    pub(crate) fn apply_action(
        &self,
        cand: &Candidate,
        ctx: &Ctx<'_>,
        running: Option<Running>,
        base: Option<Running>,
    ) -> Calc<Option<Running>> {
        let result = self.apply_in_own_basis(cand, ctx, running, base)?;
        match (result, running) {
            (Some(r), Some(before)) if before.per_line && !r.per_line => {
                Ok(Some(Running::line(ok(r.value.exact_mul(ctx.qty))?)))
            }
            _ => Ok(result),
        }
    }

    pub(super) fn apply_in_own_basis(
        &self,
        cand: &Candidate,
        ctx: &Ctx<'_>,
        running: Option<Running>,
        base: Option<Running>,
    ) -> Calc<Option<Running>> {
        match cand.kind {
            CandidateKind::Entry {
                entry,
                list,
                derived,
            } => {
                let e = self.index.pricing.entry(entry);
                let factor = if derived {
                    self.derived_factor(list, e)?
                } else {
                    Decimal::ONE
                };
                let scaled = |v: Decimal| ok(v.exact_mul(factor));
                set_price(&e.values, self.tier_qty(ctx, e.tier_basis, NONE), scaled)
            }
            CandidateKind::Rule(r) => {
                self.apply_rule(self.index.pricing.rules.row(r), ctx, running, base)
            }
        }
    }

    pub(super) fn apply_rule(
        &self,
        rule: &RuleDef,
        ctx: &Ctx<'_>,
        running: Option<Running>,
        base: Option<Running>,
    ) -> Calc<Option<Running>> {
        if rule.action.needs_running_price() && running.is_none() {
            return Ok(None);
        }
        let tier_qty = || self.tier_qty(ctx, rule.tier_basis, rule.basis_category);
        match &rule.action {
            Action::Price { values, mode } => price(values, *mode, tier_qty(), running),
            Action::Percent { values, of } => {
                let Some(r) = running else { return Ok(None) };
                percent(values, *of, tier_qty(), r, base)
            }
            Action::Amount { values } => {
                let Some(r) = running else { return Ok(None) };
                amount(values, tier_qty(), r)
            }
            Action::FromList { list, percent } => self.offer_from_list(*list, *percent, ctx),
            Action::Bounds(bounds) => {
                let Some(r) = running else { return Ok(None) };
                self.bounds(bounds, ctx, r, base)
            }
            Action::RoundTo { target, mode } => {
                let Some(r) = running else { return Ok(None) };
                self.round_to(rule, *target, *mode, ctx, r)
            }
        }
    }

    /// `from_list`: the list's price for the product, with its percent.
    fn offer_from_list(
        &self,
        list: ListId,
        percent: Option<Decimal>,
        ctx: &Ctx<'_>,
    ) -> Calc<Option<Running>> {
        let Some(found) = self.list_offer(list, ctx)? else {
            return Ok(None);
        };
        match percent {
            Some(p) => Ok(Some(Running {
                value: ok(money::apply_percent(found.value, p))?,
                ..found
            })),
            None => Ok(Some(found)),
        }
    }

    /// `min_price`, `max_price`, margins and discounts: the running value clamped, the floor
    /// winning over the ceiling.
    fn bounds(
        &self,
        bounds: &Bounds,
        ctx: &Ctx<'_>,
        r: Running,
        base: Option<Running>,
    ) -> Calc<Option<Running>> {
        let qty = ctx.qty;
        let b = base.unwrap_or(r);
        // Bounds are taken in the running value's own basis: on a line-primary quote,
        // line amounts (per-unit bounds times the quantity), never a line divided by
        // the quantity, which is not exact.
        let (base_value, k) = if r.per_line {
            (ok(b.as_line(qty))?, qty)
        } else {
            (ok(b.as_unit(qty))?, Decimal::ONE)
        };
        let limits = self.bound_limits(bounds, ctx, base_value, k)?;
        let ceiling = limits.iter().filter(|l| !l.0.is_floor()).map(|l| l.1).min();
        let floor = limits.iter().filter(|l| l.0.is_floor()).map(|l| l.1).max();
        let mut value = r.value;
        if let Some(u) = ceiling {
            value = value.min(u);
        }
        // The floor wins over the ceiling: it is applied last.
        if let Some(l) = floor {
            value = value.max(l);
        }
        Ok(Some(Running { value, ..r }))
    }

    /// The limits a bounds rule sets, each with the field it comes from, for a base value `b`
    /// in the basis the limits are wanted in (`k` = 1 for unit amounts, the quantity for
    /// line amounts). A margin is skipped without a cost or outside the default currency.
    pub(crate) fn bound_limits(
        &self,
        bounds: &Bounds,
        ctx: &Ctx<'_>,
        base_value: Decimal,
        k: Decimal,
    ) -> Calc<SmallVec<[(BoundKind, Decimal); 6]>> {
        let scaled = |v: Decimal| ok(v.exact_mul(k));
        let cost = self.cost(ctx.product);
        let mut limits = SmallVec::new();
        if let Some(v) = bounds.min_price {
            limits.push((BoundKind::MinPrice, scaled(v)?));
        }
        if let (Some(m), Some(c)) = (bounds.min_margin_pct, cost) {
            if ctx.currency == self.index.settings.default_currency {
                limits.push((
                    BoundKind::MinMarginPct,
                    scaled(ok(money::apply_percent(c, m))?)?,
                ));
            }
        }
        if let Some(d) = bounds.max_discount_pct {
            limits.push((
                BoundKind::MaxDiscountPct,
                ok(money::apply_percent(base_value, -d))?,
            ));
        }
        if let Some(v) = bounds.min_over_base {
            limits.push((
                BoundKind::MinOverBase,
                non_negative(ok(base_value.checked_add(scaled(v)?))?),
            ));
        }
        if let Some(v) = bounds.max_price {
            limits.push((BoundKind::MaxPrice, scaled(v)?));
        }
        if let Some(v) = bounds.max_over_base {
            limits.push((
                BoundKind::MaxOverBase,
                non_negative(ok(base_value.checked_add(scaled(v)?))?),
            ));
        }
        Ok(limits)
    }

    /// `round_to`: the unit value rounded to a multiple or an ending.
    fn round_to(
        &self,
        rule: &RuleDef,
        target: RoundTarget,
        mode: Option<RoundingMode>,
        ctx: &Ctx<'_>,
        r: Running,
    ) -> Calc<Option<Running>> {
        let qty = ctx.qty;
        let mode = mode.unwrap_or_else(|| self.round_to_mode(rule, ctx.currency));
        let unit = ok(r.as_unit(qty))?;
        let rounded = ok(match target {
            RoundTarget::Multiple(step) => money::round_to_multiple(unit, step, mode),
            RoundTarget::Ending(ending) => money::round_to_ending(unit, ending, mode),
        })?;
        Ok(Some(if r.per_line {
            Running::line(ok(rounded.exact_mul(qty))?)
        } else {
            Running::unit(rounded)
        }))
    }
}

/// `a × b` with the scale of both factors added up, zero included (rust_decimal drops the scale
/// of a zero product; an invoice line of `0.00 × 6` is still `0.00`).
pub(super) fn exact_product(a: Decimal, b: Decimal) -> Calc<Decimal> {
    let mut product = ok(a.exact_mul(b))?;
    if product.is_zero() {
        product.rescale((a.scale() + b.scale()).min(28));
    }
    Ok(product)
}

/// `price`: the rule's price; `never_raise` keeps the running price when it is lower (band by
/// band for graduated tiers).
fn price(
    values: &Tiered,
    mode: PriceMode,
    tq: TierQty,
    running: Option<Running>,
) -> Calc<Option<Running>> {
    let qty = tq.qty;
    let Some(new) = set_price(values, tq, Ok)? else {
        return Ok(None);
    };
    match (mode, running) {
        (PriceMode::NeverRaise, Some(r)) if values.mode == TierMode::Graduated => {
            // Band by band: each band's units at the lower of its price and `p`.
            let unit = ok(r.as_unit(qty))?;
            let mut line = Decimal::ZERO;
            for (units, v) in ok(values.bands_from(tq.start, qty))? {
                line = ok(line.checked_add(ok(units.exact_mul(v.min(unit)))?))?;
            }
            Ok(Some(Running::line(line)))
        }
        (PriceMode::NeverRaise, Some(r)) => {
            let (a, b) = (ok(new.as_line(qty))?, ok(r.as_line(qty))?);
            Ok(Some(if b < a { r } else { new }))
        }
        _ => Ok(Some(new)),
    }
}

/// `percent`: of the running price, or of the base.
fn percent(
    values: &Tiered,
    of: PercentOf,
    tq: TierQty,
    r: Running,
    base: Option<Running>,
) -> Calc<Option<Running>> {
    let qty = tq.qty;
    let b = base.unwrap_or(r);
    let (base_unit, base_line) = match of {
        PercentOf::Running => (Decimal::ZERO, Decimal::ZERO),
        PercentOf::Base => (ok(b.as_unit(qty))?, ok(b.as_line(qty))?),
    };
    let with = |value: Decimal, pct: Decimal, base: Decimal| -> Calc<Decimal> {
        match of {
            PercentOf::Running => ok(money::apply_percent(value, pct)),
            PercentOf::Base => Ok(non_negative(ok(
                value.checked_add(ok(money::percent_of(base, pct))?)
            )?)),
        }
    };
    adjust(
        values,
        tq,
        r,
        |unit, pct| with(unit, pct, base_unit),
        |line, pct| with(line, pct, base_line),
    )
}

/// `amount`: added per unit (times the quantity on a line).
fn amount(values: &Tiered, tq: TierQty, r: Running) -> Calc<Option<Running>> {
    let qty = tq.qty;
    adjust(
        values,
        tq,
        r,
        |unit, a| Ok(non_negative(ok(unit.checked_add(a))?)),
        |line, a| Ok(non_negative(ok(line.checked_add(ok(a.exact_mul(qty))?))?)),
    )
}

pub(super) fn in_range(qty: Decimal, min: Option<Decimal>, max: Option<Decimal>) -> bool {
    min.is_none_or(|m| qty >= m) && max.is_none_or(|m| qty <= m)
}

/// A price (entry or `price` rule): all-units value, or the graduated line.
pub(super) fn set_price(
    values: &Tiered,
    tq: TierQty,
    map: impl Fn(Decimal) -> Calc<Decimal>,
) -> Calc<Option<Running>> {
    match values.mode {
        TierMode::AllUnits => match values.value_at(tq.total) {
            Some(v) => Ok(Some(Running::unit(map(v)?))),
            None => Ok(None),
        },
        TierMode::Graduated => {
            let mut line = Decimal::ZERO;
            for (units, v) in ok(values.bands_from(tq.start, tq.qty))? {
                line = ok(line.checked_add(ok(units.exact_mul(map(v)?))?))?;
            }
            Ok(Some(Running::line(line)))
        }
    }
}

/// An adjustment (percent, amount): all-units on the running value, or graduated bands.
pub(super) fn adjust(
    values: &Tiered,
    tq: TierQty,
    running: Running,
    on_unit: impl Fn(Decimal, Decimal) -> Calc<Decimal>,
    on_line: impl Fn(Decimal, Decimal) -> Calc<Decimal>,
) -> Calc<Option<Running>> {
    match values.mode {
        TierMode::AllUnits => {
            let Some(v) = values.value_at(tq.total) else {
                return Ok(None);
            };
            let value = if running.per_line {
                on_line(running.value, v)?
            } else {
                on_unit(running.value, v)?
            };
            Ok(Some(Running { value, ..running }))
        }
        TierMode::Graduated => {
            let unit = ok(running.as_unit(tq.qty))?;
            let mut line = Decimal::ZERO;
            for (units, v) in ok(values.bands_from(tq.start, tq.qty))? {
                line = ok(line.checked_add(ok(units.exact_mul(on_unit(unit, v)?))?))?;
            }
            Ok(Some(Running::line(line)))
        }
    }
}
