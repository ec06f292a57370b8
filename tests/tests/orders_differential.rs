//! Orders on random documents, with and without order conditions, users, approval rules and
//! tier bases: the engine's order, its approval decision included, equals the reference
//! evaluator's; the adjustments and allocations add up; an order's lines are the lines quoted
//! one by one whenever no rule or entry reads quantities across lines, and a one-line order is
//! its line quoted alone whatever the tier bases.

mod common;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tarif::{Engine, Order, OrderKind, OrderLine, QueryError, QuoteRequest};
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

/// A random amount in cents, as text.
fn money(rng: &mut common::Rng, below: u64) -> String {
    format!("{}.{:02}", rng.below(below), rng.below(100))
}

/// Order conditions of every kind for some of the document's contracts (none for about a
/// third of the documents, so that plain orders are checked too).
fn add_order_conditions(doc: &mut Value, rng: &mut common::Rng) {
    if rng.chance(33) {
        return;
    }
    let Some(contracts) = doc.get_mut("contracts").and_then(Value::as_array_mut) else {
        return;
    };
    for contract in contracts {
        let mut conditions = Vec::new();
        for k in 0..rng.below(4) {
            let mut c = match rng.below(3) {
                0 => {
                    let mut c = json!({"kind": "order_discount", "min_subtotal": money(rng, 300)});
                    if rng.chance(50) {
                        c["percent"] = json!(format!("{}", rng.below(30) + 1));
                    } else {
                        c["amount"] = json!(format!("{}.{:02}", rng.below(80) + 1, rng.below(100)));
                    }
                    if rng.chance(70) {
                        c["leftover"] = json!(*rng.pick(&["first", "last", "largest"]));
                    }
                    c
                }
                1 => {
                    let mut c = json!({"kind": "minimum_order", "min_subtotal": format!("{}.00", rng.below(60) + 1)});
                    if rng.chance(70) {
                        c["surcharge"] = json!(format!("{}.50", rng.below(9) + 1));
                    }
                    c
                }
                _ => {
                    let mut c = json!({"kind": "shipping", "charge": money(rng, 20)});
                    if rng.chance(70) {
                        c["free_from"] = json!(format!("{}.00", rng.below(200) + 1));
                    }
                    c
                }
            };
            c["id"] = json!(format!("o{k}"));
            if rng.chance(30) {
                c["priority"] = json!(rng.below(3));
            }
            if rng.chance(15) {
                c["currency"] = json!("JPY");
            }
            if rng.chance(15) {
                c["valid"] = json!({"from": *rng.pick(&["2025-01-01", "2026-06-01"])});
            }
            conditions.push(c);
        }
        contract["order_conditions"] = json!(conditions);
    }
}

const BASES: [&str; 4] = ["line", "family", "category", "order"];

/// Random `tier_basis` on the lists, entries and rules of half the documents; whether any
/// reads quantities across lines.
fn add_tier_bases(doc: &mut Value, rng: &mut common::Rng) -> bool {
    if rng.chance(50) {
        return false;
    }
    let mut across = false;
    let mut basis = |rng: &mut common::Rng, obj: &mut Value, share: u64| {
        if rng.chance(share) {
            let b = *rng.pick(&BASES);
            across |= b != "line";
            obj["tier_basis"] = json!(b);
        }
    };
    for list in doc["price_lists"].as_array_mut().into_iter().flatten() {
        basis(rng, list, 20);
        for entry in list["prices"].as_array_mut().into_iter().flatten() {
            basis(rng, entry, 30);
        }
    }
    for contract in doc["contracts"].as_array_mut().into_iter().flatten() {
        for rule in contract["rules"].as_array_mut().into_iter().flatten() {
            basis(rng, rule, 30);
            // A quantity range makes the basis matter to rules without tiers; at most 20, the
            // least `max_qty` the generator writes, so that the range stays valid.
            if rule.get("tier_basis").is_some() && rule.get("min_qty").is_none() && rng.chance(50) {
                rule["min_qty"] = json!(rng.below(19) + 2);
            }
        }
    }
    across
}

fn check_orders(seed: u64) -> Result<(), TestCaseError> {
    let mut doc = common::document(seed);
    let across = add_tier_bases(&mut doc, &mut common::Rng::new(seed ^ 0x7135_ba5e));
    let users = add_approvals(&mut doc, &mut common::Rng::new(seed ^ 0x0a99_0a15));
    add_order_conditions(&mut doc, &mut common::Rng::new(seed ^ 0x0c0d_1710));
    let text = doc.to_string();
    let engine = Engine::from_json(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let reference =
        Reference::from_json(&text).ok_or_else(|| TestCaseError::fail("reference rejected"))?;
    let mut rng = common::Rng::new(seed ^ 0x5eed_0bde);
    for _ in 0..4 {
        let (account, _, _, at, currency) = common::request(&mut rng);
        let lines: Vec<(String, String, Option<&str>)> = (0..rng.below(12))
            .map(|_| {
                let (_, reference, qty, _, _) = common::request(&mut rng);
                let ship_to = [None, Some("north"), Some("south")][rng.below(3) as usize];
                (reference, qty, ship_to)
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
            "lines": lines.iter().map(|(r, q, s)| {
                let cost_centre = rng.chance(60).then(|| *rng.pick(&COST_CENTRES));
                json!({"ref": r, "qty": q, "ship_to": s, "cost_centre": cost_centre})
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
            .map(|(_, q, _)| q.parse().unwrap_or_default())
            .collect();
        let order_lines = lines
            .iter()
            .zip(&quantities)
            .map(|((r, _, ship_to), q)| OrderLine {
                ship_to: *ship_to,
                ..OrderLine::new(r, *q)
            })
            .collect();
        let mut order = Order::new(&account, order_lines).at(at);
        order.currency = currency.as_deref();
        let Ok(priced) = engine.price_order(&order) else {
            continue;
        };
        let adjusted = priced
            .adjustments
            .iter()
            .fold(priced.subtotal, |sum, a| sum + a.amount);
        prop_assert_eq!(adjusted, priced.total, "{}", context());
        let discount: Decimal = priced
            .adjustments
            .iter()
            .filter(|a| a.kind == OrderKind::OrderDiscount)
            .map(|a| -a.amount)
            .sum();
        prop_assert_eq!(
            priced.allocated.iter().copied().sum::<Decimal>(),
            discount,
            "{}",
            context()
        );
        for (share, line) in priced.allocated.iter().zip(&priced.lines) {
            let total = line.as_ref().map_or(Decimal::ZERO, |q| q.line_total);
            prop_assert!(*share >= Decimal::ZERO && *share <= total, "{}", context());
        }
        for ((reference_text, _, _), (qty, line)) in
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
            if !across {
                prop_assert_eq!(line, &alone, "{}", context());
            }
            let mut single =
                Order::new(&account, vec![OrderLine::new(reference_text, *qty)]).at(at);
            single.currency = currency.as_deref();
            if let Ok(one) = engine.price_order(&single) {
                prop_assert_eq!(
                    one.lines.first(),
                    Some(&alone),
                    "one-line order\n{}",
                    context()
                );
            }
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
