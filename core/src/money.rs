//! Exact decimal arithmetic for prices: parsing, checked operations and rounding.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::model::RoundingMode;

/// Parses a decimal exactly: no rounding, no exponent, no float.
///
/// ```
/// use tarif::money::parse_decimal;
/// assert_eq!(parse_decimal("129.90").unwrap().to_string(), "129.90");
/// assert!(parse_decimal("1e3").is_none());
/// assert!(parse_decimal("12,5").is_none());
/// ```
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let well_formed = !digits.is_empty()
        && !digits.starts_with('.')
        && !digits.ends_with('.')
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1;
    if !well_formed {
        return None;
    }
    Decimal::from_str_exact(t).ok()
}

/// Rounds `value` to `scale` decimals with `mode`.
///
/// ```
/// use rust_decimal::Decimal;
/// use tarif::money::round;
/// use tarif::document::RoundingMode;
/// let v: Decimal = "2.345".parse().unwrap();
/// assert_eq!(round(v, 2, RoundingMode::HalfUp).to_string(), "2.35");
/// assert_eq!(round(v, 2, RoundingMode::HalfEven).to_string(), "2.34");
/// assert_eq!(round(v, 2, RoundingMode::HalfDown).to_string(), "2.34");
/// ```
pub fn round(value: Decimal, scale: u32, mode: RoundingMode) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(scale, strategy(mode));
    rounded.rescale(scale);
    rounded
}

fn strategy(mode: RoundingMode) -> RoundingStrategy {
    match mode {
        RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
        RoundingMode::HalfDown => RoundingStrategy::MidpointTowardZero,
        RoundingMode::Up => RoundingStrategy::AwayFromZero,
        RoundingMode::Down => RoundingStrategy::ToZero,
    }
}

/// Rounds `value` to a multiple of `step` (> 0) with `mode`; `None` on overflow.
///
/// ```
/// use rust_decimal::Decimal;
/// use tarif::money::round_to_multiple;
/// use tarif::document::RoundingMode;
/// let v: Decimal = "12.37".parse().unwrap();
/// let step: Decimal = "0.05".parse().unwrap();
/// assert_eq!(round_to_multiple(v, step, RoundingMode::HalfUp).unwrap().to_string(), "12.35");
/// ```
pub fn round_to_multiple(value: Decimal, step: Decimal, mode: RoundingMode) -> Option<Decimal> {
    let units = value.checked_div(step)?;
    let whole = round(units, 0, mode);
    whole
        .checked_mul(step)
        .map(|v| v.normalize_to(step.scale()))
}

/// Rounds `value` to `n + ending` with `n` a whole number (never below 0).
///
/// ```
/// use rust_decimal::Decimal;
/// use tarif::money::round_to_ending;
/// use tarif::document::RoundingMode;
/// let v: Decimal = "12.37".parse().unwrap();
/// let e: Decimal = "0.99".parse().unwrap();
/// assert_eq!(round_to_ending(v, e, RoundingMode::HalfUp).unwrap().to_string(), "11.99");
/// assert_eq!(round_to_ending(v, e, RoundingMode::Up).unwrap().to_string(), "12.99");
/// ```
pub fn round_to_ending(value: Decimal, ending: Decimal, mode: RoundingMode) -> Option<Decimal> {
    let whole = round(value.checked_sub(ending)?, 0, mode).max(Decimal::ZERO);
    whole.checked_add(ending)
}

/// `value × (1 + percent / 100)`, never below zero; `None` on overflow.
pub fn apply_percent(value: Decimal, percent: Decimal) -> Option<Decimal> {
    let delta = value
        .checked_mul(percent)?
        .checked_div(Decimal::ONE_HUNDRED)?;
    value.checked_add(delta).map(non_negative)
}

/// `base × percent / 100`; `None` on overflow.
pub fn percent_of(base: Decimal, percent: Decimal) -> Option<Decimal> {
    base.checked_mul(percent)?.checked_div(Decimal::ONE_HUNDRED)
}

/// Clamps a negative result to zero: no action yields a negative price.
#[inline]
pub fn non_negative(value: Decimal) -> Decimal {
    if value.is_sign_negative() {
        Decimal::ZERO
    } else {
        value
    }
}

trait NormalizeTo {
    fn normalize_to(self, scale: u32) -> Decimal;
}

impl NormalizeTo for Decimal {
    /// Presents a multiple with the step's decimals (`12.35`, not `12.3500`).
    fn normalize_to(mut self, scale: u32) -> Decimal {
        if self.scale() > scale {
            self = self.normalize();
        }
        if self.scale() < scale {
            self.rescale(scale);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        parse_decimal(s).unwrap_or_default()
    }

    #[test]
    fn parses_only_plain_decimals() {
        assert_eq!(parse_decimal("-12.5"), Some(Decimal::new(-125, 1)));
        assert_eq!(parse_decimal("+3"), Some(Decimal::new(3, 0)));
        for bad in [
            "", "-", ".5", "5.", "1.2.3", "1e2", "NaN", "12,5", "0x10", " ",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rounding_modes_on_negative_halves() {
        assert_eq!(round(d("-2.5"), 0, RoundingMode::HalfUp), d("-3"));
        assert_eq!(round(d("-2.5"), 0, RoundingMode::HalfDown), d("-2"));
        assert_eq!(round(d("-2.5"), 0, RoundingMode::HalfEven), d("-2"));
        assert_eq!(round(d("2.01"), 0, RoundingMode::Up), d("3"));
        assert_eq!(round(d("2.99"), 0, RoundingMode::Down), d("2"));
    }

    #[test]
    fn round_keeps_requested_scale() {
        assert_eq!(round(d("5"), 2, RoundingMode::HalfUp).to_string(), "5.00");
    }

    #[test]
    fn ending_never_goes_below_zero() {
        assert_eq!(
            round_to_ending(d("0.10"), d("0.99"), RoundingMode::HalfUp),
            Some(d("0.99"))
        );
    }

    #[test]
    fn percent_clamps_at_zero() {
        assert_eq!(apply_percent(d("10"), d("-100")), Some(Decimal::ZERO));
        assert_eq!(apply_percent(d("10"), d("-12.5")), Some(d("8.75")));
    }

    #[test]
    fn overflow_is_none() {
        assert_eq!(apply_percent(Decimal::MAX, d("50")), None);
    }
}
