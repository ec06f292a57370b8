//! Catalog navigation on a generated catalog of 1M products (targets in docs/performance.md: first page
//! ≤ 50 µs, ≤ 1 ms per facet): 3 facet attributes, a category tree, brands, families, and 8
//! segment assortments each showing ~60 % of the catalog.
//!
//! `cargo bench` builds the full catalog; `cargo test --benches` (criterion's test mode, or a
//! debug build) runs each bench once on 20,000 products so the suite stays fast.
//! `TARIF_SEARCH_PRODUCTS` overrides the size.
//!
//! Figures, before and after the search changes of 2026-11-27 and what they do:
//! docs/performance.md, "Search, 1M products". In short, per query: the filters' sets are
//! intersected once and cached without visibility (so every assortment shares them), the result
//! is counted against the visible set and a plain page walks the smaller of the two, and facets
//! over a small base are counted by scanning a per-position value column.

use std::fmt::Write as _;
use std::time::Instant as Clock;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tarif::{Capability, Engine, Facet, Filter, Instant, SearchQuery, Sort};

const SEGMENTS: usize = 8;
const TOP: usize = 10;
const LEAVES_PER_TOP: usize = 10;
const BRANDS: usize = 40;
const COLORS: [&str; 8] = [
    "black", "blue", "green", "grey", "orange", "red", "white", "yellow",
];
const VOLTAGES: [u32; 6] = [12, 18, 24, 36, 48, 230];

fn products() -> usize {
    if let Some(n) = std::env::var("TARIF_SEARCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    let benching = std::env::args().any(|a| a == "--bench");
    if benching && !cfg!(debug_assertions) {
        1_000_000
    } else {
        20_000
    }
}

/// A splitmix64 step: deterministic, so every run measures the same catalog.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The document as text, written directly: a `serde_json::Value` of 1M products would cost
/// more memory than the engine itself.
fn document(count: usize) -> String {
    let mut out = String::with_capacity(count * 160);
    out.push_str(
        r#"{"format":"tarif/1","settings":{"default_visibility":"closed","facets":{"attributes":["color","voltage","length_mm"],"numeric":["voltage","length_mm"]}},"categories":["#,
    );
    for t in 0..TOP {
        let _ = write!(out, r#"{{"id":"t{t}"}},"#);
        for l in 0..LEAVES_PER_TOP {
            let _ = write!(out, r#"{{"id":"t{t}-{l}","parent":"t{t}"}},"#);
        }
    }
    out.pop();
    out.push_str(r#"],"products":["#);
    for i in 0..count {
        let r = mix(i as u64);
        let leaf = (r % (TOP * LEAVES_PER_TOP) as u64) as usize;
        let color = COLORS[((r >> 8) % COLORS.len() as u64) as usize];
        let volt = VOLTAGES[((r >> 16) % VOLTAGES.len() as u64) as usize];
        let length = 100 + (r >> 24) % 2900;
        let brand = (r >> 40) % BRANDS as u64;
        let _ = write!(
            out,
            r#"{{"sku":"P{i:07}","categories":["t{}-{}"],"brand":"B{brand}","attrs":{{"color":"{color}","voltage":{volt},"length_mm":{length}}}"#,
            leaf / LEAVES_PER_TOP,
            leaf % LEAVES_PER_TOP
        );
        if i % 4 != 3 {
            let _ = write!(
                out,
                r#","family":"F{}","axes":{{"color":"{color}"}}"#,
                i / 4
            );
        }
        out.push_str("},");
    }
    out.pop();
    out.push_str(r#"],"segments":["#);
    for s in 0..SEGMENTS {
        let _ = write!(out, r#"{{"id":"s{s}"}},"#);
    }
    out.pop();
    out.push_str(r#"],"accounts":["#);
    for s in 0..SEGMENTS {
        let _ = write!(out, r#"{{"id":"C{s}","segments":["s{s}"]}},"#);
    }
    out.pop();
    out.push_str(r#"],"contracts":["#);
    // Each segment sees 6 of the 10 top categories (~60 %), and may not buy one brand.
    for s in 0..SEGMENTS {
        let _ = write!(
            out,
            r#"{{"id":"k{s}","audience":{{"segments":["s{s}"]}},"visibility":["#
        );
        for k in 0..6 {
            let _ = write!(
                out,
                r#"{{"effect":"allow","products":{{"category":"t{}"}}}},"#,
                (s + k) % TOP
            );
        }
        let _ = write!(
            out,
            r#"{{"effect":"deny","products":{{"brand":"B{s}"}},"capabilities":["buy"]}}]}},"#
        );
    }
    out.pop();
    out.push_str("]}");
    out
}

fn search(c: &mut Criterion) {
    let count = products();
    let started = Clock::now();
    let text = document(count);
    let engine = Engine::from_json(&text).expect("the generated catalog compiles");
    drop(text);
    eprintln!(
        "search bench: {count} products generated and compiled in {:.1?}",
        started.elapsed()
    );
    let at = Instant::parse_rfc3339("2026-06-01T10:00:00Z").expect("valid instant");
    let cold = Clock::now();
    let all = engine
        .search("C0", &SearchQuery::new(), Some(at))
        .expect("search");
    eprintln!(
        "search bench: C0 sees {} of {count} ({:.0} %); first search, visible set built: {:.1?}",
        all.total,
        100.0 * all.total as f64 / count as f64,
        cold.elapsed()
    );
    for s in 1..SEGMENTS {
        // Warm every assortment's visible set, as a running shop would have.
        let _ = engine.search(&format!("C{s}"), &SearchQuery::new(), Some(at));
    }

    let filtered = SearchQuery::new()
        .filter(Filter::any_of("color", ["red", "blue"]))
        .filter(Filter::range("voltage", Some(12.into()), Some(36.into())))
        .filter(Filter::Category(vec!["t2".into()]));
    let mut i = 0usize;
    let mut account = || {
        i += 1;
        format!("C{}", i % SEGMENTS)
    };
    let mut group = c.benchmark_group(format!("search/{count}"));
    group.bench_function("first page, no filter", |b| {
        b.iter(|| black_box(engine.search(&account(), &SearchQuery::new(), Some(at))))
    });
    group.bench_function("first page, 3 filters", |b| {
        b.iter(|| black_box(engine.search(&account(), &filtered, Some(at))))
    });
    // 2,800 combinations of leaf category and colour pair, far more than the engine caches:
    // what a query costs the first time its filters are seen.
    let mut n = 0usize;
    let mut fresh = || {
        n += 1;
        let (a, b) = (n % COLORS.len(), (n / COLORS.len()) % COLORS.len());
        let leaf = n % (TOP * LEAVES_PER_TOP);
        SearchQuery::new()
            .filter(Filter::any_of(
                "color",
                [COLORS[a], COLORS[(a + b + 1) % COLORS.len()]],
            ))
            .filter(Filter::range("voltage", Some(12.into()), Some(36.into())))
            .filter(Filter::Category(vec![format!(
                "t{}-{}",
                leaf / LEAVES_PER_TOP,
                leaf % LEAVES_PER_TOP
            )]))
    };
    group.bench_function("first page, 3 filters, new filters each time", |b| {
        b.iter(|| black_box(engine.search(&account(), &fresh(), Some(at))))
    });
    let buy = filtered.clone().capability(Capability::Buy);
    group.bench_function("first page, 3 filters, buy", |b| {
        b.iter(|| black_box(engine.search(&account(), &buy, Some(at))))
    });
    let sorted = filtered.clone().sort(Sort::Attr {
        name: "length_mm".into(),
        descending: true,
    });
    group.bench_function("first page, 3 filters, by length desc", |b| {
        b.iter(|| black_box(engine.search(&account(), &sorted, Some(at))))
    });
    let grouped = filtered.clone().group_variants(true);
    group.bench_function("first page, 3 filters, variants grouped", |b| {
        b.iter(|| black_box(engine.search(&account(), &grouped, Some(at))))
    });
    let text = SearchQuery::new().text("P00123");
    group.bench_function("first page, sku prefix", |b| {
        b.iter(|| black_box(engine.search(&account(), &text, Some(at))))
    });
    // A facet whose own filter is set: counted over a second intersection without it.
    let color = filtered.clone().facet(Facet::attr("color")).page(0, 0);
    group.bench_function("facet color (own filter left out), 3 filters", |b| {
        b.iter(|| black_box(engine.search(&account(), &color, Some(at))))
    });
    let brand = filtered.clone().facet(Facet::Brand).page(0, 0);
    group.bench_function("facet brand (40 values), 3 filters", |b| {
        b.iter(|| black_box(engine.search(&account(), &brand, Some(at))))
    });
    let priced = filtered.clone().prices(1.into());
    group.bench_function("first page, 3 filters, priced", |b| {
        b.iter(|| black_box(engine.search(&account(), &priced, Some(at))))
    });
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
