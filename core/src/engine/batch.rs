//! `quote_many`: columns in, columns out, in parallel; identical to quoting row by row.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use ahash::AHashMap;
use prefetch_index::prefetch_index;
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::lookup::Meaning;
use super::quote::{Candidate, Chain, Ctx, Matched, Recorder, RuleRef, Silent};
use super::visibility::Capabilities;
use super::Engine;
use crate::error::{QueryError, Status};
use crate::index::Id as _;
use crate::index::{AccountDef, AccountId, AudKey, CurrencyId, ListId, ProductId};
use crate::instant::Instant;

/// The instant(s) of a batch.
#[derive(Debug, Clone, Copy)]
pub enum BatchAt<'a> {
    /// The current instant, read once for the whole batch.
    Now,
    /// One instant for every row.
    One(Instant),
    /// One instant per row.
    PerRow(&'a [Instant]),
}

/// The columns of a priced batch; rows that failed have status ≠ `Ok` and zero amounts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchResult {
    /// Per-row outcome.
    pub status: Vec<Status>,
    /// Unit prices.
    pub unit_price: Vec<Decimal>,
    /// Line totals.
    pub line_total: Vec<Decimal>,
    /// Index of each row's currency in [`Engine::currencies`] (0 for failed rows).
    pub currency: Vec<u16>,
    /// Whether the account may buy the row's product (its `buy` capability), as
    /// [`Quote::buyable`](crate::Quote::buyable) says; `false` for failed rows.
    pub buyable: Vec<bool>,
}

impl BatchResult {
    fn with_capacity(rows: usize) -> Self {
        BatchResult {
            status: Vec::with_capacity(rows),
            unit_price: Vec::with_capacity(rows),
            line_total: Vec::with_capacity(rows),
            currency: Vec::with_capacity(rows),
            buyable: Vec::with_capacity(rows),
        }
    }

    /// Columns for the rows of `status`, none priced yet.
    pub(crate) fn unpriced(status: Vec<Status>) -> Self {
        let rows = status.len();
        BatchResult {
            status,
            unit_price: vec![Decimal::ZERO; rows],
            line_total: vec![Decimal::ZERO; rows],
            currency: vec![0; rows],
            buyable: vec![false; rows],
        }
    }
}

/// Rows of a [`BatchResult`]'s columns, all of them or a chunk that a task fills.
struct Cells<'a> {
    status: &'a mut [Status],
    unit_price: &'a mut [Decimal],
    line_total: &'a mut [Decimal],
    currency: &'a mut [u16],
    buyable: &'a mut [bool],
}

impl Cells<'_> {
    /// [`BatchResult::record`] at position `row` of these rows.
    fn record(
        &mut self,
        row: usize,
        currency: CurrencyId,
        answer: Result<(Decimal, Decimal, bool), Status>,
    ) {
        match answer {
            Ok((unit, line, buyable)) => {
                if let (Some(u), Some(l), Some(c), Some(b)) = (
                    self.unit_price.get_mut(row),
                    self.line_total.get_mut(row),
                    self.currency.get_mut(row),
                    self.buyable.get_mut(row),
                ) {
                    (*u, *l, *c, *b) = (unit, line, currency.raw(), buyable);
                }
            }
            Err(failed) => {
                if let Some(s) = self.status.get_mut(row) {
                    *s = failed;
                }
            }
        }
    }
}

impl BatchResult {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.status.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.status.is_empty()
    }

    /// The columns in shares of `size` rows, for workers to write side by side.
    fn cells(&mut self, size: usize) -> impl Iterator<Item = Cells<'_>> {
        let size = size.max(1);
        (self.status.chunks_mut(size))
            .zip(self.unit_price.chunks_mut(size))
            .zip(self.line_total.chunks_mut(size))
            .zip(self.currency.chunks_mut(size))
            .zip(self.buyable.chunks_mut(size))
            .map(
                |((((status, unit_price), line_total), currency), buyable)| Cells {
                    status,
                    unit_price,
                    line_total,
                    currency,
                    buyable,
                },
            )
    }

    /// Writes row `from` of `other` over row `row` (either out of range: nothing).
    pub(crate) fn put(&mut self, row: usize, other: &BatchResult, from: usize) {
        copy_row(&mut self.status, row, &other.status, from);
        copy_row(&mut self.unit_price, row, &other.unit_price, from);
        copy_row(&mut self.line_total, row, &other.line_total, from);
        copy_row(&mut self.currency, row, &other.currency, from);
        copy_row(&mut self.buyable, row, &other.buyable, from);
    }

    /// These rows of the result, in the order given (rows out of range are skipped).
    ///
    /// ```
    /// use tarif::{BatchAt, Engine};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
    /// let out = engine.quote_many(&["X", "Y"], &["A", "B"], &[1.into(), 2.into()], BatchAt::Now, None).unwrap();
    /// assert_eq!(out.select(&[1, 7]).len(), 1);
    /// ```
    pub fn select(&self, rows: &[usize]) -> BatchResult {
        let mut out = BatchResult::with_capacity(rows.len());
        for &row in rows {
            if let (Some(status), Some(unit), Some(total), Some(currency), Some(buyable)) = (
                self.status.get(row),
                self.unit_price.get(row),
                self.line_total.get(row),
                self.currency.get(row),
                self.buyable.get(row),
            ) {
                out.status.push(*status);
                out.unit_price.push(*unit);
                out.line_total.push(*total);
                out.currency.push(*currency);
                out.buyable.push(*buyable);
            }
        }
        out
    }
}

/// The columns [`Engine::quote_many_detailed`] adds to a batch, row for row with its
/// [`BatchResult`]: what an analyst needs to explain and aggregate a repricing. `None` where
/// the row failed before the value exists, or the value does not exist.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchDetail<'e> {
    /// The product the row's reference resolved to (for rows that resolved one).
    pub sku: Vec<Option<&'e str>>,
    /// The rule (or price-list entry) of the last step that applied: the one that set the
    /// price, as [`Quote::steps`](crate::Quote::steps) ends with it.
    pub rule: Vec<Option<RuleRef<'e>>>,
    /// [`Quote::base_price`](crate::Quote::base_price) of priced rows.
    pub base_price: Vec<Option<Decimal>>,
    /// [`Quote::list_price`](crate::Quote::list_price) of priced rows.
    pub list_price: Vec<Option<Decimal>>,
    /// The product's cost per unit (`products[].cost`), for rows that resolved a product.
    pub cost: Vec<Option<Decimal>>,
    /// The product ids behind `sku`, for what reads the catalog after the batch.
    pub(crate) product: Vec<Option<ProductId>>,
}

/// The columns a detailed batch writes besides each row's answer and product.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Columns {
    /// What a simulation's sums read: the product, and the rule that set the price when sums
    /// are kept by rule. The SKU and cost are read from the product when needed. Leaving out
    /// the SKU and cost, then the rule, each took about a tenth off a 10M-line simulation's
    /// base run: what these columns cost was their bytes, not the work behind them.
    Sums { rules: bool },
    /// SKU, cost, rule and base price; the list price column holds no price.
    Base,
    /// Those and the list price, at the cost of a second run of the procedure for rows that
    /// an account-level rule speaks to.
    BaseAndList,
}

impl<'e> BatchDetail<'e> {
    /// The detail of `rows` rows that found nothing yet, with `columns`.
    pub(crate) fn unpriced(rows: usize, columns: Columns) -> Self {
        let (written, rules) = match columns {
            Columns::Sums { rules } => (0, if rules { rows } else { 0 }),
            Columns::Base | Columns::BaseAndList => (rows, rows),
        };
        BatchDetail {
            sku: vec![None; written],
            rule: vec![None; rules],
            base_price: vec![None; written],
            list_price: vec![None; written],
            cost: vec![None; written],
            product: vec![None; rows],
        }
    }

    /// The columns in shares of `size` rows, for workers to write side by side.
    fn cells(&mut self, size: usize) -> impl Iterator<Item = DetailCells<'_, 'e>> {
        let size = size.max(1);
        (shares_of(&mut self.sku, size))
            .zip(shares_of(&mut self.rule, size))
            .zip(shares_of(&mut self.base_price, size))
            .zip(shares_of(&mut self.list_price, size))
            .zip(shares_of(&mut self.cost, size))
            .zip(self.product.chunks_mut(size))
            .map(
                |(((((sku, rule), base_price), list_price), cost), product)| DetailCells {
                    sku,
                    rule,
                    base_price,
                    list_price,
                    cost,
                    product,
                },
            )
    }

    /// Writes row `from` of `other` over row `row` (either out of range: nothing).
    pub(crate) fn put(&mut self, row: usize, other: &BatchDetail<'e>, from: usize) {
        copy_row(&mut self.sku, row, &other.sku, from);
        copy_row(&mut self.rule, row, &other.rule, from);
        copy_row(&mut self.base_price, row, &other.base_price, from);
        copy_row(&mut self.list_price, row, &other.list_price, from);
        copy_row(&mut self.cost, row, &other.cost, from);
        copy_row(&mut self.product, row, &other.product, from);
    }
}

/// `column` in shares of `size` rows; an empty column (not written, [`Columns::Sums`]) gives
/// as many empty shares as asked for.
fn shares_of<T>(column: &mut [T], size: usize) -> impl Iterator<Item = &mut [T]> {
    let empty = column.is_empty();
    let none = std::iter::repeat_with(|| -> &mut [T] { &mut [] });
    column
        .chunks_mut(size)
        .chain(none.take_while(move |_| empty))
}

/// Some rows of a [`BatchDetail`]'s columns, as [`Cells`] are of a [`BatchResult`]'s.
struct DetailCells<'a, 'e> {
    sku: &'a mut [Option<&'e str>],
    rule: &'a mut [Option<RuleRef<'e>>],
    base_price: &'a mut [Option<Decimal>],
    list_price: &'a mut [Option<Decimal>],
    cost: &'a mut [Option<Decimal>],
    product: &'a mut [Option<ProductId>],
}

impl<'e> DetailCells<'_, 'e> {
    /// Writes what `engine` knows of `product`, which the line at `row` resolved.
    fn resolved(&mut self, row: usize, engine: &'e Engine, product: ProductId) {
        if let Some(slot) = self.product.get_mut(row) {
            *slot = Some(product);
        }
        if let (Some(sku), Some(cost)) = (self.sku.get_mut(row), self.cost.get_mut(row)) {
            *sku = Some(engine.sku(product));
            *cost = engine.cost(product);
        }
    }

    /// Writes what pricing the line at `row` found.
    fn priced(&mut self, row: usize, detail: RowDetail<'e>) {
        if let Some(rule) = self.rule.get_mut(row) {
            *rule = detail.rule;
        }
        if let (Some(base), Some(list)) =
            (self.base_price.get_mut(row), self.list_price.get_mut(row))
        {
            (*base, *list) = (Some(detail.base), detail.list);
        }
    }
}

/// Writes `from[i]` over `to[row]` (either out of range: nothing).
fn copy_row<T: Copy>(to: &mut [T], row: usize, from: &[T], i: usize) {
    if let (Some(slot), Some(value)) = (to.get_mut(row), from.get(i)) {
        *slot = *value;
    }
}

/// Keeps the last candidate that applied: the rule a quote's steps end with, without building
/// the steps.
#[derive(Default)]
struct LastApplied(Option<Candidate>);

impl Recorder<'_> for LastApplied {
    const STEPS: bool = false;
    const CHOICES: bool = true;
    fn chose(&mut self, candidate: &Candidate) {
        self.0 = Some(*candidate);
    }
}

/// What a detailed row adds to a priced one.
struct RowDetail<'e> {
    rule: Option<RuleRef<'e>>,
    base: Decimal,
    list: Option<Decimal>,
}

/// The lines whose answer differs between two engines ([`Engine::changed_lines`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineChanges {
    /// The positions of those lines in the batch, ascending.
    pub rows: Vec<usize>,
    /// Their answers under the first engine (currencies index its [`Engine::currencies`]).
    pub before: BatchResult,
    /// Their answers under the second engine (currencies index its [`Engine::currencies`]).
    pub after: BatchResult,
}

/// Rows a streaming simulation ([`Engine::simulate_groups`]) prices at a time, so that its
/// memory grows with a step rather than with the history: about a tenth of a second of work
/// on two cores, so that progress and a stop are still seen several times a second. (At
/// 32,768 rows the work each step repeats, allocating and sorting its rows, cost more.)
pub const BATCH_STEP: usize = 131_072;

/// Rows from which [`Engine::quote_many_in_steps`] prices on a thread of its own while the
/// caller's thread watches: below, the batch is over in milliseconds.
const WATCHED_FROM: usize = 32_768;

/// How often the caller's thread calls `between` while a watched batch runs.
const POLL: Duration = Duration::from_millis(20);

/// `INVALID_BATCH` unless every column has a row for each account. Every batch begins here, so
/// it is also where its size is traced.
pub(crate) fn check_lengths(
    rows: usize,
    refs: usize,
    qtys: usize,
    at: BatchAt<'_>,
) -> Result<(), QueryError> {
    tracing::debug!(target: "tarif::batch", rows, "batch of {rows} rows");
    let instants = match at {
        BatchAt::PerRow(list) => Some(list.len()),
        _ => None,
    };
    if refs != rows || qtys != rows || instants.is_some_and(|n| n != rows) {
        return Err(QueryError::InvalidBatch(format!(
            "columns differ in length: {rows} accounts, {refs} refs, {qtys} quantities{}",
            instants
                .map(|n| format!(", {n} instants"))
                .unwrap_or_default()
        )));
    }
    Ok(())
}

impl BatchAt<'_> {
    /// "Now" read once, so that every part of a batch is priced at the same instant.
    pub(crate) fn fixed(self) -> Self {
        match self {
            BatchAt::Now => BatchAt::One(Instant::now()),
            other => other,
        }
    }
}

/// Numbers the distinct strings of a column in order of first appearance: each row's number,
/// and the strings by number. Each thread numbers a part of the column, then the parts' numbers
/// are merged in column order, so the numbering is the same on any thread count.
pub(crate) fn number_distinct<'c, S: AsRef<str> + Sync>(
    column: &'c [S],
    watch: &Watch,
) -> (Vec<u32>, Vec<&'c str>) {
    let part = column
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(CHUNK);
    let parts: Vec<(Vec<u32>, Vec<&str>)> = column
        .par_chunks(part)
        .map(|rows| number_part(rows, watch))
        .collect();
    let mut numbers: AHashMap<&str, u32> = AHashMap::new();
    let mut distinct: Vec<&str> = Vec::new();
    let mut of_row = Vec::with_capacity(column.len());
    for (rows, texts) in parts {
        if watch.stopped() {
            break;
        }
        let global: Vec<u32> = texts
            .iter()
            .map(|&text| number(&mut numbers, &mut distinct, text))
            .collect();
        of_row.extend(
            rows.iter()
                .map(|&local| global.get(local as usize).copied().unwrap_or(u32::MAX)),
        );
    }
    (of_row, distinct)
}

fn number_part<'c, S: AsRef<str>>(column: &'c [S], watch: &Watch) -> (Vec<u32>, Vec<&'c str>) {
    let mut numbers: AHashMap<&str, u32> = AHashMap::new();
    let mut distinct: Vec<&str> = Vec::new();
    let mut of_row = Vec::with_capacity(column.len());
    for rows in column.chunks(CHUNK) {
        if watch.stopped() {
            break;
        }
        of_row.extend(
            rows.iter()
                .map(|text| number(&mut numbers, &mut distinct, text.as_ref())),
        );
    }
    (of_row, distinct)
}

/// The number of `text`, a new one if it has none yet.
fn number<'a>(
    numbers: &mut AHashMap<&'a str, u32>,
    distinct: &mut Vec<&'a str>,
    text: &'a str,
) -> u32 {
    *numbers.entry(text).or_insert_with(|| {
        distinct.push(text);
        u32::try_from(distinct.len() - 1).unwrap_or(u32::MAX)
    })
}

/// What a batch's workers share with the thread that watches it: the rows priced so far, and
/// whether the caller asked to stop. The answer of a stopped batch is thrown away, so workers
/// only have to stop soon (they look between chunks of rows), not to leave anything complete.
#[derive(Default)]
pub(crate) struct Watch {
    priced: AtomicUsize,
    stop: AtomicBool,
}

impl Watch {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn priced(&self, rows: usize) {
        self.priced.fetch_add(rows, Ordering::Relaxed);
    }
}

/// Runs a batch's `work` over `rows` rows on a thread of its own while this thread calls
/// `between` every [`POLL`] with the rows priced so far (the same number again while a phase
/// that prices nothing runs), then once with every row. A `ControlFlow::Break` from `between`
/// stops the work and makes the answer `None`. The whole batch is one unit of work, so each
/// distinct account and reference is resolved once for all its rows: pricing in steps
/// resolved them again in every step (a profile of 10M rows in steps of 32,768 spent a fifth
/// of its time finding references). A small batch, or one asked for on a thread of rayon's
/// pool (where waiting would hold a worker the batch needs), runs on this thread and calls
/// `between` once, at the end.
pub(crate) fn watched<T: Send>(
    rows: usize,
    mut between: impl FnMut(usize) -> ControlFlow<()>,
    work: impl Fn(&Watch) -> T + Sync,
) -> Option<T> {
    let watch = Watch::default();
    let answer = if rows < WATCHED_FROM || rayon::current_thread_index().is_some() {
        work(&watch)
    } else {
        let (finished, done) = mpsc::channel::<()>();
        let outcome = std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("tarif-batch".into())
                .spawn_scoped(scope, || {
                    let answer = work(&watch);
                    // The receiver lives until the join below.
                    let _ = finished.send(());
                    answer
                });
            let Ok(worker) = worker else {
                // No thread to be had: the batch runs here, unwatched.
                return Ok(work(&watch));
            };
            while let Err(mpsc::RecvTimeoutError::Timeout) = done.recv_timeout(POLL) {
                if between(watch.priced.load(Ordering::Relaxed)).is_break() {
                    watch.stop.store(true, Ordering::Relaxed);
                    break;
                }
            }
            worker.join()
        });
        match outcome {
            Ok(answer) => answer,
            // A panic of the work reaches the caller as if the work had run on its thread.
            Err(payload) => std::panic::resume_unwind(payload),
        }
    };
    if watch.stopped() || between(rows).is_break() {
        return None;
    }
    Some(answer)
}

/// Rows per parallel task: large enough to amortise scheduling, small enough to balance.
pub(crate) const CHUNK: usize = 4096;

/// Each job's answer by `price`, in parallel, `ahead(i)` called before job `i` is priced. The
/// watch is told of the rows priced a chunk at a time, and a stop leaves the remaining jobs
/// unpriced (the answer is thrown away); a job that found no product keeps its status.
fn price_jobs<T: Send>(
    jobs: &[Result<Job, Status>],
    watch: &Watch,
    ahead: impl Fn(usize) + Sync,
    price: impl Fn(&Job) -> Result<T, Status> + Sync,
) -> Vec<Result<T, Status>> {
    jobs.par_iter()
        .enumerate()
        .with_min_len(CHUNK)
        .map_init(
            || Tally { watch, rows: 0 },
            |tally, (i, job)| {
                tally.count();
                ahead(i);
                let job = job.as_ref().map_err(|status| *status)?;
                if watch.stopped() {
                    return Err(Status::InvalidBatch);
                }
                price(job)
            },
        )
        .collect()
}

/// Rows one worker priced and has not yet told the watch of: told every [`CHUNK`] rows rather
/// than every row, so that the workers do not contend for the counter.
struct Tally<'w> {
    watch: &'w Watch,
    rows: usize,
}

impl Tally<'_> {
    fn count(&mut self) {
        self.rows += 1;
        if self.rows == CHUNK {
            self.watch.priced(CHUNK);
            self.rows = 0;
        }
    }
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        self.watch.priced(self.rows);
    }
}

/// A resolved row, with everything pricing reads of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    product: ProductId,
    /// The row's position among the rows resolved.
    pub(crate) row: u32,
    /// The row's account among the batch's distinct ones ([`Distinct::account_names`]).
    pub(crate) distinct_account: u32,
    pub(crate) account: AccountId,
    currency: CurrencyId,
    pub(crate) qty: Decimal,
    at: Instant,
    /// The product's capabilities, found while resolving the reference: pricing does not
    /// compute them a second time.
    caps: Capabilities,
}

/// A batch's distinct accounts and references, each worked out once (pass 1 of a batch).
pub(crate) struct Distinct<'c> {
    /// Each row's account, as a position in `accounts` and `account_names`.
    pub(crate) account_of_row: Vec<u32>,
    /// The distinct accounts, in order of first appearance.
    pub(crate) account_names: Vec<&'c str>,
    /// Each row's reference: the one product whose SKU it is, or its place in `meanings`.
    ref_of_row: Vec<RowRef>,
    /// Each distinct account's id and the currency its rows are priced in, or why not.
    accounts: Vec<Result<(AccountId, CurrencyId), Status>>,
    /// Each distinct account's chain, when it is short.
    pub(crate) chains: Vec<ShortChain>,
    /// What each distinct reference that is not a sole SKU means, in order of first appearance.
    meanings: Vec<Option<Meaning>>,
}

/// An account's [`Chain`] in one cache line, when it is short (most are: the account, a
/// segment or two, everyone; its own list and the general one). Rows in product order meet
/// their accounts at random, and the engine's account records take several lines each in a
/// table of megabytes: in a 10M-row simulation where every row was given the same account,
/// the base's pricing took 23 % less time.
#[derive(Clone, Copy)]
#[repr(align(64))]
pub(crate) struct ShortChain {
    lists: [(ListId, u8, AudKey); 2],
    audiences: [(AudKey, u8); 4],
    /// How many of `lists` and `audiences` hold the chain; `None` for a longer chain.
    counts: Option<(u8, u8)>,
}

impl ShortChain {
    fn of(account: Option<&AccountDef>) -> ShortChain {
        let mut short = ShortChain {
            lists: [(ListId::default(), 0, 0); 2],
            audiences: [(0, 0); 4],
            counts: None,
        };
        let Some(account) = account else { return short };
        let lists = short.lists.get_mut(..account.lists.len());
        let audiences = short.audiences.get_mut(..account.chain.len());
        if let (Some(lists), Some(audiences)) = (lists, audiences) {
            lists.copy_from_slice(&account.lists);
            audiences.copy_from_slice(&account.chain);
            short.counts = u8::try_from(account.lists.len())
                .ok()
                .zip(u8::try_from(account.chain.len()).ok());
        }
        short
    }

    /// The chain, unless it is too long to be held here.
    fn chain(&self) -> Option<Chain<'_>> {
        let (lists, audiences) = self.counts?;
        Some(Chain {
            lists: self.lists.get(..usize::from(lists))?,
            audiences: self.audiences.get(..usize::from(audiences))?,
        })
    }
}

/// Each radix pass of [`stable_sort_by_key`] splits by this many bits of the key.
const RADIX_BITS: u32 = 10;

/// `items` sorted by `key` (below `keys`), items of one key in the order they came: a radix
/// sort, two stable passes of [`RADIX_BITS`] bits each (the high bits into buckets, each part
/// of the input on its own core, then each bucket by the low bits). A batch's jobs sorted by
/// comparison moved each some twenty times (0.49 s of a 10M-row batch); here each is written
/// twice, the second time into a bucket that fits in the cache. The first pass writes into
/// buckets sized by a count, and the second into the input's own memory: filling a buffer as
/// big as the input before scattering into it, once per pass, and the fresh pages of the
/// second buffer cost 0.14 s of the 0.4 s this sort took in a 10M-row batch. Keys from `keys`
/// on sort last, together, in their order.
fn stable_sort_by_key<T: Copy + Send + Sync>(
    mut items: Vec<T>,
    keys: usize,
    key: impl Fn(&T) -> usize + Sync,
) -> Vec<T> {
    let key = |item: &T| key(item).min(keys);
    let high = |item: &T| key(item) >> RADIX_BITS;
    let low = |item: &T| key(item) & ((1 << RADIX_BITS) - 1);
    let buckets = (keys >> RADIX_BITS) + 1;
    let part = items
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(CHUNK);
    let parts: Vec<Vec<Vec<T>>> = items
        .par_chunks(part)
        .map(|items| by_digit(items, buckets, high))
        .collect();
    let mut rest = items.as_mut_slice();
    let mut slices = Vec::with_capacity(buckets);
    for b in 0..buckets {
        let size = (parts.iter())
            .map(|part| part.get(b).map_or(0, Vec::len))
            .sum();
        let Some((slice, tail)) = rest.split_at_mut_checked(size) else {
            break;
        };
        slices.push(slice);
        rest = tail;
    }
    slices.into_par_iter().enumerate().for_each(|(b, slice)| {
        let bucket = || (parts.iter()).flat_map(move |part| part.get(b).into_iter().flatten());
        let mut next = digit_counts(bucket(), 1 << RADIX_BITS, low);
        let mut start = 0;
        for count in &mut next {
            (*count, start) = (start, start + *count);
        }
        for item in bucket() {
            let Some(at) = next.get_mut(low(item)) else {
                continue;
            };
            if let Some(slot) = slice.get_mut(*at) {
                *slot = *item;
            }
            *at += 1;
        }
    });
    items
}

/// `items` split by `digit` (below `digits`), each digit's in their order: a counting sort's
/// buckets, each allocated to its size.
fn by_digit<T: Copy>(items: &[T], digits: usize, digit: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let counts = digit_counts(items, digits, &digit);
    let mut out: Vec<Vec<T>> = counts.into_iter().map(Vec::with_capacity).collect();
    for item in items {
        if let Some(bucket) = out.get_mut(digit(item)) {
            bucket.push(*item);
        }
    }
    out
}

/// How many of `items` have each `digit` (below `digits`).
fn digit_counts<'a, T: 'a>(
    items: impl IntoIterator<Item = &'a T>,
    digits: usize,
    digit: impl Fn(&T) -> usize,
) -> Vec<usize> {
    let mut counts = vec![0usize; digits];
    for item in items {
        if let Some(count) = counts.get_mut(digit(item)) {
            *count += 1;
        }
    }
    counts
}

/// How many jobs ahead of the one being priced a batch fetches the account's chain into the
/// cache, and half as many the entries the chain's lists hold for the product: the jobs go
/// in product order, so their accounts come at random, and waiting for each chain, then for
/// the account's own entry, was a fifth of the pricing's time (10M-row simulation, timed).
const AHEAD: usize = 16;

impl Engine {
    /// Before pricing job `i` of `jobs`, fetches what jobs further on will read.
    fn prefetch_ahead(&self, jobs: &[Result<Job, Status>], i: usize, chains: &[ShortChain]) {
        if let Some(Ok(far)) = jobs.get(i + AHEAD) {
            prefetch_index(chains, far.distinct_account as usize);
        }
        // The job `k` and the lists of its chain, when its chain is held short.
        let lists_of = |k: usize| {
            let job = jobs.get(k)?.as_ref().ok()?;
            let chain = chains.get(job.distinct_account as usize)?.chain()?;
            Some((job, chain.lists))
        };
        if let Some((_, lists)) = lists_of(i + AHEAD * 3 / 4) {
            for &(list, _, _) in lists {
                self.index.pricing.prefetch_list(list);
            }
        }
        if let Some((near, lists)) = lists_of(i + AHEAD / 2) {
            for &(list, _, _) in lists {
                self.index.pricing.prefetch_entry(list, near.product);
            }
        }
    }
}

/// A row's reference after pass 1.
#[derive(Clone, Copy)]
enum RowRef {
    /// The only product whose SKU it is ([`Engine::sole_by_sku_each`]): the product a row takes
    /// when its account sees it.
    Sku(ProductId),
    /// Any other reference, by its place among the distinct ones.
    Other(u32),
}

impl Engine {
    /// Prices many lines in parallel (rayon). Row `i` is `accounts[i]`, `refs[i]`, `qtys[i]`;
    /// a bad row gets its own status and does not fail the batch.
    ///
    /// ```
    /// use tarif::{BatchAt, Engine, Status};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2.50"}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let out = engine.quote_many(&["C", "C"], &["A", "Z"], &[4.into(), 1.into()], BatchAt::Now, None).unwrap();
    /// assert_eq!(out.line_total[0].to_string(), "10.00");
    /// assert_eq!(out.status[1], Status::UnknownProduct);
    /// ```
    pub fn quote_many<A, R>(
        &self,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
    ) -> Result<BatchResult, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        check_lengths(accounts.len(), refs.len(), qtys.len(), at)?;
        let watch = Watch::default();
        Ok(self.price_rows(accounts, refs, qtys, at.fixed(), currency, &watch))
    }

    /// [`Engine::quote_many`] under the caller's control: while the batch runs on a thread of
    /// its own, `between` is called on the calling thread every 20 ms with the number of rows
    /// priced so far (the same number again while resolution, which prices nothing, runs),
    /// then once with every row. A host reports progress there, or checks for an interrupt and
    /// stops the batch (`ControlFlow::Break`: it stops at its next check, every few thousand
    /// rows of each pass, and the answer is `None`). The rows are priced exactly as
    /// `quote_many` prices them, as one batch; "now" is read once for the whole batch. A batch
    /// under 32,768 rows, or one asked for on a thread of rayon's pool, runs on the calling
    /// thread and calls `between` once, at the end.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use tarif::{BatchAt, Engine};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2.50"}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let rows = 100_000;
    /// let (accounts, refs, qtys) = (vec!["C"; rows], vec!["A"; rows], vec![1.into(); rows]);
    /// let mut seen = Vec::new();
    /// let out = engine
    ///     .quote_many_in_steps(&accounts, &refs, &qtys, BatchAt::Now, None, |done| {
    ///         seen.push(done);
    ///         ControlFlow::Continue(())
    ///     })
    ///     .unwrap();
    /// assert_eq!(out.map(|o| o.len()), Some(rows));
    /// assert_eq!(seen.last(), Some(&rows));
    /// assert!(seen.windows(2).all(|pair| pair[0] <= pair[1]));
    /// let stopped = engine
    ///     .quote_many_in_steps(&accounts, &refs, &qtys, BatchAt::Now, None, |_| ControlFlow::Break(()))
    ///     .unwrap();
    /// assert!(stopped.is_none());
    /// ```
    pub fn quote_many_in_steps<A, R>(
        &self,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        between: impl FnMut(usize) -> ControlFlow<()>,
    ) -> Result<Option<BatchResult>, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        check_lengths(accounts.len(), refs.len(), qtys.len(), at)?;
        let at = at.fixed();
        Ok(watched(accounts.len(), between, |watch| {
            self.price_rows(accounts, refs, qtys, at, currency, watch)
        }))
    }

    /// Prices the lines under this engine and under `new` at the same instant and returns only
    /// those whose answer differs: status (a product hidden or shown, a price hidden, no
    /// longer priced), unit price, line total, currency or whether it may be bought. Amounts
    /// are compared by value (`10.0` equals `10.00`).
    ///
    /// ```
    /// use tarif::{BatchAt, CompileOptions, Engine, Status};
    /// let old = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}, {"sku": "B"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2"}, {"sku": "B", "price": "3"}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let new = old.apply(r#"{"format": "tarif/1-changes",
    ///   "upsert": {"prices": [{"list": "l", "sku": "B", "price": "3.50"}]}}"#, &CompileOptions::default())
    ///   .unwrap().engine;
    /// let changed = old
    ///     .changed_lines(&new, &["C", "C", "C"], &["A", "B", "Z"], &[1.into(), 2.into(), 1.into()], BatchAt::Now, None)
    ///     .unwrap();
    /// assert_eq!(changed.rows, [1]);
    /// assert_eq!((changed.before.line_total[0].to_string(), changed.after.line_total[0].to_string()),
    ///            ("6.00".into(), "7.00".into()));
    /// ```
    pub fn changed_lines<A, R>(
        &self,
        new: &Engine,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
    ) -> Result<LineChanges, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        check_lengths(accounts.len(), refs.len(), qtys.len(), at)?;
        let at = at.fixed();
        let watch = Watch::default();
        let (before, after) = rayon::join(
            || self.price_rows(accounts, refs, qtys, at, currency, &watch),
            || new.price_rows(accounts, refs, qtys, at, currency, &watch),
        );
        let differs = |row: usize| -> bool {
            let status = (before.status.get(row), after.status.get(row));
            if status.0 != status.1 {
                return true;
            }
            if status.0 != Some(&Status::Ok) {
                return false;
            }
            let old_code = before
                .currency
                .get(row)
                .and_then(|&c| self.currencies().nth(usize::from(c)));
            let new_code = after
                .currency
                .get(row)
                .and_then(|&c| new.currencies().nth(usize::from(c)));
            before.unit_price.get(row) != after.unit_price.get(row)
                || before.line_total.get(row) != after.line_total.get(row)
                || before.buyable.get(row) != after.buyable.get(row)
                || old_code != new_code
        };
        let rows: Vec<usize> = (0..before.len()).filter(|&row| differs(row)).collect();
        Ok(LineChanges {
            before: before.select(&rows),
            after: after.select(&rows),
            rows,
        })
    }

    /// Pass 1: each distinct account worked out once, and each row's reference. A batch
    /// repeats accounts (thousands over millions of lines): numbering them costs one hash per
    /// row, where resolving one costs several probes. A reference that is the SKU of one
    /// product, the usual case, is found by one probe of the SKU map per row: numbering the
    /// references first built, per batch, a map as big as the catalog (a third of a 10M-row
    /// batch). The others are numbered and worked out once per distinct text. What a
    /// reference means does not depend on the account unless it is an alias; only which of
    /// its products the account may see does.
    pub(crate) fn resolve_distinct<'c, A, R>(
        &self,
        accounts: &'c [A],
        refs: &'c [R],
        currency: Option<&str>,
        watch: &Watch,
    ) -> Distinct<'c>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        let (account_of_row, distinct_accounts) = number_distinct(accounts, watch);
        let resolved: Vec<_> = distinct_accounts
            .iter()
            .map(|account| {
                let (id, def) = self.account(account).map_err(|e| e.status())?;
                let currency = self
                    .request_currency(def, currency)
                    .map_err(|e| e.status())?;
                Ok((id, currency))
            })
            .collect();
        let chains = (resolved.iter())
            .map(|account| {
                let def = account.map(|(id, _)| self.index.audiences.accounts.row(id));
                ShortChain::of(def.ok())
            })
            .collect();
        let mut ref_of_row = vec![RowRef::Other(u32::MAX); refs.len()];
        (ref_of_row.par_chunks_mut(CHUNK))
            .zip(refs.par_chunks(CHUNK))
            .for_each(|(ref_of_row, refs)| {
                if watch.stopped() {
                    return;
                }
                self.sole_by_sku_each(refs, |i, sole| {
                    if let (Some(reference), Some(product)) = (ref_of_row.get_mut(i), sole) {
                        *reference = RowRef::Sku(product);
                    }
                });
            });
        let other_rows: Vec<usize> = (ref_of_row.par_iter().enumerate())
            .filter(|(_, reference)| matches!(reference, RowRef::Other(_)))
            .map(|(row, _)| row)
            .collect();
        let other_texts: Vec<&str> = (other_rows.iter())
            .filter_map(|&row| refs.get(row))
            .map(AsRef::as_ref)
            .collect();
        let (number_of_other, distinct_others) = number_distinct(&other_texts, watch);
        for (&row, &number) in other_rows.iter().zip(&number_of_other) {
            if let Some(reference) = ref_of_row.get_mut(row) {
                *reference = RowRef::Other(number);
            }
        }
        let meanings = distinct_others
            .par_iter()
            .with_min_len(CHUNK)
            .map(|reference| match watch.stopped() {
                true => None,
                false => self.meaning(reference),
            })
            .collect();
        Distinct {
            account_of_row,
            account_names: distinct_accounts,
            ref_of_row,
            accounts: resolved,
            chains,
            meanings,
        }
    }

    /// Pass 2 over the rows of a batch whose distinct accounts and references are
    /// `distinct`: each row's job, in pass 3's order, and each row's status.
    pub(crate) fn jobs_of<R: AsRef<str> + Sync>(
        &self,
        distinct: &Distinct<'_>,
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        watch: &Watch,
    ) -> (Vec<Status>, Vec<Result<Job, Status>>) {
        let now = Instant::now();
        let instant = |row: usize| match at {
            BatchAt::Now => now,
            BatchAt::One(i) => i,
            BatchAt::PerRow(list) => list.get(row).copied().unwrap_or(now),
        };
        // Pass 2, in row order: each row's account, product and currency as dense ids, with
        // what pricing needs of the row carried along, so that pass 3 reads nothing else of it.
        let jobs: Vec<Result<Job, Status>> = (0..distinct.account_of_row.len())
            .into_par_iter()
            .with_min_len(CHUNK)
            .map(|row| {
                if watch.stopped() {
                    return Err(Status::InvalidBatch);
                }
                let (Some(&distinct_account), Some(&reference), Some(&qty), Ok(index)) = (
                    distinct.account_of_row.get(row),
                    distinct.ref_of_row.get(row),
                    qtys.get(row),
                    u32::try_from(row),
                ) else {
                    return Err(Status::InvalidBatch);
                };
                let (account, currency) = distinct
                    .accounts
                    .get(distinct_account as usize)
                    .copied()
                    .unwrap_or(Err(Status::InvalidBatch))?;
                let def = self.index.audiences.accounts.row(account);
                let at = instant(row);
                // The capabilities of the product the account sees are kept for pricing (a
                // profile showed them computed twice per row).
                let seen = |p: ProductId| {
                    let caps = self.capabilities(def, p, at);
                    caps.see.then_some((p, caps))
                };
                // The row's text is read only when its SKU's product alone does not settle it.
                let text = || refs.get(row).map(AsRef::as_ref);
                // What the reference means, then the first of it the account sees.
                let first_seen = |meaning: Option<&Meaning>, text: &str| match meaning {
                    Some(meaning) => meaning.first_seen(self, text, seen),
                    None => self.resolve_visible(def, text, at).and_then(seen),
                };
                let (product, caps) = match reference {
                    RowRef::Sku(product) => seen(product).or_else(|| {
                        text().and_then(|text| first_seen(self.meaning(text).as_ref(), text))
                    }),
                    RowRef::Other(number) => text().and_then(|text| {
                        let meaning = distinct.meanings.get(number as usize);
                        first_seen(meaning.and_then(Option::as_ref), text)
                    }),
                }
                .ok_or(Status::UnknownProduct)?;
                Ok(Job {
                    product,
                    row: index,
                    distinct_account,
                    account,
                    currency,
                    qty,
                    at,
                    caps,
                })
            })
            .collect();
        let status: Vec<Status> = jobs
            .par_iter()
            .with_min_len(CHUNK)
            .map(|job| job.err().unwrap_or(Status::Ok))
            .collect();
        if watch.stopped() {
            return (status, jobs);
        }
        // Pass 3 goes in product order: rows of one product follow each other, so its
        // entries, bitmap containers, catalog columns and rule-index slots are fetched from
        // memory once for all of them instead of once per row. The rows of a product keep
        // their order, so the order (and every result) is the same on any thread count.
        // Sorted where pass 2 left them, the rows that found no product last: moving the
        // found ones into a vector of their own was a sequential pass over every row (1.5 s
        // of a 7 s batch of 10M rows, timed).
        let products = self.index.catalog.skus.len();
        let jobs = stable_sort_by_key(jobs, products, |job| match job {
            Ok(job) => job.product.index(),
            Err(_) => products,
        });
        (status, jobs)
    }

    /// Prices rows whose columns have the same length, with a fixed instant or one per row.
    fn price_rows<A, R>(
        &self,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        watch: &Watch,
    ) -> BatchResult
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        let distinct = self.resolve_distinct(accounts, refs, currency, watch);
        let (status, jobs) = self.jobs_of(&distinct, refs, qtys, at, watch);
        if watch.stopped() {
            // Nothing of a stopped batch is kept: columns of millions of rows are not built
            // for it.
            return BatchResult::default();
        }
        let rows = status.len();
        let chains = &distinct.chains;
        let priced = price_jobs(
            &jobs,
            watch,
            |i| self.prefetch_ahead(&jobs, i, chains),
            |job| Ok((self.price_job(job, chains), job.currency)),
        );
        // The answers are written in row order, side by side, each row reading where its job
        // was priced: written in the jobs' (product) order, each row's five cells were cache
        // misses on one thread (0.4–0.7 s of a 10M-row batch).
        let place: Vec<AtomicU32> = (0..rows).map(|_| AtomicU32::new(u32::MAX)).collect();
        jobs.par_iter()
            .enumerate()
            .with_min_len(CHUNK)
            .for_each(|(i, job)| {
                if let (Ok(job), Ok(i)) = (job, u32::try_from(i)) {
                    if let Some(slot) = place.get(job.row as usize) {
                        slot.store(i, Ordering::Relaxed);
                    }
                }
            });
        let place: Vec<u32> = place.into_iter().map(AtomicU32::into_inner).collect();
        let mut out = BatchResult::unpriced(status);
        let shares: Vec<_> = out.cells(CHUNK).zip(place.chunks(CHUNK)).collect();
        shares.into_par_iter().for_each(|(mut cells, place)| {
            if watch.stopped() {
                return;
            }
            for (k, &i) in place.iter().enumerate() {
                if let Some(&Ok((answer, currency))) = priced.get(i as usize) {
                    cells.record(k, currency, answer);
                }
            }
        });
        out
    }

    /// [`Engine::quote_many`] with the columns of [`BatchDetail`]: the same statuses and
    /// amounts, plus for each row its product, the rule that set its price, its base and list
    /// prices and its cost, each equal to what [`Engine::quote`] of the row says. Slower than
    /// `quote_many` (it records the steps the plain batch skips).
    ///
    /// ```
    /// use tarif::{BatchAt, Engine};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A", "cost": "1.20"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2.50"}]}],
    ///   "accounts": [{"id": "C"}],
    ///   "contracts": [{"id": "k", "audience": {"accounts": ["C"]},
    ///     "rules": [{"id": "r", "step": "discount", "products": "all", "percent": "-10"}]}]}"#).unwrap();
    /// let (out, detail) = engine
    ///     .quote_many_detailed(&["C", "C"], &["A", "Z"], &[4.into(), 1.into()], BatchAt::Now, None)
    ///     .unwrap();
    /// assert_eq!(out.line_total[0].to_string(), "9.00");
    /// assert_eq!(detail.rule[0].map(|r| r.to_string()).as_deref(), Some("k/r"));
    /// assert_eq!(detail.list_price[0].map(|p| p.to_string()).as_deref(), Some("2.50"));
    /// assert_eq!(detail.cost[0].map(|c| c.to_string()).as_deref(), Some("1.20"));
    /// assert_eq!((detail.sku[1], detail.rule[1]), (None, None));
    /// ```
    pub fn quote_many_detailed<A, R>(
        &self,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
    ) -> Result<(BatchResult, BatchDetail<'_>), QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        self.quote_many_detailed_in_steps(accounts, refs, qtys, at, currency, |_| {
            ControlFlow::Continue(())
        })
        .map(|out| out.unwrap_or_default())
    }

    /// [`Engine::quote_many_detailed`] under the caller's control, calling `between` as
    /// [`Engine::quote_many_in_steps`] does.
    #[allow(clippy::type_complexity)]
    pub fn quote_many_detailed_in_steps<A, R>(
        &self,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        between: impl FnMut(usize) -> ControlFlow<()>,
    ) -> Result<Option<(BatchResult, BatchDetail<'_>)>, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        self.detailed_in_steps(
            accounts,
            refs,
            qtys,
            at,
            currency,
            Columns::BaseAndList,
            between,
        )
    }

    /// The detailed batch, with the `columns` asked for (list prices cost a second run of the
    /// procedure for rows that an account-level rule speaks to).
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub(crate) fn detailed_in_steps<A, R>(
        &self,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        columns: Columns,
        between: impl FnMut(usize) -> ControlFlow<()>,
    ) -> Result<Option<(BatchResult, BatchDetail<'_>)>, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        check_lengths(accounts.len(), refs.len(), qtys.len(), at)?;
        let at = at.fixed();
        Ok(watched(accounts.len(), between, |watch| {
            let (out, detail, _) = self
                .price_rows_in_product_order(accounts, refs, qtys, at, currency, columns, watch);
            (out, detail)
        }))
    }

    /// The detailed batch of some rows: their answers with their [`BatchDetail`], and the rows
    /// in the order they were priced (those that found a product in product order, then the
    /// others in row order): reading the answers in that order reads what is kept per
    /// product in order too.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn price_rows_in_product_order<A, R>(
        &self,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        columns: Columns,
        watch: &Watch,
    ) -> (BatchResult, BatchDetail<'_>, Vec<u32>)
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        let distinct = self.resolve_distinct(accounts, refs, currency, watch);
        let (status, jobs) = self.jobs_of(&distinct, refs, qtys, at, watch);
        if watch.stopped() {
            return Default::default();
        }
        let job_status = (jobs.iter())
            .map(|job| job.err().unwrap_or(Status::Ok))
            .collect();
        let (by_job, detail_by_job) =
            self.price_detailed(&jobs, &distinct.chains, job_status, columns, watch);
        let mut out = BatchResult::unpriced(status);
        let mut detail = BatchDetail::unpriced(accounts.len(), columns);
        for (i, job) in jobs.iter().enumerate() {
            if let Ok(job) = job {
                out.put(job.row as usize, &by_job, i);
                detail.put(job.row as usize, &detail_by_job, i);
            }
        }
        let mut order: Vec<u32> = jobs.iter().flatten().map(|job| job.row).collect();
        order.extend(
            (0..accounts.len())
                .filter(|&row| detail.product.get(row).is_some_and(Option::is_none))
                .filter_map(|row| u32::try_from(row).ok()),
        );
        (out, detail, order)
    }

    /// Prices `jobs` (whose batch's distinct accounts have `chains`) with their
    /// [`BatchDetail`], job `i`'s answer in row `i` of columns as long as `status`, which
    /// holds the statuses of the rows without a job. Each worker writes the answers of its
    /// share of the jobs in place, rather than collecting them to be copied into the columns
    /// in one sequential pass after (0.43 s of a 10M-row simulation's base run).
    pub(crate) fn price_detailed(
        &self,
        jobs: &[Result<Job, Status>],
        chains: &[ShortChain],
        status: Vec<Status>,
        columns: Columns,
        watch: &Watch,
    ) -> (BatchResult, BatchDetail<'_>) {
        let rows = status.len();
        let mut out = BatchResult::unpriced(status);
        let mut detail = BatchDetail::unpriced(rows, columns);
        let shares: Vec<_> = (out.cells(CHUNK).zip(detail.cells(CHUNK)))
            .zip(jobs.chunks(CHUNK))
            .enumerate()
            .collect();
        shares
            .into_par_iter()
            .for_each(|(share, ((mut cells, mut more), share_jobs))| {
                if watch.stopped() {
                    return;
                }
                let first = share * CHUNK;
                for (k, job) in share_jobs.iter().enumerate() {
                    self.prefetch_ahead(jobs, first + k, chains);
                    let Ok(job) = job else { continue };
                    more.resolved(k, self, job.product);
                    match self.price_job_detailed(job, chains, columns) {
                        Ok((answer, row)) => {
                            cells.record(k, job.currency, Ok(answer));
                            more.priced(k, row);
                        }
                        Err(failed) => cells.record(k, job.currency, Err(failed)),
                    }
                }
                watch.priced(share_jobs.len());
            });
        (out, detail)
    }

    /// [`Engine::price_job`] with the rule that set the price (the last step of the quote) and
    /// the list price, when `columns` hold them.
    #[allow(clippy::type_complexity)]
    fn price_job_detailed<'e>(
        &'e self,
        job: &Job,
        chains: &[ShortChain],
        columns: Columns,
    ) -> Result<((Decimal, Decimal, bool), RowDetail<'e>), Status> {
        let ctx = self.admit_job(job, chains)?;
        let mut matched = Matched::new();
        self.matched(&ctx, &mut matched);
        let mut last = LastApplied::default();
        let priced = self
            .run_matched(&ctx, &matched, &mut last)
            .map_err(|f| self.fail_status(f))?;
        let (unit, line, base) = self
            .finish(&priced, ctx.qty)
            .map_err(|f| self.fail_status(f))?;
        let with_rule = columns != Columns::Sums { rules: false };
        let detail = RowDetail {
            rule: last.0.filter(|_| with_rule).map(|c| self.cand_id(&c)),
            base,
            list: (columns == Columns::BaseAndList)
                .then(|| self.list_price_after(&ctx, &matched, unit))
                .flatten(),
        };
        Ok(((unit, line, job.caps.buy), detail))
    }

    /// A resolved row's pricing context, after `admit`'s checks (with the capabilities found
    /// while resolving), its account's chain from `chains` when it is held there.
    fn admit_job<'e>(&'e self, job: &Job, chains: &'e [ShortChain]) -> Result<Ctx<'e>, Status> {
        let account = self.index.audiences.accounts.row(job.account);
        let short = chains.get(job.distinct_account as usize);
        let ctx = Ctx {
            account,
            chain: short
                .and_then(ShortChain::chain)
                .unwrap_or_else(|| Chain::of(account)),
            product: job.product,
            qty: job.qty,
            at: job.at,
            currency: job.currency,
            everyone_only: false,
            order: None,
        };
        self.check_quantity(ctx.product, ctx.qty)
            .map_err(|e| e.status())?;
        if !job.caps.price {
            return Err(Status::PriceHidden);
        }
        Ok(ctx)
    }

    /// One resolved row of a batch: the checks after resolution, then the quote's unit price
    /// and line total, nothing else.
    fn price_job(
        &self,
        job: &Job,
        chains: &[ShortChain],
    ) -> Result<(Decimal, Decimal, bool), Status> {
        let ctx = self.admit_job(job, chains)?;
        let buyable = job.caps.buy;
        let priced = self
            .run(&ctx, &mut Silent)
            .map_err(|f| self.fail_status(f))?;
        let (unit, line, _) = self
            .finish(&priced, ctx.qty)
            .map_err(|f| self.fail_status(f))?;
        Ok((unit, line, buyable))
    }

    fn fail_status(&self, fail: super::quote::Fail) -> Status {
        match fail {
            super::quote::Fail::NoPrice => Status::NoPrice,
            super::quote::Fail::Overflow => Status::Overflow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_radix_sort_is_a_stable_sort_on_any_thread_count() {
        // Keys over several buckets, some past the last key (they sort last, in order), on
        // inputs of one part and of several.
        let keys = 5_000;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let items: Vec<(usize, usize)> = (0..3 * CHUNK + 17)
            .map(|at| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                ((state >> 33) as usize % (keys + 300), at)
            })
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|&(key, _)| key.min(keys));
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for n in [0, 1, 100, items.len()] {
                let input = items[..n].to_vec();
                let sorted = pool.install(|| stable_sort_by_key(input, keys, |&(key, _)| key));
                let mut want = items[..n].to_vec();
                want.sort_by_key(|&(key, _)| key.min(keys));
                assert_eq!(sorted, want, "{threads} threads, {n} items");
            }
        }
        assert_eq!(stable_sort_by_key(items, keys, |&(key, _)| key), expected);
    }

    #[test]
    fn strings_are_numbered_in_order_of_first_appearance_across_parts() {
        // Three parts on three threads: strings first seen in each part, and strings of an
        // earlier part seen again later.
        let column: Vec<String> = (0..20_000u64)
            .map(|row| format!("S{}", (row * 7_919) % (row / 5 + 1)))
            .collect();
        let mut expected = AHashMap::new();
        let mut expected_texts: Vec<&str> = Vec::new();
        let expected_rows: Vec<u32> = column
            .iter()
            .map(|text| {
                *expected.entry(text.as_str()).or_insert_with(|| {
                    expected_texts.push(text);
                    expected_texts.len() as u32 - 1
                })
            })
            .collect();
        for threads in [1, 3] {
            let numbered = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map(|pool| pool.install(|| number_distinct(&column, &Watch::default())));
            assert_eq!(
                numbered.ok(),
                Some((expected_rows.clone(), expected_texts.clone()))
            );
        }
    }

    #[test]
    fn pass_2_puts_the_rows_that_found_a_product_first_in_product_order_then_the_others() {
        let engine = shared_references_engine();
        let refs = [
            "A-1",
            "nope",
            "H-1",
            "A-1",
            "3401234567890",
            "V-1",
            "H-1",
            "nope",
        ];
        let accounts = ["PRO"; 8];
        let qtys = [Decimal::ONE; 8];
        let watch = Watch::default();
        let at = BatchAt::One(Instant::from_unix_seconds(1_800_000_000));
        let distinct = engine.resolve_distinct(&accounts, &refs, None, &watch);
        let (status, jobs) = engine.jobs_of(&distinct, &refs, &qtys, at, &watch);
        // H-1 (and the GTIN, which PRO finds as H-1), V-1, A-1 in document order, ties by row.
        let found: Vec<u32> = (jobs.iter().map_while(|job| job.as_ref().ok()))
            .map(|job| job.row)
            .collect();
        assert_eq!(found, [2, 4, 6, 5, 0, 3]);
        assert_eq!(jobs.len(), 8);
        let unfound: Vec<usize> = (0..8).filter(|&row| status[row] != Status::Ok).collect();
        assert_eq!(unfound, [1, 7]);
        assert_eq!(status[1], Status::UnknownProduct);
    }

    #[test]
    fn a_short_chain_is_the_accounts_own_and_a_long_one_is_not_held() {
        let engine = Engine::from_json(
            &serde_json::json!({
                "format": "tarif/1", "currencies": [{"code": "EUR"}],
                "settings": {"default_price_lists": ["public"]},
                "products": [{"sku": "A"}],
                "price_lists": [
                    {"id": "public", "prices": [{"sku": "A", "price": "9"}]},
                    {"id": "own", "prices": [{"sku": "A", "price": "8"}]},
                    {"id": "group", "prices": [{"sku": "A", "price": "7"}]}],
                "segments": [{"id": "s1"}, {"id": "s2"}, {"id": "s3"}],
                "accounts": [
                    {"id": "SHORT", "segments": ["s1"], "price_lists": ["own"]},
                    {"id": "GROUP", "price_lists": ["group"]},
                    {"id": "LONG", "parent": "GROUP", "segments": ["s1", "s2", "s3"],
                     "price_lists": ["own"]}]
            })
            .to_string(),
        )
        .unwrap();
        let mut kinds = Vec::new();
        for account in engine.index.audiences.accounts.iter() {
            let short = ShortChain::of(Some(account));
            match short.chain() {
                Some(chain) => {
                    assert_eq!(chain.lists, &account.lists[..], "{}", account.id);
                    assert_eq!(chain.audiences, &account.chain[..], "{}", account.id);
                    kinds.push((&*account.id, "short"));
                }
                None => {
                    assert!(account.lists.len() > 2 || account.chain.len() > 4);
                    kinds.push((&*account.id, "long"));
                }
            }
        }
        assert_eq!(
            kinds,
            [("SHORT", "short"), ("GROUP", "short"), ("LONG", "long")]
        );
        assert!(ShortChain::of(None).chain().is_none());
        // Every row prices as a quote of its own, whichever way its chain was read.
        let accounts = ["SHORT", "GROUP", "LONG"];
        let qtys = [Decimal::ONE; 3];
        let batch = engine
            .quote_many(&accounts, &["A"; 3], &qtys, BatchAt::Now, None)
            .unwrap();
        for (i, account) in accounts.iter().enumerate() {
            let quote = engine
                .quote(&crate::QuoteRequest::new(account, "A", Decimal::ONE))
                .unwrap();
            assert_eq!(batch.unit_price[i], quote.unit_price, "{account}");
        }
        assert_eq!(
            batch
                .unit_price
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
            ["8.00", "7.00", "8.00"]
        );
    }

    fn shared_references_engine() -> Engine {
        Engine::from_json(
            &serde_json::json!({
                "format": "tarif/1", "currencies": [{"code": "EUR"}],
                "settings": {"default_price_lists": ["public"]},
                "categories": [{"id": "reserved"}],
                "products": [
                    {"sku": "H-1", "ean": "3401234567890", "mpn": "MPN-X", "categories": ["reserved"]},
                    {"sku": "V-1", "ean": "3401234567890", "mpn": "MPN-X"},
                    {"sku": "A-1"},
                    {"sku": "H-2", "categories": ["reserved"]},
                    {"sku": "M-2", "mpn": "H-2"},
                    {"sku": "Dup"},
                    {"sku": "DUP"}
                ],
                "price_lists": [{"id": "public", "currency": "EUR", "prices": [
                    {"sku": "H-1", "price": "99.00"}, {"sku": "V-1", "price": "10.00"},
                    {"sku": "A-1", "price": "1.00"}, {"sku": "H-2", "price": "50.00"},
                    {"sku": "M-2", "price": "20.00"}, {"sku": "Dup", "price": "5.00"},
                    {"sku": "DUP", "price": "6.00"}]}],
                "accounts": [{"id": "PUBLIC", "aliases": {"mpn-x": "A-1"}},
                             {"id": "PRO", "aliases": {"m-2": "H-2"}}],
                "contracts": [
                    {"id": "reserved", "audience": "all", "visibility": [
                        {"effect": "deny", "products": {"category": "reserved"}}]},
                    {"id": "pro", "audience": {"accounts": ["PRO"]}, "visibility": [
                        {"effect": "allow", "products": {"category": "reserved"}}]}]
            })
            .to_string(),
        )
        .unwrap()
    }

    /// Among them: a SKU hidden from the account that is the MPN of a product it sees, SKUs
    /// that differ in case alone, and a SKU that is one account's alias.
    const SHARED_ROWS: [(&str, &str); 14] = [
        ("PUBLIC", "3401234567890"),
        ("PRO", "3401234567890"),
        ("PUBLIC", "mpn-x"),
        ("PRO", "mpn-x"),
        ("PRO", "H-1"),
        ("PUBLIC", "H-1"),
        ("NOBODY", "H-1"),
        ("PUBLIC", " v-1 "),
        ("PRO", "3401234567890"),
        ("PUBLIC", "H-2"),
        ("PRO", "H-2"),
        ("PUBLIC", "dup"),
        ("PRO", "M-2"),
        ("PUBLIC", "M-2"),
    ];

    /// Shared references and aliases resolve per account in a batch as in a quote: the batch
    /// works out what each distinct reference means once, and which product each account sees.
    #[test]
    fn shared_references_and_aliases_resolve_per_account() {
        let engine = shared_references_engine();
        let rows = SHARED_ROWS;
        let at = Instant::from_unix_seconds(1_800_000_000);
        let accounts: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let refs: Vec<&str> = rows.iter().map(|r| r.1).collect();
        let qtys = vec![Decimal::ONE; rows.len()];
        let batch = engine
            .quote_many(&accounts, &refs, &qtys, BatchAt::One(at), None)
            .unwrap();
        let mut units = Vec::new();
        for (i, (account, reference)) in rows.iter().enumerate() {
            let mut request = crate::QuoteRequest::new(account, reference, Decimal::ONE);
            request.at = Some(at);
            match engine.quote(&request) {
                Ok(quote) => {
                    assert_eq!(batch.status[i], Status::Ok, "row {i}");
                    assert_eq!(batch.unit_price[i], quote.unit_price, "row {i}");
                    units.push(quote.unit_price.to_string());
                }
                Err(e) => {
                    assert_eq!(batch.status[i], e.status(), "row {i}");
                    units.push(e.code().to_string());
                }
            }
        }
        assert_eq!(
            units,
            [
                "10.00",
                "99.00",
                "1.00",
                "99.00",
                "99.00",
                "UNKNOWN_PRODUCT",
                "UNKNOWN_ACCOUNT",
                "10.00",
                "99.00",
                "20.00",
                "50.00",
                "5.00",
                "50.00",
                "20.00"
            ]
        );
    }

    /// A watched batch (priced on a thread of its own) answers every row as a batch of that
    /// row alone: a value met again in other rows (whose GTIN and MPN meanings, or alias, were
    /// worked out once) answers as it does on its own.
    #[test]
    fn a_watched_batch_answers_every_row_as_a_batch_of_one() {
        let engine = shared_references_engine();
        let at = Instant::from_unix_seconds(1_800_000_000);
        let n = 2 * BATCH_STEP + SHARED_ROWS.len();
        // A stride prime to the rows' count: the rows of each step meet the values in another
        // order.
        let rows: Vec<(&str, &str)> = (0..n)
            .map(|i| SHARED_ROWS[(i * 5) % SHARED_ROWS.len()])
            .collect();
        let accounts: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let refs: Vec<&str> = rows.iter().map(|r| r.1).collect();
        let qtys = vec![Decimal::ONE; n];
        let mut seen = Vec::new();
        let batch = engine
            .quote_many_in_steps(&accounts, &refs, &qtys, BatchAt::One(at), None, |done| {
                seen.push(done);
                ControlFlow::Continue(())
            })
            .unwrap()
            .unwrap();
        assert_eq!(seen.last(), Some(&n));
        assert!(seen.iter().all(|&done| done <= n));
        let stopped = engine
            .quote_many_detailed_in_steps(&accounts, &refs, &qtys, BatchAt::One(at), None, |_| {
                ControlFlow::Break(())
            })
            .unwrap();
        assert!(stopped.is_none());
        let one_by_one: Vec<(Status, Decimal)> = SHARED_ROWS
            .iter()
            .map(|(account, reference)| {
                let out = engine
                    .quote_many(
                        &[account],
                        &[reference],
                        &[Decimal::ONE],
                        BatchAt::One(at),
                        None,
                    )
                    .unwrap();
                (out.status[0], out.unit_price[0])
            })
            .collect();
        for (i, row) in rows.iter().enumerate() {
            let expected = SHARED_ROWS.iter().position(|r| r == row).unwrap();
            assert_eq!(
                (batch.status[i], batch.unit_price[i]),
                one_by_one[expected],
                "row {i}"
            );
        }
    }
}
