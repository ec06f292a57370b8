//! Scenario edits against hand-written changes: on random documents, a few convenience edits
//! (`Engine::with_edits`) give the engine that `apply` of the `tarif/1-changes` document written
//! here by hand on `serde_json::Value` gives (same `engine_version`, so the same merged
//! document and the same answers), and the base engine is left as it was.

mod common;

use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use tarif::{CompileOptions, Edit, Engine, Shift};

use common::Rng;

/// The rules of the document as (contract, rule).
fn rules(doc: &Value) -> Vec<(Value, Value)> {
    doc["contracts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |r| (c.clone(), r.clone()))
        })
        .collect()
}

fn with_contract(contract: &Value, rule: &Value) -> Value {
    let mut rule = rule.clone();
    rule["contract"] = contract["id"].clone();
    rule
}

/// `price × factor` rounded as spec §17.3 says, written independently of the core: the first
/// rounding policy of the list, its currency (none in these documents) and the settings.
fn scaled(doc: &Value, list: &Value, price: &str, factor: Decimal) -> String {
    let policy = list
        .get("rounding")
        .or_else(|| doc["settings"].get("rounding"));
    let mode = policy.and_then(|p| p["mode"].as_str()).unwrap_or("half_up");
    let scale = policy
        .and_then(|p| p["scale"].as_u64())
        .unwrap_or(if list["currency"] == "JPY" { 0 } else { 2 }) as u32;
    let strategy = match mode {
        "half_up" => RoundingStrategy::MidpointAwayFromZero,
        "half_even" => RoundingStrategy::MidpointNearestEven,
        "half_down" => RoundingStrategy::MidpointTowardZero,
        "up" => RoundingStrategy::AwayFromZero,
        _ => RoundingStrategy::ToZero,
    };
    let mut value =
        (price.parse::<Decimal>().unwrap() * factor).round_dp_with_strategy(scale, strategy);
    value.rescale(scale);
    value.to_string()
}

/// Up to three edits on distinct targets, and the changes document a person would write for
/// them.
fn edits(doc: &Value, rng: &mut Rng) -> (Vec<Edit>, Value) {
    let mut edits = Vec::new();
    let mut upsert_rules = Vec::new();
    let mut delete_rules = Vec::new();
    let mut upsert_contracts = Vec::new();
    let mut upsert_lists = Vec::new();
    let all = rules(doc);
    let mut used: Vec<(String, String)> = Vec::new();
    for _ in 0..if all.is_empty() { 0 } else { rng.below(3) + 1 } {
        let (contract, rule) = rng.pick(&all).clone();
        let (c, r) = (
            contract["id"].as_str().unwrap().to_string(),
            rule["id"].as_str().unwrap().to_string(),
        );
        if used.contains(&(c.clone(), r.clone()))
            || used.iter().any(|(uc, ur)| *uc == c && ur.is_empty())
        {
            continue;
        }
        match rng.below(7) {
            0 if rule.get("percent").is_some() => {
                let percent = rng.percent();
                edits.push(Edit::SetPercent {
                    contract: c.clone(),
                    rule: r.clone(),
                    percent: percent.parse().unwrap(),
                });
                let mut changed = with_contract(&contract, &rule);
                changed["percent"] = json!(percent);
                upsert_rules.push(changed);
            }
            1 if rule.get("price").is_some() => {
                let price = rng.money(100);
                edits.push(Edit::SetPrice {
                    contract: c.clone(),
                    rule: r.clone(),
                    price: price.parse().unwrap(),
                });
                let mut changed = with_contract(&contract, &rule);
                changed["price"] = json!(price);
                upsert_rules.push(changed);
            }
            2 => {
                edits.push(Edit::ShiftRule {
                    contract: c.clone(),
                    rule: r.clone(),
                    shift: Shift::To {
                        from: Some("2026-02-01".into()),
                        until: Some("2026-05-01T12:00:00Z".into()),
                    },
                });
                let mut changed = with_contract(&contract, &rule);
                changed["valid"] = json!({"from": "2026-02-01", "until": "2026-05-01T12:00:00Z"});
                upsert_rules.push(changed);
            }
            3 => {
                edits.push(Edit::RemoveRule {
                    contract: c.clone(),
                    rule: r.clone(),
                });
                delete_rules.push(json!({"contract": c, "id": r}));
            }
            4 => {
                let id = format!("added-{}", edits.len());
                let added = json!({"id": id, "step": "discount", "products": {"sku": "P1"}, "percent": "-3.5"});
                edits.push(Edit::AddRule {
                    contract: c.clone(),
                    rule: added.clone(),
                });
                upsert_rules.push(with_contract(&contract, &added));
                used.push((c.clone(), id));
            }
            5 if contract.get("valid").is_none() => {
                // Whole contracts: none of its rules is edited in this case.
                if used.iter().any(|(uc, _)| *uc == c) {
                    continue;
                }
                edits.push(Edit::ShiftContract {
                    contract: c.clone(),
                    shift: Shift::To {
                        from: Some("2026-01-15".into()),
                        until: None,
                    },
                });
                let mut header = contract.clone();
                header.as_object_mut().unwrap().remove("rules");
                header.as_object_mut().unwrap().remove("visibility");
                header["valid"] = json!({"from": "2026-01-15"});
                upsert_contracts.push(header);
                used.push((c.clone(), String::new()));
                continue;
            }
            6 if upsert_lists.is_empty() => {
                let lists = doc["price_lists"].as_array().unwrap();
                let list = rng.pick(lists).clone();
                let factor: Decimal = rng.pick(&["1.05", "0.9", "1.333", "2"]).parse().unwrap();
                edits.push(Edit::ScaleList {
                    list: list["id"].as_str().unwrap().into(),
                    factor,
                });
                let mut changed = list.clone();
                for entry in changed["prices"].as_array_mut().unwrap() {
                    if let Some(price) = entry["price"].as_str().map(str::to_string) {
                        entry["price"] = json!(scaled(doc, &list, &price, factor));
                    }
                    for tier in entry
                        .get_mut("tiers")
                        .and_then(Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        let price = tier["price"].as_str().unwrap().to_string();
                        tier["price"] = json!(scaled(doc, &list, &price, factor));
                    }
                }
                upsert_lists.push(changed);
            }
            _ => continue,
        }
        used.push((c, r));
    }
    let mut changes = json!({"format": "tarif/1-changes", "upsert": {}, "delete": {}});
    for (section, list) in [
        ("price_lists", upsert_lists),
        ("contracts", upsert_contracts),
        ("rules", upsert_rules),
    ] {
        if !list.is_empty() {
            changes["upsert"][section] = Value::Array(list);
        }
    }
    if !delete_rules.is_empty() {
        changes["delete"]["rules"] = Value::Array(delete_rules);
    }
    (edits, changes)
}

fn check(seed: u64) -> Result<usize, TestCaseError> {
    let doc = common::document(seed);
    let base = Engine::from_json(&doc.to_string()).unwrap();
    let version = base.engine_version().to_string();
    let mut rng = Rng::new(seed ^ 0xED17);
    let (edits, changes) = edits(&doc, &mut rng);
    let options = CompileOptions::default();
    let by_hand = base.apply(&changes.to_string(), &options);
    let by_edits = base.with_edits(&edits, &options);
    match (by_hand, by_edits) {
        (Ok(hand), Ok(edited)) => {
            prop_assert_eq!(
                hand.engine.engine_version(),
                edited.engine.engine_version(),
                "edits {:?}",
                edits
            );
        }
        (Err(hand), Err(edited)) => {
            let codes = |e: &tarif::CompileError| {
                e.diagnostics
                    .iter()
                    .map(|d| d.code.code())
                    .collect::<Vec<_>>()
            };
            prop_assert_eq!(codes(&hand), codes(&edited));
        }
        (hand, edited) => prop_assert!(
            false,
            "hand {:?} edits {:?} for {:?}",
            hand.map(|_| ()),
            edited.map(|_| ()),
            edits
        ),
    }
    prop_assert_eq!(base.engine_version(), version.as_str());
    Ok(edits.len())
}

/// Run with a tally: a case whose edits all fell through (no rule with a percent, say) checks
/// nothing, so the run must have made enough edits.
#[test]
fn edits_equal_hand_written_changes() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let made = AtomicUsize::new(0);
    runner
        .run(&any::<u64>(), |seed| {
            made.fetch_add(check(seed)?, Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    let made = made.into_inner();
    assert!(made >= 48, "only {made} edits made over 64 cases");
}
