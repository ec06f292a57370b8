//! `npx tarif` (the package's `bin`): the cli crate's command, run in this process, so that the
//! npm packages ship no second binary.

use napi_derive::napi;

/// Runs the `tarif` command with these arguments (the first is the program name shown in its
/// usage) and returns its exit code. It prints on the process's stdout and stderr and blocks
/// the event loop until it ends: it is the whole program of `cli.cjs`.
#[napi(catch_unwind)]
pub fn run_cli(args: Vec<String>) -> i32 {
    tarif_cli::run(args)
}
