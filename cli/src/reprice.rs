//! `tarif reprice`: a file of order lines in (CSV or Parquet), the same lines with their prices
//! out (CSV or Parquet), priced in parallel chunk by chunk so that memory stays flat and
//! progress can be shown.
//!
//! Every chunk becomes an Arrow record batch whatever the input format (CSV cells as text, an
//! empty cell as null), so one path reads the columns, prices them and writes them out.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant as Clock;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader, StringArray};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use indicatif::ProgressBar;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::json;
use tarif::wire::arrow::{self as columns, AmountScale};
use tarif::{BatchAt, BatchResult, Engine, Instant, Status};

use crate::args::RepriceArgs;
use crate::check::load;
use crate::failure::{Exit, Failure};
use crate::output_file::write_atomically;
use crate::progress::Progress;

/// The columns the output adds after the input's.
const OUTPUT_COLUMNS: [&str; 4] = ["status", "unit_price", "line_total", "currency"];

/// A file's format, told by its extension: `.parquet` (or `.pq`) is Parquet, anything else CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

impl Format {
    fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("parquet") || ext.eq_ignore_ascii_case("pq") => {
                Format::Parquet
            }
            _ => Format::Csv,
        }
    }
}

fn lines_failure(path: &Path, error: impl std::fmt::Display) -> Failure {
    Failure::Lines(format!("`{}`: {error}", path.display()))
}

/// The input, chunk by chunk.
enum Reader {
    Csv {
        reader: csv::Reader<File>,
        schema: SchemaRef,
        size: u64,
    },
    Parquet {
        reader: ParquetRecordBatchReader,
        schema: SchemaRef,
        rows: u64,
    },
}

impl Reader {
    fn open(path: &Path, chunk: usize) -> Result<Reader, Failure> {
        let open_failure = |error| Failure::File {
            path: path.to_path_buf(),
            action: "read",
            error,
        };
        let file = File::open(path).map_err(open_failure)?;
        match Format::of(path) {
            Format::Csv => {
                let size = file.metadata().map_err(open_failure)?.len();
                let mut reader = csv::ReaderBuilder::new()
                    .trim(csv::Trim::All)
                    .from_reader(file);
                let headers = reader.headers().map_err(|e| lines_failure(path, e))?;
                let fields: Vec<Field> = headers
                    .iter()
                    .map(|name| Field::new(name, DataType::Utf8, true))
                    .collect();
                Ok(Reader::Csv {
                    reader,
                    schema: Arc::new(Schema::new(fields)),
                    size,
                })
            }
            Format::Parquet => {
                let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| lines_failure(path, e))?;
                let rows =
                    u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
                let reader = builder
                    .with_batch_size(chunk)
                    .build()
                    .map_err(|e| lines_failure(path, e))?;
                Ok(Reader::Parquet {
                    schema: reader.schema(),
                    reader,
                    rows,
                })
            }
        }
    }

    fn schema(&self) -> SchemaRef {
        match self {
            Reader::Csv { schema, .. } | Reader::Parquet { schema, .. } => Arc::clone(schema),
        }
    }

    /// A bar over the input: its bytes for CSV, its rows for Parquet.
    fn bar(&self, progress: &Progress) -> ProgressBar {
        match self {
            Reader::Csv { size, .. } => progress.bytes(*size, "repricing"),
            Reader::Parquet { rows, .. } => progress.rows(*rows, "repricing"),
        }
    }

    /// Where the reader is on the bar's scale, `lines` read so far.
    fn position(&self, lines: u64) -> u64 {
        match self {
            Reader::Csv { reader, .. } => reader.position().byte(),
            Reader::Parquet { .. } => lines,
        }
    }

    /// The next chunk of at most `chunk` lines, `None` at the end.
    fn next_chunk(&mut self, path: &Path, chunk: usize) -> Result<Option<RecordBatch>, Failure> {
        match self {
            Reader::Csv { reader, schema, .. } => {
                let mut rows: Vec<csv::StringRecord> = Vec::with_capacity(chunk.min(1 << 20));
                let mut record = csv::StringRecord::new();
                while rows.len() < chunk
                    && reader
                        .read_record(&mut record)
                        .map_err(|e| lines_failure(path, e))?
                {
                    rows.push(std::mem::take(&mut record));
                }
                if rows.is_empty() {
                    return Ok(None);
                }
                let cells: Vec<ArrayRef> = (0..schema.fields().len())
                    .map(|index| {
                        let column: StringArray = rows
                            .iter()
                            .map(|row| row.get(index).filter(|cell| !cell.is_empty()))
                            .collect();
                        Arc::new(column) as ArrayRef
                    })
                    .collect();
                RecordBatch::try_new(Arc::clone(schema), cells)
                    .map(Some)
                    .map_err(|e| lines_failure(path, e))
            }
            Reader::Parquet { reader, .. } => reader
                .next()
                .transpose()
                .map_err(|e| lines_failure(path, e)),
        }
    }
}

/// Where the columns a line needs are in the input.
struct Columns {
    account: usize,
    sku: usize,
    qty: usize,
    at: Option<usize>,
}

impl Columns {
    fn find(schema: &Schema, path: &Path, at: &str) -> Result<Columns, Failure> {
        let required = |name: &str| {
            schema.index_of(name).map_err(|_| {
                Failure::Lines(format!(
                    "`{}` has no `{name}` column (its header row must name `account`, `sku` \
                     and `qty`)",
                    path.display()
                ))
            })
        };
        let clash: Vec<String> = OUTPUT_COLUMNS
            .iter()
            .filter(|name| schema.index_of(name).is_ok())
            .map(|name| format!("`{name}`"))
            .collect();
        if !clash.is_empty() {
            return Err(Failure::Lines(format!(
                "`{}` already has a column named {}, which the output adds: rename it in the \
                 input",
                path.display(),
                clash.join(", ")
            )));
        }
        Ok(Columns {
            account: required("account")?,
            sku: required("sku")?,
            qty: required("qty")?,
            at: schema.index_of(at).ok(),
        })
    }
}

/// The output, chunk by chunk.
enum Writer<'a> {
    Csv(csv::Writer<Box<dyn Write + 'a>>),
    Parquet(ParquetOutput),
}

/// A Parquet output. Its amount columns are `decimal128(38, scale)`, one scale for the whole
/// file: `--scale`, else the finest of the first chunk; the writer is opened with the first
/// chunk, when that scale is known.
struct ParquetOutput {
    file: Option<BufWriter<File>>,
    writer: Option<ArrowWriter<BufWriter<File>>>,
    scale: Option<u32>,
    /// The input's columns, for the schema of a file with no line.
    schema: SchemaRef,
}

impl ParquetOutput {
    /// The input's columns followed by the priced ones.
    fn joined(
        engine: &Engine,
        lines: &RecordBatch,
        priced: &BatchResult,
        currency: Option<&str>,
        scale: u32,
    ) -> Result<RecordBatch, Failure> {
        let result =
            columns::result_batch(engine, priced, None, currency, AmountScale::Fixed(scale))
                .map_err(|e| {
                    Failure::Lines(format!(
                        "{e}: the output's amounts take the finest scale of the first chunk                          unless `--scale` says otherwise; give a larger `--scale`"
                    ))
                })?;
        let mut fields: Vec<Field> = lines
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut arrays: Vec<ArrayRef> = lines.columns().to_vec();
        for name in OUTPUT_COLUMNS {
            let index = result.schema().index_of(name).map_err(parquet_failure)?;
            fields.push(result.schema().field(index).clone());
            arrays.push(Arc::clone(result.column(index)));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(parquet_failure)
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), Failure> {
        if self.writer.is_none() {
            let file = self
                .file
                .take()
                .ok_or_else(|| parquet_failure("the output is closed"))?;
            let properties = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            self.writer = Some(
                ArrowWriter::try_new(file, batch.schema(), Some(properties))
                    .map_err(parquet_failure)?,
            );
        }
        match &mut self.writer {
            Some(writer) => writer.write(batch).map_err(parquet_failure),
            None => Err(parquet_failure("the output is closed")),
        }
    }
}

impl Writer<'_> {
    fn write(
        &mut self,
        engine: &Engine,
        lines: &RecordBatch,
        priced: &BatchResult,
        currency: Option<&str>,
    ) -> Result<(), Failure> {
        match self {
            Writer::Csv(writer) => write_csv(writer, engine, lines, priced)
                .map_err(|e| Failure::Lines(format!("cannot write the output: {e}"))),
            Writer::Parquet(output) => {
                let scale = *output
                    .scale
                    .get_or_insert_with(|| finest_scale(engine, priced, currency));
                let batch = ParquetOutput::joined(engine, lines, priced, currency, scale)?;
                output.write(&batch)
            }
        }
    }

    fn finish(self, engine: &Engine, currency: Option<&str>) -> Result<(), Failure> {
        match self {
            Writer::Csv(mut writer) => writer
                .flush()
                .map_err(|e| Failure::Lines(format!("cannot write the output: {e}"))),
            Writer::Parquet(mut output) => {
                if output.writer.is_none() {
                    // No line: a file with the columns and no row.
                    let scale = output
                        .scale
                        .unwrap_or_else(|| columns::empty_scale(engine, currency));
                    let lines = RecordBatch::new_empty(Arc::clone(&output.schema));
                    let batch = ParquetOutput::joined(
                        engine,
                        &lines,
                        &BatchResult::default(),
                        currency,
                        scale,
                    )?;
                    output.write(&batch)?;
                }
                match output.writer {
                    Some(writer) => writer.close().map(|_| ()).map_err(parquet_failure),
                    None => Ok(()),
                }
            }
        }
    }
}

fn parquet_failure(error: impl std::fmt::Display) -> Failure {
    Failure::Lines(format!("cannot write the output: {error}"))
}

/// The finest scale among a chunk's amounts, at least its currency's.
fn finest_scale(engine: &Engine, priced: &BatchResult, currency: Option<&str>) -> u32 {
    priced
        .status
        .iter()
        .zip(priced.unit_price.iter().zip(&priced.line_total))
        .filter(|(status, _)| **status == Status::Ok)
        .flat_map(|(_, (unit, line))| [unit.scale(), line.scale()])
        .chain([columns::empty_scale(engine, currency)])
        .max()
        .unwrap_or(0)
}

/// Writes a chunk as CSV: the input's cells as the input had them (Parquet values as Arrow
/// displays them), then the line's status and, when it priced, its amounts and currency.
fn write_csv(
    writer: &mut csv::Writer<Box<dyn Write + '_>>,
    engine: &Engine,
    lines: &RecordBatch,
    priced: &BatchResult,
) -> Result<(), Box<dyn std::error::Error>> {
    enum Cells<'a> {
        Text(&'a StringArray),
        Display(ArrayFormatter<'a>),
    }
    let options = FormatOptions::default();
    let cells = lines
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8 => Ok(Cells::Text(column.as_string::<i32>())),
            _ => ArrayFormatter::try_new(column.as_ref(), &options).map(Cells::Display),
        })
        .collect::<Result<Vec<Cells<'_>>, ArrowError>>()?;
    let currencies: Vec<&str> = engine.currencies().collect();
    let mut text = String::new();
    for row in 0..lines.num_rows() {
        for cell in &cells {
            match cell {
                Cells::Text(column) if column.is_null(row) => writer.write_field("")?,
                Cells::Text(column) => writer.write_field(column.value(row))?,
                Cells::Display(formatter) => {
                    text.clear();
                    write!(text, "{}", formatter.value(row))?;
                    writer.write_field(&text)?;
                }
            }
        }
        let status = priced
            .status
            .get(row)
            .copied()
            .unwrap_or(Status::InvalidBatch);
        writer.write_field(status.code())?;
        if status == Status::Ok {
            for amount in [&priced.unit_price, &priced.line_total] {
                text.clear();
                write!(text, "{}", amount.get(row).copied().unwrap_or_default())?;
                writer.write_field(&text)?;
            }
            let currency = priced
                .currency
                .get(row)
                .and_then(|&c| currencies.get(usize::from(c)))
                .copied()
                .unwrap_or_default();
            writer.write_field(currency)?;
        } else {
            for _ in 1..OUTPUT_COLUMNS.len() {
                writer.write_field("")?;
            }
        }
        writer.write_record(None::<&[u8]>)?;
    }
    Ok(())
}

/// Lines and statuses counted over the whole run.
#[derive(Default)]
struct Tally {
    lines: u64,
    by_status: BTreeMap<&'static str, u64>,
}

pub(crate) fn reprice(
    args: &RepriceArgs,
    json: bool,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<Exit, Failure> {
    let engine = load(&args.rules, progress)?;
    let default_at = match &args.at {
        Some(text) => engine.parse_instant(text)?,
        None => Instant::now(),
    };
    let currency = args.currency.as_deref();
    if let Some(currency) = currency {
        if !engine.currencies().any(|c| c == currency) {
            return Err(tarif::QueryError::UnknownCurrency(currency.to_string()).into());
        }
    }
    let chunk = usize::try_from(args.chunk).unwrap_or(usize::MAX);
    let mut reader = Reader::open(&args.input, chunk)?;
    let schema = reader.schema();
    let columns = Columns::find(&schema, &args.input, &args.at_column)?;

    let started = Clock::now();
    let tally = match &args.output {
        Some(output) => write_atomically(output, |file| {
            write_file(
                &engine,
                &mut reader,
                &columns,
                &schema,
                output,
                file,
                default_at,
                args,
                progress,
            )
        })?,
        None => {
            let mut writer = Writer::Csv(csv_writer(Box::new(&mut *stdout), &schema)?);
            let tally = run(
                &engine,
                &mut reader,
                &columns,
                &mut writer,
                default_at,
                args,
                progress,
            )?;
            writer.finish(&engine, currency)?;
            tally
        }
    };

    let elapsed = started.elapsed().as_secs_f64();
    let ok = tally.by_status.get(Status::Ok.code()).copied().unwrap_or(0);
    let destination = args
        .output
        .as_ref()
        .map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    let summary = if json {
        json!({
            "lines": tally.lines,
            "ok": ok,
            "by_status": tally.by_status,
            "output": destination,
            "seconds": elapsed,
        })
        .to_string()
    } else {
        let failed: Vec<String> = tally
            .by_status
            .iter()
            .filter(|(code, _)| **code != Status::Ok.code())
            .map(|(code, n)| format!("{code}: {n}"))
            .collect();
        let failed = if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(", "))
        };
        format!(
            "repriced {} line(s) into {destination} in {elapsed:.2} s: {ok} priced, {} not{failed}",
            tally.lines,
            tally.lines - ok,
        )
    };
    // Without `--output` the CSV is on stdout, so the summary goes to stderr.
    match &args.output {
        Some(_) => writeln!(stdout, "{summary}")?,
        None => eprintln!("{summary}"),
    }
    Ok(Exit::Ok)
}

fn csv_writer<'a>(
    output: Box<dyn Write + 'a>,
    schema: &Schema,
) -> Result<csv::Writer<Box<dyn Write + 'a>>, Failure> {
    let mut writer = csv::Writer::from_writer(output);
    writer
        .write_record(
            schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .chain(OUTPUT_COLUMNS),
        )
        .map_err(|e| Failure::Lines(format!("cannot write the output: {e}")))?;
    Ok(writer)
}

/// Reprices into `file`, the output file in the format its name `output` says.
#[allow(clippy::too_many_arguments)]
fn write_file(
    engine: &Engine,
    reader: &mut Reader,
    columns: &Columns,
    schema: &SchemaRef,
    output: &Path,
    file: File,
    default_at: Instant,
    args: &RepriceArgs,
    progress: &Progress,
) -> Result<Tally, Failure> {
    let file = BufWriter::new(file);
    let mut writer = match Format::of(output) {
        Format::Csv => Writer::Csv(csv_writer(Box::new(file), schema)?),
        Format::Parquet => Writer::Parquet(ParquetOutput {
            file: Some(file),
            writer: None,
            scale: args.scale,
            schema: Arc::clone(schema),
        }),
    };
    let tally = run(
        engine,
        reader,
        columns,
        &mut writer,
        default_at,
        args,
        progress,
    )?;
    writer.finish(engine, args.currency.as_deref())?;
    Ok(tally)
}

/// Prices the input chunk by chunk into `writer`. The next chunk is read on a thread of its
/// own while this one is priced (on every core) and written, so that reading the input costs
/// no time of its own; at most two chunks wait in between.
fn run(
    engine: &Engine,
    reader: &mut Reader,
    columns: &Columns,
    writer: &mut Writer<'_>,
    default_at: Instant,
    args: &RepriceArgs,
    progress: &Progress,
) -> Result<Tally, Failure> {
    let chunk = usize::try_from(args.chunk).unwrap_or(usize::MAX);
    let bar = reader.bar(progress);
    let mut tally = Tally::default();
    std::thread::scope(|scope| {
        let (chunks, received) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || {
            let mut lines_read = 0;
            loop {
                let next = reader.next_chunk(&args.input, chunk);
                let next = match next {
                    Ok(Some(lines)) => {
                        lines_read += lines.num_rows() as u64;
                        Ok((lines, reader.position(lines_read)))
                    }
                    Ok(None) => break,
                    Err(failure) => Err(failure),
                };
                let failed = next.is_err();
                // A closed channel means the pricing side stopped on a failure of its own.
                if chunks.send(next).is_err() || failed {
                    break;
                }
            }
        });
        for next in received {
            let (lines, position) = next?;
            let priced = price_chunk(engine, &lines, columns, default_at, args)?;
            for status in &priced.status {
                *tally.by_status.entry(status.code()).or_default() += 1;
            }
            writer.write(engine, &lines, &priced, args.currency.as_deref())?;
            tally.lines += lines.num_rows() as u64;
            bar.set_position(position);
            bar.set_prefix(format!("{} lines", tally.lines));
        }
        Ok::<(), Failure>(())
    })?;
    bar.finish_and_clear();
    Ok(tally)
}

/// Prices one chunk. A line's unreadable instant becomes that line's status with the
/// precedence of docs/spec.md §9, as if the engine had read the text itself; an unreadable
/// quantity reads as zero, which the engine answers `INVALID_QUANTITY` for exactly where it
/// would for unreadable text.
fn price_chunk(
    engine: &Engine,
    lines: &RecordBatch,
    columns: &Columns,
    default_at: Instant,
    args: &RepriceArgs,
) -> Result<BatchResult, Failure> {
    let column_failure = |e: columns::ColumnError| lines_failure(&args.input, e);
    let text = |index: usize, name: &str| {
        columns::text_column(lines.column(index), name).map_err(column_failure)
    };
    let accounts = text(columns.account, "account")?;
    let skus = text(columns.sku, "sku")?;
    let qtys =
        columns::quantity_column(lines.column(columns.qty), "qty").map_err(column_failure)?;
    let instants = columns
        .at
        .map(|index| {
            columns::instant_column(engine, lines.column(index), &args.at_column, default_at)
                .map_err(column_failure)
        })
        .transpose()?;
    let at = match &instants {
        Some(column) => BatchAt::PerRow(&column.instants),
        None => BatchAt::One(default_at),
    };
    let accounts: Vec<&str> = accounts.iter().map(|a| a.unwrap_or("")).collect();
    let skus: Vec<&str> = skus.iter().map(|s| s.unwrap_or("")).collect();
    let mut priced = engine.quote_many(&accounts, &skus, &qtys, at, args.currency.as_deref())?;
    for (row, _) in instants.iter().flat_map(|column| &column.unreadable) {
        // Only an unknown account comes before the instant.
        if let Some(status) = priced.status.get_mut(*row) {
            if *status != Status::UnknownAccount {
                *status = Status::InvalidInstant;
            }
        }
    }
    Ok(priced)
}
