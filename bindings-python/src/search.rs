//! `Engine.search` and `Engine.related` arguments: Python keywords in, the core's `SearchQuery`
//! and `RelationKind` out. Filters, sorts and facets are plain dicts in the shape of the shared
//! fixtures (`tests/fixtures/README.md`), so a query written for one language reads the same in
//! the others.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};
use tarif::wire::{self, InputCode, QtyInput};
use tarif::{Capability, Cursor, Decimal, Facet, Filter, SearchQuery, Sort};

use crate::convert::{exact_number, optional_text, text, type_name};
use crate::errors::{input, Failure, Result};

/// The error of a query part that has the right type but a meaning the binding cannot read.
fn invalid(message: impl Into<String>) -> Failure {
    input(InputCode::InvalidQuery, message)
}

/// The keyword arguments of `Engine.search`, as pyo3 hands them over.
pub(crate) struct SearchArgs<'a, 'py> {
    pub filters: Option<&'a Bound<'py, PyAny>>,
    pub text: Option<&'a Bound<'py, PyAny>>,
    pub capability: Option<&'a Bound<'py, PyAny>>,
    pub sort: Option<&'a Bound<'py, PyAny>>,
    pub offset: Option<&'a Bound<'py, PyAny>>,
    pub limit: Option<&'a Bound<'py, PyAny>>,
    pub cursor: Option<&'a Bound<'py, PyAny>>,
    pub facets: Option<&'a Bound<'py, PyAny>>,
    pub group_variants: Option<&'a Bound<'py, PyAny>>,
    pub price_qty: Option<&'a Bound<'py, PyAny>>,
    pub currency: Option<&'a Bound<'py, PyAny>>,
}

/// Present and not `None`.
fn given<'a, 'py>(value: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    value.filter(|v| !v.is_none())
}

impl SearchArgs<'_, '_> {
    /// The core query; every malformed part is an `InputError` naming it, read in the order
    /// the Node binding reads its query object, so that both report the same first error.
    pub(crate) fn query(self) -> Result<SearchQuery> {
        let mut query = SearchQuery::new();
        for filter in items(self.filters, "filters")? {
            query = query.filter(self::filter(&filter)?);
        }
        for facet in items(self.facets, "facets")? {
            query = query.facet(self::facet(&facet)?);
        }
        if let Some(text) = optional_text(self.text, "text")? {
            query = query.text(&text);
        }
        query = query.capability(match optional_text(self.capability, "capability")? {
            Some(name) => name.parse::<Capability>()?,
            None => Capability::See,
        });
        if let Some(sort) = given(self.sort) {
            query = query.sort(self::sort(sort)?);
        }
        query = query.page(
            count(self.offset, "offset")?.unwrap_or(0),
            count(self.limit, "limit")?.unwrap_or(20),
        );
        if let Some(cursor) = optional_text(self.cursor, "cursor")? {
            query = query.after(cursor.parse::<Cursor>().map_err(|e| {
                input(
                    InputCode::InvalidCursor,
                    format!("{e}: pass the `next` of a page"),
                )
            })?);
        }
        if let Some(group) = flag(self.group_variants, "group_variants")? {
            query = query.group_variants(group);
        }
        if let Some(qty) = given(self.price_qty) {
            // One row's failure never fails a page (docs/spec.md §11.6).
            query = query.prices(exact_number(qty, "a quantity")?.for_rows());
        }
        if let Some(currency) = optional_text(self.currency, "currency")? {
            query = query.currency(&currency);
        }
        Ok(query)
    }
}

/// A non-negative `int`; `None` is absent.
fn count(value: Option<&Bound<'_, PyAny>>, what: &str) -> Result<Option<usize>> {
    let Some(value) = given(value) else {
        return Ok(None);
    };
    if !value.is_instance_of::<PyInt>() || value.is_instance_of::<PyBool>() {
        return Err(input(
            InputCode::InvalidType,
            format!("`{what}` must be an int, not {}", type_name(value)),
        ));
    }
    let n: i128 = value
        .extract()
        .map_err(|_| invalid(format!("`{what}` is {value}, beyond any count")))?;
    usize::try_from(n)
        .map(Some)
        .map_err(|_| invalid(format!("`{what}` must be ≥ 0, not {n}")))
}

/// A `bool`; `None` is absent.
fn flag(value: Option<&Bound<'_, PyAny>>, what: &str) -> Result<Option<bool>> {
    given(value)
        .map(|v| {
            v.cast::<PyBool>().map(|b| b.is_true()).map_err(|_| {
                input(
                    InputCode::InvalidType,
                    format!("`{what}` must be a bool, not {}", type_name(v)),
                )
            })
        })
        .transpose()
}

/// The elements of an optional iterable argument (a str is refused: it would iterate by
/// character).
fn items<'py>(value: Option<&Bound<'py, PyAny>>, what: &str) -> Result<Vec<Bound<'py, PyAny>>> {
    let Some(value) = given(value) else {
        return Ok(Vec::new());
    };
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyDict>() {
        return Err(input(
            InputCode::InvalidType,
            format!(
                "`{what}` must be a list, not a single {}",
                value.get_type().name()?
            ),
        ));
    }
    let mut out = Vec::new();
    for item in value.try_iter().map_err(|_| {
        input(
            InputCode::InvalidType,
            format!("`{what}` must be a list or another iterable"),
        )
    })? {
        out.push(item?);
    }
    Ok(out)
}

/// A dict with only the keys `allowed`.
fn dict<'a, 'py>(
    value: &'a Bound<'py, PyAny>,
    what: &str,
    allowed: &[&str],
) -> Result<&'a Bound<'py, PyDict>> {
    let dict = value.cast::<PyDict>().map_err(|_| {
        input(
            InputCode::InvalidType,
            format!("{what} must be a dict, not {}", type_name(value)),
        )
    })?;
    for key in dict.keys() {
        let known = key
            .cast::<PyString>()
            .ok()
            .and_then(|k| k.to_str().ok().map(|k| allowed.contains(&k)))
            .unwrap_or(false);
        if !known {
            return Err(invalid(format!(
                "{what}: unknown key {}; the keys are {}",
                key.repr()?,
                allowed.join(", ")
            )));
        }
    }
    Ok(dict)
}

/// Ids (of categories, brands, families): one str or a list of them.
fn names(value: &Bound<'_, PyAny>, what: &str) -> Result<Vec<String>> {
    if value.is_instance_of::<PyString>() {
        return Ok(vec![text(value, what)?]);
    }
    items(Some(value), what)?
        .iter()
        .map(|v| text(v, &format!("an element of {what}")))
        .collect()
}

/// Attribute values, compared as text: a str as written, a bool as `true`/`false`, an int or a
/// `Decimal` by its digits (a float is refused, like everywhere in tarif).
fn values(value: &Bound<'_, PyAny>, what: &str) -> Result<Vec<String>> {
    let one = |v: &Bound<'_, PyAny>| -> Result<String> {
        if v.is_instance_of::<PyString>() {
            return text(v, what);
        }
        if let Ok(b) = v.cast::<PyBool>() {
            return Ok(b.is_true().to_string());
        }
        match exact_number(v, "an attribute value")? {
            QtyInput::Decimal(d) => Ok(d.to_string()),
            QtyInput::Unreadable(text) => Ok(text),
        }
    };
    if value.is_instance_of::<PyString>() {
        return Ok(vec![one(value)?]);
    }
    items(Some(value), what)?.iter().map(one).collect()
}

/// A range bound: exact like a quantity (`Decimal`, `int`, `str`; a float is refused).
fn bound(value: Option<Bound<'_, PyAny>>, what: &str) -> Result<Option<Decimal>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => match exact_number(&v, "a range bound")? {
            QtyInput::Decimal(d) => Ok(Some(d)),
            QtyInput::Unreadable(text) => {
                Err(invalid(format!("{what} {text:?} is not a decimal number")))
            }
        },
    }
}

/// `{"attr": name, "any_of": [...]}`, `{"attr": name, "min": .., "max": ..}`,
/// `{"category" | "brand" | "family": [ids]}`, or `{"in_stock": True}`.
fn filter(value: &Bound<'_, PyAny>) -> Result<Filter> {
    let what = "a filter";
    let dict = dict(
        value,
        what,
        &[
            "attr", "any_of", "min", "max", "category", "brand", "family", "in_stock",
        ],
    )?;
    let kinds: Vec<&str> = ["attr", "category", "brand", "family", "in_stock"]
        .into_iter()
        .filter(|k| dict.contains(*k).unwrap_or(false))
        .collect();
    let [kind] = kinds.as_slice() else {
        return Err(invalid(format!(
            "a filter has exactly one of the keys attr, category, brand, family, in_stock; got {}",
            dict.repr()?
        )));
    };
    let get = |key: &str| dict.get_item(key);
    let Some(subject) = get(kind)? else {
        return Err(invalid("a filter lost its key while being read"));
    };
    if *kind == "in_stock" {
        // Only `True` filters: the rest is what the in_stock facet's `false` counts.
        if dict.len() != 1 || flag(Some(&subject), "the in_stock filter")? != Some(true) {
            return Err(invalid(format!(
                "the in_stock filter is {{\"in_stock\": True}}: {}",
                dict.repr()?
            )));
        }
        return Ok(Filter::InStock);
    }
    if *kind != "attr" {
        if dict.len() != 1 {
            return Err(invalid(format!(
                "a {kind} filter has only the key {kind}: {}",
                dict.repr()?
            )));
        }
        let ids = names(&subject, &format!("the {kind} filter"))?;
        return Ok(match *kind {
            "category" => Filter::Category(ids),
            "brand" => Filter::Brand(ids),
            _ => Filter::Family(ids),
        });
    }
    let name = text(&subject, "a filter's attr")?;
    let any_of = get("any_of")?;
    let (min, max) = (get("min")?, get("max")?);
    match any_of {
        Some(any_of) if min.is_none() && max.is_none() => Ok(Filter::any_of(
            &name,
            values(&any_of, &format!("any_of of the filter on {name:?}"))?,
        )),
        Some(_) => Err(invalid(format!(
            "the filter on {name:?} has any_of or min/max, not both"
        ))),
        None if min.is_none() && max.is_none() => Err(invalid(format!(
            "the filter on {name:?} needs any_of, or min and/or max"
        ))),
        None => Ok(Filter::range(
            &name,
            bound(min, &format!("min of the filter on {name:?}"))?,
            bound(max, &format!("max of the filter on {name:?}"))?,
        )),
    }
}

/// `"brand"`, `"category"`, `"family"` or `{"attr": name}`.
fn facet(value: &Bound<'_, PyAny>) -> Result<Facet> {
    if value.is_instance_of::<PyString>() {
        let name = text(value, "a facet")?;
        return wire::facet(&name)
            .map_err(|e| invalid(format!("{e}, or {{\"attr\": {name:?}}} for an attribute")));
    }
    let dict = dict(value, "a facet", &["attr"])?;
    match dict.get_item("attr")? {
        Some(name) => Ok(Facet::attr(&text(&name, "a facet's attr")?)),
        None => Err(invalid("an attribute facet is {\"attr\": name}")),
    }
}

/// `"sku"` or `{"attr": name, "descending": bool}`.
fn sort(value: &Bound<'_, PyAny>) -> Result<Sort> {
    if value.is_instance_of::<PyString>() {
        let name = text(value, "a sort")?;
        return wire::sort(&name).map_err(|e| {
            invalid(format!(
                "{e}, or {{\"attr\": {name:?}, \"descending\": False}} for an attribute"
            ))
        });
    }
    let dict = dict(value, "a sort", &["attr", "descending"])?;
    let Some(name) = dict.get_item("attr")? else {
        return Err(invalid(
            "an attribute sort is {\"attr\": name, \"descending\": bool}",
        ));
    };
    let descending = match dict.get_item("descending")? {
        None => false,
        Some(d) => d
            .cast::<PyBool>()
            .map_err(|_| {
                input(
                    InputCode::InvalidType,
                    format!("a sort's descending must be a bool, not {}", type_name(&d)),
                )
            })?
            .is_true(),
    };
    Ok(Sort::Attr {
        name: text(&name, "a sort's attr")?,
        descending,
    })
}
