//! Single-line queries on the embedded sample document: quote, visibility, lookup, explain-free
//! batch. The reference-scale benches (`engine`, on the generated data set) build on the same shape.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tarif::{BatchAt, Engine, Instant, QuoteRequest};
use tarif_benches::sample_rows;

fn engine() -> Engine {
    Engine::from_json(&tarif_sample::distributor_json()).expect("the sample document compiles")
}

fn single_line(c: &mut Criterion) {
    let engine = engine();
    let at = Instant::parse_rfc3339("2026-06-01T10:00:00Z").expect("valid instant");
    let rows = sample_rows(&engine, 1024);
    let mut i = 0usize;
    c.bench_function("quote/sample/one line", |b| {
        b.iter(|| {
            let (account, sku, qty) = &rows[i % rows.len()];
            i += 1;
            black_box(
                engine
                    .quote(&QuoteRequest::new(account, sku, *qty).at(at))
                    .ok(),
            );
        })
    });
    c.bench_function("visibility/sample/one product", |b| {
        b.iter(|| {
            let (account, sku, _) = &rows[i % rows.len()];
            i += 1;
            black_box(engine.visibility(account, sku, Some(at)).ok());
        })
    });
    c.bench_function("lookup/sample/sku", |b| {
        b.iter(|| {
            let (account, sku, _) = &rows[i % rows.len()];
            i += 1;
            black_box(engine.lookup_at(account, sku, at).ok());
        })
    });
    let batch = sample_rows(&engine, 100_000);
    let accounts: Vec<&str> = batch.iter().map(|r| r.0.as_str()).collect();
    let skus: Vec<&str> = batch.iter().map(|r| r.1.as_str()).collect();
    let qtys: Vec<_> = batch.iter().map(|r| r.2).collect();
    let mut group = c.benchmark_group("quote_many/sample");
    group.throughput(criterion::Throughput::Elements(batch.len() as u64));
    group.sample_size(10);
    group.bench_function("100k lines", |b| {
        b.iter(|| black_box(engine.quote_many(&accounts, &skus, &qtys, BatchAt::One(at), None)))
    });
    group.finish();
}

criterion_group!(benches, single_line);
criterion_main!(benches);
