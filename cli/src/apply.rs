//! `tarif apply`: a `tarif/1-changes` document applied to a rules document or a snapshot, the
//! entities it changed listed, and the result written as a document or a snapshot.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use tarif::{CompileOptions, Engine};

use crate::args::ApplyArgs;
use crate::check::{self, report_rejection};
use crate::failure::{Exit, Failure};
use crate::output_file::write_atomically;
use crate::progress::{compile_progress, Progress};

/// Whether `path` names a rules document (`.json`) rather than a snapshot.
fn is_document(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

pub(crate) fn apply(
    args: &ApplyArgs,
    json: bool,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let engine = check::load(&args.rules, progress)?;
    let changes_path = args.changes.display().to_string();
    let changes = std::fs::read_to_string(&args.changes).map_err(|error| Failure::File {
        path: args.changes.clone(),
        action: "read",
        error,
    })?;
    let bar = progress.phases(format!("applying {changes_path}"));
    let started = Instant::now();
    let applied = engine.apply(
        &changes,
        &CompileOptions {
            strict: args.rules.strict,
            progress: Some(compile_progress(&bar)),
            ..CompileOptions::default()
        },
    );
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let applied = match applied {
        Ok(applied) => applied,
        Err(rejected) => {
            return report_rejection(
                out,
                json,
                ("changes", &changes_path),
                "cannot be applied",
                rejected.code(),
                &rejected.diagnostics,
            )
        }
    };
    let new = applied.engine;
    let diff = engine.diff(&new).map_err(Failure::Rejected)?;
    if let Some(target) = &args.out {
        write(&new, target, progress)?;
    }
    let written = args.out.as_ref().map(|p| p.display().to_string());
    if json {
        let report = json!({
            "ok": true,
            "changes": changes_path,
            "from": engine.engine_version(),
            "to": new.engine_version(),
            "changed": diff.changes.iter().map(|c| json!({
                "section": c.section,
                "parent": c.parent,
                "id": c.id,
                "kind": c.kind.as_str(),
            })).collect::<Vec<_>>(),
            "warnings": applied.warnings.len(),
            "apply_ms": elapsed.as_millis(),
            "written": written,
        });
        writeln!(out, "{report}")?;
    } else {
        for warning in &applied.warnings {
            writeln!(out, "warning: {warning}")?;
        }
        for change in &diff.changes {
            writeln!(out, "{change}")?;
        }
        let written = written.map_or_else(String::new, |p| format!("; wrote `{p}`"));
        writeln!(
            out,
            "ok: applied `{changes_path}`: {} entit{} changed; engine version {} → {}; applied \
             in {:.2} s{written}",
            diff.changes.len(),
            if diff.changes.len() == 1 { "y" } else { "ies" },
            engine.engine_version(),
            new.engine_version(),
            elapsed.as_secs_f64(),
        )?;
    }
    Ok(Exit::Ok)
}

/// Writes the new engine: its document for a `.json` target, else a snapshot. Both are
/// written under another name and renamed, so a failure leaves the target as it was.
fn write(engine: &Engine, target: &Path, progress: &Progress) -> Result<(), Failure> {
    let spinner = progress.spinner(format!("writing {}", target.display()));
    let written = if is_document(target) {
        let text = engine.source().unwrap_or_default();
        write_atomically(target, |mut file| {
            file.write_all(text.as_bytes())
                .map_err(|error| Failure::File {
                    path: target.to_path_buf(),
                    action: "write",
                    error,
                })
        })
    } else {
        engine.save(target).map_err(Failure::Snapshot)
    };
    spinner.finish_and_clear();
    written
}
