//! The reference index: SKUs, EANs/GTINs, manufacturer refs, other refs and account aliases.

use super::audience::AudienceBuild;
use super::catalog::CatalogBuild;
use super::{items, Diags};
use ahash::AHashMap;
use smallvec::SmallVec;

use crate::engine::{ProductId, RefIndex};
use crate::error::DiagnosticCode as Code;
use crate::model::Document;

/// Trimmed and case-folded: how SKUs, MPNs, refs and aliases are compared.
pub(crate) fn fold(text: &str) -> Box<str> {
    text.trim().to_uppercase().into_boxed_str()
}

/// Digits only, left-padded to 14: a UPC-A and its EAN-13 are the same GTIN. `None` when the
/// text has no digit or more than 14.
pub(crate) fn gtin(text: &str) -> Option<Box<str>> {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 || digits > 14 {
        return None;
    }
    let mut out = String::with_capacity(14);
    out.extend(std::iter::repeat_n('0', 14 - digits));
    out.extend(text.chars().filter(char::is_ascii_digit));
    Some(out.into_boxed_str())
}

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
    let share = |shared: &mut AHashMap<Box<str>, SmallVec<[ProductId; 2]>>,
                 key: Box<str>,
                 first: ProductId,
                 id: ProductId| {
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
                        let other = catalog
                            .catalog
                            .skus
                            .get(first as usize)
                            .map_or("", |s| &**s);
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
    for (account, aliases) in audiences.aliases.iter().enumerate() {
        let Ok(account) = u32::try_from(account) else {
            continue;
        };
        for (alias, sku, path) in aliases {
            match catalog.ids.get(sku) {
                Some(&id) => {
                    // Aliases come in key order; two that fold alike keep the first.
                    let owners = index.aliases.entry(fold(alias)).or_default();
                    if !owners.iter().any(|(owner, _)| *owner == account) {
                        owners.push((account, id as ProductId));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_pads_and_strips() {
        assert_eq!(gtin("036000291452").as_deref(), Some("00036000291452"));
        assert_eq!(gtin("0 036000 291452").as_deref(), Some("00036000291452"));
        assert_eq!(gtin("abc"), None);
        assert_eq!(gtin("123456789012345"), None);
    }

    #[test]
    fn fold_trims_and_uppercases() {
        assert_eq!(&*fold("  dr-18v "), "DR-18V");
    }
}
