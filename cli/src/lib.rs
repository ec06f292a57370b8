//! The `tarif` command: checks a `tarif/1` rules document, prices and explains lines, looks up
//! and searches products, reprices files of order lines (CSV or Parquet), imports ERP tables,
//! applies changes and saves snapshots.
//!
//! [`run`] is the whole command, arguments in and exit code out, so that other front ends (the
//! binary, a language binding) run exactly the same program. The exit codes are [`Exit`]'s and
//! are documented in the crate's README.
//!
//! ```
//! // `--help` prints the usage and succeeds.
//! assert_eq!(tarif_cli::run(["tarif", "--help"]), 0);
//! // An unknown command is a usage error.
//! assert_eq!(tarif_cli::run(["tarif", "frobnicate"]), 2);
//! ```

mod apply;
mod args;
mod check;
mod failure;
mod import;
mod output_file;
mod progress;
mod query;
mod render;
mod reprice;
mod snapshot;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

pub use failure::Exit;

use args::{Cli, Command};
use failure::Failure;

/// Runs the `tarif` command on these arguments (the first is the program name) and returns its
/// exit code; everything it prints goes to the process's stdout and stderr.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout with success, usage errors on stderr.
            let printed = e.print();
            return if e.use_stderr() || printed.is_err() {
                Exit::Usage.code()
            } else {
                Exit::Ok.code()
            };
        }
    };
    let mut stdout = std::io::stdout().lock();
    let outcome = execute(cli, &mut stdout).and_then(|exit| {
        stdout.flush().map_err(Failure::Stdout)?;
        Ok(exit)
    });
    match outcome {
        Ok(exit) => exit.code(),
        Err(failure) => {
            drop(stdout);
            failure.report()
        }
    }
}

fn execute(cli: Cli, out: &mut dyn Write) -> Result<Exit, Failure> {
    let json = cli.json;
    let progress = progress::Progress::new(cli.quiet);
    match cli.command {
        Command::Check(args) => check::check(&args, json, &progress, out),
        Command::Quote(args) => query::quote(&args, json, &progress, out),
        Command::Explain(args) => query::explain(&args, json, &progress, out),
        Command::Lookup(args) => query::lookup(&args, json, &progress, out),
        Command::Search(args) => query::search(&args, json, &progress, out),
        Command::Reprice(args) => reprice::reprice(&args, json, &progress, out),
        Command::Import(args) => import::import(&args, json, &progress, out),
        Command::Snapshot(args) => snapshot::snapshot(&args, json, &progress, out),
        Command::Apply(args) => apply::apply(&args, json, &progress, out),
    }
}
