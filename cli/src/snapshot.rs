//! `tarif snapshot`: compile a document once and save the engine, for every later command (and
//! service) to open without compiling.

use std::io::Write;
use std::time::Instant;

use serde_json::json;

use crate::args::SnapshotArgs;
use crate::check;
use crate::failure::{Exit, Failure};
use crate::progress::Progress;

pub(crate) fn snapshot(
    args: &SnapshotArgs,
    json: bool,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let engine = check::load(&args.rules, progress)?;
    let spinner = progress.spinner(format!("saving {}", args.out.display()));
    let started = Instant::now();
    let saved = engine.save(&args.out);
    let elapsed = started.elapsed();
    spinner.finish_and_clear();
    saved.map_err(Failure::Snapshot)?;
    let bytes = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    let path = args.out.display().to_string();
    if json {
        let report = json!({
            "ok": true,
            "rules": args.rules.path.display().to_string(),
            "snapshot": path,
            "bytes": bytes,
            "engine_version": engine.engine_version(),
            "save_ms": elapsed.as_millis(),
        });
        writeln!(out, "{report}")?;
    } else {
        writeln!(
            out,
            "ok: wrote `{path}`: {bytes} bytes, engine version {}; saved in {:.2} s",
            engine.engine_version(),
            elapsed.as_secs_f64()
        )?;
    }
    Ok(Exit::Ok)
}
