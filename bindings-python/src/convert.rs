//! Python values in and out: texts, quantities, instants and decimals, read into the core's
//! wire requests (`tarif::wire`), which apply the error precedence.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyType};
use tarif::wire::{AtInput, InputCode, QtyInput};
use tarif::{Decimal, Instant};

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
    let mut text = String::with_capacity(24);
    tarif::money::push_decimal(&mut text, value);
    decimal_class(py)?.call1((text,))
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
        InputCode::FloatRejected,
        format!(
            "a float cannot be {what}: binary floating point holds most decimal amounts only \
             approximately (0.1 is stored as 0.1000000000000000055511151231257827), and tarif \
             computes with exact decimals; pass a decimal.Decimal, an int or a str such as \"2.5\""
        ),
    )
}

/// A `str` argument; `what` names it in the error (`"account"`).
pub(crate) fn text(value: &Bound<'_, PyAny>, what: &str) -> Result<String> {
    borrowed_text(value, what).map(str::to_string)
}

/// A `str` argument read in place, for a call that needs it only while it runs.
pub(crate) fn borrowed_text<'a>(value: &'a Bound<'_, PyAny>, what: &str) -> Result<&'a str> {
    let text = value.cast::<PyString>().map_err(|_| {
        input(
            InputCode::InvalidType,
            format!("`{what}` must be a str, not {}", type_name(value)),
        )
    })?;
    text.to_str().map_err(|_| {
        input(
            InputCode::InvalidText,
            format!("`{what}` is not valid Unicode text: it holds a lone surrogate"),
        )
    })
}

/// An optional `str` argument: `None` (or nothing) is absent.
pub(crate) fn optional_text(
    value: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> Result<Option<String>> {
    Ok(optional_borrowed_text(value, what)?.map(str::to_string))
}

/// An optional `str` argument read in place.
pub(crate) fn optional_borrowed_text<'a>(
    value: Option<&'a Bound<'_, PyAny>>,
    what: &str,
) -> Result<Option<&'a str>> {
    match value {
        Some(v) if !v.is_none() => borrowed_text(v, what).map(Some),
        _ => Ok(None),
    }
}

/// A quantity from a `Decimal`, an `int` (numpy integers included) or a `str`; a float is a
/// type error, because it cannot carry an exact decimal.
pub(crate) fn quantity(value: &Bound<'_, PyAny>) -> Result<QtyInput> {
    exact_number(value, "a quantity")
}

/// An exact number (`Decimal`, `int`, numpy integer or `str`) that is `what`; a bool or a float
/// is refused.
pub(crate) fn exact_number(value: &Bound<'_, PyAny>, what: &str) -> Result<QtyInput> {
    let py = value.py();
    if value.is_instance_of::<PyString>() {
        return Ok(QtyInput::from_text(&text(value, what)?));
    }
    if value.is_instance_of::<PyBool>() {
        return Err(input(
            InputCode::InvalidType,
            format!("a bool cannot be {what}"),
        ));
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
        return Ok(QtyInput::from_text(&text));
    }
    if value.hasattr("__index__")? {
        // numpy integers are not `int`s but convert losslessly to one.
        return integer(&value.call_method0("__index__")?);
    }
    if value.hasattr("__float__")? {
        return Err(float_rejected(what));
    }
    Err(input(
        InputCode::InvalidType,
        format!(
            "{what} must be a decimal.Decimal, an int or a str, not {}",
            type_name(value)
        ),
    ))
}

fn integer(int: &Bound<'_, PyAny>) -> Result<QtyInput> {
    Ok(match int.extract::<i64>() {
        Ok(i) => QtyInput::Decimal(Decimal::from(i)),
        // Beyond i64: through its digits, which the decimal holds up to 28 of.
        Err(_) => QtyInput::from_text(&int.str()?.to_cow()?),
    })
}

/// The instant of a query as given, owned, for [`At::wire`].
pub(crate) enum At {
    Now,
    Exact(Instant),
    Text(String),
}

impl At {
    /// `None` (now), an aware `datetime`, a `date` (its first instant in the document's
    /// timezone) or an RFC 3339 / `YYYY-MM-DD` string, which the core parses in its turn.
    pub(crate) fn read(at: Option<&Bound<'_, PyAny>>) -> Result<At> {
        let Some(at) = at.filter(|at| !at.is_none()) else {
            return Ok(At::Now);
        };
        let py = at.py();
        if at.is_instance_of::<PyString>() {
            return text(at, "at").map(At::Text);
        }
        if at.is_instance(datetime_class(py)?)? {
            if at.call_method0("utcoffset")?.is_none() {
                return Err(input(
                    InputCode::NaiveDatetime,
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
            return Ok(At::Exact(Instant::from_unix_micros(
                days * 86_400_000_000 + seconds * 1_000_000 + micros,
            )));
        }
        if at.is_instance(date_class(py)?)? {
            return Ok(At::Text(at.call_method0("isoformat")?.extract()?));
        }
        Err(input(
            InputCode::InvalidType,
            format!(
                "`at` must be an aware datetime, a date or an RFC 3339 string, not {}",
                type_name(at)
            ),
        ))
    }

    /// What the core's wire requests take.
    pub(crate) fn wire(&self) -> AtInput<'_> {
        match self {
            At::Now => AtInput::Now,
            At::Exact(at) => AtInput::Instant(*at),
            At::Text(text) => AtInput::Text(text),
        }
    }
}

/// The Python type name of a value, for error messages.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}
