//! The order fixtures (`tests/fixtures/orders/`): `price_order` on the engine and the reference
//! evaluator, `parse_order_lines` on the engine (reading text is not pricing: the reference has
//! no parser of its own), each answer written as the JSON the fixtures expect.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use tarif::{
    Approval, Engine, Instant, LineFormat, Order, OrderLine, Placing, PricedOrder, QueryError,
    Quote, QuoteDraft, SalesQuote, TextOptions,
};
use tarif_reference::{RefApproval, RefOrderLine, RefQuote, Reference};

fn text<'a>(case: &'a Value, key: &str) -> Option<&'a str> {
    case.get(key).and_then(Value::as_str)
}

fn error_json(code: &str) -> Value {
    json!({ "error": code })
}

fn at(case: &Value, parse: impl Fn(&str) -> Option<Instant>) -> Result<Instant, String> {
    text(case, "at")
        .and_then(parse)
        .ok_or_else(|| "case lacks a valid `at`".to_string())
}

/// The lines of a `price_order` case as (reference, quantity, delivery address); an
/// unreadable quantity is `None` (`INVALID_QUANTITY` for its line).
fn lines(case: &Value) -> Vec<(String, Option<Decimal>, Option<String>)> {
    case.get("lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|l| {
            let reference = text(l, "ref").unwrap_or_default().to_string();
            (
                reference,
                text(l, "qty").and_then(|q| q.parse().ok()),
                text(l, "ship_to").map(str::to_string),
            )
        })
        .collect()
}

/// The cost centre of each line of a `price_order` case.
fn cost_centres(case: &Value) -> Vec<Option<&str>> {
    case.get("lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|l| text(l, "cost_centre"))
        .collect()
}

/// The `spent` of a `price_order` case: cost centre → amount spent to date.
fn spent(case: &Value) -> Vec<(&str, Decimal)> {
    case.get("spent")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(cc, v)| Some((cc.as_str(), v.as_str()?.parse().ok()?)))
        .collect()
}

/// An approval decision as the fixtures write it: the reasons without their words.
fn approval_json<'a>(
    decision: &str,
    reasons: impl Iterator<Item = (&'a str, &'a str, &'a Option<String>, &'a [String])>,
) -> Value {
    let reasons: Vec<Value> = reasons
        .map(|(rule, kind, role, users)| {
            json!({"rule": rule, "kind": kind, "approvers": {"role": role, "users": users}})
        })
        .collect();
    json!({ "decision": decision, "reasons": reasons })
}

fn engine_approval(approval: &Approval) -> Value {
    approval_json(
        approval.decision.as_str(),
        approval.reasons.iter().map(|r| {
            (
                r.rule.as_str(),
                r.kind,
                &r.approvers.role,
                r.approvers.users.as_slice(),
            )
        }),
    )
}

fn reference_approval(approval: &RefApproval) -> Value {
    approval_json(
        approval.decision,
        approval
            .reasons
            .iter()
            .map(|r| (r.rule.as_str(), r.kind, &r.role, r.users.as_slice())),
    )
}

fn adjustment_json(id: &str, kind: &str, amount: Decimal, ship_to: Option<&str>) -> Value {
    json!({ "id": id, "kind": kind, "amount": amount.to_string(), "ship_to": ship_to })
}

fn strings(values: &[Decimal]) -> Vec<String> {
    values.iter().map(Decimal::to_string).collect()
}

fn engine_line(line: &Result<Quote<'_>, QueryError>) -> Value {
    match line {
        Ok(q) => json!({
            "sku": q.sku,
            "unit_price": q.unit_price.to_string(),
            "line_total": q.line_total.to_string(),
        }),
        Err(QueryError::QuantityRule { nearest, .. }) => {
            json!({ "error": "QUANTITY_RULE", "nearest": nearest.to_string() })
        }
        Err(QueryError::PriceBound {
            bound, limit, rule, ..
        }) => json!({
            "error": "PRICE_BOUND", "bound": bound, "limit": limit.to_string(), "rule": rule,
        }),
        Err(e) => error_json(e.code()),
    }
}

/// The order of a `price_order` case; `at_key` names the field holding its instant.
fn case_order<'a>(
    engine: &Engine,
    case: &'a Value,
    lines: &'a [(String, Option<Decimal>, Option<String>)],
) -> Result<Order<'a>, String> {
    let at = at(case, |t| engine.parse_instant(t).ok())?;
    // A quantity that is not a decimal never reaches the core: the bindings reject it, and
    // here it stands for the zero the core refuses with the same code.
    let order_lines = lines
        .iter()
        .zip(cost_centres(case))
        .map(|((r, q, ship_to), cost_centre)| OrderLine {
            cost_centre,
            ship_to: ship_to.as_deref(),
            ..OrderLine::new(r, q.unwrap_or(Decimal::ZERO))
        })
        .collect();
    let mut order = Order::new(text(case, "account").unwrap_or_default(), order_lines)
        .at(at)
        .spent(spent(case));
    order.currency = text(case, "currency");
    order.user = text(case, "user");
    Ok(order)
}

/// A priced order as the fixtures write it.
fn priced_json(priced: &PricedOrder<'_>) -> Value {
    json!({
        "currency": priced.currency,
        "subtotal": priced.subtotal.to_string(),
        "adjustments": priced.adjustments.iter()
            .map(|a| adjustment_json(a.id, a.kind.as_str(), a.amount, a.ship_to.as_deref()))
            .collect::<Vec<_>>(),
        "total": priced.total.to_string(),
        "lines": priced.lines.iter().map(engine_line).collect::<Vec<_>>(),
        "allocated": strings(&priced.allocated),
        "approval": engine_approval(&priced.approval),
    })
}

/// A priced order of a sales quote: the order, and where each line's price comes from.
fn quoted_json(priced: &PricedOrder<'_>) -> Value {
    let mut answer = priced_json(priced);
    let overrides: Vec<Value> = priced
        .overrides
        .iter()
        .map(|o| match o {
            None => Value::Null,
            Some(o) => json!({
                "origin": o.origin.as_str(),
                "rules_unit_price": o.rules_unit_price.map(|p| p.to_string()),
                "rules_line_total": o.rules_line_total.map(|p| p.to_string()),
            }),
        })
        .collect();
    if let Some(object) = answer.as_object_mut() {
        object.insert("overrides".into(), Value::Array(overrides));
        if let Some(q) = &priced.placed_quote {
            object.insert(
                "placed_quote".into(),
                json!({ "number": q.number, "rules_changed": q.rules_changed }),
            );
        }
    }
    answer
}

/// A sales-quote draft of a case: its order, manual prices, validity end and number.
fn quote_draft<'a>(
    engine: &Engine,
    case: &'a Value,
    lines: &'a [(String, Option<Decimal>, Option<String>)],
) -> Result<QuoteDraft<'a>, String> {
    let manual_prices = case
        .get("manual_prices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| p.as_str().and_then(|p| p.parse().ok()))
        .collect();
    let valid_until = text(case, "valid_until")
        .and_then(|t| engine.parse_instant(t).ok())
        .ok_or_else(|| "case lacks a valid `valid_until`".to_string())?;
    Ok(QuoteDraft {
        order: case_order(engine, case, lines)?,
        manual_prices,
        valid_until,
        number: text(case, "number"),
    })
}

/// The engine's answer to a `prepare_quote` or `place_quote` case (docs/spec.md §12.6):
/// `prepare_quote` prices the case's lines with its manual prices; `place_quote` prepares
/// `prepare` with `key`, optionally replaces `tamper[0]` by `tamper[1]` in the document, and
/// places it with `place_key` (default `key`) under `rules` (default `engine`) at `at`.
pub fn engine_quote(engine: &Engine, case: &Value) -> Result<Value, String> {
    let key = text(case, "key").unwrap_or_default().as_bytes();
    if text(case, "op") == Some("prepare_quote") {
        let lines = lines(case);
        let draft = quote_draft(engine, case, &lines)?;
        return Ok(match engine.prepare_quote(&draft, key) {
            Ok(prepared) => {
                let mut answer = quoted_json(&prepared.order);
                let quote = prepared
                    .document
                    .as_deref()
                    .map(|d| SalesQuote::verify(d, key).map_err(|e| e.to_string()))
                    .transpose()?;
                if let Some(object) = answer.as_object_mut() {
                    object.insert("signed".into(), Value::Bool(quote.is_some()));
                    if let Some(quote) = quote {
                        object.insert("quote".into(), quote_json(&quote));
                    }
                }
                answer
            }
            Err(e) => error_json(e.code()),
        });
    }
    let draft_case = case.get("prepare").ok_or("case lacks `prepare`")?;
    let lines = lines(draft_case);
    let draft = quote_draft(engine, draft_case, &lines)?;
    let mut document = engine
        .prepare_quote(&draft, key)
        .map_err(|e| e.to_string())?
        .document
        .ok_or("the prepared quote has no document")?;
    if let Some([from, to]) = case
        .get("tamper")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        let (from, to) = (
            from.as_str().unwrap_or_default(),
            to.as_str().unwrap_or_default(),
        );
        if !document.contains(from) {
            return Err(format!("`{from}` is not in the document {document}"));
        }
        document = document.replace(from, to);
    }
    let today = match case.get("rules") {
        Some(rules) => Some(Engine::from_json(&rules.to_string()).map_err(|e| e.to_string())?),
        None => None,
    };
    let today = today.as_ref().unwrap_or(engine);
    let place_key = text(case, "place_key").map_or(key, str::as_bytes);
    let placed = SalesQuote::verify(&document, place_key).and_then(|quote| {
        let placing = Placing {
            at: Some(at(case, |t| today.parse_instant(t).ok()).map_err(QueryError::QuoteInvalid)?),
            user: text(case, "user"),
            spent: spent(case),
        };
        today.place_quote(&quote, &placing).map(|p| quoted_json(&p))
    });
    Ok(placed.unwrap_or_else(|e| error_json(e.code())))
}

fn quote_json(quote: &SalesQuote) -> Value {
    json!({
        "number": quote.number,
        "total": quote.total.to_string(),
        "lines": quote.lines.iter().map(|l| json!({
            "sku": l.sku,
            "unit_price": l.unit_price.to_string(),
            "line_total": l.line_total.to_string(),
            "allocated": l.allocated.to_string(),
            "manual": l.manual,
        })).collect::<Vec<_>>(),
    })
}

/// The engine's answer to a `price_order` case.
pub fn engine_order(engine: &Engine, case: &Value) -> Result<Value, String> {
    let lines = lines(case);
    let order = case_order(engine, case, &lines)?;
    Ok(match engine.price_order(&order) {
        Ok(priced) => priced_json(&priced),
        Err(e) => error_json(e.code()),
    })
}

/// A reference line as JSON; `nearest` is the nearest orderable quantity of the product the
/// reference means for the account.
fn reference_line(
    line: &Result<RefQuote, &str>,
    nearest: impl FnOnce() -> Option<Decimal>,
) -> Value {
    match line {
        Ok(q) => json!({
            "sku": q.sku,
            "unit_price": q.unit_price.to_string(),
            "line_total": q.line_total.to_string(),
        }),
        Err("QUANTITY_RULE") => json!({
            "error": "QUANTITY_RULE",
            "nearest": nearest().map(|n| n.to_string()),
        }),
        Err(code) => error_json(code),
    }
}

/// The reference evaluator's answer to a `price_order` case.
pub fn reference_order(reference: &Reference, case: &Value) -> Result<Value, String> {
    let at = at(case, |t| reference.parse_at(t))?;
    let lines: Vec<RefOrderLine> = lines(case)
        .into_iter()
        .map(|(reference, q, ship_to)| RefOrderLine {
            reference,
            qty: q.unwrap_or(Decimal::ZERO),
            ship_to,
        })
        .collect();
    let account = text(case, "account").unwrap_or_default();
    let priced = reference.price_order(account, &lines, at, text(case, "currency"));
    let approval = priced.as_ref().map_err(|e| *e).and_then(|priced| {
        let done: Vec<(Option<String>, String, Decimal)> = priced
            .lines
            .iter()
            .zip(cost_centres(case))
            .filter_map(|(l, cc)| {
                let q = l.as_ref().ok()?;
                Some((cc.map(str::to_string), q.sku.clone(), q.line_total))
            })
            .collect();
        let spent: Vec<(String, Decimal)> = spent(case)
            .into_iter()
            .map(|(cc, s)| (cc.to_string(), s))
            .collect();
        // Approval reads the total after the order's adjustments.
        reference.approval(account, text(case, "user"), &done, priced.total, &spent)
    });
    Ok(match priced.and_then(|priced| Ok((priced, approval?))) {
        Ok((priced, approval)) => json!({
            "currency": priced.currency,
            "subtotal": priced.subtotal.to_string(),
            "adjustments": priced.adjustments.iter()
                .map(|a| adjustment_json(&a.id, a.kind, a.amount, a.ship_to.as_deref()))
                .collect::<Vec<_>>(),
            "total": priced.total.to_string(),
            "lines": priced.lines.iter().zip(&lines)
                .map(|(l, line)| reference_line(l, || {
                    let sku = reference.lookup(account, &line.reference, at).ok()?;
                    reference.nearest_quantity(&sku, line.qty)
                }))
                .collect::<Vec<_>>(),
            "allocated": strings(&priced.allocated),
            "approval": reference_approval(&approval),
        }),
        Err(code) => error_json(code),
    })
}

fn format_name(format: LineFormat) -> String {
    match format {
        LineFormat::Pasted => "pasted".to_string(),
        LineFormat::Delimited(d) => char::from(d).to_string(),
    }
}

/// The engine's answer to a `parse_order_lines` case.
pub fn engine_text(engine: &Engine, case: &Value) -> Result<Value, String> {
    let at = at(case, |t| engine.parse_instant(t).ok())?;
    let options = TextOptions {
        merge_duplicates: case
            .get("merge_duplicates")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        at: Some(at),
    };
    let account = text(case, "account").unwrap_or_default();
    let parsed =
        match engine.parse_order_lines(account, text(case, "text").unwrap_or_default(), options) {
            Ok(p) => p,
            Err(e) => return Ok(error_json(e.code())),
        };
    let lines: Vec<Value> = parsed
        .lines
        .iter()
        .map(|l| {
            let mut out = Map::new();
            out.insert("line".into(), json!(l.line));
            out.insert("merged".into(), json!(l.merged));
            out.insert("ref".into(), json!(l.reference));
            out.insert("sku".into(), json!(l.sku));
            out.insert("qty".into(), json!(l.qty.map(|q| q.to_string())));
            out.insert("cost_centre".into(), json!(l.cost_centre));
            out.insert("ship_to".into(), json!(l.ship_to));
            match &l.error {
                Some(QueryError::QuantityRule { nearest, .. }) => {
                    out.insert("error".into(), json!("QUANTITY_RULE"));
                    out.insert("nearest".into(), json!(nearest.to_string()));
                }
                Some(e) => {
                    out.insert("error".into(), json!(e.code()));
                }
                None => {
                    out.insert("error".into(), Value::Null);
                }
            }
            Value::Object(out)
        })
        .collect();
    Ok(json!({
        "format": format_name(parsed.format),
        "header": parsed.header,
        "lines": lines,
    }))
}

/// Where `got` differs from `expect`: every key an expected object lists must match (unlisted
/// keys are not checked), arrays match element by element and in length, `nearest` compares
/// as a decimal value.
pub fn mismatches(path: &str, expect: &Value, got: &Value, out: &mut Vec<String>) {
    match (expect, got) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, w) in want {
                let here = format!("{path}.{key}");
                match have.get(key) {
                    Some(h) if key == "nearest" || key == "limit" => {
                        let value = |v: &Value| v.as_str().and_then(|s| s.parse::<Decimal>().ok());
                        if value(w) != value(h) {
                            out.push(format!("{here}: expected {w}, got {h}"));
                        }
                    }
                    Some(h) => mismatches(&here, w, h, out),
                    None => out.push(format!("{here}: expected {w}, got nothing in {got}")),
                }
            }
        }
        (Value::Array(want), Value::Array(have)) => {
            if want.len() != have.len() {
                out.push(format!(
                    "{path}: expected {} entries, got {}: {got}",
                    want.len(),
                    have.len()
                ));
                return;
            }
            for (i, (w, h)) in want.iter().zip(have).enumerate() {
                mismatches(&format!("{path}[{i}]"), w, h, out);
            }
        }
        _ if expect != got => out.push(format!("{path}: expected {expect}, got {got}")),
        _ => {}
    }
}
