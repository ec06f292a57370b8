//! `Engine.importTables`: ERP tables into an engine, on the libuv pool. Conversions only.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, JsObjectValue, JsValue, Unknown};
use napi::{Env, Task};
use napi_derive::napi;
use tarif::import::ImportError;
use tarif::Engine as Core;

use crate::{input, js, Engine};

/// One import problem as `err.details` lists it.
#[napi(object, object_from_js = false)]
pub struct ImportDiagnosticInfo {
    /// Stable code (`IMPORT_INVALID_VALUE`, or a compile code such as `UNKNOWN_REFERENCE`).
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// `file:row:column`, when the problem comes from a table.
    pub location: Option<String>,
    /// The file as the manifest names it.
    pub file: Option<String>,
    /// The row, as a spreadsheet numbers it (the header is row 1).
    pub row: Option<i64>,
    /// The column.
    pub column: Option<String>,
    /// The path into the built document, for a compile diagnostic.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Imports on the pool; rejects with `IMPORT_ERROR` or `COMPILE_ERROR` and every diagnostic.
pub struct ImportTables {
    manifest: String,
}

impl Task for ImportTables {
    type Output = Result<Core, ImportError>;
    type JsValue = Engine;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let manifest = self.manifest.clone();
        std::panic::catch_unwind(move || Core::import(&manifest).map(|c| c.engine))
            .map_err(|_| napi::Error::from_reason("INTERNAL: the import panicked"))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Engine> {
        match output {
            Ok(engine) => Ok(Engine {
                inner: Arc::new(engine),
            }),
            Err(err) => Err(rejection(&env, &err)),
        }
    }
}

fn rejection(env: &Env, err: &ImportError) -> napi::Error {
    let build = || -> napi::Result<napi::Error> {
        let mut error = crate::error::create_error(env, &err.to_string())?;
        error.set_named_property("code", err.code())?;
        let details: Vec<ImportDiagnosticInfo> = err
            .diagnostics
            .iter()
            .map(|d| ImportDiagnosticInfo {
                code: d.code.code().to_string(),
                severity: d.severity().to_string(),
                location: d.location.as_ref().map(ToString::to_string),
                file: d.location.as_ref().map(|l| l.file.clone()),
                row: d
                    .location
                    .as_ref()
                    .and_then(|l| l.row)
                    .and_then(|r| i64::try_from(r).ok()),
                column: d.location.as_ref().and_then(|l| l.column.clone()),
                path: d.path.clone(),
                message: d.message.clone(),
            })
            .collect();
        error.set_named_property("details", details)?;
        Ok(napi::Error::from(error.to_unknown()))
    };
    build().unwrap_or_else(|_| {
        napi::Error::new(
            napi::Status::GenericFailure,
            format!("{}: {err}", err.code()),
        )
    })
}

#[napi]
impl Engine {
    /// Builds an engine from the tables an ERP exports (CSV or Parquet), as the import manifest
    /// at `manifestPath` describes them (docs/spec.md, "Import manifest"), on the libuv pool.
    /// Rejects with `IMPORT_ERROR` (or `COMPILE_ERROR`) and every problem in `err.details`,
    /// each with its `location` (`prices.csv:18213:price`).
    #[napi(ts_return_type = "Promise<Engine>")]
    pub fn import_tables(
        env: &Env,
        #[napi(ts_arg_type = "string")] manifest_path: Unknown<'_>,
    ) -> napi::Result<AsyncTask<ImportTables>> {
        let manifest = input::text(manifest_path, "manifestPath");
        js(env, manifest).map(|manifest| AsyncTask::new(ImportTables { manifest }))
    }
}
