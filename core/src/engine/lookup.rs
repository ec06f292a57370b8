//! `lookup`: which product a reference means for an account (docs/spec.md §8).

use super::Engine;
use crate::error::QueryError;
use crate::index::{fold, gtin, AccountDef, ProductId};
use crate::instant::Instant;

impl Engine {
    /// The SKU a reference means for the account: its aliases (and its ancestors'), then SKU,
    /// EAN/GTIN, MPN and other refs. A product the account may not see is unknown.
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1",
    ///   "products": [{"sku": "DR-1", "ean": "3401234567890", "mpn": "BSH-06"}],
    ///   "accounts": [{"id": "P", "aliases": {"my-drill": "DR-1"}}, {"id": "C", "parent": "P"}]}"#).unwrap();
    /// assert_eq!(engine.lookup("C", " My-Drill ").unwrap(), "DR-1");
    /// assert_eq!(engine.lookup("C", "03401234567890").unwrap(), "DR-1");
    /// assert_eq!(engine.lookup("C", "bsh-06").unwrap(), "DR-1");
    /// assert_eq!(engine.lookup("C", "nope").unwrap_err().code(), "UNKNOWN_PRODUCT");
    /// ```
    pub fn lookup(&self, account: &str, reference: &str) -> Result<&str, QueryError> {
        self.lookup_at(account, reference, Instant::now())
    }

    /// [`Engine::lookup`] with visibility at a given instant.
    pub fn lookup_at(
        &self,
        account: &str,
        reference: &str,
        at: Instant,
    ) -> Result<&str, QueryError> {
        let (_, def) = self.account(account)?;
        self.resolve_ref(def, reference)
            .filter(|&p| self.capabilities(def, p, at).see)
            .map(|p| self.sku(p))
            .ok_or_else(|| QueryError::UnknownProduct(reference.to_string()))
    }

    /// Resolves a reference without looking at visibility.
    pub(crate) fn resolve_ref(&self, account: &AccountDef, reference: &str) -> Option<ProductId> {
        let refs = &self.index.refs;
        // Most documents have no aliases: then the reference need not be hashed for them.
        let alias_of = |key: &str| {
            if refs.aliases.is_empty() {
                return None;
            }
            refs.aliases.get(key).and_then(|owners| {
                account
                    .lineage
                    .iter()
                    .find_map(|a| owners.iter().find(|(owner, _)| owner == a).map(|&(_, p)| p))
            })
        };
        // The common case, an exact SKU already in folded form, needs no allocation.
        if let Some(&p) = refs.exact_sku.get(reference) {
            if is_folded(reference) {
                return Some(alias_of(reference).unwrap_or(p));
            }
        }
        let folded = fold(reference);
        if let Some(p) = alias_of(&folded) {
            return Some(p);
        }
        if let Some(&p) = refs.sku.get(&folded) {
            return Some(p);
        }
        let numeric = reference
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
        if let Some(p) = gtin(reference)
            .filter(|_| numeric)
            .and_then(|g| refs.gtin.get(&g).copied())
        {
            return Some(p);
        }
        refs.mpn
            .get(&folded)
            .or_else(|| refs.other.get(&folded))
            .copied()
    }
}

/// Whether `fold` would leave the text unchanged (ASCII checked byte by byte; other characters
/// through the Unicode tables).
fn is_folded(text: &str) -> bool {
    let trimmed = text.trim().len() == text.len();
    trimmed
        && text.chars().all(|c| {
            if c.is_ascii() {
                !c.is_ascii_lowercase()
            } else {
                c.to_uppercase().eq(std::iter::once(c))
            }
        })
}
