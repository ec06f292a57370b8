//! The one place where failures become JavaScript errors: every thrown error and every rejected
//! promise of the binding is built here, so `err.code` and `err.details` mean the same everywhere.

use napi::bindgen_prelude::{FromNapiValue, Function, JsObjectValue, JsValue, Object, Unknown};
use napi::Env;
use napi_derive::napi;
use tarif::wire::{InputCode, UnknownName};
use tarif::{CompileError, Diagnostic, QueryError, SnapshotError};

/// Why a call of the binding failed.
#[derive(Debug)]
pub enum Failure {
    /// A query the core refused, with its stable code.
    Query(QueryError),
    /// A document the compiler rejected.
    Compile(CompileError),
    /// JavaScript input the core cannot take (the wrong type, a fractional number, a name
    /// outside its vocabulary…), with the stable code of what is wrong with it.
    Input(InputCode, String),
    /// A search cursor that no page wrote (`INVALID_CURSOR`): a stale or edited URL, say.
    Cursor(tarif::InvalidCursor),
    /// A rules file that could not be read.
    Io { path: String, error: std::io::Error },
    /// A snapshot that could not be written or read (`SNAPSHOT_CORRUPT`, `SNAPSHOT_VERSION`,
    /// `IO_ERROR`).
    Snapshot(SnapshotError),
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// A panic in native code, caught before it could take the process down.
    Panic(String),
}

impl From<QueryError> for Failure {
    fn from(error: QueryError) -> Self {
        Failure::Query(error)
    }
}

impl From<UnknownName> for Failure {
    fn from(error: UnknownName) -> Self {
        Failure::Input(error.code, error.to_string())
    }
}

impl From<SnapshotError> for Failure {
    fn from(error: SnapshotError) -> Self {
        Failure::Snapshot(error)
    }
}

impl From<CompileError> for Failure {
    fn from(error: CompileError) -> Self {
        Failure::Compile(error)
    }
}

/// One compile diagnostic, as `err.details` and `engine.diagnostics()` list them.
#[napi(object)]
pub struct DiagnosticInfo {
    /// Stable code, e.g. `UNKNOWN_FIELD`.
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// Path into the document, e.g. `contracts[3].rules[1].percent`.
    pub path: String,
    /// Lowercase message naming the offending value in backticks.
    pub message: String,
    /// Ids involved, the element's own id first.
    pub ids: Vec<String>,
}

impl From<&Diagnostic> for DiagnosticInfo {
    fn from(d: &Diagnostic) -> Self {
        DiagnosticInfo {
            code: d.code.code().to_string(),
            severity: d.severity().as_str().to_string(),
            path: d.path.clone(),
            message: d.message.clone(),
            ids: d.ids.clone(),
        }
    }
}

impl Failure {
    /// The stable code JavaScript sees as `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Query(e) => e.code(),
            Failure::Compile(e) => e.code(),
            Failure::Input(code, _) => code.code(),
            Failure::Cursor(_) => InputCode::InvalidCursor.code(),
            Failure::Io { .. } => "IO_ERROR",
            Failure::Snapshot(e) => e.code(),
            // Node's own code for an aborted operation.
            Failure::Aborted => "ABORT_ERR",
            Failure::Panic(_) => "INTERNAL_ERROR",
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Query(e) => e.to_string(),
            Failure::Compile(e) => e.to_string(),
            Failure::Input(_, m) => m.clone(),
            Failure::Cursor(e) => format!("{e}: pass the `next` of a page"),
            Failure::Io { path, error } => format!("cannot read `{path}`: {error}"),
            Failure::Snapshot(e) => e.to_string(),
            Failure::Aborted => "the operation was aborted".to_string(),
            Failure::Panic(m) => format!("internal error (a bug in tarif): {m}"),
        }
    }

    /// Builds the JavaScript error: an `Error` with `code`, and `details` where the failure
    /// carries more than a message.
    pub fn into_js(self, env: &Env) -> napi::Error {
        let code = self.code();
        let message = self.message();
        match self.build(env, code, &message) {
            Ok(error) => error,
            // Building the rich error failed (the VM is out of memory or shutting down): a
            // plain error still names the code.
            Err(_) => napi::Error::new(napi::Status::GenericFailure, format!("{code}: {message}")),
        }
    }

    fn build(&self, env: &Env, code: &str, message: &str) -> napi::Result<napi::Error> {
        let mut error = create_error(env, message)?;
        error.set_named_property("code", code)?;
        match self {
            Failure::Compile(e) => {
                let details: Vec<DiagnosticInfo> =
                    e.diagnostics.iter().map(DiagnosticInfo::from).collect();
                error.set_named_property("details", details)?;
            }
            Failure::Query(e) => error.set_named_property("details", ErrorDetails::from(e))?,
            Failure::Aborted => error.set_named_property("name", "AbortError")?,
            _ => {}
        }
        Ok(napi::Error::from(error.to_unknown()))
    }
}

/// The global symbol under which tarif.cjs leaves its `TarifError` class for the native code.
const ERROR_CLASS: &str = "tarif.TarifError";

/// A new `TarifError` with this message: the class of every error the package throws. Without
/// it (index.js loaded on its own, not through the package's entry points) a plain `Error`.
pub fn create_error<'env>(env: &'env Env, message: &str) -> napi::Result<Object<'env>> {
    let global = env.get_global()?;
    let symbol = global
        .get_named_property::<Unknown<'_>>("Symbol")?
        .coerce_to_object()?;
    let symbol_for: Function<'_, &str, Unknown<'_>> = symbol.get_named_property("for")?;
    let key = symbol_for.call(ERROR_CLASS)?;
    let class: Option<Function<'_, &str, Unknown<'_>>> = global.get_property(key).ok().flatten();
    match class {
        Some(class) => Object::from_unknown(class.new_instance(message)?),
        None => env.create_error(napi::Error::new(napi::Status::GenericFailure, message)),
    }
}

/// The values a query error names, as `err.details` (and a failed order line's `details`)
/// carry them; the same keys as Python's `.details` (`pricedIn` for `priced_in`). A key the
/// error does not name is absent.
#[napi(object, object_from_js = false)]
pub struct ErrorDetails {
    /// The account id no account has (`UNKNOWN_ACCOUNT`).
    pub account: Option<String>,
    /// The reference as written, when no product the account may see has it.
    #[napi(js_name = "ref")]
    pub reference: Option<String>,
    /// The product.
    pub sku: Option<String>,
    /// The quantity as given.
    pub qty: Option<String>,
    /// The nearest orderable quantity (`QUANTITY_RULE`).
    pub nearest: Option<String>,
    /// The currency asked for (`NO_PRICE`, `UNKNOWN_CURRENCY`).
    pub currency: Option<String>,
    /// Currencies that do have a price (`NO_PRICE`).
    pub priced_in: Option<Vec<String>>,
    /// The instant as given (`INVALID_INSTANT`).
    pub at: Option<String>,
    /// The user id no user of the account has (`UNKNOWN_USER`).
    pub user: Option<String>,
    /// The minimum order value (`MINIMUM_ORDER`).
    pub minimum: Option<String>,
    /// What the order lacks to reach it (`MINIMUM_ORDER`).
    pub missing: Option<String>,
    /// The manual unit price refused (`PRICE_BOUND`).
    pub price: Option<String>,
    /// The rule's field that sets the limit, or `non_negative` (`PRICE_BOUND`).
    pub bound: Option<String>,
    /// The limit, as a unit price (`PRICE_BOUND`).
    pub limit: Option<String>,
    /// The rule that sets the limit (`PRICE_BOUND`).
    pub rule: Option<String>,
    /// The quote's validity end (`QUOTE_EXPIRED`).
    pub valid_until: Option<String>,
    /// The length of the signing key given (`QUOTE_KEY`).
    pub key_len: Option<u32>,
}

impl From<&QueryError> for ErrorDetails {
    fn from(error: &QueryError) -> Self {
        let mut details = ErrorDetails {
            account: None,
            reference: None,
            sku: None,
            qty: None,
            nearest: None,
            currency: None,
            priced_in: None,
            at: None,
            user: None,
            minimum: None,
            missing: None,
            price: None,
            bound: None,
            limit: None,
            rule: None,
            valid_until: None,
            key_len: None,
        };
        match error {
            QueryError::UnknownAccount(account) => details.account = Some(account.clone()),
            QueryError::UnknownProduct(r) => details.reference = Some(r.clone()),
            QueryError::PriceHidden(sku)
            | QueryError::Overflow(sku)
            | QueryError::NotBuyable(sku) => details.sku = Some(sku.clone()),
            QueryError::NoPrice {
                sku,
                currency,
                priced_in,
            } => {
                details.sku = Some(sku.clone());
                details.currency = Some(currency.clone());
                details.priced_in = Some(priced_in.clone());
            }
            QueryError::QuantityRule { sku, qty, nearest } => {
                details.sku = Some(sku.clone());
                details.qty = Some(qty.to_string());
                details.nearest = Some(nearest.to_string());
            }
            QueryError::InvalidQuantity(qty) => details.qty = Some(qty.clone()),
            QueryError::UnknownCurrency(currency) => details.currency = Some(currency.clone()),
            QueryError::InvalidInstant(at) => details.at = Some(at.clone()),
            QueryError::UnknownUser(user) => details.user = Some(user.clone()),
            QueryError::InvalidBatch(_)
            | QueryError::InvalidOrderText(_)
            | QueryError::QuoteInvalid(_)
            | QueryError::QuoteTampered => {}
            QueryError::MinimumOrder { minimum, missing } => {
                details.minimum = Some(minimum.to_string());
                details.missing = Some(missing.to_string());
            }
            QueryError::PriceBound {
                sku,
                price,
                bound,
                limit,
                rule,
            } => {
                details.sku = Some(sku.clone());
                details.price = Some(price.to_string());
                details.bound = Some(bound.clone());
                details.limit = Some(limit.to_string());
                details.rule = rule.clone();
            }
            QueryError::QuoteExpired { valid_until, at } => {
                details.valid_until = Some(valid_until.clone());
                details.at = Some(at.clone());
            }
            QueryError::QuoteKey(len) => details.key_len = u32::try_from(*len).ok(),
        }
        details
    }
}

/// Turns a caught panic payload into a failure.
pub fn panic_failure(payload: Box<dyn std::any::Any + Send>) -> Failure {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string());
    Failure::Panic(text)
}
