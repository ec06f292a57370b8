//! The command line, as clap reads it: each command's arguments and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tarif: check a B2B pricing rules document (`tarif/1` JSON), price and explain order lines,
/// look up and search a customer's catalog, reprice whole files of order lines.
///
/// Every command compiles RULES first (a bar of its phases shows on a terminal). Amounts are printed
/// exactly, as decimal strings. Exit codes: 0 success, 1 document rejected, 2 usage error,
/// 3 the query has no answer (its code is printed), 4 a file could not be read or written.
/// RULES may also be a snapshot written by `tarif snapshot`: it is opened, not compiled.
#[derive(Debug, Parser)]
#[command(
    name = "tarif",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Draw no spinner or progress bar (they are drawn on stderr, and only on a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Compile a rules document and report every problem: diagnostics, then a summary.
    ///
    /// Exits 0 when the document compiles (with warnings or none), 1 when it is rejected.
    #[command(after_help = "Example: tarif check rules.json --strict")]
    Check(CheckArgs),
    /// Price one line: unit price, line total and the rule behind each step.
    #[command(
        after_help = "Example: tarif quote rules.json R-ELECDIS DRL-MAK-DHP487-K5-L 3 \
                            --at 2027-03-18"
    )]
    Quote(LineArgs),
    /// Explain one line: every candidate rule of every step, which one won and why.
    Explain(LineArgs),
    /// Resolve a reference (SKU, EAN, MPN, legacy ref, the account's own part number) to the
    /// SKU the account may see.
    Lookup(LookupArgs),
    /// Page through the products an account may see (or price, or buy), with filters and facets.
    #[command(
        after_help = "Example: tarif search rules.json R-ELECDIS --text DRL- --brand Makita \
                            --facet category --price-qty 1"
    )]
    Search(SearchArgs),
    /// Price every line of a CSV or Parquet file (columns `account`, `sku`, `qty`, optionally
    /// `at`) and write them, as CSV or Parquet, with `status`, `unit_price`, `line_total` and
    /// `currency`.
    ///
    /// A line that cannot be priced gets its error code as status and empty amounts; it does
    /// not stop the run. Progress is shown per chunk of lines on a terminal.
    #[command(
        after_help = "Example: tarif reprice rules.json orders.csv -o priced.csv \
                            --at 2027-03-18"
    )]
    Reprice(RepriceArgs),
    /// Build a rules document from the tables an ERP exports (CSV or Parquet), as a manifest
    /// describes them (docs/spec.md, "Import manifest"), and check it.
    ///
    /// Every problem is reported at once with its file, row and column. Exits 0 when the
    /// document compiles, 1 when the tables or the document are rejected.
    #[command(after_help = "Example: tarif import erp/manifest.json --out rules.json")]
    Import(ImportArgs),
    /// Compile a rules document and save the engine as a snapshot file, which every command
    /// (and `Engine.open` in the bindings) opens without compiling.
    #[command(
        after_help = "Example: tarif snapshot rules.json rules.snap && tarif quote rules.snap …"
    )]
    Snapshot(SnapshotArgs),
    /// Apply a `tarif/1-changes` document (docs/spec.md §13) to a rules document or snapshot,
    /// list the entities it changed, and write the result.
    ///
    /// The change is checked whole: a rejected change lists every problem with its path in the
    /// changes document and exits 1, and nothing is written. `--out` writes the new document
    /// (a `.json` file) or a snapshot (any other name), replacing the file only once complete.
    #[command(after_help = "Example: tarif apply rules.snap erp/delta-0412.json -o rules.snap")]
    Apply(ApplyArgs),
}

/// The rules document every command starts from.
#[derive(Debug, Args)]
pub(crate) struct Rules {
    /// The `tarif/1` JSON rules document, or a snapshot of it (`tarif snapshot`).
    #[arg(value_name = "RULES")]
    pub path: PathBuf,
    /// Reject the document on warnings too.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub rules: Rules,
    /// The `tarif/1-changes` JSON document.
    #[arg(value_name = "CHANGES")]
    pub changes: PathBuf,
    /// Where to write the result: the new document for a `.json` file, else a snapshot.
    #[arg(long, short, value_name = "OUT")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SnapshotArgs {
    #[command(flatten)]
    pub rules: Rules,
    /// The snapshot file to write (replaced atomically if it exists).
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub rules: Rules,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The import manifest (JSON); the tables' paths are relative to it.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Write the built `tarif/1` document here.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Reject the document on warnings too.
    #[arg(long)]
    pub strict: bool,
}

/// When and in which currency a query is asked.
#[derive(Debug, Args)]
pub(crate) struct When {
    /// The instant of the query: RFC 3339, or a date in the document's timezone (default now).
    #[arg(long, value_name = "INSTANT")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LineArgs {
    #[command(flatten)]
    pub rules: Rules,
    /// The account id.
    pub account: String,
    /// Any reference `lookup` accepts.
    pub reference: String,
    /// A positive decimal quantity.
    pub qty: String,
    #[command(flatten)]
    pub when: When,
    /// The request currency (default: the account's, else the document's).
    #[arg(long)]
    pub currency: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LookupArgs {
    #[command(flatten)]
    pub rules: Rules,
    /// The account id.
    pub account: String,
    /// The reference to resolve.
    pub reference: String,
    #[command(flatten)]
    pub when: When,
}

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    #[command(flatten)]
    pub rules: Rules,
    /// The account id.
    pub account: String,
    #[command(flatten)]
    pub when: When,
    /// Prefix of a SKU, MPN or other reference, or digits of an EAN (case-insensitive).
    #[arg(long)]
    pub text: Option<String>,
    /// The capability a product needs to be listed.
    #[arg(long, value_enum, default_value_t = CapabilityArg::See)]
    pub capability: CapabilityArg,
    /// Keep products with one of these attribute values: `NAME=V1,V2` (repeatable).
    #[arg(long = "attr", value_name = "NAME=VALUES")]
    pub attrs: Vec<String>,
    /// Keep products in one of these categories or below them (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub category: Vec<String>,
    /// Keep products of one of these brands (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub brand: Vec<String>,
    /// Keep products of one of these families (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub family: Vec<String>,
    /// Count the values of a facet: `category`, `brand`, `family`, or a filterable attribute's
    /// name (repeatable).
    #[arg(long = "facet", value_name = "FACET")]
    pub facets: Vec<String>,
    /// One row per variant family instead of one per product.
    #[arg(long)]
    pub group_variants: bool,
    /// Price every row for this quantity.
    #[arg(long, value_name = "QTY")]
    pub price_qty: Option<String>,
    /// Currency of those prices (default: the account's).
    #[arg(long)]
    pub currency: Option<String>,
    /// Rows per page.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Rows to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Start after this cursor (printed as `next` by the previous page).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CapabilityArg {
    /// Products that exist for the account.
    See,
    /// Products whose price the account may see.
    Price,
    /// Products the account may order.
    Buy,
}

#[derive(Debug, Args)]
pub(crate) struct RepriceArgs {
    #[command(flatten)]
    pub rules: Rules,
    /// The order lines: CSV with a header row, or Parquet (a `.parquet` or `.pq` file), with
    /// columns `account`, `sku`, `qty` and optionally `at` (see `--at-column`); other columns
    /// are carried through.
    #[arg(value_name = "LINES")]
    pub input: PathBuf,
    /// Where to write the priced lines: Parquet for a `.parquet` or `.pq` file, else CSV
    /// (default: CSV on stdout).
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// The instant of every line without its own `at` (default now, read once).
    #[arg(long, value_name = "INSTANT")]
    pub at: Option<String>,
    /// The input column holding each line's own instant, when it has one.
    #[arg(long, value_name = "NAME", default_value = "at")]
    pub at_column: String,
    /// The request currency of every line.
    #[arg(long)]
    pub currency: Option<String>,
    /// The scale of the amount columns of a Parquet output, `decimal128(38, SCALE)` (default:
    /// the finest of the first chunk, at least the currency's). A finer amount fails the run
    /// rather than being rounded.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=28))]
    pub scale: Option<u32>,
    /// Lines priced per batch (progress advances once per chunk).
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk: u32,
}
