//! `tarif-reprice --rules FILE [--orders FILE] [--threads N] [--repeat R] [--points K] [--head H]`:
//! Tarif's side of benches/peers/compare.py, in its own process so that its resident set is its
//! own.
//! Compiles the rules, reprices every order line at [`BENCH_AT`] with `quote_many` R times on N
//! threads, quotes the first K lines one by one (checksums over them and over the first H), and
//! prints one JSON object: checksums, timings,
//! resident set. Without `--orders` it only compiles: the engine's heap and resident set, for the
//! benches.
//!
//! The process allocates through jemalloc so that the engine's size is read from the allocator's
//! own counters (`stats.allocated`: bytes the program holds) rather than from an RSS delta, which
//! glibc inflates with the parse memory it keeps after freeing it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use tarif::{BatchAt, Decimal, Engine, QuoteRequest, Status};
use tarif_benches::generate::BENCH_AT;
use tarif_benches::{memory, total_cents, Orders};
use tikv_jemalloc_ctl::{epoch, stats};

tarif_allocator::jemalloc!();

/// jemalloc's counters: bytes allocated by the program and bytes of physical pages it maps.
#[derive(Clone, Copy)]
struct Heap {
    allocated: u64,
    resident: u64,
}

fn heap() -> Result<Heap, String> {
    // The counters are snapshots refreshed by advancing the epoch.
    epoch::advance().map_err(|e| format!("jemalloc epoch: {e}"))?;
    let allocated = stats::allocated::read().map_err(|e| format!("jemalloc allocated: {e}"))?;
    let resident = stats::resident::read().map_err(|e| format!("jemalloc resident: {e}"))?;
    Ok(Heap {
        allocated: allocated as u64,
        resident: resident as u64,
    })
}

struct Args {
    rules: PathBuf,
    orders: Option<PathBuf>,
    threads: usize,
    repeat: usize,
    points: usize,
    head: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut rules = None;
    let mut orders = None;
    let (mut threads, mut repeat, mut points, mut head) = (1, 5, 100_000, 100);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{arg}: not a count: {value}"))
        };
        match arg.as_str() {
            "--rules" => rules = Some(PathBuf::from(&value)),
            "--orders" => orders = Some(PathBuf::from(&value)),
            "--threads" => threads = number()?,
            "--repeat" => repeat = number()?.max(1),
            "--points" => points = number()?,
            "--head" => head = number()?,
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    Ok(Args {
        rules: rules.ok_or("--rules is required")?,
        orders,
        threads,
        repeat,
        points,
        head,
    })
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    let before = memory();
    let heap_before = heap()?;
    let text = std::fs::read_to_string(&args.rules)
        .map_err(|e| format!("{}: {e}", args.rules.display()))?;
    let start = Instant::now();
    let engine = Engine::from_json(&text).map_err(|e| format!("compile: {e}"))?;
    let compile_s = start.elapsed().as_secs_f64();
    drop(text);
    let compiled = memory();
    let heap_compiled = heap()?;
    let engine_heap_bytes = heap_compiled
        .allocated
        .saturating_sub(heap_before.allocated);
    let Some(orders_path) = &args.orders else {
        return Ok(serde_json::json!({
            "engine_version": engine.engine_version(),
            "compile_s": compile_s,
            "engine_heap_bytes": engine_heap_bytes,
            "heap_resident_bytes": heap_compiled.resident,
            "engine_rss_bytes": compiled.rss.saturating_sub(before.rss),
            "peak_rss_bytes": compiled.peak,
        }));
    };
    let orders =
        Orders::read(orders_path).map_err(|e| format!("{}: {e}", orders_path.display()))?;
    let (accounts, skus) = orders.columns();
    let at_instant = tarif::Instant::parse_rfc3339(BENCH_AT).ok_or("bad BENCH_AT")?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .map_err(|e| e.to_string())?;
    let mut times = Vec::with_capacity(args.repeat);
    let mut last = None;
    for _ in 0..args.repeat {
        let start = Instant::now();
        let out = pool
            .install(|| {
                engine.quote_many(
                    &accounts,
                    &skus,
                    &orders.qtys,
                    BatchAt::One(at_instant),
                    None,
                )
            })
            .map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64());
        last = Some(out);
    }
    let out = last.ok_or("no batch ran")?;
    times.sort_by(f64::total_cmp);
    let median_s = times[times.len() / 2];
    let ok = out.status.iter().filter(|s| **s == Status::Ok).count();

    let points = args.points.min(orders.len());
    let mut latencies = Vec::with_capacity(points);
    let mut point_totals = Vec::with_capacity(points);
    for row in 0..points {
        let request = QuoteRequest::new(accounts[row], skus[row], orders.qtys[row]).at(at_instant);
        let start = Instant::now();
        let quote = engine.quote(&request);
        latencies.push(start.elapsed().as_nanos() as u64);
        point_totals.push(quote.map_or(Decimal::ZERO, |q| q.line_total));
    }
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
    };
    let mem = memory();
    Ok(serde_json::json!({
        "engine": "tarif (Rust)",
        "threads": args.threads,
        "lines": orders.len(),
        "ok_lines": ok,
        "checksum_cents": total_cents(&out.line_total).to_string(),
        "compile_s": compile_s,
        "engine_heap_bytes": engine_heap_bytes,
        "engine_rss_bytes": compiled.rss.saturating_sub(before.rss),
        "batch_median_s": median_s,
        "batch_runs_s": times,
        "points": points,
        "point_checksum_cents": total_cents(&point_totals).to_string(),
        "point_head_checksum_cents": total_cents(&point_totals[..args.head.min(points)]).to_string(),
        "point_p50_ns": percentile(0.5),
        "point_p99_ns": percentile(0.99),
        "rss_bytes": mem.rss,
        "peak_rss_bytes": mem.peak,
    }))
}

fn main() -> ExitCode {
    tarif_benches::finish("tarif-reprice", parse_args().and_then(|args| run(&args)))
}
