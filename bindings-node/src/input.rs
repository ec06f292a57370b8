//! Reading JavaScript arguments. Fields arrive untyped so that every malformed input fails with
//! `INVALID_INPUT` and a message naming the field, instead of N-API's generic conversion error.

use napi::bindgen_prelude::{FromNapiValue, JsValue, Object, Unknown};
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

/// What `search` takes; every field is optional (defaults: everything the account may see, by
/// SKU, first 20 rows, no facets, no prices).
#[napi(object, object_to_js = false)]
pub struct SearchQuery<'a> {
    /// Filters, all of which must hold (the values of one filter any-of).
    #[napi(
        ts_type = "Array<AttrValuesFilter | AttrRangeFilter | CategoryFilter | BrandFilter | FamilyFilter>"
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
    /// Price every row (and variant) for this quantity: a decimal string or an integer.
    #[napi(ts_type = "string | number")]
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
    /// Lower bound: a decimal string or an integer number.
    #[napi(ts_type = "string | number")]
    pub min: Option<Unknown<'a>>,
    /// Upper bound: a decimal string or an integer number.
    #[napi(ts_type = "string | number")]
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

/// The core query; every malformed part is `INVALID_INPUT` naming it, a bad cursor
/// `INVALID_CURSOR`.
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
    query = query.capability(
        match optional_text(input.capability, "query.capability")?.as_deref() {
            None | Some("see") => tarif::Capability::See,
            Some("price") => tarif::Capability::Price,
            Some("buy") => tarif::Capability::Buy,
            Some(other) => {
                return Err(Failure::Input(format!(
                    "`query.capability` must be 'see', 'price' or 'buy', got '{other}'"
                )))
            }
        },
    );
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
        // An unreadable quantity prices every row as zero: each then carries the core's
        // INVALID_QUANTITY status, as `'0'` does (one row's failure never fails a page).
        query = query.prices(self::qty(qty, "query.priceQty")?.value());
    }
    if let Some(currency) = optional_text(input.currency, "query.currency")? {
        query = query.currency(&currency);
    }
    Ok(query)
}

/// A relation kind by name.
pub fn relation_kind(value: Unknown<'_>) -> Result<tarif::RelationKind, Failure> {
    Ok(match text(value, "kind")?.as_str() {
        "requires" => tarif::RelationKind::Requires,
        "accessories" => tarif::RelationKind::Accessories,
        "compatible" => tarif::RelationKind::Compatible,
        "excludes" => tarif::RelationKind::Excludes,
        "replacement" => tarif::RelationKind::Replacement,
        other => {
            return Err(Failure::Input(format!(
                "`kind` must be 'requires', 'accessories', 'compatible', 'excludes' or \
                 'replacement', got '{other}'"
            )))
        }
    })
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

fn optional_bool(value: Option<Unknown<'_>>, field: &str) -> Result<Option<bool>, Failure> {
    match value.filter(|v| !is_absent(&Some(*v))) {
        None => Ok(None),
        Some(v) if kind(&v) == ValueType::Boolean => bool::from_unknown(v)
            .map(Some)
            .map_err(|e| Failure::Input(format!("`{field}`: {e}"))),
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
    let n = f64::from_unknown(value).map_err(|e| Failure::Input(format!("`{field}`: {e}")))?;
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if n.is_finite() && n.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&n) {
        Ok(Some(n as usize))
    } else {
        Err(Failure::Input(format!(
            "`{field}` must be a non-negative integer, got {n}"
        )))
    }
}

/// A range bound: exact, like a quantity; an unreadable string is an input error here, since
/// no row could report it.
fn bound(value: Option<Unknown<'_>>, field: &str) -> Result<Option<Decimal>, Failure> {
    match value.filter(|v| !is_absent(&Some(*v))) {
        None => Ok(None),
        Some(v) => match qty(v, field)? {
            Qty::Value(d) => Ok(Some(d)),
            Qty::Unreadable(text) => Err(Failure::Input(format!(
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
            .map_err(|e| Failure::Input(format!("`{field}`: {e}"))),
        ValueType::Number => match qty(value, field)? {
            Qty::Value(d) => Ok(d.to_string()),
            Qty::Unreadable(text) => Ok(text),
        },
        _ => text(value, field),
    }
}

/// The string keys of an object argument, every one of them among `allowed`.
fn keys(value: Unknown<'_>, field: &str, allowed: &[&str]) -> Result<Vec<String>, Failure> {
    if kind(&value) != ValueType::Object || value.is_array().unwrap_or(false) {
        return Err(invalid(field, "an object", &value));
    }
    let object =
        Object::from_unknown(value).map_err(|e| Failure::Input(format!("`{field}`: {e}")))?;
    let keys = Object::keys(&object).map_err(|e| Failure::Input(format!("`{field}`: {e}")))?;
    if let Some(unknown) = keys.iter().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Failure::Input(format!(
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
        &["attr", "anyOf", "min", "max", "category", "brand", "family"],
    )?;
    let has = |k: &str| keys.iter().any(|key| key == k);
    let kinds: Vec<&str> = ["attr", "category", "brand", "family"]
        .into_iter()
        .filter(|k| has(k))
        .collect();
    let many = |v: Unknown<'_>, what: &str| texts(v, &format!("{field}.{what}"));
    match kinds.as_slice() {
        ["attr"] if has("anyOf") => {
            if has("min") || has("max") {
                return Err(Failure::Input(format!(
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
        ["attr"] => Err(Failure::Input(format!(
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
        _ => Err(Failure::Input(format!(
            "`{field}` is {{attr, anyOf}}, {{attr, min?, max?}}, {{category}}, {{brand}} or \
             {{family}}"
        ))),
    }
}

fn facet(value: Unknown<'_>, field: &str) -> Result<tarif::Facet, Failure> {
    if kind(&value) == ValueType::String {
        return match text(value, field)?.as_str() {
            "brand" => Ok(tarif::Facet::Brand),
            "category" => Ok(tarif::Facet::Category),
            "family" => Ok(tarif::Facet::Family),
            other => Err(Failure::Input(format!(
                "`{field}` must be 'brand', 'category', 'family' or {{attr: '{other}'}}, got \
                 '{other}'"
            ))),
        };
    }
    keys(value, field, &["attr"])?;
    let f: AttrFacet<'_> = object(value, field)?;
    Ok(tarif::Facet::attr(&text(f.attr, &format!("{field}.attr"))?))
}

fn sort(value: Unknown<'_>) -> Result<tarif::Sort, Failure> {
    let field = "query.sort";
    if kind(&value) == ValueType::String {
        return match text(value, field)?.as_str() {
            "sku" => Ok(tarif::Sort::Sku),
            other => Err(Failure::Input(format!(
                "`{field}` must be 'sku' or {{attr: '{other}', descending?}}, got '{other}'"
            ))),
        };
    }
    keys(value, field, &["attr", "descending"])?;
    let s: AttrSort<'_> = object(value, field)?;
    Ok(tarif::Sort::Attr {
        name: text(s.attr, &format!("{field}.attr"))?,
        descending: optional_bool(s.descending, &format!("{field}.descending"))?.unwrap_or(false),
    })
}
