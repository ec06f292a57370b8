//! Whether an order may be placed as it is (docs/spec.md §12.7): the user's roles and limit,
//! then the approval rules of the account and its ancestors, the nearest of each id.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;

use super::super::quote::Quote;
use super::super::Engine;
use crate::error::QueryError;
use crate::index::approvals::{ApproverDef, RuleDef, RuleKind, UserDef};
use crate::index::AccountDef;

/// The roles that may place orders.
const ORDERING_ROLES: [&str; 3] = ["admin", "approver", "buyer"];

/// What may happen to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// It may be placed as it is.
    Allowed,
    /// It may be placed once approved (see [`Approval::reasons`]).
    NeedsApproval,
    /// The user may not place orders at all.
    Refused,
}

impl Decision {
    /// `allowed`, `needs_approval` or `refused`.
    ///
    /// ```
    /// assert_eq!(tarif::Decision::NeedsApproval.as_str(), "needs_approval");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::NeedsApproval => "needs_approval",
            Decision::Refused => "refused",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The approval decision of an order, with what it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The decision.
    pub decision: Decision,
    /// Why: the user's role when refused; otherwise the user's limit, then each rule that
    /// requires approval by rule id. Empty when allowed.
    pub reasons: Vec<ApprovalReason>,
}

/// One reason an order needs approval or is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalReason {
    /// The rule id; the user's id for `role` and `user_limit`.
    pub rule: String,
    /// `total_above`, `products`, `cost_centre_budget`, `user_limit` or `role`.
    pub kind: &'static str,
    /// Who may approve.
    pub approvers: Approvers,
    /// What the rule saw, in words.
    pub detail: String,
}

/// Who may approve: the role a rule names (if it names one) and the users who may act on it,
/// sorted, never the ordering user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Approvers {
    /// The role, when the rule names approvers by role.
    pub role: Option<String>,
    /// The users.
    pub users: Vec<String>,
}

/// The users and rules that apply to an account: its own and its ancestors', the nearest rule
/// of each id.
struct Applicable<'e> {
    users: Vec<&'e UserDef>,
    rules: BTreeMap<&'e str, &'e RuleDef>,
}

impl Engine {
    /// The approval decision of a priced order; `UNKNOWN_USER` when the user is not declared
    /// on the account or an ancestor.
    pub(super) fn approval(
        &self,
        account: &AccountDef,
        user: Option<&str>,
        lines: &[(Option<&str>, &Quote<'_>)],
        total: Decimal,
        spent: &[(&str, Decimal)],
    ) -> Result<Approval, QueryError> {
        let applicable = self.applicable(account);
        let user = match user {
            Some(id) => Some(
                applicable
                    .users
                    .iter()
                    .copied()
                    .find(|u| &*u.id == id)
                    .ok_or_else(|| QueryError::UnknownUser(id.to_string()))?,
            ),
            None => None,
        };
        let mut reasons = Vec::new();
        if let Some(user) = user {
            let holds = |role: &str| user.roles.iter().any(|r| &**r == role);
            if !ORDERING_ROLES.iter().any(|r| holds(r)) {
                let roles: Vec<String> = user.roles.iter().map(|r| format!("`{r}`")).collect();
                reasons.push(ApprovalReason {
                    rule: user.id.to_string(),
                    kind: "role",
                    approvers: Approvers::default(),
                    detail: format!(
                        "user `{}` may not place orders (roles {})",
                        user.id,
                        roles.join(", ")
                    ),
                });
                return Ok(Approval {
                    decision: Decision::Refused,
                    reasons,
                });
            }
            if holds("admin") {
                return Ok(Approval {
                    decision: Decision::Allowed,
                    reasons,
                });
            }
            if let Some(limit) = user.limit.filter(|limit| total > *limit) {
                reasons.push(ApprovalReason {
                    rule: user.id.to_string(),
                    kind: "user_limit",
                    approvers: applicable.by_role("approver", Some(&user.id)),
                    detail: format!(
                        "order total `{total}` is above the limit `{limit}` of user `{}`",
                        user.id
                    ),
                });
            }
        }
        let orderer = user.map(|u| &*u.id);
        for rule in applicable.rules.values() {
            let Some((kind, detail)) = triggered(rule, lines, total, spent) else {
                continue;
            };
            let approvers = match &rule.approvers {
                ApproverDef::Role(role) => applicable.by_role(role, orderer),
                ApproverDef::Users(users) => {
                    let mut users: Vec<String> = users
                        .iter()
                        .filter(|u| Some(&***u) != orderer)
                        .map(|u| u.to_string())
                        .collect();
                    users.sort();
                    users.dedup();
                    Approvers { role: None, users }
                }
            };
            reasons.push(ApprovalReason {
                rule: rule.id.to_string(),
                kind,
                approvers,
                detail,
            });
        }
        let decision = if reasons.is_empty() {
            Decision::Allowed
        } else {
            Decision::NeedsApproval
        };
        Ok(Approval { decision, reasons })
    }

    fn applicable(&self, account: &AccountDef) -> Applicable<'_> {
        let mut applicable = Applicable {
            users: Vec::new(),
            rules: BTreeMap::new(),
        };
        for id in &account.lineage {
            let Some(own) = self.index.approvals.accounts.get(id) else {
                continue;
            };
            applicable.users.extend(own.users.iter());
            for rule in &own.rules {
                applicable.rules.entry(&*rule.id).or_insert(rule);
            }
        }
        applicable
    }
}

impl Applicable<'_> {
    fn by_role(&self, role: &str, orderer: Option<&str>) -> Approvers {
        let mut users: Vec<String> = self
            .users
            .iter()
            .filter(|u| u.roles.iter().any(|r| &**r == role) && Some(&*u.id) != orderer)
            .map(|u| u.id.to_string())
            .collect();
        users.sort();
        Approvers {
            role: Some(role.to_string()),
            users,
        }
    }
}

/// Whether a rule requires approval of the order, with its kind and what it saw.
fn triggered(
    rule: &RuleDef,
    lines: &[(Option<&str>, &Quote<'_>)],
    total: Decimal,
    spent: &[(&str, Decimal)],
) -> Option<(&'static str, String)> {
    match &rule.kind {
        RuleKind::TotalAbove(threshold) => (total > *threshold).then(|| {
            (
                "total_above",
                format!("order total `{total}` is above `{threshold}`"),
            )
        }),
        RuleKind::Products(skus) => {
            let mut found: Vec<&str> = Vec::new();
            for (_, quote) in lines {
                if skus.binary_search_by(|s| (**s).cmp(quote.sku)).is_ok()
                    && !found.contains(&quote.sku)
                {
                    found.push(quote.sku);
                }
            }
            let names: Vec<String> = found.iter().map(|s| format!("`{s}`")).collect();
            (!found.is_empty()).then(|| {
                (
                    "products",
                    format!("the order contains {}", names.join(", ")),
                )
            })
        }
        RuleKind::CostCentreBudget(budgets) => {
            let mut over: Vec<String> = Vec::new();
            for budget in budgets {
                let ordered = lines
                    .iter()
                    .filter(|(cc, _)| *cc == Some(&*budget.cost_centre))
                    .fold(Decimal::ZERO, |sum, (_, q)| {
                        sum.saturating_add(q.line_total)
                    });
                if ordered.is_zero() {
                    continue;
                }
                let before = spent
                    .iter()
                    .filter(|(cc, _)| *cc == &*budget.cost_centre)
                    .fold(Decimal::ZERO, |sum, (_, s)| sum.saturating_add(*s));
                let after = before.saturating_add(ordered);
                if after > budget.amount {
                    over.push(format!(
                        "cost centre `{}` would reach `{after}` (`{before}` spent, `{ordered}` ordered) over its budget `{}`",
                        budget.cost_centre, budget.amount
                    ));
                }
            }
            (!over.is_empty()).then(|| ("cost_centre_budget", over.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Decision, Engine, Instant, Order, OrderLine};

    const DOC: &str = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
      "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
      "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10.00"}]}],
      "accounts": [
        {"id": "G", "users": [{"id": "ann", "roles": ["approver"]}],
         "approvals": [{"id": "big", "kind": "total_above", "threshold": "100", "role": "approver"}]},
        {"id": "S", "parent": "G", "users": [{"id": "bo", "roles": ["buyer"], "limit": "50"}],
         "approvals": [{"id": "budget", "kind": "cost_centre_budget", "budgets": {"CC": "30"},
                        "users": ["ann"]}]}]}"#;

    fn order(qty: u32) -> Order<'static> {
        let line = OrderLine {
            cost_centre: Some("CC"),
            ..OrderLine::new("A", qty.into())
        };
        Order::new("S", vec![line]).at(Instant::from_unix_seconds(0))
    }

    #[test]
    fn a_site_order_collects_its_own_and_its_groups_reasons_in_order() {
        let engine = Engine::from_json(DOC).unwrap();
        let priced = engine.price_order(&order(11).user("bo")).unwrap();
        let approval = priced.approval;
        assert_eq!(approval.decision, Decision::NeedsApproval);
        let reasons: Vec<_> = approval
            .reasons
            .iter()
            .map(|r| (r.rule.as_str(), r.kind, r.approvers.users.clone()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("bo", "user_limit", vec!["ann".to_string()]),
                ("big", "total_above", vec!["ann".to_string()]),
                ("budget", "cost_centre_budget", vec!["ann".to_string()]),
            ]
        );
        assert_eq!(
            approval.reasons[0].detail,
            "order total `110.00` is above the limit `50` of user `bo`"
        );
    }

    #[test]
    fn spent_to_date_counts_and_the_account_alone_has_no_limit() {
        let engine = Engine::from_json(DOC).unwrap();
        let within = engine.price_order(&order(3)).unwrap().approval;
        assert_eq!(within.decision, Decision::Allowed);
        let over = order(3).spent(vec![("CC", 1.into())]);
        let approval = engine.price_order(&over).unwrap().approval;
        assert_eq!(approval.decision, Decision::NeedsApproval);
        assert_eq!(approval.reasons[0].kind, "cost_centre_budget");
    }

    #[test]
    fn a_user_of_another_branch_is_unknown() {
        let engine = Engine::from_json(DOC).unwrap();
        let order = Order::new("G", Vec::new()).user("bo");
        assert_eq!(
            engine.price_order(&order).unwrap_err().code(),
            "UNKNOWN_USER"
        );
    }
}
