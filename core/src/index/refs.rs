//! The reference index: SKUs, EANs/GTINs, manufacturer refs, other refs and account aliases.

use std::borrow::Cow;

use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::catalog::Products;
use super::ids::{AccountId, ProductId};
use super::refmap::RefMap;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct RefIndex {
    pub sku: RefMap,
    pub gtin: RefMap,
    pub mpn: RefMap,
    pub other: RefMap,
    /// Folded alias → the accounts that use it, with the product it means for each.
    pub aliases: AHashMap<Box<str>, SmallVec<[(AccountId, ProductId); 1]>>,
    /// The keys that several products share, per map (a duplicate EAN, MPN or ref; SKUs equal
    /// once folded), with every product in document order; the maps above hold only the
    /// first, and a query takes the first its account may see.
    pub shared: SharedRefs,
}

impl RefIndex {
    /// The product whose SKU is exactly `sku` (the map holds SKUs folded).
    pub(crate) fn product_of_sku(&self, products: &Products, sku: &str) -> Option<ProductId> {
        let key = folded(sku);
        let &first = self.sku.get(&*key)?;
        let exact = |p: ProductId| products.skus.get(p).is_some_and(|s| &**s == sku);
        match self.shared.sku.get(&*key) {
            Some(all) => all.iter().copied().find(|&p| exact(p)),
            None => exact(first).then_some(first),
        }
    }
}

/// A key of a reference map that several products share → all of them, in document order.
pub(crate) type SharedMap = AHashMap<Box<str>, SmallVec<[ProductId; 2]>>;

/// The shared keys of each reference map; empty in most documents.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct SharedRefs {
    pub sku: SharedMap,
    pub gtin: SharedMap,
    pub mpn: SharedMap,
    pub other: SharedMap,
}

/// Trimmed and case-folded: how SKUs, MPNs, refs and aliases are compared.
pub(crate) fn fold(text: &str) -> Box<str> {
    text.trim().to_uppercase().into_boxed_str()
}

/// The reference as the maps hold it: the common case, a reference already folded, without an
/// allocation.
pub(crate) fn folded(reference: &str) -> Cow<'_, str> {
    if is_folded(reference) {
        Cow::Borrowed(reference)
    } else {
        Cow::Owned(fold(reference).into_string())
    }
}

/// Whether `fold` would leave the text unchanged (ASCII checked byte by byte; other characters
/// through the Unicode tables).
fn is_folded(text: &str) -> bool {
    let trimmed = text.trim().len() == text.len();
    trimmed
        && text.chars().all(|c| {
            if c.is_ascii() {
                !c.is_ascii_lowercase()
            } else {
                c.to_uppercase().eq(std::iter::once(c))
            }
        })
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
