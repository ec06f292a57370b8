//! `tarif.Engine`: a compiled rules document, shared by every Python thread.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use tarif::wire::{self, InputCode, ProductInput, QtyInput, QuoteInput};
use tarif::{CompileOptions, CompileProgress, RelationKind};

use crate::convert::{self, quantity, type_name, At};
use crate::errors::{guarded, input, Result};
use crate::objects::{Capabilities, Diagnostic, Explanation, Quote};
use crate::orders;
use crate::pages::{RelatedProduct, SearchPage};
use crate::search::SearchArgs;

/// A compiled `tarif/1` rules document: immutable, safe to share across threads, picklable.
///
/// Build one with `Engine.from_json`, `Engine.from_path` or `Engine.from_dict`; a rejected
/// document raises `tarif.CompileError` listing every problem. Query errors raise
/// `tarif.QuoteError` with a stable `.code`.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct Engine {
    pub(crate) inner: Arc<tarif::Engine>,
    version: Arc<str>,
}

impl Engine {
    /// Compiles without the GIL; `progress(phase, done, total)` is called with it between
    /// the compile's phases. An exception from `progress` stops the reports and is raised once
    /// the compile is over (a compile cannot be stopped half-way).
    fn compile(
        py: Python<'_>,
        source: String,
        strict: bool,
        progress: Option<Py<PyAny>>,
    ) -> Result<Engine> {
        let raised: Arc<Mutex<Option<PyErr>>> = Arc::default();
        let options = CompileOptions {
            strict,
            progress: progress.map(|callback| {
                let raised = Arc::clone(&raised);
                CompileProgress::new(move |phase, done, total| {
                    let mut raised = raised.lock().unwrap_or_else(PoisonError::into_inner);
                    if raised.is_none() {
                        *raised =
                            Python::attach(|py| callback.call1(py, (phase, done, total)).err());
                    }
                })
            }),
            ..CompileOptions::default()
        };
        let compiled = py.detach(|| guarded(|| tarif::Engine::compile(&source, &options)));
        if let Some(err) = raised.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return Err(err.into());
        }
        Ok(Engine::wrap(compiled??.engine))
    }

    pub(crate) fn wrap(engine: tarif::Engine) -> Engine {
        Engine {
            version: Arc::from(engine.engine_version()),
            inner: Arc::new(engine),
        }
    }
}

/// Python data as JSON text (`json.dumps`, with `Decimal`s written as decimal strings).
pub(crate) fn json_text(data: &Bound<'_, PyAny>, what: &str) -> Result<String> {
    let py = data.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item(
        "default",
        PyCFunction::new_closure(py, None, None, decimal_as_text)?,
    )?;
    let text = py
        .import("json")?
        .call_method("dumps", (data,), Some(&kwargs))
        .map_err(|err| {
            input(
                InputCode::InvalidType,
                format!("{what} is not JSON data: {err}"),
            )
        })?;
    convert::text(&text, what)
}

/// `json.dumps`'s `default`: a `Decimal` is written as the decimal string the document format
/// takes for money, with exactly its digits (`format(d, "f")` never uses an exponent).
fn decimal_as_text(
    args: &Bound<'_, PyTuple>,
    _kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let value = args.get_item(0)?;
    if value.is_instance(&value.py().import("decimal")?.getattr("Decimal")?)? {
        return value.call_method1("__format__", ("f",))?.extract();
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "a {} is not a JSON value",
        type_name(&value)
    )))
}

#[pymethods]
impl Engine {
    /// Compiles a `tarif/1` JSON document. With `strict=True`, warnings reject it too.
    ///
    /// `progress(phase, done, total)`, if given, is called as each phase of the compile
    /// begins (`done` phases of `total` finished) and once at the end with `"done"`; a tqdm
    /// bar fits: `lambda phase, done, total: bar.update(done - bar.n)`.
    #[staticmethod]
    #[pyo3(signature = (text, *, strict = false, progress = None))]
    fn from_json(
        py: Python<'_>,
        text: &Bound<'_, PyAny>,
        strict: bool,
        progress: Option<Py<PyAny>>,
    ) -> Result<Engine> {
        Engine::compile(py, convert::text(text, "text")?, strict, progress)
    }

    /// Compiles the `tarif/1` JSON document in a UTF-8 file, or opens the snapshot in it
    /// (`Engine.open`). `progress` is as for `from_json` (a snapshot reports nothing).
    #[staticmethod]
    #[pyo3(signature = (path, *, strict = false, progress = None))]
    fn from_path(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        strict: bool,
        progress: Option<Py<PyAny>>,
    ) -> Result<Engine> {
        // Read through pathlib so that a missing file raises the usual OSError naming the path;
        // it carries `code` = `IO_ERROR` too, as the same failure does in Node.
        let bytes: Vec<u8> = py
            .import("pathlib")?
            .getattr("Path")?
            .call1((path,))?
            .call_method0("read_bytes")
            .inspect_err(|err| {
                if err.is_instance_of::<pyo3::exceptions::PyOSError>(py) {
                    // An OSError instance takes attributes; failing to add one changes nothing.
                    let _ = err.value(py).setattr("code", "IO_ERROR");
                }
            })?
            .extract()?;
        // A snapshot opens without compiling: a worker or a reload takes either file.
        if tarif::snapshot::is_snapshot(&bytes) {
            let engine = py.detach(|| guarded(|| tarif::Engine::from_snapshot_bytes(&bytes)))??;
            return Ok(Engine::wrap(engine));
        }
        Engine::compile(py, wire::document_text(bytes)?, strict, progress)
    }

    /// Opens a snapshot written by `save` (here or in any binding), without compiling: a
    /// corrupt file raises `tarif.SnapshotError` (`SNAPSHOT_CORRUPT`, or `SNAPSHOT_VERSION` for
    /// another format version), an unreadable one `OSError` with `code` `IO_ERROR`.
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> Result<Engine> {
        crate::snapshot::open(py, &path).map(Engine::wrap)
    }

    /// Writes the compiled engine to `path` as a snapshot, atomically: a failed save leaves
    /// whatever was at `path` untouched. `Engine.open` reads it back without compiling.
    fn save(&self, py: Python<'_>, path: PathBuf) -> Result<()> {
        crate::snapshot::save(py, &self.inner, &path)
    }

    /// Compiles a document given as Python data (what `json.loads` returns; a `Decimal` is
    /// written as its decimal string). `progress` is as for `from_json`.
    #[staticmethod]
    #[pyo3(signature = (document, *, strict = false, progress = None))]
    fn from_dict(
        py: Python<'_>,
        document: &Bound<'_, PyAny>,
        strict: bool,
        progress: Option<Py<PyAny>>,
    ) -> Result<Engine> {
        Engine::compile(py, json_text(document, "the document")?, strict, progress)
    }

    /// Applies a `tarif/1-changes` document (JSON text or Python data): a new engine, this one
    /// untouched. A rejected change raises `CompileError` listing every problem, with paths
    /// into the changes for what the change wrote. The GIL is released meanwhile.
    #[pyo3(signature = (changes, *, strict = false))]
    fn apply(&self, py: Python<'_>, changes: &Bound<'_, PyAny>, strict: bool) -> Result<Engine> {
        let changes = crate::changes::changes_text(changes)?;
        let options = CompileOptions {
            strict,
            ..CompileOptions::default()
        };
        let engine = &self.inner;
        let compiled = py.detach(|| guarded(|| engine.apply(&changes, &options)))??;
        Ok(Engine::wrap(compiled.engine))
    }

    /// What differs from `new`: without `lines`, the entities added, removed or modified
    /// (a list of `EntityChange`); with `lines` (a table with columns account, sku, qty), the
    /// lines whose price, visibility or buyability differs, priced under both engines at one
    /// instant, as a pyarrow Table of `row`, `account`, `sku`, `before_*` and `after_*`.
    #[pyo3(signature = (new, lines = None, at = None, currency = None))]
    fn diff<'py>(
        &self,
        py: Python<'py>,
        new: &Bound<'py, Engine>,
        lines: Option<&Bound<'py, PyAny>>,
        at: Option<&Bound<'py, PyAny>>,
        currency: Option<&Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyAny>> {
        let new = &new.get().inner;
        match lines {
            Some(lines) => crate::batch::changed_lines(py, &self.inner, new, lines, at, currency),
            None => {
                let old = &self.inner;
                let diff = py.detach(|| guarded(|| old.diff(new)))??;
                let list: Vec<crate::changes::EntityChange> =
                    diff.changes.iter().map(Into::into).collect();
                Ok(list.into_pyobject(py)?.into_any())
            }
        }
    }

    /// Builds an engine from the tables an ERP exports, as an import manifest (a path, or the
    /// manifest as a dict) describes them; `tables` maps table names to pyarrow Tables or
    /// pandas DataFrames read in place of the manifest's files. Raises `tarif.CompileError`
    /// (code `IMPORT_ERROR` or `COMPILE_ERROR`) listing every problem with its location.
    #[staticmethod]
    #[pyo3(signature = (manifest, *, tables = None, strict = false))]
    fn import_tables(
        py: Python<'_>,
        manifest: &Bound<'_, PyAny>,
        tables: Option<&Bound<'_, PyDict>>,
        strict: bool,
    ) -> Result<Engine> {
        crate::import::import_tables(py, manifest, tables, strict)
    }

    /// Prices `qty` of a product (any reference `lookup` accepts) for an account.
    ///
    /// `qty` is a `Decimal`, an `int` or a `str` (a float raises `TypeError`); `at` is an aware
    /// `datetime`, a `date` (its start in the document's timezone) or an RFC 3339 string, and
    /// defaults to now; `currency` defaults to the account's.
    #[pyo3(signature = (account, sku, qty, at = None, currency = None))]
    fn quote(
        &self,
        account: &Bound<'_, PyAny>,
        sku: &Bound<'_, PyAny>,
        qty: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&Bound<'_, PyAny>>,
    ) -> Result<Quote> {
        let line = Line::read(account, sku, qty, at, currency)?;
        // Not released from the GIL: a quote is shorter than a release and reacquire.
        let quote = guarded(|| {
            line.wire()
                .quote(&self.inner)
                .map(|q| Quote::new(&q, &self.version))
        })??;
        Ok(quote)
    }

    /// Prices an order: every line at one instant (`at`, default now) in one currency
    /// (default the account's). `lines` is an iterable of `(ref, qty)` tuples or of mappings
    /// with `ref` (or `sku`), `qty` and optionally `cost_centre`, `ship_to`. A bad line is a
    /// `LineError` in `lines` and does not fail the order; an unknown account, an unreadable
    /// instant or an unknown currency raise `QuoteError`. `user` is who places the order
    /// (`UNKNOWN_USER` when not declared on the account or an ancestor) and `spent` maps cost
    /// centres to what they spent to date: the result's `approval` reads them.
    #[pyo3(signature = (account, lines, at = None, currency = None, user = None, spent = None))]
    #[allow(clippy::too_many_arguments)]
    fn price_order(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        lines: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&Bound<'_, PyAny>>,
        user: Option<&Bound<'_, PyAny>>,
        spent: Option<&Bound<'_, PyAny>>,
    ) -> Result<orders::PricedOrder> {
        let order = orders::OrderArgs::read(account, lines, at, currency, user, spent)?;
        py.detach(|| guarded(|| orders::price_order(&self.inner, &self.version, &order)))?
    }

    /// Prices an order as a sales quote (arguments as `price_order`): `manual_prices` gives per
    /// line a unit price set by hand (`None` for the rules' price), accepted only within the
    /// bounds the rules set for the line (else the line's `LineError` `PRICE_BOUND`);
    /// `valid_until` is the first instant the quote may no longer be placed; `key` (bytes or
    /// str, at least 16 bytes) signs the document. Returns a `PreparedQuote`: the priced
    /// `order` and the signed `document` to store (`None` when a line failed).
    #[pyo3(signature = (account, lines, *, valid_until, key, manual_prices = None, at = None, currency = None, user = None, spent = None, number = None))]
    #[allow(clippy::too_many_arguments)]
    fn prepare_quote(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        lines: &Bound<'_, PyAny>,
        valid_until: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
        manual_prices: Option<&Bound<'_, PyAny>>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&Bound<'_, PyAny>>,
        user: Option<&Bound<'_, PyAny>>,
        spent: Option<&Bound<'_, PyAny>>,
        number: Option<&Bound<'_, PyAny>>,
    ) -> Result<orders::PreparedQuote> {
        let order = orders::OrderArgs::read(account, lines, at, currency, user, spent)?;
        let draft = orders::Draft {
            manual_prices: orders::read_manual_prices(manual_prices)?,
            valid_until: At::read(Some(valid_until))?,
            number: convert::optional_text(number, "number")?,
            key: orders::read_key(key)?,
        };
        let (order, document) = py.detach(|| {
            guarded(|| orders::prepare_quote(&self.inner, &self.version, &order, &draft))
        })??;
        Ok(orders::PreparedQuote::new(py, order, document)?)
    }

    /// Places the order of a signed quote `document` (from `prepare_quote`) at its prices,
    /// whatever the rules say now: `placed_quote` and `overrides` say so, with what the rules
    /// give today. `QuoteError` with code `QUOTE_TAMPERED` for an altered document or another
    /// key, `QUOTE_EXPIRED` from its validity end on, `QUOTE_INVALID` for a document that
    /// does not read. A line whose product the account may no longer see, buy or order gets
    /// its own `LineError`; the approval is decided under today's rules for `user`.
    #[pyo3(signature = (document, *, key, at = None, user = None, spent = None))]
    fn place_quote(
        &self,
        py: Python<'_>,
        document: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        user: Option<&Bound<'_, PyAny>>,
        spent: Option<&Bound<'_, PyAny>>,
    ) -> Result<orders::PricedOrder> {
        let document = convert::text(document, "document")?;
        let key = orders::read_key(key)?;
        let at = At::read(at)?;
        let placing = orders::Placing::read(user, spent)?;
        py.detach(|| {
            guarded(|| {
                orders::place_quote(&self.inner, &self.version, &document, &key, &at, &placing)
            })
        })?
    }

    /// Why an order costs what it does: each line's `Explanation` (or `LineError`), every order
    /// condition that speaks to the account — applied or why not — the adjustments and the
    /// allocation of the order discount. An order `price_order` refuses (`MINIMUM_ORDER`) is
    /// explained too, with `refused` set. Arguments as `price_order`; `approval` is the decision
    /// for `user`.
    #[pyo3(signature = (account, lines, at = None, currency = None, user = None, spent = None))]
    #[allow(clippy::too_many_arguments)]
    fn explain_order(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        lines: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&Bound<'_, PyAny>>,
        user: Option<&Bound<'_, PyAny>>,
        spent: Option<&Bound<'_, PyAny>>,
    ) -> Result<orders::OrderExplanation> {
        let order = orders::OrderArgs::read(account, lines, at, currency, user, spent)?;
        py.detach(|| guarded(|| orders::explain_order(&self.inner, &order)))?
    }

    /// Reads what a buyer pasted or uploaded (`ref qty` lines, or CSV with `;`, `,` or tab,
    /// with or without an English or French header, decimal commas, quoted fields, a BOM) and
    /// resolves each reference as `lookup` does for the account. Lines of the same product,
    /// cost centre and address add up unless `merge_duplicates=False`.
    #[pyo3(signature = (account, text, at = None, *, merge_duplicates = true))]
    fn parse_order_lines(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        text: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        merge_duplicates: bool,
    ) -> Result<orders::OrderText> {
        let account = convert::text(account, "account")?;
        let text = convert::text(text, "text")?;
        let at = At::read(at)?;
        py.detach(|| {
            guarded(|| {
                orders::parse_order_lines(&self.inner, &account, &text, &at, merge_duplicates)
            })
        })?
    }

    /// The trusted back-office view of a quote: every rule that spoke to the product in every
    /// step, which won and why the others lost, and the visibility decision behind it. Unlike
    /// `quote`, it also explains products hidden from the account.
    #[pyo3(signature = (account, sku, qty, at = None, currency = None))]
    fn explain(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        sku: &Bound<'_, PyAny>,
        qty: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&Bound<'_, PyAny>>,
    ) -> Result<Explanation> {
        let line = Line::read(account, sku, qty, at, currency)?;
        let explanation = py.detach(|| guarded(|| line.wire().explain(&self.inner)))??;
        Ok(Explanation(explanation))
    }

    /// What the account may do with the product: `see`, see the `price`, `buy`.
    #[pyo3(signature = (account, sku, at = None))]
    fn visibility(
        &self,
        account: &Bound<'_, PyAny>,
        sku: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<Capabilities> {
        let (account, sku, at) = product_args(account, sku, "sku", at)?;
        let request = ProductInput {
            account: &account,
            reference: &sku,
            at: at.wire(),
        };
        let caps = guarded(|| request.visibility(&self.inner))??;
        Ok(caps.into())
    }

    /// The SKU a reference means for the account: its aliases (and its ancestors'), then SKU,
    /// EAN, manufacturer and other references. A product the account may not see is unknown.
    #[pyo3(signature = (account, reference, at = None))]
    fn lookup(
        &self,
        account: &Bound<'_, PyAny>,
        reference: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<String> {
        let (account, reference, at) = product_args(account, reference, "reference", at)?;
        let request = ProductInput {
            account: &account,
            reference: &reference,
            at: at.wire(),
        };
        let sku = guarded(|| request.lookup(&self.inner).map(str::to_string))??;
        Ok(sku)
    }

    /// Searches the account's own catalog: one page of the products it has `capability` on
    /// that pass every filter, the size of the whole result, and facet counts.
    ///
    /// Filters combine all-of, the values of one filter any-of; each is a dict:
    /// `{"attr": "color", "any_of": ["blue", "red"]}`, `{"attr": "voltage", "min": 12, "max":
    /// "18.5"}` (bounds inclusive, either optional; `Decimal`, `int` or `str`, a float raises
    /// `TypeError`), `{"category": ["tools"]}` (its subtree too), `{"brand": [...]}`,
    /// `{"family": [...]}`. `text` is a case-insensitive prefix of a SKU, MPN, ref or EAN.
    /// `capability` is `"see"` (the default), `"price"` or `"buy"`. `sort` is `"sku"` (the
    /// default) or `{"attr": "voltage", "descending": True}`. `facets` lists `"brand"`,
    /// `"category"`, `"family"` or `{"attr": name}`. `offset` (default 0) and `limit` (default
    /// 20) page the rows; `cursor` is a page's `next`, to read the page after it. `price_qty`
    /// prices every row (and variant) for that quantity through the batch path, in `currency`
    /// (default the account's).
    #[pyo3(signature = (
        account, *, filters = None, text = None, capability = None, sort = None, offset = None,
        limit = None, cursor = None, facets = None, group_variants = None, price_qty = None,
        currency = None, at = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        filters: Option<&Bound<'_, PyAny>>,
        text: Option<&Bound<'_, PyAny>>,
        capability: Option<&Bound<'_, PyAny>>,
        sort: Option<&Bound<'_, PyAny>>,
        offset: Option<&Bound<'_, PyAny>>,
        limit: Option<&Bound<'_, PyAny>>,
        cursor: Option<&Bound<'_, PyAny>>,
        facets: Option<&Bound<'_, PyAny>>,
        group_variants: Option<&Bound<'_, PyAny>>,
        price_qty: Option<&Bound<'_, PyAny>>,
        currency: Option<&Bound<'_, PyAny>>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<SearchPage> {
        let account = convert::text(account, "account")?;
        let query = SearchArgs {
            filters,
            text,
            capability,
            sort,
            offset,
            limit,
            cursor,
            facets,
            group_variants,
            price_qty,
            currency,
        }
        .query()?;
        let at = At::read(at)?;
        let request = ProductInput {
            account: &account,
            reference: "",
            at: at.wire(),
        };
        let page =
            py.detach(|| guarded(|| request.search(&self.inner, &query).map(SearchPage::from)))??;
        Ok(page)
    }

    /// The products linked to a product (any reference `lookup` accepts, which the account must
    /// see) that the account may see, in the document's order. `kind` is `"requires"`,
    /// `"accessories"`, `"compatible"`, `"excludes"` or `"replacement"` (the first successor
    /// the account may buy).
    #[pyo3(signature = (account, reference, kind, at = None))]
    fn related(
        &self,
        account: &Bound<'_, PyAny>,
        reference: &Bound<'_, PyAny>,
        kind: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<Vec<RelatedProduct>> {
        let account = convert::text(account, "account")?;
        let reference = convert::text(reference, "reference")?;
        let kind: RelationKind = convert::text(kind, "kind")?.parse()?;
        let at = At::read(at)?;
        let request = ProductInput {
            account: &account,
            reference: &reference,
            at: at.wire(),
        };
        // Not released from the GIL: a few lookups, shorter than a release and reacquire.
        let related = guarded(|| request.related(&self.inner, kind))??;
        Ok(related.into_iter().map(RelatedProduct::from).collect())
    }

    /// Prices many lines at once, in parallel, without holding the GIL.
    ///
    /// Either three columns (`accounts`, `skus`, `qtys`: lists, numpy arrays or pyarrow
    /// arrays) or one table with columns `account`, `sku`, `qty` (a pyarrow Table or anything
    /// with `__arrow_c_stream__`). Returns a pyarrow Table with one row per line: `status`
    /// (`OK` or the error code of that row; a bad row does not fail the batch), `unit_price`
    /// and `line_total` (`decimal128`, null unless `OK`), `currency` and `buyable` (whether the
    /// account may buy the product, as `Quote.buyable`; null unless `OK`).
    ///
    /// The batch is priced as one, on the core's threads; every 20 ms this thread checks for
    /// signals (Ctrl-C raises `KeyboardInterrupt`, tens of milliseconds later) and calls
    /// `progress(done, total)` if given and rows were priced since its last call (a tqdm bar's
    /// `update` fits: `lambda done, total: bar.update(done - bar.n)`).
    ///
    /// `at` is one instant for every line, or a column of them (a list or an Arrow array of
    /// strings, dates or aware datetimes; a table's own `at` column is used when `at` is not
    /// given). `detail=True` adds each line's `product` (the SKU it priced), `rule` (the one
    /// that set its price), `base_price`, `list_price` and `cost`; `keep=True` returns the
    /// input table's columns first, so that the caller's own columns ride along.
    #[pyo3(signature = (accounts, skus = None, qtys = None, at = None, currency = None, *, progress = None, detail = false, keep = false))]
    #[allow(clippy::too_many_arguments)]
    fn quote_many<'py>(
        &self,
        py: Python<'py>,
        accounts: &Bound<'py, PyAny>,
        skus: Option<&Bound<'py, PyAny>>,
        qtys: Option<&Bound<'py, PyAny>>,
        at: Option<&Bound<'py, PyAny>>,
        currency: Option<&Bound<'py, PyAny>>,
        progress: Option<Py<PyAny>>,
        detail: bool,
        keep: bool,
    ) -> Result<Bound<'py, PyAny>> {
        let columns = crate::batch::Columns {
            accounts,
            skus,
            qtys,
            at,
            currency,
            detail,
            keep,
        };
        crate::batch::quote_many(py, &self.inner, columns, progress)
    }

    /// Warnings found while compiling (an accepted document has no errors).
    #[getter]
    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.inner
            .diagnostics()
            .iter()
            .map(Diagnostic::from)
            .collect()
    }

    /// Stable content hash of the compiled document; every quote carries it.
    #[getter]
    fn engine_version(&self) -> &str {
        &self.version
    }

    /// Every SKU of the catalog, in document order.
    fn skus(&self) -> Vec<&str> {
        self.inner.skus().collect()
    }

    /// Every account with its `parent`, `root` (the top of its hierarchy) and `segments` (its
    /// own and its ancestors'), as a pyarrow Table: what order lines join with to aggregate
    /// by customer group.
    fn accounts_table<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        crate::simulate::accounts_table(py, &self.inner)
    }

    /// Every account id, in document order.
    fn accounts(&self) -> Vec<&str> {
        self.inner.accounts().collect()
    }

    /// Declared currency codes.
    fn currencies(&self) -> Vec<&str> {
        self.inner.currencies().collect()
    }

    /// Rebuilds the engine from its document text, in this or another process.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let from_json = py.get_type::<Engine>().getattr("from_json")?;
        let source = slf.get().inner.source().unwrap_or("");
        Ok((from_json, PyTuple::new(py, [source])?))
    }

    fn __repr__(&self) -> String {
        format!(
            "<tarif.Engine {}: {} products, {} accounts>",
            self.version,
            self.inner.skus().len(),
            self.inner.accounts().len()
        )
    }
}

/// The arguments of `quote` and `explain`, read in their order.
struct Line<'a> {
    account: &'a str,
    product: &'a str,
    qty: QtyInput,
    at: At,
    currency: Option<&'a str>,
}

impl<'a> Line<'a> {
    fn read(
        account: &'a Bound<'_, PyAny>,
        sku: &'a Bound<'_, PyAny>,
        qty: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&'a Bound<'_, PyAny>>,
    ) -> Result<Line<'a>> {
        Ok(Line {
            account: convert::borrowed_text(account, "account")?,
            product: convert::borrowed_text(sku, "sku")?,
            qty: quantity(qty)?,
            at: At::read(at)?,
            currency: convert::optional_borrowed_text(currency, "currency")?,
        })
    }

    fn wire(&self) -> QuoteInput<'_> {
        QuoteInput {
            account: self.account,
            reference: self.product,
            qty: self.qty.clone(),
            at: self.at.wire(),
            currency: self.currency,
        }
    }
}

/// The account, the product reference (named `what`) and the instant of a product query.
fn product_args(
    account: &Bound<'_, PyAny>,
    reference: &Bound<'_, PyAny>,
    what: &str,
    at: Option<&Bound<'_, PyAny>>,
) -> Result<(String, String, At)> {
    Ok((
        convert::text(account, "account")?,
        convert::text(reference, what)?,
        At::read(at)?,
    ))
}
