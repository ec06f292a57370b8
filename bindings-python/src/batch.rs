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
use tarif::{BatchAt, BatchResult, Decimal, Instant, Status};

use crate::convert::{optional_text, quantity, text, type_name, At};
use crate::errors::{guarded, input, Failure, Result};

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
    /// Add each row's product, deciding rule, base and list price and cost.
    pub detail: bool,
    /// Return the input table's columns before the result's.
    pub keep: bool,
}

/// The instants of a batch as read from Python: one for every row, or one per row.
enum Instants {
    One(Option<Instant>),
    PerRow(Vec<Instant>),
}

impl Instants {
    fn batch_at(&self) -> BatchAt<'_> {
        match self {
            Instants::One(None) => BatchAt::Now,
            Instants::One(Some(at)) => BatchAt::One(*at),
            Instants::PerRow(list) => BatchAt::PerRow(list),
        }
    }
}

/// What a batch does between two steps, with the GIL: checks for signals (Ctrl-C) and reports
/// progress; an exception from either is kept in `raised` and stops the batch.
pub(crate) fn between_steps(
    progress: &Option<Py<PyAny>>,
    done: usize,
    total: usize,
    raised: &mut Option<PyErr>,
) -> ControlFlow<()> {
    Python::attach(|py| {
        let outcome = py.check_signals().and_then(|()| match progress {
            Some(callback) => callback.call1(py, (done, total)).map(drop),
            None => Ok(()),
        });
        match outcome {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                *raised = Some(err);
                ControlFlow::Break(())
            }
        }
    })
}

/// A batch's lines as read from a table: the columns, the instants, and the table itself.
pub(crate) struct TableLines {
    pub batches: Vec<RecordBatch>,
    pub schema: arrow_schema::SchemaRef,
    pub accounts: Strings,
    pub refs: Strings,
    pub qtys: Vec<Decimal>,
    pub instants: Vec<Instant>,
    pub one: Option<Instant>,
}

impl TableLines {
    /// Reads a table with columns account, sku, qty and optionally at (or an `at` given
    /// apart: one instant or a column).
    pub(crate) fn read(
        engine: &tarif::Engine,
        lines: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> Result<TableLines> {
        if !lines.hasattr("__arrow_c_stream__")? {
            return Err(input(
                InputCode::InvalidBatch,
                format!(
                    "the lines must be a table with columns account, sku, qty (a pyarrow Table, \
                     a pandas or Polars DataFrame), not a {}",
                    type_name(lines)
                ),
            ));
        }
        let (batches, schema) = Table::from_pyarrow_bound(lines)?.into_inner();
        let (accounts, refs, qtys) = table_columns(&batches, &schema)?;
        let table_at = match at {
            None => optional_column(&batches, &schema, "at")?,
            Some(_) => None,
        };
        let (instants, one) = match (at, table_at) {
            (Some(at), _) if is_column(at)? => (row_instants(engine, at)?, None),
            (_, Some(column)) => (arrow_instants(engine, &column, Instant::now())?, None),
            (at, None) => (
                Vec::new(),
                Some(
                    At::read(at)?
                        .wire()
                        .resolve(engine)?
                        .unwrap_or_else(Instant::now),
                ),
            ),
        };
        Ok(TableLines {
            batches,
            schema,
            accounts,
            refs,
            qtys,
            instants,
            one,
        })
    }

    pub(crate) fn at(&self) -> BatchAt<'_> {
        match self.one {
            Some(at) => BatchAt::One(at),
            None => BatchAt::PerRow(&self.instants),
        }
    }

    /// The table's own columns, each repeated `times` over.
    pub(crate) fn repeated(
        &self,
        times: usize,
    ) -> std::result::Result<(Vec<Field>, Vec<ArrayRef>), ArrowError> {
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        for (index, field) in self.schema.fields().iter().enumerate() {
            let column = concat_column(&self.batches, &self.schema, index)?;
            let copies: Vec<&dyn Array> = (0..times).map(|_| column.as_ref()).collect();
            fields.push(field.as_ref().clone());
            columns.push(if copies.is_empty() {
                new_empty_array(field.data_type())
            } else {
                arrow_select::concat::concat(&copies)?
            });
        }
        Ok((fields, columns))
    }
}

/// Whether `at` is a column of instants rather than one instant.
fn is_column(at: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = at.py();
    let single = at.is_none()
        || at.is_instance_of::<PyString>()
        || at.is_instance(&py.import("datetime")?.getattr("date")?)?;
    Ok(!single && (at.hasattr("__iter__")? || at.hasattr("__arrow_c_array__")?))
}

/// Per-row instants from a Python sequence or an Arrow column (strings, aware timestamps or
/// dates); a null or `None` row is the batch's "now".
fn row_instants(engine: &tarif::Engine, column: &Bound<'_, PyAny>) -> Result<Vec<Instant>> {
    let now = Instant::now();
    if let Some(array) = arrow_column(column)? {
        return arrow_instants(engine, &array, now);
    }
    let mut out = Vec::new();
    for item in iterate(column, "at")? {
        let at = At::read(Some(&item?))?;
        out.push(at.wire().resolve(engine)?.unwrap_or(now));
    }
    Ok(out)
}

fn arrow_instants(engine: &tarif::Engine, array: &ArrayRef, now: Instant) -> Result<Vec<Instant>> {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    use arrow_schema::TimeUnit;
    let text = |_row: usize, value: Option<&str>| -> Result<Instant> {
        match value {
            None => Ok(now),
            Some(text) => Ok(engine.parse_instant(text)?),
        }
    };
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().enumerate().map(|(row, v)| text(row, v)).collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().enumerate().map(|(row, v)| text(row, v)).collect(),
        DataType::Date32 => array
            .as_primitive::<arrow_array::types::Date32Type>()
            .iter()
            .enumerate()
            .map(|(row, days)| {
                let date = days.and_then(|d| {
                    arrow_array::temporal_conversions::date32_to_datetime(d)
                        .map(|date| date.format("%Y-%m-%d").to_string())
                });
                text(row, date.as_deref())
            })
            .collect(),
        DataType::Timestamp(unit, Some(_)) => {
            let micros: Vec<Option<i64>> = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().iter().map(|v| v.and_then(|s| s.checked_mul(1_000_000))).collect(),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().iter().map(|v| v.and_then(|s| s.checked_mul(1_000))).collect(),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().iter().collect(),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().iter().map(|v| v.map(|n| n.div_euclid(1_000))).collect(),
            };
            Ok(micros.into_iter().map(|m| m.map_or(now, Instant::from_unix_micros)).collect())
        }
        DataType::Timestamp(_, None) => Err(input(
            InputCode::NaiveDatetime,
            "the `at` column holds timestamps without a timezone, which name no instant: give the \
             column a timezone (pyarrow.timestamp(\"us\", tz=\"UTC\"))",
        )),
        other => Err(input(
            InputCode::InvalidType,
            format!("the `at` column must hold strings, dates or timestamps with a timezone, not Arrow {other}"),
        )),
    }
}

pub(crate) fn quote_many<'py>(
    py: Python<'py>,
    engine: &tarif::Engine,
    args: Columns<'_, 'py>,
    progress: Option<Py<PyAny>>,
) -> Result<Bound<'py, PyAny>> {
    // The columns first, then the instant and the currency: the order Node reads a batch in,
    // so that a batch with several bad inputs reports the same one in both languages.
    let mut table: Option<(Vec<RecordBatch>, arrow_schema::SchemaRef)> = None;
    let (accounts, refs, qtys) = match (args.skus, args.qtys) {
        (Some(skus), Some(qtys)) => (
            strings(args.accounts, "accounts")?,
            strings(skus, "skus")?,
            quantities(qtys)?,
        ),
        (None, None) if args.accounts.hasattr("__arrow_c_stream__")? => {
            let (batches, schema) = Table::from_pyarrow_bound(args.accounts)?.into_inner();
            let columns = table_columns(&batches, &schema)?;
            table = Some((batches, schema));
            columns
        }
        _ => {
            return Err(input(
                InputCode::InvalidBatch,
                "quote_many takes three columns (accounts, skus, qtys) or one table with \
                 columns account, sku, qty",
            ))
        }
    };
    if args.keep && table.is_none() {
        return Err(input(
            InputCode::InvalidBatch,
            "keep=True keeps the columns of a table: pass one table (account, sku, qty, and \
             any other column) instead of separate columns",
        ));
    }
    let table_at = match (&table, args.at) {
        (Some((batches, schema)), None) => optional_column(batches, schema, "at")?,
        _ => None,
    };
    let instants = match (args.at, table_at) {
        (Some(at), _) if is_column(at)? => Instants::PerRow(row_instants(engine, at)?),
        (_, Some(column)) => Instants::PerRow(arrow_instants(engine, &column, Instant::now())?),
        (at, None) => Instants::One(At::read(at)?.wire().resolve(engine)?),
    };
    let at = instants.batch_at();
    let currency = optional_text(args.currency, "currency")?;
    let currency = currency.as_deref();
    let total = qtys.len();
    // Set between two steps when Python has an exception to raise: a signal's (Ctrl-C) or the
    // progress callback's.
    let mut raised: Option<PyErr> = None;
    let batch = py.detach(|| -> Result<Option<RecordBatch>> {
        let accounts = accounts.view();
        let refs = refs.view();
        let between = |done: usize| between_steps(&progress, done, total, &mut raised);
        // A batch that prices no row has no scale to take: it takes its currency's.
        let empty_scale = engine
            .currency_scale(currency)
            .or_else(|| engine.currency_scale(None))
            .unwrap_or(0);
        let batch = if args.detail {
            let out = guarded(|| {
                engine.quote_many_detailed_in_steps(&accounts, &refs, &qtys, at, currency, between)
            })??;
            let Some((out, detail)) = out else {
                return Ok(None);
            };
            let plain = result_batch(engine, &out, empty_scale)?;
            with_detail(plain, &detail, empty_scale)?
        } else {
            let out = guarded(|| {
                engine.quote_many_in_steps(&accounts, &refs, &qtys, at, currency, between)
            })??;
            let Some(out) = out else {
                return Ok(None);
            };
            result_batch(engine, &out, empty_scale)?
        };
        Ok(Some(match (&table, args.keep) {
            (Some((batches, schema)), true) => kept(batches, schema, batch)?,
            _ => batch,
        }))
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
pub(crate) enum Strings {
    Arrow(ArrayRef),
    Owned(Vec<String>),
}

impl Strings {
    /// The rows; a null is the empty string, which no account or product has.
    pub(crate) fn view(&self) -> Vec<&str> {
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

/// A table's column `index`, its chunks concatenated.
fn concat_column(
    batches: &[RecordBatch],
    schema: &arrow_schema::SchemaRef,
    index: usize,
) -> std::result::Result<ArrayRef, ArrowError> {
    let chunks = batches
        .iter()
        .filter_map(|b| b.columns().get(index).map(|c| c.as_ref()))
        .collect::<Vec<&dyn Array>>();
    if chunks.is_empty() {
        return Ok(new_empty_array(schema.field(index).data_type()));
    }
    arrow_select::concat::concat(&chunks)
}

/// A table's column by name, or `None` if it has none.
fn optional_column(
    batches: &[RecordBatch],
    schema: &arrow_schema::SchemaRef,
    name: &str,
) -> Result<Option<ArrayRef>> {
    match schema.index_of(name) {
        Ok(index) => Ok(Some(concat_column(batches, schema, index)?)),
        Err(_) => Ok(None),
    }
}

/// The input table's columns, then the result's; a name in both is an error rather than two
/// columns a reader cannot tell apart.
fn kept(
    batches: &[RecordBatch],
    schema: &arrow_schema::SchemaRef,
    result: RecordBatch,
) -> std::result::Result<RecordBatch, Failure> {
    let clash: Vec<String> = result
        .schema()
        .fields()
        .iter()
        .filter(|f| schema.index_of(f.name()).is_ok())
        .map(|f| format!("`{}`", f.name()))
        .collect();
    if !clash.is_empty() {
        return Err(input(
            InputCode::InvalidBatch,
            format!(
                "keep=True would give the table two columns named {}: rename them in the input",
                clash.join(", ")
            ),
        ));
    }
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns = (0..schema.fields().len())
        .map(|index| concat_column(batches, schema, index))
        .collect::<std::result::Result<Vec<ArrayRef>, ArrowError>>()?;
    fields.extend(result.schema().fields().iter().map(|f| f.as_ref().clone()));
    columns.extend(result.columns().iter().cloned());
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// The result with the columns of a detailed batch after it: `product` (the SKU of the product the row
/// priced), `rule` (the one that set the price), `base_price`, `list_price`, `cost`.
fn with_detail(
    plain: RecordBatch,
    detail: &tarif::BatchDetail<'_>,
    empty_scale: u32,
) -> std::result::Result<RecordBatch, ArrowError> {
    let sku: StringArray = detail.sku.iter().copied().collect();
    let rule: StringArray = detail
        .rule
        .iter()
        .map(|r| r.map(|r| r.to_string()))
        .collect();
    let base = amount_column(&detail.base_price, empty_scale)?;
    let list = amount_column(&detail.list_price, empty_scale)?;
    let cost = amount_column(&detail.cost, empty_scale)?;
    let mut fields: Vec<Field> = plain
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend([
        Field::new("product", DataType::Utf8, true),
        Field::new("rule", DataType::Utf8, true),
        Field::new("base_price", base.data_type().clone(), true),
        Field::new("list_price", list.data_type().clone(), true),
        Field::new("cost", cost.data_type().clone(), true),
    ]);
    let mut columns: Vec<ArrayRef> = plain.columns().to_vec();
    columns.extend([Arc::new(sku) as ArrayRef, Arc::new(rule), base, list, cost]);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// The `account`, `sku` and `qty` columns of a table.
fn table_columns(
    batches: &[RecordBatch],
    schema: &arrow_schema::SchemaRef,
) -> Result<(Strings, Strings, Vec<Decimal>)> {
    let column = |name: &str| -> Result<ArrayRef> {
        optional_column(batches, schema, name)?.ok_or_else(|| {
            input(
                InputCode::InvalidBatch,
                format!("the table has no `{name}` column (it needs account, sku, qty)"),
            )
        })
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
pub(crate) fn amount_column(
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
    let (batches, schema) = Table::from_pyarrow_bound(lines)?.into_inner();
    let (accounts, refs, qtys) = table_columns(&batches, &schema)?;
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
