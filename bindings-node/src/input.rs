//! Reading JavaScript arguments. Fields arrive untyped so that every malformed input fails with
//! `INVALID_INPUT` and a message naming the field, instead of N-API's generic conversion error.

use napi::bindgen_prelude::{FromNapiValue, JsValue, Unknown};
use napi::{JsDate, ValueType};
use napi_derive::napi;
use tarif::{Decimal, Engine as Core, Instant, QueryError, QuoteRequest};

use crate::error::Failure;

/// One line to price (also what `explain` takes).
#[napi(object, object_to_js = false)]
pub struct QuoteInput<'a> {
    /// Account id.
    #[napi(ts_type = "string")]
    pub account: Unknown<'a>,
    /// Any reference `lookup` accepts: SKU, EAN, MPN, ref or the account's alias.
    #[napi(ts_type = "string")]
    pub sku: Unknown<'a>,
    /// A positive decimal string (`"2.5"`), or an integer number: a fractional JS number cannot
    /// carry an exact decimal and is rejected.
    #[napi(ts_type = "string | number")]
    pub qty: Unknown<'a>,
    /// Instant of the price: a `Date`, an RFC 3339 string, or a `YYYY-MM-DD` date read in the
    /// document's timezone. Default: now.
    #[napi(ts_type = "Date | string")]
    pub at: Option<Unknown<'a>>,
    /// Currency code. Default: the account's, else the document's default.
    #[napi(ts_type = "string")]
    pub currency: Option<Unknown<'a>>,
}

/// What `visibility` takes.
#[napi(object, object_to_js = false)]
pub struct VisibilityInput<'a> {
    /// Account id.
    #[napi(ts_type = "string")]
    pub account: Unknown<'a>,
    /// Any reference `lookup` accepts.
    #[napi(ts_type = "string")]
    pub sku: Unknown<'a>,
    /// Instant of the decision (`Date`, RFC 3339 or `YYYY-MM-DD`). Default: now.
    #[napi(ts_type = "Date | string")]
    pub at: Option<Unknown<'a>>,
}

/// What `lookup` takes.
#[napi(object, object_to_js = false)]
pub struct LookupInput<'a> {
    /// Account id.
    #[napi(ts_type = "string")]
    pub account: Unknown<'a>,
    /// SKU, EAN/GTIN, MPN, other ref, or one of the account's aliases.
    #[napi(js_name = "ref", ts_type = "string")]
    pub reference: Unknown<'a>,
    /// Instant of the visibility check (`Date`, RFC 3339 or `YYYY-MM-DD`). Default: now.
    #[napi(ts_type = "Date | string")]
    pub at: Option<Unknown<'a>>,
}

/// Columns of lines to price: row `i` is `accounts[i]`, `skus[i]`, `qtys[i]`.
#[napi(object, object_to_js = false)]
pub struct BatchInput<'a> {
    /// Account ids.
    #[napi(ts_type = "string[]")]
    pub accounts: Unknown<'a>,
    /// Product references.
    #[napi(ts_type = "string[]")]
    pub skus: Unknown<'a>,
    /// Quantities: decimal strings or integer numbers. An unreadable string fails its row with
    /// `INVALID_QUANTITY`; a fractional number rejects the batch.
    #[napi(ts_type = "Array<string | number>")]
    pub qtys: Unknown<'a>,
    /// One instant for every row, or one per row. Default: now, read once for the batch. An
    /// unparsable instant rejects the batch (`INVALID_INSTANT`).
    #[napi(ts_type = "Date | string | Array<Date | string>")]
    pub at: Option<Unknown<'a>>,
    /// Currency code for every row. Default: each account's.
    #[napi(ts_type = "string")]
    pub currency: Option<Unknown<'a>>,
}

/// Compile options.
#[napi(object)]
pub struct LoadOptions {
    /// Reject the document on warnings too (`STRICT_WARNINGS`).
    pub strict: Option<bool>,
}

/// A quantity as given: readable, or text the core must reject where quantities are checked.
#[derive(Debug, Clone)]
pub enum Qty {
    Value(Decimal),
    Unreadable(String),
}

impl Qty {
    /// The value handed to the core: an unreadable quantity is not positive, so the core fails
    /// it with `INVALID_QUANTITY` exactly where its error precedence checks quantities.
    pub fn value(&self) -> Decimal {
        match self {
            Qty::Value(v) => *v,
            Qty::Unreadable(_) => Decimal::ZERO,
        }
    }

    /// Puts the caller's text back into the core's quantity error.
    pub fn restore(&self, error: QueryError) -> QueryError {
        match (self, error) {
            (Qty::Unreadable(text), QueryError::InvalidQuantity(_)) => {
                QueryError::InvalidQuantity(text.clone())
            }
            (_, other) => other,
        }
    }
}

/// An instant as given.
#[derive(Debug, Clone)]
pub enum At {
    Now,
    Text(String),
    Millis(f64),
}

impl At {
    /// Parses the instant; dates are read in the document's timezone.
    pub fn instant(&self, engine: &Core) -> Result<Option<Instant>, QueryError> {
        match self {
            At::Now => Ok(None),
            At::Text(text) => engine.parse_instant(text).map(Some),
            At::Millis(ms) => Ok(Some(
                Instant::from_unix_micros((ms * 1000.0).round() as i64),
            )),
        }
    }
}

/// One line, read and owned.
#[derive(Debug, Clone)]
pub struct Line {
    pub account: String,
    pub product: String,
    pub qty: Qty,
    pub at: At,
    pub currency: Option<String>,
}

impl Line {
    /// The core request. An unparsable instant is reported after an unknown account, as the
    /// core's precedence wants, although the core only sees parsed instants.
    pub fn request(&self, engine: &Core) -> Result<QuoteRequest<'_>, Failure> {
        let at = instant_after_account(engine, &self.account, &self.at)?;
        Ok(QuoteRequest {
            account: &self.account,
            product: &self.product,
            qty: self.qty.value(),
            at,
            currency: self.currency.as_deref(),
        })
    }
}

/// Parses `at`, reporting an unknown account first when both are wrong.
pub fn instant_after_account(
    engine: &Core,
    account: &str,
    at: &At,
) -> Result<Option<Instant>, Failure> {
    at.instant(engine).map_err(|error| {
        // Only on this error path: the core has no cheaper public account check.
        if engine.accounts().any(|a| a == account) {
            Failure::Query(error)
        } else {
            Failure::Query(QueryError::UnknownAccount(account.to_string()))
        }
    })
}

/// Converts an argument to one of the input objects above. Arguments arrive as `Unknown` so
/// that a missing field or a non-object is `INVALID_INPUT` too, not N-API's own error.
pub fn object<'a, T: FromNapiValue + 'a>(value: Unknown<'a>, what: &str) -> Result<T, Failure> {
    if kind(&value) != ValueType::Object {
        return Err(invalid(what, "an object", &value));
    }
    T::from_unknown(value).map_err(|e| Failure::Input(format!("`{what}`: {}", e.reason)))
}

pub fn read_line(input: Unknown<'_>) -> Result<Line, Failure> {
    let input: QuoteInput<'_> = object(input, "input")?;
    Ok(Line {
        account: text(input.account, "account")?,
        product: text(input.sku, "sku")?,
        qty: qty(input.qty, "qty")?,
        at: at(input.at, "at")?,
        currency: optional_text(input.currency, "currency")?,
    })
}

fn kind(value: &Unknown<'_>) -> ValueType {
    value.get_type().unwrap_or(ValueType::Unknown)
}

fn describe(value: &Unknown<'_>) -> &'static str {
    match kind(value) {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Object => "an object",
        ValueType::Function => "a function",
        ValueType::BigInt => "a bigint",
        _ => "an unsupported value",
    }
}

fn invalid(field: &str, expected: &str, value: &Unknown<'_>) -> Failure {
    Failure::Input(format!(
        "`{field}` must be {expected}, got {}",
        describe(value)
    ))
}

fn is_absent(value: &Option<Unknown<'_>>) -> bool {
    value
        .as_ref()
        .is_none_or(|v| matches!(kind(v), ValueType::Undefined | ValueType::Null))
}

pub fn text(value: Unknown<'_>, field: &str) -> Result<String, Failure> {
    if kind(&value) != ValueType::String {
        return Err(invalid(field, "a string", &value));
    }
    String::from_unknown(value).map_err(|e| Failure::Input(format!("`{field}`: {e}")))
}

pub fn optional_text(value: Option<Unknown<'_>>, field: &str) -> Result<Option<String>, Failure> {
    match value {
        v if is_absent(&v) => Ok(None),
        Some(v) => text(v, field).map(Some),
        None => Ok(None),
    }
}

pub fn qty(value: Unknown<'_>, field: &str) -> Result<Qty, Failure> {
    match kind(&value) {
        ValueType::String => {
            let raw = text(value, field)?;
            Ok(match tarif::money::parse_decimal(&raw) {
                Some(v) => Qty::Value(v),
                None => Qty::Unreadable(raw),
            })
        }
        ValueType::Number => {
            let n = f64::from_unknown(value).map_err(|e| Failure::Input(e.to_string()))?;
            // Only integers survive the trip through a double exactly.
            const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
            if n.is_finite() && n.fract() == 0.0 && n.abs() <= MAX_SAFE {
                Ok(Qty::Value(Decimal::from(n as i64)))
            } else {
                Err(Failure::Input(format!(
                    "`{field}` is the number {n}, which cannot carry an exact decimal: \
                     pass a decimal string (\"{n}\") or a safe integer"
                )))
            }
        }
        _ => Err(invalid(
            field,
            "a decimal string or an integer number",
            &value,
        )),
    }
}

pub fn at(value: Option<Unknown<'_>>, field: &str) -> Result<At, Failure> {
    let Some(value) = value.filter(|v| !is_absent(&Some(*v))) else {
        return Ok(At::Now);
    };
    one_at(value, field)
}

fn one_at(value: Unknown<'_>, field: &str) -> Result<At, Failure> {
    match kind(&value) {
        ValueType::String => text(value, field).map(At::Text),
        ValueType::Object if value.is_date().unwrap_or(false) => {
            let ms = JsDate::from_unknown(value)
                .and_then(|d| d.value_of())
                .map_err(|e| Failure::Input(format!("`{field}`: {e}")))?;
            if ms.is_finite() {
                Ok(At::Millis(ms))
            } else {
                Err(Failure::Input(format!("`{field}` is an invalid Date")))
            }
        }
        _ => Err(invalid(
            field,
            "a Date or an RFC 3339 / YYYY-MM-DD string",
            &value,
        )),
    }
}

/// The elements of a JS array.
fn elements<'a>(value: Unknown<'a>, field: &str) -> Result<Vec<Unknown<'a>>, Failure> {
    if !value.is_array().unwrap_or(false) {
        return Err(invalid(field, "an array", &value));
    }
    Vec::<Unknown<'a>>::from_unknown(value).map_err(|e| Failure::Input(format!("`{field}`: {e}")))
}

pub fn texts(value: Unknown<'_>, field: &str) -> Result<Vec<String>, Failure> {
    elements(value, field)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| text(v, &format!("{field}[{i}]")))
        .collect()
}

pub fn qtys(value: Unknown<'_>, field: &str) -> Result<Vec<Qty>, Failure> {
    elements(value, field)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| qty(v, &format!("{field}[{i}]")))
        .collect()
}

/// One instant for the batch, or one per row.
pub enum BatchAtInput {
    One(At),
    PerRow(Vec<At>),
}

pub fn batch_at(value: Option<Unknown<'_>>, field: &str) -> Result<BatchAtInput, Failure> {
    match value {
        Some(v) if v.is_array().unwrap_or(false) => elements(v, field)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| one_at(v, &format!("{field}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(BatchAtInput::PerRow),
        other => at(other, field).map(BatchAtInput::One),
    }
}
