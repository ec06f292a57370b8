//! `Engine::apply` against compiling from scratch: on random documents and random sequences of
//! `tarif/1-changes`, applying the changes one after another gives the engine that compiling
//! the merged document gives (same `engine_version`, same answers), or both are rejected with
//! the same codes. The merged document is built here on `serde_json::Value`, independently of
//! the engine's text-level merge, following docs/spec.md §13.

mod common;

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{json, Value};
use tarif::{CompileOptions, Engine, QuoteRequest};

use common::changes::{key_of, random_changes, stock_record};
use common::Rng;

const KEYED: [(&str, &str); 8] = [
    ("currencies", "code"),
    ("categories", "id"),
    ("products", "sku"),
    ("price_lists", "id"),
    ("segments", "id"),
    ("accounts", "id"),
    ("contracts", "id"),
    ("stock", "sku"),
];
/// (changes section, parent section, parent field, nested field, key).
const NESTED: [(&str, &str, &str, &str, &str); 2] = [
    ("prices", "price_lists", "list", "prices", "sku"),
    ("rules", "contracts", "contract", "rules", "id"),
];

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The document `changes` produces from `doc`, written from the spec, or `None` if the change
/// names an id the document does not have.
fn merge_value(doc: &Value, changes: &Value) -> Option<Value> {
    let mut doc = doc.clone();
    let root = doc.as_object_mut().unwrap();
    if let Some(settings) = changes.get("settings") {
        root.insert("settings".into(), settings.clone());
    }
    let deleted_products = strs(changes.pointer("/delete/products"));
    for (section, key) in KEYED {
        let deletes = strs(changes.get("delete").and_then(|d| d.get(section)));
        let upserts = changes
            .get("upsert")
            .and_then(|u| u.get(section))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let cascade = section == "stock" && !deleted_products.is_empty();
        if deletes.is_empty() && upserts.is_empty() && !cascade {
            continue;
        }
        let list = root
            .entry(section)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap();
        for d in &deletes {
            if !list.iter().any(|e| key_of(e, key) == d) {
                return None;
            }
        }
        list.retain(|e| !deletes.iter().any(|d| d == key_of(e, key)));
        // A deleted product's stock record goes with it (spec §13.1).
        if section == "stock" {
            list.retain(|e| !deleted_products.iter().any(|d| d == key_of(e, key)));
        }
        for upsert in upserts {
            let id = key_of(&upsert, key).to_string();
            match list.iter_mut().find(|e| key_of(e, key) == id) {
                Some(old) => {
                    let mut new = upsert.clone();
                    let kept: &[&str] = match section {
                        "price_lists" => &["prices"],
                        "contracts" => &["rules", "visibility"],
                        _ => &[],
                    };
                    for field in kept {
                        if new.get(field).is_none() {
                            if let Some(v) = old.get(*field) {
                                new[*field] = v.clone();
                            }
                        }
                    }
                    *old = new;
                }
                None => list.push(upsert),
            }
        }
    }
    for (name, parent, parent_field, field, key) in NESTED {
        let parents = root.entry(parent).or_insert_with(|| json!([]));
        let parents = parents.as_array_mut().unwrap();
        let deletes = changes
            .pointer(&format!("/delete/{name}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let upserts = changes
            .pointer(&format!("/upsert/{name}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let known: Vec<String> = parents
            .iter()
            .map(|p| key_of(p, "id").to_string())
            .collect();
        if deletes
            .iter()
            .chain(&upserts)
            .any(|d| !known.iter().any(|k| k == key_of(d, parent_field)))
        {
            return None;
        }
        for p in parents.iter_mut() {
            let pid = key_of(p, "id").to_string();
            let mine_deletes: Vec<String> = deletes
                .iter()
                .filter(|d| key_of(d, parent_field) == pid)
                .map(|d| key_of(d, key).to_string())
                .collect();
            let mine_upserts: Vec<Value> = upserts
                .iter()
                .filter(|u| key_of(u, parent_field) == pid)
                .cloned()
                .collect();
            let cascade = name == "prices" && !deleted_products.is_empty();
            if mine_deletes.is_empty() && mine_upserts.is_empty() && !cascade {
                continue;
            }
            let obj = p.as_object_mut().unwrap();
            let items = obj.entry(field).or_insert_with(|| json!([]));
            let items = items.as_array_mut().unwrap();
            for d in &mine_deletes {
                if !items.iter().any(|e| key_of(e, key) == d) {
                    return None;
                }
            }
            items.retain(|e| !mine_deletes.iter().any(|d| d == key_of(e, key)));
            if name == "prices" {
                items.retain(|e| !deleted_products.iter().any(|d| d == key_of(e, key)));
            }
            let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
            for mut u in mine_upserts {
                u.as_object_mut().unwrap().remove(parent_field);
                let k = key_of(&u, key).to_string();
                match groups.iter_mut().find(|(g, _)| *g == k) {
                    Some((_, g)) => g.push(u),
                    None => groups.push((k, vec![u])),
                }
            }
            for (k, group) in groups {
                let at = items.iter().position(|e| key_of(e, key) == k);
                items.retain(|e| key_of(e, key) != k);
                match at {
                    Some(at) => {
                        for (i, e) in group.into_iter().enumerate() {
                            items.insert(at + i, e);
                        }
                    }
                    None => items.extend(group),
                }
            }
        }
    }
    Some(doc)
}

fn codes(e: &tarif::CompileError) -> BTreeSet<&'static str> {
    e.diagnostics.iter().map(|d| d.code.code()).collect()
}

/// Same version, and the same answer to random requests.
fn same_answers(a: &Engine, b: &Engine, rng: &mut Rng, context: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.engine_version(), b.engine_version(), "{}", context);
    for _ in 0..20 {
        let (account, reference, qty, at, currency) = common::request(rng);
        let qty = qty.parse().unwrap();
        let at = a.parse_instant(&at).unwrap();
        let mut request = QuoteRequest::new(&account, &reference, qty).at(at);
        if let Some(c) = &currency {
            request = request.currency(c);
        }
        let answer = |e: &Engine| {
            e.quote(&request)
                .map(|q| {
                    (
                        q.unit_price.to_string(),
                        q.line_total.to_string(),
                        q.buyable,
                        q.stock.map(|s| {
                            (
                                s.available.to_string(),
                                s.backorder.to_string(),
                                s.lead_time_days,
                            )
                        }),
                    )
                })
                .map_err(|e| e.code())
        };
        prop_assert_eq!(
            answer(a),
            answer(b),
            "{} {} {}",
            context,
            account,
            reference
        );
    }
    Ok(())
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let mut doc = common::document(seed);
    let mut rng = Rng::new(seed ^ 0x0C4A_46E5);
    let mut tracked = Vec::new();
    for p in doc["products"].as_array().cloned().unwrap_or_default() {
        if rng.chance(40) {
            tracked.push(stock_record(&mut rng, key_of(&p, "sku")));
        }
    }
    doc["stock"] = json!(tracked);
    // Half the documents have no tiers, the usual source of warnings about an entry (which
    // name it by position): a change of prices alone then writes its groups over the engine's
    // entries instead of compiling the lists again.
    if rng.chance(50) {
        for list in doc["price_lists"].as_array_mut().into_iter().flatten() {
            for entry in list["prices"].as_array_mut().into_iter().flatten() {
                if let Some(entry) = entry.as_object_mut() {
                    entry.remove("tiers");
                    entry.remove("tier_mode");
                }
            }
        }
    }
    let mut engine = Engine::from_json(&doc.to_string()).unwrap();
    for step in 0..3u64 {
        let changes = random_changes(&doc, &mut rng, seed.wrapping_add(step + 1));
        let context = format!("seed {seed} step {step}\nchanges {changes}");
        let applied = engine.apply(&changes.to_string(), &CompileOptions::default());
        let Some(merged) = merge_value(&doc, &changes) else {
            let rejected = applied.err().map(|e| codes(&e)).unwrap_or_default();
            prop_assert!(rejected.contains("UNKNOWN_ID"), "{}", context);
            return Ok(());
        };
        let scratch = Engine::compile(&merged.to_string(), &CompileOptions::default());
        match (applied, scratch) {
            (Ok(applied), Ok(scratch)) => {
                same_answers(&applied.engine, &scratch.engine, &mut rng, &context)?;
                engine = applied.engine;
                doc = merged;
            }
            (Err(a), Err(s)) => {
                prop_assert_eq!(codes(&a), codes(&s), "{}", context);
                return Ok(());
            }
            (a, s) => prop_assert!(
                false,
                "apply {:?} vs scratch {:?}\n{}",
                a.map(|c| c.engine.engine_version().to_string()),
                s.map(|c| c.engine.engine_version().to_string()),
                context
            ),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn applying_changes_equals_compiling_the_merged_document(seed in any::<u64>()) {
        check(seed)?;
    }
}

fn sample() -> Engine {
    Engine::from_json(
        r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
        "settings": {"default_price_lists": ["pub"]},
        "products": [{"sku": "A"}, {"sku": "B"}],
        "price_lists": [{"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}]}],
        "accounts": [{"id": "C"}],
        "contracts": [{"id": "k", "audience": "all", "rules": [{"id": "r1", "step": "discount", "products": "all", "percent": "10"}]}]}"#,
    )
    .unwrap()
}

fn problems(engine: &Engine, changes: &str) -> Vec<(String, String)> {
    engine
        .apply(changes, &CompileOptions::default())
        .err()
        .map(|e| {
            e.diagnostics
                .iter()
                .map(|d| (d.code.code().to_string(), d.path.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_rejected_change_reports_every_problem_with_its_path_in_the_changes() {
    let engine = sample();
    let found = problems(
        &engine,
        r#"{"format": "tarif/1-changes", "bogus": 1,
            "upsert": {"products": [{"name": "no sku"}, {"sku": "A"}, {"sku": "A"}],
                       "prices": [{"list": "nope", "sku": "A", "price": "1"}], "widgets": []},
            "delete": {"products": ["Z", "B"], "rules": [{"contract": "k", "id": "r9"}],
                       "prices": [{"list": "pub", "sku": "B", "extra": 1}]}}"#,
    );
    let want = [
        ("UNKNOWN_FIELD", "bogus"),
        ("MISSING_FIELD", "upsert.products[0]"),
        ("UNKNOWN_FIELD", "upsert.widgets"),
        ("UNKNOWN_FIELD", "delete.prices[0].extra"),
        ("DUPLICATE_ID", "upsert.products[2]"),
    ];
    for (code, path) in want {
        assert!(
            found.iter().any(|(c, p)| c == code && p == path),
            "{code} at {path} missing from {found:?}"
        );
    }
    // Ids are checked against the document once the shape is right.
    let found = problems(
        &engine,
        r#"{"format": "tarif/1-changes",
            "upsert": {"prices": [{"list": "nope", "sku": "A", "price": "1"}]},
            "delete": {"products": ["Z"], "rules": [{"contract": "k", "id": "r9"}]}}"#,
    );
    assert_eq!(
        found,
        [
            ("UNKNOWN_ID".to_string(), "delete.products[0]".to_string()),
            ("UNKNOWN_ID".into(), "upsert.prices[0].list".into()),
            ("UNKNOWN_ID".into(), "delete.rules[0]".into()),
        ]
    );
}

#[test]
fn compile_problems_of_what_the_change_wrote_point_into_the_change() {
    let engine = sample();
    let found = problems(
        &engine,
        r#"{"format": "tarif/1-changes",
            "upsert": {"products": [{"sku": "N", "cost": "x"}],
                       "prices": [{"list": "pub", "sku": "B", "price": "2O"}],
                       "rules": [{"contract": "k", "id": "r2", "step": "discount", "products": "all", "percent": "y"}]}}"#,
    );
    assert_eq!(
        found,
        [
            (
                "INVALID_DECIMAL".to_string(),
                "upsert.products[0].cost".to_string()
            ),
            ("INVALID_DECIMAL".into(), "upsert.prices[0].price".into()),
            ("INVALID_DECIMAL".into(), "upsert.rules[0].percent".into()),
        ]
    );
    // A problem the change causes in what it did not write keeps its document path.
    let found = problems(
        &engine,
        r#"{"format": "tarif/1-changes", "delete": {"price_lists": ["pub"]}}"#,
    );
    assert!(
        found
            .iter()
            .all(|(c, p)| c == "UNKNOWN_REFERENCE" && p.starts_with("settings")),
        "{found:?}"
    );
}

#[test]
fn the_expected_version_guards_against_a_stale_change() {
    let engine = sample();
    let stale = r#"{"format": "tarif/1-changes", "engine_version": "t1-0000000000000000",
        "upsert": {"prices": [{"list": "pub", "sku": "A", "price": "11"}]}}"#;
    assert_eq!(
        problems(&engine, stale),
        [("VERSION_MISMATCH".to_string(), "engine_version".to_string())]
    );
    let fresh = stale.replace("t1-0000000000000000", engine.engine_version());
    let next = engine
        .apply(&fresh, &CompileOptions::default())
        .unwrap()
        .engine;
    let quote = next.quote(&QuoteRequest::new("C", "A", 1.into())).unwrap();
    assert_eq!(quote.unit_price.to_string(), "12.10");
    // The engine it was applied to still answers as before.
    let quote = engine
        .quote(&QuoteRequest::new("C", "A", 1.into()))
        .unwrap();
    assert_eq!(quote.unit_price.to_string(), "11.00");
}

#[test]
fn an_engine_without_its_document_cannot_take_changes() {
    let doc = r#"{"format": "tarif/1"}"#;
    let options = CompileOptions {
        discard_source: true,
        ..CompileOptions::default()
    };
    let engine = Engine::compile(doc, &options).unwrap().engine;
    assert_eq!(engine.source(), None);
    assert_eq!(
        problems(&engine, r#"{"format": "tarif/1-changes"}"#),
        [("NO_SOURCE".to_string(), String::new())]
    );
    assert_eq!(
        engine.diff(&engine).unwrap_err().diagnostics[0].code.code(),
        "NO_SOURCE"
    );
}

#[test]
fn the_diff_of_an_applied_change_names_what_it_changed() {
    let engine = sample();
    let next = engine
        .apply(
            r#"{"format": "tarif/1-changes",
                "upsert": {"products": [{"sku": "N"}], "prices": [{"list": "pub", "sku": "A", "price": "11"}],
                           "rules": [{"contract": "k", "id": "r1", "step": "discount", "products": "all", "percent": "12"}],
                           "price_lists": [{"id": "pub", "currency": "EUR", "name": "Public"}]},
                "delete": {"prices": [{"list": "pub", "sku": "B"}]}}"#,
            &CompileOptions::default(),
        )
        .unwrap()
        .engine;
    let diff: Vec<String> = engine
        .diff(&next)
        .unwrap()
        .changes
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        diff,
        [
            "added products[N]",
            "modified price_lists[pub]",
            "modified prices[pub/A]",
            "removed prices[pub/B]",
            "modified rules[k/r1]",
        ]
    );
    // A change that changes nothing: same version, empty diff.
    let same = engine
        .apply(
            r#"{"format": "tarif/1-changes"}"#,
            &CompileOptions::default(),
        )
        .unwrap()
        .engine;
    assert_eq!(same.engine_version(), engine.engine_version());
    assert!(engine.diff(&same).unwrap().is_empty());
}

#[test]
fn stock_records_are_upserted_and_deleted_by_sku_and_go_with_their_product() {
    let engine = Engine::from_json(
        r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
        "settings": {"default_price_lists": ["pub"]},
        "products": [{"sku": "A"}, {"sku": "B"}, {"sku": "D"}],
        "price_lists": [{"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}, {"sku": "D", "price": "5"}]}],
        "stock": [{"sku": "A", "available": "5"}, {"sku": "B", "available": "1"}, {"sku": "D", "available": "2"}],
        "accounts": [{"id": "C"}]}"#,
    )
    .unwrap();
    let next = engine
        .apply(
            r#"{"format": "tarif/1-changes",
                "upsert": {"stock": [{"sku": "A", "warehouses": [{"id": "LYON", "available": "1", "lead_time_days": 4}]}]},
                "delete": {"stock": ["B"], "products": ["D"]}}"#,
            &CompileOptions::default(),
        )
        .unwrap()
        .engine;
    let quote = |sku: &str| next.quote(&QuoteRequest::new("C", sku, 3.into()));
    let a = quote("A").unwrap();
    let stock = a.stock.unwrap();
    assert_eq!(
        (stock.available, stock.backorder, stock.lead_time_days),
        (1.into(), 2.into(), Some(4))
    );
    // The price never moves with the stock.
    assert_eq!(a.line_total.to_string(), "30.00");
    assert!(quote("B").unwrap().stock.is_none());
    // D went, and its stock record with it: the merged document compiles.
    assert_eq!(quote("D").unwrap_err().code(), "UNKNOWN_PRODUCT");
    let diff: Vec<String> = engine
        .diff(&next)
        .unwrap()
        .changes
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        diff,
        [
            "removed products[D]",
            "removed prices[pub/D]",
            "modified stock[A]",
            "removed stock[B]",
            "removed stock[D]",
        ]
    );
}
