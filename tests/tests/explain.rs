//! Every quote of the language-neutral fixtures explained by the engine, step by step as the
//! reference evaluator sees it: the same candidates and the same winners.

use tarif_conformance::{explain, fixture_files, fixtures_dir};

#[test]
fn explanations_of_the_fixtures_agree_with_the_reference() {
    let root = fixtures_dir();
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in fixture_files(&root) {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let (mismatches, cases) = explain::check_fixture(&name, &fixture);
        failures.extend(mismatches);
        compared += cases;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared >= 100,
        "only {compared} priced cases were explained"
    );
}
