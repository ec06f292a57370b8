//! The compiler: validates a `tarif/1` document, reporting every problem at once, interns ids
//! into dense integers and writes the [`Index`] the engine reads. It never reads an engine.

mod audience;
mod catalog;
mod diagnostics;
mod earlier;
mod facets;
mod hierarchy;
mod orders;
mod prices;
mod pricing;
mod refs;
mod stock;
mod users;
mod values;
mod version;
mod visibility;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{BuildWarnings, CompileError, Diagnostic, DiagnosticCode as Code, Severity};
use crate::index::{BuildState, Index};
use crate::instant::Instant;
use crate::model::{Contract, Document, Item, ParsedContracts, FORMAT};
use crate::source::SectionSpan;

pub(crate) use diagnostics::{invalid_json, Diags};
pub(crate) use prices::{patch as patch_prices, Group as PriceGroup};
pub(crate) use stock::patch as patch_stock;
pub(crate) use version::{
    canonical, contract_records, hashed, record_hashes, ContractRecords, Known, PriceHashes,
    Records, StoredContracts,
};

/// How to compile.
///
/// ```
/// use tarif::{CompileOptions, Engine, Instant};
/// let doc = r#"{"format": "tarif/1", "contracts": [{"id": "old", "audience": "all",
///   "valid": {"until": "2020-01-01"}}]}"#;
/// // The same document is rejected in strict mode or not depending on the day it is
/// // compiled at: `as_of` makes that day explicit.
/// let before = CompileOptions { strict: true, as_of: Instant::parse_rfc3339("2019-06-01T00:00:00Z"), ..Default::default() };
/// assert!(Engine::compile(doc, &before).is_ok());
/// let after = CompileOptions { strict: true, as_of: Instant::parse_rfc3339("2021-06-01T00:00:00Z"), ..Default::default() };
/// assert_eq!(Engine::compile(doc, &after).unwrap_err().code(), "STRICT_WARNINGS");
/// ```
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Reject the document on warnings too.
    pub strict: bool,
    /// The instant the `EXPIRED` and `UNPRICED_PRODUCT` warnings are judged at (default: now).
    /// Set it to make a compile, and so `strict`, reproducible.
    pub as_of: Option<Instant>,
    /// Do not keep the document text in the engine. An engine keeps the text it was compiled
    /// from so that [`crate::Engine::apply`] can merge changes into it and `diff` can compare
    /// entities; a service that never applies changes can save that memory (as large as the
    /// document), and `apply` then fails with `NO_SOURCE`.
    pub discard_source: bool,
    /// Called as each phase of the compile begins, and once more when it is done (see
    /// [`CompileProgress`]). Without it a compile reports nothing and pays nothing.
    pub progress: Option<CompileProgress>,
}

/// A compile's progress callback: `(phase, done, total)`, where `phase` names the phase that
/// begins (`"parse"`, `"catalog"`, `"pricing"`, ...), `done` counts the phases finished before
/// it and `total` is [`CompileProgress::PHASES`]. The last call is `("done", total, total)`.
/// It is called on the thread that called the compile, between phases, never concurrently.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use tarif::{CompileOptions, CompileProgress, Engine};
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&seen);
/// let options = CompileOptions {
///     progress: Some(CompileProgress::new(move |phase, done, total| {
///         log.lock().unwrap().push((phase.to_string(), done, total));
///     })),
///     ..Default::default()
/// };
/// Engine::compile(r#"{"format": "tarif/1", "products": [{"sku": "A"}]}"#, &options).unwrap();
/// let seen = seen.lock().unwrap();
/// assert_eq!(seen.first().unwrap(), &("parse".to_string(), 0, CompileProgress::PHASES));
/// assert_eq!(seen.last().unwrap(), &("done".to_string(), CompileProgress::PHASES, CompileProgress::PHASES));
/// ```
#[derive(Clone)]
pub struct CompileProgress(Arc<ProgressFn>);

/// The callback behind a [`CompileProgress`].
type ProgressFn = dyn Fn(&str, usize, usize) + Send + Sync;

impl CompileProgress {
    /// How many phases a compile reports.
    pub const PHASES: usize = PHASES.len();

    /// A progress callback from a closure.
    ///
    /// ```
    /// let progress = tarif::CompileProgress::new(|phase, done, total| eprintln!("{phase} {done}/{total}"));
    /// assert_eq!(format!("{progress:?}"), "CompileProgress");
    /// ```
    pub fn new(callback: impl Fn(&str, usize, usize) + Send + Sync + 'static) -> CompileProgress {
        CompileProgress(Arc::new(callback))
    }
}

impl fmt::Debug for CompileProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CompileProgress")
    }
}

/// The phases of a compile, in order.
const PHASES: [&str; 9] = [
    "parse",
    "settings",
    "catalog",
    "audiences",
    "pricing",
    "visibility",
    "references and search",
    "stock",
    "checks",
];

/// Where a compile is: reports each phase to the caller's callback, if any, and to `tracing`
/// (a `compile_phase` span around each phase, a debug event with its duration as it ends, and
/// an info event once the compile is over).
struct Phases<'a> {
    progress: Option<&'a CompileProgress>,
    done: usize,
    /// The running phase's span and when it began.
    running: Option<(tracing::span::EnteredSpan, std::time::Instant)>,
    started: std::time::Instant,
}

impl<'a> Phases<'a> {
    fn new(progress: Option<&'a CompileProgress>) -> Self {
        Phases {
            progress,
            done: 0,
            running: None,
            started: std::time::Instant::now(),
        }
    }

    /// Marks the beginning of the next phase of [`PHASES`].
    fn next(&mut self) {
        self.end_phase();
        if let Some(phase) = PHASES.get(self.done) {
            if let Some(progress) = self.progress {
                (progress.0)(phase, self.done, PHASES.len());
            }
            let span = tracing::debug_span!(target: "tarif::compile", "compile_phase", phase);
            self.running = Some((span.entered(), std::time::Instant::now()));
        }
        self.done += 1;
    }

    fn end_phase(&mut self) {
        if let Some((span, began)) = self.running.take() {
            let phase = PHASES
                .get(self.done.saturating_sub(1))
                .copied()
                .unwrap_or("");
            tracing::debug!(target: "tarif::compile", phase, ms = millis(began), "compile phase done");
            drop(span);
        }
    }

    fn finish(&mut self, diagnostics: &[Diagnostic]) {
        self.end_phase();
        if let Some(progress) = self.progress {
            (progress.0)("done", PHASES.len(), PHASES.len());
        }
        self.done = PHASES.len();
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        tracing::info!(
            target: "tarif::compile",
            errors,
            warnings = diagnostics.len() - errors,
            ms = millis(self.started),
            "compiled: {errors} error(s), {} warning(s) in {} ms",
            diagnostics.len() - errors,
            millis(self.started),
        );
    }
}

fn millis(since: std::time::Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A compiled index, the warnings its document raised (never errors: a document with errors
/// is rejected) and where its sections are in its text, with their hashes.
#[derive(Debug)]
pub(crate) struct Output {
    pub index: Index,
    pub warnings: Vec<Diagnostic>,
    pub sections: Vec<SectionSpan>,
    /// The build's warnings before the day was applied to them.
    pub build_warnings: BuildWarnings,
    /// What a later change of contracts alone compiles them against.
    pub state: Arc<BuildState>,
    /// The `contracts` section by contract, when hashing the document read it.
    pub contracts: Option<Arc<ContractRecords>>,
    /// The contracts as a change of rules alone reads them (visibility rules left out), kept
    /// by a compile and by each change of rules.
    pub parsed: Option<ParsedContracts>,
}

const SECTIONS: [&str; 10] = [
    "format",
    "settings",
    "currencies",
    "categories",
    "products",
    "price_lists",
    "segments",
    "accounts",
    "contracts",
    "stock",
];

/// Compiles a JSON rules document.
///
/// ```
/// use tarif::{CompileOptions, Engine};
/// let err = Engine::compile(r#"{"format": "tarif/1", "products": [{"sku": ""}, {"sku": "A", "cost": "x"}]}"#,
///                           &CompileOptions::default()).unwrap_err();
/// let codes: Vec<_> = err.diagnostics.iter().map(|d| (d.code.code(), d.path.as_str())).collect();
/// assert!(codes.contains(&("INVALID_ID", "products[0].sku")));
/// assert!(codes.contains(&("INVALID_DECIMAL", "products[1].cost")));
/// ```
pub(crate) fn compile(json: &str, options: &CompileOptions) -> Result<Output, CompileError> {
    compile_known(json, options, None)
}

/// Compiles a document whose version and sections may already be known (a change knows them
/// from the sections it kept and those it wrote, and saves hashing the whole text again).
pub(crate) fn compile_known(
    json: &str,
    options: &CompileOptions,
    known: Option<Known>,
) -> Result<Output, CompileError> {
    let as_of = options.as_of.unwrap_or_else(Instant::now);
    let mut phases = Phases::new(options.progress.as_ref());
    phases.next();
    // A valid document is parsed in one direct pass while its version is hashed from the text;
    // any problem at all sends it down the `Value` path below, which reports every problem.
    let (doc, known) = match known {
        Some(known) => (Document::parse_direct(json), Some(known)),
        None => rayon::join(|| Document::parse_direct(json), || version::of_text(json)),
    };
    let mut diags = Diags::default();
    if let (Some(doc), Some(known)) = (doc, &known) {
        if doc.format == FORMAT {
            let (records, prices) =
                rayon::join(|| stock_records(json, known), || price_hashes(json, known));
            let index = build(
                doc,
                known.version.clone(),
                &records,
                prices.as_deref(),
                as_of,
                &mut diags,
                &mut phases,
            );
            let output = diags.finish(index, known.sections.clone(), options.strict, &mut phases);
            return output.map(|output| Output {
                contracts: known.records.contracts.clone(),
                ..output
            });
        }
    }
    let value: Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => {
            diags.error(Code::ParseError, "", diagnostics::invalid_json(&e), &[]);
            phases.finish(&diags.list);
            return Err(diags.into_error());
        }
    };
    let records = known.as_ref().map(|known| {
        (
            stock_records(json, known).into_owned(),
            price_hashes(json, known),
        )
    });
    compile_value(
        value,
        known,
        records,
        options.strict,
        as_of,
        diags,
        &mut phases,
    )
}

/// The hashes of the stock records of `json`, in order: as `known` has them, else read from
/// its stock section.
fn stock_records<'k>(json: &str, known: &'k Known) -> Cow<'k, [u128]> {
    if let Some(records) = &known.records.stock {
        return Cow::Borrowed(records);
    }
    let read = known
        .sections
        .iter()
        .find(|s| &*s.name == crate::source::STOCK)
        .and_then(|s| json.get(s.start..s.end))
        .and_then(record_hashes);
    Cow::Owned(read.unwrap_or_default())
}

/// The `price_lists` section of `json` by list: as `known` has it, else read from the section
/// (`None` when the section is absent or not hashed by list).
fn price_hashes(json: &str, known: &Known) -> Option<Arc<PriceHashes>> {
    if let Some(prices) = &known.records.prices {
        return Some(Arc::clone(prices));
    }
    known
        .sections
        .iter()
        .find(|s| &*s.name == crate::source::PRICE_LISTS)
        .and_then(|s| json.get(s.start..s.end))
        .and_then(version::price_hashes)
        .map(Arc::new)
}

/// Compiles an already-parsed JSON document.
fn compile_value(
    mut value: Value,
    known: Option<Known>,
    records: Option<(Vec<u128>, Option<Arc<PriceHashes>>)>,
    strict: bool,
    as_of: Instant,
    mut diags: Diags,
    phases: &mut Phases<'_>,
) -> Result<Output, CompileError> {
    let Some(object) = value.as_object_mut() else {
        diags.error(
            Code::InvalidType,
            "",
            "the document must be a json object".into(),
            &[],
        );
        phases.finish(&diags.list);
        return Err(diags.into_error());
    };
    let unknown: Vec<String> = object
        .keys()
        .filter(|k| !SECTIONS.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in unknown {
        diags.error(
            Code::UnknownField,
            &key,
            format!("unknown field `{key}`"),
            &[],
        );
        object.remove(&key);
    }
    match object.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => diags.error(
            Code::InvalidFormat,
            "format",
            format!("unsupported format `{other}`, expected `{FORMAT}`"),
            &[],
        ),
        None => diags.error(
            Code::InvalidFormat,
            "format",
            format!("missing `format: \"{FORMAT}\"`"),
            &[],
        ),
    }
    object.insert("format".into(), Value::String(FORMAT.into()));
    let doc = match serde_path_to_error::deserialize::<_, Document>(value) {
        Ok(doc) => doc,
        Err(e) => {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            diags.item_error(&path, "", &message);
            phases.finish(&diags.list);
            return Err(diags.into_error());
        }
    };
    // The text of an object always yields its sections; this is never reached.
    let (Some(known), Some((stock_records, prices))) = (known, records) else {
        diags.error(
            Code::ParseError,
            "",
            "the document's sections cannot be read".into(),
            &[],
        );
        phases.finish(&diags.list);
        return Err(diags.into_error());
    };
    let index = build(
        doc,
        known.version,
        &stock_records,
        prices.as_deref(),
        as_of,
        &mut diags,
        phases,
    );
    diags.finish(index, known.sections, strict, phases)
}

/// Compiles a document that differs from the one `old` was compiled from in its `stock`
/// section only: the stock index is built again from `stock` (the section's text) and every
/// other part of the index is shared with `old`; the warnings are the build's, judged at the
/// day of this compile, then the final checks run again on the new index. The result is the
/// compile of the whole document (its sections are the caller's to keep: the output names
/// none). `None` when the section does not read as a valid `stock`
/// section: the caller then compiles the whole document, which reports why.
pub(crate) fn recompile_stock(
    old: &Index,
    state: &Arc<BuildState>,
    build_warnings: &BuildWarnings,
    stock: &str,
    records: &[u128],
    version: String,
    options: &CompileOptions,
) -> Option<Result<Output, CompileError>> {
    let doc = Document::parse_direct(&format!("{{\"format\":\"{FORMAT}\",\"stock\":{stock}}}"))?;
    let mut diags = Diags::default();
    let stock = stock::build(
        &doc,
        |sku| old.product_of_sku(sku),
        &old.search,
        records,
        &mut diags,
    );
    let index = Index {
        version,
        stock: Arc::new(stock),
        ..old.share()
    };
    Some(with_part(index, state, build_warnings, diags.list, options))
}

/// The compile of the document whose index is `index`: `old`'s with a part built again (the
/// stock, or the price lists), its diagnostics `own`. The build's warnings are judged at the
/// day of this compile, then the final checks run on the new index.
pub(crate) fn with_part(
    index: Index,
    state: &Arc<BuildState>,
    build_warnings: &BuildWarnings,
    own: Vec<Diagnostic>,
    options: &CompileOptions,
) -> Result<Output, CompileError> {
    let as_of = options.as_of.unwrap_or_else(Instant::now);
    let mut phases = Phases::new(options.progress.as_ref());
    let mut diags = Diags::default();
    // The phases before the last read nothing that changed.
    while phases.done < PHASES.len() - 1 {
        phases.next();
    }
    diags.list = build_warnings.as_of(as_of);
    diags.list.extend(own);
    if diags.has_errors() {
        phases.finish(&diags.list);
        return Err(diags.into_error());
    }
    phases.next();
    pricing::warn(&index, as_of, &mut diags);
    let built = Built {
        index,
        build_warnings: build_warnings.clone(),
        state: Arc::clone(state),
        parsed: None,
    };
    diags.finish(Some(built), Vec::new(), options.strict, &mut phases)
}

/// The part of a document a change touched alone, which [`recompile_pricing`] compiles again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PricingPart {
    /// The `contracts` section in their pricing rules alone: the visibility is shared.
    Rules,
    /// The `contracts` section: their pricing and visibility rules.
    Contracts,
    /// The `price_lists` section: the lists and their entries, then the contracts' rules
    /// over them.
    PriceLists,
}

/// Compiles a document that differs from the one `old` was compiled from in its `contracts`
/// section only (for `Rules`, in their pricing rules only), or its `price_lists` section only.
/// The price lists (for `PriceLists`), the contracts' pricing rules and (but for `Rules`) their
/// visibility rules are compiled again — selectors resolved against the
/// sets `state` kept, products found in `old`'s reference maps, the lists attached to the
/// accounts again, the accounts' visibility chains set again — and every other part of the
/// index (products, references, search, stock, and for `Contracts` the price lists with their
/// entries) is shared with `old`. The warnings are the build's with the recompiled phases'
/// replaced, judged at the day of this compile; then the final checks run again. The result is
/// the compile of the whole document (its sections are the caller's to keep). `sections` are
/// the texts of the document's `settings`, `price_lists` and `contracts` sections (those it
/// has); for `Rules`, `parsed` may give the contracts already parsed for their pricing (the
/// `contracts` text is then not among `sections`), and the output keeps the contracts as
/// parsed for the next change. The index's `version` is left empty for the caller to set.
/// `None` when they do not read as valid sections, or a contract names an attribute selector
/// (the products' attributes are not kept): the caller then compiles the whole document. `hash` hashes the sections the
/// caller wrote while the sections are parsed, and gives the price lists' hashes by list for
/// their entries.
#[allow(clippy::too_many_arguments)]
pub(crate) fn recompile_pricing(
    old: &Index,
    state: &Arc<BuildState>,
    build_warnings: &BuildWarnings,
    part: PricingPart,
    sections: &[(&str, &str)],
    parsed: Option<ParsedContracts>,
    hash: impl FnOnce() -> Option<Arc<PriceHashes>> + Send,
    options: &CompileOptions,
) -> Option<Result<Output, CompileError>> {
    let mut text = format!("{{\"format\":\"{FORMAT}\"");
    for (name, section) in sections {
        text.push_str(&format!(",\"{name}\":{section}"));
    }
    text.push('}');
    let parse = |text: &str| match part {
        PricingPart::Rules => Document::parse_pricing(text),
        PricingPart::Contracts | PricingPart::PriceLists => Document::parse_direct(text),
    };
    let (doc, prices) = rayon::join(|| parse(&text), hash);
    let mut doc = doc?;
    drop(text);
    let as_of = options.as_of.unwrap_or_else(Instant::now);
    let mut phases = Phases::new(options.progress.as_ref());
    // The phases before the pricing read nothing that changed.
    while PHASES.get(phases.done) != Some(&"pricing") && phases.done < PHASES.len() {
        phases.next();
    }
    phases.next();
    let currencies = values::Currencies::over(&old.currencies, old.settings.default_currency);
    let mut catalog = catalog::CatalogBuild::over(
        Arc::clone(&old.catalog),
        Arc::clone(&state.selectables),
        Arc::clone(&old.refs),
    );
    let mut own = Diags::default();
    // A change of pricing rules alone resolves audiences through the engine's: the accounts'
    // visibility chains stay as they are.
    let (audiences, mut policies, lists) = match part {
        PricingPart::Rules => (
            None,
            values::Policies::first(&old.settings.policies, state.policies_before_contracts),
            Arc::clone(&old.pricing.price_lists),
        ),
        PricingPart::Contracts => (
            Some(audience::AudienceBuild::over(&old.audiences, &[], &[])),
            values::Policies::first(&old.settings.policies, state.policies_before_contracts),
            Arc::clone(&old.pricing.price_lists),
        ),
        PricingPart::PriceLists => {
            let mut audiences = audience::AudienceBuild::over(
                &old.audiences,
                &state.segment_lists,
                &state.account_lists,
            );
            let mut policies =
                values::Policies::first(&old.settings.policies, state.policies_before_lists);
            let lists = pricing::build_lists(
                &doc,
                &old.settings,
                &currencies,
                &catalog,
                &mut audiences,
                &mut policies,
                prices.as_deref(),
                &mut own,
            );
            (Some(audiences), policies, Arc::new(lists))
        }
    };
    let lists_end = own.list.len();
    // The lists' rounding policies come before the contracts': a change of lists that adds
    // or removes some moves where the contracts' start.
    let state = match part {
        PricingPart::Rules | PricingPart::Contracts => Arc::clone(state),
        PricingPart::PriceLists => Arc::new(BuildState {
            policies_before_contracts: policies.table.len(),
            ..BuildState::clone(state)
        }),
    };
    let segments;
    let names = match &audiences {
        Some(audiences) => audiences.names(),
        None => {
            segments = audience::segment_index(&old.audiences);
            audience::AudienceNames {
                audiences: &old.audiences,
                segments: &segments,
            }
        }
    };
    // A change of rules alone keeps the contracts as parsed for their pricing: the caller
    // gives those of the section it comes from with the ones it wrote parsed again, or they
    // are the ones just parsed.
    let parsed = match (part, parsed) {
        (_, Some(parsed)) => Some(parsed),
        (PricingPart::Rules, None) => Some(Arc::new(
            std::mem::take(&mut doc.contracts)
                .into_iter()
                .map(Arc::new)
                .collect(),
        )),
        _ => None,
    };
    let contracts: Vec<&Item<Contract>> = match &parsed {
        Some(parsed) => parsed.iter().map(|c| &**c).collect(),
        None => doc.contracts.iter().collect(),
    };
    let pricing = pricing::build_rules(
        &contracts,
        &old.settings,
        &currencies,
        &mut catalog,
        &names,
        &mut policies,
        lists,
        Some(&old.pricing),
        &mut own,
    );
    phases.next();
    let visibility_from = own.list.len();
    // The visibility rules read nothing the pricing rules hold: when only the latter changed,
    // the levels and chains are shared and the rules' selectors take the ids a compile gives
    // them, after the pricing rules'.
    let mut shared_catalog = false;
    let (audiences, visibility) = match audiences {
        None if visibility::unchanged(&old.visibility, &old.catalog, &catalog) => {
            shared_catalog = true;
            (Arc::clone(&old.audiences), Arc::clone(&old.visibility))
        }
        None => (
            Arc::clone(&old.audiences),
            visibility::reinterned(&old.visibility, &old.catalog, &mut catalog)?,
        ),
        Some(mut audiences) => {
            let visibility = visibility::build(
                &doc,
                &old.settings,
                &mut catalog,
                &mut audiences,
                Some(&old.visibility),
                &mut own,
            );
            (Arc::new(audiences.audiences), Arc::new(visibility))
        }
    };
    if catalog.needs_attrs {
        return None;
    }
    rayon::spawn(move || drop(doc));
    while phases.done < PHASES.len() - 1 {
        phases.next();
    }
    let replaced = match part {
        PricingPart::Rules => 1..2,
        PricingPart::Contracts => 1..3,
        PricingPart::PriceLists => 0..3,
    };
    let kept = build_warnings.replaced(replaced, own.take(lists_end, visibility_from));
    let mut diags = Diags::default();
    diags.list = kept.as_of(as_of);
    if diags.has_errors() {
        phases.finish(&diags.list);
        return Some(Err(diags.into_error()));
    }
    let mut settings = (*old.settings).clone();
    settings.policies = policies.table;
    let index = Index {
        // The caller sets it: it hashes the sections it wrote while this compiles.
        version: String::new(),
        settings: Arc::new(settings),
        catalog: match shared_catalog {
            true => Arc::clone(&old.catalog),
            false => Arc::new(catalog.catalog),
        },
        audiences,
        pricing: Arc::new(pricing),
        visibility,
        ..old.share()
    };
    phases.next();
    pricing::warn(&index, as_of, &mut diags);
    let built = Built {
        index,
        build_warnings: kept,
        state,
        parsed,
    };
    Some(diags.finish(Some(built), Vec::new(), options.strict, &mut phases))
}

/// Reports the elements of a list that did not parse, and yields the others with their index.
pub(crate) fn items<'a, T: 'a>(
    list: impl IntoIterator<Item = &'a Item<T>>,
    path: impl values::At,
    diags: &mut Diags,
) -> Vec<(usize, &'a T)> {
    let list = list.into_iter();
    let mut out = Vec::with_capacity(list.size_hint().0);
    for (i, item) in list.enumerate() {
        match item {
            Item::Ok(v) => out.push((i, v)),
            Item::Err {
                path: inner,
                message,
            } => {
                diags.item_error(&format!("{}[{i}]", path.path()), inner, message);
            }
        }
    }
    out
}

/// Takes the document by value so that each section can be freed once the last phase that
/// reads it is done, which lowers the peak on large documents.
fn build(
    mut doc: Document,
    version: String,
    stock_records: &[u128],
    prices: Option<&PriceHashes>,
    as_of: Instant,
    diags: &mut Diags,
    phases: &mut Phases<'_>,
) -> Option<Built> {
    phases.next();
    let settings_model = match &doc.settings {
        Some(Item::Ok(s)) => Some(s.clone()),
        Some(Item::Err { path, message }) => {
            diags.item_error("settings", path, message);
            None
        }
        None => None,
    };
    let settings_model = settings_model.unwrap_or_default();
    let mut policies = values::Policies::default();
    let currencies = values::currencies(&doc, &settings_model, &mut policies, diags);
    let mut settings = values::settings(&settings_model, &currencies, &mut policies, diags);
    phases.next();
    let mut catalog = catalog::build(&doc, diags);
    phases.next();
    let mut audiences = audience::build(&doc, &currencies, diags);
    let approvals = users::build(&doc, &catalog, &audiences, diags);
    phases.next();
    let lists_from = diags.list.len();
    let policies_before_lists = policies.table.len();
    let segment_lists = audiences.segment_lists.clone();
    let account_lists = audiences.account_lists.clone();
    let lists = pricing::build_lists(
        &doc,
        &settings,
        &currencies,
        &catalog,
        &mut audiences,
        &mut policies,
        prices,
        diags,
    );
    let contracts_from = diags.list.len();
    let policies_from = policies.table.len();
    let pricing = pricing::build_rules(
        &doc.contracts,
        &settings,
        &currencies,
        &mut catalog,
        &audiences.names(),
        &mut policies,
        Arc::new(lists),
        None,
        diags,
    );
    // Only pricing reads the price lists, and they hold most of the entries of a large document.
    drop(std::mem::take(&mut doc.price_lists));
    phases.next();
    let visibility_from = diags.list.len();
    let visibility = visibility::build(&doc, &settings, &mut catalog, &mut audiences, None, diags);
    let contracts_to = diags.list.len();
    // The contracts are kept as a change of rules alone reads them (their visibility rules
    // left out), so that the first such change does not parse the section again.
    let parsed: ParsedContracts = Arc::new(
        std::mem::take(&mut doc.contracts)
            .into_iter()
            .map(|mut contract| {
                if let Item::Ok(contract) = &mut contract {
                    contract.visibility = Vec::new();
                }
                Arc::new(contract)
            })
            .collect(),
    );
    phases.next();
    // The reference and search indexes only read what is built so far: they are built side by
    // side, each with its own diagnostics, appended in the order a sequential build gives.
    let ((refs, refs_diags), (search, search_diags)) = rayon::join(
        || {
            let mut own = Diags::default();
            (refs::build(&doc, &catalog, &audiences, &mut own), own)
        },
        || {
            let mut own = Diags::default();
            let facets = settings_model.facets.as_ref();
            (facets::build(&doc, facets, &catalog, &mut own), own)
        },
    );
    diags.list.extend(refs_diags.list);
    diags.list.extend(search_diags.list);
    phases.next();
    let stock = stock::build(
        &doc,
        |sku| catalog.ids.get(sku).copied(),
        &search,
        stock_records,
        diags,
    );
    drop(doc);
    let build_warnings = diags.judge(
        as_of,
        [lists_from, contracts_from, visibility_from, contracts_to],
    );
    if diags.has_errors() {
        return None;
    }
    settings.policies = policies.table;
    let state = BuildState {
        selectables: Arc::clone(&catalog.sel),
        policies_before_lists,
        policies_before_contracts: policies_from,
        segment_lists,
        account_lists,
    };
    let index = Index {
        version,
        settings: Arc::new(settings),
        currencies: Arc::new(currencies.defs),
        catalog: Arc::new(catalog.catalog),
        audiences: Arc::new(audiences.audiences),
        pricing: Arc::new(pricing),
        visibility: Arc::new(visibility),
        refs: Arc::new(refs),
        search: Arc::new(search),
        stock: Arc::new(stock),
        approvals: Arc::new(approvals),
    };
    phases.next();
    pricing::warn(&index, as_of, diags);
    Some(Built {
        index,
        build_warnings,
        state: Arc::new(state),
        parsed: Some(parsed),
    })
}

/// What a compile builds, the warnings aside.
pub(crate) struct Built {
    index: Index,
    build_warnings: BuildWarnings,
    state: Arc<BuildState>,
    parsed: Option<ParsedContracts>,
}

impl Diags {
    fn finish(
        self,
        built: Option<Built>,
        sections: Vec<SectionSpan>,
        strict: bool,
        phases: &mut Phases<'_>,
    ) -> Result<Output, CompileError> {
        phases.finish(&self.list);
        let rejected = self.has_errors() || (strict && !self.list.is_empty());
        match built {
            Some(built) if !rejected => Ok(Output {
                index: built.index,
                warnings: self.list,
                sections,
                build_warnings: built.build_warnings,
                state: built.state,
                contracts: None,
                parsed: built.parsed,
            }),
            _ => Err(self.into_error()),
        }
    }

    /// Every diagnostic, errors first, then in document order of their path.
    pub(crate) fn into_error(mut self) -> CompileError {
        self.list
            .sort_by_key(|d| std::cmp::Reverse(d.severity() == Severity::Error));
        CompileError {
            diagnostics: self.list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(json: &str) -> Vec<(String, String)> {
        let err = compile(json, &CompileOptions::default()).unwrap_err();
        err.diagnostics
            .iter()
            .map(|d| (d.code.code().to_string(), d.path.clone()))
            .collect()
    }

    #[test]
    fn a_malformed_document_reports_every_problem_with_its_path() {
        let found = problems(
            r#"{"format": "tarif/1",
              "currencies": [{"code": "EUR"}, {"code": "eur"}],
              "categories": [{"id": "a", "parent": "b"}, {"id": "b", "parent": "a"}],
              "products": [{"sku": "P", "cost": "1,5"}, {"sku": "Q", "colour": "red"}, {"sku": "P"}],
              "price_lists": [{"id": "l", "prices": [{"sku": "NOPE", "price": "1"},
                 {"sku": "P", "price": "2", "tiers": [{"min_qty": 5, "price": "1"}, {"min_qty": 5, "price": "0.5"}]}]}],
              "accounts": [{"id": "X", "parent": "Y"}, {"id": "Y", "parent": "X"}, {"id": "Z", "segments": ["ghost"]}],
              "contracts": [{"id": "k", "audience": "all", "valid": {"from": "2026-02-01", "until": "2026-01-01"},
                 "rules": [{"id": "r", "step": "base", "products": "all", "price": "1"},
                           {"id": "s", "step": "discount", "products": {"category": "zzz"}, "percent": "-x"},
                           {"id": "t", "step": "nowhere", "products": "all", "percent": "-150"},
                           {"id": "u", "step": "discount", "products": "all", "percent": "5", "amount": "1"}]}]}"#,
        );
        let expect = [
            ("INVALID_CURRENCY", "currencies[1].code"),
            ("HIERARCHY_CYCLE", "categories[0].parent"),
            ("INVALID_DECIMAL", "products[0].cost"),
            ("UNKNOWN_FIELD", "products[1].colour"),
            ("DUPLICATE_ID", "products[2].sku"),
            ("UNKNOWN_REFERENCE", "price_lists[0].prices[0].sku"),
            (
                "TIERS_NOT_INCREASING",
                "price_lists[0].prices[1].tiers[1].min_qty",
            ),
            ("HIERARCHY_CYCLE", "accounts[0].parent"),
            ("UNKNOWN_REFERENCE", "accounts[2].segments[0]"),
            ("INVALID_INTERVAL", "contracts[0].valid"),
            (
                "UNKNOWN_REFERENCE",
                "contracts[0].rules[1].products.category",
            ),
            ("INVALID_DECIMAL", "contracts[0].rules[1].percent"),
            ("UNKNOWN_STEP", "contracts[0].rules[2].step"),
            ("INVALID_PERCENT", "contracts[0].rules[2].percent"),
            ("RULE_ACTIONS", "contracts[0].rules[3]"),
        ];
        for (code, path) in expect {
            assert!(
                found.iter().any(|(c, p)| c == code && p == path),
                "missing {code} at {path}; found {found:#?}"
            );
        }
    }

    #[test]
    fn a_contract_that_does_not_parse_is_reported_once() {
        let found = problems(
            r#"{"format": "tarif/1",
              "contracts": [{"id": "k"}, {"id": "m", "audience": "all", "colour": "red"}]}"#,
        );
        assert_eq!(
            found,
            [
                ("MISSING_FIELD".to_string(), "contracts[0]".to_string()),
                (
                    "UNKNOWN_FIELD".to_string(),
                    "contracts[1].colour".to_string()
                ),
            ]
        );
    }

    #[test]
    fn the_contracts_problems_come_in_document_order_audiences_included() {
        // Audiences are resolved side by side before the contracts are read one by one.
        let found = problems(
            r#"{"format": "tarif/1", "accounts": [{"id": "A"}],
              "contracts": [
                {"id": "k", "audience": {"accounts": ["A", "nobody"]}, "rules": [
                   {"id": "r", "step": "nowhere", "products": "all", "percent": "-5"}]},
                {"id": "k", "audience": {"accounts": ["ghost"]}},
                {"id": "m", "audience": {"segments": ["none"]},
                 "valid": {"from": "2020-02-01", "until": "2020-01-01"}},
                {"id": "n", "audience": {}}]}"#,
        );
        let found: Vec<(&str, &str)> = found
            .iter()
            .map(|(c, p)| (c.as_str(), p.as_str()))
            .filter(|(_, p)| p.starts_with("contracts"))
            .collect();
        assert_eq!(
            found,
            [
                ("UNKNOWN_REFERENCE", "contracts[0].audience.accounts[1]"),
                ("UNKNOWN_STEP", "contracts[0].rules[0].step"),
                ("DUPLICATE_ID", "contracts[1].id"),
                ("UNKNOWN_REFERENCE", "contracts[2].audience.segments[0]"),
                ("INVALID_INTERVAL", "contracts[2].valid"),
                ("INVALID_TYPE", "contracts[3].audience"),
                // Judged as of the day, after the others.
                ("EXPIRED", "contracts[2].valid"),
            ]
        );
    }

    fn phases_of(json: &str) -> Vec<(String, usize, usize)> {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let options = CompileOptions {
            progress: Some(CompileProgress::new(move |phase, done, total| {
                log.lock().unwrap().push((phase.to_string(), done, total));
            })),
            ..CompileOptions::default()
        };
        let _ = compile(json, &options);
        seen.lock().unwrap().clone()
    }

    #[test]
    fn progress_reports_every_phase_in_order_then_done() {
        let seen = phases_of(&tarif_sample::distributor_json());
        let mut expected: Vec<_> = PHASES
            .iter()
            .enumerate()
            .map(|(i, p)| (p.to_string(), i, PHASES.len()))
            .collect();
        expected.push(("done".into(), PHASES.len(), PHASES.len()));
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_rejected_compile_still_reports_done() {
        for doc in [
            "{\"format\": ",
            "[]",
            r#"{"format": "tarif/1", "products": [{"sku": ""}]}"#,
        ] {
            let seen = phases_of(doc);
            assert_eq!(seen.first().map(|s| s.0.as_str()), Some("parse"), "{doc}");
            assert_eq!(
                seen.last(),
                Some(&("done".to_string(), PHASES.len(), PHASES.len())),
                "{doc}"
            );
            assert!(seen.windows(2).all(|w| w[0].1 < w[1].1), "{doc}: {seen:?}");
        }
    }

    #[test]
    fn invalid_json_and_wrong_format_are_reported() {
        assert_eq!(problems("{\"format\": ")[0].0, "PARSE_ERROR");
        assert!(problems(r#"{"format": "tarif/9", "products": 3}"#)
            .iter()
            .any(|(c, _)| c == "INVALID_FORMAT"));
        assert!(problems("[]").iter().any(|(c, _)| c == "INVALID_TYPE"));
    }

    #[test]
    fn strict_mode_rejects_warnings() {
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "products": [{"sku": "A", "ean": "123"}, {"sku": "B", "ean": "0123"}]}"#;
        let lenient = compile(doc, &CompileOptions::default()).unwrap();
        assert_eq!(lenient.warnings[0].code.code(), "DUPLICATE_EAN");
        let strict = CompileOptions {
            strict: true,
            ..CompileOptions::default()
        };
        assert_eq!(compile(doc, &strict).unwrap_err().code(), "STRICT_WARNINGS");
    }

    #[test]
    fn warnings_that_depend_on_the_day_are_judged_as_of_the_option() {
        // A closed catalog opened to everyone during 2026 by a contract, with an unpriced
        // product: before 2026 nothing is wrong, during it the product is visible without a
        // price, after it the contract has expired.
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "products": [{"sku": "A"}, {"sku": "B"}],
            "price_lists": [{"id": "l", "currency": "EUR", "prices": [{"sku": "A", "price": "1"}]}],
            "settings": {"default_price_lists": ["l"], "default_visibility": "closed"},
            "contracts": [{"id": "k", "audience": "all",
              "valid": {"from": "2026-01-01", "until": "2027-01-01"},
              "visibility": [{"effect": "allow", "products": "all"}]}]}"#;
        let codes_at = |day: &str| {
            let options = CompileOptions {
                as_of: Instant::parse_rfc3339(day),
                ..CompileOptions::default()
            };
            let warnings = compile(doc, &options).unwrap().warnings;
            warnings.iter().map(|w| w.code.code()).collect::<Vec<_>>()
        };
        assert_eq!(codes_at("2025-06-01T00:00:00Z"), Vec::<&str>::new());
        assert_eq!(codes_at("2026-06-01T00:00:00Z"), ["UNPRICED_PRODUCT"]);
        assert_eq!(codes_at("2028-01-01T00:00:00Z"), ["EXPIRED"]);
        // The same day gives the same answer on every run, strict included.
        let strict = CompileOptions {
            strict: true,
            as_of: Instant::parse_rfc3339("2028-01-01T00:00:00Z"),
            ..CompileOptions::default()
        };
        for _ in 0..2 {
            assert_eq!(compile(doc, &strict).unwrap_err().code(), "STRICT_WARNINGS");
        }
    }

    #[test]
    fn the_direct_parse_equals_the_value_parse() {
        let json = tarif_sample::distributor_json();
        let direct = Document::parse_direct(&json).unwrap();
        let value: Value = serde_json::from_str(&json).unwrap();
        let slow = serde_path_to_error::deserialize::<_, Document>(value).unwrap();
        assert_eq!(format!("{direct:?}"), format!("{slow:?}"));
        assert!(
            Document::parse_direct(r#"{"format": "tarif/1", "products": [{"sku": 1}]}"#).is_none()
        );
    }

    #[test]
    fn version_ignores_formatting_and_key_order() {
        let a = compile(
            r#"{"format": "tarif/1", "products": [{"sku": "A", "brand": "X"}]}"#,
            &CompileOptions::default(),
        )
        .unwrap();
        let b = compile(
            "{\"products\":[{\"brand\":\"X\",\"sku\":\"A\"}],\n \"format\":\"tarif/1\"}",
            &CompileOptions::default(),
        )
        .unwrap();
        assert_eq!(a.index.version, b.index.version);
    }
}
