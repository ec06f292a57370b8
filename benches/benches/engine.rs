//! The engine on the generated data set of docs/performance.md at `TARIF_BENCH_SIZE` (`small`
//! by default, `reference`): compile, single-line quote / visibility / lookup (criterion, plus an
//! hdrhistogram of individually timed calls for p50/p99/p99.9), `quote_many` over the order lines
//! on 1 and 2 threads, and the engine's resident set.
//!
//! Under `cargo test --benches` criterion runs each bench once; the histograms then take a
//! thousand calls instead of a million so that the test stays fast.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, Throughput};
use hdrhistogram::Histogram;
use tarif::{BatchAt, Engine, QuoteRequest};
use tarif_benches::generate::{self, File, BENCH_AT};
use tarif_benches::{bench_size, ensure_data, memory, Orders};

/// The rows single-line benches cycle through: realistic (account, product, quantity) triples
/// from the order lines, plus an (account, product) pairing across lines for visibility, where
/// about 40 % of products belong to another segment's assortment and are hidden.
struct Rows<'a> {
    accounts: Vec<&'a str>,
    skus: Vec<&'a str>,
    eans: Vec<String>,
    orders: &'a Orders,
}

impl<'a> Rows<'a> {
    fn new(orders: &'a Orders, limit: usize) -> Rows<'a> {
        let (mut accounts, mut skus) = orders.columns();
        accounts.truncate(limit);
        skus.truncate(limit);
        let eans = skus
            .iter()
            .map(|s| generate::ean(s.trim_start_matches("SKU").parse().expect("generated SKU")))
            .collect();
        Rows {
            accounts,
            skus,
            eans,
            orders,
        }
    }

    fn len(&self) -> usize {
        self.accounts.len()
    }

    fn quote(&self, i: usize) -> QuoteRequest<'a> {
        let i = i % self.len();
        QuoteRequest::new(self.accounts[i], self.skus[i], self.orders.qtys[i])
    }

    fn crossed(&self, i: usize) -> (&'a str, &'a str) {
        let i = i % self.len();
        (self.accounts[i], self.skus[(i * 7919) % self.len()])
    }
}

/// Times `calls` calls one by one and prints the percentiles. `Instant::now()` costs tens of
/// nanoseconds itself, so the timer's own cost is measured and printed next to them.
fn histogram(name: &str, calls: usize, mut call: impl FnMut(usize)) {
    let mut timer = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    let mut hist = timer.clone();
    for i in 0..calls {
        let start = Instant::now();
        black_box(i);
        timer.saturating_record(start.elapsed().as_nanos() as u64);
        let start = Instant::now();
        call(i);
        hist.saturating_record(start.elapsed().as_nanos() as u64);
    }
    println!(
        "{name:<28} {calls} timed calls: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns (timer alone: p50 {} ns)",
        hist.value_at_quantile(0.5),
        hist.value_at_quantile(0.99),
        hist.value_at_quantile(0.999),
        hist.max(),
        timer.value_at_quantile(0.5),
    );
}

/// What a fresh `tarif-reprice` process (without orders, so that nothing this bench allocated
/// counts) reports about one compiled document.
struct EngineMemory {
    /// jemalloc bytes allocated by the engine, the document text dropped.
    heap: u64,
    /// Resident set delta across the compile: an upper bound, parse memory stays mapped.
    rss: u64,
    peak: u64,
    compile_s: f64,
}

fn engine_memory(rules: &Path) -> EngineMemory {
    let out = Command::new(env!("CARGO_BIN_EXE_tarif-reprice"))
        .arg("--rules")
        .arg(rules)
        .output()
        .expect("tarif-reprice runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let bytes = |key: &str| report[key].as_u64().expect("a byte count");
    EngineMemory {
        heap: bytes("engine_heap_bytes"),
        rss: bytes("engine_rss_bytes"),
        peak: bytes("peak_rss_bytes"),
        compile_s: report["compile_s"].as_f64().expect("seconds"),
    }
}

fn memory_report(dir: &Path, account_prices: usize) {
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let full = engine_memory(&dir.join(File::Rules.name()));
    let without = engine_memory(&dir.join(File::RulesWithoutAccountPrices.name()));
    println!(
        "memory: engine heap {:.1} MiB after compile ({:.2} s; resident +{:.1} MiB, peak {:.1} MiB \
         while parsing), heap {:.1} MiB without the account price lists",
        mib(full.heap),
        full.compile_s,
        mib(full.rss),
        mib(full.peak),
        mib(without.heap)
    );
    let per_price = |a: u64, b: u64| a.saturating_sub(b) as f64 / account_prices.max(1) as f64;
    println!(
        "memory: ≈ {:.0} heap bytes per account price ({:.0} resident; {account_prices} account prices)",
        per_price(full.heap, without.heap),
        per_price(full.rss, without.rss),
    );
}

fn main() {
    let size = bench_size();
    let dir = ensure_data(size).expect("bench data can be generated");
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let calls = if bench_mode { 1_000_000 } else { 1_000 };
    println!("data set: {} ({})", size.name(), dir.display());

    memory_report(&dir, size.account_prices());
    let text = std::fs::read_to_string(dir.join(File::Rules.name())).expect("rules.json");
    let engine = Engine::from_json(&text).expect("the generated document compiles");
    let orders = Orders::read(&dir.join(File::Orders.name())).expect("orders.csv");
    let at = tarif::Instant::parse_rfc3339(BENCH_AT).expect("valid instant");
    let rows = Rows::new(&orders, 1 << 20);
    println!(
        "process resident set now {:.0} MiB",
        memory().rss as f64 / (1 << 20) as f64
    );

    histogram("quote one line", calls, |i| {
        black_box(engine.quote(&rows.quote(i).at(at)).ok());
    });
    histogram("visibility one product", calls, |i| {
        let (account, sku) = rows.crossed(i);
        black_box(engine.visibility(account, sku, Some(at)).ok());
    });
    histogram("lookup by EAN", calls, |i| {
        let i = i % rows.len();
        black_box(engine.lookup_at(rows.accounts[i], &rows.eans[i], at).ok());
    });

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group(format!("compile/{}", size.name()));
    group.sample_size(10);
    if size == generate::Size::Reference {
        group.measurement_time(Duration::from_secs(60));
    }
    group.bench_function("rules.json", |b| {
        b.iter(|| black_box(Engine::from_json(&text).expect("compiles")))
    });
    group.finish();
    drop(text);

    let mut group = c.benchmark_group(format!("single/{}", size.name()));
    let mut i = 0usize;
    group.bench_function("quote one line", |b| {
        b.iter(|| {
            i += 1;
            black_box(engine.quote(&rows.quote(i).at(at)).ok())
        })
    });
    group.bench_function("visibility one product", |b| {
        b.iter(|| {
            i += 1;
            let (account, sku) = rows.crossed(i);
            black_box(engine.visibility(account, sku, Some(at)).ok())
        })
    });
    group.bench_function("lookup sku", |b| {
        b.iter(|| {
            i += 1;
            let k = i % rows.len();
            black_box(engine.lookup_at(rows.accounts[k], rows.skus[k], at).ok())
        })
    });
    group.bench_function("lookup ean", |b| {
        b.iter(|| {
            i += 1;
            let k = i % rows.len();
            black_box(engine.lookup_at(rows.accounts[k], &rows.eans[k], at).ok())
        })
    });
    group.finish();

    let (accounts, skus) = orders.columns();
    let mut group = c.benchmark_group(format!("quote_many/{}", size.name()));
    group.throughput(Throughput::Elements(orders.len() as u64));
    group.sample_size(10);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        group.bench_function(
            format!("{} lines, {threads} thread(s)", orders.len()),
            |b| {
                b.iter(|| {
                    pool.install(|| {
                        black_box(engine.quote_many(
                            &accounts,
                            &skus,
                            &orders.qtys,
                            BatchAt::One(at),
                            None,
                        ))
                    })
                })
            },
        );
    }
    group.finish();
    c.final_summary();
}
