//! Orders (docs/spec.md §12): an order priced whole, each line with its own outcome, and the
//! text buyers paste or upload read into order lines.
//!
//! * [`text`]: reading pasted `ref qty` lines and CSV into raw lines;
//! * [`conditions`]: the order conditions of contracts and the allocation of a discount;
//! * [`approval`]: whether the order may be placed as it is (§12.7);
//! * [`sales_quote`]: sales quotes with manual prices, signed, and orders placed against them;
//! * this file: the public types, resolving raw lines for an account, pricing an order.

mod approval;
mod conditions;
mod sales_quote;
mod text;

pub use approval::{Approval, ApprovalReason, Approvers, Decision};
pub use conditions::{Adjustment, ConditionReport};
pub use sales_quote::{
    PlacedQuote, Placing, PreparedQuote, PriceOrigin, PriceOverride, QuoteDraft, QuotedAdjustment,
    QuotedLine, SalesQuote, QUOTE_FORMAT,
};
pub use text::LineFormat;

use conditions::LineView;

use std::sync::Arc;

use rust_decimal::Decimal;

use super::explain::Explanation;
use super::quote::{Counted, OrderLines, Quote, QuoteRequest};
use super::Engine;
use crate::error::QueryError;
use crate::index::{AccountDef, CurrencyId, ProductId};
use crate::instant::Instant;

/// One line of an order: a reference as the buyer wrote it and a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLine<'a> {
    /// Any reference `lookup` accepts for the account.
    pub reference: &'a str,
    /// The quantity (positive).
    pub qty: Decimal,
    /// The buyer's cost centre, carried through.
    pub cost_centre: Option<&'a str>,
    /// The delivery address id, carried through.
    pub ship_to: Option<&'a str>,
}

impl<'a> OrderLine<'a> {
    /// A line without cost centre or delivery address.
    pub fn new(reference: &'a str, qty: Decimal) -> Self {
        OrderLine {
            reference,
            qty,
            cost_centre: None,
            ship_to: None,
        }
    }
}

/// An order to price: one account, one instant and one currency for every line.
///
/// ```
/// use tarif::{Order, OrderLine};
/// let order = Order::new("ACME", vec![OrderLine::new("DR-1", 2.into())]).currency("EUR");
/// assert_eq!(order.lines.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order<'a> {
    /// Account id.
    pub account: &'a str,
    /// The lines, in the buyer's order.
    pub lines: Vec<OrderLine<'a>>,
    /// Instant of the prices (default: now, read once for the whole order).
    pub at: Option<Instant>,
    /// Currency (default: the account's, else the document's default).
    pub currency: Option<&'a str>,
    /// The user placing the order (§12.7); `None` decides for the account, without user limits.
    pub user: Option<&'a str>,
    /// Spent to date per cost centre, read by `cost_centre_budget` rules (absent: nothing).
    pub spent: Vec<(&'a str, Decimal)>,
}

impl<'a> Order<'a> {
    /// An order at the current instant in the account's currency.
    pub fn new(account: &'a str, lines: Vec<OrderLine<'a>>) -> Self {
        Order {
            account,
            lines,
            at: None,
            currency: None,
            user: None,
            spent: Vec::new(),
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

    /// Placed by a given user.
    pub fn user(mut self, user: &'a str) -> Self {
        self.user = Some(user);
        self
    }

    /// With what each cost centre has spent to date.
    pub fn spent(mut self, spent: Vec<(&'a str, Decimal)>) -> Self {
        self.spent = spent;
        self
    }
}

/// A priced order: per line its quote or its own error, then the totals.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedOrder<'e> {
    /// The engine version every line was priced with.
    pub engine_version: &'e str,
    /// Currency code of every amount.
    pub currency: &'e str,
    /// The instant every line was priced at.
    pub at: Instant,
    /// One outcome per order line, in the order's order.
    pub lines: Vec<Result<Quote<'e>, QueryError>>,
    /// Per order line, its share of the order discount (positive; zero for a failed line and
    /// without discount): the line's net amount on an invoice is its total minus this.
    pub allocated: Vec<Decimal>,
    /// Sum of the line totals of the lines that priced.
    pub subtotal: Decimal,
    /// Order-level amounts: the order discount (negative), a minimum-order surcharge, the
    /// shipping charges per delivery address (docs/spec.md §12.3).
    pub adjustments: Vec<Adjustment<'e>>,
    /// What the order costs: the subtotal plus the adjustments.
    pub total: Decimal,
    /// Whether the order may be placed as it is, by its user (§12.7).
    pub approval: Approval,
    /// Per order line, where its price comes from when not from the rules: a manual price of
    /// a sales quote, or the price locked by the quote the order was placed against
    /// (docs/spec.md §12.6); `None` for a line priced by the rules and for a failed line.
    pub overrides: Vec<Option<PriceOverride>>,
    /// The sales quote the order was placed against ([`Engine::place_quote`]).
    pub placed_quote: Option<PlacedQuote<'e>>,
}

impl PricedOrder<'_> {
    /// How many lines failed.
    pub fn failed_lines(&self) -> usize {
        self.lines.iter().filter(|l| l.is_err()).count()
    }
}

/// Why an order costs what it does (see [`Engine::explain_order`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderExplanation<'e> {
    /// Each line's explanation, or the error that line has on its own.
    pub lines: Vec<Result<Explanation, QueryError>>,
    /// Sum of the line totals of the lines that priced.
    pub subtotal: Decimal,
    /// Every order condition that speaks to the account: applied, or why not.
    pub conditions: Vec<ConditionReport<'e>>,
    /// The order-level amounts, as [`PricedOrder::adjustments`].
    pub adjustments: Vec<Adjustment<'e>>,
    /// Per line, its share of the order discount.
    pub allocated: Vec<Decimal>,
    /// The subtotal plus the adjustments.
    pub total: Decimal,
    /// `MINIMUM_ORDER` when `price_order` refuses the order.
    pub refused: Option<QueryError>,
    /// Whether the order may be placed as it is, by its user, as [`PricedOrder::approval`]
    /// (`refused` without reasons for an order the minimum order value refuses).
    pub approval: Approval,
}

/// Text read into order lines for an account (see [`Engine::parse_order_lines`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderText<'e> {
    /// How the text was read.
    pub format: LineFormat,
    /// Whether its first line was a header.
    pub header: bool,
    /// One entry per order line, in input order (merged duplicates at their first line).
    pub lines: Vec<TextLine<'e>>,
}

impl OrderText<'_> {
    /// The lines that resolved, as order lines (to price with [`Engine::price_order`]).
    pub fn order_lines(&self) -> Vec<OrderLine<'_>> {
        self.lines
            .iter()
            .filter_map(|l| match (&l.error, l.sku, l.qty) {
                (None, Some(sku), Some(qty)) => Some(OrderLine {
                    reference: sku,
                    qty,
                    cost_centre: l.cost_centre.as_deref(),
                    ship_to: l.ship_to.as_deref(),
                }),
                _ => None,
            })
            .collect()
    }
}

/// One line of an [`OrderText`].
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine<'e> {
    /// 1-based input line (the first, when lines were merged).
    pub line: u32,
    /// Later input lines for the same product, cost centre and address, added into this one.
    pub merged: Vec<u32>,
    /// The reference as written.
    pub reference: String,
    /// The quantity (summed over merged lines); `None` when it does not read as a number.
    pub qty: Option<Decimal>,
    /// The product the reference means for the account.
    pub sku: Option<&'e str>,
    /// The cost centre column, when the text has one.
    pub cost_centre: Option<String>,
    /// The delivery address column, when the text has one.
    pub ship_to: Option<String>,
    /// Why the line cannot be ordered as it is: `UNKNOWN_PRODUCT`, `INVALID_QUANTITY`, or
    /// `QUANTITY_RULE` with the nearest orderable quantity.
    pub error: Option<QueryError>,
}

/// Options of [`Engine::parse_order_lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Add up lines of the same product, cost centre and address (default); when `false`,
    /// each input line stays its own order line.
    pub merge_duplicates: bool,
    /// Instant of visibility (default: now).
    pub at: Option<Instant>,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            merge_duplicates: true,
            at: None,
        }
    }
}

impl Engine {
    /// Prices every line of an order at one instant in one currency. A bad line gets its own
    /// error and does not fail the order; the account, instant and currency fail it whole. A
    /// line the account may see and price but not buy is `NOT_BUYABLE`.
    ///
    /// ```
    /// use tarif::{Engine, Instant, Order, OrderLine};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}, {"sku": "B"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2.50"}, {"sku": "B", "price": "4"}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let order = Order::new("C", vec![
    ///     OrderLine::new("A", 4.into()), OrderLine::new("Z", 1.into()), OrderLine::new("b", 1.into()),
    /// ]).at(Instant::from_unix_seconds(0));
    /// let priced = engine.price_order(&order).unwrap();
    /// assert_eq!(priced.subtotal.to_string(), "14.00");
    /// assert_eq!(priced.lines[1].as_ref().unwrap_err().code(), "UNKNOWN_PRODUCT");
    /// assert_eq!(priced.failed_lines(), 1);
    /// ```
    pub fn price_order(&self, order: &Order<'_>) -> Result<PricedOrder<'_>, QueryError> {
        let (priced, settled, _) = self.settled_order(order)?;
        match settled.refused {
            Some(refused) => Err(refused),
            None => Ok(priced),
        }
    }

    /// Why an order costs what it does: each line's [`Engine::explain`], then every order
    /// condition that speaks to the account — applied or why not — and the adjustments. An
    /// order `price_order` refuses with `MINIMUM_ORDER` is explained too, with `refused` set.
    ///
    /// ```
    /// use tarif::{Engine, Instant, Order, OrderLine};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "20"}]}],
    ///   "accounts": [{"id": "C"}],
    ///   "contracts": [{"id": "k", "audience": "all", "order_conditions": [
    ///     {"id": "ship", "kind": "shipping", "charge": "9.90", "free_from": "100"}]}]}"#).unwrap();
    /// let order = Order::new("C", vec![OrderLine::new("A", 2.into())]).at(Instant::from_unix_seconds(0));
    /// let why = engine.explain_order(&order).unwrap();
    /// assert_eq!(why.total.to_string(), "49.90");
    /// assert!(why.conditions[0].applied);
    /// assert!(why.conditions[0].reason.contains("below the free-shipping threshold `100`"));
    /// ```
    pub fn explain_order(&self, order: &Order<'_>) -> Result<OrderExplanation<'_>, QueryError> {
        let (priced, settled, counted) = self.settled_order(order)?;
        let lines = order
            .lines
            .iter()
            .enumerate()
            .map(|(k, line)| {
                let mut request =
                    QuoteRequest::new(order.account, line.reference, line.qty).at(priced.at);
                request.currency = order.currency;
                self.explain_in(&request, in_order(&counted, k))
            })
            .collect();
        Ok(OrderExplanation {
            lines,
            subtotal: priced.subtotal,
            conditions: settled.reports,
            adjustments: priced.adjustments,
            allocated: priced.allocated,
            total: priced.total,
            refused: settled.refused,
            approval: priced.approval,
        })
    }

    /// The order priced with its conditions, whatever a minimum order says, and the lines
    /// that count in tier bases.
    fn settled_order(
        &self,
        order: &Order<'_>,
    ) -> Result<(PricedOrder<'_>, conditions::Settled<'_>, Counted), QueryError> {
        let (_, account) = self.account(order.account)?;
        let at = order.at.unwrap_or_else(Instant::now);
        let currency = self.request_currency(account, order.currency)?;
        let (lines, counted) = self.price_lines(order, at)?;
        let (priced, settled) = self.settle_lines(order, account, at, currency, lines, &counted)?;
        Ok((priced, settled, counted))
    }

    /// Each line of an order priced at `at` in the order, its tiers reading their bases over
    /// the lines that count (§12.5); a line the account may not buy is `NOT_BUYABLE`. Also the
    /// lines that count: those the account may buy.
    fn price_lines(
        &self,
        order: &Order<'_>,
        at: Instant,
    ) -> Result<(Vec<Result<Quote<'_>, QueryError>>, Counted), QueryError> {
        let overflow = || QueryError::Overflow(format!("order of `{}`", order.account));
        let prepared: Vec<_> = order
            .lines
            .iter()
            .map(|line| self.prepare(&line_request(order, line, at)))
            .collect();
        // The lines the account may buy count in the tier bases of the others (§12.5).
        let counted: Counted = prepared
            .iter()
            .map(|p| match p {
                Ok((ctx, true)) => Some((ctx.product, ctx.qty)),
                _ => None,
            })
            .collect();
        counted
            .iter()
            .flatten()
            .try_fold(Decimal::ZERO, |sum, &(_, q)| sum.checked_add(q))
            .ok_or_else(overflow)?;
        let lines = prepared
            .into_iter()
            .enumerate()
            .map(|(line, prepared)| {
                let (mut ctx, buyable) = prepared?;
                if buyable {
                    ctx.order = in_order(&counted, line);
                }
                let quote = self.quote_prepared(&ctx, buyable)?;
                if quote.buyable {
                    Ok(quote)
                } else {
                    Err(QueryError::NotBuyable(quote.sku.to_string()))
                }
            })
            .collect();
        Ok((lines, counted))
    }

    /// Priced lines made an order: the subtotal, the order conditions, the total and the
    /// approval.
    fn settle_lines<'e>(
        &'e self,
        order: &Order<'_>,
        account: &AccountDef,
        at: Instant,
        currency: CurrencyId,
        lines: Vec<Result<Quote<'e>, QueryError>>,
        counted: &Counted,
    ) -> Result<(PricedOrder<'e>, conditions::Settled<'e>), QueryError> {
        let overflow = || QueryError::Overflow(format!("order of `{}`", order.account));
        let subtotal = lines
            .iter()
            .filter_map(|l| l.as_ref().ok())
            .try_fold(Decimal::ZERO, |sum, q| sum.checked_add(q.line_total))
            .ok_or_else(overflow)?;
        let views: Vec<LineView<'_>> = lines
            .iter()
            .zip(&order.lines)
            .map(|(quote, line)| LineView {
                total: quote.as_ref().ok().map(|q| q.line_total),
                ship_to: line.ship_to,
            })
            .collect();
        let floors = || {
            order
                .lines
                .iter()
                .zip(&lines)
                .enumerate()
                .map(|(k, (line, quote))| match quote {
                    Ok(_) => {
                        let request = line_request(order, line, at);
                        Ok(self
                            .line_limits(&request, in_order(counted, k))?
                            .line_floor())
                    }
                    Err(_) => Ok(None),
                })
                .collect()
        };
        let mut settled = self.settle(account, at, currency, &views, subtotal, &floors)?;
        let total = settled
            .adjustments
            .iter()
            .try_fold(subtotal, |sum, a| sum.checked_add(a.amount))
            .ok_or_else(overflow)?;
        // Approval reads the total after the order's adjustments (§12.7).
        let approval = match self.decide(account, order, &lines, total) {
            Ok(approval) => approval,
            // An order the minimum order value refuses fails with `MINIMUM_ORDER` whoever
            // places it (§12.7): no decision is made on it.
            Err(_) if settled.refused.is_some() => Approval {
                decision: Decision::Refused,
                reasons: Vec::new(),
            },
            Err(error) => return Err(error),
        };
        let priced = PricedOrder {
            engine_version: self.engine_version(),
            currency: self.currency_code(currency),
            at,
            overrides: vec![None; lines.len()],
            lines,
            allocated: std::mem::take(&mut settled.allocated),
            subtotal,
            adjustments: std::mem::take(&mut settled.adjustments),
            total,
            approval,
            placed_quote: None,
        };
        Ok((priced, settled))
    }

    /// The approval of an order whose lines priced as `lines`, for its user.
    fn decide(
        &self,
        account: &AccountDef,
        order: &Order<'_>,
        lines: &[Result<Quote<'_>, QueryError>],
        total: Decimal,
    ) -> Result<Approval, QueryError> {
        let priced_lines: Vec<(Option<&str>, &Quote<'_>)> = order
            .lines
            .iter()
            .zip(lines)
            .filter_map(|(line, quote)| Some((line.cost_centre, quote.as_ref().ok()?)))
            .collect();
        self.approval(account, order.user, &priced_lines, total, &order.spent)
    }

    /// Reads what a buyer pasted or uploaded — `ref qty` lines, or CSV delimited by `;`, `,`
    /// or tab, with or without an English or French header, decimal commas, quoted fields, a
    /// byte-order mark — and resolves each reference as [`Engine::lookup`] does for the account.
    /// An absent quantity is one unit. Fails whole only on an unknown account or a header
    /// without a reference column (`INVALID_ORDER_TEXT`).
    ///
    /// ```
    /// use tarif::{Engine, TextOptions};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1",
    ///   "products": [{"sku": "DR-1", "ean": "3401234567890"}, {"sku": "CAB", "order": {"multiple": 5}}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let text = engine.parse_order_lines("C", "Référence;Qté\n3401234567890;2\nCAB;12\nNOPE;1\ndr-1;1", TextOptions::default()).unwrap();
    /// assert_eq!(text.lines[0].sku, Some("DR-1"));
    /// assert_eq!(text.lines[0].qty, Some(3.into()));
    /// assert_eq!(text.lines[0].merged, vec![5]);
    /// assert_eq!(text.lines[1].error.as_ref().unwrap().code(), "QUANTITY_RULE");
    /// assert_eq!(text.lines[2].error.as_ref().unwrap().code(), "UNKNOWN_PRODUCT");
    /// ```
    pub fn parse_order_lines(
        &self,
        account: &str,
        text: &str,
        options: TextOptions,
    ) -> Result<OrderText<'_>, QueryError> {
        let (_, def) = self.account(account)?;
        let raw = text::read(text).map_err(|e| QueryError::InvalidOrderText(e.to_string()))?;
        let at = options.at.unwrap_or_else(Instant::now);
        let mut lines: Vec<(Option<ProductId>, TextLine<'_>)> = Vec::with_capacity(raw.lines.len());
        for raw_line in raw.lines {
            let (product, line) = self.text_line(def, raw_line, at);
            if options.merge_duplicates && line.error.is_none() {
                let same = lines.iter_mut().find(|(p, l)| {
                    *p == product
                        && l.error.is_none()
                        && l.cost_centre == line.cost_centre
                        && l.ship_to == line.ship_to
                });
                if let Some((_, first)) = same {
                    first.merged.push(line.line);
                    first.qty = match (first.qty, line.qty) {
                        (Some(a), Some(b)) => a.checked_add(b),
                        _ => None,
                    };
                    continue;
                }
            }
            lines.push((product, line));
        }
        let lines = lines
            .into_iter()
            .map(|(product, mut line)| {
                if line.error.is_none() {
                    line.error = match (product, line.qty) {
                        (Some(p), Some(qty)) => self.check_quantity(p, qty).err(),
                        _ => Some(QueryError::Overflow(line.reference.clone())),
                    };
                }
                line
            })
            .collect();
        Ok(OrderText {
            format: raw.format,
            header: raw.header,
            lines,
        })
    }

    /// A raw line resolved: the product the reference means (or `UNKNOWN_PRODUCT`), then the
    /// quantity read (or `INVALID_QUANTITY`), the precedence of docs/spec.md §9.
    fn text_line(
        &self,
        account: &AccountDef,
        raw: text::RawLine,
        at: Instant,
    ) -> (Option<ProductId>, TextLine<'_>) {
        let product = self.resolve_visible(account, &raw.reference, at);
        let qty = if raw.qty.is_empty() {
            Some(Decimal::ONE)
        } else {
            text::parse_quantity(&raw.qty)
        };
        let error = match (product, qty) {
            (None, _) => Some(QueryError::UnknownProduct(raw.reference.clone())),
            (Some(_), Some(q)) if q > Decimal::ZERO => None,
            (Some(_), _) => Some(QueryError::InvalidQuantity(raw.qty.clone())),
        };
        let line = TextLine {
            line: raw.line,
            merged: Vec::new(),
            reference: raw.reference,
            qty,
            sku: product.map(|p| self.sku(p)),
            cost_centre: raw.cost_centre,
            ship_to: raw.ship_to,
            error,
        };
        (product, line)
    }
}

/// The quote request of one order line.
pub(super) fn line_request<'a>(
    order: &Order<'a>,
    line: &OrderLine<'a>,
    at: Instant,
) -> QuoteRequest<'a> {
    QuoteRequest {
        account: order.account,
        product: line.reference,
        qty: line.qty,
        at: Some(at),
        currency: order.currency,
    }
}

/// Line `line` of an order, priced among the lines that count, when it counts itself.
pub(super) fn in_order(counted: &Counted, line: usize) -> Option<OrderLines> {
    counted
        .get(line)
        .is_some_and(Option::is_some)
        .then(|| OrderLines {
            lines: Arc::clone(counted),
            line,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two colours of one family: "2.00, from 10 at 1.50" reading the family basis, and a
    /// discount from 10 units reading the order.
    fn engine() -> Engine {
        Engine::from_json(
            r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["l"]},
            "products": [{"sku": "R", "family": "F"}, {"sku": "B", "family": "F"}],
            "price_lists": [{"id": "l", "tier_basis": "family", "prices": [
              {"sku": "R", "price": "2.00", "tiers": [{"min_qty": 10, "price": "1.50"}]},
              {"sku": "B", "price": "2.00", "tiers": [{"min_qty": 10, "price": "1.50"}]}]}],
            "accounts": [{"id": "C"}],
            "contracts": [{"id": "k", "audience": "all", "rules": [
              {"id": "big", "step": "discount", "products": "all", "percent": "-10",
               "min_qty": 10, "tier_basis": "order"}]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn an_order_prices_and_explains_its_lines_with_their_bases() {
        let engine = engine();
        let at = Instant::from_unix_seconds(0);
        let lines = vec![OrderLine::new("R", 4.into()), OrderLine::new("B", 6.into())];
        let order = Order::new("C", lines).at(at);
        let priced = engine.price_order(&order).unwrap();
        // 4 + 6 = 10: the family tier and the order discount, 1.50 x 0.90 = 1.35.
        let units: Vec<String> = priced
            .lines
            .iter()
            .map(|l| l.as_ref().unwrap().unit_price.to_string())
            .collect();
        assert_eq!(units, ["1.35", "1.35"]);
        assert_eq!(priced.subtotal.to_string(), "13.50");
        // Alone, 4 units are below both.
        let alone = engine
            .quote(&QuoteRequest::new("C", "R", 4.into()).at(at))
            .unwrap();
        assert_eq!(alone.unit_price.to_string(), "2.00");
        let why = engine.explain_order(&order).unwrap();
        let first = why.lines[0].as_ref().unwrap();
        assert_eq!(
            first.outcome,
            Ok(("1.35".parse().unwrap(), "5.40".parse().unwrap()))
        );
        let discount = first.steps.iter().find(|s| s.step == "discount").unwrap();
        assert!(discount
            .candidates
            .iter()
            .any(|c| c.rule == "k/big" && c.applied));
    }
}
