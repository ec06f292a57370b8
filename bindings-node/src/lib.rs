//! Node binding of the tarif engine. Conversions only: every answer is computed by the core
//! crate; this crate reads JavaScript arguments, calls it, and shapes the results (decimals as
//! exact strings, camelCase fields, errors with stable `code`s).

pub mod cli;
mod error;
mod input;
mod output;
mod tasks;

use std::sync::Arc;

use arc_swap::ArcSwap;
use napi::bindgen_prelude::{AsyncTask, Object, Unknown};
use napi::Env;
use napi_derive::napi;
use tarif::Engine as Core;

use crate::error::{DiagnosticInfo, Failure};
use crate::input::{BatchAtInput, BatchInput, LoadOptions, LookupInput, VisibilityInput};
use crate::output::{CapabilitiesResult, ExplainResult, QuoteResult, RelatedProduct, SearchPage};
use crate::tasks::{Batch, Instants, Load, QuoteMany, Watch};

/// Listens to the caller's `signal`; anything but an `AbortSignal` is `INVALID_INPUT`.
fn watch(env: &Env, signal: Option<Object<'_>>) -> Result<Watch, Failure> {
    Watch::new(env, signal).map_err(|e| Failure::Input(format!("`signal`: {}", e.reason)))
}

fn strict(options: Option<LoadOptions>) -> bool {
    options.and_then(|o| o.strict).unwrap_or(false)
}

/// A compiled rules document: immutable, safe to share, answers synchronously in well under a
/// microsecond (except `quoteMany` and `load`, which run on the libuv pool).
#[napi]
pub struct Engine {
    inner: Arc<Core>,
}

#[napi]
impl Engine {
    /// Compiles a `tarif/1` JSON document. Throws `COMPILE_ERROR` (or `STRICT_WARNINGS`) with
    /// every diagnostic in `err.details`.
    #[napi(factory, catch_unwind)]
    pub fn from_json(env: &Env, text: String, options: Option<LoadOptions>) -> napi::Result<Self> {
        Core::compile(
            &text,
            &tarif::CompileOptions {
                strict: strict(options),
                ..tarif::CompileOptions::default()
            },
        )
        .map(|c| Engine {
            inner: Arc::new(c.engine),
        })
        .map_err(|e| Failure::from(e).into_js(env))
    }

    /// Reads and compiles a rules file, blocking; prefer `Engine.load` in a service.
    #[napi(factory, catch_unwind)]
    pub fn from_file(env: &Env, path: String, options: Option<LoadOptions>) -> napi::Result<Self> {
        tasks::compile_file(&path, strict(options))
            .map(|e| Engine { inner: Arc::new(e) })
            .map_err(|f| f.into_js(env))
    }

    /// Reads and compiles a rules file on the libuv pool.
    #[napi(ts_return_type = "Promise<Engine>")]
    pub fn load(
        env: &Env,
        path: String,
        options: Option<LoadOptions>,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
    ) -> napi::Result<AsyncTask<Load>> {
        Ok(AsyncTask::new(Load {
            path,
            strict: strict(options),
            watch: watch(env, signal).map_err(|f| f.into_js(env))?,
            target: None,
        }))
    }

    /// Stable content hash of the document; every quote carries it.
    #[napi(getter)]
    pub fn engine_version(&self) -> String {
        self.inner.engine_version().to_string()
    }

    /// Warnings of the compiled document.
    #[napi]
    pub fn diagnostics(&self) -> Vec<DiagnosticInfo> {
        self.inner
            .diagnostics()
            .iter()
            .map(DiagnosticInfo::from)
            .collect()
    }

    /// Every SKU of the catalog, in document order.
    #[napi]
    pub fn skus(&self) -> Vec<String> {
        self.inner.skus().map(str::to_string).collect()
    }

    /// Prices one line. Throws with the core's stable `code` (`UNKNOWN_PRODUCT`, `NO_PRICE`,
    /// `QUANTITY_RULE` with `details.nearest`, …) or `INVALID_INPUT`.
    #[napi(catch_unwind)]
    pub fn quote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "QuoteInput")] input: Unknown<'_>,
    ) -> napi::Result<QuoteResult> {
        self.quote_line(input).map_err(|f| f.into_js(env))
    }

    fn quote_line(&self, input: Unknown<'_>) -> Result<QuoteResult, Failure> {
        let line = input::read_line(input)?;
        let request = line.request(&self.inner)?;
        self.inner
            .quote(&request)
            .map(QuoteResult::from)
            .map_err(|e| Failure::Query(line.qty.restore(e)))
    }

    /// Explains a price: visibility, then every step with every rule that spoke to the product.
    /// The trusted back-office view: it also explains products hidden from the account.
    #[napi(catch_unwind)]
    pub fn explain(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "QuoteInput")] input: Unknown<'_>,
    ) -> napi::Result<ExplainResult> {
        self.explain_line(input).map_err(|f| f.into_js(env))
    }

    fn explain_line(&self, input: Unknown<'_>) -> Result<ExplainResult, Failure> {
        let line = input::read_line(input)?;
        let request = line.request(&self.inner)?;
        self.inner
            .explain(&request)
            .map(ExplainResult::from)
            .map_err(|e| Failure::Query(line.qty.restore(e)))
    }

    /// What the account may do with the product: `{see, price, buy}`.
    #[napi(catch_unwind)]
    pub fn visibility(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "VisibilityInput")] input: Unknown<'_>,
    ) -> napi::Result<CapabilitiesResult> {
        let answer = || -> Result<CapabilitiesResult, Failure> {
            let input: VisibilityInput<'_> = input::object(input, "input")?;
            let account = input::text(input.account, "account")?;
            let product = input::text(input.sku, "sku")?;
            let at = input::at(input.at, "at")?;
            let at = input::instant_after_account(&self.inner, &account, &at)?;
            Ok(self.inner.visibility(&account, &product, at)?.into())
        };
        answer().map_err(|f| f.into_js(env))
    }

    /// The SKU a reference means for the account (aliases, SKU, EAN/GTIN, MPN, refs). A product
    /// the account may not see is `UNKNOWN_PRODUCT`.
    #[napi(catch_unwind)]
    pub fn lookup(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "LookupInput")] input: Unknown<'_>,
    ) -> napi::Result<String> {
        let answer = || -> Result<String, Failure> {
            let input: LookupInput<'_> = input::object(input, "input")?;
            let account = input::text(input.account, "account")?;
            let reference = input::text(input.reference, "ref")?;
            let at = input::at(input.at, "at")?;
            let at = input::instant_after_account(&self.inner, &account, &at)?;
            let sku = match at {
                Some(at) => self.inner.lookup_at(&account, &reference, at)?,
                None => self.inner.lookup(&account, &reference)?,
            };
            Ok(sku.to_string())
        };
        answer().map_err(|f| f.into_js(env))
    }

    /// One page of the account's own catalog: the products it has `query.capability` on that
    /// pass every filter, in order, with the total and the requested facet counts. Synchronous,
    /// like `quote`: a page is read from the engine's indexes. Throws `UNKNOWN_ACCOUNT`, `INVALID_INSTANT`, `INVALID_CURSOR` or `INVALID_INPUT`.
    #[napi(catch_unwind)]
    pub fn search(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
        #[napi(ts_arg_type = "SearchQuery")] query: Option<Unknown<'_>>,
        #[napi(ts_arg_type = "Date | string")] at: Option<Unknown<'_>>,
    ) -> napi::Result<SearchPage> {
        let answer = || -> Result<SearchPage, Failure> {
            let account = input::text(account, "account")?;
            let query = input::search_query(query)?;
            let at = input::at(at, "at")?;
            let at = input::instant_after_account(&self.inner, &account, &at)?;
            Ok(self.inner.search(&account, &query, at)?.into())
        };
        answer().map_err(|f| f.into_js(env))
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
        let answer = || -> Result<Vec<RelatedProduct>, Failure> {
            let account = input::text(account, "account")?;
            let reference = input::text(reference, "ref")?;
            let kind = input::relation_kind(kind)?;
            let at = input::at(at, "at")?;
            let at = input::instant_after_account(&self.inner, &account, &at)?;
            let related = self.inner.related(&account, &reference, kind, at)?;
            Ok(related.into_iter().map(RelatedProduct::from).collect())
        };
        answer().map_err(|f| f.into_js(env))
    }

    /// Prices many lines on the libuv pool (in parallel, by the core's `quoteMany`), so the
    /// event loop never waits on a big batch. Rows fail one by one (`status`); the promise
    /// rejects only for malformed input or an abort (`AbortError`).
    #[napi(ts_return_type = "Promise<BatchOutput>", catch_unwind)]
    pub fn quote_many(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "BatchInput")] input: Unknown<'_>,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
    ) -> napi::Result<AsyncTask<QuoteMany>> {
        Ok(AsyncTask::new(QuoteMany(
            self.batch(env, input, signal).map_err(Some),
        )))
    }

    fn batch(
        &self,
        env: &Env,
        input: Unknown<'_>,
        signal: Option<Object<'_>>,
    ) -> Result<Batch, Failure> {
        let input: BatchInput<'_> = input::object(input, "input")?;
        let accounts = input::texts(input.accounts, "accounts")?;
        let refs = input::texts(input.skus, "skus")?;
        let qtys = input::qtys(input.qtys, "qtys")?;
        let at = match input::batch_at(input.at, "at")? {
            BatchAtInput::One(at) => {
                Instants::One(at.instant(&self.inner)?.unwrap_or_else(tarif::Instant::now))
            }
            BatchAtInput::PerRow(list) => Instants::PerRow(
                list.iter()
                    .map(|at| {
                        at.instant(&self.inner)
                            .map(|i| i.unwrap_or_else(tarif::Instant::now))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Batch {
            engine: self.inner.clone(),
            accounts,
            refs,
            qtys: qtys.iter().map(input::Qty::value).collect(),
            at,
            currency: input::optional_text(input.currency, "currency")?,
            watch: watch(env, signal)?,
        })
    }
}

/// A swappable engine for services: calls go to the current engine; `reload` compiles a new
/// document in the background and swaps it in atomically. A call in flight finishes on the
/// engine it started on; a failed reload leaves the current engine in place.
#[napi]
pub struct EngineHandle {
    current: Arc<ArcSwap<Core>>,
}

#[napi]
impl EngineHandle {
    /// A handle serving `engine`.
    #[napi(constructor)]
    pub fn new(engine: &Engine) -> Self {
        EngineHandle {
            current: Arc::new(ArcSwap::new(engine.inner.clone())),
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
        path: String,
        options: Option<LoadOptions>,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
    ) -> napi::Result<AsyncTask<Load>> {
        Ok(AsyncTask::new(Load {
            path,
            strict: strict(options),
            watch: watch(env, signal).map_err(|f| f.into_js(env))?,
            target: Some(self.current.clone()),
        }))
    }

    /// `engineVersion` of the current engine.
    #[napi(getter)]
    pub fn engine_version(&self) -> String {
        self.current.load().engine_version().to_string()
    }

    /// `diagnostics()` of the current engine.
    #[napi]
    pub fn diagnostics(&self) -> Vec<DiagnosticInfo> {
        self.current().diagnostics()
    }

    /// `skus()` of the current engine.
    #[napi]
    pub fn skus(&self) -> Vec<String> {
        self.current().skus()
    }

    /// `quote` on the current engine.
    #[napi(catch_unwind)]
    pub fn quote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "QuoteInput")] input: Unknown<'_>,
    ) -> napi::Result<QuoteResult> {
        self.current().quote(env, input)
    }

    /// `explain` on the current engine.
    #[napi(catch_unwind)]
    pub fn explain(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "QuoteInput")] input: Unknown<'_>,
    ) -> napi::Result<ExplainResult> {
        self.current().explain(env, input)
    }

    /// `visibility` on the current engine.
    #[napi(catch_unwind)]
    pub fn visibility(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "VisibilityInput")] input: Unknown<'_>,
    ) -> napi::Result<CapabilitiesResult> {
        self.current().visibility(env, input)
    }

    /// `lookup` on the current engine.
    #[napi(catch_unwind)]
    pub fn lookup(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "LookupInput")] input: Unknown<'_>,
    ) -> napi::Result<String> {
        self.current().lookup(env, input)
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
        self.current().search(env, account, query, at)
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
        self.current().related(env, account, reference, kind, at)
    }

    /// `quoteMany` on the engine current when it is called, even if a swap happens meanwhile.
    #[napi(ts_return_type = "Promise<BatchOutput>", catch_unwind)]
    pub fn quote_many(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "BatchInput")] input: Unknown<'_>,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
    ) -> napi::Result<AsyncTask<QuoteMany>> {
        self.current().quote_many(env, input, signal)
    }
}
