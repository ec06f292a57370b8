//! The `stock` section: one record per product, checked all at once, into the stock column.

use std::sync::Arc;

use ahash::{AHashMap, AHashSet};
use rust_decimal::Decimal;

use super::{canonical, items, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::search::{sorted_bitmap, SearchIndex};
use crate::index::stock::WarehouseAvailability;
use crate::index::{Id, Index, ProductId, StockDef, StockIndex};
use crate::model::{Document, NumText, StockRecord, FORMAT};
use crate::money::parse_decimal;
use crate::source::{record_hash, RecordSet};

/// The stock index of the document's `stock` section; `product` finds a product by its exact
/// SKU (the compiler's map while compiling, the compiled index when only the stock changed),
/// `records` are the hashes of the section's records, in order.
pub(crate) fn build(
    doc: &Document,
    product: impl Fn(&str) -> Option<ProductId>,
    search: &SearchIndex,
    records: &[u128],
    diags: &mut Diags,
) -> StockIndex {
    let mut products = AHashMap::new();
    let mut seen: AHashSet<&str> = AHashSet::new();
    // A few warehouses stock a million products: each id is held once.
    let mut warehouse_ids: AHashMap<&str, Arc<str>> = AHashMap::new();
    for (i, record) in items(&doc.stock, "stock", diags) {
        let path = format!("stock[{i}]");
        let product = match product(&record.sku) {
            Some(p) => Some(p),
            None => {
                diags.error(
                    Code::UnknownReference,
                    &format!("{path}.sku"),
                    format!("stock of unknown product `{}`", record.sku),
                    &[&record.sku],
                );
                None
            }
        };
        if !seen.insert(&record.sku) {
            diags.error(
                Code::DuplicateId,
                &format!("{path}.sku"),
                format!("second stock record of `{}`", record.sku),
                &[&record.sku],
            );
            continue;
        }
        let def = stock_def(record, &path, &mut warehouse_ids, diags);
        if let (Some(product), Some(mut def)) = (product, def) {
            def.record = records.get(i).copied().unwrap_or_default();
            products.insert(product, def);
        }
    }
    let mut positions: Vec<u32> = products
        .iter()
        .filter(|(_, def)| def.available > Decimal::ZERO)
        .filter_map(|(p, _)| search.position.get(p.index()).copied())
        .collect();
    positions.sort_unstable();
    let records = RecordSet::of(products.values().map(|def| def.record));
    StockIndex::new(products, sorted_bitmap(&positions), records)
}

/// `index`'s stock with the records `upserts` (each one's JSON text) set and the products
/// `removed` untracked, reading no other record; also the product of each upserted record.
/// `None` when a record has any problem: compiling the merged document reports it.
pub(crate) fn patch(
    index: &Index,
    upserts: &[String],
    removed: &[ProductId],
) -> Option<(StockIndex, Vec<ProductId>)> {
    let doc = Document::parse_direct(&format!(
        "{{\"format\":\"{FORMAT}\",\"stock\":[{}]}}",
        upserts.join(",")
    ))?;
    let mut diags = Diags::default();
    let mut warehouse_ids = AHashMap::new();
    let mut changes = Vec::with_capacity(upserts.len() + removed.len());
    let mut products = Vec::with_capacity(upserts.len());
    for (i, record) in items(&doc.stock, "stock", &mut diags) {
        let product = index.product_of_sku(&record.sku)?;
        let mut def = stock_def(record, "stock", &mut warehouse_ids, &mut diags)?;
        def.record = record_hash(canonical(upserts.get(i)?)?.as_bytes());
        products.push(product);
        changes.push((product, Some(def)));
    }
    if !diags.list.is_empty() || products.len() != upserts.len() {
        return None;
    }
    changes.extend(removed.iter().map(|&product| (product, None)));
    let stock = index
        .stock
        .patched(changes, |p| index.search.position.get(p.index()).copied());
    Some((stock, products))
}

/// One record, or `None` after reporting what is wrong with it.
fn stock_def<'d>(
    record: &'d StockRecord,
    path: &str,
    warehouse_ids: &mut AHashMap<&'d str, Arc<str>>,
    diags: &mut Diags,
) -> Option<StockDef> {
    match (&record.available, &record.warehouses) {
        (Some(available), None) => Some(StockDef {
            available: quantity(available, &format!("{path}.available"), diags)?,
            lead_time_days: record.lead_time_days,
            warehouses: Box::new([]),
            record: 0,
        }),
        (None, Some(list)) => {
            let mut ids: AHashSet<&str> = AHashSet::new();
            let mut warehouses = Vec::with_capacity(list.len());
            let mut valid = true;
            for (j, w) in list.iter().enumerate() {
                let at = format!("{path}.warehouses[{j}]");
                if !ids.insert(&w.id) {
                    diags.error(
                        Code::DuplicateId,
                        &format!("{at}.id"),
                        format!("warehouse `{}` listed twice for `{}`", w.id, record.sku),
                        &[&record.sku, &w.id],
                    );
                    valid = false;
                }
                match quantity(&w.available, &format!("{at}.available"), diags) {
                    Some(available) => warehouses.push(WarehouseAvailability {
                        id: Arc::clone(
                            warehouse_ids
                                .entry(w.id.as_str())
                                .or_insert_with(|| w.id.as_str().into()),
                        ),
                        available,
                        lead_time_days: w.lead_time_days,
                    }),
                    None => valid = false,
                }
            }
            let mut available = Decimal::ZERO;
            for w in &warehouses {
                match available.checked_add(w.available) {
                    Some(sum) => available = sum,
                    None => {
                        diags.error(
                            Code::InvalidQuantity,
                            &format!("{path}.warehouses"),
                            format!("the stock of `{}` overflows its sum", record.sku),
                            &[&record.sku],
                        );
                        return None;
                    }
                }
            }
            let lead_time_days = warehouses
                .iter()
                .filter_map(|w| w.lead_time_days)
                .min()
                .or(record.lead_time_days);
            valid.then(|| StockDef {
                available,
                lead_time_days,
                warehouses: warehouses.into_boxed_slice(),
                record: 0,
            })
        }
        (Some(_), Some(_)) | (None, None) => {
            diags.error(
                Code::InvalidType,
                path,
                format!(
                    "the stock of `{}` needs exactly one of `available` and `warehouses`",
                    record.sku
                ),
                &[&record.sku],
            );
            None
        }
    }
}

/// A quantity on hand: an exact decimal, zero or more.
fn quantity(text: &NumText, path: &str, diags: &mut Diags) -> Option<Decimal> {
    match parse_decimal(&text.0) {
        Some(q) if !q.is_sign_negative() || q.is_zero() => Some(q),
        _ => {
            diags.error(
                Code::InvalidQuantity,
                path,
                format!(
                    "invalid quantity on hand `{}`: expected a decimal, zero or more",
                    text.0
                ),
                &[],
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{CompileOptions, Engine};

    fn problems(stock: &str) -> Vec<(String, String)> {
        let doc = format!(
            r#"{{"format": "tarif/1", "products": [{{"sku": "A"}}, {{"sku": "B"}}], "stock": {stock}}}"#
        );
        match Engine::compile(&doc, &CompileOptions::default()) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .diagnostics
                .iter()
                .map(|d| (d.code.code().to_string(), d.path.clone()))
                .collect(),
        }
    }

    #[test]
    fn every_bad_record_is_reported_with_its_path() {
        let found = problems(
            r#"[{"sku": "A", "available": "-1"},
                {"sku": "A", "available": "2"},
                {"sku": "NOPE", "available": "2"},
                {"sku": "B", "warehouses": [{"id": "W", "available": "x"}, {"id": "W", "available": 1}]},
                {"sku": "C", "available": 1, "warehouses": []},
                {"sku": "D"},
                {"sku": "E", "available": 1, "lead_time_days": -2}]"#,
        );
        let mut expect = vec![
            ("INVALID_QUANTITY", "stock[0].available"),
            ("DUPLICATE_ID", "stock[1].sku"),
            ("UNKNOWN_REFERENCE", "stock[2].sku"),
            ("INVALID_QUANTITY", "stock[3].warehouses[0].available"),
            ("DUPLICATE_ID", "stock[3].warehouses[1].id"),
            ("UNKNOWN_REFERENCE", "stock[4].sku"),
            ("INVALID_TYPE", "stock[4]"),
            ("UNKNOWN_REFERENCE", "stock[5].sku"),
            ("INVALID_TYPE", "stock[5]"),
            ("INVALID_TYPE", "stock[6].lead_time_days"),
        ];
        let mut found: Vec<(&str, &str)> = found
            .iter()
            .map(|(c, p)| (c.as_str(), p.as_str()))
            .collect();
        found.sort_unstable();
        expect.sort_unstable();
        assert_eq!(found, expect);
    }

    #[test]
    fn zero_and_numbers_are_valid_quantities() {
        assert!(problems(
            r#"[{"sku": "A", "available": 0}, {"sku": "B", "warehouses": [{"id": "W", "available": 2.5, "lead_time_days": 0}]}]"#
        )
        .is_empty());
    }
}
