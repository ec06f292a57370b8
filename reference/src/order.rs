//! Orders (docs/spec.md §12), the plain way: every line quoted on its own at the order's
//! instant and currency, a line the account may not buy refused, the line totals added up;
//! then the order conditions of §12.3 read off the contracts and the discount shared out as
//! §12.4 says.

use std::cmp::Reverse;

use rust_decimal::Decimal;

use crate::{items, RefQuote, Reference, OVERFLOW, UNKNOWN_ACCOUNT};
use tarif::document::RoundingMode;
use tarif::document::{Contract, Leftover, OrderCondition, OrderKind, Product};
use tarif::money::{self, parse_decimal};
use tarif::Instant;

const NOT_BUYABLE: &str = "NOT_BUYABLE";
const MINIMUM_ORDER: &str = "MINIMUM_ORDER";

/// An order-level amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefAdjustment {
    /// `contract-id/id`.
    pub id: String,
    /// `order_discount`, `minimum_order` or `shipping`.
    pub kind: &'static str,
    /// Signed amount.
    pub amount: Decimal,
    /// The address charged (shipping).
    pub ship_to: Option<String>,
}

/// A priced order: one outcome per line, and the sum of the lines that priced.
#[derive(Debug, Clone, PartialEq)]
pub struct RefOrder {
    /// Currency code of every amount.
    pub currency: String,
    /// One outcome per line, in order.
    pub lines: Vec<Result<RefQuote, &'static str>>,
    /// Per line, its share of the order discount.
    pub allocated: Vec<Decimal>,
    /// Sum of the line totals of the lines that priced.
    pub subtotal: Decimal,
    /// Order discount, surcharge, shipping charges.
    pub adjustments: Vec<RefAdjustment>,
    /// Subtotal plus adjustments.
    pub total: Decimal,
}

/// One line of an order as the reference takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefOrderLine {
    /// The reference as written.
    pub reference: String,
    /// Quantity.
    pub qty: Decimal,
    /// Delivery address.
    pub ship_to: Option<String>,
}

/// A condition that may apply: its contract, audience level and (discounts) amount.
#[derive(Clone, Copy)]
struct Cand<'a> {
    contract: &'a Contract,
    cond: &'a OrderCondition,
    level: usize,
    amount: Decimal,
}

impl Cand<'_> {
    fn id(&self) -> String {
        format!("{}/{}", self.contract.id, self.cond.id)
    }
}

/// The one condition of a kind that applies: most specific level, highest priority, largest
/// discount, smallest id.
fn best<'a>(kind: OrderKind, cands: impl Iterator<Item = Cand<'a>>) -> Option<Cand<'a>> {
    let prio = |x: &Cand<'_>| x.cond.priority.or(x.contract.priority).unwrap_or(0);
    let key = |x: &Cand<'_>| {
        (
            x.level,
            Reverse(prio(x)),
            Reverse(x.amount),
            x.id().into_bytes(),
        )
    };
    let mut best: Option<Cand<'a>> = None;
    for c in cands.filter(|c| c.cond.kind == kind) {
        if best.as_ref().is_none_or(|b| key(&c) < key(b)) {
            best = Some(c);
        }
    }
    best
}

fn dec(text: Option<&String>) -> Option<Decimal> {
    text.and_then(|t| parse_decimal(t))
}

impl Reference {
    /// Prices the lines of an order for an account.
    pub fn price_order(
        &self,
        account: &str,
        lines: &[RefOrderLine],
        at: Instant,
        currency: Option<&str>,
    ) -> Result<RefOrder, &'static str> {
        let chain = self.chain(account).ok_or(UNKNOWN_ACCOUNT)?;
        let currency = self.request_currency(&chain, currency)?;
        let scale = self.currency_scale(&currency);
        // §12.5: the lines the account may buy count in the tier bases; a line's tiers read
        // its own quantity unless its rule or entry names another basis.
        let counted: Vec<Option<(&Product, Decimal)>> = lines
            .iter()
            .map(|line| {
                let product = self.visible_product(&chain, &line.reference, at).ok()?;
                let admitted = line.qty > Decimal::ZERO
                    && matches!(self.nearest_valid(product, line.qty), Ok(None));
                let caps = self.capabilities(&chain, product, at);
                (admitted && caps.price && caps.buy).then_some((product, line.qty))
            })
            .collect();
        let mut units = Decimal::ZERO;
        for (_, q) in counted.iter().flatten() {
            units = units.checked_add(*q).ok_or(OVERFLOW)?;
        }
        let priced: Vec<Result<RefQuote, &'static str>> = lines
            .iter()
            .enumerate()
            .map(|(k, line)| {
                let order = counted
                    .get(k)
                    .is_some_and(Option::is_some)
                    .then_some((counted.as_slice(), k));
                let quote = self.quote_in(
                    account,
                    &line.reference,
                    line.qty,
                    at,
                    Some(&currency),
                    order,
                )?;
                if quote.buyable {
                    Ok(quote)
                } else {
                    Err(NOT_BUYABLE)
                }
            })
            .collect();
        let mut subtotal = Decimal::ZERO;
        for quote in priced.iter().flatten() {
            subtotal = subtotal.checked_add(quote.line_total).ok_or(OVERFLOW)?;
        }

        // §12.3: every condition of a contract that speaks to the account, valid, in currency.
        let mut cands: Vec<Cand<'_>> = Vec::new();
        for contract in items(&self.doc.contracts) {
            let Some(level) = self.audience_level(&contract.audience, &chain) else {
                continue;
            };
            for cond in items(&contract.order_conditions) {
                let own = cond.currency.as_deref().or(contract.currency.as_deref());
                if own.unwrap_or(&self.default_currency) != currency
                    || !self.valid_at(&[contract.valid.as_ref(), cond.valid.as_ref()], at)
                {
                    continue;
                }
                cands.push(Cand {
                    contract,
                    cond,
                    level,
                    amount: Decimal::ZERO,
                });
            }
        }
        let mut adjustments = Vec::new();
        let mut allocated = vec![Decimal::new(0, scale); lines.len()];
        // Discounts: only those whose threshold the subtotal reaches, with their amount.
        let mut discounts = Vec::new();
        for mut c in cands.iter().copied() {
            if c.cond.kind != OrderKind::OrderDiscount {
                continue;
            }
            let min = dec(c.cond.min_subtotal.as_ref()).unwrap_or(Decimal::ZERO);
            if subtotal < min {
                continue;
            }
            let amount = match (dec(c.cond.percent.as_ref()), dec(c.cond.amount.as_ref())) {
                (Some(p), _) => money::round(
                    subtotal.checked_mul(p).ok_or(OVERFLOW)? / Decimal::ONE_HUNDRED,
                    scale,
                    RoundingMode::HalfUp,
                ),
                (None, Some(a)) => a,
                (None, None) => continue,
            };
            c.amount = amount.min(subtotal);
            discounts.push(c);
        }
        if let Some(d) = best(OrderKind::OrderDiscount, discounts.into_iter()) {
            let totals: Vec<Decimal> = priced
                .iter()
                .map(|q| q.as_ref().map_or(Decimal::ZERO, |q| q.line_total))
                .collect();
            let mut rooms = Vec::new();
            for (k, (quote, line)) in priced.iter().zip(lines).enumerate() {
                let order = counted
                    .get(k)
                    .is_some_and(Option::is_some)
                    .then_some((counted.as_slice(), k));
                rooms.push(match quote {
                    Ok(q) => match self.line_floor(account, q, line.qty, at, order)? {
                        Some(floor) => (q.line_total - floor).max(Decimal::ZERO),
                        None => q.line_total,
                    },
                    Err(_) => Decimal::ZERO,
                });
            }
            allocated = share_out(
                d.amount,
                &totals,
                &rooms,
                scale,
                d.cond.leftover.unwrap_or_default(),
            )?;
            let mut given = Decimal::ZERO;
            for s in &allocated {
                given += *s;
            }
            if !given.is_zero() {
                adjustments.push(RefAdjustment {
                    id: d.id(),
                    kind: "order_discount",
                    amount: -given,
                    ship_to: None,
                });
            }
        }
        if let Some(m) = best(OrderKind::MinimumOrder, cands.iter().copied()) {
            let min = dec(m.cond.min_subtotal.as_ref()).unwrap_or(Decimal::ZERO);
            if subtotal < min {
                match dec(m.cond.surcharge.as_ref()) {
                    Some(s) => adjustments.push(RefAdjustment {
                        id: m.id(),
                        kind: "minimum_order",
                        amount: s,
                        ship_to: None,
                    }),
                    None => return Err(MINIMUM_ORDER),
                }
            }
        }
        if let Some(s) = best(OrderKind::Shipping, cands.iter().copied()) {
            let charge = dec(s.cond.charge.as_ref()).unwrap_or(Decimal::ZERO);
            let free_from = dec(s.cond.free_from.as_ref());
            let mut addresses: Vec<Option<&str>> = Vec::new();
            for (line, quote) in lines.iter().zip(&priced) {
                if quote.is_ok() && !addresses.contains(&line.ship_to.as_deref()) {
                    addresses.push(line.ship_to.as_deref());
                }
            }
            for address in addresses {
                let mut group = Decimal::ZERO;
                for (line, quote) in lines.iter().zip(&priced) {
                    if let (Ok(q), true) = (quote, line.ship_to.as_deref() == address) {
                        group += q.line_total;
                    }
                }
                let free = free_from.is_some_and(|f| group >= f);
                if !free && !charge.is_zero() {
                    adjustments.push(RefAdjustment {
                        id: s.id(),
                        kind: "shipping",
                        amount: charge,
                        ship_to: address.map(str::to_string),
                    });
                }
            }
        }
        let mut total = subtotal;
        for a in &adjustments {
            total = total.checked_add(a.amount).ok_or(OVERFLOW)?;
        }
        Ok(RefOrder {
            currency,
            lines: priced,
            allocated,
            subtotal,
            adjustments,
            total,
        })
    }
}

/// The largest whole number of `unit`s not above `amount × total / pool`, searched unit by unit.
fn units_of(
    amount: Decimal,
    total: Decimal,
    pool: Decimal,
    unit: Decimal,
) -> Result<Decimal, &'static str> {
    let target = amount.checked_mul(total).ok_or(OVERFLOW)?;
    let mut k = (target / pool / unit).floor();
    while (k + Decimal::ONE) * unit * pool <= target {
        k += Decimal::ONE;
    }
    while k > Decimal::ZERO && k * unit * pool > target {
        k -= Decimal::ONE;
    }
    Ok(k * unit)
}

/// §12.4, unit by unit: each line the largest whole number of units not above its exact
/// proportional share and within its room (its total less its floor); while a round caps a
/// line, the rest shared again among the lines with a unit of room left, in proportion to
/// their totals; then one unit at a time in the leftover order while a line has room.
fn share_out(
    discount: Decimal,
    totals: &[Decimal],
    rooms: &[Decimal],
    scale: u32,
    leftover: Leftover,
) -> Result<Vec<Decimal>, &'static str> {
    let mut subtotal = Decimal::ZERO;
    for t in totals {
        subtotal = subtotal.checked_add(*t).ok_or(OVERFLOW)?;
    }
    let unit = Decimal::new(1, scale);
    let mut shares = vec![Decimal::new(0, scale); totals.len()];
    if discount.is_zero() || subtotal.is_zero() {
        return Ok(shares);
    }
    // (total, whole units of room, share, still taking) per line.
    let mut lines: Vec<(Decimal, Decimal, Decimal, bool)> = totals
        .iter()
        .zip(rooms)
        .map(|(t, r)| (*t, (*r / unit).floor() * unit, Decimal::new(0, scale), true))
        .collect();
    let mut pool = subtotal;
    loop {
        let left = discount - lines.iter().map(|l| l.2).sum::<Decimal>();
        let mut capped = false;
        for (total, cap, share, taking) in &mut lines {
            if !*taking {
                continue;
            }
            let part = units_of(left, *total, pool, unit)?;
            if part > *cap - *share {
                capped = true;
            }
            *share += part.min(*cap - *share);
            share.rescale(scale);
        }
        if !capped {
            break;
        }
        pool = Decimal::ZERO;
        for (total, cap, share, taking) in &mut lines {
            *taking = *taking && *cap - *share >= unit;
            if *taking {
                pool += *total;
            }
        }
        if pool.is_zero() {
            break;
        }
    }
    shares = lines.into_iter().map(|l| l.2).collect();
    let mut left = discount - shares.iter().copied().sum::<Decimal>();
    // (position, line total, share, room), walked in the leftover order.
    let mut slots: Vec<(usize, Decimal, Decimal, Decimal)> = totals
        .iter()
        .zip(shares)
        .zip(rooms)
        .enumerate()
        .map(|(i, ((t, s), r))| (i, *t, s, *r))
        .collect();
    match leftover {
        Leftover::First => {}
        Leftover::Last => slots.reverse(),
        Leftover::Largest => slots.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0))),
    }
    loop {
        let before = left;
        for (_, _, share, room) in &mut slots {
            if left >= unit && *room - *share >= unit {
                *share += unit;
                left -= unit;
            }
        }
        if left < unit || left == before {
            slots.sort_by_key(|slot| slot.0);
            return Ok(slots.into_iter().map(|(_, _, share, _)| share).collect());
        }
    }
}
