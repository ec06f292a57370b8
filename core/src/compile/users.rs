//! Users, roles and approval rules of accounts (docs/spec.md §12.7), checked all at once.

use std::collections::BTreeSet;

use ahash::AHashMap;

use super::audience::AudienceBuild;
use super::catalog::CatalogBuild;
use super::{values, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::approvals::{ApprovalIndex, ApproverDef, Budget, RuleDef, RuleKind, UserDef};
use crate::index::ids::AccountId;
use crate::model::{self, Document, Item};

/// The roles every document knows; others are the custom roles its users hold.
pub(crate) const BUILT_IN_ROLES: [&str; 4] = ["admin", "approver", "buyer", "viewer"];

/// Reads the users and rules of the accounts the audience phase kept. Elements that did not
/// parse were reported by that phase already.
pub(crate) fn build(
    doc: &Document,
    catalog: &CatalogBuild,
    audiences: &AudienceBuild,
    diags: &mut Diags,
) -> ApprovalIndex {
    let mut index = ApprovalIndex::default();
    let mut kept: Vec<(usize, AccountId, &model::Account)> = Vec::new();
    for (i, item) in doc.accounts.iter().enumerate() {
        let Item::Ok(account) = item else { continue };
        let Some(&id) = audiences.audiences.account_index.get(account.id.as_str()) else {
            continue;
        };
        // A duplicate account was reported by the audience phase: its first declaration wins.
        if kept.iter().any(|(_, seen, _)| *seen == id) {
            continue;
        }
        kept.push((i, id, account));
    }
    let mut roles: BTreeSet<&str> = BUILT_IN_ROLES.into_iter().collect();
    for &(i, id, account) in &kept {
        let users = users(account, i, id, &mut index, diags);
        for user in &account.users {
            roles.extend(user.roles.iter().map(String::as_str));
        }
        if !users.is_empty() {
            index.accounts.entry(id).or_default().users = users;
        }
    }
    for &(i, id, account) in &kept {
        let lineage = audiences
            .audiences
            .accounts
            .get(id)
            .map(|def| def.lineage.as_slice())
            .unwrap_or_default();
        let check = RuleCheck {
            catalog,
            roles: &roles,
            users: &index.users,
            lineage,
        };
        let mut rules: Vec<RuleDef> = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for (k, rule) in account.approvals.iter().enumerate() {
            let path = format!("accounts[{i}].approvals[{k}]");
            if !values::id_ok(&rule.id, &format!("{path}.id"), diags) {
                continue;
            }
            if !seen.insert(&rule.id) {
                diags.error(
                    Code::DuplicateId,
                    &format!("{path}.id"),
                    format!(
                        "duplicate approval rule `{}` in account `{}`",
                        rule.id, account.id
                    ),
                    &[&rule.id],
                );
                continue;
            }
            if let Some(def) = check.rule(rule, &path, diags) {
                rules.push(def);
            }
        }
        if !rules.is_empty() {
            rules.sort_by(|a, b| a.id.cmp(&b.id));
            index.accounts.entry(id).or_default().rules = rules;
        }
    }
    index
}

fn users(
    account: &model::Account,
    i: usize,
    id: AccountId,
    index: &mut ApprovalIndex,
    diags: &mut Diags,
) -> Vec<UserDef> {
    let mut out = Vec::new();
    for (j, user) in account.users.iter().enumerate() {
        let path = format!("accounts[{i}].users[{j}]");
        let mut ok = values::id_ok(&user.id, &format!("{path}.id"), diags);
        if ok && index.users.contains_key(user.id.as_str()) {
            diags.error(
                Code::DuplicateId,
                &format!("{path}.id"),
                format!("duplicate user `{}`", user.id),
                &[&user.id],
            );
            ok = false;
        }
        if user.roles.is_empty() {
            diags.error(
                Code::MissingField,
                &format!("{path}.roles"),
                format!("user `{}` has no role", user.id),
                &[&user.id],
            );
            ok = false;
        }
        for (r, role) in user.roles.iter().enumerate() {
            ok &= values::id_ok(role, &format!("{path}.roles[{r}]"), diags);
        }
        let limit = match &user.limit {
            Some(text) => match values::non_negative(text, &format!("{path}.limit"), diags) {
                Some(limit) => Some(limit),
                None => {
                    ok = false;
                    None
                }
            },
            None => None,
        };
        if !ok {
            continue;
        }
        let position = u32::try_from(out.len()).unwrap_or(u32::MAX);
        index.users.insert(user.id.as_str().into(), (id, position));
        out.push(UserDef {
            id: user.id.as_str().into(),
            roles: user.roles.iter().map(|r| r.as_str().into()).collect(),
            limit,
        });
    }
    out
}

/// What a rule of one account is checked against.
struct RuleCheck<'a> {
    catalog: &'a CatalogBuild,
    roles: &'a BTreeSet<&'a str>,
    users: &'a AHashMap<Box<str>, (AccountId, u32)>,
    /// The account then its ancestors: the accounts whose users the rule may name.
    lineage: &'a [AccountId],
}

impl RuleCheck<'_> {
    fn rule(&self, rule: &model::ApprovalRule, path: &str, diags: &mut Diags) -> Option<RuleDef> {
        let errors = diags.list.len();
        let approvers = self.approvers(rule, path, diags);
        let unused = |field: &str, set: bool, diags: &mut Diags| {
            if set {
                diags.error(
                    Code::UnknownField,
                    &format!("{path}.{field}"),
                    format!("`{field}` does not apply to a `{}` rule", rule.kind),
                    &[&rule.id],
                );
            }
        };
        let kind = match rule.kind.as_str() {
            "total_above" => {
                unused("products", !rule.products.is_empty(), diags);
                unused("categories", !rule.categories.is_empty(), diags);
                unused("budgets", !rule.budgets.is_empty(), diags);
                match &rule.threshold {
                    Some(text) => values::non_negative(text, &format!("{path}.threshold"), diags)
                        .map(RuleKind::TotalAbove),
                    None => {
                        missing(path, "threshold", &rule.kind, diags);
                        None
                    }
                }
            }
            "products" => {
                unused("threshold", rule.threshold.is_some(), diags);
                unused("budgets", !rule.budgets.is_empty(), diags);
                self.products(rule, path, diags).map(RuleKind::Products)
            }
            "cost_centre_budget" => {
                unused("threshold", rule.threshold.is_some(), diags);
                unused("products", !rule.products.is_empty(), diags);
                unused("categories", !rule.categories.is_empty(), diags);
                if rule.budgets.is_empty() {
                    missing(path, "budgets", &rule.kind, diags);
                }
                let budgets: Vec<Budget> = rule
                    .budgets
                    .iter()
                    .filter_map(|(cost_centre, text)| {
                        let at = format!("{path}.budgets.{cost_centre}");
                        let amount = values::non_negative(text, &at, diags)?;
                        Some(Budget {
                            cost_centre: cost_centre.as_str().into(),
                            amount,
                        })
                    })
                    .collect();
                Some(RuleKind::CostCentreBudget(budgets))
            }
            other => {
                diags.error(
                    Code::InvalidType,
                    &format!("{path}.kind"),
                    format!("unknown approval rule kind `{other}`: expected `total_above`, `products` or `cost_centre_budget`"),
                    &[&rule.id],
                );
                None
            }
        };
        if diags.list.len() > errors {
            return None;
        }
        Some(RuleDef {
            id: rule.id.as_str().into(),
            kind: kind?,
            approvers: approvers?,
        })
    }

    fn approvers(
        &self,
        rule: &model::ApprovalRule,
        path: &str,
        diags: &mut Diags,
    ) -> Option<ApproverDef> {
        match (&rule.role, rule.users.is_empty()) {
            (Some(role), true) => {
                if !self.roles.contains(role.as_str()) {
                    diags.error(
                        Code::UnknownReference,
                        &format!("{path}.role"),
                        format!("unknown role `{role}`: it is not built in and no user holds it"),
                        &[role],
                    );
                    return None;
                }
                Some(ApproverDef::Role(role.as_str().into()))
            }
            (None, false) => {
                let mut ok = true;
                for (u, user) in rule.users.iter().enumerate() {
                    let declared = self
                        .users
                        .get(user.as_str())
                        .is_some_and(|(account, _)| self.lineage.contains(account));
                    if !declared {
                        diags.error(
                            Code::UnknownReference,
                            &format!("{path}.users[{u}]"),
                            format!("unknown user `{user}`: approvers are users of the account or of its ancestors"),
                            &[user],
                        );
                        ok = false;
                    }
                }
                ok.then(|| {
                    ApproverDef::Users(rule.users.iter().map(|u| u.as_str().into()).collect())
                })
            }
            (Some(_), false) => {
                diags.error(
                    Code::InvalidType,
                    &format!("{path}.users"),
                    format!(
                        "rule `{}` names its approvers by `role` or by `users`, not both",
                        rule.id
                    ),
                    &[&rule.id],
                );
                None
            }
            (None, true) => {
                diags.error(
                    Code::MissingField,
                    &format!("{path}.role"),
                    format!(
                        "rule `{}` names no approver: give a `role` or `users`",
                        rule.id
                    ),
                    &[&rule.id],
                );
                None
            }
        }
    }

    /// The SKUs of a `products` rule: those named and those of the categories named.
    fn products(
        &self,
        rule: &model::ApprovalRule,
        path: &str,
        diags: &mut Diags,
    ) -> Option<Vec<Box<str>>> {
        if rule.products.is_empty() && rule.categories.is_empty() {
            missing(path, "products", &rule.kind, diags);
            return None;
        }
        let mut skus: BTreeSet<Box<str>> = BTreeSet::new();
        for (p, sku) in rule.products.iter().enumerate() {
            if self.catalog.ids.contains_key(sku.as_str()) {
                skus.insert(sku.as_str().into());
            } else {
                diags.error(
                    Code::UnknownReference,
                    &format!("{path}.products[{p}]"),
                    format!("unknown product `{sku}`"),
                    &[sku],
                );
            }
        }
        let mut categories: Vec<u32> = Vec::new();
        for (c, category) in rule.categories.iter().enumerate() {
            match self.catalog.sel.category_index.get(category.as_str()) {
                Some(&at) => categories.push(at),
                None => diags.error(
                    Code::UnknownReference,
                    &format!("{path}.categories[{c}]"),
                    format!("unknown category `{category}`"),
                    &[category],
                ),
            }
        }
        if !categories.is_empty() {
            for (product, closure) in self.catalog.catalog.category_closure.iter_enumerated() {
                if closure.iter().any(|c| categories.contains(c)) {
                    if let Some(sku) = self.catalog.catalog.skus.get(product) {
                        skus.insert(sku.clone());
                    }
                }
            }
        }
        Some(skus.into_iter().collect())
    }
}

fn missing(path: &str, field: &str, kind: &str, diags: &mut Diags) {
    diags.error(
        Code::MissingField,
        &format!("{path}.{field}"),
        format!("a `{kind}` rule needs `{field}`"),
        &[],
    );
}
