//! Instruction-count probe for `valgrind --tool=callgrind`: compiles the sample document, then
//! asks `N` (first argument, default 20 000) calls of the query named by the second argument
//! (`quote`, `visibility`, `lookup` or `none`) over the rows of `benches/benches/quote.rs`.
//! Per-call cost = (instructions at N − instructions with `none`) / N; see docs/performance.md.

use std::hint::black_box;

use tarif::{Engine, Instant, QuoteRequest};
use tarif_benches::sample_rows;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let what = args.next().unwrap_or_else(|| "quote".into());
    let engine =
        Engine::from_json(&tarif_sample::distributor_json()).expect("the sample document compiles");
    let at = Instant::parse_rfc3339("2026-06-01T10:00:00Z").expect("valid instant");
    let rows = sample_rows(&engine, 1024);
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
