//! Any byte string given to the compiler: a diagnostic or an engine, never a panic; and an
//! engine answers a quote for its own first account and SKU without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tarif::{CompileOptions, Decimal, Engine, QuoteRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let strict = CompileOptions {
        strict: true,
        ..CompileOptions::default()
    };
    let _ = Engine::compile(text, &strict);
    if let Ok(engine) = Engine::from_json(text) {
        let account = engine.accounts().next().unwrap_or("").to_string();
        let sku = engine.skus().next().unwrap_or("").to_string();
        let _ = engine.quote(&QuoteRequest::new(&account, &sku, Decimal::ONE));
        let _ = engine.visibility(&account, &sku, None);
    }
});
