//! `tarif reprice`: a CSV of order lines in, the same lines with their prices out, priced in
//! parallel chunk by chunk so that memory stays flat and progress can be shown.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant as Clock;

use serde_json::json;
use tarif::{BatchAt, Decimal, Engine, Instant, Status};

use crate::args::RepriceArgs;
use crate::check::load;
use crate::failure::{Exit, Failure};
use crate::progress::Progress;

const OUTPUT_COLUMNS: [&str; 4] = ["status", "unit_price", "line_total", "currency"];

/// Where the columns a line needs are in the input.
struct Columns {
    account: usize,
    sku: usize,
    qty: usize,
    at: Option<usize>,
}

impl Columns {
    fn find(headers: &csv::StringRecord, path: &Path, at: &str) -> Result<Columns, Failure> {
        let position = |name: &str| headers.iter().position(|h| h == name);
        let required = |name: &str| {
            position(name).ok_or_else(|| {
                Failure::Csv(format!(
                    "`{}` has no `{name}` column (its header row must name `account`, `sku` \
                     and `qty`)",
                    path.display()
                ))
            })
        };
        Ok(Columns {
            account: required("account")?,
            sku: required("sku")?,
            qty: required("qty")?,
            at: position(at),
        })
    }
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
    if let Some(currency) = args.currency.as_deref() {
        if !engine.currencies().any(|c| c == currency) {
            return Err(tarif::QueryError::UnknownCurrency(currency.to_string()).into());
        }
    }
    let open_failure = |error| Failure::File {
        path: args.input.clone(),
        action: "read",
        error,
    };
    let input = File::open(&args.input).map_err(open_failure)?;
    let size = input.metadata().map_err(open_failure)?.len();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let csv_failure = |e: csv::Error| Failure::Csv(format!("`{}`: {e}", args.input.display()));
    let headers = reader.headers().map_err(csv_failure)?.clone();
    let columns = Columns::find(&headers, &args.input, &args.at_column)?;

    let started = Clock::now();
    let mut file_output;
    let output: &mut dyn Write = match &args.output {
        Some(path) => {
            file_output = BufWriter::new(File::create(path).map_err(|error| Failure::File {
                path: path.clone(),
                action: "create",
                error,
            })?);
            &mut file_output
        }
        None => stdout,
    };
    let mut writer = csv::Writer::from_writer(output);
    let write_failure = |e: csv::Error| Failure::Csv(format!("cannot write the output: {e}"));
    writer
        .write_record(headers.iter().chain(OUTPUT_COLUMNS))
        .map_err(write_failure)?;

    let bar = progress.bytes(size, "repricing");
    let currencies: Vec<&str> = engine.currencies().collect();
    let chunk = usize::try_from(args.chunk).unwrap_or(usize::MAX);
    let mut tally = Tally::default();
    let mut rows: Vec<csv::StringRecord> = Vec::with_capacity(chunk.min(1 << 20));
    loop {
        rows.clear();
        let mut record = csv::StringRecord::new();
        while rows.len() < chunk && reader.read_record(&mut record).map_err(csv_failure)? {
            rows.push(std::mem::take(&mut record));
        }
        if rows.is_empty() {
            break;
        }
        let priced = price_chunk(&engine, &rows, &columns, default_at, args)?;
        for (row, record) in rows.iter().enumerate() {
            let status = priced
                .status
                .get(row)
                .copied()
                .unwrap_or(Status::InvalidBatch);
            *tally.by_status.entry(status.code()).or_default() += 1;
            let (unit, line, currency) = if status == Status::Ok {
                (
                    amount(&priced.unit_price, row),
                    amount(&priced.line_total, row),
                    priced
                        .currency
                        .get(row)
                        .and_then(|&c| currencies.get(usize::from(c)))
                        .copied()
                        .unwrap_or_default()
                        .to_string(),
                )
            } else {
                (String::new(), String::new(), String::new())
            };
            writer
                .write_record(record.iter().chain([
                    status.code(),
                    unit.as_str(),
                    line.as_str(),
                    &currency,
                ]))
                .map_err(write_failure)?;
        }
        tally.lines += rows.len() as u64;
        bar.set_position(reader.position().byte());
        bar.set_prefix(format!("{} lines", tally.lines));
    }
    bar.finish_and_clear();
    writer
        .flush()
        .map_err(|e| Failure::Csv(format!("cannot write the output: {e}")))?;
    drop(writer);

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

fn amount(column: &[Decimal], row: usize) -> String {
    column.get(row).map(ToString::to_string).unwrap_or_default()
}

/// Prices one chunk. A line's unreadable quantity or instant becomes that line's status with
/// the precedence of docs/spec.md §9, as if the engine had read the text itself.
fn price_chunk(
    engine: &Engine,
    rows: &[csv::StringRecord],
    columns: &Columns,
    default_at: Instant,
    args: &RepriceArgs,
) -> Result<tarif::BatchResult, Failure> {
    let field = |record: &'_ csv::StringRecord, index: usize| -> String {
        record.get(index).unwrap_or_default().to_string()
    };
    let accounts: Vec<String> = rows.iter().map(|r| field(r, columns.account)).collect();
    let skus: Vec<String> = rows.iter().map(|r| field(r, columns.sku)).collect();
    // Zero is not a positive quantity: the engine answers INVALID_QUANTITY for it exactly where
    // it would for unreadable text, after the account, instant, currency and product checks.
    let qtys: Vec<Decimal> = rows
        .iter()
        .map(|r| field(r, columns.qty).parse().unwrap_or(Decimal::ZERO))
        .collect();
    let mut unreadable_at = Vec::new();
    let instants: Option<Vec<Instant>> = columns.at.map(|index| {
        rows.iter()
            .enumerate()
            .map(
                |(row, record)| match record.get(index).unwrap_or_default() {
                    "" => default_at,
                    text => engine.parse_instant(text).unwrap_or_else(|_| {
                        unreadable_at.push(row);
                        default_at
                    }),
                },
            )
            .collect()
    });
    let at = match &instants {
        Some(instants) => BatchAt::PerRow(instants),
        None => BatchAt::One(default_at),
    };
    let mut priced = engine.quote_many(&accounts, &skus, &qtys, at, args.currency.as_deref())?;
    for row in unreadable_at {
        // Only an unknown account comes before the instant.
        if let Some(status) = priced.status.get_mut(row) {
            if *status != Status::UnknownAccount {
                *status = Status::InvalidInstant;
            }
        }
    }
    Ok(priced)
}
