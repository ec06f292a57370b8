//! `Engine.save` / `Engine.open`: the compiled engine written to a snapshot file and read back
//! without compiling. The file work runs without the GIL: other Python threads go on meanwhile.

use std::path::Path;
use std::sync::Arc;

use pyo3::prelude::*;

use crate::errors::{guarded, Result};

/// Writes `engine` to `path` (atomically, see `tarif::Engine::save`).
pub(crate) fn save(py: Python<'_>, engine: &Arc<tarif::Engine>, path: &Path) -> Result<()> {
    py.detach(|| guarded(|| engine.save(path)))??;
    Ok(())
}

/// The engine of the snapshot at `path`.
pub(crate) fn open(py: Python<'_>, path: &Path) -> Result<tarif::Engine> {
    Ok(py.detach(|| guarded(|| tarif::Engine::open(path)))??)
}
