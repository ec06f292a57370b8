//! `tarif._tarif`: the native half of the Python package `tarif`.
//!
//! The binding only converts: Python values in, core calls, Python values out. Every error
//! leaves through [`errors::Failure`], whose single conversion into a Python exception is the
//! one place where core errors meet Python's exception hierarchy.

mod batch;
mod changes;
mod cli;
mod convert;
mod engine;
mod errors;
mod import;
mod objects;
mod orders;
mod pages;
mod scenario;
mod search;
mod simulate;
mod snapshot;

use pyo3::prelude::*;

tarif_allocator::jemalloc!();

#[pymodule]
fn _tarif(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Levels are read from `logging` at each record (only loggers are cached), so that a level
    // set after import, as pytest's caplog does, holds. A logger already installed in this
    // process (the module imported twice) keeps serving; logging is never worth failing
    // the import for.
    let _ = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::Loggers)?.install();
    m.add_class::<engine::Engine>()?;
    m.add_class::<changes::EntityChange>()?;
    m.add_class::<objects::Quote>()?;
    m.add_class::<objects::Step>()?;
    m.add_class::<objects::Stock>()?;
    m.add_class::<objects::Capabilities>()?;
    m.add_class::<objects::Diagnostic>()?;
    m.add_class::<objects::Explanation>()?;
    m.add_class::<objects::VisibilityReport>()?;
    m.add_class::<objects::StepReport>()?;
    m.add_class::<objects::CandidateReport>()?;
    m.add_class::<orders::PricedOrder>()?;
    m.add_class::<orders::PreparedQuote>()?;
    m.add_class::<orders::LineError>()?;
    m.add_class::<orders::Adjustment>()?;
    m.add_class::<orders::ConditionReport>()?;
    m.add_class::<orders::OrderExplanation>()?;
    m.add_class::<orders::OrderText>()?;
    m.add_class::<orders::TextLine>()?;
    m.add_class::<pages::SearchPage>()?;
    m.add_class::<pages::SearchRow>()?;
    m.add_class::<pages::Variant>()?;
    m.add_class::<pages::RowPrice>()?;
    m.add_class::<pages::FacetCounts>()?;
    m.add_class::<pages::FacetValue>()?;
    m.add_class::<pages::RelatedProduct>()?;
    m.add_function(wrap_pyfunction!(cli::run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(simulate::simulate_tables, m)?)?;
    m.add_function(wrap_pyfunction!(simulate::pivot_groups, m)?)?;
    m.add_function(wrap_pyfunction!(simulate::add_up_groups, m)?)?;
    m.add_function(wrap_pyfunction!(scenario::scenario_changes, m)?)?;
    m.add_function(wrap_pyfunction!(scenario::scenario_engine, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
