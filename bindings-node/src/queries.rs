//! The queries of `Engine` and `EngineHandle`, written once over the core engine they run on:
//! each reads its JavaScript arguments, asks the core's wire requests (which apply the error
//! precedence) and shapes the answer. The classes only declare the JavaScript methods.

use std::sync::Arc;

use napi::bindgen_prelude::{Either, Object, Unknown};
use napi::Env;
use napi_derive::napi;
use tarif::wire::{AtInput, ProductInput};
use tarif::Engine as Core;

use crate::error::{DiagnosticInfo, Failure};
use crate::input::{
    self, BatchAtInput, BatchInput, LookupInput, QuoteManyOptions, VisibilityInput,
};
use crate::output::{
    self, CapabilitiesResult, ExplainResult, QuoteResult, QuoteTuple, RelatedProduct, SearchPage,
};
use crate::progress;
use crate::tasks::{Batch, Instants, Watch};

/// Listens to the caller's `signal`; anything but an `AbortSignal` is `INVALID_TYPE`.
pub fn watch(env: &Env, signal: Option<Object<'_>>) -> Result<Watch, Failure> {
    Watch::new(env, signal).map_err(|e| input::type_error(format!("`signal`: {}", e.reason)))
}

pub fn quote(engine: &Core, input: Unknown<'_>) -> Result<QuoteResult, Failure> {
    let line = input::read_line(input)?;
    Ok(line.wire().quote(engine)?.into())
}

/// [`quote`] from the input's fields, as the text or tuple the package builds the result from
/// (quote.cjs).
pub fn quote_parts(
    engine: &Core,
    account: Unknown<'_>,
    sku: Unknown<'_>,
    qty: Unknown<'_>,
    at: Option<Unknown<'_>>,
    currency: Option<Unknown<'_>>,
) -> Result<Either<String, QuoteTuple>, Failure> {
    let line = input::line(account, sku, qty, at, currency)?;
    let quote = line.wire().quote(engine)?;
    Ok(match output::quote_text(&quote) {
        Some(text) => Either::A(text),
        None => Either::B(output::quote_tuple(quote)),
    })
}

pub fn explain(engine: &Core, input: Unknown<'_>) -> Result<ExplainResult, Failure> {
    let line = input::read_line(input)?;
    Ok(line.wire().explain(engine)?.into())
}

pub fn visibility(engine: &Core, input: Unknown<'_>) -> Result<CapabilitiesResult, Failure> {
    let input: VisibilityInput<'_> = input::object(input, "input")?;
    let account = input::text(input.account, "account")?;
    let product = input::text(input.sku, "sku")?;
    let at = input::at(input.at, "at")?;
    let request = ProductInput {
        account: &account,
        reference: &product,
        at: at.wire(),
    };
    Ok(request.visibility(engine)?.into())
}

pub fn lookup(engine: &Core, input: Unknown<'_>) -> Result<String, Failure> {
    let input: LookupInput<'_> = input::object(input, "input")?;
    let account = input::text(input.account, "account")?;
    let reference = input::text(input.reference, "ref")?;
    let at = input::at(input.at, "at")?;
    let request = ProductInput {
        account: &account,
        reference: &reference,
        at: at.wire(),
    };
    Ok(request.lookup(engine)?.to_string())
}

pub fn search(
    engine: &Core,
    account: Unknown<'_>,
    query: Option<Unknown<'_>>,
    at: Option<Unknown<'_>>,
) -> Result<SearchPage, Failure> {
    let account = input::text(account, "account")?;
    let query = input::search_query(query)?;
    let at = input::at(at, "at")?;
    let request = ProductInput {
        account: &account,
        reference: "",
        at: at.wire(),
    };
    Ok(request.search(engine, &query)?.into())
}

pub fn related(
    engine: &Core,
    account: Unknown<'_>,
    reference: Unknown<'_>,
    kind: Unknown<'_>,
    at: Option<Unknown<'_>>,
) -> Result<Vec<RelatedProduct>, Failure> {
    let account = input::text(account, "account")?;
    let reference = input::text(reference, "ref")?;
    let kind = input::relation_kind(kind)?;
    let at = input::at(at, "at")?;
    let request = ProductInput {
        account: &account,
        reference: &reference,
        at: at.wire(),
    };
    let related = request.related(engine, kind)?;
    Ok(related.into_iter().map(RelatedProduct::from).collect())
}

/// The instant of a batch, read once on the JS thread.
pub fn batch_instant(engine: &Core, at: AtInput<'_>) -> Result<tarif::Instant, Failure> {
    Ok(at.resolve(engine)?.unwrap_or_else(tarif::Instant::now))
}

/// A batch's columns, read and owned before the work leaves the JS thread.
pub fn batch(
    engine: &Arc<Core>,
    env: &Env,
    input: Unknown<'_>,
    signal: Option<Object<'_>>,
    options: Option<QuoteManyOptions<'_>>,
) -> Result<Batch, Failure> {
    let input: BatchInput<'_> = input::object(input, "input")?;
    let accounts = input::texts(input.accounts, "accounts")?
        .into_iter()
        .collect();
    let refs = input::texts(input.skus, "skus")?.into_iter().collect();
    let qtys = input::qtys(input.qtys, "qtys")?;
    let at = match input::batch_at(input.at, "at")? {
        BatchAtInput::One(at) => Instants::One(batch_instant(engine, at.wire())?),
        BatchAtInput::PerRow(list) => Instants::PerRow(
            list.iter()
                .map(|at| batch_instant(engine, at.wire()))
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(Batch {
        engine: engine.clone(),
        accounts,
        refs,
        qtys: qtys.iter().map(|qty| qty.for_rows()).collect(),
        at,
        currency: input::optional_text(input.currency, "currency")?,
        watch: watch(env, signal)?,
        progress: progress::rows(options.as_ref())?,
    })
}

/// Warnings of the compiled document.
pub fn diagnostics(engine: &Core) -> Vec<DiagnosticInfo> {
    engine
        .diagnostics()
        .iter()
        .map(DiagnosticInfo::from)
        .collect()
}

/// Every SKU of the catalog, in document order.
pub fn skus(engine: &Core) -> Vec<String> {
    engine.skus().map(str::to_string).collect()
}

pub fn accounts(engine: &Core) -> Vec<String> {
    engine.accounts().map(str::to_string).collect()
}

pub fn currencies(engine: &Core) -> Vec<String> {
    engine.currencies().map(str::to_string).collect()
}

/// One account with what aggregations group it by.
#[napi(object, object_from_js = false)]
pub struct AccountInfo {
    /// The account's id.
    pub id: String,
    /// Its parent account.
    pub parent: Option<String>,
    /// The top of its hierarchy (itself without a parent).
    pub root: String,
    /// The segments it belongs to, its ancestors' included, most specific first.
    pub segments: Vec<String>,
}

pub fn account_infos(engine: &Core) -> Vec<AccountInfo> {
    engine
        .account_infos()
        .map(|info| AccountInfo {
            id: info.id.to_string(),
            parent: info.parent.map(str::to_string),
            root: info.root.to_string(),
            segments: info.segments.iter().map(|s| s.to_string()).collect(),
        })
        .collect()
}
