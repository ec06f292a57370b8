//! The order fixtures (`tests/fixtures/orders/`): the engine answers every case as the fixture
//! expects, the reference evaluator every `price_order` case, and the two agree in full.

use serde_json::Value;
use tarif_conformance::orders::{
    engine_order, engine_quote, engine_text, mismatches, reference_order,
};
use tarif_conformance::{fixture_files, fixtures_dir};
use tarif_reference::Reference;

/// Fewer cases than this means the fixtures went missing, not that they pass.
const MIN_CASES: usize = 24;

#[test]
fn orders_match_their_fixtures_on_the_engine_and_the_reference() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in fixture_files(&fixtures_dir().join("orders")) {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let document = fixture["document"].to_string();
        let engine = tarif::Engine::from_json(&document).unwrap();
        let reference = Reference::from_json(&document).unwrap();
        for (i, case) in fixture["orders"].as_array().unwrap().iter().enumerate() {
            checked += 1;
            let label = format!("{} #{i} {}", path.display(), case["name"]);
            let op = case["op"].as_str().unwrap();
            let mut found = Vec::new();
            match op {
                "price_order" => {
                    let engine_answer = engine_order(&engine, case).unwrap();
                    let reference_answer = reference_order(&reference, case).unwrap();
                    mismatches("engine", &case["expect"], &engine_answer, &mut found);
                    mismatches("reference", &case["expect"], &reference_answer, &mut found);
                    if engine_answer != reference_answer {
                        found.push(format!(
                            "engine {engine_answer} != reference {reference_answer}"
                        ));
                    }
                }
                "prepare_quote" | "place_quote" => {
                    let answer = engine_quote(&engine, case).unwrap();
                    mismatches("engine", &case["expect"], &answer, &mut found);
                }
                "parse_order_lines" => {
                    let answer = engine_text(&engine, case).unwrap();
                    mismatches("engine", &case["expect"], &answer, &mut found);
                }
                other => found.push(format!("unknown op `{other}`")),
            }
            failures.extend(found.into_iter().map(|f| format!("{label}: {f}")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= MIN_CASES, "only {checked} cases");
}
