//! Reading JavaScript arguments into the core's wire requests (`tarif::wire`), which apply the
//! error precedence. Fields arrive untyped so that every malformed input fails with the stable
//! code of what is wrong with it (`INVALID_TYPE`, `FLOAT_REJECTED`, `INVALID_TEXT`…) and a
//! message naming the field, instead of N-API's generic conversion error.

use napi::bindgen_prelude::{
    Array, BigInt, FnArgs, FromNapiValue, Function, JsValue, Object, Unknown, Utf16String,
};
use napi::{JsDate, ValueType};
use napi_derive::napi;
use tarif::wire::{self, AtInput, InputCode, QtyInput};
use tarif::{Capability, Decimal, Instant};

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
    /// A positive decimal string (`"2.5"`), an integer number or a bigint: a fractional JS
    /// number cannot carry an exact decimal and is rejected (`FLOAT_REJECTED`).
    #[napi(ts_type = "string | number | bigint")]
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
    /// Quantities: decimal strings, integer numbers or bigints. An unreadable string or a
    /// missing value (`null`) fails its row with `INVALID_QUANTITY`; a fractional number rejects
    /// the batch (`FLOAT_REJECTED`).
    #[napi(ts_type = "Array<string | number | bigint | null>")]
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
#[napi(object, object_to_js = false)]
pub struct LoadOptions<'a> {
    /// Reject the document on warnings too (`STRICT_WARNINGS`).
    pub strict: Option<bool>,
    /// Called as each phase of the compile begins (`done` phases of `total` finished) and once
    /// at the end with `'done'`. A compile that runs on the pool (`load`, `apply`, `reload`)
    /// calls it on the event loop, possibly after its promise settled; `fromJson` and
    /// `fromFile` call it during the compile, and rethrow what it throws once the compile is
    /// over.
    #[napi(ts_type = "(phase: string, done: number, total: number) => void")]
    pub on_progress: Option<OnCompileProgress<'a>>,
}

/// `onProgress(phase, done, total)` of a compile.
pub type OnCompileProgress<'a> = Function<'a, FnArgs<(String, u32, u32)>, ()>;

/// Options of `quoteMany`.
#[napi(object, object_to_js = false)]
pub struct QuoteManyOptions<'a> {
    /// Called with the rows priced so far and the batch's rows as the pool prices them, a few
    /// tens of thousands of rows at a time (`done === total` last). The calls are queued to the
    /// event loop: the last may come just after the promise settled.
    #[napi(ts_type = "(done: number, total: number) => void")]
    pub on_progress: Option<Function<'a, FnArgs<(u32, u32)>, ()>>,
}

/// An instant as given.
#[derive(Debug, Clone)]
pub enum At {
    Now,
    Text(String),
    Millis(f64),
}

impl At {
    /// What the core's wire requests take.
    pub fn wire(&self) -> AtInput<'_> {
        match self {
            At::Now => AtInput::Now,
            At::Text(text) => AtInput::Text(text),
            // A valid Date is within ±8.64e15 ms, so its microseconds fit an i64.
            At::Millis(ms) => {
                AtInput::Instant(Instant::from_unix_micros((ms * 1000.0).round() as i64))
            }
        }
    }
}

/// One line, read and owned.
#[derive(Debug, Clone)]
pub struct Line {
    pub account: String,
    pub product: String,
    pub qty: QtyInput,
    pub at: At,
    pub currency: Option<String>,
}

impl Line {
    /// The core's request, which reports errors in the precedence of docs/spec.md §9.
    pub fn wire(&self) -> wire::QuoteInput<'_> {
        wire::QuoteInput {
            account: &self.account,
            reference: &self.product,
            qty: self.qty.clone(),
            at: self.at.wire(),
            currency: self.currency.as_deref(),
        }
    }
}

/// Converts an argument to one of the input objects above. Arguments arrive as `Unknown` so
/// that a missing field or a non-object is `INVALID_TYPE` too, not N-API's own error.
pub fn object<'a, T: FromNapiValue + 'a>(value: Unknown<'a>, what: &str) -> Result<T, Failure> {
    if kind(&value) != ValueType::Object {
        return Err(invalid(what, "an object", &value));
    }
    T::from_unknown(value).map_err(|e| type_error(format!("`{what}`: {}", e.reason)))
}

pub fn read_line(input: Unknown<'_>) -> Result<Line, Failure> {
    let input: QuoteInput<'_> = object(input, "input")?;
    line(
        input.account,
        input.sku,
        input.qty,
        input.at,
        input.currency,
    )
}

/// A [`QuoteInput`]'s fields, read one by one.
pub fn line(
    account: Unknown<'_>,
    sku: Unknown<'_>,
    quantity: Unknown<'_>,
    instant: Option<Unknown<'_>>,
    currency: Option<Unknown<'_>>,
) -> Result<Line, Failure> {
    Ok(Line {
        account: text(account, "account")?,
        product: text(sku, "sku")?,
        qty: qty(quantity, "qty")?,
        at: at(instant, "at")?,
        currency: optional_text(currency, "currency")?,
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

/// An `INVALID_TYPE` failure.
pub fn type_error(message: String) -> Failure {
    Failure::Input(InputCode::InvalidType, message)
}

/// An `INVALID_QUERY` failure.
fn query_error(message: String) -> Failure {
    Failure::Input(InputCode::InvalidQuery, message)
}

fn invalid(field: &str, expected: &str, value: &Unknown<'_>) -> Failure {
    type_error(format!(
        "`{field}` must be {expected}, got {}",
        describe(value)
    ))
}

fn is_absent(value: &Option<Unknown<'_>>) -> bool {
    value
        .as_ref()
        .is_none_or(|v| matches!(kind(v), ValueType::Undefined | ValueType::Null))
}

/// An optional field's value, `None` when it is missing, `undefined` or `null`.
pub fn present(value: Option<Unknown<'_>>) -> Option<Unknown<'_>> {
    value.filter(|v| !is_absent(&Some(*v)))
}

pub fn text(value: Unknown<'_>, field: &str) -> Result<String, Failure> {
    if kind(&value) != ValueType::String {
        return Err(invalid(field, "a string", &value));
    }
    // Read as UTF-16 so that a lone surrogate is refused rather than replaced by U+FFFD.
    let units =
        Utf16String::from_unknown(value).map_err(|e| type_error(format!("`{field}`: {e}")))?;
    String::from_utf16(&units).map_err(|_| {
        Failure::Input(
            InputCode::InvalidText,
            format!("`{field}` is not valid Unicode text: it holds a lone surrogate"),
        )
    })
}

pub fn optional_text(value: Option<Unknown<'_>>, field: &str) -> Result<Option<String>, Failure> {
    match value {
        v if is_absent(&v) => Ok(None),
        Some(v) => text(v, field).map(Some),
        None => Ok(None),
    }
}

/// A quantity: a decimal string, an integer number or a bigint; a fractional number (or one
/// beyond the safe integers) is `FLOAT_REJECTED`, since a double cannot carry an exact decimal.
pub fn qty(value: Unknown<'_>, field: &str) -> Result<QtyInput, Failure> {
    match kind(&value) {
        ValueType::String => Ok(QtyInput::from_text(&text(value, field)?)),
        ValueType::Number => {
            let n = f64::from_unknown(value).map_err(|e| type_error(format!("`{field}`: {e}")))?;
            // Only integers survive the trip through a double exactly.
            const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
            if n.is_finite() && n.fract() == 0.0 && n.abs() <= MAX_SAFE {
                Ok(QtyInput::Decimal(Decimal::from(n as i64)))
            } else {
                Err(Failure::Input(
                    InputCode::FloatRejected,
                    format!(
                        "`{field}` is the number {n}, which cannot carry an exact decimal: \
                         pass a decimal string (\"{n}\"), a safe integer or a bigint"
                    ),
                ))
            }
        }
        ValueType::BigInt => {
            let big =
                BigInt::from_unknown(value).map_err(|e| type_error(format!("`{field}`: {e}")))?;
            Ok(match big.get_u128() {
                (negative, magnitude, true) => {
                    QtyInput::from_text(&format!("{}{magnitude}", if negative { "-" } else { "" }))
                }
                _ => QtyInput::Unreadable("a bigint wider than 128 bits".to_string()),
            })
        }
        _ => Err(invalid(
            field,
            "a decimal string, an integer number or a bigint",
            &value,
        )),
    }
}

/// A quantity of a batch row: a missing one (`null`, `undefined`) fails its row only.
pub fn row_qty(value: Unknown<'_>, field: &str) -> Result<QtyInput, Failure> {
    match kind(&value) {
        ValueType::Null | ValueType::Undefined => {
            Ok(QtyInput::Unreadable(describe(&value).to_string()))
        }
        _ => qty(value, field),
    }
}

pub fn at(value: Option<Unknown<'_>>, field: &str) -> Result<At, Failure> {
    let Some(value) = present(value) else {
        return Ok(At::Now);
    };
    one_at(value, field)
}

pub fn one_at(value: Unknown<'_>, field: &str) -> Result<At, Failure> {
    match kind(&value) {
        ValueType::String => text(value, field).map(At::Text),
        ValueType::Object if value.is_date().unwrap_or(false) => {
            let ms = JsDate::from_unknown(value)
                .and_then(|d| d.value_of())
                .map_err(|e| type_error(format!("`{field}`: {e}")))?;
            if ms.is_finite() {
                Ok(At::Millis(ms))
            } else {
                Err(type_error(format!("`{field}` is an invalid Date")))
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
pub fn elements<'a>(value: Unknown<'a>, field: &str) -> Result<Vec<Unknown<'a>>, Failure> {
    if !value.is_array().unwrap_or(false) {
        return Err(invalid(field, "an array", &value));
    }
    Vec::<Unknown<'a>>::from_unknown(value).map_err(|e| type_error(format!("`{field}`: {e}")))
}

/// A JS array, read element by element (a batch column is read in slices, never copied whole).
pub fn array<'a>(value: Unknown<'a>, field: &str) -> Result<Array<'a>, Failure> {
    if !value.is_array().unwrap_or(false) {
        return Err(invalid(field, "an array", &value));
    }
    Array::from_unknown(value).map_err(|e| type_error(format!("`{field}`: {e}")))
}

pub fn texts(value: Unknown<'_>, field: &str) -> Result<Vec<String>, Failure> {
    elements(value, field)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| text(v, &format!("{field}[{i}]")))
        .collect()
}

pub fn qtys(value: Unknown<'_>, field: &str) -> Result<Vec<QtyInput>, Failure> {
    elements(value, field)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| row_qty(v, &format!("{field}[{i}]")))
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

/// What `search` takes; every field is optional (defaults: everything the account may see, by
/// SKU, first 20 rows, no facets, no prices).
#[napi(object, object_to_js = false)]
pub struct SearchQuery<'a> {
    /// Filters, all of which must hold (the values of one filter any-of).
    #[napi(
        ts_type = "Array<AttrValuesFilter | AttrRangeFilter | CategoryFilter | BrandFilter | FamilyFilter | InStockFilter>"
    )]
    pub filters: Option<Unknown<'a>>,
    /// Case-insensitive prefix of a SKU, MPN, other ref, or of the digits of an EAN.
    #[napi(ts_type = "string")]
    pub text: Option<Unknown<'a>>,
    /// The capability a product needs to be in the results. Default: `see`.
    #[napi(ts_type = "'see' | 'price' | 'buy'")]
    pub capability: Option<Unknown<'a>>,
    /// Row order: `'sku'` (default) or by a numeric attribute, products without it last.
    #[napi(ts_type = "'sku' | AttrSort")]
    pub sort: Option<Unknown<'a>>,
    /// Rows to skip (after the cursor, if any). Default: 0.
    #[napi(ts_type = "number")]
    pub offset: Option<Unknown<'a>>,
    /// Rows per page. Default: 20.
    #[napi(ts_type = "number")]
    pub limit: Option<Unknown<'a>>,
    /// A page's `next`: the page after it.
    #[napi(ts_type = "string")]
    pub cursor: Option<Unknown<'a>>,
    /// Facets to count over the visible, filtered products (each leaves out its own filters).
    #[napi(ts_type = "Array<'brand' | 'category' | 'family' | AttrFacet>")]
    pub facets: Option<Unknown<'a>>,
    /// One row per family, with its matching variants, instead of one per product.
    #[napi(ts_type = "boolean")]
    pub group_variants: Option<Unknown<'a>>,
    /// Price every row (and variant) for this quantity: a decimal string, an integer or a bigint.
    #[napi(ts_type = "string | number | bigint")]
    pub price_qty: Option<Unknown<'a>>,
    /// Currency of those prices. Default: the account's.
    #[napi(ts_type = "string")]
    pub currency: Option<Unknown<'a>>,
}

/// Products whose attribute has one of these values (for a list attribute, one element does).
/// Values are compared as text; a numeric value also matches its canonical form (`'18.0'`
/// finds 18).
#[napi(object, object_to_js = false)]
pub struct AttrValuesFilter<'a> {
    /// Attribute name.
    #[napi(ts_type = "string")]
    pub attr: Unknown<'a>,
    /// Accepted values: strings, booleans, or integer numbers.
    #[napi(ts_type = "Array<string | number | boolean>")]
    pub any_of: Unknown<'a>,
}

/// Products with a number of the attribute within the bounds, both inclusive.
#[napi(object, object_to_js = false)]
pub struct AttrRangeFilter<'a> {
    /// Attribute name.
    #[napi(ts_type = "string")]
    pub attr: Unknown<'a>,
    /// Lower bound: a decimal string, an integer number or a bigint.
    #[napi(ts_type = "string | number | bigint")]
    pub min: Option<Unknown<'a>>,
    /// Upper bound: a decimal string, an integer number or a bigint.
    #[napi(ts_type = "string | number | bigint")]
    pub max: Option<Unknown<'a>>,
}

/// Products in one of these categories or below them.
#[napi(object, object_to_js = false)]
pub struct CategoryFilter<'a> {
    /// Category ids.
    #[napi(ts_type = "string[]")]
    pub category: Unknown<'a>,
}

/// Products of one of these brands.
#[napi(object, object_to_js = false)]
pub struct BrandFilter<'a> {
    /// Brands.
    #[napi(ts_type = "string[]")]
    pub brand: Unknown<'a>,
}

/// Products of one of these variant families.
#[napi(object, object_to_js = false)]
pub struct FamilyFilter<'a> {
    /// Family ids.
    #[napi(ts_type = "string[]")]
    pub family: Unknown<'a>,
}

/// Products with a positive total on hand (an untracked product is not in stock).
#[napi(object, object_to_js = false)]
pub struct InStockFilter<'a> {
    /// Only `true`: the products not in stock are what the `in_stock` facet's `false` counts.
    #[napi(ts_type = "true")]
    pub in_stock: Unknown<'a>,
}

/// Order by a numeric attribute (a list by its smallest number), ties by SKU.
#[napi(object, object_to_js = false)]
pub struct AttrSort<'a> {
    /// Attribute name.
    #[napi(ts_type = "string")]
    pub attr: Unknown<'a>,
    /// Largest first. Default: false.
    #[napi(ts_type = "boolean")]
    pub descending: Option<Unknown<'a>>,
}

/// Count the values of an attribute declared filterable.
#[napi(object, object_to_js = false)]
pub struct AttrFacet<'a> {
    /// Attribute name.
    #[napi(ts_type = "string")]
    pub attr: Unknown<'a>,
}

/// The core query; every malformed part is `INVALID_TYPE`, `FLOAT_REJECTED` or `INVALID_QUERY`
/// naming it, a bad cursor `INVALID_CURSOR`.
pub fn search_query(value: Option<Unknown<'_>>) -> Result<tarif::SearchQuery, Failure> {
    let mut query = tarif::SearchQuery::new();
    let Some(value) = value.filter(|v| !is_absent(&Some(*v))) else {
        return Ok(query);
    };
    let input: SearchQuery<'_> = object(value, "query")?;
    for (i, f) in optional_elements(input.filters, "query.filters")?
        .into_iter()
        .enumerate()
    {
        query = query.filter(filter(f, &format!("query.filters[{i}]"))?);
    }
    for (i, f) in optional_elements(input.facets, "query.facets")?
        .into_iter()
        .enumerate()
    {
        query = query.facet(facet(f, &format!("query.facets[{i}]"))?);
    }
    if let Some(text) = optional_text(input.text, "query.text")? {
        query = query.text(&text);
    }
    query = query.capability(match optional_text(input.capability, "query.capability")? {
        Some(name) => name.parse::<Capability>()?,
        None => Capability::See,
    });
    if let Some(sort) = input.sort.filter(|v| !is_absent(&Some(*v))) {
        query = query.sort(self::sort(sort)?);
    }
    query = query.page(
        count(input.offset, "query.offset")?.unwrap_or(0),
        count(input.limit, "query.limit")?.unwrap_or(20),
    );
    if let Some(cursor) = optional_text(input.cursor, "query.cursor")? {
        query = query.after(cursor.parse().map_err(Failure::Cursor)?);
    }
    if let Some(group) = optional_bool(input.group_variants, "query.groupVariants")? {
        query = query.group_variants(group);
    }
    if let Some(qty) = input.price_qty.filter(|v| !is_absent(&Some(*v))) {
        // One row's failure never fails a page (docs/spec.md §11.6).
        query = query.prices(self::qty(qty, "query.priceQty")?.for_rows());
    }
    if let Some(currency) = optional_text(input.currency, "query.currency")? {
        query = query.currency(&currency);
    }
    Ok(query)
}

/// A relation kind by name.
pub fn relation_kind(value: Unknown<'_>) -> Result<tarif::RelationKind, Failure> {
    Ok(text(value, "kind")?.parse()?)
}

fn optional_elements<'a>(
    value: Option<Unknown<'a>>,
    field: &str,
) -> Result<Vec<Unknown<'a>>, Failure> {
    match value.filter(|v| !is_absent(&Some(*v))) {
        Some(v) => elements(v, field),
        None => Ok(Vec::new()),
    }
}

pub fn optional_bool(value: Option<Unknown<'_>>, field: &str) -> Result<Option<bool>, Failure> {
    match value.filter(|v| !is_absent(&Some(*v))) {
        None => Ok(None),
        Some(v) if kind(&v) == ValueType::Boolean => bool::from_unknown(v)
            .map(Some)
            .map_err(|e| type_error(format!("`{field}`: {e}"))),
        Some(v) => Err(invalid(field, "a boolean", &v)),
    }
}

/// A non-negative integer number.
fn count(value: Option<Unknown<'_>>, field: &str) -> Result<Option<usize>, Failure> {
    let Some(value) = value.filter(|v| !is_absent(&Some(*v))) else {
        return Ok(None);
    };
    if kind(&value) != ValueType::Number {
        return Err(invalid(field, "a non-negative integer", &value));
    }
    let n = f64::from_unknown(value).map_err(|e| type_error(format!("`{field}`: {e}")))?;
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !(n.is_finite() && n.fract() == 0.0 && n.abs() <= MAX_SAFE) {
        Err(type_error(format!("`{field}` must be an integer, got {n}")))
    } else if n < 0.0 {
        Err(query_error(format!("`{field}` must be ≥ 0, got {n}")))
    } else {
        Ok(Some(n as usize))
    }
}

/// A range bound: exact, like a quantity; an unreadable string is an input error here, since
/// no row could report it.
fn bound(value: Option<Unknown<'_>>, field: &str) -> Result<Option<Decimal>, Failure> {
    match value.filter(|v| !is_absent(&Some(*v))) {
        None => Ok(None),
        Some(v) => match qty(v, field)? {
            QtyInput::Decimal(d) => Ok(Some(d)),
            QtyInput::Unreadable(text) => Err(query_error(format!(
                "`{field}` is '{text}', which is not a decimal number"
            ))),
        },
    }
}

/// One attribute value, as the text it is compared as.
fn value_text(value: Unknown<'_>, field: &str) -> Result<String, Failure> {
    match kind(&value) {
        ValueType::Boolean => bool::from_unknown(value)
            .map(|b| b.to_string())
            .map_err(|e| type_error(format!("`{field}`: {e}"))),
        ValueType::Number | ValueType::BigInt => match qty(value, field)? {
            QtyInput::Decimal(d) => Ok(d.to_string()),
            QtyInput::Unreadable(text) => Ok(text),
        },
        _ => text(value, field),
    }
}

/// The string keys of an object argument, every one of them among `allowed`.
fn keys(value: Unknown<'_>, field: &str, allowed: &[&str]) -> Result<Vec<String>, Failure> {
    if kind(&value) != ValueType::Object || value.is_array().unwrap_or(false) {
        return Err(invalid(field, "an object", &value));
    }
    let object = Object::from_unknown(value).map_err(|e| type_error(format!("`{field}`: {e}")))?;
    let keys = Object::keys(&object).map_err(|e| type_error(format!("`{field}`: {e}")))?;
    if let Some(unknown) = keys.iter().find(|k| !allowed.contains(&k.as_str())) {
        return Err(query_error(format!(
            "`{field}` has an unknown key `{unknown}`; its keys are {}",
            allowed.join(", ")
        )));
    }
    Ok(keys)
}

fn filter(value: Unknown<'_>, field: &str) -> Result<tarif::Filter, Failure> {
    let keys = keys(
        value,
        field,
        &[
            "attr", "anyOf", "min", "max", "category", "brand", "family", "inStock",
        ],
    )?;
    let has = |k: &str| keys.iter().any(|key| key == k);
    let kinds: Vec<&str> = ["attr", "category", "brand", "family", "inStock"]
        .into_iter()
        .filter(|k| has(k))
        .collect();
    let many = |v: Unknown<'_>, what: &str| texts(v, &format!("{field}.{what}"));
    match kinds.as_slice() {
        ["attr"] if has("anyOf") => {
            if has("min") || has("max") {
                return Err(query_error(format!(
                    "`{field}` has anyOf or min/max, not both"
                )));
            }
            let f: AttrValuesFilter<'_> = object(value, field)?;
            let name = text(f.attr, &format!("{field}.attr"))?;
            let values = elements(f.any_of, &format!("{field}.anyOf"))?
                .into_iter()
                .enumerate()
                .map(|(i, v)| value_text(v, &format!("{field}.anyOf[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(tarif::Filter::any_of(&name, values))
        }
        ["attr"] if has("min") || has("max") => {
            let f: AttrRangeFilter<'_> = object(value, field)?;
            let name = text(f.attr, &format!("{field}.attr"))?;
            Ok(tarif::Filter::range(
                &name,
                bound(f.min, &format!("{field}.min"))?,
                bound(f.max, &format!("{field}.max"))?,
            ))
        }
        ["attr"] => Err(query_error(format!(
            "`{field}` needs anyOf, or min and/or max"
        ))),
        ["category"] if keys.len() == 1 => {
            let f: CategoryFilter<'_> = object(value, field)?;
            Ok(tarif::Filter::Category(many(f.category, "category")?))
        }
        ["brand"] if keys.len() == 1 => {
            let f: BrandFilter<'_> = object(value, field)?;
            Ok(tarif::Filter::Brand(many(f.brand, "brand")?))
        }
        ["family"] if keys.len() == 1 => {
            let f: FamilyFilter<'_> = object(value, field)?;
            Ok(tarif::Filter::Family(many(f.family, "family")?))
        }
        ["inStock"] if keys.len() == 1 => {
            let f: InStockFilter<'_> = object(value, field)?;
            match optional_bool(Some(f.in_stock), &format!("{field}.inStock"))? {
                Some(true) => Ok(tarif::Filter::InStock),
                _ => Err(query_error(format!("`{field}.inStock` can only be true"))),
            }
        }
        _ => Err(query_error(format!(
            "`{field}` is {{attr, anyOf}}, {{attr, min?, max?}}, {{category}}, {{brand}}, \
             {{family}} or {{inStock: true}}"
        ))),
    }
}

fn facet(value: Unknown<'_>, field: &str) -> Result<tarif::Facet, Failure> {
    if kind(&value) == ValueType::String {
        let name = text(value, field)?;
        return wire::facet(&name).map_err(|e| {
            query_error(format!(
                "`{field}`: {e}, or {{attr: '{name}'}} for an attribute"
            ))
        });
    }
    keys(value, field, &["attr"])?;
    let f: AttrFacet<'_> = object(value, field)?;
    Ok(tarif::Facet::attr(&text(f.attr, &format!("{field}.attr"))?))
}

fn sort(value: Unknown<'_>) -> Result<tarif::Sort, Failure> {
    let field = "query.sort";
    if kind(&value) == ValueType::String {
        let name = text(value, field)?;
        return wire::sort(&name).map_err(|e| {
            query_error(format!(
                "`{field}`: {e}, or {{attr: '{name}', descending?}} for an attribute"
            ))
        });
    }
    keys(value, field, &["attr", "descending"])?;
    let s: AttrSort<'_> = object(value, field)?;
    Ok(tarif::Sort::Attr {
        name: text(s.attr, &format!("{field}.attr"))?,
        descending: optional_bool(s.descending, &format!("{field}.descending"))?.unwrap_or(false),
    })
}
