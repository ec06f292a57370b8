//! Snapshots (`Engine::save`, `Engine::open`): every fixture document saved and opened again
//! answers as compiled, and a damaged file of any kind is a clean error with its code.

use std::path::PathBuf;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;
use tarif::{Engine, QuoteRequest};
use tarif_conformance::{
    fixture_files, fixtures_dir, orders, requests, run_all, ReopenedEvaluator,
};

/// Fewer cases than this means fixtures went missing, not that they pass.
const MIN_CASES: usize = 70;

/// A fresh scratch directory for this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tarif-snapshot-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sample() -> Engine {
    Engine::from_json(&tarif_sample::distributor_json()).unwrap()
}

#[test]
fn fixtures_hold_on_reopened_engines() {
    let report = run_all::<ReopenedEvaluator>(&fixtures_dir());
    println!("{}", report.summary());
    assert!(report.failures.is_empty(), "{}", report.summary());
    assert!(report.skipped.is_empty(), "{}", report.summary());
    assert!(report.checked >= MIN_CASES, "{}", report.summary());
}

/// Version, diagnostics and source of every fixture document that compiles survive a save to a
/// file and an open; the order and request fixtures get the same answers from both engines.
#[test]
fn every_fixture_document_survives_save_and_open() {
    let dir = scratch("fixtures");
    let root = fixtures_dir();
    let mut documents = 0;
    let mut failures = Vec::new();
    for path in fixture_files(&root) {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Ok(engine) = Engine::from_json(&fixture["document"].to_string()) else {
            continue;
        };
        documents += 1;
        let file = dir.join(format!("{documents}.snap"));
        engine.save(&file).unwrap();
        let opened = Engine::open(&file).unwrap();
        if opened.engine_version() != engine.engine_version() {
            failures.push(format!("{name}: engine version"));
        }
        if opened.diagnostics() != engine.diagnostics() {
            failures.push(format!("{name}: diagnostics"));
        }
        if opened.source() != engine.source() || opened.source().is_none() {
            failures.push(format!("{name}: source"));
        }
        for case in fixture["orders"].as_array().into_iter().flatten() {
            let answer = |e: &Engine| match case["op"].as_str() {
                Some("price_order") => orders::engine_order(e, case),
                Some("prepare_quote" | "place_quote") => orders::engine_quote(e, case),
                _ => orders::engine_text(e, case),
            };
            if answer(&opened) != answer(&engine) {
                failures.push(format!("{name}: order {}", case["name"]));
            }
        }
        for request in fixture["requests"].as_array().into_iter().flatten() {
            let op = request["op"].as_str().unwrap();
            let answer = |e: &Engine| requests::answer(e, op, &request["args"]);
            if answer(&opened) != answer(&engine) {
                failures.push(format!("{name}: request {}", request["name"]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(documents >= 25, "only {documents} documents compiled");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// On the sample: quotes, explanations, visibility and lookups over a grid agree.
#[test]
fn the_sample_answers_the_same_after_a_round_trip() {
    let engine = sample();
    let opened = tarif_conformance::reopen(&engine).unwrap();
    let at = engine.parse_instant("2026-06-15").unwrap();
    let skus: Vec<&str> = engine.skus().step_by(17).collect();
    let mut compared = 0;
    for account in engine.accounts() {
        for &sku in &skus {
            for qty in [Decimal::ONE, Decimal::from(12)] {
                let request = QuoteRequest::new(account, sku, qty).at(at);
                let answers = |e: &Engine| {
                    format!(
                        "{:?}\n{:?}\n{:?}\n{:?}",
                        e.quote(&request),
                        e.explain(&request),
                        e.visibility(account, sku, Some(at)),
                        e.lookup_at(account, sku, at)
                    )
                };
                assert_eq!(answers(&opened), answers(&engine), "{account} {sku} {qty}");
                compared += 1;
            }
        }
    }
    assert!(compared > 500, "only {compared} requests");
}

/// The source survives so that changes can be merged into an opened engine as into the
/// compiled one: the same change gives the same engine.
#[test]
fn changes_apply_to_an_opened_engine_as_to_the_compiled_one() {
    let engine = sample();
    let opened = tarif_conformance::reopen(&engine).unwrap();
    let sku = engine.skus().next().unwrap();
    let changes = serde_json::json!({
        "format": "tarif/1-changes",
        "upsert": {"products": [{"sku": "SNAPSHOT-NEW", "name": "Added after the open"}]},
        "delete": {"products": [sku]},
    })
    .to_string();
    let options = tarif::CompileOptions::default();
    let from_compiled = engine.apply(&changes, &options).unwrap().engine;
    let from_opened = opened.apply(&changes, &options).unwrap().engine;
    assert_eq!(from_opened.engine_version(), from_compiled.engine_version());
    assert_eq!(from_opened.source(), from_compiled.source());
    assert!(
        from_opened.skus().any(|s| s == "SNAPSHOT-NEW") && !from_opened.skus().any(|s| s == sku)
    );
}

#[test]
fn a_discarded_source_stays_discarded() {
    let options = tarif::CompileOptions {
        discard_source: true,
        ..Default::default()
    };
    let engine = Engine::compile(r#"{"format": "tarif/1"}"#, &options)
        .unwrap()
        .engine;
    assert_eq!(tarif_conformance::reopen(&engine).unwrap().source(), None);
}

fn bytes() -> Vec<u8> {
    Engine::from_json(
        r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "products": [{"sku": "A", "cost": "1.10"}, {"sku": "B"}],
            "price_lists": [{"id": "l", "currency": "EUR", "prices": [{"sku": "A", "price": "2.50"}]}],
            "settings": {"default_price_lists": ["l"]},
            "accounts": [{"id": "X"}]}"#,
    )
    .unwrap()
    .to_snapshot_bytes()
    .unwrap()
}

fn code(bytes: &[u8]) -> &'static str {
    Engine::from_snapshot_bytes(bytes).unwrap_err().code()
}

#[test]
fn a_truncated_snapshot_is_corrupt() {
    let whole = bytes();
    let header = 54 + usize::from(u16::from_le_bytes([whole[52], whole[53]]));
    for len in [
        0,
        1,
        7,
        8,
        12,
        20,
        52,
        54,
        header,
        header + 1,
        whole.len() / 2,
        whole.len() - 1,
    ] {
        assert_eq!(code(&whole[..len]), "SNAPSHOT_CORRUPT", "cut at {len}");
    }
}

#[test]
fn a_flipped_byte_is_detected() {
    let whole = bytes();
    for n in [1, 3, 7, 64] {
        for start in 0..n {
            let mut damaged = whole.clone();
            for byte in damaged.iter_mut().skip(start).step_by(n) {
                *byte ^= 0x5a;
            }
            let err = Engine::from_snapshot_bytes(&damaged).unwrap_err();
            assert!(
                ["SNAPSHOT_CORRUPT", "SNAPSHOT_VERSION"].contains(&err.code()),
                "{err}"
            );
        }
    }
    for at in 0..whole.len() {
        let mut damaged = whole.clone();
        damaged[at] ^= 1;
        let expected = if (8..12).contains(&at) {
            "SNAPSHOT_VERSION"
        } else {
            "SNAPSHOT_CORRUPT"
        };
        assert_eq!(code(&damaged), expected, "bit 0 of byte {at}");
    }
}

#[test]
fn wrong_magic_future_version_and_foreign_files_get_their_codes() {
    let mut magic = bytes();
    magic[..8].copy_from_slice(b"TARIFSNQ");
    assert_eq!(code(&magic), "SNAPSHOT_CORRUPT");

    let mut future = bytes();
    future[8..12].copy_from_slice(&(tarif::snapshot::FORMAT_VERSION + 1).to_le_bytes());
    let err = Engine::from_snapshot_bytes(&future).unwrap_err();
    assert_eq!(err.code(), "SNAPSHOT_VERSION");
    let message = err.to_string();
    assert!(
        message.contains(&format!("`{}`", tarif::snapshot::FORMAT_VERSION + 1))
            && message.contains(&format!("`{}`", tarif::snapshot::FORMAT_VERSION)),
        "{message}"
    );

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let json = tarif_sample::distributor_json();
    for foreign in [&png[..], json.as_bytes(), &[0u8; 4096][..]] {
        assert_eq!(code(foreign), "SNAPSHOT_CORRUPT");
    }
}

#[test]
fn open_names_the_file_and_io_errors_have_their_code() {
    let dir = scratch("open");
    let missing = dir.join("missing.snap");
    let err = Engine::open(&missing).unwrap_err();
    assert_eq!(err.code(), "IO_ERROR");
    assert!(err
        .to_string()
        .contains(&format!("`{}`", missing.display())));

    let foreign = dir.join("rules.json");
    std::fs::write(&foreign, br#"{"format": "tarif/1"}"#).unwrap();
    let err = Engine::open(&foreign).unwrap_err();
    assert_eq!(err.code(), "SNAPSHOT_CORRUPT");
    assert_eq!(
        err.to_string(),
        format!(
            "corrupt snapshot `{}`: not a tarif snapshot",
            foreign.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_save_leaves_the_existing_file_untouched() {
    let dir = scratch("save");
    let engine = sample();
    let target = dir.join("rules.snap");
    std::fs::write(&target, b"the previous snapshot").unwrap();

    // A save that cannot rename over its target: a directory stands there.
    let blocked = dir.join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    let err = engine.save(&blocked).unwrap_err();
    assert_eq!(err.code(), "IO_ERROR");
    assert!(blocked.is_dir());

    // A save whose directory is a file.
    let err = engine.save(&target.join("inner.snap")).unwrap_err();
    assert_eq!(err.code(), "IO_ERROR");
    assert_eq!(std::fs::read(&target).unwrap(), b"the previous snapshot");

    // No temporary file is left behind by either.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A successful save replaces the file whole.
    engine.save(&target).unwrap();
    assert_eq!(
        Engine::open(&target).unwrap().engine_version(),
        engine.engine_version()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever is flipped or cut, opening fails with a snapshot code; it never panics.
    #[test]
    fn damage_is_always_a_clean_error(
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let mut damaged = bytes();
        for (at, mask) in &flips {
            let at = at.index(damaged.len());
            damaged[at] ^= mask;
        }
        if let Some(cut) = cut {
            damaged.truncate(cut.index(damaged.len()));
        }
        let err = Engine::from_snapshot_bytes(&damaged).unwrap_err();
        prop_assert!(["SNAPSHOT_CORRUPT", "SNAPSHOT_VERSION"].contains(&err.code()), "{}", err);
    }

    /// Any bytes at all after a valid header are a clean error too (the hash is checked before
    /// the payload is decoded, so this is the decoder's own robustness, with the hash recomputed).
    #[test]
    fn a_forged_payload_with_a_valid_hash_does_not_panic(
        payload in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let whole = bytes();
        let header = 54 + usize::from(u16::from_le_bytes([whole[52], whole[53]]));
        let mut forged = whole[..header].to_vec();
        forged[12..20].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        forged[20..52].copy_from_slice(blake3::hash(&payload).as_bytes());
        forged.extend_from_slice(&payload);
        prop_assert!(Engine::from_snapshot_bytes(&forged).is_err());
    }
}

/// A document small enough to commit its snapshot, with each kind of index: a list and a
/// segment's rules wide enough to be resolved per product, an account's own net list and rule,
/// visibility, stock.
const FORMAT_DOCUMENT: &str = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
  "settings": {"default_price_lists": ["list"]},
  "categories": [{"id": "tools"}, {"id": "drills", "parent": "tools"}, {"id": "paint"}],
  "products": [
    {"sku": "D1", "categories": ["drills"], "brand": "acme", "cost": "40"},
    {"sku": "D2", "categories": ["drills"], "brand": "bolt", "family": "d"},
    {"sku": "P1", "categories": ["paint"], "ean": "4006381333931"},
    {"sku": "P2", "categories": ["paint"], "brand": "acme"}],
  "price_lists": [
    {"id": "list", "prices": [{"sku": "D1", "price": "100"}, {"sku": "D2", "price": "80",
      "tiers": [{"min_qty": 10, "price": "70"}]}, {"sku": "P1", "price": "12.50"},
      {"sku": "P2", "price": "9.99"}]},
    {"id": "net-C1", "net": true, "prices": [{"sku": "P2", "price": "7.10"}]}],
  "segments": [{"id": "trade"}],
  "accounts": [{"id": "C1", "segments": ["trade"], "price_lists": ["net-C1"]},
    {"id": "C2", "segments": ["trade"]}, {"id": "C3"}],
  "contracts": [
    {"id": "trade", "audience": {"segments": ["trade"]}, "rules": [
      {"id": "tools", "step": "discount", "products": {"category": "tools"}, "percent": "-10"},
      {"id": "acme", "step": "discount", "products": {"brand": "acme"}, "percent": "-5"}]},
    {"id": "c3", "audience": {"accounts": ["C3"]},
      "visibility": [{"effect": "deny", "products": {"category": "paint"}}],
      "rules": [{"id": "d2", "step": "discount", "products": {"sku": "D2"}, "percent": "-3"}]}],
  "stock": [{"sku": "D1", "available": "4"}]}"#;

/// The committed snapshot of [`FORMAT_DOCUMENT`] (`tests/golden/snapshot-format.tarif`) opens
/// with this build and answers as a fresh compile does. Its bytes are the index's own types, so
/// a change to them that keeps `FORMAT_VERSION` breaks this test: bump `FORMAT_VERSION` in
/// core/src/snapshot.rs, then rewrite the file with `TARIF_BLESS=1`.
#[test]
fn the_committed_snapshot_opens_with_this_format() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/snapshot-format.tarif");
    let compiled = Engine::from_json(FORMAT_DOCUMENT).unwrap();
    if std::env::var_os("TARIF_BLESS").is_some() {
        compiled.save(&path).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    assert_eq!(
        version,
        tarif::snapshot::FORMAT_VERSION,
        "FORMAT_VERSION changed: rewrite {} with TARIF_BLESS=1",
        path.display()
    );
    let opened = Engine::from_snapshot_bytes(&bytes).unwrap_or_else(|e| {
        panic!("the index layout changed without a new FORMAT_VERSION (bump it, then bless): {e}")
    });
    assert_eq!(opened.engine_version(), compiled.engine_version());
    let mut quotes = 0;
    for account in ["C1", "C2", "C3"] {
        for sku in ["D1", "D2", "P1", "P2", "4006381333931"] {
            for qty in [1, 12] {
                let request = QuoteRequest::new(account, sku, Decimal::from(qty));
                let (a, b) = (opened.quote(&request), compiled.quote(&request));
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{account} {sku} {qty}");
                quotes += usize::from(a.is_ok());
            }
        }
    }
    assert!(quotes >= 20, "{quotes} quotes priced");
}
