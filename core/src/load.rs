//! Building an engine: the one place that knows both the compiler and the engine, so that
//! neither imports the other.

use std::sync::Arc;

use rayon::prelude::*;

use crate::changes::{self, Changes, Derivation, Diff, Problems};
use crate::compile::{self, CompileOptions};
use crate::engine::Engine;
use crate::error::{CompileError, Diagnostic, DiagnosticCode};
use crate::source::{Section, Source};

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
        let output = compile::compile(json, options)?;
        Ok(Engine::compiled(output, || Arc::from(json), options))
    }

    /// The engine of a compile's output; `text` is the document compiled, kept unless the
    /// options discard it.
    fn compiled(
        output: compile::Output,
        text: impl FnOnce() -> Arc<str>,
        options: &CompileOptions,
    ) -> Compiled {
        let compile::Output {
            index,
            warnings,
            sections,
        } = output;
        let source = (!options.discard_source).then(|| Source::compiled(text(), sections));
        Compiled {
            engine: Engine::new(index, warnings.clone(), source),
            warnings,
        }
    }
}

impl Engine {
    /// Applies a `tarif/1-changes` document: the engine of the document this engine was
    /// compiled from with the changes merged in (docs/spec.md §13). `self` is untouched and
    /// keeps answering; the change is checked whole before anything is built, and a rejected
    /// change reports every problem, with paths into the changes document for what it wrote.
    ///
    /// The result is the engine compiling the merged document gives, `engine_version`
    /// included.
    ///
    /// ```
    /// use tarif::{CompileOptions, Engine};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "products": [{"sku": "A"}]}"#).unwrap();
    /// let changes = r#"{"format": "tarif/1-changes",
    ///   "upsert": {"products": [{"sku": "B", "name": "Bolt"}]},
    ///   "delete": {"products": ["A"]}}"#;
    /// let next = engine.apply(changes, &CompileOptions::default()).unwrap().engine;
    /// assert_eq!(next.skus().collect::<Vec<_>>(), ["B"]);
    /// assert_eq!(engine.skus().collect::<Vec<_>>(), ["A"]);
    ///
    /// let bad = r#"{"format": "tarif/1-changes", "delete": {"products": ["Z"]},
    ///   "upsert": {"products": [{"sku": "C", "cost": "x"}]}}"#;
    /// let err = engine.apply(bad, &CompileOptions::default()).unwrap_err();
    /// let found: Vec<_> = err.diagnostics.iter().map(|d| (d.code.code(), d.path.as_str())).collect();
    /// assert_eq!(found, [("UNKNOWN_ID", "delete.products[0]")]);
    /// ```
    pub fn apply(&self, changes: &str, options: &CompileOptions) -> Result<Compiled, CompileError> {
        let mut problems = Problems::default();
        let changes = Changes::parse(changes, &mut problems);
        if let Some(expected) = &changes.engine_version {
            if expected != self.engine_version() {
                problems.push(
                    DiagnosticCode::VersionMismatch,
                    "engine_version",
                    format!(
                        "the changes expect engine `{expected}`, this engine is `{}`",
                        self.engine_version()
                    ),
                    &[],
                );
            }
        }
        let Some(source) = self.source.as_ref() else {
            problems.push(
                DiagnosticCode::NoSource,
                "",
                "this engine was compiled with `discard_source`: there is no document to apply changes to".into(),
                &[],
            );
            return Err(CompileError {
                diagnostics: problems.0,
            });
        };
        let derivation = Derivation::new(self.engine_version(), &changes, self.derived.as_ref());
        let merged = if problems.0.is_empty() {
            changes::merge(source, changes, &mut problems)
        } else {
            None
        };
        let Some(mut merged) = merged else {
            return Err(CompileError {
                diagnostics: problems.0,
            });
        };
        // Only the sections the change wrote are hashed again; the version of the merged
        // document follows from the hashes of all of them.
        let written: Vec<Section> = std::mem::take(&mut merged.sections)
            .into_par_iter()
            .map(|(name, text)| {
                let hash = compile::section_hash(&text).unwrap_or_default();
                Section::owned(&name, text, hash)
            })
            .collect();
        let mut sections: Vec<Section> = source
            .sections()
            .iter()
            .filter(|s| !written.iter().any(|w| w.name == s.name))
            .cloned()
            .collect();
        sections.extend(written);
        sections.sort_by(|a, b| a.name.cmp(&b.name));
        let next = Source::of_sections(sections);
        let version = next.version();
        let (text, spans) = next.into_joined();
        let output = compile::compile_known(&text, options, Some((version, spans)))
            .map(|output| Engine::compiled(output, || text, options));
        let locate = |mut list: Vec<Diagnostic>| {
            for d in &mut list {
                d.path = merged.locate(&d.path);
            }
            list
        };
        match output {
            // The engine keeps the diagnostics of its own document; the caller gets them
            // located in the change.
            Ok(mut compiled) => {
                compiled.engine.derived = Some(Arc::new(derivation));
                Ok(Compiled {
                    warnings: locate(compiled.warnings),
                    engine: compiled.engine,
                })
            }
            Err(e) => Err(CompileError {
                diagnostics: locate(e.diagnostics),
            }),
        }
    }
}

impl Engine {
    /// The entities that differ between this engine's document and `new`'s (see [`Diff`]).
    /// Both engines need their document text (`NO_SOURCE` otherwise).
    ///
    /// ```
    /// use tarif::{CompileOptions, Engine};
    /// let old = Engine::from_json(r#"{"format": "tarif/1", "accounts": [{"id": "A"}]}"#).unwrap();
    /// let new = Engine::from_json(r#"{"format": "tarif/1", "accounts": [{"id": "A", "name": "Acme"}]}"#).unwrap();
    /// assert_eq!(old.diff(&new).unwrap().changes[0].to_string(), "modified accounts[A]");
    /// assert!(old.diff(&old).unwrap().is_empty());
    /// ```
    pub fn diff(&self, new: &Engine) -> Result<Diff, CompileError> {
        match (self.source.as_ref(), new.source.as_ref()) {
            (Some(old), Some(new)) => Ok(changes::diff(old, new)),
            _ => {
                let mut problems = Problems::default();
                problems.push(
                    DiagnosticCode::NoSource,
                    "",
                    "an engine compiled with `discard_source` has no document to compare".into(),
                    &[],
                );
                Err(CompileError {
                    diagnostics: problems.0,
                })
            }
        }
    }
}
