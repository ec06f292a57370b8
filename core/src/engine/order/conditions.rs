//! Order conditions (docs/spec.md §12.3) and the allocation of an order discount to lines
//! (§12.4): read after the lines are priced, from the plain list the compiler left.

use std::cmp::Ordering;

use rust_decimal::{Decimal, RoundingStrategy};

use super::super::Engine;
use crate::error::QueryError;
use crate::index::{AccountDef, CurrencyId, OrderAction, OrderCondDef};
use crate::instant::Instant;
use crate::model::{Leftover, OrderKind, RoundingMode};
use crate::money::round;

/// An order-level amount: a discount (negative), a surcharge or a shipping charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment<'e> {
    /// Full id of the condition, `contract-id/id`.
    pub id: &'e str,
    /// Its kind.
    pub kind: OrderKind,
    /// Signed amount added to the subtotal.
    pub amount: Decimal,
    /// The delivery address charged (`shipping` only; `None` for lines without one).
    pub ship_to: Option<String>,
    /// Why, in a sentence naming the threshold and the subtotal read.
    pub why: String,
}

/// What one order condition that speaks to the account did for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionReport<'e> {
    /// Full id of the condition.
    pub id: &'e str,
    /// Its kind.
    pub kind: OrderKind,
    /// Whether it applied.
    pub applied: bool,
    /// Why it applied or did not.
    pub reason: String,
}

/// The outcome of the order conditions for one priced order.
#[derive(Debug, Default)]
pub(super) struct Settled<'e> {
    pub adjustments: Vec<Adjustment<'e>>,
    /// Per order line, its share of the order discount (zero for a failed line).
    pub allocated: Vec<Decimal>,
    pub reports: Vec<ConditionReport<'e>>,
    /// `MINIMUM_ORDER`, when a minimum without surcharge is not reached.
    pub refused: Option<QueryError>,
}

/// Per order line, the lowest line total its floors allow (`None` without floor): computed
/// only when an order discount is allocated.
pub(super) type Floors<'a> = &'a dyn Fn() -> Result<Vec<Option<Decimal>>, QueryError>;

/// A line as the conditions read it: its total when it priced, and its address.
pub(super) struct LineView<'a> {
    pub total: Option<Decimal>,
    pub ship_to: Option<&'a str>,
}

/// A candidate of one kind: the condition, its audience level and (discounts) its amount.
struct Candidate<'e> {
    def: &'e OrderCondDef,
    level: u8,
    amount: Decimal,
}

fn overflow() -> QueryError {
    QueryError::Overflow("order conditions".to_string())
}

/// The order of candidates within a kind: level, priority, amount (largest), id. Returns why
/// `a` beats `b` alongside the ordering.
fn rank(a: &Candidate<'_>, b: &Candidate<'_>) -> (Ordering, &'static str) {
    let by_level = a.level.cmp(&b.level);
    if by_level != Ordering::Equal {
        return (by_level, "a more specific audience");
    }
    let by_priority = b.def.priority.cmp(&a.def.priority);
    if by_priority != Ordering::Equal {
        return (by_priority, "a higher priority");
    }
    let by_amount = b.amount.cmp(&a.amount);
    if by_amount != Ordering::Equal {
        return (by_amount, "a larger discount");
    }
    (a.def.id.as_bytes().cmp(b.def.id.as_bytes()), "a smaller id")
}

fn kind_of(action: &OrderAction) -> OrderKind {
    match action {
        OrderAction::Discount { .. } => OrderKind::OrderDiscount,
        OrderAction::Minimum { .. } => OrderKind::MinimumOrder,
        OrderAction::Shipping { .. } => OrderKind::Shipping,
    }
}

impl Engine {
    /// Applies the order conditions that speak to `account` to lines already priced.
    pub(super) fn settle<'e>(
        &'e self,
        account: &AccountDef,
        at: Instant,
        currency: CurrencyId,
        lines: &[LineView<'_>],
        subtotal: Decimal,
        floors: Floors<'_>,
    ) -> Result<Settled<'e>, QueryError> {
        let code = self.currency_code(currency);
        let scale = self.index.currencies.get(currency).map_or(2, |c| c.scale);
        let mut settled = Settled {
            allocated: vec![Decimal::new(0, scale); lines.len()],
            ..Settled::default()
        };
        let mut by_kind: [Vec<Candidate<'e>>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for def in &self.index.pricing.order_conditions {
            let Some(level) = account
                .chain
                .iter()
                .filter(|(key, _)| def.audience.contains(key))
                .map(|&(_, level)| level)
                .min()
            else {
                continue;
            };
            let kind = kind_of(&def.action);
            let report = |reason: String| ConditionReport {
                id: &def.id,
                kind,
                applied: false,
                reason,
            };
            if !def.validity.contains(at) {
                settled.reports.push(report(format!("not valid at {}", at)));
                continue;
            }
            if def.currency != currency {
                settled.reports.push(report(format!(
                    "its amounts are in `{}`, the order is in `{code}`",
                    self.currency_code(def.currency)
                )));
                continue;
            }
            let (slot, amount) = match def.action {
                OrderAction::Discount {
                    min_subtotal,
                    percent,
                    value,
                    ..
                } => {
                    if subtotal < min_subtotal {
                        settled.reports.push(report(format!(
                            "subtotal `{subtotal}` is below its threshold `{min_subtotal}`"
                        )));
                        continue;
                    }
                    let amount = if percent {
                        let share = subtotal
                            .checked_mul(value)
                            .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
                            .ok_or_else(overflow)?;
                        round(share, scale, RoundingMode::HalfUp)
                    } else {
                        value
                    };
                    (0, amount.min(subtotal))
                }
                OrderAction::Minimum { .. } => (1, Decimal::ZERO),
                OrderAction::Shipping { .. } => (2, Decimal::ZERO),
            };
            if let Some(list) = by_kind.get_mut(slot) {
                list.push(Candidate { def, level, amount });
            }
        }
        for candidates in &mut by_kind {
            candidates.sort_by(|a, b| rank(a, b).0);
            let Some((winner, rest)) = candidates.split_first() else {
                continue;
            };
            for lost in rest {
                settled.reports.push(ConditionReport {
                    id: &lost.def.id,
                    kind: kind_of(&lost.def.action),
                    applied: false,
                    reason: format!(
                        "`{}` applies instead: {}",
                        winner.def.id,
                        rank(winner, lost).1
                    ),
                });
            }
            self.apply_condition(winner, lines, subtotal, scale, floors, &mut settled)?;
        }
        Ok(settled)
    }

    fn apply_condition<'e>(
        &self,
        winner: &Candidate<'e>,
        lines: &[LineView<'_>],
        subtotal: Decimal,
        scale: u32,
        floors: Floors<'_>,
        settled: &mut Settled<'e>,
    ) -> Result<(), QueryError> {
        let def = winner.def;
        let kind = kind_of(&def.action);
        let applied = |settled: &mut Settled<'e>, reason: String| {
            settled.reports.push(ConditionReport {
                id: &def.id,
                kind,
                applied: true,
                reason,
            });
        };
        match def.action {
            OrderAction::Discount {
                min_subtotal,
                percent,
                value,
                leftover,
            } => {
                let totals: Vec<Decimal> = lines
                    .iter()
                    .map(|l| l.total.unwrap_or(Decimal::ZERO))
                    .collect();
                // A line's room is what it may give before its net amount reaches the floor
                // its bounds rules set (docs/spec.md §12.4).
                let rooms = totals
                    .iter()
                    .zip(floors()?)
                    .map(|(&total, floor)| match floor {
                        Some(f) => Ok(total
                            .checked_sub(f)
                            .ok_or_else(overflow)?
                            .max(Decimal::ZERO)),
                        None => Ok(total),
                    })
                    .collect::<Result<Vec<_>, QueryError>>()?;
                let shares = allocate(winner.amount, &totals, &rooms, scale, leftover)?;
                let given = shares
                    .iter()
                    .try_fold(Decimal::ZERO, |sum, s| sum.checked_add(*s))
                    .ok_or_else(overflow)?;
                let what = if percent {
                    format!("{value} % of the subtotal")
                } else {
                    format!("`{value}` off")
                };
                let held = winner.amount.checked_sub(given).ok_or_else(overflow)?;
                let why = if held > Decimal::ZERO {
                    format!(
                        "subtotal `{subtotal}` reaches `{min_subtotal}`: {what}, `{given}` allocated to the lines; `{held}` would take lines below their floors and is not given"
                    )
                } else {
                    format!(
                        "subtotal `{subtotal}` reaches `{min_subtotal}`: {what}, `{given}` allocated to the lines"
                    )
                };
                applied(settled, why.clone());
                settled.allocated = shares;
                if !given.is_zero() {
                    settled.adjustments.push(Adjustment {
                        id: &def.id,
                        kind,
                        amount: -given,
                        ship_to: None,
                        why,
                    });
                }
            }
            OrderAction::Minimum {
                min_subtotal,
                surcharge,
            } => {
                if subtotal >= min_subtotal {
                    applied(
                        settled,
                        format!("subtotal `{subtotal}` reaches the minimum `{min_subtotal}`"),
                    );
                    return Ok(());
                }
                let missing = min_subtotal.checked_sub(subtotal).ok_or_else(overflow)?;
                match surcharge {
                    Some(s) => {
                        let why = format!(
                            "subtotal `{subtotal}` is `{missing}` below the minimum `{min_subtotal}`: a surcharge of `{s}`"
                        );
                        applied(settled, why.clone());
                        settled.adjustments.push(Adjustment {
                            id: &def.id,
                            kind,
                            amount: s,
                            ship_to: None,
                            why,
                        });
                    }
                    None => {
                        applied(
                            settled,
                            format!("subtotal `{subtotal}` is `{missing}` below the minimum `{min_subtotal}`: the order is refused"),
                        );
                        settled.refused = Some(QueryError::MinimumOrder {
                            minimum: min_subtotal,
                            missing,
                        });
                    }
                }
            }
            OrderAction::Shipping { charge, free_from } => {
                let mut reasons = Vec::new();
                for (address, group_total) in groups(lines)? {
                    let name =
                        address.map_or("the default address".to_string(), |a| format!("`{a}`"));
                    match free_from {
                        Some(free) if group_total >= free => reasons.push(format!(
                            "{name} ships free: `{group_total}` reaches `{free}`"
                        )),
                        _ => {
                            let why = match free_from {
                                Some(free) => format!(
                                    "{name}: `{group_total}` is below the free-shipping threshold `{free}`, `{charge}` charged"
                                ),
                                None => format!("{name}: `{charge}` charged"),
                            };
                            reasons.push(why.clone());
                            if !charge.is_zero() {
                                settled.adjustments.push(Adjustment {
                                    id: &def.id,
                                    kind,
                                    amount: charge,
                                    ship_to: address.map(str::to_string),
                                    why,
                                });
                            }
                        }
                    }
                }
                if reasons.is_empty() {
                    reasons.push("no line priced: nothing ships".to_string());
                }
                applied(settled, reasons.join("; "));
            }
        }
        Ok(())
    }
}

/// The priced lines grouped by delivery address, in the order of each group's first line,
/// with each group's subtotal.
fn groups<'a>(lines: &[LineView<'a>]) -> Result<Vec<(Option<&'a str>, Decimal)>, QueryError> {
    let mut out: Vec<(Option<&'a str>, Decimal)> = Vec::new();
    for line in lines {
        let Some(total) = line.total else {
            continue;
        };
        match out.iter_mut().find(|(a, _)| *a == line.ship_to) {
            Some((_, sum)) => *sum = sum.checked_add(total).ok_or_else(overflow)?,
            None => out.push((line.ship_to, total)),
        }
    }
    Ok(out)
}

/// Splits `discount` over lines of `totals` (zero for a failed line) in units of `scale`, no
/// line's share above its room (its total less its floor): proportional shares truncated and
/// capped; while a round caps a line, what is left shared again in proportion among the lines
/// with room; then the leftover units one by one in the `leftover` order. What no line can
/// take is left out.
fn allocate(
    discount: Decimal,
    totals: &[Decimal],
    rooms: &[Decimal],
    scale: u32,
    leftover: Leftover,
) -> Result<Vec<Decimal>, QueryError> {
    let subtotal = checked_sum(totals.iter().copied())?;
    let mut shares = vec![Decimal::new(0, scale); totals.len()];
    if discount <= Decimal::ZERO || subtotal <= Decimal::ZERO {
        return Ok(shares);
    }
    let unit = Decimal::new(1, scale);
    // What a share may reach: the room in whole units.
    let caps: Vec<Decimal> = rooms
        .iter()
        .map(|r| r.round_dp_with_strategy(scale, RoundingStrategy::ToZero))
        .collect();
    let mut open: Vec<usize> = (0..totals.len()).collect();
    let mut pool = subtotal;
    loop {
        let left = discount
            .checked_sub(checked_sum(shares.iter().copied())?)
            .ok_or_else(overflow)?;
        let mut capped = false;
        for &i in &open {
            let (Some(share), Some(&total), Some(&cap)) =
                (shares.get_mut(i), totals.get(i), caps.get(i))
            else {
                continue;
            };
            let part = truncated_share(left, total, pool, scale)?;
            let room = cap.checked_sub(*share).ok_or_else(overflow)?;
            if part > room {
                capped = true;
            }
            *share = share.checked_add(part.min(room)).ok_or_else(overflow)?;
            share.rescale(scale);
        }
        if !capped {
            break;
        }
        open.retain(|&i| match (caps.get(i), shares.get(i)) {
            (Some(&cap), Some(&share)) => cap - share >= unit,
            _ => false,
        });
        pool = checked_sum(open.iter().filter_map(|&i| totals.get(i).copied()))?;
        if pool <= Decimal::ZERO {
            break;
        }
    }
    let given = checked_sum(shares.iter().copied())?;
    let mut left = discount.checked_sub(given).ok_or_else(overflow)?;
    let mut order: Vec<usize> = (0..totals.len()).collect();
    match leftover {
        Leftover::First => {}
        Leftover::Last => order.reverse(),
        Leftover::Largest => order.sort_by(|&a, &b| {
            let total = |i: usize| totals.get(i).copied().unwrap_or_default();
            total(b).cmp(&total(a)).then(a.cmp(&b))
        }),
    }
    while left >= unit {
        let mut placed = false;
        for &i in &order {
            if left < unit {
                break;
            }
            let (Some(share), Some(&room)) = (shares.get_mut(i), rooms.get(i)) else {
                continue;
            };
            if room.checked_sub(*share).ok_or_else(overflow)? >= unit {
                *share = share.checked_add(unit).ok_or_else(overflow)?;
                left = left.checked_sub(unit).ok_or_else(overflow)?;
                placed = true;
            }
        }
        if !placed {
            break;
        }
    }
    Ok(shares)
}

/// `amount × total / pool` truncated to whole units of `scale`, exactly.
fn truncated_share(
    amount: Decimal,
    total: Decimal,
    pool: Decimal,
    scale: u32,
) -> Result<Decimal, QueryError> {
    let exact = amount.checked_mul(total).ok_or_else(overflow)?;
    let mut s = exact
        .checked_div(pool)
        .ok_or_else(overflow)?
        .round_dp_with_strategy(scale, RoundingStrategy::ToZero);
    // The division rounds to 28 digits, which may carry a quotient just below a unit up to
    // it: the truncation is checked exactly.
    if s.checked_mul(pool).ok_or_else(overflow)? > exact {
        s = s.checked_sub(Decimal::new(1, scale)).ok_or_else(overflow)?;
    }
    s.rescale(scale);
    Ok(s)
}

/// The exact sum, `OVERFLOW` when it does not fit.
pub(super) fn checked_sum(values: impl Iterator<Item = Decimal>) -> Result<Decimal, QueryError> {
    let mut sum = Decimal::ZERO;
    for v in values {
        sum = sum.checked_add(v).ok_or_else(overflow)?;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn shares(discount: &str, totals: &[&str], leftover: Leftover) -> Vec<String> {
        let totals: Vec<Decimal> = totals.iter().map(|t| d(t)).collect();
        allocate(d(discount), &totals, &totals, 2, leftover)
            .unwrap()
            .iter()
            .map(Decimal::to_string)
            .collect()
    }

    fn floored(discount: &str, totals: &[&str], rooms: &[&str]) -> Vec<String> {
        let totals: Vec<Decimal> = totals.iter().map(|t| d(t)).collect();
        let rooms: Vec<Decimal> = rooms.iter().map(|t| d(t)).collect();
        allocate(d(discount), &totals, &rooms, 2, Leftover::Largest)
            .unwrap()
            .iter()
            .map(Decimal::to_string)
            .collect()
    }

    #[test]
    fn a_line_at_its_floor_passes_its_share_to_the_others_in_proportion() {
        // 30.00 off 100.00 + 100.00 + 100.00: 10.00 each, but the first may give 4.00 only;
        // the 6.00 left goes to the two others in proportion: 3.00 each.
        assert_eq!(
            floored(
                "30.00",
                &["100.00", "100.00", "100.00"],
                &["4.00", "100.00", "100.00"]
            ),
            ["4.00", "13.00", "13.00"]
        );
        // Rounds repeat while they cap: the second line's room is reached in the second round.
        assert_eq!(
            floored(
                "30.00",
                &["100.00", "100.00", "100.00"],
                &["4.00", "12.50", "100.00"]
            ),
            ["4.00", "12.50", "13.50"]
        );
        // Leftover units respect the rooms too.
        assert_eq!(
            floored(
                "1.00",
                &["10.00", "10.00", "10.00"],
                &["0.33", "10.00", "10.00"]
            ),
            ["0.33", "0.34", "0.33"]
        );
        // Every line at its floor: nothing more is given.
        assert_eq!(
            floored("9.00", &["10.00", "10.00"], &["1.50", "2.00"]),
            ["1.50", "2.00"]
        );
    }

    #[test]
    fn proportional_shares_add_up() {
        assert_eq!(
            shares("10.00", &["30.00", "30.00", "40.00"], Leftover::Largest),
            ["3.00", "3.00", "4.00"]
        );
    }

    #[test]
    fn leftover_cents_follow_the_rule() {
        let totals = ["10.00", "10.00", "10.00"];
        assert_eq!(
            shares("1.00", &totals, Leftover::Largest),
            ["0.34", "0.33", "0.33"]
        );
        assert_eq!(
            shares("1.00", &totals, Leftover::First),
            ["0.34", "0.33", "0.33"]
        );
        assert_eq!(
            shares("1.00", &totals, Leftover::Last),
            ["0.33", "0.33", "0.34"]
        );
        assert_eq!(
            shares("0.02", &["1.00", "5.00", "3.00"], Leftover::Largest),
            ["0.00", "0.02", "0.00"]
        );
    }

    #[test]
    fn a_line_never_goes_below_zero_and_failed_lines_take_nothing() {
        assert_eq!(
            shares("10.01", &["0.01", "0", "10.00"], Leftover::First),
            ["0.01", "0.00", "10.00"]
        );
    }

    #[test]
    fn what_no_line_can_take_is_left_out() {
        // 0.005 + 0.005: each line's share may not pass its total.
        assert_eq!(
            shares("0.01", &["0.005", "0.005"], Leftover::First),
            ["0.00", "0.00"]
        );
    }
}
