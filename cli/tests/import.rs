//! `tarif import` on the importer's fixtures (tests/fixtures/import/).

// Shared with commands.rs, which uses the rest of it.
#[allow(dead_code, unused_imports)]
mod common;

use std::path::{Path, PathBuf};

use common::{tarif, Workspace};

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/import")
        .join(name)
}

#[test]
fn import_writes_the_document_and_exits_0() {
    let ws = Workspace::empty();
    let manifest = fixtures("good").join("manifest.json");
    let out = ws.path("doc.json");
    let run = tarif(
        ws.dir.path(),
        &[
            "import".as_ref(),
            manifest.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    )
    .expect_code(0);
    assert!(run.stdout().starts_with("ok: `"), "{}", run.stdout());
    let written = std::fs::read_to_string(&out).unwrap();
    let check = tarif(ws.dir.path(), &["--json", "check", "doc.json"])
        .expect_code(0)
        .json();
    let import = tarif(
        ws.dir.path(),
        &["--json".as_ref(), "import".as_ref(), manifest.as_os_str()],
    )
    .expect_code(0)
    .json();
    assert_eq!(check["engine_version"], import["engine_version"]);
    assert!(written.starts_with(r#"{"format":"tarif/1""#));
}

#[test]
fn import_lists_every_problem_with_its_place_and_exits_1() {
    let ws = Workspace::empty();
    let manifest = fixtures("bad-values").join("manifest.json");
    let run = tarif(ws.dir.path(), &["import".as_ref(), manifest.as_os_str()]).expect_code(1);
    let out = run.stdout();
    assert!(
        out.contains("error: IMPORT_INVALID_VALUE at prices.csv:2:price: `12,5O` is not a decimal"),
        "{out}"
    );
    assert!(out
        .lines()
        .last()
        .unwrap()
        .starts_with("rejected[IMPORT_ERROR]: "));
    let report = tarif(
        ws.dir.path(),
        &["--json".as_ref(), "import".as_ref(), manifest.as_os_str()],
    )
    .expect_code(1)
    .json();
    assert_eq!(report["code"], "IMPORT_ERROR");
    assert!(report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["location"] == "products.csv:5:sku" && d["code"] == "IMPORT_DUPLICATE"));
}
