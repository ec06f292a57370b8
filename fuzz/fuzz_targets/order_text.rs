//! Arbitrary pasted or uploaded order text against the orders fixture document: reading it never
//! panics, every line is a product or a coded error, the lines that resolve price as an order,
//! and the same text reads the same twice.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tarif::{Engine, Instant, Order, TextOptions};

fn engine() -> Option<&'static Engine> {
    static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let fixture: serde_json::Value =
                serde_json::from_str(include_str!("../../tests/fixtures/orders/orders.json")).ok()?;
            Engine::from_json(&fixture.get("document")?.to_string()).ok()
        })
        .as_ref()
}

#[derive(Debug, Arbitrary)]
struct Input {
    account: u8,
    merge_duplicates: bool,
    text: String,
}

fuzz_target!(|input: Input| {
    let Some(engine) = engine() else {
        return;
    };
    let accounts: Vec<&str> = engine.accounts().collect();
    let Some(account) = accounts.get(usize::from(input.account) % accounts.len().max(1)) else {
        return;
    };
    let options = || TextOptions {
        merge_duplicates: input.merge_duplicates,
        at: Some(Instant::from_unix_seconds(1_800_000_000)),
    };
    let first = engine.parse_order_lines(account, &input.text, options());
    let again = engine.parse_order_lines(account, &input.text, options());
    assert_eq!(first, again, "the same text read twice differently");
    let Ok(parsed) = first else {
        return;
    };
    for line in &parsed.lines {
        assert!(
            line.error.is_some() || (line.sku.is_some() && line.qty.is_some()),
            "a line with neither a product nor an error: {line:?}"
        );
    }
    let lines = parsed.order_lines();
    let resolved = lines.len();
    let order = Order::new(account, lines).at(Instant::from_unix_seconds(1_800_000_000));
    if let Ok(priced) = engine.price_order(&order) {
        assert_eq!(priced.lines.len(), resolved);
    }
});
