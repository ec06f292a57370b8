//! Differential tests: the indexed engine against the naive reference evaluator, on random
//! documents and requests. Prices, errors, applied rule ids, visibility and lookups must agree.

mod common;

use proptest::prelude::*;
use rust_decimal::Decimal;
use tarif::{Engine, QuoteRequest};
use tarif_conformance::explain;
use tarif_reference::Reference;

/// Requests asked of each random document (documents × requests ≥ 10,000 per run).
const REQUESTS_PER_DOCUMENT: usize = 25;

fn check_document(seed: u64) -> Result<(), TestCaseError> {
    let mut doc = common::document(seed);
    // Stock for some products: in stock, out of stock, per warehouse with or without lead times.
    let mut stock_rng = common::Rng::new(seed ^ 0x0057_0C4B);
    let mut stock = Vec::new();
    for p in doc["products"].as_array().cloned().unwrap_or_default() {
        let sku = p["sku"].clone();
        match stock_rng.below(3) {
            0 => {}
            1 => stock.push(serde_json::json!({"sku": sku,
                "available": stock_rng.pick(&["0", "1", "2.5", "40"]), "lead_time_days": stock_rng.below(5)})),
            _ => stock.push(serde_json::json!({"sku": sku, "lead_time_days": 8, "warehouses": [
                {"id": "A", "available": stock_rng.pick(&["0", "3"])},
                {"id": "B", "available": stock_rng.pick(&["0", "0.5"]), "lead_time_days": stock_rng.below(5)}]})),
        }
    }
    doc["stock"] = serde_json::Value::Array(stock);
    let text = doc.to_string();
    let engine = match Engine::from_json(&text) {
        Ok(e) => e,
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "seed {seed}: generated document rejected: {e}"
            )))
        }
    };
    let reference =
        Reference::from_json(&text).ok_or_else(|| TestCaseError::fail("reference rejected"))?;
    let mut rng = common::Rng::new(seed.wrapping_mul(31).wrapping_add(7));
    for _ in 0..REQUESTS_PER_DOCUMENT {
        let (account, reference_text, qty, at, currency) = common::request(&mut rng);
        let qty: Decimal = qty.parse().map_err(|_| TestCaseError::fail("qty"))?;
        let at = engine
            .parse_instant(&at)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut request = QuoteRequest::new(&account, &reference_text, qty).at(at);
        if let Some(c) = &currency {
            request = request.currency(c);
        }
        let context = || {
            format!(
                "seed {seed}: {account} {reference_text} × {qty} at {at} in {currency:?}\n{text}"
            )
        };
        let got = engine.quote(&request);
        let want = reference.quote(&account, &reference_text, qty, at, currency.as_deref());
        match (&got, &want) {
            (Ok(q), Ok(r)) => {
                let applied: Vec<String> = q.steps.iter().map(|s| s.rule.to_string()).collect();
                prop_assert_eq!(
                    (
                        q.unit_price.to_string(),
                        q.line_total.to_string(),
                        q.base_price.to_string()
                    ),
                    (
                        r.unit_price.to_string(),
                        r.line_total.to_string(),
                        r.base_price.to_string()
                    ),
                    "{}",
                    context()
                );
                prop_assert_eq!(
                    q.list_price.map(|d| d.to_string()),
                    r.list_price.map(|d| d.to_string()),
                    "{}",
                    context()
                );
                prop_assert_eq!(q.buyable, r.buyable, "{}", context());
                prop_assert_eq!(&applied, &r.applied, "{}", context());
                prop_assert_eq!(
                    q.stock.map(|s| (
                        s.available.to_string(),
                        s.backorder.to_string(),
                        s.lead_time_days
                    )),
                    r.stock.as_ref().map(|s| (
                        s.available.to_string(),
                        s.backorder.to_string(),
                        s.lead_time_days
                    )),
                    "{}",
                    context()
                );
                // `explain` tells the same story as the reference, step by step.
                let explained = engine
                    .explain(&request)
                    .map_err(|e| TestCaseError::fail(format!("explain: {e}\n{}", context())))?;
                let steps = explain::steps(&explained);
                let want = explain::reference_steps(&r.steps);
                prop_assert_eq!(&steps, &want, "{}", context());
            }
            (Err(e), Err(code)) => prop_assert_eq!(e.code(), *code, "{}", context()),
            _ => prop_assert!(
                false,
                "engine {:?} vs reference {:?}\n{}",
                got,
                want,
                context()
            ),
        }
        let vis = engine
            .visibility(&account, &reference_text, Some(at))
            .map(|c| (c.see, c.price, c.buy));
        let ref_vis = reference
            .visibility(&account, &reference_text, at)
            .map(|c| (c.see, c.price, c.buy));
        prop_assert_eq!(vis.map_err(|e| e.code()), ref_vis, "{}", context());
        let found = engine
            .lookup_at(&account, &reference_text, at)
            .map(str::to_string);
        prop_assert_eq!(
            found.map_err(|e| e.code()),
            reference.lookup(&account, &reference_text, at),
            "{}",
            context()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 420, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_reference(seed in any::<u64>()) {
        check_document(seed)?;
    }
}

/// Documents on which the engine and the reference once disagreed.
#[test]
fn engine_agrees_with_reference_on_past_failures() {
    for seed in [10_676_452_686_969_397_673] {
        if let Err(failure) = check_document(seed) {
            panic!("{failure}");
        }
    }
}
