//! `visibility`: what an account may do with a product (docs/spec.md §7).

use super::Engine;
use crate::error::QueryError;
use crate::index::{AccountDef, Id, ProductId};
use crate::instant::Instant;

/// What an account may do with a product. Each capability implies the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// The product exists for the account.
    pub see: bool,
    /// The account may see its price.
    pub price: bool,
    /// The account may order it.
    pub buy: bool,
}

impl Capabilities {
    /// Nothing allowed: the answer for a product the account may not see, and for a reference
    /// that means no product at all (the two are indistinguishable by design).
    ///
    /// ```
    /// assert!(!tarif::Capabilities::NONE.see);
    /// ```
    pub const NONE: Capabilities = Capabilities {
        see: false,
        price: false,
        buy: false,
    };
}

impl Engine {
    /// The capabilities of an account on a product (any reference `lookup` accepts).
    ///
    /// A hidden product and an unknown reference both answer [`Capabilities::NONE`]: a
    /// product the account may not see does not exist for it. The reference resolves among
    /// the products the account may see, as `lookup` does.
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1",
    ///   "settings": {"default_visibility": "closed"}, "products": [{"sku": "A"}, {"sku": "B"}],
    ///   "accounts": [{"id": "C"}],
    ///   "contracts": [{"id": "k", "audience": {"accounts": ["C"]},
    ///     "visibility": [{"effect": "allow", "products": {"sku": "A"}, "capabilities": ["price"]}]}]}"#).unwrap();
    /// let a = engine.visibility("C", "A", None).unwrap();
    /// assert!(a.see && a.price && !a.buy);
    /// assert!(!engine.visibility("C", "B", None).unwrap().see);
    /// ```
    pub fn visibility(
        &self,
        account: &str,
        product: &str,
        at: Option<Instant>,
    ) -> Result<Capabilities, QueryError> {
        let (_, def) = self.account(account)?;
        let at = at.unwrap_or_else(Instant::now);
        // A product the account may not see does not exist for it: an unknown reference and a
        // hidden product give the same answer, so the answer never reveals reserved products.
        Ok(self
            .resolve_visible(def, product, at)
            .map_or(Capabilities::NONE, |p| self.capabilities(def, p, at)))
    }

    /// The decision for a resolved product: per capability, the first level of the chain that
    /// decides it, else the default; then the implications.
    #[inline]
    pub(crate) fn capabilities(
        &self,
        account: &AccountDef,
        product: ProductId,
        at: Instant,
    ) -> Capabilities {
        let mut caps = [None::<bool>; 3];
        let own = usize::from(account.vis_own);
        let flat = account
            .vis_tail
            .and_then(|tail| self.index.visibility.tails.get(tail as usize));
        let levels = match flat {
            Some(_) => account.vis_chain.get(..own).unwrap_or(&[]),
            None => &account.vis_chain[..],
        };
        for &level in levels {
            let Some(level) = self.index.visibility.levels.get(level as usize) else {
                continue;
            };
            let Some((_, decisions)) = level.at(at) else {
                continue;
            };
            for (slot, decision) in caps.iter_mut().zip(decisions.iter()) {
                if slot.is_none() && decision.decided.contains(product.raw()) {
                    *slot = Some(decision.allowed.contains(product.raw()));
                }
            }
            if caps.iter().all(Option::is_some) {
                break;
            }
        }
        if let Some(tail) = flat {
            let byte = tail
                .at(at)
                .and_then(|bytes| bytes.get(product.index()))
                .copied()
                .unwrap_or(0);
            for (cap, slot) in caps.iter_mut().enumerate() {
                let decided = 1u8 << (2 * cap);
                if slot.is_none() && byte & decided != 0 {
                    *slot = Some(byte & (decided << 1) != 0);
                }
            }
        }
        let default = self.index.settings.default_open;
        let [see, price, buy] = caps.map(|c| c.unwrap_or(default));
        let price = price && see;
        Capabilities {
            see,
            price,
            buy: buy && price,
        }
    }
}
