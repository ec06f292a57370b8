//! Orders (docs/spec.md §12.1), the plain way: every line quoted on its own at the order's
//! instant and currency, a line the account may not buy refused, the line totals added up.

use rust_decimal::Decimal;

use crate::{RefQuote, Reference, OVERFLOW, UNKNOWN_ACCOUNT};
use tarif::Instant;

const NOT_BUYABLE: &str = "NOT_BUYABLE";

/// A priced order: one outcome per line, and the sum of the lines that priced.
#[derive(Debug, Clone, PartialEq)]
pub struct RefOrder {
    /// Currency code of every amount.
    pub currency: String,
    /// One outcome per line, in order.
    pub lines: Vec<Result<RefQuote, &'static str>>,
    /// Sum of the line totals of the lines that priced.
    pub subtotal: Decimal,
}

impl Reference {
    /// Prices the lines (reference, quantity) of an order for an account.
    pub fn price_order(
        &self,
        account: &str,
        lines: &[(String, Decimal)],
        at: Instant,
        currency: Option<&str>,
    ) -> Result<RefOrder, &'static str> {
        let chain = self.chain(account).ok_or(UNKNOWN_ACCOUNT)?;
        let currency = self.request_currency(&chain, currency)?;
        let lines: Vec<Result<RefQuote, &'static str>> = lines
            .iter()
            .map(|(reference, qty)| {
                let quote = self.quote(account, reference, *qty, at, Some(&currency))?;
                if quote.buyable {
                    Ok(quote)
                } else {
                    Err(NOT_BUYABLE)
                }
            })
            .collect();
        let mut subtotal = Decimal::ZERO;
        for quote in lines.iter().flatten() {
            subtotal = subtotal.checked_add(quote.line_total).ok_or(OVERFLOW)?;
        }
        Ok(RefOrder {
            currency,
            lines,
            subtotal,
        })
    }
}
