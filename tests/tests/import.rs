//! The importer (docs/spec.md, "Import manifest") on the fixtures of tests/fixtures/import/:
//! CSV, Parquet and Arrow tables of the same data make the document written by hand, and every
//! bad table is reported with its code and the file, row and column a user opens.
//!
//! The Parquet fixtures are written here from the CSV ones (money as decimal128, priorities as
//! integers, the rest as strings), so that no binary file needs reviewing.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use serde_json::Value;
use tarif::import::{ImportError, Importer, Manifest};
use tarif::{CompileOptions, Engine, Order, OrderLine, QuoteRequest};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/import")
        .join(name)
}

fn expected_version() -> String {
    let json = std::fs::read_to_string(dir("good").join("expected.json")).unwrap();
    Engine::from_json(&json)
        .unwrap()
        .engine_version()
        .to_string()
}

/// Reads a CSV fixture into one batch: money columns as decimal128(18, 2), `priority` as
/// int64, everything else as strings (`None` for empty cells).
fn batch(path: &Path, delimiter: u8, money: &[&str]) -> RecordBatch {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cells = |i: usize| {
        rows.iter()
            .map(move |r| Some(&r[i]).filter(|c| !c.is_empty()))
    };
    let columns: Vec<(String, ArrayRef)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let array: ArrayRef = if money.contains(&name.as_str()) {
                let cents = cells(i).map(|c| {
                    c.map(|c| {
                        let d: rust_decimal::Decimal = c.replace(',', ".").parse().unwrap();
                        (d * rust_decimal::Decimal::from(100)).trunc().mantissa()
                            / 10i128.pow((d * rust_decimal::Decimal::from(100)).trunc().scale())
                    })
                });
                Arc::new(
                    Decimal128Array::from(cents.collect::<Vec<_>>())
                        .with_precision_and_scale(18, 2)
                        .unwrap(),
                )
            } else if name == "priority" {
                Arc::new(Int64Array::from(
                    cells(i)
                        .map(|c| c.map(|c| c.parse().unwrap()))
                        .collect::<Vec<_>>(),
                ))
            } else {
                Arc::new(StringArray::from(cells(i).collect::<Vec<_>>()))
            };
            (name.clone(), array)
        })
        .collect();
    RecordBatch::try_from_iter(columns).unwrap()
}

fn write_parquet(batch: &RecordBatch, path: &Path) {
    let mut writer =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// The good set's tables as batches, by table name.
fn good_batches() -> BTreeMap<String, RecordBatch> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir("good").join("manifest.json")).unwrap())
            .unwrap();
    let mut out = BTreeMap::new();
    for (table, spec) in manifest["tables"].as_object().unwrap() {
        let file = spec["file"].as_str().unwrap();
        let delimiter = spec["csv"]["delimiter"].as_str().unwrap_or(",").as_bytes()[0];
        out.insert(
            table.clone(),
            batch(&dir("good").join(file), delimiter, &["COST", "price"]),
        );
    }
    out
}

#[test]
fn csv_tables_make_the_document_written_by_hand() {
    let compiled = Engine::import(dir("good").join("manifest.json")).unwrap();
    assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
    let engine = compiled.engine;
    assert_eq!(engine.engine_version(), expected_version());
    // The engine keeps the built text, which is the document.
    let built: Value = serde_json::from_str(engine.source().unwrap()).unwrap();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir("good").join("expected.json")).unwrap())
            .unwrap();
    assert_eq!(built, expected);
    let at = engine.parse_instant("2026-03-01").unwrap();
    let price = |account: &str, sku: &str, qty: i64| {
        engine
            .quote(&QuoteRequest::new(account, sku, qty.into()).at(at))
            .unwrap()
            .unit_price
            .to_string()
    };
    // Tier rows, unsorted in the file, are tiers; the net list of ACME escapes the installers'
    // discount and its branch inherits it; the promo list outranks the base list.
    assert_eq!(price("SOLO", "CABLE-3G15", 100), "1.05");
    assert_eq!(price("ACME", "CABLE-3G15", 600), "0.90");
    assert_eq!(price("ACME-LYON", "CABLE-3G15", 1), "0.95");
    assert_eq!(price("SOLO", "DR-18V-01", 50), "99.00");
    assert_eq!(price("ACME", "DR-18V-02", 1), "170.10");
    assert_eq!(engine.lookup("SOLO", "OLD-2").unwrap(), "DR-18V-01");
}

#[test]
fn an_imported_tier_basis_prices_an_order_across_its_lines() {
    let engine = Engine::import(dir("good").join("manifest.json"))
        .unwrap()
        .engine;
    // After the promo: `list-eur` reads the order's quantity (`tier_basis` of the list), its
    // DR-18V-01 entry the family's (`tier_basis` of the entry, on two of its three rows).
    let at = engine.parse_instant("2026-08-01").unwrap();
    let lines = vec![
        OrderLine::new("DR-18V-01", 4.into()),
        OrderLine::new("DR-18V-02", 6.into()),
        OrderLine::new("SCREW-4x40", 100.into()),
        OrderLine::new("CABLE-3G15", 60.into()),
    ];
    let priced = engine
        .price_order(&Order::new("SOLO", lines).at(at))
        .unwrap();
    let got: Vec<(String, String)> = priced
        .lines
        .iter()
        .map(|l| {
            let q = l.as_ref().unwrap();
            (q.unit_price.to_string(), q.line_total.to_string())
        })
        .collect();
    // DR-18V-01: family DR-18V is 4 + 6 = 10 units, the tier from 10: 119.00 x 4 = 476.00
    // (the order's 4 + 6 + 100 + 60 = 170 would have reached the tier from 50, 109.00).
    // DR-18V-02 and the screws have no tiers: 189.00 x 6 = 1134.00, 0.05 x 100 = 5.00.
    // CABLE-3G15: the order's 170 units reach its tier from 100: 1.05 x 60 = 63.00.
    let expected = [
        ("119.00", "476.00"),
        ("189.00", "1134.00"),
        ("0.05", "5.00"),
        ("1.05", "63.00"),
    ];
    assert_eq!(got, expected.map(|(u, t)| (u.to_string(), t.to_string())));
    // 476.00 + 1134.00 + 5.00 + 63.00.
    assert_eq!(priced.subtotal.to_string(), "1678.00");
    // Alone, each line is its own basis: 4 drills and 60 metres are below every tier.
    let alone = |sku: &str, qty: i64| {
        engine
            .quote(&QuoteRequest::new("SOLO", sku, qty.into()).at(at))
            .unwrap()
            .unit_price
            .to_string()
    };
    assert_eq!(alone("DR-18V-01", 4), "129.00");
    assert_eq!(alone("CABLE-3G15", 60), "1.20");
}

#[test]
fn parquet_tables_make_the_same_document() {
    let tmp = tempfile::tempdir().unwrap();
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir("good").join("manifest.json")).unwrap())
            .unwrap();
    for (table, batch) in good_batches() {
        let file = format!("{table}.parquet");
        write_parquet(&batch, &tmp.path().join(&file));
        let spec = &mut manifest["tables"][table.as_str()];
        spec["file"] = file.into();
        spec.as_object_mut().unwrap().remove("csv");
    }
    let path = tmp.path().join("manifest.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    let engine = Engine::import(&path).unwrap().engine;
    assert_eq!(engine.engine_version(), expected_version());
}

#[test]
fn arrow_batches_make_the_same_document() {
    let manifest = Manifest::from_path(dir("good").join("manifest.json")).unwrap();
    let mut importer = Importer::new(manifest);
    for (table, batch) in good_batches() {
        importer = importer.with_batches(
            &table,
            vec![batch.slice(0, 1), batch.slice(1, batch.num_rows() - 1)],
        );
    }
    let compiled = importer.compile(&CompileOptions::default()).unwrap();
    assert_eq!(compiled.engine.engine_version(), expected_version());
}

/// `CODE LOCATION MESSAGE-START` per line of `expected.txt`.
fn assert_reports(err: &ImportError, name: &str) {
    let expected = std::fs::read_to_string(dir(name).join("expected.txt")).unwrap();
    let got: Vec<String> = err
        .diagnostics
        .iter()
        .map(|d| {
            let place = d
                .location
                .as_ref()
                .map(ToString::to_string)
                .or(d.path.clone())
                .unwrap_or_default();
            format!("{} {} {}", d.code.code(), place, d.message)
        })
        .collect();
    let lines: Vec<&str> = expected.lines().filter(|l| !l.is_empty()).collect();
    for line in &lines {
        assert!(
            got.iter().any(|g| g.starts_with(line)),
            "{name}: expected `{line}` among\n{}",
            got.join("\n")
        );
    }
    assert_eq!(got.len(), lines.len(), "{name}: got\n{}", got.join("\n"));
}

#[test]
fn bad_tables_report_every_problem_at_its_row_and_column() {
    for name in ["bad-values", "bad-columns"] {
        let err = Engine::import(dir(name).join("manifest.json")).unwrap_err();
        assert_eq!(err.code(), "IMPORT_ERROR");
        assert_reports(&err, name);
    }
}

#[test]
fn compile_diagnostics_are_sent_back_to_their_rows() {
    let err = Engine::import(dir("bad-compile").join("manifest.json")).unwrap_err();
    assert_eq!(err.code(), "COMPILE_ERROR");
    assert_reports(&err, "bad-compile");
    let imported = tarif::import::document(dir("bad-compile").join("manifest.json")).unwrap();
    assert_eq!(
        imported
            .locate("price_lists[0].prices[0].tiers[0].price")
            .unwrap()
            .to_string(),
        "prices.csv:3:price"
    );
}

#[test]
fn float_money_and_truncated_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let floats = RecordBatch::try_from_iter([
        ("sku", Arc::new(StringArray::from(vec!["A"])) as ArrayRef),
        ("cost", Arc::new(Float64Array::from(vec![12.5])) as ArrayRef),
    ])
    .unwrap();
    write_parquet(&floats, &tmp.path().join("products.parquet"));
    let good = good_batches();
    write_parquet(&good["prices"], &tmp.path().join("full.parquet"));
    let bytes = std::fs::read(tmp.path().join("full.parquet")).unwrap();
    std::fs::write(tmp.path().join("prices.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    let manifest = r#"{"format": "tarif-import/1", "tables": {
        "products": {"file": "products.parquet"}, "prices": {"file": "prices.parquet"}}}"#;
    std::fs::write(tmp.path().join("manifest.json"), manifest).unwrap();
    let err = Engine::import(tmp.path().join("manifest.json")).unwrap_err();
    let got: Vec<String> = err
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.code(), d.location.as_ref().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            "IMPORT_FLOAT_COLUMN products.parquet:1:cost",
            "IMPORT_FORMAT prices.parquet"
        ]
    );
    assert!(err.diagnostics[0]
        .message
        .contains("export money and quantities as decimal or string"));
    // The same column handed over as a batch is refused the same way.
    let err =
        Importer::new(Manifest::from_json(r#"{"format": "tarif-import/1"}"#, "m", ".").unwrap())
            .with_batches("products", vec![floats])
            .document()
            .unwrap_err();
    assert_eq!(
        err.diagnostics[0].to_string().split(':').next().unwrap(),
        "IMPORT_FLOAT_COLUMN at products"
    );
}
