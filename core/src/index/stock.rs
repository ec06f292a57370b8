//! Stock: per tracked product its quantity on hand (summed over warehouses), its restock lead
//! time and its warehouses; and the positions of the products in stock, for search.

use std::sync::Arc;

use ahash::AHashMap;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::compact;
use super::ids::ProductId;
use crate::source::RecordSet;

/// The stock column. Sparse: most catalogs track a part of their products, and a product
/// without a record is "not tracked", which is not the same as out of stock.
///
/// The records live in a base table and a smaller table of the records changed since it was
/// built, so that a change of a few records copies those and not the whole column; the changed
/// records are folded into a new base once they are an eighth of it (a change then pays for
/// the whole column, once every eighth of it changed).
#[derive(Debug, Default)]
pub(crate) struct StockIndex {
    base: Arc<AHashMap<ProductId, StockDef>>,
    /// The records changed since `base`: `None` for a record removed.
    changed: Arc<AHashMap<ProductId, Option<StockDef>>>,
    /// Positions (search order) of the products whose total available is positive.
    pub in_stock: RoaringBitmap,
    /// The records' hashes as a set: the `stock` section's hash (docs/spec.md §10).
    pub records: RecordSet,
}

impl StockIndex {
    /// The index of these records, `in_stock` the positions of those with some on hand.
    pub(crate) fn new(
        products: AHashMap<ProductId, StockDef>,
        in_stock: RoaringBitmap,
        records: RecordSet,
    ) -> StockIndex {
        StockIndex {
            base: Arc::new(products),
            changed: Arc::default(),
            in_stock,
            records,
        }
    }

    /// The stock of `product`, if it is tracked.
    pub(crate) fn get(&self, product: ProductId) -> Option<&StockDef> {
        if !self.changed.is_empty() {
            if let Some(changed) = self.changed.get(&product) {
                return changed.as_ref();
            }
        }
        self.base.get(&product)
    }

    /// Every tracked product and its stock, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ProductId, &StockDef)> {
        let changed = &self.changed;
        self.base
            .iter()
            .filter(move |(p, _)| !changed.contains_key(p))
            .chain(
                changed
                    .iter()
                    .filter_map(|(p, def)| Some((p, def.as_ref()?))),
            )
            .map(|(p, def)| (*p, def))
    }

    /// This index with the records of `changes` set (`None`: removed); `position` gives a
    /// product's position in search order.
    pub(crate) fn patched(
        &self,
        changes: Vec<(ProductId, Option<StockDef>)>,
        position: impl Fn(ProductId) -> Option<u32>,
    ) -> StockIndex {
        let mut in_stock = self.in_stock.clone();
        let mut records = self.records;
        for (product, def) in &changes {
            if let Some(old) = self.get(*product) {
                records.remove(old.record);
            }
            if let Some(def) = def {
                records.add(def.record);
            }
            if let Some(at) = position(*product) {
                match def {
                    Some(def) if def.available > Decimal::ZERO => in_stock.insert(at),
                    _ => in_stock.remove(at),
                };
            }
        }
        if self.changed.len() + changes.len() > self.base.len() / 8 {
            let mut base = AHashMap::clone(&self.base);
            base.reserve(changes.len());
            let earlier = self.changed.iter().map(|(p, def)| (*p, def.clone()));
            for (product, def) in earlier.chain(changes) {
                match def {
                    Some(def) => base.insert(product, def),
                    None => base.remove(&product),
                };
            }
            return StockIndex::new(base, in_stock, records);
        }
        let mut changed = AHashMap::clone(&self.changed);
        changed.extend(changes);
        StockIndex {
            base: Arc::clone(&self.base),
            changed: Arc::new(changed),
            in_stock,
            records,
        }
    }

    /// Whether the changed records were folded into a new base: the section's text is then
    /// written out as well (see `changes::PatchedText`), on the same schedule.
    pub(crate) fn folded(&self) -> bool {
        self.changed.is_empty()
    }
}

/// What a snapshot stores: the records as one table.
#[derive(Serialize, Deserialize)]
struct Stored<P, B> {
    products: P,
    in_stock: B,
    records: RecordSet,
}

impl Serialize for StockIndex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            products: Records(self),
            in_stock: &self.in_stock,
            records: self.records,
        }
        .serialize(s)
    }
}

/// The records of an index, written as one map.
struct Records<'a>(&'a StockIndex);

impl Serialize for Records<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A map's length comes first in a snapshot.
        let mut map = s.serialize_map(Some(self.0.iter().count()))?;
        for (product, def) in self.0.iter() {
            map.serialize_entry(&product, def)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for StockIndex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StockIndex, D::Error> {
        let stored = Stored::<AHashMap<ProductId, StockDef>, RoaringBitmap>::deserialize(d)?;
        Ok(StockIndex::new(
            stored.products,
            stored.in_stock,
            stored.records,
        ))
    }
}

/// One product's stock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StockDef {
    /// Sum over the warehouses (or the product's own quantity).
    #[serde(with = "compact")]
    pub available: Decimal,
    /// The smallest lead time among the warehouses that give one, else the product's own.
    pub lead_time_days: Option<u32>,
    /// Empty when the product is not tracked per warehouse.
    pub warehouses: Box<[WarehouseAvailability]>,
    /// The hash of the record it was read from (`source::record_hash`).
    pub record: u128,
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
