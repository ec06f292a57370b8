//! Approvals (docs/spec.md §12.7), the plain way: the users and rules of the account's chain
//! read from the document as it is, each rule tried against the priced lines.

use rust_decimal::Decimal;

use crate::{dec, Reference, UNKNOWN_ACCOUNT};

const UNKNOWN_USER: &str = "UNKNOWN_USER";

/// An approval decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefApproval {
    /// `allowed`, `needs_approval` or `refused`.
    pub decision: &'static str,
    /// The reasons, user first, then rules by id.
    pub reasons: Vec<RefReason>,
}

/// One reason of a [`RefApproval`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefReason {
    /// The rule id, or the user's for `role` and `user_limit`.
    pub rule: String,
    /// The kind.
    pub kind: &'static str,
    /// The role a rule names.
    pub role: Option<String>,
    /// The users who may approve, sorted.
    pub users: Vec<String>,
}

impl Reference {
    /// The approval decision of an order whose lines priced as `lines` (cost centre, SKU, line
    /// total), for `user` (or the account), with `spent` per cost centre.
    pub fn approval(
        &self,
        account: &str,
        user: Option<&str>,
        lines: &[(Option<String>, String, Decimal)],
        total: Decimal,
        spent: &[(String, Decimal)],
    ) -> Result<RefApproval, &'static str> {
        let chain = self.chain(account).ok_or(UNKNOWN_ACCOUNT)?.accounts;
        let users: Vec<_> = chain.iter().flat_map(|a| a.users.iter()).collect();
        let orderer = match user {
            Some(id) => Some(*users.iter().find(|u| u.id == id).ok_or(UNKNOWN_USER)?),
            None => None,
        };
        let holders = |role: &str| {
            let mut found: Vec<String> = users
                .iter()
                .filter(|u| u.roles.iter().any(|r| r == role))
                .filter(|u| Some(u.id.as_str()) != user)
                .map(|u| u.id.clone())
                .collect();
            found.sort();
            found
        };
        let mut reasons = Vec::new();
        if let Some(u) = orderer {
            let has = |role: &str| u.roles.iter().any(|r| r == role);
            if !(has("buyer") || has("approver") || has("admin")) {
                reasons.push(RefReason {
                    rule: u.id.clone(),
                    kind: "role",
                    role: None,
                    users: Vec::new(),
                });
                return Ok(RefApproval {
                    decision: "refused",
                    reasons,
                });
            }
            if has("admin") {
                return Ok(RefApproval {
                    decision: "allowed",
                    reasons,
                });
            }
            if dec(u.limit.as_ref()).is_some_and(|limit| total > limit) {
                reasons.push(RefReason {
                    rule: u.id.clone(),
                    kind: "user_limit",
                    role: Some("approver".into()),
                    users: holders("approver"),
                });
            }
        }
        let mut rules = Vec::new();
        for a in &chain {
            for rule in &a.approvals {
                if !rules
                    .iter()
                    .any(|r: &&tarif::document::ApprovalRule| r.id == rule.id)
                {
                    rules.push(rule);
                }
            }
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        for rule in rules {
            let kind = match rule.kind.as_str() {
                "total_above" => dec(rule.threshold.as_ref())
                    .is_some_and(|t| total > t)
                    .then_some("total_above"),
                "products" => lines
                    .iter()
                    .any(|(_, sku, _)| self.in_rule(sku, &rule.products, &rule.categories))
                    .then_some("products"),
                "cost_centre_budget" => rule
                    .budgets
                    .iter()
                    .any(|(cc, budget)| {
                        let mine = lines.iter().filter(|(c, _, _)| c.as_deref() == Some(cc));
                        let ordered: Decimal = mine.map(|(_, _, t)| *t).sum();
                        let before: Decimal =
                            spent.iter().filter(|(c, _)| c == cc).map(|(_, s)| *s).sum();
                        ordered > Decimal::ZERO
                            && dec(Some(budget)).is_some_and(|b| before + ordered > b)
                    })
                    .then_some("cost_centre_budget"),
                _ => None,
            };
            let Some(kind) = kind else { continue };
            let (role, users) = match &rule.role {
                Some(role) => (Some(role.clone()), holders(role)),
                None => {
                    let mut named: Vec<String> = rule
                        .users
                        .iter()
                        .filter(|u| Some(u.as_str()) != user)
                        .cloned()
                        .collect();
                    named.sort();
                    named.dedup();
                    (None, named)
                }
            };
            reasons.push(RefReason {
                rule: rule.id.clone(),
                kind,
                role,
                users,
            });
        }
        let decision = if reasons.is_empty() {
            "allowed"
        } else {
            "needs_approval"
        };
        Ok(RefApproval { decision, reasons })
    }

    /// Whether a product is one a `products` rule names, itself or by a category.
    fn in_rule(&self, sku: &str, products: &[String], categories: &[String]) -> bool {
        products.iter().any(|p| p == sku)
            || self.products().filter(|p| p.sku == sku).any(|p| {
                p.categories.iter().any(|pc| {
                    self.category_line(pc)
                        .iter()
                        .any(|a| categories.contains(a))
                })
            })
    }
}
