//! The language-neutral fixtures, run against the reference evaluator.

use tarif_conformance::{fixtures_dir, run_all};
use tarif_reference::Reference;

/// Fewer cases than this means fixtures went missing, not that they pass.
const MIN_CASES: usize = 70;

#[test]
fn fixtures_hold_on_the_reference() {
    let report = run_all::<Reference>(&fixtures_dir());
    println!("{}", report.summary());
    assert!(report.failures.is_empty(), "{}", report.summary());
    assert!(report.checked >= MIN_CASES, "{}", report.summary());
}

#[test]
fn fixtures_hold_on_the_engine() {
    let report = run_all::<tarif_conformance::EngineEvaluator>(&fixtures_dir());
    println!("{}", report.summary());
    assert!(report.failures.is_empty(), "{}", report.summary());
    assert!(report.skipped.is_empty(), "{}", report.summary());
    assert!(report.checked >= MIN_CASES, "{}", report.summary());
}
