//! Quick order on the embedded sample document: a 1,000-line CSV upload read, resolved for the
//! account and priced as one order (target: ≤ 5 ms), and the two halves apart.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tarif::{Engine, Instant, Order, TextOptions};

const LINES: usize = 1000;

fn engine() -> Engine {
    Engine::from_json(&tarif_sample::distributor_json()).expect("the sample document compiles")
}

/// A French CSV upload: header, `;`, decimal commas on some lines, a few duplicates.
fn upload(engine: &Engine) -> String {
    let skus: Vec<&str> = engine.skus().collect();
    let mut text = String::from("\u{feff}Référence;Quantité\n");
    for i in 0..LINES {
        let sku = skus[(i * 7919) % skus.len()];
        let qty = if i % 5 == 0 {
            "2,5".to_string()
        } else {
            (1 + i % 12).to_string()
        };
        text.push_str(&format!("{sku};{qty}\n"));
    }
    text
}

fn quick_order(c: &mut Criterion) {
    let engine = engine();
    let at = Instant::parse_rfc3339("2026-06-01T10:00:00Z").expect("valid instant");
    let account = engine
        .accounts()
        .nth(3)
        .expect("the sample has accounts")
        .to_string();
    let text = upload(&engine);
    let options = TextOptions {
        at: Some(at),
        ..TextOptions::default()
    };
    c.bench_function("orders/sample/parse 1000-line csv", |b| {
        b.iter(|| black_box(engine.parse_order_lines(&account, &text, options).ok()))
    });
    let parsed = engine
        .parse_order_lines(&account, &text, options)
        .expect("the upload reads");
    let lines = parsed.order_lines();
    c.bench_function("orders/sample/price 1000-line order", |b| {
        b.iter(|| {
            let order = Order::new(&account, lines.clone()).at(at);
            black_box(engine.price_order(&order).ok())
        })
    });
    c.bench_function("orders/sample/parse and price 1000-line csv", |b| {
        b.iter(|| {
            let parsed = engine.parse_order_lines(&account, &text, options).ok()?;
            let order = Order::new(&account, parsed.order_lines()).at(at);
            black_box(engine.price_order(&order).ok())
        })
    });
}

criterion_group!(benches, quick_order);
criterion_main!(benches);
