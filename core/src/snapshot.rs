//! Snapshots: a compiled engine written to a file and opened again without compiling.
//!
//! # Layout
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | [`MAGIC`], `TARIFSNP` |
//! | 8 | 4 | format version, u32 little-endian ([`FORMAT_VERSION`]) |
//! | 12 | 8 | payload length in bytes, u64 little-endian |
//! | 20 | 32 | BLAKE3 hash of the payload |
//! | 52 | 2 | length of the engine version, u16 little-endian |
//! | 54 | n | the engine version (UTF-8), as [`Engine::engine_version`] gives it |
//! | 54 + n | payload length | the payload: the index, the compile warnings (and the build's, before the day was applied to them), what a change of contracts alone is compiled against, and the source (its text, where each section is, with its hash, and where each contract is in the `contracts` section, with its hash and id), in postcard, cut into parts (see `PARTS` below) |
//!
//! A build reads only its own format version: the payload is the index's own types, so any
//! change to them bumps [`FORMAT_VERSION`] (a committed snapshot in the conformance tests,
//! `tests/golden/snapshot-format.tarif`, stops opening when one is forgotten, and is rewritten
//! with `TARIF_BLESS=1` after the bump). The hash detects corruption, not forgery: a
//! snapshot is trusted like a compiled library.
//!
//! The search caches are not stored: they are runtime state, empty on open as after a compile.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::compile::{ContractRecords, StoredContracts};
use crate::engine::Engine;
use crate::error::{BuildWarnings, Diagnostic, SnapshotError};
use crate::index::approvals::ApprovalIndex;
use crate::index::{
    Audiences, BuildState, Catalog, CurrencyDef, CurrencyId, IdVec, Index, Pricing, RefIndex,
    SearchIndex, Settings, StockIndex, VisibilityIndex,
};
use crate::source::{Section, SectionSpan, Source, CONTRACTS};

/// The first 8 bytes of every snapshot.
///
/// ```
/// assert_eq!(tarif::snapshot::MAGIC, b"TARIFSNP");
/// ```
pub const MAGIC: &[u8; 8] = b"TARIFSNP";

/// The one format version this build writes and reads.
///
/// ```
/// assert!(tarif::snapshot::FORMAT_VERSION >= 1);
/// ```
pub const FORMAT_VERSION: u32 = 22;

/// Bytes before the engine version: magic, format version, payload length, hash, version length.
const FIXED_HEADER: usize = 8 + 4 + 8 + 32 + 2;

/// Whether these bytes (the start of a file is enough) begin like a snapshot rather than a
/// rules document; [`Engine::from_snapshot_bytes`] still checks all of them.
///
/// ```
/// assert!(tarif::snapshot::is_snapshot(b"TARIFSNP\x01\x00\x00\x00"));
/// assert!(!tarif::snapshot::is_snapshot(br#"{"format": "tarif/1"}"#));
/// ```
pub fn is_snapshot(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// The fixed part of a snapshot, before the payload.
#[derive(Debug, PartialEq, Eq)]
struct Header<'a> {
    engine_version: &'a str,
    payload_len: u64,
    checksum: [u8; 32],
}

fn corrupt(reason: impl Into<String>) -> SnapshotError {
    SnapshotError::Corrupt {
        path: None,
        reason: reason.into(),
    }
}

fn truncated(len: usize) -> SnapshotError {
    corrupt(format!("truncated after `{len}` bytes"))
}

/// Reads the header and returns it with the rest of the bytes, checking the magic first and
/// the format version second: a foreign file is corrupt, not of an unknown version.
fn parse_header(bytes: &[u8]) -> Result<(Header<'_>, &[u8]), SnapshotError> {
    let Some(magic) = bytes.get(..MAGIC.len()) else {
        return Err(if MAGIC.starts_with(bytes) {
            truncated(bytes.len())
        } else {
            corrupt("not a tarif snapshot")
        });
    };
    if magic != MAGIC {
        return Err(corrupt("not a tarif snapshot"));
    }
    let mut reader = Reader { bytes, at: 0 };
    reader.take(MAGIC.len())?;
    let found = u32::from_le_bytes(reader.array()?);
    if found != FORMAT_VERSION {
        return Err(SnapshotError::Version {
            path: None,
            found,
            supported: FORMAT_VERSION,
        });
    }
    let payload_len = u64::from_le_bytes(reader.array()?);
    let checksum = reader.array()?;
    let version_len = u16::from_le_bytes(reader.array()?);
    let engine_version = std::str::from_utf8(reader.take(usize::from(version_len))?)
        .map_err(|_| corrupt("the engine version is not UTF-8"))?;
    let rest = bytes.get(reader.at..).unwrap_or_default();
    Ok((
        Header {
            engine_version,
            payload_len,
            checksum,
        },
        rest,
    ))
}

/// A cursor over the header that reports a short read as truncation.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], SnapshotError> {
        let end = self.at.saturating_add(len);
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| truncated(self.bytes.len()))?;
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// The payload's parts, in file order, each its length (u64 little-endian) then its postcard
/// bytes: the head (engine version, settings, currencies, approvals, the compile's warnings and
/// build state); the catalog; the audiences; the pricing; the visibility; the references; the
/// navigation index; the stock; the source. The parts decode in parallel while the payload is
/// hashed.
const PARTS: usize = 9;

/// The small parts of an engine, encoded together as the payload's head.
type Head = (
    String,
    Arc<Settings>,
    Arc<IdVec<CurrencyId, CurrencyDef>>,
    Arc<ApprovalIndex>,
    Vec<Diagnostic>,
    BuildWarnings,
    BuildState,
);

/// The head as it is written, borrowing the engine's parts.
type HeadOut<'a> = (
    &'a str,
    &'a Arc<Settings>,
    &'a Arc<IdVec<CurrencyId, CurrencyDef>>,
    &'a Arc<ApprovalIndex>,
    &'a [Diagnostic],
    &'a BuildWarnings,
    &'a BuildState,
);

/// Appends `value` as a part: its length, then its bytes.
fn part<T: Serialize + ?Sized>(value: &T, mut out: Vec<u8>) -> Result<Vec<u8>, SnapshotError> {
    let at = out.len();
    out.extend_from_slice(&[0; 8]);
    let mut out = postcard::to_extend(value, out)
        .map_err(|e| corrupt(format!("the engine does not encode: {e}")))?;
    let len = (out.len() - at - 8) as u64;
    if let Some(slot) = out.get_mut(at..at + 8) {
        slot.copy_from_slice(&len.to_le_bytes());
    }
    Ok(out)
}

/// The payload cut into its parts; they must cover it exactly.
fn parts(payload: &[u8]) -> Result<[&[u8]; PARTS], SnapshotError> {
    let overrun = |_| corrupt("the payload's parts overrun it");
    let mut reader = Reader {
        bytes: payload,
        at: 0,
    };
    let mut out = [&[][..]; PARTS];
    for slot in &mut out {
        let len = u64::from_le_bytes(reader.array().map_err(overrun)?);
        let len = usize::try_from(len).map_err(|_| corrupt("a part is too long"))?;
        *slot = reader.take(len).map_err(overrun)?;
    }
    if reader.at != payload.len() {
        return Err(corrupt("the payload has trailing bytes"));
    }
    Ok(out)
}

/// One part's value; it must use the whole part.
fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, SnapshotError> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok(_) => Err(corrupt("the payload has trailing bytes")),
        Err(e) => Err(corrupt(format!("the payload does not decode: {e}"))),
    }
}

/// A part decoded on the pool; `None` only if its task never ran.
fn decoded<T>(slot: Slot<T>) -> Result<T, SnapshotError> {
    slot.unwrap_or_else(|| Err(corrupt("a part of the payload was not decoded")))
}

type Slot<T> = Option<Result<T, SnapshotError>>;

/// The source as a snapshot stores it: its text, where each section is, and the `contracts`
/// section by contract (what a change of rules reads; found again from the text otherwise).
type SourceIn<'a> = Option<(&'a str, Vec<SectionSpan>, Option<StoredContracts>)>;

/// The source as it is opened: the stored contracts checked against their section's text.
type SourceOut<'a> = Option<(&'a str, Vec<SectionSpan>, Option<ContractRecords>)>;

/// The source of a snapshot, its contracts read against their section.
fn opened_source(stored: SourceIn<'_>) -> Result<SourceOut<'_>, SnapshotError> {
    let Some((text, spans, contracts)) = stored else {
        return Ok(None);
    };
    let inside = |at: usize| text.is_char_boundary(at);
    if !spans
        .iter()
        .all(|s| s.start <= s.end && inside(s.start) && inside(s.end))
    {
        return Err(corrupt("a section of the source is outside its text"));
    }
    let contracts = match contracts {
        None => None,
        Some(stored) => {
            let section = spans
                .iter()
                .find(|s| &*s.name == CONTRACTS)
                .and_then(|s| text.get(s.start..s.end));
            let records = section.and_then(|section| ContractRecords::from_stored(stored, section));
            Some(records.ok_or_else(|| corrupt("the contracts stored are not their section's"))?)
        }
    };
    Ok(Some((text, spans, contracts)))
}

/// The parts of a payload being decoded, each filled by its own task.
#[derive(Default)]
struct Decoding<'a> {
    hash_ok: Option<bool>,
    head: Slot<Head>,
    catalog: Slot<Arc<Catalog>>,
    audiences: Slot<Arc<Audiences>>,
    pricing: Slot<Arc<Pricing>>,
    visibility: Slot<Arc<VisibilityIndex>>,
    refs: Slot<Arc<RefIndex>>,
    search: Slot<Arc<SearchIndex>>,
    stock: Slot<Arc<StockIndex>>,
    source: Slot<SourceOut<'a>>,
}

/// Temporary files of concurrent saves in one process get distinct names.
static SAVES: AtomicU64 = AtomicU64::new(0);

impl Engine {
    /// The engine as snapshot bytes (what [`Engine::save`] writes).
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
    /// let bytes = engine.to_snapshot_bytes().unwrap();
    /// assert!(tarif::snapshot::is_snapshot(&bytes));
    /// let again = tarif::Engine::from_snapshot_bytes(&bytes).unwrap();
    /// assert_eq!(again.engine_version(), engine.engine_version());
    /// ```
    pub fn to_snapshot_bytes(&self) -> Result<Vec<u8>, SnapshotError> {
        let version = self.engine_version().as_bytes();
        let version_len = u16::try_from(version.len())
            .map_err(|_| corrupt("the engine version is too long to store"))?;
        let mut out = Vec::with_capacity(FIXED_HEADER + version.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        // Length and hash are filled in once the payload is written after the header.
        out.extend_from_slice(&[0; 8 + 32]);
        out.extend_from_slice(&version_len.to_le_bytes());
        out.extend_from_slice(version);
        let start = out.len();
        let index = &self.index;
        let head: HeadOut<'_> = (
            &index.version,
            &index.settings,
            &index.currencies,
            &index.approvals,
            &self.warnings,
            &self.build_warnings,
            &self.build_state,
        );
        let out = part(&head, out)?;
        let out = part(&index.catalog, out)?;
        let out = part(&index.audiences, out)?;
        let out = part(&index.pricing, out)?;
        let out = part(&index.visibility, out)?;
        let out = part(&index.refs, out)?;
        let out = part(&index.search, out)?;
        let out = part(&index.stock, out)?;
        let source: SourceIn<'_> = self.source.as_ref().map(|source| {
            let (text, spans) = source.spans();
            let contracts = source.section(CONTRACTS).and_then(Section::contracts);
            (text, spans, contracts.map(|c| c.stored()))
        });
        let mut out = part(&source, out)?;
        let body = out.get(start..).unwrap_or_default();
        let len = (body.len() as u64).to_le_bytes();
        let hash = *blake3::hash(body).as_bytes();
        if let Some(slot) = out.get_mut(12..20) {
            slot.copy_from_slice(&len);
        }
        if let Some(slot) = out.get_mut(20..52) {
            slot.copy_from_slice(&hash);
        }
        Ok(out)
    }

    /// The engine of snapshot bytes, checked whole: magic, format version, length and hash,
    /// then the payload must decode to the last byte.
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
    /// let mut bytes = engine.to_snapshot_bytes().unwrap();
    /// let last = bytes.len() - 1;
    /// bytes[last] ^= 1;
    /// let err = tarif::Engine::from_snapshot_bytes(&bytes).unwrap_err();
    /// assert_eq!(err.code(), "SNAPSHOT_CORRUPT");
    /// ```
    pub fn from_snapshot_bytes(bytes: &[u8]) -> Result<Engine, SnapshotError> {
        let (header, payload) = parse_header(bytes)?;
        let stored = payload.len() as u64;
        if stored < header.payload_len {
            return Err(truncated(bytes.len()));
        }
        if stored > header.payload_len {
            return Err(corrupt(format!(
                "`{}` bytes after the payload",
                stored - header.payload_len
            )));
        }
        let [head, catalog, audiences, pricing, visibility, refs, search, stock, source] =
            parts(payload)?;
        let mut parts = Decoding::default();
        let Decoding {
            hash_ok,
            head: head_out,
            catalog: catalog_out,
            audiences: audiences_out,
            pricing: pricing_out,
            visibility: visibility_out,
            refs: refs_out,
            search: search_out,
            stock: stock_out,
            source: source_out,
        } = &mut parts;
        rayon::scope(|s| {
            s.spawn(|_| *hash_ok = Some(*blake3::hash(payload).as_bytes() == header.checksum));
            s.spawn(|_| *pricing_out = Some(decode(pricing)));
            s.spawn(|_| *search_out = Some(decode(search)));
            s.spawn(|_| *refs_out = Some(decode(refs)));
            s.spawn(|_| *catalog_out = Some(decode(catalog)));
            s.spawn(|_| *source_out = Some(decode(source).and_then(opened_source)));
            s.spawn(|_| *audiences_out = Some(decode(audiences)));
            s.spawn(|_| *visibility_out = Some(decode(visibility)));
            s.spawn(|_| *stock_out = Some(decode(stock)));
            s.spawn(|_| *head_out = Some(decode(head)));
        });
        // The hash decides first: a damaged payload is corrupt whatever its decoding said.
        if parts.hash_ok != Some(true) {
            return Err(corrupt("checksum mismatch"));
        }
        let (version, settings, currencies, approvals, warnings, build_warnings, build_state) =
            decoded(parts.head)?;
        if version != header.engine_version {
            return Err(corrupt(format!(
                "the header names engine version `{}`, the payload `{version}`",
                header.engine_version
            )));
        }
        let source = decoded(parts.source)?.map(|(text, spans, contracts)| {
            let source = Source::compiled(Arc::from(text), spans);
            if let Some(section) = source.section(CONTRACTS) {
                section.set_contracts(contracts.map(Arc::new));
            }
            source
        });
        let index = Index {
            version,
            settings,
            currencies,
            catalog: decoded(parts.catalog)?,
            audiences: decoded(parts.audiences)?,
            pricing: decoded(parts.pricing)?,
            visibility: decoded(parts.visibility)?,
            refs: decoded(parts.refs)?,
            search: decoded(parts.search)?,
            stock: decoded(parts.stock)?,
            approvals,
        };
        Ok(Engine::new(
            index,
            warnings,
            build_warnings,
            Arc::new(build_state),
            source,
        ))
    }

    /// Writes the engine to `path` as a snapshot, atomically: the bytes go to a temporary file
    /// in the same directory, are synced, then renamed over `path`, so that a failed or
    /// interrupted save leaves whatever was at `path` as it was.
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
    /// let path = std::env::temp_dir().join(format!("tarif-doc-save-{}.snap", std::process::id()));
    /// engine.save(&path).unwrap();
    /// assert_eq!(tarif::Engine::open(&path).unwrap().engine_version(), engine.engine_version());
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let bytes = self.to_snapshot_bytes()?;
        write_atomically(path, &bytes)
    }

    /// Opens a snapshot written by [`Engine::save`], without compiling: the engine answers as
    /// the one saved did, with empty search caches.
    ///
    /// ```
    /// let err = tarif::Engine::open(std::path::Path::new("/nonexistent/rules.snap")).unwrap_err();
    /// assert_eq!(err.code(), "IO_ERROR");
    /// assert!(err.to_string().contains("`/nonexistent/rules.snap`"));
    /// ```
    pub fn open(path: &Path) -> Result<Engine, SnapshotError> {
        let bytes = fs::read(path).map_err(|e| io_error("read", path, &e))?;
        Engine::from_snapshot_bytes(&bytes).map_err(|e| e.at_path(&path.display().to_string()))
    }
}

fn io_error(action: &'static str, path: &Path, error: &std::io::Error) -> SnapshotError {
    SnapshotError::Io {
        action,
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return Err(SnapshotError::Io {
            action: "write",
            path: path.display().to_string(),
            message: "not a file name".to_string(),
        });
    };
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        SAVES.fetch_add(1, Ordering::Relaxed)
    ));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        // The temporary file may not exist (the directory refused it): nothing to clean then.
        let _ = fs::remove_file(&temp);
        return Err(io_error("write", path, &e));
    }
    // The rename is durable once the directory is; a directory that cannot be opened for it
    // (some filesystems) still has the file, so this is best effort.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Vec<u8> {
        Engine::from_json(r#"{"format": "tarif/1", "products": [{"sku": "A"}]}"#)
            .unwrap()
            .to_snapshot_bytes()
            .unwrap()
    }

    #[test]
    fn an_opened_engine_knows_where_its_contracts_are_without_reading_them() {
        let doc = tarif_sample::distributor_json();
        let engine = Engine::from_json(&doc).unwrap();
        let opened = Engine::from_snapshot_bytes(&engine.to_snapshot_bytes().unwrap()).unwrap();
        let contracts = opened
            .source
            .as_ref()
            .and_then(|s| s.section(CONTRACTS))
            .unwrap();
        let known = contracts.known_contracts().unwrap();
        let read = crate::compile::contract_records(contracts.text()).unwrap();
        assert_eq!(*known, read);
        assert!(known.ids.is_some());
    }

    #[test]
    fn the_header_reads_back_what_was_written() {
        let bytes = snapshot();
        let (header, rest) = parse_header(&bytes).unwrap();
        assert!(header.engine_version.starts_with("t1-"));
        assert_eq!(header.payload_len, rest.len() as u64);
        assert_eq!(header.checksum, *blake3::hash(rest).as_bytes());
        assert_eq!(
            bytes.len(),
            FIXED_HEADER + header.engine_version.len() + rest.len()
        );
    }

    #[test]
    fn a_short_or_foreign_header_is_corrupt() {
        let bytes = snapshot();
        let version_len = usize::from(u16::from_le_bytes([bytes[52], bytes[53]]));
        for len in [0, 3, 8, 11, 12, 30, 52, 53, FIXED_HEADER + version_len - 1] {
            let err = parse_header(&bytes[..len]).unwrap_err();
            assert_eq!(err.code(), "SNAPSHOT_CORRUPT", "{len}: {err}");
            assert!(err.to_string().contains("truncated"), "{len}: {err}");
        }
        for foreign in [&b"\x89PNG\r\n\x1a\n...."[..], b"{\"format\": \"tarif/1\"}"] {
            let err = parse_header(foreign).unwrap_err();
            assert_eq!(err.to_string(), "corrupt snapshot: not a tarif snapshot");
        }
    }

    #[test]
    fn another_format_version_is_named() {
        let mut bytes = snapshot();
        bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let err = parse_header(&bytes).unwrap_err();
        assert_eq!(err.code(), "SNAPSHOT_VERSION");
        assert_eq!(
            err.to_string(),
            format!(
                "snapshot has format version `{}`; this build reads version `{}` only (recompile the rules document)",
                FORMAT_VERSION + 1,
                FORMAT_VERSION
            )
        );
    }

    #[test]
    fn a_header_that_disagrees_with_the_payload_is_corrupt() {
        let mut bytes = snapshot();
        bytes[54] ^= 0x20;
        let err = Engine::from_snapshot_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains("the header names"), "{err}");
        let mut longer = snapshot();
        longer.push(0);
        let err = Engine::from_snapshot_bytes(&longer).unwrap_err();
        assert!(err.to_string().contains("after the payload"), "{err}");
    }
}
