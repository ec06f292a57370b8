//! The names of the vocabulary, as bindings read and print them: one `FromStr` and one
//! `as_str` per enum, so that no binding spells `"see"` or `"replacement"` itself.

use std::fmt;
use std::str::FromStr;

use super::InputCode;
use crate::engine::search::RelationKind;
use crate::error::{Severity, Status};
use crate::model::{Capability, RoundingMode, RoundingStage};

/// A name outside its vocabulary: `kind` is what it should have named (`"capability"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What the name stands for, e.g. `capability`.
    pub kind: &'static str,
    /// The text received.
    pub got: String,
    /// Every name of the vocabulary, in its order.
    pub expected: &'static [&'static str],
    /// The stable code of the input error it is.
    pub code: InputCode,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`: expected ", self.kind, self.got)?;
        let last = self.expected.len().saturating_sub(1);
        for (i, name) in self.expected.iter().enumerate() {
            let separator = match i {
                0 => "",
                _ if i == last => " or ",
                _ => ", ",
            };
            write!(f, "{separator}`{name}`")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownName {}

/// Writes `as_str`, the list of names and `FromStr` for a fieldless enum.
macro_rules! vocabulary {
    ($type:ty, $kind:literal, $code:expr, { $($variant:path => $name:literal),+ $(,)? }) => {
        impl $type {
            /// Every name, in the vocabulary's order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name as documents, bindings and answers write it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($variant => $name),+
                }
            }
        }

        impl FromStr for $type {
            type Err = UnknownName;

            fn from_str(text: &str) -> Result<Self, UnknownName> {
                match text {
                    $($name => Ok($variant),)+
                    _ => Err(UnknownName {
                        kind: $kind,
                        got: text.to_string(),
                        expected: <$type>::NAMES,
                        code: $code,
                    }),
                }
            }
        }
    };
}

vocabulary!(Capability, "capability", InputCode::InvalidQuery, {
    Capability::See => "see",
    Capability::Price => "price",
    Capability::Buy => "buy",
});

vocabulary!(RelationKind, "relation kind", InputCode::InvalidRelationKind, {
    RelationKind::Requires => "requires",
    RelationKind::Accessories => "accessories",
    RelationKind::Compatible => "compatible",
    RelationKind::Excludes => "excludes",
    RelationKind::Replacement => "replacement",
});

vocabulary!(Severity, "severity", InputCode::InvalidQuery, {
    Severity::Warning => "warning",
    Severity::Error => "error",
});

vocabulary!(RoundingStage, "rounding stage", InputCode::InvalidQuery, {
    RoundingStage::Unit => "unit",
    RoundingStage::Line => "line",
});

vocabulary!(RoundingMode, "rounding mode", InputCode::InvalidQuery, {
    RoundingMode::HalfUp => "half_up",
    RoundingMode::HalfEven => "half_even",
    RoundingMode::HalfDown => "half_down",
    RoundingMode::Up => "up",
    RoundingMode::Down => "down",
});

vocabulary!(Status, "status", InputCode::InvalidQuery, {
    Status::Ok => "OK",
    Status::UnknownAccount => "UNKNOWN_ACCOUNT",
    Status::UnknownProduct => "UNKNOWN_PRODUCT",
    Status::PriceHidden => "PRICE_HIDDEN",
    Status::NoPrice => "NO_PRICE",
    Status::QuantityRule => "QUANTITY_RULE",
    Status::InvalidQuantity => "INVALID_QUANTITY",
    Status::UnknownCurrency => "UNKNOWN_CURRENCY",
    Status::InvalidInstant => "INVALID_INSTANT",
    Status::Overflow => "OVERFLOW",
    Status::InvalidBatch => "INVALID_BATCH",
    Status::NotBuyable => "NOT_BUYABLE",
    Status::InvalidOrderText => "INVALID_ORDER_TEXT",
    Status::MinimumOrder => "MINIMUM_ORDER",
    Status::UnknownUser => "UNKNOWN_USER",
    Status::PriceBound => "PRICE_BOUND",
    Status::QuoteInvalid => "QUOTE_INVALID",
    Status::QuoteTampered => "QUOTE_TAMPERED",
    Status::QuoteExpired => "QUOTE_EXPIRED",
    Status::QuoteKey => "QUOTE_KEY",
});

/// The names of the built-in facets; an attribute facet is named by its attribute.
pub const FACET_NAMES: &[&str] = &["brand", "category", "family", "in_stock"];

/// The built-in facet a name means.
///
/// ```
/// use tarif::{wire, Facet};
/// assert_eq!(wire::facet("brand"), Ok(Facet::Brand));
/// assert_eq!(wire::facet("colour").unwrap_err().code.code(), "INVALID_QUERY");
/// ```
pub fn facet(name: &str) -> Result<crate::engine::search::Facet, UnknownName> {
    use crate::engine::search::Facet;
    match name {
        "brand" => Ok(Facet::Brand),
        "category" => Ok(Facet::Category),
        "family" => Ok(Facet::Family),
        "in_stock" => Ok(Facet::InStock),
        _ => Err(UnknownName {
            kind: "facet",
            got: name.to_string(),
            expected: FACET_NAMES,
            code: InputCode::InvalidQuery,
        }),
    }
}

/// The sort a name means: only `sku` has a name; an attribute sort is a structure.
///
/// ```
/// use tarif::{wire, Sort};
/// assert_eq!(wire::sort("sku"), Ok(Sort::Sku));
/// assert!(wire::sort("price").is_err());
/// ```
pub fn sort(name: &str) -> Result<crate::engine::search::Sort, UnknownName> {
    match name {
        "sku" => Ok(crate::engine::search::Sort::Sku),
        _ => Err(UnknownName {
            kind: "sort",
            got: name.to_string(),
            expected: &["sku"],
            code: InputCode::InvalidQuery,
        }),
    }
}

impl fmt::Display for RelationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RoundingStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RoundingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back() {
        for capability in [Capability::See, Capability::Price, Capability::Buy] {
            assert_eq!(capability.as_str().parse(), Ok(capability));
            assert_eq!(capability.to_string(), capability.as_str());
        }
        for kind in [
            RelationKind::Requires,
            RelationKind::Accessories,
            RelationKind::Compatible,
            RelationKind::Excludes,
            RelationKind::Replacement,
        ] {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
        for status in [Status::Ok, Status::InvalidBatch, Status::NoPrice] {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert_eq!("half_even".parse(), Ok(RoundingMode::HalfEven));
        assert_eq!("line".parse(), Ok(RoundingStage::Line));
        assert_eq!("warning".parse(), Ok(Severity::Warning));
    }

    #[test]
    fn status_names_are_the_codes() {
        for status in [Status::Ok, Status::UnknownAccount, Status::Overflow] {
            assert_eq!(status.as_str(), status.code());
        }
    }

    #[test]
    fn an_unknown_name_lists_the_vocabulary_and_its_code() {
        let err = "order".parse::<Capability>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown capability `order`: expected `see`, `price` or `buy`"
        );
        assert_eq!(err.code, InputCode::InvalidQuery);
        let err = "spare".parse::<RelationKind>().unwrap_err();
        assert_eq!(err.code.code(), "INVALID_RELATION_KIND");
        assert_eq!("See".parse::<Capability>().unwrap_err().got, "See");
    }
}
