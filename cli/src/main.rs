//! The `tarif` binary: the command of [`tarif_cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = tarif_cli::run(std::env::args_os());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
