//! `tarif/1-changes`: upserts and deletions by id, merged into the document an engine was
//! compiled from (docs/spec.md §13).
//!
//! A change is read and checked whole against the current document before anything is built:
//! its shape, the ids it deletes or nests under, conflicts inside it, and the engine version it
//! expects. Only then is the merged document written ([`merge`]) and compiled, so a rejected
//! change leaves nothing behind and reports every problem with a path into the changes
//! document.

mod diff;
mod merge;
mod patched;
mod rules;

use serde_json::{Map, Value};

use crate::error::{Diagnostic, DiagnosticCode as Code};

pub(crate) use diff::{diff, price_changes};
pub use diff::{ChangeKind, Diff, EntityChange};
pub(crate) use merge::{key_of, merge, Merged};
pub(crate) use patched::{group_key, stock_key, PatchedText, Written};
pub(crate) use rules::{merge_rules, reparsed};

/// The format tag every changes document must carry.
pub const CHANGES_FORMAT: &str = "tarif/1-changes";

/// The document's sections whose elements are addressed by a key field, in document order.
pub(crate) const KEYED: [(&str, &str); 8] = [
    ("currencies", "code"),
    ("categories", "id"),
    ("products", "sku"),
    ("price_lists", "id"),
    ("segments", "id"),
    ("accounts", "id"),
    ("contracts", "id"),
    ("stock", "sku"),
];

/// Elements nested in a keyed section and addressed by their parent's id and their own key:
/// (changes section, parent section, parent field in the change, nested field, key field).
pub(crate) const NESTED: [Nested; 2] = [
    Nested {
        name: "prices",
        parent: "price_lists",
        parent_field: "list",
        field: "prices",
        key: "sku",
    },
    Nested {
        name: "rules",
        parent: "contracts",
        parent_field: "contract",
        field: "rules",
        key: "id",
    },
];

/// See [`NESTED`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Nested {
    pub name: &'static str,
    pub parent: &'static str,
    pub parent_field: &'static str,
    pub field: &'static str,
    pub key: &'static str,
}

/// One element upserted by a change: its key, where it is in the changes document, and its
/// JSON text as it will be written into the document.
#[derive(Debug, Clone)]
pub(crate) struct Upsert {
    pub key: String,
    pub path: String,
    pub value: Map<String, Value>,
}

/// One nested element upserted (parent id and the element) or deleted (parent id and key).
#[derive(Debug, Clone)]
pub(crate) struct NestedUpsert {
    pub parent: String,
    pub element: Upsert,
}

/// A key deleted by a change and where the deletion is written.
#[derive(Debug, Clone)]
pub(crate) struct Delete {
    pub parent: Option<String>,
    pub key: String,
    pub path: String,
}

/// A changes document, read and checked for shape (not yet against a document).
#[derive(Debug, Default, Clone)]
pub(crate) struct Changes {
    pub engine_version: Option<String>,
    pub settings: Option<Value>,
    /// Per keyed section (index into [`KEYED`]).
    pub upserts: [Vec<Upsert>; 8],
    pub deletes: [Vec<Delete>; 8],
    /// Per nested section (index into [`NESTED`]).
    pub nested_upserts: [Vec<NestedUpsert>; 2],
    pub nested_deletes: [Vec<Delete>; 2],
}

/// Problems found in a changes document.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub Vec<Diagnostic>);

impl Problems {
    pub(crate) fn push(&mut self, code: Code, path: &str, message: String, ids: &[&str]) {
        self.0.push(Diagnostic {
            code,
            path: path.to_string(),
            message,
            ids: ids.iter().map(|s| s.to_string()).collect(),
        });
    }
}

impl Changes {
    /// Reads a changes document, reporting every problem of shape it has.
    pub(crate) fn parse(text: &str, problems: &mut Problems) -> Changes {
        let mut changes = Changes::default();
        let root = match parse_json(text, problems) {
            Some(Value::Object(root)) => root,
            Some(_) => {
                problems.push(
                    Code::InvalidType,
                    "",
                    "the changes must be a json object".into(),
                    &[],
                );
                return changes;
            }
            None => return changes,
        };
        match root.get("format") {
            Some(Value::String(f)) if f == CHANGES_FORMAT => {}
            Some(other) => problems.push(
                Code::InvalidFormat,
                "format",
                format!("unsupported format `{other}`, expected `{CHANGES_FORMAT}`"),
                &[],
            ),
            None => problems.push(
                Code::InvalidFormat,
                "format",
                format!("missing `format: \"{CHANGES_FORMAT}\"`"),
                &[],
            ),
        }
        for (key, value) in root {
            match key.as_str() {
                "format" => {}
                "engine_version" => match value {
                    Value::String(v) => changes.engine_version = Some(v),
                    other => problems.push(
                        Code::InvalidType,
                        "engine_version",
                        format!("expected a string, found `{other}`"),
                        &[],
                    ),
                },
                "settings" => changes.settings = Some(value),
                "upsert" => changes.read_upserts(value, problems),
                "delete" => changes.read_deletes(value, problems),
                _ => problems.push(
                    Code::UnknownField,
                    &key,
                    format!("unknown field `{key}`, expected one of `format`, `engine_version`, `settings`, `upsert`, `delete`"),
                    &[],
                ),
            }
        }
        changes.check_conflicts(problems);
        changes
    }

    fn read_upserts(&mut self, value: Value, problems: &mut Problems) {
        for (section, list) in sections("upsert", value, problems) {
            let path = format!("upsert.{section}");
            if let Some(i) = KEYED.iter().position(|(name, _)| *name == section) {
                let key = KEYED.get(i).map_or("id", |k| k.1);
                let read = elements(&path, list, problems)
                    .filter_map(|(path, element)| upsert(path, element, key, problems))
                    .collect();
                if let Some(slot) = self.upserts.get_mut(i) {
                    *slot = read;
                }
            } else if let Some(i) = NESTED.iter().position(|n| n.name == section) {
                let Some(nested) = NESTED.get(i).copied() else {
                    continue;
                };
                let read = elements(&path, list, problems)
                    .filter_map(|(path, mut element)| {
                        let parent = take_key(&path, &mut element, nested.parent_field, problems);
                        let element = upsert(path, element, nested.key, problems);
                        Some(NestedUpsert {
                            parent: parent?,
                            element: element?,
                        })
                    })
                    .collect();
                if let Some(slot) = self.nested_upserts.get_mut(i) {
                    *slot = read;
                }
            } else {
                unknown_section(&path, &section, problems);
            }
        }
    }

    fn read_deletes(&mut self, value: Value, problems: &mut Problems) {
        for (section, list) in sections("delete", value, problems) {
            let path = format!("delete.{section}");
            if let Some(i) = KEYED.iter().position(|(name, _)| *name == section) {
                let read = elements(&path, list, problems)
                    .filter_map(|(path, element)| match element {
                        Value::String(key) if !key.is_empty() => Some(Delete {
                            parent: None,
                            key,
                            path,
                        }),
                        other => {
                            problems.push(
                                Code::InvalidType,
                                &path,
                                format!("expected the id to delete, found `{other}`"),
                                &[],
                            );
                            None
                        }
                    })
                    .collect();
                if let Some(slot) = self.deletes.get_mut(i) {
                    *slot = read;
                }
            } else if let Some(i) = NESTED.iter().position(|n| n.name == section) {
                let Some(nested) = NESTED.get(i).copied() else {
                    continue;
                };
                let read = elements(&path, list, problems)
                    .filter_map(|(path, mut element)| {
                        let parent =
                            take_key(&path, &mut element, nested.parent_field, problems);
                        let key = take_key(&path, &mut element, nested.key, problems);
                        if let Value::Object(rest) = &mut element {
                            rest.remove(nested.key);
                        }
                        if let Value::Object(rest) = &element {
                            for field in rest.keys() {
                                problems.push(
                                    Code::UnknownField,
                                    &format!("{path}.{field}"),
                                    format!(
                                        "unknown field `{field}`, a deletion names only `{}` and `{}`",
                                        nested.parent_field, nested.key
                                    ),
                                    &[],
                                );
                            }
                        }
                        Some(Delete {
                            parent: Some(parent?),
                            key: key?,
                            path,
                        })
                    })
                    .collect();
                if let Some(slot) = self.nested_deletes.get_mut(i) {
                    *slot = read;
                }
            } else {
                unknown_section(&path, &section, problems);
            }
        }
    }

    /// The stock records this change upserts and deletes, when it changes nothing else.
    pub(crate) fn stock_only(&self) -> Option<(&[Upsert], &[Delete])> {
        fn elsewhere<T>(lists: &[Vec<T>], at: usize) -> bool {
            lists
                .iter()
                .enumerate()
                .any(|(i, list)| i != at && !list.is_empty())
        }
        let at = KEYED.iter().position(|(name, _)| *name == "stock")?;
        if self.settings.is_some()
            || elsewhere(&self.upserts, at)
            || elsewhere(&self.deletes, at)
            || self.nested_upserts.iter().any(|list| !list.is_empty())
            || self.nested_deletes.iter().any(|list| !list.is_empty())
        {
            return None;
        }
        let (upserts, deletes) = (self.upserts.get(at)?, self.deletes.get(at)?);
        (!upserts.is_empty() || !deletes.is_empty()).then_some((upserts, deletes))
    }

    /// The price entries this change upserts and the (list, SKU) groups it deletes, if it
    /// changes nothing else and changes some.
    pub(crate) fn prices_only(&self) -> Option<(&[NestedUpsert], &[Delete])> {
        self.nested_only("prices")
    }

    /// Whether this change upserts or deletes contracts' pricing rules and nothing else.
    pub(crate) fn rules_only(&self) -> bool {
        self.nested_only("rules").is_some()
    }

    /// The elements of the nested section `name` this change upserts and deletes, if it
    /// changes nothing else and changes some.
    pub(crate) fn nested_only(&self, name: &str) -> Option<(&[NestedUpsert], &[Delete])> {
        let at = NESTED.iter().position(|n| n.name == name)?;
        let elsewhere = |i: usize, empty: bool| i != at && !empty;
        if self.settings.is_some()
            || self.upserts.iter().any(|list| !list.is_empty())
            || self.deletes.iter().any(|list| !list.is_empty())
            || (self.nested_upserts.iter().enumerate()).any(|(i, l)| elsewhere(i, l.is_empty()))
            || (self.nested_deletes.iter().enumerate()).any(|(i, l)| elsewhere(i, l.is_empty()))
        {
            return None;
        }
        let (upserts, deletes) = (self.nested_upserts.get(at)?, self.nested_deletes.get(at)?);
        (!upserts.is_empty() || !deletes.is_empty()).then_some((upserts, deletes))
    }

    /// The price entries this change upserts and the groups it deletes, taken out of it.
    pub(crate) fn into_prices(mut self) -> (Vec<NestedUpsert>, Vec<Delete>) {
        let at = NESTED.iter().position(|n| n.name == "prices");
        taken(&mut self.nested_upserts, &mut self.nested_deletes, at)
    }

    /// The stock records this change upserts and deletes, taken out of it.
    pub(crate) fn into_stock(mut self) -> (Vec<Upsert>, Vec<Delete>) {
        let at = KEYED.iter().position(|(name, _)| *name == "stock");
        taken(&mut self.upserts, &mut self.deletes, at)
    }

    /// The same element twice in one change, or upserted and deleted at once: which one is
    /// meant cannot be guessed. Several upserted entries of one (list, SKU) are not a conflict:
    /// together they are that product's new prices in the list.
    fn check_conflicts(&self, problems: &mut Problems) {
        for ((upserts, deletes), (section, _)) in self.upserts.iter().zip(&self.deletes).zip(KEYED)
        {
            let mut seen = ahash::AHashMap::new();
            for u in upserts {
                if let Some(first) = seen.insert(u.key.as_str(), u.path.as_str()) {
                    problems.push(
                        Code::DuplicateId,
                        &u.path,
                        format!(
                            "`{}` is upserted twice in `{section}` (first at `{first}`)",
                            u.key
                        ),
                        &[&u.key],
                    );
                }
            }
            let mut deleted = ahash::AHashMap::new();
            for d in deletes {
                if let Some(first) = deleted.insert(d.key.as_str(), d.path.as_str()) {
                    problems.push(
                        Code::DuplicateId,
                        &d.path,
                        format!(
                            "`{}` is deleted twice from `{section}` (first at `{first}`)",
                            d.key
                        ),
                        &[&d.key],
                    );
                } else if let Some(up) = seen.get(d.key.as_str()) {
                    problems.push(
                        Code::ConflictingChange,
                        &d.path,
                        format!(
                            "`{}` is both deleted and upserted (at `{up}`) in `{section}`",
                            d.key
                        ),
                        &[&d.key],
                    );
                }
            }
        }
        for ((upserts, deletes), nested) in self
            .nested_upserts
            .iter()
            .zip(&self.nested_deletes)
            .zip(NESTED)
        {
            let mut seen = ahash::AHashMap::new();
            for u in upserts {
                let first = seen.insert(
                    (u.parent.as_str(), u.element.key.as_str()),
                    u.element.path.as_str(),
                );
                // Rules are one per id; prices may come several per SKU (validity, tiers).
                if let (Some(first), "rules") = (first, nested.name) {
                    problems.push(
                        Code::DuplicateId,
                        &u.element.path,
                        format!(
                            "rule `{}` of `{}` is upserted twice (first at `{first}`)",
                            u.element.key, u.parent
                        ),
                        &[&u.element.key],
                    );
                }
            }
            let mut deleted = ahash::AHashMap::new();
            for d in deletes {
                let parent = d.parent.as_deref().unwrap_or("");
                let pair = (parent, d.key.as_str());
                if let Some(first) = deleted.insert(pair, d.path.as_str()) {
                    problems.push(
                        Code::DuplicateId,
                        &d.path,
                        format!(
                            "`{}` of `{parent}` is deleted twice (first at `{first}`)",
                            d.key
                        ),
                        &[&d.key],
                    );
                } else if let Some(up) = seen.get(&pair) {
                    problems.push(
                        Code::ConflictingChange,
                        &d.path,
                        format!(
                            "`{}` of `{parent}` is both deleted and upserted (at `{up}`) in `{}`",
                            d.key, nested.name
                        ),
                        &[&d.key],
                    );
                }
            }
        }
    }
}

/// Parses JSON text handed over by a caller, or notes the `PARSE_ERROR` compile gives too.
pub(crate) fn parse_json(text: &str, problems: &mut Problems) -> Option<Value> {
    match serde_json::from_str(text) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(Code::ParseError, "", crate::compile::invalid_json(&e), &[]);
            None
        }
    }
}

fn sections(
    path: &str,
    value: Value,
    problems: &mut Problems,
) -> impl Iterator<Item = (String, Value)> + use<> {
    let map = match value {
        Value::Object(map) => map,
        other => {
            problems.push(
                Code::InvalidType,
                path,
                format!("expected an object of sections, found `{other}`"),
                &[],
            );
            Map::new()
        }
    };
    map.into_iter()
}

fn unknown_section(path: &str, section: &str, problems: &mut Problems) {
    let known: Vec<String> = KEYED
        .iter()
        .map(|(name, _)| *name)
        .chain(NESTED.iter().map(|n| n.name))
        .map(|n| format!("`{n}`"))
        .collect();
    problems.push(
        Code::UnknownField,
        path,
        format!(
            "unknown section `{section}`, expected one of {}",
            known.join(", ")
        ),
        &[],
    );
}

/// The elements of a section's list with their paths.
fn elements(
    path: &str,
    list: Value,
    problems: &mut Problems,
) -> impl Iterator<Item = (String, Value)> + use<> {
    let items = match list {
        Value::Array(items) => items,
        other => {
            problems.push(
                Code::InvalidType,
                path,
                format!("expected a list, found `{other}`"),
                &[],
            );
            Vec::new()
        }
    };
    let path = path.to_string();
    items
        .into_iter()
        .enumerate()
        .map(move |(i, v)| (format!("{path}[{i}]"), v))
}

fn upsert(path: String, element: Value, key: &str, problems: &mut Problems) -> Option<Upsert> {
    let Value::Object(value) = element else {
        problems.push(
            Code::InvalidType,
            &path,
            format!("expected an object, found `{element}`"),
            &[],
        );
        return None;
    };
    match value.get(key) {
        Some(Value::String(k)) if !k.is_empty() => Some(Upsert {
            key: k.clone(),
            path,
            value,
        }),
        Some(other) => {
            problems.push(
                Code::InvalidId,
                &format!("{path}.{key}"),
                format!("`{key}` must be a non-empty string, found `{other}`"),
                &[],
            );
            None
        }
        None => {
            problems.push(
                Code::MissingField,
                &path,
                format!("missing field `{key}`"),
                &[],
            );
            None
        }
    }
}

/// Removes and returns a nested element's string field (its parent id or its own key).
fn take_key(
    path: &str,
    element: &mut Value,
    field: &str,
    problems: &mut Problems,
) -> Option<String> {
    let Value::Object(map) = element else {
        problems.push(
            Code::InvalidType,
            path,
            format!("expected an object, found `{element}`"),
            &[],
        );
        return None;
    };
    match map.get(field) {
        Some(Value::String(k)) if !k.is_empty() => {
            let k = k.clone();
            // The parent id is the change's addressing, not a field of the element; the
            // element's own key stays in it.
            if field != "sku" && field != "id" {
                map.remove(field);
            }
            Some(k)
        }
        Some(other) => {
            problems.push(
                Code::InvalidId,
                &format!("{path}.{field}"),
                format!("`{field}` must be a non-empty string, found `{other}`"),
                &[],
            );
            None
        }
        None => {
            problems.push(
                Code::MissingField,
                path,
                format!("missing field `{field}`"),
                &[],
            );
            None
        }
    }
}

/// The upserts and deletions of one section (at `at` in both lists), taken out of them.
fn taken<U>(
    upserts: &mut [Vec<U>],
    deletes: &mut [Vec<Delete>],
    at: Option<usize>,
) -> (Vec<U>, Vec<Delete>) {
    let upserts = at.and_then(|at| upserts.get_mut(at)).map(std::mem::take);
    let deletes = at.and_then(|at| deletes.get_mut(at)).map(std::mem::take);
    (upserts.unwrap_or_default(), deletes.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use crate::{CompileOptions, Engine};

    #[test]
    fn text_that_is_not_json_is_reported_as_compile_reports_it() {
        let engine = Engine::from_json(r#"{"format": "tarif/1"}"#).unwrap();
        let text = "{\"format\": \n  oops}";
        let compile = Engine::from_json(text).unwrap_err().diagnostics;
        let apply = engine
            .apply(text, &CompileOptions::default())
            .unwrap_err()
            .diagnostics;
        assert_eq!(compile[0].code.code(), "PARSE_ERROR");
        assert!(compile[0]
            .message
            .starts_with("invalid json at line 2 column 3"));
        assert_eq!(
            (apply[0].code, &apply[0].message),
            (compile[0].code, &compile[0].message)
        );
    }
}

/// One entity a change upserted or deleted: its section (a [`KEYED`] or [`NESTED`] name, or
/// `settings`), its parent for nested sections, and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Touched {
    pub section: &'static str,
    pub parent: Option<String>,
    pub key: String,
}

/// How far back an engine remembers the changes that made it: enough for the scenarios of a
/// simulation (each one or a few changes away from its base) without an ERP feed applying
/// changes all day keeping every one of them.
const DERIVATION_DEPTH: usize = 8;

/// What [`Engine::apply`](crate::Engine::apply) changed to make an engine: the entities the
/// change named, the engine it was applied to, and how that one was made in turn. A
/// simulation reads it to reprice only the lines the change can reach.
#[derive(Debug)]
pub(crate) struct Derivation {
    parent: Box<str>,
    touched: Vec<Touched>,
    earlier: Option<std::sync::Arc<Derivation>>,
    depth: usize,
}

impl Derivation {
    /// The derivation of the engine `changes` make from the engine of version `parent`, itself
    /// made as `earlier` says.
    pub(crate) fn new(
        parent: &str,
        changes: &Changes,
        earlier: Option<&std::sync::Arc<Derivation>>,
    ) -> Derivation {
        let mut touched = Vec::new();
        if changes.settings.is_some() {
            touched.push(Touched {
                section: "settings",
                parent: None,
                key: String::new(),
            });
        }
        for (i, (section, _)) in KEYED.iter().enumerate() {
            let upserts = changes.upserts.get(i).into_iter().flatten();
            let deletes = changes.deletes.get(i).into_iter().flatten();
            for key in upserts.map(|u| &u.key).chain(deletes.map(|d| &d.key)) {
                touched.push(Touched {
                    section,
                    parent: None,
                    key: key.clone(),
                });
            }
        }
        for (i, nested) in NESTED.iter().enumerate() {
            let upserts = changes.nested_upserts.get(i).into_iter().flatten();
            let deletes = changes.nested_deletes.get(i).into_iter().flatten();
            let keys = upserts
                .map(|u| (Some(&u.parent), &u.element.key))
                .chain(deletes.map(|d| (d.parent.as_ref(), &d.key)));
            for (parent, key) in keys {
                touched.push(Touched {
                    section: nested.name,
                    parent: parent.cloned(),
                    key: key.clone(),
                });
            }
        }
        let earlier = earlier.filter(|e| e.depth < DERIVATION_DEPTH).cloned();
        Derivation {
            parent: parent.into(),
            depth: earlier.as_ref().map_or(1, |e| e.depth + 1),
            earlier,
            touched,
        }
    }

    /// Every entity touched since the engine of version `ancestor`, or `None` when that engine
    /// is not one this one was made from (as far back as it remembers).
    pub(crate) fn since(&self, ancestor: &str) -> Option<Vec<&Touched>> {
        let mut touched = Vec::new();
        let mut step = Some(self);
        while let Some(derivation) = step {
            touched.extend(derivation.touched.iter());
            if &*derivation.parent == ancestor {
                return Some(touched);
            }
            step = derivation.earlier.as_deref();
        }
        None
    }
}
