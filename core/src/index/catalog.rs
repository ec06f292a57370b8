//! The catalog: product columns, the category/family/brand dictionaries and compiled selectors.

use std::ops::Deref;
use std::sync::Arc;

use ahash::AHashMap;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::compact;
use super::ids::{Id, IdVec, ProductId, SelectorId};

/// Selector specificity: (rank, depth, members), compared lexicographically.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub(crate) struct Spec {
    pub rank: u8,
    pub depth: u16,
    pub members: u16,
}

/// The compiled catalog: the products (shared: a change of contracts builds new selectors over
/// the same products) and the selectors the document's rules name.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Catalog {
    pub products: Arc<Products>,
    pub selectors: IdVec<SelectorId, SelectorDef>,
    /// Per selector, the blake3 hash of the text it was compiled from: over the same products,
    /// equal hashes are equal selectors, which a change of contracts takes as they are.
    pub selector_hashes: Vec<[u8; 32]>,
}

impl Catalog {
    /// The hash of a selector's text (all zeros for an id this catalog did not issue).
    pub(crate) fn selector_hash(&self, id: SelectorId) -> [u8; 32] {
        self.selector_hashes
            .get(id.index())
            .copied()
            .unwrap_or_default()
    }
}

/// The catalog's columns are read as its own fields.
impl Deref for Catalog {
    type Target = Products;

    fn deref(&self) -> &Products {
        &self.products
    }
}

/// What resolving a selector by name reads besides the products: kept by the engine, so that a
/// change of contracts resolves its selectors without compiling the products again.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Selectables {
    pub category_index: AHashMap<String, u32>,
    pub family_index: AHashMap<String, u32>,
    pub brand_index: AHashMap<String, u32>,
    /// Products of each category's subtree.
    pub category_products: Vec<RoaringBitmap>,
    pub family_products: Vec<RoaringBitmap>,
    pub brand_products: Vec<RoaringBitmap>,
}

/// The product columns and the category/family/brand dictionaries.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Products {
    /// The table that issues product ids; the columns below are filled with it, row for row.
    pub skus: IdVec<ProductId, Box<str>>,
    pub names: IdVec<ProductId, Option<Box<str>>>,
    /// Every category of the product, with all their ancestors.
    pub category_closure: IdVec<ProductId, SmallVec<[u32; 4]>>,
    /// The product's family (`NONE` without).
    pub family: IdVec<ProductId, u32>,
    /// The product's brand (`NONE` without).
    pub brand: IdVec<ProductId, u32>,
    #[serde(with = "compact")]
    pub cost: IdVec<ProductId, Option<Decimal>>,
    pub order: AHashMap<ProductId, OrderRule>,
    pub categories: Vec<CategoryDef>,
    pub families: Vec<Box<str>>,
    pub brands: Vec<Box<str>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CategoryDef {
    /// The category's id in the document.
    pub id: Box<str>,
    pub depth: u16,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct OrderRule {
    #[serde(with = "compact")]
    pub min: Option<Decimal>,
    #[serde(with = "compact")]
    pub multiple: Option<Decimal>,
}

/// A compiled selector: the products it matches and how specific it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SelectorDef {
    pub products: RoaringBitmap,
    pub spec: Spec,
    pub index: SelectorKey,
}

/// How a rule is found from a product: by a key the product carries, or by scanning.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum SelectorKey {
    Skus(Vec<ProductId>),
    Family(u32),
    Category(u32),
    Brand(u32),
    Scan,
}
