//! The catalog: product columns, the category/family/brand dictionaries and compiled selectors.

use ahash::AHashMap;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::compact;
use super::ids::{IdVec, ProductId, SelectorId};

/// Selector specificity: (rank, depth, members), compared lexicographically.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub(crate) struct Spec {
    pub rank: u8,
    pub depth: u16,
    pub members: u16,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Catalog {
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
    pub selectors: IdVec<SelectorId, SelectorDef>,
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
#[derive(Debug, Serialize, Deserialize)]
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
