//! The JSON document of the README compiles, and prices as the README says it does.

use tarif::{Engine, QuoteRequest};

const README: &str = include_str!("../../../README.md");

fn readme_document() -> &'static str {
    let start = README.find("```json\n").map(|i| i + "```json\n".len());
    let block = start.and_then(|s| README.get(s..));
    let end = block.and_then(|b| b.find("```"));
    block
        .zip(end)
        .and_then(|(b, e)| b.get(..e))
        .expect("the README has a ```json block")
}

#[test]
fn the_readme_document_prices_as_described() {
    let engine = Engine::from_json(readme_document()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        engine.diagnostics().is_empty(),
        "{:?}",
        engine.diagnostics()
    );
    let at = engine.parse_instant("2026-06-01").expect("a date");

    let quote = engine
        .quote(&QuoteRequest::new("ACME-LYON", "ACME-4711", 10.into()).at(at))
        .expect("a price");
    assert_eq!(quote.sku, "DR-18V-01");
    assert_eq!(quote.base_price.to_string(), "119.00");
    assert_eq!(quote.unit_price.to_string(), "104.13");
    assert_eq!(quote.line_total.to_string(), "1041.30");

    let screws = engine
        .visibility("ACME-LYON", "SCREW-4x40", Some(at))
        .expect("known");
    assert!(screws.see && screws.price && !screws.buy);
}
