//! Simulation: the same order lines priced under a base engine and under scenarios (engines
//! with changes applied), with margins, the change against the base, and aggregates by
//! account, root account, segment, category, brand and deciding rule.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::Arc;

use ahash::{AHashMap, AHashSet};
use prefetch_index::prefetch_index;
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::batch::{
    check_lengths, number_distinct, watched, BatchAt, BatchDetail, BatchResult, Columns, Job,
    ShortChain, Watch, BATCH_STEP,
};
use super::quote::RuleRef;
use super::Engine;
use crate::error::{QueryError, Status};
use crate::index::audiences::Audience;
use crate::index::{AccountId, AudKey, Id, ProductId, RuleDef, NONE};
use roaring::RoaringBitmap;

/// How many accounts, products or rules the roll-up takes between two looks at whether to stop.
const ROLL_UP_CHECK: usize = 16_384;

/// How many lines ahead of the one added up its account's sums are fetched into the cache.
const LOOK_AHEAD: usize = 16;

/// What lines are grouped by in [`Simulation::groups`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupBy {
    /// The line's account.
    Account,
    /// The top of the account's hierarchy (the account itself when it has no parent).
    Root,
    /// Each segment the account belongs to, its ancestors' included: a line counts once in
    /// each.
    Segment,
    /// Each category of the product, with all its ancestors: a line counts in every category
    /// above it, as search facets count.
    Category,
    /// The product's brand.
    Brand,
    /// The rule (or price-list entry) that set the line's price in that scenario.
    Rule,
}

impl GroupBy {
    /// Every grouping, in the order [`Simulation::groups`] lists them.
    pub const ALL: [GroupBy; 6] = [
        GroupBy::Account,
        GroupBy::Root,
        GroupBy::Segment,
        GroupBy::Category,
        GroupBy::Brand,
        GroupBy::Rule,
    ];

    /// The grouping named `account`, `root`, `segment`, `category`, `brand` or `rule`.
    ///
    /// ```
    /// use tarif::GroupBy;
    /// assert_eq!(GroupBy::parse("segment"), Some(GroupBy::Segment));
    /// assert_eq!(GroupBy::parse("colour"), None);
    /// ```
    pub fn parse(name: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|by| by.as_str() == name)
    }

    /// `account`, `root`, `segment`, `category`, `brand` or `rule`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Account => "account",
            GroupBy::Root => "root",
            GroupBy::Segment => "segment",
            GroupBy::Category => "category",
            GroupBy::Brand => "brand",
            GroupBy::Rule => "rule",
        }
    }
}

/// The groupings a simulation computes: a set of [`GroupBy`]. Each grain the requested
/// groupings do not need is neither added up per line nor rolled up (the products' sums
/// for neither categories nor brands, the rules' for no rule), which is most of the cost of
/// the groups when only segments or accounts are asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Groupings([bool; 6]);

impl Groupings {
    fn of(by: &[GroupBy]) -> Groupings {
        let mut set = [false; 6];
        for &b in by {
            if let Some(slot) = set.get_mut(b as usize) {
                *slot = true;
            }
        }
        Groupings(set)
    }

    fn has(self, by: GroupBy) -> bool {
        self.0.get(by as usize).copied().unwrap_or(false)
    }

    /// Whether a line is added up by account (account, root and segment groups).
    fn accounts(self) -> bool {
        self.has(GroupBy::Account) || self.has(GroupBy::Root) || self.has(GroupBy::Segment)
    }

    /// Whether a line is added up by product (category and brand groups).
    fn products(self) -> bool {
        self.has(GroupBy::Category) || self.has(GroupBy::Brand)
    }

    fn rules(self) -> bool {
        self.has(GroupBy::Rule)
    }
}

/// The lines of one group under one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// What the lines are grouped by.
    pub by: GroupBy,
    /// The group: an account, segment, category or brand id, or a rule id.
    pub key: String,
    /// The scenario (0 is the base).
    pub scenario: usize,
    /// Lines in the group.
    pub lines: u64,
    /// Lines that priced.
    pub priced: u64,
    /// Sum of the line totals of the lines that priced.
    pub revenue: Decimal,
    /// Sum of the margins (line total − cost × quantity) of priced lines whose product has a
    /// cost.
    pub margin: Decimal,
    /// Lines whose status or line total differs from the base's (0 for the base).
    pub affected: u64,
}

/// One key of a grouping with every scenario side by side ([`Group::pivot`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotRow {
    /// The group's key.
    pub key: String,
    /// Per scenario (the base first): its group, or `None` when none of its lines falls in it
    /// (a rule that decides lines in one scenario only).
    pub groups: Vec<Option<Group>>,
    /// Per scenario after the base: its revenue − the base's, when both have the group.
    pub revenue_change: Vec<Option<Decimal>>,
    /// Per scenario after the base: its margin − the base's, when both have the group.
    pub margin_change: Vec<Option<Decimal>>,
}

impl Group {
    /// Adds up the groups of the same grouping, key and scenario: the groups of a
    /// simulation's partitions (lines priced apart, as `tarif.dask` does) become the groups of
    /// the whole, ordered as [`Simulation::groups`].
    ///
    /// ```
    /// use tarif::{Group, GroupBy};
    /// let part = |lines: u64, revenue: &str| Group { by: GroupBy::Brand, key: "Acme".into(),
    ///     scenario: 0, lines, priced: lines, revenue: revenue.parse().unwrap(),
    ///     margin: Default::default(), affected: 0 };
    /// let whole = Group::add_up([part(2, "10.50"), part(3, "4.25")]).unwrap();
    /// assert_eq!((whole.len(), whole[0].lines, whole[0].revenue.to_string()), (1, 5, "14.75".into()));
    /// ```
    pub fn add_up(groups: impl IntoIterator<Item = Group>) -> Result<Vec<Group>, QueryError> {
        let mut sums: std::collections::BTreeMap<(GroupBy, String, usize), Group> =
            std::collections::BTreeMap::new();
        for group in groups {
            match sums.entry((group.by, group.key.clone(), group.scenario)) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(group);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => {
                    let sum = slot.get_mut();
                    let overflow = || QueryError::Overflow(format!("the group `{}`", group.key));
                    sum.lines += group.lines;
                    sum.priced += group.priced;
                    sum.affected += group.affected;
                    sum.revenue = sum
                        .revenue
                        .checked_add(group.revenue)
                        .ok_or_else(overflow)?;
                    sum.margin = sum.margin.checked_add(group.margin).ok_or_else(overflow)?;
                }
            }
        }
        Ok(sums.into_values().collect())
    }

    /// The groups of one grouping as one row per key (in key order), each scenario's group
    /// side by side with the change of revenue and margin against the base (scenario 0).
    /// `scenarios` counts the base.
    ///
    /// ```
    /// use tarif::{Group, GroupBy};
    /// let group = |scenario: usize, revenue: &str| Group { by: GroupBy::Segment, key: "s1".into(),
    ///     scenario, lines: 1, priced: 1, revenue: revenue.parse().unwrap(),
    ///     margin: Default::default(), affected: 0 };
    /// let rows = Group::pivot(&[group(0, "10.00"), group(1, "12.50")], GroupBy::Segment, 3).unwrap();
    /// assert_eq!(rows[0].revenue_change[0].map(|c| c.to_string()).as_deref(), Some("2.50"));
    /// assert_eq!((rows[0].groups.len(), rows[0].revenue_change[1]), (3, None));
    /// ```
    pub fn pivot(
        groups: &[Group],
        by: GroupBy,
        scenarios: usize,
    ) -> Result<Vec<PivotRow>, QueryError> {
        let mut rows: std::collections::BTreeMap<&str, Vec<Option<Group>>> =
            std::collections::BTreeMap::new();
        for group in groups.iter().filter(|g| g.by == by) {
            let row = rows
                .entry(group.key.as_str())
                .or_insert_with(|| vec![None; scenarios]);
            if let Some(slot) = row.get_mut(group.scenario) {
                *slot = Some(group.clone());
            }
        }
        rows.into_iter()
            .map(|(key, groups)| {
                let change = |pick: fn(&Group) -> Decimal| {
                    let base = groups.first().cloned().flatten();
                    groups
                        .iter()
                        .skip(1)
                        .map(|g| match (g, &base) {
                            (Some(g), Some(base)) => {
                                pick(g).checked_sub(pick(base)).map(Some).ok_or_else(|| {
                                    QueryError::Overflow(format!("the change of `{key}`"))
                                })
                            }
                            _ => Ok(None),
                        })
                        .collect::<Result<Vec<_>, _>>()
                };
                Ok(PivotRow {
                    key: key.to_string(),
                    revenue_change: change(|g| g.revenue)?,
                    margin_change: change(|g| g.margin)?,
                    groups,
                })
            })
            .collect()
    }
}

/// One scenario's answer for every line.
#[derive(Debug, Clone)]
pub struct ScenarioRun<'e> {
    /// The scenario's name (`base` for the base).
    pub name: String,
    /// Statuses and amounts.
    pub result: BatchResult,
    /// Product, deciding rule, base price, cost (no list price: a simulation does not
    /// compute it, which saves a second run of the procedure on many rows).
    pub detail: BatchDetail<'e>,
    /// Line total − cost × quantity, for priced lines whose product has a cost.
    pub margin: Vec<Option<Decimal>>,
    /// Line total − the base's line total, for lines priced under both (zero for the base).
    pub change: Vec<Option<Decimal>>,
    /// Whether the line's status or line total differs from the base's.
    pub affected: Vec<bool>,
}

/// One step of a simulation's lines, priced with their detail.
struct PricedStep<'e, 'q> {
    /// The engine that priced the step: the catalog its products (and their costs) are in.
    engine: &'e Engine,
    result: BatchResult,
    /// Without SKU and cost columns ([`Columns::Sums`]).
    detail: BatchDetail<'e>,
    /// The step's quantities, by position in the step.
    qtys: Cow<'q, [Decimal]>,
    /// The number of each line's account among the batch's distinct accounts (in order of
    /// first appearance), by position in the step; empty for a step priced apart
    /// ([`Engine::priced_step`]).
    accounts: Vec<u32>,
    /// The step's rows in the order they were priced (products in order).
    order: Vec<u32>,
}

impl<'e> PricedStep<'e, '_> {
    /// Adds the step's lines into `sums`, line `i` counted under `product_of(i)` as
    /// `adjust(i, line)` makes it. In the order the lines were priced: the sums kept per
    /// product are then read in order, not at random.
    fn add_to(
        &self,
        sums: &mut Sums<'e>,
        product_of: impl Fn(usize) -> Option<ProductId>,
        adjust: impl Fn(usize, Acc) -> Acc,
    ) -> Result<(), QueryError> {
        for (k, &i) in self.order.iter().enumerate() {
            if let Some(&ahead) = self.order.get(k + LOOK_AHEAD) {
                let account = self
                    .accounts
                    .get(ahead as usize)
                    .copied()
                    .unwrap_or(u32::MAX);
                sums.prefetch_account(account);
            }
            let i = i as usize;
            let (line, rule) = self.line(i)?;
            let account = self.accounts.get(i).copied().unwrap_or(u32::MAX);
            sums.add(account, product_of(i), rule, &adjust(i, line))?;
        }
        Ok(())
    }

    /// Line `i` as the sums count it, and the rule that set its price.
    fn line(&self, i: usize) -> Result<(Acc, Option<RuleRef<'e>>), QueryError> {
        let product = self.detail.product.get(i).copied().flatten();
        let cost = product.and_then(|p| self.engine.cost(p));
        let margin = margin(&self.result, cost, &self.qtys, i)?;
        let rule = self.detail.rule.get(i).copied().flatten();
        Ok((line_of(&self.result, margin, i), rule))
    }
}

/// Some rows of a batch's columns, gathered into columns of their own.
struct Subset<'c> {
    accounts: Vec<&'c str>,
    refs: Vec<&'c str>,
    qtys: Vec<Decimal>,
    instants: Vec<crate::Instant>,
}

impl<'c> Subset<'c> {
    fn of<A: AsRef<str>, R: AsRef<str>>(
        rows: &[usize],
        accounts: &'c [A],
        refs: &'c [R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
    ) -> Subset<'c> {
        Subset {
            accounts: rows
                .iter()
                .filter_map(|&r| accounts.get(r).map(|a| a.as_ref()))
                .collect(),
            refs: rows
                .iter()
                .filter_map(|&r| refs.get(r).map(|a| a.as_ref()))
                .collect(),
            qtys: rows.iter().filter_map(|&r| qtys.get(r).copied()).collect(),
            instants: match at {
                BatchAt::PerRow(list) => {
                    rows.iter().filter_map(|&r| list.get(r).copied()).collect()
                }
                _ => Vec::new(),
            },
        }
    }

    /// The batch's instant for these rows: the same fixed one, or theirs.
    fn at<'a>(&'a self, at: BatchAt<'a>) -> BatchAt<'a> {
        match at {
            BatchAt::PerRow(_) => BatchAt::PerRow(&self.instants),
            other => other,
        }
    }
}

/// The distinct accounts of [`Engine::in_steps`]'s lines, in order of first appearance (what
/// [`PricedStep::accounts`] numbers), with their chains.
struct LineAccounts<'a> {
    names: Vec<&'a str>,
    chains: Vec<ShortChain>,
}

/// A step of [`Engine::in_steps`]: jobs of rows that found a product, or rows that did not.
#[derive(Clone, Copy)]
enum Part<'j> {
    Found(&'j [Result<Job, Status>]),
    Unfound(&'j [u32]),
}

impl<'j> Part<'j> {
    fn len(self) -> usize {
        match self {
            Part::Found(jobs) => jobs.len(),
            Part::Unfound(rows) => rows.len(),
        }
    }

    /// The jobs of the step's lines, none for rows that found no product.
    fn jobs(self) -> &'j [Result<Job, Status>] {
        match self {
            Part::Found(jobs) => jobs,
            Part::Unfound(_) => &[],
        }
    }
}

/// The lines a scenario may price differently from its base ([`Engine::reach_set`]).
struct ReachSet {
    /// The base's products whose lines may change.
    products: RoaringBitmap,
    /// The base's accounts whose lines may change, when only rules changed: a rule is a
    /// candidate only for the accounts its audiences hold. `None`: any account's.
    accounts: Option<RoaringBitmap>,
    /// Whether a product changed: then a line's reference may mean another product.
    products_changed: bool,
    /// Whether the base's product ids name the scenario's products.
    same_ids: bool,
}

impl ReachSet {
    /// Whether a line that found `product` in the base may be priced differently;
    /// `reference_and_sku` gives the line's reference and the SKU of the product it found,
    /// asked only when products changed (the reference text is a random read in a history
    /// taken in product order). A line without a product (unknown account or reference,
    /// hidden product) may find one; a reference other than the SKU itself (a GTIN, an MPN,
    /// a differently written SKU) may mean another product once products change.
    fn holds<'t>(
        &self,
        product: Option<ProductId>,
        reference_and_sku: impl FnOnce() -> (Option<&'t str>, Option<&'t str>),
    ) -> bool {
        match product {
            None => true,
            Some(p) => {
                self.products.contains(p.raw())
                    || (self.products_changed && {
                        let (reference, sku) = reference_and_sku();
                        reference != sku
                    })
            }
        }
    }

    /// Whether the lines of `account` (`None`: not known) may be priced differently, when
    /// their product may.
    fn holds_account(&self, account: Option<AccountId>) -> bool {
        match (&self.accounts, account) {
            (Some(accounts), Some(account)) => accounts.contains(account.raw()),
            _ => true,
        }
    }
}

impl ReachSet {
    /// [`ReachSet::holds`] of the next line, of `account`, `last` the previous line's
    /// product and answer: the base's lines come in product order, so most lines ask about
    /// the product the line before them did.
    fn holds_next<'t>(
        &self,
        last: &mut Option<(ProductId, bool)>,
        product: Option<ProductId>,
        account: Option<AccountId>,
        reference_and_sku: impl FnOnce() -> (Option<&'t str>, Option<&'t str>),
    ) -> bool {
        if product.is_some() && !self.holds_account(account) {
            return false;
        }
        match (product, *last) {
            // Once products changed, a line's own reference decides as well.
            _ if self.products_changed => self.holds(product, reference_and_sku),
            (Some(p), Some((q, held))) if p == q => held,
            (Some(p), _) => {
                let held = self.holds(Some(p), reference_and_sku);
                *last = Some((p, held));
                held
            }
            (None, _) => self.holds(None, reference_and_sku),
        }
    }
}

/// The rows a scenario may price differently from its base ([`Engine::reach`]).
struct Reach {
    /// Ascending.
    rows: Vec<usize>,
    /// Whether the base's product ids name the scenario's products.
    same_ids: bool,
}

/// The lines priced under the base and each scenario ([`Engine::simulate`]).
#[derive(Debug, Clone)]
pub struct Simulation<'e> {
    /// The base first, then the scenarios in the order given.
    pub runs: Vec<ScenarioRun<'e>>,
    /// Aggregates per grouping, group and scenario, sorted by grouping, key, then scenario.
    pub groups: Vec<Group>,
}

/// The sums of some lines. Counts are signed, because a scenario's change takes lines out of
/// a grain as well as puts them in. The two [`Total`]s are kept as their mantissas and
/// scales side by side, so that an `Acc` fills one 64-byte cache line (as two `Total`s it
/// took 96 bytes: a batch reads one per line at random).
#[derive(Default, Clone)]
struct Acc {
    lines: i64,
    priced: i64,
    affected: i64,
    revenue: i128,
    margin: i128,
    /// The scales of `revenue` and `margin`.
    scales: [u8; 2],
}

/// An exact running sum of decimals: the mantissa at the largest scale added so far, in 128
/// bits, so that adding an amount of the same scale (every line total of a currency) is one
/// integer addition where `Decimal` aligns and normalises every time. Its value is that of
/// the `Decimal` additions, scale included.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Total {
    mantissa: i128,
    scale: u32,
}

impl Total {
    fn of(amount: Decimal) -> Total {
        Total {
            mantissa: amount.mantissa(),
            scale: amount.scale(),
        }
    }

    /// `self + sign × other`, `None` on overflow.
    fn plus(self, other: Total, sign: i128) -> Option<Total> {
        // Negated rather than multiplied: a 128-bit multiplication per line showed up in a
        // profile of the sums.
        let signed = |m: i128| if sign < 0 { m.checked_neg() } else { Some(m) };
        if self.scale == other.scale {
            let mantissa = self.mantissa.checked_add(signed(other.mantissa)?)?;
            return Some(Total { mantissa, ..self });
        }
        let scale = self.scale.max(other.scale);
        let at_scale = |t: Total| {
            10i128
                .checked_pow(scale - t.scale)
                .and_then(|f| t.mantissa.checked_mul(f))
        };
        let mantissa = at_scale(self)?.checked_add(signed(at_scale(other)?)?)?;
        Some(Total { mantissa, scale })
    }

    /// The sum as a `Decimal`, `None` when it needs more than its 96 bits.
    fn value(self) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(self.mantissa, self.scale).ok()
    }
}

impl Engine {
    /// Prices the same lines under this engine (the base) and under each scenario engine (an
    /// engine the base's document gives with changes applied, [`Engine::apply`]), at one
    /// instant, and aggregates them. Lines are grouped by what the **base** document says of
    /// their account and product (a scenario that moves an account to another segment still
    /// counts its lines in the old one), and by the rule that set the price in each scenario.
    /// `by` names the groupings computed ([`GroupBy::ALL`] for every one; the groups of the
    /// others are left out, not computed). `between` is called after each step of each run
    /// with the rows priced so far over all runs, to report progress or stop (then the
    /// answer is `None`).
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use tarif::{BatchAt, CompileOptions, Engine, GroupBy};
    /// let base = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A", "cost": "1"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2"}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let dearer = base.apply(r#"{"format": "tarif/1-changes",
    ///   "upsert": {"prices": [{"list": "l", "sku": "A", "price": "2.50"}]}}"#, &CompileOptions::default())
    ///   .unwrap().engine;
    /// let sim = base
    ///     .simulate(&[("dearer", &dearer)], &["C", "C"], &["A", "A"], &[1.into(), 3.into()],
    ///               BatchAt::Now, None, &GroupBy::ALL, |_| ControlFlow::Continue(()))
    ///     .unwrap().unwrap();
    /// assert_eq!(sim.runs[1].change[1].map(|c| c.to_string()).as_deref(), Some("1.50"));
    /// let account = sim.groups.iter().find(|g| g.by == GroupBy::Account && g.scenario == 1).unwrap();
    /// assert_eq!((account.revenue.to_string(), account.margin.to_string(), account.affected),
    ///            ("10.00".into(), "6.00".into(), 2));
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn simulate<'e, A, R>(
        &'e self,
        scenarios: &[(&str, &'e Engine)],
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        by: &[GroupBy],
        mut between: impl FnMut(usize) -> ControlFlow<()>,
    ) -> Result<Option<Simulation<'e>>, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        let at = at.fixed();
        let rows = accounts.len();
        let engines = std::iter::once(("base", self)).chain(scenarios.iter().copied());
        let mut runs: Vec<ScenarioRun<'e>> = Vec::new();
        for (done_runs, (name, engine)) in engines.enumerate() {
            let reach = runs
                .first()
                .and_then(|base| Some((base, self.reach(engine, base, refs)?)));
            let run = match reach {
                Some((base, reach)) => {
                    let skipped = rows - reach.rows.len();
                    let step = |done: usize| between(done_runs * rows + skipped + done);
                    engine.reprice(base, &reach, accounts, refs, qtys, at, currency, step)?
                }
                None => {
                    let step = |done: usize| between(done_runs * rows + done);
                    // A simulation reports no list price: skipping it saves a second run of
                    // the procedure on rows an account-level rule speaks to.
                    engine
                        .detailed_in_steps(accounts, refs, qtys, at, currency, Columns::Base, step)?
                        .map(|(result, detail)| {
                            let margin = (0..rows)
                                .map(|row| margin(&result, cost_of(&detail, row), qtys, row))
                                .collect::<Result<Vec<_>, _>>()?;
                            Ok::<_, QueryError>((result, detail, margin))
                        })
                        .transpose()?
                }
            };
            let Some((result, detail, margin)) = run else {
                return Ok(None);
            };
            runs.push(ScenarioRun {
                name: name.to_string(),
                result,
                detail,
                margin,
                change: Vec::new(),
                affected: Vec::new(),
            });
        }
        let (base, rest) = runs
            .split_first_mut()
            .ok_or_else(|| QueryError::InvalidBatch("a simulation has at least its base".into()))?;
        base.change = (0..rows)
            .map(|row| (base.result.status.get(row) == Some(&Status::Ok)).then_some(Decimal::ZERO))
            .collect();
        base.affected = vec![false; rows];
        for run in rest.iter_mut() {
            run.change = (0..rows)
                .map(|row| change(&base.result, &run.result, row))
                .collect::<Result<Vec<_>, _>>()?;
            run.affected = (0..rows)
                .map(|row| {
                    base.result.status.get(row) != run.result.status.get(row)
                        || base.result.line_total.get(row) != run.result.line_total.get(row)
                })
                .collect();
        }
        let done = rows * runs.len();
        let groups = self.group(&runs, accounts, Groupings::of(by), || between(done))?;
        Ok(groups.map(|groups| Simulation { runs, groups }))
    }

    /// [`Engine::simulate`]'s groups alone, equal to its `groups`, without the per-line
    /// columns. Lines are priced a step at a time and added into the sums, so memory grows
    /// with the distinct accounts, products and rules of the lines, not with the lines (what a
    /// history of hundreds of millions of lines needs). A scenario made from this engine by
    /// changes whose reach is known ([`Engine::apply`]: prices, products, pricing rules)
    /// prices only the lines they can reach, under both engines, and moves those lines' share
    /// of the sums; any other scenario prices every line.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use tarif::{BatchAt, CompileOptions, Engine, GroupBy};
    /// let base = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}, {"sku": "B"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2"}, {"sku": "B", "price": "5"}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let dearer = base.apply(r#"{"format": "tarif/1-changes",
    ///   "upsert": {"prices": [{"list": "l", "sku": "A", "price": "2.50"}]}}"#, &CompileOptions::default())
    ///   .unwrap().engine;
    /// let (accounts, refs, qtys) = (["C", "C", "C"], ["A", "B", "A"], [1.into(), 1.into(), 3.into()]);
    /// let at = BatchAt::One(base.parse_instant("2026-06-01").unwrap());
    /// let groups = base
    ///     .simulate_groups(&[("dearer", &dearer)], &accounts, &refs, &qtys, at, None, &GroupBy::ALL,
    ///                      |_| ControlFlow::Continue(()))
    ///     .unwrap().unwrap();
    /// let full = base
    ///     .simulate(&[("dearer", &dearer)], &accounts, &refs, &qtys, at, None, &GroupBy::ALL,
    ///               |_| ControlFlow::Continue(()))
    ///     .unwrap().unwrap();
    /// assert_eq!(groups, full.groups);
    /// let account = groups.iter().find(|g| g.by == GroupBy::Account && g.scenario == 1).unwrap();
    /// assert_eq!((account.revenue.to_string(), account.affected), ("15.00".into(), 2));
    /// // The account's groups alone: the same sums, without rolling up products and rules.
    /// let accounts_only = base
    ///     .simulate_groups(&[("dearer", &dearer)], &accounts, &refs, &qtys, at, None, &[GroupBy::Account],
    ///                      |_| ControlFlow::Continue(()))
    ///     .unwrap().unwrap();
    /// assert_eq!(accounts_only, groups.into_iter().filter(|g| g.by == GroupBy::Account).collect::<Vec<_>>());
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn simulate_groups<A, R>(
        &self,
        scenarios: &[(&str, &Engine)],
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        by: &[GroupBy],
        mut between: impl FnMut(usize) -> ControlFlow<()>,
    ) -> Result<Option<Vec<Group>>, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        check_lengths(accounts.len(), refs.len(), qtys.len(), at)?;
        let at = at.fixed();
        let rows = accounts.len();
        let reaches: Vec<Option<ReachSet>> =
            scenarios.iter().map(|(_, e)| self.reach_set(e)).collect();
        // Scenarios whose reach is unknown price every line and compare it with the base's.
        let keep_base = reaches.iter().any(Option::is_none);
        // Each line's product and answer under the base, by row, for those scenarios alone.
        let (mut line_product, mut base_lines) = match keep_base {
            true => (
                vec![None; rows],
                vec![(Status::InvalidBatch, Decimal::ZERO); rows],
            ),
            false => (Vec::new(), Vec::new()),
        };
        let mut reached: Vec<Reached> = scenarios.iter().map(|_| Reached::default()).collect();
        // A scenario that resolves rows as the base does prices the reached lines' jobs as
        // the base's run resolved them, without resolving their texts again.
        let resolved_alike: Vec<bool> = (scenarios.iter())
            .map(|(_, e)| self.resolves_as(e))
            .collect();
        let mut last_held = vec![None; scenarios.len()];
        let wanted = Groupings::of(by);
        let columns = Columns::Sums {
            rules: wanted.rules(),
        };
        let mut base_sums = Sums::by_product(self, wanted);
        let resolved = self.in_steps(
            accounts,
            refs,
            qtys,
            at,
            currency,
            columns,
            |rows, step, jobs| {
                let product_of = |i: usize| step.detail.product.get(i).copied().flatten();
                step.add_to(&mut base_sums, product_of, |_, line| line)?;
                for (i, &row) in rows.iter().enumerate() {
                    let row = row as usize;
                    let product = product_of(i);
                    if keep_base {
                        if let Some(slot) = line_product.get_mut(row) {
                            *slot = product;
                        }
                        if let Some(slot) = base_lines.get_mut(row) {
                            *slot = line_answer(&step.result, i);
                        }
                    }
                    let texts = || {
                        let reference = refs.get(row).map(|r| r.as_ref());
                        (reference, product.map(|p| self.sku(p)))
                    };
                    let mut line: Option<(Acc, Option<RuleRef<'_>>)> = None;
                    let job = || match jobs.get(i) {
                        Some(job) => *job,
                        None => Err(step
                            .result
                            .status
                            .get(i)
                            .copied()
                            .unwrap_or(Status::InvalidBatch)),
                    };
                    let account = jobs
                        .get(i)
                        .and_then(|job| job.as_ref().ok())
                        .map(|job| job.account);
                    let scenarios = (reached.iter_mut().zip(&reaches))
                        .zip(last_held.iter_mut().zip(&resolved_alike));
                    for ((reached, reach), (last, &alike)) in scenarios {
                        if reach
                            .as_ref()
                            .is_some_and(|set| set.holds_next(last, product, account, texts))
                        {
                            let account = step.accounts.get(i).copied().unwrap_or(u32::MAX);
                            let (acc, rule) = match &line {
                                Some(known) => known.clone(),
                                None => line.insert(step.line(i)?).clone(),
                            };
                            let base = Before {
                                line: acc,
                                rule,
                                answer: line_answer(&step.result, i),
                            };
                            reached.push(row, account, product, base, alike.then(job));
                        }
                    }
                }
                Ok(())
            },
            &mut between,
        )?;
        let Some(LineAccounts {
            names: account_names,
            chains,
        }) = resolved
        else {
            return Ok(None);
        };
        let mut sums = Vec::with_capacity(1 + scenarios.len());
        let runs = scenarios.iter().zip(reached.iter().zip(&reaches));
        for (s, ((_, engine), (lines, reach))) in runs.enumerate() {
            let mut jobs = lines.jobs.chunks(BATCH_STEP);
            let done_before = (s + 1) * rows;
            let scenario_sums;
            let finished = match reach {
                // The base's sums, with the share of the lines the changes reach moved.
                Some(_) => {
                    let mut change = Sums::change(wanted);
                    let skipped = rows - lines.rows.len();
                    let mut done = 0;
                    let mut finished = true;
                    let chunks = lines.rows.chunks(BATCH_STEP).zip(
                        (lines.accounts.chunks(BATCH_STEP))
                            .zip(lines.products.chunks(BATCH_STEP))
                            .zip(lines.before.chunks(BATCH_STEP)),
                    );
                    for (chunk, ((chunk_accounts, chunk_products), chunk_before)) in chunks {
                        let sub;
                        let after = match jobs.next() {
                            Some(jobs) => engine.priced_jobs(jobs, &chains, chunk, qtys, columns),
                            None => {
                                sub = Subset::of(chunk, accounts, refs, qtys, at);
                                engine.priced_step(
                                    &sub.accounts,
                                    &sub.refs,
                                    &sub.qtys,
                                    sub.at(at),
                                    currency,
                                    columns,
                                )
                            }
                        };
                        let at_grains = chunk_accounts.iter().zip(chunk_products);
                        for (i, ((&account, &product), base)) in
                            at_grains.zip(chunk_before).enumerate()
                        {
                            change.remove(account, product, base.rule, &base.line)?;
                            let (new, new_rule) = after.line(i)?;
                            let affected = base.answer != line_answer(&after.result, i);
                            change.add(account, product, new_rule, &new.affected(affected))?;
                        }
                        done += chunk.len();
                        if between(done_before + skipped + done).is_break() {
                            finished = false;
                            break;
                        }
                    }
                    scenario_sums = RunSums::OverBase(change);
                    finished
                }
                None => {
                    let mut whole = Sums::by_product(self, wanted);
                    let done = |rows: usize| between(done_before + rows);
                    // The same column numbers its accounts as the base's run did.
                    let finished = engine.in_steps(
                        accounts,
                        refs,
                        qtys,
                        at,
                        currency,
                        columns,
                        |rows, step, _| {
                            let row = |i: usize| rows.get(i).map_or(usize::MAX, |&r| r as usize);
                            // A line counts under the base's product.
                            let product_of = |i: usize| line_product.get(row(i)).copied().flatten();
                            step.add_to(&mut whole, product_of, |i, line| {
                                let answer = line_answer(&step.result, i);
                                line.affected(base_lines.get(row(i)) != Some(&answer))
                            })
                        },
                        done,
                    )?;
                    scenario_sums = RunSums::Whole(whole);
                    finished.is_some()
                }
            };
            if !finished {
                return Ok(None);
            }
            sums.push(scenario_sums);
        }
        let done = rows * (1 + scenarios.len());
        self.roll_up(&base_sums, &sums, &account_names, || between(done))
    }

    /// Whether `other` resolves a batch's rows as this engine does: it shares every part that
    /// resolution reads (accounts, catalog, references, visibility, currencies) and has the same
    /// default visibility and currency, as an engine made from this one by a change of rules
    /// does when no selector moves. A change of price lists rebuilds the accounts (the lists they
    /// reach): it does not.
    fn resolves_as(&self, other: &Engine) -> bool {
        let (a, b) = (&self.index, &other.index);
        Arc::ptr_eq(&a.audiences, &b.audiences)
            && Arc::ptr_eq(&a.catalog, &b.catalog)
            && Arc::ptr_eq(&a.refs, &b.refs)
            && Arc::ptr_eq(&a.visibility, &b.visibility)
            && Arc::ptr_eq(&a.currencies, &b.currencies)
            && a.settings.default_open == b.settings.default_open
            && a.settings.default_currency == b.settings.default_currency
    }

    /// Prices the `jobs` of the batch `rows` (with their `qtys`) with the detail of `columns`,
    /// as one step of a simulation: the jobs an engine that [resolves
    /// as](Engine::resolves_as) this one found, whose accounts have `chains`. Line `i` is job
    /// `i`.
    fn priced_jobs<'e, 'q>(
        &'e self,
        jobs: &[Result<Job, Status>],
        chains: &[ShortChain],
        rows: &[usize],
        qtys: &[Decimal],
        columns: Columns,
    ) -> PricedStep<'e, 'q> {
        let status = jobs.iter().map(|job| job.err().unwrap_or(Status::Ok));
        let (result, detail) =
            self.price_detailed(jobs, chains, status.collect(), columns, &Watch::default());
        let qtys = (rows.iter())
            .map(|&row| qtys.get(row).copied().unwrap_or_default())
            .collect();
        PricedStep {
            engine: self,
            result,
            detail,
            qtys: Cow::Owned(qtys),
            accounts: Vec::new(),
            order: (0..dense(jobs.len())).collect(),
        }
    }

    /// Prices lines with the detail of `columns`, as one step of a simulation.
    fn priced_step<'e, 'q>(
        &'e self,
        accounts: &[&str],
        refs: &[&str],
        qtys: &'q [Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        columns: Columns,
    ) -> PricedStep<'e, 'q> {
        let (result, detail, order) = self.price_rows_in_product_order(
            accounts,
            refs,
            qtys,
            at,
            currency,
            columns,
            &Watch::default(),
        );
        PricedStep {
            engine: self,
            result,
            detail,
            qtys: Cow::Borrowed(qtys),
            accounts: Vec::new(),
            order,
        }
    }

    /// Prices every line [`BATCH_STEP`] at a time with the detail of `columns`, handing each
    /// step to `each` with the batch's rows it holds (line `i` of the step is row `rows[i]`)
    /// and their jobs (none for rows that found no product), then calling `between` (on the
    /// caller's thread) with the lines done; `between` answers whether to go on. When every
    /// step ran, the lines' [`LineAccounts`]; `None` when stopped. The steps take the rows that
    /// found a product in product order, then the others: a step of rows in their own order
    /// meets a history's products at random. The next step is priced while `each` adds up the
    /// current one, so that a sequential `each` does not leave the other cores idle.
    #[allow(clippy::too_many_arguments)]
    fn in_steps<'e, 'a, A, R>(
        &'e self,
        accounts: &'a [A],
        refs: &'a [R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        columns: Columns,
        mut each: impl FnMut(&[u32], &PricedStep<'e, '_>, &[Result<Job, Status>]) -> Result<(), QueryError>
            + Send,
        mut between: impl FnMut(usize) -> ControlFlow<()>,
    ) -> Result<Option<LineAccounts<'a>>, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        let rows = accounts.len();
        // Each distinct account and reference is resolved once for every step: a step of a
        // history with a million SKUs holds tens of thousands of them, so resolving per step
        // found nearly every reference again in nearly every step. Every row is resolved to
        // its job in one pass in row order, then sorted by product: resolving the rows of
        // each step in product order read the batch's columns at random (1.3 s of 10M rows).
        let resolve = |watch: &Watch| {
            let distinct = self.resolve_distinct(accounts, refs, currency, watch);
            let (status, jobs) = self.jobs_of(&distinct, refs, qtys, at, watch);
            (distinct, status, jobs)
        };
        let Some((distinct, status, jobs)) = watched(rows, |_| between(0), resolve) else {
            return Ok(None);
        };
        // Pass 2 leaves the rows that found a product first, in product order.
        let found = jobs
            .get(..jobs.partition_point(Result::is_ok))
            .unwrap_or_default();
        let unfound: Vec<u32> = (status.par_iter().enumerate())
            .filter(|(_, status)| **status != Status::Ok)
            .filter_map(|(row, _)| u32::try_from(row).ok())
            .collect();
        let price = |part: Part<'_>| -> (Vec<u32>, PricedStep<'e, 'static>) {
            let lines = part.len();
            let (result, detail, rows, qtys, accounts) = match part {
                Part::Found(jobs) => {
                    let all_ok = vec![Status::Ok; lines];
                    let watch = Watch::default();
                    let chains = &distinct.chains;
                    let (result, detail) =
                        self.price_detailed(jobs, chains, all_ok, columns, &watch);
                    let jobs = jobs.iter().flatten();
                    let rows = jobs.clone().map(|job| job.row).collect();
                    let qtys = jobs.clone().map(|job| job.qty).collect();
                    let accounts = jobs.map(|job| job.distinct_account).collect();
                    (result, detail, rows, qtys, accounts)
                }
                Part::Unfound(rows) => {
                    let column = |row: &u32| status.get(*row as usize).copied();
                    let statuses = rows
                        .iter()
                        .map(|row| column(row).unwrap_or(Status::InvalidBatch));
                    let result = BatchResult::unpriced(statuses.collect());
                    let qtys = (rows.iter())
                        .map(|&row| qtys.get(row as usize).copied().unwrap_or_default())
                        .collect();
                    let accounts = (rows.iter())
                        .map(|&row| {
                            distinct
                                .account_of_row
                                .get(row as usize)
                                .copied()
                                .unwrap_or(u32::MAX)
                        })
                        .collect();
                    (
                        result,
                        BatchDetail::unpriced(lines, columns),
                        rows.to_vec(),
                        qtys,
                        accounts,
                    )
                }
            };
            let step = PricedStep {
                engine: self,
                result,
                detail,
                qtys: Cow::Owned(qtys),
                accounts,
                order: (0..dense(lines)).collect(),
            };
            (rows, step)
        };
        let mut parts = (found.chunks(BATCH_STEP).map(Part::Found))
            .chain(unfound.chunks(BATCH_STEP).map(Part::Unfound));
        let mut current = parts.next().map(|part| (part.jobs(), price(part)));
        let mut done = 0;
        while let Some((jobs, (part, step))) = current.take() {
            let next = parts.next();
            let priced = || next.map(|part| (part.jobs(), price(part)));
            let (next, added) = rayon::join(priced, || each(&part, &step, jobs));
            added?;
            done += part.len();
            if between(done).is_break() {
                return Ok(None);
            }
            current = next;
        }
        Ok(Some(LineAccounts {
            names: distinct.account_names,
            chains: distinct.chains,
        }))
    }

    /// The rows of the base's run that `scenario` may price differently ([`Engine::reach_set`]).
    fn reach<R: AsRef<str>>(
        &self,
        scenario: &Engine,
        base: &ScenarioRun<'_>,
        refs: &[R],
    ) -> Option<Reach> {
        let set = self.reach_set(scenario)?;
        let rows = (0..base.result.len())
            .filter(|&row| {
                set.holds(base.detail.product.get(row).copied().flatten(), || {
                    (
                        refs.get(row).map(|r| r.as_ref()),
                        base.detail.sku.get(row).copied().flatten(),
                    )
                })
            })
            .collect();
        Some(Reach {
            rows,
            same_ids: set.same_ids,
        })
    }

    /// The lines `scenario` may price differently from this engine, when that is known from
    /// the changes that made it from this engine ([`Engine::apply`], at most a few applies
    /// back): the lines of the products a changed price, product or pricing rule can reach. A
    /// product's price reads only its own entries, its own attributes and the rules whose
    /// selectors hold it, so every other line keeps the base's answer. `None` (every line may
    /// change) for any other change: accounts, segments, contracts, lists, settings,
    /// currencies, categories or stock may move any line.
    fn reach_set(&self, scenario: &Engine) -> Option<ReachSet> {
        let touched = if scenario.engine_version() == self.engine_version() {
            Vec::new()
        } else {
            scenario.derived.as_ref()?.since(self.engine_version())?
        };
        let mut products_changed = false;
        for t in &touched {
            match t.section {
                "products" => products_changed = true,
                "prices" | "rules" => {}
                _ => return None,
            }
        }
        // Without a product changed, both documents list the same products in the same
        // order: their ids are the same.
        let same_ids =
            !products_changed && scenario.index.catalog.skus.len() == self.index.catalog.skus.len();
        let mut products = RoaringBitmap::new();
        let add_sku = |products: &mut RoaringBitmap, sku: &str| {
            products.extend(self.products_with_sku(sku).iter().map(|p| p.raw()));
        };
        let rules_touched = touched.iter().any(|t| t.section == "rules");
        let (base_rules, scenario_rules) = if rules_touched {
            (self.rules_by_id(), scenario.rules_by_id())
        } else {
            Default::default()
        };
        // The audiences of the changed rules, while only rules changed and both engines
        // number audiences alike.
        let mut audiences =
            (Arc::ptr_eq(&self.index.audiences, &scenario.index.audiences)).then(AHashSet::new);
        for t in &touched {
            if t.section != "rules" {
                audiences = None;
                add_sku(&mut products, &t.key);
                continue;
            }
            let id = format!("{}/{}", t.parent.as_deref().unwrap_or_default(), t.key);
            let before = base_rules.get(id.as_str()).into_iter().flatten();
            let after = scenario_rules.get(id.as_str()).into_iter().flatten();
            // A rule neither engine prices with: what it reaches is not known here.
            before.clone().chain(after.clone()).next()?;
            if let Some(audiences) = audiences.as_mut() {
                for rule in before.clone().chain(after.clone()) {
                    audiences.extend(rule.audience.iter().copied());
                }
            }
            for rule in before {
                products |= &self.index.catalog.selectors.get(rule.selector)?.products;
            }
            for rule in after {
                let matched = &scenario
                    .index
                    .catalog
                    .selectors
                    .get(rule.selector)?
                    .products;
                if same_ids {
                    products |= matched;
                } else {
                    for p in matched {
                        let p = ProductId::from_index(p as usize)?;
                        add_sku(&mut products, scenario.sku(p));
                    }
                }
            }
        }
        Some(ReachSet {
            products,
            accounts: audiences.and_then(|audiences| self.accounts_in(&audiences)),
            products_changed,
            same_ids,
        })
    }

    /// Each pricing rule by its `contract/rule` id (one per selector).
    fn rules_by_id(&self) -> AHashMap<&str, Vec<&RuleDef>> {
        let mut by_id: AHashMap<&str, Vec<&RuleDef>> = AHashMap::new();
        for rule in self.index.pricing.rules.iter() {
            by_id.entry(&*rule.id).or_default().push(rule);
        }
        by_id
    }

    /// The accounts whose chain holds one of `audiences`; `None` when everyone is among them.
    fn accounts_in(&self, audiences: &AHashSet<AudKey>) -> Option<RoaringBitmap> {
        let everyone =
            |&aud: &AudKey| self.index.audiences.audience_of(aud) == Some(Audience::Everyone);
        if audiences.iter().any(everyone) {
            return None;
        }
        let accounts = &self.index.audiences.accounts;
        Some(
            (accounts.iter_enumerated())
                .filter(|(_, def)| def.chain.iter().any(|(aud, _)| audiences.contains(aud)))
                .map(|(id, _)| id.raw())
                .collect(),
        )
    }

    /// A scenario's run that takes the base's answer for every row out of `reach` and prices
    /// the rows in it.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn reprice<'e, A, R>(
        &'e self,
        base: &ScenarioRun<'e>,
        reach: &Reach,
        accounts: &[A],
        refs: &[R],
        qtys: &[Decimal],
        at: BatchAt<'_>,
        currency: Option<&str>,
        between: impl FnMut(usize) -> ControlFlow<()>,
    ) -> Result<Option<(BatchResult, BatchDetail<'e>, Vec<Option<Decimal>>)>, QueryError>
    where
        A: AsRef<str> + Sync,
        R: AsRef<str> + Sync,
    {
        let sub = Subset::of(&reach.rows, accounts, refs, qtys, at);
        let Some((priced, priced_detail)) = self.detailed_in_steps(
            &sub.accounts,
            &sub.refs,
            &sub.qtys,
            sub.at(at),
            currency,
            Columns::Base,
            between,
        )?
        else {
            return Ok(None);
        };
        let mut result = base.result.clone();
        let mut detail = base.detail.clone();
        let mut margins = base.margin.clone();
        if !reach.same_ids {
            // The base's product ids do not name this engine's products.
            for (product, sku) in detail.product.iter_mut().zip(&detail.sku) {
                *product = sku.and_then(|sku| self.products_with_sku(sku).first().copied());
            }
        }
        for (i, &row) in reach.rows.iter().enumerate() {
            result.put(row, &priced, i);
            detail.put(row, &priced_detail, i);
            if let Some(slot) = margins.get_mut(row) {
                *slot = margin(&priced, cost_of(&priced_detail, i), &sub.qtys, i)?;
            }
        }
        Ok(Some((result, detail, margins)))
    }

    /// The aggregates of [`Simulation::groups`], from the runs' columns.
    fn group<A: AsRef<str> + Sync>(
        &self,
        runs: &[ScenarioRun<'_>],
        accounts: &[A],
        wanted: Groupings,
        go_on: impl FnMut() -> ControlFlow<()>,
    ) -> Result<Option<Vec<Group>>, QueryError> {
        let Some(base) = runs.first() else {
            return Ok(Some(Vec::new()));
        };
        let (line_account, account_names) = number_distinct(accounts, &Watch::default());
        let line_product = &base.detail.product;
        let mut sums: Vec<Sums<'_>> = runs
            .par_iter()
            .map(|run| {
                let mut sums = Sums::by_product(self, wanted);
                for (row, &account) in line_account.iter().enumerate() {
                    let margin = run.margin.get(row).copied().flatten();
                    let line = line_of(&run.result, margin, row)
                        .affected(run.affected.get(row).copied().unwrap_or(false));
                    let rule = run.detail.rule.get(row).copied().flatten();
                    let product = line_product.get(row).copied().flatten();
                    sums.add(account, product, rule, &line)?;
                }
                Ok(sums)
            })
            .collect::<Result<_, QueryError>>()?;
        let scenarios: Vec<RunSums<'_>> = sums.drain(1..).map(RunSums::Whole).collect();
        let base = sums.pop().unwrap_or_default();
        self.roll_up(&base, &scenarios, &account_names, go_on)
    }

    /// The groups of the sums of the base and each scenario at the finest grains (its lines'
    /// accounts, products and rules): the groups above them (root, segments, categories,
    /// brand) are sums of those, added once per distinct account or product instead of once
    /// per line.
    fn roll_up<'a>(
        &'a self,
        base: &Sums<'a>,
        scenarios: &[RunSums<'a>],
        account_names: &[&'a str],
        mut go_on: impl FnMut() -> ControlFlow<()>,
    ) -> Result<Option<Vec<Group>>, QueryError> {
        // Asked every so many accounts, products or rules: a roll-up of a million products and
        // rules takes seconds, and Ctrl-C must not wait for it.
        let mut stop = |n: usize| n % ROLL_UP_CHECK == 0 && go_on().is_break();
        let runs = 1 + scenarios.len();
        let mut keys = Keys::default();
        // Per key, its scenarios' sums side by side: a key's groups come out together.
        let mut totals: Vec<Acc> = Vec::new();
        let mut per_run: Vec<Option<Acc>> = Vec::with_capacity(runs);
        let add = |totals: &mut Vec<Acc>, key: u32, per_run: &[Option<Acc>]| {
            let start = key as usize * runs;
            if totals.len() < start + runs {
                totals.resize(start + runs, Acc::default());
            }
            let slots = totals.get_mut(start..start + runs).unwrap_or_default();
            for (total, acc) in slots.iter_mut().zip(per_run) {
                if let Some(acc) = acc {
                    total.add(acc)?;
                }
            }
            Ok::<_, QueryError>(())
        };
        let mut ids = Vec::new();
        let wanted = base.wanted;
        let account_names = match wanted.accounts() {
            true => account_names,
            false => &[],
        };
        for (a, account) in account_names.iter().enumerate() {
            if stop(a) {
                return Ok(None);
            }
            ids.clear();
            if wanted.has(GroupBy::Account) {
                ids.push(keys.id(GroupBy::Account, account));
            }
            if let Ok((_, def)) = self.account(account) {
                let info = self.account_info(def);
                if wanted.has(GroupBy::Root) {
                    ids.push(keys.id(GroupBy::Root, info.root));
                }
                if wanted.has(GroupBy::Segment) {
                    for segment in info.segments {
                        ids.push(keys.id(GroupBy::Segment, segment));
                    }
                }
            }
            ids.sort_unstable();
            ids.dedup();
            each_run(base, scenarios, |sums| sums.accounts.get(a), &mut per_run)?;
            for &id in &ids {
                add(&mut totals, id, &per_run)?;
            }
        }
        let catalog = &self.index.catalog;
        // A category's or brand's key, looked up once for all the products under it.
        let mut category_keys = vec![u32::MAX; catalog.categories.len()];
        let mut brand_keys = vec![u32::MAX; catalog.brands.len()];
        let mut key_of = |cache: &mut [u32], at: usize, by: GroupBy, name: &'a str| {
            let cached = cache.get_mut(at)?;
            if *cached == u32::MAX {
                *cached = keys.id(by, name);
            }
            Some(*cached)
        };
        // Every line's product is the base's, so the base has every product of the lines
        // (and none when no grouping needs them).
        let products = base.products.column().iter().enumerate();
        let products = products
            .filter(|(_, acc)| acc.lines > 0)
            .filter_map(|(p, _)| ProductId::from_index(p));
        for (n, product) in products.enumerate() {
            if stop(n) {
                return Ok(None);
            }
            ids.clear();
            let categories = catalog.category_closure.get(product).into_iter().flatten();
            for &c in categories.filter(|_| wanted.has(GroupBy::Category)) {
                if let Some(def) = catalog.categories.get(c as usize) {
                    ids.extend(key_of(
                        &mut category_keys,
                        c as usize,
                        GroupBy::Category,
                        &def.id,
                    ));
                }
            }
            let brand = catalog.brand.get(product).copied().unwrap_or(NONE) as usize;
            if let Some(name) = catalog
                .brands
                .get(brand)
                .filter(|_| wanted.has(GroupBy::Brand))
            {
                ids.extend(key_of(&mut brand_keys, brand, GroupBy::Brand, name));
            }
            ids.sort_unstable();
            ids.dedup();
            let at = product.index();
            each_run(base, scenarios, |sums| sums.products.get(at), &mut per_run)?;
            for &id in &ids {
                add(&mut totals, id, &per_run)?;
            }
        }
        let mut order: Vec<u32> = (0..dense(keys.names.len())).collect();
        order
            .sort_unstable_by(|&a, &b| keys.names.get(a as usize).cmp(&keys.names.get(b as usize)));
        // Room for every group a key may have, rules included: growing it would copy it.
        let rules = base.rules.len()
            + scenarios
                .iter()
                .map(|r| r.sums().rules.len())
                .sum::<usize>();
        let mut groups = Vec::with_capacity((keys.names.len() + rules) * runs);
        for key in order {
            if let Some(&(by, name)) = keys.names.get(key as usize) {
                let start = key as usize * runs;
                let sums = totals.get(start..start + runs).unwrap_or_default();
                push_groups(&mut groups, by, name, sums)?;
            }
        }
        // The rules come last (`GroupBy::Rule` orders last): each run's rules sorted by their
        // text and merged, so that a rule found in several runs (each engine has its own
        // copy of the text) is one key, without hashing every rule's text.
        let base_rules = base.sorted_rules();
        let scenario_rules: Vec<_> = scenarios
            .iter()
            .map(|run| run.sums().sorted_rules())
            .collect();
        let mut cursors = vec![0usize; runs];
        let mut row: Vec<Acc> = Vec::with_capacity(runs);
        for n in 0.. {
            if stop(n) {
                return Ok(None);
            }
            let heads = std::iter::once(&base_rules)
                .chain(&scenario_rules)
                .zip(&cursors)
                .filter_map(|(rules, &at)| rules.get(at).map(|(rule, _)| *rule));
            let Some(rule) = heads.min_by(|a, b| a.cmp_id(b)) else {
                break;
            };
            // The rule's sums in each run: the run's own, or the base's and the change.
            let take = |rules: &[(RuleRef<'a>, &Acc)], cursor: &mut usize| {
                let mut sum: Option<Acc> = None;
                while let Some((next, acc)) = rules.get(*cursor) {
                    if next.cmp_id(&rule) != std::cmp::Ordering::Equal {
                        break;
                    }
                    sum.get_or_insert_with(Acc::default).add(acc)?;
                    *cursor += 1;
                }
                Ok::<_, QueryError>(sum)
            };
            let (base_cursor, scenario_cursors) = cursors.split_at_mut(1);
            let base_sum = match base_cursor.first_mut() {
                Some(cursor) => take(&base_rules, cursor)?,
                None => None,
            };
            per_run.clear();
            per_run.push(base_sum.clone());
            let runs = scenarios.iter().zip(&scenario_rules).zip(scenario_cursors);
            for ((run, rules), cursor) in runs {
                let own = take(rules, cursor)?;
                per_run.push(match run {
                    RunSums::Whole(_) => own,
                    RunSums::OverBase(_) => over_base(base_sum.as_ref(), own.as_ref())?,
                });
            }
            row.clear();
            row.extend(per_run.iter().map(|acc| acc.clone().unwrap_or_default()));
            push_groups(&mut groups, GroupBy::Rule, rule, &row)?;
        }
        Ok(Some(groups))
    }
}

/// A scenario's sums at the finest grains.
enum RunSums<'e> {
    /// Of every line, priced under the scenario.
    Whole(Sums<'e>),
    /// The change from the base's sums: the lines the scenario's changes reach, taken out as
    /// the base priced them and put back as the scenario does.
    OverBase(Sums<'e>),
}

impl<'e> RunSums<'e> {
    fn sums(&self) -> &Sums<'e> {
        match self {
            RunSums::Whole(sums) | RunSums::OverBase(sums) => sums,
        }
    }
}

/// A grain's sums in the base and in each scenario (`None` where it has none), into `out`.
fn each_run<'s, 'e: 's>(
    base: &'s Sums<'e>,
    scenarios: &'s [RunSums<'e>],
    grain: impl Fn(&'s Sums<'e>) -> Option<&'s Acc>,
    out: &mut Vec<Option<Acc>>,
) -> Result<(), QueryError> {
    out.clear();
    let in_base = grain(base);
    out.push(in_base.cloned());
    for run in scenarios {
        out.push(match run {
            RunSums::Whole(sums) => grain(sums).cloned(),
            RunSums::OverBase(change) => over_base(in_base, grain(change))?,
        });
    }
    Ok(())
}

/// The base's sums with a scenario's change added.
fn over_base(base: Option<&Acc>, change: Option<&Acc>) -> Result<Option<Acc>, QueryError> {
    Ok(match (base, change) {
        (None, None) => None,
        (base, change) => {
            let mut sum = base.cloned().unwrap_or_default();
            if let Some(change) = change {
                sum.add(change)?;
            }
            Some(sum)
        }
    })
}

/// The groups of one key, one per run that has lines in it.
fn push_groups(
    groups: &mut Vec<Group>,
    by: GroupBy,
    key: impl std::fmt::Display,
    per_run: &[Acc],
) -> Result<(), QueryError> {
    if per_run.iter().all(|acc| acc.lines <= 0) {
        return Ok(());
    }
    let key = key.to_string();
    let overflow = || QueryError::Overflow(format!("the group `{key}`"));
    let count = |n: i64| u64::try_from(n).map_err(|_| overflow());
    let first = groups.len();
    for (scenario, acc) in per_run.iter().enumerate() {
        if acc.lines <= 0 {
            continue;
        }
        groups.push(Group {
            by,
            key: String::new(),
            scenario,
            lines: count(acc.lines)?,
            priced: count(acc.priced)?,
            revenue: acc.revenue().value().ok_or_else(overflow)?,
            margin: acc.margin().value().ok_or_else(overflow)?,
            affected: count(acc.affected)?,
        });
    }
    // The key's text is copied for each run but the last, which takes it.
    if let Some((last, others)) = groups.get_mut(first..).and_then(|g| g.split_last_mut()) {
        for group in others {
            group.key.clone_from(&key);
        }
        last.key = key;
    }
    Ok(())
}

/// The lines the changes of a scenario reach, each with the number of its account, its
/// product and its answer in the base, in the order the base priced them.
#[derive(Default)]
struct Reached<'e> {
    rows: Vec<usize>,
    accounts: Vec<u32>,
    products: Vec<Option<ProductId>>,
    /// Kept from the base's run: pricing the lines under the base a second time, next to the
    /// scenario, was half of each scenario's time.
    before: Vec<Before<'e>>,
    /// The lines' jobs as the base's run resolved them, for a scenario that resolves as the
    /// base does (else empty): resolving the reached lines' texts again was a third of its time.
    jobs: Vec<Result<Job, Status>>,
}

/// A reached line as the base priced it.
struct Before<'e> {
    line: Acc,
    rule: Option<RuleRef<'e>>,
    answer: (Status, Decimal),
}

impl<'e> Reached<'e> {
    fn push(
        &mut self,
        row: usize,
        account: u32,
        product: Option<ProductId>,
        base: Before<'e>,
        job: Option<Result<Job, Status>>,
    ) {
        self.rows.push(row);
        self.accounts.push(account);
        self.products.push(product);
        self.before.push(base);
        self.jobs.extend(job);
    }
}

/// One run's sums at the finest grains: per account of the lines (numbered in order of first
/// appearance), per product (by id) and per rule that set a price.
#[derive(Default)]
struct Sums<'e> {
    accounts: Table,
    products: Table,
    rules: Vec<RuleRef<'e>>,
    rule_sums: Vec<Acc>,
    rule_ids: AHashMap<Decider, usize>,
    /// The last line's rule and its position: lines come in product order, and the lines of
    /// a product mostly share the rule that sets their price, so most lines skip the map.
    last_rule: Option<(Decider, usize)>,
    /// The groupings asked for: the grains they do not need are not added up.
    wanted: Groupings,
}

/// Sums by account number or product id: a column for a run of every line, a map for a
/// change that reaches a few (a column as long as the catalog would be paged in for them).
enum Table {
    Column(Vec<Acc>),
    Map(AHashMap<u32, Acc>),
}

impl Default for Table {
    fn default() -> Self {
        Table::Column(Vec::new())
    }
}

impl Table {
    /// The column's sums (none for a map).
    fn column(&self) -> &[Acc] {
        match self {
            Table::Column(column) => column,
            Table::Map(_) => &[],
        }
    }

    fn get(&self, at: usize) -> Option<&Acc> {
        match self {
            Table::Column(column) => column.get(at),
            Table::Map(map) => map.get(&dense(at)),
        }
    }

    /// The accumulator at `at`, made if it is not there yet.
    fn slot(&mut self, at: usize) -> Option<&mut Acc> {
        match self {
            Table::Column(column) => slot(column, at),
            Table::Map(map) => Some(map.entry(dense(at)).or_default()),
        }
    }
}

/// A rule by the address of its id text: one engine gives the same rule the same text, so a
/// line's rule is found without hashing or comparing the text. (The same rule of two engines
/// gets two entries; the roll-up adds them under one key.)
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Decider {
    Rule(usize, usize),
    Entry((usize, usize), (usize, usize)),
}

impl Decider {
    fn of(rule: RuleRef<'_>) -> Decider {
        match rule {
            RuleRef::Rule(id) => Decider::Rule(id.as_ptr() as usize, id.len()),
            RuleRef::Entry { list, sku } => Decider::Entry(
                (list.as_ptr() as usize, list.len()),
                (sku.as_ptr() as usize, sku.len()),
            ),
        }
    }
}

impl<'e> Sums<'e> {
    /// The rules and their sums, ordered by the rules' text.
    fn sorted_rules(&self) -> Vec<(RuleRef<'e>, &Acc)> {
        let mut rules: Vec<(RuleRef<'e>, &Acc)> =
            self.rules.iter().copied().zip(&self.rule_sums).collect();
        rules.par_sort_unstable_by(|a, b| a.0.cmp_id(&b.0));
        rules
    }

    /// Sums of every line, with a product column as long as `base`'s catalog (the lines'
    /// products are the base's) when `wanted` adds up by product: made whole once rather
    /// than grown step by step, which would copy it each time.
    fn by_product(base: &Engine, wanted: Groupings) -> Sums<'e> {
        let products = match wanted.products() {
            true => base.index.catalog.skus.len(),
            false => 0,
        };
        Sums {
            products: Table::Column(vec![Acc::default(); products]),
            wanted,
            ..Sums::default()
        }
    }

    /// Sums kept as a change over another run's: by grain in maps.
    fn change(wanted: Groupings) -> Sums<'e> {
        Sums {
            accounts: Table::Map(AHashMap::new()),
            products: Table::Map(AHashMap::new()),
            wanted,
            ..Sums::default()
        }
    }

    /// Starts fetching the sums of `account` into the cache, for a line added a few lines on:
    /// a batch in product order meets its accounts at random.
    fn prefetch_account(&self, account: u32) {
        if let (true, Table::Column(column)) = (self.wanted.accounts(), &self.accounts) {
            prefetch_index(column.as_slice(), account as usize);
        }
    }

    /// Adds a line priced for `account`, of `product`, whose price `rule` set.
    fn add(
        &mut self,
        account: u32,
        product: Option<ProductId>,
        rule: Option<RuleRef<'e>>,
        line: &Acc,
    ) -> Result<(), QueryError> {
        self.each(account, product, rule, |acc| acc.add(line))
    }

    /// Takes back a line [`Sums::add`] added.
    fn remove(
        &mut self,
        account: u32,
        product: Option<ProductId>,
        rule: Option<RuleRef<'e>>,
        line: &Acc,
    ) -> Result<(), QueryError> {
        self.each(account, product, rule, |acc| acc.remove(line))
    }

    fn each(
        &mut self,
        account: u32,
        product: Option<ProductId>,
        rule: Option<RuleRef<'e>>,
        mut apply: impl FnMut(&mut Acc) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        let wanted = self.wanted;
        if let Some(acc) = wanted
            .accounts()
            .then(|| self.accounts.slot(account as usize))
            .flatten()
        {
            apply(acc)?;
        }
        if let Some(acc) = product
            .filter(|_| wanted.products())
            .and_then(|p| self.products.slot(p.index()))
        {
            apply(acc)?;
        }
        if let Some(rule) = rule.filter(|_| wanted.rules()) {
            let decider = Decider::of(rule);
            let at = match self.last_rule {
                Some((last, at)) if last == decider => at,
                _ => {
                    let rules = &mut self.rules;
                    let at = *self.rule_ids.entry(decider).or_insert_with(|| {
                        rules.push(rule);
                        rules.len() - 1
                    });
                    self.last_rule = Some((decider, at));
                    at
                }
            };
            if let Some(acc) = slot(&mut self.rule_sums, at) {
                apply(acc)?;
            }
        }
        Ok(())
    }
}

/// The accumulator at `at`, the table grown to hold it.
fn slot(table: &mut Vec<Acc>, at: usize) -> Option<&mut Acc> {
    if table.len() <= at {
        table.resize(at + 1, Acc::default());
    }
    table.get_mut(at)
}

/// What a line's answer is compared on to count it affected: its status and line total.
fn line_answer(result: &BatchResult, row: usize) -> (Status, Decimal) {
    (
        result
            .status
            .get(row)
            .copied()
            .unwrap_or(Status::InvalidBatch),
        result.line_total.get(row).copied().unwrap_or_default(),
    )
}

/// Row `row` of a run as one line of the sums: counted, priced or not, its total and margin.
fn line_of(result: &BatchResult, margin: Option<Decimal>, row: usize) -> Acc {
    let priced = result.status.get(row) == Some(&Status::Ok);
    let revenue = if priced {
        result.line_total.get(row).copied().unwrap_or_default()
    } else {
        Decimal::ZERO
    };
    let (revenue, margin) = (Total::of(revenue), Total::of(margin.unwrap_or_default()));
    Acc {
        lines: 1,
        priced: i64::from(priced),
        affected: 0,
        revenue: revenue.mantissa,
        margin: margin.mantissa,
        // A decimal's scale is at most 28.
        scales: [revenue.scale, margin.scale].map(|s| u8::try_from(s).unwrap_or(u8::MAX)),
    }
}

impl Acc {
    /// The line counted as affected (or not).
    fn affected(mut self, affected: bool) -> Acc {
        self.affected = i64::from(affected);
        self
    }

    fn add(&mut self, other: &Acc) -> Result<(), QueryError> {
        self.combine(other, 1)
    }

    fn remove(&mut self, other: &Acc) -> Result<(), QueryError> {
        self.combine(other, -1)
    }

    fn combine(&mut self, other: &Acc, sign: i64) -> Result<(), QueryError> {
        let overflow = || QueryError::Overflow("a simulation aggregate".into());
        let count = |a: i64, b: i64| {
            match sign < 0 {
                true => a.checked_sub(b),
                false => a.checked_add(b),
            }
            .ok_or_else(overflow)
        };
        self.lines = count(self.lines, other.lines)?;
        self.priced = count(self.priced, other.priced)?;
        self.affected = count(self.affected, other.affected)?;
        let revenue = self.revenue().plus(other.revenue(), i128::from(sign));
        let margin = self.margin().plus(other.margin(), i128::from(sign));
        let (Some(revenue), Some(margin)) = (revenue, margin) else {
            return Err(overflow());
        };
        let scale = |t: Total| u8::try_from(t.scale).map_err(|_| overflow());
        self.scales = [scale(revenue)?, scale(margin)?];
        (self.revenue, self.margin) = (revenue.mantissa, margin.mantissa);
        Ok(())
    }

    fn revenue(&self) -> Total {
        Total {
            mantissa: self.revenue,
            scale: u32::from(self.scales[0]),
        }
    }

    fn margin(&self) -> Total {
        Total {
            mantissa: self.margin,
            scale: u32::from(self.scales[1]),
        }
    }
}

/// A position in a table of distinct values, which a batch's `u32` row count bounds.
fn dense(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// Numbers the group keys of a simulation other than rules.
#[derive(Default)]
struct Keys<'a> {
    ids: AHashMap<(GroupBy, &'a str), u32>,
    names: Vec<(GroupBy, &'a str)>,
}

impl<'a> Keys<'a> {
    fn id(&mut self, by: GroupBy, key: &'a str) -> u32 {
        let next = dense(self.names.len());
        *self.ids.entry((by, key)).or_insert_with(|| {
            self.names.push((by, key));
            next
        })
    }
}

/// The cost column's value at `row`, for a detail that has the column.
fn cost_of(detail: &BatchDetail<'_>, row: usize) -> Option<Decimal> {
    detail.cost.get(row).copied().flatten()
}

/// The margin of line `row`, whose product costs `cost` per unit.
fn margin(
    result: &BatchResult,
    cost: Option<Decimal>,
    qtys: &[Decimal],
    row: usize,
) -> Result<Option<Decimal>, QueryError> {
    if result.status.get(row) != Some(&Status::Ok) {
        return Ok(None);
    }
    let (Some(cost), Some(total), Some(qty)) = (cost, result.line_total.get(row), qtys.get(row))
    else {
        return Ok(None);
    };
    cost.checked_mul(*qty)
        .and_then(|c| total.checked_sub(c))
        .map(Some)
        .ok_or_else(|| QueryError::Overflow(format!("the margin of line {row}")))
}

fn change(
    base: &BatchResult,
    run: &BatchResult,
    row: usize,
) -> Result<Option<Decimal>, QueryError> {
    let ok = |r: &BatchResult| r.status.get(row) == Some(&Status::Ok);
    if !(ok(base) && ok(run)) {
        return Ok(None);
    }
    match (run.line_total.get(row), base.line_total.get(row)) {
        (Some(after), Some(before)) => after
            .checked_sub(*before)
            .map(Some)
            .ok_or_else(|| QueryError::Overflow(format!("the change of line {row}"))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, QuoteRequest};

    fn base() -> Engine {
        Engine::from_json(
            &serde_json::json!({
                "format": "tarif/1", "currencies": [{"code": "EUR"}],
                "settings": {"default_price_lists": ["l"]},
                "categories": [{"id": "cables"}, {"id": "tools"}],
                "products": [
                    {"sku": "Y", "ean": "4000000000017", "categories": ["tools"]},
                    {"sku": "X", "ean": "4000000000024", "categories": ["cables"]},
                    {"sku": "Z", "categories": ["tools"]}],
                "price_lists": [{"id": "l", "prices": [
                    {"sku": "X", "price": "10.00"}, {"sku": "Y", "price": "20.00"},
                    {"sku": "Z", "price": "30.00"}]}],
                "accounts": [{"id": "C"}],
                "contracts": [{"id": "k", "audience": "all", "rules": [
                    {"id": "cables", "step": "discount", "products": {"category": "cables"},
                     "percent": "-10"}]}]
            })
            .to_string(),
        )
        .unwrap()
    }

    /// The rows `changes` lead a simulation to reprice, and the simulation.
    fn repriced(changes: serde_json::Value, refs: &[&str]) -> (Option<Vec<usize>>, Vec<String>) {
        let base = base();
        let scenario = base
            .apply(&changes.to_string(), &CompileOptions::default())
            .unwrap()
            .engine;
        let accounts = vec!["C"; refs.len()];
        let qtys = vec![Decimal::ONE; refs.len()];
        let sim = base
            .simulate(
                &[("s", &scenario)],
                &accounts,
                refs,
                &qtys,
                BatchAt::Now,
                None,
                &GroupBy::ALL,
                |_| ControlFlow::Continue(()),
            )
            .unwrap()
            .unwrap();
        let reach = base.reach(&scenario, &sim.runs[0], refs).map(|r| r.rows);
        let run = &sim.runs[1];
        let answers = (0..refs.len())
            .map(|row| match (run.result.status[row], run.detail.sku[row]) {
                (Status::Ok, Some(sku)) => format!("{sku} {}", run.result.unit_price[row]),
                (status, _) => status.code().to_string(),
            })
            .collect();
        (reach, answers)
    }

    #[test]
    fn a_changed_price_or_rule_reprices_only_the_lines_of_the_products_it_reaches() {
        let refs = ["X", "Y", "Z", "X", "nope"];
        let price = serde_json::json!({"format": "tarif/1-changes",
            "upsert": {"prices": [{"list": "l", "sku": "Z", "price": "31.00"}]}});
        assert_eq!(
            repriced(price, &refs),
            (
                Some(vec![2, 4]),
                vec!["X 9.00", "Y 20.00", "Z 31.00", "X 9.00", "UNKNOWN_PRODUCT"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            )
        );
        // The rule moves from cables to tools: the lines of both categories are repriced.
        let rule = serde_json::json!({"format": "tarif/1-changes", "upsert": {"rules": [
            {"contract": "k", "id": "cables", "step": "discount",
             "products": {"category": "tools"}, "percent": "-50"}]}});
        let (reach, answers) = repriced(rule, &refs);
        assert_eq!(reach, Some(vec![0, 1, 2, 3, 4]));
        assert_eq!(answers[..3], ["X 10.00", "Y 10.00", "Z 15.00"]);
        // A contract's header may move any line; the same header again changes nothing.
        let header = |valid: serde_json::Value| {
            serde_json::json!({"format": "tarif/1-changes", "upsert": {"contracts": [
                {"id": "k", "audience": "all", "valid": valid}]}})
        };
        assert_eq!(
            repriced(header(serde_json::json!({"from": "2020-01-01"})), &refs).0,
            None
        );
        let unchanged = serde_json::json!({"format": "tarif/1-changes", "upsert": {"contracts": [
            {"id": "k", "audience": "all"}]}});
        assert_eq!(repriced(unchanged, &refs).0, Some(vec![4]));
    }

    /// Y takes X's EAN and comes first in the document: the line that asked for the EAN and
    /// found X finds Y under the scenario, though neither X's price nor its rules changed.
    #[test]
    fn a_changed_product_reprices_the_lines_whose_reference_may_now_mean_another() {
        let refs = ["4000000000024", "X", "Z"];
        let product = serde_json::json!({"format": "tarif/1-changes", "upsert": {"products": [
            {"sku": "Y", "ean": "4000000000024", "categories": ["tools"]}]}});
        let (reach, answers) = repriced(product, &refs);
        assert_eq!(reach, Some(vec![0]));
        assert_eq!(answers, ["Y 20.00", "X 9.00", "Z 30.00"]);
    }

    /// A change of a rule that keeps its selector leaves the engine resolving rows as the base
    /// does (a moved selector rebuilds the catalog's selectable sets): its reached lines
    /// (over more than one step, an unknown reference among them) are priced from the base's
    /// jobs, and the groups alone equal the full simulation, where every line is resolved.
    #[test]
    fn a_scenario_of_rules_prices_the_base_jobs_as_resolving_again_would() {
        let base = base();
        let rule = serde_json::json!({"format": "tarif/1-changes", "upsert": {"rules": [
            {"contract": "k", "id": "cables", "step": "discount",
             "products": {"category": "cables"}, "percent": "-50", "min_qty": "3"}]}});
        let rows = BATCH_STEP + 7;
        let refs: Vec<&str> = (0..rows).map(|i| ["Z", "X", "Y", "nope"][i % 4]).collect();
        let accounts: Vec<&str> = (0..rows).map(|i| ["C", "D"][(i / 3) % 2]).collect();
        let qtys: Vec<Decimal> = (0..rows).map(|i| Decimal::from(1 + i % 5)).collect();
        let instants = vec![base.parse_instant("2026-06-01").unwrap(); rows];
        let (full, groups, applied) =
            full_and_alone(&base, rule, &accounts, &refs, &qtys, &instants);
        assert!(base.resolves_as(&applied));
        assert_eq!(groups, full);
        let cables = |scenario: usize| {
            groups
                .iter()
                .find(|g| g.by == GroupBy::Category && g.key == "cables" && g.scenario == scenario)
                .map(|g| (g.revenue, g.affected))
        };
        assert_ne!(cables(0).map(|t| t.0), cables(1).map(|t| t.0));
        assert!(cables(1).is_some_and(|t| t.1 > 0));
    }

    /// A change of the catalog makes an engine that resolves references its own way: its
    /// reached lines are resolved again, and the groups alone still equal the full simulation.
    #[test]
    fn a_scenario_that_resolves_otherwise_resolves_its_lines_again() {
        let base = base();
        let product = serde_json::json!({"format": "tarif/1-changes", "upsert": {"products": [
            {"sku": "Y", "ean": "4000000000024", "categories": ["tools"]}]}});
        let refs = ["4000000000024", "X", "Z", "nope"];
        let accounts = ["C"; 4];
        let qtys = vec![Decimal::ONE; refs.len()];
        let instants = vec![base.parse_instant("2026-06-01").unwrap(); refs.len()];
        let (full, groups, applied) =
            full_and_alone(&base, product, &accounts, &refs, &qtys, &instants);
        assert!(!base.resolves_as(&applied));
        assert!(base.resolves_as(&base));
        assert_eq!(groups, full);
    }

    /// The groups of the full simulation and of the groups alone, for a scenario made by
    /// `changes` (only the reached lines moved) and the same scenario compiled whole (every
    /// line priced again); the scenario engine made by the change comes back too.
    fn full_and_alone(
        base: &Engine,
        changes: serde_json::Value,
        accounts: &[&str],
        refs: &[&str],
        qtys: &[Decimal],
        instants: &[crate::Instant],
    ) -> (Vec<Group>, Vec<Group>, Engine) {
        let applied = base
            .apply(&changes.to_string(), &CompileOptions::default())
            .unwrap()
            .engine;
        let whole = Engine::from_json(applied.source().unwrap()).unwrap();
        let scenarios = [("applied", &applied), ("whole", &whole)];
        let at = BatchAt::PerRow(instants);
        let go = |_: usize| ControlFlow::Continue(());
        let full = base
            .simulate(
                &scenarios,
                accounts,
                refs,
                qtys,
                at,
                None,
                &GroupBy::ALL,
                go,
            )
            .unwrap()
            .unwrap();
        let alone = base
            .simulate_groups(
                &scenarios,
                accounts,
                refs,
                qtys,
                at,
                None,
                &GroupBy::ALL,
                go,
            )
            .unwrap()
            .unwrap();
        (full.groups, alone, applied)
    }

    /// Lines at their own instants, against a scenario made by a change (only the reached
    /// lines moved) and the same scenario compiled whole (every line priced again): the groups
    /// alone are the groups of the full simulation.
    #[test]
    fn the_groups_alone_equal_the_full_simulation_at_per_line_instants() {
        let base = base();
        let changes = serde_json::json!({"format": "tarif/1-changes", "upsert": {"prices": [
            {"sku": "Z", "list": "l", "price": "12.00", "valid": {"from": "2026-03-01"}},
            {"sku": "Z", "list": "l", "price": "30.00", "valid": {"until": "2026-03-01"}}]}});
        let refs = ["Z", "X", "Z", "Y", "nope", "Z"];
        let accounts = ["C", "C", "C", "C", "C", "D"];
        let qtys = vec![Decimal::TWO; refs.len()];
        let instants: Vec<crate::Instant> = ["2026-01-10", "2026-02-01", "2026-05-01"]
            .iter()
            .cycle()
            .take(refs.len())
            .map(|d| base.parse_instant(d).unwrap())
            .collect();
        let (full, groups, _) = full_and_alone(&base, changes, &accounts, &refs, &qtys, &instants);
        assert_eq!(groups, full);
        let revenue = |scenario: usize| {
            groups
                .iter()
                .find(|g| g.by == GroupBy::Account && g.key == "C" && g.scenario == scenario)
                .map(|g| (g.revenue.to_string(), g.affected))
        };
        // Two of each: Z 30, X 9, Z 30, Y 20 in the base; Z at 12 from March in the scenarios
        // (the May line), 30 before it (the January line).
        assert_eq!(revenue(0), Some(("178.00".into(), 0)));
        assert_eq!(revenue(1), Some(("142.00".into(), 1)));
        assert_eq!(revenue(1), revenue(2));
    }

    /// Over more than one step, each line is priced with its own quantity and instant: the
    /// steps read the batch's columns at the rows they price, and their own rows from zero.
    #[test]
    fn the_groups_alone_across_steps_equal_the_full_simulation() {
        let base = base();
        let changes = serde_json::json!({"format": "tarif/1-changes", "upsert": {"prices": [
            {"sku": "Z", "list": "l", "price": "12.00", "valid": {"from": "2026-03-01"}}]}});
        let rows = BATCH_STEP + 5;
        let refs: Vec<&str> = (0..rows).map(|i| ["Z", "X", "Y", "nope"][i % 4]).collect();
        let accounts: Vec<&str> = (0..rows).map(|i| ["C", "D"][(i / 3) % 2]).collect();
        let qtys: Vec<Decimal> = (0..rows).map(|i| Decimal::from(1 + i % 5)).collect();
        let dates = ["2026-01-10", "2026-05-01", "2026-02-01"];
        let instants: Vec<crate::Instant> = (0..rows)
            .map(|i| base.parse_instant(dates[i % 3]).unwrap())
            .collect();
        let (full, groups, applied) =
            full_and_alone(&base, changes, &accounts, &refs, &qtys, &instants);
        assert_eq!(groups, full);
        let scenarios = [("applied", &applied)];
        let go = |_: usize| ControlFlow::Continue(());
        // The lines of the last step alone, row by row, add up to what the groups say of
        // them when the first step's lines are taken away.
        let tail = BATCH_STEP..rows;
        let last = base
            .simulate_groups(
                &scenarios,
                &accounts[tail.clone()],
                &refs[tail.clone()],
                &qtys[tail.clone()],
                BatchAt::PerRow(&instants[tail.clone()]),
                None,
                &GroupBy::ALL,
                go,
            )
            .unwrap()
            .unwrap();
        let quoted: Decimal = tail
            .filter_map(|row| {
                let request = QuoteRequest::new(accounts[row], refs[row], qtys[row]);
                let quote = base.quote(&request.at(instants[row]));
                quote.ok().map(|q| q.line_total)
            })
            .sum();
        let base_revenue: Decimal = last
            .iter()
            .filter(|g| g.by == GroupBy::Account && g.scenario == 0)
            .map(|g| g.revenue)
            .sum();
        assert_eq!(base_revenue, quoted);
    }

    /// A segment's rule changed: only its accounts' lines are reached, and the groups are
    /// the full simulation's. A rule spoken to everyone reaches every account.
    #[test]
    fn a_changed_rule_reaches_only_the_accounts_of_its_audiences() {
        let base = Engine::from_json(
            &serde_json::json!({
                "format": "tarif/1", "currencies": [{"code": "EUR"}],
                "settings": {"default_price_lists": ["l"]},
                "segments": [{"id": "installers"}],
                "categories": [{"id": "tools"}],
                "products": [{"sku": "Y", "categories": ["tools"]}],
                "price_lists": [{"id": "l", "prices": [{"sku": "Y", "price": "20.00"}]}],
                "accounts": [{"id": "C", "segments": ["installers"]}, {"id": "D"},
                             {"id": "E", "segments": ["installers"]}],
                "contracts": [
                    {"id": "seg", "audience": {"segments": ["installers"]}, "rules": [
                        {"id": "tools", "step": "discount", "products": {"category": "tools"},
                         "percent": "-10"}]},
                    {"id": "k", "audience": "all", "rules": [
                        {"id": "tools", "step": "discount", "products": {"category": "tools"},
                         "percent": "-1"}]}]
            })
            .to_string(),
        )
        .unwrap();
        let deeper = |contract: &str, percent: &str| {
            serde_json::json!({"format": "tarif/1-changes", "upsert": {"rules": [
                {"contract": contract, "id": "tools", "step": "discount",
                 "products": {"category": "tools"}, "percent": percent}]}})
        };
        let accounts_reached = |changes: serde_json::Value| {
            let scenario = base
                .apply(&changes.to_string(), &CompileOptions::default())
                .unwrap()
                .engine;
            let set = base.reach_set(&scenario).unwrap();
            let names: Vec<&str> = base.accounts().collect();
            set.accounts.map(|accounts| {
                accounts
                    .iter()
                    .map(|a| names[a as usize])
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(accounts_reached(deeper("seg", "-15")), Some(vec!["C", "E"]));
        assert_eq!(accounts_reached(deeper("k", "-2")), None);
        let accounts = ["C", "D", "E", "D", "C"];
        let refs = ["Y"; 5];
        let qtys = vec![Decimal::ONE; refs.len()];
        let instants = vec![base.parse_instant("2026-01-10").unwrap(); refs.len()];
        let (full, groups, _) = full_and_alone(
            &base,
            deeper("seg", "-15"),
            &accounts,
            &refs,
            &qtys,
            &instants,
        );
        assert_eq!(groups, full);
        let affected = |account: &str| {
            (groups.iter())
                .find(|g| g.by == GroupBy::Account && g.key == account && g.scenario == 1)
                .map(|g| g.affected)
        };
        assert_eq!(
            [affected("C"), affected("D"), affected("E")],
            [Some(2), Some(0), Some(1)]
        );
    }

    fn decimal(mantissa: i64, scale: u32) -> Decimal {
        Decimal::new(mantissa, scale)
    }

    proptest::proptest! {
        #[test]
        fn a_total_equals_the_decimal_additions_scale_included(
            terms in proptest::collection::vec((-10_000_000_000i64..10_000_000_000, 0u32..8, proptest::bool::ANY), 0..40)
        ) {
            let mut total = Total::default();
            let mut sum = Decimal::ZERO;
            for &(mantissa, scale, add) in &terms {
                let amount = decimal(mantissa, scale);
                let sign = if add { 1 } else { -1 };
                total = total.plus(Total::of(amount), sign).unwrap();
                sum = if add { sum + amount } else { sum - amount };
            }
            let value = total.value().unwrap();
            proptest::prop_assert_eq!(value, sum);
            proptest::prop_assert_eq!(value.to_string(), sum.to_string());
        }
    }

    #[test]
    fn an_acc_fills_one_cache_line() {
        assert_eq!(std::mem::size_of::<Acc>(), 64);
    }

    #[test]
    fn a_total_past_what_a_decimal_holds_is_an_overflow_not_a_rounded_sum() {
        let max = Total::of(Decimal::MAX);
        let twice = max.plus(max, 1).unwrap();
        assert_eq!(twice.value(), None);
        assert_eq!(twice.plus(max, -1).unwrap().value(), Some(Decimal::MAX));
    }

    #[test]
    fn groups_come_out_by_grouping_then_key_text_then_scenario() {
        let base = base();
        let dearer = base
            .apply(
                &serde_json::json!({"format": "tarif/1-changes", "upsert": {"prices": [
                    {"sku": "Z", "list": "l", "price": "31.00"}]}})
                .to_string(),
                &CompileOptions::default(),
            )
            .unwrap()
            .engine;
        let refs = ["Z", "X", "Y", "Z", "X"];
        let accounts = ["D", "C", "C", "C", "D"];
        let qtys = vec![Decimal::ONE; refs.len()];
        let go = |_: usize| ControlFlow::Continue(());
        let groups = base
            .simulate_groups(
                &[("dearer", &dearer)],
                &accounts,
                &refs,
                &qtys,
                BatchAt::Now,
                None,
                &GroupBy::ALL,
                go,
            )
            .unwrap()
            .unwrap();
        let order: Vec<_> = groups
            .iter()
            .map(|g| (g.by, g.key.clone(), g.scenario))
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        assert!(groups
            .iter()
            .any(|g| g.by == GroupBy::Rule && g.scenario == 1));
    }
}
