//! Orders on random documents: an order's lines are the lines quoted one by one (no cross-line
//! rule exists yet), and the engine's order, its approval decision included, equals the
//! reference evaluator's.

mod common;

use proptest::prelude::*;
use serde_json::{json, Value};
use tarif::{Engine, Order, OrderLine, QueryError, QuoteRequest};
use tarif_conformance::orders::{engine_order, reference_order};
use tarif_reference::Reference;

const ROLES: [&str; 5] = ["buyer", "approver", "viewer", "admin", "controller"];
const COST_CENTRES: [&str; 2] = ["CC-A", "CC-B"];

/// Random users and approval rules on the accounts of [`common::document`]: rule ids drawn from
/// a small pool so that subsidiaries override their parents' rules. Returns every user id.
fn add_approvals(doc: &mut Value, rng: &mut common::Rng) -> Vec<String> {
    let mut all_users = Vec::new();
    let Some(accounts) = doc["accounts"].as_array_mut() else {
        return all_users;
    };
    for account in accounts {
        let id = account["id"].as_str().unwrap_or_default().to_string();
        let mut users = Vec::new();
        for k in 0..rng.below(3) {
            let user = format!("{id}-u{k}");
            let mut entry = json!({"id": user, "roles": [rng.pick(&ROLES)]});
            if rng.chance(50) {
                entry["limit"] = json!(rng.money(300));
            }
            users.push(entry);
            all_users.push(user);
        }
        let mut rules = Vec::new();
        for rule in ["r1", "r2", "r3"] {
            if !rng.chance(40) {
                continue;
            }
            let mut entry = match rng.below(3) {
                0 => json!({"id": rule, "kind": "total_above", "threshold": rng.money(400)}),
                1 => json!({"id": rule, "kind": "products", "products": [rng.pick(&common::SKUS)],
                            "categories": if rng.chance(50) { json!(["mid"]) } else { json!([]) }}),
                _ => json!({"id": rule, "kind": "cost_centre_budget",
                            "budgets": {"CC-A": rng.money(300), "CC-B": rng.money(300)}}),
            };
            match users.first() {
                Some(user) if rng.chance(50) => entry["users"] = json!([user["id"]]),
                _ => entry["role"] = json!(rng.pick(&["approver", "admin", "buyer"])),
            }
            rules.push(entry);
        }
        account["users"] = json!(users);
        account["approvals"] = json!(rules);
    }
    all_users
}

fn check_orders(seed: u64) -> Result<(), TestCaseError> {
    let mut doc = common::document(seed);
    let users = add_approvals(&mut doc, &mut common::Rng::new(seed ^ 0x0a99_0a15));
    let text = doc.to_string();
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
        let user = (!users.is_empty() && rng.chance(70)).then(|| rng.pick(&users).clone());
        let mut spent = serde_json::Map::new();
        for cc in COST_CENTRES {
            if rng.chance(50) {
                spent.insert(cc.to_string(), json!(rng.money(300)));
            }
        }
        let case = json!({
            "account": account, "at": at, "currency": currency, "user": user, "spent": spent,
            "lines": lines.iter().map(|(r, q)| {
                let cost_centre = rng.chance(60).then(|| *rng.pick(&COST_CENTRES));
                json!({"ref": r, "qty": q, "cost_centre": cost_centre})
            }).collect::<Vec<Value>>(),
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
