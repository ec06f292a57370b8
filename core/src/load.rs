//! Building an engine: the one place that knows both the compiler and the engine, so that
//! neither imports the other.

use std::sync::Arc;

use crate::compile::{self, CompileOptions};
use crate::engine::Engine;
use crate::error::{CompileError, Diagnostic};

/// A compiled engine and the warnings its document raised.
#[derive(Debug)]
pub struct Compiled {
    /// The engine.
    pub engine: Engine,
    /// Warnings (never errors: a document with errors is rejected).
    pub warnings: Vec<Diagnostic>,
}

impl Engine {
    /// Compiles a `tarif/1` JSON document (warnings allowed).
    ///
    /// ```
    /// let err = tarif::Engine::from_json(r#"{"format": "tarif/1", "bogus": 1}"#).unwrap_err();
    /// assert_eq!(err.diagnostics[0].code.code(), "UNKNOWN_FIELD");
    /// ```
    pub fn from_json(json: &str) -> Result<Engine, CompileError> {
        Engine::compile(json, &CompileOptions::default()).map(|c| c.engine)
    }

    /// Compiles with options (e.g. `strict`), returning the engine and its warnings; a
    /// rejected document reports every problem at once.
    ///
    /// ```
    /// use tarif::{CompileOptions, Engine};
    /// let doc = r#"{"format": "tarif/1", "products": [{"sku": ""}, {"sku": "A", "cost": "x"}]}"#;
    /// let err = Engine::compile(doc, &CompileOptions::default()).unwrap_err();
    /// let codes: Vec<_> = err.diagnostics.iter().map(|d| (d.code.code(), d.path.as_str())).collect();
    /// assert!(codes.contains(&("INVALID_ID", "products[0].sku")));
    /// assert!(codes.contains(&("INVALID_DECIMAL", "products[1].cost")));
    /// ```
    pub fn compile(json: &str, options: &CompileOptions) -> Result<Compiled, CompileError> {
        let (index, warnings) = compile::compile(json, options)?;
        let source = (!options.discard_source).then(|| Arc::from(json));
        Ok(Compiled {
            engine: Engine::new(index, warnings.clone(), source),
            warnings,
        })
    }
}
