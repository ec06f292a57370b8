//! `explain`: the trusted back-office view of a price — every rule that spoke to the product,
//! which one won each step and why the others lost, and the visibility decision behind it.

use std::fmt;

use rust_decimal::Decimal;

use super::quote::{
    Candidate, CandidateKind, Ctx, Matched, OrderLines, Recorder, Resolve, Running,
};
use super::Engine;
use crate::error::QueryError;
use crate::index::{AccountDef, Action, ProductId, NONE};
use crate::instant::Instant;
use crate::model::Select;
use crate::money::ExactMul;

/// Why a price is what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// Account id.
    pub account: String,
    /// The product's SKU.
    pub sku: String,
    /// Quantity.
    pub qty: Decimal,
    /// Instant of the price.
    pub at: Instant,
    /// Request currency.
    pub currency: String,
    /// The visibility decision and the rules behind it.
    pub visibility: VisibilityReport,
    /// Every step of the procedure.
    pub steps: Vec<StepReport>,
    /// The quote's outcome: `(unit price, line total)` or the error code and message.
    pub outcome: Result<(Decimal, Decimal), (String, String)>,
}

/// The visibility decision, per capability, with the deciding rule (`None`: the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityReport {
    /// `see`, `price`, `buy` after implications.
    pub allowed: [bool; 3],
    /// The rule that decided each capability, before implications.
    pub decided_by: [Option<String>; 3],
}

/// One step of the procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// Step name.
    pub step: String,
    /// Its selection strategy.
    pub select: String,
    /// Skipped because an exclusive rule applied earlier.
    pub skipped: bool,
    /// Every rule whose audience and selector speak to the product.
    pub candidates: Vec<CandidateReport>,
}

/// A rule that spoke to the product in a step.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateReport {
    /// Full id (`contract/rule` or `list/sku`).
    pub rule: String,
    /// `contract X` or `price list Y`.
    pub source: String,
    /// The audience level it reached the account at.
    pub level: String,
    /// Its priority.
    pub priority: i64,
    /// Selector specificity `rank.depth.members`.
    pub specificity: String,
    /// Unit result on the running price, when it was a candidate.
    pub result: Option<Decimal>,
    /// Whether it applied.
    pub applied: bool,
    /// Why it applied, lost, or was not a candidate.
    pub reason: String,
}

/// What one step saw: its candidates with their results, the indexes applied, and whether it
/// was skipped.
type StepTrace = (u16, Vec<(Candidate, Option<Running>)>, Vec<usize>, bool);

#[derive(Default)]
struct Reports {
    steps: Vec<StepTrace>,
}

impl<'e> Recorder<'e> for Reports {
    const STEPS: bool = true;
    fn step_report(
        &mut self,
        step: u16,
        candidates: &[(Candidate, Option<Running>)],
        applied: &[usize],
        skipped: bool,
    ) {
        self.steps
            .push((step, candidates.to_vec(), applied.to_vec(), skipped));
    }
}

impl Engine {
    /// Explains a quote: visibility, then every step with every rule that spoke to the product.
    /// Unlike `quote`, it also explains products hidden from the account.
    ///
    /// ```
    /// use tarif::{Engine, QuoteRequest};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10"}]},
    ///                   {"id": "n", "net": true, "prices": [{"sku": "A", "price": "8"}]}],
    ///   "accounts": [{"id": "C", "price_lists": ["n"]}]}"#).unwrap();
    /// let e = engine.explain(&QuoteRequest::new("C", "A", 1.into())).unwrap();
    /// let base = &e.steps[0];
    /// assert!(base.candidates.iter().any(|c| c.rule == "n/A" && c.applied));
    /// assert!(base.candidates.iter().any(|c| c.rule == "l/A" && c.reason.contains("audience")));
    /// ```
    pub fn explain(
        &self,
        request: &super::quote::QuoteRequest<'_>,
    ) -> Result<Explanation, QueryError> {
        self.explain_in(request, None)
    }

    /// [`Engine::explain`] of a line of an order, whose tier bases read the order's lines
    /// (docs/spec.md §12.5).
    pub(crate) fn explain_in(
        &self,
        request: &super::quote::QuoteRequest<'_>,
        order: Option<OrderLines>,
    ) -> Result<Explanation, QueryError> {
        let (mut ctx, _) = self.resolve_request(request, Resolve::AnyMatch)?;
        ctx.order = order.clone();
        let Ctx {
            account,
            product,
            at,
            currency,
            ..
        } = ctx.clone();
        let visibility = self.visibility_report(account, product, at);
        let mut reports = Reports::default();
        if request.qty > Decimal::ZERO {
            // The outcome comes from `quote` below; this run only records the steps.
            let _ = self.run(&ctx, &mut reports);
        }
        let mut matched = Matched::new();
        self.matched(&ctx, &mut matched);
        let mut steps = Vec::new();
        for (step_id, cands, chosen, skipped) in &reports.steps {
            let Some(def) = self.index.settings.steps.get(usize::from(*step_id)) else {
                continue;
            };
            let mut out = Vec::new();
            for (k, (cand, result)) in cands.iter().enumerate() {
                let applied = chosen.contains(&k);
                let reason = if applied {
                    format!("applied ({})", select_name(def.select))
                } else {
                    chosen
                        .first()
                        .and_then(|&w| cands.get(w))
                        .map(|(winner, wr)| {
                            self.lost_reason(def.select, cand, *result, winner, *wr, request.qty)
                        })
                        .unwrap_or_else(|| "not selected".into())
                };
                out.push(self.candidate_report(
                    cand,
                    account,
                    result.and_then(|r| r.as_unit(request.qty)),
                    applied,
                    reason,
                ));
            }
            for cand in matched.iter().filter(|c| self.step_of(c) == *step_id) {
                if cands
                    .iter()
                    .any(|(c, _)| c.kind == cand.kind && c.aud == cand.aud)
                {
                    continue;
                }
                let reason = if *skipped {
                    "skipped: an exclusive rule applied in an earlier step".to_string()
                } else {
                    self.not_candidate_reason(cand, &ctx)
                };
                out.push(self.candidate_report(cand, account, None, false, reason));
            }
            steps.push(StepReport {
                step: def.name.to_string(),
                select: select_name(def.select).into(),
                skipped: *skipped,
                candidates: out,
            });
        }
        let quoted = match order {
            None => self.quote(request),
            Some(order) => self.prepare(request).and_then(|(mut ctx, buyable)| {
                ctx.order = Some(order);
                self.quote_prepared(&ctx, buyable)
            }),
        };
        let outcome = match quoted {
            Ok(q) => Ok((q.unit_price, q.line_total)),
            Err(e) => Err((e.code().to_string(), e.to_string())),
        };
        Ok(Explanation {
            account: account.id.to_string(),
            sku: self.sku(product).to_string(),
            qty: request.qty,
            at,
            currency: self.currency_code(currency).to_string(),
            visibility,
            steps,
            outcome,
        })
    }

    fn step_of(&self, cand: &Candidate) -> u16 {
        match cand.kind {
            CandidateKind::Rule(r) => self.index.pricing.rules.row(r).step,
            CandidateKind::Entry { .. } => 0,
        }
    }

    fn candidate_report(
        &self,
        cand: &Candidate,
        account: &AccountDef,
        result: Option<Decimal>,
        applied: bool,
        reason: String,
    ) -> CandidateReport {
        CandidateReport {
            rule: self.cand_id(cand).to_string(),
            source: self.cand_source(cand).to_string(),
            level: self.level_of(cand, account).to_string(),
            priority: cand.priority,
            specificity: format!(
                "{}.{}.{}",
                cand.spec.rank, cand.spec.depth, cand.spec.members
            ),
            result,
            applied,
            reason,
        }
    }

    fn lost_reason(
        &self,
        select: Select,
        cand: &Candidate,
        result: Option<Running>,
        winner: &Candidate,
        winner_result: Option<Running>,
        qty: Decimal,
    ) -> String {
        let line = |r: Option<Running>| {
            r.and_then(|r| {
                if r.per_line {
                    Some(r.value)
                } else {
                    r.value.exact_mul(qty)
                }
            })
        };
        let price_lost = line(result) > line(winner_result);
        if winner.exclusive && matches!(select, Select::All | Select::Best) {
            return format!("exclusive rule `{}` applies alone", self.cand_id(winner));
        }
        match select {
            Select::Lowest | Select::Best if price_lost => return "higher resulting price".into(),
            Select::Priority if cand.priority < winner.priority => return "lower priority".into(),
            _ => {}
        }
        if cand.level > winner.level {
            "less specific audience level".into()
        } else if cand.spec < winner.spec {
            "less specific product selector".into()
        } else if cand.priority < winner.priority {
            "lower priority".into()
        } else if price_lost {
            "higher resulting price".into()
        } else {
            "larger id on an otherwise equal tie".into()
        }
    }

    fn not_candidate_reason(&self, cand: &Candidate, ctx: &Ctx<'_>) -> String {
        match cand.kind {
            CandidateKind::Rule(r) => {
                let rule = self.index.pricing.rules.row(r);
                if !rule.validity.contains(ctx.at) {
                    return format!("not valid at {}", ctx.at);
                }
                let qty = self
                    .tier_qty(ctx, rule.tier_basis, rule.basis_category)
                    .total;
                if rule.min_qty.is_some_and(|m| qty < m) || rule.max_qty.is_some_and(|m| qty > m) {
                    return "quantity outside the rule's range".into();
                }
                if rule.currency.is_some_and(|c| c != ctx.currency) {
                    return format!(
                        "amounts in another currency than {}",
                        self.currency_code(ctx.currency)
                    );
                }
                match &rule.action {
                    Action::FromList { .. } => {
                        "the referenced list has no price for this request".into()
                    }
                    a if a.needs_running_price() => {
                        "needs a running price, and there is none yet".into()
                    }
                    _ => "no value for this quantity (below the first tier)".into(),
                }
            }
            CandidateKind::Entry { entry, list, .. } => {
                let currency_ok = self.index.pricing.lists.row(list).currency == ctx.currency;
                let e = self.index.pricing.entry(entry);
                let qty = self.tier_qty(ctx, e.tier_basis, NONE).total;
                if !currency_ok {
                    format!(
                        "list in another currency than {}",
                        self.currency_code(ctx.currency)
                    )
                } else if !e.validity.contains(ctx.at) {
                    format!("not valid at {}", ctx.at)
                } else if e.min_qty.is_some_and(|m| qty < m) || e.max_qty.is_some_and(|m| qty > m) {
                    "quantity outside the entry's range".into()
                } else {
                    "no price for this quantity (below the first tier, or a list of the chain is not valid)".into()
                }
            }
        }
    }

    /// The visibility decision with the rule behind each capability, computed rule by rule.
    fn visibility_report(
        &self,
        account: &AccountDef,
        product: ProductId,
        at: Instant,
    ) -> VisibilityReport {
        let mut decided_by: [Option<String>; 3] = [None, None, None];
        for (cap, slot) in decided_by.iter_mut().enumerate() {
            let mut best: Option<(u8, crate::index::Spec, bool, &str)> = None;
            for rule in &self.index.visibility.rules {
                let level = rule
                    .audience
                    .iter()
                    .filter_map(|aud| {
                        account
                            .chain
                            .iter()
                            .find(|(k, _)| k == aud)
                            .map(|(_, l)| *l)
                    })
                    .min();
                let Some(level) = level else { continue };
                let selector = self.index.catalog.selectors.row(rule.selector);
                let applies = rule.validity.contains(at)
                    && rule.concerns.get(cap).copied().unwrap_or(false)
                    && selector.products.contains(product.raw());
                if !applies {
                    continue;
                }
                let spec = selector.spec;
                let key = (level, spec, rule.allow);
                let better = match best {
                    None => true,
                    Some((l, s, allow, _)) => {
                        key.0 < l || (key.0 == l && (key.1 > s || (key.1 == s && allow && !key.2)))
                    }
                };
                if better {
                    best = Some((level, spec, rule.allow, &rule.id));
                }
            }
            *slot = best.map(|(_, _, allow, id)| {
                format!("{} by {id}", if allow { "allowed" } else { "denied" })
            });
        }
        let caps = self.capabilities(account, product, at);
        VisibilityReport {
            allowed: [caps.see, caps.price, caps.buy],
            decided_by,
        }
    }
}

fn select_name(select: Select) -> &'static str {
    match select {
        Select::MostSpecific => "most_specific",
        Select::Priority => "priority",
        Select::Lowest => "lowest",
        Select::All => "all",
        Select::Best => "best",
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} × {} for {} at {} in {}",
            self.qty, self.sku, self.account, self.at, self.currency
        )?;
        let [see, price, buy] = self.visibility.allowed;
        writeln!(f, "visibility: see={see} price={price} buy={buy}")?;
        for (name, by) in ["see", "price", "buy"]
            .iter()
            .zip(&self.visibility.decided_by)
        {
            writeln!(f, "  {name}: {}", by.as_deref().unwrap_or("default"))?;
        }
        for step in &self.steps {
            let skipped = if step.skipped { " (skipped)" } else { "" };
            writeln!(f, "step {} [{}]{skipped}", step.step, step.select)?;
            for c in &step.candidates {
                let mark = if c.applied { "*" } else { " " };
                let result = c
                    .result
                    .map(|r| r.normalize().to_string())
                    .unwrap_or_else(|| "-".into());
                writeln!(
                    f,
                    "  {mark} {:<28} {:<24} {:<22} prio {:>3} spec {} → {:>10}  {}",
                    c.rule, c.source, c.level, c.priority, c.specificity, result, c.reason
                )?;
            }
        }
        match &self.outcome {
            Ok((unit, line)) => write!(f, "price: {unit} per unit, {line} for the line"),
            Err((code, message)) => write!(f, "no price: {code}: {message}"),
        }
    }
}
