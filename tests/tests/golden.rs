//! Golden answers: the engine's answers on the sample document and on the small generated bench
//! set, over a fixed grid of requests, compared with the files committed under `tests/golden/`.
//!
//! The fixtures pin the semantics one rule at a time; this check pins every answer of two
//! realistic documents at once, so that a restructuring that must change no answer proves it.
//! The grid crosses accounts (plus unknown ones), references (SKUs, EANs, MPNs, refs, aliases,
//! other case, unknown ones), quantities (valid, off the order multiple, zero, negative) and
//! instants; it records the engine version, every quote or error (code and message), the winners
//! of every explained step, visibility and lookups. Compile diagnostics are left out: whether a
//! dated rule has expired depends on the day the document is compiled.
//!
//! A golden file holds, per section, its line count and blake3 digest, a digest per block of
//! lines (to find where two runs part) and the first lines in full. On a mismatch the full actual
//! listing is written to `target/golden/` and the first differing block is printed.
//!
//! After a deliberate change of answers, regenerate the files and review their diff:
//!
//! ```text
//! TARIF_BLESS=1 cargo test -p tarif-conformance --test golden
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde_json::Value;
use tarif::{Engine, QueryError, QuoteRequest};
use tarif_benches::generate::{File, Model, Size};

/// Lines per block digest.
const BLOCK: usize = 1000;
/// Lines of each section kept in full in the golden file.
const HEAD: usize = 40;

/// What is asked of one document.
struct Grid {
    accounts: Vec<String>,
    references: Vec<String>,
    quantities: Vec<&'static str>,
    instants: Vec<&'static str>,
    /// Quantities and instant of the `explain` section (explaining is far slower than quoting).
    explain_quantities: Vec<&'static str>,
    explain_instant: &'static str,
}

impl Grid {
    /// Every `account_step`-th account and `product_step`-th product of `document`; for every
    /// third product chosen, its other references too.
    fn new(engine: &Engine, document: &Value, account_step: usize, product_step: usize) -> Grid {
        let mut accounts: Vec<String> = engine
            .accounts()
            .step_by(account_step)
            .map(str::to_string)
            .collect();
        accounts.extend(["NO-SUCH-ACCOUNT".to_string(), String::new()]);
        let products = document["products"].as_array().cloned().unwrap_or_default();
        let mut references = Vec::new();
        for (i, product) in products.iter().step_by(product_step).enumerate() {
            let sku = product["sku"].as_str().unwrap_or_default();
            references.push(sku.to_string());
            if i % 3 == 0 {
                references.push(format!("  {}  ", sku.to_lowercase()));
                for key in ["ean", "mpn"] {
                    if let Some(text) = product[key].as_str() {
                        references.push(text.to_string());
                    }
                }
                if let Some(text) = product["refs"].get(0).and_then(Value::as_str) {
                    references.push(text.to_string());
                }
            }
        }
        for account in document["accounts"].as_array().into_iter().flatten() {
            if let Some(aliases) = account["aliases"].as_object() {
                references.extend(aliases.keys().take(2).cloned());
            }
        }
        references.extend(["NO-SUCH-REF".to_string(), String::new()]);
        Grid {
            accounts,
            references,
            quantities: vec!["1", "3", "0.5", "12", "100", "250", "0", "-1"],
            instants: Vec::new(),
            explain_quantities: vec!["1", "12"],
            explain_instant: "",
        }
    }
}

/// The sections of a listing, in order: `(name, lines)`.
type Listing = Vec<(&'static str, Vec<String>)>;

fn error_text(error: &QueryError) -> String {
    format!("ERR {} {}", error.code(), error)
}

fn listing(engine: &Engine, grid: &Grid) -> Listing {
    let mut instants = Vec::new();
    let mut instant_lines = Vec::new();
    for text in grid
        .instants
        .iter()
        .chain(["2026-13-45", "yesterday"].iter())
    {
        match engine.parse_instant(text) {
            Ok(at) => {
                instant_lines.push(format!("{text} => {at}"));
                instants.push((*text, at));
            }
            Err(e) => instant_lines.push(format!("{text} => {}", error_text(&e))),
        }
    }
    let mut quotes = Vec::new();
    let mut visibility = Vec::new();
    let mut lookups = Vec::new();
    for account in &grid.accounts {
        for reference in &grid.references {
            for (text, at) in &instants {
                let key = format!("{account}|{reference}|{text}");
                visibility.push(match engine.visibility(account, reference, Some(*at)) {
                    Ok(c) => format!("{key} => see={} price={} buy={}", c.see, c.price, c.buy),
                    Err(e) => format!("{key} => {}", error_text(&e)),
                });
                lookups.push(match engine.lookup_at(account, reference, *at) {
                    Ok(sku) => format!("{key} => {sku}"),
                    Err(e) => format!("{key} => {}", error_text(&e)),
                });
                for qty in &grid.quantities {
                    let qty: Decimal = qty.parse().unwrap_or_default();
                    let request = QuoteRequest::new(account, reference, qty).at(*at);
                    quotes.push(format!("{key}|{qty} => {}", quote_text(engine, &request)));
                }
            }
        }
    }
    let mut currencies = Vec::new();
    let mut codes: Vec<String> = engine.currencies().map(str::to_string).collect();
    codes.push("ZZZ".into());
    if let Some((text, at)) = instants.first() {
        for account in &grid.accounts {
            for reference in &grid.references {
                for code in &codes {
                    let request = QuoteRequest::new(account, reference, Decimal::ONE)
                        .at(*at)
                        .currency(code);
                    currencies.push(format!(
                        "{account}|{reference}|{text}|{code} => {}",
                        quote_text(engine, &request)
                    ));
                }
            }
        }
    }
    let mut explained = Vec::new();
    if let Ok(at) = engine.parse_instant(grid.explain_instant) {
        for account in &grid.accounts {
            for reference in &grid.references {
                for qty in &grid.explain_quantities {
                    let qty: Decimal = qty.parse().unwrap_or_default();
                    let request = QuoteRequest::new(account, reference, qty).at(at);
                    let key = format!("{account}|{reference}|{qty}");
                    explained.push(match engine.explain(&request) {
                        Ok(e) => {
                            let [see, price, buy] = e.visibility.allowed;
                            let mut line = format!(
                                "{key} => {} see={see} price={price} buy={buy} by={:?}",
                                e.sku, e.visibility.decided_by
                            );
                            for step in &e.steps {
                                let winners: Vec<String> = step
                                    .candidates
                                    .iter()
                                    .filter(|c| c.applied)
                                    .map(|c| match c.result {
                                        Some(r) => format!("{}={}", c.rule, r.normalize()),
                                        None => c.rule.clone(),
                                    })
                                    .collect();
                                let skipped = if step.skipped { " skipped" } else { "" };
                                let _ = write!(
                                    line,
                                    " | {}{skipped} [{}]",
                                    step.step,
                                    winners.join(", ")
                                );
                            }
                            match &e.outcome {
                                Ok((unit, total)) => {
                                    let _ = write!(line, " | {unit} {total}");
                                }
                                Err((code, message)) => {
                                    let _ = write!(line, " | ERR {code} {message}");
                                }
                            }
                            line
                        }
                        Err(e) => format!("{key} => {}", error_text(&e)),
                    });
                }
            }
        }
    }
    vec![
        ("engine_version", vec![engine.engine_version().to_string()]),
        ("instants", instant_lines),
        ("quotes", quotes),
        ("currencies", currencies),
        ("explain", explained),
        ("visibility", visibility),
        ("lookups", lookups),
    ]
}

fn quote_text(engine: &Engine, request: &QuoteRequest<'_>) -> String {
    match engine.quote(request) {
        Ok(q) => {
            let steps: Vec<String> = q
                .steps
                .iter()
                .map(|s| {
                    let before = s.before.map(|b| b.to_string()).unwrap_or_default();
                    format!(
                        "{}:{}@{}/{} {}->{} {}",
                        s.step, s.rule, s.source, s.level, before, s.after, s.notes
                    )
                })
                .collect();
            format!(
                "{} {} unit={} line={} base={} list={} buyable={} stage={:?} [{}]",
                q.sku,
                q.currency,
                q.unit_price,
                q.line_total,
                q.base_price,
                q.list_price.map(|d| d.to_string()).unwrap_or_default(),
                q.buyable,
                q.stage,
                steps.join("; ")
            )
        }
        Err(e) => error_text(&e),
    }
}

fn digest(lines: &[String]) -> String {
    let mut hasher = blake3::Hasher::new();
    for line in lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().to_hex().to_string()
}

/// The golden file's text for a listing.
fn summary(name: &str, listing: &Listing) -> String {
    let mut out = format!(
        "# Golden answers of {name} (tests/tests/golden.rs). Regenerate after a deliberate\n\
         # change of answers: TARIF_BLESS=1 cargo test -p tarif-conformance --test golden\n"
    );
    for (section, lines) in listing {
        let _ = writeln!(
            out,
            "\n[{section}] lines={} blake3={}",
            lines.len(),
            digest(lines)
        );
        let blocks: Vec<String> = lines
            .chunks(BLOCK)
            .map(|block| digest(block).chars().take(12).collect())
            .collect();
        let _ = writeln!(out, "blocks of {BLOCK}: {}", blocks.join(" "));
        for line in lines.iter().take(HEAD) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn check(name: &str, engine: &Engine, grid: &Grid) {
    let listing = listing(engine, grid);
    let actual = summary(name, &listing);
    let path = golden_dir().join(format!("{name}.txt"));
    if std::env::var_os("TARIF_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).expect("creating tests/golden");
        std::fs::write(&path, &actual).expect("writing the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with TARIF_BLESS=1)", path.display()));
    if expected == actual {
        return;
    }
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("golden");
    std::fs::create_dir_all(&out_dir).expect("creating target/golden");
    let mut report = String::new();
    for (section, lines) in &listing {
        let full = out_dir.join(format!("{name}.{section}.txt"));
        std::fs::write(&full, lines.join("\n") + "\n").expect("writing the actual listing");
        let header = format!("[{section}] lines={} blake3={}", lines.len(), digest(lines));
        if expected.lines().any(|l| l == header) {
            continue;
        }
        let _ = writeln!(report, "section `{section}` differs: {}", full.display());
        let expected_blocks = expected
            .lines()
            .skip_while(|l| !l.starts_with(&format!("[{section}]")))
            .nth(1)
            .and_then(|l| l.split_once(": "))
            .map(|(_, b)| b.split(' ').map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default();
        for (i, block) in lines.chunks(BLOCK).enumerate() {
            let got: String = digest(block).chars().take(12).collect();
            if expected_blocks.get(i) != Some(&got) {
                let _ = writeln!(
                    report,
                    "  first differing block: lines {}..{}, starting with:\n    {}",
                    i * BLOCK + 1,
                    i * BLOCK + block.len(),
                    block
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n    ")
                );
                break;
            }
        }
    }
    panic!(
        "{name}: answers differ from {} (after a deliberate change: TARIF_BLESS=1)\n{report}",
        path.display()
    );
}

#[test]
fn sample_document_answers_are_unchanged() {
    let document = tarif_sample::distributor();
    let engine = Engine::from_json(&document.to_string()).expect("the sample compiles");
    let mut grid = Grid::new(&engine, &document, 1, 53);
    grid.instants = vec![
        "2026-12-01T09:00:00+01:00",
        tarif_sample::showcase::AT,
        "2027-09-01",
        "2028-06-15T12:00:00Z",
    ];
    grid.explain_instant = tarif_sample::showcase::AT;
    check("sample", &engine, &grid);
}

#[test]
fn small_bench_set_answers_are_unchanged() {
    let model = Model::generate(Size::Small);
    let mut bytes = Vec::new();
    model
        .write(File::Rules, &mut bytes)
        .expect("writing to memory");
    let text = String::from_utf8(bytes).expect("ASCII");
    let document: Value = serde_json::from_str(&text).expect("valid JSON");
    let engine = Engine::from_json(&text).expect("the bench set compiles");
    let mut grid = Grid::new(&engine, &document, 10, 250);
    grid.instants = vec![
        "2025-03-01T00:00:00Z",
        tarif_benches::generate::BENCH_AT,
        "2027-06-01",
    ];
    grid.explain_instant = tarif_benches::generate::BENCH_AT;
    check("bench-small", &engine, &grid);
}
