//! `quote`: the pricing procedure of docs/spec.md §6, over the compiled index.
//!
//! * [`types`]: the request and what a quote returns;
//! * this file: the API — resolving a request, checking it, running the procedure, finishing;
//! * [`procedure`]: matching candidates, selecting per step, the run;
//! * [`apply`]: one candidate's action on the running price;
//! * [`rounding`]: policies and quantity rules;
//! * [`report`]: naming candidates in steps and explanations.

mod apply;
mod manual;
mod procedure;
mod report;
mod rounding;
mod types;

pub(crate) use procedure::{
    Candidate, CandidateKind, Chain, Counted, Ctx, Fail, Matched, OrderLines, Priced, Recorder,
    Resolve, Resolved, Running, Silent, StepsRecorder,
};
pub(crate) use rounding::nearest_quantity;
pub use types::{
    AppliedStep, Level, Notes, Quote, QuoteRequest, RuleRef, Source, Steps, StockInfo,
};

use rust_decimal::Decimal;

use apply::exact_product;
use procedure::{ok, Calc};

use crate::engine::visibility::Capabilities;
use crate::engine::Engine;
use crate::error::QueryError;
use crate::index::{AccountDef, CurrencyId, Policy, ProductId};
use crate::instant::Instant;
use crate::model::RoundingStage;
use crate::money::{self, ExactMul};

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
        self.quote_prepared(&ctx, buyable)
    }

    /// Prices a request [`Engine::prepare`] admitted.
    pub(crate) fn quote_prepared<'e>(
        &'e self,
        ctx: &Ctx<'e>,
        buyable: bool,
    ) -> Result<Quote<'e>, QueryError> {
        let mut recorder = StepsRecorder::default();
        let mut matched = Matched::new();
        self.matched(ctx, &mut matched);
        let priced = self
            .run_matched(ctx, &matched, &mut recorder)
            .map_err(|f| self.fail(f, ctx))?;
        let (unit_price, line_total, base_price) = self
            .finish(&priced, ctx.qty)
            .map_err(|f| self.fail(f, ctx))?;
        let list_price = self.list_price_after(ctx, &matched, unit_price);
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
            steps: Steps(recorder.steps),
            engine_version: &self.index.version,
            stock: self.stock_info(ctx.product, ctx.qty),
        })
    }

    /// Splits a quantity of a tracked product into what ships now and what is backordered
    /// (docs/spec.md §14).
    pub(crate) fn stock_info(&self, product: ProductId, qty: Decimal) -> Option<StockInfo<'_>> {
        let def = self.index.stock.get(product)?;
        let available = qty.min(def.available);
        // `available` ≤ `qty`, so the difference cannot overflow; zero stays a plain zero.
        let backorder = qty.checked_sub(available).unwrap_or(Decimal::ZERO);
        let backordered = backorder > Decimal::ZERO;
        Some(StockInfo {
            available,
            backorder: if backordered {
                backorder
            } else {
                Decimal::ZERO
            },
            lead_time_days: def.lead_time_days.filter(|_| backordered),
            warehouses: &def.warehouses,
        })
    }

    /// The list price of a quote whose candidates were `matched` and whose unit price is
    /// `unit_price`: when every candidate already speaks to everyone, it is this very run.
    pub(crate) fn list_price_after(
        &self,
        ctx: &Ctx<'_>,
        matched: &[Candidate],
        unit_price: Decimal,
    ) -> Option<Decimal> {
        let level = ctx.chain.everyone_level();
        if matched.iter().all(|c| c.aud == 0 && c.level == level) {
            Some(unit_price)
        } else {
            self.list_price(ctx, matched)
        }
    }

    /// The unit price of the everyone level alone, if it gives one. Reuses the candidates matched for the whole chain: the everyone level's are among them.
    pub(crate) fn list_price(&self, ctx: &Ctx<'_>, matched: &[Candidate]) -> Option<Decimal> {
        let everyone = Ctx {
            everyone_only: true,
            ..ctx.clone()
        };
        let level = ctx.chain.everyone_level();
        let mut view = Matched::new();
        for cand in matched {
            let everyone_list = match cand.kind {
                CandidateKind::Entry { list, .. } => {
                    self.index.pricing.everyone_lists.contains(&list)
                }
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
        let (ctx, seen) = self.resolve_request(request, Resolve::Visible)?;
        let caps = seen.unwrap_or_else(|| self.capabilities(ctx.account, ctx.product, ctx.at));
        let buyable = self.admit(&ctx, caps, request.product)?;
        Ok((ctx, buyable))
    }

    /// The checks of a resolved request that come after its resolution (docs/spec.md §9):
    /// visibility, quantity, price visibility, given the product's capabilities. Returns the
    /// `buy` capability; `reference` is the product as the caller wrote it, for the error.
    pub(crate) fn admit(
        &self,
        ctx: &Ctx<'_>,
        caps: Capabilities,
        reference: &str,
    ) -> Result<bool, QueryError> {
        self.admit_orderable(ctx, caps, reference)?;
        if !caps.price {
            return Err(QueryError::PriceHidden(self.sku(ctx.product).to_string()));
        }
        Ok(caps.buy)
    }

    /// The checks of [`Engine::admit`] before the price's: the product is one the account
    /// may see, and the quantity one it may order.
    #[inline]
    pub(crate) fn admit_orderable(
        &self,
        ctx: &Ctx<'_>,
        caps: Capabilities,
        reference: &str,
    ) -> Result<(), QueryError> {
        if !caps.see {
            return Err(QueryError::UnknownProduct(reference.to_string()));
        }
        self.check_quantity(ctx.product, ctx.qty)
    }

    /// Account, instant, currency and product of a request, without visibility or quantity
    /// checks (which `explain` reports rather than fails on), with the product's capabilities
    /// when it was resolved among the visible products.
    pub(crate) fn resolve_request<'e>(
        &'e self,
        request: &QuoteRequest<'_>,
        resolve: Resolve,
    ) -> Result<(Ctx<'e>, Option<Capabilities>), QueryError> {
        let at = request.at.unwrap_or_else(Instant::now);
        let ids = |visible_at| {
            self.resolve_ids(
                request.account,
                request.product,
                request.currency,
                visible_at,
            )
        };
        let resolved = match (resolve, ids(Some(at))) {
            // Explain the product the quote prices; only when the account may see none with
            // this reference, the first that has it, so as to say it is hidden.
            (Resolve::AnyMatch, Err(QueryError::UnknownProduct(_))) => ids(None)?,
            (_, visible) => visible?,
        };
        let ctx = Ctx {
            account: resolved.def,
            chain: Chain::of(resolved.def),
            product: resolved.product,
            qty: request.qty,
            at,
            currency: resolved.currency,
            everyone_only: false,
            order: None,
        };
        Ok((ctx, resolved.caps))
    }

    /// The dense ids of a request's account, product and currency, in the precedence of
    /// docs/spec.md §9. With `visible_at`, the reference resolves among the products the
    /// account may see then (a hidden product never shadows a visible one), and the product's
    /// capabilities come with it; without, to the first match (the trusted `explain`, which
    /// reports a hidden product).
    pub(crate) fn resolve_ids<'e>(
        &'e self,
        account: &str,
        reference: &str,
        currency: Option<&str>,
        visible_at: Option<Instant>,
    ) -> Result<Resolved<'e>, QueryError> {
        let (_, def) = self.account(account)?;
        let currency = self.request_currency(def, currency)?;
        let (product, caps) = match visible_at {
            Some(at) => self
                .resolve_seen(def, reference, at)
                .map(|(p, caps)| (p, Some(caps))),
            None => self
                .resolve_ref(def, reference, |_| true)
                .map(|p| (p, None)),
        }
        .ok_or_else(|| QueryError::UnknownProduct(reference.to_string()))?;
        Ok(Resolved {
            def,
            product,
            currency,
            caps,
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
                .find_map(|&a| self.index.audiences.accounts.row(a).currency)
                .unwrap_or(self.index.settings.default_currency)),
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
        let Some(rule) = self.index.catalog.order.get(&product) else {
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
                let priced_in = self
                    .index
                    .currencies
                    .ids()
                    .filter(|&c| c != ctx.currency)
                    .filter(|&c| {
                        self.run(
                            &Ctx {
                                currency: c,
                                ..ctx.clone()
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
}
