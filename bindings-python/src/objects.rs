//! The frozen value objects queries return. Each keeps its values as Rust data and builds the
//! Python objects (`Decimal`s, tuples) when an attribute is read, so a quote costs only what
//! the caller looks at.

use std::fmt::Write;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tarif::Decimal;

use crate::convert::{to_datetime, to_decimal, to_optional_decimal};

/// A priced line: `unit_price × qty = line_total` (exactly at stage `unit`), in `currency`.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Quote {
    /// The SKU, the currency and each step's name, rule, source and level, one after the
    /// other: a quote allocates one buffer for its texts instead of one per text, which
    /// was most of what a quote from Python cost on top of the core's.
    texts: String,
    sku_end: u32,
    currency_end: u32,
    qty: Decimal,
    unit_price: Decimal,
    line_total: Decimal,
    base_price: Decimal,
    list_price: Option<Decimal>,
    buyable: bool,
    stage: &'static str,
    steps: Vec<StepValues>,
    engine_version: Arc<str>,
    stock: Option<Stock>,
}

/// A step of a [`Quote`] without its texts, which are in the quote's buffer.
#[derive(Clone, PartialEq, Eq, Hash)]
struct StepValues {
    /// Where the step's name, rule, source and level end in the quote's texts.
    ends: [u32; 4],
    before: Option<Decimal>,
    after: Decimal,
    notes: tarif::Notes,
}

/// Appends `text` to `texts` and returns where it ends.
fn end(texts: &mut String, text: &dyn std::fmt::Display) -> u32 {
    // Writing into a `String` cannot fail.
    let _ = write!(texts, "{text}");
    u32::try_from(texts.len()).unwrap_or(u32::MAX)
}

impl Quote {
    pub(crate) fn new(quote: &tarif::Quote<'_>, engine_version: &Arc<str>) -> Quote {
        let mut texts = String::with_capacity(32 + 64 * quote.steps.len());
        let sku_end = end(&mut texts, &quote.sku);
        let currency_end = end(&mut texts, &quote.currency);
        let steps = quote
            .steps
            .iter()
            .map(|step| StepValues {
                ends: [
                    end(&mut texts, &step.step),
                    end(&mut texts, &step.rule),
                    end(&mut texts, &step.source),
                    end(&mut texts, &step.level),
                ],
                before: step.before,
                after: step.after,
                notes: step.notes,
            })
            .collect();
        Quote {
            texts,
            sku_end,
            currency_end,
            qty: quote.qty,
            unit_price: quote.unit_price,
            line_total: quote.line_total,
            base_price: quote.base_price,
            list_price: quote.list_price,
            buyable: quote.buyable,
            stage: quote.stage.as_str(),
            steps,
            engine_version: Arc::clone(engine_version),
            stock: quote.stock.as_ref().map(Stock::new),
        }
    }

    /// The text of `texts` between two ends.
    fn text(&self, from: u32, to: u32) -> &str {
        self.texts.get(from as usize..to as usize).unwrap_or("")
    }

    fn sku_text(&self) -> &str {
        self.text(0, self.sku_end)
    }

    fn currency_text(&self) -> &str {
        self.text(self.sku_end, self.currency_end)
    }

    /// The step objects, built when `steps` is read.
    fn step_objects(&self) -> Vec<Step> {
        let mut from = self.currency_end;
        self.steps
            .iter()
            .map(|values| {
                let [step, rule, source, level] = values.ends;
                let text = |to: u32, from: &mut u32| {
                    let text = self.text(*from, to).to_string();
                    *from = to;
                    text
                };
                Step {
                    step: text(step, &mut from),
                    rule: text(rule, &mut from),
                    source: text(source, &mut from),
                    level: text(level, &mut from),
                    before: values.before,
                    after: values.after,
                    notes: values.notes.names().collect(),
                }
            })
            .collect()
    }
}

#[pymethods]
impl Quote {
    /// The product's SKU (whatever reference was asked for).
    #[getter]
    fn sku(&self) -> &str {
        self.sku_text()
    }
    /// The quantity priced.
    #[getter]
    fn qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.qty)
    }
    /// Currency code.
    #[getter]
    fn currency(&self) -> &str {
        self.currency_text()
    }
    /// Unit price, rounded per the rounding policy.
    #[getter]
    fn unit_price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.unit_price)
    }
    /// Line total.
    #[getter]
    fn line_total<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.line_total)
    }
    /// Price after the first step (the base price), rounded like the unit price.
    #[getter]
    fn base_price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.base_price)
    }
    /// What the everyone level alone gives for this quantity ("public price"), if anything.
    #[getter]
    fn list_price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_optional_decimal(py, self.list_price)
    }
    /// Whether the account may order the product.
    #[getter]
    fn buyable(&self) -> bool {
        self.buyable
    }
    /// Where currency rounding happened: `"unit"` or `"line"` (graduated tiers are `"line"`).
    #[getter]
    fn stage(&self) -> &'static str {
        self.stage
    }
    /// The rules that applied, in order.
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.step_objects())
    }
    /// Content hash of the engine that produced the quote, for audits and reproduction.
    #[getter]
    fn engine_version(&self) -> &str {
        &self.engine_version
    }
    /// What ships now and what is backordered, or `None` when the product's stock is not
    /// tracked. Stock never changes the price.
    #[getter]
    fn stock(&self) -> Option<Stock> {
        self.stock.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "Quote(sku={:?}, qty=Decimal('{}'), unit_price=Decimal('{}'), line_total=Decimal('{}'), currency={:?})",
            self.sku_text(), self.qty, self.unit_price, self.line_total, self.currency_text()
        )
    }
}

/// The stock side of a quote: `available` ships now, `backorder` waits `lead_time_days`.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Stock {
    available: Decimal,
    backorder: Decimal,
    lead_time_days: Option<u32>,
    warehouses: Vec<(String, Decimal, Option<u32>)>,
}

impl Stock {
    fn new(stock: &tarif::StockInfo<'_>) -> Stock {
        Stock {
            available: stock.available,
            backorder: stock.backorder,
            lead_time_days: stock.lead_time_days,
            warehouses: stock
                .warehouses
                .iter()
                .map(|w| (w.id.to_string(), w.available, w.lead_time_days))
                .collect(),
        }
    }
}

#[pymethods]
impl Stock {
    /// The part of the quantity that can ship now: min(qty, total on hand).
    #[getter]
    fn available<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.available)
    }
    /// The rest of the quantity (zero or more).
    #[getter]
    fn backorder<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.backorder)
    }
    /// Days until the backorder ships; `None` when nothing is backordered or it is unknown.
    #[getter]
    fn lead_time_days(&self) -> Option<u32> {
        self.lead_time_days
    }
    /// Stock on hand per warehouse as the record gives it: `(id, available, lead_time_days)`
    /// (empty when the product is not tracked per warehouse).
    #[getter]
    fn warehouses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let rows = self
            .warehouses
            .iter()
            .map(|(id, available, lead)| Ok((id.as_str(), to_decimal(py, *available)?, *lead)))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, rows)
    }

    fn __repr__(&self) -> String {
        format!(
            "Stock(available=Decimal('{}'), backorder=Decimal('{}'), lead_time_days={})",
            self.available,
            self.backorder,
            self.lead_time_days
                .map_or_else(|| "None".to_string(), |d| d.to_string())
        )
    }
}

/// One applied rule of a quote.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Step {
    step: String,
    rule: String,
    source: String,
    level: String,
    before: Option<Decimal>,
    after: Decimal,
    notes: Vec<&'static str>,
}

#[pymethods]
impl Step {
    /// Procedure step name (`base`, `discount`…).
    #[getter]
    fn step(&self) -> &str {
        &self.step
    }
    /// Full rule id: `contract/rule`, or `list/sku` for a price-list entry.
    #[getter]
    fn rule(&self) -> &str {
        &self.rule
    }
    /// Where the rule comes from: `contract X` or `price list Y`.
    #[getter]
    fn source(&self) -> &str {
        &self.source
    }
    /// The audience level it applied at: `account X`, `ancestor X (+1)`, `segment X`, `everyone`.
    #[getter]
    fn level(&self) -> &str {
        &self.level
    }
    /// Unit value before the step (`None` in the first step).
    #[getter]
    fn before<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_optional_decimal(py, self.before)
    }
    /// Unit value after the step, unrounded.
    #[getter]
    fn after<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.after)
    }
    /// Remarks: `exclusive`, `graduated`, `tier`, `derived`, `never_raise`, `clamped`.
    #[getter]
    fn notes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.notes)
    }

    fn __repr__(&self) -> String {
        let before = self
            .before
            .map(|b| format!("Decimal('{b}')"))
            .unwrap_or_else(|| "None".into());
        format!(
            "Step(step={:?}, rule={:?}, before={before}, after=Decimal('{}'))",
            self.step, self.rule, self.after
        )
    }
}

/// What an account may do with a product; each capability implies the previous one.
#[pyclass(frozen, eq, hash, get_all, module = "tarif")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct Capabilities {
    /// The product exists for the account.
    see: bool,
    /// The account may see its price.
    price: bool,
    /// The account may order it.
    buy: bool,
}

impl From<tarif::Capabilities> for Capabilities {
    fn from(c: tarif::Capabilities) -> Self {
        Capabilities {
            see: c.see,
            price: c.price,
            buy: c.buy,
        }
    }
}

#[pymethods]
impl Capabilities {
    fn __repr__(&self) -> String {
        format!(
            "Capabilities(see={}, price={}, buy={})",
            py_bool(self.see),
            py_bool(self.price),
            py_bool(self.buy)
        )
    }
}

pub(crate) fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// A compile diagnostic: a stable code, a path into the document, the ids involved.
#[pyclass(frozen, eq, module = "tarif")]
#[derive(PartialEq)]
pub(crate) struct Diagnostic(tarif::Diagnostic);

impl From<&tarif::Diagnostic> for Diagnostic {
    fn from(d: &tarif::Diagnostic) -> Self {
        Diagnostic(d.clone())
    }
}

#[pymethods]
impl Diagnostic {
    /// Stable code, e.g. `DUPLICATE_EAN`.
    #[getter]
    fn code(&self) -> &'static str {
        self.0.code.code()
    }
    /// `"error"` (the document is rejected) or `"warning"`.
    #[getter]
    fn severity(&self) -> &'static str {
        self.0.severity().as_str()
    }
    /// Path into the document, e.g. `contracts[3].rules[1].percent`.
    #[getter]
    fn path(&self) -> &str {
        &self.0.path
    }
    /// What is wrong, naming the offending value.
    #[getter]
    fn message(&self) -> &str {
        &self.0.message
    }
    /// Ids involved, the element's own id first.
    #[getter]
    fn ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.0.ids)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "Diagnostic(code={:?}, path={:?}, message={:?})",
            self.0.code.code(),
            self.0.path,
            self.0.message
        )
    }
}

/// Why a price is what it is: visibility, then every step with every rule that spoke to the
/// product. `str()` gives the same report as the Rust `Display`.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct Explanation(pub(crate) tarif::Explanation);

#[pymethods]
impl Explanation {
    /// Account id.
    #[getter]
    fn account(&self) -> &str {
        &self.0.account
    }
    /// The product's SKU.
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }
    /// Quantity.
    #[getter]
    fn qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.0.qty)
    }
    /// Instant of the price, as an aware UTC datetime.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.at)
    }
    /// Request currency.
    #[getter]
    fn currency(&self) -> &str {
        &self.0.currency
    }
    /// The visibility decision and the rules behind it.
    #[getter]
    fn visibility(&self) -> VisibilityReport {
        VisibilityReport(self.0.visibility.clone())
    }
    /// Every step of the procedure.
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.0.steps.iter().cloned().map(StepReport))
    }
    /// Unit price of the quote, `None` when it has no price.
    #[getter]
    fn unit_price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_optional_decimal(py, self.0.outcome.as_ref().ok().map(|(unit, _)| *unit))
    }
    /// Line total of the quote, `None` when it has no price.
    #[getter]
    fn line_total<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_optional_decimal(py, self.0.outcome.as_ref().ok().map(|(_, line)| *line))
    }
    /// The quote's error code (`NO_PRICE`, `PRICE_HIDDEN`…), `None` when it has a price.
    #[getter]
    fn error_code(&self) -> Option<&str> {
        self.0.outcome.as_ref().err().map(|(code, _)| code.as_str())
    }
    /// The quote's error message, `None` when it has a price.
    #[getter]
    fn error_message(&self) -> Option<&str> {
        self.0.outcome.as_ref().err().map(|(_, m)| m.as_str())
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Explanation {} × {} for {}>",
            self.0.qty, self.0.sku, self.0.account
        )
    }
}

/// The visibility decision of an explanation, per capability, with the deciding rule.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct VisibilityReport(tarif::VisibilityReport);

#[pymethods]
impl VisibilityReport {
    /// `(see, price, buy)` after implications.
    #[getter]
    fn allowed(&self) -> (bool, bool, bool) {
        let [see, price, buy] = self.0.allowed;
        (see, price, buy)
    }
    /// The rule that decided each of `(see, price, buy)`; `None` means the document default.
    #[getter]
    fn decided_by(&self) -> (Option<String>, Option<String>, Option<String>) {
        let [see, price, buy] = self.0.decided_by.clone();
        (see, price, buy)
    }

    fn __repr__(&self) -> String {
        let [see, price, buy] = self.0.allowed;
        format!(
            "VisibilityReport(see={}, price={}, buy={})",
            py_bool(see),
            py_bool(price),
            py_bool(buy)
        )
    }
}

/// One step of an explanation.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct StepReport(tarif::StepReport);

#[pymethods]
impl StepReport {
    /// Step name.
    #[getter]
    fn step(&self) -> &str {
        &self.0.step
    }
    /// Its selection strategy (`most_specific`, `lowest`…).
    #[getter]
    fn select(&self) -> &str {
        &self.0.select
    }
    /// Whether it was skipped because an exclusive rule applied earlier.
    #[getter]
    fn skipped(&self) -> bool {
        self.0.skipped
    }
    /// Every rule whose audience and selector speak to the product.
    #[getter]
    fn candidates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.0.candidates.iter().cloned().map(CandidateReport))
    }

    fn __repr__(&self) -> String {
        format!(
            "StepReport(step={:?}, select={:?}, skipped={}, candidates={})",
            self.0.step,
            self.0.select,
            py_bool(self.0.skipped),
            self.0.candidates.len()
        )
    }
}

/// A rule that spoke to the product in a step of an explanation.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct CandidateReport(tarif::CandidateReport);

#[pymethods]
impl CandidateReport {
    /// Full id (`contract/rule` or `list/sku`).
    #[getter]
    fn rule(&self) -> &str {
        &self.0.rule
    }
    /// `contract X` or `price list Y`.
    #[getter]
    fn source(&self) -> &str {
        &self.0.source
    }
    /// The audience level it reached the account at.
    #[getter]
    fn level(&self) -> &str {
        &self.0.level
    }
    /// Its priority.
    #[getter]
    fn priority(&self) -> i64 {
        self.0.priority
    }
    /// Selector specificity `rank.depth.members`.
    #[getter]
    fn specificity(&self) -> &str {
        &self.0.specificity
    }
    /// Unit result on the running price, when it was a candidate.
    #[getter]
    fn result<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_optional_decimal(py, self.0.result)
    }
    /// Whether it applied.
    #[getter]
    fn applied(&self) -> bool {
        self.0.applied
    }
    /// Why it applied, lost, or was not a candidate.
    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }

    fn __repr__(&self) -> String {
        format!(
            "CandidateReport(rule={:?}, applied={}, reason={:?})",
            self.0.rule,
            py_bool(self.0.applied),
            self.0.reason
        )
    }
}
