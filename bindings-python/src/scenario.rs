//! `tarif.Scenario`'s native half: a list of edits (Python data in the JSON form of
//! `tarif::Edit::parse_list`) in, the changes document or the scenario engine out.

use pyo3::prelude::*;
use tarif::{CompileOptions, Edit};

use crate::engine::{json_text, Engine};
use crate::errors::{guarded, Result};

/// The `tarif/1-changes` document (JSON text) that makes `edits` on `base`'s document.
#[pyfunction]
pub(crate) fn scenario_changes(
    py: Python<'_>,
    base: &Bound<'_, Engine>,
    edits: &Bound<'_, PyAny>,
) -> Result<String> {
    let edits = json_text(edits, "the edits")?;
    let base = &base.get().inner;
    Ok(py.detach(|| {
        guarded(|| Edit::parse_list(&edits).and_then(|edits| base.scenario_changes(&edits)))
    })??)
}

/// `base` with `edits` made, as a new engine (`base` is untouched).
#[pyfunction]
#[pyo3(signature = (base, edits, *, strict = false))]
pub(crate) fn scenario_engine(
    py: Python<'_>,
    base: &Bound<'_, Engine>,
    edits: &Bound<'_, PyAny>,
    strict: bool,
) -> Result<Engine> {
    let edits = json_text(edits, "the edits")?;
    let options = CompileOptions {
        strict,
        ..CompileOptions::default()
    };
    let base = &base.get().inner;
    let compiled = py.detach(|| {
        guarded(|| Edit::parse_list(&edits).and_then(|edits| base.with_edits(&edits, &options)))
    })??;
    Ok(Engine::wrap(compiled.engine))
}
