//! Arrow columns of a batch, read and written one way for every caller (the Python binding's
//! `quote_many` and `simulate`, `tarif reprice` on Parquet files): account and reference
//! columns as text, quantities as exact decimals, instants from text, dates or zoned
//! timestamps, and the answers as exact `decimal128` amounts.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Int64Array, StringArray};
//! use tarif::wire::arrow::{quantity_column, text_column};
//! let qtys: ArrayRef = Arc::new(Int64Array::from(vec![Some(3), None]));
//! assert_eq!(quantity_column(&qtys, "qty").unwrap(), vec![3.into(), 0.into()]);
//! let refs: ArrayRef = Arc::new(StringArray::from(vec!["DR-1"]));
//! assert_eq!(text_column(&refs, "sku").unwrap().value(0), "DR-1");
//! ```

use std::fmt;
use std::sync::Arc;

use ahash::AHashMap;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Int16Type, Int64Type, Int8Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Decimal256Array, DictionaryArray, Int16Array,
    Int8Array, RecordBatch, StringArray,
};
use arrow_buffer::{i256, BooleanBuffer, NullBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::InputCode;
use crate::engine::batch::{BatchDetail, BatchResult};
use crate::engine::Engine;
use crate::error::{QueryError, Status};
use crate::instant::Instant;
use crate::money::parse_decimal;

/// The most digits a `decimal128` / `decimal256` column holds.
const DECIMAL128_DIGITS: u8 = 38;
const DECIMAL256_DIGITS: u8 = 76;

/// A column that cannot be read as what the batch needs, with the stable code of the input
/// error it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnError {
    /// `INVALID_TYPE`, `FLOAT_REJECTED` or `NAIVE_DATETIME`.
    pub code: InputCode,
    /// What is wrong, naming the column.
    pub message: String,
}

impl ColumnError {
    fn new(code: InputCode, message: String) -> Self {
        ColumnError { code, message }
    }
}

impl fmt::Display for ColumnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ColumnError {}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

fn as_utf8(array: &ArrayRef) -> Result<StringArray, ArrowError> {
    let utf8 = arrow_cast::cast(array, &DataType::Utf8)?;
    Ok(utf8.as_string::<i32>().clone())
}

/// A column of text (`utf8`, `large_utf8`, `utf8_view` or a dictionary of them) as `utf8`;
/// a null row reads as no text, which no account or product has.
pub fn text_column(array: &ArrayRef, name: &str) -> Result<StringArray, ColumnError> {
    let refused = || {
        ColumnError::new(
            InputCode::InvalidType,
            format!("`{name}` must be strings, not Arrow {}", array.data_type()),
        )
    };
    if !is_text(array.data_type()) {
        return Err(refused());
    }
    as_utf8(array).map_err(|_| refused())
}

/// The rows of `utf8` chunks (as [`text_column`] gives them) as one slice of texts, a null as
/// the empty string, which no account or product has; read in parallel, as a batch's columns
/// of millions of rows are.
///
/// ```
/// use arrow_array::StringArray;
/// let chunks = [StringArray::from(vec![Some("A"), None]), StringArray::from(vec!["B"])];
/// assert_eq!(tarif::wire::arrow::texts(&chunks), ["A", "", "B"]);
/// ```
pub fn texts(chunks: &[StringArray]) -> Vec<&str> {
    let lens: Vec<usize> = chunks.iter().map(Array::len).collect();
    across_chunks(&lens, |chunk, i| match chunks.get(chunk) {
        Some(chunk) if !chunk.is_null(i) => chunk.value(i),
        _ => "",
    })
}

/// One value per row of a column cut into chunks of `lens` rows, `value(chunk, row in chunk)`
/// for each, computed in parallel straight into the one vector: a table read from a file
/// comes in hundreds of chunks, and converting them one by one copied every row once more
/// and waited for the threads once per chunk.
fn across_chunks<T: Send>(lens: &[usize], value: impl Fn(usize, usize) -> T + Sync) -> Vec<T> {
    let mut starts = Vec::with_capacity(lens.len() + 1);
    let mut total = 0;
    for &len in lens {
        starts.push(total);
        total += len;
    }
    starts.push(total);
    let chunk_of = |row: usize| {
        starts
            .partition_point(|&start| start <= row)
            .saturating_sub(1)
    };
    let mut rows = Vec::with_capacity(total);
    rows.par_extend(
        (0..total)
            .into_par_iter()
            .with_min_len(ROWS_PER_TASK)
            .map_init(
                || (0, 0, 0),
                // Each task takes its rows in order: the chunk is looked up only when it ends.
                |(chunk, start, end), row| {
                    if row < *start || row >= *end {
                        *chunk = chunk_of(row);
                        *start = starts.get(*chunk).copied().unwrap_or(0);
                        *end = starts.get(*chunk + 1).copied().unwrap_or(total);
                    }
                    value(*chunk, row - *start)
                },
            ),
    );
    rows
}

/// [`quantity_column`] of every chunk of a column, as one vector: integer chunks are
/// converted in parallel into it directly.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, Int32Array, Int64Array};
/// let chunks: [ArrayRef; 2] =
///     [Arc::new(Int64Array::from(vec![Some(3), None])), Arc::new(Int32Array::from(vec![7]))];
/// let qtys = tarif::wire::arrow::quantity_chunks(&chunks, "qty").unwrap();
/// assert_eq!(qtys, vec![3.into(), 0.into(), 7.into()]);
/// ```
pub fn quantity_chunks(chunks: &[ArrayRef], name: &str) -> Result<Vec<Decimal>, ColumnError> {
    let signed = |array: &ArrayRef| {
        let data_type = array.data_type();
        data_type.is_integer() && data_type != &DataType::UInt64
    };
    if !chunks.iter().all(signed) {
        let mut values = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
        for chunk in chunks {
            values.extend(quantity_column(chunk, name)?);
        }
        return Ok(values);
    }
    let ints = chunks
        .par_iter()
        .map(|chunk| {
            arrow_cast::cast(chunk, &DataType::Int64).map_err(|_| {
                ColumnError::new(
                    InputCode::InvalidType,
                    format!(
                        "`{name}` cannot be read as quantities from Arrow {}",
                        chunk.data_type()
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ints: Vec<_> = ints.iter().map(|c| c.as_primitive::<Int64Type>()).collect();
    let lens: Vec<usize> = ints.iter().map(|c| c.len()).collect();
    Ok(across_chunks(&lens, |chunk, i| match ints.get(chunk) {
        Some(ints) if !ints.is_null(i) => Decimal::from(ints.value(i)),
        _ => Decimal::ZERO,
    }))
}

/// Quantities from integers, `decimal128` or decimal text. A null or unreadable value reads
/// as zero, so that its row, and only its row, answers `INVALID_QUANTITY`. Floats are refused:
/// binary floating point holds most decimal quantities only approximately.
pub fn quantity_column(array: &ArrayRef, name: &str) -> Result<Vec<Decimal>, ColumnError> {
    let data_type = array.data_type();
    let unreadable = |_| {
        ColumnError::new(
            InputCode::InvalidType,
            format!("`{name}` cannot be read as quantities from Arrow {data_type}"),
        )
    };
    if data_type == &DataType::UInt64 {
        // Beyond i64 but well within a decimal: priced, as a single quote prices the same int.
        return Ok(array
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| v.map_or(Decimal::ZERO, Decimal::from))
            .collect());
    }
    if data_type.is_integer() {
        let ints = arrow_cast::cast(array, &DataType::Int64).map_err(unreadable)?;
        let ints = ints.as_primitive::<Int64Type>();
        let quantity = |i: usize| match ints.is_null(i) {
            true => Decimal::ZERO,
            false => Decimal::from(ints.value(i)),
        };
        return Ok((0..ints.len()).into_par_iter().map(quantity).collect());
    }
    if let DataType::Decimal128(_, scale) = data_type {
        let scale = u32::try_from(*scale).ok();
        return Ok(array
            .as_primitive::<Decimal128Type>()
            .iter()
            .map(|v| {
                v.zip(scale)
                    .and_then(|(v, s)| Decimal::try_from_i128_with_scale(v, s).ok())
                    .unwrap_or(Decimal::ZERO)
            })
            .collect());
    }
    if is_text(data_type) {
        return Ok(as_utf8(array)
            .map_err(unreadable)?
            .iter()
            .map(|t| t.and_then(parse_decimal).unwrap_or(Decimal::ZERO))
            .collect());
    }
    if data_type.is_floating() {
        return Err(ColumnError::new(
            InputCode::FloatRejected,
            format!(
                "`{name}` is Arrow {data_type}: binary floating point holds most decimal \
                 amounts only approximately; pass integers, decimal128 or strings"
            ),
        ));
    }
    Err(ColumnError::new(
        InputCode::InvalidType,
        format!("`{name}` must be integers, decimal128 or strings, not Arrow {data_type}"),
    ))
}

/// The instants of a column, and the rows whose text names none.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantColumn {
    /// One instant per row: a null row, or one whose text names no instant, has the default.
    pub instants: Vec<Instant>,
    /// Each row whose text names no instant, with the error a quote answers for it.
    pub unreadable: Vec<(usize, QueryError)>,
}

/// Per-row instants from text (read in the document's timezone), dates (midnight there) or
/// timestamps with a timezone; a null row takes `default`. Timestamps without a timezone name
/// no instant and are refused for the whole column.
pub fn instant_column(
    engine: &Engine,
    array: &ArrayRef,
    name: &str,
    default: Instant,
) -> Result<InstantColumn, ColumnError> {
    let mut unreadable = Vec::new();
    // A history names few distinct days: each text is read once.
    let mut read: AHashMap<String, Option<Instant>> = AHashMap::new();
    let mut from_text = |row: usize, value: Option<&str>| {
        let Some(text) = value else {
            return default;
        };
        let instant = match read.get(text) {
            Some(instant) => *instant,
            None => {
                let instant = engine.parse_instant(text).ok();
                read.insert(text.to_string(), instant);
                instant
            }
        };
        instant.unwrap_or_else(|| {
            unreadable.push((row, QueryError::InvalidInstant(text.to_string())));
            default
        })
    };
    let data_type = array.data_type();
    let instants = match data_type {
        text if is_text(text) => {
            let texts = as_utf8(array).map_err(|_| {
                ColumnError::new(
                    InputCode::InvalidType,
                    format!("`{name}` cannot be read as text from Arrow {data_type}"),
                )
            })?;
            texts
                .iter()
                .enumerate()
                .map(|(row, v)| from_text(row, v))
                .collect()
        }
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .iter()
            .enumerate()
            .map(|(row, days)| {
                let date = days.and_then(|d| {
                    arrow_array::temporal_conversions::date32_to_datetime(d)
                        .map(|date| date.format("%Y-%m-%d").to_string())
                });
                from_text(row, date.as_deref())
            })
            .collect(),
        DataType::Timestamp(unit, Some(_)) => {
            let micros: Vec<Option<i64>> = match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .iter()
                    .map(|v| v.and_then(|s| s.checked_mul(1_000_000)))
                    .collect(),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .iter()
                    .map(|v| v.and_then(|s| s.checked_mul(1_000)))
                    .collect(),
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .collect(),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .map(|v| v.map(|n| n.div_euclid(1_000)))
                    .collect(),
            };
            micros
                .into_iter()
                .map(|m| m.map_or(default, Instant::from_unix_micros))
                .collect()
        }
        DataType::Timestamp(_, None) => {
            return Err(ColumnError::new(
                InputCode::NaiveDatetime,
                format!(
                    "the `{name}` column holds timestamps without a timezone, which name no \
                     instant: give the column a timezone (timestamp(\"us\", tz=\"UTC\"))"
                ),
            ))
        }
        other => {
            return Err(ColumnError::new(
                InputCode::InvalidType,
                format!(
                    "the `{name}` column must hold strings, dates or timestamps with a \
                     timezone, not Arrow {other}"
                ),
            ))
        }
    };
    Ok(InstantColumn {
        instants,
        unreadable,
    })
}

/// The scale an amount column takes when no row priced: the request currency's, else the
/// document's default currency's.
pub fn empty_scale(engine: &Engine, currency: Option<&str>) -> u32 {
    engine
        .currency_scale(currency)
        .or_else(|| engine.currency_scale(None))
        .unwrap_or(0)
}

/// An amount column in which every value is exact. The column takes the largest scale among
/// its values (at least `empty_scale`, the currency scale: the core rounds to it), so that no
/// digit is lost: quantities sold by length make line totals finer than the currency. Every
/// value is written at that scale with integer arithmetic; a mantissa is never reinterpreted
/// at another scale. `decimal128(38, s)` holds the column unless a wide value meets a fine one
/// (a 29-digit amount next to a 10-decimal one); then the column is `decimal256(76, s)`, which
/// holds any pair of `Decimal`s (29 integer digits + 28 decimals) exactly.
pub fn amount_column(values: &[Option<Decimal>], empty_scale: u32) -> Result<ArrayRef, ArrowError> {
    amounts_of(Amounts::Column(values), empty_scale)
}

/// An amount column of one given type, `decimal128(38, scale)`, as a file written chunk by
/// chunk needs: a value with more decimals, or more digits, than the column holds is an error,
/// never rounded.
pub fn amount_column_at(values: &[Option<Decimal>], scale: u32) -> Result<ArrayRef, ArrowError> {
    amounts_at(Amounts::Column(values), scale)
}

/// The values of an amount column, read where they are: a batch's millions of amounts are not
/// gathered into a vector of their own first (fresh memory is what a large batch pays most
/// for).
#[derive(Clone, Copy)]
enum Amounts<'a> {
    /// Each row's amount, or none.
    Column(&'a [Option<Decimal>]),
    /// A batch's amounts, on the rows whose status is `OK` (the others have none).
    Priced(&'a [Decimal], &'a [Status]),
}

impl<'a> Amounts<'a> {
    fn rows(self) -> usize {
        match self {
            Amounts::Column(values) => values.len(),
            Amounts::Priced(values, _) => values.len(),
        }
    }

    fn get(self, row: usize) -> Option<Decimal> {
        match self {
            Amounts::Column(values) => values.get(row).copied().flatten(),
            Amounts::Priced(values, status) => values
                .get(row)
                .copied()
                .filter(|_| status.get(row) == Some(&Status::Ok)),
        }
    }

    fn values(self) -> impl Iterator<Item = Option<Decimal>> + 'a {
        (0..self.rows()).map(move |row| self.get(row))
    }
}

/// [`amount_column`] of `amounts`.
fn amounts_of(amounts: Amounts<'_>, empty_scale: u32) -> Result<ArrayRef, ArrowError> {
    let scale = (0..amounts.rows())
        .into_par_iter()
        .with_min_len(ROWS_PER_TASK)
        .filter_map(|row| amounts.get(row))
        .map(|v| v.scale())
        .max()
        .unwrap_or(empty_scale);
    if let Some(column) = narrow(amounts, scale)? {
        return Ok(Arc::new(column));
    }
    let column_scale = i8::try_from(scale)
        .map_err(|_| ArrowError::ComputeError(format!("decimal scale {scale}")))?;
    let ten = i256::from_i128(10);
    let wide = amounts
        .values()
        .map(|v| match v {
            None => Some(None),
            Some(v) => (v.scale()..scale)
                .try_fold(i256::from_i128(v.mantissa()), |m, _| m.checked_mul(ten))
                .map(Some),
        })
        .collect::<Option<Vec<Option<i256>>>>()
        .ok_or_else(|| ArrowError::ComputeError("an amount exceeds decimal256".into()))?;
    let column = wide
        .into_iter()
        .collect::<Decimal256Array>()
        .with_precision_and_scale(DECIMAL256_DIGITS, column_scale)?;
    Ok(Arc::new(column))
}

/// [`amount_column_at`] of `amounts`.
fn amounts_at(amounts: Amounts<'_>, scale: u32) -> Result<ArrayRef, ArrowError> {
    match narrow(amounts, scale)? {
        Some(column) => Ok(Arc::new(column)),
        None => {
            let misfit = amounts
                .values()
                .flatten()
                .find(|v| at_scale(v, scale).is_none())
                .map_or_else(String::new, |v| format!(" `{v}`"));
            Err(ArrowError::ComputeError(format!(
                "the amount{misfit} does not fit decimal128(38, {scale})"
            )))
        }
    }
}

/// The mantissa of `value` at `scale`, if that holds it exactly (trailing zeros beyond the
/// scale are dropped, other digits never) and it fits `decimal128(38)`.
fn at_scale(value: &Decimal, scale: u32) -> Option<i128> {
    let value = match value.scale() > scale {
        true => Some(value.round_dp(scale)).filter(|rounded| rounded == value)?,
        false => *value,
    };
    let shift = scale.checked_sub(value.scale())?;
    let mantissa = value.mantissa().checked_mul(10_i128.checked_pow(shift)?)?;
    (mantissa.abs() < 10_i128.pow(u32::from(DECIMAL128_DIGITS))).then_some(mantissa)
}

/// `amounts` as `decimal128(38, scale)`, or `None` if one of them does not fit.
fn narrow(amounts: Amounts<'_>, scale: u32) -> Result<Option<Decimal128Array>, ArrowError> {
    let column_scale = i8::try_from(scale)
        .map_err(|_| ArrowError::ComputeError(format!("decimal scale {scale}")))?;
    // Batches convert millions of amounts: in parallel, straight into the column's buffer.
    let mantissas: Option<Vec<i128>> = (0..amounts.rows())
        .into_par_iter()
        .with_min_len(ROWS_PER_TASK)
        .map(|row| amounts.get(row).map_or(Some(0), |v| at_scale(&v, scale)))
        .collect();
    let Some(mantissas) = mantissas else {
        return Ok(None);
    };
    let present: BooleanBuffer = amounts.values().map(|v| v.is_some()).collect();
    let nulls = (present.count_set_bits() < amounts.rows()).then(|| NullBuffer::new(present));
    Decimal128Array::try_new(ScalarBuffer::from(mantissas), nulls)?
        .with_precision_and_scale(DECIMAL128_DIGITS, column_scale)
        .map(Some)
}

/// Rows per parallel task when a column is converted.
const ROWS_PER_TASK: usize = 16_384;

/// The scale of the amount columns of a batch: the finest of its values (at least the currency
/// scale), or one scale given for every amount (`decimal128` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountScale {
    /// The finest scale among the column's values; `decimal256` when `decimal128` cannot hold
    /// them all. See [`amount_column`].
    Finest,
    /// This scale, in `decimal128`. See [`amount_column_at`].
    Fixed(u32),
}

/// The columns of a priced batch: `status` and `currency` as dictionaries of their codes,
/// `unit_price` and `line_total` as amount columns at `scale`, `buyable`; amounts, currency and
/// `buyable` are null on rows that did not price. With `detail`, then `product` (the SKU the
/// row priced), `rule` (the one that set the price), `base_price`, `list_price` and `cost`.
pub fn result_batch(
    engine: &Engine,
    out: &BatchResult,
    detail: Option<&BatchDetail<'_>>,
    currency: Option<&str>,
    scale: AmountScale,
) -> Result<RecordBatch, ArrowError> {
    let empty_scale = empty_scale(engine, currency);
    let amount_column = |amounts: Amounts<'_>| match scale {
        AmountScale::Finest => amounts_of(amounts, empty_scale),
        AmountScale::Fixed(scale) => amounts_at(amounts, scale),
    };
    let ok = |row: usize| out.status.get(row) == Some(&Status::Ok);

    let mut codes: Vec<Status> = Vec::new();
    let status_keys = out
        .status
        .iter()
        .map(|status| {
            let key = codes.iter().position(|c| c == status).unwrap_or_else(|| {
                codes.push(*status);
                codes.len() - 1
            });
            i8::try_from(key).map_err(|_| ArrowError::ComputeError("too many statuses".into()))
        })
        .collect::<Result<Vec<i8>, _>>()?;
    let status = DictionaryArray::<Int8Type>::try_new(
        Int8Array::from(status_keys),
        Arc::new(StringArray::from_iter_values(
            codes.iter().map(|c| c.code()),
        )),
    )?;

    let amounts = |values: &[Decimal]| amount_column(Amounts::Priced(values, &out.status));
    let unit_price = amounts(&out.unit_price)?;
    let line_total = amounts(&out.line_total)?;

    let currency_keys = out
        .currency
        .iter()
        .enumerate()
        .map(|(row, &c)| if ok(row) { i16::try_from(c).ok() } else { None })
        .collect::<Int16Array>();
    let currency = DictionaryArray::<Int16Type>::try_new(
        currency_keys,
        Arc::new(StringArray::from_iter_values(engine.currencies())),
    )?;

    let buyable = out
        .buyable
        .iter()
        .enumerate()
        .map(|(row, &b)| ok(row).then_some(b))
        .collect::<BooleanArray>();

    let dictionary = |key: DataType| DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8));
    let mut fields = vec![
        Field::new("status", dictionary(DataType::Int8), false),
        Field::new("unit_price", unit_price.data_type().clone(), true),
        Field::new("line_total", line_total.data_type().clone(), true),
        Field::new("currency", dictionary(DataType::Int16), true),
        Field::new("buyable", DataType::Boolean, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(status),
        unit_price,
        line_total,
        Arc::new(currency),
        Arc::new(buyable),
    ];
    if let Some(detail) = detail {
        let sku: StringArray = detail.sku.iter().copied().collect();
        let rule: StringArray = detail
            .rule
            .iter()
            .map(|r| r.map(|r| r.to_string()))
            .collect();
        let base = amount_column(Amounts::Column(&detail.base_price))?;
        let list = amount_column(Amounts::Column(&detail.list_price))?;
        let cost = amount_column(Amounts::Column(&detail.cost))?;
        fields.extend([
            Field::new("product", DataType::Utf8, true),
            Field::new("rule", DataType::Utf8, true),
            Field::new("base_price", base.data_type().clone(), true),
            Field::new("list_price", list.data_type().clone(), true),
            Field::new("cost", cost.data_type().clone(), true),
        ]);
        columns.extend([Arc::new(sku) as ArrayRef, Arc::new(rule), base, list, cost]);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Date32Array, Float64Array, Int64Array, TimestampMicrosecondArray};

    fn engine() -> Engine {
        Engine::from_json(&tarif_sample::distributor_json()).unwrap()
    }

    /// Hundreds of chunks, empty ones among them, longer and shorter than a task: each row
    /// lands where a sequential concatenation puts it.
    #[test]
    fn columns_of_many_chunks_read_as_their_concatenation() {
        let lens: Vec<usize> = (0..300).map(|c| [0, 1, 7, 40_000, 3][c % 5]).collect();
        let mut next = 0i64;
        let chunks: Vec<Vec<Option<i64>>> = (lens.iter())
            .map(|&len| {
                (0..len)
                    .map(|_| {
                        next += 1;
                        (next % 11 != 0).then_some(next)
                    })
                    .collect()
            })
            .collect();
        let expected: Vec<Decimal> = (chunks.iter().flatten())
            .map(|v| v.map_or(Decimal::ZERO, Decimal::from))
            .collect();
        let ints: Vec<ArrayRef> = (chunks.iter())
            .map(|c| Arc::new(Int64Array::from(c.clone())) as ArrayRef)
            .collect();
        assert_eq!(quantity_chunks(&ints, "qty").unwrap(), expected);
        let texts_of = |c: &Vec<Option<i64>>| {
            StringArray::from(
                c.iter()
                    .map(|v| v.map(|v| v.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        let strings: Vec<StringArray> = chunks.iter().map(texts_of).collect();
        let expected: Vec<String> = (chunks.iter().flatten())
            .map(|v| v.map(|v| v.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(texts(&strings), expected);
        // A chunk of text among the integers: each chunk read its own way.
        let mixed = [
            ints[3].clone(),
            Arc::new(StringArray::from(vec!["2.5"])) as ArrayRef,
        ];
        let read = quantity_chunks(&mixed, "qty").unwrap();
        assert_eq!(read.len(), 40_001);
        assert_eq!(read.last(), Some(&Decimal::new(25, 1)));
    }

    #[test]
    fn quantities_read_exactly_and_a_bad_value_becomes_its_rows_zero() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![Some("2.5"), Some("x"), None]));
        assert_eq!(
            quantity_column(&text, "qty").unwrap(),
            vec![Decimal::new(25, 1), Decimal::ZERO, Decimal::ZERO]
        );
        let decimals: ArrayRef = Arc::new(
            Decimal128Array::from(vec![1250])
                .with_precision_and_scale(10, 3)
                .unwrap(),
        );
        assert_eq!(
            quantity_column(&decimals, "qty").unwrap(),
            vec![Decimal::new(1250, 3)]
        );
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![1.5]));
        let refused = quantity_column(&floats, "qty").unwrap_err();
        assert_eq!(refused.code, InputCode::FloatRejected);
        assert!(refused.message.contains("`qty`"), "{}", refused.message);
    }

    #[test]
    fn text_is_read_from_any_string_layout_and_nothing_else() {
        let dictionary: ArrayRef = Arc::new(
            vec!["a", "b", "a"]
                .into_iter()
                .collect::<DictionaryArray<Int8Type>>(),
        );
        let read = text_column(&dictionary, "sku").unwrap();
        assert_eq!(read.iter().flatten().collect::<Vec<_>>(), ["a", "b", "a"]);
        let numbers: ArrayRef = Arc::new(Int8Array::from(vec![1]));
        assert_eq!(
            text_column(&numbers, "sku").unwrap_err().code,
            InputCode::InvalidType
        );
    }

    #[test]
    fn instants_default_on_nulls_and_list_the_rows_that_name_none() {
        let engine = engine();
        let default = Instant::from_unix_micros(0);
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("2026-03-01"),
            None,
            Some("soon"),
        ]));
        let read = instant_column(&engine, &text, "at", default).unwrap();
        assert_eq!(
            read.instants[0],
            engine.parse_instant("2026-03-01").unwrap()
        );
        assert_eq!(&read.instants[1..], [default, default]);
        assert_eq!(
            read.unreadable,
            [(2, QueryError::InvalidInstant("soon".into()))]
        );
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![20_513]));
        assert_eq!(
            instant_column(&engine, &dates, "at", default)
                .unwrap()
                .instants,
            [engine.parse_instant("2026-03-01").unwrap()]
        );
        let naive: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![0]));
        assert_eq!(
            instant_column(&engine, &naive, "at", default)
                .unwrap_err()
                .code,
            InputCode::NaiveDatetime
        );
    }

    #[test]
    fn amounts_keep_every_digit_at_the_finest_scale_of_the_column() {
        let column = amount_column(
            &[
                Some(Decimal::new(1250, 2)),
                Some(Decimal::new(16375, 3)),
                None,
            ],
            2,
        )
        .unwrap();
        let column = column.as_primitive::<Decimal128Type>();
        assert_eq!(column.scale(), 3);
        assert_eq!(column.value(0), 12_500);
        assert_eq!(column.value(1), 16_375);
        assert!(column.is_null(2));
        let wide = amount_column(&[Some(Decimal::MAX), Some(Decimal::new(1, 10))], 2).unwrap();
        assert!(matches!(wide.data_type(), DataType::Decimal256(76, 10)));
        let fixed = amount_column_at(
            &[Some(Decimal::new(15, 1)), Some(Decimal::new(18250, 3))],
            2,
        )
        .unwrap();
        let fixed = fixed.as_primitive::<Decimal128Type>();
        assert_eq!((fixed.value(0), fixed.value(1)), (150, 1825));
        let finer = amount_column_at(&[Some(Decimal::new(16375, 3))], 2).unwrap_err();
        assert!(finer.to_string().contains("`16.375`"), "{finer}");
    }
}
