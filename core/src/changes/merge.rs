//! Writes the document a change produces from the document an engine was compiled from.
//!
//! Only what the change touches is parsed: sections it does not name are copied as the text
//! they were, elements it does not name are copied as their text, and only the keys of a
//! touched section are read. Every element the change writes is remembered with its path in
//! the changes document, so that the compiler's diagnostics about it can point there.

use std::collections::BTreeMap;

use ahash::AHashMap;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Changes, Problems, Upsert, KEYED, NESTED};
use crate::error::DiagnosticCode as Code;
use crate::source::Source;

/// The sections a change rewrote and where their changed elements come from.
#[derive(Debug)]
pub(crate) struct Merged {
    /// Each section the change wrote (whole), by name; the others are the document's own.
    pub sections: BTreeMap<String, String>,
    /// Document path → path in the changes document (`None`: the element is the document's
    /// own, even inside an element the change wrote). The longest matching prefix decides.
    origins: BTreeMap<String, Option<String>>,
}

impl Merged {
    /// The path a diagnostic about the merged document should carry: into the changes
    /// document for what the change wrote, into the document for the rest.
    pub(crate) fn locate(&self, path: &str) -> String {
        let mut end = path.len();
        loop {
            if let Some(prefix) = path.get(..end) {
                if let Some(origin) = self.origins.get(prefix) {
                    return match origin {
                        Some(origin) => format!("{origin}{}", path.get(end..).unwrap_or("")),
                        None => path.to_string(),
                    };
                }
            }
            match path.get(..end).and_then(|p| p.rfind(['.', '['])) {
                Some(cut) if cut > 0 => end = cut,
                _ => return path.to_string(),
            }
        }
    }
}

impl Merged {
    /// The merge of some elements of section `name` taken out of it on their own, put back:
    /// element `k` of the merge is element `positions[k]` of the section, whose text with the
    /// merged elements in place is `text`.
    pub(crate) fn placed(self, name: &str, positions: &[usize], text: String) -> Merged {
        let prefix = format!("{name}[");
        let origins = self
            .origins
            .into_iter()
            .map(|(path, origin)| {
                let placed = path
                    .strip_prefix(&prefix)
                    .and_then(|rest| {
                        let (k, rest) = rest.split_once(']')?;
                        let at = positions.get(k.parse::<usize>().ok()?)?;
                        Some(format!("{prefix}{at}]{rest}"))
                    })
                    .unwrap_or(path);
                (placed, origin)
            })
            .collect();
        Merged {
            sections: BTreeMap::from([(name.to_string(), text)]),
            origins,
        }
    }
}

/// A value written into the merged document: text copied from the source, or a value the
/// change brought.
#[derive(Debug)]
enum Text<'a> {
    Raw(&'a RawValue),
    Value(Value),
}

/// An element of a nested list (a price entry, a rule).
#[derive(Debug)]
struct NestedElem<'a> {
    key: String,
    text: Text<'a>,
    origin: Option<String>,
}

/// A field of an element that is written field by field.
#[derive(Debug)]
enum Field<'a> {
    Text(Text<'a>),
    List(Vec<NestedElem<'a>>, Option<String>),
}

#[derive(Debug)]
enum Body<'a> {
    Whole(Text<'a>),
    Fields(Vec<(String, Field<'a>)>),
}

/// An element of a keyed section.
#[derive(Debug)]
struct Elem<'a> {
    key: String,
    body: Body<'a>,
    origin: Option<String>,
}

#[derive(Deserialize)]
struct Probe {
    id: Option<String>,
    sku: Option<String>,
    code: Option<String>,
}

pub(crate) fn key_of(raw: &RawValue, field: &str) -> String {
    let probe: Option<Probe> = serde_json::from_str(raw.get()).ok();
    probe
        .and_then(|p| match field {
            "sku" => p.sku,
            "code" => p.code,
            _ => p.id,
        })
        .unwrap_or_default()
}

/// The elements of a list given as its JSON text (none if it is absent or not a list).
pub(super) fn raw_list(text: Option<&str>) -> Vec<&RawValue> {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// Merges `changes` into `source`, or reports why it cannot be merged (ids that are not there).
/// Only the sections the change touches are read and written.
pub(crate) fn merge(source: &Source, changes: Changes, problems: &mut Problems) -> Option<Merged> {
    let top = source.texts();
    let mut origins = BTreeMap::new();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    let Changes {
        settings,
        upserts,
        deletes,
        nested_upserts,
        nested_deletes,
        ..
    } = changes;
    if let Some(settings) = settings {
        written.insert("settings".into(), settings.to_string());
        origins.insert("settings".into(), Some("settings".into()));
    }
    let deleted_products: Vec<String> = KEYED
        .iter()
        .position(|(name, _)| *name == "products")
        .and_then(|i| deletes.get(i))
        .map(|d| d.iter().map(|d| d.key.clone()).collect())
        .unwrap_or_default();
    let mut nested_upserts = nested_upserts.map(Some);
    let mut nested_deletes = nested_deletes.map(Some);
    for ((upserts, deletes), (name, key_field)) in upserts.into_iter().zip(deletes).zip(KEYED) {
        let nested = NESTED.iter().position(|n| n.parent == name);
        let nested_ups = nested
            .and_then(|n| nested_upserts.get_mut(n))
            .and_then(Option::take)
            .unwrap_or_default();
        let nested_dels = nested
            .and_then(|n| nested_deletes.get_mut(n))
            .and_then(Option::take)
            .unwrap_or_default();
        let cascade = name == "price_lists" && !deleted_products.is_empty();
        let stock_cascade = name == "stock" && !deleted_products.is_empty();
        if upserts.is_empty()
            && deletes.is_empty()
            && nested_ups.is_empty()
            && nested_dels.is_empty()
            && !cascade
            && !stock_cascade
        {
            continue;
        }
        let mut elems: Vec<Option<Elem>> = raw_list(top.get(name).copied())
            .into_iter()
            .map(|raw| {
                Some(Elem {
                    key: key_of(raw, key_field),
                    body: Body::Whole(Text::Raw(raw)),
                    origin: None,
                })
            })
            .collect();
        let mut position: AHashMap<String, usize> = elems
            .iter()
            .enumerate()
            .filter_map(|(p, e)| e.as_ref().map(|e| (e.key.clone(), p)))
            .collect();
        for d in deletes {
            match position.remove(&d.key) {
                Some(p) => {
                    if let Some(slot) = elems.get_mut(p) {
                        *slot = None;
                    }
                }
                None => problems.push(
                    Code::UnknownId,
                    &d.path,
                    format!("`{}` is not in `{name}`", d.key),
                    &[&d.key],
                ),
            }
        }
        // A deleted product takes its stock record with it, as it takes its price entries; a
        // record the change deletes itself is already gone, which is no problem here.
        if stock_cascade {
            for sku in &deleted_products {
                if let Some(slot) = position.remove(sku).and_then(|p| elems.get_mut(p)) {
                    *slot = None;
                }
            }
        }
        for u in upserts {
            let nested_field = nested.and_then(|n| NESTED.get(n)).map(|n| n.field);
            match position.get(&u.key).and_then(|&p| elems.get_mut(p)) {
                Some(Some(old)) => {
                    let kept = kept_fields(old, &u.value, name);
                    *old = Elem {
                        key: u.key.clone(),
                        body: fields_of(u.value, kept, nested_field, &u.path),
                        origin: Some(u.path),
                    };
                }
                _ => {
                    position.insert(u.key.clone(), elems.len());
                    elems.push(Some(Elem {
                        key: u.key,
                        body: fields_of(u.value, Vec::new(), nested_field, &u.path),
                        origin: Some(u.path),
                    }));
                }
            }
        }
        if let Some(nested) = nested.and_then(|n| NESTED.get(n)) {
            let mut ups_by_parent: AHashMap<String, Vec<Upsert>> = AHashMap::new();
            for u in nested_ups {
                match position.get(&u.parent) {
                    Some(_) => ups_by_parent.entry(u.parent).or_default().push(u.element),
                    None => problems.push(
                        Code::UnknownId,
                        &format!("{}.{}", u.element.path, nested.parent_field),
                        format!("`{}` is not in `{name}`", u.parent),
                        &[&u.parent],
                    ),
                }
            }
            let mut dels_by_parent: AHashMap<String, Vec<super::Delete>> = AHashMap::new();
            for d in nested_dels {
                let parent = d.parent.clone().unwrap_or_default();
                match position.get(&parent) {
                    Some(_) => dels_by_parent.entry(parent).or_default().push(d),
                    None => problems.push(
                        Code::UnknownId,
                        &format!("{}.{}", d.path, nested.parent_field),
                        format!("`{parent}` is not in `{name}`"),
                        &[&parent],
                    ),
                }
            }
            for elem in elems.iter_mut().flatten() {
                let ups = ups_by_parent.remove(&elem.key).unwrap_or_default();
                let dels = dels_by_parent.remove(&elem.key).unwrap_or_default();
                let drop: &[String] = if cascade { &deleted_products } else { &[] };
                if ups.is_empty() && dels.is_empty() && !mentions_any(elem, drop) {
                    continue;
                }
                let parent = elem.key.clone();
                if let Some(list) = nested_list(elem, nested.field, nested.key) {
                    apply_nested(list, ups, dels, drop, &parent, nested.name, problems);
                }
            }
        }
        let elems: Vec<Elem> = elems.into_iter().flatten().collect();
        let mut out = String::with_capacity(top.get(name).map_or(0, |t| t.len()) + 2);
        out.push('[');
        for (j, elem) in elems.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            write_elem(&mut out, elem, || format!("{name}[{j}]"), &mut origins);
        }
        out.push(']');
        written.insert(name.to_string(), out);
    }
    if !problems.0.is_empty() {
        return None;
    }
    Some(Merged {
        sections: written,
        origins,
    })
}

/// The fields of an element the upsert replaces but does not carry: a price list's prices
/// and a contract's rules and visibility stay as they were unless the upsert gives them.
fn kept_fields<'a>(
    old: &mut Elem<'a>,
    new: &Map<String, Value>,
    section: &str,
) -> Vec<(String, Field<'a>)> {
    let nested: &[&str] = match section {
        "price_lists" => &["prices"],
        "contracts" => &["rules", "visibility"],
        _ => &[],
    };
    let missing: Vec<&str> = nested
        .iter()
        .copied()
        .filter(|f| !new.contains_key(*f))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let body = std::mem::replace(&mut old.body, Body::Fields(Vec::new()));
    let mut fields = match body {
        Body::Fields(fields) => fields,
        Body::Whole(Text::Raw(raw)) => {
            serde_json::from_str::<BTreeMap<String, &'a RawValue>>(raw.get())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, Field::Text(Text::Raw(v))))
                .collect()
        }
        Body::Whole(Text::Value(Value::Object(map))) => map
            .into_iter()
            .map(|(k, v)| (k, Field::Text(Text::Value(v))))
            .collect(),
        Body::Whole(Text::Value(_)) => Vec::new(),
    };
    fields.retain(|(k, _)| missing.contains(&k.as_str()));
    fields
}

/// An upserted element written field by field: its own fields, then the kept ones. Its
/// nested list, if it has one, becomes a list of elements so that nested changes can edit it.
fn fields_of<'a>(
    value: Map<String, Value>,
    kept: Vec<(String, Field<'a>)>,
    nested_field: Option<&str>,
    path: &str,
) -> Body<'a> {
    let mut fields: Vec<(String, Field<'a>)> = value
        .into_iter()
        .map(|(k, v)| {
            let field = match (Some(k.as_str()) == nested_field, v) {
                (true, Value::Array(items)) => Field::List(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(m, item)| NestedElem {
                            key: item
                                .get("sku")
                                .or_else(|| item.get("id"))
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                            text: Text::Value(item),
                            origin: Some(format!("{path}.{k}[{m}]")),
                        })
                        .collect(),
                    Some(format!("{path}.{k}")),
                ),
                (_, v) => Field::Text(Text::Value(v)),
            };
            (k, field)
        })
        .collect();
    for (k, field) in kept {
        let field = match field {
            Field::Text(t) => Field::Text(t),
            Field::List(items, _) => Field::List(items, None),
        };
        fields.push((k, field));
    }
    Body::Fields(fields)
}

/// Whether an element's nested list names any of `keys` (read without parsing the entries
/// when the text does not even contain one of them).
fn mentions_any(elem: &Elem, keys: &[String]) -> bool {
    if keys.is_empty() {
        return false;
    }
    match &elem.body {
        Body::Whole(Text::Raw(raw)) => keys.iter().any(|k| raw.get().contains(k.as_str())),
        _ => true,
    }
}

/// The nested list of an element, turned into editable elements (created empty if the
/// element has none).
fn nested_list<'a, 'e>(
    elem: &'e mut Elem<'a>,
    field: &str,
    key: &str,
) -> Option<&'e mut Vec<NestedElem<'a>>> {
    if let Body::Whole(text) = &mut elem.body {
        let fields = match std::mem::replace(text, Text::Value(Value::Null)) {
            Text::Raw(raw) => serde_json::from_str::<BTreeMap<String, &'a RawValue>>(raw.get())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, Field::Text(Text::Raw(v))))
                .collect(),
            Text::Value(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| (k, Field::Text(Text::Value(v))))
                .collect(),
            Text::Value(_) => Vec::new(),
        };
        elem.body = Body::Fields(fields);
    }
    let Body::Fields(fields) = &mut elem.body else {
        return None;
    };
    if !fields.iter().any(|(k, _)| k == field) {
        fields.push((field.to_string(), Field::List(Vec::new(), None)));
    }
    let slot = fields
        .iter_mut()
        .find_map(|(k, f)| (k == field).then_some(f))?;
    if let Field::Text(text) = slot {
        let items = match std::mem::replace(text, Text::Value(Value::Null)) {
            Text::Raw(raw) => serde_json::from_str::<Vec<&'a RawValue>>(raw.get())
                .unwrap_or_default()
                .into_iter()
                .map(|raw| NestedElem {
                    key: key_of(raw, key),
                    text: Text::Raw(raw),
                    origin: None,
                })
                .collect(),
            Text::Value(Value::Array(items)) => items
                .into_iter()
                .map(|item| NestedElem {
                    key: item
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    text: Text::Value(item),
                    origin: None,
                })
                .collect(),
            Text::Value(_) => Vec::new(),
        };
        *slot = Field::List(items, None);
    }
    match slot {
        Field::List(items, _) => Some(items),
        Field::Text(_) => None,
    }
}

/// Applies nested upserts and deletions to one parent's list: an upserted key replaces every
/// element with that key where the first of them was (or is appended), a deleted key removes
/// every element with it, and elements naming a deleted product go with it. One pass over the
/// list whatever the number of keys: a list may hold a million entries and a change ten
/// thousand of them.
fn apply_nested(
    list: &mut Vec<NestedElem<'_>>,
    ups: Vec<Upsert>,
    dels: Vec<super::Delete>,
    dropped_products: &[String],
    parent: &str,
    section: &str,
    problems: &mut Problems,
) {
    let present: ahash::AHashSet<&str> = list.iter().map(|e| e.key.as_str()).collect();
    let mut removed: ahash::AHashSet<String> = dropped_products.iter().cloned().collect();
    for d in dels {
        if present.contains(d.key.as_str()) {
            removed.insert(d.key);
        } else {
            problems.push(
                Code::UnknownId,
                &d.path,
                format!("`{}` has no `{section}` for `{}`", parent, d.key),
                &[&d.key],
            );
        }
    }
    drop(present);
    let mut groups: Vec<(String, Vec<Upsert>)> = Vec::new();
    let mut group_of: AHashMap<String, usize> = AHashMap::new();
    for u in ups {
        match group_of.get(&u.key) {
            Some(&g) => {
                if let Some((_, group)) = groups.get_mut(g) {
                    group.push(u);
                }
            }
            None => {
                group_of.insert(u.key.clone(), groups.len());
                groups.push((u.key.clone(), vec![u]));
            }
        }
    }
    let mut placed = vec![false; groups.len()];
    let mut emit =
        |g: usize, out: &mut Vec<NestedElem<'_>>, groups: &mut Vec<(String, Vec<Upsert>)>| {
            if let (Some(done), Some((_, group))) = (placed.get_mut(g), groups.get_mut(g)) {
                if !*done {
                    *done = true;
                    out.extend(std::mem::take(group).into_iter().map(|u| NestedElem {
                        key: u.key,
                        text: Text::Value(Value::Object(u.value)),
                        origin: Some(u.path),
                    }));
                }
            }
        };
    let old = std::mem::take(list);
    let mut out = Vec::with_capacity(old.len() + groups.len());
    for elem in old {
        if removed.contains(&elem.key) {
            continue;
        }
        match group_of.get(&elem.key) {
            Some(&g) => emit(g, &mut out, &mut groups),
            None => out.push(elem),
        }
    }
    for g in 0..groups.len() {
        emit(g, &mut out, &mut groups);
    }
    *list = out;
}

fn write_text(out: &mut String, text: &Text) {
    match text {
        Text::Raw(raw) => out.push_str(raw.get()),
        Text::Value(v) => out.push_str(&v.to_string()),
    }
}

/// Writes one element of a keyed section at `path`, recording where what the change wrote
/// comes from.
fn write_elem(
    out: &mut String,
    elem: &Elem,
    path: impl Fn() -> String,
    origins: &mut BTreeMap<String, Option<String>>,
) {
    if let Some(origin) = &elem.origin {
        origins.insert(path(), Some(origin.clone()));
    }
    match &elem.body {
        Body::Whole(text) => write_text(out, text),
        Body::Fields(fields) => {
            let path = path();
            out.push('{');
            for (f, (name, field)) in fields.iter().enumerate() {
                if f > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                match field {
                    Field::Text(text) => write_text(out, text),
                    Field::List(items, origin) => {
                        let list_path = format!("{path}.{name}");
                        if elem.origin.is_some() {
                            origins.insert(list_path.clone(), origin.clone());
                        }
                        out.push('[');
                        for (k, item) in items.iter().enumerate() {
                            if k > 0 {
                                out.push(',');
                            }
                            if let Some(origin) = &item.origin {
                                origins.insert(format!("{list_path}[{k}]"), Some(origin.clone()));
                            }
                            write_text(out, &item.text);
                        }
                        out.push(']');
                    }
                }
            }
            out.push('}');
        }
    }
}
