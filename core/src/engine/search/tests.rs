use std::sync::Arc;

use roaring::RoaringBitmap;
use rust_decimal::Decimal;

use super::cache::{Dimension, FILTER_CACHE_BYTES, VISIBLE_CACHE_BYTES};
use super::*;
use crate::error::Status;
use crate::index::search::{Named, ValueColumn};
use crate::index::Id;
use crate::model::Capability;
use tarif_sample::{self as sample, showcase};

fn engine(json: &str) -> Engine {
    Engine::from_json(json).unwrap()
}

const SMALL: &str = r#"{"format": "tarif/1",
  "settings": {"default_visibility": "closed"},
  "categories": [{"id": "tools"}, {"id": "drills", "parent": "tools"}, {"id": "misc"}],
  "products": [
    {"sku": "D3", "family": "D", "axes": {"v": "18V"}, "categories": ["drills"], "brand": "B",
     "attrs": {"voltage": 18, "color": "red", "tags": ["a", "b"]}},
    {"sku": "D1", "family": "D", "axes": {"v": "12V"}, "categories": ["drills"], "brand": "B",
     "attrs": {"voltage": 12, "color": "blue", "tags": ["b"]}},
    {"sku": "D2", "family": "D", "axes": {"v": "36V"}, "categories": ["drills"], "brand": "M",
     "attrs": {"voltage": 36, "color": "red"}},
    {"sku": "X1", "categories": ["misc"], "brand": "M", "mpn": "mp-77", "attrs": {"color": "red"}},
    {"sku": "X0", "categories": ["tools"], "brand": "B", "attrs": {"voltage": 12}}],
  "accounts": [{"id": "K"}, {"id": "L"}],
  "contracts": [
    {"id": "all", "audience": "all", "visibility": [{"effect": "allow", "products": "all"}]},
    {"id": "k", "audience": {"accounts": ["K"]}, "visibility": [
      {"effect": "deny", "products": {"sku": "D2"}},
      {"effect": "deny", "products": {"brand": "M"}, "capabilities": ["buy"]}]}]}"#;

fn skus(page: &SearchPage) -> Vec<&str> {
    page.rows.iter().map(|r| r.sku.as_str()).collect()
}

#[test]
fn visible_sets_equal_capabilities_product_by_product() {
    let engine = Engine::from_json(&sample::distributor().to_string()).unwrap();
    let at = engine.parse_instant(showcase::AT).unwrap();
    for (_, def) in engine.index.audiences.accounts.iter().enumerate().take(12) {
        for capability in [Capability::See, Capability::Price, Capability::Buy] {
            let set = engine.visible_set(def, capability, at);
            for p in engine.index.catalog.skus.ids() {
                let caps = engine.capabilities(def, p, at);
                let want = match capability {
                    Capability::See => caps.see,
                    Capability::Price => caps.price,
                    Capability::Buy => caps.buy,
                };
                let pos = engine.index.search.position[p.index()];
                assert_eq!(set.contains(pos), want, "{} {p:?} {capability:?}", def.id);
            }
        }
    }
}

#[test]
fn facet_counts_by_column_equal_counts_by_sets() {
    for e in [
        engine(SMALL),
        Engine::from_json(&sample::distributor().to_string()).unwrap(),
    ] {
        let index = &e.index.search;
        let positions = index.order.len() as u32;
        let mut dimensions: Vec<&Named> = vec![&index.brands, &index.categories, &index.families];
        dimensions.extend(index.attrs.values().map(|a| &a.values));
        let mut lists = false;
        for named in dimensions {
            lists |= matches!(named.column, ValueColumn::Lists { .. });
            assert!(!matches!(named.column, ValueColumn::Absent));
            // Every density, from nothing to the whole catalog, and every value's own set.
            let mut bases: Vec<RoaringBitmap> = (0..=8u64)
                .map(|k| {
                    (0..positions)
                        .filter(|&p| {
                            (u64::from(p).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 8 < k
                        })
                        .collect()
                })
                .collect();
            bases.extend(named.sets.iter().cloned());
            for base in &bases {
                assert_eq!(named.counts_by_column(base), named.counts_by_sets(base));
                assert_eq!(named.counts(base), named.counts_by_sets(base));
            }
        }
        assert!(lists, "categories list their ancestors too");
    }
}

#[test]
fn facet_counts_scan_small_sets_and_intersect_large_ones() {
    let mut named = Named::default();
    let positions = 1u32 << 20;
    named.sets = (0..4u32)
        .map(|v| (0..positions).filter(|p| p % 4 == v).collect())
        .collect();
    named.column = ValueColumn::of(&named.sets, positions as usize);
    let few: RoaringBitmap = (0..positions).step_by(4099).collect();
    let all: RoaringBitmap = (0..positions).collect();
    assert!(named.scans(&few));
    assert!(!named.scans(&all));
    for base in [few, all, RoaringBitmap::new()] {
        assert_eq!(named.counts(&base), named.counts_by_sets(&base));
        assert_eq!(named.counts_by_column(&base), named.counts_by_sets(&base));
    }
}

/// Dense sets (more than 4,096 members in a chunk) take the other intersection order and
/// the walk over an unbuilt last intersection; small catalogs never reach either.
#[test]
fn dense_filters_page_count_and_walk_like_a_scan() {
    let count = 12_000u64;
    let attrs = |i: u64| {
        let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        (["x", "y"][(h % 2) as usize], 1 + (h / 2) % 3, h / 6 % 4)
    };
    let products: Vec<String> = (0..count)
        .map(|i| {
            let (color, volt, cat) = attrs(i);
            format!(
                r#"{{"sku": "S{i:05}", "categories": ["c{cat}"],
                    "attrs": {{"color": "{color}", "volt": {volt}}}}}"#
            )
        })
        .collect();
    let e = engine(&format!(
        r#"{{"format": "tarif/1", "categories": [{{"id": "c0"}}, {{"id": "c1"}}, {{"id": "c2"}},
            {{"id": "c3"}}], "products": [{}], "accounts": [{{"id": "K"}}],
            "contracts": [{{"id": "k", "audience": "all", "visibility": [
              {{"effect": "deny", "products": {{"category": "c3"}}}}]}}]}}"#,
        products.join(",")
    ));
    type Keeps = fn(&str, u64, u64) -> bool;
    let queries: [(SearchQuery, Keeps); 3] = [
        (
            SearchQuery::new()
                .filter(Filter::any_of("color", ["x"]))
                .filter(Filter::range("volt", Some(1.into()), Some(2.into()))),
            |color, volt, _| color == "x" && volt <= 2,
        ),
        (
            SearchQuery::new()
                .filter(Filter::any_of("color", ["x", "y"]))
                .filter(Filter::Category(vec!["c0".into(), "c1".into()]))
                .filter(Filter::any_of("volt", ["2", "3"])),
            |_, volt, cat| cat < 2 && volt >= 2,
        ),
        (
            SearchQuery::new().filter(Filter::Category(vec!["c3".into()])),
            |_, _, _| false,
        ),
    ];
    for (query, keeps) in queries {
        let expected: Vec<String> = (0..count)
            .filter(|&i| {
                let (color, volt, cat) = attrs(i);
                cat != 3 && keeps(color, volt, cat)
            })
            .map(|i| format!("S{i:05}"))
            .collect();
        let first = e.search("K", &query, None).unwrap();
        assert_eq!(first.total, expected.len() as u64, "{query:?}");
        assert_eq!(skus(&first), expected[..expected.len().min(20)]);
        let offset = e.search("K", &query.clone().page(100, 7), None).unwrap();
        assert_eq!(
            skus(&offset),
            expected[100.min(expected.len())..107.min(expected.len())]
        );
        // A facet over the matching set builds it: the same page either way.
        let built = query.clone().facet(Facet::Family);
        assert_eq!(e.search("K", &built, None).unwrap().rows, first.rows);
        let colors = e
            .search("K", &query.clone().facet(Facet::attr("color")), None)
            .unwrap();
        let without_color = (0..count).filter(|&i| {
            let (_, volt, cat) = attrs(i);
            cat != 3 && ["x", "y"].iter().any(|c| keeps(c, volt, cat))
        });
        let x = without_color.clone().filter(|&i| attrs(i).0 == "x").count() as u64;
        let y = without_color.count() as u64 - x;
        let counted: Vec<(&str, u64)> = colors.facets[0]
            .values
            .iter()
            .map(|v| (v.value.as_str(), v.count))
            .collect();
        let want: Vec<(&str, u64)> = [("x", x), ("y", y)]
            .into_iter()
            .filter(|&(_, n)| n > 0)
            .collect();
        assert_eq!(counted, want, "{query:?}");
        let mut walked = Vec::new();
        let mut page = first;
        loop {
            walked.extend(page.rows.iter().map(|r| r.sku.clone()));
            let Some(next) = page.next.clone() else { break };
            page = e
                .search("K", &query.clone().page(0, 997).after(next), None)
                .unwrap();
        }
        assert_eq!(walked, expected, "{query:?}");
    }
}

#[test]
fn the_engine_caches_stay_within_their_bounds() {
    let e = engine(SMALL);
    let key = |id: u32| -> FilterKey {
        smallvec::smallvec![Part::Members(Dimension::Brand, smallvec::smallvec![id])]
    };
    let kept = e
        .caches
        .filtered
        .get_or_build(key(u32::MAX), RoaringBitmap::new);
    for id in 0..100_000 {
        e.caches
            .filtered
            .get_or_build(key(id), || RoaringBitmap::from_iter([id]));
        // Used between every two new entries: never the least recently used.
        assert!(Arc::ptr_eq(
            &e.caches
                .filtered
                .get_or_build(key(u32::MAX), RoaringBitmap::new),
            &kept
        ));
    }
    assert!(e.caches.filtered.bytes() <= FILTER_CACHE_BYTES);
    for account in ["K", "L"] {
        e.search(account, &SearchQuery::new(), None).unwrap();
    }
    assert!(e.caches.visible.bytes() <= VISIBLE_CACHE_BYTES);
}

#[test]
fn filters_combine_and_hidden_products_never_count() {
    let e = engine(SMALL);
    let q = SearchQuery::new()
        .filter(Filter::any_of("color", ["red", "blue"]))
        .facet(Facet::attr("color"))
        .facet(Facet::Brand)
        .facet(Facet::Category);
    let page = e.search("K", &q, None).unwrap();
    assert_eq!(skus(&page), ["D1", "D3", "X1"]);
    let counts = |i: usize| -> Vec<(String, u64)> {
        page.facets[i]
            .values
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect()
    };
    // Own-facet exclusion: X0 has no color, so the color counts are over the same set.
    assert_eq!(counts(0), [("blue".into(), 1), ("red".into(), 2)]);
    assert_eq!(counts(1), [("B".into(), 2), ("M".into(), 1)]);
    assert_eq!(
        counts(2),
        [
            ("drills".into(), 2),
            ("misc".into(), 1),
            ("tools".into(), 2)
        ]
    );
    let l = e.search("L", &q, None).unwrap();
    assert_eq!(l.total, 4, "D2 is visible to L");
    let buy = e
        .search("K", &q.clone().capability(Capability::Buy), None)
        .unwrap();
    assert_eq!(skus(&buy), ["D1", "D3"]);
}

#[test]
fn ranges_lists_text_and_numeric_sort() {
    let e = engine(SMALL);
    let q = SearchQuery::new().filter(Filter::range("voltage", Some(12.into()), Some(18.into())));
    assert_eq!(skus(&e.search("L", &q, None).unwrap()), ["D1", "D3", "X0"]);
    let q = SearchQuery::new().filter(Filter::any_of("voltage", ["18.0"]));
    assert_eq!(skus(&e.search("L", &q, None).unwrap()), ["D3"]);
    let q = SearchQuery::new().filter(Filter::any_of("tags", ["b"]));
    assert_eq!(skus(&e.search("L", &q, None).unwrap()), ["D1", "D3"]);
    let q = SearchQuery::new().text("mp-");
    assert_eq!(skus(&e.search("L", &q, None).unwrap()), ["X1"]);
    let q = SearchQuery::new().filter(Filter::Category(vec!["tools".into()]));
    assert_eq!(e.search("L", &q, None).unwrap().total, 4);
    let sort = |descending| {
        SearchQuery::new().sort(Sort::Attr {
            name: "voltage".into(),
            descending,
        })
    };
    assert_eq!(
        skus(&e.search("L", &sort(false), None).unwrap()),
        ["D1", "X0", "D3", "D2", "X1"]
    );
    assert_eq!(
        skus(&e.search("L", &sort(true), None).unwrap()),
        ["D2", "D3", "D1", "X0", "X1"]
    );
}

#[test]
fn cursor_pages_cover_every_row_once_in_every_order() {
    let engine = Engine::from_json(&sample::distributor().to_string()).unwrap();
    let at = engine.parse_instant(showcase::AT).ok();
    let account = showcase::INSTALLER_BRANCH;
    for sort in [
        Sort::Sku,
        Sort::Attr {
            name: "voltage".into(),
            descending: false,
        },
        Sort::Attr {
            name: "power_w".into(),
            descending: true,
        },
    ] {
        for group in [false, true] {
            let base = SearchQuery::new().sort(sort.clone()).group_variants(group);
            let all = engine
                .search(account, &base.clone().page(0, 100_000), at)
                .unwrap();
            let mut walked = Vec::new();
            let mut query = base.clone().page(0, 97);
            loop {
                let page = engine.search(account, &query, at).unwrap();
                assert_eq!(page.total, all.total);
                walked.extend(page.rows.into_iter().map(|r| r.sku));
                match page.next {
                    Some(c) => query = base.clone().page(0, 97).after(c),
                    None => break,
                }
            }
            let expected: Vec<String> = all.rows.into_iter().map(|r| r.sku).collect();
            assert_eq!(walked.len() as u64, all.total);
            assert_eq!(walked, expected, "{sort:?} grouped={group}");
            let offset = engine
                .search(account, &base.clone().page(40, 10), at)
                .unwrap();
            let by_offset: Vec<String> = offset.rows.into_iter().map(|r| r.sku).collect();
            assert_eq!(by_offset, expected[40..50]);
        }
    }
}

#[test]
fn variants_group_by_family_without_hidden_ones() {
    let e = engine(SMALL);
    let q = SearchQuery::new().group_variants(true).prices(Decimal::ONE);
    let page = e.search("K", &q, None).unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(skus(&page), ["D1", "X0", "X1"]);
    let variants: Vec<(&str, &str)> = page.rows[0]
        .variants
        .iter()
        .map(|v| (v.sku.as_str(), v.axes[0].1.as_str()))
        .collect();
    assert_eq!(variants, [("D1", "12V"), ("D3", "18V")]);
    // No price list: the batch path reports NO_PRICE per row instead of failing the page.
    assert_eq!(page.rows[0].price.as_ref().unwrap().status, Status::NoPrice);
}

#[test]
fn related_products_follow_visibility() {
    let e = engine(
        r#"{"format": "tarif/1", "products": [
          {"sku": "A", "relations": {"accessories": ["B", "C", "B"], "requires": ["C"],
                                      "replaced_by": "B"}},
          {"sku": "B", "relations": {"replaced_by": "D"}}, {"sku": "C"}, {"sku": "D"}],
          "accounts": [{"id": "K"}],
          "contracts": [{"id": "k", "audience": "all", "visibility": [
            {"effect": "deny", "products": {"sku": "C"}},
            {"effect": "deny", "products": {"sku": "B"}, "capabilities": ["buy"]},
            {"effect": "deny", "products": {"sku": "D"}, "capabilities": ["buy"]}]}]}"#,
    );
    let related = |sku, kind| -> Vec<String> {
        e.related("K", sku, kind, None)
            .unwrap()
            .into_iter()
            .map(|r| r.sku)
            .collect()
    };
    assert_eq!(related("A", RelationKind::Accessories), ["B"]);
    assert!(related("A", RelationKind::Requires).is_empty());
    assert!(
        related("A", RelationKind::Replacement).is_empty(),
        "nothing buyable"
    );
    assert_eq!(
        e.related("K", "C", RelationKind::Accessories, None)
            .unwrap_err()
            .code(),
        "UNKNOWN_PRODUCT"
    );
}

#[test]
fn unknown_relations_and_replacement_cycles_are_reported() {
    let err = Engine::from_json(
        r#"{"format": "tarif/1", "products": [
          {"sku": "A", "relations": {"accessories": ["A", "NOPE"], "replaced_by": "B"}},
          {"sku": "B", "relations": {"replaced_by": "C"}},
          {"sku": "C", "relations": {"replaced_by": "A", "excludes": ["GONE"]}}]}"#,
    )
    .unwrap_err();
    let found: Vec<(&str, &str)> = err
        .diagnostics
        .iter()
        .map(|d| (d.code.code(), d.path.as_str()))
        .collect();
    assert!(found.contains(&("UNKNOWN_REFERENCE", "products[0].relations.accessories[1]")));
    assert!(found.contains(&("UNKNOWN_REFERENCE", "products[2].relations.excludes[0]")));
    assert!(found.contains(&("REPLACEMENT_CYCLE", "products[0].relations.replaced_by")));
    assert_eq!(
        found.iter().filter(|d| d.0 == "REPLACEMENT_CYCLE").count(),
        1
    );
}

#[test]
fn cursors_round_trip() {
    for text in ["s:A:B", "v:-1.5:X", "n:"] {
        assert_eq!(text.parse::<Cursor>().unwrap().to_string(), text);
    }
    assert!("v:x:A".parse::<Cursor>().is_err());
}

#[test]
fn in_stock_filters_and_counts_tracked_products_with_stock() {
    // D1 in stock, D3 in stock in one warehouse only, X1 out of stock, the others untracked;
    // K does not see D2.
    let json = SMALL.replacen(
        r#""accounts""#,
        r#""stock": [{"sku": "D1", "available": "2"},
          {"sku": "D3", "warehouses": [{"id": "W1", "available": 0}, {"id": "W2", "available": "0.5"}]},
          {"sku": "D2", "available": 9},
          {"sku": "X1", "available": "0"}],
        "accounts""#,
        1,
    );
    let e = engine(&json);
    let query = SearchQuery::new()
        .filter(Filter::InStock)
        .facet(Facet::InStock)
        .facet(Facet::Brand);
    let page = e.search("K", &query, None).unwrap();
    assert_eq!(skus(&page), ["D1", "D3"]);
    // The in-stock facet leaves out its own filter; the brand facet does not.
    let counts = |f: &FacetCounts| {
        f.values
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        counts(&page.facets[0]),
        [("false".into(), 2), ("true".into(), 2)]
    );
    assert_eq!(counts(&page.facets[1]), [("B".into(), 2)]);
    // With another filter that leaves none in stock, the selected value stays listed at zero.
    let none = SearchQuery::new()
        .filter(Filter::InStock)
        .filter(Filter::Category(vec!["misc".into()]))
        .facet(Facet::InStock);
    let page = e.search("K", &none, None).unwrap();
    assert_eq!(page.total, 0);
    assert_eq!(
        counts(&page.facets[0]),
        [("false".into(), 1), ("true".into(), 0)]
    );
    // Without stock records nothing is in stock.
    let page = engine(SMALL).search("K", &query, None).unwrap();
    assert_eq!(page.total, 0);
    assert_eq!(counts(&page.facets[0]), [("false".into(), 4)]);
}
