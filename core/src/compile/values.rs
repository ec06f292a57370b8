//! Values with a path: decimals, percentages, quantities, instants, validity, currencies,
//! rounding policies and the settings, each parsed once and reported where it stands.

use ahash::AHashMap;
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::{items, Diags};
use crate::error::DiagnosticCode as Code;
use crate::index::{CurrencyDef, CurrencyId, IdVec, Policy, PolicyId, Settings, StepDef};
use crate::instant::{Instant, Interval};
use crate::model::{self, Document, NumText, RoundingMode, RoundingStage, Select, Validity};
use crate::money::parse_decimal;

/// Largest number of decimals rust_decimal carries.
const MAX_SCALE: u32 = 28;
/// Longest id accepted.
const MAX_ID_LEN: usize = 256;

/// Where a value stands: a path, or what builds it. The compiler reads millions of valid values
/// and formats a path only for the few that are reported.
pub(crate) trait At: Copy {
    /// The path.
    fn path(self) -> String;
}

impl At for &str {
    fn path(self) -> String {
        self.to_string()
    }
}

impl At for &String {
    fn path(self) -> String {
        self.clone()
    }
}

impl<F: Fn() -> String + Copy> At for F {
    fn path(self) -> String {
        self()
    }
}

/// Parses a money or percentage string.
pub(crate) fn decimal(text: &str, path: impl At, diags: &mut Diags) -> Option<Decimal> {
    let parsed = parse_decimal(text);
    if parsed.is_none() {
        diags.error(
            Code::InvalidDecimal,
            &path.path(),
            format!("invalid decimal `{text}`: expected digits with an optional sign and decimal point, as a string"),
            &[],
        );
    }
    parsed
}

/// Parses a signed percentage (≥ −100).
pub(crate) fn percent(text: &str, path: impl At, diags: &mut Diags) -> Option<Decimal> {
    let value = decimal(text, path, diags)?;
    if value < Decimal::from(-100) {
        diags.error(
            Code::InvalidPercent,
            &path.path(),
            format!("percentage `{text}` is below `-100`"),
            &[],
        );
        return None;
    }
    Some(value)
}

/// Parses a non-negative amount (prices, costs, bounds, percentages of bounds).
pub(crate) fn non_negative(text: &str, path: impl At, diags: &mut Diags) -> Option<Decimal> {
    let value = decimal(text, path, diags)?;
    if value.is_sign_negative() && !value.is_zero() {
        diags.error(
            Code::InvalidDecimal,
            &path.path(),
            format!("`{text}` must not be negative"),
            &[],
        );
        return None;
    }
    Some(value)
}

/// Parses a positive quantity.
pub(crate) fn quantity(text: &NumText, path: impl At, diags: &mut Diags) -> Option<Decimal> {
    match parse_decimal(&text.0) {
        Some(q) if q > Decimal::ZERO => Some(q),
        _ => {
            diags.error(
                Code::InvalidQuantity,
                &path.path(),
                format!("invalid quantity `{}`: expected a positive decimal", text.0),
                &[],
            );
            None
        }
    }
}

/// Checks an id: non-empty, at most 256 characters.
pub(crate) fn id_ok(id: &str, path: impl At, diags: &mut Diags) -> bool {
    if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        diags.error(
            Code::InvalidId,
            &path.path(),
            format!("invalid id `{id}`: ids are 1 to {MAX_ID_LEN} characters"),
            &[id],
        );
        return false;
    }
    true
}

/// Parses a validity into an interval (always, when absent).
pub(crate) fn validity(
    valid: Option<&Validity>,
    tz: Tz,
    path: impl At,
    diags: &mut Diags,
) -> Interval {
    let Some(valid) = valid else {
        return Interval::ALWAYS;
    };
    let mut bound = |text: &Option<String>, key: &str, default: Instant| match text {
        None => default,
        Some(t) => match Instant::parse_in_zone(t, tz) {
            Some(i) => i,
            None => {
                diags.error(
                    Code::InvalidInstant,
                    &format!("{}.{key}", path.path()),
                    format!("invalid instant `{t}`: expected RFC 3339 or YYYY-MM-DD"),
                    &[],
                );
                default
            }
        },
    };
    let interval = Interval {
        from: bound(&valid.from, "from", Instant::MIN),
        until: bound(&valid.until, "until", Instant::MAX),
    };
    if interval.is_empty() {
        diags.error(
            Code::InvalidInterval,
            &path.path(),
            format!(
                "`from` `{}` is not before `until` `{}`",
                valid.from.as_deref().unwrap_or(""),
                valid.until.as_deref().unwrap_or("")
            ),
            &[],
        );
    }
    interval
}

/// The declared currencies.
pub(crate) struct Currencies {
    pub defs: IdVec<CurrencyId, CurrencyDef>,
    pub index: AHashMap<String, CurrencyId>,
    pub default: CurrencyId,
}

impl Currencies {
    /// The currencies of a compiled index, for a compile of contracts alone.
    pub fn over(defs: &IdVec<CurrencyId, CurrencyDef>, default: CurrencyId) -> Currencies {
        Currencies {
            defs: defs.clone(),
            index: defs
                .iter_enumerated()
                .map(|(id, c)| (c.code.to_string(), id))
                .collect(),
            default,
        }
    }

    /// Resolves a currency code named at `path`.
    pub fn resolve(&self, code: &str, path: impl At, diags: &mut Diags) -> Option<CurrencyId> {
        let found = self.index.get(code).copied();
        if found.is_none() {
            diags.error(
                Code::UnknownCurrency,
                &path.path(),
                format!("currency `{code}` is not declared in `currencies`"),
                &[code],
            );
        }
        found
    }

    /// The currency named at `path`, or the default one.
    pub fn or_default(&self, code: Option<&str>, path: &str, diags: &mut Diags) -> CurrencyId {
        code.and_then(|c| self.resolve(c, path, diags))
            .unwrap_or(self.default)
    }
}

/// ISO 4217 minor units of the codes whose scale is not 2.
fn iso_scale(code: &str) -> Option<u32> {
    const ZERO: [&str; 17] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: [&str; 6] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR"];
    const TWO: [&str; 59] = [
        "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "COP", "CZK", "DKK", "DZD", "EGP",
        "EUR", "GBP", "GEL", "GHS", "HKD", "HUF", "IDR", "ILS", "INR", "KES", "KZT", "LKR", "MAD",
        "MXN", "MYR", "NGN", "NOK", "NZD", "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB",
        "SAR", "SEK", "SGD", "THB", "TND", "TRY", "TWD", "UAH", "USD", "UZS", "VES", "ZAR", "BAM",
        "MKD", "ALL", "AMD", "AZN", "BYN", "MDL", "BDT",
    ];
    if ZERO.contains(&code) {
        Some(0)
    } else if THREE.contains(&code) {
        Some(3)
    } else if TWO.contains(&code) {
        Some(2)
    } else {
        None
    }
}

/// Reads `currencies` and the default currency.
pub(crate) fn currencies(
    doc: &Document,
    settings: &model::Settings,
    policies: &mut Policies,
    diags: &mut Diags,
) -> Currencies {
    let mut out = Currencies {
        defs: IdVec::new(),
        index: AHashMap::new(),
        default: CurrencyId::FIRST,
    };
    for (i, c) in items(&doc.currencies, "currencies", diags) {
        let path = format!("currencies[{i}]");
        let well_formed = c.code.len() == 3 && c.code.chars().all(|ch| ch.is_ascii_uppercase());
        if !well_formed {
            diags.error(
                Code::InvalidCurrency,
                &format!("{path}.code"),
                format!(
                    "invalid currency code `{}`: expected three capital letters",
                    c.code
                ),
                &[&c.code],
            );
            continue;
        }
        let scale = match (c.scale, iso_scale(&c.code)) {
            (Some(s), _) if s <= MAX_SCALE => s,
            (Some(s), _) => {
                diags.error(
                    Code::InvalidCurrency,
                    &format!("{path}.scale"),
                    format!("scale `{s}` is above {MAX_SCALE}"),
                    &[&c.code],
                );
                continue;
            }
            (None, Some(s)) => s,
            (None, None) => {
                diags.error(
                    Code::InvalidCurrency,
                    &format!("{path}.scale"),
                    format!("`{}` is not an ISO 4217 code: give its `scale`", c.code),
                    &[&c.code],
                );
                continue;
            }
        };
        if out.index.contains_key(&c.code) {
            diags.error(
                Code::DuplicateId,
                &format!("{path}.code"),
                format!("duplicate currency `{}`", c.code),
                &[&c.code],
            );
            continue;
        }
        let rounding = policies.parse(c.rounding.as_ref(), &format!("{path}.rounding"), diags);
        let Some(id) = out.defs.push(CurrencyDef {
            code: c.code.as_str().into(),
            scale,
            rounding,
        }) else {
            continue;
        };
        out.index.insert(c.code.clone(), id);
    }
    if let Some(code) = &settings.default_currency {
        if let Some(id) = out.resolve(code, "settings.default_currency", diags) {
            out.default = id;
        }
    }
    out
}

/// Checks and fills a rounding policy.
pub(crate) fn policy(r: &model::Rounding, path: &str, diags: &mut Diags) -> Option<Policy> {
    for (key, value) in [("scale", r.scale), ("unit_scale", r.unit_scale)] {
        if let Some(v) = value.filter(|v| *v > MAX_SCALE) {
            diags.error(
                Code::InvalidRounding,
                &format!("{path}.{key}"),
                format!("`{key}` `{v}` is above {MAX_SCALE}"),
                &[],
            );
            return None;
        }
    }
    Some(Policy {
        mode: r.mode.unwrap_or(RoundingMode::HalfUp),
        stage: r.stage.unwrap_or(RoundingStage::Unit),
        scale: r.scale,
        unit_scale: r.unit_scale.unwrap_or(4),
    })
}

/// Policies registered while compiling; ids index the settings' table.
#[derive(Default)]
pub(crate) struct Policies {
    pub table: IdVec<PolicyId, Policy>,
}

impl Policies {
    /// The first `count` policies of a compiled table (those declared before the contracts).
    pub fn first(table: &IdVec<PolicyId, Policy>, count: usize) -> Policies {
        let mut out = Policies::default();
        for policy in table.iter().take(count) {
            out.table.push(*policy);
        }
        out
    }

    /// Registers a policy (deduplicated) and returns its id.
    pub fn add(&mut self, policy: Policy) -> Option<PolicyId> {
        let known = self
            .table
            .iter_enumerated()
            .find_map(|(id, p)| (*p == policy).then_some(id));
        known.or_else(|| self.table.push(policy))
    }

    /// Parses and registers an optional policy.
    pub fn parse(
        &mut self,
        r: Option<&model::Rounding>,
        path: impl At,
        diags: &mut Diags,
    ) -> Option<PolicyId> {
        r.and_then(|r| policy(r, &path.path(), diags))
            .and_then(|p| self.add(p))
    }
}

/// The default procedure of docs/spec.md.
fn default_procedure() -> Vec<StepDef> {
    let step = |name: &str, required: bool, always: bool| StepDef {
        name: name.into(),
        select: Select::MostSpecific,
        required,
        always,
    };
    vec![
        step("base", true, false),
        step("discount", false, false),
        step("surcharge", false, false),
        step("bounds", false, true),
    ]
}

/// Reads the settings.
pub(crate) fn settings(
    s: &model::Settings,
    currencies: &Currencies,
    policies: &mut Policies,
    diags: &mut Diags,
) -> Settings {
    let timezone = match &s.timezone {
        None => Tz::UTC,
        Some(name) => name.parse::<Tz>().unwrap_or_else(|_| {
            diags.error(
                Code::InvalidTimezone,
                "settings.timezone",
                format!("unknown time zone `{name}`: expected an IANA name like `Europe/Paris`"),
                &[name],
            );
            Tz::UTC
        }),
    };
    let steps = match &s.procedure {
        None => default_procedure(),
        Some(steps) => {
            let mut out: Vec<StepDef> = Vec::new();
            for (i, st) in steps.iter().enumerate() {
                if st.step.is_empty() || out.iter().any(|o| *o.name == *st.step) {
                    diags.error(
                        Code::DuplicateStep,
                        &format!("settings.procedure[{i}].step"),
                        format!("step `{}` is empty or named twice", st.step),
                        &[&st.step],
                    );
                    continue;
                }
                out.push(StepDef {
                    name: st.step.as_str().into(),
                    select: st.select.unwrap_or(Select::MostSpecific),
                    required: st.required || out.is_empty(),
                    always: st.always,
                });
            }
            if out.is_empty() {
                diags.error(
                    Code::UnknownStep,
                    "settings.procedure",
                    "the procedure has no step".into(),
                    &[],
                );
            }
            out
        }
    };
    let rounding = policies.parse(s.rounding.as_ref(), "settings.rounding", diags);
    Settings {
        default_open: s.default_visibility != Some(model::DefaultVisibility::Closed),
        timezone,
        steps,
        rounding,
        default_currency: currencies.default,
        policies: IdVec::new(),
    }
}
