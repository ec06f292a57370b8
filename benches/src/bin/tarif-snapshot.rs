//! `tarif-snapshot --rules FILE --out FILE [--repeat R]`: the snapshot figures of
//! docs/performance.md ("Snapshots"). Compiles the rules once (timed), saves the engine R times,
//! then R times opens it in the same process and asks the first quote, timing the open, the
//! first quote and, apart, what the open is made of: reading the file and hashing it (BLAKE3,
//! the cost of the check); the rest of the open is the decode.
//! Prints one JSON object with the medians and every run.
//!
//! The process allocates through jemalloc, as `tarif-reprice` does, so that its figures are
//! taken with the allocator the other engine figures were.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use tarif::{Decimal, Engine, QuoteRequest};
use tarif_benches::median;

tarif_allocator::jemalloc!();

struct Args {
    rules: PathBuf,
    out: PathBuf,
    repeat: usize,
}

fn parse_args() -> Result<Args, String> {
    let (mut rules, mut out, mut repeat) = (None, None, 5);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--rules" => rules = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--repeat" => repeat = value.parse().map_err(|e| format!("--repeat: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        rules: rules.ok_or("--rules is required")?,
        out: out.ok_or("--out is required")?,
        repeat: repeat.max(1),
    })
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// The first quote an opened engine gives: the first account, the first SKU, one unit, now.
/// An error answer (a hidden price, say) is an answer too: it took the same lookups.
fn first_quote(engine: &Engine) -> String {
    let account = engine.accounts().next().unwrap_or("");
    let sku = engine.skus().next().unwrap_or("");
    match engine.quote(&QuoteRequest::new(account, sku, Decimal::ONE)) {
        Ok(quote) => quote.unit_price.to_string(),
        Err(e) => e.code().to_string(),
    }
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(&args.rules).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let engine = Engine::from_json(&text).map_err(|e| e.to_string())?;
    let compile_ms = ms(started);
    let answer = first_quote(&engine);

    let mut save = Vec::new();
    for _ in 0..args.repeat {
        let started = Instant::now();
        engine.save(&args.out).map_err(|e| e.to_string())?;
        save.push(ms(started));
    }
    let bytes = std::fs::metadata(&args.out)
        .map_err(|e| e.to_string())?
        .len();
    drop(engine);

    let (mut read, mut hash, mut dropped, mut quote, mut open, mut total) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..args.repeat {
        let started = Instant::now();
        let file = std::fs::read(&args.out).map_err(|e| e.to_string())?;
        read.push(ms(started));
        let hashing = Instant::now();
        std::hint::black_box(blake3::hash(&file));
        hash.push(ms(hashing));
        drop(file);

        let started = Instant::now();
        let opened = Engine::open(&args.out).map_err(|e| e.to_string())?;
        let opened_ms = ms(started);
        let asked = Instant::now();
        let again = first_quote(&opened);
        quote.push(ms(asked));
        total.push(ms(started));
        open.push(opened_ms);
        if again != answer {
            return Err(format!(
                "the opened engine answers {again}, the compiled {answer}"
            ));
        }
        let dropping = Instant::now();
        drop(opened);
        dropped.push(ms(dropping));
    }
    Ok(serde_json::json!({
        "rules_bytes": text.len(),
        "snapshot_bytes": bytes,
        "compile_ms": compile_ms,
        "save_ms": median(&save),
        "read_ms": median(&read),
        "checksum_ms": median(&hash),
        "open_ms": median(&open),
        "first_quote_ms": median(&quote),
        "open_to_first_quote_ms": median(&total),
        "drop_ms": median(&dropped),
        "first_answer": answer,
        "runs": {"save": save, "read": read, "checksum": hash, "open": open,
                 "open_to_first_quote": total},
    }))
}

fn main() -> ExitCode {
    tarif_benches::finish("tarif-snapshot", parse_args().and_then(|args| run(&args)))
}
