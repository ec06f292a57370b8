//! The naive reference evaluator: docs/spec.md read line by line, over the parsed document.
//!
//! Nothing here is indexed or precomputed beyond the settings: every query walks the document
//! again. It is slow on purpose — its only job is to be obviously faithful to the spec, so the
//! indexed engine can be tested against it (differential tests) and the fixtures checked by it.
//! Section numbers in comments refer to docs/spec.md.
//!
//! It shares no code with the engine: it reads only the public API of `tarif` (the typed
//! document of `tarif::document`, the decimal arithmetic of `tarif::money`, `Instant`), and
//! [`search`] answers catalog queries by scanning every product.

use std::cmp::Ordering;

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::Value;

use tarif::document::{
    Account, Audience, Contract, DefaultVisibility, Document, Effect, Item, PercentOf, PriceEntry,
    PriceList, PriceMode, Product, RoundTo, Rounding, RoundingMode, Rule, Select, Selector, Tier,
    TierBasis, TierMode, Validity,
};
use tarif::money::{self, ExactMul};
use tarif::{Capability, Instant, Interval, RoundingStage};

mod approval;
mod order;
pub mod search;

pub use approval::{RefApproval, RefReason};

pub use order::{RefAdjustment, RefOrder, RefOrderLine};

const UNKNOWN_ACCOUNT: &str = "UNKNOWN_ACCOUNT";
const UNKNOWN_PRODUCT: &str = "UNKNOWN_PRODUCT";
const UNKNOWN_CURRENCY: &str = "UNKNOWN_CURRENCY";
const INVALID_QUANTITY: &str = "INVALID_QUANTITY";
const QUANTITY_RULE: &str = "QUANTITY_RULE";
const PRICE_HIDDEN: &str = "PRICE_HIDDEN";
const NO_PRICE: &str = "NO_PRICE";
const OVERFLOW: &str = "OVERFLOW";

/// A document ready to be asked, the naive way.
#[derive(Debug, Clone)]
pub struct Reference {
    doc: Document,
    tz: Tz,
    closed: bool,
    steps: Vec<Step>,
    default_currency: String,
    rounding: Option<Rounding>,
    default_lists: Vec<String>,
}

/// A priced line, as the reference evaluator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefQuote {
    /// The product priced.
    pub sku: String,
    /// The request currency.
    pub currency: String,
    /// Rounded unit price (6.7).
    pub unit_price: Decimal,
    /// Line total (6.7).
    pub line_total: Decimal,
    /// Running price after the first step, rounded like the unit price.
    pub base_price: Decimal,
    /// Unit price from the everyone level alone, when it has one.
    pub list_price: Option<Decimal>,
    /// The `buy` capability.
    pub buyable: bool,
    /// Full ids of the applied rules and entries, in application order.
    pub applied: Vec<String>,
    /// What each step of the procedure saw, in order: what `explain` reports.
    pub steps: Vec<RefStep>,
    /// The stock split of the quantity (§14), `None` when the product has no stock record.
    pub stock: Option<RefStock>,
}

/// What ships now and what waits (§14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefStock {
    /// min(qty, total on hand).
    pub available: Decimal,
    /// qty − available.
    pub backorder: Decimal,
    /// The product's lead time, only when something is backordered.
    pub lead_time_days: Option<u32>,
}

/// One step of a priced quote: its candidates (every rule or entry that matched, by full id, in
/// id order) and the ones it applied, in application order; a step skipped after an exclusive
/// rule has neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefStep {
    /// The step's name.
    pub step: String,
    /// Skipped because an exclusive rule applied in an earlier step.
    pub skipped: bool,
    /// Ids of the candidates, sorted.
    pub candidates: Vec<String>,
    /// Ids of the candidates it applied, in application order.
    pub applied: Vec<String>,
}

/// The three capabilities of an account on a product (§7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefCapabilities {
    /// The product exists for the account.
    pub see: bool,
    /// Its price may be shown.
    pub price: bool,
    /// It may be ordered.
    pub buy: bool,
}

#[derive(Debug, Clone)]
struct Step {
    name: String,
    select: Select,
    required: bool,
    always: bool,
}

/// The audience chain of §3: `accounts[0]` is the account, then its ancestors; the segment
/// level comes right after them, then everyone.
struct Chain<'a> {
    accounts: Vec<&'a Account>,
    segments: Vec<&'a str>,
}

impl Chain<'_> {
    fn segment_level(&self) -> usize {
        self.accounts.len()
    }

    fn everyone_level(&self) -> usize {
        self.accounts.len() + 1
    }
}

/// The running value: a unit price, or — once a graduated tier applied — the line total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    Unit(Decimal),
    Line(Decimal),
}

/// Selector specificity (rank, depth, members), compared lexicographically (§4).
type Spec = (u8, usize, usize);

/// A value with optional quantity tiers (§6.4).
#[derive(Debug, Clone)]
struct Tiered {
    own: Option<Decimal>,
    tiers: Vec<(Decimal, Decimal)>,
    graduated: bool,
    /// The units of its tier basis that come before this line (§12.5).
    before: Decimal,
    /// The basis quantity its tiers read; `None`: the line's own.
    basis: Option<Decimal>,
}

#[derive(Debug, Clone, Default)]
struct Bounds {
    min_price: Option<Decimal>,
    max_price: Option<Decimal>,
    min_margin_pct: Option<Decimal>,
    max_discount_pct: Option<Decimal>,
    min_over_base: Option<Decimal>,
    max_over_base: Option<Decimal>,
}

#[derive(Debug, Clone)]
enum RoundSpec {
    Multiple(Decimal, Option<RoundingMode>),
    Ending(Decimal, Option<RoundingMode>),
}

#[derive(Debug, Clone)]
enum Action {
    /// A price-list entry (or derived-list price): independent of the running price.
    Given(Val),
    Price {
        t: Tiered,
        never_raise: bool,
    },
    Percent {
        t: Tiered,
        of_base: bool,
    },
    Amount(Tiered),
    FromList {
        val: Val,
        percent: Decimal,
    },
    Bounds(Bounds),
    RoundTo(RoundSpec),
}

impl Action {
    fn needs_running(&self) -> bool {
        matches!(
            self,
            Action::Percent { .. } | Action::Amount(_) | Action::Bounds(_) | Action::RoundTo(_)
        )
    }
}

/// One candidate of a step (§6.1).
#[derive(Debug, Clone)]
struct Cand<'a> {
    id: String,
    level: usize,
    spec: Spec,
    priority: i64,
    exclusive: bool,
    action: Action,
    rule_rounding: Option<&'a Rounding>,
    contract_rounding: Option<&'a Rounding>,
    list_rounding: Option<&'a Rounding>,
}

/// A candidate with its resulting price as a line (the tie-break key).
type Scored<'a> = (Cand<'a>, Decimal);

/// Everything a quote is priced for.
struct Ctx<'a> {
    chain: Chain<'a>,
    product: &'a Product,
    qty: Decimal,
    at: Instant,
    currency: String,
    /// The order's lines that count in tier bases, and the index of this line (§12.5).
    order: Option<InOrder<'a>>,
}

/// The lines of an order that count in tier bases (`None`: a line that does not), and the
/// index of the line being priced (§12.5).
type InOrder<'a> = (&'a [Option<(&'a Product, Decimal)>], usize);

/// A rounding policy with its defaults, except the scale (currency-dependent).
#[derive(Debug, Clone, Copy)]
struct Policy {
    mode: RoundingMode,
    stage: RoundingStage,
    scale: Option<u32>,
    unit_scale: u32,
}

impl Policy {
    fn of(r: &Rounding) -> Policy {
        Policy {
            mode: r.mode.unwrap_or(RoundingMode::HalfUp),
            stage: r.stage.unwrap_or(RoundingStage::Unit),
            scale: r.scale,
            unit_scale: r.unit_scale.unwrap_or(4),
        }
    }
}

/// What running the procedure leaves behind.
struct Run<'a> {
    val: Val,
    base: Val,
    applied: Vec<Cand<'a>>,
    steps: Vec<RefStep>,
}

fn items<T>(list: &[Item<T>]) -> impl Iterator<Item = &T> {
    list.iter().filter_map(Item::ok)
}

fn dec(text: Option<&String>) -> Option<Decimal> {
    text.and_then(|t| money::parse_decimal(t))
}

fn overflow<T>(v: Option<T>) -> Result<T, &'static str> {
    v.ok_or(OVERFLOW)
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// An EAN/GTIN as 14 digits (§8); `None` when it has no digit at all.
/// §8: a reference is read as a GTIN only when it holds nothing but digits, spaces and hyphens,
/// with 1 to 14 digits.
fn gtin(s: &str) -> Option<String> {
    let numeric = s
        .trim()
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if !numeric || digits.is_empty() || digits.len() > 14 {
        None
    } else {
        Some(format!("{digits:0>14}"))
    }
}

/// ISO 4217 minor units of the codes whose scale is not 2.
fn iso_scale(code: &str) -> u32 {
    const ZERO: [&str; 17] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: [&str; 6] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR"];
    if ZERO.contains(&code) {
        0
    } else if THREE.contains(&code) {
        3
    } else {
        2
    }
}

fn json_number(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let text = n.to_string();
            money::parse_decimal(&text).or_else(|| Decimal::from_scientific(&text).ok())
        }
        _ => None,
    }
}

/// Strings compare exactly, numbers as decimals (§4).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (json_number(a), json_number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `a × b` at the scale the factors add up to (`9.90 × 3 = 29.70`), zero included:
/// rust_decimal drops the scale of a zero product, and `0.00 × 4` is `0.00` on an invoice.
fn exact_product(a: Decimal, b: Decimal) -> Result<Decimal, &'static str> {
    let mut product = overflow(a.exact_mul(b))?;
    let scale = a.scale() + b.scale();
    if product.is_zero() && scale <= 28 {
        product.rescale(scale);
    }
    Ok(product)
}

fn line_of(v: Val, q: Decimal) -> Result<Decimal, &'static str> {
    match v {
        Val::Unit(u) => overflow(u.exact_mul(q)),
        Val::Line(l) => Ok(l),
    }
}

fn unit_of(v: Val, q: Decimal) -> Result<Decimal, &'static str> {
    match v {
        Val::Unit(u) => Ok(u),
        Val::Line(l) => overflow(l.checked_div(q)),
    }
}

fn percent_val(v: Val, percent: Decimal) -> Result<Val, &'static str> {
    Ok(match v {
        Val::Unit(u) => Val::Unit(overflow(money::apply_percent(u, percent))?),
        Val::Line(l) => Val::Line(overflow(money::apply_percent(l, percent))?),
    })
}

impl Tiered {
    /// all_units: the tier with the largest threshold ≤ q, else the own value.
    fn value_at(&self, q: Decimal) -> Option<Decimal> {
        let q = self.basis.unwrap_or(q);
        self.tiers
            .iter()
            .filter(|(t, _)| *t <= q)
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, v)| *v)
            .or(self.own)
    }

    fn exists(&self, q: Decimal) -> bool {
        if self.graduated {
            self.own.is_some()
        } else {
            self.value_at(q).is_some()
        }
    }

    /// graduated: unit `n` (the quantity `(n − 1, n]`) is priced at the tier with the largest
    /// `min_qty` ≤ `n`, so tier `k` covers `(⌈t_k⌉ − 1, ⌈t_{k+1}⌉ − 1]` and the own value
    /// `(0, ⌈t_1⌉ − 1]`; (units, value) per band.
    /// The line takes the units `(before, before + q]` of its basis (§12.5): each band's
    /// share is its overlap with them.
    fn bands(&self, q: Decimal) -> Result<Vec<(Decimal, Decimal)>, &'static str> {
        let own = self.own.ok_or(NO_PRICE)?;
        let mut tiers = self.tiers.clone();
        tiers.sort_by_key(|t| t.0);
        let mut starts = vec![(Decimal::ZERO, own)];
        for (min_qty, value) in tiers {
            let unit_index = min_qty.ceil();
            let start = overflow(unit_index.checked_sub(Decimal::ONE))?.max(Decimal::ZERO);
            starts.push((start, value));
        }
        let (from, to) = (self.before, overflow(self.before.checked_add(q))?);
        let mut out = Vec::new();
        for (i, (start, value)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(to, |(next, _)| to.min(*next));
            let (lo, hi) = ((*start).max(from), end);
            if hi > lo {
                out.push((overflow(hi.checked_sub(lo))?, *value));
            }
        }
        Ok(out)
    }

    /// The exact sum of the bands, each unit priced by `unit` from the band's value.
    fn graduated_line(
        &self,
        q: Decimal,
        unit: impl Fn(Decimal) -> Result<Decimal, &'static str>,
    ) -> Result<Decimal, &'static str> {
        let mut line = Decimal::ZERO;
        for (units, value) in self.bands(q)? {
            let band = overflow(units.exact_mul(unit(value)?))?;
            line = overflow(line.checked_add(band))?;
        }
        Ok(line)
    }
}

impl Reference {
    /// Takes a parsed document (assumed to compile without errors).
    pub fn new(doc: &Document) -> Reference {
        let settings = doc
            .settings
            .as_ref()
            .and_then(Item::ok)
            .cloned()
            .unwrap_or_default();
        let tz = settings
            .timezone
            .as_deref()
            .and_then(|t| t.parse::<Tz>().ok())
            .unwrap_or(Tz::UTC);
        let steps = match &settings.procedure {
            Some(steps) => steps
                .iter()
                .map(|s| Step {
                    name: s.step.clone(),
                    select: s.select.unwrap_or(Select::MostSpecific),
                    required: s.required,
                    always: s.always,
                })
                .collect(),
            None => [
                ("base", true, false),
                ("discount", false, false),
                ("surcharge", false, false),
                ("bounds", false, true),
            ]
            .iter()
            .map(|(name, required, always)| Step {
                name: (*name).to_string(),
                select: Select::MostSpecific,
                required: *required,
                always: *always,
            })
            .collect(),
        };
        let default_currency = settings
            .default_currency
            .clone()
            .or_else(|| items(&doc.currencies).next().map(|c| c.code.clone()))
            .unwrap_or_default();
        Reference {
            doc: doc.clone(),
            tz,
            closed: settings.default_visibility == Some(DefaultVisibility::Closed),
            steps,
            default_currency,
            rounding: settings.rounding.clone(),
            default_lists: settings.default_price_lists.clone(),
        }
    }

    /// Parses a JSON document; `None` when it is not a `tarif/1` document at all.
    pub fn from_json(json: &str) -> Option<Reference> {
        serde_json::from_str::<Document>(json)
            .ok()
            .map(|doc| Reference::new(&doc))
    }

    /// The document this evaluator reads (brute-force searches scan its products).
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// Whether the account exists: checked before anything else (§9 precedence).
    pub fn has_account(&self, account: &str) -> bool {
        self.account(account).is_some()
    }

    /// Reads a query instant: RFC 3339, or a date in `settings.timezone` (§1).
    pub fn parse_at(&self, text: &str) -> Option<Instant> {
        Instant::parse_in_zone(text, self.tz)
    }

    /// Prices `qty` of a product for an account (§6), with the error precedence of §9 (the
    /// instant is already parsed: callers check it right after the account).
    pub fn quote(
        &self,
        account: &str,
        product_ref: &str,
        qty: Decimal,
        at: Instant,
        currency: Option<&str>,
    ) -> Result<RefQuote, &'static str> {
        self.quote_in(account, product_ref, qty, at, currency, None)
    }

    /// [`Reference::quote`] of a line of an order whose lines counting in tier bases are
    /// `order.0`, the line being `order.1` (§12.5).
    fn quote_in<'a>(
        &'a self,
        account: &str,
        product_ref: &str,
        qty: Decimal,
        at: Instant,
        currency: Option<&str>,
        order: Option<InOrder<'a>>,
    ) -> Result<RefQuote, &'static str> {
        let chain = self.chain(account).ok_or(UNKNOWN_ACCOUNT)?;
        let currency = self.request_currency(&chain, currency)?;
        let product = self.visible_product(&chain, product_ref, at)?;
        if qty <= Decimal::ZERO {
            return Err(INVALID_QUANTITY);
        }
        if self.nearest_valid(product, qty)?.is_some() {
            return Err(QUANTITY_RULE);
        }
        let caps = self.capabilities(&chain, product, at);
        if !caps.price {
            return Err(PRICE_HIDDEN);
        }
        let ctx = Ctx {
            chain,
            product,
            qty,
            at,
            currency,
            order,
        };
        let run = self.run(&ctx)?;
        let (unit_price, line_total, base_price) = self.finish(&ctx, &run)?;
        // The everyone level alone: the same procedure over a chain that has nothing else.
        let everyone = Ctx {
            chain: Chain {
                accounts: Vec::new(),
                segments: Vec::new(),
            },
            product,
            qty,
            at,
            currency: ctx.currency.clone(),
            order,
        };
        let list_price = match self.run(&everyone) {
            Ok(r) => self.finish(&everyone, &r).ok().map(|(unit, _, _)| unit),
            Err(_) => None,
        };
        Ok(RefQuote {
            sku: product.sku.clone(),
            currency: ctx.currency,
            unit_price,
            line_total,
            base_price,
            list_price,
            buyable: caps.buy,
            applied: run.applied.iter().map(|c| c.id.clone()).collect(),
            steps: run.steps,
            stock: self.stock_split(&product.sku, qty),
        })
    }

    /// A product's total on hand and lead time (§14): the sum over its warehouses, the smallest
    /// lead time a warehouse gives, else the record's own. `None` without a record.
    pub fn stock(&self, sku: &str) -> Option<(Decimal, Option<u32>)> {
        let record = self.doc.stock.iter().find_map(|r| match r {
            Item::Ok(r) if r.sku == sku => Some(r),
            _ => None,
        })?;
        let qty = |t: &tarif::document::NumText| money::parse_decimal(&t.0).unwrap_or_default();
        match &record.warehouses {
            Some(list) => {
                let total = list.iter().map(|w| qty(&w.available)).sum();
                let lead = list.iter().filter_map(|w| w.lead_time_days).min();
                Some((total, lead.or(record.lead_time_days)))
            }
            None => Some((
                record.available.as_ref().map(qty).unwrap_or_default(),
                record.lead_time_days,
            )),
        }
    }

    fn stock_split(&self, sku: &str, qty: Decimal) -> Option<RefStock> {
        let (total, lead) = self.stock(sku)?;
        if qty <= total {
            return Some(RefStock {
                available: qty,
                backorder: Decimal::ZERO,
                lead_time_days: None,
            });
        }
        Some(RefStock {
            available: total,
            backorder: qty - total,
            lead_time_days: lead,
        })
    }

    /// The nearest orderable quantity when `qty` violates the product's order rules (§6.8);
    /// `None` when `qty` is orderable or the product is unknown.
    pub fn nearest_quantity(&self, sku: &str, qty: Decimal) -> Option<Decimal> {
        let product = self.products().find(|p| p.sku == sku)?;
        self.nearest_valid(product, qty).ok().flatten()
    }

    /// Capabilities of an account on a product (§7). The reference resolves like `lookup`; a
    /// hidden product and an unknown reference both answer all-false.
    pub fn visibility(
        &self,
        account: &str,
        product_ref: &str,
        at: Instant,
    ) -> Result<RefCapabilities, &'static str> {
        let chain = self.chain(account).ok_or(UNKNOWN_ACCOUNT)?;
        Ok(match self.visible_product(&chain, product_ref, at) {
            Ok(product) => self.capabilities(&chain, product, at),
            Err(_) => RefCapabilities::default(),
        })
    }

    /// The SKU a reference means for an account (§8).
    pub fn lookup(
        &self,
        account: &str,
        reference: &str,
        at: Instant,
    ) -> Result<String, &'static str> {
        let chain = self.chain(account).ok_or(UNKNOWN_ACCOUNT)?;
        self.visible_product(&chain, reference, at)
            .map(|p| p.sku.clone())
    }

    // ---- document access -------------------------------------------------------------------

    fn products(&self) -> impl Iterator<Item = &Product> {
        items(&self.doc.products)
    }

    fn account(&self, id: &str) -> Option<&Account> {
        items(&self.doc.accounts).find(|a| a.id == id)
    }

    fn list(&self, id: &str) -> Option<&PriceList> {
        items(&self.doc.price_lists).find(|l| l.id == id)
    }

    fn contracts(&self) -> impl Iterator<Item = &Contract> {
        items(&self.doc.contracts)
    }

    fn currency_declared(&self, code: &str) -> bool {
        items(&self.doc.currencies).any(|c| c.code == code)
    }

    fn currency_scale(&self, code: &str) -> u32 {
        items(&self.doc.currencies)
            .find(|c| c.code == code)
            .and_then(|c| c.scale)
            .unwrap_or_else(|| iso_scale(code))
    }

    fn currency_rounding(&self, code: &str) -> Option<&Rounding> {
        items(&self.doc.currencies)
            .find(|c| c.code == code)
            .and_then(|c| c.rounding.as_ref())
    }

    fn list_currency<'a>(&'a self, list: &'a PriceList) -> &'a str {
        list.currency.as_deref().unwrap_or(&self.default_currency)
    }

    fn interval(&self, valid: Option<&Validity>) -> Interval {
        let Some(v) = valid else {
            return Interval::ALWAYS;
        };
        let bound = |t: &Option<String>, default: Instant| {
            t.as_deref()
                .and_then(|t| Instant::parse_in_zone(t, self.tz))
                .unwrap_or(default)
        };
        Interval {
            from: bound(&v.from, Instant::MIN),
            until: bound(&v.until, Instant::MAX),
        }
    }

    /// Whether `at` lies in every one of these validities (their intersection, §5).
    fn valid_at(&self, validities: &[Option<&Validity>], at: Instant) -> bool {
        validities.iter().all(|v| self.interval(*v).contains(at))
    }

    // ---- §3 audiences ----------------------------------------------------------------------

    fn chain(&self, account: &str) -> Option<Chain<'_>> {
        let mut accounts = vec![self.account(account)?];
        let mut current = accounts.first().and_then(|a| a.parent.as_deref());
        while let Some(parent) = current {
            match self.account(parent) {
                // A cycle is a compile error; stop rather than loop.
                Some(p) if !accounts.iter().any(|a| a.id == p.id) => {
                    accounts.push(p);
                    current = p.parent.as_deref();
                }
                _ => current = None,
            }
        }
        let mut segments: Vec<&str> = Vec::new();
        for a in &accounts {
            for s in &a.segments {
                if !segments.contains(&s.as_str()) {
                    segments.push(s);
                }
            }
        }
        Some(Chain { accounts, segments })
    }

    /// The most specific level of the chain that the audience names.
    fn audience_level(&self, audience: &Audience, chain: &Chain<'_>) -> Option<usize> {
        match audience {
            Audience::All => Some(chain.everyone_level()),
            Audience::Some { accounts, segments } => chain
                .accounts
                .iter()
                .position(|a| accounts.contains(&a.id))
                .or_else(|| {
                    chain
                        .segments
                        .iter()
                        .any(|s| segments.iter().any(|x| x == s))
                        .then(|| chain.segment_level())
                }),
        }
    }

    /// Price lists reached by the chain, each once, at its most specific level.
    fn attached_lists(&self, chain: &Chain<'_>) -> Vec<(&PriceList, usize)> {
        let mut named: Vec<(&str, usize)> = Vec::new();
        for (level, a) in chain.accounts.iter().enumerate() {
            named.extend(a.price_lists.iter().map(|l| (l.as_str(), level)));
        }
        for s in items(&self.doc.segments).filter(|s| chain.segments.contains(&s.id.as_str())) {
            named.extend(
                s.price_lists
                    .iter()
                    .map(|l| (l.as_str(), chain.segment_level())),
            );
        }
        named.extend(
            self.default_lists
                .iter()
                .map(|l| (l.as_str(), chain.everyone_level())),
        );
        let mut out: Vec<(&PriceList, usize)> = Vec::new();
        for (id, level) in named {
            if let Some(list) = self.list(id) {
                if !out.iter().any(|(l, _)| l.id == list.id) {
                    out.push((list, level));
                }
            }
        }
        out
    }

    // ---- §4 selectors ----------------------------------------------------------------------

    /// §12.5: the units of a line's tier basis before it and the basis quantity (`None`: the
    /// line alone, as outside an order or for the `line` basis). `selector` is the rule's: the
    /// deepest category it names is the `category` basis, else the product's first category.
    fn basis(
        &self,
        ctx: &Ctx<'_>,
        basis: Option<TierBasis>,
        selector: Option<&Selector>,
    ) -> (Decimal, Option<Decimal>) {
        let basis = basis.unwrap_or(TierBasis::Line);
        let Some((lines, at)) = ctx.order.filter(|_| basis != TierBasis::Line) else {
            return (Decimal::ZERO, None);
        };
        let me = ctx.product;
        let mut named = Vec::new();
        if let Some(sel) = selector {
            self.named_categories(sel, &mut named);
        }
        let mut deepest: Option<&String> = None;
        for c in &named {
            let depth = self.category_line(c).len();
            if deepest.is_none_or(|d| depth > self.category_line(d).len()) {
                deepest = Some(c);
            }
        }
        let category = deepest.or(me.categories.first());
        let shares = |p: &Product| match basis {
            TierBasis::Line => p.sku == me.sku,
            TierBasis::Family => match (&me.family, &p.family) {
                (Some(a), Some(b)) => a == b,
                (Some(_), None) => false,
                (None, _) => p.sku == me.sku,
            },
            TierBasis::Category => match category {
                Some(c) => p
                    .categories
                    .iter()
                    .any(|own| self.category_line(own).contains(c)),
                None => p.sku == me.sku,
            },
            TierBasis::Order => true,
        };
        let (mut before, mut total) = (Decimal::ZERO, Decimal::ZERO);
        for (k, line) in lines.iter().enumerate() {
            if let Some((p, q)) = line {
                if shares(p) {
                    total = total.checked_add(*q).unwrap_or(Decimal::MAX);
                    if k < at {
                        before = before.checked_add(*q).unwrap_or(Decimal::MAX);
                    }
                }
            }
        }
        (before, Some(total))
    }

    /// The categories a selector names, in document order.
    fn named_categories(&self, sel: &Selector, out: &mut Vec<String>) {
        match sel {
            Selector::Category(c) => out.push(c.clone()),
            Selector::AllOf(members) => members.iter().for_each(|m| self.named_categories(m, out)),
            _ => {}
        }
    }

    fn category_parent(&self, id: &str) -> Option<&str> {
        items(&self.doc.categories)
            .find(|c| c.id == id)
            .and_then(|c| c.parent.as_deref())
    }

    /// The ancestors of a category, itself first (bounded, in case of a cycle).
    fn category_line(&self, id: &str) -> Vec<String> {
        let mut line = vec![id.to_string()];
        let mut current = self.category_parent(id);
        while let Some(c) = current {
            if line.iter().any(|l| l == c) {
                break;
            }
            line.push(c.to_string());
            current = self.category_parent(c);
        }
        line
    }

    fn matches(&self, sel: &Selector, p: &Product) -> bool {
        match sel {
            Selector::All => true,
            Selector::Sku(s) => p.sku == *s,
            Selector::Skus(list) => list.contains(&p.sku),
            Selector::Family(f) => p.family.as_deref() == Some(f.as_str()),
            Selector::Category(c) => p
                .categories
                .iter()
                .any(|pc| self.category_line(pc).iter().any(|a| a == c)),
            Selector::Brand(b) => p.brand.as_deref() == Some(b.as_str()),
            Selector::Attr(cond) => {
                let Some(attr) = p.attrs.get(&cond.key) else {
                    return false;
                };
                let values: Vec<&Value> = match attr {
                    Value::Array(list) => list.iter().collect(),
                    other => vec![other],
                };
                if let Some(eq) = &cond.eq {
                    return values.iter().any(|v| json_eq(v, eq));
                }
                if let Some(any) = &cond.any_of {
                    return values.iter().any(|v| any.iter().any(|e| json_eq(v, e)));
                }
                let min = cond.min.as_ref().and_then(|m| money::parse_decimal(&m.0));
                let max = cond.max.as_ref().and_then(|m| money::parse_decimal(&m.0));
                if min.is_none() && max.is_none() {
                    return false;
                }
                values
                    .iter()
                    .filter_map(|v| json_number(v))
                    .any(|n| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m))
            }
            Selector::AllOf(members) => members.iter().all(|m| self.matches(m, p)),
        }
    }

    fn specificity(&self, sel: &Selector) -> Spec {
        match sel {
            Selector::Sku(_) | Selector::Skus(_) => (6, 0, 1),
            Selector::Family(_) => (5, 0, 1),
            Selector::Category(c) => (4, self.category_line(c).len().saturating_sub(1), 1),
            Selector::Attr(_) => (3, 0, 1),
            Selector::Brand(_) => (2, 0, 1),
            Selector::All => (1, 0, 1),
            Selector::AllOf(members) => {
                let specs: Vec<Spec> = members.iter().map(|m| self.specificity(m)).collect();
                let rank = specs.iter().map(|s| s.0).max().unwrap_or(0);
                let depth = specs
                    .iter()
                    .filter(|s| s.0 == rank)
                    .map(|s| s.1)
                    .max()
                    .unwrap_or(0);
                (rank, depth, members.len())
            }
        }
    }

    // ---- §8 lookup -------------------------------------------------------------------------

    /// Every product a reference means, in §8's order: the chain's aliases (nearest account
    /// first, each account's in key order), then SKU, GTIN, MPN and refs matches, each kind in
    /// document order.
    fn referenced(&self, chain: &Chain<'_>, reference: &str) -> Vec<&Product> {
        let r = norm(reference);
        let mut out = Vec::new();
        for a in &chain.accounts {
            for (alias, sku) in &a.aliases {
                if norm(alias) == r {
                    out.extend(self.products().filter(|p| p.sku == *sku));
                }
            }
        }
        out.extend(self.products().filter(|p| norm(&p.sku) == r));
        if let Some(code) = gtin(reference) {
            out.extend(
                self.products()
                    .filter(|p| p.ean.as_deref().and_then(gtin).as_ref() == Some(&code)),
            );
        }
        out.extend(
            self.products()
                .filter(|p| p.mpn.as_deref().map(norm) == Some(r.clone())),
        );
        out.extend(
            self.products()
                .filter(|p| p.refs.iter().any(|x| norm(x) == r)),
        );
        out
    }

    /// The first product the reference means that the account may see: a hidden product never
    /// shadows a visible one (§7: it does not exist for the account).
    fn visible_product(
        &self,
        chain: &Chain<'_>,
        reference: &str,
        at: Instant,
    ) -> Result<&Product, &'static str> {
        self.referenced(chain, reference)
            .into_iter()
            .find(|p| self.capabilities(chain, p, at).see)
            .ok_or(UNKNOWN_PRODUCT)
    }

    // ---- §7 visibility ---------------------------------------------------------------------

    fn capabilities(&self, chain: &Chain<'_>, product: &Product, at: Instant) -> RefCapabilities {
        let see = self.decide(chain, product, at, Capability::See);
        let price = see && self.decide(chain, product, at, Capability::Price);
        let buy = price && self.decide(chain, product, at, Capability::Buy);
        RefCapabilities { see, price, buy }
    }

    /// One capability, before the implications.
    fn decide(&self, chain: &Chain<'_>, product: &Product, at: Instant, cap: Capability) -> bool {
        let mut found: Vec<(usize, Spec, Effect)> = Vec::new();
        for c in self.contracts() {
            let Some(level) = self.audience_level(&c.audience, chain) else {
                continue;
            };
            for r in items(&c.visibility) {
                let caps = r
                    .capabilities
                    .clone()
                    .unwrap_or_else(|| vec![Capability::See, Capability::Price, Capability::Buy]);
                // A deny concerns what requires it; an allow, what it requires.
                let concerns = caps.iter().any(|x| match r.effect {
                    Effect::Deny => *x <= cap,
                    Effect::Allow => *x >= cap,
                });
                if concerns
                    && self.valid_at(&[c.valid.as_ref(), r.valid.as_ref()], at)
                    && self.matches(&r.products, product)
                {
                    found.push((level, self.specificity(&r.products), r.effect));
                }
            }
        }
        let Some(level) = found.iter().map(|f| f.0).min() else {
            return !self.closed;
        };
        let at_level: Vec<_> = found.into_iter().filter(|f| f.0 == level).collect();
        let Some(spec) = at_level.iter().map(|f| f.1).max() else {
            return !self.closed;
        };
        !at_level.iter().any(|f| f.1 == spec && f.2 == Effect::Deny)
    }

    // ---- §6.8 quantities, §2 currencies ----------------------------------------------------

    fn nearest_valid(
        &self,
        product: &Product,
        q: Decimal,
    ) -> Result<Option<Decimal>, &'static str> {
        let order = product.order.clone().unwrap_or_default();
        let min = order.min.and_then(|m| money::parse_decimal(&m.0));
        let multiple = order
            .multiple
            .and_then(|m| money::parse_decimal(&m.0))
            .filter(|m| *m > Decimal::ZERO);
        let is_multiple = |m: Decimal, k: Decimal| m.checked_rem(k).is_some_and(|r| r.is_zero());
        let valid = min.is_none_or(|mn| q >= mn) && multiple.is_none_or(|k| is_multiple(q, k));
        if valid {
            return Ok(None);
        }
        let Some(k) = multiple else { return Ok(min) };
        let mut smallest = k;
        if let Some(mn) = min {
            smallest = smallest.max(overflow(overflow(mn.checked_div(k))?.ceil().exact_mul(k))?);
        }
        if q <= smallest {
            return Ok(Some(smallest));
        }
        let lower = overflow(overflow(q.checked_div(k))?.floor().exact_mul(k))?;
        let upper = overflow(lower.checked_add(k))?;
        let below = overflow(q.checked_sub(lower))?;
        let above = overflow(upper.checked_sub(q))?;
        Ok(Some(if below < above { lower } else { upper }))
    }

    fn request_currency(
        &self,
        chain: &Chain<'_>,
        requested: Option<&str>,
    ) -> Result<String, &'static str> {
        if let Some(code) = requested {
            return if self.currency_declared(code) {
                Ok(code.to_string())
            } else {
                Err(UNKNOWN_CURRENCY)
            };
        }
        Ok(chain
            .accounts
            .iter()
            .find_map(|a| a.currency.clone())
            .unwrap_or_else(|| self.default_currency.clone()))
    }

    // ---- §6.1 candidates -------------------------------------------------------------------

    fn candidates(
        &self,
        ctx: &Ctx<'_>,
        step_index: usize,
        has_running: bool,
    ) -> Result<Vec<Cand<'_>>, &'static str> {
        let mut out = Vec::new();
        let Some(step) = self.steps.get(step_index) else {
            return Ok(out);
        };
        for c in self.contracts() {
            let Some(level) = self.audience_level(&c.audience, &ctx.chain) else {
                continue;
            };
            for r in items(&c.rules).filter(|r| r.step == step.name) {
                if !self.matches(&r.products, ctx.product)
                    || !self.valid_at(&[c.valid.as_ref(), r.valid.as_ref()], ctx.at)
                {
                    continue;
                }
                let min_qty = r.min_qty.as_ref().and_then(|m| money::parse_decimal(&m.0));
                let max_qty = r.max_qty.as_ref().and_then(|m| money::parse_decimal(&m.0));
                let range_qty = self
                    .basis(ctx, r.tier_basis, Some(&r.products))
                    .1
                    .unwrap_or(ctx.qty);
                if min_qty.is_some_and(|m| range_qty < m) || max_qty.is_some_and(|m| range_qty > m)
                {
                    continue;
                }
                let Some(action) = self.rule_action(r, c, ctx)? else {
                    continue;
                };
                if action.needs_running() && !has_running {
                    continue;
                }
                out.push(Cand {
                    id: format!("{}/{}", c.id, r.id),
                    level,
                    spec: self.specificity(&r.products),
                    priority: r.priority.or(c.priority).unwrap_or(0),
                    exclusive: r.exclusive,
                    action,
                    rule_rounding: r.rounding.as_ref(),
                    contract_rounding: c.rounding.as_ref(),
                    list_rounding: None,
                });
            }
        }
        // Price-list entries belong to the first step, whatever its name.
        if step_index == 0 {
            for (list, level) in self.attached_lists(&ctx.chain) {
                if self.list_currency(list) != ctx.currency {
                    continue;
                }
                let entry = |val: Val, priority: Option<i64>, exclusive: Option<bool>| Cand {
                    id: format!("{}/{}", list.id, ctx.product.sku),
                    level,
                    spec: (6, 0, 1),
                    priority: priority.or(list.priority).unwrap_or(0),
                    exclusive: exclusive.unwrap_or(list.net),
                    action: Action::Given(val),
                    rule_rounding: None,
                    contract_rounding: None,
                    list_rounding: list.rounding.as_ref(),
                };
                let entries: Vec<&PriceEntry> = items(&list.prices)
                    .filter(|e| e.sku == ctx.product.sku)
                    .collect();
                if entries.is_empty() {
                    if let Some(val) = self.list_gives(list, ctx, 0)? {
                        out.push(entry(val, None, None));
                    }
                } else if self.valid_at(&[list.valid.as_ref()], ctx.at) {
                    for e in entries {
                        if let Some(val) = self.entry_value(list, e, ctx)? {
                            out.push(entry(val, e.priority, e.exclusive));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The price an entry gives for the quantity, if it is valid, in range and has a value.
    fn entry_value(
        &self,
        list: &PriceList,
        e: &PriceEntry,
        ctx: &Ctx<'_>,
    ) -> Result<Option<Val>, &'static str> {
        if !self.valid_at(&[list.valid.as_ref(), e.valid.as_ref()], ctx.at) {
            return Ok(None);
        }
        let (before, basis) = self.basis(ctx, e.tier_basis.or(list.tier_basis), None);
        let min_qty = e.min_qty.as_ref().and_then(|m| money::parse_decimal(&m.0));
        let max_qty = e.max_qty.as_ref().and_then(|m| money::parse_decimal(&m.0));
        let range_qty = basis.unwrap_or(ctx.qty);
        if min_qty.is_some_and(|m| range_qty < m) || max_qty.is_some_and(|m| range_qty > m) {
            return Ok(None);
        }
        let t = Tiered {
            before,
            basis,
            own: dec(e.price.as_ref()),
            tiers: e
                .tiers
                .iter()
                .filter_map(|t| Some((money::parse_decimal(&t.min_qty.0)?, dec(t.price.as_ref())?)))
                .collect(),
            graduated: e.tier_mode.or(list.tier_mode) == Some(TierMode::Graduated),
        };
        if !t.exists(ctx.qty) {
            return Ok(None);
        }
        if t.graduated {
            return t.graduated_line(ctx.qty, Ok).map(|l| Some(Val::Line(l)));
        }
        Ok(t.value_at(ctx.qty).map(Val::Unit))
    }

    /// The price a list gives the product: its entry, or, when it has no entry for the product,
    /// its `from_list` chain × `1 + percent/100` at each link (§6.1).
    fn list_gives(
        &self,
        list: &PriceList,
        ctx: &Ctx<'_>,
        depth: usize,
    ) -> Result<Option<Val>, &'static str> {
        if depth > self.doc.price_lists.len() || !self.valid_at(&[list.valid.as_ref()], ctx.at) {
            return Ok(None);
        }
        let entries: Vec<&PriceEntry> = items(&list.prices)
            .filter(|e| e.sku == ctx.product.sku)
            .collect();
        if entries.is_empty() {
            let Some(source) = list.from_list.as_deref().and_then(|id| self.list(id)) else {
                return Ok(None);
            };
            let Some(val) = self.list_gives(source, ctx, depth + 1)? else {
                return Ok(None);
            };
            let percent = dec(list.percent.as_ref()).unwrap_or(Decimal::ZERO);
            return percent_val(val, percent).map(Some);
        }
        for e in entries {
            if let Some(val) = self.entry_value(list, e, ctx)? {
                return Ok(Some(val));
            }
        }
        Ok(None)
    }

    /// The action of a rule, if it can be a candidate for this request (conditions 5 and 6).
    fn rule_action(
        &self,
        r: &Rule,
        c: &Contract,
        ctx: &Ctx<'_>,
    ) -> Result<Option<Action>, &'static str> {
        let q = ctx.qty;
        let currency = r
            .currency
            .as_deref()
            .or(c.currency.as_deref())
            .unwrap_or(&self.default_currency);
        let in_currency = currency == ctx.currency;
        let graduated = r.tier_mode == Some(TierMode::Graduated);
        let (before, basis) = self.basis(ctx, r.tier_basis, Some(&r.products));
        let tiered = |own: Option<&String>, pick: fn(&Tier) -> Option<&String>| Tiered {
            before,
            basis,
            own: dec(own),
            tiers: r
                .tiers
                .iter()
                .filter_map(|t| Some((money::parse_decimal(&t.min_qty.0)?, dec(pick(t))?)))
                .collect(),
            graduated,
        };
        let has_tiers =
            |pick: fn(&Tier) -> Option<&String>| r.tiers.iter().any(|t| pick(t).is_some());
        let action = if let Some(id) = &r.from_list {
            let Some(list) = self.list(id) else {
                return Ok(None);
            };
            if self.list_currency(list) != ctx.currency {
                return Ok(None);
            }
            let Some(val) = self.list_gives(list, ctx, 0)? else {
                return Ok(None);
            };
            Action::FromList {
                val,
                percent: dec(r.percent.as_ref()).unwrap_or(Decimal::ZERO),
            }
        } else if r.price.is_some() || has_tiers(|t| t.price.as_ref()) {
            let t = tiered(r.price.as_ref(), |t| t.price.as_ref());
            if !in_currency || !t.exists(q) {
                return Ok(None);
            }
            Action::Price {
                t,
                never_raise: r.price_mode == Some(PriceMode::NeverRaise),
            }
        } else if r.percent.is_some() || has_tiers(|t| t.percent.as_ref()) {
            let t = tiered(r.percent.as_ref(), |t| t.percent.as_ref());
            if !t.exists(q) {
                return Ok(None);
            }
            Action::Percent {
                t,
                of_base: r.of == Some(PercentOf::Base),
            }
        } else if r.amount.is_some() || has_tiers(|t| t.amount.as_ref()) {
            let t = tiered(r.amount.as_ref(), |t| t.amount.as_ref());
            if !in_currency || !t.exists(q) {
                return Ok(None);
            }
            Action::Amount(t)
        } else if let Some(round) = &r.round_to {
            Action::RoundTo(match round {
                RoundTo::Multiple { step, mode } => {
                    let Some(step) = money::parse_decimal(step) else {
                        return Ok(None);
                    };
                    RoundSpec::Multiple(step, *mode)
                }
                RoundTo::Ending { ending, mode } => {
                    let Some(ending) = money::parse_decimal(ending) else {
                        return Ok(None);
                    };
                    RoundSpec::Ending(ending, *mode)
                }
            })
        } else {
            let b = Bounds {
                min_price: dec(r.min_price.as_ref()),
                max_price: dec(r.max_price.as_ref()),
                min_margin_pct: dec(r.min_margin_pct.as_ref()),
                max_discount_pct: dec(r.max_discount_pct.as_ref()),
                min_over_base: dec(r.min_over_base.as_ref()),
                max_over_base: dec(r.max_over_base.as_ref()),
            };
            let absolute = b.min_price.is_some()
                || b.max_price.is_some()
                || b.min_over_base.is_some()
                || b.max_over_base.is_some();
            let any = absolute || b.min_margin_pct.is_some() || b.max_discount_pct.is_some();
            if !any || (absolute && !in_currency) {
                return Ok(None);
            }
            Action::Bounds(b)
        };
        Ok(Some(action))
    }

    // ---- §6.2 selection, §6.3 actions ------------------------------------------------------

    /// Runs the procedure (§6.2) for the request.
    fn run<'a>(&'a self, ctx: &Ctx<'a>) -> Result<Run<'a>, &'static str> {
        let mut running: Option<Val> = None;
        let mut base: Option<Val> = None;
        let mut applied: Vec<Cand<'a>> = Vec::new();
        let mut steps: Vec<RefStep> = Vec::new();
        let mut stopped = false;
        for (index, step) in self.steps.iter().enumerate() {
            if stopped && !step.always {
                steps.push(RefStep {
                    step: step.name.clone(),
                    skipped: true,
                    candidates: Vec::new(),
                    applied: Vec::new(),
                });
                continue;
            }
            let candidates = self.candidates(ctx, index, running.is_some())?;
            let mut ids: Vec<String> = candidates.iter().map(|c| c.id.clone()).collect();
            ids.sort();
            let chosen = self.select(step.select, candidates, running, base, ctx)?;
            if chosen.is_empty() && (step.required || index == 0) {
                return Err(NO_PRICE);
            }
            steps.push(RefStep {
                step: step.name.clone(),
                skipped: false,
                candidates: ids,
                applied: chosen.iter().map(|c| c.id.clone()).collect(),
            });
            for c in chosen {
                let val = self.eval(&c, running, base, ctx)?;
                running = Some(val);
                stopped |= c.exclusive;
                applied.push(c);
            }
            if index == 0 {
                base = running;
            }
        }
        match (running, base) {
            (Some(val), Some(base)) => Ok(Run {
                val,
                base,
                applied,
                steps,
            }),
            _ => Err(NO_PRICE),
        }
    }

    /// Which candidates apply, in application order.
    fn select<'a>(
        &self,
        select: Select,
        candidates: Vec<Cand<'a>>,
        running: Option<Val>,
        base: Option<Val>,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Cand<'a>>, &'static str> {
        // Every candidate is first evaluated on the running price; its result breaks ties.
        let mut scored: Vec<Scored<'a>> = Vec::new();
        for c in candidates {
            let val = self.eval(&c, running, base, ctx)?;
            let key = line_of(val, ctx.qty)?;
            scored.push((c, key));
        }
        let most_specific = |a: &Scored<'_>, b: &Scored<'_>| {
            a.0.level
                .cmp(&b.0.level)
                .then(b.0.spec.cmp(&a.0.spec))
                .then(b.0.priority.cmp(&a.0.priority))
                .then(a.1.cmp(&b.1))
                .then(a.0.id.as_bytes().cmp(b.0.id.as_bytes()))
        };
        let by_priority = |a: &Scored<'_>, b: &Scored<'_>| {
            b.0.priority.cmp(&a.0.priority).then(most_specific(a, b))
        };
        let by_price = |a: &Scored<'_>, b: &Scored<'_>| a.1.cmp(&b.1).then(most_specific(a, b));
        let first = |list: Vec<Scored<'a>>, cmp: &dyn Fn(&Scored<'_>, &Scored<'_>) -> Ordering| {
            list.into_iter()
                .min_by(|a, b| cmp(a, b))
                .map(|(c, _)| c)
                .into_iter()
                .collect::<Vec<_>>()
        };
        let has_exclusive = scored.iter().any(|(c, _)| c.exclusive);
        Ok(match select {
            Select::MostSpecific => first(scored, &most_specific),
            Select::Priority => first(scored, &by_priority),
            Select::Lowest => first(scored, &by_price),
            Select::All | Select::Best if has_exclusive => first(
                scored.into_iter().filter(|(c, _)| c.exclusive).collect(),
                &by_priority,
            ),
            Select::Best => first(scored, &by_price),
            Select::All => {
                let mut all: Vec<Cand<'a>> = scored.into_iter().map(|(c, _)| c).collect();
                all.sort_by(|a, b| {
                    b.priority
                        .cmp(&a.priority)
                        .then(a.level.cmp(&b.level))
                        .then(b.spec.cmp(&a.spec))
                        .then(a.id.as_bytes().cmp(b.id.as_bytes()))
                });
                all
            }
        })
    }

    /// The result of a candidate's action on the running value (§6.3–6.6).
    fn eval(
        &self,
        c: &Cand<'_>,
        running: Option<Val>,
        base: Option<Val>,
        ctx: &Ctx<'_>,
    ) -> Result<Val, &'static str> {
        let q = ctx.qty;
        let line_mode = matches!(running, Some(Val::Line(_)));
        // Once line-primary, a unit result is scaled by the quantity.
        let lift = |v: Val| -> Result<Val, &'static str> {
            match v {
                Val::Unit(u) if line_mode => Ok(Val::Line(overflow(u.exact_mul(q))?)),
                other => Ok(other),
            }
        };
        let running_unit = running.map(|r| unit_of(r, q)).transpose()?;
        let base_unit = base.map(|b| unit_of(b, q)).transpose()?;
        match &c.action {
            Action::Given(v) => lift(*v),
            Action::FromList { val, percent } => lift(percent_val(*val, *percent)?),
            Action::Price { t, never_raise } => {
                let cap = |v: Decimal, p: Option<Decimal>| match p {
                    Some(p) if *never_raise => v.min(p),
                    _ => v,
                };
                if t.graduated {
                    return t
                        .graduated_line(q, |v| Ok(cap(v, running_unit)))
                        .map(Val::Line);
                }
                let v = t.value_at(q).ok_or(NO_PRICE)?;
                match running {
                    Some(Val::Line(l)) => Ok(Val::Line(cap(overflow(v.exact_mul(q))?, Some(l)))),
                    _ => Ok(Val::Unit(cap(v, running_unit))),
                }
            }
            Action::Percent { t, of_base } => {
                let running = running.ok_or(NO_PRICE)?;
                let apply =
                    |p: Decimal, b: Option<Decimal>, x: Decimal| -> Result<Decimal, &'static str> {
                        match b {
                            Some(b) if *of_base => {
                                let delta = overflow(money::percent_of(b, x))?;
                                Ok(money::non_negative(overflow(p.checked_add(delta))?))
                            }
                            _ => overflow(money::apply_percent(p, x)),
                        }
                    };
                if t.graduated {
                    let p = unit_of(running, q)?;
                    return t
                        .graduated_line(q, |x| apply(p, base_unit, x))
                        .map(Val::Line);
                }
                let x = t.value_at(q).ok_or(NO_PRICE)?;
                match running {
                    Val::Unit(p) => Ok(Val::Unit(apply(p, base_unit, x)?)),
                    Val::Line(l) => {
                        let b = base.map(|b| line_of(b, q)).transpose()?;
                        Ok(Val::Line(apply(l, b, x)?))
                    }
                }
            }
            Action::Amount(t) => {
                let running = running.ok_or(NO_PRICE)?;
                let add =
                    |p: Decimal, a: Decimal| overflow(p.checked_add(a)).map(money::non_negative);
                if t.graduated {
                    let p = unit_of(running, q)?;
                    return t.graduated_line(q, |a| add(p, a)).map(Val::Line);
                }
                let a = t.value_at(q).ok_or(NO_PRICE)?;
                match running {
                    Val::Unit(p) => Ok(Val::Unit(add(p, a)?)),
                    Val::Line(l) => Ok(Val::Line(add(l, overflow(a.exact_mul(q))?)?)),
                }
            }
            Action::Bounds(b) => {
                let running = running.ok_or(NO_PRICE)?;
                let base = base.unwrap_or(running);
                match running {
                    Val::Unit(p) => Ok(Val::Unit(self.bound(
                        b,
                        p,
                        unit_of(base, q)?,
                        Decimal::ONE,
                        ctx,
                    )?)),
                    Val::Line(l) => Ok(Val::Line(self.bound(b, l, line_of(base, q)?, q, ctx)?)),
                }
            }
            Action::RoundTo(spec) => {
                let running = running.ok_or(NO_PRICE)?;
                // The quote's policy is only known at the end: the rule and above (§6.6).
                let policy_mode = c
                    .rule_rounding
                    .or(c.contract_rounding)
                    .or_else(|| self.currency_rounding(&ctx.currency))
                    .or(self.rounding.as_ref())
                    .and_then(|r| r.mode)
                    .unwrap_or(RoundingMode::HalfUp);
                let round = |v: Decimal| match spec {
                    RoundSpec::Multiple(step, mode) => overflow(money::round_to_multiple(
                        v,
                        *step,
                        mode.unwrap_or(policy_mode),
                    )),
                    RoundSpec::Ending(ending, mode) => overflow(money::round_to_ending(
                        v,
                        *ending,
                        mode.unwrap_or(policy_mode),
                    )),
                };
                match running {
                    Val::Unit(p) => Ok(Val::Unit(round(p)?)),
                    // Endings and multiples are properties of unit prices.
                    Val::Line(l) => {
                        let unit = round(overflow(l.checked_div(q))?)?;
                        Ok(Val::Line(overflow(unit.exact_mul(q))?))
                    }
                }
            }
        }
    }

    /// §6.5's lower bounds, for a base `base` in the basis of `k`.
    fn lower_bounds(
        &self,
        b: &Bounds,
        base: Decimal,
        k: Decimal,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Decimal>, &'static str> {
        let scaled = |v: Decimal| overflow(v.exact_mul(k));
        let mut lower: Vec<Decimal> = Vec::new();
        if let Some(v) = b.min_price {
            lower.push(scaled(v)?);
        }
        if let Some(m) = b.min_margin_pct {
            let cost = dec(ctx.product.cost.as_ref());
            if let (Some(cost), true) = (cost, ctx.currency == self.default_currency) {
                let floor = overflow(money::apply_percent(cost, m))?;
                lower.push(scaled(floor)?);
            }
        }
        if let Some(d) = b.max_discount_pct {
            lower.push(overflow(money::apply_percent(base, -d))?);
        }
        if let Some(v) = b.min_over_base {
            lower.push(overflow(base.checked_add(scaled(v)?))?);
        }
        Ok(lower)
    }

    /// §12.4: the lowest line total the floors of the bounds rules applied to a quoted line
    /// allow — the highest unit floor from its base price, times the quantity, rounded up to
    /// the currency's scale — `None` when none applied.
    pub(crate) fn line_floor<'a>(
        &'a self,
        account: &str,
        quote: &RefQuote,
        qty: Decimal,
        at: Instant,
        order: Option<InOrder<'a>>,
    ) -> Result<Option<Decimal>, &'static str> {
        let chain = self.chain(account).ok_or(UNKNOWN_ACCOUNT)?;
        let product = self.visible_product(&chain, &quote.sku, at)?;
        let ctx = Ctx {
            chain,
            product,
            qty,
            at,
            currency: quote.currency.clone(),
            order,
        };
        let mut floor: Option<Decimal> = None;
        for c in items(&self.doc.contracts) {
            for r in items(&c.rules) {
                if !quote.applied.contains(&format!("{}/{}", c.id, r.id)) {
                    continue;
                }
                if let Some(Action::Bounds(b)) = self.rule_action(r, c, &ctx)? {
                    for l in self.lower_bounds(&b, quote.base_price, Decimal::ONE, &ctx)? {
                        floor = Some(floor.map_or(l, |f| f.max(l)));
                    }
                }
            }
        }
        let scale = self.currency_scale(&quote.currency);
        Ok(match floor {
            Some(f) => Some(
                overflow(f.exact_mul(qty))?
                    .round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::AwayFromZero),
            ),
            None => None,
        })
    }

    /// §6.5 on a value `p` (a unit price, or a line with `k` = the quantity).
    fn bound(
        &self,
        b: &Bounds,
        p: Decimal,
        base: Decimal,
        k: Decimal,
        ctx: &Ctx<'_>,
    ) -> Result<Decimal, &'static str> {
        let scaled = |v: Decimal| overflow(v.exact_mul(k));
        let lower = self.lower_bounds(b, base, k, ctx)?;
        let mut upper: Vec<Decimal> = Vec::new();
        if let Some(v) = b.max_price {
            upper.push(scaled(v)?);
        }
        if let Some(v) = b.max_over_base {
            upper.push(overflow(base.checked_add(scaled(v)?))?);
        }
        let mut r = p;
        if let Some(u) = upper.into_iter().min() {
            r = r.min(u);
        }
        // The floor wins over the ceiling: it is applied last.
        if let Some(l) = lower.into_iter().max() {
            r = r.max(l);
        }
        Ok(money::non_negative(r))
    }

    // ---- §6.7 rounding ---------------------------------------------------------------------

    /// The first policy found: applied rules' own (latest first), their contracts', the lists
    /// of applied entries, the currency's, the settings', then `half_up` at stage `unit`.
    fn policy(&self, applied: &[Cand<'_>], currency: &str) -> Policy {
        let found = applied
            .iter()
            .rev()
            .find_map(|c| c.rule_rounding)
            .or_else(|| applied.iter().rev().find_map(|c| c.contract_rounding))
            .or_else(|| applied.iter().rev().find_map(|c| c.list_rounding))
            .or_else(|| self.currency_rounding(currency))
            .or(self.rounding.as_ref());
        found.map(Policy::of).unwrap_or(Policy {
            mode: RoundingMode::HalfUp,
            stage: RoundingStage::Unit,
            scale: None,
            unit_scale: 4,
        })
    }

    /// (unit_price, line_total, base_price).
    fn finish(
        &self,
        ctx: &Ctx<'_>,
        run: &Run<'_>,
    ) -> Result<(Decimal, Decimal, Decimal), &'static str> {
        let q = ctx.qty;
        let policy = self.policy(&run.applied, &ctx.currency);
        let scale = policy
            .scale
            .unwrap_or_else(|| self.currency_scale(&ctx.currency));
        let mode = policy.mode;
        Ok(match (run.val, policy.stage) {
            (Val::Line(line), _) => (
                money::round(overflow(line.checked_div(q))?, policy.unit_scale, mode),
                money::round(line, scale, mode),
                money::round(unit_of(run.base, q)?, policy.unit_scale, mode),
            ),
            (Val::Unit(p), RoundingStage::Unit) => {
                let unit = money::round(p, scale, mode);
                (
                    unit,
                    exact_product(unit, q)?,
                    money::round(unit_of(run.base, q)?, scale, mode),
                )
            }
            (Val::Unit(p), RoundingStage::Line) => (
                money::round(p, policy.unit_scale, mode),
                money::round(overflow(p.exact_mul(q))?, scale, mode),
                money::round(unit_of(run.base, q)?, policy.unit_scale, mode),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        money::parse_decimal(s).unwrap_or_default()
    }

    fn at(s: &str) -> Instant {
        Instant::parse_rfc3339(s).unwrap_or(Instant::MIN)
    }

    fn doc(json: &str) -> Reference {
        Reference::from_json(json).unwrap_or_else(|| Reference::new(&Document::default()))
    }

    const SAMPLE: &str = r#"{
      "format": "tarif/1",
      "currencies": [{"code": "EUR"}],
      "settings": {"default_price_lists": ["pub"]},
      "categories": [{"id": "tools"}, {"id": "drills", "parent": "tools"}],
      "products": [
        {"sku": "DR-1", "ean": "0012345678905", "categories": ["drills"], "cost": "50"},
        {"sku": "HIDDEN", "brand": "X"}
      ],
      "price_lists": [
        {"id": "pub", "prices": [{"sku": "DR-1", "price": "100.00",
          "tiers": [{"min_qty": 10, "price": "90.00"}]}]}
      ],
      "segments": [{"id": "pro"}],
      "accounts": [{"id": "A", "segments": ["pro"]}, {"id": "A1", "parent": "A", "aliases": {"mine": "DR-1"}}],
      "contracts": [
        {"id": "c", "audience": {"segments": ["pro"]},
         "visibility": [{"effect": "deny", "products": {"brand": "X"}}],
         "rules": [
           {"id": "tools", "step": "discount", "products": {"category": "tools"}, "percent": "-10"},
           {"id": "drills", "step": "discount", "products": {"category": "drills"}, "percent": "-20"},
           {"id": "floor", "step": "bounds", "products": "all", "min_margin_pct": "50"}
         ]}
      ]
    }"#;

    #[test]
    fn deeper_category_wins_then_floor_clamps() -> Result<(), &'static str> {
        let r = doc(SAMPLE);
        let q = r.quote("A1", "DR-1", d("2"), at("2026-01-01T00:00:00Z"), None)?;
        // 100 × 0.8 = 80 > floor 50 × 1.5 = 75.
        assert_eq!(q.unit_price.to_string(), "80.00");
        assert_eq!(q.line_total.to_string(), "160.00");
        assert_eq!(q.list_price.map(|p| p.to_string()), Some("100.00".into()));
        assert_eq!(q.applied, vec!["pub/DR-1", "c/drills", "c/floor"]);
        let q = r.quote("A1", "DR-1", d("10"), at("2026-01-01T00:00:00Z"), None)?;
        // 90 × 0.8 = 72 < 75.
        assert_eq!(q.unit_price.to_string(), "75.00");
        Ok(())
    }

    #[test]
    fn lookup_order_and_hidden_products() {
        let r = doc(SAMPLE);
        let now = at("2026-01-01T00:00:00Z");
        assert_eq!(r.lookup("A1", " MINE ", now), Ok("DR-1".into()));
        assert_eq!(r.lookup("A", "mine", now), Err(UNKNOWN_PRODUCT));
        assert_eq!(r.lookup("A", "12345678905", now), Ok("DR-1".into()));
        assert_eq!(r.lookup("A", "hidden", now), Err(UNKNOWN_PRODUCT));
        assert_eq!(r.lookup("nobody", "DR-1", now), Err(UNKNOWN_ACCOUNT));
        let caps = r.visibility("A", "HIDDEN", now);
        assert_eq!(
            caps,
            Ok(RefCapabilities {
                see: false,
                price: false,
                buy: false
            })
        );
    }

    #[test]
    fn nearest_quantity_prefers_the_larger_on_a_tie() {
        let r = doc(
            r#"{"format": "tarif/1", "products": [{"sku": "S", "order": {"min": 5, "multiple": 2}}]}"#,
        );
        assert_eq!(r.nearest_quantity("S", d("3")), Some(d("6")));
        assert_eq!(r.nearest_quantity("S", d("7")), Some(d("8")));
        assert_eq!(r.nearest_quantity("S", d("8")), None);
    }

    #[test]
    fn graduated_bands() -> Result<(), &'static str> {
        let t = Tiered {
            before: Decimal::ZERO,
            basis: None,
            own: Some(d("10")),
            tiers: vec![(d("5"), d("8"))],
            graduated: true,
        };
        // Units 1–4 at 10, the 5th unit on at 8.
        assert_eq!(t.graduated_line(d("7"), Ok)?, d("64"));
        assert_eq!(t.graduated_line(d("5"), Ok)?, d("48"));
        assert_eq!(t.graduated_line(d("4"), Ok)?, d("40"));
        Ok(())
    }
}
