//! `quote_many`: columns in, columns out, in parallel; identical to quoting row by row.

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::quote::{Ctx, Silent};
use super::{AccountId, CurrencyId, Engine, ProductId};
use crate::error::{QueryError, Status};
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

/// A priced row: status, unit price, line total, currency.
type Priced = (Status, Decimal, Decimal, u16);

/// A row that could not be priced for a reason the columns themselves hold.
const FAILED: Priced = (Status::InvalidBatch, Decimal::ZERO, Decimal::ZERO, 0);

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
        // Pass 1, in row order: each row's account, product and currency as dense ids. The
        // string look-ups are random accesses whatever the order.
        let resolved: Vec<Result<(AccountId, ProductId, CurrencyId), Status>> = (0..rows)
            .into_par_iter()
            .with_min_len(CHUNK)
            .map(|row| {
                let (Some(account), Some(reference)) = (accounts.get(row), refs.get(row)) else {
                    return Err(Status::InvalidBatch);
                };
                self.resolve_ids(account.as_ref(), reference.as_ref(), currency)
                    .map(|r| (r.id, r.product, r.currency))
                    .map_err(|e| e.status())
            })
            .collect();
        // Pass 2, in product order: rows of one product follow each other, so its entries,
        // bitmap containers, catalog columns and rule-index slots are fetched from memory once
        // for all of them instead of once per row. The row index breaks ties, so the order
        // (and every result) is the same on any thread count.
        let mut order: Vec<(ProductId, u32)> = resolved
            .iter()
            .enumerate()
            .filter_map(|(row, r)| {
                let row = u32::try_from(row).ok()?;
                r.as_ref().ok().map(|&(_, product, _)| (product, row))
            })
            .collect();
        order.par_sort_unstable();
        let priced: Vec<Priced> = order
            .par_iter()
            .with_min_len(CHUNK)
            .map(|&(_, row)| {
                let row = row as usize;
                let (Some(Ok((account, product, currency))), Some(&qty), Some(reference)) =
                    (resolved.get(row), qtys.get(row), refs.get(row))
                else {
                    return FAILED;
                };
                let Some(def) = self.audiences.accounts.get(*account as usize) else {
                    return FAILED;
                };
                let ctx = Ctx {
                    account: def,
                    product: *product,
                    qty,
                    at: instant(row),
                    currency: *currency,
                    everyone_only: false,
                };
                match self.price_resolved(&ctx, reference.as_ref()) {
                    Ok((unit, line)) => (Status::Ok, unit, line, *currency),
                    Err(status) => (status, Decimal::ZERO, Decimal::ZERO, 0),
                }
            })
            .collect();
        let mut position = vec![u32::MAX; rows];
        for (k, &(_, row)) in order.iter().enumerate() {
            if let (Some(slot), Ok(k)) = (position.get_mut(row as usize), u32::try_from(k)) {
                *slot = k;
            }
        }
        let mut out = BatchResult {
            status: Vec::with_capacity(rows),
            unit_price: Vec::with_capacity(rows),
            line_total: Vec::with_capacity(rows),
            currency: Vec::with_capacity(rows),
        };
        for (row, resolution) in resolved.iter().enumerate() {
            let (status, unit, line, cur) = match resolution {
                Err(status) => (*status, Decimal::ZERO, Decimal::ZERO, 0),
                Ok(_) => position
                    .get(row)
                    .and_then(|&k| priced.get(k as usize))
                    .copied()
                    .unwrap_or(FAILED),
            };
            out.status.push(status);
            out.unit_price.push(unit);
            out.line_total.push(line);
            out.currency.push(cur);
        }
        Ok(out)
    }

    /// One resolved row of a batch: the checks after resolution, then the quote's unit price
    /// and line total, nothing else.
    fn price_resolved(&self, ctx: &Ctx<'_>, reference: &str) -> Result<(Decimal, Decimal), Status> {
        self.admit(ctx, reference).map_err(|e| e.status())?;
        let priced = self
            .run(ctx, &mut Silent)
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
