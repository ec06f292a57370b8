//! `tarif apply`: a change applied to the sample, the entities it changed, the result written
//! as a document and as a snapshot that answer alike; a rejected change writes nothing.

// Helpers of tests fail loudly, as the tests themselves may (clippy.toml).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

#[allow(dead_code, unused_imports)]
mod common;

use common::{tarif, Workspace, AT, DRILL, RESELLER};

/// The reseller's base price of the drill (what its list says, before contract rules), as
/// `tarif quote --json` gives it.
fn reseller_drill(ws: &Workspace, rules: &str) -> String {
    let quote = tarif(
        ws.dir.path(),
        &["quote", rules, RESELLER, DRILL, "1", "--at", AT, "--json"],
    )
    .expect_code(0)
    .json();
    quote["base_price"].as_str().unwrap().to_string()
}

#[test]
fn a_price_change_is_listed_and_written_as_a_document_and_as_a_snapshot() {
    let ws = Workspace::with_sample();
    // Resellers buy on a list derived from the public list less 22 %.
    ws.write(
        "delta.json",
        &format!(
            r#"{{"format": "tarif/1-changes",
                "upsert": {{"prices": [{{"list": "list-eur", "sku": "{DRILL}", "price": "200.00"}}]}}}}"#
        ),
    );
    let before = reseller_drill(&ws, "rules.json");
    let run = tarif(
        ws.dir.path(),
        &["apply", "rules.json", "delta.json", "-o", "new.json"],
    )
    .expect_code(0);
    let out = run.stdout();
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("modified prices[list-eur/{DRILL}]")
    );
    let summary = lines.next().unwrap();
    assert!(
        summary.starts_with("ok: applied `delta.json`: 1 entity changed; engine version t1-"),
        "{summary}"
    );
    assert!(summary.ends_with("; wrote `new.json`"), "{summary}");

    let after = reseller_drill(&ws, "new.json");
    assert_ne!(after, before);
    assert_eq!(after, "156.00", "the resellers' list: 200.00 less 22 %");

    let report = tarif(
        ws.dir.path(),
        &[
            "apply",
            "new.json",
            "delta.json",
            "-o",
            "new.snap",
            "--json",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(report["ok"], true);
    assert_eq!(
        report["from"], report["to"],
        "the same change again changes nothing"
    );
    assert_eq!(report["changed"].as_array().unwrap().len(), 0);
    assert_eq!(reseller_drill(&ws, "new.snap"), after);
    let opened = tarif(ws.dir.path(), &["check", "new.snap", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(opened["snapshot"], true);
    assert_eq!(opened["engine_version"], report["to"]);
}

#[test]
fn a_rejected_change_lists_its_problems_and_writes_nothing() {
    let ws = Workspace::with_sample();
    ws.write(
        "bad.json",
        r#"{"format": "tarif/1-changes",
            "upsert": {"prices": [{"list": "no-such-list", "sku": "X", "price": "1"},
                                  {"list": "nor-this-one", "sku": "Y", "price": "1"}]}}"#,
    );
    let run = tarif(
        ws.dir.path(),
        &["apply", "rules.json", "bad.json", "-o", "new.json"],
    )
    .expect_code(1);
    let out = run.stdout();
    let errors = out.lines().filter(|l| l.starts_with("error: ")).count();
    assert!(errors >= 2, "every problem at once: {out}");
    assert!(out.contains("upsert.prices[0].list"), "{out}");
    assert!(out.contains("upsert.prices[1].list"), "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("rejected[COMPILE_ERROR]: `bad.json` cannot be applied: "),
        "{out}"
    );
    assert!(!ws.path("new.json").exists());
}
