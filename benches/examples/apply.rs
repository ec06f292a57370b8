//! Times `Engine::apply` next to a full compile of the same document: one pricing rule edited,
//! and 10,000 price entries upserted; then `Engine::diff` of the second change; then stock:
//! a record for every tenth product loaded by one change, and 1,000 of them updated.
//!
//! ```sh
//! cargo run --release -p tarif-benches --example apply -- bench-data/reference/rules.json 3
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use serde_json::{json, Value};
use tarif::{CompileOptions, Engine};

tarif_allocator::jemalloc!();

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs.get(runs.len() / 2).copied().unwrap_or_default()
}

fn timed<T>(repeat: usize, mut work: impl FnMut() -> T) -> (Duration, T) {
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        let value = work();
        runs.push(started.elapsed());
        // The previous run's result is dropped after the clock stops: freeing it is not part
        // of the work timed.
        last = Some(value);
    }
    (median(runs), last.expect("at least one run"))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: apply RULES.json [REPEAT]");
    let repeat: usize = args.next().map_or(3, |r| r.parse().expect("a number"));
    let text = std::fs::read_to_string(&path).expect("readable rules");
    let options = CompileOptions::default();

    let (compile, engine) = timed(repeat, || {
        Engine::compile(&text, &options).expect("compiles").engine
    });
    println!(
        "document {} MB, {} products",
        text.len() / 1_000_000,
        engine.skus().len()
    );
    println!(
        "compile                      {:>10.1} ms",
        compile.as_secs_f64() * 1e3
    );

    let top: BTreeMap<String, &RawValue> = serde_json::from_str(&text).expect("an object");
    let contracts: Vec<Value> = serde_json::from_str(top["contracts"].get()).expect("contracts");
    let (contract, mut rule) = contracts
        .iter()
        .find_map(|c| {
            let rule = c
                .get("rules")?
                .as_array()?
                .iter()
                .find(|r| r.get("percent").is_some())?;
            Some((c["id"].as_str()?.to_string(), rule.clone()))
        })
        .expect("a contract with a percent rule");
    rule["contract"] = json!(contract);
    let rule_change = |percent: String| {
        let mut rule = rule.clone();
        rule["percent"] = json!(percent);
        json!({"format": "tarif/1-changes", "upsert": {"rules": [rule]}}).to_string()
    };

    let lists: Vec<Box<RawValue>> = serde_json::from_str(top["price_lists"].get()).expect("lists");
    let first: Value = serde_json::from_str(lists[0].get()).expect("a list");
    let list_id = first["id"].as_str().expect("an id").to_string();
    let entries: Vec<Value> = first["prices"]
        .as_array()
        .expect("prices")
        .iter()
        .take(10_000)
        .map(|e| {
            let mut e = e.clone();
            e["list"] = json!(list_id);
            if let Some(price) = e.get("price").and_then(Value::as_str) {
                let raised: rust_decimal::Decimal = price.parse().expect("a decimal");
                e["price"] = json!((raised * rust_decimal::Decimal::new(101, 2))
                    .round_dp(2)
                    .to_string());
            }
            e
        })
        .collect();
    let count = entries.len();
    let many_prices =
        json!({"format": "tarif/1-changes", "upsert": {"prices": entries}}).to_string();
    drop(contracts);
    drop(first);
    drop(lists);

    // The first change of rules parses the contracts; the engine it gives keeps them parsed,
    // as an ERP sync loop applies each change to the engine the last one gave.
    let started = Instant::now();
    let mut current = engine
        .apply(&rule_change("-12.5".into()), &options)
        .expect("applies")
        .engine;
    let first = started.elapsed();
    let (rule_diff, rule_changes) = timed(repeat, || engine.diff(&current).expect("sources"));
    let mut runs = Vec::new();
    for step in 0..repeat.max(1) {
        let change = rule_change(format!("-{}", 13 + step));
        let started = Instant::now();
        let next = current.apply(&change, &options).expect("applies").engine;
        runs.push(started.elapsed());
        current = next;
    }
    drop(current);
    // An engine opened from a snapshot finds where its contracts are, and parses them, at its
    // first change of rules.
    let snapshot = std::env::temp_dir().join(format!("tarif-apply-{}.tarif", std::process::id()));
    engine.save(&snapshot).expect("saves");
    let opened = Engine::open(&snapshot).expect("opens");
    let _ = std::fs::remove_file(&snapshot);
    let started = Instant::now();
    let after_open = opened
        .apply(&rule_change("-12.5".into()), &options)
        .expect("applies");
    let first_opened = started.elapsed();
    drop(after_open);
    drop(opened);
    println!(
        "apply: one rule edited, first {:>9.1} ms",
        first.as_secs_f64() * 1e3
    );
    println!(
        "apply: one rule edited, first after a snapshot open {:>5.1} ms",
        first_opened.as_secs_f64() * 1e3
    );
    println!(
        "diff of one rule edited       {:>9.1} ms ({} entities)",
        rule_diff.as_secs_f64() * 1e3,
        rule_changes.changes.len()
    );
    println!(
        "apply: one rule edited, next  {:>9.1} ms (each to the engine the last one gave)",
        median(runs).as_secs_f64() * 1e3
    );
    let (many, next) = timed(repeat, || {
        engine
            .apply(&many_prices, &options)
            .expect("applies")
            .engine
    });
    println!(
        "apply: {count} entries upserted {:>8.1} ms",
        many.as_secs_f64() * 1e3
    );
    let (diff, changes) = timed(repeat, || engine.diff(&next).expect("sources"));
    println!(
        "diff of that change          {:>10.1} ms ({} entities)",
        diff.as_secs_f64() * 1e3,
        changes.changes.len()
    );
    drop(next);

    let tracked: Vec<String> = engine.skus().step_by(10).map(str::to_string).collect();
    let records = |skus: &[String], shift: usize| -> String {
        let stock: Vec<Value> = skus
            .iter()
            .enumerate()
            .map(|(i, sku)| {
                json!({"sku": sku, "available": ((i + shift) % 7).to_string(), "lead_time_days": 3})
            })
            .collect();
        json!({"format": "tarif/1-changes", "upsert": {"stock": stock}}).to_string()
    };
    let load = records(&tracked, 0);
    let (loaded, stocked) = timed(repeat, || {
        engine.apply(&load, &options).expect("applies").engine
    });
    println!(
        "apply: {} stock records loaded {:>7.1} ms",
        tracked.len(),
        loaded.as_secs_f64() * 1e3
    );
    let first = tracked.get(..1_000).unwrap_or(&tracked);
    let update = records(first, 1);
    let (updated, _) = timed(repeat, || {
        stocked.apply(&update, &options).expect("applies").engine
    });
    println!(
        "apply: {} stock updates       {:>10.1} ms",
        first.len(),
        updated.as_secs_f64() * 1e3
    );
}
