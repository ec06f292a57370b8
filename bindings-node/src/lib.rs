//! Node binding of the tarif engine. Conversions only: every answer is computed by the core
//! crate; this crate reads JavaScript arguments, calls it, and shapes the results (decimals as
//! exact strings, camelCase fields, errors with stable `code`s).

mod batch;
mod changes;
pub mod cli;
mod error;
mod import;
mod input;
mod orders;
mod output;
mod progress;
mod queries;
mod tasks;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use napi::bindgen_prelude::{AsyncTask, Either, Object, Unknown};
use napi::Env;
use napi_derive::napi;
use tarif::Engine as Core;

use crate::changes::{Apply, Base, Diff};
use crate::error::{DiagnosticInfo, Failure};
use crate::input::{LoadOptions, QuoteManyOptions};
use crate::orders::{OrderExplainResult, OrderTextResult, PreparedQuoteResult, PricedOrderResult};
use crate::output::{
    CapabilitiesResult, ExplainResult, QuoteResult, QuoteTuple, RelatedProduct, SearchPage,
};
use crate::tasks::{Load, QuoteMany};

/// A failure as the JavaScript error it throws.
fn js<T>(env: &Env, result: Result<T, Failure>) -> napi::Result<T> {
    result.map_err(|f| f.into_js(env))
}

/// A task that loads a rules file on the libuv pool, swapping it into `target` if given.
fn load(
    env: &Env,
    path: Unknown<'_>,
    options: Option<LoadOptions<'_>>,
    signal: Option<Object<'_>>,
    target: Option<Arc<ArcSwap<Core>>>,
) -> Result<AsyncTask<Load>, Failure> {
    Ok(AsyncTask::new(Load {
        path: input::text(path, "path")?,
        options: progress::pooled(options.as_ref())?,
        watch: queries::watch(env, signal)?,
        target,
    }))
}

/// A task that applies `changes` to `base` on the libuv pool (`Engine.apply`,
/// `EngineHandle.apply`).
fn apply(
    env: &Env,
    base: Base,
    changes: Unknown<'_>,
    options: Option<LoadOptions<'_>>,
) -> AsyncTask<Apply> {
    let changes = progress::pooled(options.as_ref())
        .and_then(|options| Ok((changes::changes_text(env, changes)?, options)));
    AsyncTask::new(Apply {
        base,
        changes: changes.map_err(Some),
    })
}

/// Every `err.code` the package's errors can carry: the core's, and the binding's own for an
/// abort and a caught panic (tarif.cjs adds the one of a missing addon).
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    let own = [
        Failure::Aborted.code(),
        Failure::Panic(String::new()).code(),
    ];
    tarif::ERROR_CODES.iter().copied().chain(own).collect()
}

/// A compiled rules document: immutable, safe to share, answers synchronously in well under a
/// microsecond (except `quoteMany` and `load`, which run on the libuv pool).
#[napi]
pub struct Engine {
    inner: Arc<Core>,
}

// After `Engine`: napi-derive expands an `impl` only once it has seen its struct.
mod snapshot;

#[napi]
impl Engine {
    /// Compiles a `tarif/1` JSON document. Throws `COMPILE_ERROR` (or `STRICT_WARNINGS`) with
    /// every diagnostic in `err.details`.
    #[napi(factory, catch_unwind)]
    pub fn from_json(
        env: &Env,
        #[napi(ts_arg_type = "string")] text: Unknown<'_>,
        options: Option<LoadOptions<'_>>,
    ) -> napi::Result<Self> {
        let text = js(env, input::text(text, "text"))?;
        let compiled = progress::blocking(options.as_ref(), |options| {
            Ok(Core::compile(&text, options)?)
        })?;
        js(env, compiled).map(|c| Engine {
            inner: Arc::new(c.engine),
        })
    }

    /// Reads and compiles a rules file (or opens a snapshot), blocking; prefer `Engine.load`
    /// in a service.
    #[napi(factory, catch_unwind)]
    pub fn from_file(
        env: &Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
        options: Option<LoadOptions<'_>>,
    ) -> napi::Result<Self> {
        let path = js(env, input::text(path, "path"))?;
        let engine = progress::blocking(options.as_ref(), |options| {
            tasks::compile_file(&path, options)
        })?;
        js(env, engine).map(|e| Engine { inner: Arc::new(e) })
    }

    /// Reads and compiles a rules file (or opens a snapshot) on the libuv pool.
    #[napi(ts_return_type = "Promise<Engine>")]
    pub fn load(
        env: &Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
        options: Option<LoadOptions<'_>>,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
    ) -> napi::Result<AsyncTask<Load>> {
        js(env, load(env, path, options, signal, None))
    }

    /// Applies a `tarif/1-changes` document (JSON text or a plain object) on the libuv pool:
    /// resolves to a new engine, this one untouched. Rejects with `COMPILE_ERROR` listing
    /// every problem in `err.details`, paths into the changes for what the change wrote.
    #[napi(ts_return_type = "Promise<Engine>")]
    pub fn apply(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string | object")] changes: Unknown<'_>,
        options: Option<LoadOptions<'_>>,
    ) -> AsyncTask<Apply> {
        apply(env, Base::Engine(self.inner.clone()), changes, options)
    }

    /// The entities added, removed or modified in `other`'s document, computed on the libuv
    /// pool.
    #[napi(ts_return_type = "Promise<Array<EntityChange>>")]
    pub fn diff(&self, other: &Engine) -> AsyncTask<Diff> {
        AsyncTask::new(Diff {
            old: self.inner.clone(),
            new: other.inner.clone(),
        })
    }

    /// Stable content hash of the document; every quote carries it.
    #[napi(getter)]
    pub fn engine_version(&self) -> String {
        self.inner.engine_version().to_string()
    }

    /// Warnings of the compiled document.
    #[napi]
    pub fn diagnostics(&self) -> Vec<DiagnosticInfo> {
        queries::diagnostics(&self.inner)
    }

    /// Every SKU of the catalog, in document order.
    #[napi]
    pub fn skus(&self) -> Vec<String> {
        queries::skus(&self.inner)
    }

    /// Every account id, in document order.
    #[napi]
    pub fn accounts(&self) -> Vec<String> {
        queries::accounts(&self.inner)
    }

    /// Every account with its parent, the root of its hierarchy and its segments (its
    /// ancestors' included, most specific first), in document order: the account metadata
    /// an aggregation of priced lines groups by.
    #[napi]
    pub fn account_infos(&self) -> Vec<queries::AccountInfo> {
        queries::account_infos(&self.inner)
    }

    /// The declared currency codes, in document order.
    #[napi]
    pub fn currencies(&self) -> Vec<String> {
        queries::currencies(&self.inner)
    }

    /// Prices one line. Throws with the core's stable `code` (`UNKNOWN_PRODUCT`, `NO_PRICE`,
    /// `QUANTITY_RULE` with `details.nearest`, …) or the code of a malformed argument
    /// (`INVALID_TYPE`, `FLOAT_REJECTED`, `INVALID_TEXT`).
    #[napi(catch_unwind)]
    pub fn quote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "QuoteInput")] input: Unknown<'_>,
    ) -> napi::Result<QuoteResult> {
        js(env, queries::quote(&self.inner, input))
    }

    /// `quote` from the input's fields, as the text (or tuple) the package's `quote` builds its
    /// result from (quote.cjs); not part of the API.
    #[napi(skip_typescript, catch_unwind)]
    pub fn quote_parts(
        &self,
        env: &Env,
        account: Unknown<'_>,
        sku: Unknown<'_>,
        qty: Unknown<'_>,
        at: Option<Unknown<'_>>,
        currency: Option<Unknown<'_>>,
    ) -> napi::Result<Either<String, QuoteTuple>> {
        let quoted = queries::quote_parts(&self.inner, account, sku, qty, at, currency);
        js(env, quoted)
    }

    /// Prices an order: every line at one instant in one currency. A bad line is
    /// `{error: {code, message, details}}` in `lines` and does not fail the order; an unknown
    /// account, an unreadable instant or an unknown currency throw.
    #[napi(catch_unwind)]
    pub fn price_order(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "OrderInput")] input: Unknown<'_>,
    ) -> napi::Result<PricedOrderResult> {
        js(env, orders::price_order(&self.inner, input))
    }

    /// Prices an order as a sales quote: `manualPrices` gives per line a unit price set by hand
    /// (null for the rules' price), accepted only within the bounds the rules set for the line
    /// (else the line's `PRICE_BOUND` error); `validUntil` is the first instant the quote may
    /// no longer be placed; `key` (string or Buffer, at least 16 bytes) signs the document.
    /// Returns the priced `order` and the signed `document` to store (null when a line failed).
    #[napi(catch_unwind)]
    pub fn prepare_quote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "OrderInput & QuoteDraftArgs")] input: Unknown<'_>,
    ) -> napi::Result<PreparedQuoteResult> {
        js(env, orders::prepare_quote(&self.inner, input))
    }

    /// Places the order of a signed quote document at its prices, whatever the rules say now:
    /// `placedQuote` and `overrides` say so, with what the rules give today. Throws
    /// `QUOTE_TAMPERED` for an altered document or another key, `QUOTE_EXPIRED` from its
    /// validity end on, `QUOTE_INVALID` for a document that does not read.
    #[napi(catch_unwind)]
    pub fn place_quote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "PlaceQuoteArgs")] input: Unknown<'_>,
    ) -> napi::Result<PricedOrderResult> {
        js(env, orders::place_quote(&self.inner, input))
    }

    /// Explains an order: each line's explanation (or `{error}`), every order condition that
    /// speaks to the account — applied or why not — the adjustments and the allocation of the
    /// order discount. An order `priceOrder` refuses (`MINIMUM_ORDER`) is explained too, with
    /// `refused` set.
    #[napi(catch_unwind)]
    pub fn explain_order(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "OrderInput")] input: Unknown<'_>,
    ) -> napi::Result<OrderExplainResult> {
        js(env, orders::explain_order(&self.inner, input))
    }

    /// Reads what a buyer pasted or uploaded (`ref qty` lines, or CSV with `;`, `,` or tab,
    /// with or without an English or French header, decimal commas, quoted fields, a BOM) and
    /// resolves each reference as `lookup` does for the account.
    #[napi(catch_unwind)]
    pub fn parse_order_lines(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "OrderTextArgs")] input: Unknown<'_>,
    ) -> napi::Result<OrderTextResult> {
        js(env, orders::parse_order_lines(&self.inner, input))
    }

    /// Explains a price: visibility, then every step with every rule that spoke to the product.
    /// The trusted back-office view: it also explains products hidden from the account.
    #[napi(catch_unwind)]
    pub fn explain(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "QuoteInput")] input: Unknown<'_>,
    ) -> napi::Result<ExplainResult> {
        js(env, queries::explain(&self.inner, input))
    }

    /// What the account may do with the product: `{see, price, buy}`.
    #[napi(catch_unwind)]
    pub fn visibility(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "VisibilityInput")] input: Unknown<'_>,
    ) -> napi::Result<CapabilitiesResult> {
        js(env, queries::visibility(&self.inner, input))
    }

    /// The SKU a reference means for the account (aliases, SKU, EAN/GTIN, MPN, refs). A product
    /// the account may not see is `UNKNOWN_PRODUCT`.
    #[napi(catch_unwind)]
    pub fn lookup(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "LookupInput")] input: Unknown<'_>,
    ) -> napi::Result<String> {
        js(env, queries::lookup(&self.inner, input))
    }

    /// One page of the account's own catalog: the products it has `query.capability` on that
    /// pass every filter, in order, with the total and the requested facet counts. Synchronous,
    /// like `quote`: a page is read from the engine's indexes. Throws `UNKNOWN_ACCOUNT`,
    /// `INVALID_INSTANT`, `INVALID_CURSOR`, `INVALID_QUERY` or `INVALID_TYPE`.
    #[napi(catch_unwind)]
    pub fn search(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
        #[napi(ts_arg_type = "SearchQuery")] query: Option<Unknown<'_>>,
        #[napi(ts_arg_type = "Date | string")] at: Option<Unknown<'_>>,
    ) -> napi::Result<SearchPage> {
        js(env, queries::search(&self.inner, account, query, at))
    }

    /// The products linked to a product (any reference `lookup` accepts, which the account must
    /// see) that the account may see, in the document's order; `replacement` is the first
    /// successor the account may buy. Throws `UNKNOWN_PRODUCT` for a product it may not see.
    #[napi(catch_unwind)]
    pub fn related(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
        #[napi(ts_arg_type = "string")] reference: Unknown<'_>,
        #[napi(
            ts_arg_type = "'requires' | 'accessories' | 'compatible' | 'excludes' | 'replacement'"
        )]
        kind: Unknown<'_>,
        #[napi(ts_arg_type = "Date | string")] at: Option<Unknown<'_>>,
    ) -> napi::Result<Vec<RelatedProduct>> {
        js(
            env,
            queries::related(&self.inner, account, reference, kind, at),
        )
    }

    /// Prices many lines on the libuv pool (in parallel, by the core's `quoteMany`). A big
    /// batch is read and answered a few thousand rows at a time with the event loop running in
    /// between, so no other callback waits more than a few milliseconds on it; leave the input
    /// arrays unchanged until the promise settles. Batches wait their turn once 2M rows are in
    /// flight. Rows fail one by one (`status`); the promise rejects only for malformed input or
    /// an abort (`AbortError`). `options.onProgress(done, total)` follows the pricing.
    #[napi(ts_return_type = "Promise<BatchOutput>", catch_unwind)]
    pub fn quote_many(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "BatchInput")] input: Unknown<'_>,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
        options: Option<QuoteManyOptions<'_>>,
    ) -> napi::Result<AsyncTask<QuoteMany>> {
        let batch = queries::batch(&self.inner, env, input, signal, options);
        Ok(AsyncTask::new(QuoteMany(batch.map_err(Some))))
    }
}

/// A swappable engine for services: calls go to the current engine; `reload` compiles a new
/// document in the background and swaps it in atomically. A call in flight finishes on the
/// engine it started on; a failed reload leaves the current engine in place.
#[napi]
pub struct EngineHandle {
    current: Arc<ArcSwap<Core>>,
    writer: Arc<Mutex<()>>,
}

#[napi]
impl EngineHandle {
    /// A handle serving `engine`.
    #[napi(constructor)]
    pub fn new(engine: &Engine) -> Self {
        EngineHandle {
            current: Arc::new(ArcSwap::new(engine.inner.clone())),
            writer: Arc::new(Mutex::new(())),
        }
    }

    /// The engine serving calls now.
    #[napi]
    pub fn current(&self) -> Engine {
        Engine {
            inner: self.current.load_full(),
        }
    }

    /// Serves `engine` from now on; returns the one it replaces.
    #[napi]
    pub fn swap(&self, engine: &Engine) -> Engine {
        Engine {
            inner: self.current.swap(engine.inner.clone()),
        }
    }

    /// Loads a rules file on the libuv pool and, once it compiled, swaps it in as the promise
    /// resolves (to the new engine). Rejects, leaving the current engine, when the file does not
    /// compile or the signal aborts first.
    #[napi(ts_return_type = "Promise<Engine>")]
    pub fn reload(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
        options: Option<LoadOptions<'_>>,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
    ) -> napi::Result<AsyncTask<Load>> {
        js(
            env,
            load(env, path, options, signal, Some(self.current.clone())),
        )
    }

    /// Applies a change to the current engine on the libuv pool and serves the result;
    /// resolves to it. Changes apply one after another, each to the engine the previous one
    /// produced. A rejected change leaves the current engine serving; so does a change during
    /// which `swap` or `reload` replaced the engine (it rejects with `VERSION_MISMATCH`).
    #[napi(ts_return_type = "Promise<Engine>")]
    pub fn apply(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string | object")] changes: Unknown<'_>,
        options: Option<LoadOptions<'_>>,
    ) -> AsyncTask<Apply> {
        let base = Base::Handle {
            current: self.current.clone(),
            writer: self.writer.clone(),
        };
        apply(env, base, changes, options)
    }

    /// `engineVersion` of the current engine.
    #[napi(getter)]
    pub fn engine_version(&self) -> String {
        self.current.load().engine_version().to_string()
    }

    /// `diagnostics()` of the current engine.
    #[napi]
    pub fn diagnostics(&self) -> Vec<DiagnosticInfo> {
        queries::diagnostics(&self.current.load())
    }

    /// `skus()` of the current engine.
    #[napi]
    pub fn skus(&self) -> Vec<String> {
        queries::skus(&self.current.load())
    }

    /// `quote` on the current engine.
    #[napi(catch_unwind)]
    pub fn quote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "QuoteInput")] input: Unknown<'_>,
    ) -> napi::Result<QuoteResult> {
        js(env, queries::quote(&self.current.load(), input))
    }

    /// `quoteParts` on the current engine; not part of the API.
    #[napi(skip_typescript, catch_unwind)]
    pub fn quote_parts(
        &self,
        env: &Env,
        account: Unknown<'_>,
        sku: Unknown<'_>,
        qty: Unknown<'_>,
        at: Option<Unknown<'_>>,
        currency: Option<Unknown<'_>>,
    ) -> napi::Result<Either<String, QuoteTuple>> {
        let quoted = queries::quote_parts(&self.current.load(), account, sku, qty, at, currency);
        js(env, quoted)
    }

    /// `priceOrder` on the current engine.
    #[napi(catch_unwind)]
    pub fn price_order(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "OrderInput")] input: Unknown<'_>,
    ) -> napi::Result<PricedOrderResult> {
        js(env, orders::price_order(&self.current.load(), input))
    }

    /// `prepareQuote` on the current engine.
    #[napi(catch_unwind)]
    pub fn prepare_quote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "OrderInput & QuoteDraftArgs")] input: Unknown<'_>,
    ) -> napi::Result<PreparedQuoteResult> {
        js(env, orders::prepare_quote(&self.current.load(), input))
    }

    /// `placeQuote` on the current engine.
    #[napi(catch_unwind)]
    pub fn place_quote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "PlaceQuoteArgs")] input: Unknown<'_>,
    ) -> napi::Result<PricedOrderResult> {
        js(env, orders::place_quote(&self.current.load(), input))
    }

    /// `explainOrder` on the current engine.
    #[napi(catch_unwind)]
    pub fn explain_order(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "OrderInput")] input: Unknown<'_>,
    ) -> napi::Result<OrderExplainResult> {
        js(env, orders::explain_order(&self.current.load(), input))
    }

    /// `parseOrderLines` on the current engine.
    #[napi(catch_unwind)]
    pub fn parse_order_lines(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "OrderTextArgs")] input: Unknown<'_>,
    ) -> napi::Result<OrderTextResult> {
        js(env, orders::parse_order_lines(&self.current.load(), input))
    }

    /// `explain` on the current engine.
    #[napi(catch_unwind)]
    pub fn explain(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "QuoteInput")] input: Unknown<'_>,
    ) -> napi::Result<ExplainResult> {
        js(env, queries::explain(&self.current.load(), input))
    }

    /// `visibility` on the current engine.
    #[napi(catch_unwind)]
    pub fn visibility(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "VisibilityInput")] input: Unknown<'_>,
    ) -> napi::Result<CapabilitiesResult> {
        js(env, queries::visibility(&self.current.load(), input))
    }

    /// `lookup` on the current engine.
    #[napi(catch_unwind)]
    pub fn lookup(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "LookupInput")] input: Unknown<'_>,
    ) -> napi::Result<String> {
        js(env, queries::lookup(&self.current.load(), input))
    }

    /// `search` on the current engine.
    #[napi(catch_unwind)]
    pub fn search(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
        #[napi(ts_arg_type = "SearchQuery")] query: Option<Unknown<'_>>,
        #[napi(ts_arg_type = "Date | string")] at: Option<Unknown<'_>>,
    ) -> napi::Result<SearchPage> {
        js(
            env,
            queries::search(&self.current.load(), account, query, at),
        )
    }

    /// `related` on the current engine.
    #[napi(catch_unwind)]
    pub fn related(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
        #[napi(ts_arg_type = "string")] reference: Unknown<'_>,
        #[napi(
            ts_arg_type = "'requires' | 'accessories' | 'compatible' | 'excludes' | 'replacement'"
        )]
        kind: Unknown<'_>,
        #[napi(ts_arg_type = "Date | string")] at: Option<Unknown<'_>>,
    ) -> napi::Result<Vec<RelatedProduct>> {
        let engine = self.current.load();
        js(env, queries::related(&engine, account, reference, kind, at))
    }

    /// `quoteMany` on the engine current when it is called, even if a swap happens meanwhile.
    #[napi(ts_return_type = "Promise<BatchOutput>", catch_unwind)]
    pub fn quote_many(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "BatchInput")] input: Unknown<'_>,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
        options: Option<QuoteManyOptions<'_>>,
    ) -> napi::Result<AsyncTask<QuoteMany>> {
        let batch = queries::batch(&self.current.load_full(), env, input, signal, options);
        Ok(AsyncTask::new(QuoteMany(batch.map_err(Some))))
    }
}
