//! `search` and `related` on random catalogs, against a brute-force scan of every product with
//! the reference evaluator's visibility: rows, order, totals, facet counts, cursors, variants.

mod common;

use common::Rng;
use proptest::prelude::*;
use serde_json::{json, Value};
use tarif::{Capability, Facet, Filter, RelationKind, SearchQuery, Sort};
use tarif_conformance::search::{engine_related, engine_search};
use tarif_reference::search::BruteForce;
use tarif_reference::Reference;

const CATEGORIES: [(&str, Option<&str>); 5] = [
    ("root", None),
    ("a", Some("root")),
    ("a1", Some("a")),
    ("b", Some("root")),
    ("other", None),
];
const COLORS: [&str; 4] = ["red", "blue", "green", "18"];
const VOLTS: [&str; 5] = ["12", "18", "36", "2.5", "18.0"];
const BRANDS: [&str; 3] = ["Bosch", "Makita", "NoName"];
const FAMILIES: [&str; 3] = ["F1", "F2", "F3"];
const ACCOUNTS: [&str; 4] = ["A", "A1", "B", "C"];
const INSTANTS: [&str; 3] = ["2026-01-15", "2026-06-15", "2027-02-01"];

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    *rng.pick(items)
}

fn selector(rng: &mut Rng, skus: &[String]) -> Value {
    match rng.below(6) {
        0 => json!({"sku": rng.pick(skus)}),
        1 => json!({"category": pick(rng, &CATEGORIES).0}),
        2 => json!({"brand": pick(rng, &BRANDS)}),
        3 => json!({"family": pick(rng, &FAMILIES)}),
        4 => json!({"attr": {"key": "color", "eq": pick(rng, &COLORS)}}),
        _ => "all".into(),
    }
}

fn document(rng: &mut Rng) -> Value {
    let count = 4 + rng.below(22) as usize;
    let skus: Vec<String> = (0..count)
        .map(|i| format!("{}-{}", pick(rng, &["P", "Q", "p"]), (i * 7919) % 97))
        .collect();
    let mut products = Vec::new();
    let mut stock = Vec::new();
    for (i, sku) in skus.iter().enumerate() {
        let mut attrs = serde_json::Map::new();
        if rng.chance(80) {
            let v: Value = if rng.chance(20) {
                json!([
                    pick(rng, &VOLTS).parse::<f64>().unwrap_or(0.0),
                    pick(rng, &VOLTS).parse::<f64>().unwrap_or(0.0)
                ])
            } else {
                serde_json::from_str(pick(rng, &VOLTS)).unwrap_or(Value::Null)
            };
            attrs.insert("voltage".into(), v);
        }
        if rng.chance(75) {
            let c: Value = if rng.chance(25) {
                json!([pick(rng, &COLORS), pick(rng, &COLORS)])
            } else {
                json!(pick(rng, &COLORS))
            };
            attrs.insert("color".into(), c);
        }
        if rng.chance(50) {
            attrs.insert("kit".into(), json!(rng.chance(50)));
        }
        let mut p = json!({"sku": sku, "attrs": attrs,
            "categories": [pick(rng, &CATEGORIES).0], "brand": pick(rng, &BRANDS)});
        if rng.chance(60) {
            p["family"] = json!(pick(rng, &FAMILIES));
            p["axes"] = json!({"n": format!("{i}")});
        }
        if rng.chance(30) {
            p["mpn"] = json!(format!("M{}-{}", rng.below(5), i));
        }
        if rng.chance(20) {
            p["ean"] = json!(format!("{:013}", 3_400_000_000_000u64 + rng.below(1000)));
        }
        let mut relations = serde_json::Map::new();
        for kind in ["accessories", "compatible", "requires", "excludes"] {
            if rng.chance(40) {
                let list: Vec<&String> = (0..1 + rng.below(3)).map(|_| rng.pick(&skus)).collect();
                relations.insert(kind.into(), json!(list));
            }
        }
        // Successors only point forward in document order: no cycle.
        if i + 1 < count && rng.chance(40) {
            let to = i + 1 + rng.below((count - i - 1) as u64) as usize;
            relations.insert("replaced_by".into(), json!(skus.get(to)));
        }
        if !relations.is_empty() {
            p["relations"] = Value::Object(relations);
        }
        products.push(p);
        // Tracked or not; in stock, out of stock, or in stock in one warehouse only.
        match rng.below(4) {
            0 => {}
            1 => stock.push(json!({"sku": sku, "available": pick(rng, &["0", "2", "0.5"])})),
            _ => stock.push(json!({"sku": sku, "warehouses": [
                {"id": "W1", "available": pick(rng, &["0", "1"])},
                {"id": "W2", "available": pick(rng, &["0", "0.0", "3"])}]})),
        }
    }
    let mut contracts = Vec::new();
    for (c, audience) in [
        json!("all"),
        json!({"segments": ["s"]}),
        json!({"accounts": ["A"]}),
        json!({"accounts": ["A1"]}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut rules = Vec::new();
        for _ in 0..rng.below(4) {
            let mut rule = json!({"effect": pick(rng, &["allow", "deny"]),
                "products": selector(rng, &skus)});
            if rng.chance(50) {
                rule["capabilities"] = json!([pick(rng, &["see", "price", "buy"])]);
            }
            if rng.chance(25) {
                rule["valid"] = json!({"from": "2026-06-01"});
            }
            rules.push(rule);
        }
        contracts.push(json!({"id": format!("k{c}"), "audience": audience, "visibility": rules}));
    }
    let mut settings = json!({"default_visibility": pick(rng, &["open", "closed"])});
    if rng.chance(30) {
        settings["facets"] = json!({"attributes": ["color", "kit"], "numeric": ["voltage"]});
    }
    json!({"format": "tarif/1", "settings": settings,
        "categories": CATEGORIES.iter().map(|(id, parent)| json!({"id": id, "parent": parent})).collect::<Vec<_>>(),
        "products": products,
        "segments": [{"id": "s"}],
        "accounts": [{"id": "A", "segments": ["s"]}, {"id": "A1", "parent": "A"}, {"id": "B", "segments": ["s"]}, {"id": "C"}],
        "contracts": contracts, "stock": stock})
}

fn query(rng: &mut Rng, skus: &[&str]) -> SearchQuery {
    let mut q = SearchQuery::new();
    for _ in 0..rng.below(3) {
        q = q.filter(match rng.below(7) {
            0 => Filter::any_of("color", [pick(rng, &COLORS), pick(rng, &COLORS)]),
            1 => {
                let bound = |rng: &mut Rng| {
                    rng.chance(70)
                        .then(|| pick(rng, &VOLTS).parse().unwrap_or_default())
                };
                Filter::range("voltage", bound(rng), bound(rng))
            }
            2 => Filter::any_of("voltage", [pick(rng, &VOLTS)]),
            3 => Filter::Category(vec![pick(rng, &CATEGORIES).0.into()]),
            4 => Filter::Brand(vec![pick(rng, &BRANDS).into(), pick(rng, &BRANDS).into()]),
            5 => Filter::InStock,
            _ => Filter::Family(vec![pick(rng, &FAMILIES).into()]),
        });
    }
    if rng.chance(20) {
        let sku = pick(rng, skus);
        let len = 1 + rng.below(sku.len() as u64) as usize;
        q = q.text(&sku.chars().take(len).collect::<String>().to_lowercase());
    }
    q = q
        .capability(pick(
            rng,
            &[Capability::See, Capability::Price, Capability::Buy],
        ))
        .sort(match rng.below(3) {
            0 => Sort::Sku,
            n => Sort::Attr {
                name: pick(rng, &["voltage", "voltage", "color"]).into(),
                descending: n == 2,
            },
        })
        .page(rng.below(4) as usize, 1 + rng.below(6) as usize)
        .group_variants(rng.chance(40));
    for facet in [
        Facet::attr("color"),
        Facet::attr("voltage"),
        Facet::attr("kit"),
        Facet::Category,
        Facet::Brand,
        Facet::Family,
        Facet::InStock,
    ] {
        if rng.chance(60) {
            q = q.facet(facet);
        }
    }
    q
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn search_and_related_match_a_brute_force_scan(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let doc = document(&mut rng);
        let text = doc.to_string();
        let engine = tarif::Engine::from_json(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let reference = Reference::from_json(&text).ok_or_else(|| TestCaseError::fail("reference"))?;
        let brute = BruteForce::new(&reference);
        let skus: Vec<&str> = engine.skus().collect();
        for _ in 0..6 {
            let account = pick(&mut rng, &ACCOUNTS);
            let at = engine.parse_instant(pick(&mut rng, &INSTANTS)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let q = query(&mut rng, &skus);
            let walk = 1 + rng.below(4) as usize;
            let got = engine_search(&engine, account, &q, at, Some(walk));
            let want = brute.search(account, &q, at, true);
            prop_assert_eq!(&got, &want, "seed {} account {} query {:?}", seed, account, q);
            let sku = pick(&mut rng, &skus);
            for kind in [RelationKind::Requires, RelationKind::Accessories, RelationKind::Compatible,
                         RelationKind::Excludes, RelationKind::Replacement] {
                prop_assert_eq!(
                    engine_related(&engine, account, sku, kind, at),
                    brute.related(account, sku, kind, at),
                    "seed {} account {} sku {} {:?}", seed, account, sku, kind
                );
            }
        }
    }
}
