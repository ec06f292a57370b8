//! `engine_version` straight from the document text: per top-level section, blake3 over its
//! canonical JSON (keys sorted, no whitespace), byte for byte what serialising the section's
//! `serde_json::Value` gives, without building that tree; then the version over the sections'
//! hashes ([`version_of`]).
//!
//! Objects are buffered to sort their keys; arrays are not, and the elements of a top-level
//! section go to the hasher one by one, so the memory held is that of the largest element.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use ahash::AHashMap;

use crate::changes::key_of;
use crate::source::{
    record_hash, version_of, RecordSet, SectionSpan, CONTRACTS, PRICE_LISTS, STOCK,
};

/// A document's version, its sections (where each is, with its hash) and the hashes of the
/// records of the sections hashed by record, as [`of_text`] finds them; a change that knows the
/// version and sections leaves the records it did not write to be hashed by the compile.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    pub version: String,
    pub sections: Vec<SectionSpan>,
    pub records: Records,
}

/// The hashes of the records of the sections hashed by record (docs/spec.md §10).
#[derive(Debug, Clone, Default)]
pub(crate) struct Records {
    /// The `stock` records' hashes, in the section's order.
    pub stock: Option<Vec<u128>>,
    /// The `price_lists` section by list.
    pub prices: Option<Arc<PriceHashes>>,
    /// The `contracts` section by contract.
    pub contracts: Option<Arc<ContractRecords>>,
}

impl Records {
    /// The records of both, each taken from the first that has it.
    pub(crate) fn or(self, other: Records) -> Records {
        Records {
            stock: self.stock.or(other.stock),
            prices: self.prices.or(other.prices),
            contracts: self.contracts.or(other.contracts),
        }
    }
}

/// The `price_lists` section hashed by list (docs/spec.md §10): per list, in document order,
/// the hash of its header (the list without `prices`), the hash of each entry in document order,
/// and its groups (a SKU's entries in the list, in document order) as a set, so that a change of
/// some (list, SKU) groups adds and takes away theirs without reading the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PriceHashes {
    pub lists: Vec<ListHashes>,
}

/// One list of [`PriceHashes`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListHashes {
    pub header: u128,
    pub entries: Vec<u128>,
    pub groups: RecordSet,
}

impl PriceHashes {
    /// The section's hash: blake3 over a tag, the number of lists, then per list its header's
    /// hash, its number of groups and the sum of their hashes, little-endian.
    pub(crate) fn hash(&self) -> [u8; 32] {
        section_of_lists(self.lists.iter().map(|l| (l.header, l.groups)))
    }
}

/// The `contracts` section hashed by contract (docs/spec.md §10), as read from one text of it:
/// each contract's hash and where it is in that text, in document order, and each one's
/// position by id, so that a change of some contracts' rules reads, writes and hashes those
/// contracts and not the section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContractRecords {
    pub hashes: Vec<u128>,
    /// Each contract's range in the section's text.
    pub ranges: Vec<Range<usize>>,
    /// Each contract's position by id; `None` when some contract has no string id or shares
    /// it with another (a compile rejects both).
    pub ids: Option<Arc<AHashMap<Box<str>, usize>>>,
}

impl ContractRecords {
    /// The texts of the contracts at `positions` in `text` (the one these records were read
    /// from), or `None` if a position is not one of them.
    pub(crate) fn texts<'a>(&self, text: &'a str, positions: &[usize]) -> Option<Vec<&'a str>> {
        positions
            .iter()
            .map(|&at| text.get(self.ranges.get(at)?.clone()))
            .collect()
    }

    /// The section's hash: blake3 over a tag, the number of contracts, then each contract's
    /// hash in document order, little-endian.
    pub(crate) fn hash(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"tarif/1 contracts:");
        hasher.update(&(self.hashes.len() as u64).to_le_bytes());
        for hash in &self.hashes {
            hasher.update(&hash.to_le_bytes());
        }
        *hasher.finalize().as_bytes()
    }
}

/// [`ContractRecords`] as a snapshot stores them, so that an engine opened from one finds its
/// contracts without reading the section: the ids in document order in place of the map.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredContracts {
    hashes: Vec<u128>,
    ranges: Vec<Range<usize>>,
    ids: Option<Vec<Box<str>>>,
}

impl ContractRecords {
    /// These records as a snapshot stores them.
    pub(crate) fn stored(&self) -> StoredContracts {
        let ids = self.ids.as_ref().and_then(|ids| {
            let mut in_order = vec![Box::<str>::default(); self.ranges.len()];
            for (id, &at) in ids.iter() {
                *in_order.get_mut(at)? = id.clone();
            }
            Some(in_order)
        });
        StoredContracts {
            hashes: self.hashes.clone(),
            ranges: self.ranges.clone(),
            ids,
        }
    }

    /// The records a snapshot stored for the section `text`, or `None` if they cannot be its
    /// (counts that differ, a range outside the text, an id given twice).
    pub(crate) fn from_stored(stored: StoredContracts, text: &str) -> Option<ContractRecords> {
        let StoredContracts {
            hashes,
            ranges,
            ids,
        } = stored;
        let inside = |r: &Range<usize>| text.get(r.clone()).is_some();
        if hashes.len() != ranges.len() || !ranges.iter().all(inside) {
            return None;
        }
        let ids = match ids {
            Some(ids) if ids.len() == ranges.len() => {
                let mut map = AHashMap::with_capacity(ids.len());
                for (at, id) in ids.into_iter().enumerate() {
                    if map.insert(id, at).is_some() {
                        return None;
                    }
                }
                Some(Arc::new(map))
            }
            Some(_) => return None,
            None => None,
        };
        Some(ContractRecords {
            hashes,
            ranges,
            ids,
        })
    }
}

/// The `contracts` section of text `json` by contract, or `None` if it is not a JSON array.
/// The contracts are hashed side by side.
pub(crate) fn contract_records(json: &str) -> Option<ContractRecords> {
    let contracts: Vec<&RawValue> = serde_json::from_str(json).ok()?;
    let base = json.as_ptr() as usize;
    let read: Vec<(u128, Range<usize>, String)> = contracts
        .par_iter()
        .with_min_len(64)
        .map_init(Vec::new, |buf, raw| {
            buf.clear();
            canonical_into(raw.get(), buf)?;
            let start = (raw.get().as_ptr() as usize).checked_sub(base)?;
            Some((
                record_hash(buf),
                start..start + raw.get().len(),
                key_of(raw, "id"),
            ))
        })
        .collect::<Option<_>>()?;
    let mut ids = AHashMap::with_capacity(read.len());
    let mut keyed = true;
    let mut hashes = Vec::with_capacity(read.len());
    let mut ranges = Vec::with_capacity(read.len());
    for (at, (hash, range, id)) in read.into_iter().enumerate() {
        hashes.push(hash);
        ranges.push(range);
        keyed = keyed && !id.is_empty() && ids.insert(id.into_boxed_str(), at).is_none();
    }
    Some(ContractRecords {
        hashes,
        ranges,
        ids: keyed.then(|| Arc::new(ids)),
    })
}

/// The hash of a `price_lists` section whose lists have these headers' hashes and groups.
pub(crate) fn section_of_lists(
    lists: impl ExactSizeIterator<Item = (u128, RecordSet)>,
) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"tarif/1 price lists:");
    hasher.update(&(lists.len() as u64).to_le_bytes());
    for (header, groups) in lists {
        hasher.update(&header.to_le_bytes());
        groups.write(&mut hasher);
    }
    *hasher.finalize().as_bytes()
}

/// The hash of a group: its entry's hash when it has one (most have), else the first 16 bytes,
/// little-endian, of blake3 over its entries' hashes (little-endian) in order.
pub(crate) fn group_hash(entries: impl IntoIterator<Item = u128>) -> u128 {
    let mut entries = entries.into_iter();
    let (first, second) = (entries.next(), entries.next());
    if let (Some(only), None) = (first, second) {
        return only;
    }
    let mut hasher = blake3::Hasher::new();
    for entry in first.into_iter().chain(second).chain(entries) {
        hasher.update(&entry.to_le_bytes());
    }
    u128::from_le_bytes(crate::source::first16(&hasher.finalize()))
}

/// The version of a document whose text is `json`, where its sections are, each with its hash,
/// and its stock records' hashes, or `None` if it is not a JSON object (the caller then takes
/// the path that reports why). Sections are hashed side by side.
pub(crate) fn of_text(json: &str) -> Option<Known> {
    // A `BTreeMap` orders the sections as the canonical form does, and keeps the last of
    // duplicate keys as a `Value` object does.
    let sections: std::collections::BTreeMap<String, &RawValue> =
        serde_json::from_str(json).ok()?;
    let base = json.as_ptr() as usize;
    let hashed: Option<Vec<(SectionSpan, Records)>> = sections
        .into_par_iter()
        .map(|(name, raw)| {
            let start = (raw.get().as_ptr() as usize).checked_sub(base)?;
            let (hash, records) = hashed(&name, raw.get())?;
            let span = SectionSpan {
                name: name.into(),
                start,
                end: start + raw.get().len(),
                hash,
            };
            Some((span, records))
        })
        .collect();
    let mut records = Records::default();
    let sections: Vec<SectionSpan> = hashed?
        .into_iter()
        .map(|(span, own)| {
            records = std::mem::take(&mut records).or(own);
            span
        })
        .collect();
    let version = version_of(sections.iter().map(|s| (&*s.name, &s.hash)));
    Some(Known {
        version,
        sections,
        records,
    })
}

/// The hash of section `name` whose JSON text is `json` (docs/spec.md §10), and for a section
/// hashed by record the hashes of its records; `None` if it does not parse.
pub(crate) fn hashed(name: &str, json: &str) -> Option<([u8; 32], Records)> {
    if name == STOCK {
        if let Some(records) = record_hashes(json) {
            let hash = RecordSet::of(records.iter().copied()).hash();
            let records = Records {
                stock: Some(records),
                ..Records::default()
            };
            return Some((hash, records));
        }
    }
    if name == PRICE_LISTS {
        if let Some(prices) = price_hashes(json) {
            let records = Records {
                prices: Some(Arc::new(prices)),
                ..Records::default()
            };
            return Some((records.prices.as_deref().map(PriceHashes::hash)?, records));
        }
    }
    if name == CONTRACTS {
        if let Some(contracts) = contract_records(json) {
            let records = Records {
                contracts: Some(Arc::new(contracts)),
                ..Records::default()
            };
            return Some((
                records.contracts.as_deref().map(ContractRecords::hash)?,
                records,
            ));
        }
    }
    Some((canonical_hash(json)?, Records::default()))
}

/// The `price_lists` section of text `json` by list, or `None` if it is not an array of
/// objects whose `prices`, where present, is an array of objects each with a string `sku` (the
/// section is then hashed whole, like any other).
pub(crate) fn price_hashes(json: &str) -> Option<PriceHashes> {
    let mut de = serde_json::Deserializer::from_str(json);
    let lists = de.deserialize_seq(Lists).ok()?;
    de.end().ok()?;
    Some(PriceHashes { lists })
}

/// The hash of each element of a JSON array given as its text ([`record_hash`] of its
/// canonical form), or `None` if the text is not an array.
pub(crate) fn record_hashes(json: &str) -> Option<Vec<u128>> {
    let mut de = serde_json::Deserializer::from_str(json);
    let hashes = de.deserialize_seq(RecordHashes).ok()?;
    de.end().ok()?;
    Some(hashes)
}

/// The hashes of an array's elements, one canonical buffer reused for all of them.
struct RecordHashes;

impl<'de> Visitor<'de> for RecordHashes {
    type Value = Vec<u128>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u128>, A::Error> {
        let mut hashes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut buf = Vec::new();
        while seq
            .next_element_seed(Canon {
                out: &mut buf,
                hasher: None,
                field: None,
            })?
            .is_some()
        {
            hashes.push(record_hash(&buf));
            buf.clear();
        }
        Ok(hashes)
    }
}

/// The blake3 hash of the canonical form of a JSON text, or `None` if it does not parse.
fn canonical_hash(json: &str) -> Option<[u8; 32]> {
    let mut hasher = blake3::Hasher::new();
    let mut buf = Vec::new();
    let mut de = serde_json::Deserializer::from_str(json);
    Canon {
        out: &mut buf,
        hasher: Some(&mut hasher),
        field: None,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    hasher.update(&buf);
    Some(*hasher.finalize().as_bytes())
}

/// The canonical text of one JSON value (keys sorted, no whitespace), or `None` if it does
/// not parse: two values are the same JSON exactly when their canonical texts are equal.
pub(crate) fn canonical(json: &str) -> Option<String> {
    let mut out = Vec::new();
    canonical_into(json, &mut out)?;
    String::from_utf8(out).ok()
}

/// Appends the canonical text of one JSON value to `out`, or `None` if it does not parse.
fn canonical_into(json: &str, out: &mut Vec<u8>) -> Option<()> {
    let mut de = serde_json::Deserializer::from_str(json);
    Canon {
        out,
        hasher: None,
        field: None,
    }
    .deserialize(&mut de)
    .ok()
}

fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    serde_json::to_writer(out, s)
}

/// Writes the canonical form of one value to `out`. With a hasher, array elements are flushed
/// to it as soon as they are complete.
struct Canon<'a> {
    out: &'a mut Vec<u8>,
    hasher: Option<&'a mut blake3::Hasher>,
    /// A key of the value (an object) whose value's range in `out` is wanted.
    field: Option<(&'static str, &'a mut Option<Range<usize>>)>,
}

impl<'de> DeserializeSeed<'de> for Canon<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Canon<'_> {
    fn scalar<T: serde::Serialize + ?Sized, E: de::Error>(self, v: &T) -> Result<(), E> {
        serde_json::to_writer(self.out, v).map_err(E::custom)
    }
}

impl<'de> Visitor<'de> for Canon<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(&v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(&v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(&v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // A `Value` keeps a finite float as is and turns anything else into null.
        if v.is_finite() {
            self.scalar(&v)
        } else {
            self.scalar(&())
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(&())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar(&())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Canon {
            out, mut hasher, ..
        } = self;
        out.push(b'[');
        let mut first = true;
        loop {
            let start = out.len();
            if !first {
                out.push(b',');
            }
            let more = seq.next_element_seed(Canon {
                out: &mut *out,
                hasher: None,
                field: None,
            })?;
            if more.is_none() {
                out.truncate(start);
                break;
            }
            first = false;
            if let Some(h) = hasher.as_deref_mut() {
                h.update(out);
                out.clear();
            }
        }
        out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Values go one after another into one buffer; the keys remember their range.
        let mut entries: Vec<(Cow<'de, str>, Range<usize>)> = Vec::new();
        let mut values = Vec::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let start = values.len();
            map.next_value_seed(Canon {
                out: &mut values,
                hasher: None,
                field: None,
            })?;
            entries.push((key, start..values.len()));
        }
        write_object(self.out, entries, &values, self.field).map_err(de::Error::custom)
    }
}

/// Writes an object whose keys come with the range of their canonical value in `values`: keys
/// sorted, the last of equal keys kept (a `Value` map overwrites duplicates). With `field`, the
/// range in `out` of that key's value.
fn write_object(
    out: &mut Vec<u8>,
    mut entries: Vec<(Cow<'_, str>, Range<usize>)>,
    values: &[u8],
    field: Option<(&'static str, &mut Option<Range<usize>>)>,
) -> serde_json::Result<()> {
    // Stable sort then keep the last of equal keys.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let (wanted, mut found) = match field {
        Some((key, slot)) => (Some(key), Some(slot)),
        None => (None, None),
    };
    out.push(b'{');
    let mut first = true;
    let mut iter = entries.into_iter().peekable();
    while let Some((key, range)) = iter.next() {
        if iter.peek().is_some_and(|next| next.0 == key) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, &key)?;
        out.push(b':');
        let start = out.len();
        out.extend_from_slice(values.get(range).unwrap_or_default());
        if wanted == Some(&*key) {
            if let Some(slot) = found.as_deref_mut() {
                *slot = Some(start..out.len());
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// The lists of a `price_lists` section, each read in one pass ([`ListHashes`]).
struct Lists;

impl<'de> Visitor<'de> for Lists {
    type Value = Vec<ListHashes>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of price lists")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut lists = Vec::new();
        while let Some(list) = seq.next_element_seed(List)? {
            lists.push(list);
        }
        Ok(lists)
    }
}

/// One price list: its header (every field but `prices`) and its entries.
struct List;

impl<'de> DeserializeSeed<'de> for List {
    type Value = ListHashes;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ListHashes, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for List {
    type Value = ListHashes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a price list object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListHashes, A::Error> {
        let mut fields: Vec<(Cow<'de, str>, Range<usize>)> = Vec::new();
        let mut values = Vec::new();
        let mut prices = Entries::default();
        while let Some(key) = map.next_key_seed(Key)? {
            if key == "prices" {
                // The last of duplicate keys counts, as in a `Value` map.
                prices = map.next_value_seed(Entries::default())?;
                continue;
            }
            let start = values.len();
            map.next_value_seed(Canon {
                out: &mut values,
                hasher: None,
                field: None,
            })?;
            fields.push((key, start..values.len()));
        }
        let mut header = Vec::new();
        write_object(&mut header, fields, &values, None).map_err(de::Error::custom)?;
        Ok(ListHashes {
            header: record_hash(&header),
            groups: prices.groups(),
            entries: prices.hashes,
        })
    }
}

/// A list's entries: each one's hash, and its SKU's canonical JSON text (a string), all SKUs
/// back to back in one buffer.
#[derive(Default)]
struct Entries {
    hashes: Vec<u128>,
    skus: Vec<u8>,
    spans: Vec<Range<usize>>,
}

impl Entries {
    fn sku(&self, i: usize) -> &[u8] {
        self.spans
            .get(i)
            .and_then(|span| self.skus.get(span.clone()))
            .unwrap_or_default()
    }

    /// The groups (a SKU's entries, in document order) as a set.
    fn groups(&self) -> RecordSet {
        let mut groups = RecordSet::default();
        let hash = |i: &usize| self.hashes.get(*i).copied();
        let mut order: Vec<usize> = (0..self.hashes.len()).collect();
        // Lists usually give their entries by SKU: their groups are then runs, and need no sort.
        if !order.is_sorted_by(|&a, &b| self.sku(a) <= self.sku(b)) {
            // By SKU, then document order within a SKU.
            order.sort_unstable_by(|&a, &b| self.sku(a).cmp(self.sku(b)).then(a.cmp(&b)));
        }
        for group in order.chunk_by(|&a, &b| self.sku(a) == self.sku(b)) {
            groups.add(group_hash(group.iter().filter_map(hash)));
        }
        groups
    }
}

impl<'de> DeserializeSeed<'de> for Entries {
    type Value = Entries;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Entries, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries {
    type Value = Entries;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of price entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Entries, A::Error> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let mut sku = None;
            let more = seq.next_element_seed(Canon {
                out: &mut buf,
                hasher: None,
                field: Some(("sku", &mut sku)),
            })?;
            if more.is_none() {
                return Ok(self);
            }
            // The SKU must be a string: its canonical text starts with a quote.
            let sku = sku
                .and_then(|range| buf.get(range))
                .filter(|text| text.first() == Some(&b'"'))
                .ok_or_else(|| de::Error::custom("a price entry without a string `sku`"))?;
            let start = self.skus.len();
            self.skus.extend_from_slice(sku);
            self.spans.push(start..self.skus.len());
            self.hashes.push(record_hash(&buf));
        }
    }
}

/// An object key, borrowed from the document text unless it holds an escape: the keys of
/// every element were one allocation each, the largest cost of hashing a document.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn by_value(json: &str) -> String {
        let value: Value = serde_json::from_str(json).unwrap();
        let hashes: Vec<(String, [u8; 32])> = value
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let hash = match (k.as_str(), v) {
                    (PRICE_LISTS, Value::Array(lists)) if lists_by_value(lists).is_some() => {
                        lists_by_value(lists).unwrap()
                    }
                    (CONTRACTS, Value::Array(contracts)) => ContractRecords {
                        hashes: contracts
                            .iter()
                            .map(|c| record_hash(c.to_string().as_bytes()))
                            .collect(),
                        ranges: Vec::new(),
                        ids: None,
                    }
                    .hash(),
                    (STOCK, Value::Array(records)) => RecordSet::of(
                        records
                            .iter()
                            .map(|r| record_hash(r.to_string().as_bytes())),
                    )
                    .hash(),
                    _ => *blake3::hash(v.to_string().as_bytes()).as_bytes(),
                };
                (k.clone(), hash)
            })
            .collect();
        version_of(hashes.iter().map(|(k, h)| (k.as_str(), h)))
    }

    /// The hash of a `price_lists` section by list, written on JSON values.
    fn lists_by_value(lists: &[Value]) -> Option<[u8; 32]> {
        let mut sums = Vec::new();
        for list in lists {
            let mut list = list.as_object()?.clone();
            let prices = match list.remove("prices") {
                Some(Value::Array(prices)) => prices,
                None => Vec::new(),
                Some(_) => return None,
            };
            let header = record_hash(Value::Object(list).to_string().as_bytes());
            let mut groups: std::collections::BTreeMap<String, Vec<u128>> = Default::default();
            for entry in prices {
                let sku = entry.as_object()?.get("sku")?.as_str()?.to_string();
                let hash = record_hash(entry.to_string().as_bytes());
                groups.entry(sku).or_default().push(hash);
            }
            let set = RecordSet::of(groups.values().map(|g| group_hash(g.iter().copied())));
            sums.push((header, set));
        }
        Some(section_of_lists(sums.into_iter()))
    }

    #[test]
    fn matches_the_value_serialisation() {
        let docs = [
            r#"{}"#,
            r#"{"format": "tarif/1"}"#,
            r#"{"b": [1, -2, 3.5, 1e300, -0.0, 0, 18446744073709551615, -9223372036854775808,
                12345678901234567890123, 1.0, 2.50, true, false, null, [], {}, [[]], ""],
               "a": {"z": 1, "y": {"b": "x", "a": ["\u00e9\n\t\"\\\u0001\ud83d\ude00/"]}}}"#,
            r#"{"a": 1, "a": {"k": 2, "k": 3, "j": [4]}, "c": [{"x": 1, "x": [2]}]}"#,
            r#"{"é": 1, "e": 2, "E": 3, "": 4, "aa": 5, "a": 6}"#,
            " { \"products\" : [ { \"sku\" : \"A\" , \"attrs\" : { \"w\" : 1.25 } } ] } ",
            r#"{"stock": [{"sku": "A", "available": 2.50}, {"available": "1", "sku": "B"}], "format": 1}"#,
            r#"{"stock": {"sku": "A"}}"#,
            r#"{"price_lists": [{"id": "p", "prices": [{"sku": "A", "price": "1.50"},
                {"price": "2", "sku": "B"}, {"sku": "A", "price": "1", "min_qty": 10}], "net": true},
                {"prices": [], "id": "q", "id": "r"}, {"id": "s"}]}"#,
            r#"{"price_lists": [{"id": "p", "prices": [{"sku": 1}]}]}"#,
            r#"{"price_lists": [{"id": "p", "prices": {"sku": "A"}}]}"#,
            r#"{"price_lists": {"id": "p"}}"#,
            r#"{"contracts": [{"id": "c", "rules": [{"id": "r", "percent": "5"}]}, 3, {"id": "c"}]}"#,
            r#"{"contracts": {"id": "c"}}"#,
        ];
        for doc in docs {
            assert_eq!(
                of_text(doc).map(|known| known.version),
                Some(by_value(doc)),
                "{doc}"
            );
        }
        assert!(of_text("[]").is_none());
        assert!(of_text("{\"a\": ").is_none());
    }

    #[test]
    fn the_stock_section_is_hashed_as_a_set_of_records() {
        let section_hash = |name: &str, json: &str| hashed(name, json).map(|(hash, _)| hash);
        let hash = |stock: &str| section_hash(STOCK, stock).unwrap();
        let two = hash(r#"[{"sku": "A", "available": "1"}, {"sku": "B", "available": "2"}]"#);
        assert_eq!(
            two,
            hash(r#"[{"available": "2", "sku": "B"}, {"sku": "A", "available": "1"}]"#)
        );
        assert_ne!(two, hash(r#"[{"sku": "A", "available": "1"}]"#));
        assert_ne!(
            two,
            hash(r#"[{"sku": "A", "available": "2"}, {"sku": "B", "available": "1"}]"#)
        );
        // Elsewhere order is part of the content.
        assert_ne!(
            section_hash("products", r#"[{"sku": "A"}, {"sku": "B"}]"#),
            section_hash("products", r#"[{"sku": "B"}, {"sku": "A"}]"#)
        );
        let known = of_text(r#"{"stock": [{"sku": "A"}, {"sku": "B"}]}"#).unwrap();
        assert_eq!(known.records.stock.map(|r| r.len()), Some(2));
    }

    #[test]
    fn a_price_list_is_hashed_by_its_header_and_its_groups() {
        let hash = |lists: &str| hashed(PRICE_LISTS, lists).unwrap().0;
        let a1 = r#"{"sku": "A", "price": "1"}"#;
        let a2 = r#"{"sku": "A", "price": "2", "min_qty": 5}"#;
        let b = r#"{"sku": "B", "price": "3"}"#;
        let list =
            |prices: &[&str]| format!(r#"[{{"id": "p", "prices": [{}]}}]"#, prices.join(","));
        // The groups are a set; a group's entries keep their order.
        assert_eq!(hash(&list(&[a1, a2, b])), hash(&list(&[b, a1, a2])));
        assert_eq!(hash(&list(&[a1, b, a2])), hash(&list(&[a1, a2, b])));
        assert_ne!(hash(&list(&[a1, a2, b])), hash(&list(&[a2, a1, b])));
        assert_ne!(hash(&list(&[a1, b])), hash(&list(&[a1, a2, b])));
        // The lists keep their order, and a header is part of it.
        let two = |first: &str, second: &str| format!("[{first},{second}]");
        let (p, q) = (r#"{"id": "p"}"#, r#"{"id": "q"}"#);
        assert_ne!(hash(&two(p, q)), hash(&two(q, p)));
        assert_ne!(
            hash(r#"[{"id": "p"}]"#),
            hash(r#"[{"id": "p", "net": true}]"#)
        );
        let prices = hashed(PRICE_LISTS, &list(&[a1, b, a2]))
            .unwrap()
            .1
            .prices
            .unwrap();
        assert_eq!(prices.lists[0].entries.len(), 3);
        assert_eq!(prices.lists[0].groups.len(), 2);
    }

    #[test]
    fn the_contracts_are_hashed_in_order_and_found_by_id() {
        let json = r#"[ {"id": "a", "rules": []},
            {"rules": [{"id": "r", "percent": "5"}], "id": "b"} ]"#;
        let (hash, records) = hashed(CONTRACTS, json).unwrap();
        let contracts = records.contracts.unwrap();
        assert_eq!(hash, contracts.hash());
        let texts: Vec<&str> = contracts.ranges.iter().map(|r| &json[r.clone()]).collect();
        assert_eq!(
            texts,
            [
                r#"{"id": "a", "rules": []}"#,
                r#"{"rules": [{"id": "r", "percent": "5"}], "id": "b"}"#
            ]
        );
        let ids = contracts.ids.as_deref().unwrap();
        assert_eq!((ids.get("a"), ids.get("b")), (Some(&0), Some(&1)));
        // The order of the contracts is part of the version (rules are numbered in it).
        let swapped =
            r#"[{"id": "b", "rules": [{"percent": "5", "id": "r"}]}, {"id": "a", "rules": []}]"#;
        assert_ne!(hashed(CONTRACTS, swapped).unwrap().0, hash);
        let reformatted =
            r#"[{"rules":[],"id":"a"},{"id":"b","rules":[{"id":"r","percent":"5"}]}]"#;
        assert_eq!(hashed(CONTRACTS, reformatted).unwrap().0, hash);
        // Contracts that are not each found by an id of their own are hashed all the same.
        for unkeyed in [
            r#"[{"id": "a"}, {"id": "a"}]"#,
            r#"[{"id": "a"}, {}]"#,
            r#"[{"id": 1}]"#,
            "[2]",
        ] {
            let contracts = contract_records(unkeyed).unwrap();
            assert!(contracts.ids.is_none(), "{unkeyed}");
            assert_eq!(hashed(CONTRACTS, unkeyed).unwrap().0, contracts.hash());
        }
    }

    #[test]
    fn stored_contracts_read_back_only_against_a_text_they_fit() {
        let json = r#"[{"id": "a"}, {"id": "b", "rules": []}, {"id": "c"}]"#;
        let records = contract_records(json).unwrap();
        let again = ContractRecords::from_stored(records.stored(), json).unwrap();
        assert_eq!(again, records);
        let unkeyed = contract_records(r#"[{"id": "a"}, {"id": "a"}]"#).unwrap();
        let stored = unkeyed.stored();
        assert!(stored.ids.is_none());
        assert_eq!(ContractRecords::from_stored(stored, json).unwrap(), unkeyed);
        let short = &json[..json.len() - 8];
        assert!(ContractRecords::from_stored(records.stored(), short).is_none());
        let mut stored = records.stored();
        stored.hashes.pop();
        assert!(ContractRecords::from_stored(stored, json).is_none());
        let mut stored = records.stored();
        stored.ids.as_mut().unwrap()[2] = "a".into();
        assert!(ContractRecords::from_stored(stored, json).is_none());
        let mut stored = records.stored();
        stored.ids.as_mut().unwrap().pop();
        assert!(ContractRecords::from_stored(stored, json).is_none());
    }

    #[test]
    fn matches_the_value_serialisation_on_the_sample_document() {
        let doc = tarif_sample::distributor_json();
        assert_eq!(of_text(&doc).map(|k| k.version), Some(by_value(&doc)));
    }
}
