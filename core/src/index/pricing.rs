//! Price lists, their entries, contracts and rules, with the keys that find them from a product.

use ahash::AHashMap;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::catalog::Spec;
use super::ids::{
    AudKey, ContractId, CurrencyId, EntryId, IdVec, ListId, PolicyId, ProductId, RuleId, SelectorId,
};
use crate::instant::Interval;
use crate::model::{PercentOf, PriceMode, RoundingMode, TierMode};

#[derive(Debug, Default)]
pub(crate) struct Pricing {
    pub lists: IdVec<ListId, ListDef>,
    pub list_index: AHashMap<Box<str>, ListId>,
    pub entries: IdVec<EntryId, EntryDef>,
    /// `(list << 32) | product` → range in `entries`.
    pub entry_index: AHashMap<u64, (EntryId, u32)>,
    pub rules: IdVec<RuleId, RuleDef>,
    /// `(aud << 32) | key` → rules indexed by a key the product carries.
    pub rule_index: AHashMap<u64, SmallVec<[RuleId; 2]>>,
    /// Audience key → what its rules cover, so that a level with nothing for the product costs
    /// one lookup and one bitmap test.
    pub audience_rules: AHashMap<AudKey, AudienceRules>,
    pub contracts: IdVec<ContractId, ContractDef>,
    /// Everyone-level lists (for `list_price`).
    pub everyone_lists: SmallVec<[ListId; 2]>,
}

/// The pricing rules of one audience key.
#[derive(Debug, Default)]
pub(crate) struct AudienceRules {
    /// Which index kinds hold rules for it (bit per [`IndexKind`]).
    pub kinds: u8,
    /// Every product some rule of it matches.
    pub products: RoaringBitmap,
    /// Rules whose selector must be checked against the product.
    pub scan: Vec<RuleId>,
}

/// Kinds of product keys in the rule index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum IndexKind {
    Sku = 0,
    Family = 1,
    Category = 2,
    Brand = 3,
    Scan = 4,
}

impl IndexKind {
    pub fn key(self, aud: AudKey, value: u32) -> u64 {
        (u64::from(aud) << 32) | (u64::from(self as u8) << 29) | u64::from(value & 0x1FFF_FFFF)
    }
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[derive(Debug)]
pub(crate) struct ContractDef {
    pub id: Box<str>,
    pub rounding: Option<PolicyId>,
}

#[derive(Debug)]
pub(crate) struct ListDef {
    pub id: Box<str>,
    pub net: bool,
    pub currency: CurrencyId,
    pub priority: i64,
    pub validity: Interval,
    pub rounding: Option<PolicyId>,
    pub derived: Option<(ListId, Decimal)>,
}

/// Quantity-dependent values: the own value below the first tier, then tiers.
#[derive(Debug, Clone)]
pub(crate) struct Tiered {
    pub own: Option<Decimal>,
    /// Boxed rather than inline: most of the millions of price entries have no tiers, and an
    /// empty box costs 16 bytes where inline room for two tiers cost 72.
    pub tiers: Box<[(Decimal, Decimal)]>,
    pub mode: TierMode,
}

impl Tiered {
    /// The all-units value for `qty`: the tier with the largest threshold ≤ qty, else own.
    pub fn value_at(&self, qty: Decimal) -> Option<Decimal> {
        self.tiers
            .iter()
            .rev()
            .find(|(min, _)| *min <= qty)
            .map(|&(_, v)| v)
            .or(self.own)
    }

    /// The graduated bands for `qty`: (units in band, value of band).
    pub fn bands(&self, qty: Decimal) -> SmallVec<[(Decimal, Decimal); 4]> {
        let mut out = SmallVec::new();
        let mut lower = Decimal::ZERO;
        let mut value = self.own;
        for &(threshold, tier_value) in &self.tiers {
            if let Some(v) = value {
                let upper = threshold.min(qty);
                if upper > lower {
                    out.push((upper - lower, v));
                }
            }
            lower = threshold;
            value = Some(tier_value);
            if threshold >= qty {
                return out;
            }
        }
        if let Some(v) = value {
            if qty > lower {
                out.push((qty - lower, v));
            }
        }
        out
    }
}

#[derive(Debug)]
pub(crate) struct EntryDef {
    pub list: ListId,
    pub product: ProductId,
    pub values: Tiered,
    pub priority: i64,
    pub validity: Interval,
    pub min_qty: Option<Decimal>,
    pub max_qty: Option<Decimal>,
    pub exclusive: bool,
}

#[derive(Debug)]
pub(crate) struct RuleDef {
    pub id: Box<str>,
    pub contract: ContractId,
    pub step: u16,
    pub selector: SelectorId,
    pub spec: Spec,
    pub priority: i64,
    pub validity: Interval,
    pub min_qty: Option<Decimal>,
    pub max_qty: Option<Decimal>,
    /// Set when the rule carries an absolute amount: it is a candidate only in this currency.
    pub currency: Option<CurrencyId>,
    pub exclusive: bool,
    pub action: Action,
    pub rounding: Option<PolicyId>,
    /// Audience keys the rule speaks to.
    pub audience: SmallVec<[AudKey; 2]>,
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    Price {
        values: Tiered,
        mode: PriceMode,
    },
    Percent {
        values: Tiered,
        of: PercentOf,
    },
    Amount {
        values: Tiered,
    },
    FromList {
        list: ListId,
        percent: Option<Decimal>,
    },
    Bounds(Bounds),
    RoundTo {
        target: RoundTarget,
        mode: Option<RoundingMode>,
    },
}

impl Action {
    pub fn needs_running_price(&self) -> bool {
        !matches!(self, Action::Price { .. } | Action::FromList { .. })
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Bounds {
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
    pub min_margin_pct: Option<Decimal>,
    pub max_discount_pct: Option<Decimal>,
    pub min_over_base: Option<Decimal>,
    pub max_over_base: Option<Decimal>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum RoundTarget {
    Multiple(Decimal),
    Ending(Decimal),
}

/// The key of a product's entries in a list ([`Pricing::entry_index`]).
pub(crate) fn entry_key(list: ListId, product: ProductId) -> u64 {
    (u64::from(list.raw()) << 32) | u64::from(product.raw())
}

impl Pricing {
    /// The product's entries in the list (a contiguous run of `entries`), with their ids.
    pub(crate) fn entries_of(
        &self,
        list: ListId,
        product: ProductId,
    ) -> impl Iterator<Item = (EntryId, &EntryDef)> + '_ {
        self.entry_index
            .get(&entry_key(list, product))
            .into_iter()
            .flat_map(move |&(start, len)| self.entries.run(start, len as usize))
    }

    /// Whether the list itself holds an entry for the product.
    pub(crate) fn has_entry(&self, list: ListId, product: ProductId) -> bool {
        self.entry_index.contains_key(&entry_key(list, product))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn graduated_bands_cover_the_quantity() {
        let t = Tiered {
            own: Some(d("10")),
            tiers: Box::new([(d("10"), d("9")), (d("50"), d("8"))]),
            mode: TierMode::Graduated,
        };
        let bands = t.bands(d("60"));
        assert_eq!(
            bands.as_slice(),
            &[(d("10"), d("10")), (d("40"), d("9")), (d("10"), d("8"))]
        );
        assert_eq!(t.bands(d("5")).as_slice(), &[(d("5"), d("10"))]);
        assert_eq!(t.bands(d("10")).as_slice(), &[(d("10"), d("10"))]);
    }
}
