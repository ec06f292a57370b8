//! Random `tarif/1-changes` documents against a random document, shared by the changes and
//! simulation suites.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::{document, Rng, SKUS};

pub fn key_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A stock record: one quantity or two warehouses.
pub fn stock_record(rng: &mut Rng, sku: &str) -> Value {
    if rng.chance(50) {
        json!({"sku": sku, "available": rng.pick(&["0", "3", "12.5"]), "lead_time_days": rng.below(9)})
    } else {
        json!({"sku": sku, "warehouses": [
            {"id": "LYON", "available": rng.pick(&["0", "4"]), "lead_time_days": rng.below(9)},
            {"id": "PARIS", "available": rng.pick(&["0", "1.5"])}]})
    }
}

/// A random change to `doc`, drawing new content from another random document. It may well
/// produce an invalid document (a deleted product still named by a rule): then both ways must
/// reject it.
pub fn random_changes(doc: &Value, rng: &mut Rng, seed: u64) -> Value {
    let other = document(seed);
    let mut upsert: Map<String, Value> = Map::new();
    let mut delete: Map<String, Value> = Map::new();
    let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
    let push = |map: &mut Map<String, Value>, section: &str, value: Value| {
        map.entry(section)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(value);
    };
    let lists: Vec<String> = doc["price_lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| key_of(l, "id").to_string())
        .collect();
    let contracts: Vec<Value> = doc["contracts"].as_array().cloned().unwrap_or_default();
    let mut settings = None;
    // One change in five touches the stock alone (what an ERP sends most often), one in five
    // the contracts alone, one in five the price lists alone, one in ten a price entry or two
    // alone: what `apply` compiles without compiling the rest.
    let mode = rng.below(10);
    let stock_only = mode < 2;
    let contracts_only = mode == 2 || mode == 3;
    let lists_only = mode == 4 || mode == 5;
    let prices_only = mode == 6;
    let edits = match (stock_only, prices_only) {
        (true, _) => 0,
        (_, true) => rng.below(2) + 1,
        _ => rng.below(5) + 1,
    };
    for n in 0..edits {
        let kind = if contracts_only {
            7 + rng.below(3)
        } else if lists_only {
            3 + rng.below(4)
        } else if prices_only {
            4 + rng.below(3)
        } else {
            rng.below(11)
        };
        match kind {
            0 => {
                let p = rng.pick(other["products"].as_array().unwrap()).clone();
                if touched.insert(("products".into(), key_of(&p, "sku").into())) {
                    push(&mut upsert, "products", p);
                }
            }
            1 => {
                let mut p = rng.pick(other["products"].as_array().unwrap()).clone();
                let sku = format!("N{n}");
                p["sku"] = json!(sku);
                p["ean"] = json!(format!("5000000000{n:03}"));
                if touched.insert(("products".into(), sku.clone())) {
                    push(&mut upsert, "products", p);
                    if rng.chance(70) {
                        let list = rng.pick(&lists).clone();
                        // This change may already delete the entry (a product an earlier change
                        // added): naming it twice is a conflict, which is not what this draws.
                        if touched.insert(("prices".into(), format!("{list}/{sku}"))) {
                            push(
                                &mut upsert,
                                "prices",
                                json!({"list": list, "sku": sku, "price": rng.money(90)}),
                            );
                        }
                    }
                }
            }
            2 => {
                // Mostly a product the document has, sometimes one it may have lost.
                let sku = match doc["products"].as_array() {
                    Some(products) if !products.is_empty() && rng.chance(90) => {
                        key_of(rng.pick(products), "sku").to_string()
                    }
                    _ => rng.pick(&SKUS).to_string(),
                };
                if touched.insert(("products".into(), sku.clone())) {
                    push(&mut delete, "products", json!(sku));
                }
            }
            3 => {
                let mut l = rng.pick(other["price_lists"].as_array().unwrap()).clone();
                if rng.chance(60) {
                    l.as_object_mut().unwrap().remove("prices");
                }
                if touched.insert(("price_lists".into(), key_of(&l, "id").into())) {
                    push(&mut upsert, "price_lists", l);
                }
            }
            4 | 5 => {
                let list = rng.pick(&lists).clone();
                let sku = rng.pick(&SKUS).to_string();
                if touched.insert(("prices".into(), format!("{list}/{sku}"))) {
                    let count = rng.below(2) + 1;
                    // Mostly a dated pair that does not overlap (no warning), sometimes two
                    // prices valid at once (a warning naming the entry by its position).
                    let dated = count == 2 && rng.chance(70);
                    for k in 0..count {
                        let mut e = json!({"list": list, "sku": sku, "price": rng.money(150)});
                        if dated {
                            let bound = if k == 0 { "until" } else { "from" };
                            e["valid"] = json!({bound: "2026-07-01"});
                        } else if rng.chance(30) {
                            e["valid"] = json!({"from": *rng.pick(&["2026-01-01", "2026-07-01"])});
                        }
                        push(&mut upsert, "prices", e);
                    }
                }
            }
            6 => {
                let list = rng.pick(doc["price_lists"].as_array().unwrap());
                let entries = list["prices"].as_array().cloned().unwrap_or_default();
                if !entries.is_empty() {
                    let sku = key_of(rng.pick(&entries), "sku").to_string();
                    let id = key_of(list, "id").to_string();
                    if touched.insert(("prices".into(), format!("{id}/{sku}"))) {
                        push(&mut delete, "prices", json!({"list": id, "sku": sku}));
                    }
                }
            }
            7 => {
                if !contracts.is_empty() {
                    let other_contracts = other["contracts"].as_array().unwrap();
                    let c = rng.pick(other_contracts);
                    let mut r = rng.pick(c["rules"].as_array().unwrap()).clone();
                    let target = key_of(rng.pick(&contracts), "id").to_string();
                    if touched.insert(("rules".into(), format!("{target}/{}", key_of(&r, "id")))) {
                        r["contract"] = json!(target);
                        push(&mut upsert, "rules", r);
                    }
                }
            }
            8 => {
                if !contracts.is_empty() {
                    let c = rng.pick(&contracts);
                    let rules = c["rules"].as_array().cloned().unwrap_or_default();
                    if !rules.is_empty() {
                        let id = key_of(c, "id").to_string();
                        let r = key_of(rng.pick(&rules), "id").to_string();
                        if touched.insert(("rules".into(), format!("{id}/{r}"))) {
                            push(&mut delete, "rules", json!({"contract": id, "id": r}));
                        }
                    }
                }
            }
            9 => {
                let mut c = rng.pick(other["contracts"].as_array().unwrap()).clone();
                if rng.chance(50) {
                    c.as_object_mut().unwrap().remove("rules");
                }
                if touched.insert(("contracts".into(), key_of(&c, "id").into())) {
                    push(&mut upsert, "contracts", c);
                }
            }
            _ => {
                if rng.chance(50) {
                    settings = Some(other["settings"].clone());
                } else if touched.insert(("accounts".into(), "C".into())) {
                    push(
                        &mut upsert,
                        "accounts",
                        json!({"id": "C", "name": "Changed", "segments": ["s2"]}),
                    );
                }
            }
        }
    }
    // Stock at ERP frequency: a record upserted for a product the document has (or had), or
    // one of its records deleted.
    if stock_only || (!contracts_only && !lists_only && rng.chance(50)) {
        let products = doc["products"].as_array().cloned().unwrap_or_default();
        let records = doc["stock"].as_array().cloned().unwrap_or_default();
        if rng.chance(70) && !products.is_empty() {
            let sku = key_of(rng.pick(&products), "sku").to_string();
            if touched.insert(("stock".into(), sku.clone())) {
                push(&mut upsert, "stock", stock_record(rng, &sku));
            }
        } else if !records.is_empty() {
            let sku = key_of(rng.pick(&records), "sku").to_string();
            if touched.insert(("stock".into(), sku.clone())) {
                push(&mut delete, "stock", json!(sku));
            }
        }
    }
    let mut changes = json!({"format": "tarif/1-changes", "upsert": upsert, "delete": delete});
    if let Some(s) = settings {
        changes["settings"] = s;
    }
    changes
}
