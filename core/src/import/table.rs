//! Reading a table row by row, whatever it is stored in: a CSV file, a Parquet file, or Arrow
//! record batches handed over by a binding. Cells arrive as text; money never passes through
//! a float.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

#[cfg(feature = "arrow")]
use arrow_array::RecordBatch;

use super::error::{ImportCode, ImportDiagnostic, Location};
use super::manifest::CsvOptions;

/// What a field needs of its column, so that a Parquet or Arrow column of the wrong type is
/// refused once, at its header, rather than on every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Text; integers and booleans are written out.
    Text,
    /// A decimal: money or a quantity. Floats are refused.
    Exact,
    /// An attribute number: floats are accepted, as the document would hold them.
    Number,
}

/// One column to read: its name in the file and what its field needs.
pub(crate) struct Wanted<'a> {
    pub column: &'a str,
    /// Only typed columns (Parquet, Arrow) are checked against it: CSV cells are all text.
    #[cfg_attr(not(feature = "arrow"), allow(dead_code))]
    pub need: Need,
    /// A column the manifest did not name: read if the table has it, silently absent if not.
    pub optional: bool,
}

/// Where a table's rows come from.
pub(crate) enum Source<'a> {
    Csv {
        path: PathBuf,
        options: &'a CsvOptions,
    },
    #[cfg(feature = "parquet")]
    Parquet { path: PathBuf },
    #[cfg(feature = "arrow")]
    Batches(&'a [RecordBatch]),
}

/// Calls `row(line, cells)` for every row, `cells` in the order of `wanted` (`None` for an
/// empty cell or a column the table lacks, which the caller has already reported). Problems
/// with the file or a column are pushed to `problems`; rows keep coming when a cell is bad.
pub(crate) fn read(
    source: &Source<'_>,
    file: &str,
    wanted: &[Wanted<'_>],
    problems: &mut Vec<ImportDiagnostic>,
    row: &mut dyn FnMut(u64, &[Option<&str>]),
) -> Result<(), ()> {
    match source {
        Source::Csv { path, options } => read_csv(path, options, file, wanted, problems, row),
        #[cfg(feature = "parquet")]
        Source::Parquet { path } => arrow::read_parquet(path, file, wanted, problems, row),
        #[cfg(feature = "arrow")]
        Source::Batches(batches) => {
            let columns = arrow::columns(
                batches.first().map(|b| b.schema()).as_deref(),
                file,
                wanted,
                problems,
            )?;
            let mut next = 2;
            for batch in batches.iter() {
                arrow::rows(batch, &columns, &mut next, row);
            }
            Ok(())
        }
    }
}

fn at(file: &str, row: Option<u64>, column: Option<&str>) -> Location {
    Location {
        file: file.to_string(),
        row,
        column: column.map(str::to_string),
    }
}

fn one_byte(text: &str, what: &str, file: &str, problems: &mut Vec<ImportDiagnostic>) -> u8 {
    match text.as_bytes() {
        [b] if b.is_ascii() => *b,
        _ => {
            problems.push(ImportDiagnostic::at(
                ImportCode::Manifest,
                at(file, None, None),
                format!("csv {what} `{text}` is not one ASCII character"),
            ));
            b','
        }
    }
}

fn read_csv(
    path: &Path,
    options: &CsvOptions,
    file: &str,
    wanted: &[Wanted<'_>],
    problems: &mut Vec<ImportDiagnostic>,
    row: &mut dyn FnMut(u64, &[Option<&str>]),
) -> Result<(), ()> {
    let before = problems.len();
    let delimiter = one_byte(&options.delimiter, "delimiter", file, problems);
    let quote = one_byte(&options.quote, "quote", file, problems);
    if !options.encoding.eq_ignore_ascii_case("utf-8")
        && !options.encoding.eq_ignore_ascii_case("utf8")
    {
        problems.push(ImportDiagnostic::at(
            ImportCode::Manifest,
            at(file, None, None),
            format!(
                "unsupported encoding `{}`: export the table as UTF-8",
                options.encoding
            ),
        ));
    }
    if problems.len() > before {
        return Err(());
    }
    let mut input = match File::open(path) {
        Ok(f) => BufReader::with_capacity(1 << 16, f),
        Err(e) => {
            problems.push(ImportDiagnostic::at(
                ImportCode::Io,
                at(file, None, None),
                format!("cannot read `{}`: {e}", path.display()),
            ));
            return Err(());
        }
    };
    // Spreadsheets write a byte order mark in front of UTF-8; it is not part of the first name.
    if let Ok(start) = input.fill_buf() {
        if start.starts_with(b"\xEF\xBB\xBF") {
            input.consume(3);
        }
    }
    read_csv_from(
        input,
        options.header,
        delimiter,
        quote,
        file,
        wanted,
        problems,
        row,
    )
}

#[allow(clippy::too_many_arguments)]
fn read_csv_from(
    input: impl Read,
    header: bool,
    delimiter: u8,
    quote: u8,
    file: &str,
    wanted: &[Wanted<'_>],
    problems: &mut Vec<ImportDiagnostic>,
    row: &mut dyn FnMut(u64, &[Option<&str>]),
) -> Result<(), ()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .quote(quote)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let format_error = |e: csv::Error| {
        let line = e.position().map(|p| p.line());
        ImportDiagnostic::at(
            ImportCode::Format,
            at(file, line, None),
            format!("not a valid csv file: {e}"),
        )
    };
    let names: Vec<String> = if header {
        match reader.read_byte_record(&mut record) {
            Ok(true) => record
                .iter()
                .map(|name| String::from_utf8_lossy(name).trim().to_string())
                .collect(),
            Ok(false) => Vec::new(),
            Err(e) => {
                problems.push(format_error(e));
                return Err(());
            }
        }
    } else {
        Vec::new()
    };
    let mut index = Vec::with_capacity(wanted.len());
    let mut missing = false;
    for w in wanted {
        let found = if header {
            names.iter().position(|n| n == w.column)
        } else {
            w.column
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
        };
        if found.is_none() && !w.optional {
            missing = true;
            problems.push(ImportDiagnostic::at(
                ImportCode::MissingColumn,
                at(file, Some(1), Some(w.column)),
                if header {
                    format!("no column `{}` in the header", w.column)
                } else {
                    format!(
                        "column `{}` is not a 1-based position (the file has no header)",
                        w.column
                    )
                },
            ));
        }
        index.push(found);
    }
    if missing {
        return Err(());
    }
    let width = names.len();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                problems.push(format_error(e));
                return Err(());
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if header && record.len() != width {
            problems.push(ImportDiagnostic::at(
                ImportCode::Format,
                at(file, Some(line), None),
                format!("row has {} field(s), the header has {width}", record.len()),
            ));
            continue;
        }
        let mut cells: Vec<Option<&str>> = Vec::with_capacity(wanted.len());
        let mut bad = false;
        for (w, i) in wanted.iter().zip(&index) {
            let raw = i.and_then(|i| record.get(i)).unwrap_or_default();
            match std::str::from_utf8(raw) {
                Ok(text) => {
                    let text = text.trim();
                    cells.push((!text.is_empty()).then_some(text));
                }
                Err(_) => {
                    bad = true;
                    problems.push(ImportDiagnostic::at(
                        ImportCode::Encoding,
                        at(file, Some(line), Some(w.column)),
                        "cell is not utf-8: export the table as UTF-8",
                    ));
                    cells.push(None);
                }
            }
        }
        if !bad {
            row(line, &cells);
        }
    }
    Ok(())
}

#[cfg(feature = "arrow")]
mod arrow {
    use std::fmt::Write;

    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_array::{Array, ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Schema};

    use super::{at, ImportCode, ImportDiagnostic, Need, Wanted};

    /// A column of a batch, or `None` for one whose problem is already reported.
    pub(super) type Columns = Vec<Option<usize>>;

    /// Checks the schema once: each wanted column is present and of a type its field may take.
    pub(super) fn columns(
        schema: Option<&Schema>,
        file: &str,
        wanted: &[Wanted<'_>],
        problems: &mut Vec<ImportDiagnostic>,
    ) -> Result<Columns, ()> {
        let Some(schema) = schema else {
            return Ok(vec![None; wanted.len()]);
        };
        let before = problems.len();
        let mut out = Vec::with_capacity(wanted.len());
        for w in wanted {
            let Ok(i) = schema.index_of(w.column) else {
                if w.optional {
                    out.push(None);
                    continue;
                }
                problems.push(ImportDiagnostic::at(
                    ImportCode::MissingColumn,
                    at(file, Some(1), Some(w.column)),
                    format!("no column `{}` in the table", w.column),
                ));
                out.push(None);
                continue;
            };
            let dt = schema.field(i).data_type();
            let value_type = match dt {
                DataType::Dictionary(_, value) => value.as_ref(),
                other => other,
            };
            let float = matches!(
                value_type,
                DataType::Float16 | DataType::Float32 | DataType::Float64
            );
            if float && w.need == Need::Exact {
                problems.push(ImportDiagnostic::at(
                    ImportCode::FloatColumn,
                    at(file, Some(1), Some(w.column)),
                    format!(
                        "column `{}` holds floats (`{dt}`): export money and quantities as decimal or string, no float ever carries a price",
                        w.column
                    ),
                ));
            } else if !readable(value_type) {
                problems.push(ImportDiagnostic::at(
                    ImportCode::Format,
                    at(file, Some(1), Some(w.column)),
                    format!(
                        "column `{}` has type `{dt}`, which the importer does not read: export it as a string",
                        w.column
                    ),
                ));
            }
            out.push(Some(i));
        }
        if problems.len() > before {
            Err(())
        } else {
            Ok(out)
        }
    }

    fn readable(dt: &DataType) -> bool {
        use DataType::*;
        matches!(
            dt,
            Utf8 | LargeUtf8
                | Utf8View
                | Boolean
                | Int8
                | Int16
                | Int32
                | Int64
                | UInt8
                | UInt16
                | UInt32
                | UInt64
                | Decimal128(_, _)
                | Date32
                | Float16
                | Float32
                | Float64
                | Null
        )
    }

    /// Writes cell `i` of `array` as text into `out`; false for a null.
    fn cell(array: &dyn Array, i: usize, out: &mut String) -> bool {
        if array.is_null(i) {
            return false;
        }
        macro_rules! int {
            ($t:ty) => {{
                let _ = write!(out, "{}", array.as_primitive::<$t>().value(i));
            }};
        }
        match array.data_type() {
            DataType::Utf8 => out.push_str(array.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => out.push_str(array.as_string::<i64>().value(i)),
            DataType::Utf8View => out.push_str(array.as_string_view().value(i)),
            DataType::Boolean => out.push_str(if array.as_boolean().value(i) {
                "true"
            } else {
                "false"
            }),
            DataType::Int8 => int!(Int8Type),
            DataType::Int16 => int!(Int16Type),
            DataType::Int32 => int!(Int32Type),
            DataType::Int64 => int!(Int64Type),
            DataType::UInt8 => int!(UInt8Type),
            DataType::UInt16 => int!(UInt16Type),
            DataType::UInt32 => int!(UInt32Type),
            DataType::UInt64 => int!(UInt64Type),
            DataType::Float16 => int!(Float16Type),
            DataType::Float32 => int!(Float32Type),
            DataType::Float64 => int!(Float64Type),
            DataType::Decimal128(_, scale) => {
                decimal(array.as_primitive::<Decimal128Type>().value(i), *scale, out)
            }
            DataType::Date32 => {
                let days = array.as_primitive::<Date32Type>().value(i);
                match chrono::NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163)) {
                    Some(date) => {
                        let _ = write!(out, "{}", date.format("%Y-%m-%d"));
                    }
                    None => return false,
                }
            }
            DataType::Dictionary(_, _) => {
                let Some(dict) = array.as_any_dictionary_opt() else {
                    return false;
                };
                let keys = dict.normalized_keys();
                let values = dict.values();
                return match keys.get(i) {
                    Some(&k) if k < values.len() => cell(values.as_ref(), k, out),
                    _ => false,
                };
            }
            _ => return false,
        }
        true
    }

    /// The exact decimal text of a Decimal128 value.
    fn decimal(value: i128, scale: i8, out: &mut String) {
        if value < 0 {
            out.push('-');
        }
        let digits = value.unsigned_abs().to_string();
        if scale <= 0 {
            out.push_str(&digits);
            if value != 0 {
                out.extend(std::iter::repeat_n('0', usize::from(scale.unsigned_abs())));
            }
            return;
        }
        let scale = usize::from(scale.unsigned_abs());
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }

    /// Reads the rows of one batch; `next` is the spreadsheet row of its first row.
    pub(super) fn rows(
        batch: &RecordBatch,
        columns: &Columns,
        next: &mut u64,
        row: &mut dyn FnMut(u64, &[Option<&str>]),
    ) {
        let arrays: Vec<Option<&ArrayRef>> = columns
            .iter()
            .map(|c| c.and_then(|i| batch.columns().get(i)))
            .collect();
        let mut texts: Vec<String> = vec![String::new(); arrays.len()];
        let mut present = vec![false; arrays.len()];
        for i in 0..batch.num_rows() {
            for ((array, text), present) in arrays.iter().zip(&mut texts).zip(&mut present) {
                text.clear();
                *present = match array {
                    Some(a) => cell(a.as_ref(), i, text),
                    None => false,
                };
            }
            let cells: Vec<Option<&str>> = texts
                .iter()
                .zip(&present)
                .map(|(t, p)| {
                    let t = t.trim();
                    (*p && !t.is_empty()).then_some(t)
                })
                .collect();
            row(*next, &cells);
            *next += 1;
        }
    }

    #[cfg(feature = "parquet")]
    pub(super) fn read_parquet(
        path: &std::path::Path,
        file: &str,
        wanted: &[Wanted<'_>],
        problems: &mut Vec<ImportDiagnostic>,
        row: &mut dyn FnMut(u64, &[Option<&str>]),
    ) -> Result<(), ()> {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use parquet::arrow::ProjectionMask;

        let format = |e: &dyn std::fmt::Display| {
            ImportDiagnostic::at(
                ImportCode::Format,
                at(file, None, None),
                format!("not a valid parquet file: {e}"),
            )
        };
        let handle = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                problems.push(ImportDiagnostic::at(
                    ImportCode::Io,
                    at(file, None, None),
                    format!("cannot read `{}`: {e}", path.display()),
                ));
                return Err(());
            }
        };
        let builder = match ParquetRecordBatchReaderBuilder::try_new(handle) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format(&e));
                return Err(());
            }
        };
        let schema = builder.schema().clone();
        let found = columns(Some(&schema), file, wanted, problems)?;
        // Only the mapped columns are decoded: ERP exports are wide.
        let mut roots: Vec<usize> = found.iter().flatten().copied().collect();
        roots.sort_unstable();
        roots.dedup();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
        let reader = match builder.with_projection(mask).with_batch_size(8192).build() {
            Ok(r) => r,
            Err(e) => {
                problems.push(format(&e));
                return Err(());
            }
        };
        let projected: Columns = found
            .iter()
            .map(|c| c.and_then(|i| roots.iter().position(|&r| r == i)))
            .collect();
        let mut next = 2;
        for batch in reader {
            match batch {
                Ok(batch) => rows(&batch, &projected, &mut next, row),
                Err(e) => {
                    problems.push(format(&e));
                    return Err(());
                }
            }
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn decimals_keep_every_digit() {
            let text = |v, s| {
                let mut out = String::new();
                super::decimal(v, s, &mut out);
                out
            };
            assert_eq!(text(1250, 2), "12.50");
            assert_eq!(text(-5, 3), "-0.005");
            assert_eq!(text(0, 2), "0.00");
            assert_eq!(text(12, -2), "1200");
            assert_eq!(text(7, 0), "7");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<(u64, Vec<Option<String>>)>;

    fn rows(text: &str, header: bool, wanted: &[&str]) -> (Rows, Vec<String>) {
        let wanted: Vec<_> = wanted
            .iter()
            .map(|c| Wanted {
                column: c,
                need: Need::Text,
                optional: false,
            })
            .collect();
        let mut problems = Vec::new();
        let mut out = Vec::new();
        let _ = read_csv_from(
            text.as_bytes(),
            header,
            b';',
            b'"',
            "t.csv",
            &wanted,
            &mut problems,
            &mut |line, cells| {
                out.push((line, cells.iter().map(|c| c.map(str::to_string)).collect()))
            },
        );
        (
            out,
            problems
                .iter()
                .map(|p| {
                    format!(
                        "{} {}",
                        p.code.code(),
                        p.location
                            .as_ref()
                            .map(|l| l.to_string())
                            .unwrap_or_default()
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn quoted_fields_keep_their_delimiters_and_lines_count_from_the_header() {
        let (out, problems) = rows(
            "sku;name\nA;\"x; \"\"y\"\"\nz\"\nB; \n",
            true,
            &["name", "sku"],
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            out[0],
            (2, vec![Some("x; \"y\"\nz".into()), Some("A".into())])
        );
        assert_eq!(out[1], (4, vec![None, Some("B".into())]));
    }

    #[test]
    fn a_missing_column_is_reported_at_the_header_and_a_short_row_at_its_line() {
        let (_, problems) = rows("sku;name\nA;x\n", true, &["price"]);
        assert_eq!(problems, ["IMPORT_MISSING_COLUMN t.csv:1:price"]);
        let (out, problems) = rows("sku;name\nA\nB;y\n", true, &["sku"]);
        assert_eq!(problems, ["IMPORT_FORMAT t.csv:2"]);
        assert_eq!(out.len(), 1);
        let (out, _) = rows("A;x\n", false, &["2"]);
        assert_eq!(out[0], (1, vec![Some("x".into())]));
    }
}
