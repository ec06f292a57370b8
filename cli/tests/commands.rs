//! The `tarif` binary on the sample document and on small broken ones: output, JSON and exit
//! codes as cli/README.md documents them.

mod common;

use common::{
    tarif, Workspace, AT, CABLE, DRILL, INSTALLER_BRANCH, KEY_ACCOUNT_ALIAS, KEY_ACCOUNT_SITE,
    RESELLER,
};
use serde_json::Value;

#[test]
fn check_summarises_the_sample() {
    let ws = Workspace::with_sample();
    let run = tarif(ws.dir.path(), &["check", "rules.json"]).expect_code(0);
    let out = run.stdout();
    let summary = out.lines().last().unwrap();
    assert!(
        summary.starts_with("ok: `rules.json` compiles: "),
        "{summary}"
    );
    assert!(summary.contains(" 0 errors, "), "{summary}");

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(ws.rules()).unwrap()).unwrap();
    let report = tarif(ws.dir.path(), &["check", "rules.json", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["errors"], 0);
    assert_eq!(
        report["products"].as_u64().unwrap() as usize,
        doc["products"].as_array().unwrap().len()
    );
    assert_eq!(
        report["accounts"].as_u64().unwrap() as usize,
        doc["accounts"].as_array().unwrap().len()
    );
    assert!(report["engine_version"]
        .as_str()
        .unwrap()
        .starts_with("t1-"));
}

#[test]
fn check_lists_every_problem_and_exits_1() {
    let ws = Workspace::empty();
    ws.write(
        "bad.json",
        r#"{"format": "tarif/1", "products": [{"sku": ""}, {"sku": "A", "cost": "x"}]}"#,
    );
    let run = tarif(ws.dir.path(), &["check", "bad.json"]).expect_code(1);
    let out = run.stdout();
    assert!(
        out.contains("error: INVALID_ID at products[0].sku: "),
        "{out}"
    );
    assert!(
        out.contains("error: INVALID_DECIMAL at products[1].cost: "),
        "{out}"
    );
    assert!(out
        .lines()
        .last()
        .unwrap()
        .starts_with("rejected[COMPILE_ERROR]: `bad.json` does not compile: 2 error(s)"));

    let report = tarif(ws.dir.path(), &["--json", "check", "bad.json"])
        .expect_code(1)
        .json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["code"], "COMPILE_ERROR");
    let paths: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["products[0].sku", "products[1].cost"]);
}

#[test]
fn warnings_pass_unless_strict() {
    let ws = Workspace::empty();
    // A product everyone sees without a price in the default list: UNPRICED_PRODUCT.
    ws.write(
        "warn.json",
        r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["l"]},
            "products": [{"sku": "A"}, {"sku": "B"}],
            "price_lists": [{"id": "l", "currency": "EUR", "prices": [{"sku": "B", "price": "1"}]}]}"#,
    );
    let run = tarif(ws.dir.path(), &["check", "warn.json"]).expect_code(0);
    let out = run.stdout();
    assert!(
        out.contains("warning: UNPRICED_PRODUCT at products: "),
        "{out}"
    );
    assert!(out.contains(" 0 errors, 1 warning(s);"), "{out}");
    let run = tarif(ws.dir.path(), &["lookup", "warn.json", "NOBODY", "A"]).expect_code(3);
    assert!(run
        .stderr()
        .starts_with("note: `warn.json` compiled with 1 warning(s)"));
    let strict = tarif(ws.dir.path(), &["check", "warn.json", "--strict"]).expect_code(1);
    assert!(strict.stdout().contains("rejected[STRICT_WARNINGS]"));
}

#[test]
fn quote_prices_a_line_in_text_and_json() {
    let ws = Workspace::with_sample();
    let args = [
        "quote",
        "rules.json",
        INSTALLER_BRANCH,
        CABLE,
        "100",
        "--at",
        AT,
    ];
    let out = tarif(ws.dir.path(), &args).expect_code(0).stdout();
    assert!(out.contains("unit price  1.46 EUR"), "{out}");
    assert!(out.contains("line total  146.00 EUR"), "{out}");

    let quote = tarif(ws.dir.path(), &[&args[..], &["--json"]].concat())
        .expect_code(0)
        .json();
    assert_eq!(quote["unit_price"], "1.46");
    assert_eq!(quote["line_total"], "146.00");
    assert_eq!(quote["sku"], CABLE);
    assert!(!quote["steps"].as_array().unwrap().is_empty());
}

#[test]
fn query_errors_print_their_code_and_exit_3() {
    let ws = Workspace::with_sample();
    let dir = ws.dir.path();
    let run = tarif(dir, &["quote", "rules.json", RESELLER, "NO-SUCH-SKU", "1"]).expect_code(3);
    assert_eq!(
        run.stderr().trim(),
        "error[UNKNOWN_PRODUCT]: unknown product `NO-SUCH-SKU`"
    );
    // docs/spec.md §9: the account, then the product, come before the quantity.
    let run = tarif(dir, &["quote", "rules.json", "NOBODY", "NO-SUCH-SKU", "x"]).expect_code(3);
    assert!(run.stderr().starts_with("error[UNKNOWN_ACCOUNT]"));
    let run = tarif(dir, &["quote", "rules.json", RESELLER, "NO-SUCH-SKU", "x"]).expect_code(3);
    assert!(run.stderr().starts_with("error[UNKNOWN_PRODUCT]"));
    let run = tarif(dir, &["quote", "rules.json", RESELLER, DRILL, "x"]).expect_code(3);
    assert_eq!(
        run.stderr().trim(),
        "error[INVALID_QUANTITY]: invalid quantity `x`: expected a positive decimal"
    );
    let run = tarif(
        dir,
        &["quote", "rules.json", RESELLER, DRILL, "1", "--at", "soon"],
    );
    assert!(run
        .expect_code(3)
        .stderr()
        .starts_with("error[INVALID_INSTANT]"));
}

#[test]
fn explain_shows_every_step() {
    let ws = Workspace::with_sample();
    let args = ["explain", "rules.json", RESELLER, DRILL, "1", "--at", AT];
    let out = tarif(ws.dir.path(), &args).expect_code(0).stdout();
    assert!(out.contains("visibility: see=true"), "{out}");
    assert!(out.contains("step base"), "{out}");

    let explanation = tarif(ws.dir.path(), &[&args[..], &["--json"]].concat())
        .expect_code(0)
        .json();
    assert_eq!(explanation["outcome"]["ok"], true);
    assert_eq!(explanation["visibility"]["see"]["allowed"], true);
    let quote = tarif(
        ws.dir.path(),
        &[
            "quote",
            "rules.json",
            RESELLER,
            DRILL,
            "1",
            "--at",
            AT,
            "--json",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(explanation["outcome"]["unit_price"], quote["unit_price"]);
}

#[test]
fn lookup_resolves_an_account_part_number() {
    let ws = Workspace::with_sample();
    let alias = format!(" {} ", KEY_ACCOUNT_ALIAS.to_lowercase());
    let args = ["lookup", "rules.json", KEY_ACCOUNT_SITE, &alias, "--at", AT];
    let out = tarif(ws.dir.path(), &args).expect_code(0).stdout();
    assert_eq!(out.trim(), CABLE);
    let answer = tarif(ws.dir.path(), &[&args[..], &["--json"]].concat())
        .expect_code(0)
        .json();
    assert_eq!(answer["sku"], CABLE);
}

#[test]
fn search_pages_with_a_cursor() {
    let ws = Workspace::with_sample();
    let base = [
        "search",
        "rules.json",
        RESELLER,
        "--at",
        AT,
        "--limit",
        "3",
        "--facet",
        "brand",
        "--price-qty",
        "1",
        "--json",
    ];
    let first = tarif(ws.dir.path(), &base).expect_code(0).json();
    let rows = first["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(first["total"].as_u64().unwrap() > 3);
    assert!(!first["facets"][0]["values"].as_array().unwrap().is_empty());
    let next = first["next"].as_str().unwrap();
    let second = tarif(ws.dir.path(), &[&base[..], &["--after", next]].concat())
        .expect_code(0)
        .json();
    let first_skus: Vec<&Value> = rows.iter().map(|r| &r["sku"]).collect();
    for row in second["rows"].as_array().unwrap() {
        assert!(!first_skus.contains(&&row["sku"]));
    }

    let text = tarif(ws.dir.path(), &base[..base.len() - 1])
        .expect_code(0)
        .stdout();
    assert!(text.contains("facet brand: "), "{text}");
    assert!(text.contains("; next page: --after '"), "{text}");

    let bad = tarif(
        ws.dir.path(),
        &["search", "rules.json", RESELLER, "--attr", "voltage"],
    );
    assert!(bad.expect_code(2).stderr().contains("NAME=VALUE"));
}

#[test]
fn reprice_writes_every_line_with_its_status() {
    let ws = Workspace::with_sample();
    ws.write(
        "orders.csv",
        &format!(
            "order,account,sku,qty,at\n\
             1,{INSTALLER_BRANCH},{CABLE},100,\n\
             2,{RESELLER},NO-SUCH-SKU,1,\n\
             3,{RESELLER},{DRILL},lots,\n\
             4,{RESELLER},{DRILL},1,someday\n\
             5,{INSTALLER_BRANCH},{CABLE},100,{AT}\n"
        ),
    );
    let run = tarif(
        ws.dir.path(),
        &[
            "reprice",
            "rules.json",
            "orders.csv",
            "-o",
            "priced.csv",
            "--at",
            AT,
            "--chunk",
            "2",
        ],
    )
    .expect_code(0);
    assert!(run
        .stdout()
        .starts_with("repriced 5 line(s) into priced.csv"));
    assert!(run.stdout().contains("2 priced, 3 not"), "{}", run.stdout());

    let priced = std::fs::read_to_string(ws.path("priced.csv")).unwrap();
    let mut lines = priced.lines();
    assert_eq!(
        lines.next().unwrap(),
        "order,account,sku,qty,at,status,unit_price,line_total,currency"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let tail = |row: &Vec<&str>| row[5..].join(",");
    assert_eq!(tail(&rows[0]), "OK,1.46,146.00,EUR");
    assert_eq!(tail(&rows[1]), "UNKNOWN_PRODUCT,,,");
    assert_eq!(tail(&rows[2]), "INVALID_QUANTITY,,,");
    assert_eq!(tail(&rows[3]), "INVALID_INSTANT,,,");
    assert_eq!(tail(&rows[4]), "OK,1.46,146.00,EUR");

    let summary = tarif(
        ws.dir.path(),
        &[
            "reprice",
            "rules.json",
            "orders.csv",
            "-o",
            "again.csv",
            "--at",
            AT,
            "--json",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(summary["lines"], 5);
    assert_eq!(summary["by_status"]["INVALID_INSTANT"], 1);
    assert_eq!(
        std::fs::read_to_string(ws.path("again.csv")).unwrap(),
        priced
    );
}

#[test]
fn reprice_to_stdout_keeps_the_summary_on_stderr() {
    let ws = Workspace::with_sample();
    ws.write(
        "orders.csv",
        &format!("account,sku,qty\n{INSTALLER_BRANCH},{CABLE},100\n"),
    );
    let run = tarif(
        ws.dir.path(),
        &["reprice", "rules.json", "orders.csv", "--at", AT],
    );
    let run = run.expect_code(0);
    assert_eq!(
        run.stdout(),
        format!(
            "account,sku,qty,status,unit_price,line_total,currency\n\
             {INSTALLER_BRANCH},{CABLE},100,OK,1.46,146.00,EUR\n"
        )
    );
    assert!(run.stderr().contains("repriced 1 line(s) into stdout"));
}

#[test]
fn files_that_cannot_be_used_exit_4() {
    let ws = Workspace::with_sample();
    let run = tarif(ws.dir.path(), &["check", "missing.json"]).expect_code(4);
    assert!(run
        .stderr()
        .starts_with("error: cannot read `missing.json`: "));
    ws.write("orders.csv", "account,product,qty\nA,B,1\n");
    let run = tarif(ws.dir.path(), &["reprice", "rules.json", "orders.csv"]).expect_code(4);
    assert!(
        run.stderr().contains("has no `sku` column"),
        "{}",
        run.stderr()
    );
}

#[test]
fn other_commands_refuse_a_rejected_document() {
    let ws = Workspace::empty();
    ws.write("bad.json", r#"{"format": "tarif/1", "bogus": 1}"#);
    let run = tarif(ws.dir.path(), &["lookup", "bad.json", "A", "B"]).expect_code(1);
    assert!(run
        .stderr()
        .contains("UNKNOWN_FIELD at bogus: unknown field `bogus`"));
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let ws = Workspace::empty();
    let none: [&str; 0] = [];
    assert!(tarif(ws.dir.path(), &none)
        .expect_code(2)
        .stderr()
        .contains("Usage: tarif"));
    tarif(ws.dir.path(), &["quote", "rules.json"]).expect_code(2);
    let help = tarif(ws.dir.path(), &["--help"]).expect_code(0).stdout();
    for command in ["check", "quote", "explain", "lookup", "search", "reprice"] {
        assert!(help.contains(command), "{help}");
    }
    assert!(help.contains("Exit codes"), "{help}");
    let version = tarif(ws.dir.path(), &["--version"]).expect_code(0).stdout();
    assert!(version.starts_with("tarif "));
}

#[test]
fn reprice_reads_the_instant_from_the_named_column() {
    let ws = Workspace::with_sample();
    ws.write(
        "orders.csv",
        &format!("account,sku,qty,date\n{INSTALLER_BRANCH},{CABLE},100,{AT}\n{INSTALLER_BRANCH},{CABLE},100,soon\n"),
    );
    let run = tarif(
        ws.dir.path(),
        &["reprice", "rules.json", "orders.csv", "--at-column", "date"],
    )
    .expect_code(0);
    let out = run.stdout();
    let statuses: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap())
        .collect();
    assert_eq!(statuses, ["OK", "INVALID_INSTANT"], "{out}");
}
