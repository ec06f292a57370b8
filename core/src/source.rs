//! The document text an engine was compiled from, kept section by section.
//!
//! A change rewrites the top-level sections it touches and nothing else: the new engine shares
//! the text of every other section with the old one, and each section carries the hash of its
//! canonical JSON, so the new `engine_version` costs the hashing of what changed
//! ([`version_of`]) and a diff skips the sections whose hashes are equal.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::changes::PatchedText;
use crate::compile::{contract_records, ContractRecords};
use crate::model::ParsedContracts;

/// One top-level section of a document: its name, its JSON text and the hash §10 gives it
/// (blake3 of its canonical form; for `stock`, of its records' [`RecordSet`]).
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub name: Box<str>,
    body: Body,
    pub hash: [u8; 32],
    /// The `contracts` section by contract, as hashing it found it or read when first asked.
    contracts: OnceLock<Option<Arc<ContractRecords>>>,
    /// The `contracts` section's contracts as a change of rules alone reads them, once a
    /// compile or such a change has parsed them.
    parsed: OnceLock<ParsedContracts>,
}

/// Where a section's text is.
#[derive(Debug, Clone)]
enum Body {
    /// A range of a shared string.
    Text(Arc<str>, Range<usize>),
    /// A section hashed by record as changes left it, written the first time it is read.
    Patched(Arc<PatchedText>),
}

impl Section {
    /// A section whose text is a range of `text`.
    pub(crate) fn new(name: Box<str>, text: Arc<str>, range: Range<usize>, hash: [u8; 32]) -> Self {
        Section {
            name,
            body: Body::Text(text, range),
            hash,
            contracts: OnceLock::new(),
            parsed: OnceLock::new(),
        }
    }

    /// A section that owns its text.
    pub(crate) fn owned(name: &str, text: String, hash: [u8; 32]) -> Self {
        let len = text.len();
        Section::new(name.into(), Arc::from(text), 0..len, hash)
    }

    /// The section of `text`, which changes made without writing it.
    pub(crate) fn patched(text: PatchedText, hash: [u8; 32]) -> Self {
        Section {
            name: text.name().into(),
            body: Body::Patched(Arc::new(text)),
            hash,
            contracts: OnceLock::new(),
            parsed: OnceLock::new(),
        }
    }

    /// The section's JSON text.
    pub(crate) fn text(&self) -> &str {
        match &self.body {
            Body::Text(text, range) => text.get(range.clone()).unwrap_or(""),
            Body::Patched(patched) => patched.text(),
        }
    }

    /// Gives the `contracts` section its contracts as hashing its text found them (nothing if
    /// they are known already).
    pub(crate) fn set_contracts(&self, contracts: Option<Arc<ContractRecords>>) {
        if let Some(contracts) = contracts.filter(|_| &*self.name == CONTRACTS) {
            let _ = self.contracts.set(Some(contracts));
        }
    }

    /// The `contracts` section by contract (read from its text the first time when hashing
    /// did not give it); `None` for another section or a text that is not an array.
    pub(crate) fn contracts(&self) -> Option<&Arc<ContractRecords>> {
        if &*self.name != CONTRACTS {
            return None;
        }
        self.contracts
            .get_or_init(|| contract_records(self.text()).map(Arc::new))
            .as_ref()
    }

    /// The `contracts` section by contract if it is known already.
    pub(crate) fn known_contracts(&self) -> Option<Arc<ContractRecords>> {
        self.contracts.get().cloned().flatten()
    }

    /// Gives the `contracts` section its contracts parsed for their pricing (nothing if it
    /// has them already).
    pub(crate) fn set_parsed(&self, parsed: Option<ParsedContracts>) {
        if let Some(parsed) = parsed.filter(|_| &*self.name == CONTRACTS) {
            let _ = self.parsed.set(parsed);
        }
    }

    /// The `contracts` section's contracts as a change of rules alone reads them, if a
    /// compile or such a change has parsed them.
    pub(crate) fn parsed(&self) -> Option<&ParsedContracts> {
        self.parsed.get()
    }

    /// The string this section's text is a range of, and the range; or the changes not yet
    /// written into it.
    pub(crate) fn parts(&self) -> Result<(&Arc<str>, Range<usize>), &PatchedText> {
        match &self.body {
            Body::Text(text, range) => Ok((text, range.clone())),
            Body::Patched(patched) => Err(patched),
        }
    }
}

/// The name of the section hashed as a set of records.
pub(crate) const STOCK: &str = "stock";

/// The name of the section hashed by contract, in document order.
pub(crate) const CONTRACTS: &str = "contracts";

/// The name of the section hashed by list, each list's entries as a set of groups.
pub(crate) const PRICE_LISTS: &str = "price_lists";

/// The records of the `stock` section as a set (docs/spec.md §10): their count and the sum of
/// their hashes, so that a change of some records adds and takes away theirs without reading
/// the others. The section's order is not part of it: records are keyed by SKU, and their order
/// changes no answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordSet {
    count: u64,
    sum: u128,
}

impl RecordSet {
    /// The set of records with these hashes.
    pub(crate) fn of(hashes: impl IntoIterator<Item = u128>) -> RecordSet {
        let mut set = RecordSet::default();
        for hash in hashes {
            set.add(hash);
        }
        set
    }

    /// The number of records.
    pub(crate) fn len(&self) -> u64 {
        self.count
    }

    pub(crate) fn add(&mut self, record: u128) {
        self.count = self.count.wrapping_add(1);
        self.sum = self.sum.wrapping_add(record);
    }

    pub(crate) fn remove(&mut self, record: u128) {
        self.count = self.count.wrapping_sub(1);
        self.sum = self.sum.wrapping_sub(record);
    }

    /// The section's hash: blake3 over a tag, the count and the sum, little-endian.
    pub(crate) fn hash(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"tarif/1 record set:");
        self.write(&mut hasher);
        *hasher.finalize().as_bytes()
    }

    /// Writes the count and the sum, little-endian.
    pub(crate) fn write(&self, hasher: &mut blake3::Hasher) {
        hasher.update(&self.count.to_le_bytes());
        hasher.update(&self.sum.to_le_bytes());
    }
}

/// The hash of one record: the first 16 bytes, little-endian, of blake3 over its canonical
/// JSON.
pub(crate) fn record_hash(canonical: &[u8]) -> u128 {
    u128::from_le_bytes(first16(&blake3::hash(canonical)))
}

/// The first 16 bytes of a blake3 hash: what the engine keeps as a fingerprint.
pub(crate) fn first16(hash: &blake3::Hash) -> [u8; 16] {
    let mut first = [0; 16];
    first.copy_from_slice(hash.as_bytes().get(..16).unwrap_or(&[0; 16]));
    first
}

/// Where a section is in a document text, and its hash: what a compile reports and a snapshot
/// stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SectionSpan {
    pub name: Box<str>,
    pub start: usize,
    pub end: usize,
    pub hash: [u8; 32],
}

/// A document's text by section, sorted by name (as the canonical form orders them).
#[derive(Debug)]
pub(crate) struct Source {
    sections: Vec<Section>,
    /// The whole text and each section's range in it: the compiled text itself, or the
    /// sections joined the first time it is asked for.
    whole: OnceLock<(Arc<str>, Vec<Range<usize>>)>,
}

impl Source {
    /// This document with `section` in place of its section of that name (or added).
    pub(crate) fn with_section(&self, section: Section) -> Source {
        let mut sections: Vec<Section> = self
            .sections()
            .iter()
            .filter(|s| s.name != section.name)
            .cloned()
            .collect();
        sections.push(section);
        sections.sort_by(|a, b| a.name.cmp(&b.name));
        Source::of_sections(sections)
    }

    /// The source of a compiled text whose sections are at `spans` (sorted by name).
    pub(crate) fn compiled(whole: Arc<str>, spans: Vec<SectionSpan>) -> Source {
        let ranges = spans.iter().map(|s| s.start..s.end).collect();
        let sections = spans
            .into_iter()
            .map(|s| Section::new(s.name, Arc::clone(&whole), s.start..s.end, s.hash))
            .collect();
        Source {
            sections,
            whole: OnceLock::from((whole, ranges)),
        }
    }

    /// A source made of sections (sorted by name, unique), joined only when asked for.
    pub(crate) fn of_sections(sections: Vec<Section>) -> Source {
        Source {
            sections,
            whole: OnceLock::new(),
        }
    }

    pub(crate) fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Each section's text by name.
    pub(crate) fn texts(&self) -> BTreeMap<&str, &str> {
        self.sections.iter().map(|s| (&*s.name, s.text())).collect()
    }

    pub(crate) fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| &*s.name == name)
    }

    /// The whole document text.
    pub(crate) fn text(&self) -> &str {
        &self.joined().0
    }

    /// The whole text and where each section is in it, the source given up for them.
    pub(crate) fn into_joined(self) -> (Arc<str>, Vec<SectionSpan>) {
        let spans = self.spans().1;
        let (text, _) = self.joined();
        (Arc::clone(text), spans)
    }

    /// The whole text and where each section is in it (what a snapshot stores).
    pub(crate) fn spans(&self) -> (&str, Vec<SectionSpan>) {
        let (text, ranges) = self.joined();
        let spans = self
            .sections
            .iter()
            .zip(ranges)
            .map(|(s, r)| SectionSpan {
                name: s.name.clone(),
                start: r.start,
                end: r.end,
                hash: s.hash,
            })
            .collect();
        (text, spans)
    }

    /// The sections written as one JSON object, and the range of each in it.
    fn joined(&self) -> &(Arc<str>, Vec<Range<usize>>) {
        self.whole.get_or_init(|| {
            let len: usize = self
                .sections
                .iter()
                .map(|s| s.name.len() + s.text().len() + 4)
                .sum();
            let mut out = String::with_capacity(len + 2);
            let mut ranges = Vec::with_capacity(self.sections.len());
            out.push('{');
            for (i, s) in self.sections.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(s.name.to_string()).to_string());
                out.push(':');
                let start = out.len();
                out.push_str(s.text());
                ranges.push(start..out.len());
            }
            out.push('}');
            (Arc::from(out), ranges)
        })
    }

    /// This source with its `contracts` section's contracts as hashing found them and as a
    /// compile or a change of rules parsed them.
    pub(crate) fn with_contracts(
        self,
        contracts: Option<Arc<ContractRecords>>,
        parsed: Option<ParsedContracts>,
    ) -> Source {
        if let Some(section) = self.section(CONTRACTS) {
            section.set_contracts(contracts);
            section.set_parsed(parsed);
        }
        self
    }

    /// The engine version of this source.
    pub(crate) fn version(&self) -> String {
        version_of(self.sections.iter().map(|s| (&*s.name, &s.hash)))
    }

    /// The bytes of text held.
    pub(crate) fn len(&self) -> usize {
        match self.whole.get() {
            Some((whole, _)) => whole.len(),
            None => self.sections.iter().map(|s| s.text().len()).sum(),
        }
    }
}

/// `t1-` and the first 16 hex digits of blake3 over the document's sections in name order,
/// each as its name (a JSON string), `:` and the 32-byte blake3 hash of its canonical JSON
/// (docs/spec.md §10).
pub(crate) fn version_of<'a>(sections: impl Iterator<Item = (&'a str, &'a [u8; 32])>) -> String {
    let mut hasher = blake3::Hasher::new();
    for (name, hash) in sections {
        hasher.update(
            serde_json::Value::String(name.to_string())
                .to_string()
                .as_bytes(),
        );
        hasher.update(b":");
        hasher.update(hash);
    }
    let hex = hasher.finalize().to_hex();
    format!("t1-{}", hex.get(..16).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(doc: &str) -> Source {
        let whole: Arc<str> = Arc::from(doc);
        let top: std::collections::BTreeMap<String, &serde_json::value::RawValue> =
            serde_json::from_str(doc).unwrap();
        let spans = top
            .iter()
            .map(|(name, raw)| {
                let start = raw.get().as_ptr() as usize - doc.as_ptr() as usize;
                SectionSpan {
                    name: name.as_str().into(),
                    start,
                    end: start + raw.get().len(),
                    hash: *blake3::hash(raw.get().as_bytes()).as_bytes(),
                }
            })
            .collect();
        Source::compiled(whole, spans)
    }

    #[test]
    fn a_compiled_source_is_its_text_and_a_joined_one_finds_its_sections_again() {
        let doc = r#"{ "format": "tarif/1",  "products": [{"sku": "A"}] }"#;
        let compiled = source(doc);
        assert_eq!(compiled.text(), doc);
        assert_eq!(
            compiled.section("products").unwrap().text(),
            r#"[{"sku": "A"}]"#
        );
        let (text, spans) = compiled.spans();
        assert_eq!(text, doc);
        for span in &spans {
            assert_eq!(
                &text[span.start..span.end],
                compiled.section(&span.name).unwrap().text()
            );
        }

        let mut sections = compiled.sections().to_vec();
        sections[1] = Section::owned("products", r#"[{"sku":"B"}]"#.into(), [7; 32]);
        let derived = Source::of_sections(sections);
        assert_eq!(
            derived.text(),
            r#"{"format":"tarif/1","products":[{"sku":"B"}]}"#
        );
        let (text, spans) = derived.spans();
        assert_eq!(spans.len(), 2);
        for span in &spans {
            assert_eq!(
                &text[span.start..span.end],
                derived.section(&span.name).unwrap().text()
            );
        }
        assert_ne!(derived.version(), compiled.version());
    }
}
