//! Users and approval rules, per account as the document declares them (docs/spec.md §12.7);
//! what applies to an order is gathered along the account's lineage when it is priced.

use ahash::AHashMap;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::compact;
use super::ids::AccountId;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ApprovalIndex {
    /// The users and rules each account declares itself (accounts without any are absent).
    pub accounts: AHashMap<AccountId, AccountApprovals>,
    /// Where each user is declared: its account and its position there.
    pub users: AHashMap<Box<str>, (AccountId, u32)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AccountApprovals {
    pub users: Vec<UserDef>,
    /// Sorted by id.
    pub rules: Vec<RuleDef>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UserDef {
    pub id: Box<str>,
    pub roles: Vec<Box<str>>,
    #[serde(with = "compact")]
    pub limit: Option<Decimal>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RuleDef {
    pub id: Box<str>,
    pub kind: RuleKind,
    pub approvers: ApproverDef,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum RuleKind {
    TotalAbove(#[serde(with = "compact")] Decimal),
    /// The SKUs named and those of the categories named, sorted.
    Products(Vec<Box<str>>),
    /// Sorted by cost centre.
    CostCentreBudget(Vec<Budget>),
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Budget {
    pub cost_centre: Box<str>,
    #[serde(with = "compact")]
    pub amount: Decimal,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ApproverDef {
    Role(Box<str>),
    Users(Vec<Box<str>>),
}
