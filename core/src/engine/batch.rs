//! `quote_many`: columns in, columns out, in parallel; identical to quoting row by row.

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::quote::{QuoteRequest, Silent};
use super::Engine;
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
        let priced: Vec<(Status, Decimal, Decimal, u16)> = (0..rows)
            .into_par_iter()
            .with_min_len(CHUNK)
            .map(|row| {
                let (Some(account), Some(product), Some(&qty)) =
                    (accounts.get(row), refs.get(row), qtys.get(row))
                else {
                    return (Status::InvalidBatch, Decimal::ZERO, Decimal::ZERO, 0);
                };
                let request = QuoteRequest {
                    account: account.as_ref(),
                    product: product.as_ref(),
                    qty,
                    at: Some(instant(row)),
                    currency,
                };
                match self.price_row(&request) {
                    Ok((unit, line, cur)) => (Status::Ok, unit, line, cur),
                    Err(status) => (status, Decimal::ZERO, Decimal::ZERO, 0),
                }
            })
            .collect();
        let mut out = BatchResult {
            status: Vec::with_capacity(rows),
            unit_price: Vec::with_capacity(rows),
            line_total: Vec::with_capacity(rows),
            currency: Vec::with_capacity(rows),
        };
        for (status, unit, line, cur) in priced {
            out.status.push(status);
            out.unit_price.push(unit);
            out.line_total.push(line);
            out.currency.push(cur);
        }
        Ok(out)
    }

    /// One row of a batch: the quote's unit price, line total and currency, nothing else.
    pub(crate) fn price_row(
        &self,
        request: &QuoteRequest<'_>,
    ) -> Result<(Decimal, Decimal, u16), Status> {
        let (ctx, _) = self.prepare(request).map_err(|e| e.status())?;
        let priced = self
            .run(&ctx, &mut Silent)
            .map_err(|f| self.fail_status(f))?;
        let (unit, line, _) = self
            .finish(&priced, ctx.qty)
            .map_err(|f| self.fail_status(f))?;
        Ok((unit, line, ctx.currency))
    }

    fn fail_status(&self, fail: super::quote::Fail) -> Status {
        match fail {
            super::quote::Fail::NoPrice => Status::NoPrice,
            super::quote::Fail::Overflow => Status::Overflow,
        }
    }
}
