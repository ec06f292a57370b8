//! Test support: shared by the conformance, differential and metamorphic suites.
//!
//! The fixtures under `tests/fixtures/` are language-neutral JSON (see `fixtures/README.md`).
//! [`run_all`] runs every one of them against any [`Evaluator`] — the reference evaluator here,
//! the compiled engine elsewhere — so both are held to the same expected values.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use tarif::document::Document;
use tarif::money::parse_decimal;
use tarif_reference::search::BruteForce;
use tarif_reference::{RefQuote, Reference};

pub mod explain;
pub mod orders;
pub mod requests;
pub mod search;

/// Something that answers fixture queries, in the fixtures' expected shape.
///
/// Every answer is a JSON object: a quote `{"sku", "currency", "unit_price", "line_total",
/// "base_price", "list_price", "buyable", "applied", "stock"}` (decimals as strings, printed at the scale
/// the rounding gave them), a visibility `{"see", "price", "buy"}`, a lookup `{"sku"}`, or an
/// error `{"error": CODE}` (plus `"nearest"` for `QUANTITY_RULE`). Arguments are passed as the
/// fixture writes them, so parse errors are reported where the error precedence puts them.
pub trait Evaluator: Sized {
    /// Builds the evaluator for a fixture's document.
    fn load(document: &Value) -> Result<Self, String>;

    /// Every compile diagnostic (errors and warnings) as `(code, path)`, or `None` when this
    /// evaluator has no compiler (the runner then lists the fixture as skipped, never passed).
    fn diagnostics(document: &Value) -> Option<Vec<(String, String)>>;

    /// `quote(account, ref, qty, at, currency)`.
    fn quote(
        &self,
        account: &str,
        reference: &str,
        qty: &str,
        at: &str,
        currency: Option<&str>,
    ) -> Value;

    /// `visibility(account, ref, at)`.
    fn visibility(&self, account: &str, reference: &str, at: &str) -> Value;

    /// `lookup(account, ref, at)`.
    fn lookup(&self, account: &str, reference: &str, at: &str) -> Value;

    /// `search(account, query, at)` with the query in the fixtures' format, answered as
    /// `{"total", "skus", "facets", "variants"?, "prices"?, "walk"?}` (see [`search`]); `walk`
    /// also pages through the whole result with cursors of that many rows.
    fn search(&self, account: &str, query: &Value, at: &str, walk: Option<usize>) -> Value;

    /// `related(account, ref, kind, at)`, answered as `{"skus"}`.
    fn related(&self, account: &str, reference: &str, kind: &str, at: &str) -> Value;
}

/// What a run over the fixtures found.
#[derive(Debug, Default)]
pub struct Report {
    /// Fixture files read.
    pub files: usize,
    /// Query cases and expected diagnostics checked.
    pub checked: usize,
    /// Files (or parts of files) the evaluator could not check, with the reason.
    pub skipped: Vec<String>,
    /// Every mismatch, with enough context to fix it.
    pub failures: Vec<String>,
}

impl Report {
    /// A readable summary, skips included so that nothing is skipped silently.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} fixture files, {} checks, {} failures, {} skipped",
            self.files,
            self.checked,
            self.failures.len(),
            self.skipped.len()
        );
        for s in &self.skipped {
            let _ = write!(out, "\n  skipped: {s}");
        }
        for f in &self.failures {
            let _ = write!(out, "\n  FAILED: {f}");
        }
        out
    }
}

/// The fixtures directory of this crate.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every `*.json` file under `root`, recursively, in a stable order; `import/` holds tables and
/// manifests for the importer (tests/tests/import.rs), not cases.
pub fn fixture_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path != root.join("import") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Runs every fixture under `root` against `E`.
pub fn run_all<E: Evaluator>(root: &Path) -> Report {
    let mut report = Report::default();
    for path in fixture_files(root) {
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        report.files += 1;
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<Value>(&text).map_err(|e| e.to_string()))
        {
            Ok(fixture) => run_fixture::<E>(&name, &fixture, &mut report),
            Err(e) => report
                .failures
                .push(format!("{name}: unreadable fixture: {e}")),
        }
    }
    report
}

/// Runs one fixture file's content.
pub fn run_fixture<E: Evaluator>(name: &str, fixture: &Value, report: &mut Report) {
    let document = fixture.get("document").cloned().unwrap_or(Value::Null);
    if fixture.get("requests").is_some() || fixture.get("orders").is_some() {
        // Bad requests go through a binding's conversions, not an evaluator: see `requests`.
        // Orders have their own runner: see `orders`.
        return;
    }
    if let Some(compile) = fixture.get("compile") {
        check_diagnostics::<E>(name, &document, compile, report);
        return;
    }
    if fixture.get("warnings").is_some() {
        check_diagnostics::<E>(name, &document, fixture, report);
    }
    let cases = fixture
        .get("cases")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if cases.is_empty() {
        report
            .failures
            .push(format!("{name}: no `cases` and no `compile`"));
        return;
    }
    let evaluator = match E::load(&document) {
        Ok(e) => e,
        Err(e) => {
            report
                .failures
                .push(format!("{name}: document does not load: {e}"));
            return;
        }
    };
    for (i, case) in cases.iter().enumerate() {
        let label = format!(
            "{name} #{i} {}",
            case.get("name")
                .and_then(Value::as_str)
                .unwrap_or("(unnamed)")
        );
        report.checked += 1;
        if let Err(e) = run_case(&evaluator, case) {
            report.failures.push(format!("{label}: {e}"));
        }
    }
}

fn check_diagnostics<E: Evaluator>(
    name: &str,
    document: &Value,
    spec: &Value,
    report: &mut Report,
) {
    let Some(reported) = E::diagnostics(document) else {
        report.skipped.push(format!(
            "{name}: compile diagnostics (this evaluator has no compiler)"
        ));
        return;
    };
    for key in ["errors", "warnings"] {
        for expected in spec
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let code = expected
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let path = expected
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or_default();
            report.checked += 1;
            if !reported.iter().any(|(c, p)| c == code && p == path) {
                report.failures.push(format!(
                    "{name}: expected {code} at `{path}`, reported: {reported:?}"
                ));
            }
        }
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn run_case<E: Evaluator>(evaluator: &E, case: &Value) -> Result<(), String> {
    let field = |key: &str| text(case.get(key)).ok_or(format!("case lacks `{key}`"));
    let op = field("op")?;
    let account = field("account")?;
    // Nothing may depend on the clock.
    let at = field("at")?;
    let expect = case
        .get("expect")
        .and_then(Value::as_object)
        .ok_or("case lacks `expect`")?;
    if op == "search" {
        let query = case.get("query").cloned().unwrap_or_else(|| json!({}));
        let walk = case
            .get("walk")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok());
        return compare(expect, &evaluator.search(&account, &query, &at, walk));
    }
    let reference = field("ref")?;
    let actual = match op.as_str() {
        "related" => evaluator.related(&account, &reference, &field("kind")?, &at),
        "quote" => {
            let currency = text(case.get("currency"));
            evaluator.quote(
                &account,
                &reference,
                &field("qty")?,
                &at,
                currency.as_deref(),
            )
        }
        "visibility" => evaluator.visibility(&account, &reference, &at),
        "lookup" => evaluator.lookup(&account, &reference, &at),
        other => return Err(format!("unknown op `{other}`")),
    };
    compare(expect, &actual)
}

/// Every expected key must be in the answer with the same value; `nearest` is compared as a
/// decimal, everything else exactly (decimals as printed strings).
fn compare(expect: &Map<String, Value>, actual: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    for (key, want) in expect {
        let got = actual.get(key);
        let same = match (key.as_str(), got) {
            ("nearest", Some(got)) => {
                let as_dec = |v: &Value| text(Some(v)).as_deref().and_then(parse_decimal);
                as_dec(want).is_some() && as_dec(want) == as_dec(got)
            }
            (_, Some(got)) => got == want,
            (_, None) => false,
        };
        if !same {
            problems.push(format!(
                "`{key}`: expected {want}, got {}",
                got.unwrap_or(&Value::Null)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} (answer: {actual})", problems.join("; ")))
    }
}

fn error(code: &str) -> Value {
    json!({ "error": code })
}

fn quote_json(q: &RefQuote) -> Value {
    json!({
        "sku": q.sku,
        "currency": q.currency,
        "unit_price": q.unit_price.to_string(),
        "line_total": q.line_total.to_string(),
        "base_price": q.base_price.to_string(),
        "list_price": q.list_price.map(|p| p.to_string()),
        "buyable": q.buyable,
        "applied": q.applied,
        "stock": q.stock.as_ref().map(|s| stock_json(s.available, s.backorder, s.lead_time_days)),
    })
}

/// The stock part of a quote answer: `null` when the product is not tracked.
fn stock_json(available: Decimal, backorder: Decimal, lead_time_days: Option<u32>) -> Value {
    json!({
        "available": available.to_string(),
        "backorder": backorder.to_string(),
        "lead_time_days": lead_time_days,
    })
}

impl Evaluator for Reference {
    fn load(document: &Value) -> Result<Self, String> {
        serde_json::from_value::<Document>(document.clone())
            .map(|doc| Reference::new(&doc))
            .map_err(|e| e.to_string())
    }

    fn diagnostics(_document: &Value) -> Option<Vec<(String, String)>> {
        None
    }

    fn quote(
        &self,
        account: &str,
        reference: &str,
        qty: &str,
        at: &str,
        currency: Option<&str>,
    ) -> Value {
        if !self.has_account(account) {
            return error("UNKNOWN_ACCOUNT");
        }
        let Some(at) = self.parse_at(at) else {
            return error("INVALID_INSTANT");
        };
        // An unreadable quantity is not positive: it fails where quantities are checked.
        let qty = parse_decimal(qty).unwrap_or(Decimal::ZERO);
        match Reference::quote(self, account, reference, qty, at, currency) {
            Ok(q) => quote_json(&q),
            Err(code) => {
                let mut answer = error(code);
                let nearest = Reference::lookup(self, account, reference, at)
                    .ok()
                    .and_then(|sku| self.nearest_quantity(&sku, qty));
                if let (Some(n), Some(obj)) = (nearest, answer.as_object_mut()) {
                    obj.insert("nearest".into(), json!(n.to_string()));
                }
                answer
            }
        }
    }

    fn visibility(&self, account: &str, reference: &str, at: &str) -> Value {
        if !self.has_account(account) {
            return error("UNKNOWN_ACCOUNT");
        }
        let Some(at) = self.parse_at(at) else {
            return error("INVALID_INSTANT");
        };
        match Reference::visibility(self, account, reference, at) {
            Ok(c) => json!({ "see": c.see, "price": c.price, "buy": c.buy }),
            Err(code) => error(code),
        }
    }

    fn lookup(&self, account: &str, reference: &str, at: &str) -> Value {
        if !self.has_account(account) {
            return error("UNKNOWN_ACCOUNT");
        }
        let Some(at) = self.parse_at(at) else {
            return error("INVALID_INSTANT");
        };
        match Reference::lookup(self, account, reference, at) {
            Ok(sku) => json!({ "sku": sku }),
            Err(code) => error(code),
        }
    }

    fn search(&self, account: &str, query: &Value, at: &str, walk: Option<usize>) -> Value {
        if !self.has_account(account) {
            return error("UNKNOWN_ACCOUNT");
        }
        let Some(at) = self.parse_at(at) else {
            return error("INVALID_INSTANT");
        };
        match search::parse_query(query) {
            Ok(q) => BruteForce::new(self).search(account, &q, at, walk.is_some()),
            Err(e) => json!({ "error": format!("bad query: {e}") }),
        }
    }

    fn related(&self, account: &str, reference: &str, kind: &str, at: &str) -> Value {
        if !self.has_account(account) {
            return error("UNKNOWN_ACCOUNT");
        }
        let Some(at) = self.parse_at(at) else {
            return error("INVALID_INSTANT");
        };
        match search::relation_kind(kind) {
            Some(kind) => BruteForce::new(self).related(account, reference, kind, at),
            None => json!({ "error": format!("unknown relation kind {kind}") }),
        }
    }
}

/// The compiled engine, as the fixtures see it.
pub struct EngineEvaluator(tarif::Engine);

/// The engine saved as a snapshot and opened again: it must answer every fixture as the
/// compiled one does.
pub struct ReopenedEvaluator(EngineEvaluator);

/// The engine of snapshot bytes of `engine`, as `Engine::open` would give it.
pub fn reopen(engine: &tarif::Engine) -> Result<tarif::Engine, String> {
    let bytes = engine.to_snapshot_bytes().map_err(|e| e.to_string())?;
    tarif::Engine::from_snapshot_bytes(&bytes).map_err(|e| e.to_string())
}

impl Evaluator for ReopenedEvaluator {
    fn load(document: &Value) -> Result<Self, String> {
        let EngineEvaluator(engine) = EngineEvaluator::load(document)?;
        Ok(ReopenedEvaluator(EngineEvaluator(reopen(&engine)?)))
    }

    /// The warnings as the reopened engine reports them; a rejected document has no engine to
    /// save, so its errors are the compiler's.
    fn diagnostics(document: &Value) -> Option<Vec<(String, String)>> {
        let options = tarif::CompileOptions::default();
        match tarif::Engine::compile(&document.to_string(), &options) {
            Ok(compiled) => Some(match reopen(&compiled.engine) {
                Ok(engine) => engine
                    .diagnostics()
                    .iter()
                    .map(|d| (d.code.code().to_string(), d.path.clone()))
                    .collect(),
                Err(e) => vec![("SNAPSHOT".to_string(), e)],
            }),
            Err(_) => EngineEvaluator::diagnostics(document),
        }
    }

    fn quote(
        &self,
        account: &str,
        reference: &str,
        qty: &str,
        at: &str,
        currency: Option<&str>,
    ) -> Value {
        self.0.quote(account, reference, qty, at, currency)
    }

    fn visibility(&self, account: &str, reference: &str, at: &str) -> Value {
        self.0.visibility(account, reference, at)
    }

    fn lookup(&self, account: &str, reference: &str, at: &str) -> Value {
        self.0.lookup(account, reference, at)
    }

    fn search(&self, account: &str, query: &Value, at: &str, walk: Option<usize>) -> Value {
        self.0.search(account, query, at, walk)
    }

    fn related(&self, account: &str, reference: &str, kind: &str, at: &str) -> Value {
        self.0.related(account, reference, kind, at)
    }
}

impl EngineEvaluator {
    /// The account is checked before the instant is parsed (spec §9 precedence).
    fn account_then_instant(&self, account: &str, at: &str) -> Result<tarif::Instant, Value> {
        if !self.0.accounts().any(|a| a == account) {
            return Err(error("UNKNOWN_ACCOUNT"));
        }
        self.0.parse_instant(at).map_err(|e| error(e.code()))
    }
}

fn query_error(e: &tarif::QueryError) -> Value {
    let mut answer = error(e.code());
    if let (tarif::QueryError::QuantityRule { nearest, .. }, Some(obj)) =
        (e, answer.as_object_mut())
    {
        obj.insert("nearest".into(), json!(nearest.to_string()));
    }
    answer
}

impl Evaluator for EngineEvaluator {
    fn load(document: &Value) -> Result<Self, String> {
        tarif::Engine::from_json(&document.to_string())
            .map(EngineEvaluator)
            .map_err(|e| e.to_string())
    }

    fn diagnostics(document: &Value) -> Option<Vec<(String, String)>> {
        let options = tarif::CompileOptions::default();
        Some(
            match tarif::Engine::compile(&document.to_string(), &options) {
                Ok(compiled) => compiled
                    .warnings
                    .iter()
                    .map(|d| (d.code.code().to_string(), d.path.clone()))
                    .collect(),
                Err(e) => e
                    .diagnostics
                    .iter()
                    .map(|d| (d.code.code().to_string(), d.path.clone()))
                    .collect(),
            },
        )
    }

    fn quote(
        &self,
        account: &str,
        reference: &str,
        qty: &str,
        at: &str,
        currency: Option<&str>,
    ) -> Value {
        let at = match self.account_then_instant(account, at) {
            Ok(at) => at,
            Err(e) => return e,
        };
        let qty = parse_decimal(qty).unwrap_or(Decimal::ZERO);
        let mut request = tarif::QuoteRequest::new(account, reference, qty).at(at);
        if let Some(c) = currency {
            request = request.currency(c);
        }
        match self.0.quote(&request) {
            Ok(q) => json!({
                "sku": q.sku,
                "currency": q.currency,
                "unit_price": q.unit_price.to_string(),
                "line_total": q.line_total.to_string(),
                "base_price": q.base_price.to_string(),
                "list_price": q.list_price.map(|p| p.to_string()),
                "buyable": q.buyable,
                "applied": q.steps.iter().map(|s| s.rule.to_string()).collect::<Vec<_>>(),
                "stock": q.stock.map(|s| stock_json(s.available, s.backorder, s.lead_time_days)),
            }),
            Err(e) => query_error(&e),
        }
    }

    fn visibility(&self, account: &str, reference: &str, at: &str) -> Value {
        let at = match self.account_then_instant(account, at) {
            Ok(at) => at,
            Err(e) => return e,
        };
        match self.0.visibility(account, reference, Some(at)) {
            Ok(c) => json!({ "see": c.see, "price": c.price, "buy": c.buy }),
            Err(e) => query_error(&e),
        }
    }

    fn lookup(&self, account: &str, reference: &str, at: &str) -> Value {
        let at = match self.account_then_instant(account, at) {
            Ok(at) => at,
            Err(e) => return e,
        };
        match self.0.lookup_at(account, reference, at) {
            Ok(sku) => json!({ "sku": sku }),
            Err(e) => query_error(&e),
        }
    }

    fn search(&self, account: &str, query: &Value, at: &str, walk: Option<usize>) -> Value {
        let at = match self.account_then_instant(account, at) {
            Ok(at) => at,
            Err(e) => return e,
        };
        match search::parse_query(query) {
            Ok(q) => search::engine_search(&self.0, account, &q, at, walk),
            Err(e) => json!({ "error": format!("bad query: {e}") }),
        }
    }

    fn related(&self, account: &str, reference: &str, kind: &str, at: &str) -> Value {
        let at = match self.account_then_instant(account, at) {
            Ok(at) => at,
            Err(e) => return e,
        };
        match search::relation_kind(kind) {
            Some(kind) => search::engine_related(&self.0, account, reference, kind, at),
            None => json!({ "error": format!("unknown relation kind {kind}") }),
        }
    }
}
