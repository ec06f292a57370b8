//! Results as JavaScript sees them: camelCase fields, decimals as exact strings.

use napi_derive::napi;
use tarif::model::RoundingStage;
use tarif::{Capabilities, Explanation, Quote};

/// A priced line. Money and quantities are decimal strings, printed at the scale the rounding
/// gave them.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct QuoteResult {
    /// The product's SKU (whatever reference was asked for).
    pub sku: String,
    /// The quantity priced.
    pub qty: String,
    /// Currency code.
    pub currency: String,
    /// Unit price.
    pub unit_price: String,
    /// Line total.
    pub line_total: String,
    /// Price after the first step of the procedure, rounded like the unit price.
    pub base_price: String,
    /// What the everyone level alone gives ("public price"); null when it gives none.
    pub list_price: Option<String>,
    /// Whether the account may order the product.
    pub buyable: bool,
    /// Rounding stage used: `unit` or `line`.
    #[napi(ts_type = "'unit' | 'line'")]
    pub stage: String,
    /// The rules that applied, in order.
    pub steps: Vec<QuoteStep>,
    /// Version of the engine that priced the line.
    pub engine_version: String,
}

/// One applied rule of a quote.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct QuoteStep {
    /// Procedure step name.
    pub step: String,
    /// Full id: `contract-id/rule-id` or `list-id/sku`.
    pub rule: String,
    /// `contract X` or `price list Y`.
    pub source: String,
    /// Audience level it applied at: `account X`, `ancestor X (+1)`, `segment X`, `everyone`.
    pub level: String,
    /// Unit value before (null in the first step).
    pub before: Option<String>,
    /// Unit value after.
    pub after: String,
    /// Remarks: `exclusive`, `graduated`, `tier`, `derived`, `never_raise`, `clamped`.
    pub notes: Vec<String>,
}

impl From<Quote<'_>> for QuoteResult {
    fn from(q: Quote<'_>) -> Self {
        QuoteResult {
            sku: q.sku.to_string(),
            qty: q.qty.to_string(),
            currency: q.currency.to_string(),
            unit_price: q.unit_price.to_string(),
            line_total: q.line_total.to_string(),
            base_price: q.base_price.to_string(),
            list_price: q.list_price.map(|p| p.to_string()),
            buyable: q.buyable,
            stage: match q.stage {
                RoundingStage::Unit => "unit",
                RoundingStage::Line => "line",
            }
            .to_string(),
            steps: q
                .steps
                .iter()
                .map(|s| QuoteStep {
                    step: s.step.to_string(),
                    rule: s.rule.to_string(),
                    source: s.source.to_string(),
                    level: s.level.to_string(),
                    before: s.before.map(|b| b.to_string()),
                    after: s.after.to_string(),
                    notes: s.notes.names().map(str::to_string).collect(),
                })
                .collect(),
            engine_version: q.engine_version.to_string(),
        }
    }
}

/// What an account may do with a product; each capability implies the previous one.
#[napi(object, object_from_js = false)]
pub struct CapabilitiesResult {
    /// The product exists for the account.
    pub see: bool,
    /// The account may see its price.
    pub price: bool,
    /// The account may order it.
    pub buy: bool,
}

impl From<Capabilities> for CapabilitiesResult {
    fn from(c: Capabilities) -> Self {
        CapabilitiesResult {
            see: c.see,
            price: c.price,
            buy: c.buy,
        }
    }
}

/// Which rule decided each capability (null: the document's default).
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct DecidedBy {
    /// Rule behind `see`.
    pub see: Option<String>,
    /// Rule behind `price`.
    pub price: Option<String>,
    /// Rule behind `buy`.
    pub buy: Option<String>,
}

/// The visibility decision of an explanation.
#[napi(object, object_from_js = false)]
pub struct VisibilityReport {
    /// Capabilities after implications.
    pub allowed: CapabilitiesResult,
    /// The rule that decided each capability, before implications.
    pub decided_by: DecidedBy,
}

/// A rule that spoke to the product in a step.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct CandidateReport {
    /// Full id (`contract/rule` or `list/sku`).
    pub rule: String,
    /// `contract X` or `price list Y`.
    pub source: String,
    /// Audience level it reached the account at.
    pub level: String,
    /// Its priority.
    pub priority: i64,
    /// Selector specificity `rank.depth.members`.
    pub specificity: String,
    /// Unit result on the running price, when it was a candidate.
    pub result: Option<String>,
    /// Whether it applied.
    pub applied: bool,
    /// Why it applied, lost, or was not a candidate.
    pub reason: String,
}

/// One step of the procedure in an explanation.
#[napi(object, object_from_js = false)]
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

/// The outcome of an explained quote: the prices, or the error the quote gives.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct ExplainOutcome {
    /// Whether the quote succeeds.
    pub ok: bool,
    /// Unit price, when `ok`.
    pub unit_price: Option<String>,
    /// Line total, when `ok`.
    pub line_total: Option<String>,
    /// Error code, when not `ok`.
    pub code: Option<String>,
    /// Error message, when not `ok`.
    pub message: Option<String>,
}

/// Why a price is what it is: the trusted back-office view.
#[napi(object, object_from_js = false)]
pub struct ExplainResult {
    /// Account id.
    pub account: String,
    /// The product's SKU.
    pub sku: String,
    /// Quantity.
    pub qty: String,
    /// Instant of the price, RFC 3339 in UTC.
    pub at: String,
    /// Request currency.
    pub currency: String,
    /// The visibility decision and the rules behind it.
    pub visibility: VisibilityReport,
    /// Every step of the procedure.
    pub steps: Vec<StepReport>,
    /// What the quote gives.
    pub outcome: ExplainOutcome,
    /// The same explanation as readable text (the core's rendering).
    pub text: String,
}

impl From<Explanation> for ExplainResult {
    fn from(e: Explanation) -> Self {
        let text = e.to_string();
        let [see, price, buy] = e.visibility.allowed;
        let [see_by, price_by, buy_by] = e.visibility.decided_by;
        let outcome = match e.outcome {
            Ok((unit, line)) => ExplainOutcome {
                ok: true,
                unit_price: Some(unit.to_string()),
                line_total: Some(line.to_string()),
                code: None,
                message: None,
            },
            Err((code, message)) => ExplainOutcome {
                ok: false,
                unit_price: None,
                line_total: None,
                code: Some(code),
                message: Some(message),
            },
        };
        ExplainResult {
            account: e.account,
            sku: e.sku,
            qty: e.qty.to_string(),
            at: e.at.to_string(),
            currency: e.currency,
            visibility: VisibilityReport {
                allowed: CapabilitiesResult { see, price, buy },
                decided_by: DecidedBy {
                    see: see_by,
                    price: price_by,
                    buy: buy_by,
                },
            },
            steps: e
                .steps
                .into_iter()
                .map(|s| StepReport {
                    step: s.step,
                    select: s.select,
                    skipped: s.skipped,
                    candidates: s
                        .candidates
                        .into_iter()
                        .map(|c| CandidateReport {
                            rule: c.rule,
                            source: c.source,
                            level: c.level,
                            priority: c.priority,
                            specificity: c.specificity,
                            result: c.result.map(|r| r.to_string()),
                            applied: c.applied,
                            reason: c.reason,
                        })
                        .collect(),
                })
                .collect(),
            outcome,
            text,
        }
    }
}

/// Columns of a priced batch, row for row with the input. Failed rows have their error code in
/// `status`, zero amounts and an empty currency.
#[napi(object, object_from_js = false)]
pub struct BatchOutput {
    /// `OK` or the row's error code (`UNKNOWN_PRODUCT`, `NO_PRICE`, …).
    pub status: Vec<String>,
    /// Unit prices.
    pub unit_price: Vec<String>,
    /// Line totals.
    pub line_total: Vec<String>,
    /// Currency codes.
    pub currency: Vec<String>,
}
