//! Benchmark support: the reference data set ([`generate`]), its order lines as columns, the
//! resident-set figures, and the requests the sample-document benches ask.

pub mod generate;

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use generate::{File, Model, Size};
use rust_decimal::Decimal;
use tarif::Engine;

/// A fixed set of (account, sku, quantity) rows over every account and a spread of products.
pub fn sample_rows(engine: &Engine, rows: usize) -> Vec<(String, String, Decimal)> {
    let accounts: Vec<&str> = engine.accounts().collect();
    let skus: Vec<&str> = engine.skus().collect();
    (0..rows)
        .filter_map(|i| {
            let account = accounts.get(i % accounts.len().max(1))?;
            let sku = skus.get((i * 7919) % skus.len().max(1))?;
            Some((
                account.to_string(),
                sku.to_string(),
                Decimal::from(1 + (i % 12) as i64),
            ))
        })
        .collect()
}

/// The size the benches run at: `TARIF_BENCH_SIZE` (`small`, the default, `medium` or `reference`).
pub fn bench_size() -> Size {
    let text = std::env::var("TARIF_BENCH_SIZE").unwrap_or_else(|_| "small".into());
    Size::parse(&text).unwrap_or_else(|| {
        panic!("TARIF_BENCH_SIZE must be small, medium or reference, not {text:?}")
    })
}

/// `bench-data/<size>` at the workspace root (gitignored).
pub fn data_dir(size: Size) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("bench-data")
        .join(size.name())
}

/// The data directory of a size, generated when it holds no data set yet. `make bench`
/// regenerates it first, so a data set left by an older generator is not measured.
pub fn ensure_data(size: Size) -> io::Result<PathBuf> {
    let dir = data_dir(size);
    if File::ALL.iter().any(|f| !dir.join(f.name()).exists()) {
        generate::write_all(&Model::generate(size), &dir)?;
    }
    Ok(dir)
}

/// Historical order lines as the columns `quote_many` takes.
pub struct Orders {
    accounts: TextColumn,
    skus: TextColumn,
    /// Quantity of each row.
    pub qtys: Vec<Decimal>,
}

/// A column of texts laid out as Arrow lays out a string column: the rows' texts one after
/// the other in one buffer, in row order. A batch from Python or Node reads its references
/// from such a buffer, sequentially; texts interned once per distinct value were read at
/// random, a cache miss per row that no caller's column has.
#[derive(Default)]
struct TextColumn {
    text: String,
    ends: Vec<usize>,
}

impl TextColumn {
    fn push(&mut self, value: &str) {
        self.text.push_str(value);
        self.ends.push(self.text.len());
    }

    fn rows(&self) -> Vec<&str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| self.text.get(start..end).unwrap_or_default())
            .collect()
    }
}

impl Orders {
    /// Reads `orders.csv` (`account,sku,qty,date`, with a header).
    pub fn read(path: &Path) -> io::Result<Orders> {
        let text = std::fs::read_to_string(path)?;
        let bad = |line: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad order line {line:?}"),
            )
        };
        let mut orders = Orders {
            accounts: TextColumn::default(),
            skus: TextColumn::default(),
            qtys: Vec::new(),
        };
        for line in text.lines().skip(1) {
            let mut fields = line.split(',');
            let (Some(account), Some(sku), Some(qty)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad(line));
            };
            orders.accounts.push(account);
            orders.skus.push(sku);
            orders.qtys.push(qty.parse().map_err(|_| bad(line))?);
        }
        Ok(orders)
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.qtys.len()
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.qtys.is_empty()
    }

    /// The account and SKU columns.
    pub fn columns(&self) -> (Vec<&str>, Vec<&str>) {
        (self.accounts.rows(), self.skus.rows())
    }
}

/// Resident set of this process, from `/proc/self/status`.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Current resident set (`VmRSS`), bytes.
    pub rss: u64,
    /// Peak resident set (`VmHWM`), bytes.
    pub peak: u64,
}

/// The current and peak resident set; zeros where `/proc` is not available.
pub fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kib| kib * 1024)
    };
    Memory {
        rss: field("VmRSS:"),
        peak: field("VmHWM:"),
    }
}

/// Sum of line totals in cents: the checksum every engine of the peer comparison must match.
/// Totals are at the currency scale (2), so the rescale never rounds.
pub fn total_cents(line_totals: &[Decimal]) -> i128 {
    let mut cents = line_totals.iter().sum::<Decimal>() * Decimal::ONE_HUNDRED;
    cents.rescale(0);
    cents.mantissa()
}

/// The median of timings (the upper one of an even count), NaN for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// How a bench binary ends: its JSON report on stdout, or its error on stderr under its name.
pub fn finish(name: &str, report: Result<serde_json::Value, String>) -> ExitCode {
    match report {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}
