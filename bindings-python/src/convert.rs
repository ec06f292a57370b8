//! Python values in and out: quantities, instants and decimals.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyType};
use tarif::money::parse_decimal;
use tarif::{Decimal, Instant, QueryError};

use crate::errors::{input, Failure, Result};

fn decimal_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    CLASS.import(py, "decimal", "Decimal")
}

fn datetime_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    CLASS.import(py, "datetime", "datetime")
}

fn date_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    CLASS.import(py, "datetime", "date")
}

fn epoch(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static EPOCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    EPOCH
        .get_or_try_init(py, || {
            let utc = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
            let epoch = datetime_class(py)?.call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
            Ok::<_, PyErr>(epoch.unbind())
        })
        .map(|e| e.bind(py))
}

/// A `decimal.Decimal` with exactly the digits (and so the scale) Rust printed.
pub(crate) fn to_decimal(py: Python<'_>, value: Decimal) -> PyResult<Bound<'_, PyAny>> {
    decimal_class(py)?.call1((value.to_string(),))
}

/// An optional `decimal.Decimal`.
pub(crate) fn to_optional_decimal(
    py: Python<'_>,
    value: Option<Decimal>,
) -> PyResult<Option<Bound<'_, PyAny>>> {
    value.map(|v| to_decimal(py, v)).transpose()
}

/// An aware UTC `datetime` for an instant.
pub(crate) fn to_datetime(py: Python<'_>, instant: Instant) -> PyResult<Bound<'_, PyAny>> {
    let delta = py
        .import("datetime")?
        .getattr("timedelta")?
        .call1((0, 0, instant.0))?;
    epoch(py)?.add(delta)
}

/// The `FLOAT_REJECTED` error: `what` is what the float was meant to be (`"a quantity"`).
fn float_rejected(what: &str) -> Failure {
    input(
        "FLOAT_REJECTED",
        format!(
            "a float cannot be {what}: binary floating point holds most decimal amounts only \
             approximately (0.1 is stored as 0.1000000000000000055511151231257827), and tarif \
             computes with exact decimals; pass a decimal.Decimal, an int or a str such as \"2.5\""
        ),
    )
}

/// A quantity as the caller gave it.
pub(crate) enum Quantity {
    Exact(Decimal),
    /// A string (or a non-finite `Decimal`) that is not a decimal number.
    Unreadable(String),
}

impl Quantity {
    /// The decimal, or the core's own `INVALID_QUANTITY` naming the text.
    pub(crate) fn exact(self) -> Result<Decimal> {
        match self {
            Quantity::Exact(qty) => Ok(qty),
            Quantity::Unreadable(text) => Err(QueryError::InvalidQuantity(text).into()),
        }
    }
}

/// A quantity from a `Decimal`, an `int` (numpy integers included) or a `str`; a float is a
/// type error, because it cannot carry an exact decimal.
pub(crate) fn quantity(value: &Bound<'_, PyAny>) -> Result<Quantity> {
    exact_number(value, "a quantity")
}

/// An exact number (`Decimal`, `int`, numpy integer or `str`) that is `what`; a bool or a float
/// is refused.
pub(crate) fn exact_number(value: &Bound<'_, PyAny>, what: &str) -> Result<Quantity> {
    let py = value.py();
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(decimal_text(&text.to_cow()?));
    }
    if value.is_instance_of::<PyBool>() {
        return Err(input("INVALID_TYPE", format!("a bool cannot be {what}")));
    }
    if value.is_instance_of::<PyInt>() {
        return integer(value);
    }
    if value.is_instance_of::<PyFloat>() {
        return Err(float_rejected(what));
    }
    if value.is_instance(decimal_class(py)?)? {
        // `format(d, "f")` never uses an exponent, which the exact parser refuses.
        let text: String = value.call_method1("__format__", ("f",))?.extract()?;
        return Ok(decimal_text(&text));
    }
    if value.hasattr("__index__")? {
        // numpy integers are not `int`s but convert losslessly to one.
        return integer(&value.call_method0("__index__")?);
    }
    if value.hasattr("__float__")? {
        return Err(float_rejected(what));
    }
    Err(input(
        "INVALID_TYPE",
        format!(
            "{what} must be a decimal.Decimal, an int or a str, not {}",
            value.get_type().name()?
        ),
    ))
}

fn integer(int: &Bound<'_, PyAny>) -> Result<Quantity> {
    Ok(match int.extract::<i64>() {
        Ok(i) => Quantity::Exact(Decimal::from(i)),
        // Beyond i64: through its digits, which the decimal holds up to 28 of.
        Err(_) => decimal_text(&int.str()?.to_cow()?),
    })
}

fn decimal_text(text: &str) -> Quantity {
    parse_decimal(text).map_or_else(|| Quantity::Unreadable(text.to_string()), Quantity::Exact)
}

/// The instant of a query: `None` (now), an aware `datetime`, a `date` (its first instant in the
/// document's timezone) or an RFC 3339 / `YYYY-MM-DD` string. `account` is the query's account,
/// if it has one.
pub(crate) fn instant(
    engine: &tarif::Engine,
    account: Option<&str>,
    at: Option<&Bound<'_, PyAny>>,
) -> Result<Option<Instant>> {
    let Some(at) = at else {
        return Ok(None);
    };
    let py = at.py();
    if let Ok(text) = at.cast::<PyString>() {
        let text = text.to_cow()?;
        return engine.parse_instant(&text).map(Some).map_err(|err| {
            // The core checks the account before the instant (docs/spec.md §9); the instant is
            // parsed here first, so restore that precedence on the error path.
            match account {
                Some(account) if !engine.has_account(account) => {
                    QueryError::UnknownAccount(account.to_string()).into()
                }
                _ => err.into(),
            }
        });
    }
    if at.is_instance(datetime_class(py)?)? {
        if at.call_method0("utcoffset")?.is_none() {
            return Err(input(
                "NAIVE_DATETIME",
                "a naive datetime names no instant: give it a tzinfo (datetime.timezone.utc, \
                 zoneinfo.ZoneInfo(\"Europe/Paris\")…), or pass a date to mean the start of that \
                 day in the document's timezone",
            ));
        }
        let delta = at.sub(epoch(py)?)?;
        let days: i64 = delta.getattr("days")?.extract()?;
        let seconds: i64 = delta.getattr("seconds")?.extract()?;
        let micros: i64 = delta.getattr("microseconds")?.extract()?;
        // |days| ≤ 3.7e6 for any datetime, so this cannot overflow.
        return Ok(Some(Instant::from_unix_micros(
            days * 86_400_000_000 + seconds * 1_000_000 + micros,
        )));
    }
    if at.is_instance(date_class(py)?)? {
        let text: String = at.call_method0("isoformat")?.extract()?;
        return engine.parse_instant(&text).map(Some).map_err(Failure::from);
    }
    Err(input(
        "INVALID_TYPE",
        format!(
            "`at` must be an aware datetime, a date or an RFC 3339 string, not {}",
            at.get_type().name()?
        ),
    ))
}

/// The Python type name of a value, for error messages.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}
