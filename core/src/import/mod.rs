//! Importing the tables an ERP exports (CSV or Parquet files, or Arrow record batches) into a
//! `tarif/1` document, described by a manifest (docs/spec.md, "Import manifest").
//!
//! The importer sits at the load layer: it writes the document text, then compiles it like any
//! other, so an imported engine keeps its source ([`Engine::source`]) and its `engine_version`
//! is that of the same document written by hand. Problems in the tables are reported all at
//! once with the file, row and column a user can open; the compiler's diagnostics on the built
//! document are sent back to the row and column they came from.

mod build;
mod error;
mod manifest;
mod table;

use std::collections::BTreeMap;
use std::path::Path;

#[cfg(feature = "arrow")]
use arrow_array::RecordBatch;

use crate::compile::CompileOptions;
use crate::engine::Engine;
use crate::load::Compiled;

pub use error::{ImportCode, ImportDiagnostic, ImportError, Location};
pub use manifest::{Manifest, MANIFEST_FORMAT, TABLES};

/// A manifest and the tables handed over in memory instead of its files.
#[derive(Debug, Clone)]
pub struct Importer {
    manifest: Manifest,
    batches: build::Batches,
}

/// The document built from the tables, and where each of its elements came from.
#[derive(Debug, Clone)]
pub struct Imported {
    json: String,
    sources: build::SourceMap,
}

impl Importer {
    /// An importer reading the files the manifest names.
    pub fn new(manifest: Manifest) -> Importer {
        Importer {
            manifest,
            batches: BTreeMap::new(),
        }
    }

    /// Reads `table` from these record batches instead of a file; the manifest's mapping of the
    /// table (if any) still applies, and its rows are located by the table's name. Columns are
    /// read as for Parquet: strings, integers, decimal128, booleans, dates; a float column for
    /// money or a quantity is an error.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{RecordBatch, StringArray, Decimal128Array, ArrayRef};
    /// use tarif::import::{Importer, Manifest};
    /// let manifest = Manifest::from_json(r#"{"format": "tarif-import/1", "tables": {
    ///     "price_lists": {"columns": {"id": "LIST"}}},
    ///     "document": {"currencies": [{"code": "EUR"}]}}"#, "manifest", ".").unwrap();
    /// let products = RecordBatch::try_from_iter([
    ///     ("sku", Arc::new(StringArray::from(vec!["A", "B"])) as ArrayRef),
    ///     ("cost", Arc::new(Decimal128Array::from(vec![1250, 99]).with_precision_and_scale(10, 2).unwrap())),
    /// ]).unwrap();
    /// let lists = RecordBatch::try_from_iter([
    ///     ("LIST", Arc::new(StringArray::from(vec!["base"])) as ArrayRef),
    /// ]).unwrap();
    /// let imported = Importer::new(manifest)
    ///     .with_batches("products", vec![products])
    ///     .with_batches("price_lists", vec![lists])
    ///     .document()
    ///     .unwrap();
    /// assert!(imported.json().contains(r#"{"sku":"A","cost":"12.50"}"#));
    /// ```
    #[cfg(feature = "arrow")]
    pub fn with_batches(mut self, table: &str, batches: Vec<RecordBatch>) -> Importer {
        self.batches.insert(table.to_string(), batches);
        self
    }

    /// Builds the `tarif/1` document text, or reports every problem of the tables.
    pub fn document(&self) -> Result<Imported, ImportError> {
        build::build(&self.manifest, &self.batches)
            .map(|b| Imported {
                json: b.json,
                sources: b.sources,
            })
            .map_err(ImportError::new)
    }

    /// Builds the document and compiles it; see [`Imported::compile`].
    pub fn compile(&self, options: &CompileOptions) -> Result<Compiled, ImportError> {
        self.document()?.compile(options)
    }
}

impl Imported {
    /// The `tarif/1` text.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The `tarif/1` text, owned.
    pub fn into_json(self) -> String {
        self.json
    }

    /// The file, row and column a document path (as compile diagnostics give it) was built
    /// from; `None` for what came from the manifest's JSON part.
    pub fn locate(&self, path: &str) -> Option<Location> {
        self.sources.locate(path)
    }

    /// Compiles the document. A rejected document reports the compiler's diagnostics with the
    /// location each came from where there is one, and its document path always; the
    /// warnings of an accepted one keep their document paths ([`Imported::locate`] them).
    pub fn compile(&self, options: &CompileOptions) -> Result<Compiled, ImportError> {
        Engine::compile(&self.json, options).map_err(|err| {
            ImportError::new(
                err.diagnostics
                    .into_iter()
                    .map(|d| ImportDiagnostic {
                        code: ImportCode::Compile(d.code),
                        location: self.locate(&d.path),
                        path: Some(d.path),
                        message: d.message,
                    })
                    .collect(),
            )
        })
    }
}

/// Builds the `tarif/1` text of the tables a manifest file describes, without compiling it.
///
/// ```
/// let err = tarif::import::document("no/such/manifest.json").unwrap_err();
/// assert_eq!(err.diagnostics[0].code.code(), "IMPORT_IO");
/// ```
pub fn document(manifest: impl AsRef<Path>) -> Result<Imported, ImportError> {
    Importer::new(Manifest::from_path(manifest)?).document()
}

impl Engine {
    /// Imports the tables a manifest file describes and compiles the document they make
    /// (warnings allowed). The engine keeps the built text as its [`Engine::source`].
    ///
    /// ```no_run
    /// let compiled = tarif::Engine::import("erp/manifest.json")?;
    /// println!("{}", compiled.engine.engine_version());
    /// # Ok::<(), tarif::import::ImportError>(())
    /// ```
    pub fn import(manifest: impl AsRef<Path>) -> Result<Compiled, ImportError> {
        document(manifest)?.compile(&CompileOptions::default())
    }
}
