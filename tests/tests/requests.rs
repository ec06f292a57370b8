//! The request fixtures (`tests/fixtures/requests/`): every bad value of every query gets the
//! code the Python and Node suites expect of their bindings too.

use serde_json::Value;
use tarif_conformance::requests::{answer, mismatches};
use tarif_conformance::{fixture_files, fixtures_dir};

/// Fewer requests than this means the fixtures went missing, not that they pass.
const MIN_REQUESTS: usize = 150;

#[test]
fn bad_requests_get_their_codes() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in fixture_files(&fixtures_dir().join("requests")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let fixture: Value = serde_json::from_str(&text).unwrap();
        let engine = tarif::Engine::from_json(&fixture["document"].to_string()).unwrap();
        for (i, request) in fixture["requests"].as_array().unwrap().iter().enumerate() {
            checked += 1;
            let op = request["op"].as_str().unwrap();
            let got = answer(&engine, op, &request["args"]);
            for problem in mismatches(&request["expect"], &got) {
                failures.push(format!(
                    "{} #{i} {op} {}: {problem}",
                    path.display(),
                    request["name"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= MIN_REQUESTS, "only {checked} requests");
}
