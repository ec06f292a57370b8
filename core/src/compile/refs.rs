//! The reference index: SKUs, EANs/GTINs, manufacturer refs, other refs and account aliases.

use super::audience::AudienceBuild;
use super::catalog::CatalogBuild;
use super::{items, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::{fold, gtin, ProductId, RefIndex};
use crate::model::Document;

pub(crate) fn build(
    doc: &Document,
    catalog: &CatalogBuild,
    audiences: &AudienceBuild,
    diags: &mut Diags,
) -> RefIndex {
    let mut index = RefIndex::default();
    let count = catalog.catalog.skus.len();
    index.exact_sku.reserve(count);
    index.sku.reserve(count);
    index.gtin.reserve(count);
    index.mpn.reserve(count);
    for (i, p) in items(&doc.products, "products", &mut Diags::default()) {
        let Some(&id) = catalog.ids.get(&p.sku) else {
            continue;
        };
        index.exact_sku.insert_first(&p.sku, id);
        index.sku.insert_first(&fold(&p.sku), id);
        if let Some(ean) = &p.ean {
            match gtin(ean) {
                Some(key) => {
                    if let Some(first) = index.gtin.insert_first(&key, id) {
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
            index.mpn.insert_first(&fold(mpn), id);
        }
        for r in &p.refs {
            index.other.insert_first(&fold(r), id);
        }
    }
    for map in [
        &mut index.exact_sku,
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
                    let owners = index.aliases.entry(fold(alias)).or_default();
                    owners.retain(|(owner, _)| *owner != account);
                    owners.push((account, id as ProductId));
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
