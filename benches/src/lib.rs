//! Benchmark support: the requests the benches ask, drawn from the embedded sample document.

use rust_decimal::Decimal;
use tarif::Engine;

/// A fixed set of (account, sku, quantity) rows over every account and a spread of products.
pub fn sample_rows(engine: &Engine, rows: usize) -> Vec<(String, String, Decimal)> {
    let accounts: Vec<&str> = engine.accounts().collect();
    let skus: Vec<&str> = engine.skus().collect();
    (0..rows)
        .filter_map(|i| {
            let account = accounts.get(i % accounts.len().max(1))?;
            let sku = skus.get((i * 7919) % skus.len().max(1))?;
            Some((account.to_string(), sku.to_string(), Decimal::from(1 + (i % 12) as i64)))
        })
        .collect()
}
