//! `python -m tarif` and the `tarif` script of the wheel: the cli crate's command, run in this
//! process, so that the Python package ships no second binary.

use pyo3::prelude::*;

use crate::errors::{guarded, Result};

/// Runs the `tarif` command with these arguments (the first is the program name shown in its
/// usage) and returns its exit code. It prints on the process's stdout and stderr, without the
/// GIL.
#[pyfunction]
pub(crate) fn run_cli(py: Python<'_>, args: Vec<String>) -> Result<i32> {
    py.detach(|| guarded(|| tarif_cli::run(args)))
}
