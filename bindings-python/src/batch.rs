//! `Engine.quote_many`: Python columns in, the core's batch over them, a pyarrow Table out.
//!
//! Arrow inputs come through the Arrow C data interface (`__arrow_c_array__`,
//! `__arrow_c_stream__`) and are read in place; Python sequences are copied into Rust vectors.
//! Everything is owned by Rust before the GIL is released.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow_array::{make_array, new_empty_array, Array, ArrayRef, RecordBatch, StringArray};
use arrow_data::ArrayData;
use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyString};
use tarif::wire::arrow::{self, AmountScale};
use tarif::wire::InputCode;
use tarif::{BatchAt, Decimal, Instant};

use crate::convert::{optional_text, quantity, text, type_name, At};
use crate::errors::{guarded, input, Failure, Result};

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

/// What a batch does each time the core hands control back to Python (every few tens of
/// milliseconds, with the GIL): checks for signals (Ctrl-C) and calls `progress(done, total)`
/// when rows were priced since the last call; an exception from either is kept in `raised`
/// and stops the batch.
pub(crate) struct Watcher {
    progress: Option<Py<PyAny>>,
    total: usize,
    reported: Option<usize>,
    pub(crate) raised: Option<PyErr>,
}

impl Watcher {
    pub(crate) fn new(progress: Option<Py<PyAny>>, total: usize) -> Self {
        Watcher {
            progress,
            total,
            reported: None,
            raised: None,
        }
    }

    pub(crate) fn between(&mut self, done: usize) -> ControlFlow<()> {
        Python::attach(|py| {
            let outcome = py.check_signals().and_then(|()| match &self.progress {
                Some(callback) if self.reported != Some(done) => {
                    self.reported = Some(done);
                    callback.call1(py, (done, self.total)).map(drop)
                }
                _ => Ok(()),
            });
            match outcome {
                Ok(()) => ControlFlow::Continue(()),
                Err(err) => {
                    self.raised = Some(err);
                    ControlFlow::Break(())
                }
            }
        })
    }
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
        let (accounts, refs, qtys) = table_columns(lines.py(), &batches, &schema)?;
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
    if let Some(chunks) = arrow_column(column)? {
        return arrow_instants(engine, &joined(&chunks)?, now);
    }
    let mut out = Vec::new();
    for item in iterate(column, "at")? {
        let at = At::read(Some(&item?))?;
        out.push(at.wire().resolve(engine)?.unwrap_or(now));
    }
    Ok(out)
}

/// Per-row instants of an Arrow column, as the core reads them; a text that names no instant
/// fails the batch with the error a quote gives it.
fn arrow_instants(engine: &tarif::Engine, array: &ArrayRef, now: Instant) -> Result<Vec<Instant>> {
    let column = arrow::instant_column(engine, array, "at", now)?;
    if let Some((_, error)) = column.unreadable.into_iter().next() {
        return Err(error.into());
    }
    Ok(column.instants)
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
            let columns = table_columns(py, &batches, &schema)?;
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
    let mut watcher = Watcher::new(progress, qtys.len());
    let batch = py.detach(|| -> Result<Option<RecordBatch>> {
        let accounts = accounts.view();
        let refs = refs.view();
        let between = |done: usize| watcher.between(done);
        let batch = if args.detail {
            let out = guarded(|| {
                engine.quote_many_detailed_in_steps(&accounts, &refs, &qtys, at, currency, between)
            })??;
            let Some((out, detail)) = out else {
                return Ok(None);
            };
            arrow::result_batch(engine, &out, Some(&detail), currency, AmountScale::Finest)?
        } else {
            let out = guarded(|| {
                engine.quote_many_in_steps(&accounts, &refs, &qtys, at, currency, between)
            })??;
            let Some(out) = out else {
                return Ok(None);
            };
            arrow::result_batch(engine, &out, None, currency, AmountScale::Finest)?
        };
        Ok(Some(match (&table, args.keep) {
            (Some((batches, schema)), true) => kept(batches, schema, batch)?,
            _ => batch,
        }))
    })?;
    let Some(batch) = batch else {
        return Err(watcher
            .raised
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err("the batch was interrupted"))
            .into());
    };
    let schema = batch.schema();
    Ok(Table::try_new(vec![batch], schema)?.into_pyarrow(py)?)
}

/// A column of strings: Arrow `utf8` chunks read in place, or copied out of Python objects.
pub(crate) enum Strings {
    Arrow(Vec<StringArray>),
    Owned(Vec<String>),
}

impl Strings {
    /// The rows; a null is the empty string, which no account or product has.
    pub(crate) fn view(&self) -> Vec<&str> {
        match self {
            Strings::Arrow(chunks) => tarif::wire::arrow::texts(chunks),
            Strings::Owned(values) => values.iter().map(String::as_str).collect(),
        }
    }
}

/// The column as Arrow arrays (its chunks, read in place), when it is Arrow or numpy can hand
/// it over without Python objects; `None` for plain Python sequences.
fn arrow_column(column: &Bound<'_, PyAny>) -> Result<Option<Vec<ArrayRef>>> {
    let py = column.py();
    let import = |array: &Bound<'_, PyAny>| -> Result<ArrayRef> {
        Ok(make_array(ArrayData::from_pyarrow_bound(array)?))
    };
    let array = if column.hasattr("__arrow_c_array__")? {
        column.clone()
    } else if column.hasattr("combine_chunks")? {
        // A pyarrow ChunkedArray (a table's column) exports a stream, not an array. Its chunks
        // are read where they are: joining them copies the column, into memory a first call
        // pays dearly for (0.77 s for the 10M references of the reference history).
        let chunks = column.getattr("chunks")?;
        if chunks.len()? > 0 {
            return chunks
                .try_iter()?
                .map(|chunk| import(&chunk?))
                .collect::<Result<Vec<_>>>()
                .map(Some);
        }
        // No chunk: the empty array of the column's type, so that the type is still checked.
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
    Ok(Some(vec![import(&array)?]))
}

/// The chunks of a column as one array (a copy unless there is one chunk).
fn joined(chunks: &[ArrayRef]) -> std::result::Result<ArrayRef, ArrowError> {
    match chunks {
        [one] => Ok(Arc::clone(one)),
        _ => arrow_select::concat::concat(&chunks.iter().map(AsRef::as_ref).collect::<Vec<_>>()),
    }
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
    if let Some(chunks) = arrow_column(column)? {
        return string_chunks(&chunks, name);
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

fn string_chunks(chunks: &[ArrayRef], name: &str) -> Result<Strings> {
    let chunks = chunks
        .iter()
        .map(|chunk| arrow::text_column(chunk, name))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Strings::Arrow(chunks))
}

/// Quantities; a null or unreadable value becomes zero, so that its row (only) gets
/// `INVALID_QUANTITY` from the core.
fn quantities(column: &Bound<'_, PyAny>) -> Result<Vec<Decimal>> {
    not_a_column(column, "qtys")?;
    if let Some(chunks) = arrow_column(column)? {
        return Ok(arrow::quantity_chunks(&chunks, "qtys")?);
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

/// A table's column `index` as its batches' chunks, read in place; a table without batches
/// gives the empty array of the column's type, so that the type is still checked.
fn column_chunks(
    batches: &[RecordBatch],
    schema: &arrow_schema::SchemaRef,
    index: usize,
) -> Vec<ArrayRef> {
    let chunks: Vec<ArrayRef> = batches
        .iter()
        .filter_map(|b| b.columns().get(index).cloned())
        .collect();
    match chunks.is_empty() {
        true => vec![new_empty_array(schema.field(index).data_type())],
        false => chunks,
    }
}

/// A table's column `index`, its chunks concatenated.
fn concat_column(
    batches: &[RecordBatch],
    schema: &arrow_schema::SchemaRef,
    index: usize,
) -> std::result::Result<ArrayRef, ArrowError> {
    joined(&column_chunks(batches, schema, index))
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

/// The account, sku and qty columns of a table, each as its batches' chunks (read in place),
/// read without the GIL: reading millions of quantities is work other Python threads need not
/// wait for.
fn table_columns(
    py: Python<'_>,
    batches: &[RecordBatch],
    schema: &arrow_schema::SchemaRef,
) -> Result<(Strings, Strings, Vec<Decimal>)> {
    py.detach(|| {
        let column = |name: &str| -> Result<Vec<ArrayRef>> {
            let index = schema.index_of(name).map_err(|_| {
                input(
                    InputCode::InvalidBatch,
                    format!("the table has no `{name}` column (it needs account, sku, qty)"),
                )
            })?;
            Ok(column_chunks(batches, schema, index))
        };
        Ok((
            string_chunks(&column("account")?, "account")?,
            string_chunks(&column("sku")?, "sku")?,
            arrow::quantity_chunks(&column("qty")?, "qty")?,
        ))
    })
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
    let (accounts, refs, qtys) = table_columns(py, &batches, &schema)?;
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
        let before = arrow::result_batch(
            old,
            &changed.before,
            None,
            currency.as_deref(),
            AmountScale::Finest,
        )?;
        let after = arrow::result_batch(
            new,
            &changed.after,
            None,
            currency.as_deref(),
            AmountScale::Finest,
        )?;
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
