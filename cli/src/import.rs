//! `tarif import`: builds a `tarif/1` document from ERP tables (docs/spec.md, "Import
//! manifest"), reports every problem of the tables or of the document, and writes it.

use std::io::Write;
use std::time::Instant;

use serde_json::json;
use tarif::import::{ImportDiagnostic, Importer, Manifest};
use tarif::{CompileOptions, Severity};

use crate::args::ImportArgs;
use crate::check::{report_rejection, severity_name, Reported};
use crate::failure::{Exit, Failure};
use crate::progress::Progress;

pub(crate) fn import(
    args: &ImportArgs,
    json: bool,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let path = args.manifest.display().to_string();
    let spinner = progress.spinner(format!("importing {path}"));
    let started = Instant::now();
    let options = CompileOptions {
        strict: args.strict,
        ..CompileOptions::default()
    };
    let outcome = Manifest::from_path(&args.manifest)
        .and_then(|m| Importer::new(m).document())
        .and_then(|doc| doc.compile(&options).map(|c| (doc, c)));
    let elapsed = started.elapsed();
    spinner.finish_and_clear();
    let (doc, compiled) = match outcome {
        Ok(done) => done,
        Err(rejected) => {
            return report_rejection(
                out,
                json,
                ("manifest", &path),
                "does not import",
                rejected.code(),
                &rejected.diagnostics,
            );
        }
    };
    if let Some(target) = &args.out {
        std::fs::write(target, doc.json()).map_err(|error| Failure::File {
            path: target.clone(),
            action: "write",
            error,
        })?;
    }
    let engine = &compiled.engine;
    let located = |path: &str| {
        doc.locate(path)
            .map_or_else(|| path.to_string(), |l| l.to_string())
    };
    if json {
        let report = json!({
            "ok": true,
            "manifest": path,
            "out": args.out.as_ref().map(|p| p.display().to_string()),
            "warnings": compiled.warnings.len(),
            "diagnostics": compiled.warnings.iter().map(|d| json!({
                "code": d.code.code(),
                "severity": "warning",
                "path": d.path,
                "location": doc.locate(&d.path).map(|l| l.to_string()),
                "message": d.message,
            })).collect::<Vec<_>>(),
            "products": engine.skus().len(),
            "accounts": engine.accounts().len(),
            "engine_version": engine.engine_version(),
            "import_ms": elapsed.as_millis(),
        });
        writeln!(out, "{report}")?;
    } else {
        for d in &compiled.warnings {
            writeln!(
                out,
                "warning: {} at {}: {}",
                d.code.code(),
                located(&d.path),
                d.message
            )?;
        }
        writeln!(
            out,
            "ok: `{path}` imports: {} products, {} accounts; {} warning(s); engine version {}; \
             imported in {:.2} s{}",
            engine.skus().len(),
            engine.accounts().len(),
            compiled.warnings.len(),
            engine.engine_version(),
            elapsed.as_secs_f64(),
            args.out
                .as_ref()
                .map(|p| format!("; written to `{}`", p.display()))
                .unwrap_or_default(),
        )?;
    }
    Ok(Exit::Ok)
}

impl Reported for ImportDiagnostic {
    fn severity(&self) -> Severity {
        ImportDiagnostic::severity(self)
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "code": self.code.code(),
            "severity": severity_name(self.severity()),
            "location": self.location.as_ref().map(ToString::to_string),
            "path": self.path,
            "message": self.message,
        })
    }
}
