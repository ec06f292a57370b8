//! The contracts' order conditions (docs/spec.md §12.3), checked into a plain list: orders are a
//! rare path, and nothing here touches what a quote reads.

use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::values;
use super::Diags;
use crate::error::DiagnosticCode as Code;
use crate::index::{AudKey, CurrencyId, OrderAction, OrderCondDef};
use crate::instant::Interval;
use crate::model::{OrderCondition, OrderKind};

/// What a condition inherits from its contract.
pub(super) struct ContractContext<'a> {
    pub id: &'a str,
    pub audience: &'a [AudKey],
    pub validity: Interval,
    pub priority: Option<i64>,
    pub currency: CurrencyId,
}

/// The fields each kind may carry besides the common ones.
fn fields(c: &OrderCondition) -> [(&'static str, bool); 7] {
    [
        ("min_subtotal", c.min_subtotal.is_some()),
        ("percent", c.percent.is_some()),
        ("amount", c.amount.is_some()),
        ("leftover", c.leftover.is_some()),
        ("surcharge", c.surcharge.is_some()),
        ("charge", c.charge.is_some()),
        ("free_from", c.free_from.is_some()),
    ]
}

fn allowed(kind: OrderKind) -> &'static [&'static str] {
    match kind {
        OrderKind::OrderDiscount => &["min_subtotal", "percent", "amount", "leftover"],
        OrderKind::MinimumOrder => &["min_subtotal", "surcharge"],
        OrderKind::Shipping => &["charge", "free_from"],
    }
}

/// A decimal that must be positive (or, with `zero`, not negative).
fn amount(text: &str, zero: bool, path: &str, diags: &mut Diags) -> Option<Decimal> {
    let value = values::non_negative(text, path, diags)?;
    if value.is_zero() && !zero {
        diags.error(
            Code::InvalidDecimal,
            path,
            format!("`{text}` must be positive"),
            &[],
        );
        return None;
    }
    Some(value)
}

/// An optional amount: `Some(None)` when absent, `None` when present and invalid.
fn optional(
    text: &Option<String>,
    zero: bool,
    path: &str,
    diags: &mut Diags,
) -> Option<Option<Decimal>> {
    match text.as_deref() {
        None => Some(None),
        Some(t) => amount(t, zero, path, diags).map(Some),
    }
}

fn required<'a>(
    value: &'a Option<String>,
    name: &str,
    kind: OrderKind,
    path: &str,
    diags: &mut Diags,
) -> Option<&'a str> {
    if value.is_none() {
        diags.error(
            Code::MissingField,
            &format!("{path}.{name}"),
            format!("missing field `{name}`: an `{}` needs it", kind.as_str()),
            &[],
        );
    }
    value.as_deref()
}

/// Checks one condition at `path` (`contracts[i].order_conditions[k]`); `None` when it has an
/// error, every problem reported.
pub(super) fn condition(
    c: &OrderCondition,
    contract: &ContractContext<'_>,
    currency: Option<CurrencyId>,
    tz: chrono_tz::Tz,
    path: &str,
    diags: &mut Diags,
) -> Option<OrderCondDef> {
    let full = format!("{}/{}", contract.id, c.id);
    let before = diags.list.len();
    for (name, present) in fields(c) {
        if present && !allowed(c.kind).contains(&name) {
            diags.error(
                Code::UnknownField,
                &format!("{path}.{name}"),
                format!("unknown field `{name}` for an `{}`", c.kind.as_str()),
                &[&full],
            );
        }
    }
    let min_subtotal = |diags: &mut Diags, zero: bool| {
        c.min_subtotal
            .as_deref()
            .map(|t| amount(t, zero, &format!("{path}.min_subtotal"), diags))
    };
    let action = match c.kind {
        OrderKind::OrderDiscount => {
            let min = min_subtotal(diags, true).unwrap_or(Some(Decimal::ZERO));
            let value = match (&c.percent, &c.amount) {
                (Some(p), None) => percent(p, &format!("{path}.percent"), diags).map(|v| (true, v)),
                (None, Some(a)) => {
                    amount(a, false, &format!("{path}.amount"), diags).map(|v| (false, v))
                }
                _ => {
                    diags.error(
                        Code::RuleActions,
                        path,
                        format!(
                            "order discount `{full}` needs exactly one of `percent` and `amount`"
                        ),
                        &[&full],
                    );
                    None
                }
            };
            match (min, value) {
                (Some(min_subtotal), Some((percent, value))) => Some(OrderAction::Discount {
                    min_subtotal,
                    percent,
                    value,
                    leftover: c.leftover.unwrap_or_default(),
                }),
                _ => None,
            }
        }
        OrderKind::MinimumOrder => {
            let min = required(&c.min_subtotal, "min_subtotal", c.kind, path, diags)
                .and_then(|t| amount(t, false, &format!("{path}.min_subtotal"), diags));
            let surcharge = optional(&c.surcharge, false, &format!("{path}.surcharge"), diags);
            min.zip(surcharge)
                .map(|(min_subtotal, surcharge)| OrderAction::Minimum {
                    min_subtotal,
                    surcharge,
                })
        }
        OrderKind::Shipping => {
            let charge = required(&c.charge, "charge", c.kind, path, diags)
                .and_then(|t| amount(t, true, &format!("{path}.charge"), diags));
            let free_from = optional(&c.free_from, false, &format!("{path}.free_from"), diags);
            charge
                .zip(free_from)
                .map(|(charge, free_from)| OrderAction::Shipping { charge, free_from })
        }
    };
    let validity = contract.validity.intersect(&values::validity(
        c.valid.as_ref(),
        tz,
        &format!("{path}.valid"),
        diags,
    ));
    super::pricing::never_valid(validity, path, &full, diags);
    if diags
        .list
        .iter()
        .skip(before)
        .any(|d| d.severity() == crate::error::Severity::Error)
    {
        return None;
    }
    Some(OrderCondDef {
        id: full.into(),
        audience: SmallVec::from_slice(contract.audience),
        validity,
        priority: c.priority.or(contract.priority).unwrap_or(0),
        currency: currency.unwrap_or(contract.currency),
        action: action?,
    })
}

/// A share of the subtotal: above 0, at most 100.
fn percent(text: &str, path: &str, diags: &mut Diags) -> Option<Decimal> {
    let value = values::decimal(text, path, diags)?;
    if value <= Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        diags.error(
            Code::InvalidPercent,
            path,
            format!("order discount percentage `{text}` must be above `0` and at most `100`"),
            &[],
        );
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use crate::compile::{compile, CompileOptions};

    #[test]
    fn every_problem_of_an_order_condition_has_its_code_and_path() {
        let err = compile(
            r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
              "contracts": [{"id": "k", "audience": "all", "order_conditions": [
                {"id": "d", "kind": "order_discount", "percent": "120", "charge": "1"},
                {"id": "e", "kind": "order_discount", "percent": "5", "amount": "3"},
                {"id": "m", "kind": "minimum_order", "surcharge": "-1"},
                {"id": "s", "kind": "shipping", "free_from": "x"},
                {"id": "s", "kind": "shipping", "charge": "0"},
                {"id": "z", "kind": "rebate"},
                {"id": "c", "kind": "shipping", "charge": "1", "currency": "USD"}]}]}"#,
            &CompileOptions::default(),
        )
        .unwrap_err();
        let found: Vec<(&str, &str)> = err
            .diagnostics
            .iter()
            .map(|d| (d.code.code(), d.path.as_str()))
            .collect();
        let at = "contracts[0].order_conditions";
        let expect = [
            ("UNKNOWN_FIELD", format!("{at}[0].charge")),
            ("INVALID_PERCENT", format!("{at}[0].percent")),
            ("RULE_ACTIONS", format!("{at}[1]")),
            ("MISSING_FIELD", format!("{at}[2].min_subtotal")),
            ("INVALID_DECIMAL", format!("{at}[2].surcharge")),
            ("MISSING_FIELD", format!("{at}[3].charge")),
            ("INVALID_DECIMAL", format!("{at}[3].free_from")),
            ("DUPLICATE_ID", format!("{at}[4].id")),
            ("INVALID_TYPE", format!("{at}[5].kind")),
            ("UNKNOWN_CURRENCY", format!("{at}[6].currency")),
        ];
        for (code, path) in &expect {
            assert!(
                found.contains(&(*code, path.as_str())),
                "missing {code} at {path} in {found:?}"
            );
        }
        assert_eq!(found.len(), expect.len(), "{found:?}");
    }
}
