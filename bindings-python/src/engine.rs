//! `tarif.Engine`: a compiled rules document, shared by every Python thread.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use tarif::{CompileOptions, Decimal, QueryError, QuoteRequest};

use crate::convert::{instant, quantity, Quantity};
use crate::errors::{guarded, Result};
use crate::objects::{Capabilities, Diagnostic, Explanation, Quote};
use crate::pages::{RelatedProduct, SearchPage};
use crate::search::{relation_kind, SearchArgs};

/// A compiled `tarif/1` rules document: immutable, safe to share across threads, picklable.
///
/// Build one with `Engine.from_json`, `Engine.from_path` or `Engine.from_dict`; a rejected
/// document raises `tarif.CompileError` listing every problem. Query errors raise
/// `tarif.QuoteError` with a stable `.code`.
#[pyclass(frozen, module = "tarif")]
pub(crate) struct Engine {
    pub(crate) inner: Arc<tarif::Engine>,
    version: Arc<str>,
    /// The document text, so that pickling ships the rules rather than the compiled indexes.
    source: String,
}

impl Engine {
    fn compile(py: Python<'_>, source: String, strict: bool) -> Result<Engine> {
        let options = CompileOptions {
            strict,
            ..CompileOptions::default()
        };
        let compiled = py.detach(|| guarded(|| tarif::Engine::compile(&source, &options)))??;
        let engine = compiled.engine;
        Ok(Engine {
            version: Arc::from(engine.engine_version()),
            inner: Arc::new(engine),
            source,
        })
    }
}

#[pymethods]
impl Engine {
    /// Compiles a `tarif/1` JSON document. With `strict=True`, warnings reject it too.
    #[staticmethod]
    #[pyo3(signature = (text, *, strict = false))]
    fn from_json(py: Python<'_>, text: String, strict: bool) -> Result<Engine> {
        Engine::compile(py, text, strict)
    }

    /// Compiles the `tarif/1` JSON document in a UTF-8 file.
    #[staticmethod]
    #[pyo3(signature = (path, *, strict = false))]
    fn from_path(py: Python<'_>, path: &Bound<'_, PyAny>, strict: bool) -> Result<Engine> {
        // Read through pathlib so that a missing file raises the usual OSError naming the path.
        let kwargs = PyDict::new(py);
        kwargs.set_item("encoding", "utf-8")?;
        let text: String = py
            .import("pathlib")?
            .getattr("Path")?
            .call1((path,))?
            .call_method("read_text", (), Some(&kwargs))?
            .extract()?;
        Engine::compile(py, text, strict)
    }

    /// Compiles a document given as Python data (what `json.loads` returns).
    #[staticmethod]
    #[pyo3(signature = (document, *, strict = false))]
    fn from_dict(py: Python<'_>, document: &Bound<'_, PyAny>, strict: bool) -> Result<Engine> {
        let text: String = py
            .import("json")?
            .call_method1("dumps", (document,))?
            .extract()?;
        Engine::compile(py, text, strict)
    }

    /// Prices `qty` of a product (any reference `lookup` accepts) for an account.
    ///
    /// `qty` is a `Decimal`, an `int` or a `str` (a float raises `TypeError`); `at` is an aware
    /// `datetime`, a `date` (its start in the document's timezone) or an RFC 3339 string, and
    /// defaults to now; `currency` defaults to the account's.
    #[pyo3(signature = (account, sku, qty, at = None, currency = None))]
    fn quote(
        &self,
        account: &str,
        sku: &str,
        qty: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&str>,
    ) -> Result<Quote> {
        // An unreadable quantity is priced as zero, so that the core reports first the errors
        // that take precedence over the quantity (docs/spec.md §9), then its own
        // INVALID_QUANTITY, which is given back the caller's text.
        let (qty, unreadable) = match quantity(qty)? {
            Quantity::Exact(qty) => (qty, None),
            Quantity::Unreadable(text) => (Decimal::ZERO, Some(text)),
        };
        let request = QuoteRequest {
            account,
            product: sku,
            qty,
            at: instant(&self.inner, Some(account), at)?,
            currency,
        };
        // Not released from the GIL: a quote is shorter than a release and reacquire.
        let quote = guarded(|| {
            self.inner
                .quote(&request)
                .map(|q| Quote::new(&q, &self.version))
        })?;
        match (quote, unreadable) {
            (Err(QueryError::InvalidQuantity(_)), Some(text)) => {
                Err(QueryError::InvalidQuantity(text).into())
            }
            (quote, _) => Ok(quote?),
        }
    }

    /// The trusted back-office view of a quote: every rule that spoke to the product in every
    /// step, which won and why the others lost, and the visibility decision behind it. Unlike
    /// `quote`, it also explains products hidden from the account.
    #[pyo3(signature = (account, sku, qty, at = None, currency = None))]
    fn explain(
        &self,
        py: Python<'_>,
        account: &str,
        sku: &str,
        qty: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        currency: Option<&str>,
    ) -> Result<Explanation> {
        let request = QuoteRequest {
            account,
            product: sku,
            qty: quantity(qty)?.exact()?,
            at: instant(&self.inner, Some(account), at)?,
            currency,
        };
        let explanation = py.detach(|| guarded(|| self.inner.explain(&request)))??;
        Ok(Explanation(explanation))
    }

    /// What the account may do with the product: `see`, see the `price`, `buy`.
    #[pyo3(signature = (account, sku, at = None))]
    fn visibility(
        &self,
        account: &str,
        sku: &str,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<Capabilities> {
        let at = instant(&self.inner, Some(account), at)?;
        let caps = guarded(|| self.inner.visibility(account, sku, at))??;
        Ok(caps.into())
    }

    /// The SKU a reference means for the account: its aliases (and its ancestors'), then SKU,
    /// EAN, manufacturer and other references. A product the account may not see is unknown.
    #[pyo3(signature = (account, reference, at = None))]
    fn lookup(
        &self,
        account: &str,
        reference: &str,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<String> {
        let at = instant(&self.inner, Some(account), at)?;
        let sku = guarded(|| match at {
            Some(at) => self
                .inner
                .lookup_at(account, reference, at)
                .map(str::to_string),
            None => self.inner.lookup(account, reference).map(str::to_string),
        })??;
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
    /// `capability` is `"see"`, `"price"` or `"buy"`. `sort` is `"sku"` (the default) or
    /// `{"attr": "voltage", "descending": True}`. `facets` lists `"brand"`, `"category"`,
    /// `"family"` or `{"attr": name}`. `cursor` is a page's `next`, to read the page after it.
    /// `price_qty` prices every row (and variant) for that quantity through the batch path, in
    /// `currency` (default the account's).
    #[pyo3(signature = (
        account, *, filters = None, text = None, capability = "see", sort = None, offset = 0,
        limit = 20, cursor = None, facets = None, group_variants = false, price_qty = None,
        currency = None, at = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        account: &str,
        filters: Option<&Bound<'_, PyAny>>,
        text: Option<String>,
        capability: &str,
        sort: Option<&Bound<'_, PyAny>>,
        offset: i64,
        limit: i64,
        cursor: Option<&str>,
        facets: Option<&Bound<'_, PyAny>>,
        group_variants: bool,
        price_qty: Option<&Bound<'_, PyAny>>,
        currency: Option<String>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<SearchPage> {
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
        let at = instant(&self.inner, Some(account), at)?;
        let page = py.detach(|| {
            guarded(|| self.inner.search(account, &query, at).map(SearchPage::from))
        })??;
        Ok(page)
    }

    /// The products linked to a product (any reference `lookup` accepts, which the account must
    /// see) that the account may see, in the document's order. `kind` is `"requires"`,
    /// `"accessories"`, `"compatible"`, `"excludes"` or `"replacement"` (the first successor
    /// the account may buy).
    #[pyo3(signature = (account, reference, kind, at = None))]
    fn related(
        &self,
        account: &str,
        reference: &str,
        kind: &str,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<Vec<RelatedProduct>> {
        let kind = relation_kind(kind)?;
        let at = instant(&self.inner, Some(account), at)?;
        // Not released from the GIL: a few lookups, shorter than a release and reacquire.
        let related = guarded(|| self.inner.related(account, reference, kind, at))??;
        Ok(related.into_iter().map(RelatedProduct::from).collect())
    }

    /// Prices many lines at once, in parallel, without holding the GIL.
    ///
    /// Either three columns (`accounts`, `skus`, `qtys`: lists, numpy arrays or pyarrow
    /// arrays) or one table with columns `account`, `sku`, `qty` (a pyarrow Table or anything
    /// with `__arrow_c_stream__`). Returns a pyarrow Table with one row per line: `status`
    /// (`OK` or the error code of that row; a bad row does not fail the batch), `unit_price`
    /// and `line_total` (`decimal128`, null unless `OK`) and `currency`.
    #[pyo3(signature = (accounts, skus = None, qtys = None, at = None, currency = None))]
    fn quote_many<'py>(
        &self,
        py: Python<'py>,
        accounts: &Bound<'py, PyAny>,
        skus: Option<&Bound<'py, PyAny>>,
        qtys: Option<&Bound<'py, PyAny>>,
        at: Option<&Bound<'py, PyAny>>,
        currency: Option<&str>,
    ) -> Result<Bound<'py, PyAny>> {
        let at = instant(&self.inner, None, at)?;
        crate::batch::quote_many(py, &self.inner, accounts, skus, qtys, at, currency)
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
        Ok((from_json, PyTuple::new(py, [&slf.get().source])?))
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
