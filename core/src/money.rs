//! Exact decimal arithmetic for prices: parsing, checked operations and rounding.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::model::RoundingMode;

/// Appends a decimal as its `Display` writes it (every digit of its scale, no exponent), without
/// the formatting machinery: the bindings write several decimals per answer, and `fmt` was the
/// larger part of that.
///
/// ```
/// use tarif::money::push_decimal;
/// let mut out = String::from("total ");
/// push_decimal(&mut out, "-0.050".parse().unwrap());
/// assert_eq!(out, "total -0.050");
/// ```
pub fn push_decimal(out: &mut String, value: Decimal) {
    let mantissa = value.mantissa();
    if mantissa < 0 {
        out.push('-');
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(mantissa.unsigned_abs());
    let scale = value.scale() as usize;
    match digits.len().checked_sub(scale) {
        Some(0) | None => {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', scale - digits.len()));
            out.push_str(digits);
        }
        Some(whole) => {
            let (int, fraction) = digits.split_at(whole);
            out.push_str(int);
            if scale > 0 {
                out.push('.');
                out.push_str(fraction);
            }
        }
    }
}

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
    round_small(value, scale, mode).unwrap_or_else(|| round_general(value, scale, mode))
}

/// [`round`] by rust_decimal, for every value.
fn round_general(value: Decimal, scale: u32, mode: RoundingMode) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(scale, strategy(mode));
    rounded.rescale(scale);
    rounded
}

/// [`round`] in integer arithmetic, for a positive value whose mantissa fits 64 bits (every
/// price of a quote): a division and a comparison where rust_decimal's general rounding took
/// several times a multiplication, twice per line. `None` outside that range; the result is
/// what rust_decimal gives, mantissa and scale (a proptest below holds it to that).
fn round_small(value: Decimal, scale: u32, mode: RoundingMode) -> Option<Decimal> {
    let mantissa = value.mantissa();
    let from = value.scale();
    if mantissa <= 0 || mantissa > i128::from(u64::MAX) || scale > MAX_SCALE {
        return None;
    }
    let Some(drop) = from.checked_sub(scale) else {
        let widened = mantissa.checked_mul(10_i128.checked_pow(scale - from)?)?;
        return Decimal::try_from_i128_with_scale(widened, scale).ok();
    };
    // Past 20 dropped digits the unit only grows: 10^20 is already over twice any 64-bit
    // mantissa, so the whole part is 0 and the rest compares as against the true unit.
    let unit = 10_i128.checked_pow(drop.min(20))?;
    let (whole, rest) = (mantissa / unit, mantissa % unit);
    let up = match mode {
        RoundingMode::HalfUp => 2 * rest >= unit,
        RoundingMode::HalfDown => 2 * rest > unit,
        RoundingMode::HalfEven => 2 * rest > unit || (2 * rest == unit && whole % 2 == 1),
        RoundingMode::Up => rest > 0,
        RoundingMode::Down => false,
    };
    Decimal::try_from_i128_with_scale(whole + i128::from(up), scale).ok()
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
    whole.exact_mul(step).map(|v| v.normalize_to(step.scale()))
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

/// The exact product `a × b`, or `None` when it does not fit a `Decimal` (96-bit mantissa,
/// at most 28 decimals) — where `Decimal::checked_mul` would silently round it.
///
/// ```
/// use rust_decimal::Decimal;
/// use tarif::money::mul;
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// assert_eq!(mul(d("1.99"), d("2.5")).unwrap().to_string(), "4.975");
/// // 30 significant digits: `checked_mul` would round to …469.1348.
/// assert_eq!(mul(d("1.01"), d("1234567890123456789012345.678")), None);
/// ```
pub fn mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    let scale = a.scale() + b.scale();
    if let Some(m) = a.mantissa().checked_mul(b.mantissa()) {
        // The whole product fits: it is the exact product, with the mantissa and scale
        // rust_decimal gives it, without its general 96-bit multiplication. A zero product
        // takes rust_decimal's path, which sets its scale its own way.
        if m != 0 && m.unsigned_abs() < MANTISSA_LIMIT && scale <= MAX_SCALE {
            return Decimal::try_from_i128_with_scale(m, scale).ok();
        }
    }
    let product = a.checked_mul(b)?;
    (exact_product(a, b)? == product.normalize()).then_some(product)
}

/// [`mul`] as a method, so that call chains read like `checked_mul` chains.
///
/// ```
/// use rust_decimal::Decimal;
/// use tarif::money::ExactMul;
/// let unit: Decimal = "9.90".parse().unwrap();
/// assert_eq!(unit.exact_mul(Decimal::from(3)).unwrap().to_string(), "29.70");
/// ```
pub trait ExactMul {
    /// The exact product, or `None` when it does not fit a `Decimal`.
    fn exact_mul(self, other: Decimal) -> Option<Decimal>;
}

impl ExactMul for Decimal {
    #[inline]
    fn exact_mul(self, other: Decimal) -> Option<Decimal> {
        mul(self, other)
    }
}

/// `value × percent / 100`, exactly; `None` when that does not fit a `Decimal`. The division
/// is rust_decimal's (its scale is the one quotes have always shown), accepted only when exact.
fn percent_part(value: Decimal, percent: Decimal) -> Option<Decimal> {
    let product = mul(value, percent)?;
    if let Some(part) = hundredth(product) {
        return Some(part);
    }
    let part = product.checked_div(Decimal::ONE_HUNDRED)?;
    (mul(part, Decimal::ONE_HUNDRED)? == product).then_some(part)
}

/// `value / 100` with the mantissa and scale rust_decimal's division gives it — the mantissa
/// divided by 100 when it can be, else the scale raised by 2 — for a nonzero mantissa of at
/// most 64 bits and a scale of at most 18, where that rule holds (a proptest below checks it
/// against the division); `None` elsewhere. Exact by construction: the division it replaces
/// was most of the cost of a percent.
fn hundredth(value: Decimal) -> Option<Decimal> {
    let (mantissa, scale) = (value.mantissa(), value.scale());
    if mantissa == 0 || mantissa.unsigned_abs() > u128::from(u64::MAX) || scale > 18 {
        return None;
    }
    let (mantissa, scale) = if mantissa % 100 == 0 {
        (mantissa / 100, scale)
    } else {
        (mantissa, scale + 2)
    };
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

/// `value × (1 + percent / 100)`, never below zero; `None` on overflow or when the exact
/// result does not fit a `Decimal`.
pub fn apply_percent(value: Decimal, percent: Decimal) -> Option<Decimal> {
    let delta = percent_part(value, percent)?;
    value.checked_add(delta).map(non_negative)
}

/// `base × percent / 100`; `None` on overflow or when the exact result does not fit.
pub fn percent_of(base: Decimal, percent: Decimal) -> Option<Decimal> {
    percent_part(base, percent)
}

/// A `Decimal` mantissa is 96 bits.
const MANTISSA_LIMIT: u128 = 1 << 96;
const MAX_SCALE: u32 = 28;

/// The exact product with trailing zeros removed, when it fits a `Decimal`. The factors of 2
/// and 5 that will form the product's trailing zeros are taken out before multiplying, so the
/// remaining product overflows `i128` only when the exact value cannot fit 96 bits anyway.
fn exact_product(a: Decimal, b: Decimal) -> Option<Decimal> {
    let (a, b) = (a.normalize(), b.normalize());
    let (mut am, mut bm) = (a.mantissa(), b.mantissa());
    if am == 0 || bm == 0 {
        return Some(Decimal::ZERO);
    }
    let twos = power_of(am, 2) + power_of(bm, 2);
    let fives = power_of(am, 5) + power_of(bm, 5);
    let zeros = twos.min(fives);
    for (factor, mut count) in [(2, zeros), (5, zeros)] {
        while count > 0 {
            if am % factor == 0 {
                am /= factor;
            } else {
                bm /= factor;
            }
            count -= 1;
        }
    }
    let mantissa = am.checked_mul(bm)?;
    let scale = i64::from(a.scale()) + i64::from(b.scale()) - i64::from(zeros);
    let (mantissa, scale) = if scale < 0 {
        let up = 10_i128.checked_pow(u32::try_from(-scale).ok()?)?;
        (mantissa.checked_mul(up)?, 0)
    } else {
        (mantissa, u32::try_from(scale).ok()?)
    };
    (mantissa.unsigned_abs() < MANTISSA_LIMIT && scale <= MAX_SCALE)
        .then(|| Decimal::from_i128_with_scale(mantissa, scale))
}

/// How many times `factor` divides `m` (`m` ≠ 0).
fn power_of(mut m: i128, factor: i128) -> u32 {
    let mut count = 0;
    while m % factor == 0 {
        m /= factor;
        count += 1;
    }
    count
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

    #[test]
    fn products_too_wide_to_be_exact_are_none() {
        // Found by hardening: both were rounded to fit 96 bits instead of failing.
        assert_eq!(mul(d("1.01"), d("1234567890123456789012345.678")), None);
        let third = d("0.3333333333333333333333333333");
        assert_eq!(mul(third, Decimal::MAX), None);
        // Exact and representable, although the raw mantissas overflow 96 bits.
        let zeros = mul(d("1024"), d("9765625")).unwrap_or_default();
        assert_eq!(zeros, d("10000000000"));
        let wide = d("79228162514264337593543950.335");
        assert_eq!(mul(wide, d("1000")), Some(Decimal::MAX));
        assert_eq!(mul(d("0.0000000000000001"), d("0.0000000000001")), None);
        assert_eq!(
            mul(d("-2.50"), d("4")).map(|v| v.to_string()),
            Some("-10.00".into())
        );
    }

    #[test]
    fn percents_are_exact_or_none() {
        assert_eq!(
            percent_of(d("0.01"), d("0.0000000000000000000000000001")),
            None
        );
        assert_eq!(percent_of(d("200"), d("12.5")), Some(d("25")));
    }

    fn exact(a: Decimal, b: Decimal) -> Option<Decimal> {
        use num_bigint::BigInt;
        let product = BigInt::from(a.mantissa()) * BigInt::from(b.mantissa());
        let mut text = product.magnitude().to_string();
        let scale = (a.scale() + b.scale()) as usize;
        if scale > 0 {
            if text.len() <= scale {
                text = format!("{}{text}", "0".repeat(scale + 1 - text.len()));
            }
            text.insert(text.len() - scale, '.');
            text = text.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        let sign = if product.sign() == num_bigint::Sign::Minus {
            "-"
        } else {
            ""
        };
        Decimal::from_str_exact(&format!("{sign}{text}")).ok()
    }

    #[test]
    fn push_decimal_writes_a_negative_zero_as_display_does() {
        for value in [
            Decimal::from_parts(0, 0, 0, true, 2),
            Decimal::NEGATIVE_ONE * Decimal::ZERO,
        ] {
            let mut out = String::new();
            push_decimal(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }

    const MODES: [RoundingMode; 5] = [
        RoundingMode::HalfUp,
        RoundingMode::HalfDown,
        RoundingMode::HalfEven,
        RoundingMode::Up,
        RoundingMode::Down,
    ];

    /// Every midpoint and near-midpoint of small mantissas, which random ones seldom hit.
    #[test]
    fn integer_rounding_and_hundredths_agree_with_rust_decimal_on_small_values() {
        for mantissa in -3_000_i64..3_000 {
            for from in 0..=20 {
                let value = Decimal::new(mantissa, from);
                if let Some(fast) = hundredth(value) {
                    let divided = value.checked_div(Decimal::ONE_HUNDRED);
                    assert_eq!(
                        divided.map(|d| (d.mantissa(), d.scale())),
                        Some((fast.mantissa(), fast.scale())),
                        "{value} / 100"
                    );
                }
                for to in 0..=from.min(6) + 2 {
                    for mode in MODES {
                        let slow = round_general(value, to, mode);
                        if let Some(fast) = round_small(value, to, mode) {
                            assert_eq!(
                                (fast.mantissa(), fast.scale()),
                                (slow.mantissa(), slow.scale()),
                                "{value} to {to} decimals, {mode:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn push_decimal_writes_what_display_writes(m in proptest::num::i128::ANY, scale in 0u32..=28, shift in 0u32..96) {
            let value = Decimal::from_i128_with_scale((m >> 32) >> shift, scale);
            let mut out = String::new();
            push_decimal(&mut out, value);
            proptest::prop_assert_eq!(out, value.to_string());
        }

        #[test]
        fn integer_rounding_gives_what_rust_decimal_gives(
            m in proptest::num::i128::ANY, from in 0u32..=28, shift in 0u32..128,
            to in 0u32..=28, mode in 0usize..5,
        ) {
            let value = Decimal::from_i128_with_scale((m >> 32) >> shift.min(95), from);
            let mode = MODES[mode];
            let slow = round_general(value, to, mode);
            if let Some(fast) = round_small(value, to, mode) {
                proptest::prop_assert_eq!((fast.mantissa(), fast.scale()), (slow.mantissa(), slow.scale()));
                proptest::prop_assert_eq!(fast.to_string(), slow.to_string());
            }
            proptest::prop_assert_eq!(round(value, to, mode).to_string(), slow.to_string());
        }

        #[test]
        fn a_hundredth_is_what_the_division_gives(
            m in proptest::num::i128::ANY, scale in 0u32..=28, shift in 0u32..128,
        ) {
            let value = Decimal::from_i128_with_scale((m >> 32) >> shift.min(95), scale);
            let divided = value.checked_div(Decimal::ONE_HUNDRED);
            if let Some(fast) = hundredth(value) {
                let divided = divided.unwrap_or_default();
                proptest::prop_assert_eq!((fast.mantissa(), fast.scale()), (divided.mantissa(), divided.scale()));
            }
        }

        #[test]
        fn mul_is_the_exact_product_or_none(
            am in proptest::num::i128::ANY, ascale in 0u32..=28,
            bm in proptest::num::i128::ANY, bscale in 0u32..=28,
            shift_a in 0u32..96, shift_b in 0u32..96,
        ) {
            let a = Decimal::from_i128_with_scale((am >> 32) >> shift_a, ascale);
            let b = Decimal::from_i128_with_scale((bm >> 32) >> shift_b, bscale);
            let got = mul(a, b);
            let want = exact(a, b);
            proptest::prop_assert_eq!(got.map(|v| v.normalize()), want.map(|v| v.normalize()));
            // Digit for digit what rust_decimal writes (the scale shows in explanations).
            if let Some(got) = got {
                proptest::prop_assert_eq!(
                    Some(got.to_string()),
                    a.checked_mul(b).map(|p| p.to_string())
                );
            }
        }
    }
}
