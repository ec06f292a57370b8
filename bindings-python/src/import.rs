//! `Engine.import_tables`: ERP tables into an engine. Conversions only: the manifest as text,
//! pandas DataFrames as pyarrow Tables, pyarrow Tables as Arrow batches; the core reads them.

use std::path::PathBuf;

use arrow_pyarrow::{FromPyArrow, Table};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use tarif::import::{ImportError, Importer, Manifest};
use tarif::wire::InputCode;
use tarif::CompileOptions;

use crate::engine::Engine;
use crate::errors::{guarded, input, Failure, Result};

/// Builds the engine of `manifest` (a path, or a dict of the manifest's JSON) with `tables`
/// (name → pyarrow Table or pandas DataFrame) read in place of the manifest's files.
pub(crate) fn import_tables(
    py: Python<'_>,
    manifest: &Bound<'_, PyAny>,
    tables: Option<&Bound<'_, PyDict>>,
    strict: bool,
) -> Result<Engine> {
    let manifest = if manifest.is_instance_of::<PyDict>() {
        let text: String = py
            .import("json")?
            .call_method1("dumps", (manifest,))
            .map_err(|err| {
                input(
                    InputCode::InvalidType,
                    format!("the manifest is not JSON data: {err}"),
                )
            })?
            .extract()?;
        // A manifest given as data names its files relative to the working directory.
        Manifest::from_json(&text, "manifest", ".").map_err(|e| raise(py, e))?
    } else if manifest.is_instance_of::<PyString>() || manifest.hasattr("__fspath__")? {
        let path: PathBuf = manifest.extract()?;
        Manifest::from_path(&path).map_err(|e| raise(py, e))?
    } else {
        return Err(input(
            InputCode::InvalidType,
            format!(
                "manifest must be a path or a dict, not {}",
                manifest.get_type().name()?
            ),
        ));
    };
    let mut importer = Importer::new(manifest);
    for (name, table) in tables
        .map(|t| t.iter().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let name: String = name.extract()?;
        let table = if table.hasattr("to_batches")? {
            table
        } else if table.hasattr("to_records")? && table.hasattr("columns")? {
            let kwargs = PyDict::new(py);
            kwargs.set_item("preserve_index", false)?;
            py.import("pyarrow")?.getattr("Table")?.call_method(
                "from_pandas",
                (&table,),
                Some(&kwargs),
            )?
        } else {
            return Err(input(
                InputCode::InvalidType,
                format!(
                    "table `{name}` must be a pyarrow Table or a pandas DataFrame, not {}",
                    table.get_type().name()?
                ),
            ));
        };
        let (batches, _) = Table::from_pyarrow_bound(&table)?.into_inner();
        importer = importer.with_batches(&name, batches);
    }
    let options = CompileOptions {
        strict,
        ..CompileOptions::default()
    };
    let outcome = py.detach(|| {
        guarded(|| {
            let doc = importer.document()?;
            doc.compile(&options)
        })
    })?;
    // The engine keeps the document text it was compiled from (for pickling and changes).
    let compiled = outcome.map_err(|e| raise(py, e))?;
    Ok(Engine::wrap(compiled.engine))
}

/// `tarif.CompileError` with the import's code and every diagnostic, each with its location.
fn raise(py: Python<'_>, err: ImportError) -> Failure {
    let build = || -> PyResult<PyErr> {
        let list = PyList::empty(py);
        for d in &err.diagnostics {
            let item = PyDict::new(py);
            item.set_item("code", d.code.code())?;
            item.set_item("severity", d.severity().to_string())?;
            item.set_item("path", d.path.clone().unwrap_or_default())?;
            item.set_item("location", d.location.as_ref().map(ToString::to_string))?;
            item.set_item("file", d.location.as_ref().map(|l| l.file.clone()))?;
            item.set_item("row", d.location.as_ref().and_then(|l| l.row))?;
            item.set_item("column", d.location.as_ref().and_then(|l| l.column.clone()))?;
            item.set_item("message", &d.message)?;
            list.append(item)?;
        }
        let class = py.import("tarif._errors")?.getattr("CompileError")?;
        Ok(PyErr::from_value(class.call1((
            err.to_string(),
            err.code(),
            list,
        ))?))
    };
    Failure::Python(build().unwrap_or_else(|e| e))
}
