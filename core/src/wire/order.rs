//! Orders as a binding receives them: the order's account, instant and currency checked in the
//! precedence of docs/spec.md §9, each line's unreadable quantity failing only its line.

use rust_decimal::Decimal;

use crate::engine::order::{
    Order, OrderExplanation, OrderLine, OrderText, Placing, PreparedQuote, PricedOrder, QuoteDraft,
    SalesQuote, TextOptions,
};
use crate::engine::Engine;
use crate::error::QueryError;

use super::request::{AtInput, QtyInput};

/// One order line as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineInput<'a> {
    /// Any reference `lookup` accepts.
    pub reference: &'a str,
    /// Quantity; an unreadable one is this line's `INVALID_QUANTITY`.
    pub qty: QtyInput,
    /// The buyer's cost centre.
    pub cost_centre: Option<&'a str>,
    /// The delivery address id.
    pub ship_to: Option<&'a str>,
}

/// An order as received.
///
/// ```
/// use tarif::wire::{AtInput, OrderInput, OrderLineInput, QtyInput};
/// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2.50"}]}],
///   "accounts": [{"id": "C"}]}"#).unwrap();
/// let line = |qty: &str| OrderLineInput { reference: "A", qty: QtyInput::from_text(qty),
///                                         cost_centre: None, ship_to: None };
/// let order = OrderInput { account: "C", lines: vec![line("2"), line("two")], at: AtInput::Now,
///                          currency: None, user: None, spent: Vec::new() };
/// let priced = order.price(&engine).unwrap();
/// assert_eq!(priced.subtotal.to_string(), "5.00");
/// assert_eq!(priced.lines[1].as_ref().unwrap_err().to_string(),
///            "invalid quantity `two`: expected a positive decimal");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderInput<'a> {
    /// Account id.
    pub account: &'a str,
    /// The lines.
    pub lines: Vec<OrderLineInput<'a>>,
    /// Instant of the prices.
    pub at: AtInput<'a>,
    /// Currency; `None` for the account's.
    pub currency: Option<&'a str>,
    /// The user placing the order; `None` for the account.
    pub user: Option<&'a str>,
    /// Spent to date per cost centre.
    pub spent: Vec<(&'a str, Decimal)>,
}

impl OrderInput<'_> {
    /// The order as the core takes it: the instant resolved, unreadable quantities as zero
    /// (restored to their own error afterwards).
    fn order<'a>(&'a self, engine: &Engine) -> Result<Order<'a>, QueryError> {
        let at = self.at.resolve_for(engine, self.account)?;
        Ok(Order {
            account: self.account,
            lines: self
                .lines
                .iter()
                .map(|l| OrderLine {
                    reference: l.reference,
                    qty: l.qty.for_rows(),
                    cost_centre: l.cost_centre,
                    ship_to: l.ship_to,
                })
                .collect(),
            at,
            currency: self.currency,
            user: self.user,
            spent: self.spent.clone(),
        })
    }

    /// The priced order, or the error of the order as a whole (account, instant, currency,
    /// a minimum order value, an unknown user).
    pub fn price<'e>(&self, engine: &'e Engine) -> Result<PricedOrder<'e>, QueryError> {
        let mut priced = engine.price_order(&self.order(engine)?)?;
        for (line, input) in priced.lines.iter_mut().zip(&self.lines) {
            if let Err(error) = line {
                *error = input.qty.restore(error.clone());
            }
        }
        Ok(priced)
    }

    /// Why the order costs what it does ([`Engine::explain_order`]).
    pub fn explain<'e>(&self, engine: &'e Engine) -> Result<OrderExplanation<'e>, QueryError> {
        let mut explained = engine.explain_order(&self.order(engine)?)?;
        for (line, input) in explained.lines.iter_mut().zip(&self.lines) {
            if let Err(error) = line {
                *error = input.qty.restore(error.clone());
            }
        }
        Ok(explained)
    }
}

/// A sales-quote draft as received (see [`Engine::prepare_quote`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteDraftInput<'a> {
    /// The order to quote.
    pub order: OrderInput<'a>,
    /// Per line, the manual unit price, if any.
    pub manual_prices: Vec<Option<Decimal>>,
    /// The quote's validity end (exclusive); `Now` is not a validity end.
    pub valid_until: AtInput<'a>,
    /// The caller's quote number.
    pub number: Option<&'a str>,
}

impl QuoteDraftInput<'_> {
    /// The priced quote and its signed document, or the error of the draft as a whole.
    pub fn prepare<'e>(
        &self,
        engine: &'e Engine,
        key: &[u8],
    ) -> Result<PreparedQuote<'e>, QueryError> {
        let order = self.order.order(engine)?;
        let valid_until = self
            .valid_until
            .resolve_for(engine, self.order.account)?
            .ok_or_else(|| QueryError::QuoteInvalid("`valid_until` is required".to_string()))?;
        let draft = QuoteDraft {
            order,
            manual_prices: self.manual_prices.clone(),
            valid_until,
            number: self.number,
        };
        let mut prepared = engine.prepare_quote(&draft, key)?;
        for (line, input) in prepared.order.lines.iter_mut().zip(&self.order.lines) {
            if let Err(error) = line {
                *error = input.qty.restore(error.clone());
            }
        }
        Ok(prepared)
    }
}

/// How an order is placed against a sales quote, as received (see [`Engine::place_quote`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacingInput<'a> {
    /// Instant of placing.
    pub at: AtInput<'a>,
    /// The user placing the order.
    pub user: Option<&'a str>,
    /// Spent to date per cost centre.
    pub spent: Vec<(&'a str, Decimal)>,
}

impl PlacingInput<'_> {
    /// The order placed at the prices of `quote` (verified with [`SalesQuote::verify`]).
    pub fn place<'e>(
        &self,
        engine: &'e Engine,
        quote: &'e SalesQuote,
    ) -> Result<PricedOrder<'e>, QueryError> {
        let placing = Placing {
            at: self.at.resolve_for(engine, &quote.account)?,
            user: self.user,
            spent: self.spent.clone(),
        };
        engine.place_quote(quote, &placing)
    }
}

/// Order text as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTextInput<'a> {
    /// Account id.
    pub account: &'a str,
    /// What the buyer pasted or uploaded.
    pub text: &'a str,
    /// Instant of visibility.
    pub at: AtInput<'a>,
    /// Whether lines of the same product, cost centre and address add up.
    pub merge_duplicates: bool,
}

impl OrderTextInput<'_> {
    /// The lines read and resolved, or the error of the text as a whole.
    pub fn parse<'e>(&self, engine: &'e Engine) -> Result<OrderText<'e>, QueryError> {
        let at = self.at.resolve_for(engine, self.account)?;
        engine.parse_order_lines(
            self.account,
            self.text,
            TextOptions {
                merge_duplicates: self.merge_duplicates,
                at,
            },
        )
    }
}
