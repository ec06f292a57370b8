//! `priceOrder`, `explainOrder` and `parseOrderLines`: JavaScript lines in, the core's order out. A failed
//! line is `{error: {code, message, details}}` in the result, never a throw: one bad line never
//! fails the order.

use std::collections::HashMap;

use napi::bindgen_prelude::{Buffer, Either, FromNapiValue, Unknown};
use napi::JsValue;
use napi_derive::napi;
use tarif::money::parse_decimal;
use tarif::wire::{self, InputCode, OrderTextInput, QtyInput};
use tarif::{Approval, Decimal, Engine as Core, LineFormat, PricedOrder, QueryError, SalesQuote};

use crate::error::{ErrorDetails, Failure};
use crate::input::{self, At};
use crate::output::{ExplainResult, QuoteResult};

/// An order to price: one account, one instant, one currency for every line.
#[napi(object, object_to_js = false)]
pub struct OrderInput<'a> {
    /// Account id.
    #[napi(ts_type = "string")]
    pub account: Unknown<'a>,
    /// The lines, in the buyer's order.
    #[napi(ts_type = "OrderLineInput[]")]
    pub lines: Unknown<'a>,
    /// Instant of the prices: a `Date`, an RFC 3339 string or a `YYYY-MM-DD` date. Default: now.
    #[napi(ts_type = "Date | string")]
    pub at: Option<Unknown<'a>>,
    /// Currency. Default: the account's.
    #[napi(ts_type = "string")]
    pub currency: Option<Unknown<'a>>,
    /// The user placing the order. Default: the account, without user limits.
    #[napi(ts_type = "string")]
    pub user: Option<Unknown<'a>>,
    /// What each cost centre spent to date: cost centre → decimal string.
    #[napi(ts_type = "Record<string, string>")]
    pub spent: Option<Unknown<'a>>,
}

/// One order line: a reference as the buyer wrote it (`ref`, or `sku`) and a quantity.
#[napi(object, object_to_js = false)]
pub struct OrderLineInput<'a> {
    /// Any reference `lookup` accepts.
    #[napi(js_name = "ref", ts_type = "string")]
    pub reference: Option<Unknown<'a>>,
    /// Same as `ref`, for lines built from SKUs.
    #[napi(ts_type = "string")]
    pub sku: Option<Unknown<'a>>,
    /// A positive decimal string, an integer number or a bigint.
    #[napi(ts_type = "string | number | bigint")]
    pub qty: Unknown<'a>,
    /// The buyer's cost centre, carried through.
    #[napi(ts_type = "string")]
    pub cost_centre: Option<Unknown<'a>>,
    /// The delivery address id, carried through.
    #[napi(ts_type = "string")]
    pub ship_to: Option<Unknown<'a>>,
}

/// Text to read into order lines.
#[napi(object, object_to_js = false)]
pub struct OrderTextArgs<'a> {
    /// Account id.
    #[napi(ts_type = "string")]
    pub account: Unknown<'a>,
    /// What the buyer pasted or uploaded.
    #[napi(ts_type = "string")]
    pub text: Unknown<'a>,
    /// Instant of visibility. Default: now.
    #[napi(ts_type = "Date | string")]
    pub at: Option<Unknown<'a>>,
    /// Add up lines of the same product, cost centre and address (default `true`).
    #[napi(ts_type = "boolean")]
    pub merge_duplicates: Option<Unknown<'a>>,
}

/// What a sales quote adds to an order (`prepareQuote` takes `OrderInput & QuoteDraftArgs`).
#[napi(object, object_to_js = false)]
pub struct QuoteDraftArgs<'a> {
    /// The first instant the quote may no longer be placed at.
    #[napi(ts_type = "Date | string")]
    pub valid_until: Unknown<'a>,
    /// The signing key: a string (its UTF-8 bytes) or a Buffer, at least 16 bytes.
    #[napi(ts_type = "string | Buffer")]
    pub key: Unknown<'a>,
    /// Per line, a unit price set by hand (decimal string), or null for the rules' price.
    #[napi(ts_type = "Array<string | null>")]
    pub manual_prices: Option<Unknown<'a>>,
    /// The caller's quote number, carried in the document.
    #[napi(ts_type = "string")]
    pub number: Option<Unknown<'a>>,
}

/// An order placed against a signed quote document.
#[napi(object, object_to_js = false)]
pub struct PlaceQuoteArgs<'a> {
    /// The document `prepareQuote` returned.
    #[napi(ts_type = "string")]
    pub document: Unknown<'a>,
    /// The key it was signed with.
    #[napi(ts_type = "string | Buffer")]
    pub key: Unknown<'a>,
    /// Instant of placing. Default: now.
    #[napi(ts_type = "Date | string")]
    pub at: Option<Unknown<'a>>,
    /// The user placing the order.
    #[napi(ts_type = "string")]
    pub user: Option<Unknown<'a>>,
    /// What each cost centre spent to date: cost centre → decimal string.
    #[napi(ts_type = "Record<string, string>")]
    pub spent: Option<Unknown<'a>>,
}

/// Why one line failed: the `code` and `message` a thrown error would carry.
#[napi(object, object_from_js = false)]
pub struct LineError {
    /// Stable code: `UNKNOWN_PRODUCT`, `QUANTITY_RULE`, `NOT_BUYABLE`, `INVALID_QUANTITY`…
    pub code: String,
    /// What went wrong, naming the value.
    pub message: String,
    /// The values the message names.
    pub details: ErrorDetails,
}

impl From<&QueryError> for LineError {
    fn from(error: &QueryError) -> Self {
        LineError {
            code: error.code().to_string(),
            message: error.to_string(),
            details: ErrorDetails::from(error),
        }
    }
}

/// A failed order line.
#[napi(object, object_from_js = false)]
pub struct FailedLine {
    /// Why it failed.
    pub error: LineError,
}

/// A priced order.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct PricedOrderResult {
    /// One entry per order line: its quote, or `{error}`.
    #[napi(ts_type = "Array<QuoteResult | FailedLine>")]
    pub lines: Vec<Either<QuoteResult, FailedLine>>,
    /// Sum of the line totals of the lines that priced (decimal string).
    pub subtotal: String,
    /// Order-level amounts: the order discount (negative), a minimum-order surcharge, the
    /// shipping charges per delivery address.
    pub adjustments: Vec<AdjustmentResult>,
    /// Per line, its share of the order discount (decimal strings; zero for a failed line).
    pub allocated: Vec<String>,
    /// What the order costs: the subtotal plus the adjustments (decimal string).
    pub total: String,
    /// Currency code of every amount.
    pub currency: String,
    /// The instant every line was priced at (RFC 3339).
    pub at: String,
    /// How many lines failed.
    pub failed_lines: u32,
    /// Version of the engine that priced the order.
    pub engine_version: String,
    /// Whether the order may be placed as it is.
    pub approval: ApprovalResult,
    /// Per line, where its price comes from when not from the rules (a manual price, a placed
    /// quote), else null.
    pub overrides: Vec<Option<PriceOverrideResult>>,
    /// The sales quote the order was placed against, else null.
    pub placed_quote: Option<PlacedQuoteResult>,
}

/// A line priced otherwise than by the rules, and what the rules give it now.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct PriceOverrideResult {
    /// Where the price comes from.
    #[napi(ts_type = "'manual' | 'quote'")]
    pub origin: String,
    /// The unit price the rules give the line (decimal string), null when they give none.
    pub rules_unit_price: Option<String>,
    /// The line total the rules give it.
    pub rules_line_total: Option<String>,
}

/// The quote an order was placed against.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct PlacedQuoteResult {
    /// The caller's quote number.
    pub number: Option<String>,
    /// The engine the quote was priced with.
    pub engine_version: String,
    /// When it was priced (RFC 3339).
    pub priced_at: String,
    /// Its validity end (RFC 3339).
    pub valid_until: String,
    /// Whether the rules changed since (another engine version places it).
    pub rules_changed: bool,
}

/// A priced sales quote.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct PreparedQuoteResult {
    /// The order as the buyer would pay it; a refused manual price is its line's
    /// `PRICE_BOUND` error.
    pub order: PricedOrderResult,
    /// The signed `tarif/1-quote` document (JSON) to store; null when a line failed.
    pub document: Option<String>,
}

/// The approval decision of an order.
#[napi(object, object_from_js = false)]
pub struct ApprovalResult {
    /// What may happen to the order.
    #[napi(ts_type = "'allowed' | 'needs_approval' | 'refused'")]
    pub decision: String,
    /// Why: the user's role when refused, else the user's limit then each rule by id.
    pub reasons: Vec<ApprovalReasonResult>,
}

/// One reason an order needs approval or is refused.
#[napi(object, object_from_js = false)]
pub struct ApprovalReasonResult {
    /// The rule id, or the user's for `role` and `user_limit`.
    pub rule: String,
    /// The kind of reason.
    #[napi(ts_type = "'total_above' | 'products' | 'cost_centre_budget' | 'user_limit' | 'role'")]
    pub kind: String,
    /// Who may approve.
    pub approvers: ApproversResult,
    /// What the rule saw, in words.
    pub detail: String,
}

/// Who may approve: the role a rule names, and the users who may act on it.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct ApproversResult {
    /// The role, when the rule names approvers by role.
    pub role: Option<String>,
    /// The users, sorted, never the ordering user.
    pub users: Vec<String>,
}

impl From<Approval> for ApprovalResult {
    fn from(approval: Approval) -> Self {
        ApprovalResult {
            decision: approval.decision.as_str().to_string(),
            reasons: approval
                .reasons
                .into_iter()
                .map(|r| ApprovalReasonResult {
                    rule: r.rule,
                    kind: r.kind.to_string(),
                    approvers: ApproversResult {
                        role: r.approvers.role,
                        users: r.approvers.users,
                    },
                    detail: r.detail,
                })
                .collect(),
        }
    }
}

/// An order-level amount.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct AdjustmentResult {
    /// Full id of the condition, `contract-id/id`.
    pub id: String,
    /// `order_discount`, `minimum_order` or `shipping`.
    pub kind: String,
    /// Signed amount added to the subtotal (decimal string).
    pub amount: String,
    /// The delivery address charged (shipping only).
    pub ship_to: Option<String>,
    /// Why, naming the threshold and the subtotal read.
    pub why: String,
}

impl From<&tarif::Adjustment<'_>> for AdjustmentResult {
    fn from(a: &tarif::Adjustment<'_>) -> Self {
        AdjustmentResult {
            id: a.id.to_string(),
            kind: a.kind.as_str().to_string(),
            amount: a.amount.to_string(),
            ship_to: a.ship_to.clone(),
            why: a.why.clone(),
        }
    }
}

/// What one order condition did for an order.
#[napi(object, object_from_js = false)]
pub struct ConditionReportResult {
    /// Full id of the condition.
    pub id: String,
    /// `order_discount`, `minimum_order` or `shipping`.
    pub kind: String,
    /// Whether it applied.
    pub applied: bool,
    /// Why it applied or did not.
    pub reason: String,
}

/// A line of an explained order that has no explanation of its own.
#[napi(object, object_from_js = false)]
pub struct FailedExplanation {
    /// Why the line cannot be explained.
    pub error: LineError,
}

/// Why an order costs what it does.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct OrderExplainResult {
    /// Each line's explanation, or `{error}`.
    #[napi(ts_type = "Array<ExplainResult | FailedExplanation>")]
    pub lines: Vec<Either<ExplainResult, FailedExplanation>>,
    /// Sum of the line totals of the lines that priced (decimal string).
    pub subtotal: String,
    /// Every order condition whose contract speaks to the account: applied, or why not.
    pub conditions: Vec<ConditionReportResult>,
    /// The order-level amounts, as `priceOrder` gives them.
    pub adjustments: Vec<AdjustmentResult>,
    /// Per line, its share of the order discount (decimal strings).
    pub allocated: Vec<String>,
    /// The subtotal plus the adjustments (decimal string).
    pub total: String,
    /// The `MINIMUM_ORDER` error when `priceOrder` refuses the order, else null.
    pub refused: Option<LineError>,
    /// Whether the order may be placed as it is, as `priceOrder` decides it.
    pub approval: ApprovalResult,
}

/// One line of read order text.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct TextLineResult {
    /// 1-based input line (the first, when lines were merged).
    pub line: u32,
    /// Later input lines added into this one.
    pub merged: Vec<u32>,
    /// The reference as written.
    #[napi(js_name = "ref")]
    pub reference: String,
    /// The quantity (decimal string, summed over merged lines); null when it is not a number.
    pub qty: Option<String>,
    /// The product the reference means for the account.
    pub sku: Option<String>,
    /// The cost centre column, when the text has one.
    pub cost_centre: Option<String>,
    /// The delivery address column, when the text has one.
    pub ship_to: Option<String>,
    /// Why the line cannot be ordered as it is.
    pub error: Option<LineError>,
}

/// Order text read and resolved.
#[napi(object, object_from_js = false)]
pub struct OrderTextResult {
    /// `pasted` (`ref qty` lines), or the delimiter: `;`, `,` or a tab.
    pub format: String,
    /// Whether the first line was a header.
    pub header: bool,
    /// The lines, in input order (merged duplicates at their first line).
    pub lines: Vec<TextLineResult>,
}

struct Line {
    reference: String,
    qty: QtyInput,
    cost_centre: Option<String>,
    ship_to: Option<String>,
}

fn read_line(value: Unknown<'_>, index: usize) -> Result<Line, Failure> {
    let field = |name: &str| format!("lines[{index}].{name}");
    let line: OrderLineInput<'_> = input::object(value, &format!("lines[{index}]"))?;
    let reference = line
        .reference
        .or(line.sku)
        .ok_or_else(|| input::type_error(format!("`lines[{index}]` has no `ref`")))?;
    Ok(Line {
        reference: input::text(reference, &field("ref"))?,
        qty: input::qty(line.qty, &field("qty"))?,
        cost_centre: input::optional_text(line.cost_centre, &field("costCentre"))?,
        ship_to: input::optional_text(line.ship_to, &field("shipTo"))?,
    })
}

/// `spent`: an object of cost centre → decimal string (money is never a number).
fn read_spent(value: Option<Unknown<'_>>) -> Result<Vec<(String, Decimal)>, Failure> {
    let Some(value) = input::present(value) else {
        return Ok(Vec::new());
    };
    let map: HashMap<String, String> = input::object(value, "spent")?;
    let mut spent = map
        .into_iter()
        .map(|(cost_centre, amount)| match parse_decimal(&amount) {
            Some(d) => Ok((cost_centre, d)),
            None => Err(Failure::Input(
                InputCode::InvalidType,
                format!("`spent.{cost_centre}` must be a decimal string, got `{amount}`"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    spent.sort();
    Ok(spent)
}

/// The order as received: account, lines, instant, currency, and who places it.
struct ReadOrder {
    account: String,
    lines: Vec<Line>,
    at: At,
    currency: Option<String>,
    user: Option<String>,
    spent: Vec<(String, Decimal)>,
}

impl ReadOrder {
    fn read(value: Unknown<'_>) -> Result<Self, Failure> {
        let order: OrderInput<'_> = input::object(value, "input")?;
        let account = input::text(order.account, "account")?;
        let lines = input::elements(order.lines, "lines")?
            .into_iter()
            .enumerate()
            .map(|(i, v)| read_line(v, i))
            .collect::<Result<Vec<_>, _>>()?;
        let at: At = input::at(order.at, "at")?;
        let currency = input::optional_text(order.currency, "currency")?;
        let user = input::optional_text(order.user, "user")?;
        let spent = read_spent(order.spent)?;
        Ok(ReadOrder {
            account,
            lines,
            at,
            currency,
            user,
            spent,
        })
    }

    fn wire(&self) -> wire::OrderInput<'_> {
        wire::OrderInput {
            account: &self.account,
            lines: self
                .lines
                .iter()
                .map(|l| wire::OrderLineInput {
                    reference: &l.reference,
                    qty: l.qty.clone(),
                    cost_centre: l.cost_centre.as_deref(),
                    ship_to: l.ship_to.as_deref(),
                })
                .collect(),
            at: self.at.wire(),
            currency: self.currency.as_deref(),
            user: self.user.as_deref(),
            spent: self.spent.iter().map(|(cc, d)| (cc.as_str(), *d)).collect(),
        }
    }
}

fn strings(values: &[tarif::Decimal]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

pub fn price_order(engine: &Core, value: Unknown<'_>) -> Result<PricedOrderResult, Failure> {
    let order = ReadOrder::read(value)?;
    Ok(order_result(order.wire().price(engine)?))
}

fn order_result(priced: PricedOrder<'_>) -> PricedOrderResult {
    let failed_lines = u32::try_from(priced.failed_lines()).unwrap_or(u32::MAX);
    PricedOrderResult {
        subtotal: priced.subtotal.to_string(),
        adjustments: priced.adjustments.iter().map(Into::into).collect(),
        allocated: strings(&priced.allocated),
        total: priced.total.to_string(),
        currency: priced.currency.to_string(),
        at: priced.at.to_string(),
        failed_lines,
        engine_version: priced.engine_version.to_string(),
        approval: priced.approval.into(),
        overrides: priced
            .overrides
            .iter()
            .map(|o| {
                o.map(|o| PriceOverrideResult {
                    origin: o.origin.as_str().to_string(),
                    rules_unit_price: o.rules_unit_price.map(|p| p.to_string()),
                    rules_line_total: o.rules_line_total.map(|p| p.to_string()),
                })
            })
            .collect(),
        placed_quote: priced.placed_quote.map(|q| PlacedQuoteResult {
            number: q.number.map(str::to_string),
            engine_version: q.engine_version.to_string(),
            priced_at: q.priced_at.to_string(),
            valid_until: q.valid_until.to_string(),
            rules_changed: q.rules_changed,
        }),
        lines: priced
            .lines
            .into_iter()
            .map(|line| match line {
                Ok(q) => Either::A(q.into()),
                Err(e) => Either::B(FailedLine { error: (&e).into() }),
            })
            .collect(),
    }
}

/// A signing key: a string (its UTF-8 bytes) or a Buffer.
fn read_key(value: Unknown<'_>) -> Result<Vec<u8>, Failure> {
    if value.get_type().ok() == Some(napi::ValueType::String) {
        return Ok(input::text(value, "key")?.into_bytes());
    }
    if value.is_buffer().unwrap_or(false) {
        return Buffer::from_unknown(value)
            .map(|b| b.to_vec())
            .map_err(|e| input::type_error(format!("`key`: {e}")));
    }
    Err(input::type_error(
        "`key` must be a string or a Buffer".to_string(),
    ))
}

/// `manualPrices`: per line a decimal string, or null / undefined for the rules' price.
fn read_manual_prices(value: Option<Unknown<'_>>) -> Result<Vec<Option<Decimal>>, Failure> {
    let Some(value) = input::present(value) else {
        return Ok(Vec::new());
    };
    input::elements(value, "manualPrices")?
        .into_iter()
        .enumerate()
        .map(|(i, price)| {
            let field = format!("manualPrices[{i}]");
            match price.get_type() {
                Ok(napi::ValueType::Undefined | napi::ValueType::Null) => Ok(None),
                Ok(napi::ValueType::Number) => Err(Failure::Input(
                    InputCode::FloatRejected,
                    format!("`{field}` is a number: money is a decimal string"),
                )),
                _ => {
                    let text = input::text(price, &field)?;
                    parse_decimal(&text).map(Some).ok_or_else(|| {
                        input::type_error(format!(
                            "`{field}` must be a decimal string, got `{text}`"
                        ))
                    })
                }
            }
        })
        .collect()
}

pub fn prepare_quote(engine: &Core, value: Unknown<'_>) -> Result<PreparedQuoteResult, Failure> {
    let order = ReadOrder::read(value)?;
    let args: QuoteDraftArgs<'_> = input::object(value, "input")?;
    let valid_until = input::one_at(args.valid_until, "validUntil")?;
    let key = read_key(args.key)?;
    let number = input::optional_text(args.number, "number")?;
    let draft = wire::QuoteDraftInput {
        order: order.wire(),
        manual_prices: read_manual_prices(args.manual_prices)?,
        valid_until: valid_until.wire(),
        number: number.as_deref(),
    };
    let prepared = draft.prepare(engine, &key)?;
    Ok(PreparedQuoteResult {
        order: order_result(prepared.order),
        document: prepared.document,
    })
}

pub fn place_quote(engine: &Core, value: Unknown<'_>) -> Result<PricedOrderResult, Failure> {
    let args: PlaceQuoteArgs<'_> = input::object(value, "input")?;
    let document = input::text(args.document, "document")?;
    let key = read_key(args.key)?;
    let at = input::at(args.at, "at")?;
    let user = input::optional_text(args.user, "user")?;
    let spent = read_spent(args.spent)?;
    let quote = SalesQuote::verify(&document, &key)?;
    let placing = wire::PlacingInput {
        at: at.wire(),
        user: user.as_deref(),
        spent: spent.iter().map(|(cc, d)| (cc.as_str(), *d)).collect(),
    };
    let placed = placing.place(engine, &quote)?;
    Ok(order_result(placed))
}

pub fn explain_order(engine: &Core, value: Unknown<'_>) -> Result<OrderExplainResult, Failure> {
    let order = ReadOrder::read(value)?;
    let explained = order.wire().explain(engine)?;
    Ok(OrderExplainResult {
        lines: explained
            .lines
            .into_iter()
            .map(|line| match line {
                Ok(e) => Either::A(e.into()),
                Err(e) => Either::B(FailedExplanation { error: (&e).into() }),
            })
            .collect(),
        subtotal: explained.subtotal.to_string(),
        conditions: explained
            .conditions
            .iter()
            .map(|c| ConditionReportResult {
                id: c.id.to_string(),
                kind: c.kind.as_str().to_string(),
                applied: c.applied,
                reason: c.reason.clone(),
            })
            .collect(),
        adjustments: explained.adjustments.iter().map(Into::into).collect(),
        allocated: strings(&explained.allocated),
        total: explained.total.to_string(),
        refused: explained.refused.as_ref().map(LineError::from),
        approval: explained.approval.into(),
    })
}

pub fn parse_order_lines(engine: &Core, value: Unknown<'_>) -> Result<OrderTextResult, Failure> {
    let args: OrderTextArgs<'_> = input::object(value, "input")?;
    let account = input::text(args.account, "account")?;
    let text = input::text(args.text, "text")?;
    let at = input::at(args.at, "at")?;
    let merge_duplicates = input::optional_bool(args.merge_duplicates, "mergeDuplicates")?;
    let parsed = OrderTextInput {
        account: &account,
        text: &text,
        at: at.wire(),
        merge_duplicates: merge_duplicates.unwrap_or(true),
    }
    .parse(engine)?;
    Ok(OrderTextResult {
        format: match parsed.format {
            LineFormat::Pasted => "pasted".to_string(),
            LineFormat::Delimited(d) => char::from(d).to_string(),
        },
        header: parsed.header,
        lines: parsed
            .lines
            .into_iter()
            .map(|l| TextLineResult {
                line: l.line,
                merged: l.merged,
                reference: l.reference,
                qty: l.qty.map(|q| q.to_string()),
                sku: l.sku.map(str::to_string),
                cost_centre: l.cost_centre,
                ship_to: l.ship_to,
                error: l.error.as_ref().map(LineError::from),
            })
            .collect(),
    })
}
