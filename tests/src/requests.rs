//! The request fixtures (`tests/fixtures/requests/`): bad values of every kind for every query,
//! answered through the core's wire requests by a JSON "binding" that reads values the way the
//! Python and Node bindings read theirs (see `fixtures/README.md`, "Request fixtures"), so all
//! three are held to the same codes.

use serde_json::{json, Map, Value};
use tarif::wire::{self, AtInput, InputCode, ProductInput, QtyInput, QuoteInput};
use tarif::{BatchAt, Capability, Cursor, Decimal, Engine, Facet, Filter, SearchQuery, Sort};

/// Why a request has no answer: the code of a value the binding refused, or of a query error.
type Refused = String;

fn refuse(code: InputCode) -> Refused {
    code.code().to_string()
}

/// The largest integer a double holds exactly; JSON numbers beyond it are floats to the
/// bindings.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn given(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

fn text(value: Option<&Value>) -> Result<String, Refused> {
    match value {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Object(o)) if o.contains_key("$utf16") => {
            let units: Vec<u16> = o
                .get("$utf16")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|u| u.as_u64().and_then(|u| u16::try_from(u).ok()))
                .collect();
            String::from_utf16(&units).map_err(|_| refuse(InputCode::InvalidText))
        }
        _ => Err(refuse(InputCode::InvalidType)),
    }
}

fn optional_text(value: Option<&Value>) -> Result<Option<String>, Refused> {
    given(value).map(|v| text(Some(v))).transpose()
}

fn integer(n: &serde_json::Number) -> Option<Decimal> {
    if let Some(i) = n.as_i64() {
        return Some(Decimal::from(i));
    }
    n.as_f64()
        .filter(|f| f.fract() == 0.0 && f.abs() <= MAX_SAFE)
        .and_then(|f| format!("{f:.0}").parse().ok())
}

fn qty(value: Option<&Value>) -> Result<QtyInput, Refused> {
    match value {
        Some(Value::String(s)) => Ok(QtyInput::from_text(s)),
        Some(Value::Number(n)) => integer(n)
            .map(QtyInput::Decimal)
            .ok_or_else(|| refuse(InputCode::FloatRejected)),
        Some(Value::Object(o)) if o.contains_key("$bigint") => {
            Ok(QtyInput::from_text(&text(o.get("$bigint"))?))
        }
        Some(Value::Object(o)) if o.contains_key("$utf16") => {
            Ok(QtyInput::from_text(&text(value)?))
        }
        _ => Err(refuse(InputCode::InvalidType)),
    }
}

enum At {
    Now,
    Text(String),
}

impl At {
    fn read(value: Option<&Value>) -> Result<At, Refused> {
        Ok(match given(value) {
            None => At::Now,
            Some(v) => At::Text(text(Some(v))?),
        })
    }

    fn wire(&self) -> AtInput<'_> {
        match self {
            At::Now => AtInput::Now,
            At::Text(t) => AtInput::Text(t),
        }
    }
}

fn count(value: Option<&Value>) -> Result<Option<usize>, Refused> {
    let Some(value) = given(value) else {
        return Ok(None);
    };
    let n = value
        .as_number()
        .and_then(integer)
        .ok_or_else(|| refuse(InputCode::InvalidType))?;
    usize::try_from(n.mantissa())
        .map(Some)
        .map_err(|_| refuse(InputCode::InvalidQuery))
}

fn flag(value: Option<&Value>) -> Result<Option<bool>, Refused> {
    given(value)
        .map(|v| v.as_bool().ok_or_else(|| refuse(InputCode::InvalidType)))
        .transpose()
}

fn list(value: Option<&Value>) -> Result<Vec<Value>, Refused> {
    match given(value) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(_) => Err(refuse(InputCode::InvalidType)),
    }
}

/// An object whose keys are all among `allowed`.
fn object<'a>(value: &'a Value, allowed: &[&str]) -> Result<&'a Map<String, Value>, Refused> {
    let object = value
        .as_object()
        .ok_or_else(|| refuse(InputCode::InvalidType))?;
    if object.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(refuse(InputCode::InvalidQuery));
    }
    Ok(object)
}

fn attr_value(value: &Value) -> Result<String, Refused> {
    match value {
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(_) => match qty(Some(value))? {
            QtyInput::Decimal(d) => Ok(d.to_string()),
            QtyInput::Unreadable(t) => Ok(t),
        },
        other => text(Some(other)),
    }
}

fn bound(value: Option<&Value>) -> Result<Option<Decimal>, Refused> {
    match given(value).map(|v| qty(Some(v))).transpose()? {
        None => Ok(None),
        Some(QtyInput::Decimal(d)) => Ok(Some(d)),
        Some(QtyInput::Unreadable(_)) => Err(refuse(InputCode::InvalidQuery)),
    }
}

fn filter(value: &Value) -> Result<Filter, Refused> {
    let f = object(
        value,
        &[
            "attr", "any_of", "min", "max", "category", "brand", "family", "in_stock",
        ],
    )?;
    let kinds: Vec<&str> = ["attr", "category", "brand", "family", "in_stock"]
        .into_iter()
        .filter(|k| f.contains_key(*k))
        .collect();
    let names = |key: &str| -> Result<Vec<String>, Refused> {
        list(f.get(key))?.iter().map(|v| text(Some(v))).collect()
    };
    match kinds.as_slice() {
        ["attr"] => {
            let name = text(f.get("attr"))?;
            let ranged = f.contains_key("min") || f.contains_key("max");
            match f.get("any_of") {
                Some(_) if ranged => Err(refuse(InputCode::InvalidQuery)),
                Some(values) => Ok(Filter::any_of(
                    &name,
                    list(Some(values))?
                        .iter()
                        .map(attr_value)
                        .collect::<Result<Vec<_>, _>>()?,
                )),
                None if ranged => Ok(Filter::range(
                    &name,
                    bound(f.get("min"))?,
                    bound(f.get("max"))?,
                )),
                None => Err(refuse(InputCode::InvalidQuery)),
            }
        }
        ["in_stock"] if f.len() == 1 => match flag(f.get("in_stock"))? {
            Some(true) => Ok(Filter::InStock),
            _ => Err(refuse(InputCode::InvalidQuery)),
        },
        [kind] if f.len() == 1 => Ok(match *kind {
            "category" => Filter::Category(names("category")?),
            "brand" => Filter::Brand(names("brand")?),
            _ => Filter::Family(names("family")?),
        }),
        _ => Err(refuse(InputCode::InvalidQuery)),
    }
}

fn facet(value: &Value) -> Result<Facet, Refused> {
    if value.is_string() {
        return wire::facet(&text(Some(value))?).map_err(|e| refuse(e.code));
    }
    let f = object(value, &["attr"])?;
    Ok(Facet::attr(&text(f.get("attr"))?))
}

fn sort(value: &Value) -> Result<Sort, Refused> {
    if value.is_string() {
        return wire::sort(&text(Some(value))?).map_err(|e| refuse(e.code));
    }
    let s = object(value, &["attr", "descending"])?;
    Ok(Sort::Attr {
        name: text(s.get("attr"))?,
        descending: flag(s.get("descending"))?.unwrap_or(false),
    })
}

/// The query in the order the bindings read it.
fn search_query(query: Option<&Value>) -> Result<SearchQuery, Refused> {
    let empty = Map::new();
    let q = match given(query) {
        None => &empty,
        Some(v) => v
            .as_object()
            .ok_or_else(|| refuse(InputCode::InvalidType))?,
    };
    let mut out = SearchQuery::new();
    for f in list(q.get("filters"))? {
        out = out.filter(filter(&f)?);
    }
    for f in list(q.get("facets"))? {
        out = out.facet(facet(&f)?);
    }
    if let Some(t) = optional_text(q.get("text"))? {
        out = out.text(&t);
    }
    out = out.capability(match optional_text(q.get("capability"))? {
        Some(name) => name.parse::<Capability>().map_err(|e| refuse(e.code))?,
        None => Capability::See,
    });
    if let Some(s) = given(q.get("sort")) {
        out = out.sort(sort(s)?);
    }
    out = out.page(
        count(q.get("offset"))?.unwrap_or(0),
        count(q.get("limit"))?.unwrap_or(20),
    );
    if let Some(cursor) = optional_text(q.get("cursor"))? {
        out = out.after(
            cursor
                .parse::<Cursor>()
                .map_err(|_| refuse(InputCode::InvalidCursor))?,
        );
    }
    if let Some(group) = flag(q.get("group_variants"))? {
        out = out.group_variants(group);
    }
    if let Some(price_qty) = given(q.get("price_qty")) {
        out = out.prices(qty(Some(price_qty))?.for_rows());
    }
    if let Some(currency) = optional_text(q.get("currency"))? {
        out = out.currency(&currency);
    }
    Ok(out)
}

fn column<T>(
    value: Option<&Value>,
    read: impl Fn(Option<&Value>) -> Result<T, Refused>,
) -> Result<Vec<T>, Refused> {
    match value {
        Some(Value::Array(items)) => items.iter().map(|v| read(Some(v))).collect(),
        _ => Err(refuse(InputCode::InvalidType)),
    }
}

/// A batch row's quantity: a missing one fails its row only.
fn row_qty(value: Option<&Value>) -> Result<Decimal, Refused> {
    match given(value) {
        None => Ok(Decimal::ZERO),
        some => Ok(qty(some)?.for_rows()),
    }
}

fn ok_or_code<T>(result: Result<T, tarif::QueryError>) -> Result<T, Refused> {
    result.map_err(|e| e.code().to_string())
}

/// Answers one request as `{"ok": true}`, `{"error": CODE}` (plus `nearest` for
/// `QUANTITY_RULE`), `{"outcome": CODE}` for an explanation whose quote fails, `{"statuses"}`
/// for a batch or `{"prices"}` for a priced search page.
pub fn answer(engine: &Engine, op: &str, args: &Value) -> Value {
    match respond(engine, op, args) {
        Ok(answer) => answer,
        Err(code) => json!({ "error": code }),
    }
}

fn respond(engine: &Engine, op: &str, args: &Value) -> Result<Value, Refused> {
    let arg = |key: &str| args.get(key);
    match op {
        "quote" | "explain" => {
            let account = text(arg("account"))?;
            let reference = text(arg("ref"))?;
            let qty = qty(arg("qty"))?;
            let at = At::read(arg("at"))?;
            let currency = optional_text(arg("currency"))?;
            let input = QuoteInput {
                account: &account,
                reference: &reference,
                qty,
                at: at.wire(),
                currency: currency.as_deref(),
            };
            if op == "explain" {
                let explanation = ok_or_code(input.explain(engine))?;
                return Ok(match explanation.outcome {
                    Ok(_) => json!({"ok": true}),
                    Err((code, _)) => json!({ "ok": true, "outcome": code }),
                });
            }
            match input.quote(engine) {
                Ok(_) => Ok(json!({"ok": true})),
                Err(tarif::QueryError::QuantityRule { nearest, .. }) => {
                    Ok(json!({"error": "QUANTITY_RULE", "nearest": nearest.to_string()}))
                }
                Err(e) => Err(e.code().to_string()),
            }
        }
        "visibility" | "lookup" | "related" => {
            let account = text(arg("account"))?;
            let reference = text(arg("ref"))?;
            let kind = match op {
                "related" => Some(
                    text(arg("kind"))?
                        .parse::<tarif::RelationKind>()
                        .map_err(|e| refuse(e.code))?,
                ),
                _ => None,
            };
            let at = At::read(arg("at"))?;
            let input = ProductInput {
                account: &account,
                reference: &reference,
                at: at.wire(),
            };
            match kind {
                Some(kind) => ok_or_code(input.related(engine, kind)).map(|_| ()),
                None if op == "lookup" => ok_or_code(input.lookup(engine)).map(|_| ()),
                None => ok_or_code(input.visibility(engine)).map(|_| ()),
            }?;
            Ok(json!({"ok": true}))
        }
        "search" => {
            let account = text(arg("account"))?;
            let query = search_query(arg("query"))?;
            let at = At::read(arg("at"))?;
            let input = ProductInput {
                account: &account,
                reference: "",
                at: at.wire(),
            };
            let page = ok_or_code(input.search(engine, &query))?;
            let prices: Vec<&str> = page
                .rows
                .iter()
                .filter_map(|row| row.price.as_ref().map(|p| p.status.code()))
                .collect();
            Ok(json!({"ok": true, "prices": prices}))
        }
        "quote_many" => {
            let accounts = column(arg("accounts"), text)?;
            let skus = column(arg("skus"), text)?;
            let qtys = column(arg("qtys"), row_qty)?;
            let at = At::read(arg("at"))?;
            let currency = optional_text(arg("currency"))?;
            let at = ok_or_code(at.wire().resolve(engine))?.map_or(BatchAt::Now, BatchAt::One);
            let out =
                ok_or_code(engine.quote_many(&accounts, &skus, &qtys, at, currency.as_deref()))?;
            let statuses: Vec<&str> = out.status.iter().map(|s| s.code()).collect();
            Ok(json!({ "statuses": statuses }))
        }
        other => Err(format!("unknown op `{other}`")),
    }
}

/// Every mismatch between the expected fields and an answer.
pub fn mismatches(expect: &Value, answer: &Value) -> Vec<String> {
    expect
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, want)| answer.get(key.as_str()) != Some(*want))
        .map(|(key, want)| format!("{key}: expected {want}, got {answer}"))
        .collect()
}
