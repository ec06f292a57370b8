//! `price_order` and `parse_order_lines`: Python lines in, the core's order out, as frozen
//! objects. A failed line is a `LineError` value in the result, not an exception: one bad line
//! never fails the order.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyMapping, PyTuple};
use tarif::wire::{
    InputCode, OrderInput, OrderLineInput, OrderTextInput, PlacingInput, QtyInput, QuoteDraftInput,
};
use tarif::{Approval, Decimal, LineFormat, PriceOverride, QueryError, SalesQuote};

use crate::convert::{self, to_datetime, to_decimal, to_optional_decimal, type_name, At};
use crate::errors::{input, query_details, Result};
use crate::objects::{Explanation, Quote};

/// One order line as given: `(ref, qty)` or a mapping with `ref` (or `sku`), `qty`, and
/// optionally `cost_centre` and `ship_to`.
pub(crate) struct Line {
    reference: String,
    qty: QtyInput,
    cost_centre: Option<String>,
    ship_to: Option<String>,
}

impl Line {
    fn read(value: &Bound<'_, PyAny>, index: usize) -> Result<Line> {
        let what = |field: &str| format!("lines[{index}].{field}");
        if let Ok(mapping) = value.cast::<PyMapping>() {
            let get = |key: &str| -> Result<Option<Bound<'_, PyAny>>> {
                Ok(match mapping.contains(key)? {
                    true => Some(mapping.get_item(key)?),
                    false => None,
                })
            };
            let reference = get("ref")?.or(get("sku")?).ok_or_else(|| {
                input(
                    InputCode::InvalidType,
                    format!("`lines[{index}]` has no `ref`"),
                )
            })?;
            let qty = get("qty")?.ok_or_else(|| {
                input(
                    InputCode::InvalidType,
                    format!("`lines[{index}]` has no `qty`"),
                )
            })?;
            return Ok(Line {
                reference: convert::text(&reference, &what("ref"))?,
                qty: convert::quantity(&qty)?,
                cost_centre: convert::optional_text(
                    get("cost_centre")?.as_ref(),
                    &what("cost_centre"),
                )?,
                ship_to: convert::optional_text(get("ship_to")?.as_ref(), &what("ship_to"))?,
            });
        }
        if let Ok(tuple) = value.cast::<PyTuple>() {
            if tuple.len() == 2 {
                return Ok(Line {
                    reference: convert::text(&tuple.get_item(0)?, &what("ref"))?,
                    qty: convert::quantity(&tuple.get_item(1)?)?,
                    cost_centre: None,
                    ship_to: None,
                });
            }
        }
        Err(input(
            InputCode::InvalidType,
            format!(
                "`lines[{index}]` must be a (ref, qty) tuple or a mapping with `ref` and `qty`, not {}",
                type_name(value)
            ),
        ))
    }

    fn wire(&self) -> OrderLineInput<'_> {
        OrderLineInput {
            reference: &self.reference,
            qty: self.qty.clone(),
            cost_centre: self.cost_centre.as_deref(),
            ship_to: self.ship_to.as_deref(),
        }
    }
}

/// Reads every line of an iterable of lines.
pub(crate) fn read_lines(lines: &Bound<'_, PyAny>) -> Result<Vec<Line>> {
    lines
        .try_iter()
        .map_err(|_| {
            input(
                InputCode::InvalidType,
                format!(
                    "`lines` must be an iterable of lines, not {}",
                    type_name(lines)
                ),
            )
        })?
        .enumerate()
        .map(|(i, line)| Line::read(&line?, i))
        .collect()
}

/// Reads `spent`: a mapping of cost centre to an exact amount spent to date.
pub(crate) fn read_spent(spent: Option<&Bound<'_, PyAny>>) -> Result<Vec<(String, Decimal)>> {
    let Some(spent) = spent.filter(|s| !s.is_none()) else {
        return Ok(Vec::new());
    };
    let mapping = spent.cast::<PyMapping>().map_err(|_| {
        input(
            InputCode::InvalidType,
            format!(
                "`spent` must be a mapping of cost centre to amount, not {}",
                type_name(spent)
            ),
        )
    })?;
    let mut out = Vec::new();
    for item in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let cost_centre = convert::text(&key, "a cost centre of `spent`")?;
        let what = format!("`spent[{cost_centre:?}]`");
        match convert::exact_number(&value, &what)? {
            QtyInput::Decimal(amount) => out.push((cost_centre, amount)),
            QtyInput::Unreadable(text) => {
                return Err(input(
                    InputCode::InvalidType,
                    format!("{what} must be a decimal amount, not `{text}`"),
                ))
            }
        }
    }
    Ok(out)
}

/// Who orders and what the cost centres spent, for the approval decision.
#[derive(Default)]
pub(crate) struct Placing {
    pub(crate) user: Option<String>,
    pub(crate) spent: Vec<(String, Decimal)>,
}

impl Placing {
    pub(crate) fn read(
        user: Option<&Bound<'_, PyAny>>,
        spent: Option<&Bound<'_, PyAny>>,
    ) -> Result<Placing> {
        Ok(Placing {
            user: convert::optional_text(user, "user")?,
            spent: read_spent(spent)?,
        })
    }

    fn spent(&self) -> Vec<(&str, Decimal)> {
        self.spent
            .iter()
            .map(|(cc, amount)| (cc.as_str(), *amount))
            .collect()
    }
}

/// An order's arguments as `price_order`, `explain_order` and `prepare_quote` take them.
pub(crate) struct OrderArgs {
    account: String,
    lines: Vec<Line>,
    at: At,
    currency: Option<String>,
    placing: Placing,
}

impl OrderArgs {
    pub(crate) fn read(
        account: &Bound<'_, PyAny>,
        lines: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&Bound<'_, PyAny>>,
        user: Option<&Bound<'_, PyAny>>,
        spent: Option<&Bound<'_, PyAny>>,
    ) -> Result<OrderArgs> {
        Ok(OrderArgs {
            account: convert::text(account, "account")?,
            lines: read_lines(lines)?,
            at: At::read(at)?,
            currency: convert::optional_text(currency, "currency")?,
            placing: Placing::read(user, spent)?,
        })
    }

    fn wire(&self) -> OrderInput<'_> {
        OrderInput {
            account: &self.account,
            lines: self.lines.iter().map(Line::wire).collect(),
            at: self.at.wire(),
            currency: self.currency.as_deref(),
            user: self.placing.user.as_deref(),
            spent: self.placing.spent(),
        }
    }
}

/// Prices the order.
pub(crate) fn price_order(
    engine: &tarif::Engine,
    version: &Arc<str>,
    order: &OrderArgs,
) -> Result<PricedOrder> {
    Ok(PricedOrder::new(&order.wire().price(engine)?, version))
}

/// A sales rep's draft: the order, the manual unit prices and the quote's validity end.
pub(crate) struct Draft {
    pub(crate) manual_prices: Vec<Option<Decimal>>,
    pub(crate) valid_until: At,
    pub(crate) number: Option<String>,
    pub(crate) key: Vec<u8>,
}

/// Reads `manual_prices`: per line an exact amount or `None`.
pub(crate) fn read_manual_prices(
    prices: Option<&Bound<'_, PyAny>>,
) -> Result<Vec<Option<Decimal>>> {
    let Some(prices) = prices.filter(|p| !p.is_none()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, price) in prices.try_iter()?.enumerate() {
        let price = price?;
        if price.is_none() {
            out.push(None);
            continue;
        }
        let what = format!("`manual_prices[{i}]`");
        match convert::exact_number(&price, &what)? {
            QtyInput::Decimal(amount) => out.push(Some(amount)),
            QtyInput::Unreadable(text) => {
                return Err(input(
                    InputCode::InvalidType,
                    format!("{what} must be a decimal amount, not `{text}`"),
                ))
            }
        }
    }
    Ok(out)
}

/// Reads a signing key: `bytes`, or a `str` taken as its UTF-8 bytes.
pub(crate) fn read_key(key: &Bound<'_, PyAny>) -> Result<Vec<u8>> {
    if let Ok(bytes) = key.extract::<Vec<u8>>() {
        if !key.is_instance_of::<pyo3::types::PyString>() {
            return Ok(bytes);
        }
    }
    if let Ok(text) = key.extract::<String>() {
        return Ok(text.into_bytes());
    }
    Err(input(
        InputCode::InvalidType,
        format!("`key` must be bytes or a str, not {}", type_name(key)),
    ))
}

/// Prices the order as a sales quote and signs its document.
pub(crate) fn prepare_quote(
    engine: &tarif::Engine,
    version: &Arc<str>,
    order: &OrderArgs,
    draft: &Draft,
) -> Result<(PricedOrder, Option<String>)> {
    let input = QuoteDraftInput {
        order: order.wire(),
        manual_prices: draft.manual_prices.clone(),
        valid_until: draft.valid_until.wire(),
        number: draft.number.as_deref(),
    };
    let prepared = input.prepare(engine, &draft.key)?;
    Ok((
        PricedOrder::new(&prepared.order, version),
        prepared.document,
    ))
}

/// Places the order of a signed quote document at its prices.
pub(crate) fn place_quote(
    engine: &tarif::Engine,
    version: &Arc<str>,
    document: &str,
    key: &[u8],
    at: &At,
    placing: &Placing,
) -> Result<PricedOrder> {
    let quote = SalesQuote::verify(document, key)?;
    let input = PlacingInput {
        at: at.wire(),
        user: placing.user.as_deref(),
        spent: placing.spent(),
    };
    let priced = input.place(engine, &quote)?;
    Ok(PricedOrder::new(&priced, version))
}

/// Explains the order.
pub(crate) fn explain_order(engine: &tarif::Engine, order: &OrderArgs) -> Result<OrderExplanation> {
    let explained = order.wire().explain(engine)?;
    Ok(OrderExplanation {
        lines: explained
            .lines
            .into_iter()
            .map(|line| match line {
                Ok(e) => Ok(Explanation(e)),
                Err(e) => Err(LineError(e)),
            })
            .collect(),
        subtotal: explained.subtotal,
        conditions: explained
            .conditions
            .iter()
            .map(|c| ConditionReport {
                id: c.id.to_string(),
                kind: c.kind.as_str(),
                applied: c.applied,
                reason: c.reason.clone(),
            })
            .collect(),
        adjustments: explained.adjustments.iter().map(Adjustment::new).collect(),
        allocated: explained.allocated,
        total: explained.total,
        refused: explained.refused.map(LineError),
        approval: explained.approval,
    })
}

/// Reads and resolves order text for the account.
pub(crate) fn parse_order_lines(
    engine: &tarif::Engine,
    account: &str,
    text: &str,
    at: &At,
    merge_duplicates: bool,
) -> Result<OrderText> {
    let parsed = OrderTextInput {
        account,
        text,
        at: at.wire(),
        merge_duplicates,
    }
    .parse(engine)?;
    Ok(OrderText {
        format: match parsed.format {
            LineFormat::Pasted => "pasted".to_string(),
            LineFormat::Delimited(d) => char::from(d).to_string(),
        },
        header: parsed.header,
        lines: parsed
            .lines
            .into_iter()
            .map(|l| TextLine {
                line: l.line,
                merged: l.merged,
                reference: l.reference,
                qty: l.qty,
                sku: l.sku.map(str::to_string),
                cost_centre: l.cost_centre,
                ship_to: l.ship_to,
                error: l.error.map(LineError),
            })
            .collect(),
    })
}

/// Why one line of an order failed: the code and message a `QuoteError` would carry.
#[pyclass(frozen, eq, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq)]
pub(crate) struct LineError(QueryError);

#[pymethods]
impl LineError {
    /// The stable code (`UNKNOWN_PRODUCT`, `QUANTITY_RULE`, `NOT_BUYABLE`…).
    #[getter]
    fn code(&self) -> &'static str {
        self.0.code()
    }
    /// What went wrong, naming the value.
    #[getter]
    fn message(&self) -> String {
        self.0.to_string()
    }
    /// The values the message names (`nearest` for `QUANTITY_RULE`), as `QuoteError.details`.
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let details = PyDict::new(py);
        query_details(&details, &self.0)?;
        Ok(details)
    }
    fn __repr__(&self) -> String {
        format!(
            "LineError(code={:?}, message={:?})",
            self.0.code(),
            self.0.to_string()
        )
    }
}

enum Outcome {
    Priced(Quote),
    Failed(LineError),
}

/// A priced order: per line a `Quote` or a `LineError`, then the totals.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct PricedOrder {
    engine_version: Arc<str>,
    currency: String,
    at: tarif::Instant,
    lines: Vec<Outcome>,
    subtotal: Decimal,
    adjustments: Vec<Adjustment>,
    allocated: Vec<Decimal>,
    total: Decimal,
    approval: Approval,
    overrides: Vec<Option<PriceOverride>>,
    placed_quote: Option<PlacedQuote>,
}

/// An approval decision as a dict.
fn approval_dict<'py>(py: Python<'py>, approval: &Approval) -> PyResult<Bound<'py, PyDict>> {
    let reasons = PyList::empty(py);
    for reason in &approval.reasons {
        let approvers = PyDict::new(py);
        approvers.set_item("role", &reason.approvers.role)?;
        approvers.set_item("users", &reason.approvers.users)?;
        let item = PyDict::new(py);
        item.set_item("rule", &reason.rule)?;
        item.set_item("kind", reason.kind)?;
        item.set_item("approvers", approvers)?;
        item.set_item("detail", &reason.detail)?;
        reasons.append(item)?;
    }
    let out = PyDict::new(py);
    out.set_item("decision", approval.decision.as_str())?;
    out.set_item("reasons", reasons)?;
    Ok(out)
}

/// The quote an order was placed against, owned.
struct PlacedQuote {
    number: Option<String>,
    engine_version: String,
    priced_at: tarif::Instant,
    valid_until: tarif::Instant,
    rules_changed: bool,
}

impl PricedOrder {
    fn new(priced: &tarif::PricedOrder<'_>, version: &Arc<str>) -> PricedOrder {
        PricedOrder {
            engine_version: Arc::clone(version),
            currency: priced.currency.to_string(),
            at: priced.at,
            subtotal: priced.subtotal,
            adjustments: priced.adjustments.iter().map(Adjustment::new).collect(),
            allocated: priced.allocated.clone(),
            total: priced.total,
            approval: priced.approval.clone(),
            lines: priced
                .lines
                .iter()
                .map(|line| match line {
                    Ok(q) => Outcome::Priced(Quote::new(q, version)),
                    Err(e) => Outcome::Failed(LineError(e.clone())),
                })
                .collect(),
            overrides: priced.overrides.clone(),
            placed_quote: priced.placed_quote.as_ref().map(|q| PlacedQuote {
                number: q.number.map(str::to_string),
                engine_version: q.engine_version.to_string(),
                priced_at: q.priced_at,
                valid_until: q.valid_until,
                rules_changed: q.rules_changed,
            }),
        }
    }
}

#[pymethods]
impl PricedOrder {
    /// Per line, where its price comes from when not from the rules: `None`, or
    /// `{"origin": "manual" | "quote", "rules_unit_price", "rules_line_total"}` with what the
    /// rules give the line (`None` when they give no price now).
    #[getter]
    fn overrides<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for entry in &self.overrides {
            match entry {
                None => list.append(py.None())?,
                Some(o) => {
                    let item = PyDict::new(py);
                    item.set_item("origin", o.origin.as_str())?;
                    item.set_item(
                        "rules_unit_price",
                        to_optional_decimal(py, o.rules_unit_price)?,
                    )?;
                    item.set_item(
                        "rules_line_total",
                        to_optional_decimal(py, o.rules_line_total)?,
                    )?;
                    list.append(item)?;
                }
            }
        }
        Ok(list)
    }
    /// The sales quote the order was placed against (`place_quote`): `{"number",
    /// "engine_version", "priced_at", "valid_until", "rules_changed"}`, else `None`.
    #[getter]
    fn placed_quote<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(q) = &self.placed_quote else {
            return Ok(None);
        };
        let item = PyDict::new(py);
        item.set_item("number", &q.number)?;
        item.set_item("engine_version", &q.engine_version)?;
        item.set_item("priced_at", to_datetime(py, q.priced_at)?)?;
        item.set_item("valid_until", to_datetime(py, q.valid_until)?)?;
        item.set_item("rules_changed", q.rules_changed)?;
        Ok(Some(item))
    }
    /// Whether the order may be placed as it is: `{"decision": "allowed" | "needs_approval" |
    /// "refused", "reasons": [{"rule", "kind", "approvers": {"role", "users"}, "detail"}]}`.
    #[getter]
    fn approval<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        approval_dict(py, &self.approval)
    }
    /// One entry per order line, in order: a `Quote`, or a `LineError`.
    #[getter]
    fn lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for line in &self.lines {
            match line {
                Outcome::Priced(q) => list.append(Bound::new(py, q.clone())?)?,
                Outcome::Failed(e) => list.append(Bound::new(py, e.clone())?)?,
            }
        }
        Ok(list)
    }
    /// Sum of the line totals of the lines that priced.
    #[getter]
    fn subtotal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.subtotal)
    }
    /// Order-level amounts: the order discount (negative), a minimum-order surcharge, the
    /// shipping charges per delivery address, as `Adjustment`s.
    #[getter]
    fn adjustments(&self) -> Vec<Adjustment> {
        self.adjustments.clone()
    }
    /// Per line, its share of the order discount (a `Decimal`, zero for a failed line).
    #[getter]
    fn allocated<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.allocated.iter().map(|a| to_decimal(py, *a)).collect()
    }
    /// What the order costs: the subtotal plus the adjustments.
    #[getter]
    fn total<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.total)
    }
    /// Currency code of every amount.
    #[getter]
    fn currency(&self) -> &str {
        &self.currency
    }
    /// The instant every line was priced at.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.at)
    }
    /// How many lines failed.
    #[getter]
    fn failed_lines(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l, Outcome::Failed(_)))
            .count()
    }
    /// Content hash of the engine that priced the order.
    #[getter]
    fn engine_version(&self) -> &str {
        &self.engine_version
    }
    fn __repr__(&self) -> String {
        format!(
            "PricedOrder(lines={}, failed_lines={}, total=Decimal('{}'), currency={:?})",
            self.lines.len(),
            self.failed_lines(),
            self.total,
            self.currency
        )
    }
}

/// A sales quote as priced: the `order` the buyer would pay, and the signed `document` (a JSON
/// `str` to store and pass to `place_quote`), `None` when a line failed.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct PreparedQuote {
    order: Py<PricedOrder>,
    document: Option<String>,
}

impl PreparedQuote {
    pub(crate) fn new(
        py: Python<'_>,
        order: PricedOrder,
        document: Option<String>,
    ) -> PyResult<Self> {
        Ok(PreparedQuote {
            order: Py::new(py, order)?,
            document,
        })
    }
}

#[pymethods]
impl PreparedQuote {
    /// The order priced with the manual prices; a refused price is its line's `LineError`
    /// (`PRICE_BOUND`).
    #[getter]
    fn order(&self, py: Python<'_>) -> Py<PricedOrder> {
        self.order.clone_ref(py)
    }
    /// The signed `tarif/1-quote` document, or `None` when a line failed.
    #[getter]
    fn document(&self) -> Option<&str> {
        self.document.as_deref()
    }
    fn __repr__(&self) -> String {
        format!(
            "PreparedQuote(total=Decimal('{}'), signed={})",
            self.order.get().total,
            if self.document.is_some() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// An order-level amount: its condition's full id, `kind` (`order_discount`, `minimum_order`,
/// `shipping`), signed `amount`, `ship_to` (shipping) and `why`.
#[pyclass(frozen, eq, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq)]
pub(crate) struct Adjustment {
    id: String,
    kind: &'static str,
    amount: Decimal,
    ship_to: Option<String>,
    why: String,
}

impl Adjustment {
    fn new(a: &tarif::Adjustment<'_>) -> Self {
        Adjustment {
            id: a.id.to_string(),
            kind: a.kind.as_str(),
            amount: a.amount,
            ship_to: a.ship_to.clone(),
            why: a.why.clone(),
        }
    }
}

#[pymethods]
impl Adjustment {
    /// Full id of the condition, `contract-id/id`.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }
    /// `order_discount`, `minimum_order` or `shipping`.
    #[getter]
    fn kind(&self) -> &str {
        self.kind
    }
    /// Signed amount added to the subtotal.
    #[getter]
    fn amount<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.amount)
    }
    /// The delivery address charged (shipping only).
    #[getter]
    fn ship_to(&self) -> Option<&str> {
        self.ship_to.as_deref()
    }
    /// Why, naming the threshold and the subtotal read.
    #[getter]
    fn why(&self) -> &str {
        &self.why
    }
    fn __repr__(&self) -> String {
        format!(
            "Adjustment(id={:?}, kind={:?}, amount=Decimal('{}'))",
            self.id, self.kind, self.amount
        )
    }
}

/// What one order condition did: `id`, `kind`, `applied`, and the `reason`.
#[pyclass(frozen, eq, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq)]
pub(crate) struct ConditionReport {
    id: String,
    kind: &'static str,
    applied: bool,
    reason: String,
}

#[pymethods]
impl ConditionReport {
    /// Full id of the condition.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }
    /// `order_discount`, `minimum_order` or `shipping`.
    #[getter]
    fn kind(&self) -> &str {
        self.kind
    }
    /// Whether it applied.
    #[getter]
    fn applied(&self) -> bool {
        self.applied
    }
    /// Why it applied or did not.
    #[getter]
    fn reason(&self) -> &str {
        &self.reason
    }
    fn __repr__(&self) -> String {
        format!(
            "ConditionReport(id={:?}, applied={}, reason={:?})",
            self.id,
            if self.applied { "True" } else { "False" },
            self.reason
        )
    }
}

/// Why an order costs what it does: each line's `Explanation` (or `LineError`), every order
/// condition that speaks to the account, the adjustments and the allocation.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct OrderExplanation {
    lines: Vec<std::result::Result<Explanation, LineError>>,
    subtotal: Decimal,
    conditions: Vec<ConditionReport>,
    adjustments: Vec<Adjustment>,
    allocated: Vec<Decimal>,
    total: Decimal,
    refused: Option<LineError>,
    approval: Approval,
}

#[pymethods]
impl OrderExplanation {
    /// Whether the order may be placed as it is, as `price_order` decides it (the same dict).
    #[getter]
    fn approval<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        approval_dict(py, &self.approval)
    }
    /// One entry per order line: an `Explanation`, or the line's `LineError`.
    #[getter]
    fn lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for line in &self.lines {
            match line {
                Ok(e) => list.append(Bound::new(py, Explanation(e.0.clone()))?)?,
                Err(e) => list.append(Bound::new(py, e.clone())?)?,
            }
        }
        Ok(list)
    }
    /// Sum of the line totals of the lines that priced.
    #[getter]
    fn subtotal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.subtotal)
    }
    /// Every order condition whose contract speaks to the account, as `ConditionReport`s.
    #[getter]
    fn conditions(&self) -> Vec<ConditionReport> {
        self.conditions.clone()
    }
    /// The order-level amounts, as `PricedOrder.adjustments`.
    #[getter]
    fn adjustments(&self) -> Vec<Adjustment> {
        self.adjustments.clone()
    }
    /// Per line, its share of the order discount.
    #[getter]
    fn allocated<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.allocated.iter().map(|a| to_decimal(py, *a)).collect()
    }
    /// The subtotal plus the adjustments.
    #[getter]
    fn total<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.total)
    }
    /// The `MINIMUM_ORDER` error when `price_order` refuses the order, else `None`.
    #[getter]
    fn refused(&self) -> Option<LineError> {
        self.refused.clone()
    }
    fn __repr__(&self) -> String {
        format!(
            "OrderExplanation(lines={}, conditions={}, total=Decimal('{}'))",
            self.lines.len(),
            self.conditions.len(),
            self.total
        )
    }
}

/// Text read into order lines: how it was read, and one `TextLine` per order line.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct OrderText {
    format: String,
    header: bool,
    lines: Vec<TextLine>,
}

#[pymethods]
impl OrderText {
    /// `"pasted"` (`ref qty` lines), or the delimiter: `";"`, `","` or `"\t"`.
    #[getter]
    fn format(&self) -> &str {
        &self.format
    }
    /// Whether the first line was a header.
    #[getter]
    fn header(&self) -> bool {
        self.header
    }
    /// The lines, in input order (merged duplicates at their first line).
    #[getter]
    fn lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for line in &self.lines {
            list.append(Bound::new(py, line.clone())?)?;
        }
        Ok(list)
    }
    /// The lines without error, as the mappings `Engine.price_order` takes.
    fn order_lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for line in self.lines.iter().filter(|l| l.error.is_none()) {
            let (Some(sku), Some(qty)) = (&line.sku, line.qty) else {
                continue;
            };
            let item = PyDict::new(py);
            item.set_item("ref", sku)?;
            item.set_item("qty", to_decimal(py, qty)?)?;
            item.set_item("cost_centre", &line.cost_centre)?;
            item.set_item("ship_to", &line.ship_to)?;
            list.append(item)?;
        }
        Ok(list)
    }
    fn __repr__(&self) -> String {
        let failed = self.lines.iter().filter(|l| l.error.is_some()).count();
        format!(
            "OrderText(format={:?}, header={}, lines={}, failed_lines={failed})",
            self.format,
            if self.header { "True" } else { "False" },
            self.lines.len()
        )
    }
}

/// One line of an `OrderText`.
#[pyclass(frozen, skip_from_py_object, module = "tarif")]
#[derive(Clone)]
pub(crate) struct TextLine {
    /// 1-based input line (the first, when lines were merged).
    #[pyo3(get)]
    line: u32,
    /// Later input lines added into this one.
    #[pyo3(get)]
    merged: Vec<u32>,
    /// The reference as written.
    #[pyo3(get)]
    reference: String,
    qty: Option<Decimal>,
    /// The product the reference means for the account, or `None`.
    #[pyo3(get)]
    sku: Option<String>,
    /// The cost centre column, when the text has one.
    #[pyo3(get)]
    cost_centre: Option<String>,
    /// The delivery address column, when the text has one.
    #[pyo3(get)]
    ship_to: Option<String>,
    /// Why the line cannot be ordered as it is, or `None`.
    #[pyo3(get)]
    error: Option<LineError>,
}

#[pymethods]
impl TextLine {
    /// The quantity (summed over merged lines), or `None` when it is not a number.
    #[getter]
    fn qty<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_optional_decimal(py, self.qty)
    }
    fn __repr__(&self) -> String {
        format!(
            "TextLine(line={}, reference={:?}, sku={:?}, qty={}, error={})",
            self.line,
            self.reference,
            self.sku,
            self.qty
                .map_or("None".to_string(), |q| format!("Decimal('{q}')")),
            self.error.as_ref().map_or("None", |e| e.0.code())
        )
    }
}
