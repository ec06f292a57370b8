//! `tarif-tables RULES.json OUT_DIR`: writes a `tarif/1` document as the CSV tables an ERP
//! would export, with their import manifest (docs/spec.md, "Import manifest"), to time the
//! importer against compiling the JSON (docs/performance.md, "Import").
//!
//! Product attributes, axes, relations and account aliases have no table yet and are left out,
//! so the imported document is the JSON one without them.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Value};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rules, out] = args.as_slice() else {
        eprintln!("usage: tarif-tables RULES.json OUT_DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(rules), Path::new(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tarif-tables: {e}");
            ExitCode::FAILURE
        }
    }
}

type Table = csv::Writer<BufWriter<File>>;

fn table(dir: &Path, name: &str, header: &[&str]) -> Result<Table, Box<dyn std::error::Error>> {
    let mut w = csv::Writer::from_writer(BufWriter::new(File::create(dir.join(name))?));
    w.write_record(header)?;
    Ok(w)
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn joined(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("|")
        })
        .unwrap_or_default()
}

fn run(rules: &Path, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(rules)?)?;
    let empty = Vec::new();
    let items = |key: &str| doc.get(key).and_then(Value::as_array).unwrap_or(&empty);

    let mut w = table(dir, "categories.csv", &["id", "parent", "name"])?;
    for c in items("categories") {
        w.write_record([text(c, "id"), text(c, "parent"), text(c, "name")])?;
    }
    w.flush()?;

    let header = [
        "sku",
        "name",
        "ean",
        "mpn",
        "refs",
        "family",
        "categories",
        "brand",
        "cost",
        "order_min",
        "order_multiple",
    ];
    let mut w = table(dir, "products.csv", &header)?;
    for p in items("products") {
        let order = p.get("order").cloned().unwrap_or(Value::Null);
        w.write_record([
            text(p, "sku"),
            text(p, "name"),
            text(p, "ean"),
            text(p, "mpn"),
            joined(p, "refs"),
            text(p, "family"),
            joined(p, "categories"),
            text(p, "brand"),
            text(p, "cost"),
            text(&order, "min"),
            text(&order, "multiple"),
        ])?;
    }
    w.flush()?;

    let header = [
        "id",
        "name",
        "currency",
        "net",
        "priority",
        "valid_from",
        "valid_until",
        "tier_mode",
        "from_list",
        "percent",
    ];
    let mut lists = table(dir, "price_lists.csv", &header)?;
    let header = [
        "list",
        "sku",
        "price",
        "min_qty",
        "valid_from",
        "valid_until",
        "priority",
        "tier_mode",
        "entry_min_qty",
        "entry_max_qty",
        "exclusive",
    ];
    let mut prices = table(dir, "prices.csv", &header)?;
    for l in items("price_lists") {
        let valid = l.get("valid").cloned().unwrap_or(Value::Null);
        lists.write_record([
            text(l, "id"),
            text(l, "name"),
            text(l, "currency"),
            text(l, "net"),
            text(l, "priority"),
            text(&valid, "from"),
            text(&valid, "until"),
            text(l, "tier_mode"),
            text(l, "from_list"),
            text(l, "percent"),
        ])?;
        for e in l.get("prices").and_then(Value::as_array).unwrap_or(&empty) {
            let valid = e.get("valid").cloned().unwrap_or(Value::Null);
            let row = |price: String, min_qty: String| {
                [
                    text(l, "id"),
                    text(e, "sku"),
                    price,
                    min_qty,
                    text(&valid, "from"),
                    text(&valid, "until"),
                    text(e, "priority"),
                    text(e, "tier_mode"),
                    text(e, "min_qty"),
                    text(e, "max_qty"),
                    text(e, "exclusive"),
                ]
            };
            prices.write_record(row(text(e, "price"), String::new()))?;
            for t in e.get("tiers").and_then(Value::as_array).unwrap_or(&empty) {
                prices.write_record(row(text(t, "price"), text(t, "min_qty")))?;
            }
        }
    }
    lists.flush()?;
    prices.flush()?;

    let mut w = table(dir, "segments.csv", &["id", "name", "price_lists"])?;
    for s in items("segments") {
        w.write_record([text(s, "id"), text(s, "name"), joined(s, "price_lists")])?;
    }
    w.flush()?;

    let header = [
        "id",
        "name",
        "parent",
        "segments",
        "currency",
        "price_lists",
    ];
    let mut w = table(dir, "accounts.csv", &header)?;
    for a in items("accounts") {
        w.write_record([
            text(a, "id"),
            text(a, "name"),
            text(a, "parent"),
            joined(a, "segments"),
            text(a, "currency"),
            joined(a, "price_lists"),
        ])?;
    }
    w.flush()?;

    let mut rest = serde_json::Map::new();
    for key in ["settings", "currencies", "contracts"] {
        if let Some(v) = doc.get(key) {
            rest.insert(key.into(), v.clone());
        }
    }
    std::fs::write(dir.join("document.json"), Value::Object(rest).to_string())?;
    let file = |name: &str| json!({"file": name});
    let manifest = json!({
        "format": "tarif-import/1",
        "tables": {
            "categories": file("categories.csv"), "products": file("products.csv"),
            "price_lists": file("price_lists.csv"), "prices": file("prices.csv"),
            "segments": file("segments.csv"), "accounts": file("accounts.csv"),
        },
        "document": "document.json",
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    Ok(())
}
