//! `Engine::apply` against compiling from scratch: on random documents and random sequences of
//! `tarif/1-changes`, applying the changes one after another gives the engine that compiling
//! the merged document gives (same `engine_version`, same answers), or both are rejected with
//! the same codes. The merged document is built here on `serde_json::Value`, independently of
//! the engine's text-level merge, following docs/spec.md §13.

mod common;

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tarif::{CompileOptions, Engine, QuoteRequest};

use common::{Rng, SKUS};

const KEYED: [(&str, &str); 7] = [
    ("currencies", "code"),
    ("categories", "id"),
    ("products", "sku"),
    ("price_lists", "id"),
    ("segments", "id"),
    ("accounts", "id"),
    ("contracts", "id"),
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

fn key_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
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
        if deletes.is_empty() && upserts.is_empty() {
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

/// A random change to `doc`, drawing new content from another random document. It may well
/// produce an invalid document (a deleted product still named by a rule): then both ways must
/// reject it.
fn random_changes(doc: &Value, rng: &mut Rng, seed: u64) -> Value {
    let other = common::document(seed);
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
    for n in 0..rng.below(5) + 1 {
        match rng.below(11) {
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
                        touched.insert(("prices".into(), format!("{list}/{sku}")));
                        push(
                            &mut upsert,
                            "prices",
                            json!({"list": list, "sku": sku, "price": rng.money(90)}),
                        );
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
                    for _ in 0..rng.below(2) + 1 {
                        let mut e = json!({"list": list, "sku": sku, "price": rng.money(150)});
                        if rng.chance(30) {
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
    let mut changes = json!({"format": "tarif/1-changes", "upsert": upsert, "delete": delete});
    if let Some(s) = settings {
        changes["settings"] = s;
    }
    changes
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
    let mut engine = Engine::from_json(&doc.to_string()).unwrap();
    let mut rng = Rng::new(seed ^ 0x0C4A_46E5);
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
