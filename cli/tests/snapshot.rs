//! `tarif snapshot RULES OUT`, and every command reading RULES from a snapshot as from the
//! document it was compiled from.

// The other command tests use the rest of the shared helpers.
#[allow(dead_code, unused_imports)]
mod common;

use common::{tarif, Workspace, AT, CABLE, INSTALLER_BRANCH};

#[test]
fn a_snapshot_answers_as_its_document() {
    let ws = Workspace::with_sample();
    let dir = ws.dir.path();
    let out = tarif(dir, &["snapshot", "rules.json", "rules.snap"])
        .expect_code(0)
        .stdout();
    assert!(out.starts_with("ok: wrote `rules.snap`: "), "{out}");
    let report = tarif(dir, &["snapshot", "rules.json", "again.snap", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(report["ok"], true);
    assert!(report["bytes"].as_u64().unwrap() > 1000);

    for command in [
        vec![
            "quote",
            "RULES",
            INSTALLER_BRANCH,
            CABLE,
            "100",
            "--at",
            AT,
            "--json",
        ],
        vec![
            "explain",
            "RULES",
            INSTALLER_BRANCH,
            CABLE,
            "7",
            "--at",
            AT,
            "--json",
        ],
        vec!["lookup", "RULES", INSTALLER_BRANCH, CABLE, "--json"],
    ] {
        let with = |rules: &str| {
            let args: Vec<&str> = command
                .iter()
                .map(|&a| if a == "RULES" { rules } else { a })
                .collect();
            tarif(dir, &args).expect_code(0).stdout()
        };
        assert_eq!(with("rules.snap"), with("rules.json"), "{command:?}");
    }

    let checked = tarif(dir, &["check", "rules.snap", "--json"])
        .expect_code(0)
        .json();
    let compiled = tarif(dir, &["check", "rules.json", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(checked["snapshot"], true);
    assert_eq!(checked["engine_version"], compiled["engine_version"]);
    assert_eq!(checked["diagnostics"], compiled["diagnostics"]);
    let text = tarif(dir, &["check", "rules.snap"]).expect_code(0).stdout();
    assert!(text.contains("opened from a snapshot"), "{text}");
}

#[test]
fn a_corrupt_snapshot_exits_4_with_its_code() {
    let ws = Workspace::with_sample();
    let dir = ws.dir.path();
    // This build's header, then no payload: corrupt, not from another format version.
    let mut bad = b"TARIFSNP".to_vec();
    bad.extend(tarif::snapshot::FORMAT_VERSION.to_le_bytes());
    bad.extend(b" and then nothing useful");
    std::fs::write(ws.path("bad.snap"), bad).unwrap();
    let run = tarif(dir, &["quote", "bad.snap", INSTALLER_BRANCH, CABLE, "1"]).expect_code(4);
    assert!(
        run.stderr()
            .starts_with("error[SNAPSHOT_CORRUPT]: corrupt snapshot `bad.snap`: "),
        "{}",
        run.stderr()
    );
    let run = tarif(dir, &["snapshot", "rules.json", "missing/dir/out.snap"]).expect_code(4);
    assert!(
        run.stderr()
            .starts_with("error[IO_ERROR]: cannot write `missing/dir/out.snap`: "),
        "{}",
        run.stderr()
    );
}
