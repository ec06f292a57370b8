//! The queries: an [`Engine`] is a compiled [`Index`] that it only reads, plus the caches
//! of its search; each submodule answers one question.
//!
//! The engine never builds an index: `Engine::from_json` and `Engine::compile` live in
//! `load`, above both this module and `compile`.

pub mod batch;
pub mod explain;
pub mod lookup;
pub mod order;
pub mod quote;
pub mod search;
pub mod simulate;
pub mod visibility;

use std::fmt;
use std::sync::Arc;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::error::{BuildWarnings, Diagnostic, QueryError};
use crate::index::audiences::Audience;
use crate::index::{
    AccountDef, AccountId, BuildState, CurrencyId, Index, Policy, PolicyId, ProductId,
};
use crate::instant::Instant;
use crate::source::Source;

/// A compiled rules document. Cheap to share (`Arc<Engine>`), never mutated.
///
/// ```
/// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
/// assert!(engine.engine_version().starts_with("t1-"));
/// ```
pub struct Engine {
    pub(crate) index: Index,
    pub(crate) caches: search::Caches,
    pub(crate) warnings: Vec<Diagnostic>,
    /// The document text compiled into `index`, by section, unless the caller discarded it.
    pub(crate) source: Option<Source>,
    /// The build's warnings before the day was applied to them, for a change that recompiles
    /// only part of the document.
    pub(crate) build_warnings: Arc<BuildWarnings>,
    /// What a change of contracts alone is compiled against.
    pub(crate) build_state: Arc<BuildState>,
    /// The changes that made this engine from another ([`Engine::apply`]); `None` for an
    /// engine compiled or opened whole.
    pub(crate) derived: Option<Arc<crate::changes::Derivation>>,
}

/// An account's place in the hierarchy and its segments ([`Engine::account_infos`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo<'e> {
    /// The account's id.
    pub id: &'e str,
    /// Its parent account.
    pub parent: Option<&'e str>,
    /// The top of its hierarchy (itself without a parent).
    pub root: &'e str,
    /// The segments it belongs to, its ancestors' included, most specific first.
    pub segments: Vec<&'e str>,
}

/// A summary, not the tables: an engine of a million products would print hundreds of
/// megabytes.
///
/// ```
/// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1", "products": [{"sku": "A"}]}"#).unwrap();
/// let text = format!("{engine:?}");
/// assert!(text.starts_with("Engine { engine_version: \"t1-") && text.contains("products: 1"));
/// ```
impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("engine_version", &self.engine_version())
            .field("products", &self.index.catalog.skus.len())
            .field("accounts", &self.index.audiences.accounts.len())
            .field("warnings", &self.warnings.len())
            .field("source_bytes", &self.source.as_ref().map(Source::len))
            .finish()
    }
}

impl Engine {
    /// The engine answering from `index`, with empty caches.
    pub(crate) fn new(
        index: Index,
        warnings: Vec<Diagnostic>,
        build_warnings: BuildWarnings,
        build_state: Arc<BuildState>,
        source: Option<Source>,
    ) -> Engine {
        Engine {
            index,
            caches: search::Caches::default(),
            warnings,
            build_warnings: Arc::new(build_warnings),
            build_state,
            source,
            derived: None,
        }
    }

    /// The document text this engine was compiled from (what [`Engine::apply`] merges changes
    /// into), or `None` if it was compiled with `discard_source`. An engine made by `apply`
    /// keeps its document by section, sharing the untouched ones with the engine it came from;
    /// its text is written (sections in name order) the first time it is asked for.
    ///
    /// ```
    /// let doc = r#"{"format": "tarif/1"}"#;
    /// assert_eq!(tarif::Engine::from_json(doc).unwrap().source(), Some(doc));
    /// ```
    pub fn source(&self) -> Option<&str> {
        self.source.as_ref().map(Source::text)
    }

    /// The stable content hash of the compiled document; every quote carries it.
    pub fn engine_version(&self) -> &str {
        &self.index.version
    }

    /// Warnings found while compiling.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Every SKU of the catalog, in document order.
    pub fn skus(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.index.catalog.skus.iter().map(|s| &**s)
    }

    /// Every account id, in document order.
    pub fn accounts(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.index.audiences.accounts.iter().map(|a| &*a.id)
    }

    /// Whether the document has this account (bindings check it before parsing an instant, to
    /// keep the error precedence of docs/spec.md §9).
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1", "accounts": [{"id": "A"}]}"#).unwrap();
    /// assert!(engine.has_account("A") && !engine.has_account("B"));
    /// ```
    pub fn has_account(&self, id: &str) -> bool {
        self.index.audiences.account_index.contains_key(id)
    }

    /// Declared currency codes.
    pub fn currencies(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.index.currencies.iter().map(|c| &*c.code)
    }

    /// The decimals of a currency's amounts (`currencies[].scale`), or of the document's default
    /// currency when `code` is `None`; `None` for a code the document does not declare. A
    /// batch that prices no row still gives its amount columns this scale.
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1",
    ///   "currencies": [{"code": "EUR", "scale": 2}, {"code": "JPY", "scale": 0}]}"#).unwrap();
    /// assert_eq!(engine.currency_scale(Some("JPY")), Some(0));
    /// assert_eq!(engine.currency_scale(None), Some(2));
    /// assert_eq!(engine.currency_scale(Some("XXX")), None);
    /// ```
    pub fn currency_scale(&self, code: Option<&str>) -> Option<u32> {
        let id = match code {
            Some(code) => self.index.currency_id(code)?,
            None => self.index.settings.default_currency,
        };
        self.index.currencies.get(id).map(|c| c.scale)
    }

    /// The zone bare dates are read in (`settings.timezone`).
    pub fn timezone(&self) -> Tz {
        self.index.settings.timezone
    }

    /// Parses an instant as queries accept it: RFC 3339, or a date in the document's zone.
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
    /// assert!(engine.parse_instant("2026-03-01").is_ok());
    /// assert_eq!(engine.parse_instant("soon").unwrap_err().code(), "INVALID_INSTANT");
    /// ```
    pub fn parse_instant(&self, text: &str) -> Result<Instant, QueryError> {
        Instant::parse_in_zone(text, self.index.settings.timezone)
            .ok_or_else(|| QueryError::InvalidInstant(text.to_string()))
    }

    /// Every account with its place in the hierarchy and its segments, in document order:
    /// what an analyst joins order lines with, without rebuilding the hierarchy by hand.
    ///
    /// ```
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1", "segments": [{"id": "pros"}],
    ///   "accounts": [{"id": "HQ", "segments": ["pros"]}, {"id": "SITE", "parent": "HQ"}]}"#).unwrap();
    /// let site = engine.account_infos().nth(1).unwrap();
    /// assert_eq!((site.id, site.parent, site.root), ("SITE", Some("HQ"), "HQ"));
    /// assert_eq!(site.segments, ["pros"]);
    /// ```
    pub fn account_infos(&self) -> impl ExactSizeIterator<Item = AccountInfo<'_>> + '_ {
        self.index
            .audiences
            .accounts
            .iter()
            .map(|def| self.account_info(def))
    }

    pub(crate) fn account_info<'e>(&'e self, def: &'e AccountDef) -> AccountInfo<'e> {
        let audiences = &self.index.audiences;
        let name = |a: &AccountId| &*audiences.accounts.row(*a).id;
        let segments = def
            .chain
            .iter()
            .filter_map(|&(key, _)| match audiences.audience_of(key) {
                Some(Audience::Segment(s)) => audiences.segment_ids.get(s).map(|id| &**id),
                _ => None,
            })
            .collect();
        AccountInfo {
            id: &def.id,
            parent: def.lineage.get(1).map(name),
            root: def.lineage.last().map_or(&*def.id, name),
            segments,
        }
    }

    pub(crate) fn account(&self, id: &str) -> Result<(AccountId, &AccountDef), QueryError> {
        self.index.account(id)
    }

    pub(crate) fn sku(&self, product: ProductId) -> &str {
        self.index.sku(product)
    }

    /// The product's cost per unit (`products[].cost`), if it has one.
    pub(crate) fn cost(&self, product: ProductId) -> Option<Decimal> {
        self.index.catalog.cost.get(product).copied().flatten()
    }

    pub(crate) fn currency_code(&self, currency: CurrencyId) -> &str {
        self.index.currency_code(currency)
    }

    pub(crate) fn currency_id(&self, code: &str) -> Option<CurrencyId> {
        self.index.currency_id(code)
    }

    pub(crate) fn policy(&self, id: PolicyId) -> &Policy {
        self.index.policy(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_is_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Engine>();
        let engine = std::sync::Arc::new(Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap());
        let versions: Vec<String> = (0..4)
            .map(|_| {
                let engine = std::sync::Arc::clone(&engine);
                std::thread::spawn(move || engine.engine_version().to_string())
            })
            .map(|h| h.join().unwrap())
            .collect();
        assert!(versions.windows(2).all(|w| w[0] == w[1]));
    }
}
