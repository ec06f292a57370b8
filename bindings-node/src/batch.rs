//! A batch read and answered in slices. Reading JavaScript values and creating JavaScript
//! strings can only happen on the JS thread, and for a million rows each takes about a second:
//! done at once, that second is a second in which no other callback of the process runs. A
//! `BatchJob` reads the columns a slice at a time, prices the whole batch at once on the libuv
//! pool, and hands the answer back a slice at a time; the package's `quoteMany` (`batch.cjs`)
//! yields to the event loop between slices. The columns are read in the same order and with the
//! same messages as an unsliced read, so every batch is answered, or rejected, exactly as if it
//! were read at once.

use std::mem;
use std::sync::{Arc, Mutex, PoisonError};

use ahash::AHashMap;
use napi::bindgen_prelude::{
    AsyncTask, JsObjectValue, JsValue, Object, Uint16Array, Uint32Array, Uint8Array, Unknown,
};
use napi::{Env, Task};
use napi_derive::napi;
use tarif::{Decimal, Engine as Core, Status};

use crate::error::Failure;
use crate::input::{self, At, BatchInput, QuoteManyOptions};
use crate::progress;
use crate::queries::{batch_instant, watch};
use crate::tasks::{guarded, Batch, Instants, Texts};
use crate::{js, Engine};

/// Where the reading of the input stands, in the order an unsliced read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Accounts,
    Skus,
    Qtys,
    /// The per-row instants as given; a wrong type anywhere wins over an unparsable text.
    AtValues,
    /// The per-row instants resolved against the engine.
    AtInstants,
    Currency,
    Read,
    Priced,
}

/// The machinery of `quoteMany` for big batches: create it on an engine, call `read` until it
/// returns `true`, `price` once, `names` once, then `take` until it returns an empty slice.
/// `quoteMany` does exactly that, yielding to the event loop in between; call it rather than
/// this.
#[napi]
pub struct BatchJob {
    engine: Arc<Core>,
    stage: Stage,
    accounts: Texts,
    refs: Texts,
    qtys: Vec<Decimal>,
    at_values: Vec<At>,
    at: Option<Instants>,
    currency: Option<String>,
    /// Written by the pricing task when it settles, read by `take`.
    priced: Arc<Mutex<Option<Priced>>>,
    answer: Option<Answer>,
    /// Set by the first `read`: an abort is checked between slices, so that malformed input
    /// with an aborted signal rejects as an unsliced read does (input first).
    started: bool,
}

/// A priced batch. Every value travels as an index into a table of its distinct values, so
/// that each distinct string is created once in JavaScript and shared by the rows that have it:
/// a million fresh strings would cost the JS thread garbage-collection pauses of tens of
/// milliseconds. Amounts are numbered in order of first appearance, so the rows of a slice need
/// only the amounts new in it.
#[derive(Default)]
pub struct Priced {
    status: Vec<u8>,
    unit_price: Vec<u32>,
    line_total: Vec<u32>,
    currency: Vec<u16>,
    buyable: Vec<u8>,
    /// Distinct amounts as exact decimal strings, by index.
    amounts: Texts,
    names: BatchNames,
}

/// The amount index of a failed row: it has no amount (null in JavaScript).
const NO_AMOUNT: u32 = u32::MAX;

/// Numbers distinct amounts by their exact representation (`1.0` and `1.00` are two strings).
#[derive(Default)]
struct AmountTable {
    index: AHashMap<[u8; 16], u32>,
    text: Texts,
}

impl AmountTable {
    fn number(&mut self, amount: &Decimal) -> u32 {
        let next = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        *self.index.entry(amount.serialize()).or_insert_with(|| {
            self.text.push(&amount.to_string());
            next
        })
    }
}

/// The name tables of a priced batch: `status[i]` names status index `i`, `currency[i]`
/// currency index `i`.
#[napi(object, object_from_js = false)]
#[derive(Default)]
pub struct BatchNames {
    pub status: Vec<String>,
    pub currency: Vec<String>,
}

/// Rows of a priced batch: `status` and `currency` index into [`BatchNames`], the amounts into
/// the table of amounts, to which `amounts` appends the ones first used by these rows; a failed
/// row's amounts are 0xFFFFFFFF (none).
#[napi(object, object_from_js = false)]
pub struct BatchSlice {
    pub status: Uint8Array,
    pub unit_price: Uint32Array,
    pub line_total: Uint32Array,
    pub currency: Uint16Array,
    /// 1 buyable, 0 not, 2 a failed row (null in JavaScript).
    pub buyable: Uint8Array,
    pub amounts: Vec<String>,
}

/// The priced columns, handed out from the front.
struct Answer {
    names: Option<BatchNames>,
    status: std::vec::IntoIter<u8>,
    unit_price: std::vec::IntoIter<u32>,
    line_total: std::vec::IntoIter<u32>,
    currency: std::vec::IntoIter<u16>,
    buyable: std::vec::IntoIter<u8>,
    amounts: Texts,
    /// Amounts handed out so far: the table's length on the JavaScript side.
    amounts_sent: u32,
}

#[napi]
impl BatchJob {
    /// A job on `engine` (for an `EngineHandle`, its current engine).
    #[napi(constructor)]
    pub fn new(engine: &Engine) -> Self {
        BatchJob {
            engine: engine.inner.clone(),
            stage: Stage::Accounts,
            accounts: Texts::default(),
            refs: Texts::default(),
            qtys: Vec::new(),
            at_values: Vec::new(),
            at: None,
            currency: None,
            priced: Arc::default(),
            answer: None,
            started: false,
        }
    }

    /// Reads up to `rows` more values of `input` (a `BatchInput`); `true` once every column is
    /// read. Throws what `quoteMany` rejects with for malformed input, or `AbortError`.
    #[napi(catch_unwind)]
    pub fn read(
        &mut self,
        env: &Env,
        #[napi(ts_arg_type = "BatchInput")] input: Unknown<'_>,
        rows: u32,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
    ) -> napi::Result<bool> {
        js(env, self.read_slice(input, rows as usize, signal))
    }

    /// Prices the batch read on the libuv pool; the promise settles when it is priced.
    /// `options.onProgress` is as for `quoteMany`.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn price(
        &mut self,
        env: &Env,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
        options: Option<QuoteManyOptions<'_>>,
    ) -> napi::Result<AsyncTask<PriceJob>> {
        let batch = if self.stage == Stage::Read {
            self.stage = Stage::Priced;
            let progress = progress::rows(options.as_ref());
            watch(env, signal).and_then(|watch| {
                Ok(Batch {
                    engine: self.engine.clone(),
                    accounts: mem::take(&mut self.accounts),
                    refs: mem::take(&mut self.refs),
                    qtys: mem::take(&mut self.qtys),
                    at: self.at.take().unwrap_or(Instants::PerRow(Vec::new())),
                    currency: self.currency.take(),
                    watch,
                    progress: progress?,
                })
            })
        } else {
            Err(input::type_error(
                "`price` needs a batch read to the end and not yet priced".to_string(),
            ))
        };
        Ok(AsyncTask::new(PriceJob {
            batch,
            priced: self.priced.clone(),
        }))
    }

    /// The answer's name tables; call once, after `price`.
    #[napi]
    pub fn names(&mut self) -> BatchNames {
        self.columns().names.take().unwrap_or_default()
    }

    /// The next `rows` rows of the answer; empty once every row was taken.
    #[napi(catch_unwind)]
    pub fn take(
        &mut self,
        env: &Env,
        rows: u32,
        #[napi(ts_arg_type = "AbortSignal")] signal: Option<Object<'_>>,
    ) -> napi::Result<BatchSlice> {
        js(env, aborted(signal))?;
        let rows = rows.max(1) as usize;
        let answer = self.columns();
        let unit_price: Vec<u32> = answer.unit_price.by_ref().take(rows).collect();
        let line_total: Vec<u32> = answer.line_total.by_ref().take(rows).collect();
        let needed = unit_price
            .iter()
            .chain(&line_total)
            .filter(|&&i| i != NO_AMOUNT)
            .map(|&i| i + 1)
            .max()
            .unwrap_or(0)
            .max(answer.amounts_sent);
        let amounts = answer
            .amounts
            .rows(answer.amounts_sent as usize..needed as usize)
            .into_iter()
            .map(str::to_string)
            .collect();
        answer.amounts_sent = needed;
        Ok(BatchSlice {
            status: answer.status.by_ref().take(rows).collect::<Vec<_>>().into(),
            unit_price: unit_price.into(),
            line_total: line_total.into(),
            currency: answer
                .currency
                .by_ref()
                .take(rows)
                .collect::<Vec<_>>()
                .into(),
            buyable: answer
                .buyable
                .by_ref()
                .take(rows)
                .collect::<Vec<_>>()
                .into(),
            amounts,
        })
    }
}

impl BatchJob {
    /// The answer, moved out of the pricing task's slot the first time it is asked for.
    fn columns(&mut self) -> &mut Answer {
        self.answer.get_or_insert_with(|| {
            let priced = self
                .priced
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .unwrap_or_default();
            Answer {
                names: Some(priced.names),
                status: priced.status.into_iter(),
                unit_price: priced.unit_price.into_iter(),
                line_total: priced.line_total.into_iter(),
                currency: priced.currency.into_iter(),
                buyable: priced.buyable.into_iter(),
                amounts: priced.amounts,
                amounts_sent: 0,
            }
        })
    }

    fn read_slice(
        &mut self,
        input: Unknown<'_>,
        rows: usize,
        signal: Option<Object<'_>>,
    ) -> Result<bool, Failure> {
        if mem::replace(&mut self.started, true) {
            aborted(signal)?;
        }
        let input: BatchInput<'_> = input::object(input, "input")?;
        let mut budget = rows.max(1);
        while budget > 0 {
            let done = match self.stage {
                Stage::Accounts => read_column(
                    &mut self.accounts,
                    input.accounts,
                    "accounts",
                    &mut budget,
                    input::text,
                )?,
                Stage::Skus => {
                    read_column(&mut self.refs, input.skus, "skus", &mut budget, input::text)?
                }
                Stage::Qtys => {
                    read_column(&mut self.qtys, input.qtys, "qtys", &mut budget, |v, f| {
                        input::row_qty(v, f).map(|qty| qty.for_rows())
                    })?
                }
                Stage::AtValues => match input.at {
                    Some(list) if list.is_array().unwrap_or(false) => {
                        read_column(&mut self.at_values, list, "at", &mut budget, input::one_at)?
                    }
                    other => {
                        let at = input::at(other, "at")?;
                        self.at = Some(Instants::One(batch_instant(&self.engine, at.wire())?));
                        self.stage = Stage::Currency;
                        continue;
                    }
                },
                Stage::AtInstants => self.resolve_instants(&mut budget)?,
                Stage::Currency => {
                    self.currency = input::optional_text(input.currency, "currency")?;
                    true
                }
                Stage::Read | Stage::Priced => return Ok(true),
            };
            if done {
                self.stage = match self.stage {
                    Stage::Accounts => Stage::Skus,
                    Stage::Skus => Stage::Qtys,
                    Stage::Qtys => Stage::AtValues,
                    Stage::AtValues => Stage::AtInstants,
                    Stage::AtInstants => Stage::Currency,
                    Stage::Currency | Stage::Read => Stage::Read,
                    Stage::Priced => Stage::Priced,
                };
            }
        }
        Ok(self.stage == Stage::Read)
    }

    /// Parses up to `budget` more of the per-row instants, in row order.
    fn resolve_instants(&mut self, budget: &mut usize) -> Result<bool, Failure> {
        let resolved = match &mut self.at {
            Some(Instants::PerRow(list)) => list,
            _ => {
                self.at = Some(Instants::PerRow(Vec::with_capacity(self.at_values.len())));
                return Ok(false);
            }
        };
        let start = resolved.len();
        let end = (start + *budget).min(self.at_values.len());
        for at in self.at_values.get(start..end).unwrap_or_default() {
            resolved.push(batch_instant(&self.engine, at.wire())?);
        }
        *budget -= end - start;
        if end == self.at_values.len() {
            self.at_values = Vec::new();
            return Ok(true);
        }
        Ok(false)
    }
}

/// What a column of the input is read into.
trait Column {
    type Item;
    fn len(&self) -> usize;
    fn push(&mut self, item: Self::Item);
}

impl<T> Column for Vec<T> {
    type Item = T;
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
}

impl Column for Texts {
    type Item = String;
    fn len(&self) -> usize {
        Texts::len(self)
    }
    fn push(&mut self, item: String) {
        Texts::push(self, &item);
    }
}

/// Reads up to `budget` more elements of the array `value` into `into`; `true` at its end.
fn read_column<C: Column>(
    into: &mut C,
    value: Unknown<'_>,
    field: &str,
    budget: &mut usize,
    read: impl Fn(Unknown<'_>, &str) -> Result<C::Item, Failure>,
) -> Result<bool, Failure> {
    let array = input::array(value, field)?;
    let len = array.len() as usize;
    let start = into.len();
    let end = (start + *budget).min(len);
    for i in start..end {
        let element: Unknown<'_> = array
            .get(i as u32)
            .map_err(|e| input::type_error(format!("`{field}[{i}]`: {e}")))?
            .ok_or_else(|| input::type_error(format!("`{field}[{i}]` is missing")))?;
        into.push(read(element, &format!("{field}[{i}]"))?);
    }
    *budget -= end - start;
    Ok(end == len)
}

/// `AbortError` once the caller's signal has fired.
fn aborted(signal: Option<Object<'_>>) -> Result<(), Failure> {
    match signal.map(|s| s.get_named_property::<bool>("aborted")) {
        Some(Ok(true)) => Err(Failure::Aborted),
        _ => Ok(()),
    }
}

/// Prices a job's batch on the pool and leaves the answer in the job.
pub struct PriceJob {
    batch: Result<Batch, Failure>,
    priced: Arc<Mutex<Option<Priced>>>,
}

/// The batch's answer as [`Priced`] columns.
fn price(batch: &Batch) -> Result<Priced, Failure> {
    let rows = batch.accounts.len();
    let currencies: Vec<String> = batch.engine.currencies().map(str::to_string).collect();
    // A failed row's currency index is a placeholder: it names the empty string, after the
    // currencies.
    let no_currency = u16::try_from(currencies.len()).unwrap_or(u16::MAX);
    let mut statuses: Vec<Status> = Vec::new();
    let mut amounts = AmountTable::default();
    let mut out = Priced {
        status: Vec::with_capacity(rows),
        unit_price: Vec::with_capacity(rows),
        line_total: Vec::with_capacity(rows),
        currency: Vec::with_capacity(rows),
        buyable: Vec::with_capacity(rows),
        amounts: Texts::default(),
        names: BatchNames::default(),
    };
    let priced = batch.price()?;
    for ((((status, unit), line), currency), buyable) in priced
        .status
        .iter()
        .zip(&priced.unit_price)
        .zip(&priced.line_total)
        .zip(&priced.currency)
        .zip(&priced.buyable)
    {
        let index = statuses
            .iter()
            .position(|s| s == status)
            .unwrap_or_else(|| {
                statuses.push(*status);
                statuses.len() - 1
            });
        out.status.push(u8::try_from(index).unwrap_or(u8::MAX));
        let ok = *status == Status::Ok;
        out.unit_price
            .push(if ok { amounts.number(unit) } else { NO_AMOUNT });
        out.line_total
            .push(if ok { amounts.number(line) } else { NO_AMOUNT });
        out.currency.push(if ok { *currency } else { no_currency });
        out.buyable.push(if ok { u8::from(*buyable) } else { 2 });
    }
    out.amounts = amounts.text;
    out.names = BatchNames {
        status: statuses.iter().map(|s| s.code().to_string()).collect(),
        currency: currencies.into_iter().chain([String::new()]).collect(),
    };
    Ok(out)
}

impl Task for PriceJob {
    type Output = Result<Priced, Failure>;
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match &mut self.batch {
            Ok(batch) => {
                let priced = guarded(|| price(batch));
                // Freed here, not on the JS thread where the task itself is dropped.
                drop((
                    mem::take(&mut batch.accounts),
                    mem::take(&mut batch.refs),
                    mem::take(&mut batch.qtys),
                    mem::replace(&mut batch.at, Instants::PerRow(Vec::new())),
                ));
                priced
            }
            Err(failure) => Err(mem::replace(failure, Failure::Aborted)),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<()> {
        let output = output.map_err(|f| f.into_js(&env))?;
        *self.priced.lock().unwrap_or_else(PoisonError::into_inner) = Some(output);
        Ok(())
    }

    fn finally(mut self, env: Env) -> napi::Result<()> {
        match &mut self.batch {
            Ok(batch) => batch.watch.release(&env),
            Err(_) => Ok(()),
        }
    }
}
