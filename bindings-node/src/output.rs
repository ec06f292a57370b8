//! Results as JavaScript sees them: camelCase fields, decimals as exact strings.

use std::collections::BTreeMap;
use std::fmt::Write;

use napi_derive::napi;

use tarif::{Capabilities, Decimal, Explanation, Notes, Quote, Status};

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
    /// What ships now and what is backordered; null when the product's stock is not tracked.
    /// Stock never changes the price.
    pub stock: Option<StockResult>,
}

/// The stock side of a quote.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct StockResult {
    /// The part of the quantity that can ship now: min(qty, total on hand).
    pub available: String,
    /// The rest of the quantity (zero or more).
    pub backorder: String,
    /// Days until the backorder ships; null when nothing is backordered or it is unknown.
    pub lead_time_days: Option<u32>,
    /// Stock on hand per warehouse, as the record gives it (empty when the product is not
    /// tracked per warehouse).
    pub warehouses: Vec<WarehouseStock>,
}

/// A product's stock in one warehouse.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct WarehouseStock {
    /// Warehouse id.
    pub id: String,
    /// Quantity on hand there.
    pub available: String,
    /// Days to restock from there; null when unknown.
    pub lead_time_days: Option<u32>,
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

/// A quote as the array the package's `quote` (quote.cjs) builds its [`QuoteResult`] from: its
/// fields' values in their order but for the engine version, which comes before the steps as
/// in [`quote_text`]; each step an array of [`QuoteStep`]'s. N-API builds
/// an object by setting its properties one by one, each under a name V8 must look up in its
/// string table, and for a quote that cost several times the quote itself; a JavaScript object
/// literal of a fixed shape costs next to nothing.
pub type QuoteTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    &'static str,
    String,
    Vec<StepTuple>,
    Option<StockResult>,
);

/// A [`QuoteStep`] as an array of its fields' values, in order.
pub type StepTuple = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Vec<&'static str>,
);

/// Separates the values of a quote's text ([`quote_text`]).
const SEPARATOR: char = '\u{1f}';
/// The value of a null field in a quote's text.
const NULL: &str = "\u{0}";

/// A quote as one text, the values of [`quote_tuple`] in the same order separated by U+001F,
/// steps flattened after the engine version and no stock, `buyable` as `1` or `0`, a null as U+0000 and the notes joined by commas:
/// creating one string and splitting it in JavaScript costs a fraction of creating two dozen
/// values and setting each into an array. `None` for a quote with stock (an object) or one
/// with a value the text could not carry (holding U+001F or U+0000), which take the tuple.
pub fn quote_text(q: &Quote<'_>) -> Option<String> {
    if q.stock.is_some() {
        return None;
    }
    let mut text = String::with_capacity(160 + 96 * q.steps.len());
    let mut readable = true;
    let mut push = |value: Value<'_>| {
        let start = text.len();
        // Writing into a `String` cannot fail.
        match value {
            Value::Text(value) => text.push_str(value),
            Value::Shown(value) => {
                let _ = write!(text, "{value}");
            }
            Value::Decimal(Some(value)) => tarif::money::push_decimal(&mut text, value),
            Value::Decimal(None) => text.push_str(NULL),
            Value::Notes(notes) => {
                for (k, name) in notes.names().enumerate() {
                    if k > 0 {
                        text.push(',');
                    }
                    text.push_str(name);
                }
            }
        }
        if let Value::Text(_) | Value::Shown(_) = value {
            readable &= !text
                .get(start..)
                .unwrap_or("")
                .contains([SEPARATOR, '\u{0}']);
        }
        text.push(SEPARATOR);
    };
    push(Value::Text(q.sku));
    push(Value::Decimal(Some(q.qty)));
    push(Value::Text(q.currency));
    push(Value::Decimal(Some(q.unit_price)));
    push(Value::Decimal(Some(q.line_total)));
    push(Value::Decimal(Some(q.base_price)));
    push(Value::Decimal(q.list_price));
    push(Value::Text(if q.buyable { "1" } else { "0" }));
    push(Value::Text(q.stage.as_str()));
    push(Value::Text(q.engine_version));
    for s in q.steps.iter() {
        push(Value::Text(s.step));
        push(Value::Shown(&s.rule));
        push(Value::Shown(&s.source));
        push(Value::Shown(&s.level));
        push(Value::Decimal(s.before));
        push(Value::Decimal(Some(s.after)));
        push(Value::Notes(s.notes));
    }
    text.pop();
    readable.then_some(text)
}

/// A value of a quote's text: texts may hold anything and are checked; decimals and notes
/// cannot hold the separator.
#[derive(Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    Shown(&'a dyn std::fmt::Display),
    Decimal(Option<Decimal>),
    Notes(Notes),
}

/// The values of a quote, in the order of [`QuoteTuple`].
pub fn quote_tuple(q: Quote<'_>) -> QuoteTuple {
    (
        q.sku.to_string(),
        q.qty.to_string(),
        q.currency.to_string(),
        q.unit_price.to_string(),
        q.line_total.to_string(),
        q.base_price.to_string(),
        q.list_price.map(|p| p.to_string()),
        q.buyable,
        q.stage.as_str(),
        q.engine_version.to_string(),
        q.steps
            .iter()
            .map(|s| {
                (
                    s.step.to_string(),
                    s.rule.to_string(),
                    s.source.to_string(),
                    s.level.to_string(),
                    s.before.map(|b| b.to_string()),
                    s.after.to_string(),
                    s.notes.names().collect(),
                )
            })
            .collect(),
        q.stock.map(|s| StockResult {
            available: s.available.to_string(),
            backorder: s.backorder.to_string(),
            lead_time_days: s.lead_time_days,
            warehouses: s
                .warehouses
                .iter()
                .map(|w| WarehouseStock {
                    id: w.id.to_string(),
                    available: w.available.to_string(),
                    lead_time_days: w.lead_time_days,
                })
                .collect(),
        }),
    )
}

impl From<Quote<'_>> for QuoteResult {
    fn from(q: Quote<'_>) -> Self {
        let (
            sku,
            qty,
            currency,
            unit_price,
            line_total,
            base_price,
            list_price,
            buyable,
            stage,
            engine_version,
            steps,
            stock,
        ) = quote_tuple(q);
        QuoteResult {
            sku,
            qty,
            currency,
            unit_price,
            line_total,
            base_price,
            list_price,
            buyable,
            stage: stage.to_string(),
            steps: steps
                .into_iter()
                .map(
                    |(step, rule, source, level, before, after, notes)| QuoteStep {
                        step,
                        rule,
                        source,
                        level,
                        before,
                        after,
                        notes: notes.into_iter().map(str::to_string).collect(),
                    },
                )
                .collect(),
            engine_version,
            stock,
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
/// `status`, null amounts and an empty currency.
#[napi(object, object_from_js = false)]
pub struct BatchOutput {
    /// `OK` or the row's error code (`UNKNOWN_PRODUCT`, `NO_PRICE`, …).
    pub status: Vec<String>,
    /// Unit prices; null for a failed row.
    #[napi(ts_type = "Array<string | null>")]
    pub unit_price: Vec<Option<String>>,
    /// Line totals; null for a failed row.
    #[napi(ts_type = "Array<string | null>")]
    pub line_total: Vec<Option<String>>,
    /// Currency codes.
    pub currency: Vec<String>,
    /// Whether the account may buy the product (as a quote's `buyable`); null for a failed row.
    #[napi(ts_type = "Array<boolean | null>")]
    pub buyable: Vec<Option<bool>>,
}

/// One page of a search.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct SearchPage {
    /// The rows of the page, in the query's order.
    pub rows: Vec<SearchRow>,
    /// Rows in the whole result (a family counts once when variants are grouped).
    pub total: i64,
    /// Cursor of the next page (pass it as `query.cursor`); null on the last page.
    pub next: Option<String>,
    /// The requested facets, in request order.
    pub facets: Vec<FacetCounts>,
}

/// A row: a product, or with `groupVariants` a family (led by its first matching variant) or a
/// product without family.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct SearchRow {
    /// The product's SKU, or for a family row the SKU of its leading variant.
    pub sku: String,
    /// Display name of that product.
    pub name: Option<String>,
    /// Its brand.
    pub brand: Option<String>,
    /// Its family.
    pub family: Option<String>,
    /// What the account may do with that product.
    pub capabilities: CapabilitiesResult,
    /// With `groupVariants`, the family's matching variants by SKU (the product alone when it
    /// has no family); otherwise empty.
    pub variants: Vec<Variant>,
    /// Its price for `priceQty`; null when no price was asked for.
    pub price: Option<RowPrice>,
}

/// One variant of a family row.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct Variant {
    /// SKU.
    pub sku: String,
    /// Its axes (`{voltage: '18V'}`), by axis name.
    pub axes: BTreeMap<String, String>,
    /// What the account may do with it.
    pub capabilities: CapabilitiesResult,
    /// Its price for `priceQty`; null when no price was asked for.
    pub price: Option<RowPrice>,
}

/// A row's price from the batch path: `status` is `OK` or the code its quote fails with
/// (`PRICE_HIDDEN`, `NO_PRICE`, `QUANTITY_RULE`…); the amounts and currency are then null.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct RowPrice {
    /// `OK` or the quote's error code.
    pub status: String,
    /// Unit price, exactly the quote's.
    pub unit_price: Option<String>,
    /// Line total for the quantity.
    pub line_total: Option<String>,
    /// Currency code.
    pub currency: Option<String>,
}

/// The counts of one facet: how many visible matching products each value would give (the
/// facet's own filters left out).
#[napi(object, object_from_js = false)]
pub struct FacetCounts {
    /// Which kind of facet.
    #[napi(ts_type = "'attr' | 'brand' | 'category' | 'family'")]
    pub kind: String,
    /// The attribute's name, or the kind for the others.
    pub name: String,
    /// Values with at least one product, and the values the query selects (even at zero), in
    /// the index's value order (numbers ascending, then texts, then booleans).
    pub values: Vec<FacetValue>,
}

/// How many matching products have one value of a facet.
#[napi(object, object_from_js = false)]
pub struct FacetValue {
    /// The value as text (a number in canonical decimal form, a category id, a brand…).
    pub value: String,
    /// Visible matching products with it.
    pub count: i64,
}

/// A product linked to another one, that the account may see.
#[napi(object, object_from_js = false)]
pub struct RelatedProduct {
    /// SKU.
    pub sku: String,
    /// What the account may do with it.
    pub capabilities: CapabilitiesResult,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<tarif::RowPrice> for RowPrice {
    fn from(p: tarif::RowPrice) -> Self {
        let ok = p.status == Status::Ok;
        RowPrice {
            status: p.status.code().to_string(),
            unit_price: ok.then(|| p.unit_price.to_string()),
            line_total: ok.then(|| p.line_total.to_string()),
            currency: ok.then_some(p.currency),
        }
    }
}

impl From<tarif::SearchPage> for SearchPage {
    fn from(page: tarif::SearchPage) -> Self {
        SearchPage {
            rows: page
                .rows
                .into_iter()
                .map(|r| SearchRow {
                    sku: r.sku,
                    name: r.name,
                    brand: r.brand,
                    family: r.family,
                    capabilities: r.capabilities.into(),
                    variants: r
                        .variants
                        .into_iter()
                        .map(|v| Variant {
                            sku: v.sku,
                            axes: v.axes.into_iter().collect(),
                            capabilities: v.capabilities.into(),
                            price: v.price.map(RowPrice::from),
                        })
                        .collect(),
                    price: r.price.map(RowPrice::from),
                })
                .collect(),
            total: count(page.total),
            next: page.next.map(|c| c.to_string()),
            facets: page
                .facets
                .into_iter()
                .map(|f| {
                    let (kind, name) = match f.facet {
                        tarif::Facet::Attr(name) => ("attr", name),
                        tarif::Facet::Brand => ("brand", "brand".to_string()),
                        tarif::Facet::Category => ("category", "category".to_string()),
                        tarif::Facet::Family => ("family", "family".to_string()),
                        tarif::Facet::InStock => ("in_stock", "in_stock".to_string()),
                    };
                    FacetCounts {
                        kind: kind.to_string(),
                        name,
                        values: f
                            .values
                            .into_iter()
                            .map(|v| FacetValue {
                                value: v.value,
                                count: count(v.count),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}

impl From<tarif::RelatedProduct> for RelatedProduct {
    fn from(r: tarif::RelatedProduct) -> Self {
        RelatedProduct {
            sku: r.sku,
            capabilities: r.capabilities.into(),
        }
    }
}
