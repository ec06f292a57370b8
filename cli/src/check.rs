//! `tarif check`, and the compile step every other command starts with.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::json;
use tarif::{CompileError, CompileOptions, Diagnostic, Engine, Severity};

use crate::args::{CheckArgs, Rules};
use crate::failure::{Exit, Failure};
use crate::progress::{compile_progress, Progress};

/// A compiled document and what compiling it said.
pub(crate) struct Loaded {
    pub engine: Engine,
    pub warnings: Vec<Diagnostic>,
    pub elapsed: Duration,
    /// Opened from a snapshot rather than compiled.
    pub snapshot: bool,
}

/// Reads and compiles the rules document under a bar of its phases, or opens it if it is a snapshot.
fn compile(rules: &Rules, progress: &Progress) -> Result<Result<Loaded, CompileError>, Failure> {
    let file_error = |error| Failure::File {
        path: rules.path.clone(),
        action: "read",
        error,
    };
    let bytes = std::fs::read(&rules.path).map_err(file_error)?;
    if tarif::snapshot::is_snapshot(&bytes) {
        return open(rules, &bytes);
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        file_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })?;
    let bar = progress.phases(format!("compiling {}", rules.path.display()));
    let started = Instant::now();
    let compiled = Engine::compile(
        &text,
        &CompileOptions {
            strict: rules.strict,
            progress: Some(compile_progress(&bar)),
            ..CompileOptions::default()
        },
    );
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    Ok(compiled.map(|c| Loaded {
        engine: c.engine,
        warnings: c.warnings,
        elapsed,
        snapshot: false,
    }))
}

/// The engine of a snapshot; under `--strict` its warnings reject it as they rejected the
/// document.
fn open(rules: &Rules, bytes: &[u8]) -> Result<Result<Loaded, CompileError>, Failure> {
    let started = Instant::now();
    let engine = Engine::from_snapshot_bytes(bytes)
        .map_err(|e| Failure::Snapshot(e.at_path(&rules.path.display().to_string())))?;
    let warnings = engine.diagnostics().to_vec();
    if rules.strict && !warnings.is_empty() {
        return Ok(Err(CompileError {
            diagnostics: warnings,
        }));
    }
    Ok(Ok(Loaded {
        engine,
        warnings,
        elapsed: started.elapsed(),
        snapshot: true,
    }))
}

/// The engine of a query command: a rejected document fails the command, warnings are counted
/// on stderr (`tarif check` lists them).
pub(crate) fn load(rules: &Rules, progress: &Progress) -> Result<Engine, Failure> {
    let loaded = compile(rules, progress)?.map_err(Failure::Rejected)?;
    if !loaded.warnings.is_empty() {
        eprintln!(
            "note: `{}` compiled with {} warning(s); `tarif check` lists them",
            rules.path.display(),
            loaded.warnings.len()
        );
    }
    Ok(loaded.engine)
}

pub(crate) fn check(
    args: &CheckArgs,
    json: bool,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let path = args.rules.path.display().to_string();
    match compile(&args.rules, progress)? {
        Ok(loaded) => {
            let engine = &loaded.engine;
            if json {
                let report = json!({
                    "ok": true,
                    "rules": path,
                    "errors": 0,
                    "warnings": loaded.warnings.len(),
                    "diagnostics": loaded.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
                    "products": engine.skus().len(),
                    "accounts": engine.accounts().len(),
                    "currencies": engine.currencies().collect::<Vec<_>>(),
                    "engine_version": engine.engine_version(),
                    "compile_ms": loaded.elapsed.as_millis(),
                    "snapshot": loaded.snapshot,
                });
                writeln!(out, "{report}")?;
            } else {
                for warning in &loaded.warnings {
                    writeln!(out, "warning: {warning}")?;
                }
                writeln!(
                    out,
                    "ok: `{path}` compiles: {} products, {} accounts, {}; 0 errors, {} \
                     warning(s); engine version {}; {} in {:.2} s",
                    engine.skus().len(),
                    engine.accounts().len(),
                    currencies_text(engine),
                    loaded.warnings.len(),
                    engine.engine_version(),
                    if loaded.snapshot {
                        "opened from a snapshot"
                    } else {
                        "compiled"
                    },
                    loaded.elapsed.as_secs_f64(),
                )?;
            }
            Ok(Exit::Ok)
        }
        Err(rejected) => report_rejection(
            out,
            json,
            ("rules", &path),
            "does not compile",
            rejected.code(),
            &rejected.diagnostics,
        ),
    }
}

/// A diagnostic as a rejection lists it: its severity, its line of text (`Display`) and its
/// JSON object.
pub(crate) trait Reported: std::fmt::Display {
    fn severity(&self) -> Severity;
    fn json(&self) -> serde_json::Value;
}

impl Reported for Diagnostic {
    fn severity(&self) -> Severity {
        Diagnostic::severity(self)
    }

    fn json(&self) -> serde_json::Value {
        diagnostic_json(self)
    }
}

/// Reports a rejected input (`subject`: the argument's name and value, `rules` or `manifest`)
/// with every diagnostic and a summary line, or as one JSON object; the exit code says so.
pub(crate) fn report_rejection<D: Reported>(
    out: &mut dyn Write,
    json: bool,
    subject: (&str, &str),
    verdict: &str,
    code: &str,
    diagnostics: &[D],
) -> Result<Exit, Failure> {
    let (key, path) = subject;
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    if json {
        let mut report = serde_json::Map::new();
        report.insert("ok".into(), false.into());
        report.insert(key.into(), path.into());
        report.insert("code".into(), code.into());
        report.insert("errors".into(), errors.into());
        report.insert("warnings".into(), warnings.into());
        report.insert(
            "diagnostics".into(),
            diagnostics.iter().map(Reported::json).collect(),
        );
        writeln!(out, "{}", serde_json::Value::Object(report))?;
    } else {
        for d in diagnostics {
            writeln!(out, "{}: {d}", severity_name(d.severity()))?;
        }
        writeln!(
            out,
            "rejected[{code}]: `{path}` {verdict}: {errors} error(s), {warnings} warning(s)"
        )?;
    }
    Ok(Exit::Rejected)
}

fn currencies_text(engine: &Engine) -> String {
    let codes: Vec<&str> = engine.currencies().collect();
    if codes.is_empty() {
        "no currency".into()
    } else {
        format!("currencies {}", codes.join(", "))
    }
}

pub(crate) fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    json!({
        "code": d.code.code(),
        "severity": severity_name(d.severity()),
        "path": d.path,
        "message": d.message,
        "ids": d.ids,
    })
}
