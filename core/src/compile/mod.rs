//! The compiler: validates a `tarif/1` document, reporting every problem at once, interns ids
//! into dense integers and builds the engine's indexes.

mod audience;
mod catalog;
mod diagnostics;
mod pricing;
mod refs;
mod values;
mod visibility;

use serde_json::Value;

use crate::engine::Engine;
use crate::error::{CompileError, Diagnostic, DiagnosticCode as Code, Severity};
use crate::model::{Document, Item, FORMAT};

pub(crate) use diagnostics::Diags;
pub(crate) use refs::{fold, gtin};

/// How to compile.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Reject the document on warnings too.
    pub strict: bool,
}

/// A compiled engine and the warnings its document raised.
#[derive(Debug)]
pub struct Compiled {
    /// The engine.
    pub engine: Engine,
    /// Warnings (never errors: a document with errors is rejected).
    pub warnings: Vec<Diagnostic>,
}

const SECTIONS: [&str; 9] = [
    "format",
    "settings",
    "currencies",
    "categories",
    "products",
    "price_lists",
    "segments",
    "accounts",
    "contracts",
];

/// Compiles a JSON rules document.
///
/// ```
/// use tarif::compile::{compile, CompileOptions};
/// let err = compile(r#"{"format": "tarif/1", "products": [{"sku": ""}, {"sku": "A", "cost": "x"}]}"#,
///                   &CompileOptions::default()).unwrap_err();
/// let codes: Vec<_> = err.diagnostics.iter().map(|d| (d.code.code(), d.path.as_str())).collect();
/// assert!(codes.contains(&("INVALID_ID", "products[0].sku")));
/// assert!(codes.contains(&("INVALID_DECIMAL", "products[1].cost")));
/// ```
pub fn compile(json: &str, options: &CompileOptions) -> Result<Compiled, CompileError> {
    let mut diags = Diags::default();
    let value: Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => {
            diags.error(
                Code::ParseError,
                "",
                format!(
                    "invalid json at line {} column {}: {e}",
                    e.line(),
                    e.column()
                ),
                &[],
            );
            return Err(diags.into_error());
        }
    };
    compile_value(value, options, diags)
}

/// Compiles an already-parsed JSON document.
pub fn compile_value(
    mut value: Value,
    options: &CompileOptions,
    mut diags: Diags,
) -> Result<Compiled, CompileError> {
    let version = engine_version(&value);
    let Some(object) = value.as_object_mut() else {
        diags.error(
            Code::InvalidType,
            "",
            "the document must be a json object".into(),
            &[],
        );
        return Err(diags.into_error());
    };
    let unknown: Vec<String> = object
        .keys()
        .filter(|k| !SECTIONS.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in unknown {
        diags.error(
            Code::UnknownField,
            &key,
            format!("unknown field `{key}`"),
            &[],
        );
        object.remove(&key);
    }
    match object.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => diags.error(
            Code::InvalidFormat,
            "format",
            format!("unsupported format `{other}`, expected `{FORMAT}`"),
            &[],
        ),
        None => diags.error(
            Code::InvalidFormat,
            "format",
            format!("missing `format: \"{FORMAT}\"`"),
            &[],
        ),
    }
    object.insert("format".into(), Value::String(FORMAT.into()));
    let doc = match serde_path_to_error::deserialize::<_, Document>(value) {
        Ok(doc) => doc,
        Err(e) => {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            diags.item_error(&path, "", &message);
            return Err(diags.into_error());
        }
    };
    let engine = build(&doc, version, &mut diags);
    diags.finish(engine, options.strict)
}

/// Reports the elements of a list that did not parse, and yields the others with their index.
pub(crate) fn items<'a, T>(
    list: &'a [Item<T>],
    path: &'a str,
    diags: &mut Diags,
) -> Vec<(usize, &'a T)> {
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        match item {
            Item::Ok(v) => out.push((i, v)),
            Item::Err {
                path: inner,
                message,
            } => {
                diags.item_error(&format!("{path}[{i}]"), inner, message);
            }
        }
    }
    out
}

fn build(doc: &Document, version: String, diags: &mut Diags) -> Option<Engine> {
    let settings_model = match &doc.settings {
        Some(Item::Ok(s)) => Some(s.clone()),
        Some(Item::Err { path, message }) => {
            diags.item_error("settings", path, message);
            None
        }
        None => None,
    };
    let settings_model = settings_model.unwrap_or_default();
    let mut policies = values::Policies::default();
    let currencies = values::currencies(doc, &settings_model, &mut policies, diags);
    let mut settings = values::settings(&settings_model, &currencies, &mut policies, diags);
    let mut catalog = catalog::build(doc, &settings, diags);
    let mut audiences = audience::build(doc, &catalog, &currencies, diags);
    let pricing = pricing::build(
        doc,
        &settings,
        &currencies,
        &mut catalog,
        &mut audiences,
        &mut policies,
        diags,
    );
    let visibility = visibility::build(doc, &settings, &mut catalog, &mut audiences, diags);
    let refs = refs::build(doc, &catalog, &audiences, diags);
    if diags.has_errors() {
        return None;
    }
    settings.policies = policies.table;
    let engine = Engine {
        version,
        settings,
        currencies: currencies.defs,
        catalog: catalog.catalog,
        audiences: audiences.audiences,
        pricing,
        visibility,
        refs,
        warnings: Vec::new(),
    };
    pricing::warn(&engine, diags);
    Some(engine)
}

/// `t1-` and 16 hex digits of blake3 over the canonical JSON (keys sorted, no whitespace).
fn engine_version(value: &Value) -> String {
    let canonical = value.to_string();
    let hash = blake3::hash(canonical.as_bytes());
    let hex = hash.to_hex();
    format!("t1-{}", hex.get(..16).unwrap_or(""))
}

impl Diags {
    fn finish(self, engine: Option<Engine>, strict: bool) -> Result<Compiled, CompileError> {
        let rejected = self.has_errors() || (strict && !self.list.is_empty());
        match engine {
            Some(mut engine) if !rejected => {
                engine.warnings = self.list.clone();
                Ok(Compiled {
                    engine,
                    warnings: self.list,
                })
            }
            _ => Err(self.into_error()),
        }
    }

    /// Every diagnostic, errors first, then in document order of their path.
    pub(crate) fn into_error(mut self) -> CompileError {
        self.list
            .sort_by_key(|d| std::cmp::Reverse(d.severity() == Severity::Error));
        CompileError {
            diagnostics: self.list,
        }
    }
}
