//! Instruction-count probe for `valgrind --tool=callgrind`: loads an engine, then asks `N`
//! (first argument, default 20 000) calls of the query named by the second argument (`quote`,
//! `visibility`, `lookup` or `none`).
//! Per-call cost = (instructions at N − instructions with `none`) / N; see docs/performance.md.
//!
//! Without a third argument the engine is the sample document and the calls cycle over the
//! rows of `benches/benches/quote.rs`. With `RULES ORDERS` (a rules document or a snapshot, and
//! an `orders.csv` of `tarif-gen`), the engine is that one and the calls ask the first N order
//! lines, each once: with `--cache-sim=yes` the misses per call are those of lines that were
//! not asked before, as in a shop, rather than of a few rows kept warm by repetition.

use std::hint::black_box;
use std::path::Path;

use tarif::{Decimal, Engine, Instant, QuoteRequest};
use tarif_benches::generate::BENCH_AT;
use tarif_benches::sample_rows;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let what = args.next().unwrap_or_else(|| "quote".into());
    let (engine, at, rows) = match (args.next(), args.next()) {
        (Some(rules), Some(orders)) => {
            let engine = open(Path::new(&rules));
            let at = Instant::parse_rfc3339(BENCH_AT).expect("valid instant");
            (engine, at, order_lines(Path::new(&orders), n))
        }
        _ => {
            let engine = Engine::from_json(&tarif_sample::distributor_json())
                .expect("the sample document compiles");
            let at = Instant::parse_rfc3339("2026-06-01T10:00:00Z").expect("valid instant");
            let rows = sample_rows(&engine, 1024);
            (engine, at, rows)
        }
    };
    for i in 0..n {
        let (account, sku, qty) = &rows[i % rows.len()];
        match what.as_str() {
            "quote" => {
                black_box(
                    engine
                        .quote(&QuoteRequest::new(account, sku, *qty).at(at))
                        .ok(),
                );
            }
            "visibility" => {
                black_box(engine.visibility(account, sku, Some(at)).ok());
            }
            "lookup" => {
                black_box(engine.lookup_at(account, sku, at).ok());
            }
            _ => {}
        }
    }
}

/// A snapshot or a rules document.
fn open(path: &Path) -> Engine {
    let bytes = std::fs::read(path).expect("the rules file is readable");
    if tarif::snapshot::is_snapshot(&bytes) {
        Engine::from_snapshot_bytes(&bytes).expect("the snapshot opens")
    } else {
        Engine::from_json(std::str::from_utf8(&bytes).expect("UTF-8 rules"))
            .expect("the rules compile")
    }
}

/// The first `n` lines of an `orders.csv` (`account,sku,qty,date`, with a header).
fn order_lines(path: &Path, n: usize) -> Vec<(String, String, Decimal)> {
    let text = std::fs::read_to_string(path).expect("the orders file is readable");
    text.lines()
        .skip(1)
        .take(n.max(1))
        .map(|line| {
            let mut fields = line.split(',');
            let mut next = || fields.next().expect("account,sku,qty,date").to_string();
            let (account, sku, qty) = (next(), next(), next());
            (account, sku, qty.parse().expect("a decimal quantity"))
        })
        .collect()
}
