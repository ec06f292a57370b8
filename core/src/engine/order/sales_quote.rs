//! Sales quotes and price locks (docs/spec.md §12.6): a sales rep prices an order as a quote,
//! with manual unit prices inside the rules' bounds; Tarif signs it as a `tarif/1-quote`
//! document the caller stores, and later places an order at the quoted prices after checking
//! the signature and the validity end. Stateless: Tarif keeps nothing.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{in_order, line_request, Order, OrderLine, PricedOrder};
use crate::engine::order::conditions::{checked_sum, Adjustment};
use crate::engine::quote::{Quote, Resolve, Steps};
use crate::engine::Engine;
use crate::error::QueryError;
use crate::instant::Instant;
use crate::model::{OrderKind, RoundingStage};

/// The `format` of a sales-quote document.
pub const QUOTE_FORMAT: &str = "tarif/1-quote";

/// Separates quote signatures from any other use of the caller's key (blake3 key derivation).
const SIGNATURE_CONTEXT: &str = "tarif 2026-12-04 sales quote signature v1";
/// A shorter key is guessable; 16 bytes is the least a MAC key should have.
const MIN_KEY_BYTES: usize = 16;
const SIGNATURE_PREFIX: &str = "blake3-keyed:";

/// A sales rep's order to turn into a quote (see [`Engine::prepare_quote`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteDraft<'a> {
    /// The order: account, lines, instant, currency; its user is the one the approval is
    /// decided for.
    pub order: Order<'a>,
    /// Per order line, the manual unit price (`None`: the rules' price); may be shorter than
    /// the lines.
    pub manual_prices: Vec<Option<Decimal>>,
    /// The first instant at which the quote may no longer be placed (exclusive, as every
    /// validity end).
    pub valid_until: Instant,
    /// The caller's quote number, carried in the document.
    pub number: Option<&'a str>,
}

/// A priced quote draft: the order as the buyer would pay it, and its signed document.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedQuote<'e> {
    /// The order priced with the manual prices (a refused price is its line's `PRICE_BOUND`).
    pub order: PricedOrder<'e>,
    /// The signed `tarif/1-quote` document, JSON; `None` when a line failed (a quote is
    /// issued whole or not at all).
    pub document: Option<String>,
}

/// Where an order line's price comes from when it is not the rules' price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceOrigin {
    /// A sales rep's manual unit price, within the rules' bounds.
    Manual,
    /// The price locked by the sales quote the order was placed against.
    Quote,
}

impl PriceOrigin {
    /// `manual` or `quote`.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceOrigin::Manual => "manual",
            PriceOrigin::Quote => "quote",
        }
    }
}

/// A line priced otherwise than by the rules, and what the rules give it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceOverride {
    /// Where the line's price comes from.
    pub origin: PriceOrigin,
    /// The unit price the rules give the line; `None` when they give none now.
    pub rules_unit_price: Option<Decimal>,
    /// The line total the rules give it.
    pub rules_line_total: Option<Decimal>,
}

/// The quote an order was placed against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedQuote<'q> {
    /// The caller's quote number.
    pub number: Option<&'q str>,
    /// The engine the quote was priced with.
    pub engine_version: &'q str,
    /// When it was priced.
    pub priced_at: Instant,
    /// Its validity end.
    pub valid_until: Instant,
    /// Whether the rules have changed since (the engine placing it is another version).
    pub rules_changed: bool,
}

/// How an order against a quote is placed (see [`Engine::place_quote`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placing<'a> {
    /// The instant of placing (default: now); must be before the quote's validity end.
    pub at: Option<Instant>,
    /// The user placing the order.
    pub user: Option<&'a str>,
    /// Spent to date per cost centre, for the approval rules.
    pub spent: Vec<(&'a str, Decimal)>,
}

/// A verified sales quote, read from its document with [`SalesQuote::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesQuote {
    /// The caller's quote number.
    pub number: Option<String>,
    /// The account it was priced for.
    pub account: String,
    /// Currency of every amount.
    pub currency: String,
    /// The instant of the prices.
    pub priced_at: Instant,
    /// The first instant it may no longer be placed at.
    pub valid_until: Instant,
    /// The engine it was priced with.
    pub engine_version: String,
    /// The quoted lines.
    pub lines: Vec<QuotedLine>,
    /// Sum of the line totals.
    pub subtotal: Decimal,
    /// The order-level amounts it was priced with.
    pub adjustments: Vec<QuotedAdjustment>,
    /// The subtotal plus the adjustments.
    pub total: Decimal,
}

/// One line of a sales quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedLine {
    /// The product.
    pub sku: String,
    /// The quantity.
    pub qty: Decimal,
    /// The quoted unit price.
    pub unit_price: Decimal,
    /// The quoted line total.
    pub line_total: Decimal,
    /// Its share of the order discount.
    pub allocated: Decimal,
    /// Whether the unit price was set by hand.
    pub manual: bool,
    /// The buyer's cost centre.
    pub cost_centre: Option<String>,
    /// The delivery address.
    pub ship_to: Option<String>,
}

/// One order-level amount of a sales quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedAdjustment {
    /// Full id of the order condition.
    pub id: String,
    /// Its kind.
    pub kind: OrderKind,
    /// Signed amount.
    pub amount: Decimal,
    /// The delivery address charged (shipping).
    pub ship_to: Option<String>,
    /// Why, as priced.
    pub why: String,
}

/// The signed part of the document, every amount and instant as text: the signature covers
/// this serialization, so a document re-indented or with its keys reordered still verifies
/// and any change of a value does not.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    format: String,
    number: Option<String>,
    account: String,
    currency: String,
    priced_at: String,
    valid_until: String,
    engine_version: String,
    lines: Vec<LineDoc>,
    subtotal: String,
    adjustments: Vec<AdjustmentDoc>,
    total: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LineDoc {
    sku: String,
    qty: String,
    unit_price: String,
    line_total: String,
    allocated: String,
    manual: bool,
    cost_centre: Option<String>,
    ship_to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjustmentDoc {
    id: String,
    kind: OrderKind,
    amount: String,
    ship_to: Option<String>,
    why: String,
}

/// The caller's key, derived for quote signatures.
struct Signer([u8; 32]);

impl Signer {
    fn new(key: &[u8]) -> Result<Signer, QueryError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(QueryError::QuoteKey(key.len()));
        }
        Ok(Signer(blake3::derive_key(SIGNATURE_CONTEXT, key)))
    }

    fn mac(&self, body: &Body) -> Result<blake3::Hash, QueryError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| QueryError::QuoteInvalid(format!("cannot serialize the quote: {e}")))?;
        Ok(blake3::keyed_hash(&self.0, &bytes))
    }
}

impl SalesQuote {
    /// Reads a `tarif/1-quote` document and checks its signature with `key`: `QUOTE_KEY` for
    /// a key under 16 bytes, `QUOTE_INVALID` for a document that does not read,
    /// `QUOTE_TAMPERED` when a value was changed or another key signed it.
    ///
    /// ```
    /// use tarif::{Engine, Instant, Order, OrderLine, QuoteDraft, SalesQuote};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10"}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let key = b"a secret of the shop, 32 bytes!!";
    /// let order = Order::new("C", vec![OrderLine::new("A", 3.into())]).at(Instant::from_unix_seconds(0));
    /// let draft = QuoteDraft { order, manual_prices: vec![Some("9.50".parse().unwrap())],
    ///                          valid_until: Instant::from_unix_seconds(86_400), number: Some("Q-1") };
    /// let document = engine.prepare_quote(&draft, key).unwrap().document.unwrap();
    /// let quote = SalesQuote::verify(&document, key).unwrap();
    /// assert_eq!(quote.total.to_string(), "28.50");
    /// let forged = document.replace("\"28.50\"", "\"2.85\"");
    /// assert_eq!(SalesQuote::verify(&forged, key).unwrap_err().code(), "QUOTE_TAMPERED");
    /// assert_eq!(SalesQuote::verify(&document, b"another key, 32 bytes long......").unwrap_err().code(),
    ///            "QUOTE_TAMPERED");
    /// ```
    pub fn verify(document: &str, key: &[u8]) -> Result<SalesQuote, QueryError> {
        let signer = Signer::new(key)?;
        let invalid = |what: String| QueryError::QuoteInvalid(what);
        let mut value: serde_json::Value = serde_json::from_str(document)
            .map_err(|e| invalid(format!("the document is not JSON: {e}")))?;
        let signature = value
            .as_object_mut()
            .and_then(|o| o.remove("signature"))
            .ok_or_else(|| invalid("the document has no `signature`".to_string()))?;
        let signature = signature
            .as_str()
            .and_then(|s| s.strip_prefix(SIGNATURE_PREFIX))
            .and_then(|hex| blake3::Hash::from_hex(hex).ok())
            .ok_or_else(|| {
                invalid(format!(
                    "`signature` is not a `{SIGNATURE_PREFIX}` signature: `{signature}`"
                ))
            })?;
        let body: Body = serde_path_to_error::deserialize(value)
            .map_err(|e| invalid(format!("at `{}`: {}", e.path(), e.inner())))?;
        // The signature first: nothing of an altered document is believed, not even why it
        // would not read.
        if signer.mac(&body)? != signature {
            return Err(QueryError::QuoteTampered);
        }
        SalesQuote::from_body(body)
    }

    fn from_body(body: Body) -> Result<SalesQuote, QueryError> {
        let invalid = |what: String| QueryError::QuoteInvalid(what);
        if body.format != QUOTE_FORMAT {
            return Err(invalid(format!(
                "`format` is `{}`; this build reads `{QUOTE_FORMAT}`",
                body.format
            )));
        }
        let decimal = |text: &str, path: String| {
            text.parse::<Decimal>()
                .map_err(|_| invalid(format!("`{path}` is not a decimal: `{text}`")))
        };
        let instant = |text: &str, path: &str| {
            Instant::parse_rfc3339(text)
                .ok_or_else(|| invalid(format!("`{path}` is not an RFC 3339 instant: `{text}`")))
        };
        let lines = body
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok(QuotedLine {
                    sku: l.sku.clone(),
                    qty: decimal(&l.qty, format!("lines[{i}].qty"))?,
                    unit_price: decimal(&l.unit_price, format!("lines[{i}].unit_price"))?,
                    line_total: decimal(&l.line_total, format!("lines[{i}].line_total"))?,
                    allocated: decimal(&l.allocated, format!("lines[{i}].allocated"))?,
                    manual: l.manual,
                    cost_centre: l.cost_centre.clone(),
                    ship_to: l.ship_to.clone(),
                })
            })
            .collect::<Result<Vec<_>, QueryError>>()?;
        let adjustments = body
            .adjustments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                Ok(QuotedAdjustment {
                    id: a.id.clone(),
                    kind: a.kind,
                    amount: decimal(&a.amount, format!("adjustments[{i}].amount"))?,
                    ship_to: a.ship_to.clone(),
                    why: a.why.clone(),
                })
            })
            .collect::<Result<Vec<_>, QueryError>>()?;
        Ok(SalesQuote {
            priced_at: instant(&body.priced_at, "priced_at")?,
            valid_until: instant(&body.valid_until, "valid_until")?,
            subtotal: decimal(&body.subtotal, "subtotal".to_string())?,
            total: decimal(&body.total, "total".to_string())?,
            number: body.number,
            account: body.account,
            currency: body.currency,
            engine_version: body.engine_version,
            lines,
            adjustments,
        })
    }
}

impl Engine {
    /// Prices an order as a sales quote: each manual unit price is checked against the bounds
    /// the rules set for its line (`PRICE_BOUND` for its line otherwise), the order is priced
    /// with its conditions and approval as [`Engine::price_order`] prices it, and when every
    /// line priced, the result carries the signed `tarif/1-quote` document for the caller to
    /// store. `QUOTE_KEY` for a key under 16 bytes; `QUOTE_INVALID` for an order without
    /// lines, more manual prices than lines, or a validity end not after the pricing instant.
    ///
    /// ```
    /// use tarif::{Engine, Instant, Order, OrderLine, QuoteDraft};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A", "cost": "6"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10"}]}],
    ///   "accounts": [{"id": "C"}],
    ///   "contracts": [{"id": "k", "audience": "all", "rules": [
    ///     {"id": "margin", "step": "bounds", "products": "all", "min_margin_pct": "25"}]}]}"#).unwrap();
    /// let order = Order::new("C", vec![OrderLine::new("A", 2.into())]).at(Instant::from_unix_seconds(0));
    /// let draft = |price: &str| QuoteDraft { order: order.clone(), manual_prices: vec![Some(price.parse().unwrap())],
    ///                                        valid_until: Instant::from_unix_seconds(3_600), number: None };
    /// let key = b"a secret of the shop, 32 bytes!!";
    /// let below = engine.prepare_quote(&draft("7.00"), key).unwrap();
    /// let error = below.order.lines[0].as_ref().unwrap_err();
    /// assert_eq!(error.to_string(),
    ///            "manual unit price `7.00` of `A` is below `7.50`, the `min_margin_pct` of rule `k/margin`");
    /// assert!(below.document.is_none());
    /// let within = engine.prepare_quote(&draft("7.50"), key).unwrap();
    /// assert_eq!(within.order.total.to_string(), "15.00");
    /// assert!(within.document.is_some());
    /// ```
    pub fn prepare_quote(
        &self,
        draft: &QuoteDraft<'_>,
        key: &[u8],
    ) -> Result<PreparedQuote<'_>, QueryError> {
        let signer = Signer::new(key)?;
        let order = &draft.order;
        let (_, account) = self.account(order.account)?;
        let at = order.at.unwrap_or_else(Instant::now);
        let currency = self.request_currency(account, order.currency)?;
        let invalid = |what: String| QueryError::QuoteInvalid(what);
        if order.lines.is_empty() {
            return Err(invalid("a quote needs at least one line".to_string()));
        }
        if draft.manual_prices.len() > order.lines.len() {
            return Err(invalid(format!(
                "`{}` manual prices for `{}` lines",
                draft.manual_prices.len(),
                order.lines.len()
            )));
        }
        if draft.valid_until <= at {
            return Err(invalid(format!(
                "`valid_until` `{}` is not after the pricing instant `{at}`",
                draft.valid_until
            )));
        }
        let (mut lines, counted) = self.price_lines(order, at)?;
        let mut overrides = vec![None; lines.len()];
        for (k, ((line, priced), (manual, slot))) in order
            .lines
            .iter()
            .zip(lines.iter_mut())
            .zip(draft.manual_prices.iter().zip(overrides.iter_mut()))
            .enumerate()
        {
            let (Some(price), Ok(quote)) = (manual, priced.as_mut()) else {
                continue;
            };
            let request = line_request(order, line, at);
            match self.manual_line(&request, in_order(&counted, k), *price) {
                Ok((unit, total)) => {
                    *slot = Some(PriceOverride {
                        origin: PriceOrigin::Manual,
                        rules_unit_price: Some(quote.unit_price),
                        rules_line_total: Some(quote.line_total),
                    });
                    quote.unit_price = unit;
                    quote.line_total = total;
                }
                Err(error) => *priced = Err(error),
            }
        }
        let (mut priced, settled) =
            self.settle_lines(order, account, at, currency, lines, &counted)?;
        if let Some(refused) = settled.refused {
            return Err(refused);
        }
        priced.overrides = overrides;
        let document = if priced.failed_lines() == 0 {
            Some(self.quote_document(draft, &priced, &signer)?)
        } else {
            None
        };
        Ok(PreparedQuote {
            order: priced,
            document,
        })
    }

    fn quote_document(
        &self,
        draft: &QuoteDraft<'_>,
        priced: &PricedOrder<'_>,
        signer: &Signer,
    ) -> Result<String, QueryError> {
        let lines = draft
            .order
            .lines
            .iter()
            .zip(&priced.lines)
            .zip(priced.allocated.iter().zip(&priced.overrides))
            .filter_map(|((line, quote), (allocated, origin))| {
                let quote = quote.as_ref().ok()?;
                Some(LineDoc {
                    sku: quote.sku.to_string(),
                    qty: quote.qty.to_string(),
                    unit_price: quote.unit_price.to_string(),
                    line_total: quote.line_total.to_string(),
                    allocated: allocated.to_string(),
                    manual: origin.is_some(),
                    cost_centre: line.cost_centre.map(str::to_string),
                    ship_to: line.ship_to.map(str::to_string),
                })
            })
            .collect();
        let body = Body {
            format: QUOTE_FORMAT.to_string(),
            number: draft.number.map(str::to_string),
            account: draft.order.account.to_string(),
            currency: priced.currency.to_string(),
            priced_at: priced.at.to_string(),
            valid_until: draft.valid_until.to_string(),
            engine_version: priced.engine_version.to_string(),
            lines,
            subtotal: priced.subtotal.to_string(),
            adjustments: priced
                .adjustments
                .iter()
                .map(|a| AdjustmentDoc {
                    id: a.id.to_string(),
                    kind: a.kind,
                    amount: a.amount.to_string(),
                    ship_to: a.ship_to.clone(),
                    why: a.why.clone(),
                })
                .collect(),
            total: priced.total.to_string(),
        };
        let signature = signer.mac(&body)?;
        let mut value = serde_json::to_value(&body)
            .map_err(|e| QueryError::QuoteInvalid(format!("cannot serialize the quote: {e}")))?;
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "signature".to_string(),
                serde_json::Value::String(format!("{SIGNATURE_PREFIX}{}", signature.to_hex())),
            );
        }
        serde_json::to_string_pretty(&value)
            .map_err(|e| QueryError::QuoteInvalid(format!("cannot serialize the quote: {e}")))
    }

    /// Places an order at the prices of a verified sales quote, whatever the rules say now:
    /// each line keeps its quoted price and discount share (`overrides` says so, with what the
    /// rules give now), the order keeps its quoted adjustments, and `placed_quote` says which
    /// quote and whether the rules changed since. `QUOTE_EXPIRED` from the validity end on. The
    /// catalog is today's: a line whose product the account may no longer see, buy or order
    /// in that quantity gets its own error and leaves the order with its share of the
    /// discount and, when its delivery address has no other line, its shipping charge. The
    /// approval is decided under today's rules for the user placing it.
    ///
    /// ```
    /// use tarif::{Engine, Instant, Order, OrderLine, Placing, QuoteDraft, SalesQuote};
    /// let rules = |price: &str| Engine::from_json(&format!(r#"{{"format": "tarif/1", "currencies": [{{"code": "EUR"}}],
    ///   "settings": {{"default_price_lists": ["l"]}}, "products": [{{"sku": "A"}}],
    ///   "price_lists": [{{"id": "l", "prices": [{{"sku": "A", "price": "{price}"}}]}}],
    ///   "accounts": [{{"id": "C"}}]}}"#)).unwrap();
    /// let key = b"a secret of the shop, 32 bytes!!";
    /// let order = Order::new("C", vec![OrderLine::new("A", 3.into())]).at(Instant::from_unix_seconds(0));
    /// let draft = QuoteDraft { order, manual_prices: vec![], valid_until: Instant::from_unix_seconds(86_400), number: None };
    /// let document = rules("10").prepare_quote(&draft, key).unwrap().document.unwrap();
    /// let quote = SalesQuote::verify(&document, key).unwrap();
    /// let today = rules("12");
    /// let placing = Placing { at: Some(Instant::from_unix_seconds(3_600)), ..Placing::default() };
    /// let placed = today.place_quote(&quote, &placing).unwrap();
    /// assert_eq!(placed.total.to_string(), "30.00");
    /// assert!(placed.placed_quote.as_ref().unwrap().rules_changed);
    /// assert_eq!(placed.overrides[0].unwrap().rules_line_total.unwrap().to_string(), "36.00");
    /// let late = Placing { at: Some(Instant::from_unix_seconds(86_400)), ..Placing::default() };
    /// assert_eq!(today.place_quote(&quote, &late).unwrap_err().code(), "QUOTE_EXPIRED");
    /// ```
    pub fn place_quote<'e>(
        &'e self,
        quote: &'e SalesQuote,
        placing: &Placing<'_>,
    ) -> Result<PricedOrder<'e>, QueryError> {
        let (_, account) = self.account(&quote.account)?;
        let at = placing.at.unwrap_or_else(Instant::now);
        if at >= quote.valid_until {
            return Err(QueryError::QuoteExpired {
                valid_until: quote.valid_until.to_string(),
                at: at.to_string(),
            });
        }
        let currency = self.request_currency(account, Some(&quote.currency))?;
        let order = Order {
            account: &quote.account,
            lines: quote
                .lines
                .iter()
                .map(|l| OrderLine {
                    reference: &l.sku,
                    qty: l.qty,
                    cost_centre: l.cost_centre.as_deref(),
                    ship_to: l.ship_to.as_deref(),
                })
                .collect(),
            at: Some(at),
            currency: Some(&quote.currency),
            user: placing.user,
            spent: placing.spent.clone(),
        };
        let scale = self.index.currencies.get(currency).map_or(2, |c| c.scale);
        let (today, _) = self.price_lines(&order, at)?;
        let mut lines = Vec::with_capacity(quote.lines.len());
        let mut overrides = Vec::with_capacity(quote.lines.len());
        let mut allocated = Vec::with_capacity(quote.lines.len());
        for ((line, quoted), today) in order.lines.iter().zip(&quote.lines).zip(today) {
            match self.locked_line(&order, line, quoted, at, today) {
                Ok((locked, rules)) => {
                    lines.push(Ok(locked));
                    overrides.push(Some(rules));
                    allocated.push(quoted.allocated);
                }
                Err(error) => {
                    lines.push(Err(error));
                    overrides.push(None);
                    allocated.push(Decimal::new(0, scale));
                }
            }
        }
        let subtotal = checked_sum(
            lines
                .iter()
                .filter_map(|l| l.as_ref().ok().map(|q| q.line_total)),
        )?;
        let discount = checked_sum(allocated.iter().copied())?;
        let shipped = |to: &Option<String>| {
            quote
                .lines
                .iter()
                .zip(&lines)
                .any(|(l, priced)| priced.is_ok() && l.ship_to == *to)
        };
        let adjustments: Vec<Adjustment<'e>> = quote
            .adjustments
            .iter()
            .filter_map(|a| {
                let amount = match a.kind {
                    OrderKind::OrderDiscount => -discount,
                    OrderKind::Shipping if !shipped(&a.ship_to) => return None,
                    OrderKind::Shipping | OrderKind::MinimumOrder => a.amount,
                };
                (!amount.is_zero()).then(|| Adjustment {
                    id: &a.id,
                    kind: a.kind,
                    amount,
                    ship_to: a.ship_to.clone(),
                    why: a.why.clone(),
                })
            })
            .collect();
        let total =
            checked_sum(std::iter::once(subtotal).chain(adjustments.iter().map(|a| a.amount)))?;
        let approval = self.decide(account, &order, &lines, total)?;
        Ok(PricedOrder {
            engine_version: self.engine_version(),
            currency: self.currency_code(currency),
            at,
            lines,
            allocated,
            subtotal,
            adjustments,
            total,
            approval,
            overrides,
            placed_quote: Some(PlacedQuote {
                number: quote.number.as_deref(),
                engine_version: &quote.engine_version,
                priced_at: quote.priced_at,
                valid_until: quote.valid_until,
                rules_changed: quote.engine_version != self.engine_version(),
            }),
        })
    }

    /// A quoted line as it is placed today, from what the rules give it in the order today:
    /// the product must still be one the account may see, order in this quantity and buy; its
    /// price is the quoted one, next to the rules' price (nothing, when they give no price or
    /// hide it).
    fn locked_line<'e>(
        &'e self,
        order: &Order<'_>,
        line: &OrderLine<'_>,
        quoted: &QuotedLine,
        at: Instant,
        today: Result<Quote<'e>, QueryError>,
    ) -> Result<(Quote<'e>, PriceOverride), QueryError> {
        let mut locked = match today {
            Ok(quote) => quote,
            Err(
                QueryError::PriceHidden(_) | QueryError::NoPrice { .. } | QueryError::Overflow(_),
            ) => self.unpriced_line(order, line, quoted, at)?,
            Err(error) => return Err(error),
        };
        let rules = PriceOverride {
            origin: PriceOrigin::Quote,
            rules_unit_price: (!locked.steps.is_empty()).then_some(locked.unit_price),
            rules_line_total: (!locked.steps.is_empty()).then_some(locked.line_total),
        };
        locked.unit_price = quoted.unit_price;
        locked.line_total = quoted.line_total;
        Ok((locked, rules))
    }

    /// A quoted line the rules give no price today: still placeable when the account may see
    /// the product, order the quantity and buy it.
    fn unpriced_line(
        &self,
        order: &Order<'_>,
        line: &OrderLine<'_>,
        quoted: &QuotedLine,
        at: Instant,
    ) -> Result<Quote<'_>, QueryError> {
        let request = line_request(order, line, at);
        let (ctx, seen) = self.resolve_request(&request, Resolve::Visible)?;
        let caps = seen.unwrap_or_else(|| self.capabilities(ctx.account, ctx.product, ctx.at));
        self.admit_orderable(&ctx, caps, line.reference)?;
        if !caps.buy {
            return Err(QueryError::NotBuyable(self.sku(ctx.product).to_string()));
        }
        Ok(Quote {
            sku: self.sku(ctx.product),
            qty: ctx.qty,
            currency: self.currency_code(ctx.currency),
            unit_price: quoted.unit_price,
            line_total: quoted.line_total,
            base_price: quoted.unit_price,
            list_price: None,
            buyable: true,
            stage: RoundingStage::Unit,
            steps: Steps::default(),
            engine_version: self.engine_version(),
            stock: self.stock_info(ctx.product, ctx.qty),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"the shop's quote key, 32 bytes!!";

    fn engine(a_price: &str, conditions: bool) -> Engine {
        let conditions = if conditions {
            r#", "order_conditions": [
                {"id": "ten", "kind": "order_discount", "min_subtotal": "50", "percent": "10"},
                {"id": "ship", "kind": "shipping", "charge": "5.00", "free_from": "100"}]"#
        } else {
            ""
        };
        Engine::from_json(&format!(
            r#"{{"format": "tarif/1", "currencies": [{{"code": "EUR"}}],
              "settings": {{"default_price_lists": ["l"]}},
              "products": [{{"sku": "A", "cost": "6"}}, {{"sku": "B"}}, {{"sku": "C"}}],
              "price_lists": [{{"id": "l", "prices": [{{"sku": "A", "price": "{a_price}"}},
                {{"sku": "B", "price": "20"}}, {{"sku": "C", "price": "5"}}]}}],
              "accounts": [{{"id": "K"}}],
              "contracts": [{{"id": "k", "audience": "all", "rules": [
                {{"id": "a-limits", "step": "bounds", "products": {{"sku": "A"}},
                  "min_margin_pct": "25", "max_price": "12"}},
                {{"id": "b-limits", "step": "bounds", "products": {{"sku": "B"}},
                  "min_price": "25", "max_price": "22"}}]{conditions}}}]}}"#
        ))
        .unwrap()
    }

    fn at(seconds: i64) -> Instant {
        Instant::from_unix_seconds(seconds)
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn draft<'a>(lines: Vec<OrderLine<'a>>, manual: Vec<Option<Decimal>>) -> QuoteDraft<'a> {
        QuoteDraft {
            order: Order::new("K", lines).at(at(0)),
            manual_prices: manual,
            valid_until: at(1_000),
            number: Some("Q-7"),
        }
    }

    fn line(
        reference: &'static str,
        qty: i64,
        ship_to: Option<&'static str>,
    ) -> OrderLine<'static> {
        OrderLine {
            ship_to,
            ..OrderLine::new(reference, qty.into())
        }
    }

    /// A quote of 3 A at a manual 11.00 to `north` and 4 C to `south`, signed and read back.
    fn two_address_quote(engine: &Engine) -> SalesQuote {
        let draft = draft(
            vec![line("A", 3, Some("north")), line("C", 4, Some("south"))],
            vec![Some(d("11"))],
        );
        let document = engine.prepare_quote(&draft, KEY).unwrap().document.unwrap();
        SalesQuote::verify(&document, KEY).unwrap()
    }

    fn bound_of(error: &QueryError) -> (&str, Decimal, Option<&str>) {
        match error {
            QueryError::PriceBound {
                bound, limit, rule, ..
            } => (bound.as_str(), *limit, rule.as_deref()),
            other => panic!("not a price bound: {other:?}"),
        }
    }

    #[test]
    fn manual_prices_stay_within_the_bounds_of_the_rules_that_apply() {
        let engine = engine("10", true);
        let refused = |reference: &'static str, price: &str| {
            let prepared = engine
                .prepare_quote(
                    &draft(vec![line(reference, 1, None)], vec![Some(d(price))]),
                    KEY,
                )
                .unwrap();
            assert!(prepared.document.is_none());
            let error = prepared.order.lines[0].clone().unwrap_err();
            let (bound, limit, rule) = bound_of(&error);
            (bound.to_string(), limit, rule.map(str::to_string))
        };
        // A: cost 6 marked up 25 % = 7.50 floor, 12 ceiling.
        assert_eq!(
            refused("A", "7.49"),
            (
                "min_margin_pct".into(),
                d("7.50"),
                Some("k/a-limits".into())
            )
        );
        assert_eq!(
            refused("A", "12.01"),
            ("max_price".into(), d("12"), Some("k/a-limits".into()))
        );
        assert_eq!(refused("A", "-1"), ("non_negative".into(), d("0"), None));
        // B: a floor of 25 over a ceiling of 22: the floor wins, so 25 is the only price.
        assert_eq!(
            refused("B", "24.99"),
            ("min_price".into(), d("25"), Some("k/b-limits".into()))
        );
        assert_eq!(
            refused("B", "25.01"),
            ("max_price".into(), d("22"), Some("k/b-limits".into()))
        );
        let within = engine
            .prepare_quote(
                &draft(
                    vec![line("A", 3, None), line("B", 1, None), line("C", 2, None)],
                    vec![Some(d("7.50")), Some(d("25")), Some(d("0.10"))],
                ),
                KEY,
            )
            .unwrap();
        let totals: Vec<String> = within
            .order
            .lines
            .iter()
            .map(|l| l.as_ref().unwrap().line_total.to_string())
            .collect();
        assert_eq!(totals, ["22.50", "25.00", "0.20"]);
        let unit = within.order.lines[1].as_ref().unwrap().unit_price;
        assert_eq!(unit.to_string(), "25.00");
        assert_eq!(
            within.order.overrides[0],
            Some(PriceOverride {
                origin: PriceOrigin::Manual,
                rules_unit_price: Some(d("10.00")),
                rules_line_total: Some(d("30.00")),
            })
        );
        assert!(within.document.is_some());
    }

    #[test]
    fn a_quote_reformatted_still_verifies_and_a_changed_value_does_not() {
        let engine = engine("10", true);
        let document = engine
            .prepare_quote(&draft(vec![line("A", 6, None)], vec![]), KEY)
            .unwrap()
            .document
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(&document).unwrap();
        let compact = serde_json::to_string(&value).unwrap();
        let quote = SalesQuote::verify(&compact, KEY).unwrap();
        assert_eq!(quote.number.as_deref(), Some("Q-7"));
        assert_eq!((quote.subtotal, quote.total), (d("60.00"), d("59.00")));
        for (from, to) in [
            ("\"qty\": \"6\"", "\"qty\": \"60\""),
            ("\"account\": \"K\"", "\"account\": \"X\""),
            ("\"manual\": false", "\"manual\": true"),
            (
                "\"valid_until\": \"1970-01-01T00:16:40Z\"",
                "\"valid_until\": \"2070-01-01T00:00:00Z\"",
            ),
        ] {
            assert!(document.contains(from), "{from} in {document}");
            let forged = document.replace(from, to);
            assert_eq!(
                SalesQuote::verify(&forged, KEY).unwrap_err(),
                QueryError::QuoteTampered
            );
        }
        let unsigned = serde_json::to_string(&{
            let mut v = value.clone();
            v.as_object_mut().unwrap().remove("signature");
            v
        })
        .unwrap();
        assert_eq!(
            SalesQuote::verify(&unsigned, KEY).unwrap_err().code(),
            "QUOTE_INVALID"
        );
        assert_eq!(
            SalesQuote::verify("[1]", KEY).unwrap_err().code(),
            "QUOTE_INVALID"
        );
        assert_eq!(
            SalesQuote::verify(&document, b"short").unwrap_err(),
            QueryError::QuoteKey(5)
        );
    }

    #[test]
    fn a_draft_that_cannot_be_a_quote_is_refused_whole() {
        let engine = engine("10", false);
        let code = |d: QuoteDraft<'_>| engine.prepare_quote(&d, KEY).unwrap_err().code();
        assert_eq!(code(draft(vec![], vec![])), "QUOTE_INVALID");
        assert_eq!(
            code(draft(vec![line("A", 1, None)], vec![None, None])),
            "QUOTE_INVALID"
        );
        let mut stale = draft(vec![line("A", 1, None)], vec![]);
        stale.valid_until = at(0);
        assert_eq!(code(stale), "QUOTE_INVALID");
        let mut nobody = draft(vec![line("A", 1, None)], vec![]);
        nobody.order.account = "NOBODY";
        assert_eq!(code(nobody), "UNKNOWN_ACCOUNT");
        assert_eq!(
            engine
                .prepare_quote(&draft(vec![line("A", 1, None)], vec![]), b"")
                .unwrap_err(),
            QueryError::QuoteKey(0)
        );
    }

    #[test]
    fn placing_keeps_the_quoted_prices_and_conditions_after_the_rules_changed() {
        let quoted = engine("10", true);
        let quote = two_address_quote(&quoted);
        // 3 × 11 = 33.00 and 4 × 5.00 = 20.00: 53.00 ≥ 50 takes 10 % = 5.30 (3.30 + 2.00);
        // each address below 100 pays 5.00 shipping.
        assert_eq!(quote.total, d("57.70"));
        let today = engine("10.50", false);
        let placing = Placing {
            at: Some(at(999)),
            ..Placing::default()
        };
        let placed = today.place_quote(&quote, &placing).unwrap();
        assert_eq!((placed.subtotal, placed.total), (d("53.00"), d("57.70")));
        assert_eq!(placed.allocated, [d("3.30"), d("2.00")]);
        let amounts: Vec<Decimal> = placed.adjustments.iter().map(|a| a.amount).collect();
        assert_eq!(amounts, [d("-5.30"), d("5.00"), d("5.00")]);
        let placed_quote = placed.placed_quote.clone().unwrap();
        assert!(placed_quote.rules_changed);
        assert_eq!(placed_quote.number, Some("Q-7"));
        assert_eq!(
            placed.overrides[0],
            Some(PriceOverride {
                origin: PriceOrigin::Quote,
                rules_unit_price: Some(d("10.50")),
                rules_line_total: Some(d("31.50")),
            })
        );
        // The same engine that priced it: the rules have not changed.
        let again = quoted.place_quote(&quote, &placing).unwrap();
        assert!(!again.placed_quote.unwrap().rules_changed);
        let late = Placing {
            at: Some(at(1_000)),
            ..Placing::default()
        };
        assert_eq!(
            today.place_quote(&quote, &late).unwrap_err().code(),
            "QUOTE_EXPIRED"
        );
    }

    #[test]
    fn a_line_no_longer_orderable_leaves_with_its_discount_share_and_its_shipping() {
        let quote = two_address_quote(&engine("10", true));
        let without_c = Engine::from_json(
            r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
              "settings": {"default_price_lists": ["l"]},
              "products": [{"sku": "A"}],
              "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10"}]}],
              "accounts": [{"id": "K"}]}"#,
        )
        .unwrap();
        let placing = Placing {
            at: Some(at(10)),
            ..Placing::default()
        };
        let placed = without_c.place_quote(&quote, &placing).unwrap();
        assert_eq!(
            placed.lines[1].as_ref().unwrap_err().code(),
            "UNKNOWN_PRODUCT"
        );
        assert_eq!(placed.subtotal, d("33.00"));
        let adjustments: Vec<(Decimal, Option<&str>)> = placed
            .adjustments
            .iter()
            .map(|a| (a.amount, a.ship_to.as_deref()))
            .collect();
        assert_eq!(
            adjustments,
            [(d("-3.30"), None), (d("5.00"), Some("north"))]
        );
        assert_eq!(placed.total, d("34.70"));
    }
}
