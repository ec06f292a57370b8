//! Stock: per tracked product its quantity on hand (summed over warehouses), its restock lead
//! time and its warehouses; and the positions of the products in stock, for search.

use std::sync::Arc;

use ahash::AHashMap;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::compact;
use super::ids::ProductId;

/// The stock column. Sparse: most catalogs track a part of their products, and a product
/// without a record is "not tracked", which is not the same as out of stock.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StockIndex {
    pub products: AHashMap<ProductId, StockDef>,
    /// Positions (search order) of the products whose total available is positive.
    pub in_stock: RoaringBitmap,
}

/// One product's stock.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StockDef {
    /// Sum over the warehouses (or the product's own quantity).
    #[serde(with = "compact")]
    pub available: Decimal,
    /// The smallest lead time among the warehouses that give one, else the product's own.
    pub lead_time_days: Option<u32>,
    /// Empty when the product is not tracked per warehouse.
    pub warehouses: Box<[WarehouseAvailability]>,
}

/// A product's stock in one warehouse, as its record gives it (a quote names these without
/// allocating a quantity to any of them: where to ship from is the caller's decision).
///
/// ```
/// use tarif::{Engine, QuoteRequest};
/// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10"}]}],
///   "stock": [{"sku": "A", "warehouses": [{"id": "LYON", "available": "4", "lead_time_days": 2}]}],
///   "accounts": [{"id": "C"}]}"#).unwrap();
/// let q = engine.quote(&QuoteRequest::new("C", "A", 1.into())).unwrap();
/// let lyon = &q.stock.unwrap().warehouses[0];
/// assert_eq!((&*lyon.id, lyon.available.to_string(), lyon.lead_time_days), ("LYON", "4".into(), Some(2)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseAvailability {
    /// Warehouse id (shared by every product stocked there).
    #[serde(serialize_with = "write_id", deserialize_with = "read_id")]
    pub id: Arc<str>,
    /// Quantity on hand there.
    #[serde(with = "compact")]
    pub available: Decimal,
    /// Days to restock from there, when known.
    pub lead_time_days: Option<u32>,
}

fn write_id<S: Serializer>(id: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(id)
}

/// A warehouse id read from a snapshot: one allocation per product that names it, where the
/// compiler shares one (a snapshot stores no sharing; warehouses are few next to products).
fn read_id<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    String::deserialize(d).map(Arc::from)
}
