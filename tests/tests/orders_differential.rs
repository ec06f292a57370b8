//! Orders on random documents: an order's lines are the lines quoted one by one (no cross-line
//! rule exists yet), and the engine's order equals the reference evaluator's.

mod common;

use proptest::prelude::*;
use serde_json::{json, Value};
use tarif::{Engine, Order, OrderLine, QueryError, QuoteRequest};
use tarif_conformance::orders::{engine_order, reference_order};
use tarif_reference::Reference;

fn check_orders(seed: u64) -> Result<(), TestCaseError> {
    let text = common::document(seed).to_string();
    let engine = Engine::from_json(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let reference =
        Reference::from_json(&text).ok_or_else(|| TestCaseError::fail("reference rejected"))?;
    let mut rng = common::Rng::new(seed ^ 0x5eed_0bde);
    for _ in 0..4 {
        let (account, _, _, at, currency) = common::request(&mut rng);
        let lines: Vec<(String, String)> = (0..rng.below(12))
            .map(|_| {
                let (_, reference, qty, _, _) = common::request(&mut rng);
                (reference, qty)
            })
            .collect();
        let case = json!({
            "account": account, "at": at, "currency": currency,
            "lines": lines.iter().map(|(r, q)| json!({"ref": r, "qty": q})).collect::<Vec<Value>>(),
        });
        let context = || format!("seed {seed}: {case}\n{text}");
        let engine_answer = engine_order(&engine, &case).map_err(TestCaseError::fail)?;
        let reference_answer = reference_order(&reference, &case).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&engine_answer, &reference_answer, "{}", context());

        let at = engine
            .parse_instant(&at)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let quantities: Vec<_> = lines
            .iter()
            .map(|(_, q)| q.parse().unwrap_or_default())
            .collect();
        let order_lines = lines
            .iter()
            .zip(&quantities)
            .map(|((r, _), q)| OrderLine::new(r, *q))
            .collect();
        let mut order = Order::new(&account, order_lines).at(at);
        order.currency = currency.as_deref();
        let Ok(priced) = engine.price_order(&order) else {
            continue;
        };
        for ((reference_text, _), (qty, line)) in
            lines.iter().zip(quantities.iter().zip(&priced.lines))
        {
            let mut request = QuoteRequest::new(&account, reference_text, *qty).at(at);
            request.currency = currency.as_deref();
            let alone = engine.quote(&request).and_then(|q| {
                if q.buyable {
                    Ok(q)
                } else {
                    Err(QueryError::NotBuyable(q.sku.to_string()))
                }
            });
            prop_assert_eq!(line, &alone, "{}", context());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn an_order_is_its_lines_and_agrees_with_the_reference(seed in any::<u64>()) {
        check_orders(seed)?;
    }
}
