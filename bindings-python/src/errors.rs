//! The one mapping from everything that can go wrong to the Python exception hierarchy of
//! `tarif._errors` (`TarifError` and its `CompileError`, `QuoteError`, `InputError`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};
use tarif::wire::arrow::ColumnError;
use tarif::wire::{InputCode, UnknownName};
use tarif::{CompileError, QueryError, SnapshotError};

use crate::convert::to_decimal;

/// Why a binding call failed.
pub(crate) enum Failure {
    /// The document was rejected.
    Compile(CompileError),
    /// The core answered a query with an error.
    Query(QueryError),
    /// A Python value the binding cannot turn into what the core takes.
    Input { code: InputCode, message: String },
    /// A snapshot could not be written or read.
    Snapshot(SnapshotError),
    /// A Rust panic: a bug, reported instead of unwinding into Python.
    Internal(String),
    /// An exception raised by Python code the binding called (pyarrow, json, pathlib).
    Python(PyErr),
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

/// Bad Python input, with a stable code and a message that says what to pass instead.
pub(crate) fn input(code: InputCode, message: impl Into<String>) -> Failure {
    Failure::Input {
        code,
        message: message.into(),
    }
}

/// Runs a core call so that a panic becomes [`Failure::Internal`] rather than a
/// `pyo3_runtime.PanicException`, which derives from `BaseException` and escapes `except
/// Exception` handlers.
pub(crate) fn guarded<T>(call: impl FnOnce() -> T) -> Result<T> {
    catch_unwind(AssertUnwindSafe(call)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic without a message".into());
        Failure::Internal(message)
    })
}

impl From<PyErr> for Failure {
    fn from(err: PyErr) -> Self {
        Failure::Python(err)
    }
}

impl From<QueryError> for Failure {
    fn from(err: QueryError) -> Self {
        Failure::Query(err)
    }
}

impl From<CompileError> for Failure {
    fn from(err: CompileError) -> Self {
        Failure::Compile(err)
    }
}

impl From<SnapshotError> for Failure {
    fn from(err: SnapshotError) -> Self {
        Failure::Snapshot(err)
    }
}

impl From<arrow_schema::ArrowError> for Failure {
    fn from(err: arrow_schema::ArrowError) -> Self {
        input(InputCode::InvalidBatch, err.to_string())
    }
}

impl From<ColumnError> for Failure {
    fn from(err: ColumnError) -> Self {
        input(err.code, err.message)
    }
}

impl From<UnknownName> for Failure {
    fn from(err: UnknownName) -> Self {
        input(err.code, err.to_string())
    }
}

impl From<Failure> for PyErr {
    fn from(failure: Failure) -> PyErr {
        Python::attach(|py| exception(py, failure).unwrap_or_else(|err| err))
    }
}

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("tarif._errors")?.unbind()))
        .map(|m| m.bind(py))
}

fn exception(py: Python<'_>, failure: Failure) -> PyResult<PyErr> {
    let details = PyDict::new(py);
    let (class, message, code, details) = match failure {
        Failure::Python(err) => return Ok(err),
        Failure::Compile(err) => {
            let list = PyList::empty(py);
            for d in &err.diagnostics {
                let item = PyDict::new(py);
                item.set_item("code", d.code.code())?;
                item.set_item("severity", d.severity().as_str())?;
                item.set_item("path", &d.path)?;
                item.set_item("message", &d.message)?;
                item.set_item("ids", &d.ids)?;
                list.append(item)?;
            }
            ("CompileError", err.to_string(), err.code(), list.into_any())
        }
        // Columns of different lengths are a mistake in the caller's input, not an answer.
        Failure::Query(QueryError::InvalidBatch(message)) => (
            "InputError",
            format!("invalid batch: {message}"),
            InputCode::InvalidBatch.code(),
            details.into_any(),
        ),
        Failure::Query(err) => {
            query_details(&details, &err)?;
            (
                "QuoteError",
                err.to_string(),
                err.code(),
                details.into_any(),
            )
        }
        // A file that cannot be read or written is an `OSError`, as for `Engine.from_path`.
        Failure::Snapshot(err @ SnapshotError::Io { .. }) => {
            let err = pyo3::exceptions::PyOSError::new_err(err.to_string());
            err.value(py).setattr("code", "IO_ERROR")?;
            return Ok(err);
        }
        Failure::Snapshot(err) => (
            "SnapshotError",
            err.to_string(),
            err.code(),
            details.into_any(),
        ),
        Failure::Input { code, message } => {
            ("InputError", message, code.code(), details.into_any())
        }
        Failure::Internal(message) => (
            "TarifError",
            format!("internal error in tarif (a bug; please report it): {message}"),
            "INTERNAL",
            details.into_any(),
        ),
    };
    let instance = errors_module(py)?
        .getattr(class)?
        .call1((message, code, details))?;
    Ok(PyErr::from_value(instance))
}

/// The structured part of a query error: the values its message names.
pub(crate) fn query_details(details: &Bound<'_, PyDict>, err: &QueryError) -> PyResult<()> {
    let py = details.py();
    match err {
        QueryError::UnknownAccount(account) => details.set_item("account", account),
        QueryError::UnknownProduct(reference) => details.set_item("ref", reference),
        QueryError::PriceHidden(sku) | QueryError::Overflow(sku) | QueryError::NotBuyable(sku) => {
            details.set_item("sku", sku)
        }
        QueryError::NoPrice {
            sku,
            currency,
            priced_in,
        } => {
            details.set_item("sku", sku)?;
            details.set_item("currency", currency)?;
            details.set_item("priced_in", priced_in)
        }
        QueryError::QuantityRule { sku, qty, nearest } => {
            details.set_item("sku", sku)?;
            details.set_item("qty", to_decimal(py, *qty)?)?;
            details.set_item("nearest", to_decimal(py, *nearest)?)
        }
        QueryError::InvalidQuantity(qty) => details.set_item("qty", qty),
        QueryError::UnknownCurrency(currency) => details.set_item("currency", currency),
        QueryError::InvalidInstant(at) => details.set_item("at", at),
        QueryError::UnknownUser(user) => details.set_item("user", user),
        QueryError::InvalidBatch(_)
        | QueryError::InvalidOrderText(_)
        | QueryError::QuoteInvalid(_)
        | QueryError::QuoteTampered => Ok(()),
        QueryError::MinimumOrder { minimum, missing } => {
            details.set_item("minimum", to_decimal(py, *minimum)?)?;
            details.set_item("missing", to_decimal(py, *missing)?)
        }
        QueryError::PriceBound {
            sku,
            price,
            bound,
            limit,
            rule,
        } => {
            details.set_item("sku", sku)?;
            details.set_item("price", to_decimal(py, *price)?)?;
            details.set_item("bound", bound)?;
            details.set_item("limit", to_decimal(py, *limit)?)?;
            details.set_item("rule", rule)
        }
        QueryError::QuoteExpired { valid_until, at } => {
            details.set_item("valid_until", valid_until)?;
            details.set_item("at", at)
        }
        QueryError::QuoteKey(len) => details.set_item("key_len", len),
    }
}
