//! The reference index: SKUs, EANs/GTINs, manufacturer refs, other refs and account aliases.

use super::audience::AudienceBuild;
use super::catalog::CatalogBuild;
use super::{items, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::{fold, gtin, ProductId, RefIndex, SharedMap};
use crate::model::Document;

pub(crate) fn build(
    doc: &Document,
    catalog: &CatalogBuild,
    audiences: &AudienceBuild,
    diags: &mut Diags,
) -> RefIndex {
    let mut index = RefIndex::default();
    let count = catalog.catalog.skus.len();
    index.sku.reserve(count);
    index.gtin.reserve(count);
    index.mpn.reserve(count);
    // A key several products share keeps them all, in document order.
    let share = |shared: &mut SharedMap, key: Box<str>, first: ProductId, id: ProductId| {
        let products = shared.entry(key).or_default();
        if products.is_empty() {
            products.push(first);
        }
        if !products.contains(&id) {
            products.push(id);
        }
    };
    for (i, p) in items(&doc.products, "products", &mut Diags::default()) {
        let Some(&id) = catalog.ids.get(&p.sku) else {
            continue;
        };
        let folded_sku = fold(&p.sku);
        if let Some(first) = index.sku.insert_first(&folded_sku, id) {
            share(&mut index.shared.sku, folded_sku, first, id);
        }
        if let Some(ean) = &p.ean {
            match gtin(ean) {
                Some(key) => {
                    if let Some(first) = index.gtin.insert_first(&key, id) {
                        share(&mut index.shared.gtin, key.clone(), first, id);
                        let other = catalog.catalog.skus.get(first).map_or("", |s| &**s);
                        diags.warning(
                            Code::DuplicateEan,
                            &format!("products[{i}].ean"),
                            format!("ean `{ean}` of `{}` is also the ean of `{other}`", p.sku),
                            &[&p.sku, other],
                        );
                    }
                }
                None => diags.error(
                    Code::InvalidType,
                    &format!("products[{i}].ean"),
                    format!("ean `{ean}` must hold 1 to 14 digits"),
                    &[&p.sku],
                ),
            }
        }
        if let Some(mpn) = &p.mpn {
            let key = fold(mpn);
            if let Some(first) = index.mpn.insert_first(&key, id) {
                share(&mut index.shared.mpn, key, first, id);
            }
        }
        for r in &p.refs {
            let key = fold(r);
            if let Some(first) = index.other.insert_first(&key, id) {
                share(&mut index.shared.other, key, first, id);
            }
        }
    }
    for map in [
        &mut index.sku,
        &mut index.gtin,
        &mut index.mpn,
        &mut index.other,
    ] {
        map.shrink_to_fit();
    }
    for (account, aliases) in audiences.audiences.accounts.ids().zip(&audiences.aliases) {
        for (alias, sku, path) in aliases {
            match catalog.ids.get(sku) {
                Some(&id) => {
                    // Aliases come in key order; two that fold alike keep the first.
                    let owners = index.aliases.entry(fold(alias)).or_default();
                    if !owners.iter().any(|(owner, _)| *owner == account) {
                        owners.push((account, id));
                    }
                }
                None => diags.error(
                    Code::UnknownReference,
                    path,
                    format!("alias `{alias}` names unknown product `{sku}`"),
                    &[alias, sku],
                ),
            }
        }
    }
    index
}
