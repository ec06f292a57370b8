//! `search` and `related` for the fixtures: the query format and the engine's answers in the
//! fixtures' shape. The brute-force oracle they are compared with is
//! `tarif_reference::search::BruteForce`.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use tarif::money::parse_decimal;
use tarif::{Capability, Cursor, Facet, Filter, Instant, RelationKind, SearchQuery, Sort};
use tarif_reference::search::facet_name;

/// Reads a fixture query (format in `fixtures/README.md`).
pub fn parse_query(value: &Value) -> Result<SearchQuery, String> {
    let mut q = SearchQuery::new();
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| match s {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect()
    };
    let decimal = |v: Option<&Value>| -> Result<Option<Decimal>, String> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_decimal(s).map(Some).ok_or(format!("bad decimal {s}")),
            Some(Value::Number(n)) => parse_decimal(&n.to_string())
                .map(Some)
                .ok_or(format!("bad decimal {n}")),
            Some(other) => Err(format!("bad decimal {other}")),
        }
    };
    for f in value
        .get("filters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let filter = if let Some(name) = f.get("attr").and_then(Value::as_str) {
            if f.get("any_of").is_some() {
                Filter::any_of(name, strings(f.get("any_of")))
            } else {
                Filter::range(name, decimal(f.get("min"))?, decimal(f.get("max"))?)
            }
        } else if f.get("category").is_some() {
            Filter::Category(strings(f.get("category")))
        } else if f.get("brand").is_some() {
            Filter::Brand(strings(f.get("brand")))
        } else if f.get("family").is_some() {
            Filter::Family(strings(f.get("family")))
        } else if f.get("in_stock") == Some(&Value::Bool(true)) {
            Filter::InStock
        } else {
            return Err(format!("unknown filter {f}"));
        };
        q = q.filter(filter);
    }
    if let Some(text) = value.get("text").and_then(Value::as_str) {
        q = q.text(text);
    }
    q = q.capability(match value.get("capability").and_then(Value::as_str) {
        None => Capability::See,
        Some(name) => name.parse().map_err(|e| format!("{e}"))?,
    });
    match value.get("sort") {
        None => {}
        Some(Value::String(s)) if s == "sku" => {}
        Some(sort) => {
            let name = sort
                .get("attr")
                .and_then(Value::as_str)
                .ok_or(format!("bad sort {sort}"))?;
            q = q.sort(Sort::Attr {
                name: name.into(),
                descending: sort.get("descending").and_then(Value::as_bool) == Some(true),
            });
        }
    }
    let number = |key: &str, default: usize| {
        value
            .get(key)
            .and_then(Value::as_u64)
            .map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
    };
    q = q.page(number("offset", 0), number("limit", 20));
    if let Some(cursor) = value.get("cursor").and_then(Value::as_str) {
        q = q.after(cursor.parse::<Cursor>().map_err(|e| e.to_string())?);
    }
    for f in value
        .get("facets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        q = q.facet(match f {
            Value::String(s) if s == "brand" => Facet::Brand,
            Value::String(s) if s == "category" => Facet::Category,
            Value::String(s) if s == "family" => Facet::Family,
            Value::String(s) if s == "in_stock" => Facet::InStock,
            other => Facet::attr(
                other
                    .get("attr")
                    .and_then(Value::as_str)
                    .ok_or(format!("bad facet {other}"))?,
            ),
        });
    }
    q = q.group_variants(value.get("group_variants").and_then(Value::as_bool) == Some(true));
    if let Some(prices) = value.get("prices") {
        q.price_qty = decimal(prices.get("qty"))?;
        q.currency = prices
            .get("currency")
            .and_then(Value::as_str)
            .map(String::from);
    }
    Ok(q)
}

/// The fixture name of a relation kind.
pub fn relation_kind(name: &str) -> Option<RelationKind> {
    name.parse().ok()
}

/// The engine's answer: `{"total", "skus", "facets", "variants"?, "prices"?, "walk"?}`.
/// `walk` pages through the whole result with cursors, `walk` rows at a time.
pub fn engine_search(
    engine: &tarif::Engine,
    account: &str,
    query: &SearchQuery,
    at: Instant,
    walk: Option<usize>,
) -> Value {
    let page = match engine.search(account, query, Some(at)) {
        Ok(page) => page,
        Err(e) => return json!({ "error": e.code() }),
    };
    let mut facets = Map::new();
    for counts in &page.facets {
        let values: Map<String, Value> = counts
            .values
            .iter()
            .map(|v| (v.value.clone(), json!(v.count)))
            .collect();
        facets.insert(facet_name(&counts.facet), Value::Object(values));
    }
    let mut answer = json!({
        "total": page.total,
        "skus": page.rows.iter().map(|r| r.sku.clone()).collect::<Vec<_>>(),
        "facets": facets,
    });
    if query.group_variants {
        answer["variants"] = json!(page
            .rows
            .iter()
            .map(|r| r.variants.iter().map(|v| v.sku.clone()).collect::<Vec<_>>())
            .collect::<Vec<_>>());
    }
    if query.price_qty.is_some() {
        answer["prices"] = json!(page
            .rows
            .iter()
            .map(|r| match &r.price {
                Some(p) if p.status == tarif::Status::Ok => p.unit_price.to_string(),
                Some(p) => p.status.code().to_string(),
                None => String::new(),
            })
            .collect::<Vec<_>>());
    }
    if let Some(size) = walk {
        let base = query.clone().page(0, size);
        let mut all = Vec::new();
        let mut q = base.clone();
        while let Ok(page) = engine.search(account, &q, Some(at)) {
            all.extend(page.rows.into_iter().map(|r| r.sku));
            match page.next {
                Some(c) => q = base.clone().after(c),
                None => break,
            }
        }
        answer["walk"] = json!(all);
    }
    answer
}

/// The engine's `related` answer: `{"skus"}` or `{"error"}`.
pub fn engine_related(
    engine: &tarif::Engine,
    account: &str,
    reference: &str,
    kind: RelationKind,
    at: Instant,
) -> Value {
    match engine.related(account, reference, kind, Some(at)) {
        Ok(list) => json!({ "skus": list.into_iter().map(|r| r.sku).collect::<Vec<_>>() }),
        Err(e) => json!({ "error": e.code() }),
    }
}
