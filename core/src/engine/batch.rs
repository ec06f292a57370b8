//! `quote_many`: columns in, columns out, in parallel; identical to quoting row by row.

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::quote::{Ctx, Silent};
use super::Engine;
use crate::error::{QueryError, Status};
use crate::index::{AccountId, CurrencyId, ProductId};
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
}

/// Rows per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 4096;

/// A resolved row, with everything pricing reads of it.
#[derive(Debug, Clone, Copy)]
struct Job {
    product: ProductId,
    row: u32,
    account: AccountId,
    currency: CurrencyId,
    qty: Decimal,
    at: Instant,
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
        let rows = accounts.len();
        let per_row = match at {
            BatchAt::PerRow(list) => Some(list),
            _ => None,
        };
        if refs.len() != rows || qtys.len() != rows || per_row.is_some_and(|l| l.len() != rows) {
            return Err(QueryError::InvalidBatch(format!(
                "columns differ in length: {rows} accounts, {} refs, {} quantities{}",
                refs.len(),
                qtys.len(),
                per_row
                    .map(|l| format!(", {} instants", l.len()))
                    .unwrap_or_default()
            )));
        }
        let now = Instant::now();
        let instant = |row: usize| match at {
            BatchAt::Now => now,
            BatchAt::One(i) => i,
            BatchAt::PerRow(list) => list.get(row).copied().unwrap_or(now),
        };
        // Pass 1, in row order: each row's account, product and currency as dense ids (the
        // string look-ups are random accesses whatever the order), with what pricing needs of
        // the row carried along, so that pass 2 reads nothing else of it.
        let resolved: Vec<Result<Job, Status>> = (0..rows)
            .into_par_iter()
            .with_min_len(CHUNK)
            .map(|row| {
                let (Some(account), Some(reference), Some(&qty), Ok(index)) = (
                    accounts.get(row),
                    refs.get(row),
                    qtys.get(row),
                    u32::try_from(row),
                ) else {
                    return Err(Status::InvalidBatch);
                };
                self.resolve_ids(
                    account.as_ref(),
                    reference.as_ref(),
                    currency,
                    Some(instant(row)),
                )
                .map(|r| Job {
                    product: r.product,
                    row: index,
                    account: r.id,
                    currency: r.currency,
                    qty,
                    at: instant(row),
                })
                .map_err(|e| e.status())
            })
            .collect();
        let mut out = BatchResult {
            status: vec![Status::Ok; rows],
            unit_price: vec![Decimal::ZERO; rows],
            line_total: vec![Decimal::ZERO; rows],
            currency: vec![0; rows],
        };
        let mut jobs: Vec<Job> = Vec::with_capacity(rows);
        for (result, status) in resolved.into_iter().zip(out.status.iter_mut()) {
            match result {
                Ok(job) => jobs.push(job),
                Err(failed) => *status = failed,
            }
        }
        // Pass 2, in product order: rows of one product follow each other, so its entries,
        // bitmap containers, catalog columns and rule-index slots are fetched from memory once
        // for all of them instead of once per row. The row index breaks ties, so the order
        // (and every result) is the same on any thread count.
        jobs.par_sort_unstable_by_key(|job| (job.product, job.row));
        let priced: Vec<Result<(Decimal, Decimal), Status>> = jobs
            .par_iter()
            .with_min_len(CHUNK)
            .map(|job| self.price_job(job))
            .collect();
        for (job, result) in jobs.iter().zip(priced) {
            let row = job.row as usize;
            match result {
                Ok((unit, line)) => {
                    if let (Some(u), Some(l), Some(c)) = (
                        out.unit_price.get_mut(row),
                        out.line_total.get_mut(row),
                        out.currency.get_mut(row),
                    ) {
                        (*u, *l, *c) = (unit, line, job.currency.raw());
                    }
                }
                Err(failed) => {
                    if let Some(s) = out.status.get_mut(row) {
                        *s = failed;
                    }
                }
            }
        }
        Ok(out)
    }

    /// One resolved row of a batch: the checks after resolution, then the quote's unit price
    /// and line total, nothing else.
    fn price_job(&self, job: &Job) -> Result<(Decimal, Decimal), Status> {
        let account = self.index.audiences.accounts.row(job.account);
        let ctx = Ctx {
            account,
            product: job.product,
            qty: job.qty,
            at: job.at,
            currency: job.currency,
            everyone_only: false,
        };
        // The batch keeps only the status of an error, so the reference text is not needed.
        self.admit(&ctx, "").map_err(|e| e.status())?;
        let priced = self
            .run(&ctx, &mut Silent)
            .map_err(|f| self.fail_status(f))?;
        let (unit, line, _) = self
            .finish(&priced, ctx.qty)
            .map_err(|f| self.fail_status(f))?;
        Ok((unit, line))
    }

    fn fail_status(&self, fail: super::quote::Fail) -> Status {
        match fail {
            super::quote::Fail::NoPrice => Status::NoPrice,
            super::quote::Fail::Overflow => Status::Overflow,
        }
    }
}
