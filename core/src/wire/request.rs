//! Requests as a binding receives them, answered in the error precedence of docs/spec.md §9:
//! account, then instant, then currency, then product, then quantity, then the `price`
//! capability, then pricing.
//!
//! The core's queries take parsed values, so a binding that parsed the instant or the quantity
//! itself would report their errors before the account's. These types keep what the binding
//! could not read and put its error back in its place.

use rust_decimal::Decimal;

use crate::engine::explain::Explanation;
use crate::engine::quote::{Quote, QuoteRequest};
use crate::engine::search::{RelatedProduct, RelationKind, SearchPage, SearchQuery};
use crate::engine::visibility::Capabilities;
use crate::engine::Engine;
use crate::error::{CompileError, Diagnostic, DiagnosticCode, QueryError};
use crate::instant::Instant;
use crate::money::parse_decimal;

/// A quantity as received: a decimal, or text that is not one (kept to be named by the error).
///
/// ```
/// use tarif::wire::QtyInput;
/// assert_eq!(QtyInput::from_text("2.50"), QtyInput::Decimal("2.50".parse().unwrap()));
/// assert_eq!(QtyInput::from_text("two"), QtyInput::Unreadable("two".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QtyInput {
    /// An exact decimal (not necessarily positive: the core checks that in its turn).
    Decimal(Decimal),
    /// Text that is not a decimal number: `INVALID_QUANTITY` where quantities are checked.
    Unreadable(String),
}

impl QtyInput {
    /// Reads a decimal written in plain digits (`"12"`, `"-0.5"`), as quantities are written;
    /// anything else, an exponent or more digits than a decimal holds included, is unreadable.
    pub fn from_text(text: &str) -> QtyInput {
        parse_decimal(text)
            .map_or_else(|| QtyInput::Unreadable(text.to_string()), QtyInput::Decimal)
    }

    /// The quantity to price each row of a batch or a search page with: an unreadable one is
    /// not positive, so each row gets the core's `INVALID_QUANTITY` status, as `"0"` does (one
    /// row's failure never fails the whole answer).
    ///
    /// ```
    /// use tarif::{wire::QtyInput, Decimal};
    /// assert_eq!(QtyInput::from_text("abc").for_rows(), Decimal::ZERO);
    /// ```
    pub fn for_rows(&self) -> Decimal {
        match self {
            QtyInput::Decimal(qty) => *qty,
            QtyInput::Unreadable(_) => Decimal::ZERO,
        }
    }

    /// The core's quantity error, given back the text the caller sent.
    pub(super) fn restore(&self, error: QueryError) -> QueryError {
        match (self, error) {
            (QtyInput::Unreadable(text), QueryError::InvalidQuantity(_)) => {
                QueryError::InvalidQuantity(text.clone())
            }
            (_, other) => other,
        }
    }
}

/// The instant of a query as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtInput<'a> {
    /// None given: the query's own clock reading.
    Now,
    /// An instant the binding's language names exactly (a `Date`, an aware `datetime`).
    Instant(Instant),
    /// RFC 3339, or a `YYYY-MM-DD` date read in the document's timezone; may not parse.
    Text(&'a str),
}

impl AtInput<'_> {
    /// The instant of a query without an account (a batch): `INVALID_INSTANT` when the text
    /// does not parse, `None` for now.
    pub fn resolve(&self, engine: &Engine) -> Result<Option<Instant>, QueryError> {
        match *self {
            AtInput::Now => Ok(None),
            AtInput::Instant(at) => Ok(Some(at)),
            AtInput::Text(text) => engine.parse_instant(text).map(Some),
        }
    }

    /// The instant of a query for `account`: an unknown account comes first (§9).
    pub(super) fn resolve_for(
        &self,
        engine: &Engine,
        account: &str,
    ) -> Result<Option<Instant>, QueryError> {
        self.resolve(engine).map_err(|error| {
            if engine.has_account(account) {
                error
            } else {
                QueryError::UnknownAccount(account.to_string())
            }
        })
    }
}

/// One line to price or explain, as received.
///
/// ```
/// use tarif::wire::{AtInput, QtyInput, QuoteInput};
/// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
///   "products": [{"sku": "A"}], "accounts": [{"id": "C"}]}"#).unwrap();
/// let input = QuoteInput {
///     account: "NOBODY",
///     reference: "A",
///     qty: QtyInput::from_text("lots"),
///     at: AtInput::Text("yesterday"),
///     currency: None,
/// };
/// // The account comes before the instant and the quantity, whatever the binding parsed first.
/// assert_eq!(input.quote(&engine).unwrap_err().code(), "UNKNOWN_ACCOUNT");
/// let input = QuoteInput { account: "C", at: AtInput::Now, ..input };
/// assert_eq!(input.quote(&engine).unwrap_err().to_string(),
///            "invalid quantity `lots`: expected a positive decimal");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteInput<'a> {
    /// Account id.
    pub account: &'a str,
    /// Any reference `lookup` accepts.
    pub reference: &'a str,
    /// Quantity.
    pub qty: QtyInput,
    /// Instant of the price.
    pub at: AtInput<'a>,
    /// Request currency; `None` for the account's.
    pub currency: Option<&'a str>,
}

impl QuoteInput<'_> {
    fn request(&self, engine: &Engine) -> Result<QuoteRequest<'_>, QueryError> {
        Ok(QuoteRequest {
            account: self.account,
            product: self.reference,
            qty: self.qty.for_rows(),
            at: self.at.resolve_for(engine, self.account)?,
            currency: self.currency,
        })
    }

    /// The quote, or the error §9 puts first.
    pub fn quote<'e>(&self, engine: &'e Engine) -> Result<Quote<'e>, QueryError> {
        let request = self.request(engine)?;
        engine.quote(&request).map_err(|e| self.qty.restore(e))
    }

    /// The explanation, or the error §9 puts first. A quantity that is not a decimal fails
    /// once everything before it in §9 has been checked; a decimal that is not positive is
    /// explained, its outcome being `INVALID_QUANTITY`.
    ///
    /// ```
    /// use tarif::wire::{AtInput, QtyInput, QuoteInput};
    /// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "products": [{"sku": "A"}], "accounts": [{"id": "C"}]}"#).unwrap();
    /// let input = QuoteInput { account: "C", reference: "A", qty: QtyInput::from_text("x"),
    ///                          at: AtInput::Now, currency: None };
    /// assert_eq!(input.explain(&engine).unwrap_err().code(), "INVALID_QUANTITY");
    /// let unknown = QuoteInput { reference: "B", ..input.clone() };
    /// assert_eq!(unknown.explain(&engine).unwrap_err().code(), "UNKNOWN_PRODUCT");
    /// ```
    pub fn explain(&self, engine: &Engine) -> Result<Explanation, QueryError> {
        let request = self.request(engine)?;
        let explanation = engine.explain(&request)?;
        match &self.qty {
            QtyInput::Unreadable(text) => Err(QueryError::InvalidQuantity(text.clone())),
            QtyInput::Decimal(_) => Ok(explanation),
        }
    }
}

/// A question about one product (or about one account's catalog, where `reference` is
/// unused), as received.
///
/// ```
/// use tarif::wire::{AtInput, ProductInput};
/// let engine = tarif::Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
///   "products": [{"sku": "A", "ean": "4006381333931"}], "accounts": [{"id": "C"}]}"#).unwrap();
/// let input = ProductInput { account: "C", reference: "4006381333931", at: AtInput::Now };
/// assert_eq!(input.lookup(&engine).unwrap(), "A");
/// let input = ProductInput { account: "X", at: AtInput::Text("soon"), ..input };
/// assert_eq!(input.visibility(&engine).unwrap_err().code(), "UNKNOWN_ACCOUNT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductInput<'a> {
    /// Account id.
    pub account: &'a str,
    /// Any reference `lookup` accepts.
    pub reference: &'a str,
    /// Instant of the answer.
    pub at: AtInput<'a>,
}

impl ProductInput<'_> {
    fn instant(&self, engine: &Engine) -> Result<Option<Instant>, QueryError> {
        self.at.resolve_for(engine, self.account)
    }

    /// What the account may do with the product.
    pub fn visibility(&self, engine: &Engine) -> Result<Capabilities, QueryError> {
        engine.visibility(self.account, self.reference, self.instant(engine)?)
    }

    /// The SKU the reference means for the account.
    pub fn lookup<'e>(&self, engine: &'e Engine) -> Result<&'e str, QueryError> {
        match self.instant(engine)? {
            Some(at) => engine.lookup_at(self.account, self.reference, at),
            None => engine.lookup(self.account, self.reference),
        }
    }

    /// The products of `kind` linked to the product that the account may see.
    pub fn related(
        &self,
        engine: &Engine,
        kind: RelationKind,
    ) -> Result<Vec<RelatedProduct>, QueryError> {
        engine.related(self.account, self.reference, kind, self.instant(engine)?)
    }

    /// A page of the account's catalog (`reference` is not read).
    pub fn search(&self, engine: &Engine, query: &SearchQuery) -> Result<SearchPage, QueryError> {
        engine.search(self.account, query, self.instant(engine)?)
    }
}

/// The text of a document given as bytes (a file's content): bytes that are not UTF-8 reject
/// the document with a `PARSE_ERROR` naming the offset of the first bad byte, like any other
/// unreadable document, rather than with an I/O or decoding error of the binding's language.
///
/// ```
/// use tarif::wire;
/// let err = wire::document_text(b"{\"format\": \"tarif/1\xff\"}".to_vec()).unwrap_err();
/// assert_eq!(err.code(), "COMPILE_ERROR");
/// assert_eq!(err.diagnostics[0].code.code(), "PARSE_ERROR");
/// assert_eq!(err.diagnostics[0].message, "the document is not UTF-8: invalid byte at offset 19");
/// assert_eq!(wire::document_text(b"{}".to_vec()).unwrap(), "{}");
/// ```
pub fn document_text(bytes: Vec<u8>) -> Result<String, CompileError> {
    String::from_utf8(bytes).map_err(|error| CompileError {
        diagnostics: vec![Diagnostic {
            code: DiagnosticCode::ParseError,
            path: String::new(),
            message: format!(
                "the document is not UTF-8: invalid byte at offset {}",
                error.utf8_error().valid_up_to()
            ),
            ids: Vec::new(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
        "settings": {"default_price_lists": ["l"]},
        "products": [{"sku": "A", "order": {"min": 2}}, {"sku": "H"}],
        "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "10.00"}, {"sku": "H", "price": "1.00"}]}],
        "accounts": [{"id": "C"}],
        "contracts": [{"id": "c", "audience": "all",
          "visibility": [{"effect": "deny", "products": {"sku": "H"}, "capabilities": ["see"]}]}]}"#;

    fn engine() -> Engine {
        Engine::from_json(DOCUMENT).unwrap()
    }

    fn line<'a>(
        account: &'a str,
        reference: &'a str,
        qty: &str,
        at: AtInput<'a>,
    ) -> QuoteInput<'a> {
        QuoteInput {
            account,
            reference,
            qty: QtyInput::from_text(qty),
            at,
            currency: None,
        }
    }

    fn quote_code(input: &QuoteInput<'_>) -> &'static str {
        input.quote(&engine()).map_or_else(|e| e.code(), |_| "OK")
    }

    #[test]
    fn quote_errors_follow_the_precedence() {
        let bad_at = AtInput::Text("not-an-instant");
        assert_eq!(
            quote_code(&line("Z", "NOPE", "x", bad_at)),
            "UNKNOWN_ACCOUNT"
        );
        assert_eq!(
            quote_code(&line("C", "NOPE", "x", bad_at)),
            "INVALID_INSTANT"
        );
        let wrong_currency = QuoteInput {
            currency: Some("XXX"),
            ..line("C", "NOPE", "x", AtInput::Now)
        };
        assert_eq!(quote_code(&wrong_currency), "UNKNOWN_CURRENCY");
        assert_eq!(
            quote_code(&line("C", "NOPE", "x", AtInput::Now)),
            "UNKNOWN_PRODUCT"
        );
        assert_eq!(
            quote_code(&line("C", "H", "x", AtInput::Now)),
            "UNKNOWN_PRODUCT"
        );
        assert_eq!(
            quote_code(&line("C", "A", "x", AtInput::Now)),
            "INVALID_QUANTITY"
        );
        assert_eq!(
            quote_code(&line("C", "A", "-2", AtInput::Now)),
            "INVALID_QUANTITY"
        );
        assert_eq!(
            quote_code(&line("C", "A", "1", AtInput::Now)),
            "QUANTITY_RULE"
        );
        assert_eq!(quote_code(&line("C", "A", "2", AtInput::Now)), "OK");
    }

    #[test]
    fn an_unreadable_quantity_is_named_as_sent() {
        let err = line("C", "A", "1e3", AtInput::Now)
            .quote(&engine())
            .unwrap_err();
        assert_eq!(err, QueryError::InvalidQuantity("1e3".into()));
        let err = line("C", "A", "1e3", AtInput::Now)
            .explain(&engine())
            .unwrap_err();
        assert_eq!(err, QueryError::InvalidQuantity("1e3".into()));
    }

    #[test]
    fn explain_checks_the_quantity_after_the_product_and_explains_hidden_products() {
        let engine = engine();
        let hidden = line("C", "H", "3", AtInput::Now).explain(&engine).unwrap();
        assert!(!hidden.visibility.allowed[0]);
        let zero = line("C", "A", "0", AtInput::Now).explain(&engine).unwrap();
        assert!(zero.outcome.is_err());
        let err = line("C", "NOPE", "x", AtInput::Now)
            .explain(&engine)
            .unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_PRODUCT");
        let err = line("Z", "A", "2", AtInput::Text("?"))
            .explain(&engine)
            .unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_ACCOUNT");
    }

    #[test]
    fn product_queries_check_the_account_before_the_instant() {
        let engine = engine();
        let bad = |account| ProductInput {
            account,
            reference: "A",
            at: AtInput::Text("2026-13-45"),
        };
        assert_eq!(
            bad("Z").lookup(&engine).unwrap_err().code(),
            "UNKNOWN_ACCOUNT"
        );
        assert_eq!(
            bad("C").lookup(&engine).unwrap_err().code(),
            "INVALID_INSTANT"
        );
        let related = bad("Z").related(&engine, RelationKind::Requires);
        assert_eq!(related.unwrap_err().code(), "UNKNOWN_ACCOUNT");
        let page = bad("C").search(&engine, &SearchQuery::new());
        assert_eq!(page.unwrap_err().code(), "INVALID_INSTANT");
        let good = ProductInput {
            at: AtInput::Text("2026-03-01"),
            ..bad("C")
        };
        assert!(good.visibility(&engine).unwrap().buy);
    }

    #[test]
    fn a_batch_instant_is_parsed_without_an_account() {
        let engine = engine();
        assert_eq!(AtInput::Now.resolve(&engine), Ok(None));
        let err = AtInput::Text("tomorrow").resolve(&engine).unwrap_err();
        assert_eq!(err.code(), "INVALID_INSTANT");
    }

    #[test]
    fn a_document_that_is_not_utf8_is_a_parse_error() {
        let text = document_text(DOCUMENT.as_bytes().to_vec()).unwrap();
        assert_eq!(Engine::from_json(&text).unwrap().skus().len(), 2);
        let err = document_text(vec![b'{', 0xc3, 0x28]).unwrap_err();
        assert_eq!(err.diagnostics.len(), 1);
        assert!(err.diagnostics[0].message.ends_with("offset 1"), "{err}");
    }
}
