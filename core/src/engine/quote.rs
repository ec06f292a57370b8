//! `quote`: the pricing procedure of docs/spec.md §6, over the compiled indexes.

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::{
    AccountDef, AccountId, Action, AudKey, CurrencyId, Engine, EntryDef, IndexKind, ListId, Policy,
    ProductId, RoundTarget, RuleDef, Spec, Tiered,
};
use crate::error::QueryError;
use crate::instant::Instant;
use crate::model::{PercentOf, PriceMode, RoundingMode, RoundingStage, Select, TierMode};
use crate::money::{self, non_negative, ExactMul};

/// One line to price.
///
/// ```
/// use tarif::{Instant, QuoteRequest};
/// let req = QuoteRequest::new("ACME", "DR-18V-01", 3.into()).at(Instant::from_unix_seconds(0)).currency("EUR");
/// assert_eq!(req.currency, Some("EUR"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct QuoteRequest<'a> {
    /// Account id.
    pub account: &'a str,
    /// Any reference `lookup` accepts: SKU, EAN, MPN, ref or the account's alias.
    pub product: &'a str,
    /// Quantity (positive).
    pub qty: Decimal,
    /// Instant of the price (default: now).
    pub at: Option<Instant>,
    /// Currency (default: the account's, else the document's default).
    pub currency: Option<&'a str>,
}

impl<'a> QuoteRequest<'a> {
    /// A request at the current instant in the account's currency.
    pub fn new(account: &'a str, product: &'a str, qty: Decimal) -> Self {
        QuoteRequest {
            account,
            product,
            qty,
            at: None,
            currency: None,
        }
    }

    /// At a given instant.
    pub fn at(mut self, at: Instant) -> Self {
        self.at = Some(at);
        self
    }

    /// In a given currency.
    pub fn currency(mut self, currency: &'a str) -> Self {
        self.currency = Some(currency);
        self
    }
}

/// A priced line.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote<'e> {
    /// The product's SKU.
    pub sku: &'e str,
    /// The quantity priced.
    pub qty: Decimal,
    /// Currency code.
    pub currency: &'e str,
    /// Unit price, rounded per the rounding policy.
    pub unit_price: Decimal,
    /// Line total.
    pub line_total: Decimal,
    /// Price after the first step, rounded like the unit price.
    pub base_price: Decimal,
    /// What the everyone level alone gives, when it gives a price.
    pub list_price: Option<Decimal>,
    /// Whether the account may order the product.
    pub buyable: bool,
    /// The rounding stage used (a graduated quote is always at stage `line`).
    pub stage: RoundingStage,
    /// The rules that applied, in order.
    pub steps: SmallVec<[AppliedStep<'e>; 4]>,
    /// The engine that produced the quote.
    pub engine_version: &'e str,
}

/// One applied rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedStep<'e> {
    /// Procedure step name.
    pub step: &'e str,
    /// The rule (its `Display` is the full id).
    pub rule: RuleRef<'e>,
    /// Where the rule comes from.
    pub source: Source<'e>,
    /// The audience level it applied at.
    pub level: Level<'e>,
    /// Unit value before (none in the first step).
    pub before: Option<Decimal>,
    /// Unit value after.
    pub after: Decimal,
    /// Remarks: `exclusive`, `graduated`, `tier`, `derived`, `never_raise`, `clamped`.
    pub notes: Notes,
}

/// A rule or price-list entry, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleRef<'e> {
    /// A contract rule: `contract-id/rule-id`.
    Rule(&'e str),
    /// A price-list entry: `list-id/sku`.
    Entry {
        /// List id.
        list: &'e str,
        /// Product SKU.
        sku: &'e str,
    },
}

impl RuleRef<'_> {
    /// Compares full ids byte-wise without building them.
    pub(crate) fn cmp_id(&self, other: &RuleRef<'_>) -> Ordering {
        fn bytes<'a>(r: &'a RuleRef<'_>) -> impl Iterator<Item = u8> + 'a {
            let (a, sep, b): (&[u8], &[u8], &[u8]) = match r {
                RuleRef::Rule(id) => (id.as_bytes(), b"", b""),
                RuleRef::Entry { list, sku } => (list.as_bytes(), b"/", sku.as_bytes()),
            };
            a.iter().chain(sep).chain(b).copied()
        }
        bytes(self).cmp(bytes(other))
    }
}

impl fmt::Display for RuleRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleRef::Rule(id) => f.write_str(id),
            RuleRef::Entry { list, sku } => write!(f, "{list}/{sku}"),
        }
    }
}

/// Where an applied rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'e> {
    /// A contract, by id.
    Contract(&'e str),
    /// A price list, by id.
    PriceList(&'e str),
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Contract(id) => write!(f, "contract {id}"),
            Source::PriceList(id) => write!(f, "price list {id}"),
        }
    }
}

/// An audience level of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level<'e> {
    /// The account (depth 0) or an ancestor (depth 1, 2, …).
    Account {
        /// Account id.
        id: &'e str,
        /// 0 for the account itself.
        depth: u8,
    },
    /// A segment of the account or of an ancestor.
    Segment {
        /// Segment id.
        id: &'e str,
    },
    /// Everyone.
    Everyone,
}

impl fmt::Display for Level<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Account { id, depth: 0 } => write!(f, "account {id}"),
            Level::Account { id, depth } => write!(f, "ancestor {id} (+{depth})"),
            Level::Segment { id } => write!(f, "segment {id}"),
            Level::Everyone => f.write_str("everyone"),
        }
    }
}

/// Remarks on an applied step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notes(u8);

impl Notes {
    pub(crate) const EXCLUSIVE: Notes = Notes(1);
    pub(crate) const GRADUATED: Notes = Notes(2);
    pub(crate) const TIER: Notes = Notes(4);
    pub(crate) const DERIVED: Notes = Notes(8);
    pub(crate) const NEVER_RAISE: Notes = Notes(16);
    pub(crate) const CLAMPED: Notes = Notes(32);
    const NAMES: [&'static str; 6] = [
        "exclusive",
        "graduated",
        "tier",
        "derived",
        "never_raise",
        "clamped",
    ];

    pub(crate) fn with(self, other: Notes) -> Notes {
        Notes(self.0 | other.0)
    }

    /// The remarks, by name.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        Notes::NAMES
            .iter()
            .enumerate()
            .filter(|(k, _)| self.0 & (1 << k) != 0)
            .map(|(_, n)| *n)
    }

    /// Whether there is no remark.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Notes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().collect::<Vec<_>>().join(", "))
    }
}

/// The running value: a unit price, or a line total once a graduated tier has applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Running {
    pub value: Decimal,
    pub per_line: bool,
}

impl Running {
    fn unit(value: Decimal) -> Running {
        Running {
            value,
            per_line: false,
        }
    }

    fn line(value: Decimal) -> Running {
        Running {
            value,
            per_line: true,
        }
    }

    /// The value as a line total (for comparisons across bases).
    fn as_line(self, qty: Decimal) -> Option<Decimal> {
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

type Calc<T> = Result<T, Overflow>;

fn ok<T>(v: Option<T>) -> Calc<T> {
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
    Rule(u32),
    /// An entry offered by `list` (the attached list); `factor` applies when derived.
    Entry {
        entry: u32,
        list: ListId,
        derived: bool,
    },
}

/// The request, resolved to dense ids.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'e> {
    pub account: &'e AccountDef,
    pub product: ProductId,
    pub qty: Decimal,
    pub at: Instant,
    pub currency: CurrencyId,
    /// Only the everyone level of the chain (for `list_price`).
    pub everyone_only: bool,
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
    pub id: AccountId,
    pub def: &'e AccountDef,
    pub product: ProductId,
    pub currency: CurrencyId,
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
    /// Prices one line.
    ///
    /// ```
    /// use tarif::{Engine, Instant, QuoteRequest};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10", "tiers": [{"min_qty": 5, "price": "9"}]}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let q = engine.quote(&QuoteRequest::new("C", "A", 6.into())).unwrap();
    /// assert_eq!((q.unit_price.to_string(), q.line_total.to_string()), ("9.00".into(), "54.00".into()));
    /// assert_eq!(q.steps[0].rule.to_string(), "l/A");
    /// ```
    pub fn quote(&self, request: &QuoteRequest<'_>) -> Result<Quote<'_>, QueryError> {
        let (ctx, buyable) = self.prepare(request)?;
        let mut recorder = StepsRecorder::default();
        let matched = self.matched(&ctx);
        let priced = self
            .run_matched(&ctx, &matched, &mut recorder)
            .map_err(|f| self.fail(f, &ctx))?;
        let (unit_price, line_total, base_price) = self
            .finish(&priced, ctx.qty)
            .map_err(|f| self.fail(f, &ctx))?;
        // When every candidate already speaks to everyone, the list price is this very run.
        let level = self.audiences.everyone_level(ctx.account);
        let list_price = if matched.iter().all(|c| c.aud == 0 && c.level == level) {
            Some(unit_price)
        } else {
            self.list_price(&ctx, &matched)
        };
        Ok(Quote {
            sku: self.sku(ctx.product),
            qty: ctx.qty,
            currency: self.currency_code(ctx.currency),
            unit_price,
            line_total,
            base_price,
            list_price,
            buyable,
            stage: if priced.running.per_line {
                RoundingStage::Line
            } else {
                priced.policy.stage
            },
            steps: recorder.steps,
            engine_version: &self.version,
        })
    }

    /// The unit price of the everyone level alone, if it gives one. Reuses the candidates matched for the whole chain: the everyone level's are among them.
    pub(crate) fn list_price(&self, ctx: &Ctx<'_>, matched: &[Candidate]) -> Option<Decimal> {
        let everyone = Ctx {
            everyone_only: true,
            ..*ctx
        };
        let level = self.audiences.everyone_level(ctx.account);
        let mut view = Matched::new();
        for cand in matched {
            let everyone_list = match cand.kind {
                CandidateKind::Entry { list, .. } => self.pricing.everyone_lists.contains(&list),
                CandidateKind::Rule(_) => false,
            };
            if cand.aud == 0 || everyone_list {
                view.push(Candidate {
                    aud: 0,
                    level,
                    ..*cand
                });
            }
        }
        let priced = self.run_matched(&everyone, &view, &mut Silent).ok()?;
        self.finish(&priced, ctx.qty).ok().map(|(unit, _, _)| unit)
    }

    /// Resolves a request to dense ids and checks everything but the price itself, in the
    /// precedence of docs/spec.md §9. Returns the context and the `buy` capability.
    pub(crate) fn prepare<'e>(
        &'e self,
        request: &QuoteRequest<'_>,
    ) -> Result<(Ctx<'e>, bool), QueryError> {
        let ctx = self.resolve_request(request, Resolve::Visible)?;
        let buyable = self.admit(&ctx, request.product)?;
        Ok((ctx, buyable))
    }

    /// The checks of a resolved request that come after its resolution (docs/spec.md §9):
    /// visibility, quantity, price visibility. Returns the `buy` capability; `reference` is the
    /// product as the caller wrote it, for the error.
    pub(crate) fn admit(&self, ctx: &Ctx<'_>, reference: &str) -> Result<bool, QueryError> {
        let caps = self.capabilities(ctx.account, ctx.product, ctx.at);
        if !caps.see {
            return Err(QueryError::UnknownProduct(reference.to_string()));
        }
        self.check_quantity(ctx.product, ctx.qty)?;
        if !caps.price {
            return Err(QueryError::PriceHidden(self.sku(ctx.product).to_string()));
        }
        Ok(caps.buy)
    }

    /// Account, instant, currency and product of a request, without visibility or quantity
    /// checks (which `explain` reports rather than fails on).
    pub(crate) fn resolve_request<'e>(
        &'e self,
        request: &QuoteRequest<'_>,
        resolve: Resolve,
    ) -> Result<Ctx<'e>, QueryError> {
        let at = request.at.unwrap_or_else(Instant::now);
        let visible_at = (resolve == Resolve::Visible).then_some(at);
        let resolved = self.resolve_ids(
            request.account,
            request.product,
            request.currency,
            visible_at,
        )?;
        Ok(Ctx {
            account: resolved.def,
            product: resolved.product,
            qty: request.qty,
            at,
            currency: resolved.currency,
            everyone_only: false,
        })
    }

    /// The dense ids of a request's account, product and currency, in the precedence of
    /// docs/spec.md §9. With `visible_at`, the reference resolves among the products the
    /// account may see then (a hidden product never shadows a visible one); without, to the
    /// first match (the trusted `explain`, which reports a hidden product).
    pub(crate) fn resolve_ids<'e>(
        &'e self,
        account: &str,
        reference: &str,
        currency: Option<&str>,
        visible_at: Option<Instant>,
    ) -> Result<Resolved<'e>, QueryError> {
        let (id, def) = self.account(account)?;
        let currency = self.request_currency(def, currency)?;
        let product = match visible_at {
            Some(at) => self.resolve_visible(def, reference, at),
            None => self.resolve_ref(def, reference, |_| true),
        }
        .ok_or_else(|| QueryError::UnknownProduct(reference.to_string()))?;
        Ok(Resolved {
            id,
            def,
            product,
            currency,
        })
    }

    pub(crate) fn request_currency(
        &self,
        account: &AccountDef,
        requested: Option<&str>,
    ) -> Result<CurrencyId, QueryError> {
        match requested {
            Some(code) => self
                .currency_id(code)
                .ok_or_else(|| QueryError::UnknownCurrency(code.to_string())),
            None => Ok(account
                .lineage
                .iter()
                .find_map(|&a| {
                    self.audiences
                        .accounts
                        .get(a as usize)
                        .and_then(|d| d.currency)
                })
                .unwrap_or(self.settings.default_currency)),
        }
    }

    /// `INVALID_QUANTITY` for a non-positive quantity, `QUANTITY_RULE` outside order rules.
    pub(crate) fn check_quantity(
        &self,
        product: ProductId,
        qty: Decimal,
    ) -> Result<(), QueryError> {
        if qty <= Decimal::ZERO {
            return Err(QueryError::InvalidQuantity(qty.to_string()));
        }
        let Some(rule) = self.catalog.order.get(&product) else {
            return Ok(());
        };
        let min = rule.min.unwrap_or(Decimal::ZERO);
        let on_multiple = |q: Decimal| rule.multiple.is_none_or(|m| (q % m).is_zero());
        if qty >= min && on_multiple(qty) {
            return Ok(());
        }
        let nearest = nearest_quantity(qty, rule.min, rule.multiple)
            .ok_or_else(|| QueryError::Overflow(self.sku(product).to_string()))?;
        Err(QueryError::QuantityRule {
            sku: self.sku(product).to_string(),
            qty,
            nearest,
        })
    }

    pub(crate) fn fail(&self, fail: Fail, ctx: &Ctx<'_>) -> QueryError {
        let sku = self.sku(ctx.product).to_string();
        match fail {
            Fail::Overflow => QueryError::Overflow(sku),
            Fail::NoPrice => {
                let priced_in = (0..self.currencies.len())
                    .filter_map(|c| CurrencyId::try_from(c).ok())
                    .filter(|&c| c != ctx.currency)
                    .filter(|&c| {
                        self.run(
                            &Ctx {
                                currency: c,
                                ..*ctx
                            },
                            &mut Silent,
                        )
                        .is_ok()
                    })
                    .map(|c| self.currency_code(c).to_string())
                    .collect();
                QueryError::NoPrice {
                    sku,
                    currency: self.currency_code(ctx.currency).to_string(),
                    priced_in,
                }
            }
        }
    }

    /// The final rounding (docs/spec.md §6.7): unit price, line total and base price.
    pub(crate) fn finish(
        &self,
        priced: &Priced,
        qty: Decimal,
    ) -> Result<(Decimal, Decimal, Decimal), Fail> {
        let Policy {
            mode, unit_scale, ..
        } = priced.policy;
        // A line-primary quote is at stage `line` whatever the policy says (docs/spec.md §6.4).
        let stage = if priced.running.per_line {
            RoundingStage::Line
        } else {
            priced.policy.stage
        };
        let scale = priced.scale;
        let unit_of = |r: Running| -> Calc<Decimal> {
            Ok(match (r.per_line, stage) {
                (true, _) => money::round(ok(r.value.checked_div(qty))?, unit_scale, mode),
                (false, RoundingStage::Unit) => money::round(r.value, scale, mode),
                (false, RoundingStage::Line) => money::round(r.value, unit_scale, mode),
            })
        };
        let unit = unit_of(priced.running)?;
        let line = match (priced.running.per_line, stage) {
            (true, _) => money::round(priced.running.value, scale, mode),
            (false, RoundingStage::Unit) => exact_product(unit, qty)?,
            (false, RoundingStage::Line) => {
                money::round(ok(priced.running.value.exact_mul(qty))?, scale, mode)
            }
        };
        Ok((unit, line, unit_of(priced.base)?))
    }

    /// Runs the procedure: every step, its candidates, its selection, its actions.
    pub(crate) fn run<'e, R: Recorder<'e>>(
        &'e self,
        ctx: &Ctx<'e>,
        recorder: &mut R,
    ) -> Result<Priced, Fail> {
        self.run_matched(ctx, &self.matched(ctx), recorder)
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
        for (index, step) in self.settings.steps.iter().enumerate() {
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
                let result = self.apply(cand, ctx, running, base)?;
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
                    self.apply(&cand, ctx, running, base)?
                } else {
                    first_result
                };
                let Some(after) = result else { continue };
                if R::STEPS {
                    recorder.applied(self.applied_step(&step.name, &cand, ctx, running, after));
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
            self.currencies
                .get(usize::from(ctx.currency))
                .map(|c| c.scale)
                .unwrap_or(2)
        });
        Ok(Priced {
            running,
            base,
            policy,
            scale,
        })
    }

    fn in_step(&self, cand: &Candidate, step: u16) -> bool {
        match cand.kind {
            CandidateKind::Rule(r) => self
                .pricing
                .rules
                .get(r as usize)
                .is_some_and(|r| r.step == step),
            CandidateKind::Entry { .. } => step == 0,
        }
    }

    /// Validity, quantity range and currency (docs/spec.md §6.1, 3–5).
    pub(crate) fn admissible(&self, cand: &Candidate, ctx: &Ctx<'_>) -> bool {
        match cand.kind {
            CandidateKind::Rule(r) => self.pricing.rules.get(r as usize).is_some_and(|rule| {
                rule.validity.contains(ctx.at)
                    && in_range(ctx.qty, rule.min_qty, rule.max_qty)
                    && rule.currency.is_none_or(|c| c == ctx.currency)
            }),
            CandidateKind::Entry {
                entry,
                list,
                derived,
            } => {
                let Some(e) = self.pricing.entries.get(entry as usize) else {
                    return false;
                };
                let list_ok = self
                    .pricing
                    .lists
                    .get(list as usize)
                    .is_some_and(|l| l.currency == ctx.currency);
                list_ok
                    && e.validity.contains(ctx.at)
                    && in_range(ctx.qty, e.min_qty, e.max_qty)
                    && (!derived || self.chain_valid(list, e.product, ctx.at))
            }
        }
    }

    /// Every list along the derived chain from `list` to the one holding the product's entry is
    /// valid at `at`.
    fn chain_valid(&self, list: ListId, product: ProductId, at: Instant) -> bool {
        let mut current = list;
        for _ in 0..=self.pricing.lists.len() {
            let Some(def) = self.pricing.lists.get(current as usize) else {
                return false;
            };
            if !def.validity.contains(at) {
                return false;
            }
            if self
                .pricing
                .entry_index
                .contains_key(&entry_key(current, product))
            {
                return true;
            }
            match def.derived {
                Some((next, _)) => current = next,
                None => return false,
            }
        }
        false
    }

    /// The rules and entries whose audience is in the chain and whose selector matches.
    pub(crate) fn matched(&self, ctx: &Ctx<'_>) -> Matched {
        let mut out = Matched::new();
        let product = ctx.product;
        let everyone_level = self.audiences.everyone_level(ctx.account);
        for &(list, level, aud) in &ctx.account.lists {
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
        let catalog = &self.catalog;
        for &(aud, level) in &ctx.account.chain {
            if ctx.everyone_only && aud != 0 {
                continue;
            }
            let Some(rules) = self.pricing.audience_rules.get(&aud) else {
                continue;
            };
            if !rules.products.contains(product) {
                continue;
            }
            let kinds = rules.kinds;
            let push = |rule: u32, out: &mut Matched| {
                if out.iter().any(|c| c.kind == CandidateKind::Rule(rule)) {
                    return;
                }
                if let Some(def) = self.pricing.rules.get(rule as usize) {
                    out.push(Candidate {
                        kind: CandidateKind::Rule(rule),
                        level,
                        aud,
                        spec: def.spec,
                        priority: def.priority,
                        exclusive: def.exclusive,
                    });
                }
            };
            let by_key = |kind: IndexKind, value: u32, out: &mut Matched| {
                if kinds & kind.bit() != 0 && value != super::NONE {
                    if let Some(rules) = self.pricing.rule_index.get(&kind.key(aud, value)) {
                        for &r in rules {
                            push(r, out);
                        }
                    }
                }
            };
            by_key(IndexKind::Sku, product, &mut out);
            by_key(
                IndexKind::Family,
                catalog
                    .family
                    .get(product as usize)
                    .copied()
                    .unwrap_or(super::NONE),
                &mut out,
            );
            if kinds & IndexKind::Category.bit() != 0 {
                for &c in catalog
                    .category_closure
                    .get(product as usize)
                    .map(|c| c.as_slice())
                    .unwrap_or(&[])
                {
                    by_key(IndexKind::Category, c, &mut out);
                }
            }
            by_key(
                IndexKind::Brand,
                catalog
                    .brand
                    .get(product as usize)
                    .copied()
                    .unwrap_or(super::NONE),
                &mut out,
            );
            if kinds & IndexKind::Scan.bit() != 0 {
                for &r in &rules.scan {
                    let matches = self
                        .pricing
                        .rules
                        .get(r as usize)
                        .and_then(|def| catalog.selectors.get(def.selector as usize))
                        .is_some_and(|s| s.products.contains(product));
                    if matches {
                        push(r, &mut out);
                    }
                }
            }
        }
        out
    }

    /// The entries a list offers for a product: its own, or (when it has none for the product)
    /// those of the list it derives from. Calls `emit(entry, derived, priority, exclusive)`.
    fn offers(
        &self,
        list: ListId,
        product: ProductId,
        emit: &mut impl FnMut(u32, bool, i64, bool),
    ) {
        let Some(def) = self.pricing.lists.get(list as usize) else {
            return;
        };
        let mut source = list;
        for hop in 0..=self.pricing.lists.len() {
            if let Some(&(start, len)) = self.pricing.entry_index.get(&entry_key(source, product)) {
                for entry in start..start.saturating_add(len) {
                    match (hop, self.pricing.entries.get(entry as usize)) {
                        (0, Some(e)) => emit(entry, false, e.priority, e.exclusive),
                        (_, Some(_)) => emit(entry, true, def.priority, def.net),
                        _ => {}
                    }
                }
                return;
            }
            match self
                .pricing
                .lists
                .get(source as usize)
                .and_then(|l| l.derived)
            {
                Some((next, _)) => source = next,
                None => return,
            }
        }
    }

    /// The product of `1 + percent/100` along the derived chain from `list` to `entry`'s list.
    fn derived_factor(&self, list: ListId, entry: &EntryDef) -> Calc<Decimal> {
        let mut factor = Decimal::ONE;
        let mut current = list;
        for _ in 0..=self.pricing.lists.len() {
            if current == entry.list {
                return Ok(factor);
            }
            let Some((next, percent)) = self
                .pricing
                .lists
                .get(current as usize)
                .and_then(|l| l.derived)
            else {
                return Ok(factor);
            };
            factor = ok(money::apply_percent(factor, percent))?;
            current = next;
        }
        Ok(factor)
    }

    /// The price a list gives for the product (for `from_list`): the best of its offers.
    fn list_offer(&self, list: ListId, ctx: &Ctx<'_>) -> Calc<Option<Running>> {
        let mut offers: SmallVec<[(u32, bool, i64); 2]> = SmallVec::new();
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
            let Some(value) = self.apply(&cand, ctx, None, None)? else {
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

    /// The candidate's result on the running price; `None` when it is not a candidate here.
    /// Once a quote is line-primary it stays so (docs/spec.md §6.4).
    pub(crate) fn apply(
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

    fn apply_in_own_basis(
        &self,
        cand: &Candidate,
        ctx: &Ctx<'_>,
        running: Option<Running>,
        base: Option<Running>,
    ) -> Calc<Option<Running>> {
        let qty = ctx.qty;
        match cand.kind {
            CandidateKind::Entry {
                entry,
                list,
                derived,
            } => {
                let Some(e) = self.pricing.entries.get(entry as usize) else {
                    return Ok(None);
                };
                let factor = if derived {
                    self.derived_factor(list, e)?
                } else {
                    Decimal::ONE
                };
                let scaled = |v: Decimal| ok(v.exact_mul(factor));
                set_price(&e.values, qty, scaled)
            }
            CandidateKind::Rule(r) => {
                let Some(rule) = self.pricing.rules.get(r as usize) else {
                    return Ok(None);
                };
                self.apply_rule(rule, ctx, running, base)
            }
        }
    }

    fn apply_rule(
        &self,
        rule: &RuleDef,
        ctx: &Ctx<'_>,
        running: Option<Running>,
        base: Option<Running>,
    ) -> Calc<Option<Running>> {
        let qty = ctx.qty;
        if rule.action.needs_running_price() && running.is_none() {
            return Ok(None);
        }
        match &rule.action {
            Action::Price { values, mode } => {
                let Some(new) = set_price(values, qty, Ok)? else {
                    return Ok(None);
                };
                match (mode, running) {
                    (PriceMode::NeverRaise, Some(r)) if values.mode == TierMode::Graduated => {
                        // Band by band: each band's units at the lower of its price and `p`.
                        let unit = ok(r.as_unit(qty))?;
                        let mut line = Decimal::ZERO;
                        for (units, v) in values.bands(qty) {
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
            Action::Percent { values, of } => {
                let Some(r) = running else { return Ok(None) };
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
                    qty,
                    r,
                    |unit, pct| with(unit, pct, base_unit),
                    |line, pct| with(line, pct, base_line),
                )
            }
            Action::Amount { values } => {
                let Some(r) = running else { return Ok(None) };
                adjust(
                    values,
                    qty,
                    r,
                    |unit, a| Ok(non_negative(ok(unit.checked_add(a))?)),
                    |line, a| Ok(non_negative(ok(line.checked_add(ok(a.exact_mul(qty))?))?)),
                )
            }
            Action::FromList { list, percent } => {
                let Some(found) = self.list_offer(*list, ctx)? else {
                    return Ok(None);
                };
                match percent {
                    Some(p) => Ok(Some(Running {
                        value: ok(money::apply_percent(found.value, *p))?,
                        ..found
                    })),
                    None => Ok(Some(found)),
                }
            }
            Action::Bounds(bounds) => {
                let Some(r) = running else { return Ok(None) };
                let b = base.unwrap_or(r);
                // Bounds are taken in the running value's own basis: on a line-primary quote,
                // line amounts (per-unit bounds times the quantity), never a line divided by
                // the quantity, which is not exact.
                let (base_value, k) = if r.per_line {
                    (ok(b.as_line(qty))?, qty)
                } else {
                    (ok(b.as_unit(qty))?, Decimal::ONE)
                };
                let scaled = |v: Decimal| ok(v.exact_mul(k));
                let cost = self
                    .catalog
                    .cost
                    .get(ctx.product as usize)
                    .copied()
                    .flatten();
                let mut floors: SmallVec<[Decimal; 4]> = SmallVec::new();
                if let Some(v) = bounds.min_price {
                    floors.push(scaled(v)?);
                }
                if let (Some(m), Some(c)) = (bounds.min_margin_pct, cost) {
                    if ctx.currency == self.settings.default_currency {
                        floors.push(scaled(ok(money::apply_percent(c, m))?)?);
                    }
                }
                if let Some(d) = bounds.max_discount_pct {
                    floors.push(ok(money::apply_percent(base_value, -d))?);
                }
                if let Some(v) = bounds.min_over_base {
                    floors.push(non_negative(ok(base_value.checked_add(scaled(v)?))?));
                }
                let mut ceilings: SmallVec<[Decimal; 2]> = SmallVec::new();
                if let Some(v) = bounds.max_price {
                    ceilings.push(scaled(v)?);
                }
                if let Some(v) = bounds.max_over_base {
                    ceilings.push(non_negative(ok(base_value.checked_add(scaled(v)?))?));
                }
                let mut value = r.value;
                if let Some(u) = ceilings.into_iter().min() {
                    value = value.min(u);
                }
                // The floor wins over the ceiling: it is applied last.
                if let Some(l) = floors.into_iter().max() {
                    value = value.max(l);
                }
                Ok(Some(Running { value, ..r }))
            }
            Action::RoundTo { target, mode } => {
                let Some(r) = running else { return Ok(None) };
                let mode = mode.unwrap_or_else(|| self.round_to_mode(rule, ctx.currency));
                let unit = ok(r.as_unit(qty))?;
                let rounded = ok(match target {
                    RoundTarget::Multiple(step) => money::round_to_multiple(unit, *step, mode),
                    RoundTarget::Ending(ending) => money::round_to_ending(unit, *ending, mode),
                })?;
                Ok(Some(if r.per_line {
                    Running::line(ok(rounded.exact_mul(qty))?)
                } else {
                    Running::unit(rounded)
                }))
            }
        }
    }

    /// `round_to`'s default mode: the rule's policy, its contract's, the currency's, the
    /// settings', else half up.
    fn round_to_mode(&self, rule: &RuleDef, currency: CurrencyId) -> RoundingMode {
        [
            rule.rounding,
            self.pricing
                .contracts
                .get(rule.contract as usize)
                .and_then(|c| c.rounding),
            self.currencies
                .get(usize::from(currency))
                .and_then(|c| c.rounding),
            self.settings.rounding,
        ]
        .into_iter()
        .flatten()
        .find_map(|p| self.policy(p))
        .map(|p| p.mode)
        .unwrap_or(RoundingMode::HalfUp)
    }

    /// The rounding policy of a quote (docs/spec.md §6.7).
    fn policy_for(&self, applied: &[CandidateKind], currency: CurrencyId) -> Policy {
        let rules = || {
            applied.iter().rev().filter_map(|k| match k {
                CandidateKind::Rule(r) => self.pricing.rules.get(*r as usize),
                CandidateKind::Entry { .. } => None,
            })
        };
        let own = rules().find_map(|r| r.rounding);
        let contract = || {
            rules().find_map(|r| {
                self.pricing
                    .contracts
                    .get(r.contract as usize)
                    .and_then(|c| c.rounding)
            })
        };
        let list = || {
            applied.iter().rev().find_map(|k| match k {
                CandidateKind::Entry { list, .. } => self
                    .pricing
                    .lists
                    .get(*list as usize)
                    .and_then(|l| l.rounding),
                CandidateKind::Rule(_) => None,
            })
        };
        let chosen = own
            .or_else(contract)
            .or_else(list)
            .or_else(|| {
                self.currencies
                    .get(usize::from(currency))
                    .and_then(|c| c.rounding)
            })
            .or(self.settings.rounding);
        chosen
            .and_then(|p| self.policy(p))
            .copied()
            .unwrap_or(Policy {
                mode: RoundingMode::HalfUp,
                stage: RoundingStage::Unit,
                scale: None,
                unit_scale: 4,
            })
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

    /// The id of a candidate.
    pub(crate) fn cand_id(&self, cand: &Candidate) -> RuleRef<'_> {
        match cand.kind {
            CandidateKind::Rule(r) => RuleRef::Rule(
                self.pricing
                    .rules
                    .get(r as usize)
                    .map(|r| &*r.id)
                    .unwrap_or(""),
            ),
            CandidateKind::Entry { entry, list, .. } => RuleRef::Entry {
                list: self
                    .pricing
                    .lists
                    .get(list as usize)
                    .map(|l| &*l.id)
                    .unwrap_or(""),
                sku: self
                    .pricing
                    .entries
                    .get(entry as usize)
                    .map(|e| self.sku(e.product))
                    .unwrap_or(""),
            },
        }
    }

    pub(crate) fn cand_source(&self, cand: &Candidate) -> Source<'_> {
        match cand.kind {
            CandidateKind::Rule(r) => Source::Contract(
                self.pricing
                    .rules
                    .get(r as usize)
                    .and_then(|r| self.pricing.contracts.get(r.contract as usize))
                    .map(|c| &*c.id)
                    .unwrap_or(""),
            ),
            CandidateKind::Entry { list, .. } => Source::PriceList(
                self.pricing
                    .lists
                    .get(list as usize)
                    .map(|l| &*l.id)
                    .unwrap_or(""),
            ),
        }
    }

    pub(crate) fn level_of(&self, cand: &Candidate, account: &AccountDef) -> Level<'_> {
        let segments = u32::try_from(self.audiences.segment_ids.len()).unwrap_or(0);
        match cand.aud {
            0 => Level::Everyone,
            s if s <= segments => Level::Segment {
                id: self
                    .audiences
                    .segment_ids
                    .get((s - 1) as usize)
                    .map(|x| &**x)
                    .unwrap_or(""),
            },
            a => {
                let acc = a - 1 - segments;
                let depth = account.lineage.iter().position(|&x| x == acc).unwrap_or(0);
                Level::Account {
                    id: self
                        .audiences
                        .accounts
                        .get(acc as usize)
                        .map(|x| &*x.id)
                        .unwrap_or(""),
                    depth: u8::try_from(depth).unwrap_or(u8::MAX),
                }
            }
        }
    }

    fn applied_step<'e>(
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
                if self
                    .pricing
                    .entries
                    .get(entry as usize)
                    .is_some_and(|e| tiered(&e.values))
                {
                    notes = notes.with(Notes::TIER);
                }
            }
            CandidateKind::Rule(r) => match self.pricing.rules.get(r as usize).map(|r| &r.action) {
                Some(Action::Price { values, mode }) => {
                    if tiered(values) {
                        notes = notes.with(Notes::TIER);
                    }
                    if *mode == PriceMode::NeverRaise {
                        notes = notes.with(Notes::NEVER_RAISE);
                    }
                }
                Some(Action::Percent { values, .. } | Action::Amount { values })
                    if tiered(values) =>
                {
                    notes = notes.with(Notes::TIER);
                }
                Some(Action::Bounds(_)) if before.is_some_and(|b| b.value != after.value) => {
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

/// `a × b` with the scale of both factors added up, zero included (rust_decimal drops the scale
/// of a zero product; an invoice line of `0.00 × 6` is still `0.00`).
fn exact_product(a: Decimal, b: Decimal) -> Calc<Decimal> {
    let mut product = ok(a.exact_mul(b))?;
    if product.is_zero() {
        product.rescale((a.scale() + b.scale()).min(28));
    }
    Ok(product)
}

fn in_range(qty: Decimal, min: Option<Decimal>, max: Option<Decimal>) -> bool {
    min.is_none_or(|m| qty >= m) && max.is_none_or(|m| qty <= m)
}

pub(crate) fn entry_key(list: ListId, product: ProductId) -> u64 {
    (u64::from(list) << 32) | u64::from(product)
}

/// A price (entry or `price` rule): all-units value, or the graduated line.
fn set_price(
    values: &Tiered,
    qty: Decimal,
    map: impl Fn(Decimal) -> Calc<Decimal>,
) -> Calc<Option<Running>> {
    match values.mode {
        TierMode::AllUnits => match values.value_at(qty) {
            Some(v) => Ok(Some(Running::unit(map(v)?))),
            None => Ok(None),
        },
        TierMode::Graduated => {
            let mut line = Decimal::ZERO;
            for (units, v) in values.bands(qty) {
                line = ok(line.checked_add(ok(units.exact_mul(map(v)?))?))?;
            }
            Ok(Some(Running::line(line)))
        }
    }
}

/// An adjustment (percent, amount): all-units on the running value, or graduated bands.
fn adjust(
    values: &Tiered,
    qty: Decimal,
    running: Running,
    on_unit: impl Fn(Decimal, Decimal) -> Calc<Decimal>,
    on_line: impl Fn(Decimal, Decimal) -> Calc<Decimal>,
) -> Calc<Option<Running>> {
    match values.mode {
        TierMode::AllUnits => {
            let Some(v) = values.value_at(qty) else {
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
            let unit = ok(running.as_unit(qty))?;
            let mut line = Decimal::ZERO;
            for (units, v) in values.bands(qty) {
                line = ok(line.checked_add(ok(units.exact_mul(on_unit(unit, v)?))?))?;
            }
            Ok(Some(Running::line(line)))
        }
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

    #[test]
    fn graduated_bands_cover_the_quantity() {
        let t = Tiered {
            own: Some(d("10")),
            tiers: Box::new([(d("10"), d("9")), (d("50"), d("8"))]),
            mode: TierMode::Graduated,
        };
        let bands = t.bands(d("60"));
        assert_eq!(
            bands.as_slice(),
            &[(d("9"), d("10")), (d("40"), d("9")), (d("11"), d("8"))]
        );
        assert_eq!(t.bands(d("5")).as_slice(), &[(d("5"), d("10"))]);
        // "From 10": the 10th unit is the first at the tier.
        assert_eq!(
            t.bands(d("10")).as_slice(),
            &[(d("9"), d("10")), (d("1"), d("9"))]
        );
        assert_eq!(t.bands(d("9")).as_slice(), &[(d("9"), d("10"))]);
    }

    #[test]
    fn graduated_bands_follow_the_sap_interval_scale() {
        // Scale 1–5 at 10.00, from 6 at 12.00, from 21 at 15.00, from 101 at 20.00.
        let t = Tiered {
            own: Some(d("10.00")),
            tiers: Box::new([
                (d("6"), d("12.00")),
                (d("21"), d("15.00")),
                (d("101"), d("20.00")),
            ]),
            mode: TierMode::Graduated,
        };
        let line: Decimal = t.bands(d("140")).iter().map(|(u, v)| u * v).sum();
        assert_eq!(line, d("2230.00"));
        // A part of the 6th unit is priced as the 6th unit; a fractional threshold belongs
        // to the unit it falls in.
        assert_eq!(
            t.bands(d("5.5")).as_slice(),
            &[(d("5"), d("10.00")), (d("0.5"), d("12.00"))]
        );
        let fractional = Tiered {
            own: Some(d("2")),
            tiers: Box::new([(d("2.5"), d("1"))]),
            mode: TierMode::Graduated,
        };
        assert_eq!(
            fractional.bands(d("4")).as_slice(),
            &[(d("2"), d("2")), (d("2"), d("1"))]
        );
    }
}
