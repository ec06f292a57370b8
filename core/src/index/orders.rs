//! The contracts' order conditions (docs/spec.md §12.3): a plain list, read only when an order
//! is priced.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::compact;
use super::ids::{AudKey, CurrencyId};
use crate::instant::Interval;
use crate::model::Leftover;

/// One order condition of a contract, its values checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OrderCondDef {
    /// `contract-id/id`.
    pub id: Box<str>,
    /// Audience keys of its contract.
    pub audience: SmallVec<[AudKey; 2]>,
    #[serde(with = "compact")]
    pub validity: Interval,
    pub priority: i64,
    pub currency: CurrencyId,
    pub action: OrderAction,
}

/// What a condition does, per kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum OrderAction {
    Discount {
        #[serde(with = "compact")]
        min_subtotal: Decimal,
        /// `true`: `value` is a percentage of the subtotal; else an amount.
        percent: bool,
        #[serde(with = "compact")]
        value: Decimal,
        leftover: Leftover,
    },
    Minimum {
        #[serde(with = "compact")]
        min_subtotal: Decimal,
        #[serde(with = "compact")]
        surcharge: Option<Decimal>,
    },
    Shipping {
        #[serde(with = "compact")]
        charge: Decimal,
        #[serde(with = "compact")]
        free_from: Option<Decimal>,
    },
}
