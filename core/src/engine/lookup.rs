//! `lookup`: which product a reference means for an account (docs/spec.md §8).

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;

use smallvec::SmallVec;

use super::visibility::Capabilities;
use super::Engine;
use crate::error::QueryError;
use crate::index::{folded, gtin, AccountDef, ProductId, RefMap, SharedMap};
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
        self.resolve_visible(def, reference, at)
            .map(|p| self.sku(p))
            .ok_or_else(|| QueryError::UnknownProduct(reference.to_string()))
    }

    /// The product a reference means among those the account may see at `at`: a hidden
    /// product sharing a reference with a visible one never shadows it.
    pub(crate) fn resolve_visible(
        &self,
        account: &AccountDef,
        reference: &str,
        at: Instant,
    ) -> Option<ProductId> {
        self.resolve_seen(account, reference, at).map(|(p, _)| p)
    }

    /// [`Engine::resolve_visible`] with the capabilities found on the way, which a quote
    /// needs next (computing them again cost a tenth of a quote's instructions).
    pub(crate) fn resolve_seen(
        &self,
        account: &AccountDef,
        reference: &str,
        at: Instant,
    ) -> Option<(ProductId, Capabilities)> {
        let seen = Cell::new(None);
        let product = self.resolve_ref(account, reference, |p| {
            let caps = self.capabilities(account, p, at);
            if caps.see {
                seen.set(Some(caps));
            }
            caps.see
        })?;
        Some((product, seen.get()?))
    }

    /// The first product, in the order of docs/spec.md §8, that the reference means and that
    /// `accept` takes: aliases (the account's, then its ancestors'), SKU, GTIN, MPN, other refs;
    /// within one kind, document order.
    pub(crate) fn resolve_ref(
        &self,
        account: &AccountDef,
        reference: &str,
        accept: impl Fn(ProductId) -> bool,
    ) -> Option<ProductId> {
        let refs = &self.index.refs;
        let folded = folded(reference);
        // Most documents have no aliases: then the reference need not be hashed for them.
        let alias = || {
            if refs.aliases.is_empty() {
                return None;
            }
            let owners = refs.aliases.get(&*folded)?;
            account.lineage.iter().find_map(|a| {
                owners
                    .iter()
                    .find(|(owner, _)| owner == a)
                    .map(|&(_, p)| p)
                    .filter(|&p| accept(p))
            })
        };
        alias().or_else(|| {
            self.by_kind(reference, &folded, |products| {
                products.iter().copied().find(|&p| accept(p))
            })
        })
    }

    /// What a reference means before the account is known, for a batch to work out once per
    /// distinct reference: `None` when it is some account's alias (then the account decides,
    /// through [`Engine::resolve_ref`]), else the products it may mean in the order
    /// `resolve_ref` tries them ([`Meaning::first_seen`]); the first the account may see is the
    /// one. Only the SKU is looked up here: the other kinds are looked up the first time a row
    /// sees none of the SKU's products, so the usual reference (a SKU the account sees) costs
    /// one probe instead of one per kind.
    pub(crate) fn meaning(&self, reference: &str) -> Option<Meaning> {
        let refs = &self.index.refs;
        let folded = folded(reference);
        if self.is_alias(&folded) {
            return None;
        }
        Some(Meaning {
            by_sku: products_of(&refs.sku, &refs.shared.sku, &folded),
            others: OnceLock::new(),
        })
    }

    /// For each reference, handed to `found` with its position: the one product whose SKU it
    /// is, when it is no account's alias and no other product shares that SKU. Then its
    /// meaning ([`Engine::meaning`]) starts with that product alone, and a row whose account
    /// sees it needs nothing else. A batch asks this of every row, the SKU map probed for many
    /// references side by side ([`RefMap::get_each`]): numbering the rows' references first
    /// built, per batch, a map as big as the catalog.
    pub(crate) fn sole_by_sku_each<R: AsRef<str>>(
        &self,
        references: &[R],
        mut found: impl FnMut(usize, Option<ProductId>),
    ) {
        let refs = &self.index.refs;
        let folded: Vec<Cow<'_, str>> = references.iter().map(|r| folded(r.as_ref())).collect();
        let keys: Vec<&str> = folded.iter().map(|key| &**key).collect();
        let shared = |key: &str| !refs.shared.sku.is_empty() && refs.shared.sku.contains_key(key);
        refs.sku.get_each(&keys, |i, product| {
            let sole = keys
                .get(i)
                .is_some_and(|&key| !self.is_alias(key) && !shared(key));
            found(i, product.filter(|_| sole));
        });
    }

    /// Whether a folded reference is some account's alias. Most documents have none: then
    /// the reference is not hashed for them.
    fn is_alias(&self, folded: &str) -> bool {
        let aliases = &self.index.refs.aliases;
        !aliases.is_empty() && aliases.contains_key(folded)
    }

    /// The products whose SKU is `sku` once folded (several only when SKUs differ in case
    /// alone), in document order.
    pub(crate) fn products_with_sku(&self, sku: &str) -> SmallVec<[ProductId; 2]> {
        let refs = &self.index.refs;
        let key = folded(sku);
        match refs.shared.sku.get(&*key) {
            Some(all) => all.clone(),
            None => refs.sku.get(&*key).copied().into_iter().collect(),
        }
    }

    /// Hands `visit` the products the reference means as a SKU, then a GTIN, an MPN and another
    /// ref (each in document order), until `visit` returns a product.
    fn by_kind(
        &self,
        reference: &str,
        folded: &str,
        mut visit: impl FnMut(&[ProductId]) -> Option<ProductId>,
    ) -> Option<ProductId> {
        let refs = &self.index.refs;
        visit(&products_of(&refs.sku, &refs.shared.sku, folded))
            .or_else(|| self.by_other_kinds(reference, folded, visit))
    }

    /// [`Engine::by_kind`] after the SKU: GTIN, MPN, other refs.
    fn by_other_kinds(
        &self,
        reference: &str,
        folded: &str,
        mut visit: impl FnMut(&[ProductId]) -> Option<ProductId>,
    ) -> Option<ProductId> {
        let refs = &self.index.refs;
        let numeric = reference
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
        if let Some(g) = gtin(reference).filter(|_| numeric) {
            if let Some(p) = visit(&products_of(&refs.gtin, &refs.shared.gtin, &g)) {
                return Some(p);
            }
        }
        visit(&products_of(&refs.mpn, &refs.shared.mpn, folded))
            .or_else(|| visit(&products_of(&refs.other, &refs.shared.other, folded)))
    }
}

/// What a reference means before the account is known ([`Engine::meaning`]).
#[derive(Debug, Default)]
pub(crate) struct Meaning {
    /// The products whose SKU it is, in document order.
    by_sku: SmallVec<[ProductId; 2]>,
    /// The products it is the GTIN, MPN or other ref of, in that order: looked up the first
    /// time a row sees none of `by_sku`.
    others: OnceLock<SmallVec<[ProductId; 2]>>,
}

impl Meaning {
    /// The first product the reference means, in lookup order, that `seen` takes, with what
    /// `seen` said of it. `engine` and `reference` must be those that gave this meaning.
    pub(crate) fn first_seen<T>(
        &self,
        engine: &Engine,
        reference: &str,
        mut seen: impl FnMut(ProductId) -> Option<T>,
    ) -> Option<T> {
        self.by_sku.iter().find_map(|&p| seen(p)).or_else(|| {
            self.others
                .get_or_init(|| {
                    let mut products = SmallVec::new();
                    engine.by_other_kinds(reference, &folded(reference), |found| {
                        products.extend_from_slice(found);
                        None
                    });
                    products
                })
                .iter()
                .find_map(|&p| seen(p))
        })
    }
}

/// The products a map holds under `key`: the first, or all of them when several share it.
fn products_of(map: &RefMap, shared: &SharedMap, key: &str) -> SmallVec<[ProductId; 2]> {
    match map.get(key) {
        None => SmallVec::new(),
        Some(&first) => match shared.get(key) {
            Some(all) => all.clone(),
            None => SmallVec::from_slice(&[first]),
        },
    }
}
