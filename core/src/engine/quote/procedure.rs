//! The procedure of docs/spec.md §6: which candidates speak to a product (§6.1), which of
//! them each step selects (§6.2), and the run over the steps.

use std::cmp::Ordering;
use std::sync::Arc;

use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::apply::in_range;
use super::types::*;
use crate::engine::visibility::Capabilities;
use crate::engine::Engine;
use crate::index::{
    AccountDef, AudKey, CurrencyId, EntryDef, EntryId, ListId, Policy, ProductId, RuleId, Spec,
    NONE,
};
use crate::instant::Instant;
use crate::model::{Select, TierBasis};
use crate::money::{self, ExactMul};

/// The running value: a unit price, or a line total once a graduated tier has applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Running {
    pub value: Decimal,
    pub per_line: bool,
}

impl Running {
    pub(super) fn unit(value: Decimal) -> Running {
        Running {
            value,
            per_line: false,
        }
    }

    pub(super) fn line(value: Decimal) -> Running {
        Running {
            value,
            per_line: true,
        }
    }

    /// The value as a line total (for comparisons across bases).
    pub(super) fn as_line(self, qty: Decimal) -> Option<Decimal> {
        if self.per_line {
            Some(self.value)
        } else {
            self.value.exact_mul(qty)
        }
    }

    /// The value per unit.
    pub fn as_unit(self, qty: Decimal) -> Option<Decimal> {
        if self.per_line {
            self.value.checked_div(qty)
        } else {
            Some(self.value)
        }
    }
}

/// Arithmetic overflow while pricing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

pub(super) type Calc<T> = Result<T, Overflow>;

pub(super) fn ok<T>(v: Option<T>) -> Calc<T> {
    v.ok_or(Overflow)
}

/// A candidate of a step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub kind: CandidateKind,
    pub level: u8,
    pub aud: AudKey,
    pub spec: Spec,
    pub priority: i64,
    pub exclusive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CandidateKind {
    Rule(RuleId),
    /// An entry offered by `list` (the attached list); `factor` applies when derived.
    Entry {
        entry: EntryId,
        list: ListId,
        derived: bool,
    },
}

/// What pricing reads of an account: the price lists its chain reaches, most specific level
/// first, and the chain's audience keys with their levels, everyone last
/// ([`AccountDef::lists`], [`AccountDef::chain`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chain<'e> {
    pub lists: &'e [(ListId, u8, AudKey)],
    pub audiences: &'e [(AudKey, u8)],
}

impl<'e> Chain<'e> {
    pub(crate) fn of(account: &'e AccountDef) -> Chain<'e> {
        Chain {
            lists: &account.lists,
            audiences: &account.chain,
        }
    }

    /// The level of everyone, the chain's last.
    pub(crate) fn everyone_level(self) -> u8 {
        self.audiences.last().map_or(0, |&(_, level)| level)
    }
}

/// The request, resolved to dense ids.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'e> {
    pub account: &'e AccountDef,
    /// The account's [`Chain`]: read from `account`, or from a copy a batch keeps closer.
    pub chain: Chain<'e>,
    pub product: ProductId,
    pub qty: Decimal,
    pub at: Instant,
    pub currency: CurrencyId,
    /// Only the everyone level of the chain (for `list_price`).
    pub everyone_only: bool,
    /// The order the line is priced in, for tiers read across lines; `None` for a quote
    /// alone, which reads its own line for every tier basis.
    pub order: Option<OrderLines>,
}

/// Per order line, its product and quantity when it counts in tier bases (docs/spec.md §12.5).
pub(crate) type Counted = Arc<[Option<(ProductId, Decimal)>]>;

/// The lines of an order that count in tier bases, and which one is being priced.
#[derive(Debug, Clone)]
pub(crate) struct OrderLines {
    pub lines: Counted,
    /// The line being priced.
    pub line: usize,
}

/// The quantity a rule's or entry's tiers read: `qty` units after the first `start` of a
/// basis of `total` units (the line alone: `start` 0, `total` = `qty`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TierQty {
    pub start: Decimal,
    pub total: Decimal,
    pub qty: Decimal,
}

impl TierQty {
    pub(crate) fn line(qty: Decimal) -> TierQty {
        TierQty {
            start: Decimal::ZERO,
            total: qty,
            qty,
        }
    }
}

/// How a reference resolves: among the products the account may see (every customer-facing
/// query), or to the first match whatever its visibility (the trusted `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolve {
    Visible,
    AnyMatch,
}

/// A request's account, product and currency as dense ids.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved<'e> {
    pub def: &'e AccountDef,
    pub product: ProductId,
    pub currency: CurrencyId,
    /// The product's capabilities, when it was resolved among those the account may see.
    pub caps: Option<Capabilities>,
}

/// Why a pricing run produced no price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    NoPrice,
    Overflow,
}

impl From<Overflow> for Fail {
    fn from(_: Overflow) -> Self {
        Fail::Overflow
    }
}

/// The outcome of the procedure before the final rounding.
#[derive(Debug, Clone)]
pub(crate) struct Priced {
    pub running: Running,
    pub base: Running,
    pub policy: Policy,
    pub scale: u32,
}

/// Receives what the procedure does; the batch path records nothing.
pub(crate) trait Recorder<'e> {
    /// Whether `applied` should be called (building steps costs time).
    const STEPS: bool;
    fn applied(&mut self, _step: AppliedStep<'e>) {}
    /// Whether `chose` should be called.
    const CHOICES: bool = false;
    /// A candidate that applied, in order; cheaper than `applied` for what needs only which.
    fn chose(&mut self, _candidate: &Candidate) {}
    fn step_report(
        &mut self,
        _step: u16,
        _candidates: &[(Candidate, Option<Running>)],
        _applied: &[usize],
        _skipped: bool,
    ) {
    }
}

/// Records nothing.
pub(crate) struct Silent;

impl Recorder<'_> for Silent {
    const STEPS: bool = false;
}

/// Records the applied steps of a quote.
#[derive(Default)]
pub(crate) struct StepsRecorder<'e> {
    pub steps: SmallVec<[AppliedStep<'e>; 4]>,
}

impl<'e> Recorder<'e> for StepsRecorder<'e> {
    const STEPS: bool = true;
    fn applied(&mut self, step: AppliedStep<'e>) {
        self.steps.push(step);
    }
}

/// The rules (and entries) that may speak to the product: audience and selector match.
pub(crate) type Matched = SmallVec<[Candidate; 16]>;

impl Engine {
    /// Runs the procedure: every step, its candidates, its selection, its actions.
    pub(crate) fn run<'e, R: Recorder<'e>>(
        &'e self,
        ctx: &Ctx<'e>,
        recorder: &mut R,
    ) -> Result<Priced, Fail> {
        let mut matched = Matched::new();
        self.matched(ctx, &mut matched);
        self.run_matched(ctx, &matched, recorder)
    }

    /// [`Engine::run`] over candidates already matched.
    pub(crate) fn run_matched<'e, R: Recorder<'e>>(
        &'e self,
        ctx: &Ctx<'e>,
        matched: &[Candidate],
        recorder: &mut R,
    ) -> Result<Priced, Fail> {
        let mut running: Option<Running> = None;
        let mut base: Option<Running> = None;
        let mut stopped = false;
        let mut applied_rules: SmallVec<[CandidateKind; 4]> = SmallVec::new();
        let mut candidates: SmallVec<[(Candidate, Option<Running>); 8]> = SmallVec::new();
        for (index, step) in self.index.settings.steps.iter().enumerate() {
            let step_id = u16::try_from(index).unwrap_or(u16::MAX);
            if stopped && !step.always {
                if R::STEPS {
                    recorder.step_report(step_id, &[], &[], true);
                }
                continue;
            }
            candidates.clear();
            for cand in matched.iter().filter(|c| self.in_step(c, step_id)) {
                if !self.admissible(cand, ctx) {
                    continue;
                }
                let result = self.apply_action(cand, ctx, running, base)?;
                if result.is_some() {
                    candidates.push((*cand, result));
                }
            }
            let chosen = self.select(step.select, &candidates, ctx.qty);
            if R::STEPS {
                recorder.step_report(step_id, &candidates, &chosen, false);
            }
            let sequential = chosen.len() > 1;
            for &k in &chosen {
                let Some(&(cand, first_result)) = candidates.get(k) else {
                    continue;
                };
                let result = if sequential {
                    self.apply_action(&cand, ctx, running, base)?
                } else {
                    first_result
                };
                let Some(after) = result else { continue };
                if R::STEPS {
                    recorder.applied(self.applied_step(&step.name, &cand, ctx, running, after));
                }
                if R::CHOICES {
                    recorder.chose(&cand);
                }
                running = Some(after);
                applied_rules.push(cand.kind);
                stopped |= cand.exclusive;
            }
            if index == 0 {
                base = running;
            }
            if chosen.is_empty() && (step.required || running.is_none()) {
                return Err(Fail::NoPrice);
            }
        }
        let (Some(running), Some(base)) = (running, base) else {
            return Err(Fail::NoPrice);
        };
        let policy = self.policy_for(&applied_rules, ctx.currency);
        let scale = policy.scale.unwrap_or_else(|| {
            self.index
                .currencies
                .get(ctx.currency)
                .map_or(2, |c| c.scale)
        });
        Ok(Priced {
            running,
            base,
            policy,
            scale,
        })
    }

    pub(super) fn in_step(&self, cand: &Candidate, step: u16) -> bool {
        match cand.kind {
            CandidateKind::Rule(r) => self.index.pricing.rules.row(r).step == step,
            CandidateKind::Entry { .. } => step == 0,
        }
    }

    /// Validity, quantity range and currency (docs/spec.md §6.1, 3–5).
    pub(crate) fn admissible(&self, cand: &Candidate, ctx: &Ctx<'_>) -> bool {
        match cand.kind {
            CandidateKind::Rule(r) => {
                let rule = self.index.pricing.rules.row(r);
                rule.validity.contains(ctx.at)
                    && in_range(
                        self.tier_qty(ctx, rule.tier_basis, rule.basis_category)
                            .total,
                        rule.min_qty,
                        rule.max_qty,
                    )
                    && rule.currency.is_none_or(|c| c == ctx.currency)
            }
            CandidateKind::Entry {
                entry,
                list,
                derived,
            } => {
                let e = self.index.pricing.entry(entry);
                self.index.pricing.lists.row(list).currency == ctx.currency
                    && e.validity.contains(ctx.at)
                    && in_range(
                        self.tier_qty(ctx, e.tier_basis, NONE).total,
                        e.min_qty,
                        e.max_qty,
                    )
                    && (!derived || self.chain_valid(list, e.product, ctx.at))
            }
        }
    }

    /// The quantity a tier basis reads for the line of `ctx` (docs/spec.md §12.5): the line's
    /// own outside an order or for the `line` basis, else the order's lines sharing its
    /// family, its category (`category`, else the product's first) or all of them, the line
    /// taking its units after those of the lines before it.
    #[inline]
    pub(crate) fn tier_qty(&self, ctx: &Ctx<'_>, basis: TierBasis, category: u32) -> TierQty {
        // The quote path (no order, or the `line` basis) stays a branch: no work per candidate.
        match &ctx.order {
            Some(order) if basis != TierBasis::Line => {
                self.order_tier_qty(ctx, order, basis, category)
            }
            _ => TierQty::line(ctx.qty),
        }
    }

    /// [`Engine::tier_qty`] summed over the order's lines.
    fn order_tier_qty(
        &self,
        ctx: &Ctx<'_>,
        order: &OrderLines,
        basis: TierBasis,
        category: u32,
    ) -> TierQty {
        let catalog = &self.index.catalog;
        let product = ctx.product;
        let closure = |p: ProductId| catalog.category_closure.get(p).map(|c| c.as_slice());
        let family = catalog.family.get(product).copied().unwrap_or(NONE);
        let category = match category {
            NONE => closure(product)
                .and_then(|c| c.first().copied())
                .unwrap_or(NONE),
            named => named,
        };
        // A product without family (category) is its own.
        let shares = |p: ProductId| match basis {
            TierBasis::Line => p == product,
            TierBasis::Family if family == NONE => p == product,
            TierBasis::Family => catalog.family.get(p) == Some(&family),
            TierBasis::Category if category == NONE => p == product,
            TierBasis::Category => closure(p).is_some_and(|c| c.contains(&category)),
            TierBasis::Order => true,
        };
        let mut out = TierQty {
            start: Decimal::ZERO,
            total: Decimal::ZERO,
            qty: ctx.qty,
        };
        for (k, line) in order.lines.iter().enumerate() {
            let Some((p, q)) = *line else { continue };
            if !shares(p) {
                continue;
            }
            // The order's quantities were summed once when it was read: no sum overflows.
            out.total = out.total.checked_add(q).unwrap_or(Decimal::MAX);
            if k < order.line {
                out.start = out.start.checked_add(q).unwrap_or(Decimal::MAX);
            }
        }
        out
    }

    /// Every list along the derived chain from `list` to the one holding the product's entry is
    /// valid at `at`.
    pub(super) fn chain_valid(&self, list: ListId, product: ProductId, at: Instant) -> bool {
        let mut current = list;
        for _ in 0..=self.index.pricing.lists.len() {
            let def = self.index.pricing.lists.row(current);
            if !def.validity.contains(at) {
                return false;
            }
            if self.index.pricing.has_entry(current, product) {
                return true;
            }
            match def.derived {
                Some((next, _)) => current = next,
                None => return false,
            }
        }
        false
    }

    /// Adds to `out` the rules and entries whose audience is in the chain and whose selector
    /// matches. The caller's vector rather than a new one returned: returning it copied its
    /// half a kilobyte of inline room on every quote (3 % of a batch's time, profiled).
    pub(crate) fn matched(&self, ctx: &Ctx<'_>, out: &mut Matched) {
        let product = ctx.product;
        let everyone_level = ctx.chain.everyone_level();
        for &(list, level, aud) in ctx.chain.lists {
            if ctx.everyone_only && aud != 0 {
                continue;
            }
            let level = if ctx.everyone_only {
                everyone_level
            } else {
                level
            };
            self.offers(list, product, &mut |entry, derived, priority, exclusive| {
                out.push(Candidate {
                    kind: CandidateKind::Entry {
                        entry,
                        list,
                        derived,
                    },
                    level,
                    aud,
                    spec: Spec {
                        rank: 6,
                        depth: 0,
                        members: 1,
                    },
                    priority,
                    exclusive,
                });
            });
        }
        for &(aud, level) in ctx.chain.audiences {
            if ctx.everyone_only && aud != 0 {
                continue;
            }
            let Some(rules) = self.index.pricing.audience_rules.get(&aud) else {
                continue;
            };
            let mut push = |rule: RuleId| {
                if out.iter().any(|c| c.kind == CandidateKind::Rule(rule)) {
                    return;
                }
                let def = self.index.pricing.rules.row(rule);
                out.push(Candidate {
                    kind: CandidateKind::Rule(rule),
                    level,
                    aud,
                    spec: def.spec,
                    priority: def.priority,
                    exclusive: def.exclusive,
                });
            };
            match &rules.dense {
                Some(dense) => dense.rules_of(product).iter().for_each(|&r| push(r)),
                None if rules.products.contains(product.raw()) => self
                    .index
                    .pricing
                    .matching_rules(&self.index.catalog, aud, rules, product, &mut push),
                None => {}
            }
        }
    }

    /// The entries a list offers for a product: its own, or (when it has none for the product)
    /// those of the list it derives from. Calls `emit(entry, derived, priority, exclusive)`.
    pub(super) fn offers(
        &self,
        list: ListId,
        product: ProductId,
        emit: &mut impl FnMut(EntryId, bool, i64, bool),
    ) {
        let def = self.index.pricing.lists.row(list);
        let mut source = list;
        for hop in 0..=self.index.pricing.lists.len() {
            let mut found = false;
            for (entry, e) in self.index.pricing.entries_of(source, product) {
                found = true;
                if hop == 0 {
                    emit(entry, false, e.priority, e.exclusive);
                } else {
                    emit(entry, true, def.priority, def.net);
                }
            }
            if found {
                return;
            }
            match self.index.pricing.lists.row(source).derived {
                Some((next, _)) => source = next,
                None => return,
            }
        }
    }

    /// The product of `1 + percent/100` along the derived chain from `list` to `entry`'s list.
    pub(super) fn derived_factor(&self, list: ListId, entry: &EntryDef) -> Calc<Decimal> {
        let mut factor = Decimal::ONE;
        let mut current = list;
        for _ in 0..=self.index.pricing.lists.len() {
            if current == entry.list {
                return Ok(factor);
            }
            let Some((next, percent)) = self.index.pricing.lists.row(current).derived else {
                return Ok(factor);
            };
            factor = ok(money::apply_percent(factor, percent))?;
            current = next;
        }
        Ok(factor)
    }

    /// The price a list gives for the product (for `from_list`): the best of its offers.
    pub(super) fn list_offer(&self, list: ListId, ctx: &Ctx<'_>) -> Calc<Option<Running>> {
        let mut offers: SmallVec<[(EntryId, bool, i64); 2]> = SmallVec::new();
        self.offers(list, ctx.product, &mut |entry, derived, priority, _| {
            offers.push((entry, derived, priority))
        });
        let mut best: Option<(i64, Decimal, Running)> = None;
        for (entry, derived, priority) in offers {
            let cand = Candidate {
                kind: CandidateKind::Entry {
                    entry,
                    list,
                    derived,
                },
                level: 0,
                aud: 0,
                spec: Spec::default(),
                priority,
                exclusive: false,
            };
            if !self.admissible(&cand, ctx) {
                continue;
            }
            let Some(value) = self.apply_action(&cand, ctx, None, None)? else {
                continue;
            };
            let line = ok(value.as_line(ctx.qty))?;
            let better = match &best {
                None => true,
                Some((p, l, _)) => priority > *p || (priority == *p && line < *l),
            };
            if better {
                best = Some((priority, line, value));
            }
        }
        Ok(best.map(|(_, _, v)| v))
    }

    /// Which candidates apply, by index, in order (docs/spec.md §6.2).
    pub(crate) fn select(
        &self,
        select: Select,
        cands: &[(Candidate, Option<Running>)],
        qty: Decimal,
    ) -> SmallVec<[usize; 4]> {
        let mut out = SmallVec::new();
        if cands.is_empty() {
            return out;
        }
        let line = |k: usize| {
            cands
                .get(k)
                .and_then(|(_, r)| r.and_then(|r| r.as_line(qty)))
        };
        let most_specific = |a: usize, b: usize| -> Ordering {
            let (Some((ca, _)), Some((cb, _))) = (cands.get(a), cands.get(b)) else {
                return Ordering::Equal;
            };
            ca.level
                .cmp(&cb.level)
                .then_with(|| cb.spec.cmp(&ca.spec))
                .then_with(|| cb.priority.cmp(&ca.priority))
                .then_with(|| line(a).cmp(&line(b)))
                .then_with(|| self.cand_id(ca).cmp_id(&self.cand_id(cb)))
                .then_with(|| a.cmp(&b))
        };
        let by_priority = |a: usize, b: usize| {
            let pa = cands.get(a).map(|c| c.0.priority);
            let pb = cands.get(b).map(|c| c.0.priority);
            pb.cmp(&pa).then_with(|| most_specific(a, b))
        };
        let by_price = |a: usize, b: usize| line(a).cmp(&line(b)).then_with(|| most_specific(a, b));
        let pick = |cmp: &dyn Fn(usize, usize) -> Ordering, filter: &dyn Fn(usize) -> bool| {
            (0..cands.len())
                .filter(|&k| filter(k))
                .min_by(|&a, &b| cmp(a, b))
        };
        let exclusive = |k: usize| cands.get(k).is_some_and(|c| c.0.exclusive);
        let any_exclusive = (0..cands.len()).any(exclusive);
        let single = match select {
            Select::MostSpecific => pick(&most_specific, &|_| true),
            Select::Priority => pick(&by_priority, &|_| true),
            Select::Lowest => pick(&by_price, &|_| true),
            Select::Best | Select::All if any_exclusive => pick(&by_priority, &exclusive),
            Select::Best => pick(&by_price, &|_| true),
            Select::All => {
                let mut all: SmallVec<[usize; 4]> = (0..cands.len()).collect();
                all.sort_by(|&a, &b| {
                    let (Some((ca, _)), Some((cb, _))) = (cands.get(a), cands.get(b)) else {
                        return Ordering::Equal;
                    };
                    cb.priority
                        .cmp(&ca.priority)
                        .then_with(|| ca.level.cmp(&cb.level))
                        .then_with(|| cb.spec.cmp(&ca.spec))
                        .then_with(|| self.cand_id(ca).cmp_id(&self.cand_id(cb)))
                        .then_with(|| a.cmp(&b))
                });
                return all;
            }
        };
        out.extend(single);
        out
    }
}
