//! `Engine.quote_many`: Python columns in, the core's batch over them, a pyarrow Table out.
//!
//! Arrow inputs come through the Arrow C data interface (`__arrow_c_array__`,
//! `__arrow_c_stream__`) and are read in place; Python sequences are copied into Rust vectors.
//! Everything is owned by Rust before the GIL is released.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int16Type, Int64Type, Int8Type, UInt64Type};
use arrow_array::{
    make_array, new_empty_array, Array, ArrayRef, BooleanArray, Decimal128Array, Decimal256Array,
    DictionaryArray, Int16Array, Int8Array, RecordBatch, StringArray,
};
use arrow_buffer::i256;
use arrow_data::ArrayData;
use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyString};
use tarif::money::parse_decimal;
use tarif::wire::InputCode;
use tarif::{BatchAt, BatchResult, Decimal, Status};

use crate::convert::{optional_text, quantity, text, type_name, At};
use crate::errors::{guarded, input, Result};

/// The most digits a `decimal128` / `decimal256` column holds.
const DECIMAL128_DIGITS: u8 = 38;
const DECIMAL256_DIGITS: u8 = 76;

/// The arguments of `Engine.quote_many`, as Python gave them.
pub(crate) struct Columns<'a, 'py> {
    pub accounts: &'a Bound<'py, PyAny>,
    pub skus: Option<&'a Bound<'py, PyAny>>,
    pub qtys: Option<&'a Bound<'py, PyAny>>,
    pub at: Option<&'a Bound<'py, PyAny>>,
    pub currency: Option<&'a Bound<'py, PyAny>>,
}

pub(crate) fn quote_many<'py>(
    py: Python<'py>,
    engine: &tarif::Engine,
    args: Columns<'_, 'py>,
    progress: Option<Py<PyAny>>,
) -> Result<Bound<'py, PyAny>> {
    // The columns first, then the instant and the currency: the order Node reads a batch in,
    // so that a batch with several bad inputs reports the same one in both languages.
    let (accounts, refs, qtys) = match (args.skus, args.qtys) {
        (Some(skus), Some(qtys)) => (
            strings(args.accounts, "accounts")?,
            strings(skus, "skus")?,
            quantities(qtys)?,
        ),
        (None, None) if args.accounts.hasattr("__arrow_c_stream__")? => {
            table_columns(args.accounts)?
        }
        _ => {
            return Err(input(
                InputCode::InvalidBatch,
                "quote_many takes three columns (accounts, skus, qtys) or one table with \
                 columns account, sku, qty",
            ))
        }
    };
    let at = At::read(args.at)?
        .wire()
        .resolve(engine)?
        .map_or(BatchAt::Now, BatchAt::One);
    let currency = optional_text(args.currency, "currency")?;
    let currency = currency.as_deref();
    let total = qtys.len();
    // Set between two steps when Python has an exception to raise: a signal's (Ctrl-C) or the
    // progress callback's.
    let mut raised: Option<PyErr> = None;
    let batch = py.detach(|| -> Result<Option<RecordBatch>> {
        let accounts = accounts.view();
        let refs = refs.view();
        let between = |done: usize| {
            Python::attach(|py| {
                let outcome = py.check_signals().and_then(|()| match &progress {
                    Some(callback) => callback.call1(py, (done, total)).map(drop),
                    None => Ok(()),
                });
                match outcome {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(err) => {
                        raised = Some(err);
                        ControlFlow::Break(())
                    }
                }
            })
        };
        let out = guarded(|| {
            engine.quote_many_in_steps(&accounts, &refs, &qtys, at, currency, between)
        })??;
        let Some(out) = out else {
            return Ok(None);
        };
        // A batch that prices no row has no scale to take: it takes its currency's.
        let empty_scale = engine
            .currency_scale(currency)
            .or_else(|| engine.currency_scale(None))
            .unwrap_or(0);
        Ok(Some(result_batch(engine, &out, empty_scale)?))
    })?;
    let Some(batch) = batch else {
        return Err(raised
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err("the batch was interrupted"))
            .into());
    };
    let schema = batch.schema();
    Ok(Table::try_new(vec![batch], schema)?.into_pyarrow(py)?)
}

/// A column of strings: Arrow `utf8` read in place, or copied out of Python objects.
enum Strings {
    Arrow(ArrayRef),
    Owned(Vec<String>),
}

impl Strings {
    /// The rows; a null is the empty string, which no account or product has.
    fn view(&self) -> Vec<&str> {
        match self {
            Strings::Arrow(array) => array
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or(""))
                .collect(),
            Strings::Owned(values) => values.iter().map(String::as_str).collect(),
        }
    }
}

fn is_string(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_string(values),
        _ => false,
    }
}

/// The column as an Arrow array, when it is one or numpy can hand it over without Python
/// objects; `None` for plain Python sequences.
fn arrow_column(column: &Bound<'_, PyAny>) -> Result<Option<ArrayRef>> {
    let py = column.py();
    let array = if column.hasattr("__arrow_c_array__")? {
        column.clone()
    } else if column.hasattr("combine_chunks")? {
        // A pyarrow ChunkedArray (a table's column) exports a stream, not an array.
        column.call_method0("combine_chunks")?
    } else if column.hasattr("__array__")?
        && column.hasattr("dtype")?
        && column
            .getattr("dtype")?
            .getattr("kind")?
            .extract::<String>()?
            != "O"
    {
        py.import("pyarrow")?.call_method1("array", (column,))?
    } else {
        return Ok(None);
    };
    Ok(Some(make_array(ArrayData::from_pyarrow_bound(&array)?)))
}

/// A str or a dict is refused as a column: it would iterate by character, or by key.
fn not_a_column(column: &Bound<'_, PyAny>, name: &str) -> Result<()> {
    if column.is_instance_of::<PyString>() || column.is_instance_of::<PyDict>() {
        return Err(input(
            InputCode::InvalidType,
            format!(
                "{name} must be a column (a list or an array), not a single {}",
                type_name(column)
            ),
        ));
    }
    Ok(())
}

fn iterate<'py>(column: &Bound<'py, PyAny>, name: &str) -> Result<Bound<'py, PyIterator>> {
    column.try_iter().map_err(|_| {
        input(
            InputCode::InvalidType,
            format!(
                "{name} must be a column (a list or an array), not {}",
                type_name(column)
            ),
        )
    })
}

fn strings(column: &Bound<'_, PyAny>, name: &str) -> Result<Strings> {
    not_a_column(column, name)?;
    if let Some(array) = arrow_column(column)? {
        return string_array(array, name);
    }
    let mut values = Vec::with_capacity(column.len().unwrap_or(0));
    for (row, item) in iterate(column, name)?.enumerate() {
        let item = item?;
        if !item.is_instance_of::<PyString>() {
            return Err(input(
                InputCode::InvalidType,
                format!("{name}[{row}] is not a str: {}", type_name(&item)),
            ));
        }
        values.push(text(&item, &format!("{name}[{row}]"))?);
    }
    Ok(Strings::Owned(values))
}

fn string_array(array: ArrayRef, name: &str) -> Result<Strings> {
    if !is_string(array.data_type()) {
        return Err(input(
            InputCode::InvalidType,
            format!("{name} must be strings, not Arrow {}", array.data_type()),
        ));
    }
    Ok(Strings::Arrow(arrow_cast::cast(&array, &DataType::Utf8)?))
}

/// Quantities; a null or unreadable value becomes zero, so that its row (only) gets
/// `INVALID_QUANTITY` from the core.
fn quantities(column: &Bound<'_, PyAny>) -> Result<Vec<Decimal>> {
    not_a_column(column, "qtys")?;
    if let Some(array) = arrow_column(column)? {
        return quantity_array(&array);
    }
    let mut values = Vec::with_capacity(column.len().unwrap_or(0));
    for item in iterate(column, "qtys")? {
        let item = item?;
        values.push(if item.is_none() {
            Decimal::ZERO
        } else {
            quantity(&item)?.for_rows()
        });
    }
    Ok(values)
}

fn quantity_array(array: &ArrayRef) -> Result<Vec<Decimal>> {
    let data_type = array.data_type();
    if data_type == &DataType::UInt64 {
        // Beyond i64 but well within a decimal: priced, as `quote()` prices the same int.
        return Ok(array
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| v.map_or(Decimal::ZERO, Decimal::from))
            .collect());
    }
    if data_type.is_integer() {
        let ints = arrow_cast::cast(array, &DataType::Int64)?;
        return Ok(ints
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map_or(Decimal::ZERO, Decimal::from))
            .collect());
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
    if is_string(data_type) {
        let texts = arrow_cast::cast(array, &DataType::Utf8)?;
        return Ok(texts
            .as_string::<i32>()
            .iter()
            .map(|t| t.and_then(parse_decimal).unwrap_or(Decimal::ZERO))
            .collect());
    }
    if data_type.is_floating() {
        return Err(input(
            InputCode::FloatRejected,
            format!(
                "qtys is Arrow {data_type}: binary floating point holds most decimal amounts \
                 only approximately; pass integers, decimal128 or strings"
            ),
        ));
    }
    Err(input(
        InputCode::InvalidType,
        format!("qtys must be integers, decimal128 or strings, not Arrow {data_type}"),
    ))
}

/// The `account`, `sku` and `qty` columns of a table.
fn table_columns(table: &Bound<'_, PyAny>) -> Result<(Strings, Strings, Vec<Decimal>)> {
    let (batches, schema) = Table::from_pyarrow_bound(table)?.into_inner();
    let column = |name: &str| -> Result<ArrayRef> {
        let index = schema.index_of(name).map_err(|_| {
            input(
                InputCode::InvalidBatch,
                format!("the table has no `{name}` column (it needs account, sku, qty)"),
            )
        })?;
        let chunks = batches
            .iter()
            .filter_map(|b| b.columns().get(index).map(|c| c.as_ref()))
            .collect::<Vec<&dyn Array>>();
        if chunks.is_empty() {
            let field = schema.field(index);
            return Ok(new_empty_array(field.data_type()));
        }
        Ok(arrow_select::concat::concat(&chunks)?)
    };
    Ok((
        string_array(column("account")?, "account")?,
        string_array(column("sku")?, "sku")?,
        quantity_array(&column("qty")?)?,
    ))
}

/// `status`, `unit_price`, `line_total`, `currency`; the amounts as [`amount_column`] writes
/// them.
fn result_batch(
    engine: &tarif::Engine,
    out: &BatchResult,
    empty_scale: u32,
) -> std::result::Result<RecordBatch, ArrowError> {
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
        .collect::<std::result::Result<Vec<i8>, _>>()?;
    let status = DictionaryArray::<Int8Type>::try_new(
        Int8Array::from(status_keys),
        Arc::new(StringArray::from_iter_values(
            codes.iter().map(|c| c.code()),
        )),
    )?;

    let amounts = |values: &[Decimal]| {
        let priced = values
            .iter()
            .enumerate()
            .map(|(row, v)| ok(row).then_some(*v))
            .collect::<Vec<_>>();
        amount_column(&priced, empty_scale)
    };
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
    let schema = Schema::new(vec![
        Field::new("status", dictionary(DataType::Int8), false),
        Field::new("unit_price", unit_price.data_type().clone(), true),
        Field::new("line_total", line_total.data_type().clone(), true),
        Field::new("currency", dictionary(DataType::Int16), true),
        Field::new("buyable", DataType::Boolean, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(status),
            Arc::new(unit_price),
            Arc::new(line_total),
            Arc::new(currency),
            Arc::new(buyable),
        ],
    )
}

/// An amount column in which every value is exact. The column takes the largest scale among
/// its values (at least the currency scale: the core rounds to it), so that no digit is lost:
/// quantities sold by length make line totals finer than the currency. Every value is written
/// at that scale with integer arithmetic; a mantissa is never reinterpreted at another scale.
/// `decimal128(38, s)` holds the column unless a wide value meets a fine one (a 29-digit amount
/// next to a 10-decimal one); then the column is `decimal256(76, s)`, which holds any pair of
/// `Decimal`s (29 integer digits + 28 decimals) exactly.
fn amount_column(
    values: &[Option<Decimal>],
    empty_scale: u32,
) -> std::result::Result<ArrayRef, ArrowError> {
    let scale = values
        .iter()
        .flatten()
        .map(Decimal::scale)
        .max()
        .unwrap_or(empty_scale);
    let at_scale = |v: &Decimal| -> Option<i128> {
        let shift = scale.checked_sub(v.scale())?;
        v.mantissa().checked_mul(10_i128.checked_pow(shift)?)
    };
    let column_scale = i8::try_from(scale)
        .map_err(|_| ArrowError::ComputeError(format!("decimal scale {scale}")))?;
    let limit = 10_i128.pow(u32::from(DECIMAL128_DIGITS));
    let narrow = values
        .iter()
        .map(|v| match v {
            None => Some(None),
            Some(v) => at_scale(v).filter(|m| m.abs() < limit).map(Some),
        })
        .collect::<Option<Vec<Option<i128>>>>();
    if let Some(mantissas) = narrow {
        let column = mantissas
            .into_iter()
            .collect::<Decimal128Array>()
            .with_precision_and_scale(DECIMAL128_DIGITS, column_scale)?;
        return Ok(Arc::new(column));
    }
    let ten = i256::from_i128(10);
    let wide = values
        .iter()
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

/// `old.diff(new, lines)`: the lines of a table (account, sku, qty) whose answer differs
/// between the two engines, as one table: `row` (the line's position in `lines`), `account`,
/// `sku`, then `before_*` and `after_*` columns shaped like `quote_many`'s.
pub(crate) fn changed_lines<'py>(
    py: Python<'py>,
    old: &tarif::Engine,
    new: &tarif::Engine,
    lines: &Bound<'py, PyAny>,
    at: Option<&Bound<'py, PyAny>>,
    currency: Option<&Bound<'py, PyAny>>,
) -> Result<Bound<'py, PyAny>> {
    if !lines.hasattr("__arrow_c_stream__")? {
        return Err(input(
            InputCode::InvalidBatch,
            format!(
                "diff takes its lines as a table with columns account, sku, qty (a pyarrow Table \
                 or a pandas DataFrame), not a {}",
                type_name(lines)
            ),
        ));
    }
    let (accounts, refs, qtys) = table_columns(lines)?;
    let at = At::read(at)?
        .wire()
        .resolve(old)?
        .map_or(BatchAt::Now, BatchAt::One);
    let currency = optional_text(currency, "currency")?;
    let batch = py.detach(|| -> Result<RecordBatch> {
        let accounts = accounts.view();
        let refs = refs.view();
        let changed =
            guarded(|| old.changed_lines(new, &accounts, &refs, &qtys, at, currency.as_deref()))??;
        let scale = |engine: &tarif::Engine| {
            engine
                .currency_scale(currency.as_deref())
                .or_else(|| engine.currency_scale(None))
                .unwrap_or(0)
        };
        let before = result_batch(old, &changed.before, scale(old))?;
        let after = result_batch(new, &changed.after, scale(new))?;
        let pick = |column: &[&str]| -> StringArray {
            changed
                .rows
                .iter()
                .map(|&row| column.get(row).copied())
                .collect()
        };
        let rows: arrow_array::UInt64Array = changed.rows.iter().map(|&row| row as u64).collect();
        let mut fields = vec![
            Field::new("row", DataType::UInt64, false),
            Field::new("account", DataType::Utf8, true),
            Field::new("sku", DataType::Utf8, true),
        ];
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(rows),
            Arc::new(pick(&accounts)),
            Arc::new(pick(&refs)),
        ];
        for (prefix, part) in [("before", &before), ("after", &after)] {
            for (field, column) in part.schema().fields().iter().zip(part.columns()) {
                fields.push(
                    field
                        .as_ref()
                        .clone()
                        .with_name(format!("{prefix}_{}", field.name())),
                );
                columns.push(Arc::clone(column));
            }
        }
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns,
        )?)
    })?;
    let schema = batch.schema();
    Ok(Table::try_new(vec![batch], schema)?.into_pyarrow(py)?)
}
