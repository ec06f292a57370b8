//! The compiled index: everything a query reads, in one place.
//!
//! # Layout
//!
//! Every entity of the document is interned into a dense id ([`ids`]): its row in the table
//! that owns it, with one id type per kind of entity. Tables are flat vectors (columns)
//! indexed by those ids, plus hash maps from text to id and roaring bitmaps of raw product
//! ids; nothing points into anything else (an entry names its list by id, a rule its
//! selector and contract), so the whole index is position-independent and can later be
//! written out as a snapshot and read back without fixing up pointers.
//!
//! The parts are shared (`Arc`): the catalog's products, the pricing's price lists, and each
//! part of the [`Index`]. An engine made by a change that touches one part of the document
//! (the stock, the contracts, the price lists) compiles that part again and shares the others
//! with the engine it came from.
//!
//! A table issues the ids of its rows and rows are never removed, so reading a row by an id
//! cannot miss ([`IdVec::row`]); where a miss is possible by design, the code says so and uses
//! `get`: the default currency of a document without currencies, positions and raw members
//! of bitmaps, and the compiler's own lookups of names that may be unknown.
//!
//! | file | holds | read by |
//! |---|---|---|
//! | [`ids`] | the id types (`ProductId`, `AccountId`, `ListId`, `EntryId`, `RuleId`, `SelectorId`, `ContractId`, `CurrencyId`, `PolicyId`) and [`IdVec`], the table that issues them and is read by them | everything |
//! | [`settings`] | steps of the pricing procedure, rounding policies, currencies | quote |
//! | [`orders`] | the contracts' order conditions, a plain list | price_order |
//! | [`catalog`] | product columns (SKU, name, closure of categories, family, brand, cost, order rules), the category/family/brand dictionaries, compiled selectors (a bitmap of products each, with their specificity) | quote, visibility, search |
//! | [`audiences`] | accounts with their precomputed chains: audience keys, price lists and visibility levels reached, ancestors | every query |
//! | [`pricing`] | price lists; entries sorted by (list, product), found by product in a column per list for the lists that price a large share of the catalog ([`pricing::EntrySlots`]), else by [`pricing::entry_key`] → range, in a table shared between engines plus the (list, product) groups a change of prices wrote since ([`pricing::EntryChanges`], found first); rules with their per-(audience, product key) index and per-audience coverage bitmaps, resolved per product for the audiences that cover a large share of the catalog ([`pricing::DenseRules`]); contracts | quote |
//! | [`visibility`] | per audience level the decisions of each capability over epochs ([`visibility::epoch_at`]), and the shared tails flattened to one byte per product | visibility, search |
//! | [`refs`] | SKU/GTIN/MPN/ref/alias → product maps (open addressing over keys stored back to back in one string, each slot with 32 bits of its key's hash, so that a probe reads only its own key's text), and the text folding they share ([`fold`], [`gtin`]) | lookup, search |
//! | [`search`] | the navigation index in position space (SKU order): per-value sets, their transpose, numeric sort columns, the prefix table, relations | search |
//! | [`stock`] | tracked products' stock (total, lead time, warehouses) by product id, and the positions of those in stock | quote, search |
//!
//! # What a quote reads
//!
//! A quote's cost in a large catalog is its cache misses, so the layout is judged by what one
//! quote touches, in order (docs/performance.md, "Layout", has the measured counts):
//!
//! 1. the account: one probe of the account map, then its [`AccountDef`] row, where the chain
//!    (audience keys with their levels), the lists it reaches and its visibility levels were
//!    resolved at compile time;
//! 2. the reference: one probe of the SKU map (then GTIN, MPN, ref, alias maps only if the SKU
//!    misses), then the product's visibility: the account's own levels, then the shared tail
//!    flattened to one byte per product;
//! 3. the candidates: per list the account reaches, one slot of its [`pricing::EntrySlots`]
//!    (or one probe of the entry map for a small list) and the entries' rows; per audience
//!    level with rules, one slot of its [`pricing::DenseRules`] (or, for an audience whose
//!    rules cover few products, a bitmap test and then a probe per key the product carries);
//! 4. the run: the rules' and entries' rows (validity, quantity range, action), the policy,
//!    and the arithmetic, in `Decimal`.
//!
//! Resolving per product costs memory (4 bytes a product for each wide audience, 8 for each
//! wide list) and is paid only where an audience or a list covers enough of the catalog; an
//! account's own lists and contracts, which cover a few products, stay in the maps.
//!
//! The small operations on the layout that several readers need live next to the data they
//! read (which epoch applies at an instant, where a product's entries in a list are, how a
//! reference is folded), so that compile and the queries share one definition.
//!
//! Runtime state is not here: the search caches belong to the [`crate::Engine`], which is this
//! index plus those caches and the compile warnings.
//!
//! # Layers
//!
//! `model`, `instant`, `money`, `error` → `index` → `compile` (writes an [`Index`]) and
//! `engine` (reads one) → `load` (`Engine::from_json`, `Engine::compile`) and `snapshot`
//! (`Engine::save`, `Engine::open`: the index written out and read back) and `lib`. A module
//! imports only from its own layer or those to its left: `compile` and `engine` never import
//! each other, and nothing below imports `load`.

pub(crate) mod approvals;
pub(crate) mod audiences;
pub(crate) mod catalog;
mod compact;
pub(crate) mod ids;
pub(crate) mod orders;
pub(crate) mod pricing;
mod refmap;
pub(crate) mod refs;
pub(crate) mod search;
pub(crate) mod settings;
pub(crate) mod stock;
pub(crate) mod visibility;

pub(crate) use audiences::{AccountDef, Audiences};
pub(crate) use catalog::{Catalog, CategoryDef, OrderRule, SelectorDef, SelectorKey, Spec};
pub(crate) use ids::{
    AccountId, AudKey, CurrencyId, EntryId, Id, IdVec, ListId, PolicyId, ProductId, RuleId,
    SelectorId, NONE,
};
pub(crate) use orders::{OrderAction, OrderCondDef};
pub(crate) use pricing::{
    Action, Bounds, ContractDef, EntryDef, IndexKind, ListDef, Pricing, RoundTarget, RuleDef,
    Tiered,
};
pub(crate) use refmap::RefMap;
pub(crate) use refs::{fold, folded, gtin, RefIndex, SharedMap};
pub(crate) use search::SearchIndex;
pub(crate) use settings::{CurrencyDef, Policy, Settings, StepDef};
pub(crate) use stock::{StockDef, StockIndex};
pub(crate) use visibility::{CapDecision, FlatTail, VisLevel, VisRuleDef, VisibilityIndex};

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::QueryError;

/// A compiled rules document: written once by the compiler, then only read. Each part is
/// shared, so that an engine made by a change shares the parts the change cannot touch with the
/// engine it came from.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Index {
    /// The stable content hash of the document.
    pub version: String,
    pub settings: Arc<Settings>,
    pub currencies: Arc<IdVec<CurrencyId, CurrencyDef>>,
    pub catalog: Arc<Catalog>,
    pub audiences: Arc<Audiences>,
    pub pricing: Arc<Pricing>,
    pub visibility: Arc<VisibilityIndex>,
    pub refs: Arc<RefIndex>,
    pub search: Arc<SearchIndex>,
    pub stock: Arc<StockIndex>,
    pub approvals: Arc<approvals::ApprovalIndex>,
}

/// What a compile keeps beside the index so that a change of contracts or price lists alone
/// compiles them again without the rest: the sets selectors are resolved against, how many
/// rounding policies the document declared before its price lists and before its contracts
/// (theirs follow), and the price lists each segment and account names (with the path of
/// each name), which the lists are attached through.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BuildState {
    pub selectables: Arc<catalog::Selectables>,
    pub policies_before_lists: usize,
    pub policies_before_contracts: usize,
    pub segment_lists: Vec<Vec<(String, String)>>,
    pub account_lists: Vec<Vec<(String, String)>>,
}

impl Index {
    /// Another index sharing every part of this one (a change then replaces what it touches).
    pub(crate) fn share(&self) -> Index {
        Index {
            version: self.version.clone(),
            settings: Arc::clone(&self.settings),
            currencies: Arc::clone(&self.currencies),
            catalog: Arc::clone(&self.catalog),
            audiences: Arc::clone(&self.audiences),
            pricing: Arc::clone(&self.pricing),
            visibility: Arc::clone(&self.visibility),
            refs: Arc::clone(&self.refs),
            search: Arc::clone(&self.search),
            stock: Arc::clone(&self.stock),
            approvals: Arc::clone(&self.approvals),
        }
    }

    /// An account by its id.
    pub(crate) fn account(&self, id: &str) -> Result<(AccountId, &AccountDef), QueryError> {
        self.audiences
            .account_index
            .get(id)
            .map(|&a| (a, self.audiences.accounts.row(a)))
            .ok_or_else(|| QueryError::UnknownAccount(id.to_string()))
    }

    /// The product whose SKU is exactly `sku`.
    pub(crate) fn product_of_sku(&self, sku: &str) -> Option<ProductId> {
        self.refs.product_of_sku(&self.catalog, sku)
    }

    pub(crate) fn sku(&self, product: ProductId) -> &str {
        self.catalog.skus.get(product).map(|s| &**s).unwrap_or("")
    }

    /// The code of a currency; empty for the default currency of a document that declares
    /// none (the one id not issued by the currency table).
    pub(crate) fn currency_code(&self, currency: CurrencyId) -> &str {
        self.currencies.get(currency).map_or("", |c| &*c.code)
    }

    pub(crate) fn currency_id(&self, code: &str) -> Option<CurrencyId> {
        self.currencies
            .iter_enumerated()
            .find(|(_, c)| &*c.code == code)
            .map(|(id, _)| id)
    }

    pub(crate) fn policy(&self, id: PolicyId) -> &Policy {
        self.settings.policies.row(id)
    }
}
