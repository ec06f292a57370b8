//! `make demo` runs to the end and shows every part it announces: the binary cargo builds for
//! this test, with the workspace's features, so that `make test` needs no build of its own.

use std::process::Command;

const SECTIONS: [&str; 9] = [
    "== What each customer may see, see the price of, and buy ==",
    "== The same products, five customers ==",
    "== Which product does this reference mean? ==",
    "== Quick order:",
    "== Order conditions:",
    "browses 18 V power tools it can order",
    "== Why does",
    "== ERP sync: a price increase and a new contract line, applied as a delta ==",
    "== A sales quote for",
];

#[test]
fn the_demo_runs_and_shows_every_part() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .output()
        .expect("the demo starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in SECTIONS {
        assert!(stdout.contains(section), "no `{section}` in:\n{stdout}");
    }
}
