//! The frozen objects `Engine.search` and `Engine.related` return. Like the quote objects, they
//! keep Rust values and build `Decimal`s, tuples and dicts when an attribute is read.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use tarif::{Decimal, Status};

use crate::convert::to_decimal;
use crate::objects::{py_bool, Capabilities};

fn capabilities(c: tarif::Capabilities) -> Capabilities {
    c.into()
}

/// One page of a search: its rows, the size of the whole result, the facet counts, and the
/// cursor of the next page.
#[pyclass(frozen, eq, module = "tarif")]
#[derive(PartialEq)]
pub(crate) struct SearchPage {
    rows: Vec<SearchRow>,
    total: u64,
    next: Option<String>,
    facets: Vec<FacetCounts>,
}

impl From<tarif::SearchPage> for SearchPage {
    fn from(page: tarif::SearchPage) -> Self {
        SearchPage {
            rows: page.rows.into_iter().map(SearchRow::from).collect(),
            total: page.total,
            next: page.next.map(|c| c.to_string()),
            facets: page.facets.into_iter().map(FacetCounts::from).collect(),
        }
    }
}

#[pymethods]
impl SearchPage {
    /// The rows of the page, in the query's order.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.rows.iter().cloned())
    }
    /// Rows in the whole result (a family counts once when variants are grouped).
    #[getter]
    fn total(&self) -> u64 {
        self.total
    }
    /// Opaque cursor of the next page (pass it as `cursor=`), `None` on the last page.
    #[getter]
    fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }
    /// The requested facets, in request order.
    #[getter]
    fn facets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.facets.iter().cloned())
    }
    /// The SKUs of the rows (for a family row, its leading variant's).
    fn skus(&self) -> Vec<&str> {
        self.rows.iter().map(|r| r.sku.as_str()).collect()
    }
    /// The counts of one facet by its name (`"brand"`, `"category"`, `"family"` or the
    /// attribute's name) as `{value: count}`; `KeyError` when it was not requested.
    fn facet<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyDict>> {
        match self.facets.iter().find(|f| f.name == name) {
            Some(f) => f.counts(py),
            None => Err(pyo3::exceptions::PyKeyError::new_err(name.to_string())),
        }
    }

    fn __repr__(&self) -> String {
        let facets: Vec<&str> = self.facets.iter().map(|f| f.name.as_str()).collect();
        format!(
            "SearchPage(total={}, rows={:?}, next={}, facets={:?})",
            self.total,
            self.skus(),
            optional(self.next.as_deref()),
            facets
        )
    }
}

fn optional(text: Option<&str>) -> String {
    text.map_or_else(|| "None".into(), |t| format!("{t:?}"))
}

/// A row of a search page: a product, or with `group_variants=True` a family (led by its first
/// matching variant) or a product without family.
#[pyclass(frozen, eq, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq)]
pub(crate) struct SearchRow {
    sku: String,
    name: Option<String>,
    brand: Option<String>,
    family: Option<String>,
    capabilities: tarif::Capabilities,
    variants: Vec<Variant>,
    price: Option<RowPrice>,
}

impl From<tarif::SearchRow> for SearchRow {
    fn from(row: tarif::SearchRow) -> Self {
        SearchRow {
            sku: row.sku,
            name: row.name,
            brand: row.brand,
            family: row.family,
            capabilities: row.capabilities,
            variants: row.variants.into_iter().map(Variant::from).collect(),
            price: row.price.map(RowPrice::from),
        }
    }
}

#[pymethods]
impl SearchRow {
    /// The product's SKU, or for a family row the SKU of its leading variant.
    #[getter]
    fn sku(&self) -> &str {
        &self.sku
    }
    /// Display name of that product.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// Its brand.
    #[getter]
    fn brand(&self) -> Option<&str> {
        self.brand.as_deref()
    }
    /// Its family.
    #[getter]
    fn family(&self) -> Option<&str> {
        self.family.as_deref()
    }
    /// What the account may do with that product.
    #[getter]
    fn capabilities(&self) -> Capabilities {
        capabilities(self.capabilities)
    }
    /// With `group_variants=True`, the family's matching variants by SKU (the product alone
    /// when it has no family); otherwise empty.
    #[getter]
    fn variants<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.variants.iter().cloned())
    }
    /// The product's price for `price_qty`, `None` when no price was asked for.
    #[getter]
    fn price(&self) -> Option<RowPrice> {
        self.price.clone()
    }

    fn __repr__(&self) -> String {
        let price = self
            .price
            .as_ref()
            .map_or_else(|| "None".into(), RowPrice::__repr__);
        format!(
            "SearchRow(sku={:?}, name={}, variants={}, price={price})",
            self.sku,
            optional(self.name.as_deref()),
            self.variants.len()
        )
    }
}

/// One variant of a family row.
#[pyclass(frozen, eq, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq)]
pub(crate) struct Variant {
    sku: String,
    axes: Vec<(String, String)>,
    capabilities: tarif::Capabilities,
    price: Option<RowPrice>,
}

impl From<tarif::Variant> for Variant {
    fn from(v: tarif::Variant) -> Self {
        Variant {
            sku: v.sku,
            axes: v.axes,
            capabilities: v.capabilities,
            price: v.price.map(RowPrice::from),
        }
    }
}

#[pymethods]
impl Variant {
    /// SKU.
    #[getter]
    fn sku(&self) -> &str {
        &self.sku
    }
    /// Its axes (`{"voltage": "18V"}`), by axis name.
    #[getter]
    fn axes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (axis, value) in &self.axes {
            dict.set_item(axis, value)?;
        }
        Ok(dict)
    }
    /// What the account may do with it.
    #[getter]
    fn capabilities(&self) -> Capabilities {
        capabilities(self.capabilities)
    }
    /// Its price for `price_qty`, `None` when no price was asked for.
    #[getter]
    fn price(&self) -> Option<RowPrice> {
        self.price.clone()
    }

    fn __repr__(&self) -> String {
        let axes: Vec<String> = self
            .axes
            .iter()
            .map(|(k, v)| format!("{k:?}: {v:?}"))
            .collect();
        format!("Variant(sku={:?}, axes={{{}}})", self.sku, axes.join(", "))
    }
}

/// The price of a row or variant, from the batch path: `status` is `"OK"` or the code its
/// quote fails with (`PRICE_HIDDEN`, `NO_PRICE`, `QUANTITY_RULE`…); the amounts and the
/// currency are then `None`.
#[pyclass(frozen, eq, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq)]
pub(crate) struct RowPrice {
    status: Status,
    unit_price: Decimal,
    line_total: Decimal,
    currency: String,
}

impl From<tarif::RowPrice> for RowPrice {
    fn from(p: tarif::RowPrice) -> Self {
        RowPrice {
            status: p.status,
            unit_price: p.unit_price,
            line_total: p.line_total,
            currency: p.currency,
        }
    }
}

impl RowPrice {
    fn ok(&self) -> bool {
        self.status == Status::Ok
    }

    fn amount<'py>(&self, py: Python<'py>, value: Decimal) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.ok().then(|| to_decimal(py, value)).transpose()
    }
}

#[pymethods]
impl RowPrice {
    /// `"OK"` or the error code of the quote.
    #[getter]
    fn status(&self) -> &'static str {
        self.status.code()
    }
    /// Whether the row has a price.
    #[getter(ok)]
    fn is_ok(&self) -> bool {
        self.ok()
    }
    /// Unit price, exactly the quote's; `None` unless `ok`.
    #[getter]
    fn unit_price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.amount(py, self.unit_price)
    }
    /// Line total for the quantity; `None` unless `ok`.
    #[getter]
    fn line_total<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.amount(py, self.line_total)
    }
    /// Currency code; `None` unless `ok`.
    #[getter]
    fn currency(&self) -> Option<&str> {
        self.ok().then_some(self.currency.as_str())
    }

    fn __repr__(&self) -> String {
        if self.ok() {
            format!(
                "RowPrice(unit_price=Decimal('{}'), line_total=Decimal('{}'), currency={:?})",
                self.unit_price, self.line_total, self.currency
            )
        } else {
            format!("RowPrice(status={:?})", self.status.code())
        }
    }
}

/// The counts of one facet: how many visible matching products each value would give (the
/// facet's own filters left out).
#[pyclass(frozen, eq, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq)]
pub(crate) struct FacetCounts {
    kind: &'static str,
    name: String,
    values: Vec<FacetValue>,
}

impl From<tarif::FacetCounts> for FacetCounts {
    fn from(f: tarif::FacetCounts) -> Self {
        let (kind, name) = match f.facet {
            tarif::Facet::Attr(name) => ("attr", name),
            tarif::Facet::Brand => ("brand", "brand".into()),
            tarif::Facet::Category => ("category", "category".into()),
            tarif::Facet::Family => ("family", "family".into()),
            tarif::Facet::InStock => ("in_stock", "in_stock".into()),
        };
        FacetCounts {
            kind,
            name,
            values: f
                .values
                .into_iter()
                .map(|v| FacetValue {
                    value: v.value,
                    count: v.count,
                })
                .collect(),
        }
    }
}

#[pymethods]
impl FacetCounts {
    /// `"attr"`, `"brand"`, `"category"` or `"family"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }
    /// The attribute's name, or the kind for the others.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }
    /// Values with at least one product, and the values the query selects (even at zero), in
    /// the index's value order (numbers ascending, then texts, then booleans).
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.values.iter().cloned())
    }
    /// The same as `{value: count}`, in that order.
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for v in &self.values {
            dict.set_item(&v.value, v.count)?;
        }
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let counts: Vec<String> = self
            .values
            .iter()
            .map(|v| format!("{:?}: {}", v.value, v.count))
            .collect();
        format!(
            "FacetCounts(name={:?}, counts={{{}}})",
            self.name,
            counts.join(", ")
        )
    }
}

/// How many matching products have one value of a facet.
#[pyclass(frozen, eq, hash, get_all, skip_from_py_object, module = "tarif")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct FacetValue {
    /// The value as text (a number in canonical decimal form, a category id, a brand…).
    value: String,
    /// Visible matching products with it.
    count: u64,
}

#[pymethods]
impl FacetValue {
    fn __repr__(&self) -> String {
        format!("FacetValue(value={:?}, count={})", self.value, self.count)
    }
}

/// A product linked to another one that the account may see.
#[pyclass(frozen, eq, module = "tarif")]
#[derive(PartialEq)]
pub(crate) struct RelatedProduct {
    sku: String,
    capabilities: tarif::Capabilities,
}

impl From<tarif::RelatedProduct> for RelatedProduct {
    fn from(r: tarif::RelatedProduct) -> Self {
        RelatedProduct {
            sku: r.sku,
            capabilities: r.capabilities,
        }
    }
}

#[pymethods]
impl RelatedProduct {
    /// SKU.
    #[getter]
    fn sku(&self) -> &str {
        &self.sku
    }
    /// What the account may do with it.
    #[getter]
    fn capabilities(&self) -> Capabilities {
        capabilities(self.capabilities)
    }

    fn __repr__(&self) -> String {
        let c = self.capabilities;
        format!(
            "RelatedProduct(sku={:?}, see={}, price={}, buy={})",
            self.sku,
            py_bool(c.see),
            py_bool(c.price),
            py_bool(c.buy)
        )
    }
}
