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

use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::source::{record_hash, version_of, RecordSet, SectionSpan, STOCK};

/// A document's version, its sections (where each is, with its hash) and the hashes of its
/// stock records in the section's order, as [`of_text`] finds them; a change that knows the
/// version and sections leaves the records to be hashed by the compile.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    pub version: String,
    pub sections: Vec<SectionSpan>,
    pub stock_records: Option<Vec<u128>>,
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
    let hashed: Option<Vec<(SectionSpan, Option<Vec<u128>>)>> = sections
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
    let mut stock_records = None;
    let sections: Vec<SectionSpan> = hashed?
        .into_iter()
        .map(|(span, records)| {
            stock_records = stock_records.take().or(records);
            span
        })
        .collect();
    let version = version_of(sections.iter().map(|s| (&*s.name, &s.hash)));
    Some(Known {
        version,
        sections,
        stock_records,
    })
}

/// The hash of section `name` whose JSON text is `json` (docs/spec.md §10), and for the stock
/// section the hashes of its records, in order; `None` if it does not parse.
pub(crate) fn hashed(name: &str, json: &str) -> Option<([u8; 32], Option<Vec<u128>>)> {
    match (name == STOCK).then(|| record_hashes(json)).flatten() {
        Some(records) => Some((RecordSet::of(records.iter().copied()).hash(), Some(records))),
        None => Some((canonical_hash(json)?, None)),
    }
}

/// The hash of each element of a JSON array given as its text ([`record_hash`] of its
/// canonical form), or `None` if the text is not an array.
pub(crate) fn record_hashes(json: &str) -> Option<Vec<u128>> {
    let mut de = serde_json::Deserializer::from_str(json);
    let hashes = de.deserialize_seq(Records).ok()?;
    de.end().ok()?;
    Some(hashes)
}

/// The hashes of an array's elements, one canonical buffer reused for all of them.
struct Records;

impl<'de> Visitor<'de> for Records {
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
    let mut de = serde_json::Deserializer::from_str(json);
    Canon {
        out: &mut out,
        hasher: None,
    }
    .deserialize(&mut de)
    .ok()?;
    String::from_utf8(out).ok()
}

fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    serde_json::to_writer(out, s)
}

/// Writes the canonical form of one value to `out`. With a hasher, array elements are flushed
/// to it as soon as they are complete.
struct Canon<'a> {
    out: &'a mut Vec<u8>,
    hasher: Option<&'a mut blake3::Hasher>,
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
        let Canon { out, mut hasher } = self;
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
            })?;
            entries.push((key, start..values.len()));
        }
        // Stable sort then keep the last of equal keys: a `Value` map overwrites duplicates.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let out = self.out;
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
            write_str(out, &key).map_err(de::Error::custom)?;
            out.push(b':');
            out.extend_from_slice(values.get(range).unwrap_or_default());
        }
        out.push(b'}');
        Ok(())
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
        assert_eq!(known.stock_records.map(|r| r.len()), Some(2));
    }

    #[test]
    fn matches_the_value_serialisation_on_the_sample_document() {
        let doc = tarif_sample::distributor_json();
        assert_eq!(of_text(&doc).map(|k| k.version), Some(by_value(&doc)));
    }
}
